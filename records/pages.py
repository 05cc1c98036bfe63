"""What the dashboard's pages show of a circular as of a day: read-only views over
`records.progress.circular_state`, the one read model `saraban status` and `overdue` use.

Each function returns plain dataclasses; the app renders them and runs no SQL of its own for
these parts. A date is either a fact (recorded or registered: it happened, it is shown and
counted as sent, received or forwarded) or an expectation (planned or projected: shown apart,
as `expected_*`, never counted). A circular no plan covers has no state: the functions return
None (or leave it out), and the caller says so.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.letters import LEVEL_ORDER
from models.tables import AgencyRow, Circular, Dispatch, LetterRow
from records.dashboard import HANDOFF_SORTS, PAGE_SIZE, Page, page_of, sort_direction
from records.progress import (
    CircularState,
    HandoffView,
    ProgressError,
    circular_levels,
    circular_state,
    circular_states_of,
    matching_plan,
)
from records.views import edge_letters
from routing.handoffs import HandoffStatus
from visualize.model import EdgeLetter

# Worst first: the order the circular page lists its agencies in.
STATUS_ORDER: tuple[str, ...] = tuple(
    s.value
    for s in (
        HandoffStatus.OVERDUE,
        HandoffStatus.BLOCKED,
        HandoffStatus.LATE,
        HandoffStatus.PENDING,
        HandoffStatus.DONE,
    )
)
LEVEL_KEYS = ("sent", "received", "forwarded", "overdue", "late", "blocked", "pending")


@dataclass(frozen=True)
class HandoffRow:
    """One agency's handoff of a circular as of a day, ready to print: facts and expectations apart."""

    circular_id: str
    recipient_id: str
    recipient: str
    level: str
    sender_id: str
    sender: str
    letters: tuple[EdgeLetter, ...]
    status: str
    sent_on: date | None  # facts only
    received_on: date | None
    forwarded_on: date | None
    sent_provenance: str
    received_provenance: str | None
    expected_sent: date | None  # planned/projected: never a fact
    expected_forward: date | None
    due: date | None
    days_over: int
    holder_id: str | None
    holder: str | None
    escalate_to_id: str | None
    escalate_to: str | None
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class LevelRow:
    level: str
    sent: int
    received: int
    forwarded: int
    overdue: int
    late: int
    blocked: int
    pending: int

    @property
    def done_percent(self) -> int:
        return round(100 * self.received / self.sent) if self.sent else 0


@dataclass(frozen=True)
class ProvinceChoice:
    code: str
    agency_id: str
    name_th: str


@dataclass(frozen=True)
class CircularTruth:
    """The circular page as of a day: per-level counts (`CircularState.levels`, what
    `saraban status` prints) and the agencies' rows, worst first."""

    circular_id: str
    plan_id: str
    as_of: date
    deadline: date | None
    levels: list[LevelRow]
    totals: LevelRow
    agencies: int  # handoffs counted (one per agency the plan reaches, under the filter)
    rows: list[HandoffRow]
    provinces: list[ProvinceChoice]


def _letter_dates(session: Session, circular_id: str) -> dict[str, date]:
    rows = session.exec(
        select(col(LetterRow.number), col(LetterRow.date)).where(LetterRow.circular_id == circular_id)
    ).all()
    return {number: on for number, on in rows}


def _rows(session: Session, state: CircularState, handoffs: Sequence[HandoffView]) -> list[HandoffRow]:
    # The letters a handoff carried are the record's (`Holdings.on_edge`), as on the diagram's edges;
    # a handoff that has not happened shows the letter its sender would hand on.
    sent = {(h.sender_id, h.recipient_id) for h in handoffs if h.sent}
    carried = edge_letters(session, state.circular_id, sent) if sent else {}
    dates = _letter_dates(session, state.circular_id)
    out = []
    for h in handoffs:
        letters = carried.get((h.sender_id, h.recipient_id)) or (
            (EdgeLetter(h.letter, dates.get(h.letter)),) if h.letter else ()
        )
        out.append(
            HandoffRow(
                circular_id=state.circular_id,
                recipient_id=h.recipient_id,
                recipient=h.recipient,
                level=h.level,
                sender_id=h.sender_id,
                sender=state.name(h.sender_id) or h.sender_id,
                letters=letters,
                status=h.status.value,
                sent_on=h.sent_on,
                received_on=h.received_on,
                forwarded_on=h.forwarded_on,
                sent_provenance=h.sent_provenance.value,
                received_provenance=h.received_provenance.value if h.received_provenance else None,
                expected_sent=h.expected_sent,
                expected_forward=h.expected_forward,
                due=h.due,
                days_over=h.days_over,
                holder_id=h.holder_id,
                holder=state.name(h.holder_id),
                escalate_to_id=h.escalate_to_id,
                escalate_to=state.name(h.escalate_to_id),
                evidence=h.evidence,
            )
        )
    return out


