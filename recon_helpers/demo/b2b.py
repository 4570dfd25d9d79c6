"""B2B sales on credit: customers, invoices, deliveries and customer payments (customer_statement).

About 20 business customers (hotels, B&Bs, shops) buy on credit. Payments are messy the way real
ones are, and none of this is a discrepancy: one payment may settle several invoices of a customer
(备注 sometimes lists them), an invoice may be paid in two instalments, a payment may come from a
person instead of the company. Every payment is one bank credit named by 对方户名 (a few with no
reference at all in 摘要).

Injected (truth ``customer_statement``; key = 发票号码, key2 = 客户编码; amount_diff = paid - invoiced):
``missing_on_right`` (unpaid invoice), ``amount_mismatch`` (short payment), ``overpayment``; and
``credit_limit_breach`` (key = 客户编码): the customer's open balance, i.e. this month's invoices
minus this month's payments (the demo has no opening balances), is above 信用额度;
amount_diff = open balance - limit. Every other customer's open balance is within its limit.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from recon_helpers.demo import vocab
from recon_helpers.demo.model import DAY, HOUR, Month, increasing_ids, person_names
from recon_helpers.demo.truth import Truth, fen_str
from recon_helpers.demo.writers import fen_text, int_text, time_text, write_csv, write_xlsx

CUSTOMERS_HEADER = "客户编码,客户名称,信用额度,账期(天),业务员".split(",")
INVOICES_HEADER = "发票号码,开票日期,客户编码,客户名称,价税合计,税额,到期日,业务员,订单号".split(",")
DELIVERIES_HEADER = "送货单号,送货日期,客户编码,客户名称,SKU,数量,金额,发票号码,签收状态".split(",")
PAYMENTS_HEADER = "收款单号,收款日期,客户编码,付款户名,收款金额,收款方式,备注".split(",")

N_CUSTOMERS = 20


def write_b2b(month: Month, truth: Truth) -> pd.DataFrame:
    """Write the four B2B files and their truth; return the bank credits the payments produce."""
    rng = month.rng("b2b")
    customers = _customers(rng)
    invoices = _invoices(month, rng, customers)
    payments = _payments(month, rng, customers, invoices, truth)
    _limits(month, customers, invoices, payments, truth)
    _write_customers(month, customers)
    _write_invoices(month, invoices)
    _write_deliveries(month, rng, invoices)
    _write_payments(month, payments)
    return _bank_credits(rng, payments)


def _customers(rng: np.random.Generator) -> pd.DataFrame:
    names = list(vocab.B2B_CUSTOMERS[:N_CUSTOMERS])
    return pd.DataFrame({
        "code": [f"KH{i + 1:04d}" for i in range(N_CUSTOMERS)],
        "name": names,
        "terms": np.array([30, 45, 60], dtype=np.int64)[rng.integers(0, 3, N_CUSTOMERS)],
        "sales": [vocab.SALESPEOPLE[i % len(vocab.SALESPEOPLE)] for i in range(N_CUSTOMERS)],
        "weight": rng.uniform(0.3, 2.0, N_CUSTOMERS),
    })


def _invoices(month: Month, rng: np.random.Generator, customers: pd.DataFrame) -> pd.DataFrame:
    n = max(60, month.orders // 25)
    w = customers["weight"].to_numpy()
    cust = rng.choice(N_CUSTOMERS, size=n, p=w / w.sum())
    day = np.sort(rng.integers(0, month.days - 6, n))
    total = rng.integers(20_000, 600_000, n) * 10
    nums = increasing_ids(rng, n, 0, 1, 40)
    yy = month.period.year % 100
    inv = pd.DataFrame({
        "invoice_no": [f"{yy:02d}3320{month.period.month:02d}{x:012d}" for x in nums],  # numbered per month
        "day": day, "cust": cust, "code": customers["code"].to_numpy()[cust], "name": customers["name"].to_numpy()[cust],
        "total": total, "tax": (2 * total * 13 + 113) // 226,
        "due_day": day + customers["terms"].to_numpy()[cust], "sales": customers["sales"].to_numpy()[cust],
    })
    inv["order_no"] = [f"XS{month.date_text(d * DAY, '%y%m%d')}{i + 1:04d}" for i, d in enumerate(day)]
    return inv


def _payments(month: Month, rng: np.random.Generator, customers: pd.DataFrame, inv: pd.DataFrame,
              truth: Truth) -> pd.DataFrame:
    """Allocate payments to invoices; inject unpaid, short-paid and over-paid invoices."""
    n = len(inv)
    k = month.count(n, 0.03)
    n_breach = 3
    order = rng.permutation(n)
    # the first unpaid invoices belong to distinct customers: they become the limit breaches
    firsts: list[int] = []
    seen: set[int] = set()
    for i in order:
        c = int(inv.at[i, "cust"])
        if c not in seen:
            firsts.append(int(i))
            seen.add(c)
        if len(firsts) == n_breach:
            break
    rest = [int(i) for i in order if int(i) not in set(firsts)]
    unpaid = firsts + rest[:max(0, k - n_breach)]
    rest = rest[max(0, k - n_breach):]
    short, over = rest[:k], rest[k:2 * k]
    normal = sorted(rest[2 * k:])
    inv["breach"] = False
    inv.loc[firsts, "breach"] = True
    last = month.days - 1
    pays: list[dict] = []

    def pay(day: int, cust: int, amount: int, invoices: list[str], memo: str) -> None:
        pays.append({"day": min(int(day), last), "cust": cust, "amount": int(amount), "invoices": invoices, "memo": memo})

    for i in unpaid:
        r = inv.loc[i]
        truth.add("customer_statement", "missing_on_right", r["invoice_no"], r["code"], amount_diff_fen=-int(r["total"]),
                  detail=f"{r['name']}发票{fen_str(int(r['total']))}元本月未收到回款")
    for i in short:
        r = inv.loc[i]
        delta = -int(rng.integers(5, 200)) * 1000
        pay(r["day"] + rng.integers(3, 12), int(r["cust"]), int(r["total"]) + delta, [r["invoice_no"]], f"付{r['invoice_no']}")
        truth.add("customer_statement", "amount_mismatch", r["invoice_no"], r["code"], amount_diff_fen=delta,
                  detail=f"{r['name']}少付{fen_str(-delta)}元（发票{fen_str(int(r['total']))}元）")
    for i in over:
        r = inv.loc[i]
        delta = int(rng.integers(1, 50)) * 1000
        pay(r["day"] + rng.integers(3, 12), int(r["cust"]), int(r["total"]) + delta, [r["invoice_no"]], "货款")
        truth.add("customer_statement", "overpayment", r["invoice_no"], r["code"], amount_diff_fen=delta,
                  detail=f"{r['name']}多付{fen_str(delta)}元（发票{fen_str(int(r['total']))}元）")

    by_cust: dict[int, list[int]] = {}
    for i in normal:
        by_cust.setdefault(int(inv.at[i, "cust"]), []).append(i)
    for cust in sorted(by_cust):
        queue = by_cust[cust]
        while queue:
            u = rng.random()
            if u < 0.2 and len(queue) >= 2:
                take = queue[:int(rng.integers(2, min(3, len(queue)) + 1))]
                queue = queue[len(take):]
                nos = [inv.at[i, "invoice_no"] for i in take]
                total = int(inv.loc[take, "total"].sum())
                memo = "付发票" + "、".join(nos) if rng.random() < 0.5 else "货款"
                pay(max(inv.at[i, "day"] for i in take) + rng.integers(1, 8), cust, total, nos, memo)
            elif u < 0.4:
                i = queue.pop(0)
                total = int(inv.at[i, "total"])
                first = (total * int(rng.integers(30, 70)) // 100) // 10_000 * 10_000 or total // 2
                no = inv.at[i, "invoice_no"]
                d1 = int(inv.at[i, "day"]) + int(rng.integers(1, 4))
                pay(d1, cust, first, [no], f"{no}第1期")
                pay(min(d1 + int(rng.integers(1, 6)), last), cust, total - first, [no], f"{no}尾款" if rng.random() < 0.5 else "货款")
            else:
                i = queue.pop(0)
                no = inv.at[i, "invoice_no"]
                pay(int(inv.at[i, "day"]) + rng.integers(1, 10), cust, int(inv.at[i, "total"]), [no],
                    f"付{no}" if rng.random() < 0.5 else "货款")
    p = pd.DataFrame(pays).sort_values(["day", "cust", "amount"], kind="stable").reset_index(drop=True)
    p["code"] = customers["code"].to_numpy()[p["cust"]]
    p["name"] = customers["name"].to_numpy()[p["cust"]]
    someone = rng.random(len(p)) < 0.1
    p["payer"] = np.where(someone, person_names(rng, len(p)), p["name"].to_numpy())
    p["no"] = [f"SK{month.date_text(d * DAY, '%y%m%d')}{i + 1:04d}" for i, d in enumerate(p["day"])]
    p["t"] = p["day"].to_numpy() * DAY + rng.integers(9 * HOUR, 17 * HOUR, len(p))
    return p


def _limits(month: Month, customers: pd.DataFrame, inv: pd.DataFrame, pays: pd.DataFrame, truth: Truth) -> None:
    """Credit limits: below the open balance for the breach customers, comfortably above for the rest."""
    invoiced = inv.groupby("cust")["total"].sum().reindex(range(N_CUSTOMERS), fill_value=0)
    paid = pays.groupby("cust")["amount"].sum().reindex(range(N_CUSTOMERS), fill_value=0)
    open_ = (invoiced - paid).to_numpy()
    breach = set(int(c) for c in inv.loc[inv["breach"], "cust"])
    limits = np.zeros(N_CUSTOMERS, dtype=np.int64)
    for c in range(N_CUSTOMERS):
        if c in breach:
            limits[c] = int(open_[c] * 7 // 10) // 100_000 * 100_000
            truth.add("customer_statement", "credit_limit_breach", customers.at[c, "code"], "",
                      amount_diff_fen=int(open_[c] - limits[c]),
                      detail=f"{customers.at[c, 'name']}未收余额{fen_str(int(open_[c]))}元，超过信用额度{fen_str(int(limits[c]))}元")
        else:
            limits[c] = -(-(max(int(open_[c]), 0) + int(invoiced[c]) // 2 + 1) // 5_000_000) * 5_000_000
    customers["limit"] = limits


def _write_customers(month: Month, customers: pd.DataFrame) -> None:
    body = pd.DataFrame({"客户编码": customers["code"], "客户名称": customers["name"],
                         "信用额度": fen_text(customers["limit"]), "账期(天)": int_text(customers["terms"]),
                         "业务员": customers["sales"]})
    write_csv(month.path("b2b/customers.csv"), CUSTOMERS_HEADER, body, encoding="utf-8-sig")


def _write_invoices(month: Month, inv: pd.DataFrame) -> None:
    body = pd.DataFrame({
        "发票号码": inv["invoice_no"], "开票日期": time_text(month.start, inv["day"] * DAY, "%Y-%m-%d"),
        "客户编码": inv["code"], "客户名称": inv["name"], "价税合计": fen_text(inv["total"]), "税额": fen_text(inv["tax"]),
        "到期日": time_text(month.start, inv["due_day"] * DAY, "%Y-%m-%d"), "业务员": inv["sales"],
        "订单号": inv["order_no"],
    })
    write_xlsx(month.path("b2b/invoices.xlsx"), INVOICES_HEADER, body, when=month.export_time, sheet_name="销项发票",
               numeric={"价税合计": "money", "税额": "money"})


def _write_deliveries(month: Month, rng: np.random.Generator, inv: pd.DataFrame) -> None:
    """1-3 delivery lines per invoice whose 金额 add up to the invoice total."""
    rows = []
    seq = 0
    for _, r in inv.iterrows():
        m = int(rng.integers(1, 4))
        shares = rng.integers(1, 10, m)
        parts = (int(r["total"]) * shares // shares.sum()).astype(np.int64)
        parts[-1] = int(r["total"]) - int(parts[:-1].sum())
        day = max(0, int(r["day"]) - int(rng.integers(0, 4)))
        for part in parts:
            seq += 1
            sku = int(rng.integers(0, len(vocab.PRODUCTS)))
            unit = vocab.PRODUCTS[sku][3] * 7 // 10
            rows.append({"no": f"DN{month.date_text(day * DAY, '%y%m%d')}{seq:05d}", "day": day, "code": r["code"],
                         "name": r["name"], "sku": vocab.product_column([sku], 0)[0], "qty": max(1, int(part) // max(unit, 1)),
                         "amount": int(part), "invoice_no": r["invoice_no"]})
    d = pd.DataFrame(rows)
    body = pd.DataFrame({
        "送货单号": d["no"], "送货日期": time_text(month.start, d["day"] * DAY, "%Y-%m-%d"), "客户编码": d["code"],
        "客户名称": d["name"], "SKU": d["sku"], "数量": int_text(d["qty"]), "金额": fen_text(d["amount"]),
        "发票号码": d["invoice_no"], "签收状态": "已签收",
    })
    write_xlsx(month.path("b2b/deliveries.xlsx"), DELIVERIES_HEADER, body, when=month.export_time, sheet_name="送货单",
               numeric={"数量": "int", "金额": "money"})


def _write_payments(month: Month, p: pd.DataFrame) -> None:
    body = pd.DataFrame({
        "收款单号": p["no"], "收款日期": time_text(month.start, p["day"] * DAY, "%Y-%m-%d"), "客户编码": p["code"],
        "付款户名": p["payer"], "收款金额": fen_text(p["amount"]), "收款方式": "银行转账", "备注": p["memo"],
    })
    write_csv(month.path("b2b/customer_payments.csv"), PAYMENTS_HEADER, body, encoding="utf-8-sig")


def _bank_credits(rng: np.random.Generator, p: pd.DataFrame) -> pd.DataFrame:
    """Each payment as a bank credit: 对方户名 = payer; 摘要 quotes the memo, or nothing useful (keyless)."""
    keyless = rng.random(len(p)) < 0.15
    memo = np.where(keyless, "转账", np.where(p["memo"].str.startswith("货款"), "货款", p["memo"]))
    return pd.DataFrame({
        "t": p["t"].to_numpy(), "type": "汇入汇款", "debit": 0, "credit": p["amount"].to_numpy(), "memo": memo,
        "party": p["payer"].to_numpy(),
        "account": (6222_0000_0000 + p["cust"].to_numpy() * 104_729).astype(str),
    })
