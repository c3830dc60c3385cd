"""One vocabulary of changes: what administrators record and planners propose.

Each change is an immutable value that checks itself against the domain rules and
writes its records into a `Draft`; `apply_changes` runs a change set in order and
either returns the draft, every change applied, or raises `ChangeRejected` naming
the change (by position) and the field at fault, with the records untouched. A
change without a date happens on the draft's `today`. Nothing is ever deleted:
ending an edge sets its `until`, dissolving an organization sets `dissolved_on`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import date, datetime
from enum import Enum
from operator import attrgetter
from types import UnionType
from typing import Any, ClassVar, Union, get_args, get_origin, get_type_hints

from graph import rules
from graph.credit_code import InvalidCreditCode, normalised, validate_credit_code
from graph.errors import ChainorgError
from graph.model import (
    Assignment,
    Category,
    Covers,
    Enterprise,
    FormationMode,
    Instructor,
    Link,
    LinkKind,
    Organization,
    OrgKind,
    PartOf,
    Status,
    Upgrade,
)
from graph.records import Draft, id_holders

UPGRADES = (OrgKind.BRANCH, OrgKind.GENERAL_BRANCH, OrgKind.COMMITTEE)  # 升格: each may become a later one


class ChangeRejected(ChainorgError):
    """A change breaks a rule; nothing of its change set was written."""

    code = "INVALID_CHANGE"

    def __init__(self, message: str, field: str | None = None, position: int | None = None):
        super().__init__(message)
        self.field = field
        self.position = position  # of the change in its set, from 1

    def extensions(self) -> dict[str, object]:
        return {"change": self.position, "field": self.field}

    def at(self, position: int) -> ChangeRejected:
        self.position = position
        return self

    def __str__(self) -> str:
        where = f"change {self.position}" if self.position is not None else ""
        if self.field:
            where = f"{where}, {self.field}" if where else self.field
        return f"{where}: {self.args[0]}" if where else str(self.args[0])


class ChangeTargetMissing(ChangeRejected):
    """A change names an organization, enterprise, instructor or edge that does not exist."""

    code = "NOT_FOUND"


class ChangeConflict(ChangeRejected):
    """A change would duplicate what exists (an id taken, an enterprise already covered)."""

    code = "CONFLICT"


# -- look-ups every change shares ---------------------------------------------------


def _organization(draft: Draft, org_id: str, field: str, standing: date | None = None) -> Organization:
    """The organization `org_id`; with `standing`, one not dissolved by then."""
    org: Organization | None = draft.organizations.get(org_id)
    if org is None:
        raise ChangeTargetMissing(f"no organization has the id {org_id!r}", field)
    if standing is not None and (problem := rules.dissolved_problem(org, standing)):
        raise ChangeRejected(problem, field)
    return org


def _enterprise(draft: Draft, credit_code: str, field: str) -> Enterprise:
    """The enterprise a credit code names, in any case and with spaces around it."""
    found = draft.enterprise(normalised(credit_code))
    if found is None:
        raise ChangeTargetMissing(f"no enterprise has the credit code {credit_code!r}", field)
    return found


def _not_before(day: date, start: date | None, what: str, field: str) -> None:
    if start is not None and day < start:
        raise ChangeRejected(f"{day} is before {what} ({start})", field)


def _range(value: int | None, most: int, field: str) -> None:
    if value is not None and not 0 <= value <= most:
        raise ChangeRejected(f"must be from 0 to {most:,}, got {value:,}", field)


def _text(value: str | None, field: str, required: bool = False) -> None:
    if value is None:
        if required:
            raise ChangeRejected("required", field)
        return
    if problem := rules.text_problem(value):
        raise ChangeRejected(problem, field)


def _end_id_known(draft: Draft, some_id: str, field: str, day: date) -> None:
    """A LINK end: an organization standing on `day`, a department or an enterprise."""
    org: Organization | None = draft.organizations.get(some_id)
    if org is not None:
        if problem := rules.dissolved_problem(org, day):
            raise ChangeRejected(problem, field)
    elif some_id not in draft.departments and draft.enterprise(some_id) is None:
        raise ChangeTargetMissing(f"no organization, department or enterprise has the id {some_id!r}", field)


def _id_taken(draft: Draft, some_id: str, field: str) -> None:
    """A new organization's, instructor's or enterprise's id is no other record's (rules.id_taken)."""
    if problem := rules.id_taken(some_id, id_holders(draft)):
        raise ChangeConflict(problem, field)


def _values_problem(value: Any, field: str = "") -> ChangeRejected | None:
    """The first text or date in a change (its records included) that no ledger cell could hold."""
    if isinstance(value, str):
        problem = rules.text_problem(value) if value else None
    elif isinstance(value, date) and not isinstance(value, datetime):
        problem = rules.day_problem(value)
    elif isinstance(value, tuple):
        return next((p for n, item in enumerate(value) if (p := _values_problem(item, f"{field}[{n}]"))), None)
    elif is_dataclass(value) and not isinstance(value, type):
        inner = (_values_problem(getattr(value, f.name), _field_name(field, f.name)) for f in fields(value))
        return next((p for p in inner if p is not None), None)
    else:
        problem = None
    return ChangeRejected(problem, field) if problem else None


def _field_name(outer: str, name: str) -> str:
    return name if outer in ("", "enterprise", "organization") else f"{outer}.{name}"


# -- the changes --------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """Base of every change; `kind` names it in the audit trail."""

    kind: ClassVar[str]
    about: ClassVar[str]  # the field holding the id it is about

    def apply(self, draft: Draft) -> None:
        raise NotImplementedError

    def subject(self) -> str:
        """The id the change is about, for the audit trail."""
        return str(attrgetter(self.about)(self))


@dataclass(frozen=True)
class RegisterEnterprise(Change):
    """A new enterprise joins the ledger."""

    kind: ClassVar[str] = "registerEnterprise"
    about: ClassVar[str] = "enterprise.credit_code"
    enterprise: Enterprise

    def apply(self, draft: Draft) -> None:
        given = self.enterprise
        try:
            code = validate_credit_code(given.credit_code)
        except InvalidCreditCode as error:
            raise ChangeRejected(str(error), "credit_code") from None
        if draft.enterprise(code) is not None:
            raise ChangeConflict(f"an enterprise with the credit code {code} is registered already", "credit_code")
        _id_taken(draft, code, "credit_code")
        _check_enterprise(draft, given)
        registered = given.registered_on or draft.today
        draft.put("enterprises", replace(given, credit_code=code, registered_on=registered))


@dataclass(frozen=True)
class UpdateEnterprise(Change):
    """New facts about an enterprise; a field left None stays as it is. A new `status`
    takes effect on `status_on` (default today)."""

    kind: ClassVar[str] = "updateEnterprise"
    about: ClassVar[str] = "credit_code"
    credit_code: str
    name: str | None = None
    park: str | None = None
    building: str | None = None
    chain: str | None = None
    category: Category | None = None
    employees: int | None = None
    formal_members: int | None = None
    probationary_members: int | None = None
    above_scale: bool | None = None
    key: bool | None = None
    cluster_id: str | None = None
    status: Status | None = None
    status_on: date | None = None

    def apply(self, draft: Draft) -> None:
        before = _enterprise(draft, self.credit_code, "credit_code")
        given = {
            f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("credit_code", "status", "status_on")
        }
        after = replace(before, **{name: value for name, value in given.items() if value is not None})
        if self.status_on is not None and self.status is None:
            raise ChangeRejected("a date for a status change needs the new status", "status_on")
        if self.status is not None and self.status is not before.status:
            day = self.status_on or draft.today
            _not_before(day, before.status_since or before.registered_on, "its current status began", "status_on")
            after = replace(after, status=self.status, status_since=day)
        _check_enterprise(draft, after, before)
        if after != before:
            draft.put("enterprises", after)


def _check_enterprise(draft: Draft, enterprise: Enterprise, before: Enterprise | None = None) -> None:
    """An enterprise's fields; a cluster it is newly put under must stand today."""
    _text(enterprise.name, "name", required=True)
    _text(enterprise.park, "park", required=True)
    for name in ("building", "chain"):
        _text(getattr(enterprise, name), name)
    _range(enterprise.employees, rules.MAX_EMPLOYEES, "employees")
    _range(enterprise.formal_members, rules.MAX_MEMBERS, "formal_members")
    _range(enterprise.probationary_members, rules.MAX_MEMBERS, "probationary_members")
    if enterprise.cluster_id is not None:
        moved = before is None or before.cluster_id != enterprise.cluster_id
        cluster = _organization(draft, enterprise.cluster_id, "cluster_id", standing=draft.today if moved else None)
        if problem := rules.cluster_problem(cluster.kind):
            raise ChangeRejected(f"{enterprise.cluster_id} {problem}", "cluster_id")


