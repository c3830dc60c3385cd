"""Unexpected failures are masked: the client gets a code, the log gets the traceback."""

import logging

import pytest

from graph.stores.networkx import NetworkxStore
from tests.conftest import LiveServer


class BrokenStore:
    def __init__(self, store: NetworkxStore):
        self.store = store

    def __getattr__(self, name: str):
        return getattr(self.store, name)

    def coverage(self, *args, **kwargs):
        raise RuntimeError("secret connection string in here")


def test_an_internal_failure_is_masked_and_logged(demo_store: NetworkxStore, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="chainorg.graphql"), LiveServer(BrokenStore(demo_store)) as server:
        body = server.query("{ chains coverage { enterprises } }")
    assert body["data"] is None
    assert body["errors"][0]["message"] == "Internal server error"
    assert body["errors"][0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "secret" not in str(body)
    assert "secret connection string" in caplog.text
