"""Helpers a report notebook calls in its cells: headline figures, display settings, rejected rows.

The figures are shown as cards and handed to ``recon report`` inside the same cell output (the mime
type :data:`KPI_MIME`), so the batch reads them back from the executed notebook: no side files.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

import functools
import json
from collections.abc import Mapping
from decimal import Decimal
from html import escape
from typing import Any

from recon_helpers import catalog
from recon_helpers.catalog import StrictModel
from recon_helpers.errors import UsageError

#: mime type of the output that carries a notebook's headline figures
KPI_MIME = "application/vnd.recon.kpis+json"
#: the parameters ``recon report`` knows how to fill


# --------------------------------------------------------------------------------------------
# headline figures, recorded from inside a notebook
# --------------------------------------------------------------------------------------------
def format_figure(value: Any) -> str:
    """How a figure reads in a report: ints and money with thousands separators, money to the fen."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, float):
        return f"{value:,.4g}"
    return str(value)


def _json_figure(value: Any) -> Any:
    """Figures in JSON: money stays exact as a decimal string, counts stay numbers."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if hasattr(value, "item"):  # numpy / pandas scalars
        return _json_figure(value.item())
    return str(value)


def kpi_payload(kpis: Mapping[str, Any], *, title: str | None = None) -> dict:
    """The JSON that :func:`record_kpis` emits: ordered label/value/display triples."""
    if not isinstance(kpis, Mapping) or not kpis:
        raise UsageError("record_kpis needs a non-empty mapping of label -> figure, e.g. {'Matched 已核对': 812}")
    return {
        "title": title,
        "kpis": [
            {"label": str(label), "value": _json_figure(value), "display": format_figure(value)}
            for label, value in kpis.items()
        ],
    }


def kpi_html(payload: Mapping[str, Any]) -> str:
    """A row of figure cards, inline-styled so it looks the same in JupyterLab and in the export."""
    cards = "".join(
        '<div style="border:1px solid #d0d7de;border-radius:8px;padding:8px 14px;min-width:9em;">'
        f'<div style="font-size:0.85em;color:#57606a;">{escape(k["label"])}</div>'
        f'<div class="recon-kpi-value" style="font-size:1.5em;font-weight:600;">{escape(k["display"])}</div>'
        "</div>"
        for k in payload["kpis"]
    )
    heading = f'<div style="font-weight:600;margin-bottom:6px;">{escape(payload["title"])}</div>' if payload.get("title") else ""
    return f'<div class="recon-kpis">{heading}<div style="display:flex;flex-wrap:wrap;gap:10px;">{cards}</div></div>'


def record_kpis(kpis: Mapping[str, Any], *, title: str | None = None) -> None:
    """Show a notebook's headline figures and hand them to ``recon report`` for the index.

    The figures are displayed as HTML cards and, in the same output, as JSON under :data:`KPI_MIME`,
    which the batch report reads back from the executed notebook. Use exact values: ints for counts,
    ``Decimal`` for money, strings for anything already formatted (e.g. ``"97.5%"``).

    Returns nothing, so the cell shows the figures once (:func:`kpi_payload` gives the JSON).
    """
    from IPython.display import display

    payload = kpi_payload(kpis, title=title)
    display({KPI_MIME: payload, "text/html": kpi_html(payload), "text/plain": _kpi_text(payload)}, raw=True)


def notebook_display() -> None:
    """Pandas display settings for report notebooks: whole explanations, no "..." cut in a cell.

    A report is read, not scrolled in a terminal: a rate-card explanation cut at 50 characters
    hides the reason for a dispute. Call once at the top of a notebook.
    """
    import pandas as pd

    pd.set_option("display.max_colwidth", None)
    pd.set_option("display.max_columns", 40)
    pd.set_option("display.max_rows", 200)
    _mask_displayed_frames()


def _mask_displayed_frames() -> None:
    """Any DataFrame a cell shows (``check.priced.head()``) is masked too, in HTML and in plain text,
    unless masking is off: what a report shows is what leaves the workspace."""
    from IPython import get_ipython

    from recon_helpers import masking

    shell = get_ipython()
    if shell is None or not masking.enabled():
        return
    import pandas as pd

    formatters = shell.display_formatter.formatters
    formatters["text/html"].for_type(pd.DataFrame, lambda df: masking.mask_frame(df).to_html(escape=True, max_rows=200, index=False))
    formatters["text/plain"].for_type(pd.DataFrame, lambda df, p, cycle: p.text(repr(masking.mask_frame(df))))


def rejected_rows(**rejects_by_input: "pd.DataFrame") -> Any:
    """All inputs' rejected rows in one table with an ``input`` column, or one sentence when none.

    A report must show that nothing was dropped: an empty table says nothing to a reader, so when every
    input loaded fully this says so in words, naming each input.
    """
    import pandas as pd
    from IPython.display import HTML

    parts = [frame.assign(input=name) for name, frame in rejects_by_input.items() if len(frame)]
    if not parts:
        names = ", ".join(escape(name) for name in rejects_by_input)
        return HTML(f"<p>No rows were rejected 没有被拒绝的行 ({names}): every row was loaded.</p>")
    table = pd.concat(parts, ignore_index=True)
    return table[["input", *[c for c in table.columns if c != "input"]]]


def _kpi_text(payload: Mapping[str, Any]) -> str:
    return "\n".join(f"{k['label']}: {k['display']}" for k in payload["kpis"])


def read_kpis(notebook: Any) -> list[dict]:
    """The figures a notebook recorded (the last :func:`record_kpis` output wins); [] if none."""
    found: list[dict] = []
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []) or []:
            data = output.get("data") or {}
            if KPI_MIME in data:
                payload = data[KPI_MIME]
                if isinstance(payload, str):
                    payload = json.loads(payload)
                found = list(payload.get("kpis", []))
    return found


class ColumnLabels(StrictModel):
    """``templates/report/columns.yaml``: how a list's column headers read on a page."""

    columns: dict[str, str]