@dataclass(frozen=True)
class CreateOrganization(Change):
    """A new organization of any kind, under its parent (none for a park committee)."""

    kind: ClassVar[str] = "createOrganization"
    about: ClassVar[str] = "organization.id"
    organization: Organization

    def apply(self, draft: Draft) -> None:
        org = self.organization
        _text(org.id, "id", required=True)
        _text(org.name, "name", required=True)
        _id_taken(draft, org.id, "id")
        if org.dissolved_on is not None:
            raise ChangeRejected("a new organization is not dissolved; dissolve it with its own change", "dissolved_on")
        established = org.established_on or draft.today
        if org.parent_id is not None:
            parent = _organization(draft, org.parent_id, "parent_id", standing=established)
            if problem := rules.parent_problem(org.kind, parent.kind):
                raise ChangeRejected(problem, "parent_id")
            _not_before(established, parent.established_on, f"{parent.name} was established", "established_on")
        _check_details(org)
        draft.put("organizations", replace(org, established_on=established))


def _check_details(org: Organization) -> None:
    _range(org.stars, rules.MAX_STARS, "stars")
    _range(org.points, rules.MAX_ORGANIZATION_POINTS, "points")
    _text(org.secretary, "secretary")
    if org.term_ends_on is not None and org.established_on is not None and org.term_ends_on <= org.established_on:
        raise ChangeRejected(f"the term ends on {org.term_ends_on}, before it was established", "term_ends_on")


