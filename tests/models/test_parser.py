"""models.parser and `saraban parse`: seeds, our own sample letters, bad input."""

from __future__ import annotations

import json
import re
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cli.main import app
from models.letters import FieldStatus, Letter, Urgency, letter_to_json
from models.parser import ParseError, parse_file, parse_letters, read_file, read_letters
from models.thai import format_thai_date, to_thai_digits
from tests.conftest import SEEDS

DATA = Path(__file__).parents[1] / "data"
LETTERS = DATA / "letters"
BAD = DATA / "bad"
DEMO = Path(__file__).parents[2] / "demo" / "letters"

_THAI = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")


# --------------------------------------------------------------------------- seeds (expected.json)


def _norm(number: object) -> str | None:
    """Numbers as the seed scorer compares them: no spaces, Arabic digits, no dot after ว."""
    if number is None:
        return None
    return re.sub(r"\s+", "", str(number).translate(_THAI)).replace("ว.", "ว")


def _alts(value: object) -> set[str | None]:
    return {_norm(v) for v in (value if isinstance(value, list) else [value])}


def _seed_mismatches(expected: list[dict[str, Any]], parsed: list[dict[str, Any]]) -> list[str]:
    """Everything expected.json says about one file that the parsed JSON does not hold."""
    problems: list[str] = []
    if len({_norm(p["number"]) for p in parsed}) != len(expected):
        problems.append(f"{len(parsed)} letters parsed, {len(expected)} expected")
    for e in expected:
        found = [p for p in parsed if _norm(p["number"]) in _alts(e["number"])]
        if not found:
            problems.append(f"no letter numbered {e['number']}")
            continue
        p = found[0]
        name = f"[{p['number']}]"
        for key in ("date", "urgency", "circular", "issuer"):
            if key in e and p[key] != e[key]:
                problems.append(f"{name} {key}: {p[key]!r} != {e[key]!r}")
        if "salutation" in e and not (p["salutation"] or "").startswith(e["salutation"]):
            problems.append(f"{name} salutation {p['salutation']!r} does not start with {e['salutation']!r}")
        for kind in ("references", "enclosures"):
            have = {(_norm(c["number"]), c["date"]) for c in p[kind]}
            for x in e.get(kind, []):
                if not any((alt, x["date"]) in have for alt in _alts(x["number"])):
                    problems.append(f"{name} {kind} missing {x}")
        for x in e.get("receipts", []):
            match = [r for r in p["receipts"] if (r["number"], r["date"]) == (_norm(x["number"]), x["date"])]
            if not match or ("time" in x and match[0]["time"] != x["time"]):
                problems.append(f"{name} receipt missing {x}")
        have_dates = {d["date"] for d in p["deadlines"]}
        problems += [f"{name} deadline missing {d}" for d in e.get("deadlines", []) if d not in have_dates]
    return problems


def _seed_cases() -> list[tuple[str, list[dict[str, Any]]]]:
    path = SEEDS / "expected.json"
    return sorted(json.loads(path.read_text(encoding="utf-8"))["files"].items())


@pytest.mark.parametrize(("name", "expected"), _seed_cases())
def test_seed_file_matches_expected(name: str, expected: list[dict[str, Any]]) -> None:
    letters = parse_file(SEEDS / name)
    assert _seed_mismatches(expected, [letter_to_json(x) for x in letters]) == []


def test_seeds_through_the_cli_score_fully() -> None:
    cases = _seed_cases()
    result = CliRunner().invoke(app, ["parse", "--json", *(str(SEEDS / name) for name, _ in cases)])
    assert result.exit_code == 0, result.output
    parsed = json.loads(result.stdout)
    for name, expected in cases:
        in_file = [p for p in parsed if Path(p["source"]["file"]).name == name]
        assert _seed_mismatches(expected, in_file) == [], name


def test_seed_checker_notices_a_wrong_reading() -> None:
    expected = [{"number": "มท 0218/ว 3182", "date": "2020-06-01", "deadlines": ["2020-06-10"]}]
    parsed = [
        {
            "number": "มท 0218/ว 3182",
            "date": "2020-06-02",
            "deadlines": [],
            "references": [],
            "enclosures": [],
        }
    ]
    parsed[0] |= {"receipts": [], "salutation": None}
    assert len(_seed_mismatches(expected, parsed)) == 2


# --------------------------------------------------------------------------- our own sample letters


def _one(name: str) -> Letter:
    [letter] = parse_file(LETTERS / name)
    return letter


def _deadlines(letter: Letter) -> list[tuple[date, time | None, str]]:
    return [(d.date, d.time, d.kind) for d in letter.deadlines]


