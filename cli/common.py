"""What every command shares: the database option, opening the record, and failing cleanly."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import typer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from models.db import RecordError, check_record, get_engine, init_db, require_existing, session_scope
from models.thai import ThaiDateError, parse_thai_date

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


def day_option(text: str | None, what: str) -> date | None:
    """A day given on the command line, ISO (2020-06-30) or Thai (๓๐ มิ.ย. ๒๕๖๓)."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        try:
            return parse_thai_date(text)
        except ThaiDateError as exc:
            raise fail(f"{what}: {exc}") from None


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