@dataclass(frozen=True)
class SetOrganizationDetails(Change):
    """Stars, points, term, secretary, name or branch committee; None leaves a field as it is."""

    kind: ClassVar[str] = "setOrganizationDetails"
    about: ClassVar[str] = "org_id"
    org_id: str
    name: str | None = None
    stars: int | None = None
    points: int | None = None
    term_ends_on: date | None = None
    secretary: str | None = None
    has_committee: bool | None = None
    mode: FormationMode | None = None

    def apply(self, draft: Draft) -> None:
        before = _organization(draft, self.org_id, "org_id", standing=draft.today)
        given = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "org_id"}
        _text(self.name, "name")
        after = replace(before, **{name: value for name, value in given.items() if value is not None})
        _check_details(after)
        if after != before:
            draft.put("organizations", after)


@dataclass(frozen=True)
class MoveOrganization(Change):
    """The organization goes under another parent on `on`; the old PART_OF edge ends then."""

    kind: ClassVar[str] = "moveOrganization"
    about: ClassVar[str] = "org_id"
    org_id: str
    parent_id: str
    on: date | None = None

    def apply(self, draft: Draft) -> None:
        day = self.on or draft.today
        org = _organization(draft, self.org_id, "org_id", standing=day)
        if self.parent_id == org.parent_id:
            raise ChangeConflict(f"{org.name} is under {self.parent_id} already", "parent_id")
        parent = _organization(draft, self.parent_id, "parent_id", standing=day)
        if problem := rules.parent_problem(org.kind, parent.kind):
            raise ChangeRejected(problem, "parent_id")
        _not_before(day, parent.established_on, f"{parent.name} was established", "on")
        since = max((p.until for p in draft.past_parents.values() if p.org_id == org.id), default=org.established_on)
        if since is not None and day <= since:
            raise ChangeRejected(f"{day} is not after it came under its parent ({since})", "on")
        if org.parent_id is not None:
            draft.put("part_of", PartOf(org.id, org.parent_id, since, day))
        draft.put("organizations", replace(org, parent_id=parent.id))