def test_number_on_its_own_line_date_split_arabic_digits() -> None:
    letter = _one("a_dla_arabic_split.txt")
    assert letter.number.canonical == "มท 0812/ว 1434"
    assert letter.source.line == 5  # the ที่ line, not the number below it
    assert letter.date == date(2020, 5, 14)
    assert letter.urgency is Urgency.MOST_URGENT
    assert letter.issuer == "กรมส่งเสริมการปกครองท้องถิ่น"
    assert letter.subject is not None and letter.subject.endswith("โคโรนา 2019")  # wrapped subject joined
    assert letter.addressees == ("ผู้ว่าราชการจังหวัด ทุกจังหวัด",)
    assert [(str(c.number), c.date) for c in letter.references] == [("มท 0812/ว 1217", date(2020, 4, 20))]
    assert [(c.number and str(c.number), c.date) for c in letter.enclosures] == [
        ("นร 1200/ว 0013", date(2020, 5, 5)),
        (None, None),
    ]
    # the due date wraps onto the next line; the cabinet date (เมื่อวันที่) is history
    assert _deadlines(letter) == [(date(2020, 6, 30), None, "due")]
    assert letter.signer == "นายสมชาย ใจเย็น"
    assert letter.signer_position == "รองอธิบดี ปฏิบัติราชการแทน อธิบดีกรมส่งเสริมการปกครองท้องถิ่น"
    assert letter.owner_unit == "กองพัฒนาและส่งเสริมการบริหารงานท้องถิ่น"


def test_side_by_side_stamps_with_two_digit_years() -> None:
    letter = _one("b_stamps_tabs_2digit.txt")
    assert letter.number.canonical == "รย 0023.3/ว 2145"
    assert letter.issuer == "จังหวัดระยอง"  # ศาลากลางจังหวัดระยอง
    stamps = [(r.number, r.date, r.time, r.agency) for r in letter.receipts]
    assert stamps == [
        ("456", date(2020, 6, 4), time(9, 45), "ที่ว่าการอำเภอเมืองระยอง"),
        ("1203", date(2020, 6, 4), None, "องค์การบริหารส่วนจังหวัดระยอง"),
    ]
    assert letter.addressees == ("นายอำเภอทุกอำเภอ", "นายกองค์การบริหารส่วนจังหวัดระยอง")
    assert [c.issuer for c in letter.enclosures] == ["กระทรวงมหาดไทย"]  # urgency word stripped
    assert _deadlines(letter) == [
        (date(2020, 6, 12), time(13, 30), "meeting"),
        (date(2020, 6, 8), None, "due"),
    ]


def test_cover_letter_and_its_enclosure_in_one_file() -> None:
    cover, enclosed = parse_file(LETTERS / "c_cover_with_enclosure.txt")
    assert (cover.number.canonical, enclosed.number.canonical) == ("มท 0218/ว 3182", "นร 1220/55")
    assert [str(c.number) for c in cover.enclosures] == ["นร 1220/85"]  # as printed (OCR ๕ -> ๘)
    assert [(r.number, r.date, r.time) for r in cover.receipts] == [("1515", date(2020, 6, 2), time(13, 30))]
    # the machine stamp and the division's stamp sit above the enclosed letter's number
    assert [(r.number, r.date, r.time) for r in enclosed.receipts] == [
        (None, date(2020, 5, 29), time(10, 15)),
        ("92093", date(2020, 5, 29), None),
    ]
    assert cover.owner_unit == "สำนักงานปลัดกระทรวง"
    assert cover.end_line is not None and cover.end_line < enclosed.source.line
    assert enclosed.text.startswith("RECEIVED")
    assert enclosed.date == date(2020, 5, 27)  # `๒๗ พฤษภาคม ๒๕๖๓.`
    assert [str(c.number) for c in enclosed.references] == ["นร 1200/ว 0012", "นร 1200/ว 0013"]
    assert enclosed.references[0].number is not None and enclosed.references[0].number.ocr_repairs
    assert _deadlines(enclosed) == [
        (date(2020, 6, 8), time(9, 30), "meeting"),
        (date(2020, 6, 3), None, "due"),  # RSVP without a year: the letter's year
        (date(2020, 6, 10), time(13, 30), "meeting"),
        (date(2020, 6, 12), time(13, 30), "meeting"),
    ]


