"""The Alembic migrations create exactly the SQLModel metadata, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from models.db import get_engine, init_db
from models.tables import STATE_TABLES


def test_upgrade_head_matches_the_metadata(engine: Engine) -> None:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    assert diff == []


def test_every_contract_table_exists(engine: Engine) -> None:
    names = set(sa.inspect(engine).get_table_names())
    wanted = {t.__tablename__ for t in STATE_TABLES} | {"event", "ingest_log", "alembic_version"}  # type: ignore[attr-defined]
    assert wanted <= names
    assert {"agency", "letter", "letter_variant", "citation", "merge", "receipt", "deadline", "circular",
            "dispatch", "handoff", "event", "ingest_log"} <= names  # fmt: skip


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", "records:migrations")
    return config


def test_init_db_is_idempotent(db_url: str) -> None:
    engine = get_engine(db_url)
    init_db(engine)
    init_db(engine)
    with engine.connect() as conn:
        head = ScriptDirectory.from_config(_config()).get_current_head()
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one() == head


def test_clerk_receipt_numbers_are_unique_per_registry_and_year(engine: Engine) -> None:
    receipt = SQLModel.metadata.tables["receipt"]
    letter = SQLModel.metadata.tables["letter"]
    with engine.begin() as conn:
        conn.execute(sa.insert(letter).values(number="มท 1/1", date=sa.func.current_date(), circular=False,
                                              known_only_by_citation=False))  # fmt: skip
    base = {"letter_id": 1, "registry": "r", "number": "0001", "year": 2020, "source": "ocr"}
    with engine.begin() as conn:
        # OCR readings may repeat a number (two stamps read alike) ...
        conn.execute(sa.insert(receipt).values(**base, date=sa.func.current_date()))
        conn.execute(sa.insert(receipt).values(**{**base, "registry": "r2"}))
        conn.execute(sa.insert(receipt).values(**{**base, "source": "clerk", "registry": "r"}))
    # ... but a clerk's number is issued once per registry and year.
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.insert(receipt).values(**{**base, "source": "clerk", "letter_id": 1, "date": None})
            )
    except sa.exc.IntegrityError:
        pass
    else:
        raise AssertionError("duplicate clerk receipt number accepted")


def test_sqlite_connections_are_set_up_for_concurrent_writers(tmp_path: object) -> None:
    engine = get_engine(f"sqlite:///{tmp_path}/x.db")
    init_db(engine)  # sets the WAL journal, once (it persists in the file)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one() >= 1000


def _query_plan(engine: Engine, query: str) -> str:
    """The plan the database chooses (PostgreSQL told to avoid sequential scans, as on a big table)."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return " ".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {query}"))
        conn.exec_driver_sql("SET enable_seqscan = off")
        return " ".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {query}"))


def test_overdue_sweep_uses_the_status_due_index(engine: Engine) -> None:
    query = "SELECT id FROM handoff WHERE status = 'pending' AND due_forward < '2020-07-01'"
    assert "ix_handoff_status_due_forward" in _query_plan(engine, query)


def test_sqlite_readers_do_not_wait_for_a_writer(tmp_path: object, monkeypatch: Any) -> None:
    """With no busy timeout at all, any wait would be an immediate "database is locked"."""
    import models.db
    from models.db import session_scope

    monkeypatch.setattr(models.db, "SQLITE_BUSY_TIMEOUT_MS", 0)
    engine = get_engine(f"sqlite:///{tmp_path}/rw.db")
    init_db(engine)
    writer = engine.connect()
    writer.begin()  # BEGIN IMMEDIATE: holds the write lock
    try:
        with session_scope(engine, readonly=True) as s:
            assert s.exec(sa.text("SELECT count(*) FROM letter")).one() == (0,)
        # The control: a second writer does have to wait, and with no timeout it fails at once.
        with pytest.raises(sa.exc.OperationalError, match="locked"), session_scope(engine) as s:
            s.exec(sa.text("SELECT 1"))
    finally:
        writer.rollback()
        writer.close()
        engine.dispose()


def test_the_sweep_finds_unannounced_handoffs_from_the_partial_index(engine: Engine) -> None:
    from records.progress import sweep_queries

    query = sweep_queries(date(2020, 7, 1))["unflagged"].compile(
        engine, compile_kwargs={"literal_binds": True}
    )
    plan = _query_plan(engine, str(query))
    assert "ix_handoff_unflagged" in plan, plan
