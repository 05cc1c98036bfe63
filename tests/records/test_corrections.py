"""Corrections the regulation allows: receipts voided (their number kept) or corrected, letters
corrected field by field, and re-readings that differ from the record reported, not swallowed."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from typer.testing import CliRunner

from cli.main import app
from models.db import session_scope
from models.tables import Event, LetterRow, Receipt
from models.thai import BANGKOK
from records import audit, progress, registry, service
from records.holdings import read_holdings
from records.ingest import ingest_file

pytest.importorskip("models.parser")

DEMO = Path(__file__).parents[2] / "demo" / "letters"
LETTER = "มท 0218/ว 3182"  # dated 2020-06-01
PHRAE_FILE = DEMO / "05_phrae_pr0023_1_w3026.txt"
PHRAE = "พร 0023.1/ว 3026"  # dated 2020-06-23, ด่วนที่สุด
SUBJECT = "การทบทวนแผนบริหารความพร้อมต่อสภาวะวิกฤตขององค์กรปกครองส่วนท้องถิ่น"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BANGKOK)


@pytest.fixture
def record(engine: Engine) -> Engine:
    ingest_file(DEMO / "03_moi_mt0218_w3182_with_opdc_nr1220_55.txt", engine)
    ingest_file(DEMO / "05_phrae_pr0023_1_w3026.txt", engine)
    return engine


def _env(engine: Engine) -> dict[str, str]:
    return {
        "SARABAN_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "SARABAN_ACTOR": "clerk",
    }


def _receive(engine: Engine, at: str, **kwargs: Any) -> Receipt:
    with session_scope(engine) as s:
        return registry.receive(s, LETTER, "province:21", _at(at), **kwargs)


def _verified(engine: Engine) -> audit.AuditReport:
    with session_scope(engine, readonly=True) as s:
        report = audit.verify(s)
    assert report.ok, str(report)
    return report


def _receipts_held(engine: Engine, agency: str) -> list[str | None]:
    with session_scope(engine, readonly=True) as s:
        circular = progress.find_circular(s, LETTER)
        return [r.number for r in read_holdings(s, circular.id).receipts.get(agency, ())]


# --- receipts -----------------------------------------------------------------------------------


def test_a_voided_receipt_keeps_its_number_and_no_longer_counts_as_received(record: Engine) -> None:
    _receive(record, "2020-06-02T13:30")
    assert _receipts_held(record, "province:21") == ["1515", "1"]  # the OCR-read stamp, then the clerk's
    with session_scope(record) as s:
        row = registry.find_receipt(s, "จังหวัดระยอง", "๑", 2020)
        registry.void_receipt(s, row, "registered twice", actor="clerk-a")
    with session_scope(record, readonly=True) as s:
        voided = s.exec(select(Receipt).where(Receipt.source == "clerk")).one()
        event = s.exec(select(Event).where(Event.kind == "receipt.voided")).one()
    assert (voided.number, voided.void_reason, voided.voided_by) == ("1", "registered twice", "clerk-a")
    assert voided.voided_at is not None and event.actor == "clerk-a" and event.subject == LETTER
    assert _receipts_held(record, "province:21") == ["1515"]
    # The series goes on after the voided number, which is never issued again.
    assert _receive(record, "2020-06-02T14:00").number == "2"
    with pytest.raises(registry.RegistryError, match="already taken"):
        _receive(record, "2020-06-02T14:10", number="1")
    with session_scope(record) as s, pytest.raises(registry.RegistryError, match="already voided"):
        registry.void_receipt(s, registry.find_receipt(s, "province:21", "1", 2020), "again")
    _verified(record)


def test_a_corrected_receipt_records_old_and_new_values_and_replays(record: Engine) -> None:
    _receive(record, "2020-06-02T13:30")
    _receive(record, "2020-06-02T13:40")
    with session_scope(record) as s:
        row = registry.find_receipt(s, "province:21", "2", 2020)
        done = registry.correct_receipt(
            s, row, "typed the wrong day", on=date(2020, 6, 3), at=time(9, 15), number="5", actor="clerk-b"
        )
    assert done.changes["number"] == ("2", "5") and done.changes["date"] == (
        date(2020, 6, 2),
        date(2020, 6, 3),
    )
    with session_scope(record, readonly=True) as s:
        fixed = s.exec(select(Receipt).where(Receipt.number == "5")).one()
        event = s.exec(select(Event).where(Event.kind == "receipt.corrected")).one()
    assert (fixed.date, fixed.time, fixed.received_at) == (
        date(2020, 6, 3),
        time(9, 15),
        _at("2020-06-03T09:15"),
    )
    assert '"reason":"typed the wrong day"' in event.payload and '"number":["2","5"]' in event.payload
    with session_scope(record) as s:
        row = registry.find_receipt(s, "province:21", "5", 2020)
        with pytest.raises(registry.RegistryError, match="already taken"):
            registry.correct_receipt(s, row, "x", number="1")
        with pytest.raises(registry.RegistryError, match="before the date of letter"):
            registry.correct_receipt(s, row, "x", on=date(2020, 5, 1))
        with pytest.raises(registry.RegistryError, match="needs a reason"):
            registry.correct_receipt(s, row, "  ", number="7")
    _verified(record)


def test_cli_receive_void_and_correct(record: Engine) -> None:
    runner, env = CliRunner(), _env(record)
    assert (
        runner.invoke(
            app, ["receive", LETTER, "--agency", "province:21", "--at", "2020-06-02T13:30"], env=env
        ).exit_code
        == 0
    )
    fixed = runner.invoke(
        app,
        ["receive", "correct", "1/2563", "--agency", "province:21", "--time", "9.05", "--reason", "typo"],
        env=env,
    )
    assert fixed.exit_code == 0, fixed.output
    assert "corrected receipt no. 1/2020 at province:21: time 13:30:00 -> 09:05:00" in fixed.stdout
    voided = runner.invoke(
        app, ["receive", "void", "1/2020", "--agency", "จังหวัดระยอง", "--reason", "wrong letter"], env=env
    )
    assert voided.exit_code == 0 and "voided receipt no. 1/2020 at province:21" in voided.stdout
    again = runner.invoke(
        app, ["receive", "void", "1/2020", "--agency", "province:21", "--reason", "x"], env=env
    )
    assert again.exit_code == 2 and "already voided" in again.stderr
    missing = runner.invoke(
        app, ["receive", "void", "9/2020", "--agency", "province:21", "--reason", "x"], env=env
    )
    assert missing.exit_code == 2 and "no receipt no. 9/2020" in missing.stderr
    shape = runner.invoke(
        app, ["receive", "void", "nine", "--agency", "province:21", "--reason", "x"], env=env
    )
    assert shape.exit_code == 2 and "expected NUMBER/YEAR" in shape.stderr
    assert "Traceback" not in again.output + missing.output + shape.output
    verify = runner.invoke(app, ["audit", "verify"], env=env)
    assert verify.exit_code == 0 and "state matches the log" in verify.stdout


def test_verify_names_a_void_undone_behind_the_applications_back(record: Engine) -> None:
    _receive(record, "2020-06-02T13:30")
    with session_scope(record) as s:
        registry.void_receipt(s, registry.find_receipt(s, "province:21", "1", 2020), "registered twice")
    with session_scope(record) as s:
        row = s.exec(select(Receipt).where(Receipt.source == "clerk")).one()
        row.voided_at = row.void_reason = row.voided_by = None
    with session_scope(record, readonly=True) as s:
        report = audit.verify(s)
    assert not report.ok and "void_reason is None in the database but 'registered twice' by the log" in str(
        report
    )


# --- letters ------------------------------------------------------------------------------------


def _reread(tmp_path: Path, name: str, *changes: tuple[str, str]) -> Path:
    """The Phrae letter as another file reads it, with `changes` (old line start, new)."""
    text = PHRAE_FILE.read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text
        text = text.replace(old, new, 1)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _phrae(engine: Engine) -> list[LetterRow]:
    with session_scope(engine, readonly=True) as s:
        return service.find_letters(s, PHRAE)


def test_a_reading_that_differs_is_reported_field_by_field_and_the_record_kept(
    record: Engine, tmp_path: Path
) -> None:
    other = _reread(tmp_path, "reread.txt", ("เรื่อง การทบทวนแผน", "เรื่อง การปรับปรุงแผน"), ("ด่วนที่สุด", "ด่วนมาก"))
    report = ingest_file(other, record)
    (outcome,) = report.letters
    assert outcome.status == "differs" and report.unchanged == 1
    assert f"subject {SUBJECT!r} -> {SUBJECT.replace('การทบทวนแผน', 'การปรับปรุงแผน')!r}" in str(outcome)
    assert "urgency 'ด่วนที่สุด' -> 'ด่วนมาก'" in str(outcome)
    assert "kept the recorded value, use `saraban letter correct` to change it" in str(outcome)
    (row,) = _phrae(record)
    assert (row.subject, row.urgency) == (SUBJECT, "ด่วนที่สุด")
    # The same reading again (the demo file itself) is still plainly unchanged.
    assert [o.status for o in ingest_file(PHRAE_FILE, record).letters] == ["unchanged"]
    out = CliRunner().invoke(app, ["ingest", str(other)], env=_env(record))
    assert (
        out.exit_code == 0
        and "differs: พร 0023.1/ว 3026 of 2020-06-23 (changed on re-reading: subject" in out.stdout
    )


def test_the_same_number_in_the_same_year_with_another_date_is_held_for_correction(
    record: Engine, tmp_path: Path
) -> None:
    other = _reread(tmp_path, "redated.txt", ("๒๓ มิถุนายน ๒๕๖๓", "๒๔ มิถุนายน ๒๕๖๓"))
    out = CliRunner().invoke(app, ["ingest", str(other)], env=_env(record))
    assert out.exit_code == 0, out.output
    assert (
        "0 added, 0 merged, 0 unchanged" in out.stdout
        and "held: พร 0023.1/ว 3026 of 2020-06-24" in out.stdout
    )
    assert "พร 0023.1/ว 3026 of 2020-06-24 not added: พร 0023.1/ว 3026 of 2020-06-23 is on file" in out.stderr
    command = "saraban letter correct 'พร 0023.1/ว 3026' --date 2020-06-23 --field date --value 2020-06-24"
    assert command in out.stderr
    assert [r.date for r in _phrae(record)] == [date(2020, 6, 23)]
    fixed = CliRunner().invoke(
        app,
        ["letter", "correct", PHRAE, "--date", "2020-06-23", "--field", "date", "--value", "๒๔ มิถุนายน ๒๕๖๓",
         "--reason", "the date was misread"],
        env=_env(record),
    )  # fmt: skip
    assert fixed.exit_code == 0 and "date 2020-06-23 -> 2020-06-24" in fixed.stdout
    assert [o.status for o in ingest_file(other, record).letters] == ["unchanged"]
    # The first reading now differs by its date: held, as the other was.
    assert [o.status for o in ingest_file(PHRAE_FILE, record).letters] == ["held"]
    assert [r.date for r in _phrae(record)] == [date(2020, 6, 24)]
    _verified(record)


def test_letter_correct_records_old_value_reason_and_actor_and_replays(record: Engine) -> None:
    runner, env = CliRunner(), _env(record)
    done = runner.invoke(
        app,
        ["letter", "correct", PHRAE, "--field", "subject", "--value", "แผนที่ถูกต้อง", "--reason", "OCR",
         "--actor", "officer-x"],
        env=env,
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    with session_scope(record, readonly=True) as s:
        event = s.exec(select(Event).where(Event.kind == "letter.corrected")).one()
    assert event.actor == "officer-x" and event.subject == PHRAE
    assert f'"old":"{SUBJECT}"' in event.payload and '"new":"แผนที่ถูกต้อง"' in event.payload
    assert '"reason":"OCR"' in event.payload
    assert _phrae(record)[0].subject == "แผนที่ถูกต้อง"
    shown = runner.invoke(app, ["letter", PHRAE], env=env)
    assert shown.exit_code == 0 and "subject: แผนที่ถูกต้อง" in shown.stdout
    for args, message in (
        (["--field", "signer_name", "--value", "x"], "field 'signer_name'"),
        (["--field", "urgency", "--value", "ช้า"], "urgency is one of"),
        (["--field", "subject", "--value", "แผนที่ถูกต้อง"], "already has subject"),
    ):
        bad = runner.invoke(app, ["letter", "correct", PHRAE, *args, "--reason", "r"], env=env)
        assert bad.exit_code == 2 and message in bad.stderr, bad.output
    with session_scope(record) as s, pytest.raises(service.CorrectionError, match="needs a reason"):
        service.correct_letter(s, PHRAE, "subject", "y", " ")
    verify = runner.invoke(app, ["audit", "verify"], env=env)
    assert verify.exit_code == 0 and "state matches the log" in verify.stdout