def _worst_first(h: HandoffView) -> tuple[int, int, date, str]:
    return (STATUS_ORDER.index(h.status.value), -h.days_over, h.due or date.max, h.recipient_id)


def _province_of(state: CircularState) -> dict[str, str]:
    """Agency -> the province its letter came down through (from the plan's senders)."""
    sender = {h.recipient_id: h.sender_id for h in state.handoffs}
    level = {h.recipient_id: h.level for h in state.handoffs}
    found: dict[str, str] = {}
    for agency in sender:
        seen = agency
        for _ in range(6):
            if level.get(seen) == "province":
                found[agency] = seen
                break
            if seen not in sender:
                break
            seen = sender[seen]
    return found


def level_rows(state: CircularState) -> list[LevelRow]:
    """`CircularState.levels` as rows: the same numbers `saraban status --json` prints."""
    return [LevelRow(**lv) for lv in state.levels()]


def _totals(levels: Iterable[LevelRow]) -> LevelRow:
    total: Counter[str] = Counter()
    for lv in levels:
        for k in LEVEL_KEYS:
            total[k] += getattr(lv, k)
    return LevelRow(level="all", **{k: total[k] for k in LEVEL_KEYS})


def state_of(session: Session, circular_id: str, as_of: date) -> CircularState | None:
    """The circular's state as of `as_of`, or None when no plan covers it (or it is unknown)."""
    circular = session.get(Circular, circular_id)
    if circular is None or matching_plan(session, circular) is None:
        return None
    try:
        return circular_state(session, circular, as_of)
    except ProgressError:
        return None


def sort_rows(
    handoffs: Sequence[HandoffView], state: CircularState, sort: str, direction: str | None
) -> list[HandoffView]:
    """A circular's handoffs by one of `HANDOFF_SORTS` (its names, as the dashboard's handoff rows
    are sorted in SQL), in `direction`; rows without a value (a date not yet a fact) last either
    way, ties by agency id."""
    ascending = sort_direction(HANDOFF_SORTS, sort, direction)
    levels = {level.value: i for i, level in enumerate(LEVEL_ORDER)}
    keys: dict[str, Callable[[HandoffView], Any]] = {
        "status": lambda h: STATUS_ORDER.index(h.status.value),
        "recipient": lambda h: h.recipient,
        "level": lambda h: levels.get(h.level, len(levels)),
        "sender": lambda h: state.name(h.sender_id) or h.sender_id,
        "sent": lambda h: h.sent_on,
        "received": lambda h: h.received_on,
        "forwarded": lambda h: h.forwarded_on,
        "due": lambda h: h.due,
    }
    key = keys[sort]
    valued = sorted(
        (h for h in handoffs if key(h) is not None), key=lambda h: h.recipient_id, reverse=not ascending
    )
    valued.sort(key=key, reverse=not ascending)  # stable: ties keep the agency order
    return valued + sorted((h for h in handoffs if key(h) is None), key=lambda h: h.recipient_id)


def circular_truth(
    session: Session,
    circular_id: str,
    as_of: date,
    *,
    province: str | None = None,
    status: str | None = None,
    sort: str | None = None,
    direction: str | None = None,
) -> CircularTruth | None:
    """The circular page's data as of `as_of`; `province` (`province:NN`) narrows counts and rows
    to the agencies below it, `status` the rows, `sort` (one of `records.dashboard.HANDOFF_SORTS`,
    in `direction`) orders them (default worst first). None when no plan covers the circular."""
    state = state_of(session, circular_id, as_of)
    if state is None:
        return None
    in_province = _province_of(state)
    chosen = state
    if province is not None:
        below = tuple(h for h in state.handoffs if in_province.get(h.recipient_id) == province)
        chosen = replace(state, handoffs=below)
    levels = level_rows(chosen)
    listed = sorted(
        (h for h in chosen.handoffs if status is None or h.status.value == status), key=_worst_first
    )
    if sort:
        listed = sort_rows(listed, state, sort, direction)
    provinces = sorted(
        {
            ProvinceChoice(h.recipient_id.split(":", 1)[1], h.recipient_id, h.recipient)
            for h in state.handoffs
            if h.level == "province" and h.recipient_id.startswith("province:")
        },
        key=lambda p: p.agency_id,
    )
    return CircularTruth(
        circular_id=state.circular_id,
        plan_id=state.plan_id,
        as_of=as_of,
        deadline=state.deadline,
        levels=levels,
        totals=_totals(levels),
        agencies=len(chosen.handoffs),
        rows=_rows(session, state, listed),
        provinces=provinces,
    )


