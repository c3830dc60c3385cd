"""The compliance audit (应建必建 and the branch work regulations): rules defined once.

Each rule is a pure function over what a store hands it, as of one day:

- an enterprise rule reads `EnterpriseFacts`, whole columns with one entry per
  enterprise, and returns the mask of enterprises it finds; a message is written only
  for the findings a page shows (a province has a million enterprises);
- an organization rule reads one `OrganizationFacts` (an organization with its member
  counts, the units it covers, the inactive enterprises among them, whether it is
  attached to a cluster or committee) and returns its message, or None.

Every threshold is a parameter with a default, configurable per park (`RuleConfig`,
`[rules]` in `chainorg.toml`). A store may push a rule's filter down to its backend,
but the definition here is the one the tests hold it to.

>>> config = RuleConfig.from_mapping({"JOINT_TOO_WIDE": {"max_units": 4}})
>>> config.setting(RuleCode.JOINT_TOO_WIDE)["max_units"], config.setting(RuleCode.MUST_BUILD)["min_formal_members"]
(4, 3)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from functools import cached_property
from typing import Any

import numpy as np

from graph.errors import ConfigInvalid
from graph.model import Enterprise, Organization, OrgKind, Status
from graph.vocabulary import term

Value = int | bool


class RuleCode(StrEnum):
    MUST_BUILD = "MUST_BUILD"
    UNCOVERED_JOINABLE = "UNCOVERED_JOINABLE"
    JOINT_TOO_WIDE = "JOINT_TOO_WIDE"
    NEEDS_BRANCH_COMMITTEE = "NEEDS_BRANCH_COMMITTEE"
    OVERSIZE_BRANCH = "OVERSIZE_BRANCH"
    UPGRADE_TO_COMMITTEE = "UPGRADE_TO_COMMITTEE"
    TERM_ENDING = "TERM_ENDING"
    TERM_EXPIRED = "TERM_EXPIRED"
    COVERS_INACTIVE = "COVERS_INACTIVE"
    ORPHAN = "ORPHAN"


class Severity(StrEnum):
    ERROR = "ERROR"  # breaks a rule: must be put right
    WARNING = "WARNING"  # should be put right
    INFO = "INFO"  # a candidate or a reminder


class Subject(StrEnum):
    ENTERPRISE = "ENTERPRISE"
    ORGANIZATION = "ORGANIZATION"


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing wrong or due, about one enterprise or organization, said in plain words."""

    rule: RuleCode
    severity: Severity
    subject: Subject
    subject_id: str
    subject_name: str
    message: str


# -- what the rules read ------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class EnterpriseFacts:
    """Enterprise columns as of one day, one entry per enterprise (a store's row order)."""

    active: np.ndarray  # registered by the day and ACTIVE on it
    formal: np.ndarray  # formal members (正式党员)
    employees: np.ndarray  # -1 where the ledger gives none
    above_scale: np.ndarray  # 规上
    own_organization: np.ndarray  # covered by an organization that is not a joint branch
    organization_covered: np.ndarray  # covered by any organization, own or joint


@dataclass(frozen=True, slots=True)
class OrganizationFacts:
    """An organization as the rules see it on one day; members count its whole subtree."""

    organization: Organization
    formal: int  # formal members of the ACTIVE enterprises it and its sub-organizations cover
    members: int  # formal and probationary
    units: int  # enterprises it covers itself, whatever their status
    inactive: tuple[tuple[str, Status], ...]  # covered enterprises that are zombie or closed: (name, status)
    attached: bool  # part of a cluster, a chain committee or the park committee, directly or higher up


# -- the rules ---------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One rule's configuration: on or off, its severity and its thresholds."""

    code: RuleCode
    enabled: bool
    severity: Severity
    values: tuple[tuple[str, Value], ...]

    def __getitem__(self, name: str) -> int:
        return self._by_name[name]

    @cached_property
    def _by_name(self) -> dict[str, int]:
        return {name: int(value) for name, value in self.values}


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule's definition: what it is about, its defaults, and how it finds."""

    code: RuleCode
    term: str  # the Chinese term administrators use
    subject: Subject
    severity: Severity
    parameters: Mapping[str, tuple[Value, str]]  # name: (default, what it means)
    summary: str


@dataclass(frozen=True, slots=True)
class EnterpriseRule(Rule):
    select: Callable[[EnterpriseFacts, Setting], np.ndarray]
    explain: Callable[[Enterprise, bool, bool, Setting], str]


@dataclass(frozen=True, slots=True)
class OrganizationRule(Rule):
    check: Callable[[OrganizationFacts, Setting, date], str | None]


