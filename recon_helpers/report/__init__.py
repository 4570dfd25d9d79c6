"""What is shared: helpers a report notebook calls in its cells, charts, and the monthly batch.

In a notebook::

    from recon_helpers import report
    report.notebook_display()
    report.record_kpis(check.kpis(), title=check.title)
    report.show(report.charts.exceptions_by_category(check.result, labels=check.labels))

Modules: ``cells`` (figures, display, action-list tables, rejected rows), ``charts`` (plotly, offline), ``notebook`` (one
papermill run and its HTML export), ``sharing`` (what leaves the workspace: masked, no paths; the run's
workbook), ``files`` (dispute lists, statements and other files a run leaves), ``alerts`` (thresholds from templates/alerts/), ``publish`` (fresh folder, lock, swap),
``progress`` (bars and the end table), ``batch`` (every scenario x run: ``run_reports``), ``index``
(index.html, alerts.json and manifest.json).
"""
from __future__ import annotations

from recon_helpers.report import cells, charts
from recon_helpers.report.batch import ReportRun, plan_runs, run_reports
from recon_helpers.report.cells import (
           KPI_MIME,
           format_figure,
           kpi_payload,
           notebook_display,
           read_kpis,
           record_kpis,
           rejected_rows,
           table,
)
from recon_helpers.report.charts import show
from recon_helpers.report.notebook import declared_parameters

__all__ = ["KPI_MIME", "ReportRun", "cells", "charts", "declared_parameters", "format_figure", "kpi_payload", "notebook_display",
           "plan_runs", "read_kpis", "record_kpis", "rejected_rows", "run_reports", "show", "table"]