@dataclass(frozen=True)
class UpgradeOrganization(Change):
    """升格: a branch becomes a general branch or a committee, keeping its id and history."""

    kind: ClassVar[str] = "upgradeOrganization"
    about: ClassVar[str] = "org_id"
    org_id: str
    to: OrgKind
    on: date | None = None

    def apply(self, draft: Draft) -> None:
        day = self.on or draft.today
        org = _organization(draft, self.org_id, "org_id", standing=day)
        if org.kind not in UPGRADES or self.to not in UPGRADES or UPGRADES.index(self.to) <= UPGRADES.index(org.kind):
            order = " → ".join(kind.value for kind in UPGRADES)
            raise ChangeRejected(f"a {org.kind.value} cannot be upgraded to a {self.to.value} ({order})", "to")
        if org.parent_id is not None:
            parent = _organization(draft, org.parent_id, "org_id")
            if problem := rules.parent_problem(self.to, parent.kind):
                raise ChangeRejected(f"{problem}: move it first", "to")
        last = max((u.on for u in draft.upgrades.values() if u.org_id == org.id), default=org.established_on)
        if last is not None and day <= last:
            raise ChangeRejected(f"{day} is not after its last change of kind or its establishment ({last})", "on")
        draft.put("upgrades", Upgrade(org.id, org.kind, self.to, day))
        draft.put("organizations", replace(org, kind=self.to))


@dataclass(frozen=True)
class DissolveOrganization(Change):
    """撤销: the organization ends on `on`; the enterprises it covered become uncovered by
    it, its links end, its records stay. Organizations under it must be moved or dissolved first."""

    kind: ClassVar[str] = "dissolveOrganization"
    about: ClassVar[str] = "org_id"
    org_id: str
    on: date | None = None

    def apply(self, draft: Draft) -> None:
        day = self.on or draft.today
        org = _organization(draft, self.org_id, "org_id", standing=day)
        _not_before(day, org.established_on, "it was established", "on")
        if org.established_on is not None and day == org.established_on:
            raise ChangeRejected(f"{day} is the day it was established", "on")
        under = [o.id for o in draft.organizations.values() if o.parent_id == org.id and o.dissolved_on is None]
        if under:
            shown = ", ".join(under[:5]) + (f" and {len(under) - 5} more" if len(under) > 5 else "")
            raise ChangeRejected(
                f"{len(under)} organization(s) are under it ({shown}): move or dissolve them first", "org_id"
            )
        for cover in draft.open_edges("coverage", org.id, ("org_id",)):
            draft.put("coverage", replace(cover, until=max(day, _after(cover.since))))
        for link in draft.open_edges("links", org.id, ("source_id", "target_id")):
            if link.since is not None and link.since >= day:  # rules.dissolved_problem: no link from then on
                other = link.target_id if link.source_id == org.id else link.source_id
                raise ChangeRejected(
                    f"its {link.kind.value} link with {other} begins on {link.since}, not before", "on"
                )
            draft.put("links", replace(link, until=day))
        draft.put("organizations", replace(org, dissolved_on=day))


def _end(draft: Draft, table: str, edge: Covers | Link | Assignment, began: date | None, day: date) -> None:
    """End an edge in effect: `day` is the first day it no longer holds, after the day it began."""
    if began is not None and day <= began:
        raise ChangeRejected(f"{day} is not after it began ({began})", "on")
    draft.put(table, replace(edge, until=day))


def _after(since: date | None) -> date:
    """The earliest day an edge that began on `since` can end."""
    return date.min if since is None else date.fromordinal(since.toordinal() + 1)


@dataclass(frozen=True)
class CoverEnterprises(Change):
    """COVERS edges from an enterprise-level organization to enterprises, from `since`."""

    kind: ClassVar[str] = "coverEnterprises"
    about: ClassVar[str] = "org_id"
    org_id: str
    credit_codes: tuple[str, ...]
    since: date | None = None

    def apply(self, draft: Draft) -> None:
        day = self.since or draft.today
        org = _organization(draft, self.org_id, "org_id", standing=day)
        if problem := rules.cover_problem(org.kind):
            raise ChangeRejected(problem, "org_id")
        if not self.credit_codes:
            raise ChangeRejected("name at least one enterprise", "credit_codes")
        for n, given in enumerate(self.credit_codes):
            field = f"credit_codes[{n}]"
            code = _enterprise(draft, given, field).credit_code
            if draft.open_edge("coverage", (org.id, code)) is not None:
                raise ChangeConflict(f"{org.name} covers {code} already", field)
            if (org.id, code) in draft.open_covers:  # it covered the enterprise once: not again before that ended
                ended = max(c.until for c in draft.covers.values() if (c.org_id, c.credit_code) == (org.id, code))
                if day < ended:
                    raise ChangeRejected(f"{day} is before its last coverage of {code} ended ({ended})", "since")
            draft.put("coverage", Covers(org.id, code, day))


