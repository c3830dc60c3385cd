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

import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from graph.company_names import normalised_names
from graph.credit_code import why_not_a_code
from graph.enterprises import valid_codes
from graph.reconciliation_rules import COLUMNS, EVIDENCE, Settings

DEREGISTERED = frozenset({"注销", "吊销", "已注销", "已吊销", "deregistered", "revoked", "cancelled"})
OPERATING = frozenset({"存续", "在业", "开业", "正常", "营业", "在营", "active"})  # spellings of ACTIVE
NO_OFFICE = frozenset({"无", "否", "没有", "no", "false", "0", "n"})
FUZZY_PREFIX = 4  # characters of a normalised name that block a fuzzy comparison
ANOTHER_ENTERPRISE = 50.0  # the most a name with another branch or bracketed place scores
_BRACKETED = re.compile(r"\(([^)]*)\)")


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


@dataclass(frozen=True, slots=True)
class Zombie:
    credit_code: str
    name: str
    since: str
    reasons: tuple[str, ...]


@dataclass
class Outcome:
    """What the four rounds made: the clean ledger and every list of the report."""

    ledger: pl.DataFrame  # the clean ledger's enterprises: COLUMNS, by credit code
    merged: pl.DataFrame  # per enterprise: credit_code, name, park, rows, sources
    probable: list[Probable]
    conflicts: list[Conflict]
    rejected: list[Rejected]
    zombies: list[Zombie]
    rows: int
    ledgers: int
    rows_by_round: dict[int, int]
    from_survey_only: int  # enterprises only the survey found
    duplicates: int  # rows merged into an enterprise another row had, by the same code
    probable_merged: int

    def summary(self) -> str:
        """The closing line, e.g. "from 1,204 rows in 5 ledgers, 902 enterprises after deduplication, 39 zombies"."""
        return (
            f"from {self.rows:,} rows in {self.ledgers} ledgers, {self.ledger.height:,} enterprises after "
            f"deduplication, {len(self.zombies):,} zombies"
        )


def rows_frame(
    cells: Mapping[str, Sequence[str | None]], source: str, survey: bool, rows: Sequence[int]
) -> pl.DataFrame:
    """One source's rows as reconcile takes them: every column, text trimmed, empty cells null."""
    frame = pl.DataFrame({c: pl.Series(c, cells.get(c, [None] * len(rows)), dtype=pl.String) for c in ALL})
    trimmed = [pl.when(pl.col(c).str.strip_chars() == "").then(None).otherwise(pl.col(c).str.strip_chars()).alias(c)
               for c in ALL]  # fmt: skip
    return frame.with_columns(trimmed).with_columns(
        pl.lit(source).alias("source"), pl.lit(survey).alias("survey"), pl.Series("row", rows, dtype=pl.Int64)
    )


ALL = (*COLUMNS, *EVIDENCE)
MATCHES = {"at": pl.UInt32, "matched": pl.String}  # a row without a valid code, and the code it joins


def reconcile(rows: pl.DataFrame, sources: Sequence[str], settings: Settings, found_on: date) -> Outcome:
    """The four rounds over `rows` (`rows_frame`s of `sources`, in the order given); zombies
    are marked as found on `found_on`."""
    frame = rows.with_columns(
        pl.col("credit_code").str.to_uppercase(),
        pl.when(pl.col("status").str.to_lowercase().is_in(list(OPERATING))).then(pl.lit("ACTIVE"))
        .otherwise(pl.col("status")).alias("status"),
    ).with_row_index("at")  # fmt: skip
    frame = frame.with_columns(pl.Series("valid", valid_codes(frame["credit_code"])))
    coded, uncoded = frame.filter(pl.col("valid")), frame.filter(~pl.col("valid"))
    probable, joined, rejected = _match(coded, uncoded, settings)
    matches = pl.DataFrame({"at": list(joined), "matched": list(joined.values())}, schema=MATCHES)
    adopted = uncoded.join(matches, on="at").with_columns(pl.col("matched").alias("credit_code")).drop("matched")
    order = {
        name: n for n, name in enumerate([*settings.precedence, *(s for s in sources if s not in settings.precedence)])
    }
    merged_rows = (
        pl.concat([coded, adopted])
        .with_columns(pl.col("source").replace_strict(order, default=len(order), return_dtype=pl.Int64).alias("rank"))
        .sort(["credit_code", "rank", "row"])
    )
    settled = merged_rows.group_by("credit_code", maintain_order=True).agg(
        *(_winner(c, c in settings.survey_wins) for c in ALL if c != "credit_code"),
        *(pl.col(c).drop_nulls().n_unique().alias(f"{c}#") for c in ALL if c != "credit_code"),
        pl.len().alias("#rows"),
        pl.col("survey").all().alias("#survey_only"),
        pl.col("source").unique(maintain_order=True).str.join("、").alias("#sources"),
        ((pl.col("employees").drop_nulls() == "0").all() & (pl.col("employees").drop_nulls().len() > 0)).alias("#no_staff"),
    )  # fmt: skip
    conflicts = _conflicts(merged_rows, settled, settings)
    ledger, zombies = _zombies(settled, settings, found_on)
    by_round = frame.group_by("survey").len()
    return Outcome(
        ledger=ledger.select(COLUMNS),
        merged=settled.select("credit_code", "name", "park", pl.col("#rows").alias("rows"), pl.col("#sources").alias("sources")),
        probable=probable, conflicts=conflicts, rejected=rejected, zombies=zombies, rows=frame.height,
        ledgers=len(sources),
        rows_by_round={2 if survey else 1: n for survey, n in by_round.iter_rows()},
        from_survey_only=int(settled["#survey_only"].sum()), duplicates=coded.height - coded["credit_code"].n_unique(),
        probable_merged=len(joined),
    )  # fmt: skip


