"""Every scenario notebook reads like a report: headline figures, charts, the action lists, then how it
was checked and the rejected rows (issue #15 item 2), with its parameters checked before anything runs."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def _code(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


def _first(nb, test) -> int:
    return next(i for i, c in enumerate(nb.cells) if test(c))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_page_shows_figures_then_charts_then_lists_then_how_it_was_checked(path):
    nb = nbformat.read(str(path), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", []), "the parameters cell comes first"
    assert "check_parameters(" in code[1].source, "the parameters are checked before anything runs"
    figures = _first(nb, lambda c: "record_kpis(" in c.source)
    charts = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "report.show(" in c.source]
    lists = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "report.table(" in c.source]
    checked = _first(nb, lambda c: c.cell_type == "markdown" and c.source.startswith("## How this was checked"))
    rejected = _first(nb, lambda c: "rejected_rows(" in c.source)
    assert charts and lists
    assert figures < min(charts) and max(charts) < min(lists), "figures, then every chart, then the lists"
    assert max(i for i in lists if i < checked) < checked < rejected == len(nb.cells) - 1
    assert all(not c.get("outputs") for c in code), "notebooks are committed without outputs"
