"""The demo month: deterministic, shaped like the real exports, and its truth agrees with its files.

The truth checks re-derive every injected discrepancy from the FILES alone (csv / openpyxl / zipfile,
plus ``pricing.quote`` for fees), never from the generator's internal state.
"""
from __future__ import annotations

import csv
import hashlib
import io
import os
import zipfile
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from recon_helpers import catalog
from recon_helpers.demo import generate
from recon_helpers.errors import PeriodError, UsageError
from recon_helpers.scenarios.courier_bill import pricing, rate_card
from recon_helpers.testing import truth_rows as truth

ORDERS = 300
CARRIER_NAMES = {"sf": "顺丰速运", "zto": "中通快递", "yto": "圆通速递", "jdl": "京东物流"}
CLOSED = {"交易关闭", "已取消", "已关闭"}
CENT = Decimal("0.01")


@pytest.fixture(scope="session")
def generated(tmp_path_factory):
    """The small demo month, generated once: (folder, DemoSummary)."""
    out = tmp_path_factory.mktemp("demo") / "month"
    return out, generate(out, period="2026-10", seed=7, orders=ORDERS)


@pytest.fixture(scope="session")
def demo(generated) -> Path:
    return generated[0]


# ---------------------------------------------------------------------------------------------
# small readers (plain csv / openpyxl, independent of the generator)
# ---------------------------------------------------------------------------------------------


def money(text: object) -> Decimal:
    if text is None or text == "":
        return Decimal("0.00")
    if isinstance(text, float):
        return Decimal(repr(text)).quantize(CENT)
    return Decimal(str(text).strip().lstrip("`").strip()).quantize(CENT)


def csv_rows(path: Path, encoding: str, *, header_first: str, stop=lambda row: False) -> list[dict]:
    """Rows after the header line that starts with ``header_first``, up to a footer line."""
    lines = path.read_bytes().decode(encoding).splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip("\ufeff").startswith(header_first))
    reader = csv.reader(io.StringIO("\n".join(lines[start:])))
    header = [h.lstrip("\ufeff") for h in next(reader)]
    out = []
    for row in reader:
        if not row or stop(row):
            break
        out.append(dict(zip(header, row)))
    return out


def xlsx_rows(path: Path, header_first: str) -> list[dict]:
    """Rows of the first sheet under the header row, up to the 合计/总计 row."""
    ws = openpyxl.load_workbook(path, read_only=True).active
    rows = list(ws.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r and r[0] == header_first)
    header = rows[start]
    out = []
    for r in rows[start + 1:]:
        if r[0] in ("合计", "总计", "本月合计"):
            break
        out.append(dict(zip(header, r)))
    return out


def truth_set(demo: Path, scenario: str, categories: set[str] | None = None) -> set[tuple]:
    return {(t["category"], t["key"], t["key2"], t["amount_diff"]) for t in truth(demo, scenario)
            if categories is None or t["category"] in categories}


def d(x: Decimal) -> str:
    return f"{x:.2f}"


# ---------------------------------------------------------------------------------------------
# determinism and the public API
# ---------------------------------------------------------------------------------------------


def digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(demo, tmp_path):
    again = tmp_path / "again"
    summary = generate(again, period="2026-10", seed=7, orders=ORDERS)
    first = digests(demo)
    assert first == digests(again)
    assert sorted(first) == summary.files
    other = tmp_path / "other"
    generate(other, period="2026-10", seed=8, orders=ORDERS)
    changed = {name for name, h in digests(other).items() if first.get(name) != h}
    # every data file changes with the seed; only the copied rate cards stay the same
    assert changed == {n for n in first if not n.startswith("rate_cards/")}