def test_copies_and_acting_position() -> None:
    letter = _one("d_phrae_copies.txt")
    assert letter.copies_to == ("ท้องถิ่นอำเภอทุกอำเภอ", "สำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัดแพร่")
    assert letter.signer_position == "ท้องถิ่นจังหวัดแพร่ ปฏิบัติราชการแทน ผู้ว่าราชการจังหวัดแพร่"
    assert [(str(c.number), c.date) for c in letter.enclosures] == [
        ("มท 0812/ว 1217", date(2020, 4, 20)),
        ("มท 0812/ว 1434", date(2020, 5, 14)),
    ]
    assert letter.end_line == len((LETTERS / "d_phrae_copies.txt").read_text(encoding="utf-8").splitlines())


def test_hash_junk_label_variants_and_value_on_next_line() -> None:
    letter = _one("e_opdc_hash_nextline_stamp.txt")
    assert letter.number.canonical == "นร 1200/ว 0018"
    assert [(r.number, r.date, r.time, r.agency) for r in letter.receipts] == [
        ("011099", date(2020, 6, 22), None, "ศาลากลางจังหวัดนนทบุรี")
    ]
    assert letter.issuer == "สำนักงาน ก.พ.ร."  # not the stamp's agency above the receipt number
    assert [str(c.number) for c in letter.references] == ["นร 1200/ว 0013", "มท 0812/ว 1434"]
    assert letter.references[1].date == date(2020, 5, 14)  # ลงวันที่ on the following line
    assert letter.signer == "นางสาวสุดา ตั้งใจ"


def test_urgent_by_dotted_circular_and_bad_body_date() -> None:
    result = read_file(LETTERS / "f_district_wor617.txt")
    [letter] = result.letters
    assert letter.number.canonical == "พร 0833/ว 617"
    assert letter.urgency is Urgency.URGENT
    assert letter.issuer == "อำเภอเมืองแพร่"
    assert _deadlines(letter) == [
        (date(2020, 6, 26), time(16, 30), "due"),  # ด่วนภายใน
        (date(2020, 6, 30), None, "due"),  # ภายในเดือนมิถุนายน
        (date(2020, 6, 29), time(9, 30), "meeting"),
    ]
    # 31 June in the body is skipped with a warning, not an error
    assert [(w.line, w.field) for w in result.warnings] == [(11, "deadline")]
    assert "มิถุนายน" in str(result.warnings[0])


def _body(*lines: str) -> str:
    """A minimal letter of 1 June 2563 (2020) whose body holds `lines`."""
    head = ["ที่ มท ๐๒๑๘/ว ๓๑๘๒", "กระทรวงมหาดไทย", "๑ มิถุนายน ๒๕๖๓", "เรื่อง ทดสอบ", "เรียน ผู้ว่าราชการจังหวัด"]
    return "\n".join([*head, *lines, "ขอแสดงความนับถือ"])


@pytest.mark.parametrize(
    ("text", "due", "why"),
    [
        ("รายงานภายใน ๑๕ วัน นับแต่วันที่ลงในหนังสือนี้", date(2020, 6, 16), None),
        ("รายงานภายใน 30 วันนับจากวันที่ในหนังสือฉบับนี้", date(2020, 7, 1), None),
        ("รายงานภายใน ๗ วัน นับแต่วันที่ได้รับหนังสือนี้", None, "counts from each addressee's receipt"),
        ("รายงานภายใน ๕ วันทำการ นับแต่วันที่ลงในหนังสือ", None, "counts working days"),
        ("รายงานภายใน ๑๐ วัน", None, "states no day to count from"),
        ("รายงานภายใน ๗ วัน นับแต่วันที่ ๓ มิถุนายน ๒๕๖๓", date(2020, 6, 10), None),
        ("รายงานภายใน ๗ วัน นับแต่วันที่ ๓๑ มิถุนายน ๒๕๖๓", None, "counts from a day not read as a date"),
        ("รายงานภายใน ๗ วัน นับแต่วันที่ ๑ พฤษภาคม ๒๕๖๓", None, "fell due on 2020-05-08, before the letter's date"),
        ("รายงานภายใน ๗ วันทำการ นับแต่วันที่ ๓ มิถุนายน ๒๕๖๓", None, "counts working days"),
    ],
)
def test_a_period_from_the_letters_date_is_a_deadline_and_any_other_period_a_warning(
    text: str, due: date | None, why: str | None
) -> None:
    result = read_letters(_body(text), file="relative.txt")
    [letter] = result.letters
    assert _deadlines(letter) == ([(due, None, "due")] if due else [])
    if why is None:
        assert result.warnings == ()
        assert letter.deadlines[0].source is not None and letter.deadlines[0].source.line == 6
    else:
        [warning] = result.warnings
        assert (warning.file, warning.line, warning.field) == ("relative.txt", 6, "deadline")
        assert why in warning.message and "not tracked" in warning.message


