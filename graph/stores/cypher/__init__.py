"""The Cypher store: the graph in a Neo4j 5 database (ArcadeDB's Bolt server in tests)."""

from graph.stores.cypher.address import StoreAddress, store_address
from graph.stores.cypher.store import CypherStore

__all__ = ["CypherStore", "StoreAddress", "store_address"]
