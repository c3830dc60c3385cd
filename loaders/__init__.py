"""Ledgers in and out: CSV folders and .xlsx workbooks, and the demo generator."""
