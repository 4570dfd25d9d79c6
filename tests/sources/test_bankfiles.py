"""MT940, camt.053 and OFX readers on the public samples, on small hand-made files, and on broken copies."""
from __future__ import annotations

import datetime as dt
import io
import os
import warnings
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from recon_helpers import catalog
from recon_helpers.canonical import MONEY_DTYPE
from recon_helpers.errors import SourceFileError, UsageError
from recon_helpers.sources import detection
from recon_helpers.sources import structured as bankfiles
from recon_helpers.sources import templates as sources

D = Decimal
# RECON_REAL_CORPUS points elsewhere when the repo is a worktree without shared/ beside it
REAL = Path(os.environ.get("RECON_REAL_CORPUS") or Path(__file__).parents[2].parent / "shared" / "corpus" / "real")


@pytest.fixture(scope="module")
def real() -> Path:
    if not REAL.is_dir():
        pytest.skip(f"real-format samples not found at {REAL} (CI checks out shared/ beside the repo)")
    return REAL


def sample(real: Path, name: str) -> bytes:
    return (real / name).read_bytes()


def line_of(data: bytes, needle: bytes, nth: int = 0) -> int:
    """1-based line number of the nth line containing ``needle``: the position a person sees in an editor."""
    hits = [i for i, line in enumerate(data.splitlines(), start=1) if needle in line]
    return hits[nth]


def by_row(table: pd.DataFrame, source_row: int) -> pd.Series:
    rows = table[table["source_row"] == source_row]
    assert len(rows) == 1, f"expected one entry starting at line {source_row}"
    return rows.iloc[0]


# --- MT940 ------------------------------------------------------------------------------------

MT940 = "mt940_cmxl_multi.sta"


def test_mt940_sample_loads_every_entry_and_every_statement_balances(real):
    table, rejects, meta = bankfiles.read("mt940", sample(real, MT940), MT940)
    assert len(table) == 16 and rejects.empty
    assert list(table.columns) == list(bankfiles.COLUMNS) + ["source_row"]
    assert table["amount"].dtype == MONEY_DTYPE
    stmts = meta["statements"]
    assert [s["entries"] for s in stmts] == [11, 2, 3]
    # hand check: 2187.95 - 800 + 3000 = 4387.95 and 40000 + 20000 - 10000 + 40 = 50040
    assert [(s["opening"], s["sum_credits"], s["sum_debits"], s["closing"]) for s in stmts[1:]] == [
        (D("2187.95"), D("3000.00"), D("800.00"), D("4387.95")),
        (D("40000.00"), D("20040.00"), D("10000.00"), D("50040.00"))]
    assert all(s["balance_ok"] for s in stmts)
    assert [s["currency"] for s in stmts] == ["DEM", "EUR", "PLN"]
    assert set(table["account"]) == {"45050050/76198810", "10020030/1234567", "BPHKPLPK/320000546101"}


def test_mt940_structured_details_give_counterparty_purpose_and_dates(real):
    data = sample(real, MT940)
    table, _, _ = bankfiles.read("mt940", data, MT940)
    rent = by_row(table, line_of(data, b":61:0211011102DR800"))
    assert rent["amount"] == D("-800.00") and rent["direction"] == "out" and rent["currency"] == "EUR"
    assert rent["value_date"] == dt.date(2002, 11, 1)
    assert rent["txn_time"] == pd.Timestamp("2002-11-02")  # entry date 1102 = booking date
    assert (rent["txn_id"], rent["txn_type"]) == ("55555", "NSTO")
    assert (rent["counterparty"], rent["counterparty_account"]) == ("MUELLER", "10020030/234567")
    assert rent["memo"] == "Miete November"
    salary = by_row(table, line_of(data, b":61:0211021102CR3000"))
    assert salary["amount"] == D("3000.00")
    assert salary["memo"].startswith("Gehalt Oktober ")  # "Oktob" + line break + "er" joined back
    polish = by_row(table, line_of(data, b":61:0310201020C20000,00"))
    assert polish["counterparty_account"] == "PL08106000760000777777777777"  # ?38 IBAN split over two lines
    assert polish["txn_id"] == "8327000090031789"


def test_mt940_amounts_and_dates_agree_with_the_mt940_library(real):
    import mt940

    data = sample(real, MT940)
    table, _, _ = bankfiles.read("mt940", data, MT940)
    library = mt940.models.Transactions()
    library.parse(data.decode("utf-8"))
    assert [t.data["amount"].amount for t in library] == table["amount"].tolist()
    assert [t.data["date"] for t in library] == table["value_date"].tolist()


