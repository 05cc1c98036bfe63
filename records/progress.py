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

import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import networkx as nx
import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.letters import Level
from models.numbering import LetterNumberError
from models.tables import (
    UNFLAGGED_SQL,
    AgencyRow,
    Circular,
    Dispatch,
    Handoff,
    LetterRow,
    Receipt,
)
from models.thai import now_bangkok
from records.dispatches import DispatchSpec, HandoffSpec, HandoffState
from records.events import append_event, default_actor
from records.holdings import read_holdings
from records.service import lookup_letters
from routing.calendar import WorkingCalendar, load_calendar
from routing.deadlines import Schedule, Status, overdue, propagate, whatif
from routing.directory import Directory, load_directory
from routing.plans import Plan, builtin_plans, forward_topology, instantiate_plan, load_plan, plan_matches
from routing.policy import Policy, load_policy

OPEN_STATUSES = ("pending", "received")


class ProgressError(LookupError):
    """A circular or agency that the record does not know, or a circular without a plan."""


# --- reference data, loaded once per process ----------------------------------------------------


# Reference data the deployment may replace: the official local-bodies list (CSV, see
# routing.directory), a handling-allowance policy and a file of extra closures (YAML, as the built-in
# routing/data/policy.yaml and calendar.yaml). Unset: the built-in stand-in directory and defaults.
LOCAL_BODIES_ENV = "SARABAN_LOCAL_BODIES_CSV"
POLICY_ENV = "SARABAN_POLICY"
CLOSURES_ENV = "SARABAN_CLOSURES"


def _reference(env: str, load: Callable[[Path | None], Any]) -> Any:
    value = os.environ.get(env)
    try:
        return load(Path(value) if value else None)
    except (OSError, ValueError) as exc:
        raise ProgressError(f"{env}={value}: {exc}") from None


@cache
def directory() -> Directory:
    return _reference(LOCAL_BODIES_ENV, load_directory)  # type: ignore[no-any-return]


@cache
def calendar() -> WorkingCalendar:
    return _reference(CLOSURES_ENV, load_calendar)  # type: ignore[no-any-return]


@cache
def policy() -> Policy:
    return _reference(POLICY_ENV, load_policy)  # type: ignore[no-any-return]


def is_working_day(day: date) -> bool:
    return calendar().is_working_day(day)


@cache
def _plan_files() -> dict[str, Path]:
    return builtin_plans()  # the shipped plans do not change while a process runs


@cache
def _plan(plan_id: str) -> Plan:
    plans = _plan_files()
    if plan_id not in plans:
        raise ProgressError(f"no routing plan {plan_id!r}; known plans: {', '.join(sorted(plans))}")
    return load_plan(plans[plan_id])


@cache
def _graph(plan_id: str, provinces: tuple[str, ...] | None) -> nx.DiGraph:
    return instantiate_plan(_plan(plan_id), directory(), provinces=provinces)


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
        select(LetterRow.number, LetterRow.date).where(LetterRow.circular_id == circular.id)
    ).all()
    matches = plan_matches((_plan(p) for p in _plan_files()), [(n, d) for n, d in held])
    return matches[0].id if len(matches) == 1 else None


def set_plan(session: Session, circular: Circular, plan_id: str, *, actor: str | None = None) -> bool:
    """Attach a routing plan to a circular (logged). Returns whether anything changed."""
    _plan(plan_id)  # fail early on an unknown plan
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


def _read_record(session: Session, circular: Circular, graph: nx.DiGraph) -> _Record:
    holdings = read_holdings(session, circular.id)
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
            f"choose one with `saraban run {circular.id} --plan PLAN` ({', '.join(sorted(_plan_files()))})"
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


