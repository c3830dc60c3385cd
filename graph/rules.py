"""The domain rules, defined once: every loader, store and mutation applies these.

Dates are day numbers (`date.toordinal()`, int32). `ALWAYS` stands for an undated
start (it counts at every date) and `NEVER` for an end that has not happened, so a
rule is plain arithmetic over whole columns.

>>> from datetime import date
>>> import numpy as np
>>> day = day_number(date(2021, 7, 1))
>>> int(effective_since(np.array([ALWAYS]), np.array([day]))[0]) == day
True
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from itertools import pairwise

import numpy as np

from graph.model import Covers, Enterprise, LinkKind, Organization, OrgKind, PartOf, Status

ALWAYS = int(np.iinfo(np.int32).min)  # an undated start: counts at every date
NEVER = int(np.iinfo(np.int32).max)  # an end that has not happened

MAX_MEMBERS = 1_000_000
MAX_EMPLOYEES = 10_000_000
MAX_ORGANIZATION_POINTS = 1_000_000  # 积分
MAX_STARS = 5

STATUSES: list[Status] = list(Status)  # a status column holds positions in this list

Today = Callable[[], date]


def clock(stands_on: date | None) -> Today:
    """What "today" is for a store: the calendar's day, or `stands_on` for a dataset that
    stands still on one day (the demo stands on the day its figures were published).

    >>> clock(date(2021, 7, 31))()
    datetime.date(2021, 7, 31)
    >>> clock(None)() == date.today()
    True
    """
    if stands_on is None:
        return date.today
    return lambda: stands_on


def day_number(day: date | None, missing: int = ALWAYS) -> int:
    """The day number of `day`; `missing` when there is no date."""
    return day.toordinal() if day is not None else missing


def asked_on(as_of: date | None, today: Today) -> int:
    """The day a question is asked about: `as_of`, or today when none is given.

    A question without a date is about now, so what is dated after today (an
    organization established next month) does not count yet.
    """
    return day_number(as_of if as_of is not None else today())


def effective_since(established: np.ndarray, since: np.ndarray) -> np.ndarray:
    """When a COVERS edge takes effect: the later of its organization's establishment
    and the coverage's own `since` (undated sides do not hold it back)."""
    return np.maximum(established, since)


def inactive_since(status: np.ndarray, status_since: np.ndarray) -> np.ndarray:
    """The day each enterprise stops counting: NEVER for ACTIVE; for ZOMBIE or CLOSED,
    the day its status changed, or ALWAYS when that day is unknown.

    `status` holds positions in `STATUSES`.
    """
    active = status == STATUSES.index(Status.ACTIVE)
    return np.where(active, NEVER, status_since).astype(np.int32)


def counted_at(registered: np.ndarray, inactive: np.ndarray, day: int) -> np.ndarray:
    """Enterprises that count at `day`: registered by then and not yet zombie or closed."""
    return (registered <= day) & (inactive > day)


def counts_on(enterprise: Enterprise, day: int) -> bool:
    """`counted_at` for one enterprise record: registered by `day` and ACTIVE on it."""
    inactive = NEVER if enterprise.status is Status.ACTIVE else day_number(enterprise.status_since)
    return day_number(enterprise.registered_on) <= day < inactive


def cover_span(cover: Covers, org: Organization) -> tuple[int, int]:
    """When a COVERS edge holds, as day numbers [since, until): from `effective_since`
    until it ends or its organization is dissolved, whichever comes first."""
    since = max(day_number(org.established_on), day_number(cover.since))
    return since, min(day_number(cover.until, NEVER), day_number(org.dissolved_on, NEVER))


def parent_spans(org: Organization, past: Iterable[PartOf]) -> dict[str, list[tuple[int, int]]]:
    """When each parent holds the organization, as day numbers [since, until): on a day an
    ended PART_OF edge covers, its parent (the first listed); on every other day, the
    current `parent_id`. A parent it never holds is left out.

    >>> from datetime import date
    >>> moved = PartOf("B1", "C1", None, date(2024, 1, 1))
    >>> spans = parent_spans(Organization("B1", "支部", OrgKind.BRANCH, parent_id="C2"), [moved])
    >>> spans == {"C1": [(ALWAYS, day_number(date(2024, 1, 1)))], "C2": [(day_number(date(2024, 1, 1)), NEVER)]}
    True
    """
    ended = [(day_number(p.since), day_number(p.until, NEVER), p.parent_id) for p in past]
    bounds = sorted({ALWAYS, NEVER, *(since for since, _, _ in ended), *(until for _, until, _ in ended)})
    spans: dict[str, list[tuple[int, int]]] = {}
    for start, end in pairwise(bounds):
        parent = next((held for since, until, held in ended if since <= start < until), org.parent_id)
        if parent is None:
            continue
        held = spans.setdefault(parent, [])
        if held and held[-1][1] == start:
            held[-1] = (held[-1][0], end)
        else:
            held.append((start, end))
    return spans


def counts_toward_coverage(kind: OrgKind) -> bool:
    """Only enterprise-level organizations (own or joint) cover enterprises."""
    return kind.is_enterprise_level


def resolve_clusters(declared: np.ndarray, edge_row: np.ndarray, edge_cluster: np.ndarray) -> np.ndarray:
    """Each enterprise's cluster: the one its ledger row declares (行业归口), else the
    cluster above its first covering organization in ledger order that has one.

    Arguments are cluster codes (0 for none): per enterprise, and per COVERS edge
    (edges in ledger order) the cluster above the edge's organization.

    >>> resolve_clusters(np.array([2, 0, 0]), np.array([0, 1, 1]), np.array([1, 0, 3])).tolist()
    [2, 3, 0]
    """
    resolved = declared.copy()
    has_cluster = edge_cluster != 0
    rows, first = np.unique(edge_row[has_cluster], return_index=True)
    undeclared = declared[rows] == 0
    resolved[rows[undeclared]] = edge_cluster[has_cluster][first[undeclared]]
    return resolved


