"""The ledger check: documents against postings, the voucher's accounts, the per-account tie-out, the run history."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from recon_helpers.canonical import money
from recon_helpers.engine import match
from recon_helpers.export import write_csv
from recon_helpers.periods import Period
from recon_helpers.scenarios.base import Check, in_scope_match_rate, total, write_workbook
from recon_helpers.scenarios.ledger import history
from recon_helpers.scenarios.ledger.accounts import AccountMap, account_map, actual_postings, expected_postings
from recon_helpers.scenarios.registry import scenario
from recon_helpers.sources.loading import load

NAME = "ledger"
ZERO = Decimal("0.00")


def check(*, period: str, data_dir: str | Path, accounts: str | Path | None = None) -> LedgerCheck:
    """Load the ERP documents and the GL export of the month and match them document by document.

    ``accounts``: an account map of one's own (default templates/ledger/account_map.yaml).
    """
    entry = scenario(NAME)
    inputs = {name: load(entry.input_path(name, data_dir)) for name in entry.inputs}
    result = match(inputs["documents"].table, inputs["gl"].table, entry.recipes[0])
    return LedgerCheck(scenario=entry, period=Period.parse(period), data_dir=Path(data_dir), result=result, inputs=inputs,
                       mapping=account_map(accounts))


@dataclass
class LedgerCheck(Check):
    """One month of documents against the ledger (see :mod:`recon_helpers.scenarios.ledger`)."""

    mapping: AccountMap | None = None
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def documents(self) -> pd.DataFrame:
        return self.inputs["documents"].table

    @property
    def gl(self) -> pd.DataFrame:
        return self.inputs["gl"].table

    @property
    def auto_match_rate(self) -> str:
        """Rows in scope matched automatically (rows the recipe leaves out of scope left out)."""
        return in_scope_match_rate([self.result])

    # -- document-level findings ----------------------------------------------------------------
    def _docs(self, category: str) -> pd.DataFrame:
        rows = self.result.exceptions
        rows = rows[((rows["category"] == category) & (rows["side"] == "left")).fillna(False).to_numpy(dtype=bool)]
        docs = self.documents[self.documents["source_row"].isin(list(rows["source_row"])).fillna(False).to_numpy(dtype=bool)]
        return docs[["doc_no", "txn_type", "txn_time", "counterparty", "amount", "tax", "source_row"]].reset_index(drop=True)

    def never_posted(self) -> pd.DataFrame:
        """Audited documents with no voucher: post them."""
        return self._docs("missing_on_right")

    def posted_twice(self) -> pd.DataFrame:
        """Documents posted in more than one voucher: reverse the extra one (amount = the extra posting)."""
        exc = self.result.exceptions
        extra = exc[((exc["category"] == "duplicate_on_right") & (exc["side"] == "right")).fillna(False).to_numpy(dtype=bool)]
        lines = extra[["key", "amount", "source_row"]].merge(self.gl[["source_row", "txn_id", "txn_time"]], on="source_row")
        out = lines.groupby("key", sort=True).agg(extra_voucher=("txn_id", lambda s: "、".join(sorted(set(s)))),
                                                 posted=("txn_time", "min"),
                                                 amount=("amount", lambda s: sum(s.tolist(), ZERO))).reset_index()
        vouchers = self.gl.groupby("doc_no")["txn_id"].agg(lambda s: "、".join(sorted(set(s)))).to_dict()
        out = out.rename(columns={"key": "doc_no"})
        out["vouchers"] = out["doc_no"].map(vouchers)
        out["amount"] = money(out["amount"].tolist()).array
        return out[["doc_no", "vouchers", "extra_voucher", "posted", "amount"]]

    def wrong_amounts(self) -> pd.DataFrame:
        """Vouchers whose amount differs from the document: difference = voucher - document."""
        exc = self.result.exceptions
        rows = exc[(exc["category"] == "amount_mismatch").fillna(False).to_numpy(dtype=bool)]
        out = []
        for _, part in rows.groupby("group_id", sort=True):
            left, right = part[part["side"] == "left"], part[part["side"] == "right"]
            document, voucher = total(left["amount"]), total(right["amount"])
            out.append([left["key"].iloc[0], document, voucher, voucher - document, int(left["source_row"].iloc[0])])
        frame = pd.DataFrame(out, columns=["doc_no", "document_amount", "voucher_amount", "difference", "source_row"])
        for column in ("document_amount", "voucher_amount", "difference"):
            frame[column] = money(frame[column].tolist()).array
        return frame.sort_values("doc_no").reset_index(drop=True)

    def postings_without_document(self) -> pd.DataFrame:
        """Ledger debit lines whose document the business system does not have."""
        exc = self.result.exceptions
        rows = exc[((exc["category"] == "missing_on_left") & (exc["side"] == "right")).fillna(False).to_numpy(dtype=bool)]
        gl = self.gl[self.gl["source_row"].isin(list(rows["source_row"])).fillna(False).to_numpy(dtype=bool)]
        return self.relative_files(gl[["doc_no", "txn_id", "txn_time", "ledger_account", "txn_type", "amount", "memo",
                                       "source_file", "source_row"]].reset_index(drop=True))

    def wrong_accounts(self) -> pd.DataFrame:
        """Vouchers (the first of each document) that post to other accounts, or other sides, than the
        account map says: expected and posted accounts side by side."""
        if "accounts" in self._cache:
            return self._cache["accounts"]
        expected = expected_postings(self.documents, self.mapping)
        actual = actual_postings(self.gl)
        first = actual.drop_duplicates("doc_no")[["doc_no", "voucher"]]
        actual = actual.merge(first, on=["doc_no", "voucher"])  # a second voucher is "posted twice", not checked here
        want = expected.groupby("doc_no").apply(lambda p: sorted(zip(p["account"], p["side"])), include_groups=False).to_dict()
        got = actual.groupby("doc_no").apply(lambda p: sorted(zip(p["account"], p["side"])), include_groups=False).to_dict()
        types = dict(zip(self.documents["doc_no"], self.documents["txn_type"]))
        rows = []
        for doc, posted in sorted(got.items()):
            if doc not in want or want[doc] == posted:
                continue
            fmt = lambda lines: "; ".join(f"{a} {'借' if s == 'debit' else '贷'}" for a, s in lines)  # noqa: E731
            rows.append([doc, types.get(doc), fmt(want[doc]), fmt(posted),
                         "document type not in the account map 单据类型未配置" if want[doc][0][0] == "?" else "wrong account 科目错误"])
        self._cache["accounts"] = pd.DataFrame(rows, columns=["doc_no", "txn_type", "expected", "posted", "problem"])
        return self._cache["accounts"]

    # -- the period per account -----------------------------------------------------------------
    def trial_balance(self) -> pd.DataFrame:
        """Per account: what the documents should have posted (through the account map) against what
        the ledger holds, debit and credit, and the differences (ledger - documents)."""
        expected = expected_postings(self.documents, self.mapping)
        actual = actual_postings(self.gl)
        names = {**dict(zip(self.gl["ledger_account"].astype("string").str.strip(), self.gl["txn_type"])),
                 **self.mapping.account_names()}
        rows = []
        for account in sorted(set(expected["account"]) | set(actual["account"].dropna())):
            cells = []
            for frame in (expected, actual):
                mine = frame[(frame["account"] == account).fillna(False).to_numpy(dtype=bool)]
                cells += [total(mine.loc[mine["side"] == "debit", "amount"]), total(mine.loc[mine["side"] == "credit", "amount"])]
            rows.append([account, names.get(account, ""), *cells, cells[2] - cells[0], cells[3] - cells[1]])
        out = pd.DataFrame(rows, columns=["account", "name", "documents_debit", "documents_credit", "ledger_debit",
                                          "ledger_credit", "debit_difference", "credit_difference"])
        for column in out.columns[2:]:
            out[column] = money(out[column].tolist()).array
        return out

    # -- findings, history, files ---------------------------------------------------------------
    @property
    def exception_table(self) -> pd.DataFrame:
        """The match's exceptions and the vouchers with a wrong account (side ``voucher``)."""
        wrong = self.wrong_accounts()
        extra = pd.DataFrame({"side": "voucher", "source_file": self.inputs["gl"].report.source_file, "key": wrong["doc_no"],
                              "category": "wrong_account", "detail": "expected " + wrong["expected"] + ", posted " + wrong["posted"]})
        return pd.concat([self.result.exceptions, extra], ignore_index=True)

    def findings(self) -> pd.DataFrame:
        """One row per thing to correct: ``category, key, amount`` (the run history compares these)."""
        rows = [["missing_on_right", r.doc_no, r.amount] for r in self.never_posted().itertuples()]
        rows += [["duplicate_on_right", r.doc_no, r.amount] for r in self.posted_twice().itertuples()]
        rows += [["amount_mismatch", r.doc_no, r.difference] for r in self.wrong_amounts().itertuples()]
        rows += [["missing_on_left", r.doc_no if not pd.isna(r.doc_no) else r.txn_id, r.amount]
                 for r in self.postings_without_document().itertuples()]
        rows += [["wrong_account", r.doc_no, ""] for r in self.wrong_accounts().itertuples()]
        return pd.DataFrame(rows, columns=["category", "key", "amount"]).sort_values(["category", "key"]).reset_index(drop=True)

    def history(self, output_dir: str | Path) -> pd.DataFrame:
        """The runs recorded for this period (number, time, findings)."""
        runs = history.read_history(self.output_folder(output_dir))
        return pd.DataFrame([[r["run"], r["recorded_at"], len(r["findings"])] for r in runs],
                            columns=["run", "recorded_at", "findings"])

    def since_last_run(self, output_dir: str | Path) -> pd.DataFrame:
        """This run's findings against the last recorded run before it: fixed, new, still open."""
        runs = history.read_history(self.output_folder(output_dir))
        previous = runs[-2]["findings"] if len(runs) >= 2 else None
        return history.changes(previous, self.findings())

    def kpis(self) -> dict[str, Any]:
        tb = self.trial_balance()
        return {
            "Documents 单据": len(self.documents),
            "Ledger lines 凭证行": len(self.gl),
            "Never posted 未生成凭证": len(self.never_posted()),
            "Posted twice 重复记账": len(self.posted_twice()),
            "Wrong amount 金额不符": len(self.wrong_amounts()),
            "Wrong account 科目错误": len(self.wrong_accounts()),
            "Without a document 无单据凭证": len(self.postings_without_document()),
            "Accounts off 科目不平": int(((tb["debit_difference"] != 0) | (tb["credit_difference"] != 0)).sum()),
            "Auto-match rate 自动核对率": self.auto_match_rate,
        }

    def lists(self) -> dict[str, pd.DataFrame]:
        return {"trial balance 科目汇总": self.trial_balance(), "never posted 未生成凭证": self.never_posted(),
                "posted twice 重复记账": self.posted_twice(), "wrong amount 金额不符": self.wrong_amounts(),
                "wrong account 科目错误": self.wrong_accounts(), "no document 无单据": self.postings_without_document(),
                "findings 待更正": self.findings()}

    def write(self, output_dir: str | Path, *, recorded_at: str | None = None) -> dict[str, Path]:
        """Links, exceptions (with wrong accounts), summary.json, ledger.xlsx, and this run in history.json."""
        folder = self.output_folder(output_dir)
        paths = super().write(output_dir)
        paths["exceptions"] = write_csv(self.exceptions()[self.exception_columns].astype({"candidates": "string"}),
                                        folder / "exceptions.csv")
        paths["workbook"] = write_workbook(self.lists(), folder / f"{NAME}.xlsx")
        paths["history"] = history.append_run(folder, self.findings(), recorded_at=recorded_at)
        return paths
