"""MT940 dialects, MT942 interim reports, camt.052 and camt.054 (issue #11 item 3): files real banks write that the
strict grammar does not describe, read into the same canonical columns, or refused with the format named."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

import recon_helpers
from recon_helpers.errors import SourceFileError
from recon_helpers.sources import structured

D = Decimal

DIALECT_MT940 = (
    ":20:STMT1\r\n"
    ":25:NL91ABNA0417164300\r\n"
    ":28C:1/1\r\n"
    ":NS:22Bank information line\r\n"
    ":60F:C261001EUR1000,00\r\n"
    ":61:2610011001C250,50S   XNONREF//B1\r\n"
    ":86:/TRTP/SEPA OVERBOEKING/IBAN/NL20INGB0001234567/BIC/INGBNL2A/NAME/J DOE/REMI/USTD//Invoice 1/EREF/E2E-1\r\n"
    ":61:2610021002DR100,00FTRFREF2//B2\r\n"
    ":NS:01Extra entry information\r\n"
    ":86:020~00PRZELEW~20Faktura 7~21/2026~27ACME SP Z O O~38PL61109010140000071219812874\r\n"
    ":61:261003C49,5    NONREF//B3\r\n"
    ":62F:C261003EUR1200,00\r\n"
)  # no closing "-": the file just ends


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("latin-1"))
    return path


def test_mt940_dialect_with_blank_and_odd_type_codes_loads_every_entry(tmp_path: Path):
    table, rejects, report = recon_helpers.load(write(tmp_path, "dialect.sta", DIALECT_MT940))
    assert report.template == "mt940" and len(rejects) == 0
    assert (report.rows_read, report.rows_loaded) == (3, 3)
    assert list(table["amount"]) == [D("250.50"), D("-100.00"), D("49.50")]
    assert list(table["txn_type"].fillna("")) == ["S", "FTRF", ""]
    assert list(table["txn_id"]) == ["B1", "B2", "B3"]


def test_mt940_dialect_amounts_agree_with_the_mt940_library():
    import mt940

    library = mt940.models.Transactions()
    library.parse(DIALECT_MT940)
    table, _, _ = structured.read("mt940", DIALECT_MT940.encode("latin-1"), "dialect.sta")
    assert [t.data["amount"].amount for t in library] == table["amount"].tolist()
    assert [t.data["date"] for t in library] == table["value_date"].tolist()


def test_non_standard_tags_are_kept_by_name_not_glued_to_the_statement_number():
    table, _, meta = structured.read("mt940", DIALECT_MT940.encode("latin-1"), "dialect.sta")
    (stmt,) = meta["statements"]
    assert stmt["id"] == "STMT1 1/1"
    assert stmt["tags"] == {"NS": "22Bank information line"}
    second = int(table["source_row"].iloc[1])
    assert meta["entry_tags"] == {second: {"NS": "01Extra entry information"}}
    assert stmt["balance_ok"] is True   # 1000 + 250.50 - 100 + 49.50 = 1200
    # the :86: after an :NS: still belongs to its entry
    assert table["counterparty"].iloc[1] == "ACME SP Z O O"


def test_structured_86_keyword_and_tilde_dialects_give_party_account_and_purpose():
    table, _, _ = structured.read("mt940", DIALECT_MT940.encode("latin-1"), "dialect.sta")
    first, second = table.iloc[0], table.iloc[1]
    assert (first["counterparty"], first["counterparty_account"]) == ("J DOE", "NL20INGB0001234567")
    assert first["memo"] == "Invoice 1 EREF E2E-1"
    assert second["counterparty_account"] == "PL61109010140000071219812874"
    assert second["memo"] == "Faktura 7 /2026"


MT942 = (
    "{1:F01BANKDEFFAXXX0000000000}{2:O942BANKDEFFXXXXN}{4:\r\n"
    ":20:INTRADAY1\r\n"
    ":25:DE89370400440532013000\r\n"
    ":28C:5/1\r\n"
    ":34F:EUR0,\r\n"
    ":13D:2610151200+0100\r\n"
    ":61:2610151015C300,00NTRFNONREF//X1\r\n"
    ":86:Customer payment\r\n"
    ":61:2610151015D20,00NCHKNONREF//X2\r\n"
    ":61:2610151015D5,50NMSCNONREF//X3\r\n"
    ":90D:2EUR25,50\r\n"
    ":90C:1EUR300,00\r\n"
    "-}"
)


def test_mt942_interim_report_loads_and_checks_its_counts_and_sums(tmp_path: Path):
    table, rejects, report = recon_helpers.load(write(tmp_path, "intraday.sta", MT942))
    assert report.template == "mt940" and "mt942" in report.detected_because
    assert list(table["amount"]) == [D("300.00"), D("-20.00"), D("-5.50")]
    assert [(c.measure, c.ok) for c in report.control_totals] == [("count", True), ("total", True)] * 2


def test_mt942_whose_totals_disagree_says_so(tmp_path: Path):
    _, _, report = recon_helpers.load(write(tmp_path, "intraday.sta", MT942.replace(":90D:2EUR25,50", ":90D:2EUR26,50")))
    assert [c.ok for c in report.control_totals] == [True, False, True, True]
    assert any("mismatch" in w for w in report.warnings)


def camt(message: str, item: str, version: str) -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:{version}">
  <{message}>
    <GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-10-15T12:00:00</CreDtTm></GrpHdr>
    <{item}>
      <Id>R1</Id>
      <Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>
      <Ntry>
        <Amt Ccy="EUR">120.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
        <BookgDt><Dt>2026-10-15</Dt></BookgDt><ValDt><Dt>2026-10-15</Dt></ValDt><AcctSvcrRef>A1</AcctSvcrRef>
      </Ntry>
      <Ntry>
        <Amt Ccy="EUR">20.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>
        <BookgDt><Dt>2026-10-15</Dt></BookgDt><AcctSvcrRef>A2</AcctSvcrRef>
      </Ntry>
    </{item}>
  </{message}>
</Document>
"""


@pytest.mark.parametrize(("message", "item", "version", "fmt"), [
    ("BkToCstmrAcctRpt", "Rpt", "camt.052.001.02", "camt052"),
    ("BkToCstmrDbtCdtNtfctn", "Ntfctn", "camt.054.001.02", "camt054"),
])
def test_camt052_and_camt054_load_like_camt053(tmp_path: Path, message, item, version, fmt):
    path = tmp_path / f"{fmt}.xml"
    path.write_text(camt(message, item, version), encoding="utf-8")
    table, rejects, report = recon_helpers.load(path)
    assert report.template == "camt053" and fmt in report.detected_because
    assert list(table["amount"]) == [D("120.00"), D("-20.00")] and len(rejects) == 0
    assert list(table["txn_id"]) == ["A1", "A2"]


def test_other_iso20022_messages_are_refused_with_their_name():
    pain = camt("CstmrCdtTrfInitn", "PmtInf", "pain.001.001.03").encode("utf-8")
    with pytest.raises(SourceFileError, match="CstmrCdtTrfInitn"):
        structured.read("camt053", pain, "pain.xml")
