"""What lands beside the pages of a month: ``manifest.json`` (inputs and their sha256, versions,
statuses) and ``index.html`` (a card per scenario run with its figures)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from recon_helpers import catalog
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


def write_manifest(run: Any) -> Path:
    """``manifest.json``: what ran, on which inputs (sha256), with which version, and how it went."""
    manifest = {
        "period": run.period,
        "data_dir": str(run.data_dir.resolve()),
        "inputs": input_files(run.data_dir),
        "package": "recon-workbench",
        "package_version": package_version(),
        "notebooks": [
            {k: v for k, v in asdict(o).items() if k in ("name", "run", "title", "status", "error", "seconds", "html", "parameters")}
            for o in run.outcomes
        ],
        "started": run.started,
        "finished": run.finished,
    }
    run.manifest.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return run.manifest


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
    return template.render(
        period=run.period,
        data_dir=str(run.data_dir),
        reports=run.outcomes,
        failed=len(run.failed),
        started=run.started,
        finished=run.finished,
        version=package_version(),
    )


def write_index(run: Any) -> Path:
    run.index.write_text(render_index(run), encoding="utf-8")
    return run.index
