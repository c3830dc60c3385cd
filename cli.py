"""The `chainorg` command: serve, token, load, reconcile, demo, audit, bulletin, chart, export, audit-log."""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sqlite3
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, date, datetime
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from rich.console import Console
from rich.table import Table
from rich.text import Text

from config import CONFIG_FILE, Config, read_config
from graph.compliance import RuleCode
from graph.errors import ChainorgError, ConfigInvalid, StateProblem
from loaders import DEMO_DAY
from loaders.errors import LedgerInvalid, LedgerIssue
from schema.settings import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:  # what a command needs is imported when it runs: `--help` and `--version` stay quick
    from graph.access import Boundary
    from graph.compliance import Finding
    from graph.dataset import Dataset
    from graph.durable import AuditEntry
    from graph.query import Scope
    from graph.reconciliation import Outcome
    from graph.stores.cypher import CypherStore
    from graph.stores.cypher.address import StoreAddress
    from graph.stores.cypher.connection import Connection
    from graph.stores.cypher.load import Loaded
    from graph.stores.cypher.load import Progress as LoadProgress
    from graph.stores.networkx.state import State
    from graph.stores.protocol import OrgStore
    from loaders.reports import Cell
    from tokens import Book, TokenCheck


T = TypeVar("T")
PAGE_ROWS = 50  # rows a table shows on a terminal; --out writes them all
NO_WRAP = {"对象编号", "编号"}  # ids and credit codes are never split across lines


class Defaults(argparse.ArgumentDefaultsHelpFormatter):
    """Help that shows each option's default, except where it says so itself or is a switch."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or isinstance(action.default, bool):
            return action.help
        return super()._get_help_string(action)


# soft_wrap: a message is one line however narrow the terminal or pipe, so paths and credit
# codes stay whole (a terminal folds it for the eye; a pipe gets it as written)
console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


def _print_issues(title: str, issues: list[LedgerIssue], out: Console) -> None:
    """A table of issues; ledger text is shown as itself, never read as markup."""
    out.print(Text(title))
    table = Table()
    for column in ("file", "row", "column", "value", "reason"):
        table.add_column(column, overflow="fold")
    for issue in issues:
        cells = (issue.source, str(issue.row or ""), issue.column or "", issue.value or "", issue.reason)
        table.add_row(*(Text(cell) for cell in cells))
    out.print(table)


def load(args: argparse.Namespace) -> int:
    """Validate a ledger (or the demo) and print its counts, or every error (exit 1);
    with --state, import it into a new state, all or nothing."""
    from loaders.ledger import LoadedLedger, load_ledger

    if args.to_store is not None:
        return _copy_state(args)
    if (args.path is None) == (not args.demo):
        errors.print(Text("give a ledger (folder of CSVs or .xlsx workbook) or --demo, not both"))
        return 1
    if args.state is not None and args.store is not None:
        errors.print(
            Text("give --state or --store, not both (--state DIR --to-store URL copies a state into a database)")
        )
        return 1
    if args.replace and args.store is None:
        errors.print(Text("--replace is for --store: a state folder is made new, never replaced"))
        return 1
    if args.state is not None:  # only then the state's libraries (SQLite, ADBC) are loaded
        from graph.durable import check_new_state

        check_new_state(args.state)  # refused before the ledger is read and its table printed
    address = _store_address(args.store) if args.store is not None else None
    name = "the Changsha demo" if args.demo else str(args.path)
    try:
        if args.demo:
            from loaders.demo import demo_dataset

            loaded = LoadedLedger(demo_dataset(), [])
        else:
            loaded = load_ledger(args.path, args.encoding)
    except LedgerInvalid as invalid:
        _print_issues(f"{name}: rejected, {len(invalid.issues)} error(s); nothing loaded", invalid.issues, errors)
        return 1
    except ChainorgError as error:
        errors.print(Text(f"{name}: {error}"))
        return 1
    dataset = loaded.dataset
    if loaded.warnings:
        _print_issues("warnings", loaded.warnings, errors)
    console.print(Text(f"{name}: valid"))
    summary = Table()
    summary.add_column("kind")
    summary.add_column("count", justify="right")
    for kind, count in dataset.summary().items():
        summary.add_row(kind, f"{count:,}")
    console.print(summary, soft_wrap=False)
    if args.state is not None:
        from graph.durable import create_state

        stands_on = args.stands_on or (DEMO_DAY if args.demo else None)
        path = create_state(args.state, dataset, stands_on)
        console.print(Text(f"imported into {path}; serve it with `chainorg serve --state {args.state}`"))
    if address is not None:
        from graph.stores.cypher.load import load_dataset

        stands_on = args.stands_on or (DEMO_DAY if args.demo else None)
        return _load_into_store(address, lambda c, p: load_dataset(c, dataset, stands_on, args.replace, p))
    return 0


def _copy_state(args: argparse.Namespace) -> int:
    """`load --state DIR --to-store URL`: the state's graph, history, journal and tokens into the database."""
    if args.state is None or args.path is not None or args.demo or args.store is not None or args.stands_on:
        errors.print(Text("--to-store URL copies the state of --state DIR, as it is; give those two (and --replace)"))
        return 1
    from graph.durable import state_file
    from graph.stores.cypher.load import load_state
    from tokens import GraphTokenBook, TokenBook, TokenProblem

    kept = TokenBook(state_file(args.state)).by_fingerprint()
    address = _store_address(args.to_store)
    book = GraphTokenBook(address)
    try:
        taken = sorted({record.name for record in kept.values()} & {record.name for record in book.listed()})
        if taken and not args.replace:
            errors.print(Text(f"the database holds tokens named {', '.join(taken)}; add --replace to copy over them"))
            return 1
        loaded = _load_into_store(address, lambda c, p: load_state(c, args.state, args.replace, p))
        if loaded == 0:
            book.adopt(kept)
            console.print(Text(f"copied {len(kept)} token(s) and the audit trail, request ids and scenarios"))
        return loaded
    except TokenProblem as problem:
        errors.print(Text(str(problem)))
        return 1
    finally:
        book.close()