@functools.lru_cache(maxsize=1)
def column_labels() -> dict[str, str]:
    """Field name -> the header a page shows ("客户编码 Customer"); fields not listed keep their name."""
    return catalog.read_entry(catalog.folder("report") / "columns.yaml", ColumnLabels, what="column label file",
                              keys="columns: {field: label}").columns


def _readable(frame: "pd.DataFrame") -> "pd.DataFrame":
    """The list as a reader sees it: headers from :func:`column_labels`, money with thousands separators
    (DataTables still sorts "12,345.60" as a number)."""
    labels = column_labels()
    shown = frame.copy()
    for column in shown.columns:
        if any(isinstance(v, Decimal) for v in shown[column].head(50)):
            shown[column] = [format_figure(v) if isinstance(v, Decimal) else v for v in shown[column]]
    taken: set[str] = set()
    names = []
    for column in shown.columns:
        label = labels.get(str(column), str(column))
        names.append(label if label not in taken else str(column))
        taken.add(names[-1])
    shown.columns = names
    return shown


#: rows an action list shows on its page; longer lists are capped with a note (the full list is in Excel, or its CSV when longer than a sheet shows)
MAX_TABLE_ROWS = 500
#: a column whose longest cell is longer than this wraps on the page (see ActionTable._wide_labels)
WRAP_AFTER = 40


def _longest_text(column: "pd.Series") -> int:
    """Characters of a column's longest cell as the page shows it (blanks count 0)."""
    lengths = column.astype("string").str.len()
    return int(lengths.max()) if lengths.notna().any() else 0
_itables_embedded = False


