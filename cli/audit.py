"""`saraban audit verify|head|log|replay`: is the record what its event log says, and what happened when."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from cli.common import DATABASE, fail, open_readonly
from models.db import RecordError, get_engine, redact, session_scope
from records import audit
from records.registry import RegistryError

audit_app = typer.Typer(
    help="Check the record against its hash-chained event log, show history, rebuild from the log.",
    no_args_is_help=True,
)


def _anchors(given: list[str], files: list[Path]) -> list[audit.Anchor]:
    anchors = []
    for text in given:
        try:
            anchors.append(audit.Anchor.parse(text))
        except audit.AuditError as exc:
            raise fail(f"--anchor {text!r}: {exc}") from None
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise fail(f"--anchor-file {path}: {exc.strerror if isinstance(exc, OSError) else exc}") from None
        try:
            anchors += audit.parse_anchors(text, str(path))
        except audit.AuditError as exc:
            raise fail(f"--anchor-file {exc}") from None
    return anchors


@audit_app.command("verify")
def verify(
    anchor: list[str] = typer.Option(
        [],
        "--anchor",
        metavar="SEQ:HASH",
        help="A head printed earlier by `saraban audit head` and kept outside the database: the log "
        "must still hold that entry with that hash (repeatable).",
    ),
    anchor_file: list[Path] = typer.Option(
        [],
        "--anchor-file",
        metavar="FILE",
        help="A file of anchors, one SEQ:HASH per line (first word; '#' starts a comment line).",
    ),
    database: str | None = DATABASE,
) -> None:
    """Recompute the event chain, check the anchors, replay the log; name the first bad entry, the
    anchor the log no longer holds, or the altered row.

    Without an anchor a log cut short at its end (with the rows its newest events wrote) passes:
    keep the head outside the database. Exit status 0 when the record verifies, 1 when it does not,
    2 for an unreadable anchor.
    """
    anchors = _anchors(anchor, anchor_file)
    engine = open_readonly(database)
    with session_scope(engine, readonly=True) as session:
        report = audit.verify(session, anchors=anchors)
    typer.echo(str(report), err=not report.ok)
    if not report.ok:
        raise typer.Exit(code=1)


@audit_app.command("head")
def head(
    as_json: bool = typer.Option(False, "--json", help="Also say when and what the entry was."),
    database: str | None = DATABASE,
) -> None:
    """Print the head of the log, SEQ:HASH, for an auditor to keep outside the database.

    `saraban audit verify --anchor SEQ:HASH` later fails if the log no longer holds that entry:
    cut short, or rewritten at or before it. `saraban audit head >> anchors.txt` keeps a file of
    them for `--anchor-file`. Run `audit verify` first: a head is only worth keeping if it verifies.
    """
    engine = open_readonly(database)
    with session_scope(engine, readonly=True) as session:
        tip = audit.head(session)
    typer.echo(json.dumps(tip.to_json(), ensure_ascii=False) if as_json else str(tip))


@audit_app.command("log")
def log(
    letter: str | None = typer.Option(
        None, "--letter", help="Only events about this letter (any printed form)."
    ),
    agency: str | None = typer.Option(
        None, "--agency", help="Only events about this agency (id or Thai name)."
    ),
    limit: int = typer.Option(200, "--limit", min=1, help="Show at most this many (the newest)."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list."),
    database: str | None = DATABASE,
) -> None:
    """Show the history: who did what, when, on whose behalf, oldest first."""
    engine = open_readonly(database)
    try:
        with session_scope(engine, readonly=True) as session:
            events = audit.log(session, letter=letter, agency=agency, limit=limit)
    except (audit.AuditError, RegistryError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    if as_json:
        typer.echo(json.dumps([audit.event_json(e) for e in events], ensure_ascii=False, indent=2))
        return
    table = Table(title=f"{len(events)} event(s)")
    for column in ("#", "at (Bangkok)", "actor", "on behalf of", "kind", "subject"):
        table.add_column(column, no_wrap=column != "subject")
    for e in events:
        # Actors and subjects are anyone's text: escaped, so "[/x]" prints as itself, not as markup.
        table.add_row(
            str(e.seq),
            e.at.strftime("%Y-%m-%d %H:%M:%S"),
            escape(e.actor),
            escape(e.on_behalf_of or ""),
            escape(e.kind),
            escape(e.subject),
        )
    Console().print(table)


@audit_app.command("replay")
def replay(
    into: str = typer.Option(..., "--into", help="URL of an EMPTY database to rebuild the record in."),
    database: str | None = DATABASE,
) -> None:
    """Rebuild the state tables from the event log in an empty database (and copy the log there)."""
    source = open_readonly(database)
    target = get_engine(into)
    if source.url == target.url:
        typer.echo("error: --into names the source database itself", err=True)
        raise typer.Exit(code=2)
    try:
        with session_scope(source, readonly=True) as session:
            report = audit.replay(session, target)
    except (audit.AuditError, RecordError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(report.by_kind.items()))
    typer.echo(f"replayed {report.replayed} of {report.events} events into {redact(target.url)}: {kinds}")


def register(app: typer.Typer) -> None:
    """Add the `audit` command group to the `saraban` command."""
    app.add_typer(audit_app, name="audit")