def _store_address(url: str) -> StoreAddress:
    """The address of --store URL, the password from the URL or CHAINORG_STORE_PASSWORD; Refused in one line."""
    from graph.stores.cypher.address import PASSWORD_VARIABLE, store_address

    try:
        return store_address(url, os.environ.get(PASSWORD_VARIABLE))
    except ConfigInvalid as invalid:
        errors.print(Text(str(invalid)))
        raise Refused from None


def _load_into_store(address: StoreAddress, writing: Callable[[Connection, LoadProgress], Awaitable[Loaded]]) -> int:
    """Write a validated dataset (or a state) into the graph database, a progress bar on a terminal."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from graph.stores.cypher.connection import Connection

    async def write() -> int:
        connection = Connection(address)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        try:
            with Progress(*columns, console=errors, disable=not errors.is_terminal) as bar:
                task = bar.add_task(f"loading into {address.shown}", total=None)

                def progress(what: str, done: int, total: int) -> None:
                    bar.update(task, description=f"{what}", completed=done, total=total)

                loaded = await writing(connection, progress)
        except ChainorgError as error:
            errors.print(Text(f"nothing changed in the served graph: {error}"))
            return 1
        finally:
            await connection.close()
        replaced = f", in place of generation {loaded.replaced}" if loaded.replaced is not None else ""
        console.print(Text(
            f"loaded {loaded.rows:,} rows into {address.shown} as generation {loaded.generation}{replaced}; "
            f"serve it with `chainorg serve --store {address.shown}` (the password in CHAINORG_STORE_PASSWORD)"
        ))  # fmt: skip
        return 0

    return _run(write())


def demo(args: argparse.Namespace) -> int:
    """Write the Changsha demo ledger as CSV files."""
    from loaders.demo import demo_records
    from loaders.writer import write_csv_ledger

    out: Path = args.out_dir
    if out.exists() and not out.is_dir():
        errors.print(Text(f"{out} is a file: give a folder for the demo's CSV files"))
        return 1
    if out.is_dir() and any(out.iterdir()) and not args.force:
        errors.print(Text(f"{out} is not empty: choose an empty folder, or add --force to overwrite the demo's files"))
        return 1
    for path in write_csv_ledger(demo_records(args.seed), out):
        console.print(f"wrote {path}")
    return 0


class Refused(Exception):
    """A command cannot go on; it has already said why."""


def _config(args: argparse.Namespace) -> Config:
    """`--config FILE`, else ./chainorg.toml when there is one, else the defaults."""
    path: Path | None = args.config
    if path is None and Path(CONFIG_FILE).is_file():
        path = Path(CONFIG_FILE)
        errors.print(Text(f"using {CONFIG_FILE}"))
    try:
        return read_config(path) if path is not None else Config()
    except ConfigInvalid as invalid:
        errors.print(Text(f"configuration refused: {invalid}"))
        raise Refused from None


def _store(args: argparse.Namespace, doing: str) -> OrgStore:
    """The store of --state (read as it is now), --data or the demo."""
    from graph.stores.networkx.state import snapshot
    from server import load_store

    try:
        if args.state is not None:
            return snapshot(args.state)
        return load_store(None if args.demo else args.data, args.encoding)
    except LedgerInvalid as invalid:
        _print_issues(f"{args.data}: rejected; not {doing}", invalid.issues, errors)
        raise Refused from None


def serve(args: argparse.Namespace) -> int:
    """Load the ledger (or the demo), then serve GraphQL until interrupted."""
    import uvicorn

    from access_log import AccessLog
    from server import create_app

    config = _config(args)
    if problem := port_problem(args.host, args.port):
        errors.print(Text(problem))
        return 1
    try:
        requests_log = AccessLog(args.access_log_file) if args.access_log_file is not None else None
    except ConfigInvalid as invalid:
        errors.print(Text(str(invalid)))
        return 1
    served: OrgStore | State | None
    if args.store is not None:
        if args.state is not None or args.data is not None or args.demo:
            errors.print(Text("give --store alone, not with --state, --data or --demo"))
            return 1
        address = _store_address(args.store)
        if problem := _run(_graph_problem(address)):
            errors.print(Text(problem))
            return 1
        os.environ["CHAINORG_STORE"] = args.store  # the app opens it on its own event loop at start-up
        served = None
        what = f"the graph database at {address.shown} read-only"
    elif args.state is not None:
        from server import open_state

        state = open_state(args.state)
        stands_on = state.durable.stands_on
        clock = f"; it stands on {stands_on}: questions without a date are asked on that day" if stands_on else ""
        served = state
        what = f"the state in {args.state} (changes are kept{clock})"
    else:
        served = _store(args, "serving")
        name = args.data or f"the Changsha demo (standing on {DEMO_DAY})"
        what = f"{name} read-only (serve a state with --state to keep changes)"
    console.print(Text(f"serving {what} on http://{args.host}:{args.port}/graphql"))
    given = {name: getattr(args, name) for name in ("max_depth", "max_aliases", "max_cost", "timeout")}
    limits = replace(config.limits, **{name: value for name, value in given.items() if value is not None})
    exposure = replace(
        config.http,
        **({} if args.explorer is None else {"explorer": args.explorer}),
        **({} if args.cors_origin is None else {"cors_origins": args.cors_origin}),
    )
    try:
        tokens = _token_check(args, state if args.state is not None else None)
    except Refused:
        if requests_log is not None:
            requests_log.close()
        raise
    app = create_app(served, limits, config.rules, exposure, requests_log, tokens, config.rate)
    try:
        uvicorn.run(app, host=args.host, port=args.port, access_log=args.access_log, log_level="info",
                    **config.server.uvicorn())  # fmt: skip
    finally:
        if requests_log is not None:
            requests_log.close()
    return 0


async def _graph_problem(address: StoreAddress) -> str | None:
    """Why the graph database at `address` cannot be served, in one line; None when it can."""
    from graph.stores.cypher import CypherStore

    try:
        store = await CypherStore.open(address)
    except ChainorgError as error:
        return str(error)
    await store.close()
    return None


@asynccontextmanager
async def _graph_store(address: StoreAddress) -> AsyncIterator[CypherStore]:
    """The store of the graph a database serves, closed after; Refused in one line when it cannot be opened."""
    from graph.stores.cypher import CypherStore

    try:
        store = await CypherStore.open(address)
    except ChainorgError as error:
        errors.print(Text(str(error)))
        raise Refused from None
    try:
        yield store
    finally:
        await store.close()


async def _graph_dataset(address: StoreAddress) -> Dataset:
    """The graph a database serves, read back whole."""
    async with _graph_store(address) as store:
        return await store.dataset()


async def _graph_audit_log(address: StoreAddress, since: datetime | None, subject: str | None) -> list[AuditEntry]:
    """The whole audit trail a database keeps (from `since`, about `subject`), read a page at a time."""
    from graph.journal import AUDIT_CHUNK
    from graph.stores.cypher.journal import CypherJournal

    entries: list[AuditEntry] = []
    async with _graph_store(address) as store:
        while page := (await CypherJournal(store).audit_log(since, subject, len(entries), AUDIT_CHUNK)).items:
            entries += page
    return entries


def _run(work: Coroutine[Any, Any, T]) -> T:
    """Run a store's coroutine to its end (asyncio is imported by the commands that need it)."""
    import asyncio

    return asyncio.run(work)


