"""Finding letters (`records.search`): Thai subject words without spaces, a number in any printed
form, agency and date range, paging and sorting; the word index kept in step by the service layer
and filled for letters already on record by migration 0010. On SQLite and PostgreSQL (`postgres`)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models.db import _alembic_config, get_engine, init_db, session_scope
from models.letters import Letter, SourceRef
from models.tables import LetterRow, LetterTerm
from records.search import SearchError, exact_letters, issuing_agencies, search_letters
from records.service import correct_letter, ingest_letters

# Letters of three issuers (the code and owner number name the agency): a DLA series of 60 training
# circulars for paging, an Interior meeting circular, an OPDC letter and a province's letter.
TRAINING = "ขอความร่วมมือประชาสัมพันธ์โครงการฝึกอบรมเจ้าหน้าที่ท้องถิ่น"
MEETING = "การประชุมชี้แจงการปรับปรุงแผนบริหารความพร้อมต่อสภาวะวิกฤตของจังหวัดและท้องถิ่น"
FIRST_DAY = date(2020, 1, 6)


def _letter(number: str, on: date, issuer: str, subject: str, line: int, body: str = "") -> Letter:
    text = f"ที่ {number}\nเรื่อง {subject}\nเรียน ผู้ว่าราชการจังหวัดทุกจังหวัด\n{body}"
    return Letter(
        number=number,
        date=on,
        issuer=issuer,
        subject=subject,
        salutation="ผู้ว่าราชการจังหวัดทุกจังหวัด",
        source=SourceRef(file="search.txt", line=line),
        text=text,
    )


def _letters() -> list[Letter]:
    dla = "กรมส่งเสริมการปกครองท้องถิ่น"
    out = [
        _letter(f"มท ๐๘๑๐/ว {i + 1}", FIRST_DAY + timedelta(days=i), dla, f"{TRAINING} รุ่นที่ {i + 1}", i + 1)
        for i in range(60)
    ]
    out.append(
        _letter(
            "มท ๐๒๑๘/ว ๓๑๘๒",
            date(2020, 6, 1),
            "กระทรวงมหาดไทย",
            MEETING,
            100,
            body="สำนักงาน ก.พ.ร. จะชี้แจงแนวทางผ่านระบบวิดีโอคอนเฟอเรนซ์",
        )
    )
    out.append(_letter("นร ๑๒๒๐/๘๕", date(2020, 5, 27), "สำนักงาน ก.พ.ร.", "ขอเชิญประชุมผ่านระบบวิดีโอ", 200))
    out.append(_letter("พร ๐๐๑๗.๓/ว ๓๐๒๖", date(2020, 6, 3), "จังหวัดแพร่", "แจ้งกำหนดการประชุม", 300))
    return out


@pytest.fixture
def record(engine: Engine) -> Engine:
    with session_scope(engine) as session:
        ingest_letters(session, _letters(), file="search.txt", sha256="a" * 64, actor="test")
    return engine


def _numbers(engine: Engine, q: str | None, **kw: object) -> list[str]:
    with Session(engine) as session:
        return [h.number for h in search_letters(session, q, size=500, **kw).page.items]  # type: ignore[arg-type]


def test_subject_words_without_spaces(record: Engine) -> None:
    # Two words of the subject typed together, as Thai is written: each must be in the letter.
    found = _numbers(record, "ปรับปรุงแผนบริหาร")
    assert found == ["มท 0218/ว 3182"]
    # A word the dictionary keeps inside a longer one (การประชุม): its stem finds it, with the others.
    assert set(_numbers(record, "ประชุม")) == {"มท 0218/ว 3182", "นร 1220/85", "พร 0017.3/ว 3026"}
    # Every word must match: training words and a meeting word together match no letter.
    assert _numbers(record, "ฝึกอบรมวิกฤต") == []
    # Words of the first body lines are indexed too.
    assert _numbers(record, "วิดีโอคอนเฟอเรนซ์") == ["มท 0218/ว 3182"]
    assert len(_numbers(record, "โครงการฝึกอบรม")) == 60
    with Session(record) as session:
        result = search_letters(session, "ปรับปรุงแผนบริหาร")
    assert result.terms == ("ปรับปรุง", "แผน", "บริหาร")
    assert result.number is None


def test_a_piece_of_a_word_is_found_in_the_subject(record: Engine) -> None:
    # สัมพันธ์โครง: two pieces of words the dictionary cuts otherwise (ประชาสัมพันธ์, โครงการ); no
    # letter holds both as words, so the subject is read for the phrase as typed.
    assert len(_numbers(record, "สัมพันธ์โครง")) == 60
    assert _numbers(record, "ชี้แจงการปรับ") == ["มท 0218/ว 3182"]
    assert _numbers(record, "จงการปรับปรุงแผนบริหารกรมการ") == []


@pytest.mark.parametrize(
    "printed", ["มท ๐๒๑๘/ว ๓๑๘๒", "มท ๐๒๑๘/ว. ๓๑๘๒", "มท0218/ว3182", "ที่ มท ๐๒๑๘ / ว ๓๑๘๒", "มท 0218/ว.3182"]
)
def test_a_number_in_any_printed_form(record: Engine, printed: str) -> None:
    assert _numbers(record, printed) == ["มท 0218/ว 3182"]
    with Session(record) as session:
        assert search_letters(session, printed).number == "มท 0218/ว 3182"
        assert [b.number for b in exact_letters(session, printed)] == ["มท 0218/ว 3182"]


def test_a_piece_of_a_number(record: Engine) -> None:
    assert _numbers(record, "๓๑๘๒") == ["มท 0218/ว 3182"]
    assert _numbers(record, "๐๐๑๗.๓/ว.๓๐๒๖") == ["พร 0017.3/ว 3026"]
    assert set(_numbers(record, "0810/ว 5")) == {
        "มท 0810/ว 5",
        "มท 0810/ว 50",
        *(f"มท 0810/ว {n}" for n in range(51, 60)),
    }
    with Session(record) as session:
        assert exact_letters(session, "๓๑๘๒") == []  # not a whole number: no jump to a letter


def test_agency_and_date_range(record: Engine) -> None:
    with Session(record) as session:
        options = {a.id: a.name_th for a in issuing_agencies(session)}
        dla = next(i for i, name in options.items() if name == "กรมส่งเสริมการปกครองท้องถิ่น")
        moi = next(i for i, name in options.items() if name == "กระทรวงมหาดไทย")
    in_january = _numbers(
        record, "ฝึกอบรม", agency=dla, date_from=date(2020, 1, 10), date_to=date(2020, 1, 12)
    )
    assert in_january == ["มท 0810/ว 7", "มท 0810/ว 6", "มท 0810/ว 5"]  # newest first
    assert _numbers(record, "ประชุม", agency=moi) == ["มท 0218/ว 3182"]
    assert _numbers(record, "ฝึกอบรม", agency=moi) == []
    # Filters alone, no words: every letter of June 2020.
    june = _numbers(record, None, date_from=date(2020, 6, 1), date_to=date(2020, 6, 30))
    assert june == ["พร 0017.3/ว 3026", "มท 0218/ว 3182"]
    # The reader's scope: only the letters its agencies issued.
    assert _numbers(record, "ประชุม", agencies=frozenset({moi})) == ["มท 0218/ว 3182"]
    with Session(record) as session, pytest.raises(SearchError, match="date_from 2020-02-01 is after"):
        search_letters(session, "x", date_from=date(2020, 2, 1), date_to=date(2020, 1, 1))


def test_paging(record: Engine) -> None:
    with Session(record) as session:
        first = search_letters(session, "ฝึกอบรม", page=1, size=25)
        third = search_letters(session, "ฝึกอบรม", page=3, size=25)
        past = search_letters(session, "ฝึกอบรม", page=99, size=25)
    assert (first.page.total, first.page.pages, len(first.page.items)) == (60, 3, 25)
    assert first.page.items[0].number == "มท 0810/ว 60"  # newest first
    assert [h.number for h in third.page.items] == [f"มท 0810/ว {n}" for n in range(10, 0, -1)]
    assert past.page.number == 3 and past.page.items == third.page.items
    seen = [h.id for p in (1, 2, 3) for h in _page(record, p)]
    assert len(seen) == len(set(seen)) == 60


def _page(engine: Engine, number: int) -> list:  # type: ignore[type-arg]
    with Session(engine) as session:
        return search_letters(session, "ฝึกอบรม", page=number, size=25).page.items


def test_sort(record: Engine) -> None:
    assert _numbers(record, "ประชุม", sort="number", direction="asc") == [
        "นร 1220/85", "พร 0017.3/ว 3026", "มท 0218/ว 3182",
    ]  # fmt: skip
    assert _numbers(record, "ประชุม", sort="date", direction="asc") == [
        "นร 1220/85", "มท 0218/ว 3182", "พร 0017.3/ว 3026",
    ]  # fmt: skip
    by_issuer = _numbers(record, "ประชุม", sort="issuer", direction="desc")
    assert by_issuer == ["นร 1220/85", "พร 0017.3/ว 3026", "มท 0218/ว 3182"]  # สำนักงาน, จังหวัด, กระทรวง
    subjects = _numbers(record, "ประชุม", sort="subject")
    assert subjects[0] == "มท 0218/ว 3182"  # การประชุม... sorts first, ascending by default
    with Session(record) as session:
        assert search_letters(session, "ประชุม", sort="subject").direction == "asc"
        assert search_letters(session, "ประชุม").direction == "desc"
        with pytest.raises(SearchError, match="sort: one of date, number, subject, issuer, not 'id;drop'"):
            search_letters(session, "ประชุม", sort="id;drop")
        with pytest.raises(SearchError, match="dir: 'asc' or 'desc'"):
            search_letters(session, "ประชุม", direction="up")


def test_a_corrected_subject_is_found_by_its_new_words(record: Engine) -> None:
    with session_scope(record) as session:
        correct_letter(session, "นร ๑๒๒๐/๘๕", "subject", "ขอเชิญสัมมนาออนไลน์", "misread", actor="test")
    assert _numbers(record, "สัมมนา") == ["นร 1220/85"]
    assert "นร 1220/85" not in _numbers(record, "ระบบวิดีโอ")


def test_reingesting_adds_no_term(record: Engine) -> None:
    with Session(record) as session:
        before = session.execute(sa.select(sa.func.count()).select_from(LetterTerm)).scalar_one()
    with session_scope(record) as session:
        ingest_letters(session, _letters(), file="search.txt", sha256="a" * 64, actor="test")
    with Session(record) as session:
        assert session.execute(sa.select(sa.func.count()).select_from(LetterTerm)).scalar_one() == before


def test_migration_0010_indexes_the_letters_on_record(db_url: str) -> None:
    engine = get_engine(db_url)
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0009")
    letter = sa.table(
        "letter", *(sa.column(c) for c in ("number", "date", "circular", "known_only_by_citation", "subject"))
    )
    with engine.begin() as connection:
        connection.execute(
            sa.insert(letter),
            [
                {"number": "มท 0218/ว 3182", "date": date(2020, 6, 1), "circular": True,
                 "known_only_by_citation": False, "subject": MEETING},
                {"number": "นร 1200/60012", "date": date(2020, 5, 5), "circular": False,
                 "known_only_by_citation": True, "subject": None},
            ],
        )  # fmt: skip
    init_db(engine)  # 0009 -> head
    assert _numbers(engine, "ปรับปรุงแผน") == ["มท 0218/ว 3182"]
    with Session(engine) as session:
        placeholder = session.exec(select(LetterRow).where(LetterRow.known_only_by_citation)).one()
        assert session.exec(select(LetterTerm).where(LetterTerm.letter_id == placeholder.id)).all() == []
