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
    parser: null               # e.g. mt940: the file is read by recon_helpers.bankfiles.read(...)
    sheet: null                # XLSX sheet name; default: the sheet whose header fits
    currency: CNY              # filled in when the template maps money but no currency column
    null_values: []            # extra "no value" markers besides / - -- and empty
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
      # other keys: position (1-based column number, for repeated header names), value (constant),
      # optional (column may be missing), required (empty cell -> reject), negate, sign_from,
      # pattern (regex whose first group is the value), strip_prefix, first_filled (per row the
      # first non-empty of the listed columns), invalid: empty (unparseable -> empty + warning,
      # for informational columns such as a running balance). income/expense: every listed
      # column present in the file is added up (expense columns count negative whatever their sign).
    control_totals:            # totals the file states about itself, checked after loading
      - {label: 合计 运费, row: 合计, sum: 运费}
      - {label: 收入合计, pattern: '收入合计：(?P<count>\\d+)笔，共(?P<total>[-\\d,.]+)元', sum: 收入金额}

Column names compare loosely (full-width vs ASCII parentheses, spaces, case): see
:func:`recon_helpers.normalise.loose_key`.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from . import canonical
from .errors import DetectionError, TemplateError
from .normalise import loose_key

TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "templates" / "sources"

DEFAULT_FOOTER_MARKERS = [
    r"#", r"-{3,}", r"合计", r"总计", r"总交易单数", r"资金流水总笔数", r"人民币合计", r"以上数据仅供参考",
    r"共\d+笔", r"导出时间",
]

FileType = Literal["csv", "xlsx", "xls", "text"]

#: table kinds this module accepts besides canonical.TABLE_KINDS, until canonical lists them
EXTRA_KINDS: dict[str, str] = {}  # kinds a deployment adds beyond canonical.TABLE_KINDS


# --------------------------------------------------------------------------- YAML

class _NoDatesSafeLoader(yaml.SafeLoader):
    """SafeLoader that keeps ``2026-03`` and ``2026-03-01`` as strings (papermill does the same)."""


_NoDatesSafeLoader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _as_list(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, (str, int)):
        return [str(value)]
    return value


# --------------------------------------------------------------------------- schema

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class FieldMap(_Strict):
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

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, (str, list)):
            return {"column": _as_list(data)}
        if isinstance(data, dict):
            data = dict(data)
            for key in ("column", "income", "expense", "strip_prefix", "formats", "time_column", "time_formats"):
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
        if self.pattern is not None:
            try:
                from .normalise import _name_first_group

                re.compile(_name_first_group(self.pattern))
            except (re.error, ValueError) as exc:
                raise ValueError(f"pattern {self.pattern!r} is not a regex with one (group): {exc}") from None
        return self

    @property
    def columns_used(self) -> list[str]:
        return [*self.column, *self.income, *self.expense, *self.time_column]


def _compiled_ok(patterns: list[str]) -> list[str]:
    """Marker regexes are compiled when the template loads, so a typo fails there, naming the field."""
    for pattern in patterns:
        re.compile(pattern)
    return patterns


class Recognise(_Strict):
    """The fingerprint of a layout: columns of its header row and optional marker lines."""

    columns: list[str] = []
    absent: list[str] = []
    markers: list[str] = []
    also: list[str] = []

    @field_validator("markers")
    @classmethod
    def _regexes(cls, values: list[str]) -> list[str]:
        return _compiled_ok(values)


class HeaderSpec(_Strict):
    max_scan: int = Field(default=60, ge=1, le=1000)


class FooterSpec(_Strict):
    markers: list[str] = Field(default_factory=lambda: list(DEFAULT_FOOTER_MARKERS))

    @field_validator("markers")
    @classmethod
    def _regexes(cls, values: list[str]) -> list[str]:
        return _compiled_ok(values)


class Where(_Strict):
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


class ControlTotal(_Strict):
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