def _scope(args: argparse.Namespace) -> Scope:
    from graph.query import Scope

    return Scope(park=args.park, chain=args.chain, cluster=args.cluster)


def _write(args: argparse.Namespace, title: str, headers: list[str], rows: list[list[Cell]]) -> None:
    """Rows as a table on the terminal, or to --out as CSV or Excel (by --format or the file's suffix)."""
    out: Path | None = args.out
    form = args.format or (out.suffix.lstrip(".").lower() if out is not None else "table")
    if out is None and form != "table":
        errors.print(Text(f"--format {form} writes a file: give --out FILE"))
        raise Refused
    if form == "table" or out is None:
        if not console.is_terminal:  # piped: plain tab-separated lines, whole, for the next program
            lines: list[Sequence[Cell]] = [headers, *rows]
            for line in lines:
                sys.stdout.write("\t".join(str(cell).replace("\t", " ").replace("\n", " ") for cell in line) + "\n")
            return
        table = Table(title=title)
        for header in headers:
            table.add_column(header, overflow="fold", no_wrap=header in NO_WRAP)
        for row in rows[:PAGE_ROWS]:
            table.add_row(*(Text(str(cell)) for cell in row))
        console.print(table, soft_wrap=False)  # laid out to the terminal, title centred
        if len(rows) > PAGE_ROWS:
            console.print(
                Text(f"{PAGE_ROWS} of {len(rows):,} rows shown; write them all with --out FILE.xlsx (or .csv)")
            )
        return
    from loaders.reports import write_csv, write_xlsx

    if form == "csv":
        write_csv(out, headers, rows)
    elif form == "xlsx":
        write_xlsx(out, title, headers, rows)
    else:
        errors.print(Text(f"--out {out}: cannot tell the format; give --format csv or xlsx"))
        raise Refused
    console.print(Text(f"wrote {len(rows):,} rows to {out}"))


def audit(args: argparse.Namespace) -> int:
    """The compliance findings of a ledger (or the demo), as a table, CSV or Excel."""
    from loaders.reports import FINDING_HEADERS, finding_rows

    config, store = _config(args), _store(args, "auditing")
    rules = config.rules.only(args.rule)

    async def every_finding() -> list[Finding]:
        counts = await store.compliance(_scope(args), args.as_of, rules)
        return (await store.findings(_scope(args), args.as_of, rules, 0, sum(c.count for c in counts))).items

    try:
        findings = _run(every_finding())
    except ChainorgError as error:
        errors.print(Text(f"cannot audit: {error}"))
        return 1
    _write(args, "合规检查", FINDING_HEADERS, finding_rows(findings))
    return 0