# --- an agency: what it received and what it forwarded, per circular a plan covers ----------------


@dataclass(frozen=True)
class Forwarding:
    """What an agency owes onward in one circular: done (a fact, with its date) or expected."""

    circular_id: str
    letters: tuple[EdgeLetter, ...]
    level: str  # the level it sends to
    sent_on: date | None  # a fact
    expected_sent: date | None  # planned/projected, when not yet a fact
    recipients: int
    received: int  # recipients that received (facts)
    overdue: int
    late: int
    blocked: int


@dataclass(frozen=True)
class AgencyTruth:
    """An agency's page as of a day: its counts over every circular a plan covers, and one page
    of each table (only the rows shown are made: the letters they carry are read from the record)."""

    as_of: date
    received: Page[HandoffRow]  # its own handoffs (what it was sent), worst first
    forwarded: Page[Forwarding]  # what it sent on (facts) or is expected to, by circular and level
    counts: LevelRow
    circulars: tuple[str, ...]  # the circulars judged here (those a plan covers)


def _open_planned(session: Session) -> list[Circular]:
    open_ = session.exec(select(Circular).where(Circular.status == "open").order_by(col(Circular.id)))
    return [c for c in open_ if matching_plan(session, c) is not None]


def _forwarding(
    session: Session, state: CircularState, level: str, handoffs: Sequence[HandoffView]
) -> Forwarding:
    """What one agency sends on to `level` in one circular (`handoffs`: those it sends there)."""
    facts = [h.sent_on for h in handoffs if h.sent_on is not None]
    expected = [h.expected_sent for h in handoffs if h.expected_sent is not None]
    statuses = Counter(h.status.value for h in handoffs)
    (first,) = _rows(session, state, handoffs[:1])  # the letter it hands on: the same to each
    return Forwarding(
        circular_id=state.circular_id,
        letters=first.letters,
        level=level,
        sent_on=min(facts) if facts else None,
        expected_sent=None if facts else (min(expected) if expected else None),
        recipients=len(handoffs),
        received=sum(h.received_on is not None for h in handoffs),
        overdue=statuses["overdue"],
        late=statuses["late"],
        blocked=statuses["blocked"],
    )


def agency_truth(
    session: Session,
    agency_id: str,
    as_of: date,
    *,
    page: int = 1,
    forwarded_page: int = 1,
    size: int = PAGE_SIZE,
) -> AgencyTruth:
    """An agency's part in every open circular a plan covers, as of `as_of` (one
    `circular_state` per such circular): counts over all of them, and page `page` of what it
    received (worst first) and `forwarded_page` of what it sends on, `size` rows each."""
    states: dict[str, CircularState] = {}
    received: list[tuple[str, HandoffView]] = []
    sending: list[tuple[str, str, list[HandoffView]]] = []
    table: dict[str, Counter[str]] = defaultdict(Counter)
    # Each state holds only the handoffs this agency sends or receives (read from the bands of a
    # stored state they can lie in); rows are made for the shown pages only.
    for state in circular_states_of(session, _open_planned(session), as_of, agency=agency_id):
        states[state.circular_id] = state
        by_level: dict[str, list[HandoffView]] = defaultdict(list)
        for h in state.handoffs:
            if h.recipient_id == agency_id:
                received.append((state.circular_id, h))
                c = table[h.level]
                c["sent"] += h.sent
                c["received"] += h.received_on is not None
                c["forwarded"] += h.forwarded_on is not None
                c[h.status.value] += 1
            if h.sender_id == agency_id:
                by_level[h.level].append(h)
        sending += [(state.circular_id, level, hs) for level, hs in by_level.items()]
    received.sort(key=lambda pair: _worst_first(pair[1]))
    shown = page_of(received, page, size)
    by_circular: dict[str, list[int]] = defaultdict(list)
    for at, (circular_id, _) in enumerate(shown.items):
        by_circular[circular_id].append(at)
    rows: list[HandoffRow | None] = [None] * len(shown.items)
    for circular_id, ats in by_circular.items():
        made = _rows(session, states[circular_id], [shown.items[at][1] for at in ats])
        for at, row in zip(ats, made, strict=True):
            rows[at] = row
    sent = page_of(sending, forwarded_page, size)
    forwarded = [_forwarding(session, states[c], level, hs) for c, level, hs in sent.items]
    counts = [LevelRow(level=level, **{k: c[k] for k in LEVEL_KEYS}) for level, c in table.items()]
    return AgencyTruth(
        as_of=as_of,
        received=Page([row for row in rows if row is not None], shown.total, shown.number, shown.size),
        forwarded=Page(forwarded, sent.total, sent.number, sent.size),
        counts=_totals(counts),
        circulars=tuple(states),
    )


