"""The canonical table: field names, their types, and the kinds of table a source yields.

Every loader turns a raw download into a pandas DataFrame whose columns are drawn from
``CANONICAL_FIELDS`` (plus the provenance columns ``source_file``, ``source_row``, ``template``).
Columns use pyarrow-backed dtypes so that money stays exact and DuckDB reads the frame without a copy:

* money fields (``amount``, ``fee``, ...) are ``decimal128(18, 2)``: exact yuan and fen, never float;
* ids are strings, never numbers (order numbers have 18-32 digits and leading zeros);
* times are naive ``timestamp[s]`` in the source's local time (all Chinese sources are UTC+8);
* quantities are ``int64``; weights and dimensions are ``decimal128(12, 3)``.

Amounts are signed from the account holder's point of view: money in is positive, money out negative.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, Iterable

import pyarrow as pa

if TYPE_CHECKING:
    import pandas as pd

MONEY_TYPE = pa.decimal128(18, 2)
MEASURE_TYPE = pa.decimal128(12, 3)

#: the pandas dtypes of loaded frames (``MONEY_DTYPE`` ...), by the Arrow type each wraps. They are
#: made on first use (PEP 562 ``__getattr__`` below), so that the engine, which matches Arrow tables and
#: Parquet files, can import this module without pandas (~90 MiB of a fresh process).
_DTYPE_TYPES: dict[str, pa.DataType] = {
    "MONEY_DTYPE": MONEY_TYPE,
    "MEASURE_DTYPE": MEASURE_TYPE,
    "TEXT_DTYPE": pa.string(),
    "INT_DTYPE": pa.int64(),
    "TIME_DTYPE": pa.timestamp("s"),
    "DATE_DTYPE": pa.date32(),
}


def __getattr__(name: str) -> Any:
    """``MONEY_DTYPE`` and the other pandas dtypes, made (and kept) when first asked for."""
    if name not in _DTYPE_TYPES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import pandas as pd

    value = globals()[name] = pd.ArrowDtype(_DTYPE_TYPES[name])
    return value

#: field kind -> arrow type
KIND_TYPES: dict[str, pa.DataType] = {
    "id": pa.string(),
    "text": pa.string(),
    "money": MONEY_TYPE,
    "measure": MEASURE_TYPE,
    "int": pa.int64(),
    "datetime": pa.timestamp("s"),
    "date": pa.date32(),
}


@dataclass(frozen=True)
class Field:
    """One canonical field: its name, its kind (see ``KIND_TYPES``) and what it means."""

    name: str
    kind: str
    doc: str

    @property
    def arrow_type(self) -> pa.DataType:
        return KIND_TYPES[self.kind]


_FIELDS = [
    # identities
    Field("txn_id", "id", "the source system's own id of the row (transaction, flow, voucher number)"),
    Field("order_id", "id", "the shop's order number (platform order / merchant order no.)"),
    Field("sub_order_id", "id", "order line / sub-order number"),
    Field("merchant_order_id", "id", "merchant-side reference when it differs from order_id"),
    Field("refund_id", "id", "refund / return request number"),
    Field("batch_id", "id", "payout or settlement batch id that groups rows paid together"),
    Field("waybill_no", "id", "courier waybill (tracking) number"),
    Field("master_waybill_no", "id", "master waybill of a multi-parcel shipment"),
    Field("invoice_no", "id", "invoice or statement document number"),
    Field("doc_no", "id", "ERP / ledger document or voucher number"),
    Field("customer_id", "id", "customer code"),
    Field("account", "id", "own account (bank account, merchant id, courier monthly account)"),
    Field("counterparty_account", "id", "the other side's account (often masked)"),
    Field("sku", "id", "stock-keeping unit / merchant item code"),
    # times
    Field("txn_time", "datetime", "when the row happened (payment, shipment, booking time)"),
    Field("value_date", "date", "bank value date / settlement date"),
    Field("due_date", "date", "payment due date"),
    # money (signed: in > 0, out < 0)
    Field("amount", "money", "the row's main amount, signed from the account holder's view"),
    Field("gross_amount", "money", "amount before fees and discounts"),
    Field("fee", "money", "fees charged on the row (negative = charged to us)"),
    Field("refund_amount", "money", "amount refunded"),
    Field("discount", "money", "discounts / subsidies"),
    Field("platform_discount", "money", "the part of a discount the platform bears and pays the merchant (平台承担优惠)"),
    Field("freight", "money", "shipping fee (freight) part"),
    Field("surcharge", "money", "surcharges and value-added service fees"),
    Field("balance", "money", "running balance after the row (informational)"),
    Field("tax", "money", "tax (VAT) included in the amount"),
    Field("credit_limit", "money", "customer credit limit"),
    Field("payment_terms_days", "int", "agreed payment terms in days (账期)"),
    # classification
    Field("currency", "text", "ISO 4217 code, CNY unless the source says otherwise"),
    Field("direction", "text", "in / out / neutral, from 收/支, 借/贷, CRDT/DBIT"),
    Field("status", "text", "the source's status of the row"),
    Field("txn_type", "text", "the source's business type / category of the row"),
    Field("channel", "text", "payment or sales channel / platform"),
    Field("carrier", "text", "courier company"),
    Field("service", "text", "courier product / service level"),
    Field("counterparty", "text", "the other party's name"),
    Field("memo", "text", "free text: memo, remark, purpose, goods description"),
    Field("salesperson", "text", "salesperson"),
    Field("warehouse", "text", "warehouse"),
    Field("condition", "text", "condition of returned goods"),
    Field("origin", "text", "ship-from place"),
    Field("destination", "text", "ship-to province / city / zone"),
    Field("ledger_account", "text", "general-ledger account code or name"),
    # goods and parcels
    Field("item_name", "text", "goods title"),
    Field("qty", "int", "quantity of goods or parcels"),
    Field("pieces", "int", "pieces (件数) sent under one waybill (a multi-piece consignment: more than 1)"),
    Field("weight", "measure", "actual weight in kg"),
    Field("billed_weight", "measure", "chargeable weight in kg as billed"),
    Field("volume_weight", "measure", "volumetric weight in kg"),
    Field("length_cm", "measure", "parcel length in cm"),
    Field("width_cm", "measure", "parcel width in cm"),
    Field("height_cm", "measure", "parcel height in cm"),
]

CANONICAL_FIELDS: dict[str, Field] = {f.name: f for f in _FIELDS}

#: provenance columns on every loaded row
PROVENANCE_COLUMNS = ("source_file", "source_row", "template")

#: the kinds of table a source template may yield, and what each holds
TABLE_KINDS: dict[str, str] = {
    "bank_txn": "bank statement lines",
    "payment_txn": "payment-provider transactions (Alipay, WeChat Pay) and wallet flows",
    "settlement": "platform settlement / fund-flow lines",
    "order": "shop orders (one row per order or per order line)",
    "shipment": "own shipments / waybills sent",
    "outbound": "warehouse outbound records",
    "courier_bill_line": "lines of a courier's bill",
    "return_request": "platform return / refund requests",
    "return_waybill": "courier return waybills",
    "receipt": "warehouse receipts of returned goods",
    "invoice": "invoices / statements issued to customers",
    "delivery": "deliveries to customers",
    "customer_payment": "payments received from customers",
    "sales_receipt": "salesperson receipt logs",
    "cashier_journal": "cashier journal lines",
    "erp_doc": "business-system documents",
    "ledger_line": "general-ledger lines",
    "customer": "customer master data (credit limits, payment terms)",
}


def field_type(name: str) -> pa.DataType:
    """Arrow type of a canonical field; raises KeyError for a name that is not canonical."""
    return CANONICAL_FIELDS[name].arrow_type


def money(values: Iterable[object]) -> pd.Series:
    """Build an exact money Series from strings, ints or Decimals (floats are refused: not exact)."""
    import pandas as pd

    out = []
    for v in values:
        if v is None or (isinstance(v, float) and v != v):
            out.append(None)
        elif isinstance(v, float):
            raise TypeError(f"money must not be built from float {v!r}: pass a string or Decimal")
        else:
            out.append(Decimal(str(v)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    return pd.Series(pd.array(out, dtype=pd.ArrowDtype(MONEY_TYPE)))


def empty_table(fields: Iterable[str]) -> pd.DataFrame:
    """An empty canonical frame with the given fields and the provenance columns, correctly typed."""
    import pandas as pd

    types = {**{name: field_type(name) for name in fields}, "source_file": pa.string(), "source_row": pa.int64(),
             "template": pa.string()}
    return pd.DataFrame({name: pd.Series(pd.array([], dtype=pd.ArrowDtype(t))) for name, t in types.items()})
