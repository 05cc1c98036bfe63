"""Database fixtures: every records test runs on SQLite, and on PostgreSQL when
SARABAN_TEST_POSTGRES_URL names a server (`bash scripts/with-postgres.sh ...` starts one)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

import models.tables  # noqa: F401  (registers the tables)
from models.db import get_engine, init_db

PG_ENV = "SARABAN_TEST_POSTGRES_URL"


def fresh_database(kind: str, tmp: Path) -> Iterator[str]:
    """Yield the URL of an empty database: a SQLite file under `tmp`, or a fresh PostgreSQL schema
    (dropped afterwards) on the server SARABAN_TEST_POSTGRES_URL names; skips when there is none."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'record.db'}"
        return
    base = os.environ.get(PG_ENV)
    if not base:
        if os.environ.get("SARABAN_REQUIRE_POSTGRES"):
            # `make test` sets this: there, a PostgreSQL test that cannot run is a failure, not a skip.
            pytest.fail(f"{PG_ENV} not set, but SARABAN_REQUIRE_POSTGRES is: no PostgreSQL server started")
        pytest.skip(f"{PG_ENV} not set")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = sa.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        get_engine(url.render_as_string(hide_password=False)).dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database: a fresh SQLite file, or a fresh PostgreSQL schema."""
    yield from fresh_database(request.param, tmp_path)


@pytest.fixture
def engine(db_url: str) -> Engine:
    """An engine on an empty database migrated to the newest schema."""
    eng = get_engine(db_url)
    init_db(eng)
    return eng


def dump_tables(
    engine: Engine, *, skip: tuple[str, ...] = ("ingest_log",)
) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (sorted), for byte-for-byte comparisons of the record."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            if table.name in skip:
                continue
            rows = conn.execute(sa.select(table)).all()
            out[table.name] = sorted(tuple(repr(v) for v in row) for row in rows)
    return out