class SourceTemplate(_Strict):
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
            if (spec.formats or spec.time_column) and kind not in ("datetime", "date"):
                raise ValueError(f"{name}: formats/time_column only apply to date and time fields")
            if spec.map and kind not in ("text", "id"):
                raise ValueError(f"{name}: map only applies to text and id fields")
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
            names.update(loose_key(n) for n in entry.split("|"))
        for spec in self.mapping.values():
            names.update(loose_key(n) for n in spec.columns_used)
        for check in self.control_totals:
            names.update(loose_key(n) for n in check.sum)
        names.discard("")
        return names

    @functools.cached_property
    def required_columns(self) -> list[list[str]]:
        """The fingerprint: for each required column, its loose synonyms."""
        return [[loose_key(n) for n in entry.split("|")] for entry in self.recognise.columns]

    def summary(self) -> str:
        return f"{self.name} ({self.kind}): {self.description}"


# --------------------------------------------------------------------------- loading templates

def _pydantic_field(loc: tuple) -> str:
    return ".".join(str(p) for p in loc if not str(p).startswith("function-"))


def parse_template(data: Any, *, origin: str) -> SourceTemplate:
    """Validate a template's YAML data; errors name ``origin`` (the file) and the field."""
    if not isinstance(data, dict):
        raise TemplateError("a source template must be a YAML mapping (key: value lines)", template_file=origin)
    try:
        template = SourceTemplate.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = _pydantic_field(err["loc"]) or None
        more = f" (and {len(exc.errors()) - 1} more problem(s))" if len(exc.errors()) > 1 else ""
        raise TemplateError(err["msg"] + more, template_file=origin, field=where) from None
    except re.error as exc:
        raise TemplateError(f"bad regular expression: {exc}", template_file=origin) from None
    template.path = origin
    return template


def read_template_file(path: str | Path) -> SourceTemplate:
    """Read and validate one YAML template file."""
    p = Path(path)
    origin = _display_path(p)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TemplateError("template file not found", template_file=origin) from None
    except UnicodeDecodeError:
        raise TemplateError("template file is not UTF-8 text", template_file=origin) from None
    try:
        data = yaml.load(text, Loader=_NoDatesSafeLoader)  # noqa: S506 - SafeLoader subclass
    except yaml.YAMLError as exc:
        raise TemplateError(f"not valid YAML: {exc}", template_file=origin) from None
    return parse_template(data, origin=origin)


def _display_path(p: Path) -> str:
    try:
        return p.resolve().relative_to(TEMPLATE_DIR.parents[1]).as_posix()
    except ValueError:
        return p.as_posix()


_REGISTRY: dict[str, SourceTemplate] = {}
_BUILTINS_LOADED = False


def register_template(template: SourceTemplate) -> None:
    """Add (or replace) a template in the registry used by detection and ``get_template(name)``."""
    _REGISTRY[template.name] = template


def _load_builtins() -> None:
    global _BUILTINS_LOADED
    if _BUILTINS_LOADED:
        return
    for path in sorted(TEMPLATE_DIR.glob("*.yaml")):
        template = read_template_file(path)
        if template.name != path.stem:
            raise TemplateError(f"name {template.name!r} differs from the file name {path.stem!r}",
                                template_file=_display_path(path), field="name")
        _REGISTRY.setdefault(template.name, template)
    _BUILTINS_LOADED = True


def list_templates() -> list[SourceTemplate]:
    """All registered templates (built-in ones from ``templates/sources/``), sorted by name."""
    _load_builtins()
    return [_REGISTRY[n] for n in sorted(_REGISTRY)]


def get_template(name_or_path: "str | Path | SourceTemplate") -> SourceTemplate:
    """A template by registered name, or read from a YAML path (a user-written mapping)."""
    if isinstance(name_or_path, SourceTemplate):
        return name_or_path
    text = str(name_or_path)
    if text.endswith((".yaml", ".yml")) or "/" in text or "\\" in text:
        return read_template_file(text)
    _load_builtins()
    if text not in _REGISTRY:
        close = sorted(_REGISTRY, key=lambda n: -_similarity(n, text))[:3]
        raise TemplateError(f"no template named {text!r}; did you mean {', '.join(close)}? "
                            "(`recon templates` lists them all)")
    return _REGISTRY[text]


def _similarity(a: str, b: str) -> float:
    from rapidfuzz import fuzz

    return fuzz.ratio(a, b)