def bulletin(args: argparse.Namespace) -> int:
    """The ten-day bulletin (每旬情况通报): coverage and findings per park, chain and cluster at two dates."""
    from graph.bulletin import bulletin as make_bulletin
    from loaders.reports import bulletin_table

    config, store = _config(args), _store(args, "reporting")
    try:
        report = _run(make_bulletin(store, _scope(args), args.as_of, args.previous, config.rules))
    except ChainorgError as error:
        errors.print(Text(f"cannot report: {error}"))
        return 1
    headers, rows = bulletin_table(report)
    _write(args, "情况通报", headers, rows)
    return 0


def chart(args: argparse.Namespace) -> int:
    """An org chart (组织架构图) of an organization and the tiers under it, as a picture or as data."""
    from graph.charts import ChartFormat, org_chart

    out: Path | None = args.out
    named = ChartFormat.of_extension(out.suffix.lstrip(".")) if out is not None and out.suffix else None
    form: ChartFormat = args.format or named or ChartFormat.SVG
    if out is None and form.binary:
        errors.print(Text(f"{form} is not text: give --out FILE"))
        return 1
    store = _store(args, "charting")
    try:
        drawn = _run(org_chart(store, args.root, form, args.depth, args.links, args.as_of))
    except ChainorgError as error:
        errors.print(Text(f"cannot chart: {error}"))
        return 1
    if out is None:
        sys.stdout.buffer.write(drawn.content)
        return 0
    if out.is_dir():
        out = out / drawn.filename
    out.write_bytes(drawn.content)
    console.print(Text(f"wrote {out} ({form}, {len(drawn.content):,} bytes)"))
    return 0


def export(args: argparse.Namespace) -> int:
    """Write a state, or a graph database's graph, as it is now as a ledger (CSV files, or
    one workbook) that `chainorg load` accepts."""
    from loaders.export import write_ledger

    if (args.state is None) == (args.store is None):
        errors.print(Text("give --state DIR or --store URL"))
        return 1
    if args.store is not None:
        dataset = _run(_graph_dataset(_store_address(args.store)))
    else:
        from graph.durable import read_state

        dataset = read_state(args.state)
    out: Path = args.out
    if out.suffix.lower() == ".xlsx":  # `--out park.xlsx` names the workbook itself
        written = write_ledger(dataset, out.parent, xlsx=True, workbook=out.name)
    else:
        written = write_ledger(dataset, out, args.xlsx)
    for path in written:
        console.print(Text(f"wrote {path}"))
    return 0


AUDIT_HEADERS = ["变更集", "时间", "操作人", "序号", "变更类型", "对象编号", "变更内容", "变更前", "变更后"]


def audit_log(args: argparse.Namespace) -> int:
    """The audit trail of a state or a graph database: who changed what, when, each change's
    records before and after."""
    import json

    if (args.state is None) == (args.store is None):
        errors.print(Text("give --state DIR or --store URL"))
        return 1
    if args.store is not None:
        entries = _run(_graph_audit_log(_store_address(args.store), args.since, args.subject))
    else:
        from graph.durable import audit_log as read_audit_log

        entries = read_audit_log(args.state, args.since, args.subject, 0, sys.maxsize).items
    rows: list[list[Cell]] = [
        [e.change_set, e.at.isoformat(), e.who, e.position, e.kind, e.subject,
         *(json.dumps(part, ensure_ascii=False) for part in (e.change, e.before, e.after))]
        for e in entries
    ]  # fmt: skip
    _write(args, "审计日志", AUDIT_HEADERS, rows)
    return 0


def _chart_format(text: str) -> object:
    from graph.charts import ChartFormat

    found = ChartFormat.__members__.get(text.upper())
    if found is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(f.lower() for f in ChartFormat)}")
    return found


def port_problem(host: str, port: int) -> str | None:
    """Why the server could not listen on host:port, before anything claims to serve there.

    The probe binds as uvicorn does (SO_REUSEADDR), so the sockets a stopped server left in
    TIME_WAIT do not count as another program: a supervisor brings it back at once."""
    try:
        family, kind, protocol, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as error:
        return f"cannot listen on {host}: no such address here ({error}); give --host an address of this machine"
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as error:
            return (
                f"cannot listen on {host}:{port} ({error.strerror}): another program may be using it; "
                f"choose another port with --port (or make run PORT=...)"
            )
    return None


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65_535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: a whole number from 1 to 65535")
    return int(text)


