"""Reconciling department ledgers into one enterprise ledger: the "four rounds" of seed 001.

Round 1 merges the departments' ledgers, round 2 adds the door-to-door survey, round 3
removes duplicates, round 4 marks the enterprises that do not really operate (zombies).

- The same valid credit code is the same enterprise, whatever the ledgers call it.
- A row whose code is missing or invalid can only be a *probable* match: its normalised
  name (graph.company_names) found among the coded enterprises, with its park or address
  as evidence. It is merged only at or above `merge_at`, never when it would fit two
  enterprises with different codes, and every candidate is reported with its score.
- Where rows of one enterprise disagree on a field, precedence decides (the survey for
  employees and status by default, then the sources in the order given) and the
  conflict is reported with both values, their sources and the winner.
- A zombie stays in the ledger with status ZOMBIE and the day it was found, so coverage
  leaves it out and an auditor sees why.

Everything is ordered by credit code, source order and row, so the same inputs give the
same output, byte for byte.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date
from typing import Any

from graph.company_names import normalised_name
from graph.credit_code import InvalidCreditCode, validate_credit_code
from graph.errors import ConfigInvalid, refuse_unknown

COLUMNS = (
    "credit_code", "name", "park", "building", "chain", "category", "employees", "formal_members",
    "probationary_members", "above_scale", "key", "status", "status_since", "registered_on", "cluster",
)  # fmt: skip  # the clean ledger's, in order
EVIDENCE = ("address", "office", "last_active_on")  # read for matching and zombies, not written
DEREGISTERED = frozenset({"注销", "吊销", "已注销", "已吊销", "deregistered", "revoked", "cancelled"})
OPERATING = frozenset({"存续", "在业", "开业", "正常", "营业", "在营", "active"})  # spellings of ACTIVE
NO_OFFICE = frozenset({"无", "否", "没有", "no", "false", "0", "n"})
FUZZY_PREFIX = 4  # characters of a normalised name that block a fuzzy comparison


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One row of one source ledger: its cells by canonical column, empty ones left out."""

    source: str
    survey: bool  # a round-2 door-to-door survey
    row: int  # as a spreadsheet shows it
    values: Mapping[str, str]


@dataclass(frozen=True)
class Settings:
    """`[reconcile]` in chainorg.toml."""

    merge_at: float = 90.0  # a probable match scoring this or more is merged
    report_at: float = 70.0  # and one scoring this or more is reported
    survey_wins: tuple[str, ...] = ("employees", "status")
    precedence: tuple[str, ...] = ()  # sources, strongest first; the others after, in the order given
    zombie_no_employees: bool = True
    zombie_deregistered: bool = True
    zombie_no_office: bool = True
    inactive_since: date | None = None  # no activity since this day makes a zombie; None: the rule is off

    @classmethod
    def from_mapping(cls, table: Mapping[str, Any], where: str = "reconcile") -> Settings:
        """Settings from a `[reconcile]` table; ConfigInvalid names the key and why.

        >>> Settings.from_mapping({"merge_at": 95, "precedence": ["经信局"]}).precedence
        ('经信局',)
        """
        refuse_unknown(table, [f.name for f in fields(cls)], where)
        given: dict[str, Any] = {}
        for name, value in table.items():
            if name in ("merge_at", "report_at"):
                if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
                    raise ConfigInvalid(f"{where}.{name}: must be a score from 0 to 100, got {value!r}")
                given[name] = float(value)
            elif name in ("survey_wins", "precedence"):
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise ConfigInvalid(f"{where}.{name}: must be a list of names, got {value!r}")
                given[name] = tuple(value)
            elif name == "inactive_since":
                if not isinstance(value, date):
                    raise ConfigInvalid(f"{where}.{name}: must be a date like 2024-01-01, got {value!r}")
                given[name] = value
            else:
                if not isinstance(value, bool):
                    raise ConfigInvalid(f"{where}.{name}: must be true or false, got {value!r}")
                given[name] = value
        settings = replace(cls(), **given)
        if settings.report_at > settings.merge_at:
            raise ConfigInvalid(f"{where}.report_at: must not be above merge_at ({settings.merge_at:g})")
        unknown = sorted(set(settings.survey_wins) - set(COLUMNS) - set(EVIDENCE))
        if unknown:
            raise ConfigInvalid(f"{where}.survey_wins: {unknown[0]!r} is not a column")
        return settings


DEFAULT_SETTINGS = Settings()


