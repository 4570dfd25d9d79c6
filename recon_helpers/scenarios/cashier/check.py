"""The cashier check: the match, and the lists behind a salesperson's month."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from recon_helpers.canonical import money
from recon_helpers.engine import match
from recon_helpers.engine.result import MatchResult
from recon_helpers.periods import Period
from recon_helpers.scenarios.base import Check, hop_exceptions, in_scope_match_rate, total
from recon_helpers.scenarios.registry import scenario
from recon_helpers.sources.loading import load

NAME = "cashier"
ZERO = Decimal("0.00")

#: how a payment was made, as receipts and journal memos write it ("收X款（现金）"), and its kind
METHODS = {"现金": "cash", "微信": "transfer", "支付宝": "transfer", "银行转账": "transfer", "转账": "transfer",
           "刷卡": "transfer", "POS": "transfer"}
_MEMO_METHOD = re.compile("[（(](" + "|".join(map(re.escape, METHODS)) + ")[）)]")


def method_of(text: Any) -> str | None:
    """The payment method a text names: ``现金`` in a receipt's 收款方式, ``收…款（微信）`` in a journal memo."""
    if text is None or text is pd.NA or (isinstance(text, float) and text != text):
        return None
    value = str(text).strip()
    if value in METHODS:
        return value
    found = _MEMO_METHOD.search(value)
    return found.group(1) if found else None


def check(*, period: str, data_dir: str | Path, late_days: int = 3) -> CashierCheck:
    """Load the receipt log and the cashier journal of the month and match them."""
    if int(late_days) < 0:
        from recon_helpers.errors import UsageError

        raise UsageError(f"late_days={late_days}: give the days a salesperson has to hand money in (0 or more)")
    entry = scenario(NAME)
    inputs = {name: load(entry.input_path(name, data_dir)) for name in entry.inputs}
    result = match(inputs["receipts"].table, inputs["journal"].table, entry.recipes[0])
    deposits = match(inputs["journal"].table, inputs["bank"].table, entry.recipes[1])
    return CashierCheck(scenario=entry, period=Period.parse(period), data_dir=Path(data_dir), result=result, inputs=inputs,
                        late_days=int(late_days), deposits_result=deposits)