def _winner(column: str, survey_first: bool) -> pl.Expr:
    """The value that stands: the survey's first where it wins, else the strongest source's."""
    values = pl.col(column)
    if survey_first:
        values = values.sort_by(pl.col("survey").not_(), maintain_order=True)
    return values.drop_nulls().first().alias(column)


def _match(
    coded: pl.DataFrame, uncoded: pl.DataFrame, settings: Settings
) -> tuple[list[Probable], dict[int, str], list[Rejected]]:
    """Probable matches of the rows without a valid code: those to merge (by row `at`), every
    candidate from `report_at`, and the rows rejected."""
    if uncoded.is_empty():
        return [], {}, []
    asked = uncoded.with_columns(normalised_names(uncoded["name"]).alias("key"))
    distinct = coded.select("credit_code", "name", "park", "address").unique(maintain_order=True)
    distinct = distinct.with_columns(normalised_names(distinct["name"]).alias("key"))
    keys_asked = asked["key"].filter(asked["key"] != "")
    near_asked = keys_asked.str.slice(0, FUZZY_PREFIX)
    relevant = distinct.filter(  # the coded names a row without a code could be: the rest is never compared
        pl.col("key").is_in(keys_asked.implode()) | pl.col("key").str.slice(0, FUZZY_PREFIX).is_in(near_asked.implode())
    )
    candidates_of = relevant["credit_code"].unique()
    exact: dict[str, set[str]] = defaultdict(set)
    near: dict[str, set[str]] = defaultdict(set)
    keys: dict[str, set[str]] = defaultdict(set)
    names: dict[str, str] = {}
    parks: dict[str, set[str]] = defaultdict(set)
    addresses: dict[str, list[str]] = defaultdict(list)
    for code, name, park, address, key in distinct.filter(
        pl.col("credit_code").is_in(candidates_of.implode())
    ).iter_rows():
        names.setdefault(code, name or "")
        if park:
            parks[code].add(park)
        if address:
            addresses[code].append(address)
        if key:
            exact[key].add(code)
            near[key[:FUZZY_PREFIX]].add(code)
            keys[code].add(key)
    found: list[Probable] = []
    joined: dict[int, str] = {}
    rejected: list[Rejected] = []
    for at, source, row, given, name, park, address, key in asked.select(
        "at", "source", "row", "credit_code", "name", "park", "address", "key"
    ).iter_rows():
        candidates = sorted(exact.get(key, set()) | near.get(key[:FUZZY_PREFIX], set())) if key else []
        scored = sorted(
            ((_score(key, park, address, keys[c], parks[c], addresses[c]), c) for c in candidates),
            key=lambda s: (-s[0][0], s[1]),
        )
        scored = [(s, c) for s, c in scored if s[0] >= settings.report_at]
        best = [c for (score, _), c in scored if score >= settings.merge_at]
        chosen = best[0] if len(best) == 1 else None
        for (score, evidence), code in scored:
            note = evidence if len(best) < 2 else f"{evidence}；另有信用代码不同的同名企业，不合并"
            found.append(Probable(source, row, name or "", code, names[code], round(score, 1), note, code == chosen))
        why = "信用代码缺失" if not given else f"信用代码无效（{why_not_a_code(given)}）"
        if chosen is not None:
            joined[at] = chosen
        elif best:
            rejected.append(Rejected(source, row, name or "", f"{why}，同时像{len(best)}家信用代码不同的企业"))
        else:
            rejected.append(Rejected(source, row, name or "", f"{why}，且无法确定地匹配到已有企业"))
    return found, joined, rejected


