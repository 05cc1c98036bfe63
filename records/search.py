"""Finding letters: by any printed form of a number, by words of the subject, by agency and date.

A query is read three ways, and a letter matching any of them is found:

- as a letter number in any printed form (Thai or Arabic digits, spaces, `ว` with or without its
  dot): its canonical form (`models.numbering`) is looked up as the letter's number, a printed
  variant or a merged alias, like `records.dashboard.find_letters`; a piece of a number
  (`0218/ว 3182`, `๓๑๘๒`) matches the numbers that contain it;
- as words: Thai is written without spaces, so the query is cut into words as the letters were
  (`models.terms`, pythainlp's `newmm`), and a letter holding every word in `letter_term` is found.
  Plain tables and a composite index: the same SQL on SQLite and PostgreSQL;
- as a phrase of the subject (`LIKE`), for a piece of a word the cutting did not keep apart: a
  scan of every subject, so asked only when the number and the words find nothing.

`agency` (the issuer), `date_from` and `date_to` (the letter's date, inclusive) narrow the result;
`sort` orders it by one of `SORT_COLUMNS` (default: newest first), `page` pages it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import sqlalchemy as sa
from sqlmodel import Session, col

from models.numbering import LetterNumberError, parse_letter_number
from models.tables import AgencyRow, Dispatch, Handoff, LetterRow, LetterTerm, LetterVariant, Merge, Receipt
from models.terms import normalise, query_terms
from records.dashboard import PAGE_SIZE, LetterBrief, Page, find_letters, page_bounds

Direction = Literal["asc", "desc"]
QUERY_MAX = 200  # characters of a query read
TERMS_MAX = 12  # words of a query looked up

_Issuer = sa.orm.aliased(AgencyRow, name="issuer")
_ISSUER_NAME = sa.func.coalesce(col(_Issuer.name_th), col(LetterRow.issuer_name), "")

# What a result may be sorted by: the name in the URL -> the column, and its first direction.
SORT_COLUMNS: dict[str, tuple[Any, Direction]] = {
    "date": (col(LetterRow.date), "desc"),
    "number": (col(LetterRow.number), "asc"),
    "subject": (sa.func.coalesce(col(LetterRow.subject), ""), "asc"),
    "issuer": (_ISSUER_NAME, "asc"),
}
DEFAULT_SORT = "date"

_NUMBER_CHARS = re.compile(r"^[0-9./()\sว]+$")


class SearchError(ValueError):
    """A search the record cannot run as asked; the message names the field and the value."""


@dataclass(frozen=True)
class SearchHit:
    """A letter found: what a row of the results shows."""

    id: int
    number: str
    date: date
    subject: str | None
    urgency: str | None
    issuer_id: str | None
    issuer: str
    circular_id: str | None
    known_only_by_citation: bool


@dataclass(frozen=True)
class SearchResult:
    page: Page[SearchHit]
    query: str
    number: str | None  # the query's canonical number, when it is one
    terms: tuple[str, ...]  # the words looked up
    sort: str
    direction: Direction


@dataclass(frozen=True)
class AgencyOption:
    id: str
    name_th: str


def number_form(query: str) -> str | None:
    """The canonical number a query names, or None when it names none.

    >>> number_form("มท ๐๒๑๘/ว. ๓๑๘๒"), number_form("ประชุม")
    ('มท 0218/ว 3182', None)
    """
    try:
        return parse_letter_number(query).canonical
    except LetterNumberError:
        return None


def number_piece(query: str) -> str | None:
    """A piece of a number as the record spells numbers (Arabic digits, `ว 3182`, no space around
    `/`), when the query is only digits and number marks; else None.

    >>> number_piece("๐๒๑๘ / ว.๓๑๘๒"), number_piece("๓๑๘๒"), number_piece("ประชุม 2563")
    ('0218/ว 3182', '3182', None)
    """
    text = normalise(query).strip()
    if not text or not _NUMBER_CHARS.match(text) or not any(c.isdigit() for c in text):
        return None
    text = re.sub(r"\s*/\s*", "/", text)
    text = re.sub(r"ว\.?\s*(?=\d)", "ว ", text)
    return " ".join(text.split())


def exact_letters(session: Session, query: str) -> list[LetterBrief]:
    """The letters a query names when it is a whole letter number (any printed form), else none."""
    return find_letters(session, query) if number_form(query) is not None else []


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class _Match:
    query: str
    number: str | None
    terms: tuple[str, ...]
    ids: sa.CompoundSelect[Any] | sa.Select[Any] | None  # the letters the number or the words find
    phrase: sa.ColumnElement[bool]  # the subject holding the query as typed


def _matching(query: str) -> _Match | None:
    """How `query` finds letters: the ids its number and its words find (index lookups, unioned),
    and the subject phrase (a scan, asked only when those find nothing). None for no query."""
    if not query:
        return None
    number = number_form(query)
    terms = tuple(query_terms(query)[:TERMS_MAX])
    ways: list[sa.Select[Any]] = []
    if number is not None:
        forms = {number, query}
        ways.append(sa.select(col(LetterRow.id)).where(col(LetterRow.number).in_(forms)))
        ways.append(sa.select(col(LetterVariant.letter_id)).where(col(LetterVariant.printed).in_(forms)))
        ways.append(sa.select(col(Merge.kept_letter_id)).where(col(Merge.alias).in_(forms)))
    piece = number_piece(query)
    if piece is not None:
        ways.append(sa.select(col(LetterRow.id)).where(col(LetterRow.number).like(_like(piece), escape="\\")))
    if terms:
        ways.append(
            sa.select(col(LetterTerm.letter_id))
            .where(col(LetterTerm.term).in_(terms))
            .group_by(col(LetterTerm.letter_id))
            .having(sa.func.count() == len(terms))
        )
    ids = (sa.union(*ways) if len(ways) > 1 else ways[0]) if ways else None
    return _Match(query, number, terms, ids, col(LetterRow.subject).like(_like(query), escape="\\"))


def _count(session: Session, stmt: Any) -> int:
    return int(
        session.execute(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    )


def _in_scope(agencies: list[str]) -> sa.ColumnElement[bool]:
    """A letter issued by, received by (a receipt stamp), sent on by or sent to one of `agencies`."""
    sent_to = (
        sa.select(col(Dispatch.letter_id))
        .join(Handoff, col(Handoff.dispatch_id) == col(Dispatch.id))
        .where(col(Handoff.recipient_id).in_(agencies))
    )
    return sa.or_(
        col(LetterRow.issuer_id).in_(agencies),
        col(LetterRow.id).in_(sa.select(col(Receipt.letter_id)).where(col(Receipt.agency_id).in_(agencies))),
        col(LetterRow.id).in_(
            sa.select(col(Dispatch.letter_id)).where(col(Dispatch.sender_id).in_(agencies))
        ),
        col(LetterRow.id).in_(sent_to),
    )


def search_letters(
    session: Session,
    q: str | None,
    agency: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    *,
    sort: str | None = None,
    direction: str | None = None,
    page: int = 1,
    size: int = PAGE_SIZE,
    agencies: frozenset[str] | None = None,
) -> SearchResult:
    """Letters matching `q` (see the module docstring), issued by `agency`, dated within
    [`date_from`, `date_to`], sorted by `sort` (`SORT_COLUMNS`) in `direction` (`asc`/`desc`,
    default the column's own), one page of `size`. `agencies`, when given, is the scope the reader
    may see: only letters one of them issued, stamped received, sent on or was sent (as
    `records.users.letters_in_scope` judges a letter's page). Every criterion is optional; with
    none, every letter is listed."""
    sort = sort or DEFAULT_SORT
    if sort not in SORT_COLUMNS:
        raise SearchError(f"sort: one of {', '.join(SORT_COLUMNS)}, not {sort!r}")
    column, first = SORT_COLUMNS[sort]
    if direction not in (None, "", "asc", "desc"):
        raise SearchError(f"dir: 'asc' or 'desc', not {direction!r}")
    way: Direction = "asc" if direction == "asc" else "desc" if direction == "desc" else first
    if date_from is not None and date_to is not None and date_from > date_to:
        raise SearchError(
            f"date_from {date_from.isoformat()} is after date_to {date_to.isoformat()}: no day between"
        )
    match = _matching(" ".join((q or "").split())[:QUERY_MAX])
    stmt = sa.select(
        col(LetterRow.id), col(LetterRow.number), col(LetterRow.date), col(LetterRow.subject), col(LetterRow.urgency),
        col(LetterRow.issuer_id), _ISSUER_NAME.label("issuer"), col(LetterRow.circular_id),
        col(LetterRow.known_only_by_citation),
    ).outerjoin(_Issuer, col(_Issuer.id) == col(LetterRow.issuer_id))  # fmt: skip
    if agency:
        stmt = stmt.where(col(LetterRow.issuer_id) == agency)
    if agencies is not None:
        stmt = stmt.where(_in_scope(sorted(agencies)))
    if date_from is not None:
        stmt = stmt.where(col(LetterRow.date) >= date_from)
    if date_to is not None:
        stmt = stmt.where(col(LetterRow.date) <= date_to)
    if match is not None:
        # The number and the words first (index lookups); the subject phrase, a scan of every
        # subject, only when they find nothing (a piece of a word the cutting kept inside another).
        found = stmt.where(col(LetterRow.id).in_(match.ids)) if match.ids is not None else None
        stmt = found if found is not None and _count(session, found) else stmt.where(match.phrase)
    ordered = column.asc() if way == "asc" else column.desc()
    tie = col(LetterRow.id).asc() if way == "asc" else col(LetterRow.id).desc()
    stmt = stmt.order_by(ordered, tie)

    number_asked, size, offset = page_bounds(page, size)
    total = _count(session, stmt)
    if offset >= total > 0:  # past the end: the last page rather than an empty one
        number_asked = -(-total // size)
        offset = (number_asked - 1) * size
    rows = session.execute(stmt.limit(size).offset(offset)).all()
    hits = [SearchHit(**{k: row._mapping[k] for k in SearchHit.__dataclass_fields__}) for row in rows]
    return SearchResult(
        page=Page(items=hits, total=total, number=number_asked, size=size),
        query=q or "",
        number=match.number if match else None,
        terms=match.terms if match else (),
        sort=sort,
        direction=way,
    )


def issuing_agencies(session: Session) -> list[AgencyOption]:
    """The agencies that issued a letter on record, by name: the choices of the agency filter."""
    stmt = (
        sa.select(col(AgencyRow.id), col(AgencyRow.name_th))
        .where(
            col(AgencyRow.id).in_(
                sa.select(col(LetterRow.issuer_id)).where(col(LetterRow.issuer_id).is_not(None))
            )
        )
        .order_by(col(AgencyRow.name_th), col(AgencyRow.id))
    )
    return [AgencyOption(id=r.id, name_th=r.name_th) for r in session.execute(stmt)]
