"""The embedded store: organizations as a networkx graph, enterprises as columns."""

from graph.stores.networkx.store import NetworkxStore

__all__ = ["NetworkxStore"]
