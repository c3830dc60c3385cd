"""A reconciled ledger as a change set against a state: what is new, what changed, what became a zombie.

`chainorg reconcile --state DIR` shows this before anything is written, and with
`--apply` hands it to the state's writer as one change set, so it is validated as every
other change is and lands in the audit trail at once or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from graph.changes import Change, RegisterEnterprise, UpdateEnterprise
from graph.model import Enterprise, Status

COMPARED = ("name", "park", "building", "chain", "category", "employees", "formal_members", "probationary_members",
            "above_scale", "key")  # fmt: skip  # what a reconciled ledger says of an enterprise (not its cluster)


@dataclass(frozen=True)
class Proposal:
    changes: list[Change]
    new: int
    changed: int
    zombies: int  # of the changed, those that become zombies


def proposed(
    reconciled: Sequence[Enterprise], given: Sequence[set[str]], kept: Sequence[Enterprise | None], found_on: date
) -> Proposal:
    """The changes that make the state's enterprises (`kept`, one per reconciled, None where
    the state has none) say what the reconciled ledger says in the columns it `given` for
    each. Nothing the ledger leaves empty is touched, and a status changes only to ZOMBIE
    or CLOSED, on `found_on`.

    >>> old = Enterprise("X", "甲", park="A", employees=3)
    >>> now = Enterprise("X", "甲", park="A", employees=0, status=Status.ZOMBIE)
    >>> proposal = proposed([now], [{"name", "park", "employees", "status"}], [old], date(2026, 12, 1))
    >>> proposal.changes[0].employees, proposal.changes[0].status, proposal.zombies
    (0, <Status.ZOMBIE: 'ZOMBIE'>, 1)
    """
    changes: list[Change] = []
    new = changed = zombies = 0
    for enterprise, columns, before in zip(reconciled, given, kept, strict=True):
        if before is None:
            changes.append(RegisterEnterprise(enterprise))
            new += 1
            continue
        facts = {
            name: value
            for name in COMPARED
            if name in columns and (value := getattr(enterprise, name)) != getattr(before, name)
        }
        status = (
            enterprise.status
            if enterprise.status is not Status.ACTIVE and enterprise.status is not before.status
            else None
        )
        if facts or status is not None:
            on = found_on if status is not None else None
            changes.append(UpdateEnterprise(enterprise.credit_code, **facts, status=status, status_on=on))
            changed += 1
            zombies += status is Status.ZOMBIE
    return Proposal(changes, new, changed, zombies)
