"""`saraban receive` and `saraban dispatch`: the clerk registers what the OCR never saw, and
`saraban receive void/correct` corrects the receipt register as the regulation allows."""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any

import typer

# typer vendors click (typer._click): its groups parse with that Context, not click.Context.
from typer._click.core import Context as TyperContext
from typer.core import TyperGroup

from cli.common import DATABASE, day_option, fail, moment_option, open_record
from models.db import session_scope
from models.thai import BE_OFFSET, MAX_CE_YEAR, MIN_CE_YEAR, to_arabic_digits
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


class DefaultGroup(TyperGroup):
    """A command that also has subcommands: `saraban receive LETTER ...` runs the hidden default
    subcommand (`DEFAULT`), `saraban receive void ...` the named one. Anything that is not a
    subcommand's name (a letter number, an option) goes to the default."""

    DEFAULT = "register"

    def parse_args(self, ctx: TyperContext, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ctx.help_option_names):
            args = [self.DEFAULT, *args]
        return super().parse_args(ctx, args)


_RECEIPT = re.compile(r"\s*([0-9]+)\s*/\s*([0-9]{4})\s*")


def _receipt_key(text: str) -> tuple[str, int]:
    """`12/2020` (what `saraban receive` prints), Thai digits and a Buddhist-era year accepted."""
    match = _RECEIPT.fullmatch(to_arabic_digits(text))
    if match is None:
        raise fail(f"receipt {text!r}: expected NUMBER/YEAR as `saraban receive` prints it, e.g. 12/2020")
    year = gregorian_year(match[2], f"receipt {text!r}")
    assert year is not None
    return match[1], year


def gregorian_year(text: str | None, what: str) -> int | None:
    """A year given on the command line: Buddhist era (2563, ๒๕๖๓) or Gregorian (2020)."""
    if text is None:
        return None
    digits = to_arabic_digits(text.strip())
    year = int(digits) if digits.isascii() and digits.isdigit() else 0
    if MIN_CE_YEAR + BE_OFFSET <= year <= MAX_CE_YEAR + BE_OFFSET:
        return year - BE_OFFSET
    if MIN_CE_YEAR <= year <= MAX_CE_YEAR:
        return year
    raise fail(f"{what}: {text!r} is neither a Buddhist-era year (2563) nor a plausible Gregorian one (2020)")


def _time(text: str | None) -> time | None:
    if text is None:
        return None
    match = re.fullmatch(r"([0-9]{1,2})[:.]([0-9]{2})", to_arabic_digits(text.strip()))
    try:
        return time(int(match[1]), int(match[2])) if match else time.fromisoformat("invalid")
    except ValueError:
        raise fail(f"--time {text!r}: expected a time such as 13:30 (or 13.30)") from None


RECEIPT = typer.Argument(
    ...,
    metavar="RECEIPT",
    help="The receipt as `saraban receive` printed it: NUMBER/YEAR (12/2020 or 12/2563).",
)
RECEIPT_AGENCY = typer.Option(..., "--agency", help="The agency whose register holds it: id or Thai name.")
RECEIPT_LETTER = typer.Option(
    None, "--letter", help="The letter's number, when OCR-read stamps of the agency share the receipt number."
)
REASON = typer.Option(..., "--reason", help="Why (kept with the correction in the event log).")


def _describe(value: Any) -> str:
    return "-" if value is None else str(value)


def void(
    receipt: str = RECEIPT,
    agency: str = RECEIPT_AGENCY,
    reason: str = REASON,
    letter: str | None = RECEIPT_LETTER,
    actor: str | None = ACTOR,
    on_behalf_of: str | None = ON_BEHALF_OF,
    database: str | None = DATABASE,
) -> None:
    """Void a receipt (ยกเลิก): it stays in the register with its number, which is never issued again,
    marked void with the reason, who and when; it no longer counts as the agency having received
    the letter (status, overdue). E.g. `saraban receive void 12/2020 --agency province:54 --reason
    "registered twice"`."""
    number, year = _receipt_key(receipt)
    engine = open_record(database, create=False)
    try:
        with session_scope(engine) as session:
            row = registry.find_receipt(session, agency, number, year, letter=letter)
            registry.void_receipt(session, row, reason, actor=actor, on_behalf_of=on_behalf_of)
            label = f"receipt no. {row.number}/{row.year} at {row.registry}"
            assert row.voided_at is not None
            stamp = f"{row.voided_at:%Y-%m-%d %H:%M} by {row.voided_by}"
    except registry.RegistryError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"voided {label} on {stamp}: {reason.strip()} (the number stays taken)")


def correct(
    receipt: str = RECEIPT,
    agency: str = RECEIPT_AGENCY,
    reason: str = REASON,
    on: str | None = typer.Option(None, "--date", help="The right date (ISO or Thai)."),
    at: str | None = typer.Option(None, "--time", help="The right time, e.g. 13:30."),
    number: str | None = typer.Option(None, "--number", help="The right receipt number."),
    letter: str | None = RECEIPT_LETTER,
    actor: str | None = ACTOR,
    on_behalf_of: str | None = ON_BEHALF_OF,
    database: str | None = DATABASE,
) -> None:
    """Correct a receipt's date, time or number in place; the old and new values, the reason and who
    are kept in the event log. A number must be free in its series (voided numbers stay taken).
    E.g. `saraban receive correct 12/2020 --agency province:54 --date 2020-06-03 --reason "typo"`."""
    key, year = _receipt_key(receipt)
    day, moment = day_option(on, "--date"), _time(at)
    engine = open_record(database, create=False)
    try:
        with session_scope(engine) as session:
            row = registry.find_receipt(session, agency, key, year, letter=letter)
            label = f"receipt no. {row.number}/{row.year} at {row.registry}"
            done = registry.correct_receipt(
                session, row, reason, on=day, at=moment, number=number, actor=actor, on_behalf_of=on_behalf_of
            )
    except registry.RegistryError as exc:
        raise fail(str(exc)) from None
    changes = ", ".join(f"{k} {_describe(old)} -> {_describe(new)}" for k, (old, new) in done.changes.items())
    typer.echo(f"corrected {label}: {changes}")


receive_app = typer.Typer(
    cls=DefaultGroup,
    help="Register a letter in an agency's receipt register: `saraban receive LETTER --agency A`"
    " (see `saraban receive register --help`); `receive void` and `receive correct` correct the"
    " register as the regulation allows.",
)


def register(app: typer.Typer) -> None:
    """Add `receive` (with `void` and `correct`) and `dispatch` to the `saraban` command."""
    receive_app.command(DefaultGroup.DEFAULT, hidden=True)(receive)
    receive_app.command("void")(void)
    receive_app.command("correct")(correct)
    app.add_typer(receive_app, name="receive")
    app.command("dispatch")(dispatch)
