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


# --- 4. wrong database, green answer -----------------------------------------------------------


def _foreign(db_url: str) -> Engine:
    """Another application's database: one table of its own, one row."""
    other = sa.create_engine(db_url)
    with other.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total INTEGER)")
        conn.exec_driver_sql("INSERT INTO invoices VALUES (1, 100)")
    return other


def _tables(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(sa.inspect(conn).get_table_names())


def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "command",
    [
        ["status"],
        ["overdue", "--as-of", "2020-07-01"],
        ["audit", "verify"],
        ["audit", "head"],
        ["audit", "log"],
        ["receive", LETTER, "--agency", "province:21"],
        ["dispatch", LETTER, "--from", "province:21", "--to", "district:2101"],
        ["sweep", "--at", "2020-07-01T10:00"],
    ],
)
def test_a_foreign_database_is_refused_untouched(db_url: str, tmp_path: Path, command: list[str]) -> None:
    other = _foreign(db_url)
    path = tmp_path / "record.db"
    before = _sha(path) if path.exists() else None
    result = runner.invoke(app, [*command, "--database", db_url])
    assert result.exit_code == 2, result.output
    assert "is not a saraban record" in result.output and "invoices" in result.output
    assert "Traceback" not in result.output
    assert _tables(other) == ["invoices"]
    if before is not None:
        assert _sha(path) == before
    other.dispose()


def test_replay_into_a_foreign_database_is_refused(record: Engine, tmp_path: Path, db_url: str) -> None:
    target = tmp_path / "other.db"
    other = _foreign(f"sqlite:///{target}")
    before = _sha(target)
    result = runner.invoke(app, ["audit", "replay", "--into", f"sqlite:///{target}", "--database", db_url])
    assert result.exit_code == 2, result.output
    assert "is not a saraban record" in result.output
    assert _sha(target) == before and _tables(other) == ["invoices"]


@pytest.mark.parametrize(
    "command",
    [["status"], ["audit", "verify"], ["audit", "head"], ["receive", LETTER, "--agency", "province:21"],
     ["sweep"], ["run", "x"], ["graph", LETTER]],
)  # fmt: skip
def test_a_missing_record_file_is_named_not_created(tmp_path: Path, command: list[str]) -> None:
    typo = tmp_path / "sarabn.db"
    result = runner.invoke(app, [*command, "--database", f"sqlite:///{typo}"])
    assert result.exit_code == 2, result.output
    assert f"no record at {typo}: no such file" in result.output
    assert "state matches" not in result.output
    assert not typo.exists()


def test_read_only_commands_on_an_empty_or_old_database_say_so(tmp_path: Path) -> None:
    from alembic import command

    from models.db import _alembic_config, get_engine

    empty = tmp_path / "empty.db"
    sa.create_engine(f"sqlite:///{empty}").connect().close()
    result = runner.invoke(app, ["audit", "verify", "--database", f"sqlite:///{empty}"])
    assert result.exit_code == 2 and "holds no record yet" in result.output
    old = tmp_path / "old.db"
    engine = get_engine(f"sqlite:///{old}")
    config = _alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0003")
    result = runner.invoke(app, ["status", "--database", f"sqlite:///{old}"])
    assert result.exit_code == 2 and "older schema (revision 0003" in result.output
    with engine.connect() as conn:  # not migrated
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar_one() == "0003"


def test_read_only_commands_do_not_wait_for_a_writer(record: Engine, db_url: str) -> None:
    import time

    if record.dialect.name != "sqlite":
        pytest.skip("the write lock is SQLite's")
    with record.begin() as conn:  # BEGIN IMMEDIATE: a writer holds the lock
        conn.exec_driver_sql("INSERT INTO ingest_log (file, sha256, at, added, merged, unchanged) "
                             "SELECT file, sha256, at, added, merged, unchanged FROM ingest_log LIMIT 1")  # fmt: skip
        started = time.perf_counter()
        for command in (["audit", "head"], ["status"], ["audit", "verify"]):
            result = runner.invoke(app, [*command, "--database", db_url])
            assert result.exit_code == 0, result.output
        assert time.perf_counter() - started < 20  # the busy timeout is 30 s


# --- 3. the calendar covers every year `holidays` knows ------------------------------------------


def test_the_calendar_covers_any_supported_year_lazily_and_says_so_beyond() -> None:
    from datetime import date

    from routing.calendar import SUPPORTED_YEARS, CalendarError, WorkingCalendar, load_calendar

    cal = load_calendar()
    fixed = WorkingCalendar(range(2015, 2034))
    assert cal.is_working_day(date(2031, 1, 6)) and not cal.is_working_day(date(2031, 1, 1))
    assert cal.add_working_days(date(2017, 12, 28), 3) == fixed.add_working_days(date(2017, 12, 28), 3)
    for a, b in [(date(2016, 3, 1), date(2032, 8, 9)), (date(2030, 12, 20), date(2031, 1, 20))]:
        assert cal.working_days_between(a, b) == fixed.working_days_between(a, b)
    with pytest.raises(CalendarError, match=rf"outside the calendar \({SUPPORTED_YEARS.start}-"):
        cal.index(date(SUPPORTED_YEARS.stop, 1, 5))


def test_overdue_and_the_dashboard_beyond_2030(record: Engine, db_url: str) -> None:
    from fastapi.testclient import TestClient

    from app.main import create_app

    result = runner.invoke(app, ["overdue", "--as-of", "2031-01-05", "--database", db_url])
    assert result.exit_code == 0, result.output
    with TestClient(create_app(db_url)) as client:
        assert client.get("/", params={"as_of": "2031-01-01"}).status_code == 200
        circulars = client.get("/healthz").json()
        assert circulars["status"] == "ok"


# --- 3 and 5. odd text and loose dates ---------------------------------------------------------


def test_markup_in_an_actor_or_subject_prints_as_itself(record: Engine, db_url: str) -> None:
    actor = "clerk [/x] [bold]"
    got = runner.invoke(
        app,
        ["receive", LETTER, "--agency", "province:21", "--at", "2020-06-02T10:00", "--actor", actor,
         "--database", db_url],
    )  # fmt: skip
    assert got.exit_code == 0, got.output
    shown = runner.invoke(app, ["audit", "log", "--database", db_url])
    assert shown.exit_code == 0, shown.output
    assert "[/x]" in shown.output and "Traceback" not in shown.output


@pytest.mark.parametrize(
    "at", ["9999-12-31T23:00+00:00", "0001-01-01T00:00+07:00", "2201-01-05", "1900-06-05"]
)
def test_a_moment_outside_the_calendar_is_refused(record: Engine, db_url: str, at: str) -> None:
    for command in (["receive", LETTER, "--agency", "province:21", "--at", at], ["sweep", "--at", at]):
        result = runner.invoke(app, [*command, "--database", db_url])
        assert result.exit_code == 2, result.output
        assert "outside the working-day calendar (1914-2100 CE)" in result.output
        assert "Traceback" not in result.output


def test_a_buddhist_era_year_is_converted_with_a_note(record: Engine, db_url: str) -> None:
    got = runner.invoke(
        app, ["receive", LETTER, "--agency", "province:21", "--at", "2563-06-05T10:00", "--database", db_url]
    )
    assert got.exit_code == 0, got.output
    assert "2020-06-05 10:00" in got.stdout
    assert "year 2563 read as Buddhist era, 2020 CE" in got.stderr
    over = runner.invoke(app, ["overdue", "--as-of", "2563-07-01", "--json", "--database", db_url])
    assert over.exit_code == 0 and "Buddhist era" in over.stderr
