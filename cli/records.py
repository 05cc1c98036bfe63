"""`saraban ingest`, `saraban chain`, `saraban letter`: put letters on record and read the record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from cli.common import DATABASE, open_record
from models.db import session_scope
from records.chain import LetterNotFound, chain_json, letter_detail
from records.ingest import ingest_files


def ingest(
    files: list[Path] = typer.Argument(..., help="OCR'd letter files (UTF-8 text)."),
    database: str | None = DATABASE,
) -> None:
    """Put the letters of each file on record (one transaction per file) and say what changed.

    Re-ingesting a file changes nothing. A file that cannot be read is reported on stderr as
    FILE:LINE: message and left out; the other files still go in, and the exit status is 2.
    """
    outcomes = ingest_files(files, open_record(database))
    failed = False
    for outcome in outcomes:
        if outcome.error is not None:
            typer.echo(f"error: {outcome.error}", err=True)
            failed = True
            continue
        report = outcome.report
        assert report is not None
        typer.echo(
            f"{report.file}: {report.added} added, {report.merged} merged, {report.unchanged} unchanged"
        )
        for letter in report.letters:
            typer.echo(f"  {letter}")
        for warning in report.warnings:
            typer.echo(f"warning: {report.file}: {warning}", err=True)
    if failed:
        raise typer.Exit(code=2)


def _chain_tables(data: dict[str, Any]) -> list[Table]:
    letters = Table(title=f"{len(data['letters'])} letter(s)")
    for column in ("number", "date", "issuer", "also printed as", "known"):
        letters.add_column(column, no_wrap=column != "also printed as")
    for item in data["letters"]:
        letters.add_row(
            item["number"],
            item["date"],
            item["issuer"] or "",
            ", ".join(item["aliases"]),
            "only cited" if item["known_only_by_citation"] else "on file",
        )
    edges = Table(title=f"{len(data['edges'])} link(s): earlier letter carried by later letter")
    for column in ("earlier", "how", "later"):
        edges.add_column(column, no_wrap=True)
    for edge in data["edges"]:
        edges.add_row(edge["from"], edge["kind"], edge["to"])
    receipts = Table(title=f"{len(data['receipts'])} receipt(s)")
    for column in ("letter", "received by", "receipt no.", "date", "time"):
        receipts.add_column(column, no_wrap=True)
    for r in data["receipts"]:
        receipts.add_row(r["letter"], r["agency"] or "", r["number"] or "-", r["date"] or "", r["time"] or "")
    return [letters, edges, receipts]


def chain(
    as_json: bool = typer.Option(False, "--json", help="Print the chain as JSON."),
    database: str | None = DATABASE,
) -> None:
    """Show the recorded chain: letters (with other printings), who carried whom, receipts."""
    engine = open_record(database)
    with session_scope(engine, readonly=True) as session:
        data = chain_json(session)
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    console = Console()
    for table in _chain_tables(data):
        console.print(table)


def letter(
    number: str = typer.Argument(..., help="The letter's number, as printed or cited (any spelling)."),
    as_json: bool = typer.Option(False, "--json", help="Print the letter as JSON."),
    database: str | None = DATABASE,
) -> None:
    """Everything known about one letter: source, other printings and why, receipts, citations."""
    engine = open_record(database)
    try:
        with session_scope(engine, readonly=True) as session:
            data = letter_detail(session, number)
    except LetterNotFound as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    console = Console()
    known = "known only by citation" if data["known_only_by_citation"] else "on file"
    console.print(f"[bold]{data['number']}[/bold] of {data['date']} ({known})")
    issuer = data["issuer"]
    for label, value in (
        ("issuer", f"{issuer['name_th']} ({issuer['id']})" if issuer else None),
        ("subject", data["subject"]),
        ("to", data["salutation"]),
        ("source", f"{data['source']['file']}:{data['source']['line']}" if data["source"]["file"] else None),
        ("circular", data["circular_id"]),
    ):
        if value:
            console.print(f"  {label}: {value}")
    for m in data["merges"]:
        console.print(f"  also printed as {m['alias']}: {m['reason']}")
    for r in data["receipts"]:
        console.print(
            f"  received by {r['agency_name'] or r['registry']} #{r['number'] or '-'} on {r['date']}"
            + (f" {r['time']}" if r["time"] else "")
        )
    for c in data["cites"]:
        console.print(f"  {c['kind']} {c['number']} of {c['date']}")
    for c in data["cited_by"]:
        console.print(f"  {c['kind']} by {c['number']} of {c['date']} (printed {c['as_printed']})")
    for d in data["deadlines"]:
        console.print(f"  {d['kind']} {d['date']}" + (f" {d['time']}" if d["time"] else ""))


def register(app: typer.Typer) -> None:
    """Add `ingest`, `chain` and `letter` to the `saraban` command."""
    app.command("ingest")(ingest)
    app.command("chain")(chain)
    app.command("letter")(letter)
