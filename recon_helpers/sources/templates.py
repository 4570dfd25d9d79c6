"""Source templates: how to recognise a raw export and turn it into canonical columns.

A template is data - one YAML file per format in ``templates/sources/`` - validated on load with
pydantic (unknown keys are refused, field names are checked against ``canonical.CANONICAL_FIELDS``).
A broken template raises :class:`~recon_helpers.errors.TemplateError` naming the file and the field,
e.g. ``templates/sources/x.yaml, field 'mapping.amount': ...``.

Schema (every key; see ``templates/sources/EXAMPLE_generic.yaml.txt`` for a commented example)::

    name: my_bank              # unique name; the file is <name>.yaml
    description: ...           # one line for `recon templates`
    source: ...                # public source / layout reference of the format
    kind: bank_txn             # one of canonical.TABLE_KINDS
    file_types: [csv]          # csv | xlsx | xls | text   (CSV inside a ZIP counts as csv)
    encoding: auto             # or a codec name / list tried in order (gb18030, utf-8-sig, utf-16)
    parser: null               # e.g. mt940: the file is read by recon_helpers.sources.structured.read(...)
    sheet: null                # XLSX sheet name; default: the sheet whose header fits
    currency: CNY              # filled in when the template maps money but no currency column
    null_values: []            # extra "no value" markers besides / - -- and empty
    decimal_comma: false       # true: numbers are written 1.234,50 (comma = decimal mark); otherwise a
                               # comma only groups thousands, and 1,5 or 1,2,3 is rejected
    recognise:
      columns: [交易日期, 摘要]  # header fingerprint: ALL must be in one row (a|b = either name)
      absent: []               # columns that must NOT be in that row (tells look-alike layouts apart)
      markers: []              # regexes that must each match a line in the first ~60 lines
      also: []                 # other column names of the layout (help scoring, never required)
    header: {max_scan: 60}     # how many leading lines/rows are searched for the header row
    footer: {markers: [...]}   # regexes; the first line after the header starting with one ends the data
    summary_rows: {column: 摘要, values: [上月结转, 本月合计]}   # in-table balance/total lines: not data,
                               # counted in the report and usable by control totals (row: 本月合计)
    mapping:                   # canonical field -> where its value comes from
      txn_id: 流水号                       # a column name (or a list of synonyms)
      amount: {income: 收入, expense: 支出}  # two columns folded into one signed amount
      txn_time: {column: 交易日期, time_column: 交易时间, formats: ['%Y%m%d'], time_formats: ['%H:%M:%S']}
      direction: {column: 收/支, map: {收入: in, 支出: out, "": neutral}, unmapped: reject}
      # when_blank (text fields with a map: [{column: 资金状态, map: {已收入: in, 已支出: out}}, ...] - where the
      # field's cell is blank, these columns' words decide, in order; a word no rule knows flags the row),
      # from_sign (direction: where still blank, the sign of the amount decides),
      # fallback (id fields: column(s) whose value stands in when the id cell is blank; the row is flagged),
      # a required id that stays blank flags the row and keeps it when the row has an amount (else rejects it);
      # other keys: position (1-based column number, for repeated header names), value (constant),
      # optional (column may be missing), required (empty cell -> reject), negate, sign_from,
      # year_from (regex with (?P<year>) and (?P<month>) searched in the lines above the header: dates
      # written without a year, e.g. '%m/%d', take the statement's year, or the year before for months
      # after the statement's), pattern (regex whose first group is the value), strip_prefix, first_filled (per row the
      # first non-empty of the listed columns), invalid: empty (unparseable -> empty + warning,
      # for informational columns such as a running balance), allow_negative (weights, sizes and
      # quantities below 0 load instead of being rejected, e.g. returns). income/expense: every listed
      # column present in the file is added up (expense columns count negative whatever their sign).
    control_totals:            # totals the file states about itself, checked after loading
      - {label: 合计 运费, row: 合计, sum: 运费}
      - {label: 收入合计, pattern: '收入合计：(?P<count>\\d+)笔，共(?P<total>[-\\d,.]+)元', sum: 收入金额}

Column names compare loosely (full-width forms, spaces and line breaks, case, trailing colons, a unit
in brackets such as ``(元)``/``（kg）``/``[元]``; ``exact:NAME`` pins a name): see
:mod:`recon_helpers.sources.headers`.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from recon_helpers import canonical, catalog
from recon_helpers.catalog import StrictModel
from recon_helpers.errors import TemplateError
from recon_helpers.sources.cells import name_first_group
from recon_helpers.sources.headers import name_key

DEFAULT_FOOTER_MARKERS = [
    r"#", r"-{3,}", r"合计", r"总计", r"总交易单数", r"资金流水总笔数", r"人民币合计", r"以上数据仅供参考",
    r"共\d+笔", r"导出时间",
]

FileType = Literal["csv", "xlsx", "xls", "text"]

#: table kinds this module accepts besides canonical.TABLE_KINDS, until canonical lists them
EXTRA_KINDS: dict[str, str] = {}  # kinds a deployment adds beyond canonical.TABLE_KINDS


def _as_list(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, (str, int)):
        return [str(value)]
    return value


# --------------------------------------------------------------------------- schema



class WhenBlank(StrictModel):
    """Where a mapped text cell is blank, another column's words decide (资金状态 已收入 -> in)."""

    column: list[str]
    map: dict[str, str | None]

    @model_validator(mode="before")
    @classmethod
    def _lists(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            if "column" in data:
                data["column"] = _as_list(data["column"])
            if isinstance(data.get("map"), dict):
                data["map"] = {str(k): (None if v is None else str(v)) for k, v in data["map"].items()}
        return data


class FieldMap(StrictModel):
    """Where one canonical field's value comes from and how it is parsed."""

    column: list[str] = []
    position: int | None = Field(default=None, ge=1)
    value: str | None = None
    income: list[str] = []
    expense: list[str] = []
    optional: bool = False
    required: bool = False
    negate: bool = False
    sign_from: str | None = None
    pattern: str | None = None
    strip_prefix: list[str] = []
    formats: list[str] = []
    time_column: list[str] = []
    time_formats: list[str] = []
    map: dict[str, str | None] = {}
    unmapped: Literal["keep", "null", "reject"] = "keep"
    first_filled: bool = False
    invalid: Literal["reject", "empty"] = "reject"
    year_from: str | None = None
    fallback: list[str] = []
    when_blank: list[WhenBlank] = []
    from_sign: bool = False
    allow_negative: bool = False

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, (str, list)):
            return {"column": _as_list(data)}
        if isinstance(data, dict):
            data = dict(data)
            for key in ("column", "income", "expense", "strip_prefix", "formats", "time_column", "time_formats",
                        "fallback"):
                if key in data:
                    data[key] = _as_list(data[key])
            if "value" in data and data["value"] is not None:
                data["value"] = str(data["value"])
            if isinstance(data.get("map"), dict):
                data["map"] = {("" if k is None else str(k)): (None if v is None else str(v)) for k, v in data["map"].items()}
        return data

    @model_validator(mode="after")
    def _one_source(self) -> "FieldMap":
        sources = [bool(self.column), self.position is not None, self.value is not None,
                   bool(self.income or self.expense)]
        if sum(sources) != 1:
            raise ValueError("give exactly one of: column, position, value, income/expense")
        if self.year_from is not None and "year" not in re.compile(self.year_from).groupindex:
            raise ValueError(f"year_from {self.year_from!r} needs a named group (?P<year>\\d{{4}}) "
                             "(and optionally (?P<month>...))")
        if self.pattern is not None:
            try:

                re.compile(name_first_group(self.pattern))
            except (re.error, ValueError) as exc:
                raise ValueError(f"pattern {self.pattern!r} is not a regex with one (group): {exc}") from None
        return self

    @property
    def columns_used(self) -> list[str]:
        return [*self.column, *self.income, *self.expense, *self.time_column, *self.fallback,
                *(name for rule in self.when_blank for name in rule.column)]


