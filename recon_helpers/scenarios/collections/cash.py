"""The chart of cash expected against cash received over the month (plotly; floats only to draw)."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

#: fonts that render Chinese on common systems (the same list the report's charts use)
CJK_FONTS = '"PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif'


def _floats(series: pd.Series) -> list[float]:
    return [float(v) for v in series]


def expected_vs_received(cash: pd.DataFrame, *, title: str) -> go.Figure:
    """Daily bars of expected and received cash, and lines of both to date (``cash`` as
    :meth:`CollectionsCheck.cash_by_day` returns it). A gap between the lines is money still out."""
    days = [str(d) for d in cash["day"]]
    fig = go.Figure([
        go.Bar(name="expected 应到 (day)", x=days, y=_floats(cash["expected"]), marker_color="#8c959f"),
        go.Bar(name="received 到账 (day)", x=days, y=_floats(cash["received"]), marker_color="#0969da"),
        go.Scatter(name="expected to date 累计应到", x=days, y=_floats(cash["expected_to_date"]), mode="lines",
                   line={"color": "#57606a", "dash": "dash"}, yaxis="y2"),
        go.Scatter(name="received to date 累计到账", x=days, y=_floats(cash["received_to_date"]), mode="lines",
                   line={"color": "#0550ae"}, yaxis="y2"),
    ])
    fig.update_layout(title=title, barmode="group", template="plotly_white", height=400,
                      font={"family": CJK_FONTS, "size": 13}, margin={"l": 50, "r": 50, "t": 60, "b": 40},
                      yaxis={"title": {"text": "per day 每日 (CNY)"}},
                      yaxis2={"title": {"text": "to date 累计 (CNY)"}, "overlaying": "y", "side": "right"},
                      legend={"orientation": "h", "y": -0.15})
    return fig
