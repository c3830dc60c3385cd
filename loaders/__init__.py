"""Ledgers in and out: CSV folders and .xlsx workbooks, and the demo generator."""

from datetime import date

DEMO_DAY = date(2021, 7, 31)
"""The day the demo's figures were published; the demo stands on it (graph.rules.clock)."""