@dataclass
class CashierCheck(Check):
    """One month of receipts against the journal (see :mod:`recon_helpers.scenarios.cashier`)."""

    late_days: int = 3
    deposits_result: MatchResult | None = None

    @property
    def receipts(self) -> pd.DataFrame:
        return self.inputs["receipts"].table

    @property
    def journal(self) -> pd.DataFrame:
        return self.inputs["journal"].table

    @property
    def bank(self) -> pd.DataFrame:
        return self.inputs["bank"].table

    def hops(self) -> dict[str, MatchResult]:
        """``receipts_journal`` (what was collected against what was booked) and ``deposits_bank`` (the
        cash the cashier banked against the bank's cash-deposit credits)."""
        return {"receipts_journal": self.result, "deposits_bank": self.deposits_result}

    @property
    def auto_match_rate(self) -> str:
        """Rows in scope matched automatically, over both hops (out-of-scope rows left out)."""
        return in_scope_match_rate(list(self.hops().values()))

    @property
    def exception_table(self) -> pd.DataFrame:
        return hop_exceptions(self.hops())

    def _receipt_exceptions(self, category: str, side: str | None = None) -> pd.DataFrame:
        exc = self.exceptions(category, side)
        return exc[(exc["hop"] == "receipts_journal").to_numpy(dtype=bool)]

    def pairs(self) -> pd.DataFrame:
        """Every receipt paired with its journal line (linked, or paired with a different amount)."""
        links = self.result.links[["group_id", "side", "source_row"]]
        exc = self._receipt_exceptions("amount_mismatch")[["group_id", "side", "source_row"]]
        rows = pd.concat([links, exc], ignore_index=True)
        left = rows[rows["side"] == "left"].merge(self.receipts, on="source_row")
        right = rows[rows["side"] == "right"].merge(self.journal, on="source_row")
        cols_left = ["group_id", "doc_no", "salesperson", "counterparty", "txn_time", "amount", "channel", "source_row"]
        cols_right = ["group_id", "txn_id", "txn_time", "amount", "memo", "source_row"]
        out = left[cols_left].merge(right[cols_right], on="group_id", suffixes=("_receipt", "_journal"))
        return out.rename(columns={"channel": "method_receipt", "txn_id": "voucher"})

    # -- the lists ------------------------------------------------------------------------------
    def _rows(self, category: str, side: str, table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
        wanted = self._receipt_exceptions(category, side)["source_row"]
        rows = table[table["source_row"].isin(list(wanted)).fillna(False).to_numpy(dtype=bool)]
        return self.relative_files(rows[columns].reset_index(drop=True))

    def never_handed_in(self) -> pd.DataFrame:
        """Receipts the cashier never booked: ask the salesperson for the money."""
        return self._rows("missing_on_right", "left", self.receipts,
                          ["doc_no", "salesperson", "counterparty", "txn_time", "amount", "channel", "source_file", "source_row"])

    def booked_without_receipt(self) -> pd.DataFrame:
        """Journal receipts no salesperson logged: find the receipt (or the reason)."""
        return self._rows("missing_on_left", "right", self.journal,
                          ["doc_no", "txn_id", "salesperson", "counterparty", "txn_time", "amount", "memo", "source_file",
                           "source_row"])

    def amount_differences(self) -> pd.DataFrame:
        """Receipts booked at another amount: difference = booked - receipt."""
        pairs = self.pairs()
        pairs = pairs[(pairs["amount_receipt"] != pairs["amount_journal"]).fillna(False).to_numpy(dtype=bool)].copy()
        pairs["difference"] = money([j - r for j, r in zip(pairs["amount_journal"], pairs["amount_receipt"])]).array
        return pairs[["doc_no", "salesperson", "amount_receipt", "amount_journal", "difference", "voucher",
                      "source_row_receipt", "source_row_journal"]].sort_values("doc_no").reset_index(drop=True)

    def method_differences(self) -> pd.DataFrame:
        """Receipts collected one way and booked another: cash booked as a transfer (the cash is not in
        the till) or a transfer booked as cash."""
        pairs = self.pairs().copy()
        pairs["method_journal"] = [method_of(m) for m in pairs["memo"]]
        pairs["method_receipt"] = [method_of(m) for m in pairs["method_receipt"]]
        kind_r = pairs["method_receipt"].map(METHODS)
        kind_j = pairs["method_journal"].map(METHODS)
        off = (kind_r.notna() & kind_j.notna() & (kind_r != kind_j)).to_numpy(dtype=bool)
        out = pairs[off].copy()
        out["problem"] = ["cash booked as transfer 现金记为转账" if m == "cash" else "transfer booked as cash 转账记为现金"
                          for m in kind_r[off]]
        return out[["doc_no", "salesperson", "method_receipt", "method_journal", "problem", "amount_receipt", "voucher",
                    "source_row_receipt", "source_row_journal"]].reset_index(drop=True)

    def late_deposits(self) -> pd.DataFrame:
        """Receipts handed in more than ``late_days`` days after they were collected."""
        pairs = self.pairs().copy()
        pairs["days"] = [(pd.Timestamp(j).normalize() - pd.Timestamp(r).normalize()).days
                         for r, j in zip(pairs["txn_time_receipt"], pairs["txn_time_journal"])]
        late = pairs[pairs["days"] > self.late_days]
        return late[["doc_no", "salesperson", "txn_time_receipt", "txn_time_journal", "days", "amount_receipt", "voucher",
                     "source_row_receipt", "source_row_journal"]].sort_values(["days", "doc_no"], ascending=[False, True]).reset_index(drop=True)

    # -- the cash at the bank -------------------------------------------------------------------
    def _deposit_rows(self, category: str, side: str, table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
        exc = self.deposits_result.exceptions
        rows = exc[((exc["category"] == category) & (exc["side"] == side)).fillna(False).to_numpy(dtype=bool)]
        found = table[table["source_row"].isin(list(rows["source_row"])).fillna(False).to_numpy(dtype=bool)]
        return self.relative_files(found[columns].reset_index(drop=True))

    def deposits_not_banked(self) -> pd.DataFrame:
        """Cash the journal says was banked that no bank credit shows (amount negative: out of the till)."""
        return self._deposit_rows("missing_on_right", "left", self.journal,
                                  ["txn_id", "txn_time", "memo", "amount", "salesperson", "source_file", "source_row"])

    def cash_credits_without_deposit(self) -> pd.DataFrame:
        """Cash-deposit credits at the bank the journal never booked."""
        return self._deposit_rows("missing_on_left", "right", self.bank,
                                  ["txn_id", "txn_time", "txn_type", "memo", "amount", "counterparty", "source_file", "source_row"])

    def deposit_differences(self) -> pd.DataFrame:
        """Deposits the bank credited at another amount: difference = credited - banked."""
        exc = self.deposits_result.exceptions
        rows = exc[(exc["category"] == "amount_mismatch").fillna(False).to_numpy(dtype=bool)]
        out = []
        for _, part in rows.groupby("group_id", sort=True):
            left, right = part[part["side"] == "left"], part[part["side"] == "right"]
            banked, credited = -total(left["amount"]), total(right["amount"])
            out.append([left["key"].iloc[0], right["key"].iloc[0], banked, credited, credited - banked])
        frame = pd.DataFrame(out, columns=["voucher", "bank_txn", "banked", "credited", "difference"])
        for column in ("banked", "credited", "difference"):
            frame[column] = money(frame[column].tolist()).array
        return frame

    def cash_position(self) -> pd.DataFrame:
        """The till over the month: cash receipts booked, cash banked, credited at the bank, and what is
        left in the till (booked - banked) at the end of the period."""
        booked = self.journal[[method_of(m) == "现金" and a > 0 for m, a in zip(self.journal["memo"], self.journal["amount"])]]
        exc = self.deposits_result.exceptions
        scoped_left = pd.concat([self.deposits_result.links[self.deposits_result.links["side"] == "left"][["amount"]],
                                 exc[((exc["side"] == "left") & (exc["category"] != "out_of_scope")).fillna(False).to_numpy(dtype=bool)][["amount"]]])
        scoped_right = pd.concat([self.deposits_result.links[self.deposits_result.links["side"] == "right"][["amount"]],
                                  exc[((exc["side"] == "right") & (exc["category"] != "out_of_scope")).fillna(False).to_numpy(dtype=bool)][["amount"]]])
        cash_in, banked, credited = total(booked["amount"]), -total(scoped_left["amount"]), total(scoped_right["amount"])
        rows = [["cash receipts booked 现金收款入账", cash_in], ["banked 存入银行", banked], ["credited at the bank 银行到账", credited],
                ["in the till at the end 期末库存现金增加", cash_in - banked]]
        out = pd.DataFrame(rows, columns=["step", "amount"])
        out["amount"] = money(out["amount"].tolist()).array
        return out

    def per_salesperson(self) -> pd.DataFrame:
        """Each salesperson's month: collected, handed in, not handed in, differences, late, wrong method."""
        booked = self.journal[self.journal["doc_no"].notna().to_numpy(dtype=bool)]  # receipts, not expenses
        names = sorted(set(self.receipts["salesperson"].dropna()) | set(booked["salesperson"].dropna()))
        missing, unknown = self.never_handed_in(), self.booked_without_receipt()
        diffs, late, method = self.amount_differences(), self.late_deposits(), self.method_differences()
        pairs = self.pairs()
        rows = []
        for name in names:
            mine = self.receipts[(self.receipts["salesperson"] == name).fillna(False).to_numpy(dtype=bool)]
            rows.append([name, len(mine), total(mine["amount"]),
                         total(pairs.loc[(pairs["salesperson"] == name).fillna(False).to_numpy(dtype=bool), "amount_journal"]),
                         total(missing.loc[missing["salesperson"] == name, "amount"]),
                         total(diffs.loc[diffs["salesperson"] == name, "difference"]),
                         total(unknown.loc[(unknown["salesperson"] == name).fillna(False).to_numpy(dtype=bool), "amount"]),
                         int((late["salesperson"] == name).sum()), int((method["salesperson"] == name).sum())])
        out = pd.DataFrame(rows, columns=["salesperson", "receipts", "collected", "booked", "not_handed_in", "booked_difference",
                                          "booked_without_receipt", "late", "wrong_method"])
        for column in ("collected", "booked", "not_handed_in", "booked_difference", "booked_without_receipt"):
            out[column] = money(out[column].tolist()).array
        return out

    # -- figures and files ----------------------------------------------------------------------
    def kpis(self) -> dict[str, Any]:
        return {
            "Receipts 收据": len(self.receipts),
            "Collected 业务员收款": total(self.receipts["amount"]),
            "Not handed in 未交出纳": total(self.never_handed_in()["amount"]),
            "Booked without receipt 无收据入账": total(self.booked_without_receipt()["amount"]),
            "Booked differently 金额差异": total(self.amount_differences()["difference"]),
            f"Late (> {self.late_days} days) 逾期交款": len(self.late_deposits()),
            "Wrong method 收款方式不符": len(self.method_differences()),
            "Cash not at the bank 存现未到账": -total(self.deposits_not_banked()["amount"]),
            "Auto-match rate 自动核对率": self.auto_match_rate,
        }

    def lists(self) -> dict[str, pd.DataFrame]:
        return {"per salesperson 业务员": self.per_salesperson(), "not handed in 未交出纳": self.never_handed_in(),
                "no receipt 无收据入账": self.booked_without_receipt(), "amounts 金额差异": self.amount_differences(),
                "method 收款方式": self.method_differences(), "late 逾期交款": self.late_deposits(),
                "cash 现金": self.cash_position(), "not banked 存现未到账": self.deposits_not_banked(),
                "deposit amounts 存现金额不符": self.deposit_differences(),
                "bank cash 无记录存现": self.cash_credits_without_deposit()}

    def write(self, output_dir: str | Path) -> dict[str, Path]:
        """Both hops' links and exceptions (with ``hop``), summary.json and cashier.xlsx (every list)."""
        return self.write_hops(output_dir, self.exception_table, f"{NAME}.xlsx")
