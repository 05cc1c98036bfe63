"""Where each circular stands: its routing plan against the record, handoffs, overdue, what-if.

This is the bridge between the record (letters, receipts, dispatches, handoffs in the database)
and the pure deadline engine (`routing.plans`, `routing.deadlines`):

- `plan_route` instantiates a circular's plan, reads what has happened from the record (who
  issued which letter when, who stamped a receipt when), propagates deadlines, and returns one
  `DispatchSpec` per sending agency, in plan order;
- `records.dispatches.record_dispatch` writes one dispatch and its addressees' handoffs
  (idempotent upserts);
- `sweep_overdue` flags open handoffs whose forwarding deadline has passed, from an index;
- `overdue_report`, `whatif_report` and `status_report` answer the CLI.

What counts as an agency's acts for a circular: it *forwarded* on the date of its earliest letter
in the circular, and *received* on the date of its earliest receipt stamp there. The letter an
agency hands on is the newest letter of one of its senders that its own letters carry (encloses or
references); without such a letter, the newest letter its senders issued, else what reached them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import struct
import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cache, lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

import networkx as nx
import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.db import READONLY_OPTION, get_engine, session_scope, sqlite_file
from models.letters import LEVEL_ORDER, Level
from models.numbering import LetterNumberError
from models.tables import (
    UNFLAGGED_SQL,
    AgencyRow,
    Circular,
    CircularView,
    CircularViewPart,
    CitationRow,
    Dispatch,
    Handoff,
    LetterRow,
    Receipt,
)
from models.thai import now_bangkok
from records.dispatches import DispatchSpec, HandoffSpec, HandoffState
from records.events import append_event, default_actor
from records.holdings import Holdings, read_holdings

# Reference data lives below this module (`records.reference`); these names stay importable from
# here (re-exported) because the flows, the CLI and the tests reach them as `progress.directory()`.
from records.reference import CLOSURES_ENV as CLOSURES_ENV
from records.reference import LOCAL_BODIES_ENV as LOCAL_BODIES_ENV
from records.reference import POLICY_ENV as POLICY_ENV
from records.reference import ProgressError as ProgressError
from records.reference import all_provinces as all_provinces
from records.reference import calendar as calendar
from records.reference import directory as directory
from records.reference import is_working_day as is_working_day
from records.reference import plan, plan_files
from records.reference import policy as policy
from records.service import lookup_letters
from routing.calendar import WorkingCalendar
from routing.deadlines import Schedule, Status, propagate, statuses, whatif
from routing.handoffs import FLAGGED, HandoffStatus, Provenance, due_after_receipt, judge, working_days_over
from routing.plans import forward_topology, instantiate_plan, plan_matches

OPEN_STATUSES = ("pending", "received")

log = logging.getLogger(__name__)


@cache
def _graph(plan_id: str, provinces: tuple[str, ...] | None) -> nx.DiGraph:
    return instantiate_plan(plan(plan_id), directory(), provinces=provinces)


# --- circulars ----------------------------------------------------------------------------------


def find_circular(session: Session, ref: str) -> Circular:
    """A circular by id, or the circular that holds the letter with that number (any printed form)."""
    circular = session.get(Circular, ref)
    if circular is not None:
        return circular
    try:
        letters = lookup_letters(session, ref)
    except LetterNumberError:
        letters = []  # neither a circular id nor a letter number: say so below
    held = sorted({row.circular_id for row in letters if row.circular_id is not None})
    if len(held) > 1:
        # Running numbers restart every year: the same number may name letters of several circulars.
        raise ProgressError(
            f"{ref!r} names letters of {len(held)} circulars ({', '.join(held)}): give the circular's id"
        )
    if held:
        found = session.get(Circular, held[0])
        if found is not None:
            return found
    known = ", ".join(session.exec(select(Circular.id)).all()) or "none yet (ingest letters first)"
    raise ProgressError(f"no circular {ref!r} and no letter with that number; circulars: {known}")


def matching_plan(session: Session, circular: Circular) -> str | None:
    """The plan a circular follows: the one attached to it, else the one plan whose `letters`
    name one of the circular's letters (number and date). None when none or several match."""
    if circular.plan_id is not None:
        return circular.plan_id
    held = session.exec(
        select(col(LetterRow.number), col(LetterRow.date)).where(LetterRow.circular_id == circular.id)
    ).all()
    matches = plan_matches((plan(p) for p in plan_files()), [(n, d) for n, d in held])
    return matches[0].id if len(matches) == 1 else None


def set_plan(session: Session, circular: Circular, plan_id: str, *, actor: str | None = None) -> bool:
    """Attach a routing plan to a circular (logged). Returns whether anything changed."""
    plan(plan_id)  # fail early on an unknown plan
    if circular.plan_id == plan_id:
        return False
    before = circular.plan_id
    circular.plan_id = plan_id
    session.add(circular)
    session.flush()
    append_event(
        session,
        "circular.plan_set",
        circular.id,
        {"plan": plan_id, "before": before},
        actor=actor or default_actor(),
    )
    return True


def _scope(session: Session, circular_id: str) -> tuple[str, ...] | None:
    """Provinces the record shows this circular reaching (DOPA codes); None when none: national."""
    agency_ids: set[str] = set()
    letters = select(LetterRow.id).where(LetterRow.circular_id == circular_id)
    agency_ids.update(
        i for i in session.exec(select(LetterRow.issuer_id).where(LetterRow.circular_id == circular_id)) if i
    )
    agency_ids.update(
        i for i in session.exec(select(Receipt.agency_id).where(col(Receipt.letter_id).in_(letters))) if i
    )
    # A routing run may have reached further than the record (`run --national`): its provinces
    # are in scope too, so that every command judges the agencies the run stored handoffs for.
    agency_ids.update(
        session.exec(
            select(Handoff.recipient_id)
            .where(Handoff.circular_id == circular_id, Handoff.level == "province")
            .distinct()
        )
    )
    d = directory()
    provinces = {d.province_of(a) for a in agency_ids if a in d}
    codes = tuple(sorted(p.split(":", 1)[1] for p in provinces if p))
    return codes or None


# --- what happened, from the record ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Record:
    events: dict[str, tuple[date | None, date | None]]
    carried: dict[str, int]  # node -> letter id it hands on
    own_letter: dict[str, int]  # node -> its earliest letter in the circular
    handed: dict[str, int]  # sender node -> the letter its dispatch hands on (Holdings.handed_on)
    numbers: dict[int, str]
    dates: dict[int, date]
    root_letter: int


def _read_record(
    session: Session, circular: Circular, graph: nx.DiGraph, holdings: Holdings | None = None
) -> _Record:
    holdings = holdings if holdings is not None else read_holdings(session, circular.id)
    by_id = holdings.letters
    issued = {node: rows for node, rows in holdings.issued.items() if node in graph}
    received: dict[str, date] = {}
    for node, stamps in holdings.receipts.items():
        dates = [r.date for r in stamps if r.date is not None]
        if node in graph and dates:
            received[node] = min(dates)

    events: dict[str, tuple[date | None, date | None]] = {}
    for node in set(issued) | set(received):
        forwarded = issued[node][0].date if issued.get(node) else None
        events[node] = (received.get(node), forwarded)
    start = graph.graph.get("start")
    if start is not None:
        # The root directive (a Cabinet resolution) is no letter on file: the plan's start date is its act.
        for root_node in (n for n, degree in graph.in_degree() if degree == 0 and n not in events):
            events[root_node] = (None, start)

    root = circular.root_letter_id or min(by_id.values(), key=lambda r: (r.date, r.number)).id
    assert root is not None
    topology = forward_topology(graph)
    carried: dict[str, int] = {}
    for node in topology.order:
        senders = topology.senders[node]
        from_senders = [row for s in senders if s in issued for row in issued[s]]
        if from_senders:
            # What the node's own letters enclose or cite; else the newest of its senders' letters.
            own = {c.cited_letter_id for c in holdings.citations.get(node, ())}
            pick = [row for row in from_senders if row.id in own] or from_senders
            carried[node] = max(pick, key=lambda r: (r.date, r.number)).id or root
        else:
            upstream = [carried[s] for s in senders if s in carried]
            carried[node] = upstream[0] if upstream else root
    own_letter = {node: rows[0].id for node, rows in issued.items() if rows and rows[0].id is not None}
    numbers = {i: r.number for i, r in by_id.items()}
    handed: dict[str, int] = {}  # see Holdings.handed_on
    for node in issued:
        letter = holdings.handed_on(node, topology.receivers[node])
        if letter is not None and letter.id is not None:
            handed[node] = letter.id
    return _Record(events, carried, own_letter, handed, numbers, {i: r.date for i, r in by_id.items()}, root)


# --- planning a route ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoutePlan:
    circular_id: str
    plan_id: str
    as_of: date
    provinces: tuple[str, ...] | None
    dispatches: tuple[DispatchSpec, ...]
    deadline: date | None


