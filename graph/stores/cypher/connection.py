"""The driver of one graph database, and its failures said in one line.

One driver per database: on a pooled connection the first database used sticks with
some servers, so a store never switches database on a driver.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import neo4j
from neo4j import AsyncDriver, AsyncGraphDatabase, AsyncManagedTransaction, RoutingControl
from neo4j.exceptions import (
    AuthError,
    ConstraintError,
    IncompleteCommit,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)

from graph.deadline import DEADLINE, TimedOut, past, remaining
from graph.errors import ChainorgError
from graph.stores.cypher.address import StoreAddress

CONNECTION_SECONDS = 10.0
KEY_JITTER = 0.02  # seconds, at most, a transaction that lost the race for a new key waits to run again
T = TypeVar("T")
Run = Callable[..., Awaitable[list[neo4j.Record]]]  # run(text, **parameters): one statement of a transaction


class StoreUnavailable(ChainorgError):
    """The graph database cannot be reached or refuses the store; the message says which and why."""

    code = "UNAVAILABLE"


def problem(address: StoreAddress, error: Exception) -> StoreUnavailable:
    """An error of the driver as one line naming the database (never its password)."""
    where = address.shown
    if isinstance(error, AuthError):
        return StoreUnavailable(f"{where}: the server refused user {address.user!r}: wrong user or password")
    if isinstance(error, ServiceUnavailable | OSError):
        return StoreUnavailable(f"{where}: cannot reach the graph database ({_first_line(error)})")
    if isinstance(error, Neo4jError) and error.code and "DatabaseNotFound" in error.code:
        return StoreUnavailable(f"{where}: the server has no database {address.database!r}")
    return StoreUnavailable(f"{where}: {_first_line(error)}")


def _first_line(error: Exception) -> str:
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    return str(text).strip().splitlines()[0][:300]


class Connection:
    """An async driver on one database: `read` and `write` run one statement in a managed
    transaction (retried by the driver on transient errors) and return its records."""

    def __init__(self, address: StoreAddress):
        self.address = address
        self.driver = self._driver()
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop the driver's connections belong to
        self._writing = asyncio.Lock()

    def _driver(self) -> AsyncDriver:
        address = self.address
        return AsyncGraphDatabase.driver(
            address.uri, auth=(address.user, address.password), connection_timeout=CONNECTION_SECONDS,
            max_transaction_retry_time=CONNECTION_SECONDS, notifications_min_severity="OFF",
        )  # fmt: skip

    async def check(self) -> None:
        """That the database answers: StoreUnavailable, in one line, when it does not."""
        await self.read("RETURN 1 AS ready")

    async def read(self, text: str, **parameters: Any) -> list[neo4j.Record]:
        return await self._run(text, parameters, RoutingControl.READ)

    async def write(self, text: str, **parameters: Any) -> list[neo4j.Record]:
        return await self._run(text, parameters, RoutingControl.WRITE)

    async def transaction(self, work: Callable[[Run], Awaitable[T]]) -> T:
        """`work` in one write transaction, all of its statements or none, one at a time from
        this process (a set reached past its request's budget is refused). A conflict with a
        transaction committed meanwhile (two servers writing at once), a deadlock or a leader
        switch rolls it back, and it runs again afresh: the driver retries for up to
        CONNECTION_SECONDS, and so does this for two writers taking the same new key (a change
        set's number); then StoreUnavailable, nothing written. An error `work` raises
        rolls it back too; a connection lost while committing is StoreUnavailable saying the
        set may have been written (the client's requestId tells)."""
        loop = asyncio.get_running_loop()
        self._loop = self._loop or loop
        if loop is not self._loop:
            return await self._transaction(work, self._driver())
        async with self._writing:  # one transaction at a time from this process: its writers never race
            if past(DEADLINE.get()):
                raise TimedOut("the request's time budget ran out while it waited to be written; nothing was")
            return await self._transaction(work, self.driver)

    async def _transaction(self, work: Callable[[Run], Awaitable[T]], driver: AsyncDriver) -> T:
        given_up_at = time.monotonic() + CONNECTION_SECONDS  # for writers whose keys keep meeting

        async def unit(tx: AsyncManagedTransaction) -> T:
            async def run(text: str, **parameters: Any) -> list[neo4j.Record]:
                return [record async for record in await tx.run(text, parameters)]

            return await work(run)

        try:
            while True:
                try:
                    async with driver.session(database=self.address.database) as session:
                        return await session.execute_write(unit)
                except ConstraintError as error:  # two writers' keys met: the later one tries again, as for a conflict
                    if time.monotonic() > given_up_at:
                        raise self._kept_conflicting(error) from None
                    # at once, or it starts behind the other server's next set and loses again; a
                    # little jitter parts writers that lost together
                    await asyncio.sleep(random.uniform(0, KEY_JITTER))
        except TransientError as error:
            raise self._kept_conflicting(error) from None
        except IncompleteCommit:
            raise StoreUnavailable(
                f"{self.address.shown}: the connection to the graph database broke while it committed the "
                "change set, so it may have been written; send it again with the same requestId to learn which"
            ) from None
        except (AuthError, ServiceUnavailable, SessionExpired, OSError) as error:
            raise problem(self.address, error) from None
        finally:
            if driver is not self.driver:
                await driver.close()

    def _kept_conflicting(self, error: Neo4jError) -> StoreUnavailable:
        return StoreUnavailable(
            f"{self.address.shown}: the database kept refusing the change set as conflicting "
            f"({_first_line(error)}); nothing of it was written"
        )

    async def _run(self, text: str, parameters: dict[str, Any], routing: RoutingControl) -> list[neo4j.Record]:
        """On the loop the driver first ran on; a statement from another loop (a heavy request
        runs on a lane's loop of its own) gets a driver for that statement alone."""
        loop = asyncio.get_running_loop()
        self._loop = self._loop or loop
        if loop is self._loop:
            return await self._execute(self.driver, text, parameters, routing)
        driver = self._driver()
        try:
            return await self._execute(driver, text, parameters, routing)
        finally:
            await driver.close()

    async def _execute(
        self, driver: AsyncDriver, text: str, parameters: dict[str, Any], routing: RoutingControl
    ) -> list[neo4j.Record]:
        try:
            left = remaining()  # the request's time budget, so the database stops the statement too
            query = neo4j.Query(text, timeout=max(left, 0.001) if left is not None else None)
            result = await driver.execute_query(query, parameters, database_=self.address.database, routing_=routing)
        except (AuthError, ServiceUnavailable, SessionExpired, OSError) as error:
            raise problem(self.address, error) from None
        except Neo4jError as error:
            if error.code and "DatabaseNotFound" in error.code:
                raise problem(self.address, error) from None
            raise
        return list(result.records)

    async def close(self) -> None:
        await self.driver.close()
