"""A ledger on which every compliance rule fires, read through the real loader, with the
findings written out by hand: each count below was worked out from the rows, not taken
from an audit. Thresholds are lowered so that a few enterprises reach them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from graph.compliance import RuleCode, RuleConfig
from graph.query import Scope
from graph.stores.networkx import NetworkxStore
from tests.conftest import Tables, credit_code

pytestmark = pytest.mark.anyio

DAY = date(2024, 6, 30)
LATER = date(2025, 6, 30)  # e6 registered, B1's term over
CONFIG = RuleConfig.from_mapping({
    "JOINT_TOO_WIDE": {"max_units": 2},
    "OVERSIZE_BRANCH": {"max_members": 10},
    "UPGRADE_TO_COMMITTEE": {"min_members": 20},
})  # fmt: skip

# n  formal probationary status  registered    covered by
ENTERPRISES = [
    (1, 6, 5, "ACTIVE", ""),  # B1: 11 members, over 10 (formal alone would be 6)
    (2, 8, 0, "ACTIVE", ""),  # B2: 8 formal, no branch committee recorded
    (3, 9, 12, "ACTIVE", ""),  # G1: 21 members, may become a committee (formal alone: 9)
    (4, 1, 0, "ACTIVE", ""),  # J1
    (5, 1, 0, "ZOMBIE", ""),  # J1: a unit, and not active
    (6, 1, 0, "ACTIVE", "2025-01-01"),  # J1, from its registration: not a unit on DAY
    (7, 3, 0, "ACTIVE", ""),  # J2: 3 formal and only a joint branch: must build
    (8, 1, 0, "ACTIVE", ""),  # J2
    (9, 0, 0, "CLOSED", ""),  # J2: a unit though closed, so J2 has 3 units
    (10, 4, 0, "ACTIVE", ""),  # O1, which is part of nothing
    (11, 3, 0, "ACTIVE", ""),  # nothing: must build
    (12, 2, 0, "ACTIVE", ""),  # nothing: could join a joint branch
    (13, 1, 0, "ZOMBIE", ""),  # nothing, but not active: no finding
]
COVERED_BY = {1: "B1", 2: "B2", 3: "G1", 4: "J1", 5: "J1", 6: "J1", 7: "J2", 8: "J2", 9: "J2", 10: "O1"}
RULE_TABLES: Tables = {
    "enterprises": [
        ["credit_code", "name", "park", "formal_members", "probationary_members", "status", "registered_on"],
        *[[credit_code(n), f"企业{n}", "A", str(f), str(p), s, r] for n, f, p, s, r in ENTERPRISES],
    ],
    "organizations": [
        ["id", "name", "kind", "parent_id", "term_ends_on"],
        ["P", "党工委", "PARK_COMMITTEE", "", ""],
        ["C1", "一联组", "CLUSTER", "P", ""],
        ["B1", "企业1党支部", "BRANCH", "C1", "2024-07-30"],  # 30 days after DAY: ending
        ["B2", "企业2党支部", "BRANCH", "C1", "2024-06-20"],  # 10 days before DAY: expired
        ["G1", "企业3党总支", "GENERAL_BRANCH", "C1", ""],
        ["J1", "甲楼联合党支部", "JOINT_BRANCH", "C1", ""],
        ["J2", "乙楼联合党支部", "JOINT_BRANCH", "C1", ""],
        ["O1", "企业10党支部", "BRANCH", "", ""],
    ],
    "coverage": [["org_id", "credit_code"], *[[org, credit_code(n)] for n, org in COVERED_BY.items()]],
}

ON_DAY = {
    RuleCode.MUST_BUILD: [credit_code(7), credit_code(11)],
    RuleCode.UNCOVERED_JOINABLE: [credit_code(12)],
    RuleCode.JOINT_TOO_WIDE: ["J2"],
    RuleCode.NEEDS_BRANCH_COMMITTEE: ["B2"],
    RuleCode.OVERSIZE_BRANCH: ["B1"],
    RuleCode.UPGRADE_TO_COMMITTEE: ["G1"],
    RuleCode.TERM_ENDING: ["B1"],
    RuleCode.TERM_EXPIRED: ["B2"],
    RuleCode.COVERS_INACTIVE: ["J1", "J2"],
    RuleCode.ORPHAN: ["O1"],
}
A_YEAR_LATER = {
    **ON_DAY,
    RuleCode.JOINT_TOO_WIDE: ["J1", "J2"],  # e6 is registered: J1 has 3 units
    RuleCode.TERM_ENDING: [],
    RuleCode.TERM_EXPIRED: ["B1", "B2"],
}


@pytest.fixture
def rule_store(store_of: Callable[[Tables], NetworkxStore]) -> NetworkxStore:
    return store_of(RULE_TABLES)


def test_every_rule_fires_on_the_ledger() -> None:
    assert set(ON_DAY) == set(RuleCode) and all(ON_DAY.values())


@pytest.mark.parametrize(("day", "expected"), [(DAY, ON_DAY), (LATER, A_YEAR_LATER)])
async def test_the_findings_are_the_ones_worked_out_by_hand(
    rule_store: NetworkxStore, day: date, expected: dict[RuleCode, list[str]]
) -> None:
    counts = {c.rule: c.count for c in await rule_store.compliance(Scope(), day, CONFIG)}
    assert counts == {rule: len(subjects) for rule, subjects in expected.items()}
    page = await rule_store.findings(Scope(), day, CONFIG, 0, 100)
    found: dict[RuleCode, list[str]] = {rule: [] for rule in RuleCode}
    for finding in page.items:
        found[finding.rule].append(finding.subject_id)
    assert {rule: sorted(ids) for rule, ids in found.items()} == expected
    about = await rule_store.findings_about(["J1", "B1"], day, CONFIG)
    assert [sorted(f.rule for f in each) for each in about] == [
        sorted(rule for rule, ids in expected.items() if subject in ids) for subject in ("J1", "B1")
    ]


async def test_a_message_gives_the_counted_figures(rule_store: NetworkxStore) -> None:
    about = await rule_store.findings_about(["B1", "G1", "J2"], DAY, CONFIG)
    messages = {f.rule: f.message for each in about for f in each}
    assert messages == {
        RuleCode.OVERSIZE_BRANCH: "党支部 企业1党支部有党员11名，上限为10名：应拆分，或改设党总支",
        RuleCode.TERM_ENDING: "党支部 企业1党支部的任期于2024-07-30届满，还有30天（提前90天提示）：请做好换届准备",
        RuleCode.UPGRADE_TO_COMMITTEE: "党总支 企业3党总支有党员21名，达到20名，可升格为党委",
        RuleCode.JOINT_TOO_WIDE: "联合党支部 乙楼联合党支部覆盖3个单位，上限为2个",
        RuleCode.COVERS_INACTIVE: "联合党支部 乙楼联合党支部覆盖1家非在营企业：企业9（注销）",
    }
    [[must_build], [orphan], branch] = await rule_store.findings_about([credit_code(7), "O1", "B2"], DAY, CONFIG)
    assert (
        must_build.message == "企业7有正式党员3名，没有本企业的党组织（仅由联合党支部覆盖）；正式党员3名以上应单独组建"
    )
    assert orphan.message == "党支部 企业10党支部未纳入联组、产业链党委或园区党工委（没有上级组织）"
    assert {f.rule: f.message for f in branch} == {
        RuleCode.NEEDS_BRANCH_COMMITTEE: "党支部 企业2党支部有正式党员8名，未记录支部委员会；正式党员7名以上的支部应设立支部委员会",
        RuleCode.TERM_EXPIRED: "党支部 企业2党支部的任期已于2024-06-20届满，至2024-06-30已过10天，未记录新一届任期",
    }
