"""Letter numbers (เลขที่หนังสือ): `มท ๐๒๑๘/ว ๓๑๘๒`, `พร ๐๐๒๓.๑/ว ๓๐๒๖`, `นร ๑๒๐๐/ว๐๐๑๘`.

A number is the issuing agency's code letters, its owner number (four digits, then dotted
sub-units), a slash, an optional `ว` marking a circular (หนังสือเวียน), and the running number
with its leading zeros. The canonical form uses Arabic digits and single spaces:

    >>> parse_letter_number("ที่ มท ๐๒๑๘/ว ๓๑๘๒").canonical
    'มท 0218/ว 3182'
    >>> parse_letter_number("นร๑๒๐๐/ว.๐๐๑๘").canonical
    'นร 1200/ว 0018'
    >>> n = parse_letter_number("นร ๑๒๐๐/ ๖๐๐๑๒")
    >>> n.canonical, n.raw, n.ocr_repairs
    ('นร 1200/ว 0012', 'นร ๑๒๐๐/ ๖๐๐๑๒', ('ว read as ๖',))
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field

from models.thai import to_arabic_digits


class LetterNumberError(ValueError):
    """Text that should be a letter number but is not one."""


_D = r"[0-9๐-๙oO]"
NUMBER_PATTERN = (
    rf"(?P<code>[ก-ฮ]{{1,3}})\s*\.?\s*(?P<owner>{_D}{{2,4}}(?:\s*\.\s*{_D}+)*)\s*/\s*"
    rf"(?P<circular>ว\s*\.?|๖(?=\s+{_D}))?\s*(?P<running>{_D}+)"
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
    raw: str = Field(default="", description="the text as printed")
    ocr_repairs: tuple[str, ...] = Field(default=(), description="OCR slips undone while reading")

    @property
    def canonical(self) -> str:
        return f"{self.code} {self.owner}/{'ว ' if self.circular else ''}{self.running}"

    @property
    def owner_prefix(self) -> str:
        """The first two digits of the owner number, which name the department (มท 08xx = DLA)."""
        return self.owner[:2]

    def __str__(self) -> str:
        return self.canonical


def _from_match(match: re.Match[str], raw: str, *, repair: bool) -> LetterNumber:
    code = match.group("code")
    owner = _digits(match.group("owner"))
    running = _digits(match.group("running"))
    circular = match.group("circular") is not None
    repairs: list[str] = []
    if (match.group("circular") or "").startswith("๖"):
        repairs.append("ว read as ๖")  # `๖ ๑๔๓๔`: the ว of `ว ๑๔๓๔` misread, its space kept
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
