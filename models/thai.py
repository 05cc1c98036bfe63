"""Thai digits, Buddhist-era years, Thai month names, dates and times.

Everything here works on text at the boundary: the rest of the project stores Gregorian
`date` and timezone-aware `datetime` (Asia/Bangkok) and turns them into Thai text only for display.

Examples:
    >>> parse_thai_date("๑ มิถุนายน ๒๕๖๓")
    datetime.date(2020, 6, 1)
    >>> parse_thai_date("- ๒ มิ.ย. ๖๓")
    datetime.date(2020, 6, 2)
    >>> parse_thai_date("02/06/2020")
    datetime.date(2020, 6, 2)
    >>> parse_thai_time("๑๓.๓๐ น.")
    datetime.time(13, 30)
    >>> format_thai_date(parse_thai_date("๒๗/ พฤษภาคม ๒๕๖๓"))
    '๒๗ พฤษภาคม ๒๕๖๓'
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BeforeValidator, PlainSerializer

BANGKOK = ZoneInfo("Asia/Bangkok")
BE_OFFSET = 543

THAI_DIGITS = "๐๑๒๓๔๕๖๗๘๙"
_TO_ARABIC = str.maketrans(THAI_DIGITS, "0123456789")
_TO_THAI = str.maketrans("0123456789", THAI_DIGITS)

MONTHS_FULL = (
    "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
    "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม",
)  # fmt: skip
MONTHS_ABBR = (
    "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
    "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.",
)  # fmt: skip

# Years a letter of this product can carry. Outside this window a year is a misreading,
# not a date: a BE year in the wrong century (๑๕๖๓) or a CE year taken for BE.
MIN_CE_YEAR, MAX_CE_YEAR = 1900, 2200


class ThaiDateError(ValueError):
    """Text that should be a Thai date or time but cannot be one."""


def to_arabic_digits(text: str) -> str:
    """Turn Thai digits ๐-๙ into 0-9, leaving everything else alone.

    >>> to_arabic_digits("มท ๐๒๑๘/ว 3182")
    'มท 0218/ว 3182'
    """
    return text.translate(_TO_ARABIC)


def to_thai_digits(text: str) -> str:
    """Turn 0-9 into Thai digits.

    >>> to_thai_digits("2563")
    '๒๕๖๓'
    """
    return text.translate(_TO_THAI)


def be_to_ce(year: int) -> int:
    """Buddhist-era year to Gregorian. Two-digit years are read as BE 25xx (stamps write ๖๓).

    >>> be_to_ce(2563), be_to_ce(63)
    (2020, 2020)
    """
    if year < 100:
        year += 2500
    return year - BE_OFFSET


def ce_to_be(year: int) -> int:
    """Gregorian year to Buddhist era.

    >>> ce_to_be(2020)
    2563
    """
    return year + BE_OFFSET


def _month_key(text: str) -> str:
    return re.sub(r"[\s.]", "", text)


_MONTH_BY_KEY: dict[str, int] = {}
for _i, (_full, _abbr) in enumerate(zip(MONTHS_FULL, MONTHS_ABBR, strict=True), start=1):
    _MONTH_BY_KEY[_month_key(_full)] = _i
    _MONTH_BY_KEY[_month_key(_abbr)] = _i
# Longest first so that "มิ.ย." never matches as a prefix of something longer.
_MONTH_ALTERNATION = "|".join(
    sorted(
        {re.escape(m) for m in MONTHS_FULL}
        | {r"\.?\s*".join(re.escape(c) for c in _month_key(a)) + r"\.?" for a in MONTHS_ABBR},
        key=len,
        reverse=True,
    )
)

DIGIT = r"[0-9๐-๙]"
# A Thai-month date: day, stray punctuation, month name or abbreviation, optional พ.ศ., year.
THAI_DATE_PATTERN = (
    rf"(?<!{DIGIT})(?P<day>{DIGIT}{{1,2}})\s*[/\-.,]?\s*(?P<month>{_MONTH_ALTERNATION})\s*"
    rf"(?:พ\.\s*ศ\.\s*)?(?P<year>{DIGIT}{{4}}|{DIGIT}{{2}})(?!{DIGIT})"
)
NUMERIC_DATE_PATTERN = (
    rf"(?<!{DIGIT})(?P<nday>{DIGIT}{{1,2}})\s*(?P<sep>[/.\-])\s*(?P<nmonth>{DIGIT}{{1,2}})\s*(?P=sep)\s*"
    rf"(?P<nyear>{DIGIT}{{4}}|{DIGIT}{{2}})(?!{DIGIT})"
)
DATE_RE = re.compile(rf"{THAI_DATE_PATTERN}|{NUMERIC_DATE_PATTERN}")
TIME_RE = re.compile(rf"(?<!{DIGIT})(?P<hour>{DIGIT}{{1,2}})\s*[.:]\s*(?P<minute>{DIGIT}{{2}})(?!{DIGIT})")


def month_number(name: str) -> int:
    """Month number of a full or abbreviated Thai month name (dots and spaces optional).

    >>> month_number("มิ.ย."), month_number("มิถุนายน"), month_number("มิย")
    (6, 6, 6)
    """
    try:
        return _MONTH_BY_KEY[_month_key(name)]
    except KeyError:
        raise ThaiDateError(f"not a Thai month name: {name!r}") from None


def _year_to_ce(raw: str, *, numeric: bool) -> int:
    year = int(to_arabic_digits(raw))
    if len(raw) == 2:
        # Two-digit years are Buddhist era in Thai stamps (๖๓ = 2563) and in numeric dates too.
        return be_to_ce(year)
    if MIN_CE_YEAR + BE_OFFSET <= year <= MAX_CE_YEAR + BE_OFFSET:
        return be_to_ce(year)
    if numeric and MIN_CE_YEAR <= year <= MAX_CE_YEAR:
        return year
    raise ThaiDateError(f"year {raw} is neither a Buddhist-era year nor a plausible Gregorian one")


def _build_date(year: int, month: int, day: int, text: str) -> date:
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise ThaiDateError(f"no such date: {text.strip()!r} ({exc})") from None


def date_from_match(match: re.Match[str]) -> date:
    """Build the date a `DATE_RE` match names, raising `ThaiDateError` if it cannot be."""
    text = match.group(0)
    if match.group("day") is not None:
        year = _year_to_ce(match.group("year"), numeric=False)
        return _build_date(
            year, month_number(match.group("month")), int(to_arabic_digits(match.group("day"))), text
        )
    year = _year_to_ce(match.group("nyear"), numeric=True)
    month = int(to_arabic_digits(match.group("nmonth")))
    return _build_date(year, month, int(to_arabic_digits(match.group("nday"))), text)


def parse_thai_date(text: str) -> date:
    """Read a date written the Thai way, or as a numeric CE/BE date.

    Accepts Thai and Arabic digits mixed, full or abbreviated month names, 4- or 2-digit
    Buddhist-era years, `พ.ศ.`, stray punctuation around the day (`๒๗/ พฤษภาคม`, `- ๒ มิ.ย.`),
    and `dd/mm/yyyy` with a CE or BE year. Raises `ThaiDateError` for anything else, including
    dates that cannot be (31 February) and years in the wrong century.

    >>> parse_thai_date("วันที่ 29 พ.ค. 2563")
    datetime.date(2020, 5, 29)
    >>> parse_thai_date("๓๑ กุมภาพันธ์ ๒๕๖๓")
    Traceback (most recent call last):
    ...
    models.thai.ThaiDateError: no such date: '๓๑ กุมภาพันธ์ ๒๕๖๓' (day is out of range for month)
    """
    match = DATE_RE.search(text)
    if match is None:
        raise ThaiDateError(f"no date in {text.strip()!r}")
    return date_from_match(match)


def parse_thai_time(text: str) -> time | None:
    """Read a time such as `๑๓.๓๐`, `10.15 น.` or `13:30`; blank stamp fields (`เวลา.....`) give None.

    >>> parse_thai_time("เวลา.....") is None
    True
    """
    match = TIME_RE.search(text)
    if match is None:
        if re.search(DIGIT, text):
            raise ThaiDateError(f"not a time: {text.strip()!r}")
        return None
    hour, minute = int(to_arabic_digits(match.group("hour"))), int(to_arabic_digits(match.group("minute")))
    if hour > 23 or minute > 59:
        raise ThaiDateError(f"no such time: {match.group(0)!r}")
    return time(hour, minute)


def format_thai_date(value: date, *, abbreviated: bool = False, thai_digits: bool = True) -> str:
    """Write a date the way a Thai letter does: `๑ มิถุนายน ๒๕๖๓` (or `๑ มิ.ย. ๖๓` abbreviated).

    >>> format_thai_date(date(2020, 6, 1), abbreviated=True, thai_digits=False)
    '1 มิ.ย. 63'
    """
    if abbreviated:
        text = f"{value.day} {MONTHS_ABBR[value.month - 1]} {ce_to_be(value.year) % 100:02d}"
    else:
        text = f"{value.day} {MONTHS_FULL[value.month - 1]} {ce_to_be(value.year)}"
    return to_thai_digits(text) if thai_digits else text


def format_thai_time(value: time, *, thai_digits: bool = True) -> str:
    """Write a time as letters do: `๑๓.๓๐ น.`."""
    text = f"{value.hour:02d}.{value.minute:02d} น."
    return to_thai_digits(text) if thai_digits else text


def bangkok_datetime(day: date, at: time | None = None) -> datetime:
    """A timezone-aware datetime in Asia/Bangkok (midnight when the time is unknown)."""
    return datetime.combine(day, at or time(0, 0), tzinfo=BANGKOK)


def now_bangkok() -> datetime:
    """The current time in Asia/Bangkok; never a naive `datetime.now()`."""
    return datetime.now(BANGKOK)


def _coerce_date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return parse_thai_date(value)
    return value


def _coerce_time(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return time.fromisoformat(value)
        except ValueError:
            return parse_thai_time(value)
    return value


def _require_aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("datetime must be timezone-aware (Asia/Bangkok)")
    return value.astimezone(BANGKOK)


ThaiDate = Annotated[date, BeforeValidator(_coerce_date)]
"""A `date` that also accepts ISO text and Thai date text (`๑ มิถุนายน ๒๕๖๓`)."""

ThaiTime = Annotated[time, BeforeValidator(_coerce_time), PlainSerializer(lambda t: t.strftime("%H:%M"))]
"""A `time` that also accepts `๑๓.๓๐`, `10.15 น.`; serialised as `HH:MM`."""

BangkokDateTime = Annotated[datetime, AfterValidator(_require_aware)]
"""A timezone-aware `datetime`, normalised to Asia/Bangkok; naive values are rejected."""
