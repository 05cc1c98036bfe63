"""Hardening: the record stays right under careless and hostile use (typos, odd text, wrong files)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from cli.main import app
from models.db import session_scope
from models.thai import BANGKOK
from records import registry
from records.ingest import ingest_file

DEMO = Path(__file__).parents[2] / "demo" / "letters"
LETTER = "มท 0218/ว 3182"  # dated 2020-06-01

runner = CliRunner()


@pytest.fixture
def record(engine: Engine) -> Engine:
    ingest_file(DEMO / "03_moi_mt0218_w3182_with_opdc_nr1220_55.txt", engine)
    return engine


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BANGKOK)


# --- 1. the receipt register -------------------------------------------------------------------


@pytest.mark.parametrize("typo", ["2147483648", "1" * 20, "1000000", "0", "-3", "12a"])
def test_receipt_number_out_of_the_registers_range_is_refused(record: Engine, db_url: str, typo: str) -> None:
    result = runner.invoke(
        app,
        ["receive", LETTER, "--agency", "province:21", "--at", "2020-06-02T10:00", "--number", typo,
         "--database", db_url],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "from 1 to 999999" in result.output
    # Nothing was written, and the series goes on at 1.
    with session_scope(record) as s:
        assert registry.receive(s, LETTER, "province:21", _at("2020-06-02T10:05")).number == "1"


@pytest.mark.parametrize("stored", ["2147483648", "9" * 20, "1000000", "12a", "0000000000005"])
def test_a_stored_out_of_range_number_does_not_break_the_next(record: Engine, stored: str) -> None:
    # A row written before numbers were bounded (or behind the application's back).
    with session_scope(record) as s:
        first = registry.receive(s, LETTER, "province:21", _at("2020-06-02T10:00"), "7")
        s.execute(sa.update(type(first)).where(type(first).id == first.id).values(number=stored))
    with session_scope(record) as s:
        assert registry.receive(s, LETTER, "province:21", _at("2020-06-02T10:05")).number == "1"
    with session_scope(record) as s:
        assert registry.receive(s, LETTER, "province:21", _at("2020-06-02T10:06")).number == "2"
