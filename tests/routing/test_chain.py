"""The forwarding graph built purely from letters."""

from __future__ import annotations

import random
import subprocess
import sys

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.letters import Citation, Letter, ReceiptStamp, SourceRef
from routing.agencies import province_agency, province_codes
from routing.chain import ChainError, Link, build_forwarding_graph, letter_edges, resolve_links


def _src(line: int = 1) -> SourceRef:
    return SourceRef(file="sample.txt", line=line)


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
    assert g.nodes[("letter", "นร 1220/55")]["aliases"] == ("นร 1220/85",)
    assert ("letter", "นร 1220/85") not in g
    assert g.nodes[("letter", "มท 0812/ว 1434")]["known_only_by_citation"]


def test_agencies_sent_received_addressed() -> None:
    g = build_forwarding_graph(_letters())
    assert g.has_edge(("agency", "moi"), ("letter", "มท 0218/ว 3182"), key="sent")
    received = [
        (v, d) for _, v, d in g.out_edges(("letter", "นร 1220/55"), data=True) if d["kind"] == "received"
    ]
    assert [(v, d["number"]) for v, d in received] == [(("agency", "moi"), "782")]
    # A group salutation stays one group node unless the provinces are given ...
    assert g.has_edge(("letter", "มท 0218/ว 3182"), ("group", "province:*"), key="addressed")
    # ... unknown agencies are kept, not dropped.
    assert g.has_edge(("letter", "พร 0023.1/ว 3026"), ("agency", "local:name:เทศบาลเมืองแพร่"), key="addressed")


def test_every_province_expands_against_the_given_provinces() -> None:
    provinces = [province_agency(code) for code in sorted(set(province_codes().values()))]
    g = build_forwarding_graph(_letters(), provinces=provinces)
    addressed = [v for _, v, k in g.out_edges(("letter", "มท 0218/ว 3182"), keys=True) if k == "addressed"]
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