_SWEEP_COLUMNS = (Handoff.id, Handoff.circular_id, Handoff.recipient_id, Handoff.due_forward,
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
    if newly_rows or late_rows:
        for ids, values in (
            ([r.id for r in past_due], {"status": "overdue", "overdue_flagged_at": at}),
            ([r.id for r in unflagged], {"overdue_flagged_at": at}),
        ):
            for start in range(0, len(ids), 5000):
                session.execute(
                    sa.update(Handoff).where(col(Handoff.id).in_(ids[start : start + 5000])).values(**values)
                )
        ids = [r.id for r in newly_rows]
        late_ids = [r.id for r in late_rows]
        payload: dict[str, Any] = {"count": len(ids), "first": ids[:20]}
        if late_ids:
            payload.update(late=len(late_ids), first_late=late_ids[:20])
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
        newly_overdue=tuple(_items(session, newly_rows, today)),
        by_circular={str(k): int(v) for k, v in by_circular.items()},
        newly_late=tuple(_items(session, late_rows, today)),
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


def overdue_report(session: Session, as_of: date, circular_ref: str | None = None) -> list[dict[str, Any]]:
    """Every agency that is overdue or was late, per circular, computed from the plan and the record."""
    out: list[dict[str, Any]] = []
    d = directory()
    for circular in _circulars(session, circular_ref):
        _, schedule, record, _ = schedule_for(session, circular)
        for item in overdue(schedule, as_of):
            escalate = item.escalate_to
            letter_id = record.carried.get(item.node, record.root_letter)
            out.append(
                {
                    "circular": circular.id,
                    "agency": item.name_th,
                    "agency_id": item.agency_id,
                    "letter": record.numbers.get(letter_id, ""),
                    "duty": item.duty,
                    "due": item.due.isoformat(),
                    "done": item.done.isoformat() if item.done else None,
                    "days_over": item.days_over,
                    "status": item.status.value,
                    "escalate_to": d[escalate].name_th if escalate and escalate in d else escalate,
                    "escalate_to_id": escalate,
                }
            )
    return out


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


def whatif_report(session: Session, circular_ref: str, agency: str, forwarded_on: date) -> dict[str, Any]:
    """If `agency` forwards on `forwarded_on`, who downstream still makes their latest date?"""
    circular = find_circular(session, circular_ref)
    graph, schedule, _, _ = schedule_for(session, circular)
    node = _agency_node(graph, agency)
    result = whatif(schedule, node, forwarded_on)
    by_level: dict[str, Counter[str]] = defaultdict(Counter)
    for n in result.makes:
        by_level[graph.nodes[n].get("level", "?")]["makes"] += 1
    for n in result.misses:
        by_level[graph.nodes[n].get("level", "?")]["misses"] += 1
    return {
        "circular": circular.id,
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
    return matches[0]


def status_report(session: Session, circular_ref: str | None = None) -> list[dict[str, Any]]:
    """Handoff counts per circular and level by status, from the handoff table.

    `sent` counts handoffs whose dispatch the record shows happening (a letter on file, a clerk's
    entry); the rest are planned sends that have not happened yet."""
    sent_ = sa.case((Dispatch.source == "plan", 0), else_=1)
    query = (
        select(Handoff.circular_id, Handoff.level, Handoff.status, sa.func.count(), sa.func.sum(sent_))
        .join(Dispatch, col(Dispatch.id) == col(Handoff.dispatch_id))
        .group_by(col(Handoff.circular_id), col(Handoff.level), col(Handoff.status))
    )
    if circular_ref is not None:
        query = query.where(Handoff.circular_id == find_circular(session, circular_ref).id)
    table: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for circular_id, level, status_, count, sent in session.exec(query):
        table[(circular_id, level)][status_] += int(count)
        table[(circular_id, level)]["_sent"] += int(sent or 0)
    order = {lv.value: i for i, lv in enumerate(Level)}
    rows = []
    for (circular_id, level), counts in sorted(
        table.items(), key=lambda kv: (kv[0][0], order.get(kv[0][1], 99))
    ):
        rows.append(
            {
                "circular": circular_id,
                "level": level,
                "handoffs": sum(v for k, v in counts.items() if k != "_sent"),
                "sent": counts["_sent"],
                "received": counts["received"] + counts["forwarded"] + counts["late"],
                "forwarded": counts["forwarded"] + counts["late"],
                "overdue": counts["overdue"],
                "late": counts["late"],
                "pending": counts["pending"] + counts["received"],
            }
        )
    return rows


def node_statuses(schedule: Schedule, as_of: date) -> dict[str, Status]:
    from routing.deadlines import statuses

    return statuses(schedule, as_of)


def now() -> datetime:
    return now_bangkok()


def all_provinces() -> list[str]:
    """DOPA codes of every province (for a national route)."""
    return [p.id.split(":", 1)[1] for p in directory().provinces()]
