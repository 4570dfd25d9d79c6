"""What a fresh process pays for the engine (issue #10): importing it loads no pandas, and a keyed match
of Arrow tables or Parquet files runs in a process where pandas cannot be imported at all.

Why: ``import pandas`` alone is ~90 MiB and a third of a second of every fresh process, while a match of
Arrow or Parquet inputs by a keyed recipe needs only pyarrow and DuckDB. pandas is imported where a frame
is made: pandas inputs, ``.links`` / ``.exceptions``, ``prepare:`` / ``units:`` steps, the group, subset
and fuzzy rules and the keyless decisions. Each check runs in a fresh interpreter (this one has long
imported pandas).

Why the match is run with pandas blocked instead of watching ``sys.modules``: pyarrow itself imports an
installed pandas on its first conversion of Python or numpy values (``pa.array``, ``pa.scalar``,
``Array.to_numpy``), however little the engine needs it. Blocking the import, as on a machine without
pandas, shows that the engine never does; a top-level ``import pandas`` in any module it loads fails here.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from recon_helpers.engine import match
from recon_helpers.testing import canonical_frame

ENGINE = Path(__file__).resolve().parents[2] / "recon_helpers" / "engine"
#: the Spark back-end's modules need pyspark and hand pandas frames to Spark: they load only for engine="spark"
SPARK_ONLY = ("spark_",)


def engine_modules() -> list[str]:
    """Every module of the engine package (the Spark back-end's aside), as dotted names."""
    names = []
    for path in sorted(ENGINE.rglob("*.py")):
        if path.name.startswith(SPARK_ONLY):
            continue
        parts = path.relative_to(ENGINE.parents[1]).with_suffix("").parts
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


#: makes ``import pandas`` fail in a fresh interpreter, as where pandas is not installed
BLOCK_PANDAS = """
import importlib.abc, sys

class NoPandas(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] == "pandas":
            raise ModuleNotFoundError(f"No module named {name!r} (blocked by the test)", name=name)
        return None

sys.meta_path.insert(0, NoPandas())
"""


def run_fresh(code: str) -> str:
    """Run ``code`` in a new interpreter; its stdout, or the failure with its traceback."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_importing_any_engine_module_loads_no_pandas():
    modules = engine_modules()
    assert "recon_helpers.engine.cascade" in modules and "recon_helpers.engine.prepare" in modules
    loaded = json.loads(run_fresh(
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps([m for m in ('pandas', 'rapidfuzz') if m in sys.modules]))\n"))
    assert loaded == []


def courier_tables() -> tuple[pa.Table, pa.Table]:
    """A shipment list and a bill: one exact link, one link by the normalised key (``sf-2``), a fee that
    differs from the rate card, a shipment never billed and a bill line never shipped."""
    left = canonical_frame("ship.csv", waybill_no=["SF1", "SF2", "SF3", "SF4"],
                           expected_fee=["10.00", "12.00", "8.00", "9.00"],
                           chargeable_weight=["1.000", "2.000", "1.500", "1.000"])
    right = canonical_frame("bill.xlsx", waybill_no=["SF1", "sf-2", "SF3", "SF9"],
                            amount=["10.00", "12.00", "9.50", "7.00"],
                            billed_weight=["1.000", "2.000", "1.500", "1.000"])
    return (pa.Table.from_pandas(left, preserve_index=False), pa.Table.from_pandas(right, preserve_index=False))


def test_a_keyed_match_of_arrow_tables_and_parquet_files_runs_without_pandas(tmp_path):
    left, right = courier_tables()
    pq.write_table(left, tmp_path / "left.parquet")
    pq.write_table(right, tmp_path / "right.parquet")
    match(left, right, "courier_bill").write(tmp_path / "with_pandas")

    run_fresh(
        f"{BLOCK_PANDAS}\n"
        "from pathlib import Path\n"
        "import pyarrow.parquet as pq\n"
        "from recon_helpers.engine import match\n"
        f"data = Path({str(tmp_path)!r})\n"
        "tables = [pq.ParquetFile(data / f'{side}.parquet').read() for side in ('left', 'right')]\n"
        "match(*tables, 'courier_bill').write(data / 'arrow')\n"
        "match(data / 'left.parquet', data / 'right.parquet', 'courier_bill').write(data / 'parquet')\n")

    expected = {name: (tmp_path / "with_pandas" / name).read_bytes()
                for name in ("links.csv", "exceptions.csv", "summary.json")}
    for inputs in ("arrow", "parquet"):
        assert {name: (tmp_path / inputs / name).read_bytes() for name in expected} == expected, inputs
    summary = json.loads(expected["summary.json"])
    assert (summary["matched_rows"], summary["rows"]) == (4, 8)
    assert {e["category"] for e in summary["exceptions"]} == {"rate_card_violation", "missing_on_right",
                                                                "missing_on_left"}
