"""Tolerant citation matching: the OCR confusions it forgives, and what it never merges."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.letters import Citation
from models.numbering import LetterNumber, parse_letter_number
from routing.citations import (
    CitationError,
    KnownLetter,
    ResolutionStatus,
    resolve_citation,
    resolve_number,
    same_letter,
)

D = date(2020, 5, 27)


def n(text: str, *, repair: bool = True) -> LetterNumber:
    return parse_letter_number(text, repair=repair)


def test_the_seed_confusion_gives_the_documented_reason() -> None:
    reason = same_letter(n("นร ๑๒๒๐/๘๕"), D, n("นร ๑๒๒๐/๕๕"), D)
    assert reason is not None
    assert str(reason) == "running number 85 vs 55: ๕/๘ OCR confusion; same code นร 1220 and date 2020-05-27"


@pytest.mark.parametrize(
    ("a", "b", "confusion"),
    [
        ("นร 1200/60013", "นร 1200/ว 0013", "ว/๖"),
        ("มท 0812/ว 1434", "มท 0812/ว 1484", "๓/๘"),
        ("มท 0812/ว 1434", "มท 0812/ว 1484", "๓/๘"),
        ("นร 1200/ว 0018", "นร 1200/ว 18", "leading zeros"),
        ("นร 1200/ว o018", "นร 1200/ว 0018", "๐/o"),
    ],
)
def test_known_confusions_match(a: str, b: str, confusion: str) -> None:
    reason = same_letter(n(a, repair=False), D, n(b, repair=False), D)
    assert reason is not None and confusion in str(reason)


def test_spacing_and_digit_script_are_the_same_number() -> None:
    reason = same_letter(n("นร๑๒๐๐/ว.๐๐๑๘"), D, n("นร 1200/ ว  0018"), D)
    assert reason is not None and reason.exact


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("นร 1220/55", "นร 1220/56"),  # 5/6 is not a confusion
        ("นร 1220/55", "นร 1221/55"),  # another owner
        ("นร 1220/55", "มท 1220/55"),  # another agency code
        ("นร 1220/55", "นร 1220/ว 55"),  # ว without the leading 6
        ("นร 1220/55", "นร 1220/88"),  # every digit confused: a different number
        ("นร 1220/555", "นร 1220/55"),  # a digit more
    ],
)
def test_different_numbers_do_not_match(a: str, b: str) -> None:
    assert same_letter(n(a, repair=False), D, n(b, repair=False), D) is None


_running = st.text(alphabet="0123456789", min_size=1, max_size=5)
_numbers = st.builds(
    lambda code, owner, circ, run: LetterNumber(code=code, owner=owner, circular=circ, running=run),
    st.sampled_from(["นร", "มท", "พร"]),
    st.sampled_from(["1200", "1220", "0812", "0023.1"]),
    st.booleans(),
    _running,
)


@given(_numbers, _numbers, st.integers(min_value=1, max_value=400))
def test_never_across_dates(a: LetterNumber, b: LetterNumber, days: int) -> None:
    assert same_letter(a, D, b, D + timedelta(days=days)) is None


@given(_numbers, _numbers)
def test_symmetric_and_reflexive(a: LetterNumber, b: LetterNumber) -> None:
    assert same_letter(a, D, a, D) is not None
    assert (same_letter(a, D, b, D) is None) == (same_letter(b, D, a, D) is None)
    if same_letter(a, D, b, D) is not None:
        assert (a.code, a.owner) == (b.code, b.owner)


@given(_numbers, st.lists(_numbers, max_size=6))
def test_resolution_never_merges_into_a_placeholder_or_across_codes(
    cited: LetterNumber, others: list[LetterNumber]
) -> None:
    known = [KnownLetter(i, x, D, placeholder=i % 2 == 0) for i, x in enumerate(others)]
    r = resolve_number(cited, D, known)
    if r.status is ResolutionStatus.TOLERANT:
        assert r.match is not None and not r.match.placeholder
        assert (r.match.number.code, r.match.number.owner) == (cited.code, cited.owner)
    if r.status is ResolutionStatus.EXACT:
        assert r.match is not None and r.match.number.canonical == cited.canonical
    if r.status is ResolutionStatus.AMBIGUOUS:
        assert r.match is None and len(r.candidates) >= 2


def test_exact_beats_tolerant_and_ambiguity_is_flagged() -> None:
    a = KnownLetter("a", n("นร 1220/55"), D)
    b = KnownLetter("b", n("นร 1220/85"), D)
    c = KnownLetter("c", n("นร 1220/88"), D)
    assert resolve_number(n("นร 1220/85"), D, [a, b]).match == b
    amb = resolve_number(n("นร 1220/85"), D, [a, c])
    assert amb.status is ResolutionStatus.AMBIGUOUS and {k.key for k in amb.candidates} == {"a", "c"}
    assert resolve_number(
        n("นร 1220/85"), D, [KnownLetter("p", n("นร 1220/55"), D, placeholder=True)]
    ).status is (ResolutionStatus.UNMATCHED)


def test_resolve_citation_needs_number_and_date() -> None:
    with pytest.raises(CitationError):
        resolve_citation(Citation(number=None, date=None, text="มติคณะรัฐมนตรี"), [])
    got = resolve_citation(Citation(number="นร ๑๒๒๐/๘๕", date="๒๗ พฤษภาคม ๒๕๖๓", text=""),
                           [KnownLetter(1, n("นร 1220/55"), D)])  # fmt: skip
    assert got.merged and got.match is not None and got.match.key == 1


def test_a_number_repeated_in_another_year_resolves_by_date() -> None:
    # Running numbers restart every calendar year: the same number is two letters.
    first = KnownLetter("2020", n("นร 1200/ว 0018"), date(2020, 6, 18))
    second = KnownLetter("2021", n("นร 1200/ว 0018"), date(2021, 3, 2))
    assert resolve_number(n("นร ๑๒๐๐/ว๐๐๑๘"), date(2021, 3, 2), [first, second]).match == second
    assert resolve_number(n("นร 1200/ว 0018"), date(2020, 6, 18), [second, first]).match == first
    # OCR tolerance stays within a date: /๘๕ of 2021 is not the /๕๕ of 2020.
    old = KnownLetter("old", n("นร 1220/55"), D)
    assert resolve_number(n("นร 1220/85"), date(2021, 5, 27), [old]).status is ResolutionStatus.UNMATCHED


_dates = st.dates(min_value=date(2019, 1, 1), max_value=date(2022, 12, 31))


@given(_numbers, _dates, st.lists(st.tuples(_numbers, _dates), max_size=8))
def test_resolution_keeps_the_date_and_code_of_the_citation(
    cited: LetterNumber, on: date, others: list[tuple[LetterNumber, date]]
) -> None:
    # The cited number itself on other days is among the candidates: never a match.
    known = [KnownLetter(i, x, d) for i, (x, d) in enumerate(others)]
    known += [KnownLetter(f"other-{d}", cited, d) for _, d in others if d != on]
    r = resolve_number(cited, on, known)
    for letter in ([r.match] if r.match else []) + list(r.candidates):
        assert letter.date == on
        assert (letter.number.code, letter.number.owner) == (cited.code, cited.owner)
