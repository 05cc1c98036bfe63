"""The chain as recorded: load the record into domain objects, build the forwarding graph
(`routing.chain`), and answer `saraban chain` and `saraban letter NUMBER`.

Circulars: the letters connected by citations form one circular (the cascade from one root
directive). `assign_circulars` recomputes the components after each ingest and names each by its
earliest real letter (date, then number): `2020-นร-1220-55`. The names depend only on the set of
letters and citations, so every ingest order gives the same circulars.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from typing import Any

import networkx as nx
from sqlmodel import Session, col, select

from models.letters import Agency, Letter, Level, SourceRef, Urgency
from models.numbering import parse_letter_number
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
    new_row,
)
from models.thai import now_bangkok
from records.events import append_event, default_actor
from records.service import lookup_letter
from routing.chain import DispatchLink, Link, ReceiptLink, build_forwarding_graph


class LetterNotFound(LookupError):
    """No letter in the record has that number (nor an alias of it)."""


def circular_slug(number: str, on: date) -> str:
    """The circular id named after its root letter: year, then the number without spaces or slashes.

    >>> circular_slug("พร 0023.1/ว 3026", date(2020, 6, 23))
    '2020-พร-0023.1-ว-3026'
    """
    return f"{on.year}-" + re.sub(r"[\s/]+", "-", number.strip())


# --- circulars --------------------------------------------------------------------------------


def _components(session: Session) -> list[list[LetterRow]]:
    letters = {r.id: r for r in session.exec(select(LetterRow))}
    graph = nx.Graph()
    graph.add_nodes_from(letters)
    for c in session.exec(select(CitationRow)):
        graph.add_edge(c.citing_letter_id, c.cited_letter_id)
    return [[letters[i] for i in component] for component in nx.connected_components(graph)]


def assign_circulars(session: Session, *, actor: str | None = None) -> dict[str, list[str]]:
    """Recompute circulars from the citation components; write (and log) only what changed.

    Returns circular id -> member letter numbers (sorted).
    """
    who = actor or default_actor()
    wanted: dict[str, tuple[LetterRow, list[LetterRow]]] = {}
    for members in _components(session):
        real = [m for m in members if not m.known_only_by_citation]
        if not real:
            continue
        root = min(real, key=lambda r: (r.date, r.number))
        wanted[circular_slug(root.number, root.date)] = (root, members)

    existing = {c.id: c for c in session.exec(select(Circular))}
    for slug in sorted(wanted):
        root, members = wanted[slug]
        title = root.subject or ""
        circular = existing.get(slug)
        if circular is None:
            session.add(
                new_row(
                    Circular,
                    id=slug,
                    title=title,
                    root_letter_id=root.id,
                    status="open",
                    created_at=now_bangkok(),
                )
            )
            session.flush()
            append_event(
                session,
                "circular.created",
                slug,
                {"root": root.number, "members": sorted(m.number for m in members)},
                actor=who,
            )
        elif circular.root_letter_id != root.id or circular.title != title:
            circular.root_letter_id, circular.title = root.id, title
            session.flush()
            append_event(session, "circular.updated", slug, {"root": root.number, "title": title}, actor=who)
        moved = sorted(m.number for m in members if m.circular_id != slug)
        for member in members:
            if member.circular_id != slug:
                member.circular_id = slug
        if moved and circular is not None:
            append_event(session, "circular.members_added", slug, {"letters": moved}, actor=who)
        session.flush()

    letter_circular = {m.id: slug for slug, (_, members) in wanted.items() for m in members}
    for slug, circular in sorted(existing.items()):
        if slug in wanted:
            continue
        # Its letters now belong to a bigger cascade: move what refers to it, then drop it.
        into = letter_circular.get(circular.root_letter_id) if circular.root_letter_id is not None else None
        for dispatch in session.exec(select(Dispatch).where(Dispatch.circular_id == slug)):
            dispatch.circular_id = into or letter_circular[dispatch.letter_id]
        for handoff in session.exec(select(Handoff).where(Handoff.circular_id == slug)):
            dispatch_row = session.get(Dispatch, handoff.dispatch_id)
            handoff.circular_id = dispatch_row.circular_id if dispatch_row else (into or slug)
        session.flush()
        session.delete(circular)
        session.flush()
        append_event(session, "circular.removed", slug, {"into": into}, actor=who)
    return {slug: sorted(m.number for m in members) for slug, (_, members) in wanted.items()}


# --- loading the record into domain objects ---------------------------------------------------


def _level(value: str) -> Level:
    try:
        return Level(value)
    except ValueError:
        return Level.UNKNOWN


def _agency(row: AgencyRow) -> Agency:
    return Agency(
        id=row.id, name_th=row.name_th, name_en=row.name_en, level=_level(row.level), parent=row.parent_id
    )


def _domain_letter(row: LetterRow) -> Letter:
    return Letter(
        number=parse_letter_number(row.number, repair=False),
        date=row.date,
        urgency=Urgency(row.urgency) if row.urgency else None,
        issuer=row.issuer_name,
        subject=row.subject,
        salutation=row.salutation,
        signer=row.signer,
        signer_position=row.signer_position,
        owner_unit=row.owner_unit,
        source=SourceRef(file=row.source_file or "?", line=max(row.source_line or 1, 1)),
    )


def forwarding_graph(session: Session, *, provinces: tuple[Agency, ...] = ()) -> nx.MultiDiGraph:
    """The forwarding graph of everything recorded (see `routing.chain.build_forwarding_graph`)."""
    rows = {
        r.id: r for r in session.exec(select(LetterRow).order_by(col(LetterRow.date), col(LetterRow.number)))
    }
    aliases: dict[str, list[str]] = defaultdict(list)
    for m in session.exec(select(Merge).order_by(col(Merge.alias))):
        aliases[rows[m.kept_letter_id].number].append(m.alias)
    links = [
        Link(rows[c.cited_letter_id].number, rows[c.citing_letter_id].number, c.kind)
        for c in session.exec(select(CitationRow))
    ]
    receipts = [
        ReceiptLink(rows[r.letter_id].number, r.agency_id, r.registry, r.number, r.date, r.time)
        for r in session.exec(select(Receipt))
    ]
    dispatches = [
        DispatchLink(rows[d.letter_id].number, d.sender_id, d.sent_on, _level(d.level))
        for d in session.exec(select(Dispatch))
    ]
    agencies = {a.id: _agency(a) for a in session.exec(select(AgencyRow))}
    return build_forwarding_graph(
        [_domain_letter(r) for r in rows.values()],
        links,
        receipts,
        dispatches,
        provinces=provinces,
        placeholders={r.number for r in rows.values() if r.known_only_by_citation},
        aliases=aliases,
        agencies=agencies,
    )


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _hhmm(value: Any) -> str | None:
    return value.strftime("%H:%M") if value is not None else None


def chain_json(session: Session) -> dict[str, Any]:
    """The recorded chain: letters (with aliases), letter-to-letter edges, receipts.

    Letters are named by canonical number; an edge goes `from` the earlier (cited or enclosed)
    letter `to` the later one that carries it. Everything is sorted by (date, number).
    """
    graph = forwarding_graph(session)
    letters: dict[str, dict[str, Any]] = {}
    for node, data in graph.nodes(data=True):
        if data.get("type") != "letter":
            continue
        letters[node[1]] = {
            "number": data["number"],
            "aliases": sorted(data["aliases"]),
            "date": _iso(data["date"]),
            "issuer": data["issuer"],
            "circular": bool(data["circular"]),
            "known_only_by_citation": bool(data["known_only_by_citation"]),
        }

    def key(number: str) -> tuple[str, str]:
        return (letters[number]["date"] or "", number)

    edges = []
    receipts = []
    for u, v, data in graph.edges(data=True):
        if u[0] == "letter" and v[0] == "letter":
            edges.append({"from": u[1], "to": v[1], "kind": data["kind"]})
        elif data.get("kind") == "received":
            receipts.append(
                {
                    "letter": u[1],
                    "agency": v[1],
                    "number": data["number"],
                    "date": _iso(data["date"]),
                    "time": _hhmm(data["time"]),
                }
            )
    edges.sort(key=lambda e: (key(e["from"]), key(e["to"]), e["kind"]))
    receipts.sort(key=lambda r: (key(r["letter"]), r["date"] or "", r["number"] or "", r["agency"]))
    return {
        "letters": sorted(letters.values(), key=lambda item: key(item["number"])),
        "edges": edges,
        "receipts": receipts,
    }


def letter_detail(session: Session, number: str) -> dict[str, Any]:
    """Everything known about one letter, found by any printed form of its number."""
    try:
        row = lookup_letter(session, number)
    except ValueError as exc:
        raise LetterNotFound(f"not a letter number: {number!r} ({exc})") from None
    if row is None:
        raise LetterNotFound(f"no letter {number!r} in the record")
    assert row.id is not None
    numbers = {r.id: r for r in session.exec(select(LetterRow))}
    issuer = session.get(AgencyRow, row.issuer_id) if row.issuer_id else None
    circular = session.get(Circular, row.circular_id) if row.circular_id else None
    agencies = {a.id: a for a in session.exec(select(AgencyRow))}

    def citation(c: CitationRow, other_id: int) -> dict[str, Any]:
        other = numbers[other_id]
        return {
            "number": other.number,
            "date": other.date.isoformat(),
            "kind": c.kind,
            "as_printed": c.cited_number,
            "raw": c.cited_raw,
            "position": c.position,
            "text": c.text,
            "line": c.source_line,
            "known_only_by_citation": other.known_only_by_citation,
        }

    cites = session.exec(
        select(CitationRow)
        .where(CitationRow.citing_letter_id == row.id)
        .order_by(col(CitationRow.kind), col(CitationRow.position))
    )
    cited_by = session.exec(select(CitationRow).where(CitationRow.cited_letter_id == row.id))
    receipts = session.exec(
        select(Receipt).where(Receipt.letter_id == row.id).order_by(col(Receipt.date), col(Receipt.number))
    )
    return {
        "number": row.number,
        "date": row.date.isoformat(),
        "circular": row.circular,
        "urgency": row.urgency,
        "issuer": {"id": issuer.id, "name_th": issuer.name_th, "level": issuer.level} if issuer else None,
        "issuer_name": row.issuer_name,
        "subject": row.subject,
        "salutation": row.salutation,
        "signer": row.signer,
        "signer_position": row.signer_position,
        "owner_unit": row.owner_unit,
        "known_only_by_citation": row.known_only_by_citation,
        "source": {"file": row.source_file, "line": row.source_line},
        "circular_id": row.circular_id,
        "circular_title": circular.title if circular else None,
        "variants": [
            {"printed": v.printed, "raw": v.raw, "seen_in": v.seen_in}
            for v in session.exec(
                select(LetterVariant)
                .where(LetterVariant.letter_id == row.id)
                .order_by(col(LetterVariant.printed))
            )
        ],
        "merges": [
            {"alias": m.alias, "reason": m.reason, "made_at": m.made_at.isoformat()}
            for m in session.exec(
                select(Merge).where(Merge.kept_letter_id == row.id).order_by(col(Merge.alias))
            )
        ],
        "receipts": [
            {
                "agency": r.agency_id,
                "agency_name": agencies[r.agency_id].name_th if r.agency_id in agencies else None,
                "registry": r.registry,
                "number": r.number,
                "date": _iso(r.date),
                "time": _hhmm(r.time),
                "source": r.source,
                "seen_in": f"{r.source_file}:{r.source_line}" if r.source_file else None,
            }
            for r in receipts
        ],
        "cites": [citation(c, c.cited_letter_id) for c in cites],
        "cited_by": sorted(
            (citation(c, c.citing_letter_id) for c in cited_by),
            key=lambda d: (d["date"], d["number"], d["kind"]),
        ),
        "deadlines": [
            {"date": d.date.isoformat(), "time": _hhmm(d.time), "kind": d.kind, "text": d.text}
            for d in session.exec(
                select(DeadlineRow)
                .where(DeadlineRow.letter_id == row.id)
                .order_by(col(DeadlineRow.date), col(DeadlineRow.id))
            )
        ],
    }