# --------------------------------------------------------------------------- fingerprint scoring

@dataclass
class HeaderFit:
    """How well one template fits one file: the best header row and what it matched or missed."""

    template: SourceTemplate
    row_index: int | None            # index into the scanned rows
    line: int | None                 # the physical line / sheet row of the header
    score: int                       # header cells this template knows
    fits: bool
    matched: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    reason: str = ""


def score_rows(template: SourceTemplate, rows: list[list[str]], lines: list[int], head_text: str) -> HeaderFit:
    """Score a template against the first rows of a file (cells already cleaned).

    The header row is the scanned row with all the fingerprint columns and the most cells the
    template knows; the score is that number of known cells, so a layout that explains more of
    the header wins over a look-alike that explains fewer.
    """
    markers_missing = [m for m in template.recognise.markers if not re.search(m, head_text, re.M)]
    if template.parser is not None:
        ok = bool(template.recognise.markers) and not markers_missing
        return HeaderFit(template, None, None, 1000 if ok else 0, ok,
                         matched=list(template.recognise.markers) if ok else [],
                         missing=[f"marker /{m}/" for m in markers_missing],
                         reason=("the text matches " + ", ".join(template.recognise.markers)) if ok else "")
    vocab = template.vocabulary
    required = template.required_columns
    absent = {loose_key(n) for n in template.recognise.absent}
    best: HeaderFit | None = None
    best_key: tuple = ()
    for i, cells in enumerate(rows[: template.header.max_scan]):
        keys = [loose_key(c) for c in cells if c]
        keyset = set(keys)
        have = [entry[0] for entry in required if keyset & set(entry)]
        miss = [template.recognise.columns[j] for j, entry in enumerate(required) if not keyset & set(entry)]
        known = sum(1 for k in keys if k in vocab)
        fits = not miss and not markers_missing and not (keyset & absent)
        candidate = HeaderFit(template, i, lines[i], known, fits,
                              matched=[c for c in cells if c and loose_key(c) in vocab], missing=miss)
        key = (candidate.fits, len(have), known)
        if best is None or key > best_key:
            best, best_key = candidate, key
    if best is None:
        return HeaderFit(template, None, None, 0, False, missing=list(template.recognise.columns))
    if markers_missing:
        best.missing = best.missing + [f"marker /{m}/" for m in markers_missing]
    if best.fits:
        shown = ", ".join(best.matched[:6]) + (", …" if len(best.matched) > 6 else "")
        best.reason = f"header row {best.line} has {shown}"
    return best


def choose(fits: Iterable[HeaderFit], *, source_file: str) -> HeaderFit:
    """The single best-fitting template, or a DetectionError that refuses to guess."""
    ranked = sorted(fits, key=lambda f: (f.fits, f.score, -len(f.missing)), reverse=True)
    good = [f for f in ranked if f.fits]
    if not good:
        near = ranked[:3]
        detail = "; ".join(
            f"{f.template.name} misses {', '.join(f.missing) or 'nothing but fits no row'}" for f in near)
        raise DetectionError(
            f"no source template fits this file. Closest: {detail}. Pass template=NAME or a YAML mapping "
            "(see templates/sources/EXAMPLE_generic.yaml.txt)",
            source_file=source_file, candidates=[f.template.name for f in near])
    if len(good) > 1 and good[0].score == good[1].score:
        tied = [f.template.name for f in good if f.score == good[0].score]
        raise DetectionError(
            f"the file fits {len(tied)} templates equally well ({', '.join(tied)}); refusing to guess - "
            "pass template=NAME", source_file=source_file, candidates=tied)
    return good[0]


@dataclass
class Detection:
    """Which template a file is, where its header is, and why (for ``LoadReport.detected_because``)."""

    template: SourceTemplate
    source_file: str
    header_line: int | None
    because: str
    runner_up: str | None = None


def rank(path: str | Path) -> list[HeaderFit]:
    """Every template scored against the file, best first: which fit, and what the others miss."""
    from .load import rank_file

    return rank_file(path)


def detect(path: str | Path) -> Detection:
    """Recognise a file by its content (header fingerprint, markers); see :func:`choose`."""
    from .load import detect_file

    return detect_file(path)
