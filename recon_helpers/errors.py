"""Errors of the workbench: one root, narrow subclasses that keep their facts as attributes.

Every error carries a stable ``code`` and a ``category`` ("template", "data", "usage", "run") so a
person (and the CLI) can tell a broken template from a broken file from a wrong command. The message
always says where the problem is and what to do about it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable


class ReconError(Exception):
    """Something the workbench cannot do; the message says what and what to do."""

    code = "recon_error"
    category = "run"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:  # one line, ready for the CLI
        return self.message


class UsageError(ReconError):
    """A command or function was called with a value that cannot work (bad period, bad folder)."""

    code = "usage"
    category = "usage"


class PeriodError(UsageError):
    """A period is not a valid YYYY-MM month."""

    code = "bad_period"

    def __init__(self, value: str):
        self.value = value
        super().__init__(f"period {value!r} is not a month: write it as YYYY-MM with a month 01-12, e.g. 2026-10")


class TemplateError(ReconError):
    """A source template or recipe file is broken; names the file and the field."""

    code = "bad_template"
    category = "template"

    def __init__(self, message: str, *, template_file: str | Path | None = None, field: str | None = None):
        self.template_file = str(template_file) if template_file is not None else None
        self.field = field
        where = ""
        if self.template_file:
            where = f"{self.template_file}"
            if field:
                where += f", field {field!r}"
            where += ": "
        super().__init__(where + message)


class RecipeError(TemplateError):
    """A match recipe is broken or does not fit the tables it is given."""

    code = "bad_recipe"


class SourceFileError(ReconError):
    """An input file cannot be read at all (missing, empty, binary, truncated, wrong encoding)."""

    code = "bad_file"
    category = "data"

    def __init__(self, message: str, *, source_file: str | Path, row: int | None = None, column: str | None = None):
        self.source_file = str(source_file)
        self.row = row
        self.column = column
        where = self.source_file
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {message}")


class DetectionError(SourceFileError):
    """No single template fits a file; lists the closest templates and what they missed."""

    code = "unknown_format"

    def __init__(self, message: str, *, source_file: str | Path, candidates: Iterable[str] = ()):
        self.candidates = list(candidates)
        super().__init__(message, source_file=source_file)


class MatchInputError(ReconError):
    """Tables handed to the matcher lack what the recipe needs."""

    code = "bad_match_input"
    category = "data"


class InvariantError(ReconError):
    """A match result broke the every-row-exactly-once rule: a bug, never a data problem."""

    code = "invariant_broken"
    category = "run"


class ReportError(ReconError):
    """A report could not be produced."""

    code = "report_failed"
    category = "run"