def _named(org: Organization) -> str:
    """An organization as messages name it: its kind's Chinese term, then its name."""
    return f"{term(org.kind) or org.kind.value} {org.name}"


def _must_build(facts: EnterpriseFacts, setting: Setting) -> np.ndarray:
    by_members = (facts.formal >= setting["min_formal_members"]) & ~facts.own_organization
    indicated = facts.employees >= setting["min_employees"]
    if setting["above_scale"]:
        indicated = indicated | facts.above_scale
    return facts.active & (by_members | (indicated & ~facts.organization_covered))


def _explain_must_build(enterprise: Enterprise, own: bool, covered: bool, setting: Setting) -> str:
    reasons = []
    if enterprise.formal_members >= setting["min_formal_members"] and not own:
        covering = "仅由联合党支部覆盖" if covered else "未被任何党组织覆盖"
        reasons.append(
            f"有正式党员{enterprise.formal_members}名，没有本企业的党组织（{covering}）；"
            f"正式党员{setting['min_formal_members']}名以上应单独组建"
        )
    if not covered:
        employees = enterprise.employees if enterprise.employees is not None else -1
        if employees >= setting["min_employees"]:
            reasons.append(f"有职工{employees}名，达到{setting['min_employees']}名的标准，未被任何党组织覆盖")
        if setting["above_scale"] and enterprise.above_scale:
            reasons.append("为规上企业，未被任何党组织覆盖")
    return enterprise.name + "；另".join(reasons)


def _joinable(facts: EnterpriseFacts, setting: Setting) -> np.ndarray:
    members = (facts.formal >= setting["min_formal_members"]) & (facts.formal <= setting["max_formal_members"])
    return facts.active & members & ~facts.organization_covered


def _explain_joinable(enterprise: Enterprise, own: bool, covered: bool, setting: Setting) -> str:
    return (
        f"{enterprise.name}有正式党员{enterprise.formal_members}名，没有党组织；"
        f"正式党员{setting['max_formal_members']}名及以下的企业可加入或组建联合党支部（联合组建）"
    )


def _joint_too_wide(facts: OrganizationFacts, setting: Setting, day: date) -> str | None:
    org = facts.organization
    if org.kind is not OrgKind.JOINT_BRANCH or facts.units <= setting["max_units"]:
        return None
    return f"{_named(org)}覆盖{facts.units}个单位，上限为{setting['max_units']}个"


BRANCHES = frozenset({OrgKind.BRANCH, OrgKind.JOINT_BRANCH})


def _needs_branch_committee(facts: OrganizationFacts, setting: Setting, day: date) -> str | None:
    org = facts.organization
    if org.kind not in BRANCHES or org.has_committee or facts.formal < setting["min_formal_members"]:
        return None
    return (
        f"{_named(org)}有正式党员{facts.formal}名，未记录支部委员会；"
        f"正式党员{setting['min_formal_members']}名以上的支部应设立支部委员会"
    )


def _oversize_branch(facts: OrganizationFacts, setting: Setting, day: date) -> str | None:
    org = facts.organization
    if org.kind not in BRANCHES or facts.members <= setting["max_members"]:
        return None
    return f"{_named(org)}有党员{facts.members}名，上限为{setting['max_members']}名：应拆分，或改设党总支"


def _upgrade(facts: OrganizationFacts, setting: Setting, day: date) -> str | None:
    org = facts.organization
    if not org.kind.is_enterprise_level or org.kind is OrgKind.COMMITTEE or facts.members < setting["min_members"]:
        return None
    return f"{_named(org)}有党员{facts.members}名，达到{setting['min_members']}名，可升格为党委"


def _term_ending(facts: OrganizationFacts, setting: Setting, day: date) -> str | None:
    ends = facts.organization.term_ends_on
    if ends is None or not 0 <= (ends - day).days <= setting["within_days"]:
        return None
    left = (ends - day).days
    return (
        f"{_named(facts.organization)}的任期于{ends.isoformat()}届满，还有{left}天"
        f"（提前{setting['within_days']}天提示）：请做好换届准备"
    )


def _term_expired(facts: OrganizationFacts, setting: Setting, day: date) -> str | None:
    ends = facts.organization.term_ends_on
    if ends is None or ends >= day:
        return None
    return (
        f"{_named(facts.organization)}的任期已于{ends.isoformat()}届满，至{day.isoformat()}已过"
        f"{(day - ends).days}天，未记录新一届任期"
    )


