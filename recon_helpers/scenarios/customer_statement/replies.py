"""Customers' replies to their statements, and the period they open next.

A reply is recorded once and kept in ``replies.json`` in the run's output folder, so it survives a
re-run: ``confirmed`` (the closing balance is agreed), or ``disputed`` with the lines the customer
disputes (document numbers) and a note. :func:`carry_forward` turns the period's open items and the
replies into the next period's opening (``carry_forward.json``): every open item is carried (an
unpaid invoice stays open until paid), disputed lines are flagged as in dispute, and the confirmed
balance is the closing balance less the disputed lines.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

from recon_helpers import export
from recon_helpers.errors import UsageError

REPLIES_FILE = "replies.json"
CARRY_FILE = "carry_forward.json"
STATUSES = ("confirmed", "disputed")


@dataclass(frozen=True)
class Reply:
    """What a customer answered to the statement of a period."""

    customer_id: str
    status: str
    disputed_lines: tuple[str, ...] = ()
    note: str = ""
    received: str = ""

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise UsageError(f"reply status {self.status!r}: use one of {', '.join(STATUSES)}")
        if self.status == "disputed" and not self.disputed_lines:
            raise UsageError(f"customer {self.customer_id} disputes the statement: name the disputed lines "
                             "(document numbers), e.g. disputed_lines=['26332010000000000005']")
        if self.status == "confirmed" and self.disputed_lines:
            raise UsageError(f"customer {self.customer_id} confirmed the statement: a confirmation has no disputed lines")


def read_replies(folder: str | Path) -> dict[str, Reply]:
    """The replies recorded for a run (customer -> reply); none yet is an empty dict."""
    path = Path(folder) / REPLIES_FILE
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {r["customer_id"]: Reply(r["customer_id"], r["status"], tuple(r.get("disputed_lines", ())), r.get("note", ""),
                                    r.get("received", "")) for r in data["replies"]}


def save_reply(folder: str | Path, reply: Reply) -> Path:
    """Record (or replace) one customer's reply in the run's ``replies.json``."""
    replies = read_replies(folder)
    replies[reply.customer_id] = reply
    path = Path(folder) / REPLIES_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"replies": [{**asdict(r), "disputed_lines": list(r.disputed_lines)} for _, r in sorted(replies.items())]}
    export.write_text(path, json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    return path


@dataclass
class Carried:
    """One customer's opening for the next period."""

    customer_id: str
    status: str  # confirmed / disputed / no reply
    closing: Decimal
    confirmed_balance: Decimal
    items: list[dict[str, Any]] = field(default_factory=list)


def carry_forward(period: str, open_items: Iterable[dict[str, Any]], closings: dict[str, Decimal],
                  replies: dict[str, Reply]) -> dict[str, Carried]:
    """The next period's opening per customer: open items (disputed ones flagged) and the balance the
    customer confirmed (closing less the disputed lines; the closing itself when confirmed)."""
    out: dict[str, Carried] = {}
    items_by_customer: dict[str, list[dict[str, Any]]] = {}
    for item in open_items:
        items_by_customer.setdefault(item["customer_id"], []).append(dict(item))
    for customer, closing in closings.items():
        reply = replies.get(customer)
        items = items_by_customer.get(customer, [])
        disputed = set(reply.disputed_lines) if reply else set()
        unknown = disputed - {i["doc"] for i in items}
        if unknown:
            raise UsageError(f"customer {customer} disputes {', '.join(sorted(unknown))}, which are not open items of "
                             f"{period}: name lines of the statement that are still open")
        for item in items:
            item["disputed"] = item["doc"] in disputed
            item["note"] = reply.note if item["disputed"] and reply else item.get("note", "")
        in_dispute = sum((Decimal(i["amount"]) for i in items if i["disputed"]), Decimal("0.00"))
        status = reply.status if reply else "no reply"
        out[customer] = Carried(customer, status, closing, closing - in_dispute, items)
    return out


def write_carry_forward(folder: str | Path, period: str, carried: dict[str, Carried]) -> Path:
    path = Path(folder) / CARRY_FILE
    doc = {"from_period": period, "customers": [
        {"customer_id": c.customer_id, "status": c.status, "closing": str(c.closing),
         "confirmed_balance": str(c.confirmed_balance),
         "items": [{**i, "amount": str(i["amount"])} for i in c.items]} for c in carried.values()]}
    export.write_text(path, json.dumps(doc, ensure_ascii=False, indent=2, default=str) + "\n")
    return path


def read_carry_forward(path: str | Path) -> tuple[str, dict[str, Carried]]:
    """``(from_period, customer -> Carried)`` from a ``carry_forward.json`` (or the folder holding it)."""
    path = Path(path)
    path = path / CARRY_FILE if path.is_dir() else path
    if not path.is_file():
        raise UsageError(f"no carried-forward opening at {path}: run the previous period's statement and its "
                         "carry_forward() first, or leave opening empty")
    doc = json.loads(path.read_text(encoding="utf-8"))
    carried = {}
    for c in doc["customers"]:
        items = [{**i, "amount": Decimal(i["amount"])} for i in c["items"]]
        carried[c["customer_id"]] = Carried(c["customer_id"], c["status"], Decimal(c["closing"]),
                                            Decimal(c["confirmed_balance"]), items)
    return doc["from_period"], carried