def test_the_seed_style_period_counted_from_receipt_is_reported_not_dated() -> None:
    result = read_file(LETTERS / "g_one_line_stamps.txt")
    [letter] = result.letters
    assert _deadlines(letter) == [(date(2020, 6, 30), None, "due")]  # ภายในวันที่ ๓๐ มิถุนายน only
    [warning] = result.warnings
    assert warning.line == 23 and "ภายใน ๗ วัน นับแต่วันที่ได้รับ" in warning.message


def _receipts(letter: Letter) -> list[tuple[str | None, date | None, time | None, str | None]]:
    return [(r.number, r.date, r.time, r.agency) for r in letter.receipts]


def test_one_line_stamps_label_variants_mixed_digits_blank_time() -> None:
    letter = _one("g_one_line_stamps.txt")
    assert _receipts(letter) == [
        ("441", date(2020, 5, 15), time(10, 30), "จังหวัดแพร่"),  # number, date and time on one line
        ("120", date(2020, 5, 18), time(14, 0), "สำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัดแพร่"),  # date + time
        ("52", date(2020, 5, 19), None, "กลุ่มงานส่งเสริมและพัฒนาท้องถิ่น"),  # รับที่/รับวันที่, blank รับเวลา
    ]
    assert letter.date == date(2020, 5, 14)  # indented with tabs
    assert letter.issuer == "กรมส่งเสริมการปกครองท้องถิ่น"


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("เลขรับ๔๔๑วันที่๑๕พ.ค.๖๓เวลา๑๐.๓๐น.", ("441", date(2020, 5, 15), time(10, 30))),  # no spaces
        ("เลขที่รับ 4๔1 วันที่ 1๕ พ.ค. ๖3 เวลา .....", ("441", date(2020, 5, 15), None)),
        ("เลขรับที่ : 441  วันที่รับ 15 พ.ค. 2563", ("441", date(2020, 5, 15), None)),
        ("วันที่ ๑๕ พ.ค. ๖๓ ๑๐.๓๐ น.", (None, date(2020, 5, 15), time(10, 30))),  # a time without its label
    ],
    ids=["glued", "mixed-digits-blank-time", "colon-and-date-label-after", "unlabelled-time"],
)
def test_one_line_stamp_forms(stamp: str, expected: tuple[str | None, date, time | None]) -> None:
    text = _letter_text("มท 0812/ว 1300", date(2020, 5, 13), None, thai=True)
    [letter] = parse_letters(f"{stamp}\n{text}", file="x.txt")
    assert [(r.number, r.date, r.time) for r in letter.receipts] == [expected]


def test_one_line_stamp_with_impossible_date_and_time_warns() -> None:
    text = _letter_text("มท 0812/ว 1300", date(2020, 5, 13), None, thai=True)
    result = read_letters(f"เลขรับ ๔๔๑ วันที่ ๓๑ ก.พ. ๖๓ เวลา ๒๕.๐๐\n{text}", file="x.txt")
    assert [(r.number, r.date, r.time) for r in result.letters[0].receipts] == [("441", None, None)]
    assert [(w.line, w.field) for w in result.warnings] == [(1, "receipt date"), (1, "receipt time")]


def test_second_registry_stamp_at_the_foot_of_the_letter() -> None:
    letter = _one("h_receipt_at_foot.txt")
    assert _receipts(letter) == [
        ("011099", date(2020, 6, 22), None, "ศาลากลางจังหวัดนนทบุรี"),
        ("642", date(2020, 6, 24), time(10, 5), "สำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัดนนทบุรี"),
    ]
    # the reply form's `เลขที่ ๕๙ ถนน...` below it is an address, not a stamp
    assert letter.owner_unit == "กองยุทธศาสตร์การพัฒนาระบบราชการ"
    assert letter.date == date(2020, 6, 18)  # `วันที่ ๑๘ มิถุนายน ๒๕๖๓` is the letter's date, not a stamp


def test_citation_with_thi_glued_to_the_word_before_it() -> None:
    letter = _one("h_receipt_at_foot.txt")
    assert [(str(c.number), c.date, c.issuer) for c in letter.references] == [
        ("นร 1200/ว 0013", date(2020, 5, 5), None),  # หนังสือที่ นร ...: no issuer named
        ("มท 0812/ว 1434", date(2020, 5, 14), "กรมส่งเสริมการปกครองท้องถิ่น"),  # ...ท้องถิ่นที่ มท ...
    ]
    [enclosure] = _one("g_one_line_stamps.txt").enclosures
    assert enclosure.issuer == "สำนักงาน ก.พ.ร."  # สำนักงาน ก.พ.ร.ที่ นร ...