def _covers_inactive(facts: OrganizationFacts, setting: Setting, day: date) -> str | None:
    if not facts.inactive:
        return None
    shown = "、".join(f"{name}（{term(status) or status.value}）" for name, status in facts.inactive[:5])
    more = f"等{len(facts.inactive)}家" if len(facts.inactive) > 5 else ""
    return f"{_named(facts.organization)}覆盖{len(facts.inactive)}家非在营企业：{shown}{more}"


def _orphan(facts: OrganizationFacts, setting: Setting, day: date) -> str | None:
    org = facts.organization
    if not org.kind.is_enterprise_level or facts.attached:
        return None
    above = f"上级为{org.parent_id}" if org.parent_id else "没有上级组织"
    return f"{_named(org)}未纳入联组、产业链党委或园区党工委（{above}）"


RULES: dict[RuleCode, Rule] = {
    rule.code: rule
    for rule in (
        EnterpriseRule(
            RuleCode.MUST_BUILD, "应建未建", Subject.ENTERPRISE, Severity.ERROR,
            {"min_formal_members": (3, "formal members from which an enterprise must have its own organization"),
             "min_employees": (50, "employees from which an enterprise must be covered by an organization"),
             "above_scale": (True, "whether an above-scale (规上) enterprise must be covered by an organization")},
            "An ACTIVE enterprise with enough formal members and no organization of its own, or one that the "
            "hard indicators (employees, scale) say must be covered and no organization covers.",
            _must_build, _explain_must_build,
        ),
        EnterpriseRule(
            RuleCode.UNCOVERED_JOINABLE, "可联合组建", Subject.ENTERPRISE, Severity.INFO,
            {"min_formal_members": (1, "fewest formal members of a joint-branch candidate"),
             "max_formal_members": (2, "most formal members of a joint-branch candidate")},
            "An ACTIVE enterprise with a few formal members and no organization at all: a joint-branch candidate.",
            _joinable, _explain_joinable,
        ),
        OrganizationRule(
            RuleCode.JOINT_TOO_WIDE, "联合党支部覆盖过宽", Subject.ORGANIZATION, Severity.WARNING,
            {"max_units": (5, "most units a joint branch should cover")},
            "A joint branch covering more units than the limit.",
            _joint_too_wide,
        ),
        OrganizationRule(
            RuleCode.NEEDS_BRANCH_COMMITTEE, "应设支委会", Subject.ORGANIZATION, Severity.ERROR,
            {"min_formal_members": (7, "formal members from which a branch elects a branch committee")},
            "A branch with enough formal members and no branch committee recorded (`has_committee`).",
            _needs_branch_committee,
        ),
        OrganizationRule(
            RuleCode.OVERSIZE_BRANCH, "支部规模过大", Subject.ORGANIZATION, Severity.WARNING,
            {"max_members": (50, "most members of a branch")},
            "A branch with more members than the limit: split it, or make it a general branch.",
            _oversize_branch,
        ),
        OrganizationRule(
            RuleCode.UPGRADE_TO_COMMITTEE, "可升格", Subject.ORGANIZATION, Severity.INFO,
            {"min_members": (100, "members from which an organization may become a committee")},
            "An enterprise organization with enough members that is not a committee (升格).",
            _upgrade,
        ),
        OrganizationRule(
            RuleCode.TERM_ENDING, "即将届满", Subject.ORGANIZATION, Severity.INFO,
            {"within_days": (90, "days ahead in which a term's end is flagged")},
            "An organization whose term ends within the given days of the date asked about.",
            _term_ending,
        ),
        OrganizationRule(
            RuleCode.TERM_EXPIRED, "届满未换届", Subject.ORGANIZATION, Severity.ERROR, {},
            "An organization whose term ended before the date asked about.",
            _term_expired,
        ),
        OrganizationRule(
            RuleCode.COVERS_INACTIVE, "覆盖非在营企业", Subject.ORGANIZATION, Severity.WARNING, {},
            "An organization covering a zombie or closed enterprise.",
            _covers_inactive,
        ),
        OrganizationRule(
            RuleCode.ORPHAN, "未纳入上级组织", Subject.ORGANIZATION, Severity.WARNING, {},
            "An enterprise-level organization not part of a cluster, a chain committee or the park committee.",
            _orphan,
        ),
    )
}  # fmt: skip
SEVERITY_ORDER = list(Severity)


# -- configuration ------------------------------------------------------------------


