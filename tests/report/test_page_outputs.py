"""What a page shows for outputs that only make sense in a kernel: folder labels, widgets, written paths."""
from __future__ import annotations

from pathlib import Path

import nbformat

from recon_helpers.report.notebook import WIDGET_NOTE, export_html
from recon_helpers.report.sharing import Sharer


def test_a_folder_label_in_a_pages_markup_is_text_not_a_tag(tmp_path):
    work = tmp_path / "recon_work"
    sharer = Sharer(roots={str(work): "<workspace>"})
    html = f"<p>workspace <code>{work}/workspace.duckdb</code></p><script>var f = '{work}/x';</script>"
    shared = sharer.html(html)
    assert "<code>&lt;workspace&gt;/workspace.duckdb</code>" in shared
    assert "var f = '<workspace>/x'" in shared, "inside a script the label is a plain string"
    assert str(tmp_path) not in shared


def test_a_widget_and_a_written_path_read_as_sentences_on_the_page(tmp_path):
    nb = nbformat.v4.new_notebook()
    widget = nbformat.v4.new_code_cell("recon.review.open(check)")
    widget.outputs = [nbformat.v4.new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2, "version_minor": 0},
        "text/plain": "VBox(children=(HTML(value='<h3>复核 Review</h3>'),))"})]
    written = nbformat.v4.new_code_cell("check.carry_forward(output_dir)")
    written.outputs = [nbformat.v4.new_output("execute_result", data={
        "text/plain": "PosixPath('<reports>/2026-10/customer_statement/all/carry_forward.json')"}, execution_count=2)]
    nb.cells = [widget, written]
    page = tmp_path / "page.html"
    export_html(Path("page.ipynb"), page, title="t", nb=nb)
    html = page.read_text(encoding="utf-8")
    assert "VBox(children" not in html and "PosixPath(" not in html
    assert WIDGET_NOTE in html
    assert "已写入 Written: <code>carry_forward.json</code>" in html