def test_stamps_between_cover_letter_and_enclosure_go_to_the_page_they_are_on() -> None:
    cover, enclosed = parse_file(LETTERS / "i_cover_foot_stamps.txt")
    # the district's stamp right below the cover letter's closing block is on the cover letter's page
    assert _receipts(cover) == [("512", date(2020, 6, 24), time(9, 30), "ที่ว่าการอำเภอลอง")]
    # the machine stamp of 15 May predates the cover letter (23 June): it is the enclosure's,
    # as is the stamp group right above the enclosure's number
    assert _receipts(enclosed) == [
        (None, date(2020, 5, 15), time(14, 20), None),
        ("8830", date(2020, 5, 15), None, "จังหวัดแพร่"),
    ]
    lines = (LETTERS / "i_cover_foot_stamps.txt").read_text(encoding="utf-8").splitlines()
    assert cover.end_line is not None and lines[cover.end_line - 1].startswith("เลขรับ ๕๑๒")
    assert enclosed.text.startswith("RECEIVED")
    assert enclosed.date == date(2020, 5, 14)  # day, month and year each on its own line


def test_a_single_stamp_group_between_two_letters_is_the_next_letters() -> None:
    cover, enclosed = parse_file(LETTERS / "c_cover_with_enclosure.txt")
    assert cover.receipts[-1].number == "1515"
    assert enclosed.receipts[0].date == date(2020, 5, 29)


def _dated_letter(date_lines: list[str]) -> str:
    return "\n".join(
        ["ที่ มท ๐๒๑๘/ว ๔๐๐๐", "กระทรวงมหาดไทย", "ถนนอัษฎางค์ กทม. ๑๐๒๐๐", *date_lines, "เรื่อง ทดสอบ"]
    )


@pytest.mark.parametrize(
    "date_lines",
    [
        ["วันที่ ๑๗ สิงหาคม ๒๕๖๓"],
        ["\t\t๑๗ สิงหาคม ๒๕๖๓"],
        ["๑๗", "สิงหาคม", "๒๕๖๓"],
        ["๑๗ สิงหาคม", "๒๕๖๓"],
    ],
    ids=["prefixed", "tab-indented", "three-lines", "two-lines"],
)
def test_header_date_forms(date_lines: list[str]) -> None:
    [letter] = parse_letters(_dated_letter(date_lines), file="x.txt")
    assert (letter.date, letter.receipts) == (date(2020, 8, 17), ())


def test_prefixed_date_next_to_a_real_date_line_stays_a_stamp() -> None:
    [letter] = parse_letters(_dated_letter(["วันที่ ๑๘ ส.ค. ๖๓", "๑๗ สิงหาคม ๒๕๖๓"]), file="x.txt")
    assert letter.date == date(2020, 8, 17)
    assert [(r.number, r.date) for r in letter.receipts] == [(None, date(2020, 8, 18))]


def test_side_by_side_columns_are_not_a_header_date() -> None:
    result = read_letters(_dated_letter(["๑๗ สิงหาคม ๒๕๖๓\tเลขรับ ๑๒"]), file="x.txt")
    [unread] = result.unread
    assert unread.date is None and unread.reason.startswith("date: no date line")


def test_prefixed_header_date_that_cannot_be_goes_to_review() -> None:
    [unread] = read_letters(_dated_letter(["วันที่ ๓๑ กุมภาพันธ์ ๒๕๖๓"]), file="x.txt").unread
    [reading] = unread.readings
    assert (unread.source.file, reading.line, reading.field) == ("x.txt", 4, "date")


def test_seed_machine_stamp_below_the_cover_letter_goes_by_its_date() -> None:
    """A machine stamp below the cover letter is the cover's (the receiving province's day) unless it
    is dated before the cover letter: then it tops the enclosed letter's page."""
    first = sorted(SEEDS.glob("000_*.txt"))[0]  # Interior's cover letter with OPDC's letter inside
    cover, enclosed = parse_file(first)
    lines = first.read_text(encoding="utf-8").splitlines()
    machines = [(r, letter) for letter in (cover, enclosed) for r in letter.receipts if r.number is None]
    assert machines
    for stamp, holder in machines:
        assert stamp.source is not None and lines[stamp.source.line - 1].startswith("RECEIVED")
        assert stamp.date is not None
        assert holder is (cover if stamp.date >= cover.date else enclosed)
    assert {r.date for r in enclosed.receipts} == {date(2020, 5, 29)}


