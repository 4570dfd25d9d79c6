"""Reading real exports as downloaded: templates, detection, cell parsing, rejects, bank formats.

``load(path)`` is the verb (also ``recon_helpers.load``); the rest is for template authors::

    from recon_helpers.sources import load, detect, list_templates, get_template

Modules: ``templates`` (schema and registry), ``detection``, ``opening`` (bytes, encodings, ZIP, sheets),
``reading`` (the data block), ``cells`` (parsing values), ``mapping`` (columns to canonical fields),
``totals`` (control totals), ``rejects`` (the one rejects schema and reason codes), ``result``
(LoadResult, LoadReport), ``loading`` (``load``), and one module per structured bank format:
``mt940``, ``camt053``, ``ofx`` (registry in ``structured``).
"""
from __future__ import annotations

from recon_helpers.sources.detection import Detection, detect, rank
from recon_helpers.sources.loading import load
from recon_helpers.sources.rejects import REJECT_COLUMNS, RejectCode
from recon_helpers.sources.result import ControlCheck, LoadReport, LoadResult
from recon_helpers.sources.templates import SourceTemplate, get_template, list_templates, register_template

__all__ = ["ControlCheck", "Detection", "LoadReport", "LoadResult", "REJECT_COLUMNS", "RejectCode", "SourceTemplate",
           "detect", "get_template", "list_templates", "load", "rank", "register_template"]