def _limit(name: str) -> Callable[[str], int | float]:
    """An argparse type for the limit `name`: checked as the config's [limits] are (Limits.checked)."""

    def parse(text: str) -> int | float:
        try:
            value = float(text) if name == "timeout" else int(text)
        except ValueError:
            value = text  # type: ignore[assignment]  # Limits.checked words the refusal
        try:
            return Limits.checked(name, value)
        except ConfigInvalid as invalid:
            raise argparse.ArgumentTypeError(str(invalid)) from None

    return parse


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="chainorg", description=__doc__, formatter_class=Defaults)
    root.add_argument("--version", action="version", version=f"%(prog)s {version('chainorg')}")
    commands = root.add_subparsers(dest="command")

    run = commands.add_parser("serve", help=serve.__doc__, description=serve.__doc__, formatter_class=Defaults)
    _source_options(run)
    run.add_argument(
        "--store",
        metavar="URL",
        help="serve the graph database at URL (made by `load --store`), "
        "bolt://USER@HOST:PORT/DATABASE or neo4j://…, the password in CHAINORG_STORE_PASSWORD",
    )
    run.add_argument("--host", default="127.0.0.1", help="address to listen on")
    run.add_argument("--port", type=_port, default=8000, help="port to listen on")
    for flag, what in (
        ("--max-depth", "deepest nesting a query may have"),
        ("--max-aliases", "most aliases in a query"),
        ("--max-cost", "highest cost a query may have"),
        ("--timeout", "seconds one request may run"),
    ):
        default = getattr(DEFAULT_LIMITS, flag[2:].replace("-", "_"))
        run.add_argument(flag, type=_limit(flag[2:].replace("-", "_")),
                         help=f"{what} (default: the config's [limits], else {default:g})")  # fmt: skip
    run.add_argument(
        "--no-access-log", dest="access_log", action="store_false", help="no console line per request (uvicorn's)"
    )
    run.add_argument("--access-log", dest="access_log_file", type=Path, metavar="FILE",
                     help="append one JSON line per GraphQL request to FILE: time, who, operation, cost, ms, "
                          "outcome (never a token or a variable's value)")  # fmt: skip
    run.add_argument(
        "--no-explorer",
        dest="explorer",
        action="store_false",
        default=None,
        help="serve no GraphiQL page and refuse introspection (default: the config's [http])",
    )
    run.add_argument("--cors-origin", action="append", metavar="ORIGIN", type=_origin,
                     help="a web origin (https://host[:port]) whose pages may call the API; repeat for several "
                          "(default: the config's [http], else none)")  # fmt: skip
    run.add_argument(
        "--tokens",
        type=Path,
        metavar="FILE",
        help="the tokens file (from `chainorg token create --tokens FILE`; default: the state's tokens)",
    )
    run.add_argument(
        "--anonymous",
        metavar="ROLE",
        type=_role,
        help="let requests without a token act as ROLE (viewer, planner, editor, admin)",
    )
    run.add_argument(
        "--anonymous-park", action="append", metavar="PARK", type=_cell, help="limit anonymous requests to PARK"
    )
    run.add_argument(
        "--anonymous-chain", action="append", metavar="CHAIN", type=_cell, help="limit anonymous requests to CHAIN"
    )
    run.set_defaults(handler=serve)

    merge = commands.add_parser("reconcile", help=reconcile.__doc__, description=reconcile.__doc__,
                                formatter_class=Defaults)  # fmt: skip
    merge.add_argument("ledgers", nargs="*", metavar="LEDGER",
                       help="an enterprise ledger (CSV or .xlsx), or NAME=LEDGER to name its source (default: the file name)")  # fmt: skip
    merge.add_argument("--survey", action="append", metavar="LEDGER", help="the door-to-door survey (round 2)")
    merge.add_argument("--out", type=Path, required=True, help="folder for the clean ledger (enterprises.csv)")
    merge.add_argument("--report", type=Path, help="the report workbook (.xlsx)")
    merge.add_argument("--as-of", type=_date, help="the day zombies are marked as found (default: today)")
    merge.add_argument("--config", type=Path, help=f"[reconcile] settings (default: ./{CONFIG_FILE} if there is one)")
    merge.add_argument("--force", action="store_true", help="write into a folder that is not empty")
    merge.add_argument("--state", type=Path, help="show the clean ledger as a change set against this state")
    merge.add_argument("--apply", action="store_true", help="with --state: write that change set (one, all or nothing)")
    merge.set_defaults(handler=reconcile)

    keys = commands.add_parser("token", help=token.__doc__, description=token.__doc__, formatter_class=Defaults)
    actions = keys.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="make a token; it alone is printed on stdout, once")
    listing = actions.add_parser("list", help="names, roles, scopes, created, last used, expiry (never a token)")
    revoke = actions.add_parser("revoke", help="revoke a token by its name")
    for action in (create, listing, revoke):
        where = action.add_mutually_exclusive_group(required=True)
        where.add_argument("--state", type=Path, help="the state's folder: its tokens")
        where.add_argument("--tokens", type=Path, metavar="FILE", help="a tokens file (for `serve --data --tokens`)")
        where.add_argument("--store", metavar="URL", help="a graph database's tokens (for `serve --store`), the "
                           "password in CHAINORG_STORE_PASSWORD")  # fmt: skip
        action.set_defaults(handler=token)
    create.add_argument("--role", required=True, type=_role, help="viewer, planner, editor or admin")
    create.add_argument("--name", required=True, help="who it is for: recorded as `who` of every change it makes")
    create.add_argument(
        "--park", action="append", metavar="PARK", type=_cell, help="limit it to PARK; repeat for several"
    )
    create.add_argument(
        "--chain", action="append", metavar="CHAIN", type=_cell, help="limit it to CHAIN; repeat for several"
    )
    create.add_argument("--expires", metavar="DATE", help="refused from DATE (UTC), or a time like 2027-01-01T08:00Z")
    revoke.add_argument("name", help="the token's name")

    check_rules = commands.add_parser("audit", help=audit.__doc__, description=audit.__doc__, formatter_class=Defaults)
    _source_options(check_rules)
    _report_options(check_rules)
    check_rules.add_argument("--rule", type=RuleCode, action="append", choices=list(RuleCode),
                             help="only this rule; repeat for several (default: every enabled rule)")  # fmt: skip
    check_rules.set_defaults(handler=audit)

    report = commands.add_parser("bulletin", help=bulletin.__doc__, description=bulletin.__doc__,
                                 formatter_class=Defaults)  # fmt: skip
    _source_options(report)
    _report_options(report)
    report.add_argument("--previous", type=_date, help="the date to compare with (default: ten days before --as-of)")
    report.set_defaults(handler=bulletin)

    draw = commands.add_parser("chart", help=chart.__doc__, description=chart.__doc__, formatter_class=Defaults)
    draw.add_argument("root", help="id of the organization at the top (park committee, chain committee, cluster ...)")
    _source_options(draw)
    draw.add_argument("--depth", type=int, default=3, help="tiers to draw under the root (0 to 6)")
    draw.add_argument("--links", action="store_true", help="draw joint-building and pairing links as dashed lines")
    draw.add_argument(
        "--as-of", type=_date, help=f"the date drawn, YYYY-MM-DD (default: today; the demo's is {DEMO_DAY})"
    )
    draw.add_argument("--format", type=_chart_format, metavar="{svg,png,pdf,dot,mermaid,graphml,json}",
                      help="default: by --out's suffix, else svg")  # fmt: skip
    draw.add_argument("--out", type=Path, help="file (or folder) to write; text formats print without it")
    draw.set_defaults(handler=chart)

    check = commands.add_parser("load", help=load.__doc__, description=load.__doc__, formatter_class=Defaults)
    check.add_argument("path", type=Path, nargs="?", help="ledger folder of CSVs or .xlsx workbook")
    check.add_argument("--demo", action="store_true", help="the Changsha demo instead of a ledger")
    check.add_argument("--encoding", help="encoding of the CSV files, e.g. big5 (default: detected)")
    check.add_argument("--state", type=Path, help="import into a new state in this folder (for `serve --state`)")
    check.add_argument(
        "--store",
        metavar="URL",
        help="load into the graph database at URL, "
        "bolt://USER@HOST:PORT/DATABASE or neo4j://… (the password in CHAINORG_STORE_PASSWORD)",
    )
    check.add_argument(
        "--replace",
        action="store_true",
        help="with --store or --to-store: load in place of the graph the database holds (it answers until the new "
        "one is complete)",
    )
    check.add_argument(
        "--to-store",
        metavar="URL",
        help="copy the state of --state DIR into the graph database at URL: its records with their history, "
        "audit trail, request ids, scenarios and tokens (stop the servers writing to the state first)",
    )
    check.add_argument("--stands-on", type=_date, metavar="DATE",
                       help="the new state's clock stands still on DATE: questions without a date are asked on it "
                            "and changes without one happen on it (default: the calendar's day; the demo's "
                            f"{DEMO_DAY})")  # fmt: skip
    check.set_defaults(handler=load)

    out = commands.add_parser("export", help=export.__doc__, description=export.__doc__, formatter_class=Defaults)
    out.add_argument("--state", type=Path, help="the state's folder")
    out.add_argument(
        "--store", metavar="URL", help="a graph database instead: bolt://USER@HOST:PORT/DATABASE or neo4j://… "
        "(the password in CHAINORG_STORE_PASSWORD)"
    )  # fmt: skip
    out.add_argument("--out", type=Path, required=True, help="folder for the ledger's files, or a .xlsx file")
    out.add_argument("--xlsx", action="store_true", help="one workbook (ledger.xlsx) instead of CSV files")
    out.set_defaults(handler=export)

    trail = commands.add_parser("audit-log", help=audit_log.__doc__, description=audit_log.__doc__,
                                formatter_class=Defaults)  # fmt: skip
    trail_source = trail.add_mutually_exclusive_group()
    trail_source.add_argument("--state", type=Path, help="the state's folder")
    trail_source.add_argument(
        "--store", metavar="URL", help="the graph database at URL (the password in CHAINORG_STORE_PASSWORD)"
    )
    trail.add_argument(
        "--since", type=_moment, help="only change sets from then on, e.g. 2026-11-23 or 2026-11-23T08:00Z"
    )
    trail.add_argument("--subject", help="only changes about this id or credit code")
    trail.add_argument("--format", choices=["table", "csv", "xlsx"], help="default: by --out's suffix, else table")
    trail.add_argument("--out", type=Path, help="file to write (default: print a table)")
    trail.set_defaults(handler=audit_log)

    make = commands.add_parser("demo", help=demo.__doc__, description=demo.__doc__, formatter_class=Defaults)
    make.add_argument("out_dir", type=Path, help="an empty (or new) folder")
    make.add_argument("--force", action="store_true", help="write into a folder that is not empty")
    make.add_argument("--seed", type=int, default=2021, help="another seed gives another, equally valid park")
    make.set_defaults(handler=demo)
    return root


