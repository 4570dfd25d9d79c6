"""In-cell helpers: an action-list table escapes what it shows and lays out its explanation column."""
from __future__ import annotations

import pandas as pd

from recon_helpers import report


def test_a_table_escapes_data_and_lets_the_explanation_wrap():
    frame = pd.DataFrame({"memo": ["<img src=x onerror=alert(1)>"], "rate_card": ["广东 zone: 1.5 kg -> 2.0 kg = 12.00"]})
    shown = report.table(frame, wide="rate_card")
    html = shown.to_html()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "white-space: normal" in html and "white-space: nowrap" in html
    assert ">0<" not in html, "row numbers say nothing to a reader"
    page = shown._repr_html_()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "dt_for_itables" not in page or "https://" not in page.split("dt_for_itables")[0][-200:]


def test_a_table_masks_personal_columns_and_numbers_in_any_text(monkeypatch):
    monkeypatch.delenv("RECON_MASKING", raising=False)
    frame = pd.DataFrame({"counterparty": ["王明", "杭州栖木家居用品有限公司"], "counterparty_account": ["6222021234567890123", ""],
                          "memo": ["call 13812341234", "refund"]})
    shown = report.table(frame).shown()
    assert list(shown["counterparty"]) == ["王*", "杭州栖木家居用品有限公司"]
    assert list(shown["counterparty_account"]) == ["****0123", ""]
    assert list(shown["memo"]) == ["call 138****1234", "refund"]
    assert list(report.table(frame).data["counterparty"]) == ["王明", "杭州栖木家居用品有限公司"], "the data stay raw"
    monkeypatch.setenv("RECON_MASKING", "off")
    assert list(report.table(frame).shown()["counterparty"]) == ["王明", "杭州栖木家居用品有限公司"]


def test_a_long_list_is_capped_with_a_note():
    frame = pd.DataFrame({"key": [f"K{i}" for i in range(report.cells.MAX_TABLE_ROWS + 7)]})
    shown = report.table(frame)
    assert len(shown.shown()) == report.cells.MAX_TABLE_ROWS
    assert f"of {report.cells.MAX_TABLE_ROWS + 7:,} rows" in shown.to_html() and "Excel" in shown.to_html()


def test_an_empty_list_says_so_in_words():
    assert "nothing to act on" in report.table(pd.DataFrame({"a": []}))._repr_html_()


def test_a_column_of_long_text_wraps_and_ids_stay_on_one_line():
    frame = pd.DataFrame({"key": ["SF1402318000546", "SF1402318000547"],
                          "candidates": ["right:platform/tmall_alipay_account.zip!2088502_202610_账务明细.csv:2354 (1.0)", "-"]})
    shown = report.table(frame)
    page = shown._repr_html_()
    assert '"targets": [1]' in page.replace("'", '"') and "recon-wide" in page, "the long column wraps"
    static = shown.to_html()
    assert "overflow-wrap: anywhere" in static and "white-space: nowrap" in static
    assert report.table(frame[["key"]])._wide_labels(frame[["key"]]) == [], "short columns keep one line"
