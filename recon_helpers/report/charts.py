"""Plotly charts for the notebooks, and :func:`show`, which makes them work in an offline HTML report.

Charts take a match result (anything with an ``exceptions`` DataFrame) or a loaded table. Money
stays exact everywhere else; it is converted to float here, and only to draw.

Fonts: Chinese labels need a CJK font; the layout lists the usual ones on macOS, Windows and Linux.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from recon_helpers.engine import explain, taxonomy

#: fonts that render Chinese on common systems, then a generic fallback
CJK_FONTS = '"PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif'


_PALETTE = ["#0969da", "#cf222e", "#bf8700", "#1a7f37", "#8250df", "#57606a", "#d1242f", "#0550ae"]

_plotly_js_embedded = False


def _layout(fig: go.Figure, *, title: str) -> go.Figure:
    fig.update_layout(
        title=title,
        font={"family": CJK_FONTS, "size": 13},
        template="plotly_white",
        colorway=_PALETTE,
        margin={"l": 40, "r": 20, "t": 60, "b": 40},
        height=440,  # room for slanted category names below the bars (automargin takes it from the plot)
    )
    # long bilingual category names are drawn slanted; without this they are cut at the chart's bottom edge
    fig.update_xaxes(automargin=True)
    return fig


def to_float(money: pd.Series) -> pd.Series:
    """Exact money -> float, for drawing only (plotly cannot plot decimals)."""
    return pd.to_numeric(money.astype("float64"), errors="coerce")


def _labelled(categories: pd.Index, labels: Mapping[str, str] | None) -> list[str]:
    names = {**taxonomy.labels(), **(labels or {})}
    return [names.get(str(c), str(c)) for c in categories]


def exceptions_by_category(result: Any, *, labels: Mapping[str, str] | None = None, title: str = "Differences by category 差异笔数") -> go.Figure:
    """Bar chart: how many differences each category holds (a disputed pair counts once, most first)."""
    per_category = explain.by_category(result)
    counts = per_category["differences"].to_numpy(dtype="int64")
    fig = go.Figure(go.Bar(x=_labelled(pd.Index(per_category["category"]), labels), y=counts, text=counts, textposition="auto"))
    fig.update_yaxes(title_text="differences 笔数")
    return _layout(_whole_numbers(fig, int(counts.max()) if len(counts) else 0), title=title)


def _whole_numbers(fig: go.Figure, largest: int) -> go.Figure:
    """A count axis ticks at whole numbers: plotly's own ticks for 3 differences are 0, 0.5 ... 2.5, 3,
    and half a difference means nothing to a reader."""
    if largest <= 10:
        fig.update_yaxes(tick0=0, dtick=1)
    return fig.update_yaxes(tickformat=",d", rangemode="tozero")


def amounts_by_category(result: Any, *, labels: Mapping[str, str] | None = None, title: str = "Money at stake by category 差异金额") -> go.Figure:
    """Bar chart: net money per category, right minus left (over-billed > 0, not yet billed < 0)."""
    per_category = explain.by_category(result).sort_values("difference", key=lambda s: to_float(s).abs(), ascending=False)
    values = to_float(per_category["difference"])
    colours = ["#cf222e" if v > 0 else "#0969da" for v in values]
    fig = go.Figure(go.Bar(x=_labelled(pd.Index(per_category["category"]), labels), y=values, marker_color=colours,
                           text=[f"{v:+,.2f}" for v in values], textposition="auto"))
    fig.update_yaxes(title_text="right − left 金额 (CNY)")
    return _layout(fig, title=title)


def daily_totals(
    table: pd.DataFrame,
    *,
    time: str = "txn_time",
    amount: str = "amount",
    by: str | None = None,
    title: str = "Daily totals 每日金额",
) -> go.Figure:
    """Bar chart of the daily sum of ``amount`` (stacked by ``by`` when given)."""
    missing = [c for c in (time, amount, by) if c and c not in table.columns]
    if missing:
        raise KeyError(f"daily_totals needs column(s) {', '.join(missing)}; the table has {', '.join(map(str, table.columns))}")
    frame = pd.DataFrame({
        "day": pd.to_datetime(table[time].astype("datetime64[s]")).dt.normalize(),
        "amount": to_float(table[amount]),
        "group": table[by].astype("string") if by else "total",
    })
    daily = frame.groupby(["group", "day"], sort=True)["amount"].sum().reset_index()
    fig = go.Figure([go.Bar(name=str(g), x=part["day"], y=part["amount"]) for g, part in daily.groupby("group", sort=True)])
    fig.update_layout(barmode="stack", showlegend=by is not None)
    fig.update_yaxes(title_text="amount 金额 (CNY)")
    return _layout(fig, title=title)


def differences_histogram(differences: pd.Series, *, title: str = "Differences 差额分布", unit: str = "CNY") -> go.Figure:
    """Histogram of money differences (e.g. billed - expected fee)."""
    fig = go.Figure(go.Histogram(x=to_float(differences), nbinsx=30))
    fig.update_xaxes(title_text=f"difference 差额 ({unit})")
    fig.update_yaxes(title_text="rows 笔数")
    return _layout(fig, title=title)


def show(fig: go.Figure) -> None:
    """Display a chart so that it works live in JupyterLab AND in the offline HTML report.

    The output carries the plotly mime type (JupyterLab renders it interactively) and HTML for
    nbconvert. The HTML of the first chart in a kernel embeds plotly.js itself (no CDN), later charts
    reuse it, so an exported page holds plotly.js exactly once and opens without network.
    """
    global _plotly_js_embedded
    from IPython.display import display

    html = fig.to_html(full_html=False, include_plotlyjs=not _plotly_js_embedded, config={"displaylogo": False, "responsive": True})
    _plotly_js_embedded = True
    figure_json = json.loads(pio.to_json(fig, validate=False))
    display({"application/vnd.plotly.v1+json": {**figure_json, "config": {"displaylogo": False}}, "text/html": html, "text/plain": f"<Figure: {fig.layout.title.text or 'chart'}>"}, raw=True)
