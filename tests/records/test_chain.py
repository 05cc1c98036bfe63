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
    AmbiguousLetter,
    LetterNotFound,
    assign_circulars,
    chain_json,
    circular_slug,
    forwarding_graph,
    letter_detail,
)
from records.events import verify_chain
from routing.chain import letter_node

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
    assert graph.has_edge(("agency", "opdc"), letter_node("นร 1220/55", date(2020, 5, 27)), key="sent")
    received = graph.out_edges(letter_node("มท 0218/ว 3182", date(2020, 6, 1)), keys=True)
    assert any(v == ("agency", "province:21") for _, v, k in received if k.startswith("received"))
    phrae = letter_node("พร 0023.1/ว 3026", date(2020, 6, 23))
    assert graph.has_edge(phrae, ("group", "district:province:54"), key="addressed")


# The seed's นร ๑๒๐๐/ว๐๐๑๘ of 18 June 2020, numbered again in March 2021 (another letter).
NEXT_YEAR = """ด่วนที่สุด

ที่ นร ๑๒๐๐/ว๐๐๑๘

ศาลากลางจังหวัดนนทบุรี
เลขรับที่ 000321
รับวันที่ ๕ มี.ค. ๒๕๖๔
เวลา ๑๐.๓๐

สำนักงาน ก.พ.ร.
ถนนพิษณุโลก กรุงเทพฯ ๑๐๓๐๐

๒ มีนาคม ๒๕๖๔

เรื่อง การติดตามผลการดำเนินการตามแผนดำเนินธุรกิจอย่างต่อเนื่อง

เรียน ผู้ว่าราชการจังหวัดนนทบุรี

อ้างถึง หนังสือสำนักงาน ก.พ.ร. ที่ นร ๑๒๐๐/ว๐๐๐๒ ลงวันที่ ๑๕ มกราคม ๒๕๖๔

ตามหนังสือที่อ้างถึง สำนักงาน ก.พ.ร. ขอให้จังหวัดรายงานผล

จึงเรียนมาเพื่อโปรดพิจารณา

ขอแสดงความนับถือ

(นางสาววิริยา เนตรน้อย)

เลขาธิการ ก.พ.ร.
"""


def test_a_seed_number_repeated_next_year_stays_two_letters(
    engine: Engine, seed_files: list[Path], tmp_path: Path
) -> None:
    again = tmp_path / "next_year.txt"
    again.write_text(NEXT_YEAR, encoding="utf-8")
    chain = _ingest_all(engine, [*seed_files, again])
    o18 = [i for i in chain["letters"] if i["number"] == "นร 1200/ว 0018"]
    assert [(i["date"], i["known_only_by_citation"]) for i in o18] == [
        ("2020-06-18", False),
        ("2021-03-02", False),
    ]
    edges = [e for e in chain["edges"] if e["to"] == "นร 1200/ว 0018"]
    assert {(e["from"], e["to_date"]) for e in edges} == {
        ("นร 1200/ว 0013", "2020-06-18"),
        ("มท 0812/ว 1434", "2020-06-18"),
        ("นร 1200/ว 0002", "2021-03-02"),
    }
    receipts = {(r["number"], r["letter_date"]) for r in chain["receipts"] if r["letter"] == "นร 1200/ว 0018"}
    assert ("011099", "2020-06-18") in receipts and ("000321", "2021-03-02") in receipts
    with session_scope(engine) as s:
        graph = forwarding_graph(s)
        with pytest.raises(AmbiguousLetter) as info:
            letter_detail(s, "นร ๑๒๐๐/ว๐๐๑๘")
        assert [c[1] for c in info.value.candidates] == [date(2020, 6, 18), date(2021, 3, 2)]
        old = letter_detail(s, "นร 1200/ว 0018", on=date(2020, 6, 18))
        new = letter_detail(s, "นร 1200/ว 0018", year=2021)
        with pytest.raises(LetterNotFound, match="of 2019"):
            letter_detail(s, "นร 1200/ว 0018", year=2019)
        assert verify_chain(s).ok
    assert graph.has_node(letter_node("นร 1200/ว 0018", date(2021, 3, 2)))
    assert (old["date"], old["same_number_on"]) == ("2020-06-18", ["2021-03-02"])
    assert "011099" in {r["number"] for r in old["receipts"]}
    assert [r["number"] for r in new["receipts"]] == ["000321"]
    assert [c["number"] for c in new["cites"]] == ["นร 1200/ว 0002"]


def test_saraban_letter_asks_which_when_a_number_repeats(
    engine: Engine, seed_files: list[Path], tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    again = tmp_path / "next_year.txt"
    again.write_text(NEXT_YEAR, encoding="utf-8")
    _ingest_all(engine, [*seed_files, again])
    env = {"SARABAN_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    runner = CliRunner()
    asked = runner.invoke(app, ["letter", "นร ๑๒๐๐/ว๐๐๑๘"], env=env)
    assert asked.exit_code == 2 and asked.stdout == ""
    assert asked.stderr.startswith("error: 2 letters on record go by 'นร ๑๒๐๐/ว๐๐๑๘'")
    assert "give --date or --year" in asked.stderr
    assert "นร 1200/ว 0018 of 2020-06-18 (on file)" in asked.stderr
    assert "นร 1200/ว 0018 of 2021-03-02 (on file)" in asked.stderr
    for option in (["--year", "2564"], ["--year", "๒๕๖๔"], ["--year", "2021"], ["--date", "2021-03-02"],
                   ["--date", "๒ มี.ค. ๒๕๖๔"]):  # fmt: skip
        shown = runner.invoke(app, ["letter", "นร 1200/ว 0018", *option, "--json"], env=env)
        assert shown.exit_code == 0, (option, shown.output)
        assert json.loads(shown.stdout)["date"] == "2021-03-02"
    unique = runner.invoke(app, ["letter", "นร 1220/85"], env=env)
    assert unique.exit_code == 0 and "นร 1220/55" in unique.stdout
    for option, message in (
        (["--year", "1563"], "neither a Buddhist-era year"),
        (["--year", "2563", "--date", "2021-03-02"], "is not in --year"),
        (["--year", "2019"], "no letter 'นร 1200/ว 0018' of 2019"),
    ):
        bad = runner.invoke(app, ["letter", "นร 1200/ว 0018", *option], env=env)
        assert bad.exit_code == 2 and message in bad.stderr, (option, bad.stderr)
