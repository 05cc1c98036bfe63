"""`saraban letter correct`: correct a field of a letter on file, as the regulation allows (the old
value, the reason and who are kept in the event log).

`saraban letter NUMBER` (cli/records.py) stays what it was: `register` turns `letter` into a group
whose default subcommand is that command, so `letter correct ...` and `letter NUMBER` both work.
It must therefore run after cli.records's `register` (see COMMAND_MODULES in cli/main.py).
"""

from __future__ import annotations

import typer

from cli.clerk import DefaultGroup, gregorian_year
from cli.common import DATABASE, day_option, fail, open_record
from models.db import session_scope
from records.service import CORRECTABLE, CorrectionError, correct_letter


class _LetterGroup(DefaultGroup):
    DEFAULT = "show"


def correct(
    number: str = typer.Argument(..., help="The letter's number, as printed (any spelling)."),
    on: str | None = typer.Option(
        None, "--date", help="The letter's date as recorded, when the number repeats."
    ),
    year: str | None = typer.Option(
        None, "--year", help="The letter's year (2563 or 2020), when the number repeats."
    ),
    field: str = typer.Option(..., "--field", help=f"What to correct: {'|'.join(CORRECTABLE)}."),
    value: str = typer.Option(..., "--value", help="The right value (a date: ISO or Thai)."),
    reason: str = typer.Option(..., "--reason", help="Why (kept with the correction in the event log)."),
    actor: str | None = typer.Option(
        None, "--actor", envvar="SARABAN_ACTOR", help="Who corrects (default: the OS user)."
    ),
    database: str | None = DATABASE,
) -> None:
    """Correct one field of a letter on file; the old value, the reason and who go into the event log
    (`letter.corrected`). A later reading of the old value is reported by `ingest`, and the corrected
    value kept. E.g. `saraban letter correct 'มท 0218/ว 3182' --field subject --value '...' --reason
    'OCR misread'`."""
    day = day_option(on, "--date")
    gregorian = gregorian_year(year, "--year")
    if field == "date":
        parsed = day_option(value, "--value") if value.strip() else None
        value = parsed.isoformat() if parsed is not None else value
    try:
        with session_scope(open_record(database, create=False)) as session:
            done = correct_letter(session, number, field, value, reason, on=day, year=gregorian, actor=actor)
            label = f"{done.letter.number} of {done.letter.date.isoformat()}"
    except CorrectionError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"corrected {label}: {field} {done.old!s} -> {done.new!s}")


def register(app: typer.Typer) -> None:
    """Make `letter` a group: `letter NUMBER` as before (cli.records), and `letter correct`."""
    shown = next((c for c in app.registered_commands if c.name == "letter"), None)
    if shown is None or shown.callback is None:
        raise RuntimeError("cli.corrections must be registered after cli.records (its `letter` command)")
    app.registered_commands.remove(shown)
    letter_app = typer.Typer(
        cls=_LetterGroup,
        help="Everything known about one letter: `saraban letter NUMBER [--date D] [--year Y] [--json]`"
        " (see `saraban letter show --help`); `letter correct` corrects one of its fields.",
    )
    letter_app.command("show", hidden=True)(shown.callback)
    letter_app.command("correct")(correct)
    app.add_typer(letter_app, name="letter")
