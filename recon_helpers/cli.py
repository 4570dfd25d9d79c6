"""The ``recon`` command: thin click commands, each parsing options and calling one library function.

Exit codes: 0 everything fine (or everything matched), 1 differences found / a report failed,
2 an expected error (bad period, missing folder, broken template, unreadable file: one line
``error: ...`` on stderr), 3 an unexpected error (a bug: one line plus a hint to re-run with --debug).
``recon --debug ...`` shows the full traceback instead.

Errors are caught in one place, :func:`main`; commands just raise our exceptions.
"""
from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

import click

from recon_helpers.errors import ReconError, UsageError

EXIT_OK, EXIT_DIFFERENCES, EXIT_ERROR, EXIT_BUG = 0, 1, 2, 3


@dataclass
class _State:
    """Options of the ``recon`` group that :func:`main` needs after the command has run."""

    debug: bool = False


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100, "terminal_width": 100})
@click.option("--debug", is_flag=True, help="Show the full traceback when something goes wrong.")
@click.version_option(package_name="recon-workbench", prog_name="recon", message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """对账工作台 Reconciliation workbench: load exports, match them, explain every difference, report."""
    state = ctx.ensure_object(_State)
    state.debug = debug


# --------------------------------------------------------------------------------------------
# demo
# --------------------------------------------------------------------------------------------
@cli.command()
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("data/demo"), show_default=True,
              help="Folder to write the demo month into (created if missing).")
@click.option("--period", default="2026-10", show_default=True, help="The month to generate, YYYY-MM.")
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed; the same seed gives byte-identical files.")
@click.option("--orders", type=click.IntRange(min=1), default=2000, show_default=True, help="Shop orders in the month (200000 for benchmarks).")
def demo(out_dir: Path, period: str, seed: int, orders: int) -> None:
    """Write a deterministic demo month (shop, courier, payments, bank, B2B)."""
    from recon_helpers.periods import Period

    Period.parse(period)  # fail on a bad month before anything is imported or written
    from recon_helpers.demo import generate

    summary = generate(out_dir, period=period, seed=seed, orders=orders)
    files = list(getattr(summary, "files", []))
    click.echo(f"demo month {period} (seed {seed}, {orders:,} orders): {len(files)} files in {out_dir}")
    truth = getattr(summary, "truth_counts", {}) or {}
    for scenario in sorted(truth):
        counts = ", ".join(f"{cat} {n}" for cat, n in sorted(truth[scenario].items()))
        click.echo(f"  truth/{scenario}.csv: {counts}")


# --------------------------------------------------------------------------------------------
# report
# --------------------------------------------------------------------------------------------
@cli.command()
@click.option("--period", required=True,
              help="The period to report: a month YYYY-MM, an ISO week YYYY-Www or a day YYYY-MM-DD (a week or a "
                   "day runs the scenarios whose registry entry lists that cycle).")
@click.option("--data", "data_dir", type=click.Path(path_type=Path), required=True,
              help="Folder with the month's downloads (e.g. the demo made by `recon demo`).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("reports"), show_default=True,
              help="Reports root; the month lands in OUT/<period>/.")
@click.option("--notebooks", "notebooks_dir", type=click.Path(path_type=Path), default=None,
              help="Folder of report notebooks [default: the workbench's notebooks/].")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="Notebooks run in parallel (processes) [default: the cores].")
@click.option("--only", "only", multiple=True, help="Run only this scenario (repeat for several), e.g. --only courier_bill.")
@click.option("--workspace", type=click.Path(path_type=Path), default=None,
              help="Review workspace whose decisions the notebooks apply (passed to them as `workspace`).")
@click.option("--no-mask", "no_mask", is_flag=True,
              help="Do NOT mask personal data (names, mobiles, ID cards, accounts, addresses); the index says so.")
@click.option("--wait", type=click.FloatRange(min=0), default=0, show_default=True,
              help="Seconds to wait for another report of the same month into the same folder to finish.")