class ActionTable:
    """A list to act on as a page shows it: sortable and searchable offline (itables, its JavaScript
    embedded once per page), personal data masked, capped at :data:`MAX_TABLE_ROWS` rows with a note.

    ``data`` is the rows the page can show, as given (unmasked, capped at ``max_rows``) and ``total`` the
    length of the whole list: a notebook keeps every cell's table while it runs, so holding the whole
    list here would keep every action list of a 200,000-order month in memory until the kernel ends.
    ``to_html()`` is the static table (escaped) that also serves as the fallback when scripts are off.
    """

    def __init__(self, frame: "pd.DataFrame", *, wide: tuple[str, ...] = (), max_rows: int = MAX_TABLE_ROWS):
        self.data = frame.head(max_rows).copy()
        self.total = len(frame)
        self.wide = wide
        self.max_rows = max_rows

    def shown(self) -> "pd.DataFrame":
        """The rows and values the page shows: capped, and masked unless masking is off."""
        from recon_helpers import masking

        return masking.mask_frame(self.data) if masking.enabled() else self.data

    def note(self) -> str:
        total = self.total
        if total <= self.max_rows:
            return ""
        return (f'<p class="recon-cap-note">Showing the first {self.max_rows:,} of {total:,} rows 仅显示前 {self.max_rows:,} 行'
                f" (共 {total:,} 行); the full list is in the run's Excel workbook, and a list too long for a"
                " sheet in its CSV (the sheet says which) 完整清单见 Excel，超长清单见 CSV。</p>")

    def __getattr__(self, name: str) -> Any:
        """Anything else a pandas Styler offers (``set_caption``, ``format`` ...) works as before."""
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.styler(), name)

    def _wide_labels(self, frame: "pd.DataFrame") -> list[str]:
        """The columns that wrap: the declared wide ones and any whose text runs longer than
        :data:`WRAP_AFTER` characters (a path, a list of candidates), so the table fits the page
        instead of scrolling sideways; ids, dates and amounts stay on one line."""
        labels = column_labels()
        declared = [labels.get(c, c) for c in self.wide]
        long = [c for c in frame.columns if c not in declared and _longest_text(frame[c]) > WRAP_AFTER]
        return declared + long

    def styler(self) -> Any:
        frame = _readable(self.shown())
        styler = frame.style.format(escape="html", na_rep="").hide(axis="index").set_table_styles(
            [{"selector": "td, th", "props": [("padding", "2px 8px")]}])
        wide = self._wide_labels(frame)
        narrow = [c for c in frame.columns if c not in wide]
        if narrow:
            styler = styler.set_properties(subset=narrow, **{"white-space": "nowrap"})
        present = [c for c in wide if c in frame.columns]
        if present:
            styler = styler.set_properties(subset=present, **{"white-space": "normal", "min-width": "14em", "max-width": "30em",
                                                              "overflow-wrap": "anywhere", "text-align": "left"})
        return styler

    def to_html(self) -> str:
        """The static table (escaped), with the cap note."""
        return self.styler().to_html() + self.note()

    def _repr_html_(self) -> str:
        global _itables_embedded
        from itables import javascript

        frame = _readable(self.shown()).astype("string").fillna("")
        wide_labels = self._wide_labels(frame)
        wide = [i for i, c in enumerate(frame.columns) if c in wide_labels]
        options: dict[str, Any] = {"columnDefs": [{"targets": wide, "className": "recon-wide", "width": "16em"}]} if wide else {}
        html = javascript.to_html_datatable(
            frame, connected=False, showIndex=False, display_logo_when_loading=False, allow_html=False,
            # search first: a layout other than itables' default keeps the search box on short lists too
            layout={"topStart": "search", "topEnd": "pageLength", "bottomStart": "info", "bottomEnd": "paging"},
            lengthMenu=[10, 25, 100, 500], pageLength=25, classes="display compact", scrollX=True,
            style={"width": "100%", "margin": "0", "caption-side": "bottom"}, **options,
        )
        # JupyterLab's page style lays tables out with equal, fixed columns: an id column then spills over
        # while an amount column wastes room. Columns sized to their content fit; headers may wrap
        style = ("<style>.recon-table table{font-size:0.85em;table-layout:auto!important}"
                 ".recon-table th{white-space:normal!important}.recon-table td{white-space:nowrap}"
                 ".recon-table th,.recon-table td{text-align:left!important}"
                 ".recon-table td.dt-type-numeric,.recon-table th.dt-type-numeric{text-align:right!important}"
                 ".recon-table td.recon-wide{white-space:normal!important;overflow-wrap:anywhere;min-width:14em;max-width:30em}</style>")
        bundle = "" if _itables_embedded else javascript.generate_init_offline_itables_html(javascript.opt.dt_bundle)
        _itables_embedded = True
        return f'<div class="recon-table">{bundle}{style}{html}{self.note()}</div>'


def table(frame: "pd.DataFrame", *, wide: tuple[str, ...] | str = ()) -> Any:
    """A list to act on, laid out for a reader: no row numbers, figures and ids on one line, and the
    ``wide`` columns (explanations such as a rate card's calculation) given room to read as sentences.

    Returns an :class:`ActionTable` (sortable, searchable, masked, capped); an empty list says so in words.
    """
    wide = (wide,) if isinstance(wide, str) else tuple(wide)
    if not len(frame):
        from IPython.display import HTML

        return HTML("<p>None 无: nothing to act on.</p>")
    return ActionTable(frame, wide=wide)
