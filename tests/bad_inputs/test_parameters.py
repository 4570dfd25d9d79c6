"""A notebook parameter of the wrong type or out of range stops the first cell with a clear message (#16 item 6)."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import papermill
import pytest

from recon_helpers import check_parameters
from recon_helpers.errors import UsageError

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.mark.parametrize("params, phrase", [
    ({"period": "2026-13"}, r"period='2026-13'.*YYYY-MM with a month 01-12"),
    ({"period": 202610}, r"period=202610.*text YYYY-MM, not int"),
    ({"tolerance": -0.01}, r"tolerance=-0.01.*cannot be negative"),
    ({"amount_tol": "abc"}, r"amount_tol='abc'.*a number"),
    ({"date_tolerance": float("nan")}, r"finite"),
    ({"data_dir": "/no/such/folder"}, r"data_dir='/no/such/folder'.*does not exist"),
    ({"data_dir": 3}, r"path, not int"),
    ({"window_days": -2}, r"window_days=-2.*0 or more"),
    ({"top_n": True}, r"whole number, not bool"),
    ({"carrier": ["sf"]}, r"carrier=\['sf'\].*not list"),
])
def test_a_bad_parameter_is_refused_naming_it(params, phrase):
    with pytest.raises(UsageError, match=phrase):
        check_parameters(**params)


def test_good_parameters_pass_as_given(tmp_path):
    (tmp_path / "out.txt").write_text("x")
    given = {"period": "2026-02", "data_dir": str(tmp_path), "output_dir": str(tmp_path / "new"),
             "tolerance": Decimal("0.01"), "amount_tol": "0", "carrier": "sf", "window_days": 3}
    assert check_parameters(**given) == given


def test_an_output_folder_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "reports").write_text("not a folder")
    with pytest.raises(UsageError, match="is a file"):
        check_parameters(output_dir=str(tmp_path / "reports"))


@pytest.mark.notebook
@pytest.mark.parametrize("bad, phrase", [
    ({"period": "2026-13"}, "period='2026-13'"),
    ({"data_dir": "/no/such/folder"}, "data_dir='/no/such/folder'"),
])
def test_courier_notebook_stops_in_its_first_cell(bad, phrase, tmp_path):
    params = {"period": "2026-10", "data_dir": str(tmp_path), "output_dir": str(tmp_path / "out"), **bad}
    executed = tmp_path / "executed.ipynb"
    with pytest.raises(papermill.PapermillExecutionError) as caught:
        papermill.execute_notebook(str(NOTEBOOKS / "courier_bill.ipynb"), str(executed), parameters=params,
                                   kernel_name="python3", cwd=str(NOTEBOOKS), progress_bar=False)
    err = caught.value
    assert err.ename == "UsageError" and phrase in err.evalue, (err.ename, err.evalue)
    import nbformat

    nb = nbformat.read(str(executed), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    failed = next(i for i, c in enumerate(code) if any(o.get("output_type") == "error" for o in c.get("outputs", [])))
    tags = [c.metadata.get("tags", []) for c in code[:failed]]
    assert all({"parameters", "injected-parameters"} & set(t) for t in tags), "it failed after a later cell ran"
    assert "check_parameters" in code[failed].source
    assert not (tmp_path / "out").exists(), "nothing was written before the check stopped the run"