def _token_check(args: argparse.Namespace, state: State | None) -> TokenCheck:
    """Who the server lets in (tokens.TokenCheck): tokens of --tokens FILE or of the state; with
    none on loopback, anonymous requests act as admin; off loopback a token or --anonymous is needed."""
    from graph.access import Role
    from tokens import Anonymous, GraphTokenBook, TokenBook, TokenCheck, TokenProblem, is_loopback

    book: Book | None = None
    if args.tokens:
        book = TokenBook(args.tokens)
    elif state is not None:
        book = TokenBook(state.durable.path)
    elif args.store is not None:
        book = GraphTokenBook(_store_address(args.store))
    try:
        made = bool(book.by_fingerprint()) if book is not None else False
    except TokenProblem as problem:
        errors.print(Text(str(problem)))
        raise Refused from None
    anonymous = None
    if args.anonymous is not None:
        anonymous = Anonymous.allowed(Role.named(args.anonymous), _boundary(args.anonymous_park, args.anonymous_chain))
    loopback = is_loopback(args.host)
    if not loopback and not made and anonymous is None:
        where = f"--state {args.state}" if args.state else f"--store {args.store}" if args.store else "--tokens FILE"
        errors.print(Text(
            f"refusing to serve on {args.host} with no tokens: anyone on the network could read and change "
            f"everything. Make an admin token first (`chainorg token create {where} --role admin --name NAME`), "
            "or allow anonymous requests a role (`--anonymous viewer`)."
        ))  # fmt: skip
        raise Refused
    if loopback and not made and anonymous is None:
        console.print(Text(
            "no tokens yet: requests from this machine act as admin; once a token is made "
            "(`chainorg token create`), every request needs one"
        ))  # fmt: skip
    elif anonymous is not None and anonymous.caller is not None:
        seen = anonymous.caller
        console.print(Text(f"anonymous requests act as a {seen.role.label} ({seen.boundary.describe()})"))
    return TokenCheck(book, anonymous, open_when_empty=loopback and anonymous is None)