@pytest.mark.parametrize(
    "path", sorted(LETTERS.glob("*.txt")) + sorted(DEMO.glob("*.txt")), ids=lambda p: p.name
)
def test_sample_letters_parse_without_warnings_into_consistent_letters(path: Path) -> None:
    result = read_file(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    previous_end = 0
    for letter in result.letters:
        assert "ที่" in lines[letter.source.line - 1]
        assert letter.end_line is not None and previous_end < letter.source.line <= letter.end_line
        previous_end = letter.end_line
        assert all(d.date >= letter.date for d in letter.deadlines)
        assert len({(d.date, d.kind) for d in letter.deadlines}) == len(letter.deadlines)
        assert all(r.number is None or r.number.isascii() for r in letter.receipts)
        assert (
            json.loads(json.dumps(letter_to_json(letter), ensure_ascii=False))["number"]
            == letter.number.canonical
        )
    # The two with warnings are tested for them: a 31 June, a deadline counted from receipt.
    expected = {"f_district_wor617.txt": [(11, "deadline")], "g_one_line_stamps.txt": [(23, "deadline")]}
    assert [(w.line, w.field) for w in result.warnings] == expected.get(path.name, [])


def test_demo_letters_form_the_chain() -> None:
    letters = [letter for path in sorted(DEMO.glob("*.txt")) for letter in parse_file(path)]
    numbers = [x.number.canonical for x in letters]
    assert numbers == [
        "นร 1200/ว 0013",
        "มท 0812/ว 1434",
        "มท 0218/ว 3182",
        "นร 1220/55",
        "นร 1200/ว 0018",
        "พร 0023.1/ว 3026",
    ]
    cited = {str(c.number) for x in letters for c in (*x.references, *x.enclosures) if c.number}
    assert {"นร 1200/ว 0013", "มท 0812/ว 1434", "มท 0812/ว 1217", "นร 1220/85"} <= cited


# --------------------------------------------------------------------------- general behaviour


def _letter_text(number: str, day: date, urgency: str | None, *, thai: bool) -> str:
    printed = to_thai_digits(number) if thai else number
    return "\n".join(
        [
            *([urgency] if urgency else []),
            f"ที่ {printed}",
            "กระทรวงมหาดไทย",
            to_thai_digits("ถนนอัษฎางค์ กทม. 10200") if thai else "ถนนอัษฎางค์ กทม. 10200",
            format_thai_date(day, thai_digits=thai),
            "เรื่อง ทดสอบ",
            "เรียน ผู้ว่าราชการจังหวัดทุกจังหวัด",
            "ขอให้รายงานภายในวันที่ " + format_thai_date(day, thai_digits=thai),
        ]
    )


@settings(max_examples=40)
@given(
    st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 12, 31)),
    st.sampled_from([None, "ด่วน", "ด่วนมาก", "ด่วนที่สุด"]),
    st.from_regex(r"\A(มท|นร|พร) [0-9]{4}/(ว )?[1-9][0-9]{0,3}\Z"),
    st.booleans(),
)
def test_generated_letter_reads_back(day: date, urgency: str | None, number: str, thai: bool) -> None:
    [letter] = parse_letters(_letter_text(number, day, urgency, thai=thai), file="gen.txt")
    assert letter.number.canonical == number
    assert letter.date == day
    assert letter.urgency == (Urgency(urgency) if urgency else None)
    assert letter.issuer == "กระทรวงมหาดไทย"
    assert [(d.date, d.kind) for d in letter.deadlines] == [(day, "due")]


def test_lines_starting_with_thi_word_are_not_letters() -> None:
    text = _letter_text("มท 0218/ว 3182", date(2020, 6, 1), None, thai=True)
    text += "\nขอแสดงความนับถือ\n(นายทดสอบ ระบบ)\nที่ปรึกษาการพัฒนาระบบราชการ\n"
    [letter] = parse_letters(text, file="x.txt")
    assert letter.signer_position == "ที่ปรึกษาการพัฒนาระบบราชการ"


def test_citation_wrapped_onto_its_own_line_is_not_a_new_letter() -> None:
    text = "\n".join(
        [
            "ที่ พร ๐๐๒๓.๑/ว ๓๐๒๖",
            "ศาลากลางจังหวัดแพร่",
            "ถนนไชยบูรณ์ พร ๕๕๐๐๐",
            "๒๓ มิถุนายน ๒๕๖๓",
            "เรื่อง ทดสอบ",
            "เรียน นายอำเภอทุกอำเภอ",
            "สิ่งที่ส่งมาด้วย สำเนาหนังสือกรมส่งเสริมการปกครองท้องถิ่น",
            "ที่ มท ๐๘๑๒/ว ๑๒๑๗",
            "ลงวันที่ ๒๐ เมษายน ๒๕๖๓",
            "จังหวัดขอให้ดำเนินการภายในวันที่ ๓๐ มิถุนายน ๒๕๖๓",
        ]
    )
    [letter] = parse_letters(text, file="x.txt")
    assert [(str(c.number), c.date, c.issuer) for c in letter.enclosures] == [
        ("มท 0812/ว 1217", date(2020, 4, 20), "กรมส่งเสริมการปกครองท้องถิ่น")
    ]


