"""Registering by hand: gap-free receipt numbers per registry and year, under concurrent clerks."""

from __future__ import annotations

import multiprocessing
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from typer.testing import CliRunner

from cli.main import app
from models.db import dispose_engines, get_engine, session_scope
from models.tables import Event, Handoff, LetterRow, Receipt
from models.thai import BANGKOK
from records import audit, progress, registry
from records.events import verify_chain
from records.ingest import ingest_file

pytest.importorskip("models.parser")

DEMO = Path(__file__).parents[2] / "demo" / "letters"
LETTER = "มท 0218/ว 3182"  # dated 2020-06-01, carries a deadline of 2020-06-30 ... via its chain
PHRAE = "พร 0023.1/ว 3026"  # dated 2020-06-23, due 2020-06-30


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BANGKOK)


@pytest.fixture
def record(engine: Engine) -> Engine:
    ingest_file(DEMO / "03_moi_mt0218_w3182_with_opdc_nr1220_55.txt", engine)
    ingest_file(DEMO / "05_phrae_pr0023_1_w3026.txt", engine)
    return engine


def _receive(engine: Engine, *args: Any, **kwargs: Any) -> Receipt:
    with session_scope(engine) as s:
        return registry.receive(s, *args, **kwargs)


def test_numbers_run_per_registry_and_restart_each_year(record: Engine) -> None:
    got = [_receive(record, LETTER, "province:21", _at("2020-06-02T13:30")).number for _ in range(3)]
    other = _receive(record, LETTER, "จังหวัดนนทบุรี", _at("2020-06-02T14:00"))
    late = _receive(record, LETTER, "province:21", _at("2020-12-31T23:59"))
    # 17:30 UTC on 31 December is 00:30 on 1 January in Bangkok: the new year's series.
    new_year = _receive(record, LETTER, "province:21", datetime(2020, 12, 31, 17, 30, tzinfo=UTC))
    after = _receive(record, LETTER, "province:21", _at("2021-01-05T09:00"))
    assert got == ["1", "2", "3"] and other.registry == "province:12" and other.number == "1"
    assert (late.number, late.year) == ("4", 2020)
    assert (new_year.number, new_year.year, new_year.date.isoformat()) == ("1", 2021, "2021-01-01")  # type: ignore[union-attr]
    assert (after.number, after.year) == ("2", 2021)


def test_explicit_number_is_kept_and_duplicates_refused(record: Engine) -> None:
    stamped = _receive(record, LETTER, "province:12", _at("2020-06-22T10:00"), "011099")
    assert stamped.number == "011099" and stamped.source == "clerk"
    with pytest.raises(
        registry.RegistryError, match=r"receipt number 11099 of 2020 is already taken at province:12"
    ):
        _receive(record, LETTER, "province:12", _at("2020-06-24T10:00"), "๑๑๐๙๙")
    assert _receive(record, LETTER, "province:12", _at("2020-06-24T10:00")).number == "11100"
    # Another year's series does not clash.
    assert _receive(record, LETTER, "province:12", _at("2021-02-01T10:00"), "11099").year == 2021
    with pytest.raises(registry.RegistryError, match="expected a positive whole number"):
        _receive(record, LETTER, "province:12", None, "12a")


@pytest.mark.parametrize(
    ("letter", "agency", "at", "message"),
    [
        ("มท 9999/ว 1", "province:21", "2020-06-02T10:00", r"no letter 'มท 9999/ว 1' on record"),
        ("ไม่ใช่เลขที่", "province:21", "2020-06-02T10:00", r"letter 'ไม่ใช่เลขที่': not a letter number"),
        (LETTER, "province:99", "2020-06-02T10:00", r"unknown agency 'province:99'"),
        (LETTER, "กรมที่ไม่มีอยู่จริง", "2020-06-02T10:00", r"unknown agency 'กรมที่ไม่มีอยู่จริง'"),
        (
            LETTER,
            "province:21",
            "2020-05-31T23:59",
            r"receipt date 2020-05-31 is before the date of letter มท 0218/ว 3182",
        ),
    ],
)
def test_receive_refuses_bad_input_and_writes_nothing(
    record: Engine, letter: str, agency: str, at: str, message: str
) -> None:
    from tests.records.conftest import dump_tables

    before = dump_tables(record, skip=())
    with pytest.raises(registry.RegistryError, match=message):
        _receive(record, letter, agency, _at(at))
    assert dump_tables(record, skip=()) == before


def test_dispatch_records_handoffs_flags_late_deadline_and_is_idempotent(record: Engine) -> None:
    args = (PHRAE, "จังหวัดแพร่", ["district:5401", "อำเภอลอง"], _at("2020-07-02T10:00"))
    with session_scope(record) as s:
        first = registry.dispatch(s, *args, actor="clerk", on_behalf_of="ผู้ว่าราชการจังหวัดแพร่")
        ids = (first.dispatch.circular_id, first.dispatch.sender_id, [h.recipient_id for h in first.handoffs])
    (long_district,) = progress.directory().find("อำเภอลอง")
    assert ids[1:] == ("province:54", ["district:5401", long_district.id])
    assert first.changed and first.warnings == [
        f"deadline 2020-06-30 of letter {PHRAE} is before this dispatch on 2020-07-02"
    ]
    with session_scope(record) as s:
        events = s.exec(select(Event).order_by(col(Event.seq).desc())).first()
        again = registry.dispatch(s, *args)
        handoffs = s.exec(select(Handoff)).all()
    assert (
        events is not None
        and events.kind == "dispatch.registered"
        and events.on_behalf_of == "ผู้ว่าราชการจังหวัดแพร่"
    )
    assert "is before this dispatch" in events.payload
    assert not again.changed and len(handoffs) == 2
    assert {h.due_forward.isoformat() for h in handoffs} == {"2020-06-30"}  # type: ignore[union-attr]
    with (
        session_scope(record) as s,
        pytest.raises(registry.RegistryError, match="cannot send a letter to itself"),
    ):
        registry.dispatch(s, PHRAE, "province:54", ["province:54"], _at("2020-07-02T10:00"))
    with (
        session_scope(record) as s,
        pytest.raises(registry.RegistryError, match="dispatch date 2020-06-01 is before"),
    ):
        registry.dispatch(s, PHRAE, "province:54", ["district:5401"], _at("2020-06-01T10:00"))
    with session_scope(record, readonly=True) as s:
        assert audit.verify(s).ok


