"""Who holds which letter of a circular (หนังสือที่มีอยู่ในมือ): one rule for the whole product.

An agency holds a letter when it stamped a receipt on it (ตรารับ) or when one of its own letters
encloses or cites it (สิ่งที่ส่งมาด้วย, อ้างถึง). Two questions are answered from that rule:

- `Holdings.on_edge(u, v)`: the letters the diagrams and the dashboard show on the edge u -> v (the
  letters of u that v holds, else all of u's letters; see `records.views`);
- `Holdings.handed_on(u, addressees)`: the one letter u's dispatch hands on when a route is planned
  (`records.progress`): the newest of u's letters that its addressees hold, else its earliest.
  DLA sent ว 1217 on 20 April and ว 1434 on 14 May; Phrae's letter encloses both, so DLA's
  dispatch hands on ว 1434 (the dispatch still happened on the earliest letter's date).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session, col, select

from models.tables import CitationRow, LetterRow, Merge, Receipt
from visualize.model import Evidence

CITATION_KIND_TH = {"encloses": "สิ่งที่ส่งมาด้วย", "references": "อ้างถึง"}


def _key(row: LetterRow) -> tuple[date, str]:
    return (row.date, row.number)


@dataclass(frozen=True)
class Holdings:
    """The letters of one circular: who issued each, who holds each (หนังสือที่มีอยู่ในมือ).

    `issued[a]`: letters agency `a` issued, in date order; `receipts[a]`: its receipt stamps on
    the circular's letters; `citations[a]`: the citations its own letters make of the circular's
    letters (what it encloses or refers to); `merges[letter id]`: other printings merged into it.
    """

    letters: Mapping[int, LetterRow]
    issued: Mapping[str, tuple[LetterRow, ...]]
    receipts: Mapping[str, tuple[Receipt, ...]]
    citations: Mapping[str, tuple[CitationRow, ...]]
    merges: Mapping[int, tuple[Merge, ...]]
    _held: dict[str, frozenset[int]] = field(default_factory=dict, repr=False, compare=False)

    def held_by(self, agency: str) -> frozenset[int]:
        """Ids of the letters `agency` holds: it stamped a receipt on them, or its letters carry them."""
        held = self._held.get(agency)
        if held is None:
            held = frozenset(r.letter_id for r in self.receipts.get(agency, ())) | frozenset(
                c.cited_letter_id for c in self.citations.get(agency, ())
            )
            self._held[agency] = held
        return held

    def on_edge(self, sender: str, recipient: str) -> tuple[LetterRow, ...]:
        """The letters shown on the edge sender -> recipient (agency ids), in date order: the
        sender's letters the recipient holds, else all the sender's letters, else none (see the
        module docstring)."""
        mine = self.issued.get(sender, ())
        held = self.held_by(recipient)
        return tuple(row for row in mine if row.id in held) or mine

    def handed_on(self, sender: str, addressees: Iterable[str]) -> LetterRow | None:
        """The letter `sender`'s dispatch hands on: the newest of its letters that any of
        `addressees` holds, else its earliest; None when it issued no letter in the circular."""
        mine = self.issued.get(sender, ())
        if not mine:
            return None
        held = frozenset().union(*(self.held_by(a) for a in addressees))
        return max((row for row in mine if row.id in held), key=_key, default=mine[0])

    def evidence(self, letters: Iterable[LetterRow], recipient: str) -> tuple[Evidence, ...]:
        """Why `recipient` is believed to have `letters`: where each was read, its receipt stamps
        on them, its letters carrying them, and the merges of their misread numbers."""
        out: dict[Evidence, None] = {}
        for letter in letters:
            if letter.known_only_by_citation:
                text = f"{letter.number} ({letter.date.isoformat()}): known only by citation"
                out[Evidence("citation", text, letter.source_file, letter.source_line)] = None
            else:
                text = f"{letter.number} ({letter.date.isoformat()})"
                out[Evidence("file", text, letter.source_file, letter.source_line)] = None
            for r in self.receipts.get(recipient, ()):
                if r.letter_id == letter.id:
                    text = f"เลขรับ {r.number or '-'} {r.date.isoformat() if r.date else ''} ({letter.number})"
                    out[Evidence("receipt", " ".join(text.split()), r.source_file, r.source_line)] = None
            for c in self.citations.get(recipient, ()):
                if c.cited_letter_id == letter.id:
                    citing = self.letters[c.citing_letter_id]
                    kind = CITATION_KIND_TH.get(c.kind, c.kind)
                    text = f"{citing.number} {kind} {letter.number}"
                    out[Evidence("citation", text, citing.source_file, c.source_line)] = None
            for m in self.merges.get(letter.id or -1, ()):
                out[Evidence("merge", f"{m.alias} = {letter.number}: {m.reason}")] = None
        return tuple(out)


def read_holdings(session: Session, circular_id: str) -> Holdings:
    """Who issued and who holds which letters of a circular, from the record (four queries)."""
    letters = {
        r.id: r
        for r in session.exec(select(LetterRow).where(LetterRow.circular_id == circular_id))
        if r.id is not None
    }
    ids = list(letters)
    issued: dict[str, list[LetterRow]] = defaultdict(list)
    for row in sorted(letters.values(), key=_key):
        if row.issuer_id:
            issued[row.issuer_id].append(row)
    receipts: dict[str, list[Receipt]] = defaultdict(list)
    # A voided receipt (`registry.void_receipt`) stays in the register but is no evidence of receipt.
    stamps = select(Receipt).where(col(Receipt.letter_id).in_(ids), col(Receipt.voided_at).is_(None))
    for r in session.exec(stamps.order_by(col(Receipt.date), col(Receipt.id))):
        if r.agency_id:
            receipts[r.agency_id].append(r)
    citations: dict[str, list[CitationRow]] = defaultdict(list)
    for c in session.exec(select(CitationRow).where(col(CitationRow.citing_letter_id).in_(ids))):
        citing = letters[c.citing_letter_id]
        if citing.issuer_id and c.cited_letter_id in letters:
            citations[citing.issuer_id].append(c)
    merges: dict[int, list[Merge]] = defaultdict(list)
    for m in session.exec(select(Merge).where(col(Merge.kept_letter_id).in_(ids))):
        merges[m.kept_letter_id].append(m)
    return Holdings(
        letters=letters,
        issued={a: tuple(rows) for a, rows in issued.items()},
        receipts={a: tuple(rows) for a, rows in receipts.items()},
        citations={a: tuple(rows) for a, rows in citations.items()},
        merges={i: tuple(rows) for i, rows in merges.items()},
    )
