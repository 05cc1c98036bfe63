"""The chain as recorded: load the record into domain objects, build the forwarding graph
(`routing.chain`), and answer `saraban chain` and `saraban letter NUMBER`.

Circulars: the letters connected by citations form one circular (the cascade from one root
directive). `assign_circulars` recomputes the components after each ingest and names each by its
earliest real letter (date, then number): `2020-นร-1220-55`. The names depend only on the set of
letters and citations, so every ingest order gives the same circulars.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
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
    LetterRow,
    LetterVariant,
    Merge,
    Receipt,
)
from records.events import default_actor
from records.service import find_letters, lookup_letters, reading_notes, remove_circular, save_circular
from routing.chain import DispatchLink, LetterKey, Link, Node, ReceiptLink, build_forwarding_graph


class LetterNotFound(LookupError):
    """No letter in the record has that number (nor an alias of it)."""


class AmbiguousLetter(LookupError):
    """Several letters on record go by that number (running numbers restart every year): the
    caller must say which, by date or year. `candidates` are their (number, date, on file)."""

    def __init__(self, printed: str, candidates: list[tuple[str, date, bool]]) -> None:
        self.printed, self.candidates = printed, candidates
        lines = [
            f"  {number} of {on.isoformat()} ({'known only by citation' if cited else 'on file'})"
            for number, on, cited in candidates
        ]
        super().__init__(
            f"{len(candidates)} letters on record go by {printed!r} (running numbers restart every year);"
            " give --date or --year to pick one:\n" + "\n".join(lines)
        )


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
        save_circular(session, existing.get(slug), slug, root, members, actor=who)

    letter_circular = {m.id: slug for slug, (_, members) in wanted.items() for m in members}
    for slug, circular in sorted(existing.items()):
        if slug not in wanted:
            remove_circular(
                session, circular, lambda i: letter_circular.get(i) if i is not None else None, actor=who
            )
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
    """The forwarding graph of everything recorded (see `routing.chain.build_forwarding_graph`).

    Letters are keyed by number and date, so two letters sharing a number (running numbers restart
    every year) stay two nodes, each with its own citations, receipts and dispatches.
    """
    rows = {
        r.id: r for r in session.exec(select(LetterRow).order_by(col(LetterRow.date), col(LetterRow.number)))
    }
    aliases: dict[LetterKey, list[str]] = defaultdict(list)
    for m in session.exec(select(Merge).order_by(col(Merge.alias))):
        kept = rows[m.kept_letter_id]
        aliases[(kept.number, kept.date)].append(m.alias)
    links = []
    for c in session.exec(select(CitationRow)):
        cited, citing = rows[c.cited_letter_id], rows[c.citing_letter_id]
        links.append(Link(cited.number, citing.number, c.kind, cited.date, citing.date))
    receipts = [
        ReceiptLink(
            rows[r.letter_id].number, r.agency_id, r.registry, r.number, r.date, r.time,
            letter_date=rows[r.letter_id].date,
        )
        for r in session.exec(select(Receipt))
    ]  # fmt: skip
    dispatches = [
        DispatchLink(
            rows[d.letter_id].number, d.sender_id, d.sent_on, _level(d.level), rows[d.letter_id].date
        )
        for d in session.exec(select(Dispatch))
    ]
    agencies = {a.id: _agency(a) for a in session.exec(select(AgencyRow))}
    return build_forwarding_graph(
        [_domain_letter(r) for r in rows.values()],
        links,
        receipts,
        dispatches,
        provinces=provinces,
        placeholders={(r.number, r.date) for r in rows.values() if r.known_only_by_citation},
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

    A number can name several letters (running numbers restart every calendar year). Where it
    does, and only there, the entries that name it also carry its date: `from_date` / `to_date`
    on an edge, `letter_date` on a receipt; every other entry keeps exactly its usual fields.
    """
    graph = forwarding_graph(session)
    letters: dict[Node, dict[str, Any]] = {}
    for node, data in graph.nodes(data=True):
        if data.get("type") != "letter":
            continue
        letters[node] = {
            "number": data["number"],
            "aliases": sorted(data["aliases"]),
            "date": _iso(data["date"]),
            "issuer": data["issuer"],
            "circular": bool(data["circular"]),
            "known_only_by_citation": bool(data["known_only_by_citation"]),
        }
    shared = Counter(item["number"] for item in letters.values())

    def key(node: Node) -> tuple[str, str]:
        return (letters[node]["date"] or "", node[1])

    def dated(entry: dict[str, Any], field: str, node: Node) -> None:
        if shared[node[1]] > 1:
            entry[field] = letters[node]["date"]

    edges: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    receipts: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    for u, v, data in graph.edges(data=True):
        if u[0] == "letter" and v[0] == "letter":
            edge = {"from": u[1], "to": v[1], "kind": data["kind"]}
            dated(edge, "from_date", u)
            dated(edge, "to_date", v)
            edges.append(((key(u), key(v), data["kind"]), edge))
        elif data.get("kind") == "received":
            receipt = {
                "letter": u[1],
                "agency": v[1],
                "number": data["number"],
                "date": _iso(data["date"]),
                "time": _hhmm(data["time"]),
            }
            dated(receipt, "letter_date", u)
            receipts.append(((key(u), receipt["date"] or "", receipt["number"] or "", v[1]), receipt))
    return {
        "letters": [letters[node] for node in sorted(letters, key=key)],
        "edges": [edge for _, edge in sorted(edges, key=lambda item: item[0])],
        "receipts": [receipt for _, receipt in sorted(receipts, key=lambda item: item[0])],
    }


def letter_detail(
    session: Session, number: str, *, on: date | None = None, year: int | None = None
) -> dict[str, Any]:
    """Everything known about one letter, found by any printed form of its number.

    `on` (its date) or `year` (Gregorian) picks one when the number names several letters;
    without them such a number raises `AmbiguousLetter`, listing the candidates, rather than
    showing one of them as if it were the only one.
    """
    try:
        rows = lookup_letters(session, number, on, year=year)
    except ValueError as exc:
        raise LetterNotFound(f"not a letter number: {number!r} ({exc})") from None
    if not rows:
        when = f" of {on.isoformat()}" if on is not None else f" of {year}" if year is not None else ""
        raise LetterNotFound(f"no letter {number!r}{when} in the record")
    if len(rows) > 1:
        raise AmbiguousLetter(number, [(r.number, r.date, r.known_only_by_citation) for r in rows])
    row = rows[0]
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
        "same_number_on": [r.date.isoformat() for r in find_letters(session, row.number) if r.id != row.id],
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
        # What reading its file flagged (a receipt before the letter, a deadline not tracked).
        "reading_notes": [{"line": n.line, "note": n.text} for n in reading_notes(session, row)],
    }