def handoff_status(
    as_of: date, received_on: date | None, forwarded_on: date | None, due_forward: date | None
) -> str:
    """`forwarded` / `late` once forwarded; before that `overdue` past its due date, else `received` or `pending`."""
    if forwarded_on is not None:
        return "late" if due_forward is not None and forwarded_on > due_forward else "forwarded"
    if due_forward is not None and as_of > due_forward:
        return "overdue"
    return "received" if received_on is not None else "pending"


def schedule_for(
    session: Session, circular: Circular, provinces: Sequence[str] | None = None
) -> tuple[nx.DiGraph, Schedule, _Record, tuple[str, ...] | None]:
    """Plan graph, propagated schedule and record of one circular (its attached or matching plan)."""
    plan_id = matching_plan(session, circular)
    if plan_id is None:
        raise ProgressError(
            f"circular {circular.id} has no routing plan and none of its letters is named by one; "
            f"choose one with `saraban run {circular.id} --plan PLAN` ({', '.join(sorted(plan_files()))})"
        )
    scope = tuple(sorted(provinces)) if provinces else _scope(session, circular.id)
    graph = _graph(plan_id, scope)
    record = _read_record(session, circular, graph)
    schedule = propagate(graph, calendar(), policy(), record.events)
    return graph, schedule, record, scope


def plan_route(
    session: Session, circular_ref: str, *, as_of: date, provinces: Sequence[str] | None = None
) -> RoutePlan:
    """Every dispatch of a circular, with each addressee's deadlines and state as of `as_of`."""
    circular = find_circular(session, circular_ref)
    graph, schedule, record, scope = schedule_for(session, circular, provinces)
    if circular.plan_id is None:
        set_plan(session, circular, graph.graph["plan"], actor="saraban (plan matched by its letters)")
    sync_agencies(session, graph)
    topology = forward_topology(graph)
    dates = schedule.dates()  # in bulk: a national route reads ~9,300 nodes' dates
    specs: list[DispatchSpec] = []
    for node in topology.order:
        children = topology.receivers[node]
        if not children:
            continue
        me = dates[node]
        sent_on = me.actual_forwarded or me.expected_forward or as_of
        letter_id = record.handed.get(node, record.carried[node])
        recipients = []
        for child in children:
            c = dates[child]
            recipients.append(
                HandoffSpec(
                    recipient_id=child,
                    recipient_name=c.name_th,
                    level=c.level.value,
                    received_on=c.actual_received,
                    forwarded_on=c.actual_forwarded,
                    due_receive=c.latest_receive,
                    due_forward=c.latest_forward,
                    expected_forward=c.expected_forward,
                    status=handoff_status(as_of, c.actual_received, c.actual_forwarded, c.latest_forward),
                )
            )
        specs.append(
            DispatchSpec(
                key=node,
                sender_id=node,
                sender_name=me.name_th,
                level=me.level.value,
                letter_id=letter_id,
                letter_number=record.numbers.get(letter_id, ""),
                letter_date=record.dates.get(letter_id),
                sent_on=sent_on,
                sent=me.actual_forwarded is not None,
                upstream=me.sender,
                recipients=tuple(recipients),
            )
        )
    deadlines = [d.date for d in graph.graph.get("deadlines", ())]
    return RoutePlan(
        circular_id=circular.id,
        plan_id=graph.graph["plan"],
        as_of=as_of,
        provinces=scope,
        dispatches=tuple(specs),
        deadline=max(deadlines) if deadlines else None,
    )


# Ids bound per IN list: under SQLite's 32,766 variables and PostgreSQL's 65,535 parameters.
_IN_CHUNK = 20_000
_INSERT_SLICE = 500


def sync_agencies(session: Session, graph: nx.DiGraph) -> int:
    """Make sure every agency of a plan graph has its row (bulk; logged once per batch)."""
    d = directory()
    wanted = sorted(n for n in graph if n in d)
    ids = AgencyRow.__table__.c.id  # type: ignore[attr-defined]
    conn = session.connection()
    # Counted first: a routed record has them all, and reading ~9,300 ids back as rows cost a
    # national plan ~28,000 short-lived objects (rows and tuples) for the garbage collector.
    have = sum(
        conn.execute(sa.select(sa.func.count()).where(ids.in_(chunk))).scalar_one()
        for chunk in (wanted[k : k + _IN_CHUNK] for k in range(0, len(wanted), _IN_CHUNK))
    )
    if have == len(wanted):
        return 0
    present = set(conn.execute(sa.select(ids)).scalars())
    missing = [n for n in wanted if n not in present]
    if not missing:
        return 0
    # The table, not the entity: a Core executemany, ~10x faster than the ORM's bulk path here;
    # in slices, so that a national record's ~9,300 parameter rows are not all alive at once.
    insert = sa.insert(AgencyRow.__table__)  # type: ignore[attr-defined]
    for k in range(0, len(missing), _INSERT_SLICE):
        agencies = (d[i] for i in missing[k : k + _INSERT_SLICE])
        conn.execute(
            insert,
            [{"id": a.id, "name_th": a.name_th, "name_en": a.name_en, "level": a.level.value,
              "parent_id": a.parent} for a in agencies],
        )  # fmt: skip
    # The snapshot for replay is what this wrote: the added ids (see records.audit.snapshot_rows).
    payload = {"added": len(missing), "first": missing[:5], "rows": {"agency_ids": missing}}
    append_event(session, "agencies.synced", graph.graph.get("plan", ""), payload)
    return len(missing)


def summarise(route: RoutePlan, states: Iterable[HandoffState]) -> dict[str, Any]:
    """Counts per level and status of one routing run (JSON-friendly)."""
    per_level: dict[str, Counter[str]] = defaultdict(Counter)
    open_due: dict[str, list[date]] = defaultdict(list)
    for s in states:
        per_level[s.level][s.status] += 1
        if s.status in OPEN_STATUSES and s.due_forward is not None:
            open_due[s.level].append(s.due_forward)
    return {
        "circular": route.circular_id,
        "plan": route.plan_id,
        "as_of": route.as_of.isoformat(),
        "provinces": list(route.provinces) if route.provinces else "all",
        "dispatches": len(route.dispatches),
        "dispatched": sum(d.sent for d in route.dispatches),
        "handoffs": sum(sum(c.values()) for c in per_level.values()),
        "deadline": route.deadline.isoformat() if route.deadline else None,
        "levels": {lv: dict(sorted(c.items())) for lv, c in per_level.items()},
        # What is still to happen, and when it falls due: per level, the handoffs not yet forwarded
        # whose latest forwarding date is still ahead, the first and the last of those dates.
        "falls_due": {
            lv: {"open": len(days), "first": min(days).isoformat(), "last": max(days).isoformat()}
            for lv, days in open_due.items()
        },
    }


def format_summary(summary: dict[str, Any]) -> str:
    lines = [
        f"circular {summary['circular']} (plan {summary['plan']}) as of {summary['as_of']}: "
        f"{summary['dispatches']} dispatches ({summary['dispatched']} recorded as sent), {summary['handoffs']} handoffs"
    ]
    for level, counts in summary["levels"].items():
        line = f"  {level:<10} " + ", ".join(f"{k} {v}" for k, v in counts.items())
        due = summary.get("falls_due", {}).get(level)
        if due:
            line += f"; {due['open']} still to forward, due {due['first']}" + (
                f" to {due['last']}" if due["last"] != due["first"] else ""
            )
        lines.append(line)
    return "\n".join(lines)


# --- the overdue sweep ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SweepItem:
    handoff_id: int
    circular: str
    agency_id: str
    agency: str
    letter: str
    due: date
    done: date | None  # the day it forwarded (late handoffs); None while overdue
    days_over: int
    escalate_to_id: str
    escalate_to: str

    @property
    def status(self) -> str:
        return "late" if self.done is not None else "overdue"

    def table_row(self) -> dict[str, Any]:
        return {
            "agency": self.agency, "letter": self.letter, "due": self.due.isoformat(),
            "done": self.done.isoformat() if self.done else None, "days_over": self.days_over,
            "status": self.status, "escalate_to": self.escalate_to, "circular": self.circular,
        }  # fmt: skip

    def event_payload(self) -> dict[str, Any]:
        return {**self.table_row(), "handoff_id": self.handoff_id, "agency_id": self.agency_id,
                "escalate_to_id": self.escalate_to_id}  # fmt: skip


@dataclass(frozen=True, slots=True)
class SweepResult:
    at: datetime
    overdue_total: int
    overdue: tuple[SweepItem, ...]  # the worst first, at most `limit`
    newly_overdue: tuple[SweepItem, ...]
    by_circular: dict[str, int] = field(default_factory=dict)
    # Handoffs a routing run recorded as forwarded after their latest date, announced once.
    newly_late: tuple[SweepItem, ...] = ()


