"""Letter numbers (เลขที่หนังสือ): `มท ๐๒๑๘/ว ๓๑๘๒`, `พร ๐๐๒๓.๑/ว ๓๐๒๖`, `นร ๑๒๐๐/ว๐๐๑๘`.

A number is the issuing agency's code letters, its owner number (two to six digits, then dotted
sub-units or a bracketed one; local bodies print five: `พร 73501`), a slash, an optional series mark (`ว` marks a
circular, หนังสือเวียน; offices also print `ผ`, `ว(ล)`, `(ว2)`), and the running number with its
leading zeros. A few offices print a three-part number (`มท 0612/4/674`): the middle part stays
with the owner number, never cut off. The canonical form uses Arabic digits and single spaces:

    >>> parse_letter_number("ที่ มท ๐๒๑๘/ว ๓๑๘๒").canonical
    'มท 0218/ว 3182'
    >>> parse_letter_number("นร๑๒๐๐/ว.๐๐๑๘").canonical
    'นร 1200/ว 0018'
    >>> n = parse_letter_number("นร ๑๒๐๐/ ๖๐๐๑๒")
    >>> n.canonical, n.raw, n.ocr_repairs
    ('นร 1200/ว 0012', 'นร ๑๒๐๐/ ๖๐๐๑๒', ('ว read as ๖',))
    >>> [parse_letter_number(t).canonical for t in ("พร ๗๓๕๐๑/๑๑๒", "มท ๐๖๑๒/๔/๖๗๔", "กษ ๐๒๐๑/ผ ๑๒")]
    ['พร 73501/112', 'มท 0612/4/674', 'กษ 0201/ผ 12']
    >>> parse_letter_number("อว ๘๓๙๓(๑๒)/๕๔๑").canonical  # a university faculty's bracketed unit
    'อว 8393(12)/541'
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field

from models.thai import to_arabic_digits


class LetterNumberError(ValueError):
    """Text that should be a letter number but is not one."""


_D = r"[0-9๐-๙oO]"
# A series mark before the running number: ว (a circular), ว. , ว(ล), (ว2), ผ, or ๖ (ว misread)
# when a space still separates it from the running number.
_SERIES = (
    r"\(\s*[ก-ฮ]{1,2}\s*[0-9๐-๙]*\s*\)"
    r"|[ก-ฮ]{1,2}(?:\s*\(\s*[ก-ฮ0-9๐-๙]{1,2}\s*\))?\s*\.?"
    rf"|๖(?=\s+{_D})"
)
NUMBER_PATTERN = (
    rf"(?P<code>[ก-ฮ](?:[\u0e38\u0e39]?[ก-ฮ]){{0,2}})\s*\.?\s*"
    rf"(?P<owner>{_D}{{2,6}}(?:\s*\.\s*{_D}+)*(?:\s*\(\s*{_D}{{1,3}}\s*\))?"
    rf"(?:\s*/\s*{_D}{{1,3}}(?=\s*/\s*(?:{_SERIES})?\s*{_D}))?)"
    rf"\s*/\s*(?P<circular>{_SERIES})?\s*(?P<running>{_D}+)"
)
NUMBER_RE = re.compile(rf"(?<![ก-ฮ]){NUMBER_PATTERN}(?![0-9๐-๙])")


def _digits(text: str) -> str:
    """Arabic digits, with the letter o read as zero (a common OCR slip inside numbers)."""
    return re.sub(r"\s+", "", to_arabic_digits(text)).replace("o", "0").replace("O", "0")


class LetterNumber(BaseModel, frozen=True):
    """A parsed letter number; `raw` keeps the text as printed."""

    code: str = Field(description="agency code letters, e.g. มท")
    owner: str = Field(description="owner number with dotted sub-units, e.g. 0023.1")
    circular: bool = Field(description="True when the number carries ว (a circular)")
    running: str = Field(description="running number with its leading zeros")
    series: str = Field(default="", description="a series mark other than a plain ว: ผ, ว(ล), (ว2)")
    raw: str = Field(default="", description="the text as printed")
    ocr_repairs: tuple[str, ...] = Field(default=(), description="OCR slips undone while reading")

    @property
    def canonical(self) -> str:
        return f"{self.code} {self.owner}/{self.series_running}"

    @property
    def series_running(self) -> str:
        """The part after the owner number: `ว 3182`, `ผ 12`, `112`."""
        mark = self.series or ("ว" if self.circular else "")
        return f"{mark} {self.running}" if mark else self.running

    @property
    def owner_prefix(self) -> str:
        """The first two digits of the owner number, which name the department (มท 08xx = DLA)."""
        return self.owner[:2]

    def __str__(self) -> str:
        return self.canonical


_CODE_MARK_RE = re.compile("[\u0e38\u0e39]")
# One digit of the other script at the end of a running number of at least two digits.
_STRAY_DIGIT_RE = re.compile(r"(?<=[๐-๙][๐-๙])[0-9]$|(?<=[0-9][0-9])[๐-๙]$")


def _from_match(match: re.Match[str], raw: str, *, repair: bool) -> LetterNumber:
    code = match.group("code")
    repairs: list[str] = []
    if repair and _CODE_MARK_RE.search(code):
        # `ขุก` for ขก: a code is bare consonants; OCR hangs a vowel mark under one of them.
        code = _CODE_MARK_RE.sub("", code)
        repairs.append("vowel mark inside the agency code dropped")
    owner = _digits(match.group("owner"))
    printed_running = match.group("running")
    stray = _STRAY_DIGIT_RE.search(printed_running) if repair else None
    if stray is not None:
        # `๓๐๒๖5`: offices type a number in one script; one digit of the other after it is a speck.
        printed_running = printed_running[: stray.start()]
        repairs.append(f"stray digit {stray.group(0)!r} after the running number dropped")
    running = _digits(printed_running)
    mark = re.sub(r"[\s.]", "", match.group("circular") or "")
    if mark == "๖":
        repairs.append("ว read as ๖")  # `๖ ๑๔๓๔`: the ว of `ว ๑๔๓๔` misread, its space kept
        mark = "ว"
    mark = to_arabic_digits(mark)
    circular = "ว" in mark
    series = "" if mark in ("", "ว") else mark
    if repair and not circular and len(running) >= 5 and running.startswith("60"):
        # OCR reads ว as ๖ (ว๐๐๑๓ -> ๖๐๐๑๓). Running numbers that pad with zeros are circular
        # series; a five-digit number that starts 6-0 is that slip far more often than a real count.
        circular, running = True, running[1:]
        repairs.append("ว read as ๖")
    return LetterNumber(
        code=code,
        owner=owner,
        circular=circular,
        running=running,
        series=series,
        raw=raw.strip(),
        ocr_repairs=tuple(repairs),
    )


def parse_letter_number(text: str, *, repair: bool = True) -> LetterNumber:
    """Parse the first letter number in `text` (a leading `ที่` is allowed).

    Raises `LetterNumberError` when there is none, e.g. a number without an agency code.

    >>> parse_letter_number("๐๒๑๘/ว ๓๑๘๒")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    models.numbering.LetterNumberError: not a letter number (agency code, ...): '๐๒๑๘/ว ๓๑๘๒'
    """
    match = NUMBER_RE.search(text)
    if match is None:
        raise LetterNumberError(
            f"not a letter number (agency code, owner number, '/', running number): {text.strip()!r}"
        )
    return _from_match(match, match.group(0), repair=repair)


def find_letter_numbers(text: str, *, repair: bool = True) -> list[tuple[LetterNumber, re.Match[str]]]:
    """Every letter number in `text`, with its match (for positions)."""
    return [(_from_match(m, m.group(0), repair=repair), m) for m in NUMBER_RE.finditer(text)]


def _coerce_number(value: Any) -> Any:
    if isinstance(value, str):
        return parse_letter_number(value)
    return value


LetterNumberField = Annotated[LetterNumber, BeforeValidator(_coerce_number)]
"""A `LetterNumber` that also accepts the printed text (`มท ๐๒๑๘/ว ๓๑๘๒`)."""