@click.option("--pdf", is_flag=True, help="Also print each run's page to PDF (needs Chromium).")
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True,
              help="Where matching runs (passed to the notebooks as `engine`); spark needs the [spark] extra and Java 17.")
@click.pass_context
def report(ctx: click.Context, period: str, data_dir: Path, out_dir: Path, notebooks_dir: Path | None, jobs: int | None,
           only: tuple[str, ...], workspace: Path | None, no_mask: bool, wait: float, pdf: bool, engine: str) -> None:
    """Run every scenario x run for a period; write OUT/<period>/index.html."""
    from rich.console import Console

    from recon_helpers.report.batch import default_jobs, run_reports
    from recon_helpers.report.progress import ReportProgress, outcome_table

    with ReportProgress() as progress:
        run = run_reports(period=period, data_dir=data_dir, out_dir=out_dir, notebooks_dir=notebooks_dir,
                          jobs=jobs or default_jobs(), only=list(only) or None, workspace=workspace, mask=not no_mask,
                          wait=wait, progress=progress, pdf=pdf, engine=engine)
    Console(width=max(100, Console().width)).print(outcome_table(run))
    for outcome in run.outcomes:
        status = "ok    " if outcome.ok else "FAILED"
        where = run.out_dir / outcome.html if outcome.html else "-"
        label = outcome.name if outcome.run == "all" else f"{outcome.name} {outcome.run}"
        click.echo(f"{status} {label:<24} {outcome.seconds:>6.1f} s  {where}")
        if outcome.error:
            click.echo(f"       {outcome.error}")
    for skipped in run.skipped:
        click.echo(f"skipped {skipped.scenario:<23} {skipped.reason}")
    for alert in run.alerts:
        click.echo(f"alert: {alert['scenario']} {alert['run']}: {alert['title']}: {alert['message']} {alert.get('action', '')}".rstrip())
    if not run.masked:
        click.echo("warning: personal data is NOT masked in this report (--no-mask)", err=True)
    click.echo(f"index: {run.index}")
    if run.failed:
        names = ", ".join(o.name if o.run == "all" else f"{o.name} {o.run}" for o in run.failed)
        click.echo(f"error: {len(run.failed)} of {len(run.outcomes)} notebooks failed: {names} (see {run.index})", err=True)
        ctx.exit(EXIT_DIFFERENCES)


# --------------------------------------------------------------------------------------------
# load / templates
# --------------------------------------------------------------------------------------------
@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--template", default=None, help="Source template name or YAML path [default: detect from the file].")
@click.option("--out", "out_path", type=click.Path(path_type=Path), required=True,
              help="Where to write the table: .parquet (exact decimals) or .csv; rejects go to <out>.rejects.csv.")
@click.option("--max-rejected", type=click.FloatRange(0, 1), default=None,
              help="Share of rejected rows above which the load fails (exit 1) [default: 0.10].")
@click.pass_context
def load(ctx: click.Context, file: Path, template: str | None, out_path: Path, max_rejected: float | None) -> None:
    """Load one export into the canonical table (says which template and why); exit 1 when the load is not
    to be trusted (no row loaded, too many rejected, a control total disagrees)."""
    from recon_helpers.sources.loading import load as load_file
    from recon_helpers.sources.result import MAX_REJECTED_SHARE

    if out_path.suffix.lower() not in (".parquet", ".csv"):
        raise UsageError(f"--out {out_path} must end in .parquet or .csv")
    _ensure_parent(out_path)
    result = load_file(str(file), template=template)
    _table, rejects, load_report = result
    result.write(out_path)  # also writes the rejects beside it
    rejects_path = out_path.with_name(out_path.stem + ".rejects.csv")
    click.echo(f"template: {load_report.template} ({load_report.detected_because})")
    flagged = f", flagged {load_report.rows_flagged:,}" if load_report.rows_flagged else ""
    click.echo(f"rows: read {load_report.rows_read:,}, loaded {load_report.rows_loaded:,}, "
               f"rejected {load_report.rows_rejected:,}{flagged}")
    for check in getattr(load_report, "control_totals", []) or []:
        click.echo(f"control total: {_describe(check)}")
    for warning in getattr(load_report, "warnings", []) or []:
        click.echo(f"warning: {warning}")
    click.echo(f"table: {out_path}")
    if load_report.rows_rejected:
        click.echo(f"rejects: {rejects_path} ({load_report.rows_rejected:,} rows rejected: see why there)")
    else:
        click.echo(f"rejects: {rejects_path}")
    problems = load_report.problems(MAX_REJECTED_SHARE if max_rejected is None else max_rejected)
    if problems:
        click.echo(f"error: {problems[0]}" + (f" (and {len(problems) - 1} more above)" if len(problems) > 1 else ""),
                   err=True)
        ctx.exit(EXIT_DIFFERENCES)