def _items(session: Session, rows: Sequence[Any], today: date) -> list[SweepItem]:
    if not rows:
        return []
    agency_ids = {r.recipient_id for r in rows} | {r.sender_id for r in rows}
    names = dict(
        session.exec(select(AgencyRow.id, AgencyRow.name_th).where(col(AgencyRow.id).in_(agency_ids))).all()
    )
    letter_ids = {r.letter_id for r in rows}
    numbers = dict(
        session.exec(select(LetterRow.id, LetterRow.number).where(col(LetterRow.id).in_(letter_ids))).all()
    )
    cal = calendar()
    return [
        SweepItem(
            handoff_id=r.id,
            circular=r.circular_id,
            agency_id=r.recipient_id,
            agency=names.get(r.recipient_id, r.recipient_id),
            letter=numbers.get(r.letter_id, ""),
            due=r.due_forward,
            done=r.forwarded_on if r.status == "late" else None,
            days_over=cal.working_days_between(
                r.due_forward, r.forwarded_on if r.status == "late" else today
            ),
            escalate_to_id=r.sender_id,
            escalate_to=names.get(r.sender_id, r.sender_id),
        )
        for r in rows
    ]


# Any: sqlmodel types select() for up to four entities; SQLAlchemy takes these eight as they are.
_SWEEP_COLUMNS: tuple[Any, ...] = (Handoff.id, Handoff.circular_id, Handoff.recipient_id, Handoff.due_forward,
                  Handoff.forwarded_on, Handoff.status, Dispatch.sender_id, Dispatch.letter_id)  # fmt: skip


def sweep_queries(today: date, *, limit: int = 500) -> dict[str, Any]:
    """The sweep's reads, by name; each is a range scan on an index of `handoff`.

    `open_past_due`: open handoffs now past due (index (status, due_forward)); `unflagged`:
    handoffs a routing run recorded as overdue or late that no sweep has announced yet (the
    partial index `ix_handoff_unflagged`, whose predicate it repeats); then the count, the `limit`
    most overdue and the count per circular, all over status = 'overdue'.
    """
    joined = select(*_SWEEP_COLUMNS).join(Dispatch, col(Dispatch.id) == col(Handoff.dispatch_id))
    overdue_ = Handoff.status == "overdue"
    return {
        "open_past_due": joined.where(
            col(Handoff.status).in_(OPEN_STATUSES), col(Handoff.due_forward) < today
        ),
        "unflagged": joined.where(sa.text(UNFLAGGED_SQL)),
        "overdue_total": select(sa.func.count()).select_from(Handoff).where(overdue_),
        "worst": joined.where(overdue_).order_by(col(Handoff.due_forward), col(Handoff.id)).limit(limit),
        "by_circular": select(Handoff.circular_id, sa.func.count())
        .where(overdue_)
        .group_by(col(Handoff.circular_id)),
    }


def sweep_overdue(
    session: Session, at: datetime, *, limit: int = 500, actor: str | None = None
) -> SweepResult:
    """Flag open handoffs whose forwarding deadline passed before `at`'s day, from the indexes.

    Newly overdue rows get status `overdue` and `overdue_flagged_at`; handoffs recorded late that
    no sweep announced yet get `overdue_flagged_at` too. The result lists both, and the `limit`
    most overdue handoffs in all.
    """
    today = at.date()
    queries = sweep_queries(today, limit=limit)
    past_due = session.exec(queries["open_past_due"]).all()
    unflagged = session.exec(queries["unflagged"]).all()
    newly_rows = [*past_due, *(r for r in unflagged if r.status == "overdue")]
    late_rows = [r for r in unflagged if r.status == "late"]
    updates = (
        ([r.id for r in past_due], {"status": "overdue", "overdue_flagged_at": at}),
        ([r.id for r in unflagged], {"overdue_flagged_at": at}),
    )
    newly, late = tuple(_items(session, newly_rows, today)), tuple(_items(session, late_rows, today))
    # The rows go before the event's snapshot of what was flagged is read: a first sweep over a
    # year flags a million handoffs.
    del past_due, unflagged, newly_rows, late_rows
    if newly or late:
        for ids, values in updates:
            for start in range(0, len(ids), 5000):
                session.execute(
                    sa.update(Handoff).where(col(Handoff.id).in_(ids[start : start + 5000])).values(**values)
                )
        del updates, ids
        payload: dict[str, Any] = {"count": len(newly), "first": [i.handoff_id for i in newly[:20]]}
        if late:
            payload.update(late=len(late), first_late=[i.handoff_id for i in late[:20]])
        append_event(
            session, "handoffs.flagged_overdue", today.isoformat(), payload, actor=actor or default_actor()
        )
    total = session.exec(queries["overdue_total"]).one()
    worst = session.exec(queries["worst"]).all()
    by_circular = dict(session.exec(queries["by_circular"]).all())
    return SweepResult(
        at=at,
        overdue_total=int(total),
        overdue=tuple(_items(session, worst, today)),
        newly_overdue=newly,
        by_circular={str(k): int(v) for k, v in by_circular.items()},
        newly_late=late,
    )


def overdue_markdown(result: SweepResult) -> str:
    lines = [
        f"# Overdue handoffs as of {result.at:%Y-%m-%d %H:%M} (Asia/Bangkok)",
        "",
        f"- overdue in all: **{result.overdue_total}**",
        f"- newly flagged in this run: **{len(result.newly_overdue)}**",
        f"- forwarded late, newly recorded: **{len(result.newly_late)}**",
        "",
        "| circular | overdue |",
        "|---|---|",
        *(f"| {c} | {n} |" for c, n in sorted(result.by_circular.items())),
    ]
    if result.overdue:
        lines += ["", "## Most overdue", "", "| agency | letter | due | working days over | escalate to |",
                  "|---|---|---|---|---|"]  # fmt: skip
        lines += [
            f"| {i.agency} | {i.letter} | {i.due.isoformat()} | {i.days_over} | {i.escalate_to} |"
            for i in result.overdue[:50]
        ]
    if result.newly_late:
        lines += ["", "## Forwarded late (newly recorded)", "",
                  "| agency | letter | due | forwarded | working days late | escalate to |",
                  "|---|---|---|---|---|---|"]  # fmt: skip
        lines += [
            f"| {i.agency} | {i.letter} | {i.due.isoformat()} | {i.done} | {i.days_over} | {i.escalate_to} |"
            for i in result.newly_late[:50]
        ]
    return "\n".join(lines)


# --- the state of a circular as of a day: the one read model behind status, overdue, whatif -------


class HandoffView(NamedTuple):
    """One agency's handoff of a circular as of a day: who sent it what, what the record proves
    (facts: recorded or registered, with their evidence), what the plan expects (planned and
    projected dates, never counted as having happened), its status and whom to chase.

    A NamedTuple: a national circular holds ~8,400 of them (see `records.dispatches.HandoffSpec`)."""

    sender_id: str
    recipient_id: str
    recipient: str
    level: str
    letter: str  # the letter the sender hands on (what it sent, or would send)
    sent_on: date | None  # a fact, else None
    sent_provenance: Provenance  # recorded / registered, or planned when only the plan expects it
    expected_sent: date | None  # projected: the day the sender is expected to forward
    received_on: date | None  # a fact (a stamp, or a dispatch on file addressed to it), else None
    received_provenance: Provenance | None
    forwarded_on: date | None  # a fact, else None
    forwarded_provenance: Provenance | None
    expected_forward: date | None  # projected
    latest_forward: date | None  # from the plan's deadline (its latest date)
    due: date | None  # latest_forward, or its allowance from a late receipt
    status: HandoffStatus
    days_over: int
    holder_id: str | None  # who holds the letter: this agency once it received, else upstream
    escalate_to_id: str | None
    evidence: tuple[str, ...]

    @property
    def sent(self) -> bool:
        return self.sent_provenance.is_fact


