"""Read-only queries behind the dashboard pages, and the read-only engine they run on.

Every page is a handful of queries: one per table shown, paginated with LIMIT/OFFSET, filtered on
indexed columns (`handoff.circular_id`, `dispatch.letter_id`, `receipt.letter_id`, the primary
keys), and aggregates computed by the database with GROUP BY, never by looping over rows in Python.
Nothing here writes: sessions are never committed.

The routing diagram comes through one function, `circular_diagram`: it asks
`records.views.routing_diagram` (the service layer's view, with deadlines, slack and the critical
path) when the circular has a routing plan, and otherwise builds a plain diagram from the handoff
table, or from the record alone when nothing was routed.

Which letters a handoff carries is `records.views.Holdings.on_edge`'s answer, the same for the
handoff tables and the diagram: the sender's letters the recipient holds (stamped, enclosed,
cited), else all the sender's letters in the circular. A sender with no letter on file shows the
letter its dispatch row names.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, time
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session

from models.db import READONLY_OPTION, get_engine
from models.db import database_url as resolve_database_url
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
from records import views
from records.scans import LetterScan, page_png, scan_of_letter
from records.service import ReadingNote, reading_notes
from visualize.model import DiagramEdge, DiagramNode, EdgeLetter, RoutingDiagram

T = TypeVar("T")
log = logging.getLogger(__name__)

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
LETTER_DISPATCHES = 20  # dispatches listed on a letter's page (records.pages.letter_dispatches)

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


def page_of(items: Sequence[T], number: int, size: int = PAGE_SIZE) -> Page[T]:
    """One page of a list already in memory (a circular's state), clamped as `_paginate` does.

    >>> page_of(list(range(7)), 2, 5).items
    [5, 6]
    """
    number, size, offset = page_bounds(number, size)
    total = len(items)
    if offset >= total > 0:
        number = -(-total // size)
        offset = (number - 1) * size
    return Page(items=list(items[offset : offset + size]), total=total, number=number, size=size)


def _count(session: Session, stmt: sa.Select[Any]) -> int:
    return int(session.exec(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())).one()[0])


def _paginate(
    session: Session, stmt: sa.Select[Any], number: int, size: int
) -> tuple[list[Any], int, int, int]:
    number, size, offset = page_bounds(number, size)
    total = _count(session, stmt)
    if offset >= total > 0:  # past the end: show the last page rather than an empty one
        number = -(-total // size)
        offset = (number - 1) * size
    rows = list(session.exec(stmt.limit(size).offset(offset)).all())
    return rows, total, number, size


def _from_row(cls: type[T], row: Any, **extra: Any) -> T:
    """A dataclass built from a result row whose column labels are its field names."""
    data = row._mapping
    return cls(**{f.name: data[f.name] for f in fields(cls) if f.name in data}, **extra)  # type: ignore[call-arg]


# --- sorting (`?sort=<column>&dir=asc|desc` on the dashboard's tables) -----------------------


class SortError(ValueError):
    """A sort the table does not offer; the message names the column or direction asked for."""


def sort_direction(columns: dict[str, Any], sort: str, direction: str | None) -> bool:
    """Whether `sort` (one of `columns`, name -> its first direction) runs ascending, `direction`
    (`asc`/`desc`) or else the column's own; a column or direction not offered is a `SortError`.

    >>> sort_direction({"date": "desc"}, "date", None), sort_direction({"date": "desc"}, "date", "asc")
    (False, True)
    """
    if sort not in columns:
        raise SortError(f"sort: one of {', '.join(columns)}, not {sort!r}")
    if direction not in (None, "", "asc", "desc"):
        raise SortError(f"dir: 'asc' or 'desc', not {direction!r}")
    return (direction or columns[sort]) == "asc"


def _ordered(column: Any, ascending: bool) -> list[Any]:
    """ORDER BY `column` (empty values last either way)."""
    return [column.is_(None), column.asc() if ascending else column.desc()]


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
        when(Handoff.received_on.is_not(None)).label("received"),
        when(Handoff.forwarded_on.is_not(None)).label("forwarded"),
        when(Handoff.status == "overdue").label("overdue"),
        when(Handoff.status == "late").label("late"),
        when(Handoff.status == "pending").label("pending"),
    ]


def _counts(row: Any) -> StatusCounts:
    return StatusCounts(**{f.name: int(row._mapping[f.name]) for f in fields(StatusCounts)})


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
        LetterRow.number.label("root_number"), LetterRow.date.label("root_date"),
        LetterRow.subject.label("root_subject"),
    ).outerjoin(LetterRow, LetterRow.id == Circular.root_letter_id)  # fmt: skip


def _circular_summary(row: Any, counts: StatusCounts) -> CircularSummary:
    return _from_row(CircularSummary, row, created_on=row.created_at.date(), counts=counts)


# The home page's sortable columns: name in the URL -> its first direction (`_CIRCULAR_SORT_COLUMNS`).
CIRCULAR_SORTS: dict[str, str] = {
    "created": "desc", "title": "asc", "root_number": "asc", "root_date": "desc", "status": "asc",
}  # fmt: skip


def _circular_sort_columns() -> dict[str, Any]:
    return {
        "created": Circular.created_at, "title": sa.func.coalesce(sa.func.nullif(Circular.title, ""), Circular.id),
        "root_number": LetterRow.number, "root_date": LetterRow.date, "status": Circular.status,
    }  # fmt: skip


def list_circulars(
    session: Session,
    *,
    page: int = 1,
    size: int = PAGE_SIZE,
    sort: str | None = None,
    direction: str | None = None,
    agencies: Collection[str] | None = None,
) -> Page[CircularSummary]:
    """Circulars, newest first (or by `sort`, one of `CIRCULAR_SORTS`, in `direction`), with handoff
    counts (one grouped query for the whole page).

    `agencies` (a reader's scope; None: all) keeps the circulars one of them issued a letter of,
    sent or was sent: the rule a circular's page is opened by (`records.users.circular_in_scope`)."""
    base = _circular_select()
    if agencies is not None:
        ids = sorted(agencies)
        base = base.where(
            Circular.id.in_(
                sa.union(
                    sa.select(Handoff.circular_id).where(Handoff.recipient_id.in_(ids)),
                    sa.select(Dispatch.circular_id).where(Dispatch.sender_id.in_(ids)),
                    sa.select(LetterRow.circular_id).where(LetterRow.issuer_id.in_(ids)),
                )
            )
        )
    stmt = base.order_by(Circular.created_at.desc(), Circular.id)
    if sort:
        ascending = sort_direction(CIRCULAR_SORTS, sort, direction)
        stmt = base.order_by(
            *_ordered(_circular_sort_columns()[sort], ascending),
            Circular.id.asc() if ascending else Circular.id.desc(),
        )
    rows, total, number, size = _paginate(session, stmt, page, size)
    ids = [r.id for r in rows]
    counts: dict[str, StatusCounts] = {}
    if ids:
        grouped = session.exec(
            sa.select(Handoff.circular_id, *_count_columns())
            .where(Handoff.circular_id.in_(ids))
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
        .join(Circular, Circular.root_letter_id == DeadlineRow.letter_id)
        .where(Circular.id == circular_id)
        .order_by(DeadlineRow.date, DeadlineRow.time)
    )
    return list(session.exec(stmt).scalars())


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
        .join(Handoff, Handoff.recipient_id == AgencyRow.id)
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
    letters: tuple[EdgeLetter, ...] = ()  # what the handoff carried (see the module docstring)

    @property
    def carried(self) -> tuple[EdgeLetter, ...]:
        """The letters to show: those the record puts on this handoff, else the dispatch's own."""
        return self.letters or (EdgeLetter(self.letter_number, self.letter_date),)


_Sender = aliased(AgencyRow, name="sender")


def with_letters(session: Session, handoffs: Sequence[HandoffView]) -> list[HandoffView]:
    """The handoffs with the letters each carried, one `records.views.edge_letters` call per circular."""
    pairs: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for h in handoffs:
        pairs[h.circular_id].add((h.sender_id, h.recipient_id))
    found = {c: views.edge_letters(session, c, p) for c, p in pairs.items()}
    return [replace(h, letters=found[h.circular_id][h.sender_id, h.recipient_id]) for h in handoffs]


def _handoff_select() -> sa.Select[Any]:
    return (
        sa.select(
            Handoff.id, Handoff.circular_id, Handoff.level, Handoff.status, Handoff.recipient_id,
            _Recipient.name_th.label("recipient_name"), Dispatch.sender_id,
            _Sender.name_th.label("sender_name"), LetterRow.number.label("letter_number"),
            LetterRow.date.label("letter_date"), Handoff.sent_on, Handoff.received_on, Handoff.forwarded_on,
            Handoff.due_receive, Handoff.due_forward,
        )
        .join(_Recipient, _Recipient.id == Handoff.recipient_id)
        .join(Dispatch, Dispatch.id == Handoff.dispatch_id)
        .join(_Sender, _Sender.id == Dispatch.sender_id)
        .join(LetterRow, LetterRow.id == Dispatch.letter_id)
    )  # fmt: skip


def _worst_first() -> sa.ColumnElement[Any]:
    return sa.case(
        {s: i for i, s in enumerate(HANDOFF_STATUSES)}, value=Handoff.status, else_=len(HANDOFF_STATUSES)
    )


# The circular page's sortable handoff columns: name in the URL -> its first direction. The same
# names sort a circular's state (`records.pages.circular_truth`).
HANDOFF_SORTS: dict[str, str] = {
    "status": "asc", "recipient": "asc", "level": "asc", "sender": "asc",
    "sent": "desc", "received": "desc", "forwarded": "desc", "due": "asc",
}  # fmt: skip


def _handoff_sort_columns() -> dict[str, Any]:
    return {
        "recipient": _Recipient.name_th, "level": Handoff.level, "sender": _Sender.name_th,
        "sent": Handoff.sent_on, "received": Handoff.received_on, "forwarded": Handoff.forwarded_on,
        "due": Handoff.due_forward,
    }  # fmt: skip


def circular_handoffs(
    session: Session,
    circular_id: str,
    *,
    province: str | None = None,
    status: str | None = None,
    page: int = 1,
    size: int = PAGE_SIZE,
    sort: str | None = None,
    direction: str | None = None,
) -> Page[HandoffView]:
    """A circular's handoffs, one row per recipient agency: overdue first, then late, pending... (or
    by `sort`, one of `HANDOFF_SORTS`, in `direction`)."""
    stmt = _handoff_select().where(Handoff.circular_id == circular_id)
    if province is not None:
        stmt = stmt.outerjoin(_RecipientParent, _RecipientParent.id == _Recipient.parent_id).where(
            _in_province(province)
        )
    if status is not None:
        stmt = stmt.where(Handoff.status == status)
    stmt = stmt.order_by(
        _worst_first(),
        Handoff.due_forward.is_(None),
        Handoff.due_forward,
        Handoff.recipient_id,
    )
    if sort:
        ascending = sort_direction(HANDOFF_SORTS, sort, direction)
        column = _worst_first() if sort == "status" else _handoff_sort_columns()[sort]
        stmt = stmt.order_by(None).order_by(
            *_ordered(column, ascending),
            Handoff.recipient_id.asc() if ascending else Handoff.recipient_id.desc(),
        )
    rows, total, number, size = _paginate(session, stmt, page, size)
    items = with_letters(session, [_from_row(HandoffView, r) for r in rows])
    return Page(items=items, total=total, number=number, size=size)


# --- the routing diagram (the seam with records.views) ---------------------------------------


@dataclass(frozen=True)
class CircularDiagram:
    """A circular's routing diagram and where it came from."""

    diagram: RoutingDiagram
    planned: bool  # True: from the routing plan (deadlines, slack, critical path); False: handoffs only
    note: str = ""
    record_only: bool = False  # no plan and nothing routed: what the letters on record show


def circular_diagram(
    session: Session, circular_id: str, *, province: str | None = None, as_of: date | None = None
) -> CircularDiagram | None:
    """The routing diagram of a circular: the service layer's when it can, else a plain one.

    This is the one seam between the dashboard and `records.views`: `routing_diagram` knows
    deadlines, slack (as of `as_of`, default today) and the critical path from the circular's
    routing plan. Without a plan (it raises a `LookupError`) the diagram is built here from the
    handoff table: status colours and letters only; with no handoffs either, from the record
    alone (`records.views.record_diagram`). `province` (`province:NN`) is passed on so the
    service can narrow its query; drill-down itself is the caller's (`visualize.diagrams.drill_down`).
    """
    note = ""
    try:
        return CircularDiagram(
            views.routing_diagram(session, circular_id, province=province, as_of=as_of), planned=True
        )
    except LookupError as exc:
        log.info("circular %s: no planned diagram (%s); drawing its handoffs", circular_id, exc)
        note = str(exc)
    diagram = _diagram_from_handoffs(session, circular_id)
    if diagram is not None and not diagram.nodes:
        record = views.record_diagram(session, circular_id, province=province)
        return CircularDiagram(record, planned=False, note=note, record_only=True)
    return CircularDiagram(diagram, planned=False, note=note) if diagram is not None else None


def _diagram_from_handoffs(session: Session, circular_id: str) -> RoutingDiagram | None:
    circular = session.get(Circular, circular_id)
    if circular is None:
        return None
    parent = aliased(AgencyRow, name="parent_agency")
    rows = session.exec(
        sa.select(Handoff.recipient_id, Handoff.status, Dispatch.sender_id, LetterRow.number, LetterRow.date)
        .join(Dispatch, Dispatch.id == Handoff.dispatch_id)
        .join(LetterRow, LetterRow.id == Dispatch.letter_id)
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
            sa.select(
                AgencyRow.id,
                AgencyRow.name_th,
                AgencyRow.level,
                AgencyRow.parent_id,
                parent.level.label("pl"),
                parent.parent_id.label("pp"),
            )
            .outerjoin(parent, parent.id == AgencyRow.parent_id)
            .where(AgencyRow.id.in_(sa.select(involved.c[0])))
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
    carried = views.edge_letters(session, circular_id, {(r.sender_id, r.recipient_id) for r in rows})
    edges = tuple(
        DiagramEdge(
            source=r.sender_id,
            target=r.recipient_id,
            letters=carried[r.sender_id, r.recipient_id] or (EdgeLetter(r.number, r.date),),
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
    columns = (
        AgencyRow.id, AgencyRow.name_th, AgencyRow.name_en, AgencyRow.level, AgencyRow.parent_id,
        parent.name_th.label("parent_name"),
    )  # fmt: skip
    row = session.exec(
        sa.select(*columns)
        .outerjoin(parent, parent.id == AgencyRow.parent_id)
        .where(AgencyRow.id == agency_id)
    ).first()
    return _from_row(AgencyInfo, row) if row is not None else None


def agency_counts(session: Session, agency_id: str, *, exclude: Sequence[str] = ()) -> StatusCounts:
    """What an agency was sent, over every circular but those in `exclude`."""
    stmt = sa.select(*_count_columns()).where(Handoff.recipient_id == agency_id)
    if exclude:
        stmt = stmt.where(Handoff.circular_id.not_in(exclude))
    return _counts(session.exec(stmt).one())


def agency_handoffs(
    session: Session,
    agency_id: str,
    *,
    status: str | None = None,
    page: int = 1,
    size: int = PAGE_SIZE,
    exclude: Sequence[str] = (),
) -> Page[HandoffView]:
    """What an agency received (its handoffs), worst first, then newest; circulars in `exclude`
    (those the dashboard judges by their state, `records.pages`) left out."""
    stmt = _handoff_select().where(Handoff.recipient_id == agency_id)
    if exclude:
        stmt = stmt.where(Handoff.circular_id.not_in(exclude))
    if status is not None:
        stmt = stmt.where(Handoff.status == status)
    stmt = stmt.order_by(_worst_first(), Handoff.sent_on.desc(), Handoff.id)
    rows, total, number, size = _paginate(session, stmt, page, size)
    items = with_letters(session, [_from_row(HandoffView, r) for r in rows])
    return Page(items=items, total=total, number=number, size=size)


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


_DISPATCH_COLUMNS = (
    Dispatch.id, Dispatch.circular_id, LetterRow.number.label("letter_number"),
    LetterRow.date.label("letter_date"), Dispatch.sent_on, Dispatch.level,
)  # fmt: skip


def agency_dispatches(
    session: Session, agency_id: str, *, page: int = 1, size: int = PAGE_SIZE, exclude: Sequence[str] = ()
) -> Page[DispatchView]:
    """Letters the agency sent on, newest first, with their recipients' counts; circulars in
    `exclude` left out (a routing run's dispatch rows are planned as well as recorded ones)."""
    stmt = (
        sa.select(*_DISPATCH_COLUMNS)
        .join(LetterRow, LetterRow.id == Dispatch.letter_id)
        .where(Dispatch.sender_id == agency_id)
        .order_by(Dispatch.sent_on.desc(), Dispatch.id)
    )
    if exclude:
        stmt = stmt.where(Dispatch.circular_id.not_in(exclude))
    rows, total, number, size = _paginate(session, stmt, page, size)
    counts: dict[int, StatusCounts] = {}
    ids = [r.id for r in rows]
    if ids:
        grouped = session.exec(
            sa.select(Handoff.dispatch_id, *_count_columns())
            .where(Handoff.dispatch_id.in_(ids))
            .group_by(Handoff.dispatch_id)
        )
        counts = {r.dispatch_id: _counts(r) for r in grouped}
    items = [_from_row(DispatchView, r, counts=counts.get(r.id, StatusCounts())) for r in rows]
    return Page(items=items, total=total, number=number, size=size)


@dataclass(frozen=True)
class LetterBrief:
    id: int
    number: str
    date: date
    subject: str | None
    urgency: str | None
    known_only_by_citation: bool


_BRIEF_COLUMNS = (
    LetterRow.id, LetterRow.number, LetterRow.date, LetterRow.subject, LetterRow.urgency,
    LetterRow.known_only_by_citation,
)  # fmt: skip


def agency_letters(
    session: Session, agency_id: str, *, page: int = 1, size: int = PAGE_SIZE
) -> Page[LetterBrief]:
    """Letters the agency issued, newest first."""
    stmt = (
        sa.select(*_BRIEF_COLUMNS)
        .where(LetterRow.issuer_id == agency_id)
        .order_by(LetterRow.date.desc(), LetterRow.number)
    )
    rows, total, number, size = _paginate(session, stmt, page, size)
    return Page(items=[_from_row(LetterBrief, r) for r in rows], total=total, number=number, size=size)


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


_RECEIPT_COLUMNS = (
    Receipt.id, Receipt.registry, Receipt.agency_id, Receipt.number, Receipt.date, Receipt.time,
    Receipt.source, Receipt.source_file, Receipt.source_line,
    LetterRow.number.label("letter_number"), LetterRow.date.label("letter_date"),
)  # fmt: skip


def _receipts(where: sa.ColumnElement[bool], *order: Any) -> sa.Select[Any]:
    return (
        sa.select(*_RECEIPT_COLUMNS)
        .join(LetterRow, LetterRow.id == Receipt.letter_id)
        .where(where)
        .order_by(*order)
    )


def agency_receipts(
    session: Session, agency_id: str, *, page: int = 1, size: int = PAGE_SIZE
) -> Page[ReceiptView]:
    """Receipt stamps (ตรารับ) the agency's registry put on letters, newest first."""
    stmt = _receipts(Receipt.agency_id == agency_id, Receipt.date.desc(), Receipt.id)
    rows, total, number, size = _paginate(session, stmt, page, size)
    return Page(items=[_from_row(ReceiptView, r) for r in rows], total=total, number=number, size=size)


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
    forms = {canonical_number(number), number.strip()}
    ids = sa.union(
        sa.select(LetterRow.id).where(LetterRow.number.in_(forms)),
        sa.select(LetterVariant.letter_id).where(LetterVariant.printed.in_(forms)),
        sa.select(Merge.kept_letter_id).where(Merge.alias.in_(forms)),
    ).subquery()
    stmt = sa.select(*_BRIEF_COLUMNS).where(LetterRow.id.in_(sa.select(ids.c[0])))
    if on is not None:
        stmt = stmt.where(LetterRow.date == on)
    stmt = stmt.order_by(LetterRow.date.desc(), LetterRow.id)
    return [_from_row(LetterBrief, r) for r in session.exec(stmt)]


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


# The fields of a letter shown beside its scan, in the order they are printed.
SCAN_FIELDS: tuple[str, ...] = (
    "urgency", "number", "issuer", "date", "subject", "salutation", "signer", "signer_position", "owner_unit",
)  # fmt: skip


@dataclass(frozen=True)
class ScanField:
    """One field of a scanned letter as read, with its reading when it was not read plainly."""

    name: str
    value: str | date | None
    status: str | None = None  # repaired, partial, missing; None when read as printed
    line: int | None = None
    raw: str | None = None
    note: str | None = None


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
    notes: list[ReadingNote] = field(default_factory=list)  # what reading its file flagged
    scan: LetterScan | None = None  # the scan it was read from, if any
    scan_fields: list[ScanField] = field(default_factory=list)


def letter_detail(session: Session, letter_id: int) -> LetterDetail | None:
    """A letter with its receipts, citations both ways, aliases, merges, deadlines and the notes of
    its reading (its dispatches, facts and expectations apart: `records.pages.letter_dispatches`).

    Every query goes by the letter's id through an indexed column (`*.letter_id`, the citation
    ends, `merge.kept_letter_id`), and the notes by its file through the partial index of ingest
    events, so the page costs the same on a year of data as on the seeds.
    """
    letter = session.get(LetterRow, letter_id)
    if letter is None:
        return None
    issuer = session.get(AgencyRow, letter.issuer_id) if letter.issuer_id else None
    detail = LetterDetail(letter=letter, issuer_name=issuer.name_th if issuer else letter.issuer_name)
    receipts = _receipts(Receipt.letter_id == letter_id, Receipt.date, Receipt.time, Receipt.id)
    detail.receipts = [_from_row(ReceiptView, r) for r in session.exec(receipts)]
    detail.cites = _citations(session, CitationRow.citing_letter_id, CitationRow.cited_letter_id, letter_id)
    detail.cited_by = _citations(
        session, CitationRow.cited_letter_id, CitationRow.citing_letter_id, letter_id
    )
    detail.variants = _all(session, LetterVariant, LetterVariant.letter_id == letter_id, LetterVariant.id)
    detail.merges = _all(session, Merge, Merge.kept_letter_id == letter_id, Merge.made_at)
    detail.deadlines = _all(
        session, DeadlineRow, DeadlineRow.letter_id == letter_id, DeadlineRow.date, DeadlineRow.time
    )
    detail.notes = reading_notes(session, letter)
    detail.scan = scan_of_letter(session, letter)
    if detail.scan is not None:
        detail.scan_fields = _scan_fields(detail, detail.scan)
    return detail


def _scan_fields(detail: LetterDetail, scan: LetterScan) -> list[ScanField]:
    """The letter's fields as stored, each with its reading; then the readings of other fields
    (a deadline, a citation) that were not read plainly."""
    readings = {r.field: r for r in scan.readings}
    letter = detail.letter
    values: dict[str, str | date | None] = {name: getattr(letter, name, None) for name in SCAN_FIELDS}
    values["issuer"] = detail.issuer_name
    out = []
    for name in [*SCAN_FIELDS, *(r for r in readings if r not in SCAN_FIELDS)]:
        r = readings.get(name)
        if r is None:
            out.append(ScanField(name, values.get(name)))
        else:
            out.append(ScanField(name, values.get(name), r.status.value, r.line, r.raw, r.note))
    return out


def scan_page_png(session: Session, page_id: int) -> bytes | None:
    """The PNG of one page of a scan (`/scans/{id}.png`), or None."""
    return page_png(session, page_id)


def _all(session: Session, table: type[T], where: sa.ColumnElement[bool], *order: Any) -> list[T]:
    return list(session.exec(sa.select(table).where(where).order_by(*order)).scalars())


def _citations(session: Session, this_side: Any, other_side: Any, letter_id: int) -> list[CitationView]:
    columns = (
        CitationRow.kind, LetterRow.number, LetterRow.date, CitationRow.cited_number.label("cited_as"),
        CitationRow.cited_raw, CitationRow.text, CitationRow.source_line,
        LetterRow.known_only_by_citation.label("placeholder"),
    )  # fmt: skip
    stmt = (
        sa.select(*columns)
        .join(LetterRow, LetterRow.id == other_side)
        .where(this_side == letter_id)
        .order_by(CitationRow.kind, CitationRow.position, CitationRow.id)
    )
    return [_from_row(CitationView, r) for r in session.exec(stmt)]


# --- health ----------------------------------------------------------------------------------


def healthcheck(session: Session) -> bool:
    return session.exec(sa.select(sa.literal(1))).scalar() == 1


def count_circulars(session: Session) -> int:
    return int(session.exec(sa.select(sa.func.count()).select_from(Circular)).one()[0])


def health(engine: Engine) -> tuple[int, dict[str, Any]]:
    """`/healthz`'s answer: (HTTP status, body); 503 with the driver's first line when the record fails."""
    try:
        with Session(engine) as session:
            healthcheck(session)
            circulars = count_circulars(session)
    except sa.exc.SQLAlchemyError as exc:
        return 503, {"status": "error", "database": type(exc).__name__, "detail": str(exc).splitlines()[0]}
    return 200, {"status": "ok", "database": engine.dialect.name, "circulars": circulars}


# --- the read-only engine --------------------------------------------------------------------


def read_only_engine(url: str | None = None) -> Engine:
    """An engine that can only read the record at `url` (default: `SARABAN_DATABASE_URL`).

    The service layer's engine opens every SQLite transaction with BEGIN IMMEDIATE (one writer at
    a time); a dashboard page must not queue behind a flow that is recording 8,800 handoffs, nor
    hold it up, so pages read in deferred transactions, which WAL lets run beside a writer.
    """
    resolved = resolve_database_url(url)
    sa_url = sa.make_url(resolved)
    if sa_url.get_backend_name() != "sqlite":
        return sa.create_engine(sa_url, pool_pre_ping=True, execution_options={"postgresql_readonly": True})
    if sa_url.database in (None, "", ":memory:"):
        # A private in-memory database is only visible through the engine that made it.
        return get_engine(resolved)
    # Marked read-only (`models.db.READONLY_OPTION`) so that the read model stores the states it
    # computes through the writable engine instead (`records.progress`).
    engine = sa.create_engine(sa_url, connect_args={"timeout": 30}, execution_options={READONLY_OPTION: True})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA query_only = ON")
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # A deferred transaction: one consistent snapshot per page, no write lock.
        connection.exec_driver_sql("BEGIN")

    return engine
