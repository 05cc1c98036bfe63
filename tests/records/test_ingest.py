"""Ingest: idempotent, order-independent, one transaction per file, placeholders and merges."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import func, select

from models.db import session_scope
from models.letters import Citation, Letter, ReceiptStamp, SourceRef
from models.tables import DeadlineRow, Event, IngestLog, LetterRow, Merge
from records.chain import chain_json
from records.events import verify_chain
from records.ingest import IngestError, ingest_file, ingest_files
from records.service import IngestReport, ingest_letters, lookup_letter, lookup_letters, reading_notes
from tests.records.conftest import dump_tables
from tests.records.samples import (
    SAMPLE_FILES,
    TWO_LETTERS,
    file_central,
    file_interior,
    file_next_year,
    file_province,
)

SHA = "0" * 64


def _ingest(engine: Engine, letters: list[Letter], file: str = "f.txt") -> IngestReport:
    with session_scope(engine) as s:
        return ingest_letters(s, letters, file=file, sha256=SHA, actor="tester")


def _events(engine: Engine) -> int:
    with session_scope(engine) as s:
        return s.exec(select(func.count()).select_from(Event)).one()


def _chain(engine: Engine) -> dict:
    with session_scope(engine) as s:
        return chain_json(s)


def _letter(number: str, on: str, *, file: str = "x.txt", **kw: object) -> Letter:
    return Letter(number=number, date=on, source=SourceRef(file=file, line=1), **kw)  # type: ignore[arg-type]


def test_samples_make_one_letter_per_reading_with_merges(engine: Engine) -> None:
    for name, make in SAMPLE_FILES.items():
        _ingest(engine, make(), name)
    chain = _chain(engine)
    by_number = {item["number"]: item for item in chain["letters"]}
    assert by_number["นร 1220/55"]["aliases"] == ["นร 1220/85"]
    assert not by_number["นร 1220/55"]["known_only_by_citation"]
    assert "นร 1200/60013" in by_number["นร 1200/ว 0013"]["aliases"]
    assert by_number["นร 1200/ว 0013"]["known_only_by_citation"]
    assert {"from": "นร 1220/55", "to": "มท 0218/ว 3182", "kind": "encloses"} in chain["edges"]
    assert len(chain["letters"]) == 8
    with session_scope(engine) as s:
        merge = s.exec(select(Merge).where(Merge.alias == "นร 1220/85")).one()
        assert "๕/๘" in merge.reason and "2020-05-27" in merge.reason
        assert verify_chain(s).ok


def test_reingest_changes_nothing_and_logs_no_event(engine: Engine) -> None:
    for name, make in SAMPLE_FILES.items():
        _ingest(engine, make(), name)
    before, events = dump_tables(engine), _events(engine)
    for name, make in SAMPLE_FILES.items():
        report = _ingest(engine, make(), name)
        assert report.added == report.merged == 0 and report.unchanged == len(make())
    assert dump_tables(engine) == before
    assert _events(engine) == events
    with session_scope(engine) as s:
        assert s.exec(select(func.count()).select_from(IngestLog)).one() == 2 * len(SAMPLE_FILES)


@pytest.mark.parametrize("order", list(itertools.permutations(SAMPLE_FILES)))
def test_any_ingest_order_gives_the_same_chain(db_url: str, order: tuple[str, ...], tmp_path: Path) -> None:
    from models.db import get_engine, init_db

    engine = get_engine(db_url)
    init_db(engine)
    for name in order:
        _ingest(engine, SAMPLE_FILES[name](), name)
    reference = get_engine(f"sqlite:///{tmp_path}/reference.db")
    init_db(reference)
    for name in sorted(SAMPLE_FILES):
        _ingest(reference, SAMPLE_FILES[name](), name)
    assert _chain(engine) == _chain(reference)


def test_letters_within_one_file_in_any_order(engine: Engine, tmp_path: Path) -> None:
    from models.db import get_engine, init_db

    cover, enclosed = file_interior()
    _ingest(engine, [enclosed, cover])
    other = get_engine(f"sqlite:///{tmp_path}/other.db")
    init_db(other)
    _ingest(other, [cover, enclosed])
    assert _chain(engine) == _chain(other)


def test_same_letter_from_two_files_is_one_letter(engine: Engine) -> None:
    _ingest(engine, file_interior(), "interior.txt")
    _, enclosed = file_interior()
    copy = enclosed.model_copy(
        update={
            "source": SourceRef(file="copy.txt", line=5),
            "receipts": (ReceiptStamp(number="77", date="2020-05-30", agency="จังหวัดแพร่"),),
        }
    )
    report = _ingest(engine, [copy], "copy.txt")
    assert [o.status for o in report.letters] == ["merged"]
    assert "receipt 77" in " ".join(report.letters[0].details)
    again = _ingest(engine, [copy], "copy.txt")
    assert [o.status for o in again.letters] == ["unchanged"]
    with session_scope(engine) as s:
        rows = s.exec(select(LetterRow).where(LetterRow.number == "นร 1220/55")).all()
        assert len(rows) == 1 and rows[0].source_file == "interior.txt"


def test_placeholder_becomes_real_in_place(engine: Engine) -> None:
    _ingest(engine, file_central(), "central.txt")
    with session_scope(engine) as s:
        placeholder = lookup_letter(s, "นร ๑๒๐๐/ว ๐๐๑๓")
        assert placeholder is not None and placeholder.known_only_by_citation
        pid = placeholder.id
    report = _ingest(engine, [_letter("นร 1200/ว 0013", "2020-05-05", subject="แนวทาง")], "o2.txt")
    assert [o.status for o in report.letters] == ["realised"]
    assert report.added == 1
    with session_scope(engine) as s:
        row = s.get(LetterRow, pid)
        assert row is not None and not row.known_only_by_citation and row.subject == "แนวทาง"
        kinds = [e.kind for e in s.exec(select(Event).order_by(Event.seq))]
    assert "letter.realised" in kinds


def test_cited_first_then_real_merges_the_ocr_reading(engine: Engine) -> None:
    cover, enclosed = file_interior()
    _ingest(engine, [cover])
    assert {i["number"] for i in _chain(engine)["letters"]} >= {"นร 1220/85"}
    _ingest(engine, [enclosed])
    chain = _chain(engine)
    numbers = {i["number"] for i in chain["letters"]}
    assert "นร 1220/85" not in numbers and "นร 1220/55" in numbers
    with session_scope(engine) as s:
        kinds = [e.kind for e in s.exec(select(Event).order_by(Event.seq))]
        assert "letter.placeholder_removed" in kinds and "letter.alias_merged" in kinds
        assert verify_chain(s).ok


def test_two_real_letters_are_never_merged(engine: Engine) -> None:
    a = _letter("นร 1220/55", "2020-05-27")
    b = _letter("นร 1220/85", "2020-05-27")
    citing = _letter(
        "มท 0218/ว 9", "2020-06-01", enclosures=(Citation(number="นร 1220/85", date="2020-05-27", text=""),)
    )
    _ingest(engine, [citing, a, b])
    chain = _chain(engine)
    real = {i["number"]: i for i in chain["letters"] if not i["known_only_by_citation"]}
    assert {"นร 1220/55", "นร 1220/85"} <= set(real)
    assert real["นร 1220/55"]["aliases"] == [] and real["นร 1220/85"]["aliases"] == []
    assert {"from": "นร 1220/85", "to": "มท 0218/ว 9", "kind": "encloses"} in chain["edges"]


@pytest.mark.parametrize("cite_first", [True, False])
def test_ambiguous_tolerant_match_is_not_merged(engine: Engine, cite_first: bool) -> None:
    reals = [_letter("นร 1220/55", "2020-05-27"), _letter("นร 1220/88", "2020-05-27")]
    citing = _letter(
        "มท 0218/ว 9", "2020-06-01", enclosures=(Citation(number="นร 1220/85", date="2020-05-27", text=""),)
    )
    _ingest(engine, [citing, *reals] if cite_first else [*reals, citing])
    chain = _chain(engine)
    by_number = {i["number"]: i for i in chain["letters"]}
    assert by_number["นร 1220/85"]["known_only_by_citation"]
    assert by_number["นร 1220/55"]["aliases"] == [] and by_number["นร 1220/88"]["aliases"] == []


def test_different_dates_are_never_merged(engine: Engine) -> None:
    citing = _letter(
        "มท 0218/ว 9", "2020-06-01", enclosures=(Citation(number="นร 1220/85", date="2020-05-28", text=""),)
    )
    _ingest(engine, [citing, _letter("นร 1220/55", "2020-05-27")])
    numbers = {i["number"] for i in _chain(engine)["letters"]}
    assert {"นร 1220/85", "นร 1220/55"} <= numbers


def test_a_failure_inside_the_transaction_writes_nothing(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ingest(engine, file_province(), "province.txt")
    before, events = dump_tables(engine, skip=()), _events(engine)

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("records.service.assign_circulars_of", boom)
    with pytest.raises(RuntimeError):
        _ingest(engine, file_interior(), "interior.txt")
    assert dump_tables(engine, skip=()) == before
    assert _events(engine) == events


def _all_sample_letters() -> list[Letter]:
    extra = [
        # The cited circulars themselves turn up later (placeholders become real) ...
        _letter("นร ๑๒๐๐/ว๐๐๑๓", "๕ พฤษภาคม ๒๕๖๓", subject="แนวทาง"),
        _letter("มท 0812/ว 1434", "2020-05-14", salutation="ผู้ว่าราชการจังหวัดทุกจังหวัด"),
        # ... and a copy of the enclosed letter arrives with another province's stamp.
        file_interior()[1].model_copy(
            update={"receipts": (ReceiptStamp(number="9", date="2020-06-03", agency="จังหวัดแพร่"),)}
        ),
        # The same number a year later is another letter; one letter cites each of the two.
        *file_next_year(),
        _letter(
            "พร 0023.1/ว 100",
            "2021-03-10",
            enclosures=(
                Citation(number="นร ๑๒๐๐/ว๐๐๑๘", date="๒ มีนาคม ๒๕๖๔", text=""),
                Citation(number="นร ๑๒๐๐/ว๐๐๑๘", date="๑๘ มิถุนายน ๒๕๖๓", text=""),
            ),
        ),
    ]
    return [letter for make in SAMPLE_FILES.values() for letter in make()] + extra


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.randoms(use_true_random=False), st.integers(min_value=1, max_value=4))
def test_any_split_and_order_gives_the_same_chain(tmp_path: Path, rnd: random.Random, files: int) -> None:
    from models.db import get_engine, init_db

    letters = _all_sample_letters()
    reference = get_engine(f"sqlite:///{tmp_path}/reference.db")
    if not (tmp_path / "reference.db").exists():
        init_db(reference)
        _ingest(reference, letters)
    shuffled = letters[:]
    rnd.shuffle(shuffled)
    path = tmp_path / f"run-{rnd.getrandbits(64):x}.db"
    engine = get_engine(f"sqlite:///{path}")
    init_db(engine)
    for i in range(files):
        _ingest(engine, shuffled[i::files], f"part{i}.txt")
    chain = _chain(engine)
    assert chain == _chain(reference)
    assert [(i["number"], i["date"]) for i in chain["letters"] if i["number"] == "นร 1200/ว 0018"] == [
        ("นร 1200/ว 0018", "2020-06-18"),
        ("นร 1200/ว 0018", "2021-03-02"),
    ]
    assert {
        "from": "นร 1200/ว 0018",
        "from_date": "2021-03-02",
        "to": "พร 0023.1/ว 100",
        "kind": "encloses",
    } in (chain["edges"])
    before = dump_tables(engine)
    _ingest(engine, shuffled, "all.txt")
    assert dump_tables(engine) == before


def test_a_number_repeated_next_year_is_another_letter(engine: Engine) -> None:
    for name, make in SAMPLE_FILES.items():
        _ingest(engine, make(), name)
    plain = _chain(engine)
    report = _ingest(engine, file_next_year(), "next_year.txt")
    assert [(o.status, o.date.isoformat()) for o in report.letters] == [("added", "2021-03-02")]
    chain = _chain(engine)
    assert [i["date"] for i in chain["letters"] if i["number"] == "นร 1200/ว 0018"] == [
        "2020-06-18",
        "2021-03-02",
    ]
    # Where the number names two letters, the entries naming it say which; nothing else changes.
    assert {
        "from": "นร 1200/ว 0013",
        "to": "นร 1200/ว 0018",
        "to_date": "2020-06-18",
        "kind": "references",
    } in (chain["edges"])
    assert {
        "from": "นร 1200/ว 0002",
        "to": "นร 1200/ว 0018",
        "to_date": "2021-03-02",
        "kind": "references",
    } in (chain["edges"])
    o18 = [r for r in chain["receipts"] if r["letter"] == "นร 1200/ว 0018"]
    assert [(r["number"], r["letter_date"]) for r in o18] == [
        ("011099", "2020-06-18"),
        ("000321", "2021-03-02"),
    ]
    unaffected = [e for e in chain["edges"] if "นร 1200/ว 0018" not in (e["from"], e["to"])]
    assert unaffected == [e for e in plain["edges"] if "นร 1200/ว 0018" not in (e["from"], e["to"])]
    assert all(set(e) == {"from", "to", "kind"} for e in unaffected)
    with session_scope(engine) as s:
        assert [r.date.isoformat() for r in lookup_letters(s, "นร ๑๒๐๐/ว ๐๐๑๘")] == [
            "2020-06-18",
            "2021-03-02",
        ]
        assert [r.date.year for r in lookup_letters(s, "นร 1200/ว 0018", year=2021)] == [2021]
        assert verify_chain(s).ok


def test_merges_made_while_resolving_citations_are_reported(engine: Engine) -> None:
    report = _ingest(engine, file_interior(), "interior.txt")
    assert [str(a) for a in report.aliases] == [
        "merged: นร 1200/60012 → นร 1200/ว 0012 of 2020-05-05 (running number 60012 vs ว 0012: ว/๖ OCR"
        " confusion; same code นร 1200 and date 2020-05-05)",
        "merged: นร 1200/60013 → นร 1200/ว 0013 of 2020-05-05 (running number 60013 vs ว 0013: ว/๖ OCR"
        " confusion; same code นร 1200 and date 2020-05-05)",
        "merged: นร 1220/85 → นร 1220/55 of 2020-05-27 (running number 85 vs 55: ๕/๘ OCR confusion; same"
        " code นร 1220 and date 2020-05-27)",
    ]
    assert (report.added, report.merged) == (2, 3)
    with session_scope(engine) as s:
        assert s.exec(select(func.count()).select_from(Merge)).one() == 3
        assert s.exec(select(IngestLog)).one().merged == 3
        event = s.exec(select(Event).where(Event.kind == "ingest.file")).one()
        assert json.loads(event.payload)["counts"] == {"added": 2, "merged": 3, "unchanged": 0}
    assert _ingest(engine, file_interior(), "interior.txt").aliases == []


def test_a_merge_undone_is_reported_and_one_undone_in_the_same_file_cancels_out(
    engine: Engine, tmp_path: Path
) -> None:
    from models.db import get_engine, init_db

    citing = _letter(
        "มท 0218/ว 9", "2020-06-01", enclosures=(Citation(number="นร 1220/85", date="2020-05-27", text=""),)
    )
    first = _ingest(engine, [citing, _letter("นร 1220/55", "2020-05-27")])
    assert [(a.alias, a.kept, a.removed) for a in first.aliases] == [("นร 1220/85", "นร 1220/55", False)]
    # A second real candidate makes the match ambiguous: the merge is undone, and said so.
    second = _ingest(engine, [_letter("นร 1220/88", "2020-05-27")], "g.txt")
    assert [str(a) for a in second.aliases] == [
        "unmerged: นร 1220/85 from นร 1220/55 of 2020-05-27 (no citation resolves it there any more)"
    ]
    assert second.merged == 0
    other = get_engine(f"sqlite:///{tmp_path}/other.db")
    init_db(other)
    together = _ingest(
        other, [citing, _letter("นร 1220/55", "2020-05-27"), _letter("นร 1220/88", "2020-05-27")]
    )
    assert together.aliases == [] and together.merged == 0


def test_doubtful_facts_are_kept_with_a_warning_in_the_report_and_the_event(engine: Engine) -> None:
    stamp = ReceiptStamp(
        number="5", date="2020-06-10", agency="จังหวัดระยอง", source=SourceRef(file="odd.txt", line=4)
    )
    letter = Letter(
        number="ซซ 1200/ว 0018",
        date="2020-06-18",
        receipts=(stamp,),
        references=(
            Citation(
                number="ฮฮ 0001/1", date="2020-06-01", text="", source=SourceRef(file="odd.txt", line=9)
            ),
        ),
        source=SourceRef(file="odd.txt", line=2),
    )
    report = _ingest(engine, [letter], "odd.txt")
    assert report.warnings == [
        "odd.txt:2: number: unknown agency code 'ซซ' in ซซ 1200/ว 0018: kept, issuer recorded as 'หน่วยงาน ซซ'"
        " (agency:หน่วยงาน ซซ)",
        "odd.txt:4: receipt: receipt date 2020-06-10 is before the date of letter ซซ 1200/ว 0018 (2020-06-18);"
        " kept as read",
        "odd.txt:9: references: unknown agency code 'ฮฮ' in ฮฮ 0001/1: kept, issuer recorded as 'หน่วยงาน ฮฮ'"
        " (agency:หน่วยงาน ฮฮ)",
    ]
    with session_scope(engine) as s:
        event = s.exec(select(Event).where(Event.kind == "ingest.file")).one()
        assert json.loads(event.payload)["warnings"] == report.warnings
        row = lookup_letter(s, "ซซ 1200/ว 0018")
        assert row is not None and row.issuer_id == "agency:หน่วยงาน ซซ"
        assert verify_chain(s).ok
    events = _events(engine)
    again = _ingest(engine, [letter], "odd.txt")
    assert again.warnings == [] and _events(engine) == events  # flagged once, when stored


# --- files through the parser -----------------------------------------------------------------

parser = pytest.importorskip("models.parser")


def test_a_malformed_file_leaves_the_record_as_it_was(
    engine: Engine, seed_files: list[Path], tmp_path: Path
) -> None:
    ingest_file(seed_files[0], engine)
    before = dump_tables(engine, skip=())
    bad = tmp_path / "bad.txt"
    bad.write_bytes("ที่ มท ๐๒๑๘/ว ๓๑๘๒\n\n".encode() + b"\x00\x01\x02 binary")
    with pytest.raises(IngestError) as info:
        ingest_file(bad, engine)
    assert str(info.value).startswith(f"{bad}:3: file: binary file")
    assert dump_tables(engine, skip=()) == before


def test_what_the_parser_left_out_is_a_warning_of_the_ingest_naming_the_line(
    engine: Engine, tmp_path: Path
) -> None:
    path = tmp_path / "relative.txt"
    path.write_text(
        "ที่ มท ๐๒๑๘/ว ๓๑๘๒\nกระทรวงมหาดไทย\n๑ มิถุนายน ๒๕๖๓\nเรื่อง ทดสอบ\nเรียน ผู้ว่าราชการจังหวัด\n"
        "ขอให้รายงานภายใน ๗ วัน นับแต่วันที่ได้รับหนังสือนี้ และส่งแผนภายในวันที่ ๓๐ มิถุนายน ๒๕๖๓\n"
        "ขอแสดงความนับถือ\n",
        encoding="utf-8",
    )
    report = ingest_file(path, engine)
    assert report.added == 1
    [warning] = report.warnings
    assert warning.startswith(
        f"{path}:6: deadline: 'ภายใน ๗ วัน นับแต่วันที่ได้รับ' counts from each addressee's receipt"
    )
    with session_scope(engine) as s:
        event = s.exec(select(Event).where(Event.kind == "ingest.file")).one()
        assert json.loads(event.payload)["warnings"] == report.warnings
        row = lookup_letter(s, "มท 0218/ว 3182")
        assert row is not None
        dues = s.exec(select(DeadlineRow.date).where(DeadlineRow.letter_id == row.id)).all()
        assert [d.isoformat() for d in dues] == ["2020-06-30"]
    # The letter went in with the deadline that is a date; reading the file again says the same.
    again = ingest_file(path, engine)
    assert again.unchanged == 1 and again.warnings == report.warnings


def test_a_letter_shows_the_notes_of_its_own_lines_of_the_file(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "two.txt"
    path.write_text(TWO_LETTERS, encoding="utf-8")
    report = ingest_file(path, engine)
    assert report.added == 2 and [w.split(": ", 1)[0] for w in report.warnings] == [f"{path}:13"]
    ingest_file(path, engine)  # read again: nothing changes, and the note is still one
    with session_scope(engine) as s:
        cover, enclosed = lookup_letter(s, "มท 0218/ว 3182"), lookup_letter(s, "นร 1220/55")
        assert cover is not None and enclosed is not None
        assert reading_notes(s, cover) == []
        [note] = reading_notes(s, enclosed)
    assert note.line == 13 and note.text.startswith("deadline: 'ภายใน ๗ วัน นับแต่วันที่ได้รับ'")


def test_reading_notes_read_the_partial_index_of_ingest_events(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's query plan")
    with engine.connect() as conn:
        plan = conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT payload FROM event WHERE subject = 'f.txt' AND kind = 'ingest.file'"
            " ORDER BY seq"
        ).fetchall()
    assert "ix_event_ingest_subject" in " ".join(str(row[-1]) for row in plan)


def test_ingest_files_goes_on_after_a_bad_file(
    engine: Engine, seed_files: list[Path], tmp_path: Path
) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("")
    outcomes = ingest_files([bad, *seed_files], engine)
    assert (
        outcomes[0].error is not None and outcomes[0].error.file == str(bad) and outcomes[0].error.line == 1
    )
    assert all(o.report is not None for o in outcomes[1:])


def test_reingesting_the_seeds_changes_nothing(engine: Engine, seed_files: list[Path]) -> None:
    for path in seed_files:
        ingest_file(path, engine)
    before, events = dump_tables(engine), _events(engine)
    for path in seed_files:
        report = ingest_file(path, engine)
        assert report.added == report.merged == 0 and report.aliases == []
    assert dump_tables(engine) == before
    assert _events(engine) == events