def test_issuer_falls_back_to_the_number_code() -> None:
    text = "ที่ พร ๐๐๒๓.๑/ว ๓๐๒๖\n๒๓ มิถุนายน ๒๕๖๓\nเรื่อง ทดสอบ\nเรียน นายอำเภอทุกอำเภอ"
    assert parse_letters(text, file="x.txt")[0].issuer == "จังหวัดแพร่"
    text = "ที่ มท ๐๘๑๒/ว ๑๔๓๔\n๑๔ พฤษภาคม ๒๕๖๓\nเรื่อง ทดสอบ"
    assert parse_letters(text, file="x.txt")[0].issuer == "กรมส่งเสริมการปกครองท้องถิ่น"


def test_letter_cut_after_its_header_still_reads() -> None:
    text = "ที่ นร ๑๒๐๐/ว๐๐๑๘\nสำนักงาน ก.พ.ร.\nถนนพิษณุโลก กทม. ๑๐๓๐๐\n๑๘ มิถุนายน ๒๕๖๓\nเรื่อง แผน BCP"
    [letter] = parse_letters(text, file="x.txt")
    assert (letter.subject, letter.salutation, letter.signer, letter.end_line) == ("แผน BCP", None, None, 5)


# --------------------------------------------------------------------------- bad input


def _line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if needle in line)


FILE_FAULTS = [
    ("empty.txt", lambda p: 1),
    ("binary.bin", lambda p: 1),  # PNG magic, then garbage: not a readable image
]
# Files that are letters with one field that cannot be read: each is kept for review, with a
# reading that names the field, its line and why.
REVIEW_CASES = [
    ("cut_in_half.txt", "date", lambda p: None),
    ("feb31.txt", "date", lambda p: _line_of(p, "กุมภาพันธ์")),
    ("year1563.txt", "date", lambda p: _line_of(p, "๑๕๖๓")),
    ("no_agency_code.txt", "number", lambda p: _line_of(p, "ที่ ๐๒๑๘")),
]


@pytest.mark.parametrize(("name", "line_of"), FILE_FAULTS, ids=[c[0] for c in FILE_FAULTS])
def test_file_level_fault_raises_parse_error(name: str, line_of: Any) -> None:
    path = BAD / name
    with pytest.raises(ParseError) as caught:
        parse_file(path)
    err = caught.value
    assert (err.file, err.field, err.line) == (str(path), "file", line_of(path))
    assert str(err).startswith(f"{path}:{err.line}: file: ")


@pytest.mark.parametrize(("name", "field", "line_of"), REVIEW_CASES, ids=[c[0] for c in REVIEW_CASES])
def test_unreadable_field_keeps_the_letter_for_review(name: str, field: str, line_of: Any) -> None:
    path = BAD / name
    result = read_file(path)
    assert result.letters == ()
    [unread] = result.unread
    [reading] = [r for r in unread.readings if r.field == field]
    assert reading.status in (FieldStatus.MISSING, FieldStatus.PARTIAL)
    assert reading.line == line_of(path)
    assert unread.reason.startswith(f"{field}: ")
    assert unread.text and unread.source.file == str(path)
    other = unread.number if field == "date" else unread.date
    assert other is not None  # the rest of the letter was read


def test_text_with_no_letter_number_is_one_review_entry() -> None:
    result = read_file(BAD / "no_letter.txt")
    [unread] = result.unread
    assert unread.number is None and unread.reason.startswith("number: ")
    assert [d.date for d in unread.deadlines] == [date(2020, 6, 3)]


def test_missing_file_and_directory_raise_parse_error() -> None:
    for path in (BAD / "does-not-exist.txt", BAD):
        with pytest.raises(ParseError) as caught:
            parse_file(path)
        assert caught.value.field == "file"


def test_body_date_that_cannot_be_is_a_warning() -> None:
    text = _letter_text("มท 0218/ว 3182", date(2020, 6, 1), None, thai=True) + "\nประชุมในวันที่ ๓๑ มิถุนายน ๒๕๖๓"
    result = read_letters(text, file="x.txt")
    assert len(result.letters) == 1
    assert [(w.line, w.field) for w in result.warnings] == [(8, "deadline")]


