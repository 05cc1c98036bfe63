"""The forwarding graph: which letter carried which, who sent it, who received it.

Nodes are `('letter', number, date)` for letters (canonical number and ISO date, `''` when a
citation gave no date), `('agency', id)` for agencies and `('group', '<level>:<within>')` for
recipients named as a group that was not expanded. A letter is its number *and* its date: running
numbers restart every calendar year, so `นร 1200/ว 0018` of 2020-06-18 and of 2021-03-02 are two
letters and two nodes. Edges of the `networkx.MultiDiGraph`, keyed by their `kind`:

- letter -> letter, `references` / `encloses`: from the earlier (cited) letter to the later one
  that carries it;
- agency -> letter, `sent`: the issuer (from the number's code) or a recorded dispatch;
- letter -> agency, `received`: a receipt stamp (ตรารับ) or a clerk's receipt;
- letter -> agency or group, `addressed`: the salutation (เรียน ...).

Groups: `ผู้ว่าราชการจังหวัดทุกจังหวัด` (every province) is expanded into one `addressed` edge per
province agency when the caller passes `provinces`; otherwise, and for groups inside one agency
(every district of Phrae), a single group node stands for them, since the record does not list
every district office and local body.

Examples:
    >>> from models.letters import Letter, SourceRef, Citation
    >>> src = SourceRef(file="f.txt", line=1)
    >>> a = Letter(number="มท ๐๘๑๒/ว ๑๔๓๔", date="14 พฤษภาคม 2563", source=src)
    >>> b = Letter(number="พร ๐๐๒๓.๑/ว ๓๐๒๖", date="23 มิถุนายน 2563", source=src,
    ...            enclosures=(Citation(number="มท ๐๘๑๒/ว ๑๔๓๔", date="14 พฤษภาคม 2563", text=""),))
    >>> g = build_forwarding_graph([a, b])
    >>> d1434, d3026 = date(2020, 5, 14), date(2020, 6, 23)
    >>> g.has_edge(letter_node("มท 0812/ว 1434", d1434), letter_node("พร 0023.1/ว 3026", d3026), key="encloses")
    True
    >>> g.has_edge(("agency", "dla"), ("letter", "มท 0812/ว 1434", "2020-05-14"), key="sent")
    True
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time
from typing import Any

import networkx as nx

from models.letters import Agency, Citation, Letter, Level, ReceiptStamp
from routing.agencies import recognise_addressees, recognise_name, recognise_number
from routing.citations import KnownLetter, ResolutionStatus, resolve_number

Node = tuple[str, ...]
# A letter's identity: canonical number and date (None: cited without a date we could read).
LetterKey = tuple[str, date | None]
CITATION_KINDS = ("references", "encloses")


class ChainError(ValueError):
    """Inputs that cannot form a forwarding graph (a link naming a letter that is not given)."""


@dataclass(frozen=True)
class Link:
    """A resolved citation: letter `source` (earlier) is carried by letter `target` (later).

    The dates say which letter a number means; without one, the number must name a single letter.
    """

    source: str
    target: str
    kind: str
    source_date: date | None = None
    target_date: date | None = None


@dataclass(frozen=True)
class ReceiptLink:
    """A recorded receipt of letter `letter` by agency `agency` (None when not recognised)."""

    letter: str
    agency: str | None
    registry: str
    number: str | None
    date: date | None
    time: time | None = None
    letter_date: dt.date | None = None  # `date` is the receipt's own field here


@dataclass(frozen=True)
class DispatchLink:
    """A recorded dispatch of letter `letter` by agency `sender` down to `level`."""

    letter: str
    sender: str
    sent_on: date
    level: Level = Level.UNKNOWN
    letter_date: date | None = None


def letter_node(number: str, on: date | None) -> Node:
    """The node of letter `number` dated `on` (None when only an undated citation names it).

    >>> letter_node("นร 1200/ว 0018", date(2021, 3, 2))
    ('letter', 'นร 1200/ว 0018', '2021-03-02')
    """
    return ("letter", number, on.isoformat() if on is not None else "")


def letter_key(node: Node) -> LetterKey:
    """The (number, date) of a letter node.

    >>> letter_key(("letter", "นร 1200/ว 0018", "2020-06-18"))
    ('นร 1200/ว 0018', datetime.date(2020, 6, 18))
    """
    if len(node) != 3 or node[0] != "letter":
        raise ChainError(f"not a letter node: {node!r}")
    return node[1], date.fromisoformat(node[2]) if node[2] else None


def agency_node(agency_id: str) -> Node:
    return ("agency", agency_id)


def group_node(level: Level, within: str | None) -> Node:
    return ("group", f"{level.value}:{within or '*'}")


def issuer_agency(letter: Letter) -> Agency:
    """The issuing agency, from the number's code and owner prefix (always an agency).

    >>> from models.letters import SourceRef
    >>> issuer_agency(Letter(number="นร 1220/55", date="2020-05-27", source=SourceRef(file="f", line=1))).id
    'opdc'
    """
    return recognise_number(letter.number)


def receipt_agency(stamp: ReceiptStamp, letter: Letter) -> Agency | None:
    """The agency that stamped a receipt: the stamp's own agency text if recognised, else the
    single concrete agency the salutation names, else None (a group salutation, an unknown unit).

    >>> from models.letters import SourceRef
    >>> L = Letter(number="นร 1220/55", date="2020-05-27", salutation="ปลัดกระทรวงมหาดไทย",
    ...            source=SourceRef(file="f", line=1))
    >>> receipt_agency(ReceiptStamp(number="782", date="2020-05-29", agency="กลุ่มงานพัฒนาระบบบริหาร"), L).id
    'moi'
    >>> receipt_agency(ReceiptStamp(number="1515", date="2020-06-02", agency="จังหวัดระยอง"), L).id
    'province:21'
    """
    if stamp.agency:
        found = recognise_name(stamp.agency)
        if found is not None:
            return found
    if letter.salutation:
        concrete = [
            a.agency
            for a in recognise_addressees(letter.salutation, sender=issuer_agency(letter))
            if a.agency is not None and not a.agency.id.startswith("agency:")
        ]
        if len(concrete) == 1:
            return concrete[0]
    return None


def _citations(letter: Letter) -> Iterable[tuple[Citation, str]]:
    for c in letter.references:
        yield c, "references"
    for c in letter.enclosures:
        yield c, "encloses"


def _iso(on: date | None) -> str:
    return on.isoformat() if on is not None else ""


def _link_order(link: Link) -> tuple[str, str, str, str, str]:
    return (link.source, _iso(link.source_date), link.target, _iso(link.target_date), link.kind)


def resolve_links(
    letters: Sequence[Letter],
) -> tuple[list[Link], dict[LetterKey, list[str]], set[LetterKey]]:
    """Resolve every citation of `letters` against the letters themselves (OCR-tolerant).

    Returns the links (dated at both ends), the aliases found per kept letter (number, date), and
    the letters known only by citation. A citation matches only a letter of its own date and code
    (`routing.citations.resolve_number`). Order of `letters` does not matter.
    """
    known: dict[LetterKey, KnownLetter] = {}
    for letter in letters:
        key: LetterKey = (letter.number.canonical, letter.date)
        known.setdefault(key, KnownLetter(key, letter.number, letter.date))
    real = list(known.values())
    links: set[Link] = set()
    aliases: dict[LetterKey, set[str]] = {}
    placeholders: set[LetterKey] = set()
    for letter in letters:
        for citation, kind in _citations(letter):
            if citation.number is None or citation.date is None:
                continue
            resolution = resolve_number(citation.number, citation.date, real)
            target: LetterKey
            if resolution.status in (ResolutionStatus.EXACT, ResolutionStatus.TOLERANT) and resolution.match:
                target = (resolution.match.number.canonical, resolution.match.date)
                if resolution.status is ResolutionStatus.TOLERANT:
                    aliases.setdefault(target, set()).add(citation.number.canonical)
            else:
                target = (citation.number.canonical, citation.date)
                placeholders.add(target)
            links.add(Link(target[0], letter.number.canonical, kind, target[1], letter.date))
    return (
        sorted(links, key=_link_order),
        {k: sorted(v) for k, v in aliases.items()},
        placeholders,
    )


def _add_agency(graph: nx.MultiDiGraph, agency: Agency) -> Node:
    node = agency_node(agency.id)
    if node not in graph:
        graph.add_node(node, type="agency", id=agency.id, name_th=agency.name_th, level=agency.level.value)
    return node


def build_forwarding_graph(
    letters: Iterable[Letter],
    citations: Iterable[Link] | None = None,
    receipts: Iterable[ReceiptLink] | None = None,
    dispatches: Iterable[DispatchLink] = (),
    *,
    provinces: Sequence[Agency] = (),
    placeholders: Collection[LetterKey] = (),
    aliases: Mapping[LetterKey, Sequence[str]] | None = None,
    agencies: Mapping[str, Agency] | None = None,
) -> nx.MultiDiGraph:
    """Build the forwarding graph of `letters` (see the module docstring for nodes and edges).

    Args:
        letters: the letters, placeholders included (their (number, date) listed in `placeholders`);
            readings of one letter (same number and date) are one node.
        citations: resolved letter-to-letter links; None resolves the letters' own citations
            with `resolve_links` (placeholders and aliases are then found here).
        receipts: recorded receipts; None reads the letters' receipt stamps.
        dispatches: recorded dispatches, added as `sent` edges.
        provinces: the province agencies a "every province" salutation expands to.
        placeholders: (number, date) of the letters known only by citation.
        aliases: other printed numbers of each letter (by number and date), stored on its node.
        agencies: known agencies by id, for names and levels of ids in receipts and dispatches.

    A link, receipt or dispatch without a letter date names the single letter of that number;
    when several letters share it, `ChainError` asks for the date rather than picking one.
    """
    letter_list = list(letters)
    alias_map: dict[LetterKey, list[str]] = {k: list(v) for k, v in (aliases or {}).items()}
    placeholder_set = set(placeholders)
    if citations is None:
        links, found_aliases, found_placeholders = resolve_links(letter_list)
        for kept, more in found_aliases.items():
            alias_map[kept] = sorted(set(alias_map.get(kept, [])) | set(more))
        placeholder_set |= found_placeholders
    else:
        links = list(citations)
    known = agencies or {}

    graph = nx.MultiDiGraph()
    dated: dict[str, set[Node]] = {}  # number -> its letter nodes, to place undated references

    def find(number: str, on: date | None, what: str) -> Node:
        if on is not None:
            return letter_node(number, on)
        nodes = sorted(dated.get(number, ()))
        if len(nodes) > 1:
            dates = ", ".join(n[2] or "undated" for n in nodes)
            raise ChainError(
                f"{what} names letter {number!r} without a date, and {len(nodes)} letters have that "
                f"number ({dates}): give the letter's date"
            )
        return nodes[0] if nodes else letter_node(number, None)

    for letter in letter_list:
        number = letter.number.canonical
        key: LetterKey = (number, letter.date)
        node = letter_node(number, letter.date)
        if node in graph:
            continue
        dated.setdefault(number, set()).add(node)
        issuer = issuer_agency(letter)
        graph.add_node(
            node,
            type="letter",
            number=number,
            date=letter.date,
            circular=letter.circular,
            urgency=letter.urgency.value if letter.urgency else None,
            issuer=issuer.id,
            subject=letter.subject,
            aliases=tuple(alias_map.get(key, ())),
            known_only_by_citation=key in placeholder_set,
        )
        graph.add_edge(_add_agency(graph, issuer), node, key="sent", kind="sent", on=letter.date)
        if key not in placeholder_set and letter.salutation:
            _add_addressees(graph, node, letter, issuer, provinces)

    for link in sorted(links, key=_link_order):
        if link.kind not in CITATION_KINDS:
            raise ChainError(f"unknown link kind {link.kind!r} (expected references or encloses)")
        target = find(link.target, link.target_date, "link")
        if target not in graph:
            raise ChainError(f"link names letter {link.target!r}, which is not among the letters")
        source = find(link.source, link.source_date, "link")
        if source not in graph:
            # A cited letter nobody gave us: keep it as known only by citation, not dropped.
            dated.setdefault(link.source, set()).add(source)
            graph.add_node(source, type="letter", number=link.source, date=link.source_date,
                           circular=False, urgency=None, issuer=None, subject=None, aliases=(),
                           known_only_by_citation=True)  # fmt: skip
        graph.add_edge(source, target, key=link.kind, kind=link.kind)

    # Every reading's stamps: two copies of one letter may carry different receipts.
    receipt_links = list(receipts) if receipts is not None else list(_stamp_receipts(letter_list))
    for r in receipt_links:
        node = find(r.letter, r.letter_date, "receipt")
        if node not in graph:
            raise ChainError(f"receipt names letter {r.letter!r}, which is not among the letters")
        agency = known.get(r.agency) if r.agency else None
        if agency is None:
            agency = Agency(id=r.agency or f"agency:{r.registry}", name_th=r.registry)
        graph.add_edge(
            node,
            _add_agency(graph, agency),
            key=f"received:{r.registry}:{r.number}:{r.date}",
            kind="received",
            registry=r.registry,
            number=r.number,
            date=r.date,
            time=r.time,
        )

    for d in dispatches:
        node = find(d.letter, d.letter_date, "dispatch")
        if node not in graph:
            raise ChainError(f"dispatch names letter {d.letter!r}, which is not among the letters")
        sender = known.get(d.sender) or Agency(id=d.sender, name_th=d.sender)
        graph.add_edge(_add_agency(graph, sender), node, key=f"sent:{d.sent_on}", kind="sent", on=d.sent_on,
                       level=d.level.value)  # fmt: skip
    return graph


def _stamp_receipts(letters: Iterable[Letter]) -> Iterable[ReceiptLink]:
    for letter in letters:
        for stamp in letter.receipts:
            agency = receipt_agency(stamp, letter)
            registry = stamp.agency or (agency.id if agency else "unknown")
            yield ReceiptLink(
                letter.number.canonical,
                agency.id if agency else None,
                registry,
                stamp.number,
                stamp.date,
                stamp.time,
                letter_date=letter.date,
            )


def _add_addressees(
    graph: nx.MultiDiGraph, node: Node, letter: Letter, issuer: Agency, provinces: Sequence[Agency]
) -> None:
    for addressee in recognise_addressees(letter.salutation or "", sender=issuer):
        if addressee.agency is not None:
            graph.add_edge(node, _add_agency(graph, addressee.agency), key="addressed", kind="addressed")
        elif addressee.group is Level.PROVINCE and addressee.within is None and provinces:
            for province in provinces:
                graph.add_edge(node, _add_agency(graph, province), key="addressed", kind="addressed")
        elif addressee.group is not None:
            group = group_node(addressee.group, addressee.within)
            if group not in graph:
                graph.add_node(group, type="group", level=addressee.group.value, within=addressee.within,
                               text=addressee.text)  # fmt: skip
            graph.add_edge(node, group, key="addressed", kind="addressed")


def letter_edges(graph: nx.MultiDiGraph) -> list[tuple[str, str, str]]:
    """The letter-to-letter edges as (earlier number, later number, kind), sorted.

    Numbers only: when numbers repeat across years, `letter_links` tells the letters apart.
    """
    return sorted((u[1], v[1], kind) for u, v, kind in letter_links(graph))


def letter_links(graph: nx.MultiDiGraph) -> list[tuple[Node, Node, str]]:
    """The letter-to-letter edges as (earlier node, later node, kind), sorted."""
    out: list[tuple[Node, Node, str]] = []
    for u, v, kind in graph.edges(keys=True):
        if u[0] == "letter" and v[0] == "letter":
            out.append((u, v, kind))
    return sorted(out)


def number_of(node: Node) -> str:
    """The letter number of a letter node (its date is `letter_key(node)[1]`).

    >>> number_of(("letter", "มท 0218/ว 3182", "2020-06-01"))
    'มท 0218/ว 3182'
    """
    return letter_key(node)[0]


def node_attributes(graph: nx.MultiDiGraph, node: Node) -> dict[str, Any]:
    """A copy of a node's attributes (so callers cannot mutate the graph through it)."""
    return dict(graph.nodes[node])
