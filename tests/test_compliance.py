"""The compliance rules: each at, just below and just above its threshold; configuration; a store's audit."""

from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
import pytest

from graph.compliance import (
    DEFAULT_RULES,
    ConfigInvalid,
    EnterpriseFacts,
    OrganizationFacts,
    RuleCode,
    RuleConfig,
    enterprise_masks,
    organization_findings,
)
from graph.model import Organization, OrgKind, Status
from graph.query import Scope
from graph.stores.protocol import OrgStore
from loaders.demo import demo_dataset
from tests.conftest import HAND_TABLES, credit_code

pytestmark = pytest.mark.anyio
DAY = date(2026, 11, 23)


def enterprise(formal: int = 0, employees: int = -1, above_scale: bool = False, own: bool = False,
               covered: bool = False, active: bool = True) -> EnterpriseFacts:  # fmt: skip
    """Facts of one enterprise."""
    return EnterpriseFacts(
        active=np.array([active]),
        formal=np.array([formal]),
        employees=np.array([employees]),
        above_scale=np.array([above_scale]),
        own_organization=np.array([own]),
        organization_covered=np.array([covered or own]),
    )


def found(facts: EnterpriseFacts, code: RuleCode, config: RuleConfig = DEFAULT_RULES) -> bool:
    return bool(enterprise_masks(facts, config)[code][0])


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (enterprise(formal=2), False),  # below 3 formal members
        (enterprise(formal=3), True),  # at 3
        (enterprise(formal=4, covered=True), True),  # above, and only a joint branch covers it
        (enterprise(formal=4, own=True), False),  # has its own
        (enterprise(formal=4, active=False), False),  # a zombie is not audited
        (enterprise(employees=49), False),
        (enterprise(employees=50), True),
        (enterprise(employees=51, covered=True), False),  # the hard indicators ask for coverage, joint will do
        (enterprise(above_scale=True), True),
        (enterprise(above_scale=True, covered=True), False),
    ],
)
def test_must_build(facts: EnterpriseFacts, expected: bool) -> None:
    assert found(facts, RuleCode.MUST_BUILD) is expected


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (enterprise(formal=0), False),
        (enterprise(formal=1), True),
        (enterprise(formal=2), True),
        (enterprise(formal=3), False),
        (enterprise(formal=2, covered=True), False),
    ],
)
def test_uncovered_joinable(facts: EnterpriseFacts, expected: bool) -> None:
    assert found(facts, RuleCode.UNCOVERED_JOINABLE) is expected


def organization(kind: OrgKind = OrgKind.BRANCH, formal: int = 0, members: int = 0, units: int = 1,
                 inactive: tuple[tuple[str, Status], ...] = (), attached: bool = True, term_ends_on: date | None = None,
                 has_committee: bool | None = None) -> OrganizationFacts:  # fmt: skip
    org = Organization("O1", "某党支部", kind, parent_id="C1", term_ends_on=term_ends_on, has_committee=has_committee)
    return OrganizationFacts(org, formal, members, units, inactive, attached)


def rules_of(facts: OrganizationFacts, config: RuleConfig = DEFAULT_RULES) -> set[RuleCode]:
    return {finding.rule for finding in organization_findings(facts, config, DAY)}