@cli.command()
def templates() -> None:
    """List the built-in source templates (name, kind, description)."""
    from recon_helpers.sources.templates import list_templates

    for tpl in list_templates():
        click.echo(f"{tpl.name:<28} {tpl.kind:<18} {getattr(tpl, 'description', '') or ''}")


# --------------------------------------------------------------------------------------------
# match / recipes
# --------------------------------------------------------------------------------------------
@cli.command()
@click.option("--left", "left_path", type=click.Path(path_type=Path), required=True, help="Left file (e.g. own shipments).")
@click.option("--right", "right_path", type=click.Path(path_type=Path), required=True, help="Right file (e.g. the courier bill).")
@click.option("--third", "third_path", type=click.Path(path_type=Path), default=None, help="Third file for three-way recipes.")
@click.option("--recipe", required=True, help="Recipe name (see `recon recipes`) or YAML path.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), required=True, help="Folder for links.csv, exceptions.csv, summary.json.")
@click.option("--rate-card", default=None,
              help="Courier rate card (sf, zto, yto, jdl or a YAML path): keep the left file's shipments of that "
                   "carrier and price them by the card before matching (recipe courier_bill).")
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True,
              help="Where the SQL runs: embedded DuckDB, or Spark (SPARK_REMOTE, spark-submit's master, else local[2]).")
@click.option("--format", "out_format", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True,
              help="Format of links and exceptions (Parquet keeps exact decimal types).")
@click.pass_context
def match(ctx: click.Context, left_path: Path, right_path: Path, third_path: Path | None, recipe: str, out_dir: Path,
          rate_card: str | None, engine: str, out_format: str) -> None:
    """Match two (or three) files with a recipe; exit 1 on differences."""
    from recon_helpers.engine.files import match_files

    prepare_left = None
    if rate_card:
        from recon_helpers.scenarios.courier_bill.check import priced_shipments
        from recon_helpers.scenarios.courier_bill.rate_card import load_rate_card

        card = load_rate_card(rate_card)
        prepare_left = lambda shipments: priced_shipments(shipments, card)  # noqa: E731
    result = match_files(left_path, right_path, recipe, third_path=third_path, out_dir=out_dir,
                         prepare_left=prepare_left, engine=engine, format=out_format)
    summary = result.summary
    click.echo(f"recipe {summary.recipe}: {summary.matched_rows:,} of {summary.rows:,} rows matched "
               f"(auto-match rate {summary.auto_match_rate:.1%})")
    counts = summary.exception_counts()
    for category, n in sorted(counts.items()):
        click.echo(f"  {category}: {n:,} rows")
    click.echo(f"written to {out_dir}")
    if counts:
        ctx.exit(EXIT_DIFFERENCES)


@cli.command()
def recipes() -> None:
    """List the built-in match recipes with the inputs they expect."""
    from recon_helpers.engine.recipe import list_recipes

    for rec in list_recipes():
        sides = [f"left={_side(rec.left)}", f"right={_side(rec.right)}"]
        if getattr(rec, "third", None):
            sides.append(f"third={_side(rec.third)}")
        click.echo(f"{rec.name:<28} {' '.join(sides)}  {getattr(rec, 'description', '') or ''}")


