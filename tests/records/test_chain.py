"""The recorded chain against the seeds' expected.json `chain` section, in any ingest order."""

from __future__ import annotations

import itertools
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

from models.db import get_engine, init_db, session_scope
from models.numbering import parse_letter_number
from records.chain import (
    LetterNotFound,
    assign_circulars,
    chain_json,
    circular_slug,
    forwarding_graph,
    letter_detail,
)
from records.events import verify_chain

pytest.importorskip("models.parser")
from records.ingest import ingest_file


def _ingest_all(engine: Engine, paths: list[Path]) -> dict[str, Any]:
    for path in paths:
        ingest_file(path, engine)
    with session_scope(engine) as s:
        return chain_json(s)


def _resolver(chain: dict[str, Any]) -> dict[str, str]:
    """Every name a letter goes by (number, aliases, their unrepaired forms) -> its number."""
    names: dict[str, str] = {}
    for item in chain["letters"]:
        for name in [item["number"], *item["aliases"]]:
            assert names.setdefault(name, item["number"]) == item["number"], f"{name} names two letters"
    return names


def _name(names: dict[str, str], printed: str) -> str:
    for form in (
        printed,
        parse_letter_number(printed).canonical,
        parse_letter_number(printed, repair=False).canonical,
    ):
        if form in names:
            return names[form]
    raise AssertionError(f"{printed} is not in the chain")


@pytest.fixture
def expected(seeds_dir: Path) -> dict[str, Any]:
    return json.loads((seeds_dir / "expected.json").read_text(encoding="utf-8"))


def test_seed_chain_holds_every_expected_edge_and_merge(
    engine: Engine, seed_files: list[Path], expected: dict[str, Any]
) -> None:
    chain = _ingest_all(engine, seed_files)
    names = _resolver(chain)
    edges = {(e["from"], e["to"], e["kind"]) for e in chain["edges"]}
    for earlier, later, kind in expected["chain"]["edges"]:
        assert (_name(names, earlier), _name(names, later), kind) in edges, (earlier, later, kind)
    for a, b in expected["chain"]["same_letter"]:
        assert _name(names, a) == _name(names, b), (a, b)


def test_seed_chain_merges_no_two_real_letters(
    engine: Engine, seed_files: list[Path], expected: dict[str, Any]
) -> None:
    chain = _ingest_all(engine, seed_files)
    names = _resolver(chain)
    real_numbers = []
    for letters in expected["files"].values():
        for letter in letters:
            number = letter["number"]
            real_numbers.append(_name(names, number[0] if isinstance(number, list) else number))
    assert len(real_numbers) == len(set(real_numbers)), "two letters on file became one"
    by_number = {item["number"]: item for item in chain["letters"]}
    for number in real_numbers:
        assert not by_number[number]["known_only_by_citation"]
    # Nothing else was merged: every alias is an OCR reading of its letter (same code, owner).
    for item in chain["letters"]:
        own = parse_letter_number(item["number"], repair=False)
        for alias in item["aliases"]:
            other = parse_letter_number(alias, repair=False)
            assert (other.code, other.owner) == (own.code, own.owner)
    with session_scope(engine) as s:
        assert verify_chain(s).ok


def test_seed_receipts_are_recorded(engine: Engine, seed_files: list[Path], expected: dict[str, Any]) -> None:
    chain = _ingest_all(engine, seed_files)
    names = _resolver(chain)
    got = {(r["letter"], r["number"], r["date"]) for r in chain["receipts"]}
    for letters in expected["files"].values():
        for letter in letters:
            number = letter["number"]
            kept = _name(names, number[0] if isinstance(number, list) else number)
            for receipt in letter["receipts"]:
                assert (kept, receipt["number"], receipt["date"]) in got


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_seed_chain_is_the_same_in_any_order(
    order: tuple[int, ...], seed_files: list[Path], tmp_path: Path, db_url: str
) -> None:
    engine = get_engine(db_url)
    init_db(engine)
    reference = get_engine(f"sqlite:///{tmp_path}/reference.db")
    init_db(reference)
    shuffled = [seed_files[i] for i in order]
    assert _ingest_all(engine, shuffled) == _ingest_all(reference, seed_files)
    with session_scope(engine) as s:
        circulars = assign_circulars(s, actor="tester")
    with session_scope(reference) as s:
        assert assign_circulars(s, actor="tester") == circulars
    assert list(circulars) == [
        circular_slug("นร 1220/55", date(2020, 5, 27))
    ]  # one cascade, earliest real root


def test_letter_detail_finds_any_printing(engine: Engine, seed_files: list[Path]) -> None:
    _ingest_all(engine, seed_files)
    with session_scope(engine) as s:
        by_alias = letter_detail(s, "นร ๑๒๒๐/๘๕")
        by_number = letter_detail(s, "นร 1220/55")
        with pytest.raises(LetterNotFound):
            letter_detail(s, "นร 9999/1")
    assert by_alias == by_number
    assert by_alias["number"] == "นร 1220/55"
    assert any("๕/๘" in m["reason"] for m in by_alias["merges"])
    assert {r["number"] for r in by_alias["receipts"]} >= {"92093", "782"}
    assert {c["number"] for c in by_alias["cites"]} == {"นร 1200/ว 0012", "นร 1200/ว 0013"}
    assert [c["number"] for c in by_alias["cited_by"]] == ["มท 0218/ว 3182"]
    assert by_alias["source"]["file"].endswith(seed_files[0].name)
    assert by_alias["circular_id"] == circular_slug("นร 1220/55", date(2020, 5, 27))


def test_forwarding_graph_of_the_record(engine: Engine, seed_files: list[Path]) -> None:
    _ingest_all(engine, seed_files)
    with session_scope(engine) as s:
        graph = forwarding_graph(s)
    assert graph.has_edge(("agency", "opdc"), ("letter", "นร 1220/55"), key="sent")
    received = graph.out_edges(("letter", "มท 0218/ว 3182"), keys=True)
    assert any(v == ("agency", "province:21") for _, v, k in received if k.startswith("received"))
    assert graph.has_edge(("letter", "พร 0023.1/ว 3026"), ("group", "district:province:54"), key="addressed")
