"""models.thai: Thai digits, Buddhist-era years, Thai dates and times."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from models.thai import (
    BANGKOK,
    MAX_CE_YEAR,
    MIN_CE_YEAR,
    MONTHS_ABBR,
    MONTHS_FULL,
    BangkokDateTime,
    ThaiDate,
    ThaiDateError,
    ThaiTime,
    bangkok_datetime,
    be_to_ce,
    ce_to_be,
    format_thai_date,
    format_thai_time,
    month_number,
    now_bangkok,
    parse_thai_date,
    parse_thai_time,
    to_arabic_digits,
    to_thai_digits,
)

# Every date a full-form Thai date can carry (BE years inside the plausible window).
full_dates = st.dates(min_value=date(MIN_CE_YEAR, 1, 1), max_value=date(MAX_CE_YEAR, 12, 31))
# Two-digit BE years (๖๓) stand for 25xx, so abbreviated dates only round-trip for BE 2500-2599.
abbreviated_dates = st.dates(min_value=date(be_to_ce(2500), 1, 1), max_value=date(be_to_ce(2599), 12, 31))


@given(full_dates, st.booleans())
def test_full_date_round_trips(value: date, thai_digits: bool) -> None:
    text = format_thai_date(value, thai_digits=thai_digits)
    assert parse_thai_date(text) == value
    assert MONTHS_FULL[value.month - 1] in text


@given(abbreviated_dates, st.booleans())
def test_abbreviated_date_round_trips(value: date, thai_digits: bool) -> None:
    text = format_thai_date(value, abbreviated=True, thai_digits=thai_digits)
    assert parse_thai_date(text) == value
    assert MONTHS_ABBR[value.month - 1] in text


@given(full_dates)
def test_thai_and_arabic_digits_read_the_same(value: date) -> None:
    thai = format_thai_date(value, thai_digits=True)
    arabic = format_thai_date(value, thai_digits=False)
    assert to_arabic_digits(thai) == arabic
    assert parse_thai_date(thai) == parse_thai_date(arabic)


@given(st.text(alphabet="0123456789", max_size=20))
def test_digit_conversion_round_trips(text: str) -> None:
    assert to_arabic_digits(to_thai_digits(text)) == text
    assert not set(to_thai_digits(text)) & set("0123456789")


@given(st.integers(min_value=MIN_CE_YEAR, max_value=MAX_CE_YEAR))
def test_be_ce_round_trip(year: int) -> None:
    assert be_to_ce(ce_to_be(year)) == year


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("๑ มิถุนายน ๒๕๖๓", date(2020, 6, 1)),
        ("๒๗/ พฤษภาคม ๒๕๖๓", date(2020, 5, 27)),
        ("- ๒ มิ.ย. ๒๕๖๓", date(2020, 6, 2)),
        ("๒ มิ.ย. ๖๓", date(2020, 6, 2)),
        ("วันที่ 29 พ.ค. 2563", date(2020, 5, 29)),
        ("๑ มิถุนายน พ.ศ. ๒๕๖๓", date(2020, 6, 1)),
        ("๑๔ พ ค ๒๕๖๓", date(2020, 5, 14)),
        ("02/06/2020", date(2020, 6, 2)),
        ("02/06/2563", date(2020, 6, 2)),
        ("๒๙ กุมภาพันธ์ ๒๕๖๓", date(2020, 2, 29)),  # 2020 is a leap year
    ],
)
def test_parse_thai_date_variants(text: str, expected: date) -> None:
    assert parse_thai_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "๓๑ กุมภาพันธ์ ๒๕๖๓",  # no such day
        "๒๙ กุมภาพันธ์ ๒๕๖๒",  # 2019 is not a leap year
        "๓๑ มิถุนายน ๒๕๖๓",
        "๑ มิถุนายน ๑๕๖๓",  # BE year in the wrong century
        "1 มิถุนายน 2020",  # a CE year where a BE year belongs
        "32/01/2020",
        "01/13/2563",
        "ไม่มีวันที่",
        "",
    ],
)
def test_impossible_dates_raise(text: str) -> None:
    with pytest.raises(ThaiDateError):
        parse_thai_date(text)


def test_time_range_before_a_date_is_not_a_date() -> None:
    assert parse_thai_date("เวลา ๑๓.๓๐ - ๑๖.๐๐ น. วันที่ ๒ มิ.ย. ๖๓") == date(2020, 6, 2)


@pytest.mark.parametrize(
    ("month", "number"),
    [*zip(MONTHS_FULL, range(1, 13), strict=True), *zip(MONTHS_ABBR, range(1, 13), strict=True)],
)
def test_month_number_full_and_abbreviated(month: str, number: int) -> None:
    assert month_number(month) == number
    assert month_number(month.replace(".", "")) == number


def test_month_number_rejects_unknown() -> None:
    with pytest.raises(ThaiDateError):
        month_number("มิถุนา")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("๑๓.๓๐", time(13, 30)),
        ("เวลา ๑๓.๓๐ น.", time(13, 30)),
        ("10.15 น.", time(10, 15)),
        ("13:30", time(13, 30)),
        ("๐๙.๓๐ - ๑๒.๐๐ น.", time(9, 30)),  # a range gives its start
        ("เวลา.....", None),
        ("เวลา", None),
        ("", None),
    ],
)
def test_parse_thai_time(text: str, expected: time | None) -> None:
    assert parse_thai_time(text) == expected


@pytest.mark.parametrize("text", ["25.00", "๑๓.๗๐", "เวลา ๑๓", "24:00"])
def test_bad_times_raise(text: str) -> None:
    with pytest.raises(ThaiDateError):
        parse_thai_time(text)


@given(st.times().map(lambda t: t.replace(second=0, microsecond=0)), st.booleans())
def test_time_round_trips(value: time, thai_digits: bool) -> None:
    assert parse_thai_time(format_thai_time(value, thai_digits=thai_digits)) == value


class _Stamped(BaseModel):
    day: ThaiDate
    at: ThaiTime | None = None
    when: BangkokDateTime | None = None


def test_annotated_types_coerce_thai_text_and_serialise() -> None:
    model = _Stamped(day="๑ มิถุนายน ๒๕๖๓", at="๑๓.๓๐")
    assert model.day == date(2020, 6, 1)
    assert model.at == time(13, 30)
    assert model.model_dump(mode="json")["at"] == "13:30"
    assert _Stamped(day="2020-06-01").day == date(2020, 6, 1)
    with pytest.raises(ValidationError):
        _Stamped(day="๓๑ กุมภาพันธ์ ๒๕๖๓")


def test_bangkok_datetime_is_aware_and_naive_rejected() -> None:
    value = bangkok_datetime(date(2020, 6, 2), time(13, 30))
    assert value.utcoffset() == timedelta(hours=7)
    assert now_bangkok().tzinfo is not None
    utc = datetime(2020, 6, 2, 6, 30, tzinfo=BANGKOK).astimezone(tz=None)
    assert _Stamped(day=date(2020, 6, 2), when=utc).when == datetime(2020, 6, 2, 6, 30, tzinfo=BANGKOK)
    with pytest.raises(ValidationError):
        _Stamped(day=date(2020, 6, 2), when=datetime(2020, 6, 2, 13, 30))
