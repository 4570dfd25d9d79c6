"""In-cell helpers: an action-list table escapes what it shows and lays out its explanation column."""
from __future__ import annotations

import pandas as pd

from recon_helpers import report


def test_a_table_escapes_data_and_lets_the_explanation_wrap():
    frame = pd.DataFrame({"counterparty": ["<img src=x onerror=alert(1)>"], "rate_card": ["广东 zone: 1.5 kg -> 2.0 kg = 12.00"]})
    html = report.table(frame, wide="rate_card").to_html()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "white-space: normal" in html and "white-space: nowrap" in html
    assert ">0<" not in html, "row numbers say nothing to a reader"


def test_an_empty_list_says_so_in_words():
    assert "nothing to act on" in report.table(pd.DataFrame({"a": []}))._repr_html_()
