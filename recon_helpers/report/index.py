"""What lands beside the pages of a month: ``manifest.json`` (inputs relative to the data folder with
their sha256, version, parameters, run time, statuses), ``alerts.json`` and ``index.html`` (the alerts,
then a tile per scenario run with its figures). No absolute path of the machine in any of them."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from recon_helpers import catalog, export
from recon_helpers.errors import ReportError


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def input_files(data_dir: Path) -> list[dict]:
    """Every file under the data folder with its size and sha256, so a report can be traced to its inputs."""
    return [
        {"path": p.relative_to(data_dir).as_posix(), "bytes": p.stat().st_size, "sha256": sha256_of(p)}
        for p in sorted(data_dir.rglob("*"))
        if p.is_file()
    ]


def package_version() -> str:
    from recon_helpers import __version__

    return __version__


_MANIFEST_KEYS = ("name", "run", "title", "status", "error", "seconds", "html", "workbook", "pdf", "parameters", "failed_cell")


def write_manifest(run: Any) -> Path:
    """``manifest.json``: what ran, on which inputs (relative path + sha256), with which version and
    parameters, the workspace's journal position, how long, and how each run went."""
    manifest = {
        "period": run.period,
        "run_id": getattr(run, "run_id", ""),
        "data_dir": run.data_dir.name,
        "inputs": input_files(run.data_dir),
        "package": "recon-workbench",
        "package_version": package_version(),
        "parameters": getattr(run, "parameters", {}),
        "masked": getattr(run, "masked", True),
        "workspace_journal": getattr(run, "journal", None),
        "notebooks": [{k: v for k, v in asdict(o).items() if k in _MANIFEST_KEYS} for o in run.outcomes],
        "alerts": len(getattr(run, "alerts", [])),
        "started": run.started,
        "finished": run.finished,
    }
    export.write_text(run.manifest, json.dumps(manifest, ensure_ascii=False, indent=2))
    return run.manifest


def write_alerts(run: Any) -> Path:
    """``alerts.json``: every alert of the month (rule, run, message, link to the run's page)."""
    path = run.out_dir / "alerts.json"
    doc = {"period": run.period, "run_id": getattr(run, "run_id", ""), "alerts": run.alerts}
    return export.write_text(path, json.dumps(doc, ensure_ascii=False, indent=2))


def tile_figures(summary_path: Path) -> dict[str, Any] | None:
    """A run's tile: rows, auto-match rate, open exceptions and their money, from its ``summary.json``.

    Open = every exception row but ``out_of_scope``; their amount is the sum of the rows' absolute
    amounts (an over-charge and a missing charge both need work), exact to the fen.
    """
    if not summary_path.is_file():
        return None
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    open_ = [c for c in summary.get("exceptions", []) if c.get("category") != "out_of_scope"]
    amount = sum((abs(Decimal(str(c["amount"]))) for c in open_), Decimal("0.00"))
    rate = float(summary.get("auto_match_rate", 0))
    return {"rows": int(summary.get("rows", 0)), "rows_display": f"{int(summary.get('rows', 0)):,}",
            "auto_match_rate": rate, "auto_match_display": f"{100 * rate:.1f}%",
            "open_exceptions": sum(int(c["rows"]) for c in open_), "open_amount": f"{amount:.2f}",
            "open_display": f"{sum(int(c['rows']) for c in open_):,}", "open_amount_display": f"{amount:,.2f}"}


def render_index(run: Any) -> str:
    """index.html from the Jinja2 template ``templates/report/index.html.j2``."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(catalog.folder("report"))),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    try:
        template = env.get_template("index.html.j2")
    except jinja2.TemplateNotFound as exc:
        raise ReportError(f"report template {catalog.folder('report') / 'index.html.j2'} is missing: reinstall the workbench") from exc
    tiles = {o.id: tile_figures(run.out_dir / o.name / o.run / "summary.json") for o in run.outcomes}
    return template.render(
        period=run.period,
        data_dir=run.data_dir.name,
        reports=run.outcomes,
        tiles=tiles,
        alerts=getattr(run, "alerts", []),
        masked=getattr(run, "masked", True),
        run_id=getattr(run, "run_id", ""),
        failed=len(run.failed),
        started=run.started,
        finished=run.finished,
        version=package_version(),
    )


def write_index(run: Any) -> Path:
    return export.write_text(run.index, render_index(run))