def test_summary_lists_every_contract_file_and_counts_truth(generated):
    demo, summary = generated
    expected = {
        "shop/taobao_orders.csv", "shop/jd_orders.xlsx", "shop/pdd_orders.csv", "shop/douyin_orders.csv",
        "erp/shipments.csv", "wms/outbound.xlsx", "courier/sf_bill.xlsx", "courier/zto_bill.xlsx",
        "courier/yto_bill.csv", "courier/jd_bill.xlsx", "courier/return_waybills.csv", "platform/return_requests.csv",
        "wms/return_receipts.xlsx", "platform/tmall_alipay_account.zip", "platform/jd_settlement.csv",
        "platform/pdd_settlement.csv", "platform/douyin_settlement.csv", "payments/alipay_trade.csv",
        "payments/wechat_trade.csv", "bank/bank_statement.csv", "b2b/invoices.xlsx", "b2b/deliveries.xlsx",
        "b2b/customer_payments.csv", "b2b/customers.csv", "sales/salesperson_receipts.xlsx",
        "finance/cashier_journal.xlsx", "erp/erp_documents.csv", "finance/gl_export.xlsx",
        *(f"rate_cards/{c}.yaml" for c in CARRIER_NAMES),
        *(f"truth/{s}.csv" for s in ("courier_bill", "returns", "outbound", "collections", "customer_statement",
                                     "cashier", "ledger")),
    }
    assert set(summary.files) == expected
    assert summary.period == "2026-10" and summary.seed == 7
    for scenario, cats in summary.truth_counts.items():
        assert sum(cats.values()) == len(truth(demo, scenario))
        # every closed order whose waybill was printed is billed: the small month has only a few
        assert all(n >= (1 if c == "cancelled_before_pickup" else 3) for c, n in cats.items()), (scenario, cats)
    assert set(summary.truth_counts["courier_bill"]) == {"missing_on_right", "missing_on_left", "duplicate_on_right",
                                                          "rate_card_violation", "weight_mismatch",
                                                          "return_billed_as_outbound", "cancelled_before_pickup"}


def test_rate_cards_are_byte_copies_of_the_templates(demo):
    for code in CARRIER_NAMES:
        assert (demo / "rate_cards" / f"{code}.yaml").read_bytes() == (catalog.folder("rate_cards") / f"{code}.yaml").read_bytes()


def test_bad_period_raises_period_error(tmp_path):
    with pytest.raises(PeriodError, match="2026-13"):
        generate(tmp_path / "x", period="2026-13")
    assert not (tmp_path / "x").exists()


def test_out_dir_that_is_a_file_raises_usage_error(tmp_path):
    target = tmp_path / "taken"
    target.write_text("not a folder")
    with pytest.raises(UsageError, match=r"cannot write the demo to .*taken.*choose another --out folder"):
        generate(target, orders=60)
    with pytest.raises(UsageError, match="choose another --out folder"):
        generate(target / "below", orders=60)


def test_out_dir_refusing_writes_raises_usage_error(tmp_path, monkeypatch):
    """Permission denied (simulated: tests may run as root, which ignores folder permissions)."""
    import recon_helpers.demo as demo_pkg

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(demo_pkg.tempfile, "NamedTemporaryFile", refuse)
    with pytest.raises(UsageError, match=r"cannot write the demo to .*: Permission denied; choose another --out folder"):
        generate(tmp_path / "ro", orders=60)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root ignores folder permissions")
