"""`saraban review`: the letters whose number or date could not be read, and completing them."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from cli.common import DATABASE, fail, open_record
from models.db import session_scope
from records.review import ReviewError, open_reviews, resolve_review, review_detail

review_app = typer.Typer(
    help="The review list: letters found whose number or date could not be read.",
    invoke_without_command=True,
    no_args_is_help=False,
)


@review_app.callback()
def review(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Print the open items as JSON."),
    database: str | None = DATABASE,
) -> None:
    """List the open review items: id, file:line, why, and what was read (number, date, subject,
    issuer). `saraban review show ID` prints one in full; `saraban review set ID --number N --date D`
    completes it."""
    if ctx.invoked_subcommand is not None:
        return
    with session_scope(open_record(database), readonly=True) as session:
        items = open_reviews(session)
    if as_json:
        typer.echo(json.dumps([i.to_json() for i in items], ensure_ascii=False, indent=2))
        return
    if not items:
        typer.echo("nothing to review")
        return
    table = Table(title=f"{len(items)} letter(s) to review")
    for column in ("id", "where", "why", "number", "date", "subject", "issuer"):
        table.add_column(column, no_wrap=column in ("id", "number", "date"))
    for i in items:
        table.add_row(
            str(i.id),
            i.where,
            i.reason,
            i.number or "-",
            i.date.isoformat() if i.date else "-",
            i.subject or "",
            i.issuer or "",
        )
    Console().print(table)


@review_app.command("show")
def show(
    item_id: int = typer.Argument(..., metavar="ID", help="The review item's id (from `saraban review`)."),
    as_json: bool = typer.Option(False, "--json", help="Print the item as JSON."),
    database: str | None = DATABASE,
) -> None:
    """Print one review item: where it is, why, how each field was read, and its source text."""
    try:
        with session_scope(open_record(database), readonly=True) as session:
            data = review_detail(session, item_id)
    except ReviewError as exc:
        raise fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    typer.echo(
        f"review item {data['id']} ({data['status']}): {data['file']}:{data['line']}: {data['reason']}"
    )
    for label in ("number", "date", "subject", "issuer"):
        typer.echo(f"  {label}: {data[label] or '-'}")
    for r in data["readings"]:
        where = f" (line {r['line']})" if r["line"] else ""
        raw = f" {r['raw']!r}" if r["raw"] else ""
        typer.echo(f"  {r['field']}: {r['status']}{where}{raw}" + (f": {r['note']}" if r["note"] else ""))
    typer.echo("--- source text ---")
    typer.echo(data["source_text"])


@review_app.command("set")
def set_(
    item_id: int = typer.Argument(..., metavar="ID", help="The review item's id (from `saraban review`)."),
    number: str = typer.Option(
        ..., "--number", help="The letter's number as printed, e.g. 'มท ๐๒๑๘/ว ๓๑๘๒'."
    ),
    on: str = typer.Option(..., "--date", help="The letter's date: 2020-06-01 or '๑ มิถุนายน ๒๕๖๓'."),
    actor: str | None = typer.Option(
        None, "--actor", envvar="SARABAN_ACTOR", help="Who completes it (default: the OS user)."
    ),
    database: str | None = DATABASE,
) -> None:
    """Complete a review item with its number and date: the letter goes on record like any ingested
    letter (citations resolved, circular assigned) and the item is marked resolved. A number or date
    that cannot be read is an error (status 2) and nothing is written."""
    try:
        with session_scope(open_record(database)) as session:
            done = resolve_review(session, item_id, number, on, actor=actor)
    except ReviewError as exc:
        raise fail(str(exc)) from None
    typer.echo(
        f"review item {done.item.id} ({done.item.where}) resolved: {done.number} of {done.date.isoformat()}"
    )
    for letter in done.report.letters:
        typer.echo(f"  {letter}")
    for alias in done.report.aliases:
        typer.echo(f"  {alias}")
    for warning in done.report.warnings:
        typer.echo(f"warning: {warning}", err=True)


def register(app: typer.Typer) -> None:
    """Add `review` (list, `show`, `set`) to the `saraban` command."""
    app.add_typer(review_app, name="review")
