"""Writes are atomic (issue #16 item 7): a match result, a workbook or an audit file whose write fails
part-way leaves the previous file whole, and no temporary file behind."""
from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from recon_helpers.engine import match
from recon_helpers.engine import result as result_module
from recon_helpers.engine.recipe import recipe_from_dict
from recon_helpers.scenarios.base import write_workbook
from recon_helpers.testing import canonical_frame as table

RECIPE = {"name": "atomic", "left": {"kind": "settlement", "label": "结算"}, "right": {"kind": "bank_txn", "label": "银行"},
          "amount": "amount", "date": "txn_time",
          "rules": [{"name": "one", "type": "amount_date", "days": 1, "prefer": "none"}]}


def a_match(amounts: list[str]):
    left = table("s.csv", amount=amounts, txn_time=["10-01"] * len(amounts))
    right = table("b.csv", amount=["10.00"], txn_time=["10-02"])
    return match(left, right, recipe_from_dict(RECIPE, source="<test>"))


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_a_summary_write_that_fails_half_way_keeps_the_previous_summary(tmp_path, monkeypatch):
    paths = a_match(["10.00", "20.00"]).write(tmp_path)
    before = paths["summary"].read_text(encoding="utf-8")
    assert json.loads(before)["rows"] == 3

    def dump_then_fail(doc, stream, **kwargs):
        stream.write(json.dumps(doc, **kwargs)[:25])  # the temporary file holds half a document...
        raise OSError("No space left on device")      # ...when the disk fills up

    monkeypatch.setattr(result_module.json, "dump", dump_then_fail)
    with pytest.raises(OSError, match="No space left"):
        a_match(["10.00", "20.00", "30.00"]).write(tmp_path)
    assert paths["summary"].read_text(encoding="utf-8") == before
    assert json.loads(paths["summary"].read_text(encoding="utf-8"))["rows"] == 3
    assert leftovers(tmp_path) == []


def test_a_parquet_write_that_fails_half_way_keeps_the_previous_file(tmp_path, monkeypatch):
    paths = a_match(["10.00", "20.00"]).write(tmp_path, format="parquet")
    before = pd.read_parquet(paths["links"])
    failing = a_match(["10.00", "20.00", "30.00"])

    def write_then_fail(select_sql: str, path: Path) -> None:
        Path(path).write_bytes(b"PAR1 half a file")
        raise OSError("killed")

    monkeypatch.setattr(failing._ws, "write_parquet", write_then_fail)
    with pytest.raises(OSError, match="killed"):
        failing.write(tmp_path, format="parquet")
    after = pd.read_parquet(paths["links"])  # the first file written: the one the failure hit
    assert len(after) == len(before) == 2
    assert leftovers(tmp_path) == []


def test_a_successful_write_replaces_the_previous_result(tmp_path):
    a_match(["10.00", "20.00"]).write(tmp_path)
    paths = a_match(["10.00", "20.00", "30.00"]).write(tmp_path)
    assert json.loads(paths["summary"].read_text(encoding="utf-8"))["rows"] == 4
    assert len(pd.read_csv(paths["exceptions"], encoding="utf-8-sig")) == 2
    assert leftovers(tmp_path) == []


def test_a_workbook_save_that_fails_half_way_keeps_the_previous_workbook(tmp_path, monkeypatch):
    path = write_workbook({"差异": pd.DataFrame({"key": ["A1", "A2"]})}, tmp_path / "lists.xlsx")

    def save_then_fail(self, filename):
        Path(filename).write_bytes(b"PK\x03\x04 half a workbook")
        raise OSError("killed")

    monkeypatch.setattr(openpyxl.Workbook, "save", save_then_fail)
    with pytest.raises(OSError, match="killed"):
        write_workbook({"差异": pd.DataFrame({"key": ["B1"]})}, path)
    monkeypatch.undo()
    sheet = openpyxl.load_workbook(path).active
    assert [c.value for c in sheet["A"]] == ["key", "A1", "A2"]
    assert leftovers(tmp_path) == []
