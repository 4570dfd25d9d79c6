"""SQL text the engine runs, built by functions: quoting, the few DuckDB-specific spellings (marked
``DIALECT``), key normalisation and tolerance comparisons. :mod:`.store` executes it."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Sequence

from recon_helpers.engine import windows

SIDES = ("left", "right", "third")
OUTCOME_COLUMNS = "side, _rid, is_link, group_id, rule, score, status, category, detail"
SIDE_NO = {"left": 0, "right": 1, "third": 2}


# ---------------------------------------------------------------------------------------------------
# quoting and DIALECT helpers (the only DuckDB-specific spellings)
# ---------------------------------------------------------------------------------------------------
def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + str(name).replace('"', '""') + '"'


def literal(value: object) -> str:
    """A SQL literal for text, integers and Decimals (never floats: money stays exact)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, Decimal)):
        return f"CAST({value} AS DECIMAL(38,6))" if isinstance(value, Decimal) else str(value)
    return "'" + str(value).replace("'", "''") + "'"


def dialect_remove_all(expr: str, char_class: str) -> str:
    """DIALECT: remove every character of a regex class (DuckDB regexp_replace with the 'g' flag)."""
    return f"regexp_replace({expr}, {literal(char_class)}, '', 'g')"


def dialect_replace_all(expr: str, pattern: str, replacement: str) -> str:
    """DIALECT: replace every match of a regex (DuckDB regexp_replace with the 'g' flag; \\1 = group 1)."""
    return f"regexp_replace({expr}, {literal(pattern)}, {literal(replacement)}, 'g')"


def dialect_day_number(expr: str) -> str:
    """DIALECT: days since 1970-01-01 of a date or timestamp, as an integer (date minus date)."""
    return f"CAST(CAST({expr} AS DATE) - DATE '1970-01-01' AS INTEGER)"


def dialect_ordered_concat(expr: str, sep: str, order_by: str) -> str:
    """DIALECT: ordered string aggregation (standard LISTAGG ... WITHIN GROUP)."""
    return f"string_agg({expr}, {literal(sep)} ORDER BY {order_by})"


def dialect_contains_match(expr: str, char_class: str) -> str:
    """DIALECT: TRUE when ``expr`` holds a character of a regex class (DuckDB regexp_matches)."""
    return f"regexp_matches({expr}, {literal(char_class)})"


def dialect_parquet_scan(path: str) -> str:
    """DIALECT: a Parquet file as a relation, with each row's 0-based position in the file as the
    column ``file_row_number`` (DuckDB ``read_parquet``: reads only the columns a query names)."""
    return f"read_parquet({literal(path)}, file_row_number = true)"


def dialect_copy(select_sql: str, path: str, *, fmt: str) -> str:
    """DIALECT: write a query's result to a file (DuckDB COPY, parallel): CSV with a header, or Parquet."""
    if fmt == "parquet":
        return f"COPY ({select_sql}) TO {literal(path)} (FORMAT PARQUET)"
    return f"COPY ({select_sql}) TO {literal(path)} (HEADER, DELIMITER ',')"


_FULL = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
_HALF = "".join(chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)) + " "


#: steps that leave a key made only of ASCII letters of one case and digits unchanged, with that class
_PLAIN_KEY_CLASS = {"upper": "[^A-Z0-9]", "lower": "[^a-z0-9]", None: "[^A-Za-z0-9]"}
_FULLWIDTH_CLASS = "[\uFF01-\uFF5E\u3000]"
_PLAIN_SAFE_STEPS = {"trim", "fullwidth", "zero_width", "upper", "lower", "strip_separators"}