@dataclass(frozen=True)
class UncoverEnterprises(Change):
    """The organization stops covering the enterprises on `on`."""

    kind: ClassVar[str] = "uncoverEnterprises"
    about: ClassVar[str] = "org_id"
    org_id: str
    credit_codes: tuple[str, ...]
    on: date | None = None

    def apply(self, draft: Draft) -> None:
        day = self.on or draft.today
        org = _organization(draft, self.org_id, "org_id")
        if not self.credit_codes:
            raise ChangeRejected("name at least one enterprise", "credit_codes")
        for n, given in enumerate(self.credit_codes):
            code = normalised(given)
            cover = draft.open_edge("coverage", (org.id, code))
            if cover is None:
                raise ChangeTargetMissing(f"{org.name} does not cover {code}", f"credit_codes[{n}]")
            began = max((d for d in (cover.since, org.established_on) if d is not None), default=None)
            _end(draft, "coverage", cover, began, day)


@dataclass(frozen=True)
class AddLink(Change):
    """A joint-building, pairing, alliance or supply link from `since`."""

    kind: ClassVar[str] = "addLink"
    about: ClassVar[str] = "source_id"
    source_id: str
    target_id: str
    link_kind: LinkKind
    since: date | None = None

    def apply(self, draft: Draft) -> None:
        day = self.since or draft.today
        _end_id_known(draft, self.source_id, "source_id", day)
        _end_id_known(draft, self.target_id, "target_id", day)
        if self.source_id == self.target_id:
            raise ChangeRejected("a link needs two different ends", "target_id")
        if draft.open_edge("links", (self.source_id, self.target_id, self.link_kind.value)) is not None:
            raise ChangeConflict(f"this {self.link_kind.value} link exists already", "target_id")
        orgs = draft.organizations
        if problem := rules.link_problem(self.link_kind, orgs.get(self.source_id), orgs.get(self.target_id)):
            raise ChangeRejected(problem, "target_id")
        if self.link_kind is LinkKind.ALLIANCE_LEAD:
            leads = [
                (link.since, link.until)
                for link in draft.open_edges("links", self.target_id, ("target_id",))
                if link.kind is LinkKind.ALLIANCE_LEAD
            ]
            if problem := rules.lead_problem(self.target_id, [*leads, (day, None)]):
                raise ChangeConflict(problem, "target_id")
        draft.put("links", Link(self.source_id, self.target_id, self.link_kind, day))


@dataclass(frozen=True)
class EndLink(Change):
    """The link ends on `on`."""

    kind: ClassVar[str] = "endLink"
    about: ClassVar[str] = "source_id"
    source_id: str
    target_id: str
    link_kind: LinkKind
    on: date | None = None

    def apply(self, draft: Draft) -> None:
        day = self.on or draft.today
        link = draft.open_edge("links", (self.source_id, self.target_id, self.link_kind.value))
        if link is None:
            raise ChangeTargetMissing(
                f"no {self.link_kind.value} link from {self.source_id} to {self.target_id} is in effect", "target_id"
            )
        _end(draft, "links", link, link.since, day)


@dataclass(frozen=True)
class AssignInstructor(Change):
    """A party-building instructor is assigned to an enterprise; `name` registers a new instructor."""

    kind: ClassVar[str] = "assignInstructor"
    about: ClassVar[str] = "instructor_id"
    instructor_id: str
    credit_code: str
    name: str | None = None
    since: date | None = None

    def apply(self, draft: Draft) -> None:
        _text(self.instructor_id, "instructor_id", required=True)
        known: Instructor | None = draft.instructors.get(self.instructor_id)
        if known is None:
            _id_taken(draft, self.instructor_id, "instructor_id")
            _text(self.name, "name", required=True)
            assert self.name is not None
            draft.put("instructors", Instructor(self.instructor_id, self.name.strip()))
        elif self.name is not None and self.name.strip() != known.name:
            raise ChangeConflict(f"instructor {self.instructor_id} is named {known.name!r}", "name")
        code = _enterprise(draft, self.credit_code, "credit_code").credit_code
        if draft.open_edge("assignments", (self.instructor_id, code)) is not None:
            raise ChangeConflict(f"instructor {self.instructor_id} is assigned to {code} already", "credit_code")
        draft.put("assignments", Assignment(self.instructor_id, code, self.since or draft.today))