def test_mt940_broken_amount_and_impossible_date_are_rejected_with_their_lines(real):
    data = sample(real, MT940)
    broken = data.replace(b":61:131017D620,3NSTON", b":61:131017D62O,3NSTON").replace(
        b":61:0211021102CR3000,", b":61:0202301102CR3000,")
    table, rejects, meta = bankfiles.read("mt940", broken, "broken.sta")
    assert len(table) == 14
    assert rejects[["source_row", "column", "value", "code"]].values.tolist() == [
        [line_of(data, b":61:131017D620,3"), "amount", "62O,3", "bad_amount"],
        [line_of(data, b":61:0211021102CR3000"), "value_date", "020230", "bad_date"]]
    assert [s["balance_ok"] for s in meta["statements"]] == [False, False, True]
    assert any("does not balance" in w for w in meta["warnings"])


HAND_MT940 = (
    "{1:F01BANKDEFFAXXX0000000000}{2:O940BANKDEFFXXXXN}{4:\r\n"
    ":20:STMT1\r\n"
    ":25:DE89370400440532013000\r\n"
    ":28C:1/1\r\n"
    ":60F:C251231EUR1000,00\r\n"
    ":61:2512310101C250,5NTRFNONREF//B1\r\n"
    ":86:Payment order 123\r\n"
    "for December\r\n"
    ":61:2512311231RD100,NMSCREF2//B2\r\n"
    ":86:Return of direct debit\r\n"
    ":61:2512311231RC50,NMSCNONREF//B3\r\n"
    ":61:2512311231D0,5NCHKNONREF\r\n"
    ":62F:C251231EUR1300,00\r\n"
    "-}"
)


def test_mt940_reversals_year_crossing_entry_date_and_envelope():
    table, rejects, meta = bankfiles.read("mt940", HAND_MT940.encode("ascii"), "hand.sta")
    assert rejects.empty
    # C 250.50; RD (reversal of a debit) books +100; RC (reversal of a credit) books -50; D 0.50
    assert table["amount"].tolist() == [D("250.50"), D("100.00"), D("-50.00"), D("-0.50")]
    assert table["direction"].tolist() == ["in", "in", "out", "out"]
    assert table["txn_id"].tolist()[:3] == ["B1", "B2", "B3"] and pd.isna(table["txn_id"].iloc[3])
    assert table["source_row"].tolist() == [6, 9, 11, 12]
    first = table.iloc[0]
    assert first["value_date"] == dt.date(2025, 12, 31)
    assert first["txn_time"] == pd.Timestamp("2026-01-01")  # entry date 0101 belongs to the next year
    assert first["memo"] == "Payment order 123 for December"
    assert meta["account"] == "DE89370400440532013000"
    (stmt,) = meta["statements"]
    assert stmt["balance_ok"] is True  # 1000 + 250.50 + 100 - 50 - 0.50 = 1300
    assert bankfiles.sniff(HAND_MT940.encode("ascii")) == "mt940"


# --- camt.053 ---------------------------------------------------------------------------------

CAMT = "camt053_v2_multi_statement.xml"


def test_camt_sample_entries_and_balances(real):
    data = sample(real, CAMT)
    table, rejects, meta = bankfiles.read("camt053", data, CAMT)
    assert rejects.empty
    assert table["amount"].tolist() == [D("8.85"), D("-7.00")]
    assert table["source_row"].tolist() == [line_of(data, b"<Ntry>", 0), line_of(data, b"<Ntry>", 1)]
    first = table.iloc[0]
    assert (first["txn_id"], first["counterparty"], first["counterparty_account"], first["memo"]) == (
        "000000001", "Company Name 1", "NL56AGDH9619008421", "Transaction Description 1")
    assert (first["txn_time"], first["value_date"]) == (pd.Timestamp("2014-12-31"), dt.date(2015, 1, 2))
    assert (first["status"], first["txn_type"], first["currency"], first["account"]) == (
        "BOOK", "544", "EUR", "NL26VAYB8060476890")
    s1, s2 = meta["statements"]
    assert (s1["opening"], s1["sum_credits"], s1["closing"], s1["balance_ok"]) == (D("18.15"), D("8.85"), D("27.00"), True)
    assert (s2["opening"], s2["sum_debits"], s2["closing"], s2["balance_ok"]) == (D("27.00"), D("7.00"), D("20.00"), True)


