"""Read-only queries behind the dashboard pages.

Every page is a handful of queries: one per table shown, paginated with LIMIT/OFFSET, filtered on
indexed columns (`handoff.circular_id`, `dispatch.letter_id`, `receipt.letter_id`, the primary
keys), and aggregates computed by the database with GROUP BY, never by looping over rows in Python.
Nothing here writes: sessions are never committed.

The routing diagram comes through one function, `circular_diagram`: it asks
`records.views.routing_diagram` (the service layer's view, with deadlines, slack and the critical
path) when that exists, and otherwise builds a plain diagram from the handoff table.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session

from models.letters import LEVEL_ORDER, Level
from models.numbering import LetterNumberError, parse_letter_number
from models.tables import (
    AgencyRow,
    Circular,
    CitationRow,
    DeadlineRow,
    Dispatch,
    Handoff,
    LetterRow,
    LetterVariant,
    Merge,
    Receipt,
)
from visualize.model import DiagramEdge, DiagramNode, RoutingDiagram

T = TypeVar("T")

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500

# Handoff statuses, worst first: the order the circular page lists them in.
HANDOFF_STATUSES: tuple[str, ...] = ("overdue", "late", "pending", "received", "forwarded")

# How a handoff's status colours its recipient in the fallback diagram.
_DIAGRAM_STATUS = {
    "overdue": "overdue",
    "late": "late",
    "pending": "pending",
    "received": "on_time",
    "forwarded": "done",
}


# --- pagination ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a longer list: `number` is 1-based."""

    items: list[T]
    total: int
    number: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def first_index(self) -> int:
        """1-based position of the first item shown (0 when empty)."""
        return (self.number - 1) * self.size + 1 if self.items else 0


def page_bounds(number: int, size: int = PAGE_SIZE) -> tuple[int, int, int]:
    """(page, limit, offset) for a requested page, clamped to sane values.

    >>> page_bounds(3, 50)
    (3, 50, 100)
    >>> page_bounds(-1, 10_000)
    (1, 500, 0)
    """
    number = max(1, number)
    size = min(max(1, size), MAX_PAGE_SIZE)
    return number, size, (number - 1) * size


def _count(session: Session, stmt: sa.Select[Any]) -> int:
    return int(session.exec(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())).one()[0])