@dataclass(frozen=True, slots=True)
class Probable:
    source: str
    row: int
    name: str
    credit_code: str  # the candidate's
    candidate_name: str
    score: float
    evidence: str
    merged: bool


@dataclass(frozen=True, slots=True)
class Conflict:
    credit_code: str
    field: str
    values: tuple[tuple[str, str], ...]  # (source, value), each distinct value once, in source order
    winner: str
    winner_source: str


@dataclass(frozen=True, slots=True)
class Rejected:
    source: str
    row: int
    name: str
    reason: str


@dataclass
class Enterprise:
    """One enterprise as reconciled: the rows it came from, and its fields."""

    credit_code: str
    rows: list[LedgerRow] = field(default_factory=list)
    values: dict[str, str] = field(default_factory=dict)
    zombie_reasons: list[str] = field(default_factory=list)


@dataclass
class Outcome:
    enterprises: list[Enterprise]
    probable: list[Probable]
    conflicts: list[Conflict]
    rejected: list[Rejected]
    rows: int
    ledgers: int
    rows_by_round: dict[int, int]
    from_survey_only: int  # enterprises only the survey found
    duplicates: int  # rows merged into an enterprise another row had
    probable_merged: int

    @property
    def zombies(self) -> list[Enterprise]:
        return [e for e in self.enterprises if e.zombie_reasons]

    def summary(self) -> str:
        """The closing line, e.g. "from 1,204 rows in 5 ledgers, 902 enterprises after deduplication, 39 zombies"."""
        return (
            f"from {self.rows:,} rows in {self.ledgers} ledgers, {len(self.enterprises):,} enterprises after "
            f"deduplication, {len(self.zombies):,} zombies"
        )


def reconcile(rows: Sequence[LedgerRow], sources: Sequence[str], settings: Settings, found_on: date) -> Outcome:
    """The four rounds over `rows` (of `sources`, in the order given); zombies are marked as
    found on `found_on`."""
    order = {
        name: n for n, name in enumerate([*settings.precedence, *(s for s in sources if s not in settings.precedence)])
    }
    coded: dict[str, Enterprise] = {}
    uncoded: list[tuple[LedgerRow, str]] = []
    rejected: list[Rejected] = []
    for row in rows:
        given = row.values.get("credit_code", "")
        try:
            code = validate_credit_code(given)
        except InvalidCreditCode as error:
            uncoded.append((row, f"信用代码{'缺失' if not given else '无效'}" + (f"（{error}）" if given else "")))
            continue
        coded.setdefault(code, Enterprise(code)).rows.append(row)
    duplicates = sum(len(e.rows) - 1 for e in coded.values())
    probable, merged = _match(coded, uncoded, settings, rejected)
    conflicts: list[Conflict] = []
    for enterprise in sorted(coded.values(), key=lambda e: e.credit_code):
        enterprise.rows.sort(key=lambda r: (order.get(r.source, len(order)), r.row))
        _settle(enterprise, settings, order, conflicts)
        _mark_zombie(enterprise, settings, found_on)
    by_round: dict[int, int] = defaultdict(int)
    for row in rows:
        by_round[2 if row.survey else 1] += 1
    survey_only = sum(all(r.survey for r in e.rows) for e in coded.values())
    return Outcome(
        sorted(coded.values(), key=lambda e: e.credit_code), probable, conflicts, rejected, len(rows), len(sources),
        dict(by_round), survey_only, duplicates, merged,
    )  # fmt: skip


def _match(
    coded: dict[str, Enterprise], uncoded: list[tuple[LedgerRow, str]], settings: Settings, rejected: list[Rejected]
) -> tuple[list[Probable], int]:
    """Probable matches of the rows without a valid code; those merged join their enterprise."""
    exact: dict[str, set[str]] = defaultdict(set)
    near: dict[str, set[str]] = defaultdict(set)
    keys: dict[str, set[str]] = defaultdict(set)
    for code, enterprise in coded.items():
        for row in enterprise.rows:
            key = normalised_name(row.values.get("name", ""))
            if key:
                exact[key].add(code)
                near[key[:FUZZY_PREFIX]].add(code)
                keys[code].add(key)
    found: list[Probable] = []
    merged = 0
    for row, why in uncoded:
        name = row.values.get("name", "")
        key = normalised_name(name)
        candidates = sorted(exact.get(key, set()) | near.get(key[:FUZZY_PREFIX], set())) if key else []
        scored = sorted(
            ((_score(row, key, coded[code], keys[code]), code) for code in candidates), key=lambda s: (-s[0][0], s[1])
        )
        scored = [(s, code) for s, code in scored if s[0] >= settings.report_at]
        best = [code for (score, _), code in scored if score >= settings.merge_at]
        joined = best[0] if len(best) == 1 else None
        for (score, evidence), code in scored:
            candidate = coded[code].rows[0].values.get("name", "")
            note = evidence if len(best) < 2 else f"{evidence}；另有信用代码不同的同名企业，不合并"
            found.append(Probable(row.source, row.row, name, code, candidate, round(score, 1), note, code == joined))
        if joined is not None:
            coded[joined].rows.append(row)
            merged += 1
        else:
            reason = (
                f"{why}，且无法确定地匹配到已有企业" if not best else f"{why}，同时像{len(best)}家信用代码不同的企业"
            )
            rejected.append(Rejected(row.source, row.row, name, reason))
    return found, merged


