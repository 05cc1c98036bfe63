"""The forwarding graph built purely from letters."""

from __future__ import annotations

import random
import subprocess
import sys
from datetime import date

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.letters import Citation, Letter, ReceiptStamp, SourceRef
from routing.agencies import province_agency, province_codes
from routing.chain import (
    ChainError,
    Link,
    ReceiptLink,
    build_forwarding_graph,
    letter_edges,
    letter_key,
    letter_links,
    letter_node,
    resolve_links,
)


def _src(line: int = 1) -> SourceRef:
    return SourceRef(file="sample.txt", line=line)


# The letters of _letters(), by number and date.
COVER = letter_node("มท 0218/ว 3182", date(2020, 6, 1))
ENCLOSED = letter_node("นร 1220/55", date(2020, 5, 27))
PROVINCE = letter_node("พร 0023.1/ว 3026", date(2020, 6, 23))
DLA = letter_node("มท 0812/ว 1434", date(2020, 5, 14))


def _letters() -> list[Letter]:
    cover = Letter(
        number="มท ๐๒๑๘/ว ๓๑๘๒",
        date="๑ มิถุนายน ๒๕๖๓",
        salutation="ผู้ว่าราชการจังหวัดทุกจังหวัด",
        enclosures=(Citation(number="นร ๑๒๒๐/๘๕", date="๒๗ พฤษภาคม ๒๕๖๓", text=""),),
        receipts=(ReceiptStamp(number="1515", date="๒ มิ.ย. ๖๓", time="13.30", agency="จังหวัดระยอง"),),
        source=_src(1),
    )
    enclosed = Letter(
        number="นร ๑๒๒๐/๕๕",
        date="๒๗ พฤษภาคม ๒๕๖๓",
        salutation="ปลัดกระทรวงมหาดไทย",
        references=(Citation(number="นร ๑๒๐๐/ ๖๐๐๑๓", date="๕ พฤษภาคม ๒๕๖๓", text=""),),
        receipts=(ReceiptStamp(number="782", date="29 พ.ค. 2563", agency="กลุ่มงานพัฒนาระบบบริหาร"),),
        source=_src(30),
    )
    province = Letter(
        number="พร ๐๐๒๓.๑/ว ๓๐๒๖",
        date="๒๓ มิถุนายน ๒๕๖๓",
        salutation="นายอำเภอทุกอำเภอ และนายกเทศมนตรีเมืองแพร่",
        enclosures=(Citation(number="มท ๐๘๑๒/ว ๑๔๓๔", date="๑๔ พฤษภาคม ๒๕๖๓", text=""),),
        source=_src(1),
    )
    return [cover, enclosed, province]


def test_edges_run_from_the_earlier_letter_and_merge_ocr_readings() -> None:
    g = build_forwarding_graph(_letters())
    assert letter_edges(g) == sorted(
        [
            ("นร 1220/55", "มท 0218/ว 3182", "encloses"),
            ("นร 1200/ว 0013", "นร 1220/55", "references"),
            ("มท 0812/ว 1434", "พร 0023.1/ว 3026", "encloses"),
        ]
    )
    assert g.nodes[ENCLOSED]["aliases"] == ("นร 1220/85",)
    assert letter_node("นร 1220/85", date(2020, 5, 27)) not in g
    assert g.nodes[DLA]["known_only_by_citation"]


def test_agencies_sent_received_addressed() -> None:
    g = build_forwarding_graph(_letters())
    assert g.has_edge(("agency", "moi"), COVER, key="sent")
    received = [(v, d) for _, v, d in g.out_edges(ENCLOSED, data=True) if d["kind"] == "received"]
    assert [(v, d["number"]) for v, d in received] == [(("agency", "moi"), "782")]
    # A group salutation stays one group node unless the provinces are given ...
    assert g.has_edge(COVER, ("group", "province:*"), key="addressed")
    # ... unknown agencies are kept, not dropped.
    assert g.has_edge(PROVINCE, ("agency", "local:name:เทศบาลเมืองแพร่"), key="addressed")


def test_every_province_expands_against_the_given_provinces() -> None:
    provinces = [province_agency(code) for code in sorted(set(province_codes().values()))]
    g = build_forwarding_graph(_letters(), provinces=provinces)
    addressed = [v for _, v, k in g.out_edges(COVER, keys=True) if k == "addressed"]
    assert len(addressed) == len(provinces) == 77
    assert ("group", "province:*") not in g


@settings(max_examples=25, deadline=None)
@given(st.randoms(use_true_random=False))
def test_order_of_letters_does_not_matter(rnd: random.Random) -> None:
    letters = _letters()
    shuffled = letters[:]
    rnd.shuffle(shuffled)
    a, b = build_forwarding_graph(letters), build_forwarding_graph(shuffled)
    assert letter_edges(a) == letter_edges(b)
    assert dict(a.nodes(data=True)) == dict(b.nodes(data=True))
    assert resolve_links(letters) == resolve_links(shuffled)


def test_inputs_are_not_mutated_and_bad_links_raise() -> None:
    letters = _letters()
    before = [letter.model_dump() for letter in letters]
    links = [Link("นร 1220/55", "มท 0218/ว 3182", "encloses")]
    g = build_forwarding_graph(letters, links)
    assert isinstance(g, nx.MultiDiGraph)
    assert [letter.model_dump() for letter in letters] == before
    with pytest.raises(ChainError):
        build_forwarding_graph(letters, [Link("นร 1220/55", "นร 9/9", "encloses")])
    with pytest.raises(ChainError):
        build_forwarding_graph(letters, [Link("นร 1220/55", "มท 0218/ว 3182", "forwards")])