def _paginate(session: Session, stmt: sa.Select[Any], number: int, size: int) -> tuple[list[Any], int, int, int]:
    number, size, offset = page_bounds(number, size)
    total = _count(session, stmt)
    if offset >= total > 0:  # past the end: show the last page rather than an empty one
        number = -(-total // size)
        offset = (number - 1) * size
    rows = list(session.exec(stmt.limit(size).offset(offset)).all())
    return rows, total, number, size


# --- status counts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusCounts:
    """Handoff counts: how many were sent, received, forwarded, and in each status."""

    sent: int = 0
    received: int = 0
    forwarded: int = 0
    overdue: int = 0
    late: int = 0
    pending: int = 0

    @property
    def done_percent(self) -> int:
        """Share of handoffs received, in whole percent."""
        return round(100 * self.received / self.sent) if self.sent else 0


def _count_columns() -> list[sa.ColumnElement[Any]]:
    def when(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    return [
        sa.func.count(Handoff.id).label("sent"),
        when(Handoff.received_on.is_not(None)).label("received"),  # type: ignore[union-attr]
        when(Handoff.forwarded_on.is_not(None)).label("forwarded"),  # type: ignore[union-attr]
        when(Handoff.status == "overdue").label("overdue"),
        when(Handoff.status == "late").label("late"),
        when(Handoff.status == "pending").label("pending"),
    ]


def _counts(row: Any) -> StatusCounts:
    return StatusCounts(
        sent=int(row.sent), received=int(row.received), forwarded=int(row.forwarded),
        overdue=int(row.overdue), late=int(row.late), pending=int(row.pending),
    )  # fmt: skip


# --- circulars -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CircularSummary:
    """A circular (หนังสือเวียน) with its root letter and handoff progress."""

    id: str
    title: str
    status: str
    created_on: date
    root_number: str | None
    root_date: date | None
    root_subject: str | None
    counts: StatusCounts


def _circular_select() -> sa.Select[Any]:
    return sa.select(
        Circular.id, Circular.title, Circular.status, Circular.created_at,
        LetterRow.number, LetterRow.date, LetterRow.subject,
    ).outerjoin(LetterRow, LetterRow.id == Circular.root_letter_id)  # type: ignore[arg-type]  # fmt: skip


def _circular_summary(row: Any, counts: StatusCounts) -> CircularSummary:
    return CircularSummary(
        id=row.id, title=row.title, status=row.status, created_on=row.created_at.date(),
        root_number=row.number, root_date=row.date, root_subject=row.subject, counts=counts,
    )  # fmt: skip


def list_circulars(session: Session, *, page: int = 1, size: int = PAGE_SIZE) -> Page[CircularSummary]:
    """Circulars, newest first, with handoff counts (one grouped query for the whole page)."""
    stmt = _circular_select().order_by(Circular.created_at.desc(), Circular.id)  # type: ignore[attr-defined]
    rows, total, number, size = _paginate(session, stmt, page, size)
    ids = [r.id for r in rows]
    counts: dict[str, StatusCounts] = {}
    if ids:
        grouped = session.exec(
            sa.select(Handoff.circular_id, *_count_columns())
            .where(Handoff.circular_id.in_(ids))  # type: ignore[attr-defined]
            .group_by(Handoff.circular_id)
        )
        counts = {r.circular_id: _counts(r) for r in grouped}
    items = [_circular_summary(r, counts.get(r.id, StatusCounts())) for r in rows]
    return Page(items=items, total=total, number=number, size=size)


def get_circular(session: Session, circular_id: str) -> CircularSummary | None:
    """One circular with its overall counts, or None."""
    row = session.exec(_circular_select().where(Circular.id == circular_id)).first()
    if row is None:
        return None
    totals = session.exec(sa.select(*_count_columns()).where(Handoff.circular_id == circular_id)).one()
    return _circular_summary(row, _counts(totals))


def root_deadlines(session: Session, circular_id: str) -> list[DeadlineRow]:
    """The due dates and meetings the circular's root letter names."""
    stmt = (
        sa.select(DeadlineRow)
        .join(Circular, Circular.root_letter_id == DeadlineRow.letter_id)  # type: ignore[arg-type]
        .where(Circular.id == circular_id)
        .order_by(DeadlineRow.date, DeadlineRow.time)  # type: ignore[arg-type]
    )
    return list(session.exec(stmt).scalars())  # type: ignore[call-overload]


# Agencies are filed under a province when they are the province, its child (district, อบจ.,
# municipalities named by the province) or its grandchild (local bodies under a district).
_Recipient = aliased(AgencyRow, name="recipient")
_RecipientParent = aliased(AgencyRow, name="recipient_parent")


def _in_province(province: str) -> sa.ColumnElement[bool]:
    return sa.or_(
        _Recipient.id == province,
        _Recipient.parent_id == province,
        _RecipientParent.parent_id == province,
    )


def province_agency_id(code: str) -> str:
    """`54` or `province:54` -> `province:54`."""
    return code if code.startswith("province:") else f"province:{code}"


@dataclass(frozen=True)
class LevelStatus:
    level: str
    counts: StatusCounts


def level_status(session: Session, circular_id: str, *, province: str | None = None) -> list[LevelStatus]:
    """Handoff counts per level (province, district, local...), in hierarchy order."""
    stmt = sa.select(Handoff.level, *_count_columns()).where(Handoff.circular_id == circular_id)
    if province is not None:
        stmt = (
            stmt.join(_Recipient, _Recipient.id == Handoff.recipient_id)
            .outerjoin(_RecipientParent, _RecipientParent.id == _Recipient.parent_id)
            .where(_in_province(province))
        )
    rows = session.exec(stmt.group_by(Handoff.level)).all()
    order = {level.value: i for i, level in enumerate(LEVEL_ORDER)}
    result = [LevelStatus(level=r.level, counts=_counts(r)) for r in rows]
    return sorted(result, key=lambda s: (order.get(s.level, len(order)), s.level))


@dataclass(frozen=True)
class ProvinceOption:
    code: str
    agency_id: str
    name_th: str


def circular_provinces(session: Session, circular_id: str) -> list[ProvinceOption]:
    """The provinces a circular reached (at most 77): the choices of the province filter."""
    stmt = (
        sa.select(AgencyRow.id, AgencyRow.name_th)
        .join(Handoff, Handoff.recipient_id == AgencyRow.id)  # type: ignore[arg-type]
        .where(Handoff.circular_id == circular_id, AgencyRow.level == Level.PROVINCE.value)
        .distinct()
        .order_by(AgencyRow.id)
    )
    return [
        ProvinceOption(code=r.id.split(":", 1)[1], agency_id=r.id, name_th=r.name_th)
        for r in session.exec(stmt)
        if r.id.startswith("province:")
    ]


@dataclass(frozen=True)
class HandoffView:
    """One handoff as a row of a table: who sent which letter to whom, and what happened."""

    id: int
    circular_id: str
    level: str
    status: str
    recipient_id: str
    recipient_name: str
    sender_id: str
    sender_name: str
    letter_number: str
    letter_date: date
    sent_on: date
    received_on: date | None
    forwarded_on: date | None
    due_receive: date | None
    due_forward: date | None


_Sender = aliased(AgencyRow, name="sender")


def _handoff_select() -> sa.Select[Any]:
    return (
        sa.select(
            Handoff.id, Handoff.circular_id, Handoff.level, Handoff.status, Handoff.recipient_id,
            _Recipient.name_th.label("recipient_name"), Dispatch.sender_id,
            _Sender.name_th.label("sender_name"), LetterRow.number, LetterRow.date,
            Handoff.sent_on, Handoff.received_on, Handoff.forwarded_on, Handoff.due_receive, Handoff.due_forward,
        )  # fmt: skip
        .join(_Recipient, _Recipient.id == Handoff.recipient_id)
        .join(Dispatch, Dispatch.id == Handoff.dispatch_id)  # type: ignore[arg-type]
        .join(_Sender, _Sender.id == Dispatch.sender_id)
        .join(LetterRow, LetterRow.id == Dispatch.letter_id)  # type: ignore[arg-type]
    )


def _handoff_view(r: Any) -> HandoffView:
    return HandoffView(
        id=r.id, circular_id=r.circular_id, level=r.level, status=r.status, recipient_id=r.recipient_id,
        recipient_name=r.recipient_name, sender_id=r.sender_id, sender_name=r.sender_name,
        letter_number=r.number, letter_date=r.date, sent_on=r.sent_on, received_on=r.received_on,
        forwarded_on=r.forwarded_on, due_receive=r.due_receive, due_forward=r.due_forward,
    )  # fmt: skip


def _worst_first() -> sa.ColumnElement[Any]:
    return sa.case({s: i for i, s in enumerate(HANDOFF_STATUSES)}, value=Handoff.status, else_=len(HANDOFF_STATUSES))


def circular_handoffs(
    session: Session,
    circular_id: str,
    *,
    province: str | None = None,
    status: str | None = None,
    page: int = 1,
    size: int = PAGE_SIZE,
) -> Page[HandoffView]:
    """A circular's handoffs, one row per recipient agency: overdue first, then late, pending..."""
    stmt = _handoff_select().where(Handoff.circular_id == circular_id)
    if province is not None:
        stmt = stmt.outerjoin(_RecipientParent, _RecipientParent.id == _Recipient.parent_id).where(
            _in_province(province)
        )
    if status is not None:
        stmt = stmt.where(Handoff.status == status)
    stmt = stmt.order_by(
        _worst_first(),
        Handoff.due_forward.is_(None),  # type: ignore[union-attr]
        Handoff.due_forward,
        Handoff.recipient_id,
    )
    rows, total, number, size = _paginate(session, stmt, page, size)
    return Page(items=[_handoff_view(r) for r in rows], total=total, number=number, size=size)


# --- the routing diagram (the seam with records.views) ---------------------------------------


def circular_diagram(session: Session, circular_id: str, *, province: str | None = None) -> RoutingDiagram | None:
    """The routing diagram of a circular: the service layer's when available, else a plain one.

    `records.views.routing_diagram` knows deadlines, slack and the critical path; until it exists
    the diagram is built here from the handoff table (status colours and letters only). `province`
    is passed on (as `province:NN`) so the service can narrow its query; drill-down itself is done
    by the caller with `visualize.diagrams.drill_down`.
    """
    try:
        views = importlib.import_module("records.views")
    except ImportError:
        views = None
    if views is not None and hasattr(views, "routing_diagram"):
        diagram: RoutingDiagram = views.routing_diagram(session, circular_id, province=province)
        return diagram
    return _diagram_from_handoffs(session, circular_id)


def _diagram_from_handoffs(session: Session, circular_id: str) -> RoutingDiagram | None:
    circular = session.get(Circular, circular_id)
    if circular is None:
        return None
    parent = aliased(AgencyRow, name="parent_agency")
    rows = session.exec(
        sa.select(
            Handoff.recipient_id, Handoff.status, Handoff.level, Handoff.received_on, Handoff.forwarded_on,
            Handoff.due_forward, Dispatch.sender_id, LetterRow.number, LetterRow.date,
        )  # fmt: skip
        .join(Dispatch, Dispatch.id == Handoff.dispatch_id)  # type: ignore[arg-type]
        .join(LetterRow, LetterRow.id == Dispatch.letter_id)  # type: ignore[arg-type]
        .where(Handoff.circular_id == circular_id)
        .order_by(Handoff.id)
    ).all()
    ids = {r.recipient_id for r in rows} | {r.sender_id for r in rows}
    # A subquery rather than IN (<8,800 ids>): SQLite caps the number of bound parameters.
    involved = sa.union(
        sa.select(Handoff.recipient_id).where(Handoff.circular_id == circular_id),
        sa.select(Dispatch.sender_id).where(Dispatch.circular_id == circular_id),
    ).subquery()
    agencies = {
        a.id: a
        for a in session.exec(
            sa.select(AgencyRow.id, AgencyRow.name_th, AgencyRow.level, AgencyRow.parent_id, parent.level.label("pl"),
                      parent.parent_id.label("pp"))  # fmt: skip
            .outerjoin(parent, parent.id == AgencyRow.parent_id)
            .where(AgencyRow.id.in_(sa.select(involved.c[0])))  # type: ignore[attr-defined]
        )
    }
    status_of: dict[str, str] = {}
    for r in rows:
        status_of[r.recipient_id] = _DIAGRAM_STATUS.get(r.status, "unknown")
    nodes = []
    for agency_id in sorted(ids, key=lambda i: (_level_rank(agencies[i].level) if i in agencies else 99, i)):
        a = agencies.get(agency_id)
        level = _level(a.level) if a else Level.UNKNOWN
        province, district = _placement(a) if a else (None, None)
        nodes.append(
            DiagramNode(
                id=agency_id,
                name_th=a.name_th if a else agency_id,
                level=level,
                # A sender nobody sent to (the root) has done its part by sending.
                status=status_of.get(agency_id, "done"),
                parent=a.parent_id if a else None,
                province=province,
                district=district,
            )
        )
    edges = tuple(
        DiagramEdge(
            source=r.sender_id,
            target=r.recipient_id,
            letter=r.number,
            letter_date=r.date,
            status=_DIAGRAM_STATUS.get(r.status, "unknown"),
        )
        for r in rows
    )
    return RoutingDiagram(title=circular.title or circular.id, deadline=None, nodes=tuple(nodes), edges=edges)


def _level(value: str) -> Level:
    try:
        return Level(value)
    except ValueError:
        return Level.UNKNOWN


def _level_rank(value: str) -> int:
    return LEVEL_ORDER.index(_level(value))


def _placement(a: Any) -> tuple[str | None, str | None]:
    """(province, district) an agency belongs to, from its parent chain."""
    level = _level(a.level)
    if level is Level.PROVINCE:
        return a.id, None
    if level is Level.DISTRICT:
        return a.parent_id, a.id
    if a.pl == Level.DISTRICT.value:
        return a.pp, a.parent_id
    if a.pl == Level.PROVINCE.value:
        return a.parent_id, None
    return None, None


# --- agencies --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgencyInfo:
    id: str
    name_th: str
    name_en: str
    level: str
    parent_id: str | None
    parent_name: str | None


def get_agency(session: Session, agency_id: str) -> AgencyInfo | None:
    parent = aliased(AgencyRow, name="parent_agency")
    row = session.exec(
        sa.select(AgencyRow.id, AgencyRow.name_th, AgencyRow.name_en, AgencyRow.level, AgencyRow.parent_id,
                  parent.name_th.label("parent_name"))  # fmt: skip
        .outerjoin(parent, parent.id == AgencyRow.parent_id)
        .where(AgencyRow.id == agency_id)
    ).first()
    if row is None:
        return None
    return AgencyInfo(
        id=row.id, name_th=row.name_th, name_en=row.name_en, level=row.level,
        parent_id=row.parent_id, parent_name=row.parent_name,
    )  # fmt: skip


def agency_counts(session: Session, agency_id: str) -> StatusCounts:
    """What an agency was sent, over every circular."""
    return _counts(session.exec(sa.select(*_count_columns()).where(Handoff.recipient_id == agency_id)).one())


def agency_handoffs(
    session: Session, agency_id: str, *, status: str | None = None, page: int = 1, size: int = PAGE_SIZE
) -> Page[HandoffView]:
    """What an agency received (its handoffs), worst first, then newest."""
    stmt = _handoff_select().where(Handoff.recipient_id == agency_id)
    if status is not None:
        stmt = stmt.where(Handoff.status == status)
    stmt = stmt.order_by(_worst_first(), Handoff.sent_on.desc(), Handoff.id)  # type: ignore[attr-defined]
    rows, total, number, size = _paginate(session, stmt, page, size)
    return Page(items=[_handoff_view(r) for r in rows], total=total, number=number, size=size)


@dataclass(frozen=True)
class DispatchView:
    """A letter an agency sent on (forwarded) to a level, with its recipients' progress."""

    id: int
    circular_id: str
    letter_number: str
    letter_date: date
    sent_on: date
    level: str
    counts: StatusCounts


def agency_dispatches(
    session: Session, agency_id: str, *, page: int = 1, size: int = PAGE_SIZE
) -> Page[DispatchView]:
    stmt = (
        sa.select(Dispatch.id, Dispatch.circular_id, LetterRow.number, LetterRow.date, Dispatch.sent_on,
                  Dispatch.level)  # fmt: skip
        .join(LetterRow, LetterRow.id == Dispatch.letter_id)  # type: ignore[arg-type]
        .where(Dispatch.sender_id == agency_id)
        .order_by(Dispatch.sent_on.desc(), Dispatch.id)  # type: ignore[attr-defined]
    )
    rows, total, number, size = _paginate(session, stmt, page, size)
    counts: dict[int, StatusCounts] = {}
    ids = [r.id for r in rows]
    if ids:
        grouped = session.exec(
            sa.select(Handoff.dispatch_id, *_count_columns())
            .where(Handoff.dispatch_id.in_(ids))  # type: ignore[attr-defined]
            .group_by(Handoff.dispatch_id)
        )
        counts = {r.dispatch_id: _counts(r) for r in grouped}
    items = [
        DispatchView(
            id=r.id, circular_id=r.circular_id, letter_number=r.number, letter_date=r.date, sent_on=r.sent_on,
            level=r.level, counts=counts.get(r.id, StatusCounts()),
        )  # fmt: skip
        for r in rows
    ]
    return Page(items=items, total=total, number=number, size=size)


@dataclass(frozen=True)
class LetterBrief:
    id: int
    number: str
    date: date
    subject: str | None
    urgency: str | None
    known_only_by_citation: bool


def _brief(r: Any) -> LetterBrief:
    return LetterBrief(
        id=r.id, number=r.number, date=r.date, subject=r.subject, urgency=r.urgency,
        known_only_by_citation=bool(r.known_only_by_citation),
    )  # fmt: skip


_BRIEF_COLUMNS = (
    LetterRow.id, LetterRow.number, LetterRow.date, LetterRow.subject, LetterRow.urgency,
    LetterRow.known_only_by_citation,
)  # fmt: skip


def agency_letters(session: Session, agency_id: str, *, page: int = 1, size: int = PAGE_SIZE) -> Page[LetterBrief]:
    """Letters the agency issued, newest first."""
    stmt = (
        sa.select(*_BRIEF_COLUMNS)
        .where(LetterRow.issuer_id == agency_id)
        .order_by(LetterRow.date.desc(), LetterRow.number)  # type: ignore[attr-defined]
    )
    rows, total, number, size = _paginate(session, stmt, page, size)
    return Page(items=[_brief(r) for r in rows], total=total, number=number, size=size)


@dataclass(frozen=True)
class ReceiptView:
    id: int
    registry: str
    agency_id: str | None
    number: str | None
    date: date | None
    time: time | None
    source: str
    source_file: str | None
    source_line: int | None
    letter_number: str
    letter_date: date


def _receipt_select() -> sa.Select[Any]:
    return sa.select(
        Receipt.id, Receipt.registry, Receipt.agency_id, Receipt.number, Receipt.date, Receipt.time,
        Receipt.source, Receipt.source_file, Receipt.source_line,
        LetterRow.number.label("letter_number"), LetterRow.date.label("letter_date"),
    ).join(LetterRow, LetterRow.id == Receipt.letter_id)  # type: ignore[arg-type]  # fmt: skip


def _receipt_view(r: Any) -> ReceiptView:
    return ReceiptView(
        id=r.id, registry=r.registry, agency_id=r.agency_id, number=r.number, date=r.date, time=r.time,
        source=r.source, source_file=r.source_file, source_line=r.source_line,
        letter_number=r.letter_number, letter_date=r.letter_date,
    )  # fmt: skip


def agency_receipts(session: Session, agency_id: str, *, page: int = 1, size: int = PAGE_SIZE) -> Page[ReceiptView]:
    """Receipt stamps (ตรารับ) the agency's registry put on letters, newest first."""
    stmt = (
        _receipt_select()
        .where(Receipt.agency_id == agency_id)
        .order_by(Receipt.date.desc(), Receipt.id)  # type: ignore[union-attr]
    )
    rows, total, number, size = _paginate(session, stmt, page, size)
    return Page(items=[_receipt_view(r) for r in rows], total=total, number=number, size=size)


# --- letters ---------------------------------------------------------------------------------


def canonical_number(text: str) -> str:
    """The canonical form of a printed number, or the text itself when it is not one.

    >>> canonical_number("มท ๐๒๑๘/ว ๓๑๘๒")
    'มท 0218/ว 3182'
    """
    try:
        return parse_letter_number(text).canonical
    except LetterNumberError:
        return " ".join(text.split())


def find_letters(session: Session, number: str, *, on: date | None = None) -> list[LetterBrief]:
    """Letters a printed number may name: the number itself, a variant of it, or a merged alias.

    Running numbers restart every year, so one number can name several letters; `on` (the letter's
    date) picks one.
    """
    canonical = canonical_number(number)
    forms = {canonical, number.strip()}
    ids = (
        sa.select(LetterRow.id)
        .where(LetterRow.number.in_(forms))  # type: ignore[attr-defined]
        .union(
            sa.select(LetterVariant.letter_id).where(LetterVariant.printed.in_(forms)),  # type: ignore[attr-defined]
            sa.select(Merge.kept_letter_id).where(Merge.alias.in_(forms)),  # type: ignore[attr-defined]
        )
        .subquery()
    )
    stmt = sa.select(*_BRIEF_COLUMNS).where(LetterRow.id.in_(sa.select(ids.c[0])))  # type: ignore[union-attr]
    if on is not None:
        stmt = stmt.where(LetterRow.date == on)
    stmt = stmt.order_by(LetterRow.date.desc(), LetterRow.id)  # type: ignore[attr-defined]
    return [_brief(r) for r in session.exec(stmt)]


@dataclass(frozen=True)
class CitationView:
    kind: str
    number: str
    date: date
    cited_as: str
    cited_raw: str
    text: str
    source_line: int | None
    placeholder: bool


@dataclass(frozen=True)
class DispatchOfLetter:
    circular_id: str
    sender_id: str
    sender_name: str
    sent_on: date
    level: str


@dataclass
class LetterDetail:
    """Everything the letter page shows."""

    letter: LetterRow
    issuer_name: str | None
    receipts: list[ReceiptView] = field(default_factory=list)
    cites: list[CitationView] = field(default_factory=list)
    cited_by: list[CitationView] = field(default_factory=list)
    variants: list[LetterVariant] = field(default_factory=list)
    merges: list[Merge] = field(default_factory=list)
    deadlines: list[DeadlineRow] = field(default_factory=list)
    dispatches: list[DispatchOfLetter] = field(default_factory=list)


def letter_detail(session: Session, letter_id: int) -> LetterDetail | None:
    """A letter with its receipts, citations both ways, aliases, merges, deadlines and dispatches."""
    letter = session.get(LetterRow, letter_id)
    if letter is None:
        return None
    issuer = session.get(AgencyRow, letter.issuer_id) if letter.issuer_id else None
    detail = LetterDetail(letter=letter, issuer_name=issuer.name_th if issuer else letter.issuer_name)
    detail.receipts = [
        _receipt_view(r)
        for r in session.exec(
            _receipt_select().where(Receipt.letter_id == letter_id).order_by(Receipt.date, Receipt.time, Receipt.id)  # type: ignore[arg-type]
        )
    ]
    detail.cites = _citations(session, CitationRow.citing_letter_id, CitationRow.cited_letter_id, letter_id)
    detail.cited_by = _citations(session, CitationRow.cited_letter_id, CitationRow.citing_letter_id, letter_id)
    detail.variants = list(
        session.exec(sa.select(LetterVariant).where(LetterVariant.letter_id == letter_id).order_by(LetterVariant.id)).scalars()  # type: ignore[arg-type,call-overload]
    )
    detail.merges = list(
        session.exec(sa.select(Merge).where(Merge.kept_letter_id == letter_id).order_by(Merge.made_at)).scalars()  # type: ignore[arg-type,call-overload]
    )
    detail.deadlines = list(
        session.exec(
            sa.select(DeadlineRow).where(DeadlineRow.letter_id == letter_id).order_by(DeadlineRow.date, DeadlineRow.time)  # type: ignore[arg-type]
        ).scalars()  # type: ignore[call-overload]
    )
    detail.dispatches = [
        DispatchOfLetter(r.circular_id, r.sender_id, r.name_th, r.sent_on, r.level)
        for r in session.exec(
            sa.select(Dispatch.circular_id, Dispatch.sender_id, AgencyRow.name_th, Dispatch.sent_on, Dispatch.level)
            .join(AgencyRow, AgencyRow.id == Dispatch.sender_id)  # type: ignore[arg-type]
            .where(Dispatch.letter_id == letter_id)
            .order_by(Dispatch.sent_on, Dispatch.id)  # type: ignore[arg-type]
        )
    ]
    return detail


def _citations(session: Session, this_side: Any, other_side: Any, letter_id: int) -> list[CitationView]:
    stmt = (
        sa.select(
            CitationRow.kind, LetterRow.number, LetterRow.date, CitationRow.cited_number, CitationRow.cited_raw,
            CitationRow.text, CitationRow.source_line, LetterRow.known_only_by_citation,
        )  # fmt: skip
        .join(LetterRow, LetterRow.id == other_side)
        .where(this_side == letter_id)
        .order_by(CitationRow.kind, CitationRow.position, CitationRow.id)  # type: ignore[arg-type]
    )
    return [
        CitationView(
            kind=r.kind, number=r.number, date=r.date, cited_as=r.cited_number, cited_raw=r.cited_raw,
            text=r.text, source_line=r.source_line, placeholder=bool(r.known_only_by_citation),
        )  # fmt: skip
        for r in session.exec(stmt)
    ]


def healthcheck(session: Session) -> bool:
    return session.exec(sa.select(sa.literal(1))).scalar() == 1  # type: ignore[call-overload]



def count_circulars(session: Session) -> int:
    return int(session.exec(sa.select(sa.func.count()).select_from(Circular)).one()[0])
