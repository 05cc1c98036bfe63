"""`saraban receive` and `saraban dispatch`: the clerk registers what the OCR never saw."""

from __future__ import annotations

from datetime import datetime

import typer

from cli.common import DATABASE, day_option, fail, moment_option, open_record
from models.db import session_scope
from records import registry

ACTOR = typer.Option(None, "--actor", envvar="SARABAN_ACTOR", help="Who registers (default: the OS user).")
ON_BEHALF_OF = typer.Option(None, "--on-behalf-of", help="The official the clerk acts for.")
LETTER_DATE = typer.Option(
    None,
    "--letter-date",
    help="The letter's own date (ISO or Thai), when its number names letters of several years.",
)
AT = typer.Option(
    None, "--at", help="When (ISO date or datetime; Asia/Bangkok unless a zone is given). Default: now."
)


def _moment(text: str | None) -> datetime | None:
    return moment_option(text, "--at")


def receive(
    letter: str = typer.Argument(..., help="The letter's number, as printed (any spelling)."),
    agency: str = typer.Option(..., "--agency", help="Receiving agency: id (province:21) or Thai name."),
    at: str | None = AT,
    number: str | None = typer.Option(
        None, "--number", help="The receipt number already stamped (default: next)."
    ),
    letter_date: str | None = LETTER_DATE,
    actor: str | None = ACTOR,
    on_behalf_of: str | None = ON_BEHALF_OF,
    database: str | None = DATABASE,
) -> None:
    """Register a letter in an agency's receipt register (ทะเบียนหนังสือรับ) and print its receipt number.

    Numbers run per registry and calendar year from 1, without gaps or duplicates.
    """
    moment = _moment(at)
    engine = open_record(database, create=False)
    try:
        with session_scope(engine) as session:
            r = registry.receive(
                session, letter, agency, moment, number, actor=actor, on_behalf_of=on_behalf_of,
                letter_date=day_option(letter_date, "--letter-date"),
            )  # fmt: skip
            name = registry.agency_name(session, r.registry)
    except registry.RegistryError as exc:
        raise fail(str(exc)) from None
    assert r.received_at is not None
    typer.echo(
        f"received {letter} at {name} ({r.registry}): receipt no. {r.number}/{r.year}, {r.received_at:%Y-%m-%d %H:%M}"
    )


def dispatch(
    letter: str = typer.Argument(..., help="The letter's number, as printed (any spelling)."),
    sender: str = typer.Option(..., "--from", help="Sending agency: id or Thai name."),
    to: list[str] = typer.Option(..., "--to", help="Receiving agency (repeat for each)."),
    at: str | None = AT,
    letter_date: str | None = LETTER_DATE,
    actor: str | None = ACTOR,
    on_behalf_of: str | None = ON_BEHALF_OF,
    database: str | None = DATABASE,
) -> None:
    """Record that an agency sent a letter on (ทะเบียนหนังสือส่ง): one handoff per recipient."""
    moment = _moment(at)
    engine = open_record(database, create=False)
    try:
        with session_scope(engine) as session:
            outcome = registry.dispatch(
                session, letter, sender, to, moment, actor=actor, on_behalf_of=on_behalf_of,
                letter_date=day_option(letter_date, "--letter-date"),
            )  # fmt: skip
            d = outcome.dispatch
            summary = (
                f"dispatched {letter} from {d.sender_id} to {', '.join(h.recipient_id for h in outcome.handoffs)}"
                f" on {d.sent_on.isoformat()} (circular {d.circular_id})"
                + ("" if outcome.changed else ": already recorded, nothing changed")
            )
    except registry.RegistryError as exc:
        raise fail(str(exc)) from None
    typer.echo(summary)
    for warning in outcome.warnings:
        typer.echo(f"warning: {warning}", err=True)


def register(app: typer.Typer) -> None:
    """Add `receive` and `dispatch` to the `saraban` command."""
    app.command("receive")(receive)
    app.command("dispatch")(dispatch)
