"""Who holds which letter: one rule behind the diagrams' edges and the letter a dispatch hands on."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from models.db import session_scope
from models.tables import LetterRow
from records import progress
from records.holdings import Holdings, read_holdings
from records.ingest import ingest_files

PHRAE = "province:54"
NOBODY = "province:99"  # an addressee with nothing on file


@pytest.fixture
def holdings(engine: Engine, seed_files: list[Path]) -> Holdings:
    assert all(o.error is None for o in ingest_files(seed_files, engine))
    with session_scope(engine) as session:
        return read_holdings(session, progress.find_circular(session, "มท 0812/ว 1434").id)


def _numbers(rows: Iterable[LetterRow]) -> list[str]:
    return [row.number for row in rows]


def test_what_an_agency_holds_is_its_receipts_and_what_its_letters_carry(holdings: Holdings) -> None:
    # Phrae's letter encloses both of DLA's letters; Interior stamped a receipt on OPDC's นร 1220/55.
    assert _numbers(holdings.letters[i] for i in sorted(holdings.held_by(PHRAE))) == [
        "มท 0812/ว 1217",
        "มท 0812/ว 1434",
    ]
    assert "นร 1220/55" in _numbers(holdings.letters[i] for i in holdings.held_by("moi"))
    assert holdings.held_by(NOBODY) == frozenset()


def test_an_edge_shows_the_letters_its_recipient_holds_else_all_of_the_senders(holdings: Holdings) -> None:
    assert _numbers(holdings.on_edge("opdc", "moi")) == ["นร 1220/55"]
    assert _numbers(holdings.on_edge("dla", PHRAE)) == ["มท 0812/ว 1217", "มท 0812/ว 1434"]
    assert _numbers(holdings.on_edge("dla", NOBODY)) == ["มท 0812/ว 1217", "มท 0812/ว 1434"]
    assert holdings.on_edge(NOBODY, "dla") == ()  # no letter on file: the edge carries none


def test_a_dispatch_hands_on_the_newest_letter_its_addressees_hold_else_the_earliest(
    holdings: Holdings,
) -> None:
    def handed(sender: str, *addressees: str) -> str | None:
        letter = holdings.handed_on(sender, addressees)
        return None if letter is None else letter.number

    assert handed("dla", PHRAE) == "มท 0812/ว 1434"  # of 14 May, not ว 1217 of 20 April
    assert handed("dla", NOBODY) == "มท 0812/ว 1217"  # nobody holds one: the earliest
    assert handed("opdc", "moi") == "นร 1220/55"
    # Any addressee's holding counts; the newest of them is handed on.
    assert handed("opdc", "moi", "province:12") == "นร 1200/ว 0018"
    assert handed("opdc") == "นร 1200/ว 0012"  # no addressees at all
    assert handed(NOBODY, "moi") is None