@dataclass(frozen=True)
class UnassignInstructor(Change):
    """The instructor's assignment to the enterprise ends on `on`."""

    kind: ClassVar[str] = "unassignInstructor"
    about: ClassVar[str] = "instructor_id"
    instructor_id: str
    credit_code: str
    on: date | None = None

    def apply(self, draft: Draft) -> None:
        day = self.on or draft.today
        assignment = draft.open_edge("assignments", (self.instructor_id, normalised(self.credit_code)))
        if assignment is None:
            raise ChangeTargetMissing(
                f"instructor {self.instructor_id} is not assigned to {self.credit_code}", "credit_code"
            )
        _end(draft, "assignments", assignment, assignment.since, day)


MAX_CHANGES = 10_000  # in one change set


@dataclass(frozen=True, slots=True)
class Receipt:
    """A change set that is kept: its number in the audit trail, when, who, and how many changes.
    `repeated` when its request id had been committed before: this is that first receipt, and
    nothing was written now."""

    change_set: int
    at: datetime
    who: str
    changes: int
    repeated: bool = False


MAX_REQUEST_ID = 200
SCENARIO_REQUESTS = "scenario:"  # request ids of scenarios applied (graph.stores.networkx.state), not for clients


def check_request_id(request_id: str) -> str:
    """A client's request id for a change set: visible text of at most MAX_REQUEST_ID characters."""
    problem = rules.text_problem(request_id) if request_id else "must not be empty"
    if problem is None and len(request_id) > MAX_REQUEST_ID:
        problem = f"at most {MAX_REQUEST_ID} characters"
    if problem is None and request_id.startswith(SCENARIO_REQUESTS):
        problem = f"ids beginning {SCENARIO_REQUESTS!r} are kept for applied scenarios"
    if problem:
        raise ChangeRejected(problem, "request_id")
    return request_id


def digest(changes: Sequence[Change]) -> str:
    """What a change set asks, as a short fingerprint: a request id repeated with other changes is refused."""
    text = json.dumps([[change.kind, describe(change)] for change in changes], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def apply_changes(draft: Draft, changes: Sequence[Change]) -> Draft:
    """Apply `changes` in order to `draft`; all of them, or ChangeRejected and none.

    The draft is spoilt by a rejection: the caller drops it, and the records under it
    were never touched.
    """
    if not changes:
        raise ChangeRejected("a change set needs at least one change")
    if len(changes) > MAX_CHANGES:
        raise ChangeRejected(f"{len(changes):,} changes in one set; at most {MAX_CHANGES:,}")
    for position, change in enumerate(changes, 1):  # change 1 is the first, as people count
        draft.marks.append(len(draft.writes))
        try:
            if problem := _values_problem(change):
                raise problem
            change.apply(draft)
        except ChangeRejected as rejected:
            raise rejected.at(position) from None
    return draft


def describe(value: Any) -> Any:
    """A record as plain JSON values: dates as ISO text, enums by value."""
    if isinstance(value, Enum):
        return value.value
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return [describe(item) for item in value]
    return {f.name: describe(getattr(value, f.name)) for f in fields(value)}


CHANGES: dict[str, type[Change]] = {kind.kind: kind for kind in Change.__subclasses__()}


def restore(kind: str, given: Any) -> Change:
    """A change from its `kind` and `describe`d value: the inverse of `describe`, for changes kept as JSON.

    >>> change = CoverEnterprises("J1", ("91430100MA4L0001X1",), date(2024, 1, 2))
    >>> restore(change.kind, describe(change)) == change
    True
    """
    found = CHANGES.get(kind)
    if found is None:
        raise ChangeRejected(f"no change is called {kind!r}; the changes are {', '.join(sorted(CHANGES))}")
    return _decoded(found, given)


def _decoded(annotation: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(annotation, UnionType) or get_origin(annotation) is Union:
        return _decoded(next(a for a in get_args(annotation) if a is not type(None)), value)
    if get_origin(annotation) is tuple:
        return tuple(_decoded(get_args(annotation)[0], item) for item in value)
    if annotation is date:
        return date.fromisoformat(value)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return annotation(value)
    if isinstance(annotation, type) and is_dataclass(annotation):
        hints = get_type_hints(annotation)
        return annotation(**{f.name: _decoded(hints[f.name], value.get(f.name)) for f in fields(annotation)})
    return value