@pytest.mark.parametrize(
    ("facts", "code", "expected"),
    [
        (organization(OrgKind.JOINT_BRANCH, units=5), RuleCode.JOINT_TOO_WIDE, False),
        (organization(OrgKind.JOINT_BRANCH, units=6), RuleCode.JOINT_TOO_WIDE, True),
        (organization(OrgKind.BRANCH, units=6), RuleCode.JOINT_TOO_WIDE, False),
        (organization(formal=6, members=9), RuleCode.NEEDS_BRANCH_COMMITTEE, False),  # counts formal members
        (organization(formal=7, members=7), RuleCode.NEEDS_BRANCH_COMMITTEE, True),
        (organization(formal=8, has_committee=True), RuleCode.NEEDS_BRANCH_COMMITTEE, False),
        (organization(OrgKind.GENERAL_BRANCH, formal=8), RuleCode.NEEDS_BRANCH_COMMITTEE, False),
        (organization(members=50), RuleCode.OVERSIZE_BRANCH, False),
        (organization(members=51), RuleCode.OVERSIZE_BRANCH, True),
        (organization(OrgKind.JOINT_BRANCH, members=51), RuleCode.OVERSIZE_BRANCH, True),
        (organization(OrgKind.GENERAL_BRANCH, members=99), RuleCode.UPGRADE_TO_COMMITTEE, False),
        (organization(OrgKind.GENERAL_BRANCH, members=100), RuleCode.UPGRADE_TO_COMMITTEE, True),
        (organization(OrgKind.COMMITTEE, members=300), RuleCode.UPGRADE_TO_COMMITTEE, False),
        (organization(term_ends_on=DAY + timedelta(days=91)), RuleCode.TERM_ENDING, False),
        (organization(term_ends_on=DAY + timedelta(days=90)), RuleCode.TERM_ENDING, True),
        (organization(term_ends_on=DAY), RuleCode.TERM_ENDING, True),
        (organization(term_ends_on=DAY), RuleCode.TERM_EXPIRED, False),
        (organization(term_ends_on=DAY - timedelta(days=1)), RuleCode.TERM_EXPIRED, True),
        (organization(inactive=()), RuleCode.COVERS_INACTIVE, False),
        (organization(inactive=(("甲公司", Status.ZOMBIE),)), RuleCode.COVERS_INACTIVE, True),
        (organization(attached=True), RuleCode.ORPHAN, False),
        (organization(attached=False), RuleCode.ORPHAN, True),
        (organization(OrgKind.CLUSTER, attached=False), RuleCode.ORPHAN, False),  # only enterprise level
    ],
)
def test_organization_rules(facts: OrganizationFacts, code: RuleCode, expected: bool) -> None:
    assert (code in rules_of(facts)) is expected


def test_a_message_gives_the_value_and_the_threshold() -> None:
    [finding] = organization_findings(organization(members=63), DEFAULT_RULES.only([RuleCode.OVERSIZE_BRANCH]), DAY)
    assert finding.message == "党支部 某党支部有党员63名，上限为50名：应拆分，或改设党总支"
    assert finding.subject_id == "O1" and finding.subject_name == "某党支部"


def test_a_changed_threshold_changes_the_result() -> None:
    wider = RuleConfig.from_mapping({"JOINT_TOO_WIDE": {"max_units": 6}, "MUST_BUILD": {"above_scale": False}})
    assert RuleCode.JOINT_TOO_WIDE not in rules_of(organization(OrgKind.JOINT_BRANCH, units=6), wider)
    assert not found(enterprise(above_scale=True), RuleCode.MUST_BUILD, wider)


def test_a_disabled_rule_and_a_changed_severity() -> None:
    config = RuleConfig.from_mapping({"ORPHAN": {"enabled": False}, "TERM_EXPIRED": {"severity": "WARNING"}})
    assert RuleCode.ORPHAN not in rules_of(organization(attached=False), config)
    [expired] = organization_findings(organization(term_ends_on=date(2020, 1, 1)), config, DAY)
    assert expired.severity == "WARNING"


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"MUST_BILD": {}}, "rules.MUST_BILD: no such rule"),
        ({"MUST_BUILD": {"min_members": 3}}, "rules.MUST_BUILD.min_members: no such setting"),
        ({"MUST_BUILD": {"min_formal_members": "3"}}, "rules.MUST_BUILD.min_formal_members: must be a whole number"),
        ({"MUST_BUILD": {"min_formal_members": 2.5}}, "must be a whole number, got 2.5"),
        ({"MUST_BUILD": {"min_formal_members": True}}, "must be a whole number, got True"),
        ({"MUST_BUILD": {"above_scale": 1}}, "rules.MUST_BUILD.above_scale: must be true or false"),
        ({"JOINT_TOO_WIDE": {"max_units": -1}}, "rules.JOINT_TOO_WIDE.max_units: must not be negative, got -1"),
        ({"ORPHAN": {"severity": "FATAL"}}, "rules.ORPHAN.severity: must be one of ERROR, WARNING, INFO"),
        ({"ORPHAN": {"enabled": "no"}}, "rules.ORPHAN.enabled: must be true or false"),
        ({"ORPHAN": 3}, "rules.ORPHAN: must be a table"),
    ],
)
def test_an_invalid_config_names_the_key_and_the_reason(table: dict, message: str) -> None:
    with pytest.raises(ConfigInvalid, match=message.replace(".", r"\.").replace("(", r"\(")):
        RuleConfig.from_mapping(table)


# -- a store's audit ------------------------------------------------------------------