def test_out_dir_without_write_permission_raises_usage_error(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(UsageError, match="Permission denied; choose another --out folder"):
            generate(locked, orders=60)
    finally:
        locked.chmod(0o700)


# ---------------------------------------------------------------------------------------------
# files look like the real exports
# ---------------------------------------------------------------------------------------------


def test_taobao_export_is_gbk_with_excel_text_ids(demo):
    raw = (demo / "shop" / "taobao_orders.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("gbk")
    assert text.startswith("订单编号,买家会员名,买家支付宝账号,")
    first = text.split("\r\n")[1]
    assert first.startswith('="') and first.split(",")[0].endswith('"')
    rows = csv_rows(demo / "shop" / "taobao_orders.csv", "gbk", header_first="订单编号")
    assert all(r["订单编号"].startswith('="') and len(r["订单编号"]) == 22 for r in rows)


def test_utf8_exports_carry_a_bom_and_douyin_ids_are_tab_wrapped(demo):
    for rel in ("shop/pdd_orders.csv", "shop/douyin_orders.csv", "erp/shipments.csv", "platform/jd_settlement.csv",
                "platform/return_requests.csv", "b2b/customer_payments.csv", "erp/erp_documents.csv"):
        assert (demo / rel).read_bytes().startswith(b"\xef\xbb\xbf"), rel
    line = (demo / "shop" / "douyin_orders.csv").read_text(encoding="utf-8-sig").splitlines()[1]
    assert line.startswith('"\t69')
    pdd = csv_rows(demo / "shop" / "pdd_orders.csv", "utf-8-sig", header_first="商品")
    assert all(r["订单成交时间"].endswith("\t") for r in pdd)


def test_alipay_zip_has_gbk_members_and_footer_totals_that_agree(demo):
    with zipfile.ZipFile(demo / "platform" / "tmall_alipay_account.zip") as zf:
        infos = zf.infolist()
        assert all(i.flag_bits & 0x800 == 0 for i in infos)  # GBK names, no UTF-8 flag
        assert all(i.date_time == (2026, 11, 1, 9, 12, 36) for i in infos)
        names = [i.filename.encode("cp437").decode("gbk") for i in infos]
        assert any(n.endswith("_账务明细.csv") for n in names)
        texts = [zf.read(i).decode("gbk") for i in infos]
    detail = next(t for t in texts if t.startswith("#支付宝账务明细查询"))
    lines = detail.splitlines()
    rows = list(csv.DictReader(io.StringIO("\n".join(l for l in lines if not l.startswith("#")))))
    income = sum(money(r["收入金额（+元）"]) for r in rows)
    spent = sum(money(r["支出金额（-元）"]) for r in rows)
    assert f"#收入合计：{sum(money(r['收入金额（+元）']) > 0 for r in rows)}笔，共{d(income)}元" in lines
    assert f"#支出合计：{sum(money(r['支出金额（-元）']) < 0 for r in rows)}笔，共{d(spent)}元" in lines
    assert rows[0]["账务流水号"].endswith("\t")


def test_footers_and_summaries_equal_the_row_sums(demo):
    # YTO: 合计 line
    lines = (demo / "courier" / "yto_bill.csv").read_bytes().decode("gbk").splitlines()
    yto = csv_rows(demo / "courier" / "yto_bill.csv", "gbk", header_first="快递单号", stop=lambda r: r[0] == "合计")
    total = lines[-1].split(",")
    assert total[0] == "合计"
    assert money(total[4]) == sum(money(r["运费"]) for r in yto)
    assert money(total[6]) == sum(money(r["费用合计"]) for r in yto)
    # SF / ZTO / JDL: 合计/总计 rows
    for rel, first, col in (("courier/sf_bill.xlsx", "序号", "应付金额"), ("courier/zto_bill.xlsx", "运单号", "总费用"),
                            ("courier/jd_bill.xlsx", "运单号", "应付金额")):
        ws = openpyxl.load_workbook(demo / rel, read_only=True).active
        all_rows = list(ws.iter_rows(values_only=True))
        header = all_rows[next(i for i, r in enumerate(all_rows) if r[0] == first)]
        assert all_rows[-1][0] in ("合计", "总计")
        body = xlsx_rows(demo / rel, first)
        assert money(all_rows[-1][header.index(col)]) == sum(money(r[col]) for r in body), rel
    # WeChat: summary line after the rows
    wx_lines = (demo / "payments" / "wechat_trade.csv").read_text(encoding="utf-8").splitlines()
    wx = csv_rows(demo / "payments" / "wechat_trade.csv", "utf-8", header_first="交易时间",
                  stop=lambda r: r[0] == "总交易单数")
    summary = [v.lstrip("`") for v in wx_lines[-1].split(",")]
    assert int(summary[0]) == len(wx)
    assert money(summary[1]) == sum(money(r["应结订单金额"]) for r in wx)
    assert money(summary[2]) == sum(money(r["退款金额"]) for r in wx)
    assert Decimal(summary[4]) == sum(Decimal(r["手续费"].lstrip("`")) for r in wx)
    assert all(v.startswith("`") for v in wx_lines[1].split(","))
    # bank: 合计 footer
    bank = csv_rows(demo / "bank" / "bank_statement.csv", "gbk", header_first="交易日", stop=lambda r: r[0] == "合计")
    foot = (demo / "bank" / "bank_statement.csv").read_bytes().decode("gbk").splitlines()[-1].split(",")
    assert money(foot[4]) == sum(money(r["借方金额"]) for r in bank)
    assert money(foot[5]) == sum(money(r["贷方金额"]) for r in bank)
    # Alipay 业务明细: 交易合计 / 退款合计
    at_lines = (demo / "payments" / "alipay_trade.csv").read_bytes().decode("gbk").splitlines()
    at = csv_rows(demo / "payments" / "alipay_trade.csv", "gbk", header_first="支付宝交易号", stop=lambda r: r[0].startswith("#"))
    trades = [r for r in at if r["业务类型"].strip() == "交易"]
    assert f"#交易合计：{len(trades)}笔，商家实收共{d(sum(money(r['商家实收（元）']) for r in trades))}元，商家优惠共0.00元" in at_lines
    assert at_lines[0] == "#支付宝业务明细查询"


def test_xlsx_files_carry_fixed_dates(demo):
    for rel in ("shop/jd_orders.xlsx", "courier/sf_bill.xlsx", "finance/gl_export.xlsx"):
        with zipfile.ZipFile(demo / rel) as zf:
            assert {i.date_time for i in zf.infolist()} == {(2026, 11, 1, 9, 12, 36)}
            core = zf.read("docProps/core.xml").decode()
        assert "2026-11-01T09:12:36Z" in core
        assert openpyxl.load_workbook(demo / rel).properties.created.year == 2026


# ---------------------------------------------------------------------------------------------
# truth agrees with the files
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", list(CARRIER_NAMES))
def test_courier_bill_truth_is_what_the_files_show(demo, code):
    card = rate_card.load_rate_card(demo / "rate_cards" / f"{code}.yaml")
    ships = {r["运单号"]: r for r in csv_rows(demo / "erp" / "shipments.csv", "utf-8-sig", header_first="运单号")
             if r["快递公司"] == CARRIER_NAMES[code]}
    if code == "yto":
        bill = [(r["快递单号"], Decimal(r["结算重量"]), money(r["费用合计"]))
                for r in csv_rows(demo / "courier" / "yto_bill.csv", "gbk", header_first="快递单号",
                                  stop=lambda r: r[0] == "合计")]
    else:
        rel, first, wb, weight, total = {
            "sf": ("sf_bill.xlsx", "序号", "运单号码", "计费重量(kg)", "应付金额"),
            "zto": ("zto_bill.xlsx", "运单号", "运单号", "计费重量", "总费用"),
            "jdl": ("jd_bill.xlsx", "运单号", "运单号", "计费重量", "应付金额"),
        }[code]
        bill = [(r[wb], Decimal(repr(r[weight])), money(r[total])) for r in xlsx_rows(demo / "courier" / rel, first)]

    def quote(w: str):
        s = ships[w]
        return pricing.quote(card, weight=Decimal(s["重量(kg)"]), length_cm=Decimal(s["长(cm)"]),
                           width_cm=Decimal(s["宽(cm)"]), height_cm=Decimal(s["高(cm)"]), destination=s["收件省份"])

    counts = Counter(w for w, _, _ in bill)
    found = set()
    for w in set(ships) - set(counts):
        found.add(("missing_on_right", w, code, d(-quote(w).total)))
    not_ours = _why_not_ours(demo)
    for w, charge, billed in bill:
        if w not in ships:
            found.add((not_ours.get(w, "missing_on_left"), w, code, d(billed)))
        elif counts[w] > 1:
            found.add(("duplicate_on_right", w, code, d(billed)))
        else:
            q = quote(w)
            if billed != q.total:
                category = "weight_mismatch" if charge > q.chargeable_weight else "rate_card_violation"
                found.add((category, w, code, d(billed - q.total)))
    expected = {t for t in truth_set(demo, "courier_bill") if t[2] == code}
    assert found == expected
    assert len(expected) >= 5


def _why_not_ours(demo: Path) -> dict[str, str]:
    """waybill -> why a bill line for a parcel we did not send was billed, from the reference files: our
    return waybills, and waybills whose every outbound row is cancelled (已取消)."""
    statuses: dict[str, set] = defaultdict(set)
    for r in xlsx_rows(demo / "wms" / "outbound.xlsx", "出库单号"):
        if r["运单号"]:
            statuses[r["运单号"]].add(r["状态"])
    why = {w: "cancelled_before_pickup" for w, s in statuses.items() if s == {"已取消"}}
    returns = csv_rows(demo / "courier" / "return_waybills.csv", "utf-8-sig", header_first="运单号")
    return {**why, **{r["运单号"]: "return_billed_as_outbound" for r in returns}}


def _platform_orders(demo: Path) -> dict[str, dict]:
    """order number -> {platform, status, qty} from the four order exports."""
    orders: dict[str, dict] = {}
    for r in csv_rows(demo / "shop" / "taobao_orders.csv", "gbk", header_first="订单编号"):
        orders[r["订单编号"][2:-1]] = {"platform": "taobao", "status": r["订单状态"], "qty": int(r["宝贝总数量"])}
    for r in xlsx_rows(demo / "shop" / "jd_orders.xlsx", "订单号"):
        o = orders.setdefault(r["订单号"], {"platform": "jd", "status": r["订单状态"], "qty": 0})
        o["qty"] += int(r["订购数量"])
    for r in csv_rows(demo / "shop" / "pdd_orders.csv", "utf-8-sig", header_first="商品"):
        orders[r["订单号"]] = {"platform": "pdd", "status": r["订单状态"], "qty": int(r["商品数量(件)"])}
    for r in csv_rows(demo / "shop" / "douyin_orders.csv", "utf-8-sig", header_first="主订单编号"):
        o = orders.setdefault(r["主订单编号"].strip(), {"platform": "douyin", "status": r["订单状态"].strip(), "qty": 0})
        o["qty"] += int(r["商品数量"])
    return orders


def test_outbound_truth_is_what_the_files_show(demo):
    orders = _platform_orders(demo)
    shipped_qty: dict[str, int] = defaultdict(int)
    platform_of = {}
    for r in xlsx_rows(demo / "wms" / "outbound.xlsx", "出库单号"):
        if r["状态"] == "已出库":
            shipped_qty[r["订单号"]] += int(r["出库数量"])
            platform_of[r["订单号"]] = r["平台"]
    codes = {"天猫": "taobao", "京东": "jd", "拼多多": "pdd", "抖音": "douyin"}
    found = set()
    for no, o in orders.items():
        if o["status"] in CLOSED:
            if no in shipped_qty:
                found.add(("status_mismatch", no, o["platform"], ""))
        elif no not in shipped_qty:
            found.add(("missing_on_right", no, o["platform"], ""))
    for no in shipped_qty:
        if no not in orders:
            found.add(("missing_on_left", no, codes[platform_of[no]], ""))
    assert found == truth_set(demo, "outbound", {"status_mismatch", "missing_on_right", "missing_on_left"})
    qty_diff = {no: shipped_qty[no] - o["qty"] for no, o in orders.items()
                if o["status"] not in CLOSED and no in shipped_qty and shipped_qty[no] != o["qty"]}
    assert qty_diff == {t["key"]: int(t["qty_diff"]) for t in truth(demo, "outbound") if t["category"] == "qty_mismatch"}


def test_collections_truth_is_what_the_files_show(demo):
    bank = csv_rows(demo / "bank" / "bank_statement.csv", "gbk", header_first="交易日", stop=lambda r: r[0] == "合计")
    credits: dict[tuple[str, str], list[Decimal]] = defaultdict(list)
    for r in bank:
        if r["贷方金额"]:
            credits[(r["交易日"], r["摘要"])].append(money(r["贷方金额"]))

    batches = []  # (platform, key, credit date, memo, amount)
    jd: dict[str, list] = {}
    for r in csv_rows(demo / "platform" / "jd_settlement.csv", "utf-8-sig", header_first="结算单号"):
        b = jd.setdefault(r["结算单号"], [r["结算时间"][:10], Decimal("0")])
        b[1] += money(r["金额(元)"])
    batches += [("jd", k, v[0], "京东结算款", v[1]) for k, v in jd.items()]
    for r in csv_rows(demo / "platform" / "pdd_settlement.csv", "utf-8-sig", header_first="商户订单号"):
        if r["账务类型"] == "提现":
            batches.append(("pdd", r["商户订单号"], r["发生时间"][:10], "拼多多货款提现", -money(r["支出金额（-元）"])))
    dy: dict[str, Decimal] = defaultdict(Decimal)
    for r in csv_rows(demo / "platform" / "douyin_settlement.csv", "utf-8-sig", header_first="结算时间"):
        dy[r["结算时间"][:10]] += money(r["结算金额"])
    batches += [("douyin", k, k, "抖音电商结算款", v) for k, v in dy.items() if v > 0]
    with zipfile.ZipFile(demo / "platform" / "tmall_alipay_account.zip") as zf:
        detail = next(t for t in (zf.read(i).decode("gbk") for i in zf.infolist()) if t.startswith("#支付宝账务明细查询"))
    alipay = list(csv.DictReader(io.StringIO("\n".join(l for l in detail.splitlines() if not l.startswith("#")))))
    for r in alipay:
        if r["业务类型"] == "提现":
            batches.append(("alipay", r["业务流水号"].strip(), r["发生时间"][:10], "支付宝提现", -money(r["支出金额（-元）"])))
    wx: dict[str, Decimal] = defaultdict(Decimal)
    for r in csv_rows(demo / "payments" / "wechat_trade.csv", "utf-8", header_first="交易时间",
                      stop=lambda r: r[0] == "总交易单数"):
        day = r["交易时间"].lstrip("`")[:10]
        wx[day] += money(r["应结订单金额"]) - money(r["退款金额"]) - Decimal(r["手续费"].lstrip("`")).quantize(CENT)
    import datetime as dt
    for day, v in wx.items():
        nxt = (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()
        batches.append(("wechat", day, nxt, "微信支付结算", v))

    # a batch whose net is not positive pays nothing out: no bank credit is expected for it
    batches = [b for b in batches if b[4] > 0]
    found = set()
    for platform, key, date, memo, amount in batches:
        got = credits.get((date, memo), [])
        assert len(got) <= 1, (platform, key)
        if not got:
            found.add(("missing_on_right", key, platform, d(-amount)))
        elif got[0] != amount:
            found.add(("amount_mismatch", key, platform, d(got[0] - amount)))
    # every platform credit in the bank belongs to a batch
    memos = {"京东结算款", "拼多多货款提现", "抖音电商结算款", "支付宝提现", "微信支付结算"}
    assert sum(len(v) for (day, memo), v in credits.items() if memo in memos) == \
        len(batches) - sum(1 for f in found if f[0] == "missing_on_right")

    # Taobao orders vs the Alipay 交易收款
    flows: dict[str, Decimal] = {}
    for r in alipay:
        no = r["商户订单号"].strip()
        if r["业务类型"] == "在线支付" and no.startswith("T200P"):
            flows[no[5:]] = money(r["收入金额（+元）"])
    for r in csv_rows(demo / "shop" / "taobao_orders.csv", "gbk", header_first="订单编号"):
        no, paid = r["订单编号"][2:-1], money(r["买家实际支付金额"])
        if r["订单状态"] == "交易成功":
            if no not in flows:
                found.add(("missing_on_right", no, "taobao", d(-paid)))
            elif flows[no] != paid:
                found.add(("amount_mismatch", no, "taobao", d(flows[no] - paid)))
        else:
            assert no not in flows
    assert found == truth_set(demo, "collections")


def test_customer_statement_truth_is_what_the_files_show(demo):
    invoices = xlsx_rows(demo / "b2b" / "invoices.xlsx", "发票号码")
    payments = csv_rows(demo / "b2b" / "customer_payments.csv", "utf-8-sig", header_first="收款单号")
    limits = {r["客户编码"]: money(r["信用额度"]) for r in csv_rows(demo / "b2b" / "customers.csv", "utf-8-sig",
                                                                 header_first="客户编码")}
    invoiced, paid = defaultdict(Decimal), defaultdict(Decimal)
    for r in invoices:
        invoiced[r["客户编码"]] += money(r["价税合计"])
    for r in payments:
        paid[r["客户编码"]] += money(r["收款金额"])
    t = truth(demo, "customer_statement")
    # per customer, paid - invoiced is exactly the sum of the injected invoice-level differences
    diff_by_customer = defaultdict(Decimal)
    for row in t:
        if row["category"] != "credit_limit_breach":
            diff_by_customer[row["key2"]] += Decimal(row["amount_diff"])
    for code in limits:
        assert paid[code] - invoiced[code] == diff_by_customer[code], code
    # unpaid invoices: named in no payment memo, and their totals match
    totals = {r["发票号码"]: money(r["价税合计"]) for r in invoices}
    for row in t:
        if row["category"] == "missing_on_right":
            assert Decimal(row["amount_diff"]) == -totals[row["key"]]
            assert not any(row["key"] in p["备注"] for p in payments)
    # credit limit breaches: open balance above the limit, and only those customers
    breach = {(code, d(invoiced[code] - paid[code] - limits[code])) for code in limits
              if invoiced[code] - paid[code] > limits[code]}
    assert breach == {(r["key"], r["amount_diff"]) for r in t if r["category"] == "credit_limit_breach"}
    # instalments and multi-invoice payments are generated (and are not discrepancies)
    assert any("第1期" in p["备注"] for p in payments)
    assert any("、" in p["备注"] for p in payments)


def test_sales_cashier_truth_is_what_the_files_show(demo):
    receipts = {r["收据号"]: money(r["收款金额"]) for r in xlsx_rows(demo / "sales" / "salesperson_receipts.xlsx", "收款日期")}
    journal = {r["收据号"]: money(r["收入"]) for r in xlsx_rows(demo / "finance" / "cashier_journal.xlsx", "日期")
               if r["收据号"]}
    found = {("missing_on_right", k, d(-v)) for k, v in receipts.items() if k not in journal}
    found |= {("missing_on_left", k, d(v)) for k, v in journal.items() if k not in receipts}
    found |= {("amount_mismatch", k, d(journal[k] - v)) for k, v in receipts.items() if k in journal and journal[k] != v}
    assert found == {(c, k, a) for c, k, _, a in truth_set(demo, "cashier")}


def test_ledger_truth_is_what_the_files_show(demo):
    docs = {r["单据编号"]: r for r in csv_rows(demo / "erp" / "erp_documents.csv", "utf-8-sig", header_first="单据编号")}
    vouchers: dict[str, dict[str, list[Decimal]]] = defaultdict(lambda: defaultdict(lambda: [Decimal(0), Decimal(0)]))
    for r in xlsx_rows(demo / "finance" / "gl_export.xlsx", "日期"):
        v = vouchers[r["业务单据号"]][r["凭证字号"]]
        v[0] += money(r["借方金额"])
        v[1] += money(r["贷方金额"])
    found = set()
    for no, doc in docs.items():
        amount = money(doc["金额"])
        posted = vouchers.get(no, {})
        assert all(dr == cr for dr, cr in posted.values()), no  # every voucher balances
        if not posted:
            found.add(("missing_on_right", no, doc["单据类型"], d(-amount)))
            assert doc["凭证号"] == ""
        elif len(posted) > 1:
            found.add(("duplicate_on_right", no, doc["单据类型"], d(next(iter(posted.values()))[0])))
        elif next(iter(posted.values()))[0] != amount:
            found.add(("amount_mismatch", no, doc["单据类型"], d(next(iter(posted.values()))[0] - amount)))
    assert found == truth_set(demo, "ledger")


def test_returns_truth_is_what_the_files_show(demo):
    requests = csv_rows(demo / "platform" / "return_requests.csv", "utf-8-sig", header_first="售后单号")
    waybills = {r["运单号"]: r for r in csv_rows(demo / "courier" / "return_waybills.csv", "utf-8-sig", header_first="运单号")}
    receipts = {r["售后单号"]: r for r in xlsx_rows(demo / "wms" / "return_receipts.xlsx", "入库单号")}
    found = set()
    for r in requests:
        key, wb = r["售后单号"], r["退货运单号"]
        rc = receipts.get(key)
        if wb not in waybills:
            found.add(("missing_waybill", key, wb))
        elif rc is None and r["售后状态"] == "退款成功":
            found.add(("status_mismatch", key, wb))
        elif rc is None and waybills[wb]["运单状态"] == "已签收":
            found.add(("not_received", key, wb))
        elif rc is not None and int(rc["入库数量"]) != int(r["申请数量"]):
            found.add(("qty_mismatch", key, wb))
        elif rc is not None and rc["商品状况"] in ("破损", "缺件"):
            found.add(("damaged", key, wb))
    assert found == {(t["category"], t["key"], t["key2"]) for t in truth(demo, "returns")}
    for t in truth(demo, "returns"):
        if t["category"] == "qty_mismatch":
            req = next(r for r in requests if r["售后单号"] == t["key"])
            assert int(t["qty_diff"]) == int(receipts[t["key"]]["入库数量"]) - int(req["申请数量"])
