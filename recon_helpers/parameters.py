"""Notebook parameters checked up front, so a wrong one stops the first cell, not a cell deep down.

A notebook's ``parameters`` cell declares ``name: type = default  # help``; papermill (or a person)
may replace any value. The first cell after it calls::

    recon.check_parameters(period=period, data_dir=data_dir, carrier=carrier, output_dir=output_dir)

and every value is checked by the rule its name implies. The first broken one raises
:class:`~recon_helpers.errors.UsageError` naming the parameter, the value and what is expected:

==============================================  ============================================
parameter name                                  rule
==============================================  ============================================
``period``, ``*_period``                        a month ``YYYY-MM`` (01-12), week ``YYYY-Www``
                                                or day ``YYYY-MM-DD`` (recon_helpers.cycles)
``*_dir``, ``*_folder`` (inputs)                text or path of a folder that exists
``output_dir``, ``out_dir``, ``report_dir``,    text or path; may not exist yet, but must not
``*_output_dir``                                be a file
``*_path``, ``*_file``                          text or path of a file that exists (``out*``:
                                                may not exist yet)
``tolerance``, ``*_tolerance``, ``*_tol``       a finite number >= 0 (text such as ``"0.01"``
                                                too, read as a decimal)
``*_days``, ``top_*``, ``max_*``, ``min_*``     a whole number >= 0
anything else                                   text, number, true/false or empty (no list
                                                or object a person cannot type in a cell)
==============================================  ============================================
"""
from __future__ import annotations

import math
import os
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable

from recon_helpers.cycles import Cycle
from recon_helpers.errors import PeriodError, UsageError

_OUTPUT_DIRS = ("output_dir", "out_dir", "report_dir", "reports_dir")


def check_parameters(**values: Any) -> dict[str, Any]:
    """Check notebook parameters by the rules of their names (see the module docstring).

    Returns
    -------
    dict
        The values as given, so a cell can show them.

    Raises
    ------
    UsageError
        The first parameter of the wrong type or out of range, e.g. ``period='2026-13'``.
    """
    for name, value in values.items():
        rule = _rule_for(name)
        problem = rule(value)
        if problem:
            raise UsageError(f"notebook parameter {name}={value!r}: {problem}; fix it in the parameters cell "
                             "or in the -p/parameters given to papermill or `recon report`")
    return dict(values)


def _rule_for(name: str) -> Callable[[Any], str | None]:
    low = name.lower()
    if low == "period" or low.endswith("_period"):
        return _period
    if low in _OUTPUT_DIRS or low.endswith("_output_dir"):
        return _output_dir
    if low.endswith(("_dir", "_folder")):
        return _input_dir
    if low.endswith(("_path", "_file")):
        return _output_file if low.startswith("out") else _input_file
    if low == "tolerance" or low.endswith(("_tolerance", "_tol")):
        return _non_negative_number
    if low.endswith("_days") or low.startswith(("top_", "max_", "min_")):
        return _non_negative_int
    return _plain


def _period(value: Any) -> str | None:
    if not isinstance(value, str):
        return f"a period is text YYYY-MM, not {type(value).__name__} (a week YYYY-Www or a day YYYY-MM-DD also works)"
    try:
        Cycle.parse(value)
    except PeriodError as exc:
        return exc.message.removeprefix(f"period {value!r} ")
    return None


def _path_text(value: Any) -> str | None:
    if isinstance(value, (str, os.PathLike)) and str(value).strip():
        return None
    return f"expected the text of a path, not {type(value).__name__}"


def _input_dir(value: Any) -> str | None:
    problem = _path_text(value)
    if problem:
        return problem
    path = Path(value)
    if not path.exists():
        return f"the folder {path.as_posix()} does not exist (relative paths start at {Path.cwd().as_posix()})"
    if not path.is_dir():
        return f"{path.as_posix()} is a file, not a folder"
    return None


def _output_dir(value: Any) -> str | None:
    problem = _path_text(value)
    if problem:
        return problem
    if Path(value).is_file():
        return f"{Path(value).as_posix()} is a file, not a folder to write into"
    return None


def _input_file(value: Any) -> str | None:
    problem = _path_text(value)
    if problem:
        return problem
    if not Path(value).is_file():
        return f"the file {Path(value).as_posix()} does not exist"
    return None


def _output_file(value: Any) -> str | None:
    problem = _path_text(value)
    if problem:
        return problem
    if Path(value).is_dir():
        return f"{Path(value).as_posix()} is a folder, not a file to write"
    return None


def _non_negative_number(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        return f"expected a number such as 0.01, not {type(value).__name__}"
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return "expected a number such as 0.01"
    if not number.is_finite() or (isinstance(value, float) and not math.isfinite(value)):
        return "expected a finite number"
    if number < 0:
        return "a tolerance cannot be negative"
    return None


def _non_negative_int(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return f"expected a whole number, not {type(value).__name__}"
    if value < 0:
        return "expected a whole number of 0 or more"
    return None


def _plain(value: Any) -> str | None:
    if value is None or isinstance(value, (str, int, float, bool, Decimal)):
        return None
    return f"expected text, a number or true/false, not {type(value).__name__}"