def test_camt_broken_amount_is_rejected_and_the_other_statement_still_loads(real):
    data = sample(real, CAMT)
    broken = data.replace(b'<Amt Ccy="EUR">8.85</Amt>', b'<Amt Ccy="EUR">8,8x5</Amt>')
    table, rejects, meta = bankfiles.read("camt053", broken, "broken.xml")
    assert table["amount"].tolist() == [D("-7.00")]
    assert rejects[["source_row", "column", "value", "code"]].values.tolist() == [
        [line_of(data, b"<Ntry>", 0), "amount", "8,8x5", "bad_amount"]]
    assert [s["balance_ok"] for s in meta["statements"]] == [False, True]


HAND_CAMT = b"""<?xml version="1.0" encoding="UTF-8"?>
<c:Document xmlns:c="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
 <c:BkToCstmrStmt>
  <c:GrpHdr><c:MsgId>M1</c:MsgId></c:GrpHdr>
  <c:Stmt>
   <c:Id>S1</c:Id>
   <c:Acct><c:Id><c:Othr><c:Id>6222000011112222</c:Id></c:Othr></c:Id><c:Ccy>CNY</c:Ccy></c:Acct>
   <c:Bal><c:Tp><c:CdOrPrtry><c:Cd>OPBD</c:Cd></c:CdOrPrtry></c:Tp><c:Amt Ccy="CNY">100.00</c:Amt>
    <c:CdtDbtInd>DBIT</c:CdtDbtInd><c:Dt><c:Dt>2026-10-01</c:Dt></c:Dt></c:Bal>
   <c:Bal><c:Tp><c:CdOrPrtry><c:Cd>CLBD</c:Cd></c:CdOrPrtry></c:Tp><c:Amt Ccy="CNY">1150.00</c:Amt>
    <c:CdtDbtInd>CRDT</c:CdtDbtInd><c:Dt><c:DtTm>2026-10-31T23:59:59+08:00</c:DtTm></c:Dt></c:Bal>
   <c:Ntry>
    <c:Amt Ccy="CNY">1300.00000</c:Amt><c:CdtDbtInd>CRDT</c:CdtDbtInd>
    <c:Sts><c:Cd>BOOK</c:Cd></c:Sts>
    <c:BookgDt><c:DtTm>2026-10-08T09:30:00+08:00</c:DtTm></c:BookgDt><c:ValDt><c:Dt>2026-10-09</c:Dt></c:ValDt>
    <c:AcctSvcrRef>BANKREF-1</c:AcctSvcrRef>
    <c:BkTxCd><c:Domn><c:Cd>PMNT</c:Cd><c:Fmly><c:Cd>RCDT</c:Cd><c:SubFmlyCd>ESCT</c:SubFmlyCd></c:Fmly></c:Domn></c:BkTxCd>
    <c:NtryDtls>
     <c:TxDtls><c:Refs><c:EndToEndId>E1</c:EndToEndId></c:Refs>
      <c:RltdPties><c:Dbtr><c:Pty><c:Nm>Alpha Ltd</c:Nm></c:Pty></c:Dbtr></c:RltdPties>
      <c:RmtInf><c:Ustrd>INV-1</c:Ustrd></c:RmtInf></c:TxDtls>
     <c:TxDtls><c:Refs><c:EndToEndId>E2</c:EndToEndId></c:Refs>
      <c:RltdPties><c:Dbtr><c:Pty><c:Nm>Beta Ltd</c:Nm></c:Pty></c:Dbtr></c:RltdPties>
      <c:RmtInf><c:Strd><c:CdtrRefInf><c:Ref>INV-2</c:Ref></c:CdtrRefInf></c:Strd></c:RmtInf></c:TxDtls>
    </c:NtryDtls>
   </c:Ntry>
   <c:Ntry>
    <c:Amt Ccy="CNY">50.00</c:Amt><c:CdtDbtInd>DBIT</c:CdtDbtInd><c:RvslInd>true</c:RvslInd>
    <c:Sts><c:Cd>BOOK</c:Cd></c:Sts><c:BookgDt><c:Dt>2026-10-10</c:Dt></c:BookgDt>
    <c:AcctSvcrRef>BANKREF-2</c:AcctSvcrRef>
   </c:Ntry>
   <c:Ntry>
    <c:Amt Ccy="CNY">999.00</c:Amt><c:CdtDbtInd>CRDT</c:CdtDbtInd>
    <c:Sts><c:Cd>PDNG</c:Cd></c:Sts><c:BookgDt><c:Dt>2026-10-31</c:Dt></c:BookgDt>
   </c:Ntry>
   <c:Ntry>
    <c:Amt Ccy="CNY">1.00500</c:Amt><c:CdtDbtInd>CRDT</c:CdtDbtInd><c:BookgDt><c:Dt>2026-10-31</c:Dt></c:BookgDt>
   </c:Ntry>
  </c:Stmt>
 </c:BkToCstmrStmt>
</c:Document>
"""