def _score(row: LedgerRow, key: str, enterprise: Enterprise, keys: set[str]) -> tuple[float, str]:
    """How likely `row` is `enterprise` (0–100), and why: the name, then the park or address."""
    from rapidfuzz import fuzz  # here: `chainorg --help` need not load it

    name = max(fuzz.ratio(key, other) for other in keys)
    park, address = row.values.get("park"), row.values.get("address")
    parks = {r.values["park"] for r in enterprise.rows if "park" in r.values}
    addresses = [r.values["address"] for r in enterprise.rows if "address" in r.values]
    evidence = [f"名称相似度{name:.0f}"]
    if park and park in parks:
        place, said = 1.0, f"园区相同（{park}）"
    elif address and addresses and max(fuzz.token_set_ratio(address, a) for a in addresses) >= 80:
        place, said = 1.0, "地址相近"
    elif (park and parks) or (address and addresses):
        place, said = 0.0, "园区、地址都不同"
    else:
        place, said = 0.5, "没有园区或地址可比"
    evidence.append(said)
    return 0.8 * name + 20 * place, "；".join(evidence)


def _settle(enterprise: Enterprise, settings: Settings, order: Mapping[str, int], conflicts: list[Conflict]) -> None:
    """Each field's value: the survey's where it wins, else the strongest source's; disagreements reported."""
    for column in (*COLUMNS[1:], *EVIDENCE):
        given = [(r, _spelled(column, r.values[column])) for r in enterprise.rows if column in r.values]
        if not given:
            continue
        if column in settings.survey_wins and any(r.survey for r, _ in given):
            winner_row, winner = next((r, v) for r, v in given if r.survey)
        else:
            winner_row, winner = given[0]
        enterprise.values[column] = winner
        distinct: dict[str, str] = {}
        for row, value in given:
            distinct.setdefault(value, row.source)
        if len(distinct) > 1:
            values = tuple((source, value) for value, source in distinct.items())
            conflicts.append(Conflict(enterprise.credit_code, column, values, winner, winner_row.source))
    enterprise.values["credit_code"] = enterprise.credit_code


def _spelled(column: str, value: str) -> str:
    """A value as the ledger spells it: the registry's words for an operating enterprise are ACTIVE.

    >>> _spelled("status", "存续"), _spelled("status", "注销")
    ('ACTIVE', '注销')
    """
    return "ACTIVE" if column == "status" and value.strip().casefold() in OPERATING else value


def _mark_zombie(enterprise: Enterprise, settings: Settings, found_on: date) -> None:
    values, reasons = enterprise.values, enterprise.zombie_reasons
    employees = [r.values["employees"].strip() for r in enterprise.rows if "employees" in r.values]
    if settings.zombie_no_employees and employees and all(e == "0" for e in employees):
        reasons.append("各来源从业人数均为0")
    status = values.get("status", "").strip().casefold()
    if status in DEREGISTERED:
        if settings.zombie_deregistered:
            reasons.append(f"登记状态为{values['status']}")
        else:
            values["status"] = "CLOSED"
    if settings.zombie_no_office and values.get("office", "").strip().casefold() in NO_OFFICE:
        reasons.append("无实际办公场所")
    active = values.get("last_active_on")
    if settings.inactive_since is not None and active:
        try:
            last = date.fromisoformat(active.strip()[:10])
        except ValueError:
            last = None
        if last is not None and last < settings.inactive_since:
            reasons.append(f"{settings.inactive_since}以来无经营活动（最近{last}）")
    if reasons:
        kept = values.get("status_since") if status == "zombie" else None  # a zombie already: since when it was
        values["status"], values["status_since"] = "ZOMBIE", kept or found_on.isoformat()
