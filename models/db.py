"""Engine and session factory for the record (SQLite by default, PostgreSQL via psycopg 3).

No engine exists until `get_engine` is called. The URL comes from `SARABAN_DATABASE_URL`, else
`sqlite:///<cwd>/.saraban/saraban.db`.

SQLite is set up for several writers (a CLI ingest while a flow records handoffs): WAL journal,
foreign keys on, a busy timeout, and every transaction opened with `BEGIN IMMEDIATE`, so a second
writer waits for the first instead of failing half-way with "database is locked" when it tries to
upgrade a read lock. pysqlite's own implicit BEGIN is switched off for that (the recipe from the
SQLAlchemy pysqlite docs, "Serializable isolation / Savepoints / Transactional DDL").

A database is migrated only when it is empty or already a record (its `alembic_version` names
one of our revisions): a database of another application is refused untouched (`RecordError`).
Read-only engines (`get_engine(url, readonly=True)`) never write: SQLite connections run with
`PRAGMA query_only` and deferred transactions (no write lock), PostgreSQL sessions are READ ONLY;
`check_record` then says whether the schema is current instead of migrating it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

ENV_URL = "SARABAN_DATABASE_URL"
SQLITE_BUSY_TIMEOUT_MS = 30_000
READONLY_OPTION = "saraban_readonly"

_ENGINES: dict[tuple[str, bool | str], Engine] = {}


class RecordError(RuntimeError):
    """The database is no record this version can use: missing, another application's, or older."""


def redact(url: str | sa.URL) -> str:
    """A database URL fit to print, log or store: the password replaced by `***`.

    >>> redact("postgresql+psycopg://clerk:s3cret@db.example/saraban")
    'postgresql+psycopg://clerk:***@db.example/saraban'
    """
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL at all: show nothing of it that could be a secret
        return "<unreadable database URL>"


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def url_from_env(name: str | None = None) -> str:
    """The database URL held by the environment variable `name` (default SARABAN_DATABASE_URL;
    unset, the `.saraban/` default of `database_url`).

    Flows take this name, not the URL: a flow's parameters are stored in Prefect's database and
    shown in its UI, and a URL may carry a password. The URL is read inside the process.

    >>> try:
    ...     url_from_env("postgresql://u:pw@h/db")
    ... except RecordError as exc:
    ...     print(str(exc)[:55])
    database 'postgresql://u:***@h/db': give the name of an
    """
    name = name or ENV_URL
    if not _ENV_NAME.fullmatch(name):
        raise RecordError(
            f"database {redact(name)!r}: give the name of an environment variable that holds the URL"
            f" (e.g. {ENV_URL}), not a URL: flow parameters are stored and shown by Prefect"
        )
    value = os.environ.get(name)
    if value:
        return value
    if name == ENV_URL:
        return database_url(None)
    raise RecordError(f"environment variable {name} is not set (it should hold the record's database URL)")


