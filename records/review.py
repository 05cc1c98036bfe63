"""The review list: letters found in a file whose number or date could not be read.

Ingest puts each one on the list (`review_item`, in the file's transaction, with a `review.opened`
event; see `records.service.ingest_letters`). A person reads its source text, supplies the number
and date (`saraban review set`), and `resolve_review` completes it into a `Letter` stored the way
ingest stores every letter (citations resolved, circulars assigned, an `ingest.file` event that
replay re-ingests), then marks the item resolved with a `review.resolved` event naming who did it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, select

from models.letters import UnreadLetter, reading_json
from models.numbering import parse_letter_number
from models.tables import ReviewItem
from models.thai import ThaiDateError, now_bangkok, parse_thai_date
from records.events import append_event, default_actor
from records.service import IngestReport, find_letter, ingest_letters, review_event_payload


class ReviewError(ValueError):
    """A review request that cannot be done (unknown item, already resolved, a bad number or date)."""


def parse_review_date(text: str) -> date:
    """A date given by a person: ISO (2020-06-01) or Thai (๑ มิถุนายน ๒๕๖๓, ๑ มิ.ย. ๖๓).

    >>> parse_review_date("๑ มิถุนายน ๒๕๖๓")
    datetime.date(2020, 6, 1)
    >>> parse_review_date("2020-06-01")
    datetime.date(2020, 6, 1)
    """
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        pass
    try:
        return parse_thai_date(text)
    except ThaiDateError as exc:
        raise ReviewError(f"date {text!r}: {exc} (give 2020-06-01 or ๑ มิถุนายน ๒๕๖๓)") from None


@dataclass(frozen=True)
class ReviewView:
    """One item of the review list as people see it: where, why, and what was read."""

    id: int
    file: str
    line: int
    reason: str
    status: str
    number: str | None
    date: date | None
    subject: str | None
    issuer: str | None
    letter_id: int | None = None
    resolved_by: str | None = None

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "file": self.file,
            "line": self.line,
            "reason": self.reason,
            "status": self.status,
            "number": self.number,
            "date": self.date.isoformat() if self.date else None,
            "subject": self.subject,
            "issuer": self.issuer,
        }


def unread_of(item: ReviewItem) -> UnreadLetter:
    """The unread letter an item holds, as the parser read it."""
    return UnreadLetter.model_validate_json(item.unread)


def _view(item: ReviewItem) -> ReviewView:
    assert item.id is not None
    unread = unread_of(item)
    return ReviewView(
        id=item.id,
        file=item.file,
        line=item.line,
        reason=item.reason,
        status=item.status,
        number=unread.number.canonical if unread.number else None,
        date=unread.date,
        subject=unread.subject,
        issuer=unread.issuer,
        letter_id=item.letter_id,
        resolved_by=item.resolved_by,
    )


def open_reviews(session: Session) -> list[ReviewView]:
    """The open items, oldest first (read through the partial index `ix_review_item_open`)."""
    query = select(ReviewItem).where(ReviewItem.status == "open").order_by(col(ReviewItem.id))
    return [_view(item) for item in session.exec(query)]


def _item(session: Session, item_id: int) -> ReviewItem:
    item = session.get(ReviewItem, item_id)
    if item is None:
        raise ReviewError(f"no review item {item_id} (`saraban review` lists the open ones)")
    return item


def review_detail(session: Session, item_id: int) -> dict[str, Any]:
    """One item in full: what was read, how each field was read, and its source text."""
    item = _item(session, item_id)
    view = _view(item)
    unread = unread_of(item)
    return {
        **view.to_json(),
        "end_line": item.end_line,
        "readings": [{"field": r.field, **reading_json(r)} for r in unread.readings],
        "source_text": item.source_text,
        "letter_id": item.letter_id,
        "resolved_by": item.resolved_by,
        "resolved_at": item.resolved_at.isoformat() if item.resolved_at else None,
    }


@dataclass(frozen=True)
class Resolution:
    """What `resolve_review` did: the item, the letter it became, and the ingest of that letter."""

    item: ReviewView
    number: str
    date: date
    report: IngestReport


def resolve_review(
    session: Session, item_id: int, number: str, on: str, *, actor: str | None = None
) -> Resolution:
    """Complete an open item with its number and date and store the letter it becomes, in the
    caller's transaction: the same path ingest takes (`records.service.ingest_letters`), so its
    citations resolve, placeholders are realised and circulars assigned as for any letter.

    Raises `ReviewError` (and writes nothing) for an unknown or resolved item, or a number or
    date that cannot be read.
    """
    who = actor or default_actor()
    item = _item(session, item_id)
    if item.status != "open":
        raise ReviewError(f"review item {item_id} is already resolved (by {item.resolved_by or '?'})")
    try:
        letter_number = parse_letter_number(number)
    except ValueError as exc:
        raise ReviewError(f"number {number!r}: {exc}") from None
    day = parse_review_date(on)
    try:
        letter = unread_of(item).complete(letter_number, day)
    except ValidationError as exc:
        raise ReviewError(f"item {item_id} cannot become a letter: {exc}") from None
    report = ingest_letters(session, [letter], file=item.file, sha256=item.sha256, actor=who)
    row = find_letter(session, letter_number.canonical, day)
    assert row is not None and row.id is not None
    item.status, item.letter_id = "resolved", row.id
    item.resolved_at, item.resolved_by = now_bangkok(), who
    session.flush()
    append_event(
        session,
        "review.resolved",
        f"{item.file}:{item.line}",
        review_event_payload(item, number=row.number, date=row.date.isoformat()),
        actor=who,
    )
    return Resolution(_view(item), row.number, row.date, report)
