"""The account mapping (``templates/ledger/account_map.yaml``): the voucher each document type should get.

A document of type T posts, for each line of the map, ``part`` of its amount (gross = 金额 价税合计,
tax = 税额, net = gross - tax) to ``account`` on ``side``. :func:`expected_postings` turns documents
into those lines, the trial-balance view and the wrong-account check compare them with the ledger.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import Field

from recon_helpers import catalog
from recon_helpers.canonical import money
from recon_helpers.catalog import StrictModel


class Posting(StrictModel):
    account: str = Field(min_length=1)
    name: str = ""
    side: Literal["debit", "credit"]
    part: Literal["gross", "net", "tax"]


class AccountMap(StrictModel):
    """document type -> the postings its voucher should have."""

    name: str
    title: str = ""
    documents: dict[str, list[Posting]] = Field(min_length=1)

    def account_names(self) -> dict[str, str]:
        return {p.account: p.name for postings in self.documents.values() for p in postings if p.name}


def account_map(path: str | Path | None = None) -> AccountMap:
    """The account mapping (``templates/ledger/account_map.yaml`` unless a path is given), validated."""
    path = Path(path) if path is not None else catalog.folder("ledger") / "account_map.yaml"
    return catalog.read_entry(path, AccountMap, what="account map", keys="name:, documents: ...")


def expected_postings(documents: pd.DataFrame, mapping: AccountMap) -> pd.DataFrame:
    """One row per posting a document should produce: ``doc_no, txn_type, account, side, amount``; a
    document of a type the map does not know gets one row with account ``?`` (listed as unmapped)."""
    rows = []
    for d in documents.itertuples(index=False):
        gross = d.amount
        tax = d.tax if "tax" in documents.columns and not pd.isna(d.tax) else Decimal("0.00")
        parts = {"gross": gross, "tax": tax, "net": gross - tax}
        postings = mapping.documents.get(str(d.txn_type))
        if postings is None:
            rows.append([d.doc_no, d.txn_type, "?", "debit", gross])
            continue
        for p in postings:
            rows.append([d.doc_no, d.txn_type, p.account, p.side, parts[p.part]])
    out = pd.DataFrame(rows, columns=["doc_no", "txn_type", "account", "side", "amount"])
    out["amount"] = money(out["amount"].tolist()).array
    return out


def actual_postings(gl: pd.DataFrame) -> pd.DataFrame:
    """The ledger's lines as ``doc_no, voucher, account, side, amount`` (amount positive, side from the sign)."""
    side = ["debit" if a >= 0 else "credit" for a in gl["amount"]]
    return pd.DataFrame({"doc_no": gl["doc_no"].to_numpy(), "voucher": gl["txn_id"].to_numpy(),
                         "account": gl["ledger_account"].astype("string").str.strip().to_numpy(), "side": side,
                         "amount": money([abs(a) for a in gl["amount"]]).array, "source_row": gl["source_row"].to_numpy()})
