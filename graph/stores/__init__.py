"""Stores: the protocol every store speaks (`protocol`), the values it answers in
(`answers`), and one package per adapter (`networkx`, the embedded default)."""
