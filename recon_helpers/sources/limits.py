"""Size limits on what a download may hold, so a broken or hostile file is refused, never followed.

Files come from outside (platforms, banks, couriers, customers). A 35 KB workbook can declare a
sheet of 17 billion cells, a 1 MB ZIP can expand to gigabytes, one line can be a whole file. Each
limit below has a default that real exports stay far below; a file past one is refused (or its row
rejected) with a message that names the limit, its value and how to raise it.

Raise a limit for one process with an environment variable (``RECON_<NAME>``, e.g.
``RECON_MAX_ZIP_MEMBER_BYTES=2GiB``; sizes take ``KiB``/``MiB``/``GiB``), or in code with
:func:`overridden`::

    with limits.overridden(max_cell_chars=100_000):
        load("wide_memo.csv")

========================  ==============  ===================================================
limit                     default         what it bounds
========================  ==============  ===================================================
max_file_bytes            1 GiB           a file read from disk
max_zip_member_bytes      512 MiB         one ZIP member (or XLSX part), uncompressed
max_zip_ratio             200             uncompressed / compressed size of a ZIP member
                                          (checked only for members over 16 MiB)
max_zip_members           10000           members in one ZIP archive
max_line_bytes            4 MiB           one physical line of a text file (longer: row rejected)
max_cell_chars            32767           one cell, in characters (Excel's own limit); longer:
                                          the row is rejected, naming the column
max_sheet_cells           20000000        rows x columns of a sheet, counted from its real
                                          cells (never the range the sheet declares)
max_columns               16384           cells of a header row (Excel's own width); a wider
                                          header refuses the file
max_xml_depth             100             elements nested in a bank XML file (camt needs about
                                          12); deeper refuses the file
========================  ==============  ===================================================
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import re
from typing import Iterator

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
          "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30}


@dataclasses.dataclass(frozen=True)
class Limits:
    """The limits in force; see the module docstring for what each bounds."""

    max_file_bytes: int = 1 << 30
    max_zip_member_bytes: int = 512 << 20
    max_zip_ratio: int = 200
    max_zip_members: int = 10_000
    max_line_bytes: int = 4 << 20
    max_cell_chars: int = 32_767
    max_sheet_cells: int = 20_000_000
    max_columns: int = 16_384
    max_xml_depth: int = 100


#: limits whose values are sizes in bytes (shown as MiB/GiB, parsed with units)
_SIZES = {"max_file_bytes", "max_zip_member_bytes", "max_line_bytes"}
_override: dict[str, int] = {}


def _parse(name: str, text: str) -> int:
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", text)
    unit = m.group(2).lower() if m else ""
    if not m or unit not in _UNITS or (unit and name not in _SIZES):
        from recon_helpers.errors import UsageError

        raise UsageError(f"environment variable {env_name(name)}={text!r} is not a "
                         f"{'size such as 512MiB' if name in _SIZES else 'whole number'}")
    return int(float(m.group(1)) * _UNITS[unit])


def env_name(name: str) -> str:
    return "RECON_" + name.upper()


def current() -> Limits:
    """The limits in force: defaults, then ``RECON_*`` environment variables, then :func:`overridden`."""
    values = {}
    for f in dataclasses.fields(Limits):
        text = os.environ.get(env_name(f.name))
        if text is not None:
            values[f.name] = _parse(f.name, text)
    values.update(_override)
    return Limits(**values)


def get(name: str) -> int:
    return getattr(current(), name)


@contextlib.contextmanager
def overridden(**values: int) -> Iterator[Limits]:
    """Raise (or lower) limits inside a ``with`` block, e.g. ``overridden(max_cell_chars=100_000)``."""
    unknown = set(values) - {f.name for f in dataclasses.fields(Limits)}
    if unknown:
        raise TypeError(f"unknown limit(s) {sorted(unknown)}")
    saved = dict(_override)
    _override.update(values)
    try:
        yield current()
    finally:
        _override.clear()
        _override.update(saved)


def show(name: str, value: int | None = None) -> str:
    """A limit's value as a person reads it: ``512 MiB`` for sizes, the number otherwise."""
    value = get(name) if value is None else value
    return size_text(value) if name in _SIZES else f"{value:,}"


def size_text(n: float) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f}".rstrip("0").rstrip(".") + f" {unit}"
    return f"{int(n)} B"


def how_to_raise(name: str) -> str:
    """The end of every over-the-limit message: which limit, its value, how to raise it."""
    return (f"the limit {name} is {show(name)}; if the file is genuine, raise it with the environment "
            f"variable {env_name(name)} (see SECURITY.md)")
