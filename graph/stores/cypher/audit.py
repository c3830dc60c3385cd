"""Compliance over the graph database: the facts gathered in Cypher, the rules of graph.compliance.

Enterprise rules are counted and paged in the database, as conditions pushed down
(graph.stores.cypher.queries.ENTERPRISE_RULES, held to the rules by the tests); their
messages are written here by `enterprise_finding`, for the page shown. Organization
rules run here on the facts of each organization standing in the scope, which one
statement gathers: organizations are a hundredth of a graph, enterprises never travel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np

from graph.compliance import (
    RULES,
    EnterpriseFacts,
    EnterpriseRule,
    Finding,
    OrganizationFacts,
    RuleCode,
    RuleConfig,
    RuleCount,
    enterprise_finding,
    enterprise_masks,
    organization_findings,
)
from graph.model import Enterprise, Organization, Status, Upgrade, as_on
from graph.records import restored


@dataclass(frozen=True)
class Audit:
    """One configuration's findings in a scope on a day: counts of every rule, organization
    findings written out, enterprise findings left in the database until a page asks."""

    config: RuleConfig
    sizes: dict[RuleCode, int]
    by_rule: dict[RuleCode, list[Finding]] = field(default_factory=dict)
    by_subject: dict[str, list[Finding]] = field(default_factory=dict)

    @property
    def order(self) -> list[RuleCode]:
        return [s.code for s in self.config.enabled()]

    def counts(self) -> list[RuleCount]:
        return [RuleCount(code, self.config.setting(code).severity, self.sizes[code]) for code in self.order]

    def total(self) -> int:
        return sum(self.sizes.values())


def enterprise_codes(config: RuleConfig) -> tuple[str, ...]:
    """The enabled enterprise rules, in report order."""
    return tuple(s.code.value for s in config.enabled() if isinstance(RULES[s.code], EnterpriseRule))


def thresholds(config: RuleConfig) -> dict[str, Any]:
    """Every enterprise rule's thresholds as the parameters its condition names (`<RULE>_<name>`)."""
    return {
        f"{code}_{name}": value
        for code in enterprise_codes(config)
        for name, value in config.setting(RuleCode(code)).values
    }


def audit_of(config: RuleConfig, on: date, counted: list[int], organizations: list[dict[str, Any]]) -> Audit:
    """The audit from the enterprise rules' counts (in `enterprise_codes` order) and the
    organization facts a statement gathered (in ledger order)."""
    sizes = dict(zip(map(RuleCode, enterprise_codes(config)), counted, strict=True))
    audit = Audit(config, sizes)
    for entry in organizations:
        for finding in organization_findings(organization_facts(entry, on), config, on):
            audit.by_rule.setdefault(finding.rule, []).append(finding)
            audit.by_subject.setdefault(finding.subject_id, []).append(finding)
    for code in audit.order:
        sizes.setdefault(code, len(audit.by_rule.get(code, [])))
    return audit


def organization_facts(entry: dict[str, Any], on: date) -> OrganizationFacts:
    """graph.compliance.OrganizationFacts from an entry of the organization facts statement."""
    org = restored(Organization, entry["organization"])
    formal, probationary = int(entry["formal"]), int(entry["probationary"])
    return OrganizationFacts(
        as_on(org, [restored(Upgrade, u) for u in entry["upgrades"]], on),
        formal,
        formal + probationary,
        int(entry["units"]),
        tuple((name, Status(status)) for name, status in entry["inactive"]),
        bool(entry["organization"].get("attached")),
    )


def enterprise_findings(config: RuleConfig, code: RuleCode, rows: list[list[Any]]) -> list[Finding]:
    """The findings of enterprise rule `code` about the rows a page statement returned."""
    return [
        enterprise_finding(code, config, restored(Enterprise, values), bool(owned), bool(organized))
        for values, owned, organized in rows
    ]


def findings_about_enterprises(config: RuleConfig, rows: list[Any]) -> list[list[Finding] | None]:
    """Each enterprise's findings (None where a row has none), from the facts the enterprise
    facts statement returned: the rules of graph.compliance run on them as they are."""
    enterprises = [None if r["enterprise"] is None else restored(Enterprise, r["enterprise"]) for r in rows]
    facts = EnterpriseFacts(
        active=np.array([bool(r["active"]) for r in rows], dtype=bool),
        formal=np.array([e.formal_members if e else 0 for e in enterprises], dtype=np.int64),
        employees=np.array([e.employees if e and e.employees is not None else -1 for e in enterprises], np.int64),
        above_scale=np.array([bool(e and e.above_scale) for e in enterprises], dtype=bool),
        own_organization=np.array([bool(r["owned"]) for r in rows], dtype=bool),
        organization_covered=np.array([bool(r["organized"]) for r in rows], dtype=bool),
    )
    masks = enterprise_masks(facts, config)
    order = [s.code for s in config.enabled() if s.code in masks]
    return [
        None
        if enterprise is None
        else [
            enterprise_finding(code, config, enterprise, bool(owned), bool(covered))
            for code in order
            if masks[code][at]
        ]
        for at, (enterprise, owned, covered) in enumerate(
            zip(enterprises, facts.own_organization, facts.organization_covered, strict=True)
        )
    ]
