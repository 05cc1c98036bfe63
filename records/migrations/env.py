"""Alembic environment: runs on the connection `models.db.init_db` hands over, else on `get_engine()`."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import models.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from models.db import get_engine

target_metadata = SQLModel.metadata


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        compare_type=True,
        # SQLite cannot ALTER most things; batch mode copies tables instead (later migrations).
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    with get_engine(config.get_main_option("sqlalchemy.url") or None).begin() as conn:
        _run(conn)


def _inside_alembic() -> bool:
    try:
        context.config  # noqa: B018  (a proxy that only exists while Alembic runs this script)
    except AttributeError:  # imported some other way (doctest collection): nothing to run
        return False
    return True


if _inside_alembic():
    if context.is_offline_mode():
        raise SystemExit("offline (--sql) migrations are not supported; run against a database")
    run_migrations_online()