@dataclass(frozen=True)
class RuleConfig:
    """Every rule's setting; hashable, so answers can be kept per configuration."""

    settings: tuple[Setting, ...]

    @classmethod
    def default(cls) -> RuleConfig:
        return cls.from_mapping({})

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any], where: str = "rules") -> RuleConfig:
        """Settings from a `[rules]` table: `[rules.CODE]` with `enabled`, `severity` and
        thresholds; what is absent keeps its default. Raises ConfigInvalid naming the key."""
        unknown = sorted(set(table) - set(RuleCode))
        if unknown:
            raise ConfigInvalid(f"{where}.{unknown[0]}: no such rule; the rules are {', '.join(RuleCode)}")
        return cls(tuple(_setting(RULES[code], table.get(code, {}), f"{where}.{code}") for code in RuleCode))

    def setting(self, code: RuleCode) -> Setting:
        return self.settings[list(RuleCode).index(code)]

    @property
    def term_window(self) -> int:
        """The days ahead in which a term's end is due (换届提醒): TERM_ENDING's `within_days`.

        >>> DEFAULT_RULES.term_window
        90
        """
        return self.setting(RuleCode.TERM_ENDING)["within_days"]

    def only(self, codes: Sequence[RuleCode] | None) -> RuleConfig:
        """This configuration with only `codes` enabled (of those enabled); all when None."""
        if codes is None:
            return self
        return RuleConfig(tuple(replace(s, enabled=s.enabled and s.code in codes) for s in self.settings))

    def enabled(self) -> list[Setting]:
        """Enabled settings in report order: by severity, then in the order the rules are declared."""
        return self._enabled

    @cached_property
    def _enabled(self) -> list[Setting]:
        return sorted((s for s in self.settings if s.enabled), key=lambda s: SEVERITY_ORDER.index(s.severity))

    @cached_property
    def organization_rules(self) -> list[tuple[OrganizationRule, Setting]]:
        """The enabled organization rules with their settings, in report order."""
        return [(rule, s) for s in self._enabled if isinstance(rule := RULES[s.code], OrganizationRule)]


def _setting(rule: Rule, table: Any, where: str) -> Setting:
    if not isinstance(table, Mapping):
        raise ConfigInvalid(f"{where}: must be a table of settings, got {table!r}")
    allowed = {"enabled", "severity", *rule.parameters}
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ConfigInvalid(f"{where}.{unknown[0]}: no such setting; {rule.code} takes {', '.join(sorted(allowed))}")
    enabled = table.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigInvalid(f"{where}.enabled: must be true or false, got {enabled!r}")
    severity = table.get("severity", rule.severity.value)
    if severity not in Severity.__members__:
        raise ConfigInvalid(f"{where}.severity: must be one of {', '.join(Severity)}, got {severity!r}")
    values = []
    for name, (default, _) in rule.parameters.items():
        value = table.get(name, default)
        if isinstance(default, bool) and not isinstance(value, bool):
            raise ConfigInvalid(f"{where}.{name}: must be true or false, got {value!r}")
        if not isinstance(default, bool) and (isinstance(value, bool) or not isinstance(value, int)):
            raise ConfigInvalid(f"{where}.{name}: must be a whole number, got {value!r}")
        if value < 0:
            raise ConfigInvalid(f"{where}.{name}: must not be negative, got {value}")
        values.append((name, value))
    return Setting(rule.code, enabled, Severity(severity), tuple(values))


DEFAULT_RULES = RuleConfig.default()


# -- evaluation ---------------------------------------------------------------------


def enterprise_masks(facts: EnterpriseFacts, config: RuleConfig) -> dict[RuleCode, np.ndarray]:
    """Each enabled enterprise rule's findings as a mask over the facts' rows."""
    found = {}
    for setting in config.enabled():
        rule = RULES[setting.code]
        if isinstance(rule, EnterpriseRule):
            found[setting.code] = rule.select(facts, setting)
    return found


def enterprise_finding(code: RuleCode, config: RuleConfig, enterprise: Enterprise, own: bool, covered: bool) -> Finding:
    """The finding of enterprise rule `code` about an enterprise its mask selected."""
    rule, setting = RULES[code], config.setting(code)
    assert isinstance(rule, EnterpriseRule)
    message = rule.explain(enterprise, own, covered, setting)
    return Finding(code, setting.severity, Subject.ENTERPRISE, enterprise.credit_code, enterprise.name, message)


def organization_findings(facts: OrganizationFacts, config: RuleConfig, day: date) -> list[Finding]:
    """Every enabled organization rule's finding about one organization, in report order.

    >>> org = Organization("J1", "X楼联合党支部", OrgKind.JOINT_BRANCH, parent_id="C1")
    >>> facts = OrganizationFacts(org, formal=6, members=8, units=7, inactive=(), attached=True)
    >>> [f.message for f in organization_findings(facts, DEFAULT_RULES, date(2026, 1, 1))]
    ['联合党支部 X楼联合党支部覆盖7个单位，上限为5个']
    """
    org, found = facts.organization, []
    for rule, setting in config.organization_rules:
        if (message := rule.check(facts, setting, day)) is not None:
            found.append(Finding(setting.code, setting.severity, Subject.ORGANIZATION, org.id, org.name, message))
    return found