def _score(
    key: str, park: str | None, address: str | None, keys: set[str], parks: set[str], addresses: list[str]
) -> tuple[float, str]:
    """How likely a row is an enterprise (0–100), and why: the name, then the park or address."""
    from rapidfuzz import fuzz  # here: `chainorg --help` need not load it

    best = max(keys, key=lambda other: fuzz.ratio(key, other))
    name = fuzz.ratio(key, best)
    if _distinct_marks(key) != _distinct_marks(best):  # a branch, or a bracketed place: another enterprise
        return min(0.8 * name, ANOTHER_ENTERPRISE), f"名称相似度{name:.0f}；分公司或括号内地名不同，是另一家企业"
    if park and park in parks:
        place, said = 1.0, f"园区相同（{park}）"
    elif address and addresses and max(fuzz.token_set_ratio(address, a) for a in addresses) >= 80:
        place, said = 1.0, "地址相近"
    elif (park and parks) or (address and addresses):
        place, said = 0.0, "园区、地址都不同"
    else:  # a name alone is not enough to merge: it is reported
        place, said = 0.0, "没有园区或地址可比"
    return 0.8 * name + 20 * place, f"名称相似度{name:.0f}；{said}"


def _distinct_marks(key: str) -> tuple[tuple[str, ...], bool]:
    """What makes a name another enterprise's however alike the rest: bracketed places, 分公司."""
    return tuple(sorted(_BRACKETED.findall(key))), key.endswith("分公司")


def _conflicts(merged_rows: pl.DataFrame, settled: pl.DataFrame, settings: Settings) -> list[Conflict]:
    """Each field two rows of one enterprise disagree on, with every value, its source and the winner."""
    columns = [c for c in ALL if c != "credit_code"]
    disputed = settled.filter(pl.any_horizontal(pl.col(f"{c}#") > 1 for c in columns))
    if disputed.is_empty():
        return []
    winners = {row["credit_code"]: row for row in disputed.iter_rows(named=True)}
    rows = merged_rows.filter(pl.col("credit_code").is_in(list(winners))).select(
        "credit_code", "source", "survey", *columns
    )
    by_code: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows.iter_rows(named=True):  # in code, rank, row order
        by_code[row["credit_code"]].append(row)
    found: list[Conflict] = []
    for code, group in by_code.items():
        settled_row = winners[code]
        for column in columns:
            if settled_row[f"{column}#"] < 2:
                continue
            given = [(r["source"], r[column], r["survey"]) for r in group if r[column] is not None]
            distinct: dict[str, str] = {}
            for source, value, _ in given:
                distinct.setdefault(value, source)
            winner = settled_row[column]
            prefer_survey = column in settings.survey_wins and any(survey for _, _, survey in given)
            winner_source = next(s for s, v, survey in given if v == winner and (survey or not prefer_survey))
            values = tuple((source, value) for value, source in distinct.items())
            found.append(Conflict(code, column, values, winner, winner_source))
    return found


def _zombies(settled: pl.DataFrame, settings: Settings, found_on: date) -> tuple[pl.DataFrame, list[Zombie]]:
    """The enterprises that do not really operate, marked ZOMBIE from `found_on` (or from when a
    ledger said so), with the reasons."""
    status = pl.col("status").str.to_lowercase()
    last = pl.col("last_active_on").str.slice(0, 10).str.to_date(strict=False)
    flagged = settled.with_columns(
        status.is_in(["zombie", "僵尸"]).fill_null(False).alias("#already"),
        (status.is_in(list(DEREGISTERED)).fill_null(False) & settings.zombie_deregistered).alias("#deregistered"),
        (pl.col("office").str.to_lowercase().is_in(list(NO_OFFICE)).fill_null(False) & settings.zombie_no_office)
        .alias("#no_office"),
        (last < settings.inactive_since).fill_null(False).alias("#inactive") if settings.inactive_since
        else pl.lit(False).alias("#inactive"),
        (pl.col("#no_staff") & settings.zombie_no_employees).alias("#no_staff"),
        pl.col("status").alias("#status"),
    )  # fmt: skip
    marks = ["#already", "#no_staff", "#deregistered", "#no_office", "#inactive"]
    zombie = pl.any_horizontal(*marks)
    since = pl.when(pl.col("#already") & pl.col("status_since").is_not_null()).then(pl.col("status_since"))
    ledger = flagged.with_columns(
        pl.when(zombie).then(pl.lit("ZOMBIE"))
        .when(status.is_in(list(DEREGISTERED))).then(pl.lit("CLOSED"))  # the rule off: deregistered is closed
        .otherwise(pl.col("status")).alias("status"),
        pl.when(zombie).then(since.otherwise(pl.lit(found_on.isoformat()))).otherwise(pl.col("status_since"))
        .alias("status_since"),
    )  # fmt: skip
    zombies = []
    for row in ledger.filter(zombie).iter_rows(named=True):
        reasons = [why for mark, why in (
            ("#already", "台账已标为僵尸企业"), ("#no_staff", "各来源从业人数均为0"),
            ("#deregistered", f"登记状态为{row['#status']}"), ("#no_office", "无实际办公场所"),
            ("#inactive", f"{settings.inactive_since}以来无经营活动（最近{row['last_active_on']}）"),
        ) if row[mark]]  # fmt: skip
        zombies.append(Zombie(row["credit_code"], row["name"] or "", row["status_since"], tuple(reasons)))
    return ledger, zombies
