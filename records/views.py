"""Read models for people: the routing diagram of a circular, filled from the plan and the record."""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlmodel import Session, col, select

from models.letters import Level
from models.tables import LetterRow, Merge, Receipt
from models.thai import now_bangkok
from records import progress
from routing.deadlines import statuses
from visualize.model import DiagramEdge, DiagramNode, Evidence, ReceiptLabel, RoutingDiagram


def routing_diagram(
    session: Session, circular_ref: str, *, as_of: date | None = None, province: str | None = None
) -> RoutingDiagram:
    """The forwarding graph of one circular as `visualize` draws it: statuses, deadlines, receipts, evidence.

    `province` (DOPA code or id) keeps the central agencies and that province only.
    """
    circular = progress.find_circular(session, circular_ref)
    graph, schedule, record, _ = progress.schedule_for(session, circular)
    day = as_of or now_bangkok().date()
    state = statuses(schedule, day)
    d = progress.directory()
    keep_province = None if province is None else (province if ":" in province else f"province:{province}")

    letters = {r.id: r for r in session.exec(select(LetterRow).where(LetterRow.circular_id == circular.id))}
    receipts: dict[str, list[Receipt]] = defaultdict(list)
    for r in session.exec(select(Receipt).where(col(Receipt.letter_id).in_(list(letters)))):
        if r.agency_id:
            receipts[r.agency_id].append(r)
    merges: dict[int, list[Merge]] = defaultdict(list)
    for m in session.exec(select(Merge).where(col(Merge.kept_letter_id).in_(list(letters)))):
        merges[m.kept_letter_id].append(m)

    def province_of(node: str) -> str | None:
        agency = graph.nodes[node].get("agency_id", node)
        return d.province_of(agency) if agency in d else None

    def wanted(node: str) -> bool:
        return keep_province is None or province_of(node) in (None, keep_province)

    def copy_sink(node: str) -> bool:
        kinds = {k for _, _, k in graph.in_edges(node, data="kind")}
        return bool(graph.nodes[node].get("sink")) and kinds == {"copy"}

    nodes = []
    for node, data in graph.nodes(data=True):
        if not wanted(node) or copy_sink(node):
            continue
        rec = schedule[node]
        agency = data.get("agency_id", node)
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
                slack=rec.slack,
                critical=rec.critical,
                receipts=tuple(
                    dict.fromkeys(
                        ReceiptLabel(number=r.number, date=r.date, time=r.time)
                        for r in sorted(
                            receipts.get(agency, []), key=lambda r: (r.date or date.min, r.number or "")
                        )
                    )
                )
                if not rec.sink
                else (),
            )
        )
    kept = {n.id for n in nodes}
    edges = []
    for u, v, data in graph.edges(data=True):
        kind = data.get("kind", "forward")
        if u not in kept or v not in kept or kind == "copy":
            continue
        if kind == "return" and not (schedule[u].critical and schedule[v].critical):
            continue  # thousands of returns; only the binding one is drawn
        letter_id = record.own_letter.get(u, record.carried.get(v, record.root_letter))
        letter = letters.get(letter_id)
        evidence: list[Evidence] = []
        if letter is not None and letter.source_file:
            evidence.append(
                Evidence(
                    kind="file", text=f"{letter.number}", file=letter.source_file, line=letter.source_line
                )
            )
        elif letter is not None:
            evidence.append(Evidence(kind="citation", text=f"{letter.number}: known only by citation"))
        for r in receipts.get(v, []):
            evidence.append(
                Evidence(
                    kind="receipt",
                    text=f"เลขรับ {r.number or '-'} {r.date or ''}",
                    file=r.source_file,
                    line=r.source_line,
                )
            )
        for m in merges.get(letter_id, []):
            evidence.append(Evidence(kind="merge", text=f"{m.alias}: {m.reason}"))
        edges.append(
            DiagramEdge(
                source=u,
                target=v,
                letter=letter.number if letter is not None and kind == "forward" else None,
                letter_date=letter.date if letter is not None and kind == "forward" else None,
                status=state[v].value,
                critical=schedule[u].critical and schedule[v].critical,
                evidence=tuple(evidence),
            )
        )
    deadlines = [dl.date for dl in graph.graph.get("deadlines", ())]
    return RoutingDiagram(
        title=f"{circular.id} — {graph.graph.get('title', '')} (as of {day.isoformat()})",
        deadline=max(deadlines) if deadlines else None,
        nodes=tuple(nodes),
        edges=tuple(edges),
    )