def sqlite_file(url: str | sa.URL) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL and in-memory databases)."""
    sa_url = sa.make_url(url)
    if sa_url.get_backend_name() != "sqlite" or sa_url.database in (None, "", ":memory:"):
        return None
    return Path(sa_url.database)


def require_existing(url: str | None = None) -> str:
    """The resolved URL, after checking that a SQLite record file exists (connecting would create
    an empty one: a typo in `--database` must not look like an empty record)."""
    resolved = database_url(url)
    path = sqlite_file(resolved)
    if path is not None and not path.is_file():
        raise RecordError(
            f"no record at {path}: no such file (a typo? only `saraban ingest` and `saraban demo` create a record)"
        )
    return resolved


def database_url(url: str | None = None) -> str:
    """The database URL to use: `url`, else `$SARABAN_DATABASE_URL`, else `.saraban/saraban.db` here."""
    if url:
        return url
    env = os.environ.get(ENV_URL)
    if env:
        return env
    return f"sqlite:///{Path.cwd() / '.saraban' / 'saraban.db'}"


def _sqlite_hooks(engine: Engine, *, readonly: bool = False, busy_ms: int = SQLITE_BUSY_TIMEOUT_MS) -> None:
    # The WAL journal is set once, by `init_db` (it persists in the file): setting it on every
    # connection wrote to files that are no record of ours before anyone had looked at them.
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy: no implicit BEGIN from pysqlite.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
        if readonly:
            cursor.execute("PRAGMA query_only = ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # Read-only scopes start deferred so that readers (the web app) never queue behind a writer.
        deferred = readonly or connection.get_execution_options().get(READONLY_OPTION, False)
        connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


def get_engine(url: str | None = None, *, readonly: bool = False, wait: bool = True) -> Engine:
    """The engine for `url` (see `database_url`), created once per URL and mode and cached.

    `readonly=True` gives an engine that cannot write (see the module's doc); on SQLite the file
    must exist (`require_existing`), and an in-memory database shares the writable engine.
    `wait=False` gives a writable engine whose transactions fail at once (OperationalError) instead
    of queueing behind another writer: for derived data a reader stores on the side, which must
    never make a read wait (SQLite: no busy timeout; PostgreSQL: a 100 ms lock timeout).
    """
    resolved = database_url(url)
    sa_url = sa.make_url(resolved)
    if readonly and sa_url.get_backend_name() == "sqlite" and sqlite_file(sa_url) is None:
        readonly = False  # a private in-memory database is only visible through the engine that made it
    wait = wait or readonly
    key = (resolved, readonly) if wait else (resolved, "nowait")
    engine = _ENGINES.get(key)
    if engine is not None:
        return engine
    if sa_url.get_backend_name() == "sqlite":
        path = sqlite_file(sa_url)
        if readonly:
            require_existing(resolved)
        elif path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        busy_ms = SQLITE_BUSY_TIMEOUT_MS if wait else 0
        engine = sa.create_engine(sa_url, connect_args={"timeout": busy_ms / 1000})
        _sqlite_hooks(engine, readonly=readonly, busy_ms=busy_ms)
    elif readonly:
        engine = sa.create_engine(sa_url, pool_pre_ping=True, execution_options={"postgresql_readonly": True})
    elif wait:
        engine = sa.create_engine(sa_url, pool_pre_ping=True)
    else:
        engine = sa.create_engine(sa_url, pool_pre_ping=True)

        @sa.event.listens_for(engine, "begin")
        def _no_queueing(connection: sa.Connection) -> None:
            # Per transaction: the URL's own options (a search_path, say) stay as they are.
            connection.exec_driver_sql("SET LOCAL lock_timeout = '100ms'")

    _ENGINES[key] = engine
    return engine


def dispose_engines() -> None:
    """Close every cached engine (tests, and processes that fork)."""
    for engine in _ENGINES.values():
        engine.dispose()
    _ENGINES.clear()


def _alembic_config() -> Any:
    from alembic.config import Config

    config = Config()
    # The package form keeps this working wherever the project is installed; the scripts live
    # with the service layer that owns the schema's evolution.
    config.set_main_option("script_location", "records:migrations")
    return config


@cache
def _revisions() -> tuple[frozenset[str], str]:
    """Our migrations' revision ids, and the head."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory.from_config(_alembic_config())
    head = scripts.get_current_head()
    assert head is not None
    return frozenset(s.revision for s in scripts.walk_revisions()), head


def schema_revision(connection: sa.Connection) -> str | None:
    """The record's schema revision; None for an empty database. `RecordError` for a database
    that holds tables but is no record of ours (another application's file, or its alembic)."""
    tables = [t for t in sa.inspect(connection).get_table_names() if not t.startswith("sqlite_")]
    if not tables:
        return None
    where = redact(connection.engine.url)
    if "alembic_version" not in tables:
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise RecordError(
            f"{where} is not a saraban record: it holds {len(tables)} other table(s) ({shown});"
            " refusing to touch it (give the URL of a record, or of an empty database)"
        )
    versions = [row[0] for row in connection.exec_driver_sql("SELECT version_num FROM alembic_version")]
    ours, _head = _revisions()
    if len(versions) != 1 or versions[0] not in ours:
        raise RecordError(
            f"{where} is not a saraban record: its alembic_version says {', '.join(versions) or 'nothing'},"
            " no revision of ours; refusing to touch it"
        )
    return str(versions[0])


def init_db(engine: Engine) -> None:
    """Bring the schema to the newest revision (`alembic upgrade head`); a no-op when current.

    Only an empty database or a record is migrated; anything else raises `RecordError` with
    nothing written."""
    from alembic import command

    config = _alembic_config()
    with engine.begin() as connection:
        schema_revision(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    if engine.dialect.name == "sqlite" and sqlite_file(engine.url) is not None:
        # Persistent in the file, and not allowed inside a transaction: on a raw connection.
        raw = engine.raw_connection()
        try:
            raw.cursor().execute("PRAGMA journal_mode = WAL")
        finally:
            raw.close()


def check_record(engine: Engine) -> None:
    """For read-only commands: the database must be a record at the newest schema revision.

    Reads only (no migration, no write lock); `RecordError` says what is wrong and what to do."""
    _ours, head = _revisions()
    with engine.connect() as connection:
        revision = schema_revision(connection)
    where = redact(engine.url)
    if revision is None:
        raise RecordError(f"{where} holds no record yet (an empty database): `saraban ingest` creates one")
    if revision != head:
        raise RecordError(
            f"{where} is a record of an older schema (revision {revision}; this version needs {head}):"
            " run a command that writes (`saraban ingest`, `saraban receive`) to migrate it first"
        )


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
