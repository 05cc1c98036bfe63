"""`saraban audit verify|log|replay`: is the record what its event log says, and what happened when."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from cli.common import DATABASE, open_record
from models.db import get_engine, session_scope
from records import audit
from records.registry import RegistryError

audit_app = typer.Typer(
    help="Check the record against its hash-chained event log, show history, rebuild from the log.",
    no_args_is_help=True,
)


@audit_app.command("verify")
def verify(database: str | None = DATABASE) -> None:
    """Recompute the event chain and replay the log; name the first bad entry or altered row.

    Exit status 0 when the record verifies, 1 when it does not.
    """
    engine = open_record(database)
    with session_scope(engine, readonly=True) as session:
        report = audit.verify(session)
    typer.echo(str(report), err=not report.ok)
    if not report.ok:
        raise typer.Exit(code=1)


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
    engine = open_record(database)
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
        table.add_row(
            str(e.seq), e.at.strftime("%Y-%m-%d %H:%M:%S"), e.actor, e.on_behalf_of or "", e.kind, e.subject
        )
    Console().print(table)


@audit_app.command("replay")
def replay(
    into: str = typer.Option(..., "--into", help="URL of an EMPTY database to rebuild the record in."),
    database: str | None = DATABASE,
) -> None:
    """Rebuild the state tables from the event log in an empty database (and copy the log there)."""
    source = open_record(database)
    target = get_engine(into)
    if source.url == target.url:
        typer.echo("error: --into names the source database itself", err=True)
        raise typer.Exit(code=2)
    try:
        with session_scope(source, readonly=True) as session:
            report = audit.replay(session, target)
    except audit.AuditError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from None
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(report.by_kind.items()))
    typer.echo(
        f"replayed {report.replayed} of {report.events} events into {target.url.render_as_string()}: {kinds}"
    )


def register(app: typer.Typer) -> None:
    """Add the `audit` command group to the `saraban` command."""
    app.add_typer(audit_app, name="audit")
