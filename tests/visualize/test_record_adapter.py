"""The diagrams of the real record: the seed letters and the demo letters ingested into a fresh
database, the BCP plan attached, `records.views` adapting the result to `visualize.model`.

The synthetic samples test the drawing; these test that what is drawn is true of the letters.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session

from models.db import dispose_engines, get_engine, init_db, session_scope
from records import progress, views
from records.ingest import ingest_files
from tests.conftest import ROOT
from visualize.diagrams import forwarding_diagram
from visualize.model import DiagramEdge, RoutingDiagram

AS_OF = date(2020, 7, 1)
DEMO_LETTERS = sorted((ROOT / "demo" / "letters").glob("*.txt"))
UNPLANNED = Path(__file__).resolve().parent / "data" / "unplanned"  # letters no routing plan names


def _record(path: Path, files: list[Path], *, plan: str | None, ref: str = "มท 0812/ว 1434") -> str:
    url = f"sqlite:///{path}"
    engine = get_engine(url)
    init_db(engine)
    outcomes = ingest_files(files, engine, actor="test")
    assert all(o.error is None for o in outcomes), [str(o.error) for o in outcomes if o.error]
    with session_scope(engine) as session:
        circular = progress.find_circular(session, ref)
        if plan is not None:
            progress.set_plan(session, circular, plan, actor="test")
    return url


@pytest.fixture(scope="module")
def record_url(tmp_path_factory: pytest.TempPathFactory, seed_files: list[Path]) -> Iterator[str]:
    yield _record(
        tmp_path_factory.mktemp("real") / "saraban.db", [*seed_files, *DEMO_LETTERS], plan="bcp-2020"
    )
    dispose_engines()


@pytest.fixture(scope="module")
def diagram(record_url: str) -> RoutingDiagram:
    with Session(get_engine(record_url)) as session:
        return views.routing_diagram(session, "มท 0812/ว 1434", as_of=AS_OF)


def edge(diagram: RoutingDiagram, source: str, target: str) -> DiagramEdge:
    (found,) = [e for e in diagram.edges if e.source == source and e.target == target]
    return found


def test_dla_to_phrae_carries_both_of_dlas_circulars(diagram: RoutingDiagram) -> None:
    dla_phrae = edge(diagram, "dla", "province:54")
    assert dla_phrae.numbers == ("มท 0812/ว 1217", "มท 0812/ว 1434")
    assert [x.date for x in dla_phrae.letters] == [date(2020, 4, 20), date(2020, 5, 14)]
    # The evidence is Phrae's own letter enclosing both, not some other letter's.
    texts = [e.text for e in dla_phrae.evidence]
    assert any("พร 0023.1/ว 3026" in t and "มท 0812/ว 1217" in t for t in texts)
    assert any("พร 0023.1/ว 3026" in t and "มท 0812/ว 1434" in t for t in texts)
    # Every DLA -> province edge carries 1434: no province holds only the earlier circular.
    for e in diagram.edges:
        if e.source == "dla" and e.target.startswith("province:"):
            assert "มท 0812/ว 1434" in e.numbers, e.target


def test_opdc_to_interior_carries_the_letter_interior_stamped(diagram: RoutingDiagram) -> None:
    opdc_moi = edge(diagram, "opdc", "moi")
    assert opdc_moi.numbers == ("นร 1220/55",)
    receipts = [e.text for e in opdc_moi.evidence if e.kind == "receipt"]
    assert any("92093" in t for t in receipts) and any("782" in t for t in receipts)
    assert all("นร 1220/55" in t for t in receipts)
    assert any(e.kind == "merge" and "นร 1220/85" in e.text for e in opdc_moi.evidence)


def test_the_cabinet_resolution_is_no_letter(diagram: RoutingDiagram) -> None:
    cabinet_opdc = edge(diagram, "cabinet", "opdc")
    assert cabinet_opdc.letters == ()
    assert cabinet_opdc.note == "มติ ครม. ๓๑ มี.ค. ๒๕๖๓"
    assert [e.kind for e in cabinet_opdc.evidence] == ["plan"]


def test_evidence_follows_the_letters_on_the_edge(diagram: RoutingDiagram) -> None:
    # Nonthaburi stamped OPDC's นร 1200/ว 0018, not DLA's letters: that stamp is not DLA's evidence.
    dla_nonthaburi = edge(diagram, "dla", "province:12")
    assert not any("011099" in e.text for e in dla_nonthaburi.evidence)
    for e in diagram.edges:
        for item in e.evidence:
            if item.kind in ("file", "receipt"):
                assert any(n in item.text for n in e.numbers), (e.source, e.target, item)


def test_an_agency_without_a_letter_on_file_passes_none_on(diagram: RoutingDiagram) -> None:
    # Nonthaburi issued nothing: its edges to its districts carry no borrowed letter.
    for e in diagram.edges:
        if e.source == "province:12":
            assert e.letters == () and e.note is None


def test_slack_is_as_of_the_day_and_agrees_with_the_status(diagram: RoutingDiagram) -> None:
    rayong = diagram.node("province:21")  # received 2 June, never forwarded: overdue on 1 July
    assert rayong.status == "overdue" and rayong.slack is not None and rayong.slack < 0
    phrae = diagram.node("province:54")  # forwarded 23 June, 9 working days after 10 June
    assert phrae.status == "late" and phrae.slack == -9
    for node in diagram.nodes:
        if node.slack is None:
            continue
        if node.status == "overdue":
            assert node.slack < 0, node.id
        elif node.status == "pending":
            assert node.slack >= 0, node.id
    label = next(
        line for line in forwarding_diagram(diagram).source.splitlines() if 'id="province:21"' in line
    )
    assert "เกิน " in label and "เหลือ" not in label


def test_without_a_plan_the_record_alone_is_drawn(tmp_path: Path) -> None:
    # Letters no routing plan names: DLA to Phrae, Phrae on to its districts and its PAO.
    url = _record(tmp_path / "noplan.db", sorted(UNPLANNED.glob("*.txt")), plan=None, ref="มท 0810/ว 7001")
    with Session(get_engine(url)) as session:
        with pytest.raises(progress.ProgressError, match="no routing plan"):
            views.routing_diagram(session, "มท 0810/ว 7001")
        assert not views.has_plan(session, "พร 0023.1/ว 901")
        drawn = views.circular_diagram(session, "มท 0810/ว 7001", as_of=AS_OF)
    assert "record only, no routing plan" in drawn.title
    assert set(drawn.by_id) == {"dla", "province:54", "local:pao:54"}
    dla_phrae = edge(drawn, "dla", "province:54")  # Phrae stamped it (#427) and enclosed it
    assert dla_phrae.numbers == ("มท 0810/ว 7001",) and dla_phrae.status == "done"
    assert {e.kind for e in dla_phrae.evidence} == {"file", "receipt", "citation"}
    assert edge(drawn, "province:54", "local:pao:54").numbers == ("พร 0023.1/ว 901",)  # its salutation
    assert drawn.node("province:54").receipts[0].number == "427"
    assert all(n.slack is None and n.latest is None for n in drawn.nodes)
