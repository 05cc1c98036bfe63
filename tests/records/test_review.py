"""The review list: unread letters stored with their file, listed, shown and completed."""

from __future__ import annotations

import json

import pytest
import typer
from sqlalchemy.engine import Engine
from sqlmodel import func, select
from typer.testing import CliRunner

from cli.records import register as register_records
from cli.review import register as register_review
from models.db import session_scope
from models.letters import Citation, FieldReading, FieldStatus, UnreadLetter
from models.tables import Event, ReviewItem
from records.audit import verify
from records.chain import chain_json
from records.events import verify_chain
from records.review import ReviewError, open_reviews, parse_review_date, resolve_review, review_detail
from records.service import IngestReport, ingest_letters, lookup_letter
from tests.records.conftest import dump_tables
from tests.records.samples import file_central, file_interior

SHA = "1" * 64
TEXT = "ที่ มท ๐๒๑๘/ว ???\nกระทรวงมหาดไทย\n๑ มิถุนายน ๒๕๖๓\nเรื่อง ทดสอบ\n"


def _unread(file: str = "scan.txt", line: int = 3, **kw: object) -> UnreadLetter:
    fields: dict[str, object] = {
        "date": "๑ มิถุนายน ๒๕๖๓",
        "issuer": "กระทรวงมหาดไทย",
        "subject": "ทดสอบ",
        "source": {"file": file, "line": line},
        "end_line": line + 3,
        "text": TEXT,
        "readings": (
            FieldReading(field="number", status=FieldStatus.MISSING, line=line, raw="มท ๐๒๑๘/ว ???"),
        ),
        "reason": "number: not read",
        # It encloses a letter of the central office's file, so completing it links it there.
        "enclosures": (Citation(number="นร ๑๒๒๐/๕๕", date="๒๗ พฤษภาคม ๒๕๖๓", text="สำเนาหนังสือ"),),
    }
    return UnreadLetter.model_validate({**fields, **kw})


def _ingest(engine: Engine, unread: list[UnreadLetter], file: str = "scan.txt", **kw: object) -> IngestReport:
    with session_scope(engine) as s:
        return ingest_letters(s, [], file=file, sha256=SHA, actor="tester", unread=unread, **kw)  # type: ignore[arg-type]


def _count(engine: Engine, table: type) -> int:
    with session_scope(engine) as s:
        return s.exec(select(func.count()).select_from(table)).one()


def test_an_unread_letter_goes_on_the_review_list_once(engine: Engine) -> None:
    report = _ingest(engine, [_unread()])
    [entry] = report.review
    assert (entry.file, entry.line, entry.reason, entry.new) == ("scan.txt", 3, "number: not read", True)
    assert report.to_review == [entry] and str(entry) == "scan.txt:3: number: not read"
    with session_scope(engine) as s:
        [item] = open_reviews(s)
        assert (item.id, item.where, item.number, item.date.isoformat() if item.date else None) == (
            entry.id,
            "scan.txt:3",
            None,
            "2020-06-01",
        )
        assert item.subject == "ทดสอบ" and item.issuer == "กระทรวงมหาดไทย"
        kinds = [e.kind for e in s.exec(select(Event).order_by(Event.seq))]
        assert kinds == ["review.opened", "ingest.file"]
        ingest_event = s.exec(select(Event).where(Event.kind == "ingest.file")).one()
        assert json.loads(ingest_event.payload)["review"] == [{"line": 3, "reason": "number: not read"}]
        # What is stored reads back as the parser read it.
        row = s.exec(select(ReviewItem)).one()
        assert UnreadLetter.model_validate_json(row.unread) == _unread()
        assert verify_chain(s).ok
    before, events = dump_tables(engine), _count(engine, Event)
    again = _ingest(engine, [_unread()])
    assert [(r.id, r.new) for r in again.review] == [(entry.id, False)]
    assert dump_tables(engine) == before and _count(engine, Event) == events


def test_completing_an_item_stores_the_letter_like_an_ingest(engine: Engine) -> None:
    with session_scope(engine) as s:
        ingest_letters(s, file_interior(), file="interior.txt", sha256=SHA, actor="tester")
    [entry] = _ingest(engine, [_unread()]).review
    with session_scope(engine) as s:
        done = resolve_review(s, entry.id, "มท ๐๒๑๘/ว ๓๑๙๙", "๑ มิถุนายน ๒๕๖๓", actor="clerk-a")
    assert (done.number, done.date.isoformat()) == ("มท 0218/ว 3199", "2020-06-01")
    assert [o.status for o in done.report.letters] == ["added"]
    with session_scope(engine) as s:
        assert open_reviews(s) == []
        detail = review_detail(s, entry.id)
        assert detail["status"] == "resolved" and detail["resolved_by"] == "clerk-a"
        letter = lookup_letter(s, "มท 0218/ว 3199")
        assert letter is not None and letter.id == detail["letter_id"] and letter.subject == "ทดสอบ"
        # Its enclosure resolved to the letter on file, so it joined that circular.
        enclosed = lookup_letter(s, "นร 1220/55")
        assert enclosed is not None and letter.circular_id == enclosed.circular_id is not None
        assert {"from": "นร 1220/55", "to": "มท 0218/ว 3199", "kind": "encloses"} in chain_json(s)["edges"]
        resolved = s.exec(select(Event).where(Event.kind == "review.resolved")).one()
        assert resolved.actor == "clerk-a" and json.loads(resolved.payload)["number"] == "มท 0218/ว 3199"
        # The log alone still rebuilds the record.
        audit = verify(s)
        assert audit.ok, audit
    # Reading the file again does not reopen what was resolved.
    again = _ingest(engine, [_unread()])
    assert again.to_review == [] and [r.status for r in again.review] == ["resolved"]