@dataclass(frozen=True)
class CircularState:
    """The state of circular C as of day D: one `HandoffView` per agency the plan reaches (its
    sender, the letter, provenance of every date, status, holder, whom to escalate to)."""

    circular_id: str
    plan_id: str
    as_of: date
    deadline: date | None  # the circular's final deadline (kept beside every due date)
    provinces: tuple[str, ...] | None
    handoffs: tuple[HandoffView, ...]
    names: Mapping[str, str]
    graph: nx.DiGraph = field(repr=False)
    # node -> (received, forwarded): the facts as of `as_of` that `schedule` was propagated from
    events: Mapping[str, tuple[date | None, date | None]] = field(default_factory=dict, repr=False)
    # The day of the circular's latest fact on record (any date, also after `as_of`), or the
    # plan's start when later: from that day on, the state differs from day to day only in its
    # statuses and days over (what `circular_view` relies on).
    facts_through: date | None = None
    # The schedule propagated from `events` (`schedule`): made on first use, since a stored state
    # is read without it (an agency page, the overdue list).
    _schedule: Schedule | None = field(default=None, repr=False, compare=False)

    @property
    def schedule(self) -> Schedule:
        if self._schedule is None:
            object.__setattr__(
                self, "_schedule", propagate(self.graph, calendar(), policy(), dict(self.events))
            )
        assert self._schedule is not None
        return self._schedule

    def name(self, agency: str | None) -> str | None:
        return None if agency is None else self.names.get(agency, agency)

    def levels(self) -> list[dict[str, Any]]:
        """Counts per level, all from `handoffs`: `sent`/`received`/`forwarded` count facts only;
        `overdue`/`late`/`blocked`/`pending` count statuses (what `overdue_items` lists)."""
        table: dict[str, Counter[str]] = defaultdict(Counter)
        for h in self.handoffs:
            c = table[h.level]
            c["sent"] += h.sent
            c["received"] += h.received_on is not None
            c["forwarded"] += h.forwarded_on is not None
            c[h.status.value] += 1
        return _level_rows(table)

    def status_json(self) -> dict[str, Any]:
        return {"circular": self.circular_id, "as_of": self.as_of.isoformat(), "levels": self.levels()}

    def item(self, h: HandoffView) -> dict[str, Any]:
        """One entry of the overdue list (JSON-friendly)."""
        iso = _iso
        return {
            "circular": self.circular_id, "as_of": self.as_of.isoformat(), "agency": h.recipient,
            "agency_id": h.recipient_id, "level": h.level, "letter": h.letter, "duty": "forward",
            "due": iso(h.due), "latest": iso(h.latest_forward), "deadline": iso(self.deadline),
            "done": iso(h.forwarded_on), "days_over": h.days_over, "status": h.status.value,
            "received": iso(h.received_on),
            "received_provenance": h.received_provenance.value if h.received_provenance else None,
            "sent_provenance": h.sent_provenance.value, "holder": self.name(h.holder_id),
            "holder_id": h.holder_id, "escalate_to": self.name(h.escalate_to_id),
            "escalate_to_id": h.escalate_to_id, "evidence": list(h.evidence),
        }  # fmt: skip

    def overdue_items(self) -> list[dict[str, Any]]:
        """The handoffs that are overdue, late or blocked, most working days over first."""
        flagged = sorted((h for h in self.handoffs if h.status in FLAGGED), key=lambda h: -h.days_over)
        return [self.item(h) for h in flagged]


LEVEL_COUNTS = ("sent", "received", "forwarded", "overdue", "late", "blocked", "pending")


def _level_rows(table: Mapping[str, Counter[str]]) -> list[dict[str, Any]]:
    """`status`'s levels, top down, from counts per level."""
    order = {lv.value: i for i, lv in enumerate(Level)}
    return [
        {"level": level, **{k: table[level][k] for k in LEVEL_COUNTS}}
        for level in sorted(table, key=lambda lv: order.get(lv, 99))
    ]


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


class _Fact(NamedTuple):
    on: date
    provenance: Provenance
    evidence: str


def _earliest(facts: Iterable[_Fact]) -> _Fact | None:
    """The earliest fact; on a tie the first given (a stamp before a dispatch before its own act)."""
    return min(facts, key=lambda f: f.on, default=None)


def _live_state(session: Session, found: Circular, as_of: date) -> CircularState:
    """The state of a circular as of `as_of`, computed from the record (see `circular_state`).

    Facts come from the record only, and only those dated on or before `as_of`: an agency
    *forwarded* on the date of its earliest letter in the circular (recorded) or a clerk's
    dispatch (registered); it *received* on its earliest receipt stamp (recorded or registered),
    on the day a sender of its in the plan forwarded (that letter is addressed to it), or, at the
    latest, on the day it forwarded itself. Everything else is the plan's: planned dispatches and
    projected dates from deadline propagation over these facts. Routing runs' handoff rows are
    not read for facts: they hold planned dispatches, and their statuses are as of their run.
    """
    plan_id = matching_plan(session, found)
    if plan_id is None:
        raise ProgressError(
            f"circular {found.id} has no routing plan and none of its letters is named by one; "
            f"choose one with `saraban run {found.id} --plan PLAN` ({', '.join(sorted(plan_files()))})"
        )
    scope = _scope(session, found.id)
    graph = _graph(plan_id, scope)
    holdings = read_holdings(session, found.id)
    last_clerk = session.exec(
        select(sa.func.max(Dispatch.sent_on)).where(
            Dispatch.circular_id == found.id, Dispatch.source == "clerk"
        )
    ).one()
    fact_days = [r.date for rows in holdings.issued.values() for r in rows]
    fact_days += [r.date for stamps in holdings.receipts.values() for r in stamps if r.date is not None]
    fact_days += [d for d in (last_clerk, graph.graph.get("start")) if d is not None]
    record = _read_record(session, found, graph, holdings)
    topology = forward_topology(graph)
    cal = calendar()

    forwarded: dict[str, _Fact] = {}
    received: dict[str, list[_Fact]] = defaultdict(list)
    for node, rows in holdings.issued.items():
        if node not in graph:
            continue
        mine = [r for r in rows if r.date <= as_of]
        if mine:
            first = mine[0]
            known = " (known only by citation)" if first.known_only_by_citation else ""
            forwarded[node] = _Fact(first.date, Provenance.RECORDED, f"{first.number} ({first.date}){known}")
    for node, stamps in holdings.receipts.items():
        if node not in graph:
            continue
        for r in stamps:
            if r.date is not None and r.date <= as_of:
                how = Provenance.REGISTERED if r.source == "clerk" else Provenance.RECORDED
                number = holdings.letters[r.letter_id].number if r.letter_id in holdings.letters else ""
                received[node].append(_Fact(r.date, how, f"เลขรับ {r.number or '-'} {r.date} ({number})"))
    clerk = session.exec(
        select(col(Dispatch.id), col(Dispatch.sender_id), col(Dispatch.sent_on), col(LetterRow.number))
        .join(LetterRow, col(LetterRow.id) == col(Dispatch.letter_id))
        .where(Dispatch.circular_id == found.id, Dispatch.source == "clerk", Dispatch.sent_on <= as_of)
    ).all()
    for _, sender, sent_on, number in clerk:
        if sender in graph and (sender not in forwarded or sent_on < forwarded[sender].on):
            forwarded[sender] = _Fact(sent_on, Provenance.REGISTERED, f"{number} ({sent_on}), ทะเบียนหนังสือส่ง")
    if clerk:
        ids = [row[0] for row in clerk]
        by_dispatch = {row[0]: row for row in clerk}
        for dispatch_id, recipient in session.exec(
            select(Handoff.dispatch_id, Handoff.recipient_id).where(col(Handoff.dispatch_id).in_(ids))
        ):
            _, _, sent_on, number = by_dispatch[dispatch_id]
            if recipient in graph:
                received[recipient].append(_Fact(sent_on, Provenance.REGISTERED, f"{number} ({sent_on})"))

    start: date | None = graph.graph.get("start")
    roots = [n for n in topology.order if not topology.senders[n]]
    events: dict[str, tuple[date | None, date | None]] = {}
    got: dict[str, _Fact] = {}
    first_sender: dict[str, str] = {}
    for node in topology.order:
        senders = topology.senders[node]
        if not senders:
            if node in forwarded:
                events[node] = (None, forwarded[node].on)
            elif start is not None and start <= as_of:
                # The root directive (a Cabinet resolution) is no letter on file: the plan's start.
                events[node] = (None, start)
            continue
        facts = list(received.get(node, ()))
        for s in senders:
            f = forwarded.get(s)
            if f is not None:
                facts.append(_Fact(f.on, f.provenance, f"{f.evidence} from {s}"))
                if node not in first_sender or f.on < forwarded[first_sender[node]].on:
                    first_sender[node] = s
        if node in forwarded:  # DLA wrote on 20 April, before Interior's letter of 1 June reached it
            f = forwarded[node]
            facts.append(_Fact(f.on, f.provenance, f"{f.evidence}: it forwarded, so it had received"))
        earliest = _earliest(facts)
        if earliest is not None:
            got[node] = earliest
        if earliest is not None or node in forwarded:
            events[node] = (
                earliest.on if earliest else None,
                forwarded[node].on if node in forwarded else None,
            )
    schedule = propagate(graph, cal, policy(), events)
    dates = schedule.dates()
    allow, _ = schedule.plan.allowances(policy())
    index = schedule.plan.index

    holder: dict[str, str | None] = {}
    views: list[HandoffView] = []
    handed_cache: dict[str, str] = {}
    for node in topology.order:
        senders = topology.senders[node]
        if not senders:
            holder[node] = node if (node in forwarded or node in events) else None
            continue
        me = dates[node]
        sender = first_sender.get(node) or me.sender or senders[0]
        holder[node] = node if node in got else holder.get(sender)
        if graph.nodes[node].get("sink"):
            continue
        fact_sent = forwarded.get(sender)
        fact_in = got.get(node)
        fact_out = forwarded.get(node)
        due = due_after_receipt(cal, me.latest_forward, fact_in.on if fact_in else None, allow[index[node]])
        st = judge(
            as_of,
            received=fact_in.on if fact_in else None,
            forwarded=fact_out.on if fact_out else None,
            due=due,
        )
        # Blocked: chase whoever holds the letter (the agency sitting on it), not the one waiting.
        blocked = st is HandoffStatus.BLOCKED
        escalate = (holder[node] or (roots[0] if roots else None)) if blocked else sender
        letter = handed_cache.get(sender)
        if letter is None:
            letter_id = record.handed.get(sender, record.carried.get(sender, record.root_letter))
            letter = handed_cache[sender] = record.numbers.get(letter_id, "")
        evidence = tuple(f.evidence for f in (fact_in, fact_out) if f is not None)
        views.append(
            HandoffView(
                sender_id=sender,
                recipient_id=node,
                recipient=me.name_th,
                level=me.level.value,
                letter=letter,
                sent_on=fact_sent.on if fact_sent else None,
                sent_provenance=fact_sent.provenance if fact_sent else Provenance.PLANNED,
                expected_sent=None if fact_sent else dates[sender].expected_forward,
                received_on=fact_in.on if fact_in else None,
                received_provenance=fact_in.provenance if fact_in else None,
                forwarded_on=fact_out.on if fact_out else None,
                forwarded_provenance=fact_out.provenance if fact_out else None,
                expected_forward=None if fact_out else me.expected_forward,
                latest_forward=me.latest_forward,
                due=due,
                status=st,
                days_over=working_days_over(cal, st, due, as_of, fact_out.on if fact_out else None),
                holder_id=holder[node],
                escalate_to_id=escalate,
                evidence=evidence,
            )
        )
    return CircularState(
        circular_id=found.id,
        plan_id=plan_id,
        as_of=as_of,
        deadline=_deadline(graph),
        provinces=scope,
        handoffs=tuple(views),
        names=_names(plan_id, scope),
        graph=graph,
        events=events,
        facts_through=max(fact_days, default=None),
        _schedule=schedule,
    )


