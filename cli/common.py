"""What every command shares: the database option, opening the record, and failing cleanly."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import TypeVar

import typer
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from models.db import RecordError, check_record, get_engine, init_db, require_existing, session_scope
from models.thai import BANGKOK, ThaiDateError, parse_thai_date
from routing.calendar import SUPPORTED_YEARS

# No telemetry from any run the product starts (Prefect reads these when it is imported, which
# every command does after this module). An operator can still set them explicitly.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

DATABASE = typer.Option(None, "--database", envvar="SARABAN_DATABASE_URL", help="Database URL.")


def open_record(database: str | None, *, create: bool = True) -> Engine:
    """The engine of the record, its schema brought up to date (a no-op when it is).

    Only an empty database or a record is migrated: another application's database fails
    (status 2) with nothing written. With `create=False` (commands that need letters already on
    record: receive, dispatch, run, sweep) a missing SQLite file fails instead of being created.
    """
    try:
        engine = get_engine(database if create else require_existing(database))
        init_db(engine)
    except RecordError as exc:
        raise fail(str(exc)) from None
    except DBAPIError as exc:  # `database is locked` past the busy timeout, disk full ...
        reason = str(exc.orig or exc).strip().splitlines()[0]
        raise fail(f"cannot open the record: {reason}; nothing was written") from None
    return engine


def open_readonly(database: str | None) -> Engine:
    """A read-only engine on an existing record at the newest schema (status, overdue, audit ...).

    Never creates, migrates or takes the write lock: a missing file, an empty or foreign database
    and an older schema each fail (status 2) saying so."""
    try:
        engine = get_engine(database, readonly=True)
        check_record(engine)
    except RecordError as exc:
        raise fail(str(exc)) from None
    return engine


def fail(message: str) -> typer.Exit:
    """Say what is wrong on stderr and return the exit (status 2) for the caller to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code=2)


_T = TypeVar("_T", date, datetime)
_ISO_YEAR = re.compile(r"\s*(\d{4})-")
# A four-digit year in this range in an ISO-shaped argument is Buddhist era (2563 = 2020 CE).
BE_YEARS = range(2400, 2701)


def _iso(text: str, what: str, parse: Callable[[str], _T]) -> _T:
    """`parse` an ISO-shaped argument, its year read as Buddhist era when it is one (with a note)."""
    shown = text
    m = _ISO_YEAR.match(text)
    if m and int(m[1]) in BE_YEARS:
        text = f"{text[: m.start(1)]}{int(m[1]) - 543}{text[m.end(1) :]}"
        typer.echo(f"note: {what} {shown}: year {m[1]} read as Buddhist era, {int(m[1]) - 543} CE", err=True)
    return parse(text.strip())


def _in_calendar(value: _T, what: str, text: str) -> _T:
    if value.year not in SUPPORTED_YEARS:
        raise fail(
            f"{what} {text!r}: year {value.year} is outside the working-day calendar"
            f" ({SUPPORTED_YEARS.start}-{SUPPORTED_YEARS.stop - 1} CE)"
        )
    return value


def day_option(text: str | None, what: str) -> date | None:
    """A day given on the command line, ISO (2020-06-30, or 2563-06-30 in Buddhist era) or Thai
    (๓๐ มิ.ย. ๒๕๖๓), within the years the working-day calendar covers."""
    if text is None:
        return None
    try:
        day = _iso(text, what, date.fromisoformat)
    except ValueError:
        try:
            day = parse_thai_date(text)
        except ThaiDateError as exc:
            raise fail(f"{what}: {exc}") from None
    return _in_calendar(day, what, text)


def moment_option(text: str | None, what: str) -> datetime | None:
    """A moment given on the command line: an ISO date or datetime (Asia/Bangkok unless a zone is
    given; a Buddhist-era year is converted, with a note), within the calendar's years."""
    if text is None:
        return None
    try:
        value = _iso(text, what, datetime.fromisoformat)
    except ValueError as exc:
        raise fail(f"{what} {text!r}: not an ISO date or datetime ({exc})") from None
    value = _in_calendar(value, what, text)
    return (value if value.tzinfo is not None else value.replace(tzinfo=BANGKOK)).astimezone(BANGKOK)


@contextmanager
def reading(database: str | None) -> Iterator[Session]:
    """One read-only transaction on the record; a circular or agency the record does not know
    fails cleanly."""
    from records.progress import ProgressError

    try:
        with session_scope(open_readonly(database), readonly=True) as session:
            yield session
    except ProgressError as exc:
        raise fail(str(exc)) from None
