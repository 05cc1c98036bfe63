"""Tolerant citation resolution: is a cited number (อ้างถึง / สิ่งที่ส่งมาด้วย) a letter we know?

OCR garbles numbers in predictable ways: ๕ and ๘ (and ๓ and ๘) look alike, ว is read as ๖,
๐ as the letter o, spaces are dropped or doubled. A citation names a letter by number *and date*,
so two readings that agree on the agency code, the owner number and the date and differ in the
running number only by such slips are the same letter. Different dates, codes or owner numbers are
never the same letter, whatever the digits look like.

Examples:
    >>> from datetime import date
    >>> from models.numbering import parse_letter_number as n
    >>> reason = same_letter(n("นร ๑๒๒๐/๘๕"), date(2020, 5, 27), n("นร ๑๒๒๐/๕๕"), date(2020, 5, 27))
    >>> str(reason)
    'running number 85 vs 55: ๕/๘ OCR confusion; same code นร 1220 and date 2020-05-27'
    >>> same_letter(n("นร ๑๒๒๐/๕๕"), date(2020, 5, 27), n("นร ๑๒๒๐/๕๕"), date(2020, 5, 28)) is None
    True
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from models.letters import Citation
from models.numbering import LetterNumber
from models.thai import to_arabic_digits

# Digit pairs the OCR of Thai letters confuses, with the name used in merge reasons.
DIGIT_CONFUSIONS: dict[frozenset[str], str] = {
    frozenset("58"): "๕/๘ OCR confusion",
    frozenset("38"): "๓/๘ OCR confusion",
}
# More confused digits than this is a different number, not a misreading.
MAX_CONFUSED_DIGITS = 2


@dataclass(frozen=True)
class MatchReason:
    """Why two readings are the same letter; `confusions` is empty for an exact match."""

    left: str
    right: str
    code: str
    on: date
    confusions: tuple[str, ...] = ()

    @property
    def exact(self) -> bool:
        return not self.confusions

    def __str__(self) -> str:
        if self.exact:
            return f"same number {self.left}; same code {self.code} and date {self.on.isoformat()}"
        return (
            f"running number {self.left} vs {self.right}: {', '.join(self.confusions)}; "
            f"same code {self.code} and date {self.on.isoformat()}"
        )


def _running_label(number: LetterNumber) -> str:
    return number.series_running


def _printing_slips(number: LetterNumber) -> list[str]:
    """Slips visible in the raw text even when the canonical forms agree (spaces, o for ๐)."""
    raw = number.raw
    slips: list[str] = []
    if any(c in raw for c in "oO"):
        slips.append("๐/o OCR confusion")
    return slips


def _compare_running(a: LetterNumber, b: LetterNumber) -> list[str] | None:
    """The OCR confusions that turn a's running number into b's, or None when none can."""
    confusions: list[str] = []
    ra, rb = a.running, b.running
    if a.circular != b.circular:
        # ว read as ๖: the circular form's number is the plain form's without its leading 6.
        plain, circ = (ra, rb) if b.circular else (rb, ra)
        if not plain.startswith("6") or len(plain) < 2:
            return None
        ra, rb = plain[1:], circ
        confusions.append("ว/๖ OCR confusion")
    if len(ra) != len(rb):
        if ra.lstrip("0") == "" or rb.lstrip("0") == "":
            return None
        ra, rb = ra.lstrip("0"), rb.lstrip("0")
        confusions.append("leading zeros")
        if len(ra) != len(rb):
            return None
    confused = 0
    for x, y in zip(ra, rb, strict=True):
        if x == y:
            continue
        name = DIGIT_CONFUSIONS.get(frozenset((x, y)))
        if name is None:
            return None
        confused += 1
        if name not in confusions:
            confusions.append(name)
    if confused > MAX_CONFUSED_DIGITS or (confused == len(ra) and len(ra) > 1):
        return None
    for slip in _printing_slips(a) + _printing_slips(b):
        if slip not in confusions:
            confusions.append(slip)
    return confusions


def same_letter(a: LetterNumber, a_date: date, b: LetterNumber, b_date: date) -> MatchReason | None:
    """Why readings `a` and `b` name the same letter, or None when they cannot.

    Requires equal dates, agency codes and owner numbers; the running numbers may differ only
    by known OCR confusions (ว/๖, ๕/๘, ๓/๘, ๐/o, spacing, leading zeros).

    >>> from models.numbering import parse_letter_number as n
    >>> d = date(2020, 5, 5)
    >>> str(same_letter(n("นร 1200/6013", repair=False), d, n("นร 1200/ว 013"), d))
    'running number 6013 vs ว 013: ว/๖ OCR confusion; same code นร 1200 and date 2020-05-05'
    >>> same_letter(n("นร 1200/ว 0013"), d, n("นร 1201/ว 0013"), d) is None
    True
    """
    if a_date != b_date or a.code != b.code or a.owner != b.owner:
        return None
    code = f"{a.code} {a.owner}"
    if a.circular == b.circular and a.running == b.running:
        slips = tuple(dict.fromkeys(_printing_slips(a) + _printing_slips(b)))
        return MatchReason(_running_label(a), _running_label(b), code, a_date, slips)
    confusions = _compare_running(a, b)
    if confusions is None:
        return None
    return MatchReason(_running_label(a), _running_label(b), code, a_date, tuple(confusions))


@dataclass(frozen=True)
class KnownLetter:
    """A letter the record already holds: `key` is the caller's handle (a row id, a number...)."""

    key: Hashable
    number: LetterNumber
    date: date
    placeholder: bool = False