def _boundary(parks: list[str] | None, chains: list[str] | None) -> Boundary:
    from graph.access import Boundary

    return Boundary.of(parks or (), chains or ())


def _book(args: argparse.Namespace) -> Book:
    from graph.durable import state_file
    from tokens import GraphTokenBook, TokenBook

    if args.store is not None:
        return GraphTokenBook(_store_address(args.store))
    return TokenBook(args.tokens if args.tokens is not None else state_file(args.state))


def reconcile(args: argparse.Namespace) -> int:
    """Merge department ledgers into one clean enterprise ledger: duplicates, conflicts, zombies (the four rounds)."""
    from rich.progress import Progress

    from loaders.reconcile import STEPS, Source, reconcile_ledgers

    config = _config(args)
    sources = [Source.of(given) for given in args.ledgers] + [
        Source.of(given, survey=True) for given in args.survey or ()
    ]
    if not sources:
        errors.print(Text("give at least one ledger (a CSV file or .xlsx workbook), or --survey LEDGER"))
        return 2
    if len({s.name for s in sources}) < len(sources):
        errors.print(Text("two ledgers have one source name: name them, e.g. 经信局=economy.csv"))
        return 2
    if args.apply and args.state is None:
        errors.print(Text("--apply writes to a state: give it with --state DIR"))
        return 2
    if args.state is not None:
        from graph.durable import state_file

        state_file(args.state)  # StateProblem, before any ledger is read, when there is none
    if args.out.exists() and any(args.out.iterdir()) and not args.force:
        errors.print(Text(f"{args.out} is not empty; give an empty folder, or --force to write into it"))
        return 1
    found_on = args.as_of or date.today()
    with Progress(console=errors, transient=True) as progress:
        task = progress.add_task("reading ledgers", total=len(sources) + STEPS)

        def advance(done: str) -> None:
            progress.update(task, advance=1, description=done)

        try:
            outcome = reconcile_ledgers(sources, args.out, config.reconcile, found_on, args.report, advance)
        except LedgerInvalid as invalid:
            _print_issues("a ledger cannot be read; nothing was written", invalid.issues, errors)
            return 1
    table = Table("round", "what", "count")
    rows_by_round = outcome.rows_by_round
    for cells in (
        ("1 部门台账合并", "rows in the departments' ledgers", rows_by_round.get(1, 0)),
        ("2 走访摸排", "rows of the survey", rows_by_round.get(2, 0)),
        ("2 走访摸排", "enterprises only the survey found", outcome.from_survey_only),
        ("3 比对去重", "rows merged by the same credit code", outcome.duplicates),
        ("3 比对去重", "probable matches merged (no valid code)", outcome.probable_merged),
        ("3 比对去重", "probable matches reported", len(outcome.probable)),
        ("3 比对去重", "rows rejected", len(outcome.rejected)),
        ("3 比对去重", "fields in conflict", len(outcome.conflicts)),
        ("4 实地核查", "zombies", len(outcome.zombies)),
    ):
        table.add_row(cells[0], cells[1], f"{cells[2]:,}")
    console.print(table)
    console.print(Text(outcome.summary()))
    report = f"; the report is {args.report}" if args.report else ""
    console.print(Text(f"the clean ledger is in {args.out} (load it with `chainorg load {args.out}`){report}"))
    if args.state is not None:
        return _propose(args, outcome, found_on)
    return 0


def _propose(args: argparse.Namespace, outcome: Outcome, found_on: date) -> int:
    """`reconcile --state`: the clean ledger as one change set against the state, shown; with
    --apply, written through the state's writer (all or nothing, into the audit trail)."""
    import asyncio

    from graph.reconciled_changes import proposed
    from graph.reconciliation_rules import COLUMNS
    from graph.stores.networkx.state import State, snapshot
    from loaders.ledger import load_ledger

    table = load_ledger(args.out).dataset.enterprises
    reconciled = table.records(range(len(table)))
    given = [{c for c in COLUMNS if row[c] is not None} for row in outcome.ledger.iter_rows(named=True)]
    codes = [e.credit_code for e in reconciled]
    kept = asyncio.run(snapshot(args.state).enterprises(codes))
    proposal = proposed(reconciled, given, kept, found_on)
    for change in proposal.changes[:PAGE_ROWS]:
        console.print(Text(f"{change.kind} {change.subject()}"))
    if len(proposal.changes) > PAGE_ROWS:
        console.print(Text(f"… and {len(proposal.changes) - PAGE_ROWS:,} more"))
    counts = (
        f"{proposal.new:,} new, {proposal.changed:,} changed ({proposal.zombies:,} becoming zombies): "
        f"{len(proposal.changes):,} changes"
    )
    if not args.apply or not proposal.changes:
        console.print(
            Text(f"{counts}; nothing written" + ("; --apply writes them as one change set" if proposal.changes else ""))
        )
        return 0
    state = State(args.state)
    try:
        receipt = asyncio.run(state.apply(proposal.changes, "reconcile"))
    except ChainorgError as refused:
        errors.print(Text(f"{counts}; refused, nothing written: {refused}"))
        return 1
    finally:
        state.close()
    console.print(Text(f"{counts}; applied as change set {receipt.change_set}"))
    return 0