@pytest.mark.parametrize(("name", "line_of"), FILE_FAULTS, ids=[c[0] for c in FILE_FAULTS])
def test_cli_reports_bad_file_and_goes_on(name: str, line_of: Any) -> None:
    bad = BAD / name
    good = LETTERS / "d_phrae_copies.txt"
    result = CliRunner().invoke(app, ["parse", "--json", str(bad), str(good)])
    assert result.exit_code == 2
    assert f"{bad}:{line_of(bad)}: file:" in result.stderr
    assert "Traceback" not in result.output
    assert [p["number"] for p in json.loads(result.stdout)] == ["พร 0023.1/ว 3026"]


@pytest.mark.parametrize(("name", "field", "line_of"), REVIEW_CASES, ids=[c[0] for c in REVIEW_CASES])
def test_cli_lists_a_review_entry_with_its_field_status(name: str, field: str, line_of: Any) -> None:
    bad = BAD / name
    result = CliRunner().invoke(app, ["parse", "--json", str(bad)])
    assert result.exit_code == 0, result.output
    [entry] = json.loads(result.stdout)
    assert entry[field] is None
    assert entry["fields"][field]["status"] in ("missing", "partial")
    assert entry["review"].startswith(f"{field}: ")
    assert f"{bad}:" in result.stderr and "review" in result.stderr


def test_cli_table_lists_every_letter() -> None:
    result = CliRunner().invoke(app, ["parse", str(LETTERS / "c_cover_with_enclosure.txt")])
    assert result.exit_code == 0
    assert "มท 0218/ว 3182" in result.stdout and "นร 1220/55" in result.stdout


def test_cli_help_describes_the_command() -> None:
    result = CliRunner().invoke(app, ["parse", "--help"])
    assert result.exit_code == 0
    assert "--json" in result.stdout


_FRAGMENTS = [
    "ที่ มท ๐๒๑๘/ว ๓๑๘๒",
    "ที่",
    "นร 1200/ว 0018",
    "ด่วนที่สุด",
    "ด่วนภายใน ๓๑ มิ.ย. ๖๓",
    "๑ มิถุนายน ๒๕๖๓",
    "๓๑ กุมภาพันธ์",
    "๒๕๖๓",
    "เลขรับ\t๑๕๑๕",
    "\tเวลา.....",
    "วันที่ 99 พ.ค. 2563",
    "RECEIVED 31/02/2020 25:99",
    "RECEIVED 02/06/2020 11:06",
    "เลขรับ ๔๔๑ วันที่ ๑๕ พ.ค. ๖๓ เวลา ๑๐.๓๐ น.",
    "รับที่ 9 วันที่ 32 ธ.ค. 63 เวลา 24.61",
    "วันที่ ๑๗ สิงหาคม ๒๕๖๓",
    "\t๑๗ สิงหาคม ๒๕๖๓",
    "สิงหาคม",
    "เลขที่ ๕๙ ถนนพิษณุโลก",
    "อ้างถึง หนังสือที่ นร ๑๒๐๐/ว ๐๐๑๓ ลงวันที่ ๕ พฤษภาคม ๒๕๖๓",
    "เรื่อง ทดสอบ",
    "เรียน ผู้ว่าราชการจังหวัด",
    "อ้างถึง ๑. หนังสือ ที่ นร ๑๒๐๐/๖๐๐๑๓ ลงวันที่ ๕ พฤษภาคม ๒๕๖๓",
    "๒. ลงวันที่ ๓๒ พฤษภาคม ๒๕๖๓",
    "ประชุมในวันที่ ๑๐ และ ๑๒ มิถุนายน เวลา ๒๕.๙๙ น.",
    "ภายในเดือนกุมภาพันธ์ ๑๕๖๓",
    "รายงานภายใน ๗ วัน นับแต่วันที่ได้รับหนังสือนี้",
    "ภายใน ๑๕ วันนับจากวันที่ลงในหนังสือ",
    "ขอแสดงความนับถือ",
    "(นายทดสอบ ระบบ)",
    "ปฏิบัติราชการแทน",
    "สำเนาส่ง",
    "โทร. ๐ ๒๒๒๒ ๑๑๑๑",
    "๒",
    "...",
    "",
]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=30))
def test_any_mix_of_letter_parts_reads_without_raising(parts: list[str]) -> None:
    text = "\n".join(parts)
    result = read_letters(text, file="fuzz.txt")
    if text.strip():
        assert result.letters or result.unread  # nothing in a file is ever lost
    for letter in (*result.letters, *result.unread):
        json.dumps(letter_to_json(letter), ensure_ascii=False)