def _normalise_step(out: str, step: object) -> str:
    if isinstance(step, dict):
        for prefix in step.get("strip_prefix", []):
            n = len(prefix)
            out = (f"CASE WHEN substr({out}, 1, {n}) = {literal(prefix)} "
                   f"THEN substr({out}, {n + 1}) ELSE {out} END")
        if "keep" in step:  # keep only the characters of the class: remove its complement
            return dialect_remove_all(out, f"[^{step['keep']}]")
        if "remove" in step:
            return dialect_remove_all(out, f"[{step['remove']}]")
        if "replace" in step:
            return dialect_replace_all(out, step["replace"]["pattern"], step["replace"]["with"])
        return out
    if step == "trim":
        return f"trim({out})"
    if step == "fullwidth":
        # translate() is slow per character; only keys holding a full-width character pay for it
        return (f"CASE WHEN {dialect_contains_match(out, _FULLWIDTH_CLASS)} "
                f"THEN translate({out}, {literal(_FULL)}, {literal(_HALF)}) ELSE {out} END")
    if step == "zero_width":
        return dialect_remove_all(out, "[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
    if step == "upper":
        return f"upper({out})"
    if step == "lower":
        return f"lower({out})"
    if step == "strip_separators":
        return dialect_remove_all(out, r"[\s\-_/\\.,:;·'`\"]")
    if step == "strip_leading_zeros":
        return f"ltrim({out}, '0')"
    return out


def normalised_key_expr(expr: str, steps: Sequence[object]) -> str:
    """SQL for a key after normalisation steps (trim, fullwidth, zero_width, upper, lower,
    strip_separators, strip_leading_zeros, {strip_prefix: [...]}, {keep: 'A-Z0-9'}, {remove: '-_'},
    {replace: {pattern: ..., with: ...}}), applied in the order given.

    Why the guard: almost every real key is already plain (ASCII letters and digits), and the steps
    leave such a key unchanged, so it skips the per-character work (at 1M keys: ~0.2 s instead of ~5 s).
    """
    text = f"CAST({expr} AS VARCHAR)"
    out = text
    for step in steps:
        out = _normalise_step(out, step)
    plain = plain_key_condition(expr, steps)
    return out if plain is None else f"CASE WHEN {plain} THEN {text} ELSE {out} END"


def plain_key_condition(expr: str, steps: Sequence[object]) -> str | None:
    """SQL that is TRUE for a key the normalisation ``steps`` leave unchanged because it is plain (only
    ASCII letters of the case the steps produce, and digits); None when the steps have no such test.

    Why: a test of one character class is much cheaper than the steps themselves, and almost every
    real key passes it; callers that only need to know whether a key changes (the noisy keys of
    a key rule) skip the steps for these rows. NULL for a NULL key (callers treat it as not plain).
    """
    if not steps or not all(isinstance(s, str) and s in _PLAIN_SAFE_STEPS for s in steps):
        return None
    if "upper" in steps and "lower" in steps:
        return None
    case = "upper" if "upper" in steps else ("lower" if "lower" in steps else None)
    return f"NOT {dialect_contains_match(f'CAST({expr} AS VARCHAR)', _PLAIN_KEY_CLASS[case])}"


def key_text_expr(expr: str) -> str:
    """SQL for a key field as text: NULL when it is blank (empty, or nothing but spaces ``trim`` removes).

    Why the guard: ``trim`` on every key of a million rows costs a copy per key; a blank key that is
    not empty starts with a space (ASCII 32, the only ASCII character ``trim`` removes) or with a
    Unicode space, so only keys starting with one of those are trimmed.
    """
    text = f"CAST({expr} AS VARCHAR)"
    blank = f"{text} = '' OR ((ascii({text}) = 32 OR ascii({text}) > 127) AND trim({text}) = '')"
    return f"CASE WHEN {blank} THEN NULL ELSE {text} END"


def composite_key_expr(parts: Sequence[str]) -> str:
    """SQL for one join key made of several parts (already normalised SQL expressions): NULL when any
    part is NULL or blank; otherwise the parts, each but the last prefixed with its length, joined by
    U+001F - injective, whatever characters the parts hold."""
    if len(parts) == 1:
        return f"NULLIF({parts[0]}, '')"
    pieces = []
    for i, part in enumerate(parts):
        val = f"NULLIF({part}, '')"
        pieces.append(val if i == len(parts) - 1 else f"CAST(length({val}) AS VARCHAR) || ':' || {val}")
    return " || chr(31) || ".join(pieces)


def blank_key_sql(expr: str) -> str:
    """TRUE where the key ``expr`` is blank (NULL, empty or only spaces): such a key never joins."""
    return f"({expr} IS NULL OR trim({expr}) = '')"


# ---------------------------------------------------------------------------------------------------
# compares
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CompareSpec:
    """A recipe compare resolved against real columns: what SQL needs to check it on a pair.

    kind: money (|l - r| <= abs_tol + rel_tol * |r|), date (r - l inside the window ``days``), number (exact),
    text (exact) or mapping (equal, or listed in ``mapping`` left value -> right values).
    ``a``/``b`` are the two sides compared (left/right, left/third or right/third).
    """

    name: str
    kind: str
    a_side: str
    b_side: str
    a_col: str
    b_col: str
    category: str
    a_label: str
    b_label: str
    abs_tol: Decimal = Decimal("0")
    rel_tol: Decimal = Decimal("0")
    days: Any = 0  # an int (symmetric) or a windows.DayWindow
    mapping: dict[str, list[str]] = field(default_factory=dict)
    a_sign: int = 1
    b_sign: int = 1
    #: measures only: the exact scale they are compared at and their unit (weight: 3, "kg")
    scale: int = 2
    unit: str = ""

    @property
    def diff_type(self) -> str:
        if self.kind == "measure":
            return f"DECIMAL(18,{self.scale})"
        return {"money": "DECIMAL(18,2)", "date": "INTEGER", "number": "DECIMAL(38,6)"}.get(self.kind, "VARCHAR")


def _signed(alias: str, col: str, sign: int) -> str:
    ref = f"{alias}.{ident(col)}"
    return ref if sign == 1 else f"(-{ref})"


def compare_exprs(c: CompareSpec, a: str, b: str) -> tuple[str, str, str]:
    """(ok, diff, detail) SQL expressions of one compare between aliases ``a`` and ``b``.

    Both values empty passes (nothing to compare); one empty fails (cannot confirm).
    """
    ra, rb = f"{a}.{ident(c.a_col)}", f"{b}.{ident(c.b_col)}"
    one_null = f"({ra} IS NULL OR {rb} IS NULL)"
    both_null = f"({ra} IS NULL AND {rb} IS NULL)"
    la, lb = literal(c.a_label), literal(c.b_label)
    show_a, show_b = f"COALESCE(CAST({ra} AS VARCHAR), '(empty)')", f"COALESCE(CAST({rb} AS VARCHAR), '(empty)')"
    head = f"{literal(c.name + ': ')} || {la} || ' ' || {{sa}} || ', ' || {lb} || ' ' || {{sb}}"
    if c.kind in ("money", "measure"):
        va, vb = _signed(a, c.a_col, c.a_sign), _signed(b, c.b_col, c.b_sign)
        diff = f"CAST({vb} - {va} AS {c.diff_type})"
        tol = f"({literal(c.abs_tol)} + {literal(c.rel_tol)} * abs({vb}))"
        ok = f"CASE WHEN {both_null} THEN TRUE WHEN {one_null} THEN FALSE ELSE abs({vb} - {va}) <= {tol} END"
        unit = f" || {literal(' ' + c.unit)}" if c.kind == "measure" and c.unit else ""
        if c.kind == "measure":  # shown at the measure's own scale (1.000 kg), never as money
            show_a = f"COALESCE(CAST(CAST({ra} AS {c.diff_type}) AS VARCHAR), '(empty)')"
            show_b = f"COALESCE(CAST(CAST({rb} AS {c.diff_type}) AS VARCHAR), '(empty)')"
        detail = (head.format(sa=show_a, sb=show_b)
                  + f" || ', diff ' || CASE WHEN {diff} > 0 THEN '+' ELSE '' END || COALESCE(CAST({diff} AS VARCHAR), '?')"
                  + unit)
    elif c.kind == "date":
        da, db = dialect_day_number(ra), dialect_day_number(rb)
        diff = f"({db} - {da})"
        inside = windows.between_sql(db, da, c.days)
        ok = f"CASE WHEN {both_null} THEN TRUE WHEN {one_null} THEN FALSE ELSE {inside} END"
        sa = f"COALESCE(CAST(CAST({ra} AS DATE) AS VARCHAR), '(empty)')"
        sb = f"COALESCE(CAST(CAST({rb} AS DATE) AS VARCHAR), '(empty)')"
        if isinstance(c.days, int):
            tail = f" || ', ' || COALESCE(CAST(abs({diff}) AS VARCHAR), '?') || ' days apart (window {c.days})'"
        else:
            tail = (f" || ', ' || CASE WHEN {diff} > 0 THEN '+' ELSE '' END || COALESCE(CAST({diff} AS VARCHAR), '?')"
                    f" || {literal(' days (window: ' + windows.describe(c.days) + ')')}")
        detail = head.format(sa=sa, sb=sb) + tail
    elif c.kind == "number":
        diff = f"CAST({rb} - {ra} AS DECIMAL(38,6))"
        ok = f"({ra} IS NOT DISTINCT FROM {rb})"
        detail = (head.format(sa=show_a, sb=show_b)
                  + f" || ', diff ' || CASE WHEN {rb} > {ra} THEN '+' ELSE '' END || COALESCE(CAST({rb} - {ra} AS VARCHAR), '?')")
    else:  # text, mapping
        sa_t, sb_t = f"CAST({ra} AS VARCHAR)", f"CAST({rb} AS VARCHAR)"
        if c.kind == "mapping" and c.mapping:
            whens = " ".join(
                f"WHEN {sa_t} = {literal(k)} THEN {sb_t} IN ({', '.join(literal(v) for v in vals)})"
                for k, vals in sorted(c.mapping.items()) if vals and k != "*")
            other = c.mapping.get("*")  # "*": what any unlisted left value corresponds to
            fallback = f"COALESCE({sb_t} IN ({', '.join(literal(v) for v in other)}), FALSE)" if other else "FALSE"
            ok = f"CASE WHEN {sa_t} IS NOT DISTINCT FROM {sb_t} THEN TRUE {whens} ELSE {fallback} END"
            tail = " || ' (not a listed correspondence)'"
        else:
            ok = f"({sa_t} IS NOT DISTINCT FROM {sb_t})"
            tail = ""
        diff = f"CASE WHEN {sa_t} IS NOT DISTINCT FROM {sb_t} THEN NULL ELSE {show_a} || ' -> ' || {show_b} END"
        detail = head.format(sa=show_a, sb=show_b) + tail
    return ok, diff, detail


def evaluation_columns(compares: Sequence[CompareSpec], a: str, b: str) -> str:
    """Select-list fragment: ok, category (first failing compare in recipe order), detail (all failures),
    status (matched, or within_tolerance when a money difference is non-zero) and diff_<name> columns."""
    if not compares:
        return ("TRUE AS ok, CAST(NULL AS VARCHAR) AS category, CAST(NULL AS VARCHAR) AS detail, "
                "'matched' AS status, 0 AS agree")
    parts = [(f"COALESCE(({ok}), FALSE)", diff, det) for ok, diff, det in (compare_exprs(c, a, b) for c in compares)]
    ok_all = " AND ".join(f"({ok})" for ok, _, _ in parts)
    category = "CASE " + " ".join(f"WHEN NOT ({ok}) THEN {literal(c.category)}"
                                  for c, (ok, _, _) in zip(compares, parts)) + " END"
    detail = "concat_ws('; ', " + ", ".join(f"CASE WHEN NOT ({ok}) THEN {det} END"
                                              for ok, _, det in parts) + ")"
    nonzero = [f"({d}) <> 0" for c, (_, d, _) in zip(compares, parts) if c.kind in ("money", "measure")]
    status = (f"CASE WHEN {' OR '.join(nonzero)} THEN 'within_tolerance' ELSE 'matched' END"
              if nonzero else "'matched'")
    agree = " + ".join(f"CASE WHEN {ok} THEN 1 ELSE 0 END" for ok, _, _ in parts)
    diffs = ", ".join(f"CAST({d} AS {c.diff_type}) AS {ident('diff_' + c.name)}" for c, (_, d, _) in zip(compares, parts))
    return (f"({ok_all}) AS ok, {category} AS category, {detail} AS detail, {status} AS status, "
            f"({agree}) AS agree, {diffs}")


def amount_diff_column(compares: Sequence[CompareSpec], a: str, b: str) -> str:
    """Select-list fragment ``diff_amount`` (right minus left, signed amounts), unless a compare named
    ``amount`` already provides it."""
    if any(c.name == "amount" for c in compares):
        return ""
    return f"CAST({b}._amt - {a}._amt AS DECIMAL(38,2)) AS diff_amount, "


# ---------------------------------------------------------------------------------------------------
# the store's inputs
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SidePrep:
    """How to turn an input table into ``rows_<side>``.

    ``key``: the key field, or several fields for a composite key (e.g. ``("order_id", "sku")``: JD
    exports one row per SKU, so an order id alone repeats).
    """

    side: str
    columns: tuple[str, ...]
    key: "str | tuple[str, ...] | None" = None
    amount: str | None = None
    date: str | None = None
    sign: int = 1
    scope: str | None = None

    @property
    def key_fields(self) -> tuple[str, ...]:
        if not self.key:
            return ()
        return (self.key,) if isinstance(self.key, str) else tuple(self.key)