def token(args: argparse.Namespace) -> int:
    """Make, list or revoke the tokens requests carry (`Authorization: Bearer TOKEN`)."""
    from graph.access import Role
    from tokens import TokenProblem, expiry

    book = _book(args)
    try:
        if args.action == "create":
            role, boundary = Role.named(args.role), _boundary(args.park, args.chain)
            if role is Role.ADMIN and not boundary.everywhere:
                raise TokenProblem("an admin sees every scope: give --park and --chain to other roles")
            made = book.create(args.name, role, boundary, expiry(args.expires) if args.expires else None)
            errors.print(Text(
                f"token {args.name.strip()!r}: {role.label}, {boundary.describe()}; it is shown once, here, "
                "and only its hash is kept; a running server takes it within 2 s"
            ))  # fmt: skip
            print(made)
        elif args.action == "revoke":
            record = book.revoke(args.name)
            errors.print(Text(f"token {record.name!r} revoked; running servers refuse it within 2 s"))
        else:
            table = Table()
            for column in ("name", "role", "scope", "created", "last used", "expires", "status"):
                table.add_column(column)
            now = datetime.now(UTC)
            for record in book.listed():
                status = "revoked" if record.revoked else "expired" if record.refusal(now) else "active"
                table.add_row(*(Text(cell) for cell in (
                    record.name, record.role.label, record.boundary.describe(), _when(record.created),
                    _when(record.last_used), _when(record.expires), status,
                )))  # fmt: skip
            console.print(table)
    except (TokenProblem, ValueError) as problem:
        errors.print(Text(str(problem)))
        return 1
    finally:
        book.close()
    return 0


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _source_options(command: argparse.ArgumentParser) -> None:
    source = command.add_mutually_exclusive_group()
    source.add_argument("--data", type=Path, help="ledger folder of CSVs or .xlsx workbook (default: the demo)")
    source.add_argument("--demo", action="store_true", help="the Changsha demo")
    source.add_argument("--state", type=Path, help="a state's folder (made by `chainorg load LEDGER --state DIR`)")
    command.add_argument("--encoding", help="encoding of the ledger's CSV files (default: detected)")
    command.add_argument("--config", type=Path, help=f"rules and limits (default: ./{CONFIG_FILE} if there is one)")


def _report_options(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--as-of", type=_date, help=f"the date reported on, YYYY-MM-DD (default: today; the demo's is {DEMO_DAY})"
    )
    command.add_argument("--park", help="only this park")
    command.add_argument("--chain", help="only this industry chain")
    command.add_argument("--cluster", help="only this cluster, by id or exact name")
    command.add_argument("--format", choices=["table", "csv", "xlsx"], help="default: by --out's suffix, else table")
    command.add_argument("--out", type=Path, help="file to write (default: print a table)")


def _cell(text: str) -> str:
    """A park's or chain's name from the command line, checked as a ledger cell is (graph.rules)."""
    from graph.rules import text_problem

    if not text.strip() or (problem := text_problem(text)):
        raise argparse.ArgumentTypeError(f"{text!r}: {problem if text.strip() else 'a name is needed'}")
    return text.strip()


def _role(text: str) -> str:
    from graph.access import Role

    try:
        return Role.named(text).label
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _origin(text: str) -> str:
    from exposure import origin_problem

    if problem := origin_problem(text):
        raise argparse.ArgumentTypeError(problem)
    return text


def _date(text: str) -> date:
    from graph.rules import day_problem

    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-11-23") from None
    if problem := day_problem(day):
        raise argparse.ArgumentTypeError(f"{text}: {problem}")
    return day


def _moment(text: str) -> datetime:
    """A date or a date and time; without a zone, UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date or time like 2026-11-23T08:00Z") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def main(argv: Sequence[str] | None = None) -> int:
    commands = parser()
    args = commands.parse_args(argv)
    if args.command is None:
        commands.print_help()
        return 0
    if args.command != "serve":  # the driver's retries are the server log's business; a command says one line
        logging.getLogger("neo4j").setLevel(logging.ERROR)
    try:
        return int(args.handler(args))
    except Refused:
        return 1
    except StateProblem as problem:  # any command given --state: the message says what to do
        errors.print(Text(str(problem)))
        return 1
    except BrokenPipeError:  # the reader of a pipe (`| head`) has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as error:  # a file or folder named on the command line that cannot be read or written
        where = f" {error.filename}" if error.filename else ""  # "cannot export afile: File exists"
        errors.print(Text(f"cannot {args.command}{where}: {error.strerror or error}"))
        return 1
    except sqlite3.DatabaseError as error:  # a state file damaged in the middle
        errors.print(Text(f"cannot {args.command}: the state file is damaged ({error}); restore it from a backup"))
        return 1


if __name__ == "__main__":
    sys.exit(main())