def _compiled_ok(patterns: list[str]) -> list[str]:
    """Marker regexes are compiled when the template loads, so a typo fails there, naming the field."""
    for pattern in patterns:
        re.compile(pattern)
    return patterns


class Recognise(StrictModel):
    """The fingerprint of a layout: columns of its header row and optional marker lines."""

    columns: list[str] = []
    absent: list[str] = []
    markers: list[str] = []
    also: list[str] = []

    @field_validator("markers")
    @classmethod
    def _regexes(cls, values: list[str]) -> list[str]:
        return _compiled_ok(values)


class HeaderSpec(StrictModel):
    max_scan: int = Field(default=60, ge=1, le=1000)


class FooterSpec(StrictModel):
    markers: list[str] = Field(default_factory=lambda: list(DEFAULT_FOOTER_MARKERS))

    @field_validator("markers")
    @classmethod
    def _regexes(cls, values: list[str]) -> list[str]:
        return _compiled_ok(values)


class Where(StrictModel):
    """Restrict a control total to some rows: a column's value in a list, or non-zero."""

    column: list[str]
    values: list[str] = []
    nonzero: bool = False

    @model_validator(mode="before")
    @classmethod
    def _lists(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for key in ("column", "values"):
                if key in data:
                    data[key] = _as_list(data[key])
        return data


class ControlTotal(StrictModel):
    """A total the file states about itself (footer or preamble), checked against the loaded rows.

    Where the stated figure is: ``pattern`` (regex with named groups ``count`` and/or ``total``,
    searched in the preamble and footer lines), ``row`` (the footer row whose first cell starts with
    this text; the figure sits under the ``sum`` column) or ``below`` (a footer row holds this cell as a
    label and the next row the figure; ``row`` also finds a ``summary_rows`` line by any of its cells).
    ``sum`` names the source column added up over loaded rows
    (without it the stated figure is a row count); ``where`` restricts the rows; ``absolute``
    compares absolute values (expense totals are written positive by some exports, negative by others).
    """

    label: str
    pattern: str | None = None
    row: str | None = None
    below: str | None = None
    sum: list[str] = []
    where: Where | None = None
    absolute: bool = False

    @model_validator(mode="before")
    @classmethod
    def _lists(cls, data: Any) -> Any:
        if isinstance(data, dict) and "sum" in data:
            data = dict(data)
            data["sum"] = _as_list(data["sum"])
        return data

    @model_validator(mode="after")
    def _one_place(self) -> "ControlTotal":
        if sum(x is not None for x in (self.pattern, self.row, self.below)) != 1:
            raise ValueError("give exactly one of: pattern, row, below")
        if self.pattern is not None:
            compiled = re.compile(self.pattern)
            if not {"count", "total"} & set(compiled.groupindex):
                raise ValueError("pattern needs a named group (?P<count>...) or (?P<total>...)")
        return self


class SourceTemplate(StrictModel):
    """One source format: recognition, header/footer rules, mapping and control totals."""

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    description: str
    source: str
    kind: str
    file_types: list[FileType] = ["csv"]
    encoding: list[str] = ["auto"]
    parser: str | None = None
    sheet: str | None = None
    currency: str = "CNY"
    null_values: list[str] = []
    decimal_comma: bool = False
    recognise: Recognise = Recognise()
    header: HeaderSpec = HeaderSpec()
    footer: FooterSpec = FooterSpec()
    mapping: dict[str, FieldMap] = {}
    summary_rows: Where | None = None
    control_totals: list[ControlTotal] = []
    path: str | None = Field(default=None, exclude=True)

    @model_validator(mode="before")
    @classmethod
    def _lists(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = dict(data)
            for key in ("file_types", "encoding", "null_values"):
                if key in data:
                    data[key] = _as_list(data[key])
        return data

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        kinds = {**EXTRA_KINDS, **canonical.TABLE_KINDS}
        if value not in kinds:
            raise ValueError(f"{value!r} is not a table kind; use one of {', '.join(kinds)}")
        return value

    @field_validator("mapping")
    @classmethod
    def _fields(cls, mapping: dict[str, FieldMap]) -> dict[str, FieldMap]:
        for name, spec in mapping.items():
            if name not in canonical.CANONICAL_FIELDS:
                raise ValueError(f"{name!r} is not a canonical field; see canonical.CANONICAL_FIELDS")
            kind = canonical.CANONICAL_FIELDS[name].kind
            if (spec.income or spec.expense or spec.negate or spec.sign_from) and kind != "money":
                raise ValueError(f"{name}: income/expense/negate/sign_from only apply to money fields")
            if (spec.formats or spec.time_column or spec.year_from) and kind not in ("datetime", "date"):
                raise ValueError(f"{name}: formats/time_column/year_from only apply to date and time fields")
            if spec.map and kind not in ("text", "id"):
                raise ValueError(f"{name}: map only applies to text and id fields")
            if spec.fallback and kind not in ("text", "id"):
                raise ValueError(f"{name}: fallback only applies to text and id fields")
            if (spec.when_blank or spec.from_sign) and not spec.map:
                raise ValueError(f"{name}: when_blank/from_sign need a map (the words of the field's own column)")
            if spec.from_sign and name != "direction":
                raise ValueError(f"{name}: from_sign only applies to direction")
        return mapping

    @model_validator(mode="after")
    def _consistent(self) -> "SourceTemplate":
        for name, spec in self.mapping.items():
            if spec.sign_from and spec.sign_from not in self.mapping:
                raise ValueError(f"mapping.{name}.sign_from names {spec.sign_from!r}, which the template does not map")
        if self.parser is None and not self.recognise.columns:
            raise ValueError("recognise.columns is empty: a tabular template needs header columns to find")
        if self.parser is None and not self.mapping:
            raise ValueError("mapping is empty: say which columns feed which canonical fields")
        return self

    # ----------------------------------------------------------------- derived

    @functools.cached_property
    def vocabulary(self) -> set[str]:
        """Every loose column name this layout is known to have (scores header candidates)."""
        names: set[str] = set()
        for entry in [*self.recognise.columns, *self.recognise.also]:
            names.update(name_key(n) for n in entry.split("|"))
        for spec in self.mapping.values():
            names.update(name_key(n) for n in spec.columns_used)
        for check in self.control_totals:
            names.update(name_key(n) for n in check.sum)
        names.discard("")
        return names

    @functools.cached_property
    def required_columns(self) -> list[list[str]]:
        """The fingerprint: for each required column, its loose synonyms."""
        return [[name_key(n) for n in entry.split("|")] for entry in self.recognise.columns]

    def summary(self) -> str:
        return f"{self.name} ({self.kind}): {self.description}"


# --------------------------------------------------------------------------- loading templates

def parse_template(data: Any, *, origin: str) -> SourceTemplate:
    """Validate a template's YAML data; errors name ``origin`` (the file) and every field at fault."""
    if not isinstance(data, dict):
        raise TemplateError("a source template must be a YAML mapping (key: value lines)", template_file=origin)
    try:
        template = SourceTemplate.model_validate(data)
    except ValidationError as exc:
        raise catalog.schema_error(exc, origin=origin, what="template") from None
    except re.error as exc:
        raise TemplateError(f"bad regular expression: {exc}", template_file=origin) from None
    template.path = origin
    return template


def read_template_file(path: str | Path) -> SourceTemplate:
    """Read and validate one YAML template file."""
    return parse_template(catalog.read_yaml(path), origin=catalog.display_path(path))


#: the built-in templates (templates/sources/*.yaml) and any a user registers
TEMPLATES: catalog.Shelf[SourceTemplate] = catalog.Shelf(
    "sources", read=read_template_file, name_of=lambda t: t.name, noun="source template")


def register_template(template: SourceTemplate) -> None:
    """Add (or replace) a template in the registry used by detection and ``get_template(name)``."""
    TEMPLATES.register(template)


def list_templates() -> list[SourceTemplate]:
    """All registered templates (built-in ones from ``templates/sources/``), sorted by name."""
    return TEMPLATES.all()


def get_template(name_or_path: "str | Path | SourceTemplate") -> SourceTemplate:
    """A template by registered name, or read from a YAML path (a user-written mapping)."""
    if isinstance(name_or_path, SourceTemplate):
        return name_or_path
    return TEMPLATES.get(name_or_path)
