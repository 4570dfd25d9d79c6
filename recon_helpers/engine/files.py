"""Match files on disk: load each export (template detected) or take a loaded Parquet table, match,
and write the result with the loader's rejects beside it (what ``recon match`` runs).

Why apart from :mod:`.cascade`: the cascade matches tables; this is the way in from files, with its
own concerns (which file is already a loaded table, rejects that never reach the matcher, where the
files are written).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import pyarrow as pa

from recon_helpers.engine.cascade import match
from recon_helpers.engine.recipe import Recipe
from recon_helpers.engine.result import MatchResult
from recon_helpers.errors import MatchInputError
from recon_helpers.export import write_csv

if TYPE_CHECKING:
    import pandas as pd


def _is_parquet(path: str | Path) -> bool:
    return Path(path).suffix.lower() == ".parquet"


def _loaded_parquet(path: Path, *, as_frame: bool) -> tuple[Any, dict[str, Any]]:
    """A ``.parquet`` file is a table already loaded (``recon load --out x.parquet`` writes one: canonical
    columns, exact decimals, its rejects beside it), so it is matched as it is, not loaded again.

    Why: the matcher then reads only the recipe's columns straight from the file, which at a million
    rows is the fast path; template detection only applies to exports as they come. ``as_frame``:
    a pandas table for a ``prepare_left`` step (e.g. the rate card), which works on frames.
    """
    import pyarrow.parquet as pq

    try:
        with pq.ParquetFile(path) as file:
            rows = file.metadata.num_rows
            if as_frame:
                import pandas as pd

                table = file.read().to_pandas(types_mapper=pd.ArrowDtype)
            else:
                table = path
    except (OSError, pa.ArrowException) as exc:
        raise MatchInputError(f"{path} cannot be read as a Parquet file ({exc}); give the table `recon load "
                              "--out x.parquet` wrote, or the export itself") from None
    return table, {"file": str(path), "template": "parquet (already loaded)", "rows_loaded": int(rows),
                   "rows_rejected": 0}


def match_files(left_path: str | Path, right_path: str | Path, recipe: "str | Path | Recipe", *,
                third_path: str | Path | None = None, out_dir: str | Path,
                prepare_left: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
                engine: str | None = None, format: str = "csv") -> MatchResult:
    """Load each file (template auto-detected), match them by ``recipe`` and write the result to ``out_dir``.
    A ``.parquet`` file is taken as a table already loaded (what ``recon load --out x.parquet`` writes)
    and matched straight from the file.

    Rows a loader rejected never reach the matcher; they are written to ``out_dir/rejects.csv`` (with
    the side) and counted in summary.json under ``inputs``, so nothing disappears silently.
    ``prepare_left`` turns the loaded left table into what the recipe expects (e.g. shipments priced
    with a courier rate card for ``courier_bill``). ``engine``: see :func:`match`; ``format``: csv or parquet.
    """
    import pandas as pd

    from recon_helpers.sources.loading import load

    paths = {"left": left_path, "right": right_path}
    if third_path is not None:
        paths["third"] = third_path
    tables, rejects, inputs = {}, [], {}
    for side, path in paths.items():
        if _is_parquet(path):
            tables[side], inputs[side] = _loaded_parquet(Path(path), as_frame=side == "left" and prepare_left is not None)
            continue
        table, rej, report = load(path)
        tables[side] = table
        if rej is not None and len(rej):
            rejects.append(rej.assign(side=side))
        inputs[side] = {"file": str(path), "template": report.template,
                        "rows_loaded": int(len(table)), "rows_rejected": int(report.rows_rejected)}
    if prepare_left is not None:
        tables["left"] = prepare_left(tables["left"])
    result = match(tables["left"], tables["right"], recipe, third=tables.get("third"), engine=engine)
    result.inputs = inputs
    out = Path(out_dir)
    result.write(out, format=format)
    if rejects:
        write_csv(pd.concat(rejects, ignore_index=True), out / "rejects.csv")
    return result