@dataclass(frozen=True, slots=True)
class RuleCount:
    rule: RuleCode
    severity: Severity
    count: int


def windows(
    order: Sequence[RuleCode], sizes: Mapping[RuleCode, int], offset: int, limit: int
) -> list[tuple[RuleCode, int, int]]:
    """Which findings of which rule a page `offset` to `offset + limit` shows, in report
    order: (rule, findings of it skipped, findings of it taken).

    >>> windows([RuleCode.MUST_BUILD, RuleCode.ORPHAN], {RuleCode.MUST_BUILD: 3, RuleCode.ORPHAN: 5}, 2, 4)
    [(<RuleCode.MUST_BUILD: 'MUST_BUILD'>, 2, 1), (<RuleCode.ORPHAN: 'ORPHAN'>, 0, 3)]
    """
    found = []
    for code in order:
        size = sizes[code]
        if offset >= size:
            offset -= size
            continue
        take = min(limit, size - offset)
        found.append((code, offset, take))
        limit, offset = limit - take, 0
        if limit <= 0:
            break
    return found


class Audit:
    """The findings of one configuration within a scope on one day.

    Enterprise findings stay masks (a byte an enterprise) until a page asks for them;
    organization findings (thousands, not millions) are written out at once.
    """

    def __init__(
        self,
        config: RuleConfig,
        day: date,
        enterprises: EnterpriseFacts,
        in_scope: np.ndarray | None,
        organizations: Sequence[OrganizationFacts],
    ):
        self.config, self.enterprises = config, enterprises
        masks = enterprise_masks(enterprises, config)
        self.masks = masks if in_scope is None else {code: mask & in_scope for code, mask in masks.items()}
        self.by_rule: dict[RuleCode, list[Finding]] = {}  # organization findings
        self.by_subject: dict[str, list[Finding]] = {}
        for facts in organizations:
            for finding in organization_findings(facts, config, day):
                self.by_rule.setdefault(finding.rule, []).append(finding)
                self.by_subject.setdefault(finding.subject_id, []).append(finding)
        self.order = [s.code for s in config.enabled()]
        self._sizes = {
            code: int(np.count_nonzero(self.masks[code])) if code in self.masks else len(self.by_rule.get(code, []))
            for code in self.order
        }
        self._rows: dict[RuleCode, np.ndarray] = {}

    def counts(self) -> list[RuleCount]:
        """How many findings each enabled rule has, in report order (zeros included)."""
        return [RuleCount(code, self.config.setting(code).severity, self._sizes[code]) for code in self.order]

    def total(self) -> int:
        return sum(self._sizes.values())

    def rows(self, code: RuleCode) -> np.ndarray:
        """The rows enterprise rule `code` finds, in row order; worked out when first asked."""
        if code not in self._rows:
            self._rows[code] = np.flatnonzero(self.masks[code]).astype(np.int32)
        return self._rows[code]

    def page(self, offset: int, limit: int, records: Callable[[np.ndarray], list[Enterprise]]) -> list[Finding]:
        """Findings `offset` to `offset + limit` in report order; `records` builds enterprises by row."""
        found: list[Finding] = []
        for code, skip, take in windows(self.order, self._sizes, offset, limit):
            if code in self.masks:
                rows = self.rows(code)[skip : skip + take]
                found += [self._about(code, row, e) for row, e in zip(rows.tolist(), records(rows), strict=True)]
            else:
                found += self.by_rule.get(code, [])[skip : skip + take]
        return found

    def about_enterprise(self, row: int, enterprise: Enterprise) -> list[Finding]:
        """The findings about the enterprise at `row`, in report order."""
        return [
            self._about(code, row, enterprise) for code in self.order if code in self.masks and self.masks[code][row]
        ]

    def _about(self, code: RuleCode, row: int, enterprise: Enterprise) -> Finding:
        facts = self.enterprises
        own, covered = bool(facts.own_organization[row]), bool(facts.organization_covered[row])
        return enterprise_finding(code, self.config, enterprise, own, covered)


@dataclass(frozen=True, slots=True)
class ComplianceGroup:
    """Counts per rule for one park, chain, cluster, building or category."""

    key: str
    label: str
    counts: list[RuleCount]
