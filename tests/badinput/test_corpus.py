"""The bad-input corpus: each input gets a clear error (or a flagged warning), never a traceback,
and a refused input leaves the database exactly as it was (every row of every table, event log
and ingest log included; on SQLite the database files' bytes too)."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from typer.testing import CliRunner

from cli.main import app
from models.db import get_engine, init_db, session_scope
from models.tables import Event, Receipt
from records import audit
from records.ingest import ingest_file
from routing.plans import PlanCycleError, instantiate_plan, load_plan
from tests.records.conftest import dump_tables

pytest.importorskip("models.parser")

ROOT = Path(__file__).parents[2]
BAD = ROOT / "tests" / "data" / "bad"
DEMO = sorted((ROOT / "demo" / "letters").glob("*.txt"))
LETTER = "มท 0218/ว 3182"  # 1 June 2020
PHRAE = "พร 0023.1/ว 3026"  # 23 June 2020, due 30 June 2020

# input -> (command line, exit status, pattern the user sees on stderr)
REFUSED: dict[str, tuple[list[str], int, str]] = {
    "empty file": (["ingest", str(BAD / "empty.txt")], 2, r"empty\.txt:1: file: empty file"),
    "broken image": (["ingest", str(BAD / "binary.bin")], 2, r"binary\.bin:1: file: not a readable image"),
    "binary file": (["ingest", str(BAD / "nul.bin")], 2, r"nul\.bin:3: file: binary file \(NUL byte\)"),
    "missing file": (
        ["ingest", "/nonexistent/letter.txt"], 2, r"/nonexistent/letter\.txt:1: file: cannot read file: No such",
    ),
    "unknown agency (receive)": (
        ["receive", LETTER, "--agency", "province:99", "--at", "2020-06-02T10:00"], 2, r"unknown agency 'province:99'",
    ),
    "unknown agency (dispatch)": (
        ["dispatch", PHRAE, "--from", "จังหวัดแพร่", "--to", "อำเภอที่ไม่มี", "--at", "2020-06-24"], 2,
        r"unknown agency 'อำเภอที่ไม่มี'",
    ),
    "unknown letter": (["receive", "มท 9999/ว 1", "--agency", "province:21"], 2, r"no letter 'มท 9999/ว 1' on record"),
    "receipt before the letter's date": (
        ["receive", LETTER, "--agency", "จังหวัดระยอง", "--at", "2020-05-30T09:00"], 2,
        r"receipt date 2020-05-30 is before the date of letter มท 0218/ว 3182 \(2020-06-01\)",
    ),
    "dispatch before the letter's date": (
        ["dispatch", PHRAE, "--from", "province:54", "--to", "district:5401", "--at", "2020-06-01"], 2,
        r"dispatch date 2020-06-01 is before the date of letter",
    ),
    "impossible --at date": (
        ["receive", LETTER, "--agency", "province:21", "--at", "2020-02-31"], 2, r"--at '2020-02-31': not an ISO date",
    ),
    "receipt number already taken": (
        ["receive", LETTER, "--agency", "province:21", "--number", "๑", "--at", "2020-06-03"], 2,
        r"receipt number 1 of 2020 is already taken at province:21",
    ),
    "receipt number not a number": (
        ["receive", LETTER, "--agency", "province:21", "--number", "1/2563"], 2, r"expected a positive whole number",
    ),
    "unknown letter in audit log": (["audit", "log", "--letter", "นร 0000/1"], 2, r"no letter 'นร 0000/1' on record"),
}  # fmt: skip


# Letters with one field that cannot be read: ingest keeps each on the review list (exit 0), with
# the field and why on stderr, and adds no letter for it. input -> (file, pattern on stderr)
REVIEWED: dict[str, tuple[str, str]] = {
    "no letter in the file": ("no_letter.txt", r"no_letter\.txt:1: number: no 'ที่' line"),
    "letter cut in half": ("cut_in_half.txt", r"cut_in_half\.txt:\d+: date: no date line"),
    "31 February": ("feb31.txt", r"feb31\.txt:\d+: date: no such date: '๓๑ กุมภาพันธ์"),
    "BE year in the wrong century": ("year1563.txt", r"year1563\.txt:\d+: date: year ๑๕๖๓ is neither a Buddhist-era"),
    "number without an agency code": ("no_agency_code.txt", r"no_agency_code\.txt:\d+: number: not a letter number"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(REVIEWED))
def test_unreadable_field_goes_to_review_and_adds_no_letter(recorded: Engine, case: str) -> None:
    name, pattern = REVIEWED[case]
    env = {"SARABAN_DATABASE_URL": recorded.url.render_as_string(hide_password=False)}
    letters = runner_json(["chain", "--json"], env)["letters"]
    result = CliRunner().invoke(app, ["ingest", str(BAD / name)], env=env)
    assert result.exit_code == 0, result.output
    assert re.search(pattern, result.output), result.output
    assert "Traceback" not in result.output
    assert runner_json(["chain", "--json"], env)["letters"] == letters
    [entry] = [e for e in runner_json(["review", "--json"], env) if e["file"] == str(BAD / name)]
    assert entry["status"] == "open"
    with session_scope(recorded, readonly=True) as s:
        assert audit.verify(s).ok


def test_a_legacy_encoding_reads_as_its_utf8_original(engine: Engine) -> None:
    """A file in TIS-620/cp874 (as many Thai offices still save) is read, not refused."""
    text = (BAD / "not_utf8.txt").read_bytes().decode("cp874")
    env = {"SARABAN_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    parsed = CliRunner().invoke(app, ["parse", "--json", str(BAD / "not_utf8.txt")], env=env)
    assert parsed.exit_code == 0, parsed.output
    [letter] = json.loads(parsed.stdout)
    assert letter["number"] == "มท 0218/ว 3182" and "มท ๐๒๑๘/ว ๓๑๘๒" in text
    assert "cp874" in parsed.stderr  # the reading notes name the encoding


def runner_json(argv: list[str], env: dict[str, str]) -> Any:
    result = CliRunner().invoke(app, argv, env=env)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _files_digest(engine: Engine) -> str | None:
    if engine.dialect.name != "sqlite" or not engine.url.database:
        return None
    h = hashlib.sha256()
    for suffix in ("", "-wal"):
        path = Path(engine.url.database + suffix)
        h.update(path.read_bytes() if path.exists() else b"-")
    return h.hexdigest()


@pytest.fixture
def recorded(engine: Engine) -> Iterator[Engine]:
    """The demo chain on record, with one clerk receipt (#1 of 2020 at Rayong)."""
    for path in DEMO:
        ingest_file(path, engine)
    runner = CliRunner()
    env = {"SARABAN_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    done = runner.invoke(
        app, ["receive", LETTER, "--agency", "province:21", "--at", "2020-06-02T13:30"], env=env
    )
    assert done.exit_code == 0, done.output
    yield engine


@pytest.mark.parametrize("case", list(REFUSED))
def test_refused_input_is_named_and_writes_nothing(recorded: Engine, case: str) -> None:
    argv, status, pattern = REFUSED[case]
    env = {"SARABAN_DATABASE_URL": recorded.url.render_as_string(hide_password=False)}
    before, files = dump_tables(recorded, skip=()), _files_digest(recorded)
    result = CliRunner().invoke(app, argv, env=env)
    assert result.exit_code == status, result.output
    assert re.search(pattern, result.stderr), result.stderr
    assert result.stderr.startswith("error: ") and "Traceback" not in result.output
    assert dump_tables(recorded, skip=()) == before
    assert _files_digest(recorded) == files


def test_deadline_before_dispatch_is_stored_with_a_flagged_warning(recorded: Engine) -> None:
    env = {"SARABAN_DATABASE_URL": recorded.url.render_as_string(hide_password=False)}
    argv = ["dispatch", PHRAE, "--from", "province:54", "--to", "district:5401", "--at", "2020-07-01T10:00"]
    result = CliRunner().invoke(app, argv, env=env)
    assert result.exit_code == 0, result.output
    assert (
        "warning: deadline 2020-06-30 of letter พร 0023.1/ว 3026 is before this dispatch on 2020-07-01"
        in result.stderr
    )
    with session_scope(recorded, readonly=True) as s:
        event = s.exec(select(Event).order_by(col(Event.seq).desc())).first()
        assert audit.verify(s).ok
    assert (
        event is not None
        and event.kind == "dispatch.registered"
        and "is before this dispatch" in event.payload
    )


# OCR'd input whose facts are doubtful but evidence as read: stored, flagged on stderr (exit 0) and
# in the ingest's event. input -> (demo letter 04 with one edit: old, new; pattern on stderr)
O18 = DEMO[3]  # นร ๑๒๐๐/ว๐๐๑๘ of 18 June 2020, stamped at Nonthaburi on 22 June
FLAGGED: dict[str, tuple[str, str, str]] = {
    "receipt stamp before the letter's date (OCR)": (
        "รับวันที่ ๒๒ มิ.ย. ๒๕๖๓", "รับวันที่ ๑๕ มิ.ย. ๒๕๖๓",
        r"warning: \S+/flagged\.txt:\d+: receipt: receipt date 2020-06-15 is before the date of letter"
        r" นร 1200/ว 0018 \(2020-06-18\); kept as read",
    ),
    "unknown agency code": (
        "ที่ นร ๑๒๐๐/ว๐๐๑๘", "ที่ ซซ ๑๒๐๐/ว๐๐๑๘",
        r"warning: \S+/flagged\.txt:4: number: unknown agency code 'ซซ' in ซซ 1200/ว 0018: kept, issuer"
        r" recorded as 'หน่วยงาน ซซ' \(agency:หน่วยงาน ซซ\)",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(FLAGGED))
def test_doubtful_ocr_facts_are_stored_with_a_flagged_warning(
    recorded: Engine, tmp_path: Path, case: str
) -> None:
    old, new, pattern = FLAGGED[case]
    text = O18.read_text(encoding="utf-8")
    assert old in text
    flagged = tmp_path / "flagged.txt"
    flagged.write_text(text.replace(old, new, 1), encoding="utf-8")
    env = {"SARABAN_DATABASE_URL": recorded.url.render_as_string(hide_password=False)}
    result = CliRunner().invoke(app, ["ingest", str(flagged)], env=env)
    assert result.exit_code == 0, result.output
    assert re.search(pattern, result.stderr), result.stderr
    assert "Traceback" not in result.output
    with session_scope(recorded, readonly=True) as s:
        event = s.exec(
            select(Event).where(Event.kind == "ingest.file").order_by(col(Event.seq).desc())
        ).first()
        stored = s.exec(select(Receipt).where(Receipt.source_file == str(flagged))).all()
        assert audit.verify(s).ok
    assert event is not None and event.subject == str(flagged)
    warnings = json.loads(event.payload)["warnings"]
    assert any(re.search(pattern.removeprefix("warning: "), w) for w in warnings), warnings
    assert len(stored) == 1  # the stamp is kept as read, on the letter it was read on


def test_plan_with_a_cycle_is_refused() -> None:
    from records.progress import directory

    plan = load_plan(Path(__file__).parent / "data" / "plan_cycle.yaml")
    with pytest.raises(
        PlanCycleError, match=r"plan_cycle\.yaml: steps: cycle: moi -> dla -> province:54 -> moi"
    ):
        instantiate_plan(plan, directory())


def test_bad_file_among_good_ones_keeps_each_file_all_or_nothing(engine: Engine, tmp_path: Path) -> None:
    """A good file, a binary file, another good file: the good ones go in whole."""
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(
        app,
        ["ingest", str(DEMO[0]), str(BAD / "binary.bin"), str(DEMO[1])],
        env={"SARABAN_DATABASE_URL": url},
    )
    assert result.exit_code == 2 and "binary.bin" in result.stderr
    alone = get_engine(f"sqlite:///{tmp_path / 'alone.db'}")
    init_db(alone)
    for path in DEMO[:2]:
        ingest_file(path, alone)
    with session_scope(engine, readonly=True) as a, session_scope(alone, readonly=True) as b:
        assert audit.state_dump(a) == audit.state_dump(b)
        assert audit.verify(a).ok


# --- inputs the record never sees: each refused with a clear message, exit 2, the rest go in ----


def _ingest(engine: Engine, *paths: Path | str) -> Any:
    env = {"SARABAN_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    return CliRunner().invoke(app, ["ingest", *map(str, paths)], env=env)


def test_a_fifo_and_a_device_are_refused_without_reading(engine: Engine, tmp_path: Path) -> None:
    fifo = tmp_path / "letters.fifo"
    os.mkfifo(fifo)  # reading it would block forever: it is refused from its file type alone
    result = _ingest(engine, fifo, "/dev/zero", DEMO[0])
    assert result.exit_code == 2, result.output
    assert f"{fifo}:1: file: not a regular file" in result.stderr
    assert "/dev/zero:1: file: not a regular file" in result.stderr
    assert "1 went in, 2 failed" in result.output


def test_a_file_over_the_size_limit_is_refused_unread(engine: Engine, tmp_path: Path) -> None:
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as f:
        f.truncate(51 * 1024 * 1024)  # sparse: nothing is written, nothing should be read
    result = _ingest(engine, huge)
    assert result.exit_code == 2 and re.search(r"huge\.txt:1: file: .*(?:limit|large)", result.stderr)


def test_a_full_disk_is_named_per_file_and_the_batch_goes_on(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database refusing a write (SQLite's 'database or disk is full', injected at the store
    of the second file) is that file's error; the first and third files still go in."""
    import sqlite3

    import sqlalchemy as sa

    from records import ingest

    real = ingest.ingest_letters
    calls = {"n": 0}

    def full_on_second(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise sa.exc.OperationalError("INSERT", {}, sqlite3.OperationalError("database or disk is full"))
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest, "ingest_letters", full_on_second)
    result = _ingest(engine, *DEMO[:3])
    assert result.exit_code == 2, result.output
    assert f"{DEMO[1]}: not stored: database or disk is full" in result.stderr
    assert "2 went in, 1 failed" in result.output
    with session_scope(engine, readonly=True) as s:
        assert audit.verify(s).ok


def test_a_locked_database_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another writer holding the record past the busy timeout: exit 2 saying so, no traceback,
    nothing written (SQLite; PostgreSQL waits for row locks instead)."""
    import sqlite3

    from models import db

    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_MS", 200)  # do not wait the production 30 s
    path = tmp_path / "locked.db"
    engine = get_engine(f"sqlite:///{path}")  # a new engine: the short timeout applies
    ingest_file(DEMO[0], engine)
    before = dump_tables(engine, skip=())
    holder = sqlite3.connect(path)
    holder.execute("BEGIN EXCLUSIVE")  # another writer holds the record
    try:
        result = _ingest(engine, DEMO[1])
    finally:
        holder.rollback()
        holder.close()
    assert result.exit_code == 2, result.output
    assert "database is locked" in result.stderr and "Traceback" not in result.output
    assert dump_tables(engine, skip=()) == before
