"""The `chainorg` command: serve, load, demo."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from loaders.errors import LedgerInvalid, LedgerIssue

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

    for path in write_csv_ledger(demo_records(args.seed), args.out_dir):
        console.print(f"wrote {path}")
    return 0


def serve(args: argparse.Namespace) -> int:
    """Load the ledger (or the demo), then serve GraphQL until interrupted."""
    import uvicorn

    from server import create_app, load_store

    try:
        store = load_store(None if args.demo else args.data, args.encoding)
    except LedgerInvalid as invalid:
        _print_issues(f"{args.data}: rejected; not serving", invalid.issues, errors)
        return 1
    console.print(Text(f"serving {args.data or 'the Changsha demo'} on http://{args.host}:{args.port}/graphql"))
    uvicorn.run(create_app(store), host=args.host, port=args.port, access_log=args.access_log, log_level="info")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="chainorg", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    run = commands.add_parser("serve", help=serve.__doc__)
    source = run.add_mutually_exclusive_group()
    source.add_argument("--data", type=Path, help="ledger folder of CSVs or .xlsx workbook (default: the demo)")
    source.add_argument("--demo", action="store_true", help="serve the Changsha demo")
    run.add_argument("--encoding", help="encoding of the ledger's CSV files (default: detected)")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--no-access-log", dest="access_log", action="store_false", help="do not log each request")
    run.set_defaults(handler=serve)

    check = commands.add_parser("load", help=load.__doc__)
    check.add_argument("path", type=Path, help="ledger folder of CSVs or .xlsx workbook")
    check.add_argument("--encoding", help="encoding of the CSV files, e.g. big5 (default: detected)")
    check.set_defaults(handler=load)

    make = commands.add_parser("demo", help=demo.__doc__)
    make.add_argument("out_dir", type=Path)
    make.add_argument("--seed", type=int, default=2021, help="another seed gives another, equally valid park")
    make.set_defaults(handler=demo)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