class ResolutionStatus(StrEnum):
    EXACT = "exact"  # same canonical number and date
    TOLERANT = "tolerant"  # one real letter matches under OCR confusions: merge into it
    AMBIGUOUS = "ambiguous"  # several real letters match: do not merge, flag
    UNMATCHED = "unmatched"  # nothing matches: the cited letter is known only by this citation


@dataclass(frozen=True)
class Resolution:
    """The letter a citation names, if any, and why."""

    status: ResolutionStatus
    match: KnownLetter | None = None
    reason: MatchReason | None = None
    candidates: tuple[KnownLetter, ...] = field(default=())

    @property
    def merged(self) -> bool:
        return self.status is ResolutionStatus.TOLERANT


class CitationError(ValueError):
    """A citation that cannot be resolved at all (no number or no date)."""


def canonical_key(number: LetterNumber, on: date) -> tuple[str, date]:
    """The exact identity of a reading: canonical number and date."""
    return (number.canonical, on)


def resolve_citation(citation: Citation, known: Iterable[KnownLetter]) -> Resolution:
    """Which known letter a citation (number and date) names; see `resolve_number`.

    Raises `CitationError` when the citation lacks a number or a date (a Cabinet resolution).
    """
    if citation.number is None or citation.date is None:
        raise CitationError(f"citation has no letter number and date: {citation.text!r}")
    return resolve_number(citation.number, citation.date, known)


def resolve_number(number: LetterNumber, on: date, known: Iterable[KnownLetter]) -> Resolution:
    """Which known letter a citation of `number` dated `on` names.

    An exact match (same canonical number and date, real or placeholder) wins. Otherwise only
    *real* letters are considered under OCR tolerance, and only a single candidate is accepted:
    a citation is never merged into a placeholder by tolerance, and two candidates are ambiguous.

    >>> from models.numbering import parse_letter_number as n
    >>> d = date(2020, 5, 27)
    >>> real = KnownLetter(1, n("นร 1220/55"), d)
    >>> r = resolve_number(n("นร 1220/85"), d, [real])
    >>> r.status, r.match.key
    (<ResolutionStatus.TOLERANT: 'tolerant'>, 1)
    >>> resolve_number(n("นร 1220/85"), d, [real, KnownLetter(2, n("นร 1220/88"), d)]).status
    <ResolutionStatus.AMBIGUOUS: 'ambiguous'>
    """
    candidates: list[tuple[KnownLetter, MatchReason]] = []
    for letter in known:
        if letter.date == on and letter.number.canonical == number.canonical:
            reason = same_letter(number, on, letter.number, letter.date)
            return Resolution(ResolutionStatus.EXACT, letter, reason)
        if letter.placeholder:
            continue
        reason = same_letter(number, on, letter.number, letter.date)
        if reason is not None:
            candidates.append((letter, reason))
    if len(candidates) == 1:
        letter, reason = candidates[0]
        return Resolution(ResolutionStatus.TOLERANT, letter, reason, (letter,))
    if candidates:
        ordered = tuple(sorted((c for c, _ in candidates), key=lambda k: k.number.canonical))
        return Resolution(ResolutionStatus.AMBIGUOUS, candidates=ordered)
    return Resolution(ResolutionStatus.UNMATCHED)


def normalise_printed(text: str) -> str:
    """Compare-friendly form of a printed number: Arabic digits, no spaces, no dot after ว.

    >>> normalise_printed("นร ๑๒๐๐/ ว.๐๐๑๒")
    'นร1200/ว0012'
    """
    return to_arabic_digits(text).replace(" ", "").replace("ว.", "ว")
