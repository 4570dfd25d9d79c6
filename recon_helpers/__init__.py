"""Reconciliation workbench helpers."""
__version__ = "0.1.0"