def test_camt_v8_prefixed_batch_entry_pending_and_sub_cent_amounts():
    table, rejects, meta = bankfiles.read("camt053", HAND_CAMT, "hand.xml")
    assert table["amount"].tolist() == [D("1300.00"), D("-50.00"), D("999.00")]
    assert table["status"].tolist() == ["BOOK", "BOOK", "PDNG"]
    batch = table.iloc[0]
    assert batch["txn_id"] == "BANKREF-1"
    assert batch["txn_time"] == pd.Timestamp("2026-10-08 09:30:00")  # wall time as written
    assert batch["value_date"] == dt.date(2026, 10, 9)
    assert batch["counterparty"] == "Alpha Ltd; Beta Ltd"
    assert batch["memo"] == "INV-1; INV-2"
    assert batch["txn_type"] == "PMNT/RCDT/ESCT"
    assert batch["account"] == "6222000011112222" and batch["currency"] == "CNY"
    assert table["source_row"].tolist() == [line_of(HAND_CAMT, b"<c:Ntry>", i) for i in range(3)]
    assert rejects[["source_row", "column", "code"]].values.tolist() == [
        [line_of(HAND_CAMT, b"<c:Ntry>", 3), "amount", "sub_cent_amount"]]
    (stmt,) = meta["statements"]
    # opening is a debit balance: -100 + 1300 - 50 = 1150; the pending 999 is not booked yet
    assert (stmt["opening"], stmt["closing"], stmt["balance_ok"]) == (D("-100.00"), D("1150.00"), True)
    assert bankfiles.sniff(HAND_CAMT) == "camt053"


def test_camt_refuses_xml_with_entities():
    bomb = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaa">]><Document>&a;</Document>'
    with pytest.raises(SourceFileError, match="refused"):
        bankfiles.read("camt053", bomb, "bomb.xml")


