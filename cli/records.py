"""`saraban ingest`, `saraban chain`, `saraban letter`: put letters on record and read the record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from cli.common import DATABASE, day_option, fail, open_record, reading
from models.thai import BE_OFFSET, MAX_CE_YEAR, MIN_CE_YEAR, be_to_ce, to_arabic_digits
from records.chain import AmbiguousLetter, LetterNotFound, chain_json, letter_detail
from records.ingest import IngestOutcome, collect_files, iter_ingest
from records.service import IngestReport

PROGRESS_AT = 20  # files: below this a batch is over before a bar would help


def _review_lines(report: IngestReport) -> list[str]:
    waiting = report.to_review
    if not waiting:
        return []
    head = f"{len(waiting)} letter{'s' if len(waiting) > 1 else ''} to review"
    if len(waiting) == 1:
        return [f"  {head}: {waiting[0]} (saraban review show {waiting[0].id})"]
    return [f"  {head}:", *(f"    {r} (saraban review show {r.id})" for r in waiting)]


def _echo_report(report: IngestReport) -> None:
    typer.echo(f"{report.file}: {report.added} added, {report.merged} merged, {report.unchanged} unchanged")
    for letter in report.letters:
        typer.echo(f"  {letter}")
    for alias in report.aliases:
        typer.echo(f"  {alias}")
    for line in _review_lines(report):
        typer.echo(line)
    for warning in report.warnings:
        typer.echo(f"warning: {warning}", err=True)


def _summary(outcomes: list[IngestOutcome]) -> list[str]:
    stored = [o for o in outcomes if o.report is not None]
    failed = [o for o in outcomes if o.error is not None]
    review = sum(len(o.report.to_review) for o in stored if o.report is not None)
    lines = [
        f"{len(outcomes)} file(s): {len(stored)} went in, {len(failed)} failed;"
        f" {sum(o.report.added for o in stored if o.report)} letter(s) added,"
        f" {review} letter(s) to review"
    ]
    if failed:
        lines.append("failed (nothing of them stored): " + ", ".join(str(o.path) for o in failed))
    return lines


def ingest(
    files: list[Path] = typer.Argument(
        ..., help="OCR'd letter files (UTF-8 text), or directories to walk (hidden files skipped)."
    ),
    database: str | None = DATABASE,
) -> None:
    """Put the letters of each file on record (one transaction per file) and say what changed.

    A directory stands for every file under it (recursively, sorted, hidden ones skipped); with
    many files and a terminal, a progress bar runs on stderr. "merged" counts letters merged into
    one already on record and printed numbers merged into a letter as OCR readings of it (each
    listed as `merged: ALIAS → NUMBER of DATE (reason)`). Letters whose number or date could not
    be read go to the review list (`N letters to review: FILE:LINE: why`; see `saraban review`).
    Re-ingesting a file changes nothing. A file that cannot be read or stored (a parse error,
    `database is locked`, disk full) is reported on stderr as FILE:LINE: message with nothing of
    it written; the other files still go in, the summary names the files that failed, and the
    exit status is 2. Facts stored as read but doubtful (a receipt stamped before the letter's
    date, an unknown agency code) and what the parser left out (a date that cannot be, a deadline
    counted from each addressee's receipt) are warnings on stderr, `warning: FILE:LINE: field:
    message`, and do not fail.
    """
    paths = collect_files(files)
    engine = open_record(database)
    err = Console(stderr=True)
    outcomes: list[IngestOutcome] = []
    with Progress(
        TextColumn("ingest"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not (err.is_terminal and len(paths) >= PROGRESS_AT),
    ) as progress:
        task = progress.add_task("ingest", total=len(paths))
        for outcome in iter_ingest(paths, engine, migrate=False):  # open_record migrated it
            outcomes.append(outcome)
            progress.advance(task)
            if outcome.error is not None:
                typer.echo(f"error: {outcome.error}", err=True)
            elif outcome.report is not None:
                _echo_report(outcome.report)
    if len(outcomes) > 1:
        for line in _summary(outcomes):
            typer.echo(line, err=any(o.error for o in outcomes))
    if any(o.error is not None for o in outcomes):
        raise typer.Exit(code=2)


def _row(*cells: str) -> list[str]:
    """Table cells from the record, escaped: a subject or name holding "[/x]" is not rich markup."""
    return [escape(cell) for cell in cells]


def _chain_tables(data: dict[str, Any]) -> list[Table]:
    letters = Table(title=f"{len(data['letters'])} letter(s)")
    for column in ("number", "date", "issuer", "also printed as", "known"):
        letters.add_column(column, no_wrap=column != "also printed as")
    for item in data["letters"]:
        letters.add_row(*_row(
            item["number"],
            item["date"],
            item["issuer"] or "",
            ", ".join(item["aliases"]),
            "only cited" if item["known_only_by_citation"] else "on file",
        ))  # fmt: skip
    edges = Table(title=f"{len(data['edges'])} link(s): earlier letter carried by later letter")
    for column in ("earlier", "how", "later"):
        edges.add_column(column, no_wrap=True)
    for edge in data["edges"]:
        edges.add_row(*_row(edge["from"], edge["kind"], edge["to"]))
    receipts = Table(title=f"{len(data['receipts'])} receipt(s)")
    for column in ("letter", "received by", "receipt no.", "date", "time"):
        receipts.add_column(column, no_wrap=True)
    for r in data["receipts"]:
        receipts.add_row(
            *_row(r["letter"], r["agency"] or "", r["number"] or "-", r["date"] or "", r["time"] or "")
        )
    return [letters, edges, receipts]


def chain(
    as_json: bool = typer.Option(False, "--json", help="Print the chain as JSON."),
    database: str | None = DATABASE,
) -> None:
    """Show the recorded chain: letters (with other printings), who carried whom, receipts."""
    with reading(database) as session:  # read-only: never migrates nor waits for a writer
        data = chain_json(session)
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    console = Console()
    for table in _chain_tables(data):
        console.print(table)


def _year(text: str | None) -> int | None:
    """A year from the command line: Buddhist era (2564, ๒๕๖๔, two-digit ๖๔) or Gregorian (2021)."""
    if text is None:
        return None
    digits = to_arabic_digits(text.strip())
    if not digits.isdigit() or not digits.isascii():
        raise fail(f"--year {text!r}: expected a year such as 2564 (Buddhist era) or 2021")
    year = int(digits)
    if len(digits) == 2 or MIN_CE_YEAR + BE_OFFSET <= year <= MAX_CE_YEAR + BE_OFFSET:
        return be_to_ce(year)
    if MIN_CE_YEAR <= year <= MAX_CE_YEAR:
        return year
    raise fail(f"--year {text!r}: neither a Buddhist-era year nor a plausible Gregorian one")


def letter(
    number: str = typer.Argument(..., help="The letter's number, as printed or cited (any spelling)."),
    on: str | None = typer.Option(
        None, "--date", help="The letter's date (2021-03-02 or ๒ มี.ค. ๒๕๖๔), when the number repeats."
    ),
    year: str | None = typer.Option(
        None,
        "--year",
        help="The letter's year, Buddhist era (2564) or Gregorian (2021), when the number repeats.",
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the letter as JSON."),
    database: str | None = DATABASE,
) -> None:
    """Everything known about one letter: source, other printings and why, receipts, citations.

    Running numbers restart every calendar year, so one number can name several letters. When it
    does and neither --date nor --year picks one, nothing is shown as if it were the only one: the
    candidates are listed on stderr (number, date, on file or only cited) and the exit status is 2.
    """
    day = day_option(on, "--date")
    gregorian = _year(year)
    if day is not None and gregorian is not None and day.year != gregorian:
        raise fail(f"--date {day.isoformat()} is not in --year {year}")
    try:
        with reading(database) as session:  # read-only: never migrates nor waits for a writer
            data = letter_detail(session, number, on=day, year=gregorian)
    except (LetterNotFound, AmbiguousLetter) as exc:
        raise fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    console = Console()
    known = "known only by citation" if data["known_only_by_citation"] else "on file"
    console.print(f"[bold]{escape(data['number'])}[/bold] of {escape(str(data['date']))} ({known})")
    if data["same_number_on"]:
        console.print(
            f"  (the same number also names the letter(s) of {escape(', '.join(data['same_number_on']))})"
        )
    issuer = data["issuer"]
    for label, value in (
        ("issuer", f"{issuer['name_th']} ({issuer['id']})" if issuer else None),
        ("subject", data["subject"]),
        ("to", data["salutation"]),
        ("source", f"{data['source']['file']}:{data['source']['line']}" if data["source"]["file"] else None),
        ("circular", data["circular_id"]),
    ):
        if value:
            console.print(f"  {label}: {escape(str(value))}")
    for m in data["merges"]:
        console.print(f"  also printed as {escape(str(m['alias']))}: {escape(str(m['reason']))}")
    for r in data["receipts"]:
        console.print(escape(
            f"  received by {r['agency_name'] or r['registry']} #{r['number'] or '-'} on {r['date']}"
            + (f" {r['time']}" if r["time"] else "")
        ))  # fmt: skip
    for c in data["cites"]:
        console.print(escape(f"  {c['kind']} {c['number']} of {c['date']}"))
    for c in data["cited_by"]:
        console.print(escape(f"  {c['kind']} by {c['number']} of {c['date']} (printed {c['as_printed']})"))
    for d in data["deadlines"]:
        console.print(escape(f"  {d['kind']} {d['date']}" + (f" {d['time']}" if d["time"] else "")))
    for n in data["reading_notes"]:
        console.print(f"  note (line {n['line']}): {n['note']}", markup=False)


def register(app: typer.Typer) -> None:
    """Add `ingest`, `chain` and `letter` to the `saraban` command."""
    app.command("ingest")(ingest)
    app.command("chain")(chain)
    app.command("letter")(letter)