def test_routing_imports_no_database() -> None:
    code = (
        "import sys, routing.chain, routing.citations; "
        "banned = ('sqlalchemy', 'sqlmodel', 'prefect', 'graphviz'); "
        "bad = [m for m in sys.modules if m.split('.')[0] in banned]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def _next_year() -> list[Letter]:
    """OPDC's ว 0018 of 2020 and another ว 0018 of 2021, each with its own citation and stamp."""
    return [
        Letter(
            number="นร ๑๒๐๐/ว๐๐๑๘",
            date="๑๘ มิถุนายน ๒๕๖๓",
            references=(Citation(number="นร ๑๒๐๐/ว๐๐๑๓", date="๕ พฤษภาคม ๒๕๖๓", text=""),),
            receipts=(ReceiptStamp(number="011099", date="๒๒ มิ.ย. ๒๕๖๓", agency="ศาลากลางจังหวัดนนทบุรี"),),
            source=_src(3),
        ),
        Letter(
            number="นร 1200/ว 0018",
            date="2 มีนาคม 2564",
            references=(Citation(number="นร 1200/ว 0002", date="15 มกราคม 2564", text=""),),
            receipts=(ReceiptStamp(number="321", date="5 มี.ค. 64", agency="ศาลากลางจังหวัดนนทบุรี"),),
            source=_src(3),
        ),
        # A later letter citing the 2021 one, and a citation of the number on a day neither has.
        Letter(
            number="พร 0023.1/ว 100",
            date="10 มีนาคม 2564",
            enclosures=(
                Citation(number="นร 1200/ว 0018", date="2 มีนาคม 2564", text=""),
                Citation(number="นร 1200/ว 0018", date="19 มิถุนายน 2563", text=""),
            ),
            source=_src(1),
        ),
    ]


O18_2020 = letter_node("นร 1200/ว 0018", date(2020, 6, 18))
O18_2021 = letter_node("นร 1200/ว 0018", date(2021, 3, 2))
O18_CITED = letter_node("นร 1200/ว 0018", date(2020, 6, 19))


def test_a_number_repeated_in_another_year_is_another_letter() -> None:
    g = build_forwarding_graph(_next_year())
    assert {O18_2020, O18_2021, O18_CITED} <= set(g)
    assert not g.nodes[O18_2020]["known_only_by_citation"] and not g.nodes[O18_2021]["known_only_by_citation"]
    assert g.nodes[O18_CITED]["known_only_by_citation"]  # a day off: not merged into either
    later = letter_node("พร 0023.1/ว 100", date(2021, 3, 10))
    assert {
        (u, v, k) for u, v, k in letter_links(g) if u[1] == "นร 1200/ว 0018" or v[1] == "นร 1200/ว 0018"
    } == {
        (letter_node("นร 1200/ว 0013", date(2020, 5, 5)), O18_2020, "references"),
        (letter_node("นร 1200/ว 0002", date(2021, 1, 15)), O18_2021, "references"),
        (O18_2021, later, "encloses"),
        (O18_CITED, later, "encloses"),
    }

    def stamps(node: tuple[str, ...]) -> set[str]:
        return {d["number"] for _, _, d in g.out_edges(node, data=True) if d["kind"] == "received"}

    assert stamps(O18_2020) == {"011099"} and stamps(O18_2021) == {"321"}
    assert letter_key(O18_2021) == ("นร 1200/ว 0018", date(2021, 3, 2))


def test_links_and_receipts_without_a_date_must_name_one_letter() -> None:
    letters = _next_year()[:2]
    links = [Link("นร 1200/ว 0013", "นร 1200/ว 0018", "references", date(2020, 5, 5), date(2020, 6, 18))]
    g = build_forwarding_graph(letters, links, receipts=[])
    assert g.has_edge(letter_node("นร 1200/ว 0013", date(2020, 5, 5)), O18_2020, key="references")
    with pytest.raises(ChainError, match=r"without a date, and 2 letters have that number"):
        build_forwarding_graph(letters, [Link("นร 1200/ว 0013", "นร 1200/ว 0018", "references")])
    with pytest.raises(ChainError, match=r"receipt names letter 'นร 1200/ว 0018' without a date"):
        build_forwarding_graph(letters, [], [ReceiptLink("นร 1200/ว 0018", None, "x", "1", date(2021, 3, 5))])
    # One letter of that number: an undated reference names it, as before.
    alone = build_forwarding_graph(letters[:1], [Link("นร 1200/ว 0013", "นร 1200/ว 0018", "references")])
    assert alone.has_edge(letter_node("นร 1200/ว 0013", None), O18_2020, key="references")


@settings(max_examples=25, deadline=None)
@given(st.randoms(use_true_random=False))
def test_order_does_not_matter_with_numbers_repeated_across_years(rnd: random.Random) -> None:
    letters = _letters() + _next_year()
    shuffled = letters[:]
    rnd.shuffle(shuffled)
    a, b = build_forwarding_graph(letters), build_forwarding_graph(shuffled)
    assert letter_links(a) == letter_links(b)
    assert dict(a.nodes(data=True)) == dict(b.nodes(data=True))
    assert sorted(a.edges(keys=True)) == sorted(b.edges(keys=True))
    assert resolve_links(letters) == resolve_links(shuffled)
    # Every letter given is its own node, whatever its number shares with another.
    given_keys = {(x.number.canonical, x.date) for x in letters}
    assert given_keys <= {letter_key(n) for n, d in a.nodes(data=True) if d.get("type") == "letter"}
