"""What ``recon report`` shows while it runs (a bar per run and one overall) and the table it ends with.

rich draws the bars on a terminal; on a pipe or a CI log it prints nothing until the end table, so
logs stay readable. The bars are fed by :func:`recon_helpers.report.batch.run_jobs`: a cell count per
run as the kernel finishes each cell, and each run's outcome when it is done.
"""
from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table


class ReportProgress:
    """The :data:`~recon_helpers.report.batch.Progress` callback drawing rich bars on stderr."""

    def __init__(self, console: Console | None = None):
        self.console = console or Console(stderr=True)
        self.bars = Progress(TextColumn("{task.description:<36}"), BarColumn(), MofNCompleteColumn(),
                             TextColumn("{task.fields[status]}"), TimeElapsedColumn(), console=self.console,
                             transient=False, disable=not self.console.is_terminal)
        self.tasks: dict[str, Any] = {}
        self.overall: Any = None

    def __enter__(self) -> ReportProgress:
        self.bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bars.stop()

    def __call__(self, event: str, *args: Any) -> None:
        if event == "start":
            (runs,) = args
            self.overall = self.bars.add_task("all runs 全部", total=len(runs), status="")
            for key, title in runs:
                self.tasks[key] = self.bars.add_task(f"  {key}", total=None, status="waiting", title=title)
        elif event == "cells" and args[0] in self.tasks:
            key, done, total = args
            self.bars.update(self.tasks[key], completed=done, total=total, status="running")
        elif event == "done" and args[0] in self.tasks:
            key, outcome = args
            task = self.tasks[key]
            total = self.bars.tasks[task].total or 1
            self.bars.update(task, completed=total, total=total, status="ok" if outcome.ok else "FAILED")
            self.bars.advance(self.overall)


def headline(outcome: Any, *, count: int = 3) -> str:
    """The first figures a run recorded, for the end table."""
    return "; ".join(f"{k['label']} {k['display']}" for k in outcome.kpis[:count])


def outcome_table(run: Any) -> Table:
    """The end table: each run's status, time and headline figures."""
    table = Table(title=f"recon report {run.period}", show_lines=False)
    for name in ("run", "status", "seconds", "headline figures 关键指标"):
        table.add_column(name, overflow="fold")
    for o in run.outcomes:
        label = o.name if o.run == "all" else f"{o.name} {o.run}"
        status = "[green]ok[/green]" if o.ok else "[red]FAILED[/red]"
        table.add_row(escape(label), status, f"{o.seconds:.1f}", escape(headline(o) if o.ok else (o.error or "")))
    for s in getattr(run, "skipped", []):
        table.add_row(escape(s.scenario), "[yellow]skipped[/yellow]", "-", escape(s.reason))
    return table
