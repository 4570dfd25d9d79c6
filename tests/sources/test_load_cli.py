"""`recon load` is loud when a load is not to be trusted (issue #11 item 5): no row loaded, too many rejected, or a
control total that disagrees give exit 1 and one line on stderr, after the usual summary."""
from __future__ import annotations

from pathlib import Path

import recon_helpers
from recon_helpers.cli import main

SAMPLES = Path(__file__).parents[1] / "samples"

BROKEN_MT940 = (":20:STMT1\n:25:DE89370400440532013000\n:28C:1/1\n:60F:C261001EUR1000,00\n"
                ":61:2610011001CX,YZNTRFNONREF//B1\n:61:2610021002D1O,00NTRFNONREF//B2\n:61:2610031003C??NTRFREF//B3\n"
                ":62F:C261003EUR1000,00\n-\n")


def stderr_lines(capsys) -> tuple[str, list[str]]:
    captured = capsys.readouterr()
    return captured.out, [line for line in captured.err.splitlines() if line.strip()]


def test_zero_of_n_rows_loaded_exits_1_with_one_line_saying_what_to_check(tmp_path: Path, capsys):
    path = tmp_path / "broken.sta"
    path.write_text(BROKEN_MT940, encoding="ascii")
    assert main(["load", str(path), "--out", str(tmp_path / "t.csv")]) == 1
    out, err = stderr_lines(capsys)
    assert "rows: read 3, loaded 0, rejected 3" in out
    assert len(err) == 1 and "0 of 3 rows loaded" in err[0] and "broken.sta" in err[0] and "rejects" in err[0]


def corrupted_csv(tmp_path: Path, broken: int) -> Path:
    lines = ["收款单号,收款日期,客户编码,付款户名,收款金额,收款方式,备注"]
    for i in range(10):
        amount = "abc" if i < broken else f"{100 + i}.00"
        lines.append(f"SK{i:03d},2026-10-{i + 1:02d},C{i:03d},客户{i},{amount},转账,")
    path = tmp_path / "payments.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_more_than_a_tenth_rejected_exits_1_and_names_the_rejects_file(tmp_path: Path, capsys):
    path = corrupted_csv(tmp_path, broken=3)
    assert recon_helpers.load(path).report.template == "b2b_payments"
    assert main(["load", str(path), "--out", str(tmp_path / "t.csv")]) == 1
    out, err = stderr_lines(capsys)
    assert f"rejects: {tmp_path / 't.rejects.csv'} (3 rows rejected" in out
    assert len(err) == 1 and "3 of 10 rows rejected" in err[0]


def test_a_few_rejects_under_the_threshold_load_with_exit_0_and_say_where_they_are(tmp_path: Path, capsys):
    path = corrupted_csv(tmp_path, broken=3)
    assert main(["load", str(path), "--out", str(tmp_path / "t.csv"), "--max-rejected", "0.5"]) == 0
    out, err = stderr_lines(capsys)
    assert "(3 rows rejected: see why there)" in out and err == []


def test_a_control_total_that_disagrees_exits_1(tmp_path: Path, capsys):
    text = (SAMPLES / "yto_bill_gbk.csv").read_bytes().decode("gbk")
    total_line = next(line for line in text.splitlines() if line.startswith("合计"))
    changed = text.replace(total_line, total_line.replace("11.50", "99.50"))
    assert changed != text
    path = tmp_path / "yto.csv"
    path.write_bytes(changed.encode("gbk"))
    assert main(["load", str(path), "--out", str(tmp_path / "t.csv")]) == 1
    _, err = stderr_lines(capsys)
    assert len(err) == 1 and "control total" in err[0] and "disagrees" in err[0]


def test_a_clean_load_exits_0_and_the_notebook_summary_has_no_alarm(tmp_path: Path, capsys):
    assert main(["load", str(SAMPLES / "yto_bill_gbk.csv"), "--out", str(tmp_path / "t.csv")]) == 0
    assert "color:#b00020" not in recon_helpers.load(SAMPLES / "yto_bill_gbk.csv").report._repr_html_()


def test_the_notebook_summary_shows_a_failed_load_in_red(tmp_path: Path):
    path = tmp_path / "broken.sta"
    path.write_text(BROKEN_MT940, encoding="ascii")
    page = recon_helpers.load(path).report._repr_html_()
    assert "color:#b00020" in page and "0 of 3 rows loaded" in page


def test_a_bank_statement_that_does_not_balance_exits_1(tmp_path: Path, capsys):
    balanced = (":20:STMT1\n:25:DE89370400440532013000\n:28C:1/1\n:60F:C261001EUR1000,00\n"
                ":61:2610011001C250,50NTRFNONREF//B1\n:61:2610021002D50,50NTRFNONREF//B2\n:62F:C261002EUR1200,00\n-\n")
    path = tmp_path / "ok.sta"
    path.write_text(balanced, encoding="ascii")
    assert main(["load", str(path), "--out", str(tmp_path / "ok.csv")]) == 0
    assert "closing balance (total): file says 1200.00, rows give 1200.00 - ok" in capsys.readouterr().out
    path.write_text(balanced.replace("C261002EUR1200,00", "C261002EUR1300,00"), encoding="ascii")
    assert main(["load", str(path), "--out", str(tmp_path / "bad.csv")]) == 1
    _, err = stderr_lines(capsys)
    assert len(err) == 1 and "closing balance disagrees" in err[0]