def test_camt_truncated_file_names_the_line(real):
    data = sample(real, CAMT)
    with pytest.raises(SourceFileError, match=r"cut\.xml, row \d+: not well-formed XML"):
        bankfiles.read("camt053", data[: len(data) // 2], "cut.xml")


# --- OFX --------------------------------------------------------------------------------------

SGML = "ofx_v102_sgml_bank_medium.ofx"
XML = "ofx_v2_xml_suncorp.ofx"


def test_ofx_sgml_sample(real):
    data = sample(real, SGML)
    table, rejects, meta = bankfiles.read("ofx", data, SGML)
    assert rejects.empty
    assert table["amount"].tolist() == [D("-6.60"), D("-316.67"), D("-22.00")]
    assert table["txn_type"].tolist() == ["POS", "CHECK", "POS"]
    assert table["txn_id"].tolist() == ["0000123456782009040100001", "0000123456782009040200004",
                                        "0000123456782009040300005"]
    # DTPOSTED 20090401122017.000[-5:EST]: the bank's own wall time, not converted to UTC
    assert table["txn_time"].iloc[0] == pd.Timestamp("2009-04-01 12:20:17")
    assert table["source_row"].tolist() == [line_of(data, b"<STMTTRN>", i) for i in range(3)]
    assert table["counterparty"].iloc[1] == "Joe's Bald Hairstyles"
    assert set(table["direction"]) == {"out"}
    assert (meta["account"], meta["currency"]) == ("12300 000012345678", "CAD")
    (stmt,) = meta["statements"]
    assert (stmt["closing"], stmt["sum_debits"], stmt["balance_ok"]) == (D("382.34"), D("345.27"), None)


def test_ofx_xml_sample_with_cdata(real):
    data = sample(real, XML)
    table, rejects, meta = bankfiles.read("ofx", data, XML)
    assert rejects.empty and len(table) == 1
    row = table.iloc[0]
    assert (row["amount"], row["txn_id"], row["txn_type"]) == (D("-16.85"), "1", "DEBIT")
    assert row["txn_time"] == pd.Timestamp("2013-12-15")
    assert row["counterparty"] == "EFTPOS WDL HANDYWAY ALDI STORE"
    assert row["memo"] == "EFTPOS WDL HANDYWAY ALDI STORE   GEELONG WEST VICAU"
    assert row["source_row"] == line_of(data, b"<STMTTRN>")
    assert (meta["account"], meta["currency"], meta["statements"][0]["closing"]) == ("123456789", "AUD", D("1234.12"))


@pytest.mark.parametrize("name", [SGML, XML])
def test_ofx_agrees_with_ofxtools(real, name):
    from ofxtools.Parser import OFXTree

    parser = OFXTree()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ofxtools warns about the private <INTU.BID> tag
        parser.parse(io.BytesIO(sample(real, name)))
        statements = parser.convert().statements
    expected = [(t.fitid, t.trnamt, t.trntype) for s in statements for t in s.transactions]
    table, _, _ = bankfiles.read("ofx", sample(real, name), name)
    assert list(zip(table["txn_id"], table["amount"], table["txn_type"])) == expected


def test_ofx_broken_amount_is_rejected_and_the_rest_loads(real):
    data = sample(real, SGML)
    table, rejects, _ = bankfiles.read("ofx", data.replace(b"-316.67", b"-316,6x"), "broken.ofx")
    assert table["amount"].tolist() == [D("-6.60"), D("-22.00")]
    assert rejects[["source_row", "column", "value", "code"]].values.tolist() == [
        [line_of(data, b"-316.67"), "amount", "-316,6x", "bad_amount"]]


HAND_OFX = (
    b"\r\n  OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nCHARSET:1252\r\n\r\n"
    b"<OFX><CREDITCARDMSGSRSV1><CCSTMTTRNRS><CCSTMTRS><CURDEF>USD<CCACCTFROM><ACCTID>4111</CCACCTFROM>"
    b"<BANKTRANLIST><STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20260105<TRNAMT>12,50<FITID>A1<NAME>Caf\xe9 &amp; Bar</STMTTRN>"
    b"<STMTTRN><TRNTYPE>DEBIT<TRNAMT>-3.00<FITID>A2</STMTTRN>\n"
    b"<STMTTRN><TRNTYPE>DEBIT<DTPOSTED>20260230<TRNAMT>-1.00<FITID>A3</STMTTRN>"
    b"</BANKTRANLIST><LEDGERBAL><BALAMT><DTASOF>20260131</LEDGERBAL></CCSTMTRS></CCSTMTTRNRS></CREDITCARDMSGSRSV1></OFX>"
)


def test_ofx_one_line_sgml_with_quirks():
    table, rejects, meta = bankfiles.read("ofx", HAND_OFX, "card.ofx")
    assert table["amount"].tolist() == [D("12.50")]  # decimal comma read as a decimal point
    assert table["counterparty"].tolist() == ["Café & Bar"]  # cp1252 byte and SGML entity
    assert table["source_row"].tolist() == [7]
    assert rejects[["source_row", "column", "code"]].values.tolist() == [
        [7, "txn_time", "missing_date"], [8, "txn_time", "bad_date"]]
    assert meta["account"] == "4111" and meta["statements"][0]["closing"] is None  # empty BALAMT


# --- sniffing and dispatch --------------------------------------------------------------------


@pytest.mark.parametrize("name, expected", [(MT940, "mt940"), (CAMT, "camt053"), (SGML, "ofx"), (XML, "ofx"),
                                            ("icbc_debit_v2.csv", None), ("alipay_personal_2023_gbk.csv", None)])
def test_sniff_names_each_sample(real, name, expected):
    assert bankfiles.sniff(sample(real, name)[:2048]) == expected


def test_sniff_says_none_for_a_csv():
    assert bankfiles.sniff("交易日,交易时间,借方金额,贷方金额\n2026-10-01,09:00:00,,100.00\n".encode("gbk")) is None


def test_read_refuses_unknown_parser_and_wrong_format():
    with pytest.raises(UsageError, match="mt940, camt053, ofx"):
        bankfiles.read("qif", b"", "x.qif")
    with pytest.raises(SourceFileError, match="no MT940 statement"):
        bankfiles.read("mt940", b"a,b\n1,2\n", "x.csv")
    with pytest.raises(SourceFileError, match="no OFX statement"):
        bankfiles.read("ofx", b"a,b\n1,2\n", "x.csv")


# --- source templates that route files to these readers ---------------------------------------


@pytest.mark.parametrize("name, sample_name", [("mt940", MT940), ("camt053", CAMT), ("ofx", SGML), ("ofx", XML)])
def test_source_templates_recognise_their_sample_and_name_a_reader(real, name, sample_name):
    template = sources.read_template_file(catalog.folder("sources") / f"{name}.yaml")
    assert template.parser == name and template.parser in bankfiles.READERS and template.kind == "bank_txn"
    head = "\n".join(sample(real, sample_name).decode("latin-1").splitlines()[:60])
    fits = {t: detection.score_rows(sources.read_template_file(catalog.folder("sources") / f"{t}.yaml"), [], [], head).fits
            for t in ("mt940", "camt053", "ofx")}
    assert [t for t, ok in fits.items() if ok] == [name]