def _side(side: object) -> str:
    kind = getattr(side, "kind", None) or (side.get("kind") if isinstance(side, dict) else None)
    return str(kind or side)


def _describe(check: object) -> str:
    if isinstance(check, dict):
        return ", ".join(f"{k} {v}" for k, v in check.items())
    return str(check)


def _ensure_parent(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}; choose another --out") from exc


# --------------------------------------------------------------------------------------------
# close
# --------------------------------------------------------------------------------------------
@cli.command()
@click.option("--period", required=True, help="The period to close (or reopen): YYYY-MM, YYYY-Www or YYYY-MM-DD.")
@click.option("--scenario", "scenario_name", required=True, help="The scenario, e.g. courier_bill.")
@click.option("--by", "by", required=True, help="Who signs the period off (or reopens it); goes into the journal.")
@click.option("--note", default="", help="A note for the journal (required with --reopen: why).")
@click.option("--data", "data_dir", type=click.Path(path_type=Path), default=None,
              help="Folder with the month's downloads (needed to close: the check is run again).")
@click.option("--run", "runs", multiple=True, help="Only this run of the scenario's grid (repeat for several) [default: all].")
@click.option("--workspace", "workspace", type=click.Path(path_type=Path), default=None,
              help="Review workspace folder [default: recon_workspace/ beside the data folder].")
@click.option("--reopen", is_flag=True, help="Reopen a closed period instead of closing it.")
@click.pass_context
def close(ctx: click.Context, period: str, scenario_name: str, by: str, note: str, data_dir: Path | None,
          runs: tuple[str, ...], workspace: Path | None, reopen: bool) -> None:
    """Close a month for a scenario: refuses while exceptions above materiality are unexplained."""
    from recon_helpers.review.close import close_scenario, reopen_scenario
    from recon_helpers.review.errors import CloseRefused

    if reopen:
        for line in reopen_scenario(period=period, scenario=scenario_name, by=by, note=note, data_dir=data_dir,
                                    workspace=workspace, runs=list(runs) or None):
            click.echo(line)
        return
    try:
        for line in close_scenario(period=period, scenario=scenario_name, by=by, note=note, data_dir=data_dir,
                                   workspace=workspace, runs=list(runs) or None):
            click.echo(line)
    except CloseRefused as refused:
        click.echo(f"error: {scenario_name} {period} cannot be closed: {len(refused.unexplained)} unexplained exceptions "
                   "above materiality remain; settle them or mark them as waiting for the counterparty:", err=True)
        for row in refused.unexplained.itertuples():
            click.echo(f"  {row.label}  {row.side}  {row.key}  {row.amount}  {row.source_file}:{row.source_row}", err=True)
        ctx.exit(EXIT_DIFFERENCES)


# --------------------------------------------------------------------------------------------
# the one place errors are handled
# --------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    """Run ``recon``; return the exit code (the console script passes it to ``sys.exit``)."""
    state = _State(debug="--debug" in (sys.argv[1:] if argv is None else argv))
    try:
        # standalone_mode=False: click returns ctx.exit()'s code instead of calling sys.exit
        code = cli.main(args=argv, prog_name="recon", standalone_mode=False, obj=state)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:  # wrong option or argument: click's own message, exit 2
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        return EXIT_ERROR
    except ReconError as exc:
        if state.debug:
            traceback.print_exc()
        click.echo(f"error: {_one_line(str(exc))}", err=True)
        return EXIT_ERROR
    except Exception as exc:  # a bug: say so in one line, keep the traceback for --debug
        if state.debug:
            traceback.print_exc()
        click.echo(f"error: unexpected {type(exc).__name__}: {_one_line(str(exc))} (re-run with `recon --debug ...` for the traceback)", err=True)
        return EXIT_BUG
    return code if isinstance(code, int) else EXIT_OK


def _one_line(text: str) -> str:
    return " ".join(text.split())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
