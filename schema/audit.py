"""The audit trail (审计日志) in GraphQL: who changed what and when, a page at a time."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from graph import durable
from schema.context import ChainorgInfo
from schema.limits import cost
from schema.pagination import DEFAULT_PAGE, After, First, connection, offset_after, page_size
from schema.types import Edge, PageInfo


@strawberry.type(description="One change of a change set in the audit trail (审计日志).")
class AuditEntry:
    change_set: int = strawberry.field(description="The change set it belongs to.")
    at: datetime = strawberry.field(description="When the change set was committed (UTC).")
    who: str = strawberry.field(description="Who made it.")
    position: int = strawberry.field(
        description="Its place in the change set: 1 for the first change, as error messages count."
    )
    kind: str = strawberry.field(description="Which change: the name of its mutation.")
    subject: strawberry.ID = strawberry.field(description="The id or credit code it is about.")
    change: JSON = strawberry.field(description="The change as asked.")
    before: JSON = strawberry.field(description="Each record it changed, as it was (a list of objects with `table`).")
    after: JSON = strawberry.field(description="Each record it wrote, as it became.")

    @classmethod
    def of(cls, entry: durable.AuditEntry) -> AuditEntry:
        return cls(
            change_set=entry.change_set, at=entry.at, who=entry.who, position=entry.position, kind=entry.kind,
            subject=strawberry.ID(entry.subject), change=JSON(entry.change), before=JSON(entry.before), after=JSON(entry.after),
        )  # fmt: skip


@strawberry.type(description="A page of the audit trail.")
class AuditConnection:
    total_count: int = strawberry.field(description="Entries matching, on every page.")
    nodes: list[AuditEntry] = strawberry.field(
        description="This page's entries, oldest first.", metadata=cost(items=1)
    )  # counted `first` times by the connection
    edges: list[Edge[AuditEntry]] = strawberry.field(
        description="The same, each with its cursor.", metadata=cost(items=1)
    )
    page_info: PageInfo = strawberry.field(description="Where the next page starts.")


async def audit_log(
    info: ChainorgInfo,
    since: Annotated[datetime | None, strawberry.argument(description="Only change sets from then on.")] = None,
    subject: Annotated[
        strawberry.ID | None, strawberry.argument(description="Only changes naming this id or credit code.")
    ] = None,
    first: First = DEFAULT_PAGE,
    after: After = None,
) -> AuditConnection:
    """Who changed what and when, oldest first."""
    state, world = info.context.writable(), await info.context.world()
    page = await state.audit_log(since, subject, offset_after(after), page_size(first), world)
    return connection(AuditConnection, page, [AuditEntry.of(e) for e in page.items])
