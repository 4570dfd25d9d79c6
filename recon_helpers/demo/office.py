"""Back office: salesperson receipts vs the cashier journal, ERP documents vs the general ledger.

* **cashier** - salespeople log what they collect (``sales/salesperson_receipts.xlsx``, one
  收据号 each); the cashier books it in 出纳日记账 (``finance/cashier_journal.xlsx``, with 收据号,
  plus expense rows without one) and banks the cash the next day (a 支出 row 现金存入银行 in the
  journal, a 现金存款 credit in the bank statement; the last day's cash stays in the till).
  Injected (key = 收据号): ``missing_on_right`` (never booked), ``missing_on_left`` (booked, no
  salesperson receipt), ``amount_mismatch`` (booked amount differs; amount_diff = journal - receipt).
  Every deposit reaches the bank at the amount banked.
* **ledger** - every audited ERP document (``erp/erp_documents.csv``) should be posted once as a
  balanced voucher in 序时账 (``finance/gl_export.xlsx``; each line carries 业务单据号). Voucher amount
  = the sum of its 借方 lines = the document's 金额 (价税合计). Injected (key = 单据编号, key2 = 单据类型):
  ``missing_on_right`` (not posted; 凭证号 empty), ``duplicate_on_right`` (posted twice),
  ``amount_mismatch`` (voucher amount differs; amount_diff = voucher - document).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from recon_helpers.demo import vocab
from recon_helpers.demo.model import DAY, HOUR, Month, increasing_ids, person_names
from recon_helpers.demo.truth import Truth, fen_str
from recon_helpers.demo.writers import fen_text, money_cell, time_text, write_csv, write_xlsx

RECEIPTS_HEADER = "收款日期,业务员,客户名称,收款金额,收款方式,收据号,备注".split(",")
JOURNAL_HEADER = "日期,凭证号,摘要,收入,支出,余额,对方单位,经手人,收据号".split(",")
DOCS_HEADER = "单据编号,单据类型,单据日期,往来单位,金额,税额,状态,凭证号".split(",")
GL_HEADER = "日期,凭证字号,摘要,科目编码,科目名称,借方金额,贷方金额,业务单据号".split(",")

EXPENSES = (("报销差旅费", 30_000, 300_000), ("购买办公用品", 5_000, 80_000), ("支付同城快递费", 2_000, 30_000),
            ("支付样品打包材料费", 10_000, 120_000), ("报销招待费", 20_000, 200_000), ("支付保洁费", 20_000, 60_000))


# ---------------------------------------------------------------------------------------------
# cashier
# ---------------------------------------------------------------------------------------------


def write_cashier(month: Month, truth: Truth) -> pd.DataFrame:
    """Write the receipt log and the cashier journal; return the bank credits of the cash deposits."""
    rng = month.rng("sales-cashier")
    n = max(40, month.orders // 40)
    day = np.sort(rng.integers(0, month.days - 2, n))
    retail = rng.random(n) < 0.4
    b2b = np.array(vocab.B2B_CUSTOMERS, dtype=object)[rng.integers(0, len(vocab.B2B_CUSTOMERS), n)]
    person = pd.Series(person_names(rng, n), dtype=object)
    customer = np.where(retail, "个人客户-" + person.str[:1] + np.where(rng.random(n) < 0.5, "先生", "女士"), b2b)
    receipts = pd.DataFrame({
        "day": day, "sales": np.array(vocab.SALESPEOPLE, dtype=object)[rng.integers(0, len(vocab.SALESPEOPLE), n)],
        "customer": customer, "amount": rng.integers(200, 20_000, n) * 100 + np.where(rng.random(n) < 0.3, 50, 0),
        "method": np.array(["现金", "微信", "支付宝", "银行转账"], dtype=object)[rng.choice(4, n, p=[0.4, 0.3, 0.2, 0.1])],
        "no": ["SJ" + str(x) for x in increasing_ids(rng, n, 2_610_000, 1, 30)],
        "memo": np.array(["样品款", "展会零售", "定金", "尾款", "门店零售", ""], dtype=object)[rng.integers(0, 6, n)],
    })
    k = month.count(n, 0.03)
    picks = rng.choice(n, size=2 * k, replace=False)
    missing, wrong = set(picks[:k].tolist()), set(picks[k:].tolist())

    journal = []
    for i, r in receipts.iterrows():
        if i in missing:
            truth.add("cashier", "missing_on_right", r["no"], r["sales"], amount_diff_fen=-int(r["amount"]),
                      detail=f"{r['sales']}收款{fen_str(int(r['amount']))}元（{r['method']}）未交出纳入账")
            continue
        amount = int(r["amount"])
        if i in wrong:
            delta = int(rng.choice([-1, 1])) * int(rng.integers(1, 50)) * 1000
            delta = max(delta, 100 - amount)
            truth.add("cashier", "amount_mismatch", r["no"], r["sales"], amount_diff_fen=delta,
                      detail=f"收据{fen_str(amount)}元，日记账记{fen_str(amount + delta)}元")
            amount += delta
        journal.append({"day": min(int(r["day"]) + int(rng.integers(0, 3)), month.days - 1), "memo": f"收{r['customer']}款（{r['method']}）",
                        "in": amount, "out": 0, "party": r["customer"], "who": r["sales"], "no": r["no"]})
    extra_nos = ["SJ" + str(x) for x in increasing_ids(rng, k, 2_690_000, 1, 30)]
    for no in extra_nos:
        amount = int(rng.integers(300, 8_000)) * 100
        sales = vocab.SALESPEOPLE[int(rng.integers(0, len(vocab.SALESPEOPLE)))]
        party = vocab.B2B_CUSTOMERS[int(rng.integers(0, len(vocab.B2B_CUSTOMERS)))]
        journal.append({"day": int(rng.integers(0, month.days)), "memo": f"收{party}款（现金）", "in": amount, "out": 0,
                        "party": party, "who": sales, "no": no})
        truth.add("cashier", "missing_on_left", no, sales, amount_diff_fen=amount,
                  detail=f"出纳收款{fen_str(amount)}元，业务员无对应收据")
    for _ in range(max(15, n // 3)):
        memo, lo, hi = EXPENSES[int(rng.integers(0, len(EXPENSES)))]
        journal.append({"day": int(rng.integers(0, month.days)), "memo": memo, "in": 0,
                        "out": int(rng.integers(lo // 100, hi // 100)) * 100, "party": "", "no": "",
                        "who": person_names(rng, 1)[0]})
    deposits = _cash_deposits(month, journal)
    _write_receipts(month, receipts)
    _write_journal(month, pd.DataFrame(journal + deposits))
    return pd.DataFrame({"t": [d["day"] * DAY + 11 * HOUR + 15 * 60 for d in deposits], "type": "现金存入", "debit": 0,
                         "credit": [d["out"] for d in deposits], "memo": "现金存款",
                         "party": vocab.SHOP_COMPANY, "account": vocab.SHOP_BANK_ACCOUNT},
                        columns=["t", "type", "debit", "credit", "memo", "party", "account"])


def _cash_deposits(month: Month, journal: list[dict]) -> list[dict]:
    """The cashier banks each day's cash receipts the next day (the last day's cash stays in the till)."""
    cash: dict[int, int] = {}
    for row in journal:
        if row["in"] > 0 and row["memo"].endswith("（现金）"):
            cash[row["day"]] = cash.get(row["day"], 0) + row["in"]
    return [{"day": day + 1, "memo": "现金存入银行", "in": 0, "out": amount, "party": "招商银行杭州滨江支行",
             "who": vocab.CASHIER, "no": ""} for day, amount in sorted(cash.items()) if day + 1 < month.days]


def _write_receipts(month: Month, r: pd.DataFrame) -> None:
    body = pd.DataFrame({"收款日期": time_text(month.start, r["day"] * DAY, "%Y-%m-%d"), "业务员": r["sales"],
                         "客户名称": r["customer"], "收款金额": fen_text(r["amount"]), "收款方式": r["method"],
                         "收据号": r["no"], "备注": r["memo"]})
    write_xlsx(month.path("sales/salesperson_receipts.xlsx"), RECEIPTS_HEADER, body, when=month.export_time,
               sheet_name="收款登记", numeric={"收款金额": "money"})


def _write_journal(month: Month, j: pd.DataFrame) -> None:
    j = j.sort_values(["day", "in", "out", "no"], ascending=[True, False, True, True], kind="stable").reset_index(drop=True)
    opening = 3_865_420
    balance = opening + np.cumsum(j["in"].to_numpy() - j["out"].to_numpy())
    voucher = ["记-" + str(i + 1).zfill(4) for i in range(len(j))]
    inn, out = j["in"].to_numpy(), j["out"].to_numpy()
    body = pd.DataFrame({
        "日期": time_text(month.start, j["day"] * DAY, "%Y-%m-%d"), "凭证号": voucher, "摘要": j["memo"],
        "收入": fen_text(inn).where(inn > 0, ""), "支出": fen_text(out).where(out > 0, ""), "余额": fen_text(balance),
        "对方单位": j["party"], "经手人": j["who"], "收据号": j["no"],
    })
    p = month.period
    top = [[f"出纳日记账 {p.year}年{p.month:02d}月"]]
    carried = dict(zip(JOURNAL_HEADER, [p.first_day.strftime("%Y-%m-%d"), "", "上月结转", "", "", fen_str(opening), "", "", ""]))
    body = pd.concat([pd.DataFrame([carried]), body], ignore_index=True)
    total = [p.last_day.strftime("%Y-%m-%d"), None, "本月合计", money_cell(fen_str(int(inn.sum()))),
             money_cell(fen_str(int(out.sum()))), money_cell(fen_str(int(balance[-1]) if len(balance) else opening))]
    write_xlsx(month.path("finance/cashier_journal.xlsx"), JOURNAL_HEADER, body, when=month.export_time,
               sheet_name="日记账", numeric={"收入": "money", "支出": "money", "余额": "money"}, top=top, bottom=[total])


# ---------------------------------------------------------------------------------------------
# ledger
# ---------------------------------------------------------------------------------------------

#: type -> (prefix, share, party kind, taxed, posting lines as (code, name, side, part))
DOC_TYPES = {
    "销售出库单": ("XSCK", 0.35, "customer", True,
               [("1122", "应收账款", "D", "gross"), ("6001", "主营业务收入", "C", "net"),
                ("22210106", "应交税费-应交增值税(销项税额)", "C", "tax")]),
    "采购入库单": ("CGRK", 0.2, "supplier", True,
               [("1405", "库存商品", "D", "net"), ("22210101", "应交税费-应交增值税(进项税额)", "D", "tax"),
                ("2202", "应付账款", "C", "gross")]),
    "收款单": ("SKD", 0.2, "customer", False, [("1002", "银行存款", "D", "gross"), ("1122", "应收账款", "C", "gross")]),
    "付款单": ("FKD", 0.15, "supplier", False, [("2202", "应付账款", "D", "gross"), ("1002", "银行存款", "C", "gross")]),
    "费用报销单": ("FYBX", 0.1, "employee", False, [("6601", "销售费用", "D", "gross"), ("1001", "库存现金", "C", "gross")]),
}


def write_ledger(month: Month, truth: Truth) -> None:
    rng = month.rng("ledger")
    n = max(80, month.orders // 20)
    types = list(DOC_TYPES)
    kind = np.array(types, dtype=object)[rng.choice(len(types), n, p=[DOC_TYPES[t][1] for t in types])]
    day = np.sort(rng.integers(0, month.days, n))
    gross = np.where(kind == "费用报销单", rng.integers(100, 5_000, n), rng.integers(2_000, 200_000, n)) * 100 \
        + rng.integers(0, 100, n)
    taxed = np.array([DOC_TYPES[t][3] for t in kind])
    tax = np.where(taxed, (2 * gross * 13 + 113) // 226, 0)
    party = []
    for t in kind:
        pk = DOC_TYPES[t][2]
        pool = vocab.B2B_CUSTOMERS if pk == "customer" else vocab.SUPPLIERS if pk == "supplier" else vocab.SALESPEOPLE
        party.append(pool[int(rng.integers(0, len(pool)))])
    counters: dict[str, int] = {}
    doc_no = []
    for t, d in zip(kind, day):
        counters[t] = counters.get(t, 0) + 1
        doc_no.append(f"{DOC_TYPES[t][0]}{month.date_text(int(d) * DAY, '%Y%m%d')}{counters[t]:04d}")
    docs = pd.DataFrame({"no": doc_no, "type": kind, "day": day, "party": party, "gross": gross, "tax": tax})

    k = month.count(n, 0.03)
    picks = rng.choice(n, size=3 * k, replace=False)
    unposted, twice, wrong = (set(picks[i * k:(i + 1) * k].tolist()) for i in range(3))
    vouchers = []  # (day, doc index, gross used)
    for i, r in docs.iterrows():
        if i in unposted:
            truth.add("ledger", "missing_on_right", r["no"], r["type"], amount_diff_fen=-int(r["gross"]),
                      detail=f"{r['type']}已审核未生成凭证（{fen_str(int(r['gross']))}元）")
            continue
        amount = int(r["gross"])
        if i in wrong:
            delta = int(rng.choice([-1, 1])) * int(rng.integers(1, 1000)) * 100
            delta = max(delta, int(r["tax"]) + 100 - amount)
            truth.add("ledger", "amount_mismatch", r["no"], r["type"], amount_diff_fen=delta,
                      detail=f"凭证金额{fen_str(amount + delta)}元，单据金额{fen_str(amount)}元")
            amount += delta
        vouchers.append((int(r["day"]), i, amount))
        if i in twice:
            later = min(int(r["day"]) + int(rng.integers(1, 6)), month.days - 1)
            vouchers.append((later, i, amount))
            truth.add("ledger", "duplicate_on_right", r["no"], r["type"], amount_diff_fen=amount,
                      detail=f"同一单据重复生成凭证（{fen_str(amount)}元）")
    vouchers.sort(key=lambda v: (v[0], v[1]))
    first_voucher: dict[int, str] = {}
    lines = []
    for seq, (d, i, amount) in enumerate(vouchers, start=1):
        vno = f"记-{seq:04d}"
        first_voucher.setdefault(i, vno)
        r = docs.loc[i]
        parts = {"gross": amount, "tax": int(r["tax"]), "net": amount - int(r["tax"])}
        for code, name, side, part in DOC_TYPES[r["type"]][4]:
            value = parts[part]
            lines.append({"day": d, "voucher": vno, "memo": f"{r['type']} {r['party']}", "code": code, "name": name,
                          "debit": value if side == "D" else 0, "credit": value if side == "C" else 0, "doc": r["no"]})
    docs["voucher"] = [first_voucher.get(i, "") for i in range(n)]
    _write_docs(month, docs)
    _write_gl(month, pd.DataFrame(lines))


def _write_docs(month: Month, docs: pd.DataFrame) -> None:
    body = pd.DataFrame({"单据编号": docs["no"], "单据类型": docs["type"],
                         "单据日期": time_text(month.start, docs["day"] * DAY, "%Y-%m-%d"), "往来单位": docs["party"],
                         "金额": fen_text(docs["gross"]), "税额": fen_text(docs["tax"]), "状态": "已审核",
                         "凭证号": docs["voucher"]})
    write_csv(month.path("erp/erp_documents.csv"), DOCS_HEADER, body, encoding="utf-8-sig")


def _write_gl(month: Month, gl: pd.DataFrame) -> None:
    debit, credit = gl["debit"].to_numpy(), gl["credit"].to_numpy()
    body = pd.DataFrame({
        "日期": time_text(month.start, gl["day"] * DAY, "%Y-%m-%d"), "凭证字号": gl["voucher"], "摘要": gl["memo"],
        "科目编码": gl["code"], "科目名称": gl["name"], "借方金额": fen_text(debit).where(debit != 0, ""),
        "贷方金额": fen_text(credit).where(credit != 0, ""), "业务单据号": gl["doc"],
    })
    p = month.period
    write_xlsx(month.path("finance/gl_export.xlsx"), GL_HEADER, body, when=month.export_time, sheet_name="序时账",
               numeric={"借方金额": "money", "贷方金额": "money"}, top=[["序时账"], [f"期间：{p.year}年{p.month:02d}月"]])
