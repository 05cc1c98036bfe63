"""Alembic migrations of the record's schema; run through `models.db.init_db`."""
