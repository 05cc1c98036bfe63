"""The words a letter is found by: Thai text cut into words (Thai is written without spaces).

A letter's search terms are the words of its subject, its issuer as printed and the first lines of
its body, cut by pythainlp's dictionary tokenizer (`newmm`, offline: the dictionary ships with the
package). A query is cut the same way, so a word found in a subject is found in the query too;
`records.search` asks for letters holding every word of the query. Terms are normalised: Thai
digits read as Arabic, Latin letters lower-cased, punctuation and one-character pieces dropped.
The dictionary keeps some nouns made with a prefix whole (การประชุม, ความร่วมมือ): a letter's term
made so is indexed with its stem too (ประชุม), so the stem alone finds it.

>>> sorted(letter_terms("การประชุมชี้แจงการปรับปรุงแผน", None, None))
['การประชุม', 'การปรับปรุง', 'ชี้แจง', 'ประชุม', 'ปรับปรุง', 'แผน']
>>> query_terms("ประชุม  ๒๕๖๓")
['ประชุม', '2563']
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from pythainlp.tokenize import word_tokenize

# A term longer than this is cut (a run of Latin letters or digits with no break).
TERM_MAX = 64
# Of a letter's body, the lines after its salutation (เรียน) that are indexed, and at most how much.
BODY_LINES = 3
BODY_CHARS = 400

# Prefixes that make nouns of verbs (การ ความ) or start a request (ขอ): stripped for a second term.
_PREFIXES = ("การ", "ความ", "ขอ", "ผู้", "นัก")
_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")
# A term keeps Thai letters and marks, Latin letters and digits; anything else splits it.
_PIECE = re.compile(r"[0-9a-z\u0e01-\u0e4e]+")


def normalise(text: str) -> str:
    """NFC, Thai digits as Arabic, lower case.

    >>> normalise("มท ๐๒๑๘ COVID")
    'มท 0218 covid'
    """
    return unicodedata.normalize("NFC", text).translate(_THAI_DIGITS).lower()


def terms_of(text: str) -> list[str]:
    """The words of `text`, in order, normalised, duplicates kept.

    >>> terms_of("ขอความร่วมมือประชาสัมพันธ์โครงการ")
    ['ขอความร่วมมือ', 'ประชาสัมพันธ์', 'โครงการ']
    """
    out: list[str] = []
    for token in word_tokenize(normalise(text), engine="newmm", keep_whitespace=False):
        for piece in _PIECE.findall(token):
            if len(piece) > 1:
                out.append(piece[:TERM_MAX])
    return out


def body_lines(text: str | None) -> str:
    """The first lines of a letter's body: those after its salutation (เรียน), else its first lines.

    >>> body_lines("ที่ มท 1/2\\nเรื่อง ก\\nเรียน ผู้ว่า\\nตามที่ ...\\nจึงเรียนมา")
    'ตามที่ ...\\nจึงเรียนมา'
    """
    if not text:
        return ""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    start = next((i + 1 for i, line in enumerate(lines) if line.startswith("เรียน")), 0)
    return "\n".join(lines[start : start + BODY_LINES])[:BODY_CHARS]


def letter_terms(subject: str | None, issuer: str | None, text: str | None) -> set[str]:
    """Every search term of a letter: the words of its subject, issuer and first body lines."""
    parts: Iterable[str] = (p for p in (subject, issuer, body_lines(text)) if p)
    found = {term for part in parts for term in terms_of(part)}
    stems: set[str] = set()
    for term in found:
        stem = _stem(term)
        while stem and stem not in stems:
            stems.add(stem)
            stem = _stem(stem)
    return found | stems


def _stem(term: str) -> str | None:
    """`term` without its noun-making prefix, when it has one and something is left.

    >>> _stem("ความร่วมมือ"), _stem("การ")
    ('ร่วมมือ', None)
    """
    for prefix in _PREFIXES:
        if term.startswith(prefix) and len(term) > len(prefix) + 1:
            return term[len(prefix) :]
    return None


def query_terms(query: str) -> list[str]:
    """The distinct words of a query, in the order typed."""
    return list(dict.fromkeys(terms_of(query)))