# --- a letter: who sent it on (facts) and who is only expected to -----------------------------


@dataclass(frozen=True)
class LetterDispatch:
    circular_id: str
    sender_id: str
    sender_name: str
    level: str
    sent_on: date | None  # a fact: recorded or registered
    expected_sent: date | None  # only the plan expects it
    provenance: str  # recorded / registered / planned; `unplanned` when no plan covers the circular


@dataclass(frozen=True)
class LetterDispatches:
    sent: list[LetterDispatch]
    expected: list[LetterDispatch]
    total: int


def letter_dispatches(session: Session, letter_id: int, as_of: date, *, limit: int = 20) -> LetterDispatches:
    """The dispatches of a letter as of `as_of`, facts and expectations apart.

    A dispatch row is a fact when the circular's state says its sender forwarded (then its date is
    the fact's); else it is what the plan expects (a routing run writes planned dispatches too).
    A circular no plan covers keeps its dispatch rows as they are (`provenance = unplanned`)."""
    # Five columns: more than sqlmodel's typed `select` takes, so SQLAlchemy's.
    stmt = (
        sa.select(
            col(Dispatch.circular_id),
            col(Dispatch.sender_id),
            col(AgencyRow.name_th),
            col(Dispatch.sent_on),
            col(Dispatch.level),
        )
        .join(AgencyRow, col(AgencyRow.id) == col(Dispatch.sender_id))
        .where(col(Dispatch.letter_id) == letter_id)
        .order_by(col(Dispatch.sent_on), col(Dispatch.id))
    )
    rows = session.execute(stmt).tuples().all()
    states: dict[str, CircularState | None] = {}
    sent: list[LetterDispatch] = []
    expected: list[LetterDispatch] = []
    for circular_id, sender_id, name, sent_on, level in rows:
        if circular_id not in states:
            states[circular_id] = state_of(session, circular_id, as_of)
        state = states[circular_id]
        if state is None:
            sent.append(LetterDispatch(circular_id, sender_id, name, level, sent_on, None, "unplanned"))
            continue
        mine = [h for h in state.handoffs if h.sender_id == sender_id and h.level == level]
        facts = [h for h in mine if h.sent_on is not None]
        if facts:
            first = min(facts, key=lambda h: h.sent_on or date.max)
            sent.append(
                LetterDispatch(
                    circular_id, sender_id, name, level, first.sent_on, None, first.sent_provenance.value
                )
            )
        else:
            when = min((h.expected_sent for h in mine if h.expected_sent is not None), default=None)
            expected.append(LetterDispatch(circular_id, sender_id, name, level, None, when, "planned"))
    return LetterDispatches(sent=sent[:limit], expected=expected[:limit], total=len(rows))


def circular_totals(session: Session, circular_ids: Iterable[str], as_of: date) -> dict[str, LevelRow]:
    """Totals over every level, as of `as_of`, of the circulars a plan covers (others left out);
    from the stored tallies (`progress.circular_levels`), no handoff read."""
    found = [session.get(Circular, cid) for cid in circular_ids]
    planned = [c for c in found if c is not None and matching_plan(session, c) is not None]
    return {
        cid: _totals(LevelRow(**lv) for lv in levels)
        for cid, levels in circular_levels(session, planned, as_of)
    }
