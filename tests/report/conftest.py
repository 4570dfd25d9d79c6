"""The shared-files fixture: the demo month's report, once, with hostile text in its inputs.

A copy of the demo month gets script and formula payloads in bank-statement memos and counterparty
names; the report runs every real notebook plus a probe notebook that shows what a careless notebook
would leak (the loaded bank table, a raw DataFrame of the shop's consignees, a printed mobile number
and the data folder's absolute path) and writes its own CSV. What leaves the workbench must still be
safe: that is what tests/report/test_shared_files.py and test_browser.py check.
"""
from __future__ import annotations

import contextlib
import io
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

#: payloads written into the demo's text fields (no comma, so the CSV stays simple)
SCRIPT_PAYLOAD = "<img src=x onerror=alert(1)>"
FORMULA_PAYLOAD = "=cmd|' /C calc'!A0"
CONTACT_MOBILE = "18636422937"

PROBE_CELLS = [
    "from pathlib import Path\nimport pandas as pd\nimport recon_helpers as recon\nfrom recon_helpers import export, report\n"
    "report.notebook_display()",
    "bank = recon.load(str(Path(data_dir) / 'bank' / 'bank_statement.csv'))\n"
    "report.record_kpis({'Bank lines 银行流水': len(bank.table)}, title='Shared-data probe')",
    "report.table(bank.table[['txn_time', 'amount', 'counterparty', 'counterparty_account', 'memo', 'source_file']])",
    "bank.table.head(40)",
    "orders = pd.read_csv(Path(data_dir) / 'shop' / 'taobao_orders.csv', encoding='gbk', dtype=str)\n"
    "orders[['收货人姓名', '联系手机', '收货地址']].head(20)",
    f"print('客服回访 call back {CONTACT_MOBILE}; data in', Path(data_dir).resolve())",
    "export.write_csv(bank.table, Path(output_dir) / period / 'shared_probe' / 'all' / 'bank.csv')",
]


@dataclass
class DemoReport:
    code: int
    stdout: str
    stderr: str
    month: Path
    data: Path
    base: Path


def write_probe(folder: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    nb.cells.append(nbformat.v4.new_markdown_cell("# Shared-data probe 共享数据探针"))
    params = nbformat.v4.new_code_cell('period: str = "2026-10"\ndata_dir: str = "x"\noutput_dir: str = "out"')
    params.metadata["tags"] = ["parameters"]
    nb.cells += [params, *(nbformat.v4.new_code_cell(src) for src in PROBE_CELLS)]
    nbformat.write(nb, str(folder / "shared_probe.ipynb"))


def poison_bank_statement(data: Path) -> None:
    """Script and formula payloads in memos and a counterparty name of the demo bank statement (GBK)."""
    path = data / "bank" / "bank_statement.csv"
    text = path.read_bytes().decode("gbk")
    text = text.replace("支付办公及仓库租金", SCRIPT_PAYLOAD, 1).replace("网银转账手续费", FORMULA_PAYLOAD, 1)
    text = text.replace("南通恒丰家纺有限公司", "<script>alert(2)</script>", 1)
    path.write_bytes(text.encode("gbk"))


@pytest.fixture(scope="session")
def demo_report(tmp_path_factory, demo_dir, notebooks_dir) -> DemoReport:
    """`recon report` on a poisoned copy of the demo month with every notebook and the probe (jobs 2)."""
    from recon_helpers.cli import main

    base = tmp_path_factory.mktemp("shared")
    data = base / "data"
    shutil.copytree(demo_dir, data)
    poison_bank_statement(data)
    notebooks = base / "notebooks"
    shutil.copytree(notebooks_dir, notebooks, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    write_probe(notebooks)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["report", "--period", "2026-10", "--data", str(data), "--out", str(base / "reports"),
                     "--notebooks", str(notebooks), "--jobs", "2"])
    return DemoReport(code, out.getvalue(), err.getvalue(), base / "reports" / "2026-10", data, base)
