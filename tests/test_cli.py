"""The `recon` command: subcommands listed, bad input -> one clear line and exit 2, bugs -> exit 3.

Tests call ``main([...])`` (what the console script runs) and assert the exit code and the phrase.
"""
from __future__ import annotations

from recon_helpers import cli
from recon_helpers.cli import main


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.strip()]


def test_help_lists_the_subcommands(capsys):
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    commands = out[out.index("Commands:"):]
    for name in ("demo", "report", "load", "match", "templates", "recipes"):
        assert f"  {name} " in commands


def test_each_subcommand_documents_its_options(capsys):
    assert main(["report", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--period", "--data", "--out", "--notebooks", "--jobs"):
        assert option in out
    assert main(["demo", "--help"]) == 0
    out = capsys.readouterr().out
    for option in ("--out", "--period", "--seed", "--orders"):
        assert option in out


def test_demo_with_month_13_names_the_period_in_one_line(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path / "d"), "--period", "2026-13"]) == 2
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1
    assert lines[0].startswith("error: ") and "'2026-13'" in lines[0] and "YYYY-MM" in lines[0]
    assert not (tmp_path / "d").exists(), "nothing is written for a bad period"


def test_demo_into_an_unwritable_folder_says_so_in_one_line(tmp_path, capsys):
    blocker = tmp_path / "a_file.txt"
    blocker.write_text("not a folder")
    target = blocker / "demo"  # a folder cannot be created inside a file, whoever runs the test
    assert main(["demo", "--out", str(target), "--orders", "50"]) == 2
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1
    assert lines[0].startswith("error: ") and str(target) in lines[0]


def test_report_on_a_missing_data_folder_names_it(tmp_path, capsys):
    missing = tmp_path / "no_such_data"
    assert main(["report", "--period", "2026-10", "--data", str(missing), "--out", str(tmp_path / "r")]) == 2
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1
    assert f"data folder {missing} does not exist" in lines[0] and "recon demo" in lines[0]


def test_report_into_an_unwritable_folder_says_so_in_one_line(tmp_path, capsys):
    (tmp_path / "data").mkdir()
    (tmp_path / "nb").mkdir()
    (tmp_path / "nb" / "x.ipynb").write_text("{}")
    blocker = tmp_path / "reports_is_a_file"
    blocker.write_text("")
    code = main(["report", "--period", "2026-10", "--data", str(tmp_path / "data"), "--out", str(blocker), "--notebooks", str(tmp_path / "nb")])
    assert code == 2
    lines = error_lines(capsys.readouterr().err)
    assert len(lines) == 1
    assert f"cannot write reports to {blocker / '2026-10'}" in lines[0] and "--out" in lines[0]


def test_report_with_a_bad_period_exits_2(tmp_path, capsys):
    (tmp_path / "data").mkdir()
    assert main(["report", "--period", "2026/10", "--data", str(tmp_path / "data")]) == 2
    assert "'2026/10' is not a month" in capsys.readouterr().err


def test_a_wrong_option_is_a_usage_error(capsys):
    assert main(["report", "--jobs", "0", "--period", "2026-10", "--data", "x"]) == 2
    assert "--jobs" in capsys.readouterr().err


def test_an_unexpected_error_is_one_line_with_a_hint_and_exit_3(tmp_path, monkeypatch, capsys):
    def explode(**_):
        raise RuntimeError("something broke inside")

    monkeypatch.setattr("recon_helpers.report.batch.run_reports", explode)
    (tmp_path / "data").mkdir()
    assert main(["report", "--period", "2026-10", "--data", str(tmp_path / "data")]) == 3
    lines = error_lines(capsys.readouterr().err)
    assert lines == ["error: unexpected RuntimeError: something broke inside (re-run with `recon --debug ...` for the traceback)"]


def test_debug_shows_the_traceback(tmp_path, capsys):
    assert main(["--debug", "report", "--period", "2026-10", "--data", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "UsageError" in err
    assert err.rstrip().splitlines()[-1].startswith("error: data folder")


def test_the_console_script_points_at_main():
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["scripts"]["recon"] == "recon_helpers.cli:main"
    assert callable(cli.main)


def test_demo_writes_the_month_and_lists_its_truth(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--period", "2026-10", "--seed", "7", "--orders", "300"]) == 0
    printed = capsys.readouterr().out
    assert (out / "erp" / "shipments.csv").is_file() and (out / "courier" / "sf_bill.xlsx").is_file()
    assert (out / "truth" / "courier_bill.csv").is_file()
    assert "truth/courier_bill.csv" in printed and str(out) in printed


def test_the_package_is_cheap_to_import_and_exports_what_a_notebook_needs():
    """`import recon_helpers` pulls in no pandas/DuckDB/pyarrow; the verbs, Period, the error root and the
    scenarios come on first use; no module shares a name with a verb."""
    import subprocess
    import sys

    code = (
        "import importlib.util, sys, recon_helpers\n"
        "heavy = [m for m in ('pandas', 'duckdb', 'pyarrow') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert importlib.util.find_spec('recon_helpers.load') is None and importlib.util.find_spec('recon_helpers.match') is None\n"
        "assert callable(recon_helpers.load) and recon_helpers.load.__name__ == 'load', recon_helpers.load\n"
        "assert callable(recon_helpers.match) and recon_helpers.match.__name__ == 'match', recon_helpers.match\n"
        "from recon_helpers import Period, ReconError, load, match, scenarios\n"
        "assert load is recon_helpers.load and match is recon_helpers.match\n"
        "assert str(Period.parse('2026-10')) == '2026-10' and issubclass(ReconError, Exception)\n"
        "assert callable(scenarios.courier_bill.check)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