@cache
def _names(plan_id: str, provinces: tuple[str, ...] | None) -> Mapping[str, str]:
    """Thai names of a plan graph's agencies (read-only: shared by every state of that graph)."""
    graph = _graph(plan_id, provinces)
    return {n: str(graph.nodes[n].get("name_th", n)) for n in graph}


def _deadline(graph: nx.DiGraph) -> date | None:
    deadlines = [dl.date for dl in graph.graph.get("deadlines", ())]
    return max(deadlines) if deadlines else None


# --- stored states: `circular_view` ---------------------------------------------------------------
#
# `_live_state` reads a circular's holdings and walks ~9,300 plan nodes: ~0.3 s for a national
# circular, so a year's 1,000 took minutes for `status`. Its result is kept in `circular_view`,
# keyed by the record version (`record_versions`: a hash of every row and reference file the state
# is computed from). A stored state answers any "as of" on or after its latest fact: from then
# on the facts, the propagated dates and each handoff's due date, holder and sender are the same,
# and only `judge` and the working days over move with the day, so they are judged on read. An
# earlier "as of" (or a changed record) is computed live; a live state judged on or after its
# latest fact is stored for next time. The table is derived data, like an index: no event.

# Bumped whenever `_live_state`'s rules or the stored layout change, so no old state is reused.
VIEW_VERSION = "8"
_VIEW_BATCH = 50  # live states kept per write: bounds the memory of a streaming read
_BLOB_BATCH = 20  # stored states read per query (~330 KB each for a national circular read whole)


