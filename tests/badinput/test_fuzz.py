"""Fuzzing the letter parser: whatever the text, it never raises and loses nothing (every text that is
not blank yields letters or review entries); whatever the bytes, a file reads or raises ParseError."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

parser = pytest.importorskip("models.parser")

DEMO = [
    p.read_text(encoding="utf-8")
    for p in sorted((Path(__file__).parents[2] / "demo" / "letters").glob("*.txt"))
]
# Characters the parser cares about: Thai letters and digits, Arabic digits, the punctuation of numbers and dates.
ALPHABET = st.sampled_from(
    list("ที่มทนรพว/.:- \n\t๐๑๒๓๔๕๖๗๘๙0123456789กขคงจฉชซญฎฏฐดตถธนบปผพภมยรลวศษสหอฮะาำิีึืุูเแโใไ่้๊๋็์ๆ()\u200b\ufeff")
)
FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _parses_or_refuses(text: str) -> None:
    result = parser.read_letters(text, file="fuzz.txt")
    found = [*result.letters, *result.unread]
    assert found or not parser.normalize_text(text)[0].strip()
    assert all(letter.source.line >= 1 for letter in found)


@FUZZ
@given(st.text(alphabet=ALPHABET, max_size=400))
def test_thaiish_text(text: str) -> None:
    _parses_or_refuses(text)


@FUZZ
@given(st.text(max_size=300))
def test_any_unicode(text: str) -> None:
    _parses_or_refuses(text)


@FUZZ
@given(st.binary(max_size=300))
def test_any_bytes_as_a_file(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.txt"
        path.write_bytes(data)
        try:
            parser.parse_file(path)
        except parser.ParseError as exc:
            assert str(exc).startswith(str(path))


@st.composite
def mutated_letters(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(DEMO))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 40)))
        op = draw(st.sampled_from(["delete", "insert", "replace", "truncate", "duplicate"]))
        if op == "delete":
            text = text[:i] + text[j:]
        elif op == "insert":
            text = text[:i] + draw(st.text(alphabet=ALPHABET, max_size=12)) + text[i:]
        elif op == "replace":
            text = text[:i] + draw(st.text(alphabet=ALPHABET, min_size=1, max_size=12)) + text[j:]
        elif op == "truncate":
            text = text[:i]
        else:
            text = text[:j] + text[i:j] + text[j:]
    return text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_letters())
def test_mutated_demo_letters(text: str) -> None:
    _parses_or_refuses(text)
