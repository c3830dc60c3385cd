"""The `chainorg` command: serve, load, demo."""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from loaders.errors import LedgerInvalid, LedgerIssue
from schema.limits import DEFAULT_LIMITS, Limits


class Defaults(argparse.ArgumentDefaultsHelpFormatter):
    """Help that shows each option's default, except where it says so itself or is a switch."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or isinstance(action.default, bool):
            return action.help
        return super()._get_help_string(action)


console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)


def _print_issues(title: str, issues: list[LedgerIssue], out: Console) -> None:
    """A table of issues; ledger text is shown as itself, never read as markup."""
    out.print(Text(title), soft_wrap=True)
    table = Table()
    for column in ("file", "row", "column", "value", "reason"):
        table.add_column(column, overflow="fold")
    for issue in issues:
        cells = (issue.source, str(issue.row or ""), issue.column or "", issue.value or "", issue.reason)
        table.add_row(*(Text(cell) for cell in cells))
    out.print(table)


def load(args: argparse.Namespace) -> int:
    """Validate a ledger and print its counts, or every error (exit 1)."""
    from loaders.ledger import load_ledger

    try:
        loaded = load_ledger(args.path, args.encoding)
    except LedgerInvalid as invalid:
        _print_issues(f"{args.path}: rejected, {len(invalid.issues)} error(s); nothing loaded", invalid.issues, errors)
        return 1
    if loaded.warnings:
        _print_issues("warnings", loaded.warnings, errors)
    console.print(Text(f"{args.path}: valid"), soft_wrap=True)
    summary = Table()
    summary.add_column("kind")
    summary.add_column("count", justify="right")
    for kind, count in loaded.dataset.summary().items():
        summary.add_row(kind, f"{count:,}")
    console.print(summary)
    return 0


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


def serve(args: argparse.Namespace) -> int:
    """Load the ledger (or the demo), then serve GraphQL until interrupted."""
    import uvicorn

    from server import create_app, load_store

    if problem := port_problem(args.host, args.port):
        errors.print(Text(problem))
        return 1
    try:
        store = load_store(None if args.demo else args.data, args.encoding)
    except LedgerInvalid as invalid:
        _print_issues(f"{args.data}: rejected; not serving", invalid.issues, errors)
        return 1
    console.print(Text(f"serving {args.data or 'the Changsha demo'} on http://{args.host}:{args.port}/graphql"))
    limits = Limits(
        max_depth=args.max_depth, max_aliases=args.max_aliases, max_cost=args.max_cost, timeout=args.timeout
    )
    uvicorn.run(create_app(store, limits), host=args.host, port=args.port, access_log=args.access_log, log_level="info")
    return 0


def port_problem(host: str, port: int) -> str | None:
    """Why the server could not listen on host:port, before anything claims to serve there."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            return (
                f"cannot listen on {host}:{port} ({error.strerror}): another program may be using it; "
                f"choose another port with --port (or make run PORT=...)"
            )
    return None


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="chainorg", description=__doc__, formatter_class=Defaults)
    root.add_argument("--version", action="version", version=f"%(prog)s {version('chainorg')}")
    commands = root.add_subparsers(dest="command")

    run = commands.add_parser("serve", help=serve.__doc__, description=serve.__doc__, formatter_class=Defaults)
    source = run.add_mutually_exclusive_group()
    source.add_argument("--data", type=Path, help="ledger folder of CSVs or .xlsx workbook (default: the demo)")
    source.add_argument("--demo", action="store_true", help="serve the Changsha demo")
    run.add_argument("--encoding", help="encoding of the ledger's CSV files (default: detected)")
    run.add_argument("--host", default="127.0.0.1", help="address to listen on")
    run.add_argument("--port", type=int, default=8000, help="port to listen on")
    run.add_argument("--max-depth", type=int, default=DEFAULT_LIMITS.max_depth, help="deepest nesting a query may have")
    run.add_argument("--max-aliases", type=int, default=DEFAULT_LIMITS.max_aliases, help="most aliases in a query")
    run.add_argument("--max-cost", type=int, default=DEFAULT_LIMITS.max_cost, help="highest cost a query may have")
    run.add_argument("--timeout", type=float, default=DEFAULT_LIMITS.timeout, help="seconds one request may run")
    run.add_argument("--no-access-log", dest="access_log", action="store_false", help="do not log each request")
    run.set_defaults(handler=serve)

    check = commands.add_parser("load", help=load.__doc__, description=load.__doc__, formatter_class=Defaults)
    check.add_argument("path", type=Path, help="ledger folder of CSVs or .xlsx workbook")
    check.add_argument("--encoding", help="encoding of the CSV files, e.g. big5 (default: detected)")
    check.set_defaults(handler=load)

    make = commands.add_parser("demo", help=demo.__doc__, description=demo.__doc__, formatter_class=Defaults)
    make.add_argument("out_dir", type=Path, help="an empty (or new) folder")
    make.add_argument("--force", action="store_true", help="write into a folder that is not empty")
    make.add_argument("--seed", type=int, default=2021, help="another seed gives another, equally valid park")
    make.set_defaults(handler=demo)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    commands = parser()
    args = commands.parse_args(argv)
    if args.command is None:
        commands.print_help()
        return 0
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
