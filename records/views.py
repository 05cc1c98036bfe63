"""Read models for people: the routing diagram of a circular, filled from the plan and the record.

Which letters ride on an edge is decided once (`records.holdings.Holdings.on_edge`), for the diagrams
and for the dashboard's tables alike:

    On the edge u -> v, show the letters of u (in this circular) that v actually holds: v stamped
    a receipt on them (ตรารับ), or one of v's own letters encloses or cites them (สิ่งที่ส่งมาด้วย,
    อ้างถึง). When v holds none of them, show all of u's letters in the circular: a sender may
    send the same addressees two letters (DLA's มท 0812/ว 1217 and ว 1434), and the record cannot
    tell which reached v, so both are shown. When u has no letter on file, the edge carries no
    letter at all: it is not labelled with somebody else's letter. The one exception is the root
    of a plan with a start date (the Cabinet, whose resolution is no letter): its edges say
    `มติ ครม. ๓๑ มี.ค. ๒๕๖๓`, from the plan.

The evidence of an edge follows the same letters: where each was read, v's receipt stamps on
them, v's letters that enclose or cite them, and the merges of their misread numbers.

Slack on the nodes is as of the diagram's day: for an agency that has done its part, its latest
date minus the day it did it; for one that has not, the working days from the day to its latest
date, negative once it is overdue. So a red (overdue) agency never reads "เหลือ ... วันทำการ".
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlmodel import Session, col, select

from models.letters import Agency, Level
from models.tables import AgencyRow, LetterRow, Receipt
from models.thai import MONTHS_ABBR, ce_to_be, now_bangkok, to_thai_digits
from records import progress, reference
from records.holdings import Holdings, read_holdings
from routing.agencies import recognise_addressees
from routing.calendar import WorkingCalendar
from routing.deadlines import NodeSchedule, Status, statuses
from visualize.model import (
    DiagramEdge,
    DiagramNode,
    EdgeLetter,
    Evidence,
    ReceiptLabel,
    RoutingDiagram,
)

RECORD_ONLY_TITLE = "ตามบันทึกเท่านั้น: ยังไม่มีแผนเส้นทาง (record only, no routing plan)"


def _key(row: LetterRow) -> tuple[date, str]:
    return (row.date, row.number)


def edge_letters(
    session: Session, circular_id: str, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], tuple[EdgeLetter, ...]]:
    """The letters on each (sender, recipient) pair of a circular, by `Holdings.on_edge`: what the
    dashboard's handoff tables show, the same as the diagram's edges."""
    holdings = read_holdings(session, circular_id)
    return {
        (s, r): tuple(EdgeLetter(row.number, row.date) for row in holdings.on_edge(s, r)) for s, r in pairs
    }


def _edge_letters(rows: Iterable[LetterRow]) -> tuple[EdgeLetter, ...]:
    return tuple(EdgeLetter(row.number, row.date) for row in rows)


def directive_note(level: Level, name_th: str, on: date) -> str:
    """What a root's edges say when its act is no letter: `มติ ครม. ๓๑ มี.ค. ๒๕๖๓`.

    >>> directive_note(Level.CABINET, "คณะรัฐมนตรี", date(2020, 3, 31))
    'มติ ครม. ๓๑ มี.ค. ๒๕๖๓'
    """
    when = to_thai_digits(f"{on.day} {MONTHS_ABBR[on.month - 1]} {ce_to_be(on.year)}")
    return f"มติ ครม. {when}" if level is Level.CABINET else f"{name_th} สั่งการ {when}"


# --- slack as of a day ------------------------------------------------------------------------------


def slack_as_of(calendar: WorkingCalendar, rec: NodeSchedule, status: Status, day: date) -> int | None:
    """Working days of margin as of `day` (negative: over), matching the node's status that day.

    Done: its latest date minus the day it acted. Not done: from `day` to its latest date; when
    it is overdue on its receipt (never received, latest receive passed) that is the date it
    missed, so the number is negative exactly when the status is overdue.
    """
    latest = rec.latest_receive if rec.sink else rec.latest_forward
    done = rec.actual_received if rec.sink else rec.actual_forwarded
    if latest is None:
        return None
    if done is not None:
        return calendar.working_days_between(done, latest)
    due = latest
    if (
        status is Status.OVERDUE
        and rec.latest_receive is not None
        and calendar.index(day) <= calendar.index(latest)
    ):
        due = rec.latest_receive
    return calendar.working_days_between(day, due)


# --- the diagrams ----------------------------------------------------------------------------------


def _receipt_labels(receipts: Iterable[Receipt]) -> tuple[ReceiptLabel, ...]:
    ordered = sorted(receipts, key=lambda r: (r.date or date.min, r.number or ""))
    return tuple(dict.fromkeys(ReceiptLabel(number=r.number, date=r.date, time=r.time) for r in ordered))


def circular_diagram(
    session: Session, circular_ref: str, *, as_of: date | None = None, province: str | None = None
) -> RoutingDiagram:
    """The diagram of a circular: `routing_diagram` when it follows a routing plan (attached, or
    matched by its letters), else `record_diagram`."""
    circular = progress.find_circular(session, circular_ref)
    if progress.matching_plan(session, circular) is None:
        return record_diagram(session, circular.id, province=province)
    return routing_diagram(session, circular.id, as_of=as_of, province=province)


def routing_diagram(
    session: Session, circular_ref: str, *, as_of: date | None = None, province: str | None = None
) -> RoutingDiagram:
    """The forwarding graph of one circular as `visualize` draws it: statuses, deadlines, receipts, evidence.

    Needs a routing plan the circular follows, attached or matched by its letters (else a
    `progress.ProgressError`, a `LookupError`).
    `province` (DOPA code or id) keeps the central agencies and that province only. Letters on
    the edges and slack on the nodes follow the rules in the module docstring.
    """
    circular = progress.find_circular(session, circular_ref)
    graph, schedule, _record, _ = progress.schedule_for(session, circular)
    day = as_of or now_bangkok().date()
    state = statuses(schedule, day)
    cal = reference.calendar()
    d = reference.directory()
    keep_province = None if province is None else (province if ":" in province else f"province:{province}")
    holdings = read_holdings(session, circular.id)

    def agency_of(node: str) -> str:
        return str(graph.nodes[node].get("agency_id", node))

    def province_of(node: str) -> str | None:
        agency = agency_of(node)
        return d.province_of(agency) if agency in d else None

    def wanted(node: str) -> bool:
        return keep_province is None or province_of(node) in (None, keep_province)

    def copy_sink(node: str) -> bool:
        kinds = {k for _, _, k in graph.in_edges(node, data="kind")}
        return bool(graph.nodes[node].get("sink")) and kinds == {"copy"}

    nodes = []
    for node in graph.nodes:
        if not wanted(node) or copy_sink(node):
            continue
        rec = schedule[node]
        agency = agency_of(node)
        parent = d[agency].parent if agency in d else None
        nodes.append(
            DiagramNode(
                id=node,
                name_th=rec.name_th + (" (รับแผน)" if rec.sink else ""),
                level=rec.level,
                status=state[node].value,
                parent=parent,
                province=province_of(node),
                district=parent
                if rec.level is Level.LOCAL and parent and parent.startswith("district:")
                else None,
                latest=rec.latest_forward if not rec.sink else rec.latest_receive,
                expected=rec.expected_forward if not rec.sink else rec.expected_receive,
                done=rec.actual_forwarded if not rec.sink else rec.actual_received,
                slack=slack_as_of(cal, rec, state[node], day),
                critical=rec.critical,
                receipts=_receipt_labels(holdings.receipts.get(agency, ())) if not rec.sink else (),
            )
        )
    kept = {n.id for n in nodes}
    start: date | None = graph.graph.get("start")
    edges = []
    for u, v, data in graph.edges(data=True):
        kind = data.get("kind", "forward")
        if u not in kept or v not in kept or kind == "copy":
            continue
        if kind == "return" and not (schedule[u].critical and schedule[v].critical):
            continue  # thousands of returns; only the binding one is drawn
        letters = holdings.on_edge(agency_of(u), agency_of(v))
        evidence = holdings.evidence(letters, agency_of(v))
        note = None
        if not letters and start is not None and graph.in_degree(u) == 0:
            note = directive_note(schedule[u].level, schedule[u].name_th, start)
            plan = graph.graph.get("plan", circular.plan_id)
            evidence = (Evidence("plan", f"{note}: start date of routing plan {plan}"),)
        edges.append(
            DiagramEdge(
                source=u,
                target=v,
                letters=_edge_letters(letters),
                status=state[v].value,
                critical=schedule[u].critical and schedule[v].critical,
                evidence=evidence,
                note=note,
            )
        )
    deadlines = [dl.date for dl in graph.graph.get("deadlines", ())]
    return RoutingDiagram(
        title=f"{circular.id} — {graph.graph.get('title', '')}",
        deadline=max(deadlines) if deadlines else None,
        nodes=tuple(nodes),
        edges=tuple(edges),
        as_of=day,
    )


def record_diagram(session: Session, circular_ref: str, *, province: str | None = None) -> RoutingDiagram:
    """What the record alone shows of a circular that has no routing plan: no deadlines, no slack.

    Agencies: those that issued its letters, stamped a receipt on them, or are named (one by
    one, not as a group such as "every province", and known to the directory) in their
    salutations. An edge u -> v for each
    letter of u that v stamped, that a letter of v encloses (v passed it on), or that names v
    as its addressee (เรียน), as in the forwarding graph (`routing.chain`); its letters are
    `Holdings.on_edge`'s. Issuers are drawn done on the day of their first letter, everyone
    else in an unknown state: without a plan nothing says what was due, so there is no day to
    reckon statuses on.
    """
    circular = progress.find_circular(session, circular_ref)
    holdings = read_holdings(session, circular.id)
    d = reference.directory()
    keep_province = None if province is None else (province if ":" in province else f"province:{province}")

    pairs: dict[tuple[str, str], None] = {}
    by_issuer = {row.id: a for a, rows in holdings.issued.items() for row in rows}
    for agency, stamps in holdings.receipts.items():
        for r in stamps:
            sender = by_issuer.get(r.letter_id)
            if sender is not None:
                pairs[sender, agency] = None
    for agency, cites in holdings.citations.items():
        for c in cites:
            sender = by_issuer.get(c.cited_letter_id)
            if sender is not None and c.kind == "encloses":
                pairs[sender, agency] = None
    for issuer, rows in holdings.issued.items():
        sender_agency = d[issuer] if issuer in d else Agency(id=issuer, name_th=issuer)
        for row in rows:
            if row.known_only_by_citation or not row.salutation:
                continue
            for addressee in recognise_addressees(row.salutation, sender=sender_agency):
                # Only agencies the directory knows: a name it cannot place has no page to link to.
                if addressee.agency is not None and addressee.agency.id in d:
                    pairs[issuer, addressee.agency.id] = None
    pairs = {(u, v): None for u, v in pairs if u != v}

    ids = set(holdings.issued) | set(holdings.receipts) | {a for pair in pairs for a in pair}
    known = {a.id: a for a in session.exec(select(AgencyRow).where(col(AgencyRow.id).in_(list(ids))))}

    def describe(agency: str) -> tuple[str, Level, str | None]:
        if agency in d:
            a = d[agency]
            return a.name_th, a.level, a.parent
        if agency in known:
            row = known[agency]
            try:
                level = Level(row.level)
            except ValueError:
                level = Level.UNKNOWN
            return row.name_th, level, row.parent_id
        issued = holdings.issued.get(agency, ())
        return (issued[0].issuer_name or agency) if issued else agency, Level.UNKNOWN, None

    def province_of(agency: str) -> str | None:
        return d.province_of(agency) if agency in d else None

    nodes = []
    for agency in sorted(ids):
        if keep_province is not None and province_of(agency) not in (None, keep_province):
            continue
        name, level, parent = describe(agency)
        issued = holdings.issued.get(agency, ())
        nodes.append(
            DiagramNode(
                id=agency,
                name_th=name,
                level=level,
                status="done" if issued else "unknown",
                parent=parent,
                province=province_of(agency),
                district=parent
                if level is Level.LOCAL and parent and parent.startswith("district:")
                else None,
                done=issued[0].date if issued else None,
                receipts=_receipt_labels(holdings.receipts.get(agency, ())),
            )
        )
    kept = {n.id for n in nodes}
    edges = []
    for u, v in pairs:
        if u not in kept or v not in kept:
            continue
        letters = holdings.on_edge(u, v)
        edges.append(
            DiagramEdge(
                source=u,
                target=v,
                letters=_edge_letters(letters),
                status="done" if holdings.held_by(v) & {row.id for row in letters} else "unknown",
                evidence=holdings.evidence(letters, v),
            )
        )
    return RoutingDiagram(
        title=f"{circular.id} — {circular.title or ''} — {RECORD_ONLY_TITLE}",
        deadline=None,
        nodes=tuple(nodes),
        edges=tuple(edges),
    )


def has_plan(session: Session, circular_ref: str) -> bool:
    """Whether the circular holding `circular_ref` follows a routing plan (attached or matched)."""
    return progress.matching_plan(session, progress.find_circular(session, circular_ref)) is not None


__all__ = [
    "Holdings",
    "circular_diagram",
    "directive_note",
    "edge_letters",
    "read_holdings",
    "record_diagram",
    "routing_diagram",
    "slack_as_of",
]
