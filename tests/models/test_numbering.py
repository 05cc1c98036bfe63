"""models.numbering: letter numbers (เลขที่หนังสือ) and their canonical form."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from models.numbering import (
    LetterNumber,
    LetterNumberError,
    LetterNumberField,
    find_letter_numbers,
    parse_letter_number,
)
from models.thai import to_thai_digits


@pytest.mark.parametrize(
    ("text", "canonical", "circular"),
    [
        ("ที่ มท ๐๒๑๘/ว ๓๑๘๒", "มท 0218/ว 3182", True),
        ("มท 0218/ว 3182", "มท 0218/ว 3182", True),
        ("พร ๐๐๒๓.๑/ว ๓๐๒๖", "พร 0023.1/ว 3026", True),
        ("นร ๑๒๐๐/ว๐๐๑๘", "นร 1200/ว 0018", True),
        ("นร๑๒๐๐/ว.๐๐๑๘", "นร 1200/ว 0018", True),
        ("มท ๐๘๑๖.๓/ว.๖๑๗", "มท 0816.3/ว 617", True),
        ("มท 0816.3/ว.617", "มท 0816.3/ว 617", True),
        ("นร ๑๒๐๐/ ว ๐๐๑๘", "นร 1200/ว 0018", True),  # spaces after the slash
        ("นร ๑๒๒๐/ ๕๕", "นร 1220/55", False),
        ("นร ๑๒๒๐/๘๕", "นร 1220/85", False),
        ("ด่วนที่สุด ที่ มท ๐๘๑๒/ว๑๔๓๔ ลงวันที่ ๑๔ พฤษภาคม ๒๕๖๓", "มท 0812/ว 1434", True),
    ],
)
def test_canonical_forms(text: str, canonical: str, circular: bool) -> None:
    number = parse_letter_number(text)
    assert number.canonical == canonical
    assert str(number) == canonical
    assert number.circular is circular
    assert number.ocr_repairs == ()


def test_owner_prefix_names_the_department() -> None:
    assert parse_letter_number("มท ๐๘๑๒/ว ๑๔๓๔").owner_prefix == "08"
    assert parse_letter_number("มท ๐๒๑๘/ว ๓๑๘๒").owner_prefix == "02"


def test_raw_keeps_the_printed_text() -> None:
    assert parse_letter_number("ที่ นร ๑๒๐๐/ว๐๐๑๘ ลงวันที่").raw == "นร ๑๒๐๐/ว๐๐๑๘"


@pytest.mark.parametrize(
    ("text", "canonical"), [("นร ๑๒๐๐/ ๖๐๐๑๒", "นร 1200/ว 0012"), ("นร ๑๒๐๐/๖๐๐๑๓", "นร 1200/ว 0013")]
)
def test_wor_read_as_six_is_repaired(text: str, canonical: str) -> None:
    number = parse_letter_number(text)
    assert number.canonical == canonical
    assert number.circular
    assert number.ocr_repairs == ("ว read as ๖",)
    unrepaired = parse_letter_number(text, repair=False)
    assert not unrepaired.circular
    assert unrepaired.running.startswith("60")


def test_short_running_numbers_starting_with_six_are_left_alone() -> None:
    number = parse_letter_number("นร ๑๒๒๐/๖๐๑")
    assert number.canonical == "นร 1220/601"
    assert number.ocr_repairs == ()


@pytest.mark.parametrize(
    "text", ["๐๒๑๘/ว ๓๑๘๒", "ที่ ๐๒๑๘/ว ๓๑๘๒", "ว.617", "มท ๐๒๑๘", "", "ลงวันที่ ๑ มิถุนายน ๒๕๖๓"]
)
def test_not_a_number(text: str) -> None:
    with pytest.raises(LetterNumberError):
        parse_letter_number(text)


def test_find_letter_numbers_in_order() -> None:
    text = "อ้างถึง หนังสือ ที่ นร ๑๒๐๐/ว๐๐๑๓ และ ที่ มท ๐๘๑๒/ว ๑๔๓๔"
    found = find_letter_numbers(text)
    assert [n.canonical for n, _ in found] == ["นร 1200/ว 0013", "มท 0812/ว 1434"]
    assert all(text[m.start() : m.end()] == n.raw for n, m in found)


class _Holder(BaseModel):
    number: LetterNumberField


def test_field_accepts_printed_text() -> None:
    assert _Holder(number="มท ๐๒๑๘/ว ๓๑๘๒").number.canonical == "มท 0218/ว 3182"
    assert _Holder(
        number=LetterNumber(code="นร", owner="1200", circular=True, running="0018")
    ).number.circular
    with pytest.raises(ValidationError):
        _Holder(number="๐๒๑๘/ว ๓๑๘๒")


codes = st.text(alphabet="กขคงจฉชซฌญฎฏฐฑฒณดตถทธนบปผฝพฟภมยรลวศษสหฬอฮ", min_size=2, max_size=2)
owners = st.from_regex(r"\A[0-9]{4}(\.[1-9])?\Z")
runnings = st.from_regex(r"\A[0-9]{1,5}\Z").filter(lambda r: not (len(r) >= 5 and r.startswith("60")))


@given(
    codes,
    owners,
    st.booleans(),
    runnings,
    st.booleans(),
    st.sampled_from(["", " "]),
    st.sampled_from(["ว", "ว ", "ว."]),
)
def test_printed_number_round_trips(
    code: str, owner: str, circular: bool, running: str, thai: bool, gap: str, wor: str
) -> None:
    printed = f"{code} {owner}/{gap}{wor if circular else ''}{running}"
    if thai:
        printed = to_thai_digits(printed)
    number = parse_letter_number(f"ที่ {printed}")
    assert number.canonical == f"{code} {owner}/{'ว ' if circular else ''}{running}"
    assert parse_letter_number(number.canonical) == number.model_copy(update={"raw": number.canonical})
