"""The database fixtures of tests/records (SQLite, and PostgreSQL when a server is given)."""

from tests.records.conftest import db_url, engine  # noqa: F401  (fixtures, re-exported)