def test_cli_receive_and_dispatch(record: Engine) -> None:
    env = {
        "SARABAN_DATABASE_URL": record.url.render_as_string(hide_password=False),
        "SARABAN_ACTOR": "clerk-cli",
    }
    runner = CliRunner()
    ok = runner.invoke(
        app, ["receive", "มท ๐๒๑๘/ว ๓๑๘๒", "--agency", "จังหวัดระยอง", "--at", "2020-06-02T13:30"], env=env
    )
    assert ok.exit_code == 0 and "receipt no. 1/2020" in ok.stdout
    bad_day = runner.invoke(
        app, ["receive", LETTER, "--agency", "province:21", "--at", "2020-02-31"], env=env
    )
    assert bad_day.exit_code == 2 and "--at '2020-02-31': not an ISO date" in bad_day.stderr
    sent = runner.invoke(
        app,
        ["dispatch", PHRAE, "--from", "province:54", "--to", "district:5401", "--at", "2020-07-01"],
        env=env,
    )
    assert sent.exit_code == 0 and "warning: deadline 2020-06-30" in sent.stderr
    unknown = runner.invoke(app, ["dispatch", PHRAE, "--from", "province:54", "--to", "nowhere"], env=env)
    assert unknown.exit_code == 2 and "unknown agency 'nowhere'" in unknown.stderr
    assert "Traceback" not in unknown.output + bad_day.output
    with session_scope(record, readonly=True) as s:
        clerk = s.exec(select(Event).where(Event.kind == "receipt.registered")).one()
    assert clerk.actor == "clerk-cli"


# --- concurrency ------------------------------------------------------------------------------------

WORKERS, EACH = 8, 200


def _clerk(url: str, start: Any, out: Any) -> None:
    dispose_engines()
    engine = get_engine(url)
    start.wait()
    numbers = []
    for _ in range(EACH):
        with session_scope(engine) as s:
            numbers.append(
                registry.receive(s, LETTER, "province:21", _at("2020-06-10T09:00"), actor="clerk").number
            )
    out.put(numbers)


def test_concurrent_clerks_get_gap_free_numbers(db_url: str, record: Engine) -> None:
    """8 processes x 200 receipts at one registry: exactly 1..1600, each once."""
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_clerk, args=(db_url, start, out)) for _ in range(WORKERS)]
    for p in procs:
        p.start()
    time.sleep(1.0)  # let every worker import and connect, then start them together
    started = time.perf_counter()
    start.set()
    results = [out.get(timeout=240) for _ in procs]
    elapsed = time.perf_counter() - started
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    issued = [int(n) for numbers in results for n in numbers]
    assert sorted(issued) == list(range(1, WORKERS * EACH + 1))
    assert all(len(r) == EACH for r in results)
    # Each worker's own numbers increase: the series never goes back.
    assert all(list(map(int, r)) == sorted(map(int, r)) for r in results)
    with session_scope(record, readonly=True) as s:
        stored = s.exec(select(Receipt.number).where(Receipt.registry == "province:21")).all()
        assert sorted(int(n) for n in stored if n) == list(range(1, WORKERS * EACH + 1))
        assert verify_chain(s).ok
    print(f"\n{WORKERS}x{EACH} receipts on {record.dialect.name}: {elapsed:.1f} s")


def test_a_number_of_two_years_needs_the_letters_date(engine: Engine) -> None:
    from records.service import ingest_letters
    from tests.records.samples import file_central, file_next_year

    with session_scope(engine) as s:
        ingest_letters(s, file_central(), file="central.txt", sha256="a" * 64)
        ingest_letters(s, file_next_year(), file="next_year.txt", sha256="b" * 64)
    with pytest.raises(
        registry.RegistryError, match=r"names 2 letters .*2020-06-18, 2021-03-02.*--letter-date"
    ):
        _receive(engine, "นร 1200/ว 0018", "province:12", _at("2021-03-05T10:00"))
    got = _receive(
        engine, "นร ๑๒๐๐/ว ๐๐๑๘", "province:12", _at("2021-03-05T10:00"), letter_date=date(2021, 3, 2)
    )
    with session_scope(engine) as s:
        letter = s.get(LetterRow, got.letter_id)
        assert letter is not None and letter.date == date(2021, 3, 2)
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(
        app, ["receive", "นร 1200/ว 0018", "--agency", "province:12", "--at", "2021-03-08T09:00",
              "--letter-date", "๒ มีนาคม ๒๕๖๔", "--database", url],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    refused = CliRunner().invoke(
        app,
        ["dispatch", "นร 1200/ว 0018", "--from", "province:12", "--to", "district:1201", "--database", url],
    )
    assert refused.exit_code == 2 and "--letter-date" in refused.stderr
