"""models.parser on the layouts real offices print, and its degrade-by-field contract.

The corpus (`tests/data/corpus/`, scored by `tests/models/test_corpus.py`) measures accuracy over
whole letters; these tests pin each rule down on a short text of its own.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.letters import FieldStatus, letter_to_json
from models.parser import normalize_text, read_letters

ROOT = Path(__file__).parents[2]
SAMPLES = sorted((ROOT / "demo" / "letters").glob("*.txt")) + sorted(
    (ROOT / "tests" / "data" / "letters").glob("*.txt")
)

TAIL = "\nเรื่อง ทดสอบการอ่าน\nเรียน นายอำเภอทุกอำเภอ\nขอให้รายงานภายในวันที่ ๓๐ ธันวาคม ๒๕๖๘\n"


def _one(text: str) -> dict[str, object]:
    result = read_letters(text, file="x.txt")
    [letter] = [*result.letters, *result.unread]
    return letter_to_json(letter)


@pytest.mark.parametrize(
    ("head", "number", "urgency"),
    [
        ("ด่วนมากที่ สภ ๐๐๐๓/ว ๓", "สภ 0003/ว 3", "ด่วนมาก"),
        ("ที่นบ.๐๐๓๒/ว ๔๕๖", "นบ 0032/ว 456", None),
        ("ที่มท๐๘๑๖.๓/ว๒๓๔๕", "มท 0816.3/ว 2345", None),
        ("ที่ พร ๗๓๕๐๑/๑๑๒", "พร 73501/112", None),
        ("ที่ ชม ๕๑๓๐๑/ว ๑๒๓", "ชม 51301/ว 123", None),
        ("ที่ มท ๐๖๑๒/๔/๖๗๔", "มท 0612/4/674", None),
        ("ที่ กษ ๐๒๐๑/ผ ๑๒", "กษ 0201/ผ 12", None),
        ("ที่ นร ๐๕๐๕/ว(ล) ๑๒๓๔๕", "นร 0505/ว(ล) 12345", None),
        ("ที่ มท\n๐๘๑๒.๒/ว\n๑๒๓๔", "มท 0812.2/ว 1234", None),
        ("ที่ ขก ๐๐๒๓.๓/          ศาลากลางจังหวัดขอนแก่น\nว ๕๕๖            ถนนหน้าเมือง", "ขก 0023.3/ว 556", None),
    ],
)
def test_number_as_offices_print_it(head: str, number: str, urgency: str | None) -> None:
    reading = _one(f"{head}\nจังหวัดทดสอบ\n๑๒ ธ.ค. ๖๘{TAIL}")
    assert (reading["number"], reading["date"], reading["urgency"]) == (number, "2025-12-12", urgency)
    assert reading["circular"] is ("ว" in number.split("/")[-1])


def test_a_number_split_over_lines_says_so() -> None:
    reading = _one(f"ที่ มท\n๐๘๑๒.๒/ว\n๑๒๓๔\n๑๒ ธันวาคม ๒๕๖๘{TAIL}")
    assert reading["fields"] == {
        "number": {"status": "repaired", "line": 1, "raw": "มท ๐๘๑๒.๒/ว ๑๒๓๔", "note": "printed over 3 lines"}
    }


def test_agency_beside_the_number_is_the_issuer() -> None:
    text = (
        "ที่ กษ ๐๒๐๘/ว ๑๔๕๖          กระทรวงเกษตรและสหกรณ์\n            ถนนราชดำเนินนอก กทม. ๑๐๒๐๐\n๑๕ มีนาคม ๒๕๖๗"
    )
    reading = _one(text + TAIL)
    assert (reading["issuer"], reading["address"]) == ("กระทรวงเกษตรและสหกรณ์", "ถนนราชดำเนินนอก กทม. ๑๐๒๐๐")


@pytest.mark.parametrize(
    ("date_text", "expected"),
    [
        ("๕ ม.ค.๒๕๖๙", "2026-01-05"),
        ("๑๒ ธ.ค. ๖๘", "2025-12-12"),
        ("12 ธันวาคม 2568", "2025-12-12"),
        ("๑๒ ธันวาคม พ.ศ. ๒๕๖๘", "2025-12-12"),
        ("๑๒\nธันวาคม\n๒๕๖๘", "2025-12-12"),
        ("วันที่ ๑๒ ธันวาคม ๒๕๖๘", "2025-12-12"),
    ],
)
def test_header_date_forms(date_text: str, expected: str) -> None:
    assert _one(f"ที่ ชม ๐๐๑๗.๓/ว ๑๒๓๔\nศาลากลางจังหวัดเชียงใหม่\n{date_text}{TAIL}")["date"] == expected


def test_date_on_the_number_line() -> None:
    reading = _one(f"ที่ ชม ๐๐๑๗.๓/ว ๑๒๓๔ ลงวันที่ ๑๒ ธันวาคม ๒๕๖๘{TAIL}")
    assert (reading["number"], reading["date"]) == ("ชม 0017.3/ว 1234", "2025-12-12")


def test_memo_form() -> None:
    text = (
        "บันทึกข้อความ\n"
        "ส่วนราชการ สำนักงานจังหวัดเชียงใหม่ โทร. ๐ ๕๓๑๑ ๒๒๒๒\n"
        "ที่ ชม ๐๐๑๗.๑/๑๒๓          วันที่  ๓ มีนาคม ๒๕๖๘\n"
        "เรื่อง ขออนุมัติเดินทางไปราชการ\n"
        "เรียน ผู้ว่าราชการจังหวัดเชียงใหม่\n"
    )
    reading = _one(text)
    assert (reading["number"], reading["date"], reading["issuer"], reading["subject"]) == (
        "ชม 0017.1/123", "2025-03-03", "สำนักงานจังหวัดเชียงใหม่", "ขออนุมัติเดินทางไปราชการ",
    )  # fmt: skip


def test_stamped_letter_is_dated_at_its_foot() -> None:
    text = (
        "ที่ ศธ ๐๔๑๒๓/๑๕๖๗\nถึง โรงเรียนบ้านหนองบัว\n\n"
        "ด้วยสำนักงานเขตพื้นที่การศึกษาขอให้ส่งรายงานภายในวันที่ ๒๐ มีนาคม ๒๕๖๘\n\n"
        "สำนักงานเขตพื้นที่การศึกษาประถมศึกษาขอนแก่น เขต ๑\n๓ มีนาคม ๒๕๖๘\n"
    )
    reading = _one(text)
    assert (reading["number"], reading["date"]) == ("ศธ 04123/1567", "2025-03-03")
    assert [d["date"] for d in reading["deadlines"]] == ["2025-03-20"]  # type: ignore[attr-defined]


def test_register_reads_one_letter_per_row() -> None:
    text = (
        "ทะเบียนหนังสือรับ ปี ๒๕๖๓\n"
        "๑๒๓๔  มท ๐๘๑๒/ว ๑๔๓๔  ๑๔ พ.ค. ๖๓  กรมส่งเสริมการปกครองท้องถิ่น  เรื่อง แผน BCP\n"
        "๑๒๓๕  นร ๑๒๐๐/ว๐๐๑๘  ๑๘ มิ.ย. ๖๓  สำนักงาน ก.พ.ร.  เรื่อง แผนที่ยุทธศาสตร์\n"
        "๑. หนังสือจังหวัดแพร่ ที่ พร ๐๐๒๓.๑/ว ๓๐๒๖\n   ลงวันที่ ๒๓ มิถุนายน ๒๕๖๓\n"
    )
    result = read_letters(text, file="register.txt")
    rows = [(x.number.canonical, x.date, x.issuer, x.source.line) for x in result.letters]
    assert rows == [
        ("มท 0812/ว 1434", date(2020, 5, 14), "กรมส่งเสริมการปกครองท้องถิ่น", 2),
        ("นร 1200/ว 0018", date(2020, 6, 18), "สำนักงาน ก.พ.ร.", 3),
        ("พร 0023.1/ว 3026", date(2020, 6, 23), "จังหวัดแพร่", 4),
    ]
    assert result.letters[0].subject == "แผน BCP"


def test_citations_of_a_letter_are_no_register() -> None:
    text = (
        "กรมทดสอบ\n๑ มิถุนายน ๒๕๖๓\nเรื่อง ทดสอบ\nเรียน ผู้ว่าราชการจังหวัด\n"
        "อ้างถึง หนังสือ ที่ มท ๐๘๑๒/ว ๑๔๓๔ ลงวันที่ ๑๔ พฤษภาคม ๒๕๖๓\n"
    )
    result = read_letters(text, file="x.txt")
    assert result.letters == ()
    [unread] = result.unread
    assert unread.number is None and unread.date == date(2020, 6, 1)
    assert [c.number.canonical for c in unread.references if c.number] == ["มท 0812/ว 1434"]


def test_garbled_number_keeps_the_rest_for_review() -> None:
    result = read_letters(f"ที่ ???/ ....\nองค์การบริหารส่วนตำบลบ้านกลาง\n๓ มีนาคม ๒๕๖๘{TAIL}", file="x.txt")
    [unread] = result.unread
    assert (unread.number, unread.date, unread.issuer) == (
        None,
        date(2025, 3, 3),
        "องค์การบริหารส่วนตำบลบ้านกลาง",
    )
    [reading] = unread.readings
    assert (reading.field, reading.status, reading.line, reading.raw) == (
        "number",
        FieldStatus.MISSING,
        1,
        "???/ ....",
    )
    assert [d.date for d in unread.deadlines] == [date(2025, 12, 30)]


def test_low_ocr_confidence_sends_the_number_to_review() -> None:
    text = f"ที่ มท ๐๒๑๘/ว ๓๑๘๒\nกระทรวงมหาดไทย\n๑ มิถุนายน ๒๕๖๓{TAIL}"
    sure = read_letters(text, file="scan.png", line_confidence={1: 0.93, 3: 0.9})
    assert [x.number.canonical for x in sure.letters] == ["มท 0218/ว 3182"]
    assert sure.letters[0].readings[0].confidence == pytest.approx(0.93)
    unsure = read_letters(text, file="scan.png", line_confidence={1: 0.41, 3: 0.9})
    [unread] = unsure.unread
    assert unread.number is not None and unread.number.canonical == "มท 0218/ว 3182"
    assert unread.reason.startswith("number: OCR confidence 0.41")


def test_an_ocr_form_of_thi_needs_a_whole_number() -> None:
    assert _one(f"fi มท ๐๒๑๘/ว ๓๑๘๒\n๑ มิถุนายน ๒๕๖๓{TAIL}")["number"] == "มท 0218/ว 3182"
    assert read_letters(f"ทีม ๓ คน\nที ๆ ไป\n๑ มิถุนายน ๒๕๖๓{TAIL}", file="x.txt").letters == ()


# Characters that Thai text copied from PDFs and web pages carries invisibly.
_INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u00ad", "\ufeff", "\u2060", "\u200e"]


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_invisible_characters_anywhere_read_as_the_clean_text(path: Path, data: st.DataObject) -> None:
    clean = path.read_text(encoding="utf-8")
    positions = data.draw(st.lists(st.integers(0, len(clean)), min_size=1, max_size=12))
    dirty = clean
    for pos in sorted(positions, reverse=True):
        dirty = dirty[:pos] + data.draw(st.sampled_from(_INVISIBLE)) + dirty[pos:]
    assert _readings(dirty) == _readings(clean)


def _readings(text: str) -> list[dict[str, object]]:
    result = read_letters(text, file="x.txt")
    out = []
    for letter in (*result.letters, *result.unread):
        reading = letter_to_json(letter)
        reading.pop("source")
        out.append(reading)
    return out


@pytest.mark.parametrize("path", SAMPLES[:3], ids=lambda p: p.name)
@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_markup_anywhere_never_crashes(path: Path, data: st.DataObject) -> None:
    text = path.read_text(encoding="utf-8")
    for _ in range(data.draw(st.integers(1, 5))):
        pos = data.draw(st.integers(0, len(text)))
        text = (
            text[:pos] + data.draw(st.sampled_from(["[/x]", "[bold]", "[", "]", "\\[", "[/]"])) + text[pos:]
        )
    result = read_letters(text, file="x.txt")
    assert result.letters or result.unread


def test_normalisation_notes_name_the_line() -> None:
    text, notes = normalize_text("a\nที่\u200b\u00ad มท\n")
    assert text == "a\nที่ มท\n"
    assert notes == [(2, "removed 2 invisible character(s) (U+00AD, U+200B)")]
    assert all(unicodedata.category(c) != "Cf" for c in text)


def test_a_month_the_ocr_garbled_is_repaired_and_says_so() -> None:
    reading = _one(f"ที่ ชม ๐๐๑๗.๓/ว ๑๒๓๔\nศาลากลางจังหวัดเชียงใหม่\n๑๒ ธันวาคบ ๒๕๖๘{TAIL}")
    assert reading["date"] == "2025-12-12"
    assert reading["fields"]["date"]["status"] == "repaired"  # type: ignore[index]
    assert "ธันวาคม" in reading["fields"]["date"]["note"]  # type: ignore[index]


def test_urgency_and_slash_as_ocr_prints_them() -> None:
    reading = _one(f"ที่ มท ๐๒๑๘|ว ๓๑๘๒          ด่วนที่สุด\nกระทรวงมหาดไทย\n๑ มิถุนายน ๒๕๖๓{TAIL}")
    assert (reading["number"], reading["urgency"], reading["issuer"]) == (
        "มท 0218/ว 3182",
        "ด่วนที่สุด",
        "กระทรวงมหาดไทย",
    )
    assert reading["ocr_repairs"] == ["/ read as another stroke"]


def test_an_ocr_year_far_from_the_letters_other_dates_is_repaired_by_a_confusable_digit() -> None:
    text = (
        "ที่ มท ๐๘๑๖.๓/ว ๒๓๔๕\nกรมส่งเสริมการปกครองท้องถิ่น\n๕ มกราคม ๒๕๒๙\nเรื่อง ทดสอบ\nเรียน ผู้ว่าราชการจังหวัด\n"
        "อ้างถึง หนังสือ ที่ มท ๐๘๑๖.๓/ว ๙๙๙ ลงวันที่ ๒๐ ธันวาคม ๒๕๖๘\nขอให้รายงานภายในวันที่ ๓๐ มกราคม ๒๕๖๙\n"
    )
    scanned = read_letters(text, file="scan.png", line_confidence={1: 0.9, 3: 0.9})
    [letter] = scanned.letters
    assert letter.date == date(2026, 1, 5)  # ๒๕๒๙: ๖ read as ๒, as Tesseract does
    [reading] = [r for r in letter.readings if r.field == "date"]
    assert reading.status is FieldStatus.REPAIRED and "๒๕๖๙" in (reading.note or "")
    typed = read_letters(text, file="typed.txt")  # a typed file is taken as printed
    assert [x.date for x in typed.letters] == [date(1986, 1, 5)]


def test_an_ocr_year_no_digit_explains_goes_to_review() -> None:
    text = (
        "ที่ มท ๐๘๑๖.๓/ว ๒๓๔๕\nกรมส่งเสริมการปกครองท้องถิ่น\n๕ มกราคม ๒๕๔๐\nเรื่อง ทดสอบ\nเรียน ผู้ว่าราชการจังหวัด\n"
        "ขอให้รายงานภายในวันที่ ๓๐ มกราคม ๒๕๖๙\n"
    )
    [unread] = read_letters(text, file="scan.png", line_confidence={1: 0.9, 3: 0.9}).unread
    assert unread.reason.startswith("date: year ๒๕๔๐ is far from")


def test_ocr_marks_in_an_agency_code_and_thi_glued_to_it() -> None:
    reading = _one(f"ทีมท๐๘๑๖.๓/ว๒๓๔๕\nกรมส่งเสริมการปกครองท้องถิ่น\n๑ มิถุนายน ๒๕๖๓{TAIL}")
    assert reading["number"] == "มท 0816.3/ว 2345"
    assert (
        _one(f"ที ขุก ๐๐๑๘.๒/ว ๑๘๙๐\nศาลากลางจังหวัดขอนแก่น\n๑ มิถุนายน ๒๕๖๓{TAIL}")["number"] == "ขก 0018.2/ว 1890"
    )


def test_an_ocr_cited_date_with_a_digit_too_many_is_read_near_the_letter() -> None:
    text = (
        "ทีนบ.๐๐๓๒/ว ๔๕๖\nศาลากลางจังหวัดนนทบุรี\n๒๗ สิงหาคม ๒๕๖๓\nเรื่อง ทดสอบ\nเรียน นายอำเภอทุกอำเภอ\n"
        "อ้างถึง หนังสือ ที่ มท ๐๘๑๖.๓/ว๑๐๔๔ ลงวันที่ ๘ มีนาคม ๒๕๖๐๓\n"
    )
    [letter] = read_letters(text, file="scan.png", line_confidence={1: 0.9, 3: 0.9}).letters
    assert letter.number.canonical == "นบ 0032/ว 456"
    assert [(c.number.canonical, c.date) for c in letter.references if c.number] == [
        ("มท 0816.3/ว 1044", date(2020, 3, 8))
    ]