def _reference_version() -> str:
    """What the reference data is: the plan files and the files the environment points at."""
    files = sorted(plan_files().items())
    files += [
        (env, Path(v)) for env in (CLOSURES_ENV, POLICY_ENV, LOCAL_BODIES_ENV) if (v := os.environ.get(env))
    ]
    parts = [VIEW_VERSION]
    for name, path in files:
        try:
            st = path.stat()
            parts.append(f"{name}={path}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            parts.append(f"{name}={path}:missing")
    return "|".join(parts)


def _where_circular(column: Any, ids: Sequence[str] | None) -> sa.ColumnElement[bool]:
    return sa.true() if ids is None else column.in_(ids)


_PROVINCES_REACHED = 5  # `record_versions`' query of the provinces routing runs reached


def record_versions(session: Session, circular_ids: Sequence[str] | None = None) -> dict[str, str]:
    """Circular id -> its record version: a sha256 over everything `circular_state` reads for it
    (the circular's row, its letters, their receipts and citations, clerks' dispatches and their
    addressees, the provinces routing runs reached) and the reference data. Six queries for any
    number of circulars (all when `circular_ids` is None), each on an index."""
    ids = None if circular_ids is None else list(circular_ids)
    if ids is not None and len(ids) > _IN_CHUNK:
        out: dict[str, str] = {}
        for k in range(0, len(ids), _IN_CHUNK):
            out.update(record_versions(session, ids[k : k + _IN_CHUNK]))
        return out
    letter, handoff = LetterRow.__table__, Handoff.__table__  # type: ignore[attr-defined]
    c, lt, rc = Circular.__table__.c, letter.c, Receipt.__table__.c  # type: ignore[attr-defined]
    ct, dp, ho = CitationRow.__table__.c, Dispatch.__table__.c, handoff.c  # type: ignore[attr-defined]
    clerk = dp.source == "clerk"
    reached = (
        sa.select(ho.circular_id, ho.recipient_id)
        .where(ho.level == "province", _where_circular(ho.circular_id, ids))
        .distinct()
        .subquery()
    )
    queries: list[sa.Select[Any]] = [
        sa.select(c.id, c.plan_id, c.root_letter_id, c.status).where(_where_circular(c.id, ids)),
        sa.select(lt.circular_id, lt.id, lt.number, lt.date, lt.issuer_id, lt.known_only_by_citation)
        .where(_where_circular(lt.circular_id, ids))
        .order_by(lt.id),
        sa.select(
            lt.circular_id, rc.id, rc.letter_id, rc.agency_id, rc.date, rc.source, rc.number, rc.voided_at
        )
        .join(letter, lt.id == rc.letter_id)
        .where(_where_circular(lt.circular_id, ids))
        .order_by(rc.id),
        sa.select(lt.circular_id, ct.id, ct.citing_letter_id, ct.cited_letter_id)
        .join(letter, lt.id == ct.citing_letter_id)
        .where(_where_circular(lt.circular_id, ids))
        .order_by(ct.id),
        sa.select(dp.circular_id, dp.id, dp.sender_id, dp.sent_on, dp.letter_id, ho.recipient_id)
        .outerjoin(handoff, ho.dispatch_id == dp.id)
        .where(clerk, _where_circular(dp.circular_id, ids))
        .order_by(dp.id, ho.recipient_id),
        # One row per circular (77 province ids in one string), not one per province reached.
        sa.select(reached.c.circular_id, sa.func.aggregate_strings(reached.c.recipient_id, ",")).group_by(
            reached.c.circular_id
        ),
    ]
    hashes: dict[str, Any] = {}
    for q, query in enumerate(queries):
        for row in session.execute(query):
            h = hashes.get(row[0])
            if h is None:
                if q:  # rows of a circular the first query did not return: not one of ours
                    continue
                h = hashes[row[0]] = hashlib.sha256(_reference_version().encode())
            values = tuple(row)  # a tuple's repr: a Row's is ~5x slower
            if q == _PROVINCES_REACHED:  # the ids in order: a string aggregate's order is the database's
                values = (row[0], ",".join(sorted(row[1].split(","))))
            h.update(f"{q}{values!r}".encode())
    return {cid: h.hexdigest() for cid, h in hashes.items()}


def _day(n: int | None) -> date | None:
    return None if n is None else date.fromordinal(n)


def _ord(day: date | None) -> int | None:
    return None if day is None else day.toordinal()


def _prov(p: Provenance | None) -> str | None:
    return None if p is None else p.value


# A stored state: `circular_view.header` is the zlib'd JSON header (scope and the sections'
# names), then the zlib'd JSON facts (`CircularState.events`, decoded only when a schedule is
# propagated); `circular_view_part` holds one row per section, the national band ("") and one per
# province: a 4-byte length and its zlib'd JSON index (each chunk's band, kind and length), then
# one zlib'd JSON list of rows per chunk, keyed by where the handoff lies (`_band`) and by what its
# status can be (`_kind`). An agency page reads two sections of a circular, and in them only the
# bands its handoffs can lie in (`_bands_of`: a few dozen rows of a national circular's 8,369); an
# overdue list reads only the chunks due before its day, and the late ones.
_HEADER = struct.Struct(">I")
_RANK = {level.value: rank for rank, level in enumerate(LEVEL_ORDER)}


class _Place(NamedTuple):
    province: str | None  # None: central, or not in the directory
    rank: int  # its level's place in LEVEL_ORDER (0: the Cabinet)


def _place(agency_id: str) -> _Place:
    d = directory()
    if agency_id not in d:
        return _Place(None, 0)
    return _Place(d.province_of(agency_id), _RANK[d[agency_id].level.value])


def _band(sender: _Place, sender_id: str, recipient: _Place, recipient_id: str) -> tuple[str, str]:
    """The band a handoff is stored in: the national band ("", "") when either side is central or
    the two lie in different provinces (some eighty handoffs of a national circular, read by every
    agency page); else (province, the higher of the two sides), or (province, "") when both sides
    are of one level."""
    province = recipient.province
    if province is None or sender.province != province:
        return ("", "")
    if sender.rank == recipient.rank:
        return (province, "")
    return (province, sender_id if sender.rank < recipient.rank else recipient_id)


class _Bands(NamedTuple):
    """The bands an agency's handoffs can lie in: sections to open, and a band test within them."""

    sections: frozenset[str]
    wanted: Callable[[str, str], bool]


def _bands_of(agency_id: str) -> _Bands | None:
    """The bands that may hold a handoff `agency_id` sends or receives (None: any may). A central
    agency's handoffs are all in the national band; an agency's in a province: in the national
    band, or in its province's section, in the band of the higher side (itself or an agency above
    its level) or the province's own band."""
    d = directory()
    if agency_id not in d:
        return None
    me = _place(agency_id)
    if me.province is None:
        return _Bands(frozenset({""}), lambda province, upper: True)

    def wanted(province: str, upper: str) -> bool:
        if not province:
            return True  # the national band
        return upper in ("", agency_id) or (upper in d and _RANK[d[upper].level.value] < me.rank)

    return _Bands(frozenset({"", me.province}), wanted)


class _Packed(NamedTuple):
    tally: str  # `circular_view.tally`
    header: bytes  # `circular_view.header`
    sections: dict[str, bytes]  # `circular_view_part.rows` by section


def _pack(state: CircularState) -> _Packed:
    """A state as it is stored (see `CircularView`, `CircularViewPart`)."""
    tally: Counter[tuple[Any, ...]] = Counter()
    sections: dict[str, dict[tuple[str, str | int], list[list[Any]]]] = defaultdict(lambda: defaultdict(list))
    places: dict[str, _Place] = {}
    for pos, h in enumerate(state.handoffs):
        settled = h.status.value if h.forwarded_on is not None else ""
        tally[h.level, int(h.sent), int(h.received_on is not None), int(h.forwarded_on is not None), settled,
              _ord(h.due)] += 1  # fmt: skip
        for agency in (h.sender_id, h.recipient_id):
            if agency not in places:
                places[agency] = _place(agency)
        province, upper = _band(places[h.sender_id], h.sender_id, places[h.recipient_id], h.recipient_id)
        sections[province][upper, _kind(h)].append([
            pos, h.sender_id, h.recipient_id, h.recipient, h.level, h.letter, _ord(h.sent_on),
            h.sent_provenance.value, _ord(h.expected_sent), _ord(h.received_on), _prov(h.received_provenance),
            _ord(h.forwarded_on), _prov(h.forwarded_provenance), _ord(h.expected_forward), _ord(h.latest_forward),
            _ord(h.due), h.holder_id, list(h.evidence),
        ])  # fmt: skip
    stored: dict[str, bytes] = {}
    for province, chunks in sorted(sections.items()):
        parts = [(key, _zipped(rows)) for key, rows in sorted(chunks.items(), key=repr)]
        listing = _zipped([[*key, len(part)] for key, part in parts])
        stored[province] = _HEADER.pack(len(listing)) + listing + b"".join(part for _, part in parts)
    head = _zipped({"provinces": state.provinces, "sections": sorted(stored)})
    facts = _zipped([[n, _ord(r), _ord(f)] for n, (r, f) in state.events.items()])
    tallied = json.dumps([[*k, n] for k, n in sorted(tally.items(), key=repr)])
    return _Packed(tallied, _HEADER.pack(len(head)) + head + facts, stored)


def _zipped(value: Any) -> bytes:
    return zlib.compress(_compact(value).encode(), 6)


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _kind(h: HandoffView) -> str | int:
    """What a stored handoff's status can be (a chunk's second key): `done` or `late` once
    forwarded, `open` without a due date (pending on any day), else its due date's ordinal (it is
    flagged on the days after)."""
    if h.forwarded_on is not None:
        return "late" if h.due is not None and h.forwarded_on > h.due else "done"
    return "open" if h.due is None else h.due.toordinal()


class _Stored(NamedTuple):
    """A stored state as read: its `circular_view` row, and the sections read of it."""

    circular_id: str
    fingerprint: str
    facts_through: date | None
    tally: str
    header: bytes
    sections: dict[str, bytes]


def _unpack(
    stored: _Stored, bands: _Bands | None = None, *, flagged_on: date | None = None
) -> tuple[dict[str, Any], bytes, list[list[Any]]]:
    """A stored state's header, packed facts and rows in plan order; only the chunks of `bands`
    when given, and only those that may be flagged (overdue, late, blocked) on `flagged_on`."""
    day = flagged_on.toordinal() if flagged_on is not None else None
    (size,) = _HEADER.unpack_from(stored.header)
    at = _HEADER.size + size
    header: dict[str, Any] = json.loads(zlib.decompress(stored.header[_HEADER.size : at]))
    rows: list[list[Any]] = []
    for province in header["sections"]:
        if bands is not None and province not in bands.sections:
            continue
        blob = stored.sections.get(province)
        if blob is None:  # stored again between the two reads (a new record version): say so
            raise ProgressError(
                f"the stored state of {stored.circular_id} changed while it was read: read it again"
            )
        (listed,) = _HEADER.unpack_from(blob)
        chunk = _HEADER.size + listed
        for upper, kind, n in json.loads(zlib.decompress(blob[_HEADER.size : chunk])):
            wanted = bands is None or bands.wanted(province, upper)
            if day is not None:
                wanted = wanted and (kind == "late" or (isinstance(kind, int) and kind < day))
            if wanted:
                rows += json.loads(zlib.decompress(blob[chunk : chunk + n]))
            chunk += n
    rows.sort(key=itemgetter(0))
    return header, stored.header[at:], rows


def _keep(session: Session, states: Sequence[tuple[CircularState, str]]) -> None:
    """Store live states judged on or after their latest fact (derived data: no event).

    A session that may write stores them in its own transaction; a read-only one (the CLI's
    `reading`, the dashboard) through the record's writable engine, in a transaction of their own,
    and goes on without them when the record cannot be written (a read-only file, a busy writer)."""
    rows: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    moment = now_bangkok()
    for state, version in states:
        if state.facts_through is not None and state.as_of < state.facts_through:
            continue
        packed = _pack(state)
        rows.append({"circular_id": state.circular_id, "fingerprint": version, "facts_through": state.facts_through,
                     "tally": packed.tally, "header": packed.header, "computed_at": moment})  # fmt: skip
        parts += [
            {"circular_id": state.circular_id, "section": section, "rows": blob}
            for section, blob in packed.sections.items()
        ]
    if not rows:
        return
    bind = session.get_bind()
    options = bind.get_execution_options() if isinstance(bind, (sa.Engine, sa.Connection)) else {}
    if not (options.get(READONLY_OPTION) or options.get("postgresql_readonly")):
        _write_views(session, rows, parts)
        return
    url = bind.url if isinstance(bind, sa.Engine) else bind.engine.url
    if url.get_backend_name() == "sqlite" and sqlite_file(url) is None:
        return  # a private in-memory record: nothing to store it through
    try:
        with session_scope(get_engine(url.render_as_string(hide_password=False), wait=False)) as writer:
            _write_views(writer, rows, parts)
    except sa.exc.OperationalError as exc:
        log.info("circular states not stored (%s); they are computed again next time", exc.orig)


def _write_views(session: Session, rows: list[dict[str, Any]], parts: list[dict[str, Any]]) -> None:
    view, part = CircularView.__table__, CircularViewPart.__table__  # type: ignore[attr-defined]
    ids = [r["circular_id"] for r in rows]
    session.execute(sa.delete(part).where(part.c.circular_id.in_(ids)))
    session.execute(sa.delete(view).where(view.c.circular_id.in_(ids)))
    session.execute(sa.insert(view), rows)
    if parts:
        session.execute(sa.insert(part), parts)


def forget_states(session: Session) -> int:
    """Drop every stored state (derived data: each is computed again on its next read); the
    number of circulars whose state was stored."""
    view, part = CircularView.__table__, CircularViewPart.__table__  # type: ignore[attr-defined]
    session.execute(sa.delete(part))
    return int(session.execute(sa.delete(view)).rowcount)  # type: ignore[attr-defined]


def _valid(version: str | None, row: Any, as_of: date) -> bool:
    return (
        row is not None
        and version is not None
        and row.fingerprint == version
        and (row.facts_through is None or row.facts_through <= as_of)
    )


def _view_rows(
    session: Session, ids: Sequence[str], *, blob: bool, sections: Collection[str] | None = None
) -> dict[str, Any]:
    """The stored rows of circulars `ids`: without `blob`, their versions and tallies only; with
    it, `_Stored` states holding the sections named (all when `sections` is None)."""
    table, part = CircularView.__table__, CircularViewPart.__table__  # type: ignore[attr-defined]
    columns = [table.c.circular_id, table.c.fingerprint, table.c.facts_through, table.c.tally]
    if blob:
        columns.append(table.c.header)
    out: dict[str, Any] = {}
    for k in range(0, len(ids), _IN_CHUNK):
        chunk = ids[k : k + _IN_CHUNK]
        for row in session.execute(sa.select(*columns).where(table.c.circular_id.in_(chunk))):
            if blob:
                out[row.circular_id] = _Stored(
                    row.circular_id, row.fingerprint, row.facts_through, row.tally, row.header, {}
                )
            else:
                out[row.circular_id] = row
        if not blob:
            continue
        query = sa.select(part.c.circular_id, part.c.section, part.c.rows).where(
            part.c.circular_id.in_(chunk)
        )
        if sections is not None:
            query = query.where(part.c.section.in_(sorted(sections)))
        for circular_id, section, rows in session.execute(query):
            if circular_id in out:
                out[circular_id].sections[section] = rows
    return out


_PROVENANCES: dict[str | None, Provenance | None] = {None: None, "": None, **{p.value: p for p in Provenance}}


@lru_cache(maxsize=1 << 16)
def _stored_day(n: int) -> date:
    """A stored day (an ordinal): a national circular's 8,369 handoffs share a few dozen days."""
    return date.fromordinal(n)


# Working days over, by (calendar, status, due, as of, forwarded): the handoffs of a level share
# their due dates, so an agency page over a year of circulars counts each span once.
_days_over = lru_cache(maxsize=1 << 16)(working_days_over)


def _judged(row: list[Any], as_of: date, root: str | None, cal: WorkingCalendar) -> HandoffView:
    """One stored handoff as of `as_of` (on or after its circular's latest fact)."""
    (_, sender, recipient, name, level, letter, sent_on, sent_prov, expected_sent, received_on, received_prov,
     forwarded_on, forwarded_prov, expected_forward, latest_forward, due, holder, evidence) = row  # fmt: skip
    day = _stored_day
    got = None if received_on is None else day(received_on)
    out = None if forwarded_on is None else day(forwarded_on)
    due_day = None if due is None else day(due)
    st = judge(as_of, received=got, forwarded=out, due=due_day)
    return HandoffView(
        sender_id=sender,
        recipient_id=recipient,
        recipient=name,
        level=level,
        letter=letter,
        sent_on=None if sent_on is None else day(sent_on),
        sent_provenance=_PROVENANCES[sent_prov],  # type: ignore[arg-type]
        expected_sent=None if expected_sent is None else day(expected_sent),
        received_on=got,
        received_provenance=_PROVENANCES[received_prov],
        forwarded_on=out,
        forwarded_provenance=_PROVENANCES[forwarded_prov],
        expected_forward=None if expected_forward is None else day(expected_forward),
        latest_forward=None if latest_forward is None else day(latest_forward),
        due=due_day,
        status=st,
        days_over=_days_over(cal, st, due_day, as_of, out),
        holder_id=holder,
        escalate_to_id=(holder or root) if st is HandoffStatus.BLOCKED else sender,
        evidence=tuple(evidence),
    )


@cache
def _root(plan_id: str, provinces: tuple[str, ...] | None) -> str | None:
    """The first agency of a plan graph that nobody sends to (whom a blocked chain escalates to)."""
    topology = forward_topology(_graph(plan_id, provinces))
    return next((n for n in topology.order if not topology.senders[n]), None)


class _StoredEvents(Mapping[str, tuple[date | None, date | None]]):
    """A stored state's facts (`CircularState.events`), decoded on first use: most readers of a
    stored state (an agency page, the overdue list) never propagate its schedule."""

    def __init__(self, packed: bytes) -> None:
        self._packed: bytes | None = packed
        self._events: dict[str, tuple[date | None, date | None]] = {}

    def _decoded(self) -> dict[str, tuple[date | None, date | None]]:
        if self._packed is not None:
            facts = json.loads(zlib.decompress(self._packed))
            self._events = {n: (_day(r), _day(f)) for n, r, f in facts}
            self._packed = None
        return self._events

    def __getitem__(self, node: str) -> tuple[date | None, date | None]:
        return self._decoded()[node]

    def __iter__(self) -> Iterator[str]:
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._decoded())


