"""Errors the graph layer raises; each carries a stable `code` for API clients."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class ChainorgError(Exception):
    """Base of every expected error; `code` becomes the GraphQL `extensions.code`."""

    code = "CHAINORG_ERROR"

    def extensions(self) -> dict[str, object]:
        """What a client needs besides the message and the code to act on the error."""
        return {}


class NotFound(ChainorgError):
    """A named park, chain, building, cluster or record does not exist."""

    code = "NOT_FOUND"


class InvalidArgument(ChainorgError):
    """An argument is well-typed but makes no sense (a reversed date range, a page too large)."""

    code = "BAD_USER_INPUT"


class ReadOnly(ChainorgError):
    """The store serves a ledger, not a state or a graph database: it cannot keep changes."""

    code = "READ_ONLY"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or "this server serves a ledger read-only; import it into a state with "
            "`chainorg load LEDGER --state DIR` and serve that with `chainorg serve --state DIR`"
        )


class StateProblem(ChainorgError):
    """A state folder cannot be created or opened; the message says why and what to do."""

    code = "STATE_PROBLEM"


class ConfigInvalid(ChainorgError):
    """A rules, limits or server setting that cannot be used; the message names the key and why."""

    code = "CONFIG_INVALID"


def refuse_unknown(table: Mapping[str, object], known: Sequence[str], where: str) -> None:
    """ConfigInvalid naming the first key of a config table that is not one of `known`.

    >>> refuse_unknown({"colour": 1}, ["explorer"], "http")
    Traceback (most recent call last):
    ...
    graph.errors.ConfigInvalid: http.colour: no such setting; the settings are explorer
    """
    for name in table:
        if name not in known:
            raise ConfigInvalid(f"{where}.{name}: no such setting; the settings are {', '.join(known)}")