@pytest.mark.parametrize(
    ("number", "on", "message"),
    [
        ("๐๒๑๘/ว ๓๑๘๒", "2020-06-01", "number '๐๒๑๘/ว ๓๑๘๒'"),
        ("มท 0218/ว 3199", "2020-02-31", "date '2020-02-31'"),
        ("มท 0218/ว 3199", "๓๑ กุมภาพันธ์ ๒๕๖๓", "date '๓๑ กุมภาพันธ์ ๒๕๖๓'"),
    ],
)
def test_a_wrong_number_or_date_writes_nothing(engine: Engine, number: str, on: str, message: str) -> None:
    [entry] = _ingest(engine, [_unread()]).review
    before = dump_tables(engine, skip=())
    with pytest.raises(ReviewError, match=message), session_scope(engine) as s:
        resolve_review(s, entry.id, number, on, actor="clerk")
    assert dump_tables(engine, skip=()) == before


def test_unknown_or_resolved_items_are_refused(engine: Engine) -> None:
    [entry] = _ingest(engine, [_unread()]).review
    with pytest.raises(ReviewError, match="no review item 999"), session_scope(engine) as s:
        resolve_review(s, 999, "มท 0218/ว 3199", "2020-06-01")
    with session_scope(engine) as s:
        resolve_review(s, entry.id, "มท 0218/ว 3199", "2020-06-01", actor="a")
    with pytest.raises(ReviewError, match="already resolved"), session_scope(engine) as s:
        resolve_review(s, entry.id, "มท 0218/ว 3199", "2020-06-01", actor="b")


def test_review_dates_are_iso_or_thai() -> None:
    assert parse_review_date("2020-06-01") == parse_review_date("๑ มิถุนายน ๒๕๖๓")
    assert parse_review_date("๑ มิ.ย. ๖๓").isoformat() == "2020-06-01"
    with pytest.raises(ReviewError, match="give 2020-06-01"):
        parse_review_date("yesterday")


def test_letters_and_unread_letters_of_one_file_go_in_together(engine: Engine) -> None:
    with session_scope(engine) as s:
        report = ingest_letters(
            s, file_central(), file="central.txt", sha256=SHA, actor="t", unread=[_unread("central.txt", 40)]
        )
    assert report.added == 1 and [str(r) for r in report.to_review] == ["central.txt:40: number: not read"]


# --- the commands -------------------------------------------------------------------------------


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    register_records(app)
    register_review(app)
    return app


def test_review_commands(app: typer.Typer, engine: Engine) -> None:
    runner = CliRunner()
    env = {"SARABAN_DATABASE_URL": engine.url.render_as_string(hide_password=False), "SARABAN_ACTOR": "t"}
    [entry] = _ingest(engine, [_unread()]).review
    listed = runner.invoke(app, ["review", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    assert [(i["id"], i["file"], i["line"], i["reason"], i["date"]) for i in json.loads(listed.stdout)] == [
        (entry.id, "scan.txt", 3, "number: not read", "2020-06-01")
    ]
    table = runner.invoke(app, ["review"], env=env)
    assert table.exit_code == 0 and "scan.txt:3" in table.stdout
    shown = runner.invoke(app, ["review", "show", str(entry.id)], env=env)
    assert shown.exit_code == 0 and "มท ๐๒๑๘/ว ???" in shown.stdout and "number: missing" in shown.stdout

    before = dump_tables(engine, skip=())
    bad = runner.invoke(
        app, ["review", "set", str(entry.id), "--number", "มท 0218/ว 3199", "--date", "2020-02-31"], env=env
    )
    assert bad.exit_code == 2 and "error: date '2020-02-31'" in bad.stderr and "Traceback" not in bad.output
    assert dump_tables(engine, skip=()) == before

    done = runner.invoke(
        app,
        [
            "review",
            "set",
            str(entry.id),
            "--number",
            "มท ๐๒๑๘/ว ๓๑๙๙",
            "--date",
            "๑ มิถุนายน ๒๕๖๓",
            "--actor",
            "clerk-b",
        ],
        env=env,
    )
    assert done.exit_code == 0, done.output
    assert f"review item {entry.id} (scan.txt:3) resolved: มท 0218/ว 3199 of 2020-06-01" in done.stdout
    assert runner.invoke(app, ["review"], env=env).stdout.strip() == "nothing to review"
    with session_scope(engine) as s:
        assert s.exec(select(Event).where(Event.kind == "review.resolved")).one().actor == "clerk-b"