async def test_the_hand_ledger_audit(any_hand_store: OrgStore) -> None:
    # as of 2026: 5 has 3 formal members and nothing (MUST_BUILD); 2 and 3 (1 and 2 formal) sit in the joint
    # branch J1, so nobody is UNCOVERED_JOINABLE; B2 covers 6, a zombie (COVERS_INACTIVE); 7 is B2's own.
    counts = {c.rule: c.count for c in await any_hand_store.compliance(Scope(), DAY, DEFAULT_RULES)}
    assert {rule: n for rule, n in counts.items() if n} == {RuleCode.MUST_BUILD: 1, RuleCode.COVERS_INACTIVE: 1}
    page = await any_hand_store.findings(Scope(), DAY, DEFAULT_RULES, 0, 10)
    assert [(f.rule, f.subject_id) for f in page.items] == [
        (RuleCode.MUST_BUILD, credit_code(5)),
        (RuleCode.COVERS_INACTIVE, "B2"),
    ]
    assert page.items[1].message == "党支部 企业7党支部覆盖1家非在营企业：企业6（僵尸）"


async def test_findings_about_subjects(any_hand_store: OrgStore) -> None:
    about = await any_hand_store.findings_about(["B2", credit_code(5), credit_code(1), "nobody"], DAY, DEFAULT_RULES)
    assert [[f.rule for f in found] for found in about] == [[RuleCode.COVERS_INACTIVE], [RuleCode.MUST_BUILD], [], []]


async def test_a_scope_keeps_organizations_that_cover_enterprises_in_it(any_hand_store: OrgStore) -> None:
    park_b = {c.rule: c.count for c in await any_hand_store.compliance(Scope(park="B"), DAY, DEFAULT_RULES)}
    park_a = {c.rule: c.count for c in await any_hand_store.compliance(Scope(park="A"), DAY, DEFAULT_RULES)}
    # B2 covers 6 (park A, a zombie) and 7 (park B): it is in both parks; 5 is in park A
    assert (park_a[RuleCode.COVERS_INACTIVE], park_b[RuleCode.COVERS_INACTIVE]) == (1, 1)
    assert (park_a[RuleCode.MUST_BUILD], park_b[RuleCode.MUST_BUILD]) == (1, 0)


async def test_an_organization_outside_every_tier_is_an_orphan(store_of: Callable) -> None:
    tables = {**HAND_TABLES, "organizations": [*HAND_TABLES["organizations"], ["L", "孤立党支部", "BRANCH", "", ""]]}
    store = store_of(tables)
    counts = {c.rule: c.count for c in await store.compliance(Scope(), DAY, DEFAULT_RULES)}
    assert counts[RuleCode.ORPHAN] == 1


async def test_the_demo_by_brute_force(any_demo_store: OrgStore) -> None:
    """MUST_BUILD and UNCOVERED_JOINABLE counted again over the demo's records."""
    dataset, day = demo_dataset(), date(2021, 7, 31)
    kinds = {org.id: org.kind for org in dataset.organizations}
    records = dataset.enterprises.records(range(len(dataset.enterprises)))
    active = [e for e in records if e.status == "ACTIVE" and (e.registered_on or date.min) <= day]
    established = {org.id: org.established_on or date.min for org in dataset.organizations}
    live = [c for c in dataset.covers if max(established[c.org_id], c.since or date.min) <= day]
    covered = {c.credit_code for c in live}
    own = {c.credit_code for c in live if kinds[c.org_id] is not OrgKind.JOINT_BRANCH}
    must = [
        e for e in active
        if (e.formal_members >= 3 and e.credit_code not in own)
        or ((e.employees or 0) >= 50 or e.above_scale) and e.credit_code not in covered
    ]  # fmt: skip
    joinable = [e for e in active if 1 <= e.formal_members <= 2 and e.credit_code not in covered]
    counts = {c.rule: c.count for c in await any_demo_store.compliance(Scope(), day, DEFAULT_RULES)}
    assert (counts[RuleCode.MUST_BUILD], counts[RuleCode.UNCOVERED_JOINABLE]) == (len(must), len(joinable))
    assert counts[RuleCode.MUST_BUILD] > 0 and counts[RuleCode.UNCOVERED_JOINABLE] > 0
    page = await any_demo_store.findings(Scope(), day, DEFAULT_RULES, 0, 10_000)
    assert page.total == sum(counts.values()) == len(page.items)
    assert [f.subject_id for f in page.items if f.rule is RuleCode.MUST_BUILD] == [e.credit_code for e in must]


async def test_pages_follow_each_other(any_demo_store: OrgStore) -> None:
    day = date(2021, 7, 31)
    whole = (await any_demo_store.findings(Scope(), day, DEFAULT_RULES, 0, 5_000)).items
    pieces = [(await any_demo_store.findings(Scope(), day, DEFAULT_RULES, n, 700)).items for n in range(0, 5_000, 700)]
    assert [f for piece in pieces for f in piece] == whole
