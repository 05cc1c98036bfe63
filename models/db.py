"""Engine and session factory for the record (SQLite by default, PostgreSQL via psycopg 3).

No engine exists until `get_engine` is called. The URL comes from `SARABAN_DATABASE_URL`, else
`sqlite:///<cwd>/.saraban/saraban.db`.

SQLite is set up for several writers (a CLI ingest while a flow records handoffs): WAL journal,
foreign keys on, a busy timeout, and every transaction opened with `BEGIN IMMEDIATE`, so a second
writer waits for the first instead of failing half-way with "database is locked" when it tries to
upgrade a read lock. pysqlite's own implicit BEGIN is switched off for that (the recipe from the
SQLAlchemy pysqlite docs, "Serializable isolation / Savepoints / Transactional DDL").
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

ENV_URL = "SARABAN_DATABASE_URL"
SQLITE_BUSY_TIMEOUT_MS = 30_000
READONLY_OPTION = "saraban_readonly"

_ENGINES: dict[str, Engine] = {}


def database_url(url: str | None = None) -> str:
    """The database URL to use: `url`, else `$SARABAN_DATABASE_URL`, else `.saraban/saraban.db` here."""
    if url:
        return url
    env = os.environ.get(ENV_URL)
    if env:
        return env
    return f"sqlite:///{Path.cwd() / '.saraban' / 'saraban.db'}"


def _sqlite_hooks(engine: Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy: no implicit BEGIN from pysqlite.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # Read-only scopes start deferred so that readers (the web app) never queue behind a writer.
        readonly = connection.get_execution_options().get(READONLY_OPTION, False)
        connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def get_engine(url: str | None = None) -> Engine:
    """The engine for `url` (see `database_url`), created once per URL and cached."""
    resolved = database_url(url)
    engine = _ENGINES.get(resolved)
    if engine is not None:
        return engine
    sa_url = sa.make_url(resolved)
    if sa_url.get_backend_name() == "sqlite":
        if sa_url.database and sa_url.database != ":memory:":
            Path(sa_url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(sa_url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        _sqlite_hooks(engine)
    else:
        engine = sa.create_engine(sa_url, pool_pre_ping=True)
    _ENGINES[resolved] = engine
    return engine


def dispose_engines() -> None:
    """Close every cached engine (tests, and processes that fork)."""
    for engine in _ENGINES.values():
        engine.dispose()
    _ENGINES.clear()


def init_db(engine: Engine) -> None:
    """Bring the schema to the newest revision (`alembic upgrade head`); a no-op when current."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    # The package form keeps this working wherever the project is installed; the scripts live
    # with the service layer that owns the schema's evolution.
    config.set_main_option("script_location", "records:migrations")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@contextmanager
def session_scope(engine: Engine, *, readonly: bool = False) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back if it raises.

    `readonly=True` is for scopes that only read: on SQLite they open with a deferred BEGIN
    instead of BEGIN IMMEDIATE, so they do not wait for (or hold up) writers.

    >>> from sqlmodel import text
    >>> with session_scope(get_engine("sqlite://")) as s:
    ...     s.exec(text("select 1")).one()
    (1,)
    """
    bind = engine.execution_options(**{READONLY_OPTION: True}) if readonly else engine
    session = Session(bind, expire_on_commit=False)
    try:
        with session.begin():
            yield session
    finally:
        session.close()
