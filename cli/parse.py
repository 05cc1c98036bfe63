"""`saraban parse FILE... [--json]`: read OCR'd letters and show what was found in them."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from models.letters import Letter, UnreadLetter, letter_to_json
from models.parser import ParseError, ParseResult, read_file


def _read(path: Path) -> ParseResult | None:
    """The letters of one file, or None after telling stderr why there are none."""
    try:
        result = read_file(path)
    except ParseError as exc:
        typer.echo(f"error: {exc}", err=True)
        return None
    except Exception as exc:  # a parser bug must not hide the other files behind a traceback
        typer.echo(f"error: {path}:1: parser: {type(exc).__name__}: {exc}", err=True)
        return None
    for note in result.notes:
        typer.echo(f"note: {note}", err=True)
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    for unread in result.unread:
        typer.echo(f"review: {unread.source}: {unread.reason}", err=True)
    return result


def _table(letters: list[Letter | UnreadLetter]) -> Table:
    table = Table(title=f"{len(letters)} letter(s)")
    table.add_column("number", no_wrap=True)
    table.add_column("date", no_wrap=True)
    table.add_column("urgency", no_wrap=True)
    table.add_column("issuer", max_width=24, overflow="ellipsis", no_wrap=True)
    table.add_column("subject", max_width=36, overflow="ellipsis", no_wrap=True)
    for column in ("refs", "encl", "rcpt", "dl"):
        table.add_column(column, justify="right")
    table.add_column("source", no_wrap=True)
    for letter in letters:
        table.add_row(
            escape(letter.number.canonical) if letter.number else "[review]",
            letter.date.isoformat() if letter.date else "[review]",
            letter.urgency.value if letter.urgency else "",
            escape(letter.issuer or ""),
            escape(letter.subject or ""),
            str(len(letter.references)),
            str(len(letter.enclosures)),
            str(len(letter.receipts)),
            str(len(letter.deadlines)),
            escape(f"{Path(letter.source.file).name}:{letter.source.line}"),
        )
    return table


def parse(
    files: list[Path] = typer.Argument(
        ..., help="Letter files: text in any encoding (UTF-8, UTF-16, TIS-620/cp874), PDF, or scans."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON array of all letters."),
) -> None:
    """Read letters (number, date, urgency, citations, receipt stamps, deadlines) from letter files.

    A letter whose number or date cannot be read is still listed (number or date null, a `review`
    reason, and `fields` saying what was read how); `saraban ingest` puts it on the review list.
    Files that cannot be read at all (binary, empty, unreadable) are reported on stderr as
    FILE:LINE: FIELD: message; the other files are still read, and the exit status is 2.
    """
    letters: list[Letter | UnreadLetter] = []
    failed = False
    for path in files:
        result = _read(path)
        if result is None:
            failed = True
            continue
        letters.extend(sorted([*result.letters, *result.unread], key=lambda x: x.source.line))
    if as_json:
        typer.echo(json.dumps([letter_to_json(letter) for letter in letters], ensure_ascii=False, indent=2))
    else:
        console = Console()
        if not console.is_terminal:
            console = Console(width=160)  # piped output: do not squeeze columns into 80
        console.print(_table(letters))  # every cell escaped: text from a file is never markup
    if failed:
        raise typer.Exit(code=2)


def _group() -> None:
    pass


def register(app: typer.Typer) -> None:
    app.command("parse")(parse)
    if app.registered_callback is None:
        # Typer runs a lone command as the app itself (`saraban FILE` instead of `saraban parse
        # FILE`); a callback keeps the app a group even while parse is its only command.
        app.callback()(_group)