def _stored_state(
    found: Circular, plan_id: str, row: Any, as_of: date, *, agency: str | None = None
) -> CircularState:
    """A state from its stored row; with `agency`, only the handoffs it sends or receives (read
    from the bands they can lie in, `_bands_of`)."""
    header, facts, rows = _unpack(row, None if agency is None else _bands_of(agency))
    provinces = tuple(header["provinces"]) if header["provinces"] else None
    graph = _graph(plan_id, provinces)
    events = _StoredEvents(facts)
    root = _root(plan_id, provinces)
    cal = calendar()
    if agency is not None:
        rows = [r for r in rows if agency in (r[1], r[2])]
    return CircularState(
        circular_id=found.id,
        plan_id=plan_id,
        as_of=as_of,
        deadline=_deadline(graph),
        provinces=provinces,
        handoffs=tuple(_judged(r, as_of, root, cal) for r in rows),
        names=_names(plan_id, provinces),
        graph=graph,
        events=events,
        facts_through=row.facts_through,
    )


def circular_state(session: Session, circular: Circular | str, as_of: date) -> CircularState:
    """The state of a circular as of `as_of`: what the record proves, what the plan expects.

    Facts come from the record only, and only those dated on or before `as_of`: an agency
    *forwarded* on the date of its earliest letter in the circular (recorded) or a clerk's
    dispatch (registered); it *received* on its earliest receipt stamp (recorded or registered),
    on the day a sender of its in the plan forwarded (that letter is addressed to it), or, at the
    latest, on the day it forwarded itself. Everything else is the plan's: planned dispatches and
    projected dates from deadline propagation over these facts. Routing runs' handoff rows are
    not read for facts: they hold planned dispatches, and their statuses are as of their run.

    Read from `circular_view` when the stored state is of this record version and `as_of` is on
    or after its latest fact; else computed (`_live_state`) and, when it may be, stored.
    """
    found = circular if isinstance(circular, Circular) else find_circular(session, circular)
    version = record_versions(session, [found.id]).get(found.id)
    row = _view_rows(session, [found.id], blob=True).get(found.id)
    plan_id = matching_plan(session, found)
    if plan_id is not None and _valid(version, row, as_of):
        return _stored_state(found, plan_id, row, as_of)
    state = _live_state(session, found, as_of)
    if version is not None:
        _keep(session, [(state, version)])
    return state


class _Read(NamedTuple):
    circular: Circular
    plan_id: str | None
    stored: Any  # the `circular_view` row (with its blob) when valid, else None
    live: CircularState | None  # computed when nothing valid was stored


def _read_each(
    session: Session, circulars: Sequence[Circular], as_of: date, sections: Collection[str] | None = None
) -> Iterator[_Read]:
    """Each circular's stored state when valid (read `_BLOB_BATCH` at a time, so a few are in
    memory at once; only its `sections` when given), else its live state; live states are stored
    in batches as the caller goes."""
    if not circulars:
        return
    ids = [c.id for c in circulars]
    versions = record_versions(session, ids)
    rows = _view_rows(session, ids, blob=False)
    plans = {c.id: matching_plan(session, c) for c in circulars}
    stored = [i for i in ids if plans[i] is not None and _valid(versions.get(i), rows.get(i), as_of)]
    position = {circular_id: at for at, circular_id in enumerate(stored)}
    blobs: dict[str, Any] = {}
    pending: list[tuple[CircularState, str]] = []
    for circular in circulars:
        plan_id, version = plans[circular.id], versions.get(circular.id)
        at = position.get(circular.id)
        if at is not None and circular.id not in blobs:
            blobs = _view_rows(session, stored[at : at + _BLOB_BATCH], blob=True, sections=sections)
        full = blobs.pop(circular.id, None)
        if full is not None and full.fingerprint == version:  # not replaced since it was checked
            yield _Read(circular, plan_id, full, None)
            continue
        state = _live_state(session, circular, as_of)
        if version is not None:
            pending.append((state, version))
        if len(pending) >= _VIEW_BATCH:
            _keep(session, pending)
            pending = []
        yield _Read(circular, plan_id, None, state)
    _keep(session, pending)


def _states(
    session: Session, circulars: Sequence[Circular], as_of: date, *, agency: str | None = None
) -> Iterator[CircularState]:
    """`circular_state` of each circular in turn; with `agency`, each holds only the handoffs that
    agency sends or receives."""
    bands = None if agency is None else _bands_of(agency)
    for read in _read_each(session, circulars, as_of, None if bands is None else bands.sections):
        if read.live is not None:
            state = read.live
            if agency is not None:
                mine = tuple(h for h in state.handoffs if agency in (h.sender_id, h.recipient_id))
                state = replace(state, handoffs=mine)
            yield state
        else:
            assert read.plan_id is not None
            yield _stored_state(read.circular, read.plan_id, read.stored, as_of, agency=agency)


def circular_states_of(
    session: Session, circulars: Sequence[Circular], as_of: date, *, agency: str
) -> Iterator[CircularState]:
    """`circular_state` of each circular, each holding only the handoffs `agency` sends or
    receives (an agency page): a stored state is read only in the bands the agency's handoffs
    can lie in."""
    return _states(session, circulars, as_of, agency=agency)


