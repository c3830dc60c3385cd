"""Where a graph database is: a store URL read once, its password kept out of sight.

`bolt://USER:PASSWORD@HOST:PORT/DATABASE` (one server) or `neo4j://…` (a Neo4j cluster,
routed), with `+s`/`+ssc` forms for TLS. The password may come from
CHAINORG_STORE_PASSWORD instead, so it need not appear in a process list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from graph.errors import ConfigInvalid

SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")
DEFAULT_PORT = 7687
DEFAULT_DATABASE = "neo4j"
PASSWORD_VARIABLE = "CHAINORG_STORE_PASSWORD"


@dataclass(frozen=True, slots=True)
class StoreAddress:
    """A graph database's address; `shown` is it as messages print it, no password."""

    scheme: str
    host: str
    port: int
    user: str
    database: str
    password: str = field(default="", repr=False)

    @property
    def uri(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def shown(self) -> str:
        return f"{self.scheme}://{self.user}@{self.host}:{self.port}/{self.database}"


def store_address(url: str, password: str | None = None) -> StoreAddress:
    """The address a store URL names; `password` (from CHAINORG_STORE_PASSWORD) when the
    URL has none. ConfigInvalid, saying what is wrong and never echoing a password.

    >>> store_address("bolt://neo:secret@db.park:7687/chain").shown
    'bolt://neo@db.park:7687/chain'
    >>> store_address("http://db:7474")
    Traceback (most recent call last):
    ...
    graph.errors.ConfigInvalid: store URL http://db:7474: the scheme must be one of bolt, bolt+s, bolt+ssc, neo4j, neo4j+s, neo4j+ssc
    """
    try:
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORT
    except ValueError as error:
        raise ConfigInvalid(f"store URL: {error}") from None
    shown = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
    if parts.scheme not in SCHEMES:
        raise ConfigInvalid(f"store URL {shown}: the scheme must be one of {', '.join(SCHEMES)}")
    if not parts.hostname:
        raise ConfigInvalid(f"store URL {shown}: give the database server's host, as bolt://USER@HOST:PORT/DATABASE")
    if parts.query or parts.fragment:
        raise ConfigInvalid(f"store URL {shown}: takes no query or fragment")
    database = unquote(parts.path.strip("/")) or DEFAULT_DATABASE
    if "/" in database:
        raise ConfigInvalid(f"store URL {shown}: the path names one database")
    given = unquote(parts.password) if parts.password is not None else None
    secret = given if given is not None else password
    if not secret:
        raise ConfigInvalid(f"store URL {shown}: no password: put it in {PASSWORD_VARIABLE} (or in the URL)")
    return StoreAddress(parts.scheme, parts.hostname, port, unquote(parts.username or "neo4j"), database, secret)
