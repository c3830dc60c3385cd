"""GET /exports/{list}.{xlsx|csv}: the dashboard's lists as spreadsheets, for the caller's world.

Each list is what the API answers for the same scope and date, as the CLI's reports write
it (Chinese headers, no cell read as a formula). Query parameters: `park`, `chain`,
`cluster`, `building`, `category` (the scope), `asOf`, and `previous` for the bulletin.
A list longer than MAX_EXPORT_ROWS is refused (413): narrow the scope.
"""

from __future__ import annotations

import tempfile
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from graph.bulletin import bulletin
from graph.compliance import RuleConfig
from graph.errors import ChainorgError, InvalidArgument
from graph.model import ENTERPRISE_LEVEL, Category
from graph.query import GroupBy, OrganizationFilter, OrganizationOrder, Scope
from graph.stores.protocol import OrgStore
from graph.threads import offload
from loaders.reports import (
    FINDING_HEADERS,
    GROUPING_NAMES,
    Cell,
    alliance_rows,
    bulletin_table,
    coverage_rows,
    finding_rows,
    organization_rows,
    write_csv,
    write_xlsx,
)

MAX_EXPORT_ROWS = 200_000
FORMATS = ("xlsx", "csv")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COVERAGE_HEADERS = [
    "编号",
    "名称",
    "企业数",
    "组织覆盖",
    "工作覆盖",
    "未覆盖",
    "组织覆盖率",
    "工作覆盖率",
    "正式党员",
    "党组织数",
]
ALLIANCE_HEADERS = ["编号", "名称", "盟主单位", "成员数", "成员"]
ORGANIZATION_HEADERS = ["编号", "名称", "类型", "组建方式", "上级组织", "成立日期", "届满日期", "星级", "积分"]


@dataclass(frozen=True)
class Asked:
    """What an export is asked for: scope, dates and the compliance rules served."""

    scope: Scope
    as_of: date | None
    previous: date | None
    rules: RuleConfig
    today: date


Table = tuple[str, list[str], list[list[Cell]]]


class ExportTooLarge(ChainorgError):
    """A list too long for one spreadsheet."""

    code = "EXPORT_TOO_LARGE"


def _too_many(count: int) -> None:
    """Refuse a list of `count` rows when an export cannot hold them (each list is asked for,
    in one call, one row more than it holds)."""
    if count > MAX_EXPORT_ROWS:
        raise ExportTooLarge(f"{count:,} rows; an export holds at most {MAX_EXPORT_ROWS:,}: narrow the scope")


async def _findings(store: OrgStore, asked: Asked) -> Table:
    page = await store.findings(asked.scope, asked.as_of, asked.rules, 0, MAX_EXPORT_ROWS + 1)
    _too_many(page.total)
    return "合规检查", FINDING_HEADERS, finding_rows(page.items)


async def _bulletin(store: OrgStore, asked: Asked) -> Table:
    headers, rows = bulletin_table(await bulletin(store, asked.scope, asked.as_of, asked.previous, asked.rules))
    return "情况通报", headers, rows


def _coverage_by(by: GroupBy) -> Callable[[OrgStore, Asked], Awaitable[Table]]:
    async def export(store: OrgStore, asked: Asked) -> Table:
        groups = await store.coverage_by(by, asked.scope, asked.as_of)
        return f"覆盖情况_{GROUPING_NAMES[by]}", COVERAGE_HEADERS, coverage_rows(groups)

    return export


async def _organizations(store: OrgStore, where: OrganizationFilter, order: OrganizationOrder) -> list[list[Cell]]:
    page = await store.find_organizations(where, 0, MAX_EXPORT_ROWS + 1, order)
    _too_many(page.total)
    return organization_rows(page.items)


async def _terms(store: OrgStore, asked: Asked) -> Table:
    day = asked.as_of or asked.today
    where = OrganizationFilter(
        term_ends_after=day, term_ends_before=day + timedelta(days=asked.rules.term_window), scope=asked.scope
    )
    return "换届提醒", ORGANIZATION_HEADERS, await _organizations(store, where, OrganizationOrder.TERM_ENDS)


async def _stars(store: OrgStore, asked: Asked) -> Table:
    where = OrganizationFilter(kinds=ENTERPRISE_LEVEL, scope=asked.scope)
    return "达标创星", ORGANIZATION_HEADERS, await _organizations(store, where, OrganizationOrder.STARS)


async def _alliances(store: OrgStore, asked: Asked) -> Table:
    found = await store.alliances(asked.scope, asked.as_of)
    return "党建联盟", ALLIANCE_HEADERS, alliance_rows(found)


EXPORTS: Mapping[str, Callable[[OrgStore, Asked], Awaitable[Table]]] = {
    "findings": _findings,
    "bulletin": _bulletin,
    "terms": _terms,
    "stars": _stars,
    "alliances": _alliances,
    **{f"coverage-by-{by.value.lower()}": _coverage_by(by) for by in GroupBy},
}


def scope_from(query: Mapping[str, str]) -> Scope:
    """The scope the query parameters name; InvalidArgument for a category that is none."""
    category = query.get("category") or None
    if category is not None and category not in Category.__members__:
        raise InvalidArgument(f"category {category!r}: one of {', '.join(Category.__members__)}")
    return Scope(
        park=query.get("park") or None,
        chain=query.get("chain") or None,
        cluster=query.get("cluster") or None,
        building=query.get("building") or None,
        category=Category[category] if category else None,
    )


def day_from(query: Mapping[str, str], name: str) -> date | None:
    given = query.get(name)
    if not given:
        return None
    try:
        return date.fromisoformat(given)
    except ValueError:
        raise InvalidArgument(f"{name} {given!r}: a date like 2021-07-31") from None


async def export(store: OrgStore, name: str, form: str, asked: Asked) -> tuple[bytes, str]:
    """The list `name` as a file of `form` (xlsx or csv): its bytes and a file name."""
    title, headers, rows = await EXPORTS[name](store, asked)
    stamp = (asked.as_of or asked.today).isoformat()
    return await offload(_written, title, headers, rows, form), f"{title}_{stamp}.{form}"


def _written(title: str, headers: list[str], rows: list[list[Cell]], form: str) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"export.{form}"
        (write_xlsx if form == "xlsx" else _csv)(path, title, headers, rows)
        return path.read_bytes()


def _csv(path: Path, title: str, headers: list[str], rows: list[list[Cell]]) -> None:
    write_csv(path, headers, rows)