# -- ledger invariants: each returns the reason a record breaks it, or None ----------


def parent_problem(kind: OrgKind, parent: OrgKind) -> str | None:
    """A parent sits strictly above its child in the three tiers."""
    if parent.rank >= kind.rank:
        return f"a {kind.value} cannot be part of a {parent.value}"
    return None


def cluster_problem(kind: OrgKind) -> str | None:
    """An enterprise's declared cluster must be a CLUSTER."""
    return None if kind is OrgKind.CLUSTER else f"names a {kind.value}, not a CLUSTER"


def cover_problem(kind: OrgKind) -> str | None:
    """Only enterprise-level organizations cover enterprises."""
    return None if counts_toward_coverage(kind) else f"a {kind.value} does not cover enterprises directly"


ALLIANCE_LINKS = frozenset({LinkKind.ALLIANCE, LinkKind.ALLIANCE_LEAD})  # the kinds that make a member of an alliance


def link_problem(kind: LinkKind, source: Organization | None, target: Organization | None) -> str | None:
    """An alliance link (联盟成员, 盟主单位) runs from an enterprise-level organization to an
    alliance; other links may join any two records.

    >>> link_problem(LinkKind.ALLIANCE, Organization("B", "支部", OrgKind.BRANCH), None)
    'an ALLIANCE link runs to a party-building alliance (an ALLIANCE organization)'
    """
    if kind not in ALLIANCE_LINKS:
        return None
    if target is None or target.kind is not OrgKind.ALLIANCE:
        return f"an {kind.value} link runs to a party-building alliance (an ALLIANCE organization)"
    if source is None or not source.kind.is_enterprise_level:
        return f"an {kind.value} link runs from an enterprise's party organization"
    return None


def lead_problem(alliance_id: str, spans: Iterable[tuple[date | None, date | None]]) -> str | None:
    """An alliance has one lead (盟主单位) at a time: the [since, until) spans of its
    ALLIANCE_LEAD links do not overlap.

    >>> lead_problem("LM", [(date(2020, 1, 1), date(2021, 1, 1)), (date(2021, 1, 1), None)]) is None
    True
    >>> lead_problem("LM", [(None, None), (date(2021, 1, 1), None)])
    'alliance LM has two leads (盟主单位) at once from 2021-01-01; it has one at a time'
    """
    earliest, latest = date.min, date.max
    held = sorted((since or earliest, until or latest) for since, until in spans)
    for (_, ends), (starts, _) in pairwise(held):
        if starts < ends:
            return f"alliance {alliance_id} has two leads (盟主单位) at once from {starts}; it has one at a time"
    return None


def span_problem(since: date | None, until: date | None) -> str | None:
    """A dated record ends after it starts: [since, until) is never empty.

    >>> span_problem(date(2021, 7, 1), date(2021, 7, 1))
    'ends on 2021-07-01, not after it starts (2021-07-01)'
    """
    if since is not None and until is not None and until <= since:
        return f"ends on {until}, not after it starts ({since})"
    return None


DISTINCT_IDS = "ids must be distinct across organizations, departments, instructors and enterprises' credit codes"


def id_taken(some_id: str, holders: Mapping[str, Callable[[str], bool]]) -> str | None:
    """Why `some_id` cannot name a new record: what already has it. An edge names its ends
    by id, so an id is one record's across every kind an edge can name.

    >>> id_taken("C1", {"an organization": {"C1"}.__contains__})
    "an organization has the id 'C1': ids must be distinct across organizations, departments, instructors and enterprises' credit codes"
    """
    for what, holds in holders.items():
        if holds(some_id):
            return f"{what} has the id {some_id!r}: {DISTINCT_IDS}"
    return None


# -- values: one check for every ledger cell and every field a change carries ------

FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2100, 12, 31)
CONTROL_CHARACTERS = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"  # a regular expression, for Python and polars
INVISIBLE = r"^[\s\p{Cf}\p{Z}]*$"  # polars' spelling of `is_blank`
CONTROL_PROBLEM = "control characters (such as NUL) are not allowed in text"
DAY_PROBLEM = f"must be between {FIRST_DAY} and {LAST_DAY}"


def is_blank(text: str) -> bool:
    """Nothing a reader can see: spaces, zero-width and other format characters only.

    >>> is_blank(" \u200b\u3000"), is_blank("联组")
    (True, False)
    """
    return all(char.isspace() or unicodedata.category(char) in ("Cf", "Zs", "Zl", "Zp") for char in text)


def text_problem(text: str) -> str | None:
    """Why `text` cannot be kept: control characters, or nothing visible."""
    if _CONTROL.search(text):
        return CONTROL_PROBLEM
    if is_blank(text):
        return "must not be blank"
    return None


def day_problem(day: date) -> str | None:
    """Dates outside 1900–2100 are typing errors (9999-12-31 would end nothing, ever).

    >>> day_problem(date(9999, 12, 31))
    'must be between 1900-01-01 and 2100-12-31'
    """
    return None if FIRST_DAY <= day <= LAST_DAY else DAY_PROBLEM


def dissolved_problem(org: Organization, day: date) -> str | None:
    """An organization takes new children, members, links and coverage only until it is dissolved."""
    if org.dissolved_on is not None and org.dissolved_on <= day:
        return f"{org.name} ({org.id}) was dissolved on {org.dissolved_on}"
    return None


_CONTROL = re.compile(CONTROL_CHARACTERS)
