"""The review cell under papermill: applies the journal, shows what is decided and open, never waits, writes nothing."""
from __future__ import annotations

import nbformat
import papermill
import pytest

from recon_helpers.review.session import ReviewSession
from recon_helpers.review.workspace import FOLDER_NAME

pytestmark = pytest.mark.notebook


def _run(notebooks_dir, demo_dir, tmp_path, **parameters):
    executed = tmp_path / "courier_bill_sf.ipynb"
    papermill.execute_notebook(
        str(notebooks_dir / "courier_bill.ipynb"), str(executed),
        parameters={"period": "2026-10", "data_dir": str(demo_dir), "output_dir": str(tmp_path / "reports"),
                    "carrier": "sf", **parameters},
        kernel_name="python3", cwd=str(notebooks_dir), progress_bar=False)
    nb = nbformat.read(str(executed), as_version=4)
    cell = next(c for c in nb.cells if "recon.review.open" in c.source)
    return "".join(o.get("data", {}).get("text/html", "") for o in cell.outputs)


def test_a_batch_run_applies_the_journal_and_shows_the_decisions(notebooks_dir, demo_dir, tmp_path, sf_check):
    session = ReviewSession(sf_check, tmp_path / "ws", actor="王会计")
    billed = session.queue(category="missing_on_left")["fingerprint"]
    session.write_off(billed, reason_code="carrier_claim", note="claimed back from SF")
    html = _run(notebooks_dir, demo_dir, tmp_path, workspace=str(tmp_path / "ws"))
    open_now = session.counts()["open"]
    assert f"open 待处理 <b>{open_now}</b>" in html and f"resolved 已处理 <b>{len(billed)}</b>" in html
    assert "claimed back from SF" in html


def test_a_batch_run_without_a_workspace_creates_none(notebooks_dir, demo_dir, tmp_path, sf_check):
    html = _run(notebooks_dir, demo_dir, tmp_path)
    assert f"open 待处理 <b>{len(sf_check.exceptions())}</b>" in html
    assert not (demo_dir.parent / FOLDER_NAME).exists()


def test_apply_decisions_gives_a_report_the_open_items_after_the_journal(sf_check, tmp_path):
    import recon_helpers as recon

    session = ReviewSession(sf_check, tmp_path / "ws", actor="王会计")
    session.wait(session.queue(category="missing_on_right")["fingerprint"], note="SF bills next month")
    applied = recon.review.apply_decisions(sf_check, tmp_path / "ws")
    assert applied.counts["waiting"] == len(sf_check.exceptions("missing_on_right"))
    by_category = applied.open_by_category().set_index("category")["rows"]
    assert by_category.sum() == len(sf_check.exceptions())  # waiting rows are still open items