def _stored_items(read: _Read, as_of: date) -> list[dict[str, Any]]:
    """`CircularState.overdue_items` from a stored row, without building the handoffs that are
    not listed (the same entries, in the same order: most working days over first, then plan order)."""
    assert read.plan_id is not None
    header, _, rows = _unpack(read.stored, flagged_on=as_of)
    provinces = tuple(header["provinces"]) if header["provinces"] else None
    names = _names(read.plan_id, provinces)
    root = _root(read.plan_id, provinces)
    deadline = _iso(_deadline(_graph(read.plan_id, provinces)))
    cal = calendar()
    day, on = as_of.toordinal(), as_of.isoformat()
    iso: dict[int, str] = {}

    def text(n: int | None) -> str | None:
        if n is None:
            return None
        found = iso.get(n)
        if found is None:
            found = iso[n] = date.fromordinal(n).isoformat()
        return found

    listed: list[tuple[int, dict[str, Any]]] = []
    for r in rows:
        (_, sender, recipient, name, level, letter, _, sent_prov, _, received_on, received_prov,
         forwarded_on, _, _, latest_forward, due, holder, evidence) = r  # fmt: skip
        if due is None:
            continue
        if forwarded_on is not None:
            if forwarded_on <= due:
                continue
            status = "late"
            over = cal.working_days_between(date.fromordinal(due), date.fromordinal(forwarded_on))
        elif day > due:
            status = "overdue" if received_on is not None else "blocked"
            over = cal.working_days_between(date.fromordinal(due), as_of)
        else:
            continue
        escalate = (holder or root) if status == "blocked" else sender
        listed.append((over, {
            "circular": read.circular.id, "as_of": on, "agency": name, "agency_id": recipient, "level": level,
            "letter": letter, "duty": "forward", "due": text(due), "latest": text(latest_forward),
            "deadline": deadline, "done": text(forwarded_on), "days_over": over, "status": status,
            "received": text(received_on), "received_provenance": received_prov, "sent_provenance": sent_prov,
            "holder": None if holder is None else names.get(holder, holder), "holder_id": holder,
            "escalate_to": None if escalate is None else names.get(escalate, escalate),
            "escalate_to_id": escalate, "evidence": evidence,
        }))  # fmt: skip
    listed.sort(key=lambda pair: -pair[0])
    return [item for _, item in listed]


def _stored_levels(tally: str, as_of: date) -> list[dict[str, Any]]:
    """`status`'s levels from a stored tally: open handoffs judged against their due date."""
    table: dict[str, Counter[str]] = defaultdict(Counter)
    day = as_of.toordinal()
    for level, sent, received, forwarded, settled, due, n in json.loads(tally):
        c = table[level]
        c["sent"] += sent * n
        c["received"] += received * n
        c["forwarded"] += forwarded * n
        if settled:
            status = settled
        elif due is None or day <= due:
            status = "pending"
        else:
            status = "overdue" if received else "blocked"
        c[status] += n
    return _level_rows(table)


def circular_states(
    session: Session, as_of: date, circular_ref: str | None = None
) -> Iterator[CircularState]:
    """`circular_state` of the circular named, else of every open circular a plan covers, one at
    a time (a caller streaming them holds one circular's state at once)."""
    yield from _states(session, _circulars(session, circular_ref), as_of)


def today() -> date:
    """The default 'as of' of every command, page and flow: today in Bangkok."""
    return now_bangkok().date()


# --- reports from propagation --------------------------------------------------------------------


def _circulars(session: Session, ref: str | None) -> list[Circular]:
    """The circular named, else every open circular that has a plan (attached or matching)."""
    if ref is not None:
        return [find_circular(session, ref)]
    open_ = session.exec(select(Circular).where(Circular.status == "open").order_by(col(Circular.id)))
    return [c for c in open_ if matching_plan(session, c) is not None]


def unplanned_circulars(session: Session) -> list[str]:
    """Open circulars that no plan covers (reports skip them: the CLI says so)."""
    open_ = session.exec(select(Circular).where(Circular.status == "open").order_by(col(Circular.id)))
    return [c.id for c in open_ if matching_plan(session, c) is None]


def overdue_items(session: Session, as_of: date, circular_ref: str | None = None) -> Iterator[dict[str, Any]]:
    """The overdue list as a stream: per circular (one `circular_state` at a time), the agencies
    that are overdue, late or blocked, most working days over first; each names its due date, the
    circular's deadline, who holds the letter and whom to escalate to."""
    for read in _read_each(session, _circulars(session, circular_ref), as_of):
        yield from (read.live.overdue_items() if read.live is not None else _stored_items(read, as_of))


def overdue_report(session: Session, as_of: date, circular_ref: str | None = None) -> list[dict[str, Any]]:
    """`overdue_items` as a list."""
    return list(overdue_items(session, as_of, circular_ref))


def margins(session: Session, circular_ref: str, level: str = "local") -> dict[str, Any]:
    """Slack at one level of a circular: how much margin the agencies there have to the deadline."""
    circular = find_circular(session, circular_ref)
    _, schedule, _, _ = schedule_for(session, circular)
    values = [
        (rec.latest_forward, rec.expected_forward, rec.slack)
        for rec in schedule.records()
        if rec.level.value == level and not rec.sink
    ]
    slacks = sorted(s for _, _, s in values if s is not None)
    return {
        "level": level,
        "agencies": len(values),
        "latest_forward": min((lf for lf, _, _ in values if lf), default=None),
        "min_slack": slacks[0] if slacks else None,
        "median_slack": slacks[len(slacks) // 2] if slacks else None,
        "missing_deadline": sum(1 for s in slacks if s < 0),
    }


def whatif_report(
    session: Session, circular_ref: str, agency: str, forwarded_on: date, *, as_of: date | None = None
) -> dict[str, Any]:
    """If `agency` forwards on `forwarded_on`, who downstream still makes their latest date?

    Starts from the circular's state as of `as_of` (default today): the facts up to that day."""
    day = as_of or today()
    state = circular_state(session, circular_ref, day)
    graph = state.graph
    node = _agency_node(graph, agency)
    # What happened downstream of the agency followed from when it really forwarded: the
    # hypothesis replaces it (Phrae's districts received on 23 June because Phrae wrote then).
    downstream = nx.descendants(graph, node)
    events = {n: e for n, e in state.events.items() if n not in downstream}
    schedule = propagate(graph, calendar(), policy(), events)
    result = whatif(schedule, node, forwarded_on)
    by_level: dict[str, Counter[str]] = defaultdict(Counter)
    for n in result.makes:
        by_level[graph.nodes[n].get("level", "?")]["makes"] += 1
    for n in result.misses:
        by_level[graph.nodes[n].get("level", "?")]["misses"] += 1
    return {
        "circular": state.circular_id,
        "as_of": day.isoformat(),
        "agency": graph.nodes[node].get("name_th", node),
        "agency_id": node,
        "forwarded_on": forwarded_on.isoformat(),
        "makes": len(result.makes),
        "misses": len(result.misses),
        "by_level": {k: dict(v) for k, v in by_level.items()},
        "missing": [graph.nodes[n].get("name_th", n) for n in result.misses[:50]],
    }


def _agency_node(graph: nx.DiGraph, agency: str) -> str:
    if agency in graph:
        return agency
    wanted = agency.replace(" ", "")
    matches = [
        n
        for n, data in graph.nodes(data=True)
        if not data.get("sink") and str(data.get("name_th", "")).replace(" ", "") == wanted
    ]
    if not matches:
        matches = [n for n in directory().find(agency) if n in graph] if agency else []
    if len(matches) != 1:
        raise ProgressError(
            f"agency {agency!r} is not one agency of this circular's plan (found {len(matches)})"
        )
    return str(matches[0])  # a node id (networkx types its nodes Any)


def status_report(
    session: Session, circular_ref: str | None = None, *, as_of: date | None = None
) -> list[dict[str, Any]]:
    """Per circular, handoff counts per level as of `as_of` (default today), from the same
    handoff list as `overdue_items`: `{"circular", "as_of", "levels": [{"level", "sent",
    "received", "forwarded", "overdue", "late", "blocked", "pending"}]}`. Works straight after
    ingest: no routing run is needed, and planned dispatches are never counted as sent."""
    day = as_of or today()
    return [{"circular": cid, "as_of": day.isoformat(), "levels": levels}
            for cid, levels in circular_levels(session, _circulars(session, circular_ref), day)]  # fmt: skip


def circular_levels(
    session: Session, circulars: Sequence[Circular], as_of: date
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(circular id, `CircularState.levels()`) of each circular as of `as_of`: from the stored
    tally when it holds (no handoff read), else from `circular_state`."""
    ids = [c.id for c in circulars]
    versions = record_versions(session, ids)
    rows = _view_rows(session, ids, blob=False)
    stale = [c for c in circulars if not _valid(versions.get(c.id), rows.get(c.id), as_of)]
    live = {state.circular_id: state.levels() for state in _states(session, stale, as_of)}
    for c in circulars:
        yield c.id, live[c.id] if c.id in live else _stored_levels(rows[c.id].tally, as_of)


def node_statuses(schedule: Schedule, as_of: date) -> dict[str, Status]:
    return statuses(schedule, as_of)


def now() -> datetime:
    return now_bangkok()
