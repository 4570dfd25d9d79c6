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
from recon_helpers.cycles import Cycle
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


_MANIFEST_KEYS = ("name", "run", "title", "status", "error", "seconds", "html", "workbook", "pdf", "files", "parameters", "failed_cell")


def write_manifest(run: Any) -> Path:
    """``manifest.json``: what ran, on which inputs (relative path + sha256), with which version and
    parameters, the workspace's journal position, how long, and how each run went."""
    manifest = {
        "period": run.period,
        "period_kind": getattr(run, "kind", "month"),
        "run_id": getattr(run, "run_id", ""),
        "data_dir": run.data_dir.name,
        "inputs": input_files(run.data_dir),
        "package": "recon-workbench",
        "package_version": package_version(),
        "parameters": getattr(run, "parameters", {}),
        "masked": getattr(run, "masked", True),
        "workspace_journal": getattr(run, "journal", None),
        "notebooks": [{k: v for k, v in asdict(o).items() if k in _MANIFEST_KEYS} for o in run.outcomes],
        "skipped": [s.to_dict() for s in getattr(run, "skipped", [])],
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


#: how a scenario names its auto-match rate among the figures it writes into summary.json
AUTO_MATCH_KPI = "Auto-match rate"


def summary_hops(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The match summaries inside a run's ``summary.json``: the document itself, or, for a scenario of
    several hops (collections: orders -> settlement, payouts -> bank), each hop's, in written order."""
    if "rows" in summary:
        return [summary]
    return [v for v in summary.values() if isinstance(v, dict) and "rows" in v]


def _recorded_rate(summary: dict[str, Any]) -> str | None:
    """The auto-match rate the scenario itself states (``kpis`` of summary.json), e.g. ``"98.3%"``."""
    for label, value in (summary.get("kpis") or {}).items():
        if AUTO_MATCH_KPI.lower() in str(label).lower():
            return str(value)
    return None


def _run_rate(kpis: list[dict] | None) -> str | None:
    """The auto-match rate a run's notebook recorded among its headline figures (``"93.1%"``)."""
    for figure in kpis or []:
        if AUTO_MATCH_KPI.lower() in str(figure.get("label", "")).lower():
            return str(figure.get("display") or figure.get("value"))
    return None


def tile_figures(summary_path: Path, kpis: list[dict] | None = None) -> dict[str, Any] | None:
    """A run's tile: rows, auto-match rate, open exceptions and their money, from its ``summary.json``.

    Open = every exception row but ``out_of_scope``; their amount is the sum of the rows' absolute
    amounts (an over-charge and a missing charge both need work), exact to the fen. A run of several
    hops shows each hop's rows ("2,604 + 2,031"), the exceptions of all hops, and the auto-match rate
    the scenario states over them. The rate shown is the one the run's headline card states (the
    scenario's rate over the rows in scope), else the match summary's.
    """
    if not summary_path.is_file():
        return None
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    hops = summary_hops(summary)
    if not hops:
        return None
    open_ = [c for h in hops for c in h.get("exceptions", []) if isinstance(c, dict) and c.get("category") != "out_of_scope"]
    amount = sum((abs(Decimal(str(c["amount"]))) for c in open_), Decimal("0.00"))
    rows = [int(h.get("rows", 0)) for h in hops]
    matched = sum(int(h.get("matched_rows", 0)) for h in hops)
    rate = float(hops[0].get("auto_match_rate", 0)) if len(hops) == 1 else (matched / sum(rows) if sum(rows) else 0.0)
    rate_display = _run_rate(kpis) or _recorded_rate(summary) or f"{100 * rate:.1f}%"
    return {"rows": sum(rows), "rows_display": " + ".join(f"{n:,}" for n in rows),
            "auto_match_rate": rate, "auto_match_display": rate_display,
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
    tiles = {o.id: tile_figures(run.out_dir / o.name / o.run / "summary.json", o.kpis) for o in run.outcomes}
    return template.render(
        period=run.period,
        period_label=Cycle.parse(run.period).label,
        skipped=[s.to_dict() for s in getattr(run, "skipped", [])],
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
