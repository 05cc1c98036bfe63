"""The routing diagrams as DOT source: clusters, labels, colours, critical path, collapse, drill-down."""

from __future__ import annotations

import html
import re
from collections import Counter
from datetime import date, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.letters import Level
from models.thai import format_thai_date, to_arabic_digits
from visualize.diagrams import (
    EVIDENCE_WRAP,
    FADED_COLOUR,
    LEVEL_TITLES,
    STATUS_STYLE,
    DiagramError,
    collapse,
    drill_down,
    evidence_diagram,
    evidence_lines,
    forwarding_diagram,
    letter_url,
    node_label_lines,
    upstream,
    with_statuses,
)
from visualize.model import (
    STATUS_SEVERITY,
    DiagramEdge,
    DiagramModelError,
    DiagramNode,
    EdgeLetter,
    Evidence,
    ReceiptLabel,
    RoutingDiagram,
    letter_edge,
    worst_status,
)
from visualize.samples import chain_sample, national_sample

STATUS_WORDS = {STATUS_STYLE[s][2]: s for s in STATUS_SEVERITY}
_COUNT_ITEM = rf"({'|'.join(STATUS_WORDS)}) ([๐-๙]+)"
COUNTS_LINE = re.compile(rf"{_COUNT_ITEM}(?: · {_COUNT_ITEM})*")


def statement(source: str, agency: str) -> str:
    """The DOT line that declares the node whose `id` attribute is `agency`."""
    pattern = re.compile(rf'^\t+"?[^\[\n]*\[.*\bid="?{re.escape(agency)}"?[ \]]', re.M)
    matches = [m for m in pattern.finditer(source) if "->" not in m.group(0)]
    assert len(matches) == 1, f"{agency}: {len(matches)} node statements"
    start = matches[0].start()
    return source[start : source.index("\n", start)]


def attr(line: str, name: str) -> str | None:
    match = re.search(rf'\b{name}=(?:"((?:[^"\\]|\\.)*)"|([^ \]]+))', line)
    return None if match is None else (match.group(1) if match.group(1) is not None else match.group(2))


def edge_lines(source: str) -> list[str]:
    return [line for line in source.splitlines() if " -> " in line and "legend" not in line]


def edge_line(source: str, tail: str, head: str) -> str:
    """The DOT statement of the edge tail -> head (agency ids)."""

    def name(agency: str) -> str:
        escaped = agency.replace(":", "%3A")
        return f'"{escaped}"' if "%" in escaped else escaped

    wanted = f"{name(tail)} -> {name(head)} "
    (line,) = [e for e in edge_lines(source) if e.strip().startswith(wanted)]
    return line


def label_cells(line: str) -> list[tuple[str, dict[str, str]]]:
    """The cells of an HTML-like label on a DOT line: (text, attributes) per cell."""
    table = re.search(r"label=<(<TABLE.*?</TABLE>)>", line)
    assert table is not None, line
    cells = re.findall(r"<TD([^>]*)>(.*?)</TD>", table.group(1))
    return [(html.unescape(text), dict(re.findall(r'(\w+)="([^"]*)"', attrs))) for attrs, text in cells]


def label_counts(label: str) -> Counter[str]:
    """Counts by status written on a collapsed node's label (Thai digits)."""
    counts: Counter[str] = Counter()
    for line in label.split("\\n"):
        if COUNTS_LINE.fullmatch(line):
            for word, digits in re.findall(_COUNT_ITEM, line):
                counts[STATUS_WORDS[word]] += int(to_arabic_digits(digits))
    return counts


# --- the forwarding diagram ------------------------------------------------------------------


def test_one_cluster_per_level_present_with_thai_title() -> None:
    diagram = chain_sample()
    source = forwarding_diagram(diagram).source
    present = {n.level for n in diagram.nodes}
    for level, title in LEVEL_TITLES.items():
        header = f"subgraph cluster_{level.value} {{"
        assert (header in source) == (level in present), level
        if level in present:
            block = source[source.index(header) :]
            assert title in attr(block.splitlines()[1], "label")  # type: ignore[operator]
    # every agency sits in the cluster of its level
    for node in diagram.nodes:
        block = source[source.index(f"subgraph cluster_{node.level.value} {{") :]
        block = block[: block.index("\n\t}")]
        assert f'id="{node.id}"' in block or f"id={node.id} " in block


def test_node_label_has_receipt_deadline_and_slack_in_thai() -> None:
    label = attr(statement(forwarding_diagram(chain_sample()).source, "province:54"), "label")
    assert label is not None
    lines = label.split("\\n")
    assert lines[0] == "จังหวัดแพร่"
    assert "เลขรับ 4410 · ๑๘ พ.ค. ๖๓ · ๑๐.๑๕ น." in lines
    assert "ภายใน ๑๖ มิ.ย. ๖๓" in lines
    assert "เกิน ๕ วันทำการ" in lines
    on_time = attr(statement(forwarding_diagram(chain_sample()).source, "province:21"), "label")
    assert "เหลือ ๙ วันทำการ" in on_time.split("\\n")  # type: ignore[union-attr]


def test_several_receipt_stamps_each_get_a_line() -> None:
    node = chain_sample().node("province:12")
    label = attr(statement(forwarding_diagram(chain_sample()).source, node.id), "label") or ""
    stamps = [line for line in label.split("\\n") if line.startswith("เลขรับ")]
    assert [s.split(" · ")[0] for s in stamps] == [f"เลขรับ {r.number}" for r in node.receipts]


def test_edge_label_is_number_over_abbreviated_thai_date() -> None:
    line = edge_line(forwarding_diagram(chain_sample()).source, "moi", "province:21")
    assert [text for text, _ in label_cells(line)] == ["มท 0218/ว 3182", "๑ มิ.ย. ๖๓"]


def test_an_edge_with_two_letters_shows_both_each_linked_to_its_page() -> None:
    source = forwarding_diagram(chain_sample()).source
    line = edge_line(source, "dla", "province:54")
    cells = label_cells(line)
    assert [text for text, _ in cells] == ["มท 0812/ว 1217 · ๒๐ เม.ย. ๖๓", "มท 0812/ว 1434 · ๑๔ พ.ค. ๖๓"]
    d1217, d1434 = (
        EdgeLetter("มท 0812/ว 1217", date(2020, 4, 20)),
        EdgeLetter("มท 0812/ว 1434", date(2020, 5, 14)),
    )
    assert [html.unescape(a["HREF"]) for _, a in cells] == [letter_url(d1217), letter_url(d1434)]
    assert attr(line, "URL") == letter_url(d1434)  # the line itself: the newest letter
    assert "มท 0812/ว 1217" in (attr(line, "labeltooltip") or "")


def test_every_letter_on_an_edge_is_a_link_and_only_letters_are() -> None:
    diagram = chain_sample()
    source = forwarding_diagram(diagram).source
    for edge in diagram.edges:
        line = edge_line(source, edge.source, edge.target)
        if edge.letters:
            assert attr(line, "URL") == letter_url(edge.letters[-1])
            hrefs = {html.unescape(a["HREF"]) for _, a in label_cells(line) if "HREF" in a}
            assert hrefs == {letter_url(x) for x in edge.letters}
            assert all(h.startswith("/letters/") and "?date=" in h for h in hrefs)
        else:
            assert attr(line, "URL") is None


def test_a_resolution_that_is_no_letter_is_a_note_not_a_number() -> None:
    line = edge_line(forwarding_diagram(chain_sample()).source, "cabinet", "opdc")
    assert attr(line, "label") == "มติ ครม. ๓๑ มี.ค. ๒๕๖๓"
    assert attr(line, "URL") is None


def test_colours_follow_status() -> None:
    diagram = chain_sample()
    source = forwarding_diagram(diagram).source
    for node in diagram.nodes:
        line = statement(source, node.id)
        assert attr(line, "fillcolor") == STATUS_STYLE[node.status][1], node.id
        assert attr(line, "color") == STATUS_STYLE[node.status][0], node.id
    for line, edge in zip(edge_lines(source), diagram.edges, strict=True):
        assert attr(line, "color") == STATUS_STYLE[edge.status][0]


def test_legend_names_every_status_and_the_critical_path() -> None:
    source = forwarding_diagram(chain_sample()).source
    legend = statement(source, "legend")
    texts = [text for text, _ in label_cells(legend)]
    assert texts[0] == "<B>คำอธิบายสัญลักษณ์</B>"
    for status in STATUS_SEVERITY:
        assert any(t.startswith(STATUS_STYLE[status][2]) for t in texts), status
        assert f'BGCOLOR="{STATUS_STYLE[status][1]}"' in legend
    assert "ยังไม่ได้รับ (ค้างที่ต้นทาง: เลยกำหนดแล้ว)" in texts
    assert any("เส้นทางวิกฤต" in t for t in texts)
    # Planned handoffs (dashed) and projected dates (คาดว่า) are told apart from facts.
    assert any("ตามแผน" in t and "เส้นประ" in t for t in texts)
    assert "<I>คาดว่า</I>" in texts
    assert "id=legend" not in forwarding_diagram(chain_sample(), legend=False).source


def test_blocked_is_drawn_apart_from_overdue_in_its_own_colour_and_dashed() -> None:
    diagram = with_statuses(chain_sample(), {"district:5401": "blocked", "district:5402": "overdue"})
    source = forwarding_diagram(diagram).source
    blocked, overdue = statement(source, "district:5401"), statement(source, "district:5402")
    assert attr(blocked, "fillcolor") == STATUS_STYLE["blocked"][1] != STATUS_STYLE["overdue"][1]
    assert attr(blocked, "color") == STATUS_STYLE["blocked"][0] != STATUS_STYLE["overdue"][0]
    assert "dashed" in (attr(blocked, "style") or "") and "dashed" not in (attr(overdue, "style") or "")
    assert "status-blocked" in (attr(blocked, "class") or "")
    assert "ยังไม่ได้รับ" in (attr(blocked, "tooltip") or "")
    legend = statement(source, "legend")
    swatch = dict(label_cells(legend))
    cell = next(attrs for text, attrs in label_cells(legend) if attrs.get("ID") == "legend:blocked")
    assert cell["STYLE"] == "rounded,dashed" and cell["BGCOLOR"] == STATUS_STYLE["blocked"][1]
    assert swatch  # the legend has cells at all
    # The edge into a blocked agency takes its colour.
    into = [line for line in edge_lines(source) if '-> "district%3A5401"' in line]
    assert into and all(attr(line, "color") == STATUS_STYLE["blocked"][0] for line in into)


def test_a_province_with_a_blocked_district_counts_it_and_shows_its_worst() -> None:
    diagram = with_statuses(chain_sample(), {"district:5401": "blocked"})
    phrae = collapse(diagram).node("province:54")
    assert dict(phrae.summary)["blocked"] == 1
    assert phrae.status in ("overdue", "blocked")
    line = statement(forwarding_diagram(collapse(diagram)).source, "province:54")
    assert label_counts(attr(line, "label") or "")["blocked"] == 1


def test_with_statuses_does_not_mutate_and_rejects_unknown_statuses() -> None:
    diagram = chain_sample()
    before = [n.status for n in diagram.nodes]
    with_statuses(diagram, {n.id: "blocked" for n in diagram.nodes})
    assert [n.status for n in diagram.nodes] == before
    with pytest.raises(DiagramError, match="unknown status 'stuck'"):
        with_statuses(diagram, {"province:54": "stuck"})


def test_an_edge_without_a_letter_is_dashed_as_planned_and_a_letter_edge_is_not() -> None:
    diagram = chain_sample()
    source = forwarding_diagram(diagram).source
    for line, edge in zip(edge_lines(source), diagram.edges, strict=True):
        planned = not edge.letters and edge.note is None
        assert ("dashed" in (attr(line, "style") or "")) is planned, line
        assert ("planned" in (attr(line, "class") or "")) is planned, line
    assert any(not e.letters and e.note is None for e in diagram.edges), "the sample has a planned handoff"


def test_folded_provinces_link_to_the_page_narrowed_to_them_keeping_as_of() -> None:
    national = collapse(national_sample())
    day = date(2020, 7, 1)
    source = forwarding_diagram(national, drill=True, link_as_of=day).source
    provinces = [n for n in national.nodes if n.level is Level.PROVINCE]
    assert len(provinces) == 77
    for node in provinces:
        code = node.id.split(":", 1)[1]
        line = statement(source, node.id)
        # The node leads to the agency's page; a link of its own in the label, to its diagram.
        assert attr(line, "URL") == f"/agencies/{node.id}"
        cells = label_cells(line)
        drill = [attrs for text, attrs in cells if attrs.get("HREF")]
        assert [d["HREF"] for d in drill] == [f"?province={code}&amp;as_of=2020-07-01#graph"]
        assert drill[0]["ID"] == f"drill:{node.id}" and drill[0]["TARGET"] == "_top"
        texts = [text for text, _ in cells]
        assert texts[: len(node_label_lines(node))] == node_label_lines(node)
    # Agencies that are not folded provinces keep their own page, and no drill link.
    assert attr(statement(source, "dla"), "URL") == "/agencies/dla"
    assert "drill:dla" not in source
    # Without `drill` (the CLI's files) every agency links to its page, as before.
    plain = forwarding_diagram(national).source
    assert attr(statement(plain, "province:54"), "URL") == "/agencies/province:54"
    assert "drill:" not in plain
    # A province drawn in full (not folded) is no drill link: it is already the page's filter.
    phrae = drill_down(national_sample(), province="province:54", ancestors=True)
    full = forwarding_diagram(phrae, drill=True, link_as_of=day).source
    assert attr(statement(full, "province:54"), "URL") == "/agencies/province:54"
    assert "drill:" not in full


def test_critical_path_is_heavier_and_nothing_else_is() -> None:
    diagram = chain_sample()
    source = forwarding_diagram(diagram).source
    for node in diagram.nodes:
        assert (attr(statement(source, node.id), "penwidth") == "3") == node.critical, node.id
    for line, edge in zip(edge_lines(source), diagram.edges, strict=True):
        assert (attr(line, "penwidth") == "3") == edge.critical
        assert ("bold" in (attr(line, "style") or "")) == edge.critical


def test_every_agency_is_clickable_with_id_url_and_tooltip() -> None:
    diagram = chain_sample()
    source = forwarding_diagram(diagram).source
    for node in diagram.nodes:
        line = statement(source, node.id)
        assert attr(line, "URL") == f"/agencies/{node.id}"
        assert node.name_th in (attr(line, "tooltip") or "")


def test_thai_font_on_graph_nodes_and_edges() -> None:
    source = forwarding_diagram(chain_sample()).source
    for kind in ("graph", "node", "edge"):
        line = next(li for li in source.splitlines() if li.strip().startswith(f"{kind} ["))
        assert attr(line, "fontname") == "Loma", kind


def test_awkward_text_is_escaped() -> None:
    odd = DiagramNode("agency:x", 'กรม "ทดสอบ" <ก> a\\b\nc', Level.DEPARTMENT, "unknown")
    diagram = RoutingDiagram("t", None, (odd,))
    label = attr(statement(forwarding_diagram(diagram).source, "agency:x"), "label")
    assert label == 'กรม \\"ทดสอบ\\" <ก> a\\\\b c'
    # a name that looks like an HTML-like label stays plain text
    unnamed = DiagramNode("agency:y", "<ไม่ทราบ>", Level.UNKNOWN, "unknown")
    source = forwarding_diagram(RoutingDiagram("t", None, (unnamed,))).source
    assert 'label="<ไม่ทราบ>"' in statement(source, "agency:y")


def test_focus_highlights_the_path_and_fades_the_rest() -> None:
    diagram = chain_sample()
    source = forwarding_diagram(diagram, focus="local:tm:540101").source
    path = upstream(diagram, "local:tm:540101")
    assert path == {"cabinet", "opdc", "moi", "dla", "province:54", "district:5401", "local:tm:540101"}
    assert attr(statement(source, "local:tm:540101"), "peripheries") == "2"
    for node in diagram.nodes:
        faded = attr(statement(source, node.id), "color") == FADED_COLOUR
        assert faded == (node.id not in path), node.id
    with pytest.raises(DiagramError, match="nowhere"):
        forwarding_diagram(diagram, focus="nowhere")


def test_evidence_view_attaches_a_note_to_each_handoff() -> None:
    diagram = chain_sample()
    source = evidence_diagram(diagram).source
    notes = [line for line in source.splitlines() if "shape=note" in line]
    assert len(notes) == len(diagram.edges)
    opdc_moi = next(n for n in notes if "นร 1220/55" in n)
    assert "ไฟล์ samples/opdc-moi.txt:3" in opdc_moi
    assert "ตรารับ samples/opdc-moi.txt:1 — เลขรับ 92093" in opdc_moi
    assert "รวมเลขหนังสือ — นร 1220/85" in opdc_moi
    assert attr(opdc_moi, "URL") == letter_url(EdgeLetter("นร 1220/55", date(2020, 5, 27)))
    without = [e for e in diagram.edges if not e.evidence]
    assert sum("ไม่มีหลักฐาน" in n for n in notes) == len(without)
    # each handoff still runs source -> note -> target
    assert len(edge_lines(source)) == 2 * len(diagram.edges)


def test_evidence_is_wrapped_never_cut() -> None:
    reason = (
        "running number 85 vs 55: ๕/๘ OCR confusion; same code นร 1220 and date 2020-05-27; the later "
        "letter มท 0218/ว 3182 encloses it as สิ่งที่ส่งมาด้วย ๑, so both readings are one letter"
    )
    item = Evidence("merge", f"นร 1220/85 = นร 1220/55: {reason}")
    lines = evidence_lines(item)
    assert len(lines) > 1 and all(len(line) <= EVIDENCE_WRAP for line in lines)
    assert " ".join(line.strip() for line in lines) == f"รวมเลขหนังสือ — {item.text}"
    edge = letter_edge("opdc", "moi", "นร 1220/55", date(2020, 5, 27), "done", evidence=(item,))
    nodes = (DiagramNode("opdc", "ก", Level.CENTRAL, "done"), DiagramNode("moi", "ข", Level.MINISTRY, "done"))
    note = statement(evidence_diagram(RoutingDiagram("t", None, nodes, (edge,))).source, "evidence:0")
    label = (attr(note, "label") or "").split("\\l")
    assert "…" not in "".join(label) and "both readings are one letter" in label[-2]


# --- the input model -------------------------------------------------------------------------


def test_model_rejects_bad_input() -> None:
    with pytest.raises(DiagramModelError, match="status"):
        DiagramNode("a", "ก", Level.LOCAL, "finished")
    with pytest.raises(DiagramModelError, match="unknown agency"):
        RoutingDiagram("t", None, (DiagramNode("a", "ก", Level.LOCAL, "done"),), (DiagramEdge("a", "b"),))
    with pytest.raises(DiagramModelError, match="duplicate"):
        RoutingDiagram("t", None, (DiagramNode("a", "ก", Level.LOCAL, "done"),) * 2)
    with pytest.raises(DiagramModelError, match="kind"):
        Evidence("rumour", "x")
    with pytest.raises(DiagramModelError, match="EdgeLetter"):
        DiagramEdge("a", "b", ("มท 0812/ว 1434",))  # type: ignore[arg-type]


# --- collapse and drill-down -----------------------------------------------------------------

STATUS = st.sampled_from(STATUS_SEVERITY)


@st.composite
def hierarchies(draw: st.DrawFn) -> RoutingDiagram:
    """A DLA circular to 1-4 provinces, each with districts, local bodies and maybe a PAO."""
    day = date(2020, 6, 1)
    nodes = [DiagramNode("dla", "กรมส่งเสริมการปกครองท้องถิ่น", Level.DEPARTMENT, draw(STATUS))]
    edges = []
    for p in range(draw(st.integers(1, 4))):
        pid = f"province:{p}"
        nodes.append(
            DiagramNode(
                pid,
                f"จังหวัดทดสอบ{p}",
                Level.PROVINCE,
                draw(STATUS),
                "dla",
                pid,
                slack=draw(st.integers(-5, 5)),
            )
        )
        edges.append(letter_edge("dla", pid, "มท 0812/ว 1434", day, draw(STATUS), draw(st.booleans())))
        if draw(st.booleans()):
            lid = f"local:pao:{p}"
            nodes.append(DiagramNode(lid, f"อบจ.{p}", Level.LOCAL, draw(STATUS), pid, pid))
            edges.append(letter_edge(pid, lid, None, None, draw(STATUS)))
        for d in range(draw(st.integers(0, 3))):
            did = f"district:{p}{d}"
            nodes.append(
                DiagramNode(
                    did, f"อำเภอ{p}{d}", Level.DISTRICT, draw(STATUS), pid, pid, critical=draw(st.booleans())
                )
            )
            edges.append(letter_edge(pid, did, f"ทด 0023/ว {p}", day + timedelta(p), draw(STATUS)))
            for n in range(draw(st.integers(0, 4))):
                lid = f"local:sao:{p}{d}{n}"
                nodes.append(DiagramNode(lid, f"อบต.{p}{d}{n}", Level.LOCAL, draw(STATUS), did, pid, did))
                edges.append(letter_edge(did, lid, None, None, draw(STATUS)))
                if draw(st.integers(0, 9)) == 0:  # a local body answering straight to DLA
                    edges.append(letter_edge(lid, "dla", f"แผน {lid}", day, draw(STATUS)))
    return RoutingDiagram("ทดสอบ", None, tuple(nodes), tuple(edges))


@settings(max_examples=60, deadline=None)
@given(hierarchies())
def test_collapsed_counts_add_up_to_the_folded_agencies(diagram: RoutingDiagram) -> None:
    national = collapse(diagram)
    source = forwarding_diagram(national).source
    provinces = [n for n in diagram.nodes if n.level is Level.PROVINCE]
    assert {n.id for n in national.nodes} == {"dla"} | {p.id for p in provinces}
    for province in provinces:
        members = [n for n in diagram.nodes if n.province == province.id and n.id != province.id]
        folded = national.node(province.id)
        assert folded.collapsed == len(members)
        assert Counter(dict(folded.summary)) == Counter(n.status for n in members)
        line = statement(source, province.id)
        assert label_counts(attr(line, "label") or "") == Counter(n.status for n in members)
        worst = worst_status([province.status, *(n.status for n in members)])
        assert attr(line, "fillcolor") == STATUS_STYLE[worst][1]
        assert folded.critical == (province.critical or any(n.critical for n in members))
    # every handoff that crosses a fold is still represented once
    owner = {n.id: n.province for n in diagram.nodes if n.level in (Level.DISTRICT, Level.LOCAL)}
    crossing = [e for e in diagram.edges if owner.get(e.source, e.source) != owner.get(e.target, e.target)]
    assert sum(e.count for e in national.edges) == len(crossing)


@settings(max_examples=40, deadline=None)
@given(hierarchies(), st.data())
def test_drill_down_keeps_exactly_one_province(diagram: RoutingDiagram, data: st.DataObject) -> None:
    province = data.draw(st.sampled_from([n.id for n in diagram.nodes if n.level is Level.PROVINCE]))
    view = drill_down(diagram, province=province)
    expected = {n.id for n in diagram.nodes if n.id == province or n.province == province}
    assert {n.id for n in view.nodes} == expected
    assert {(e.source, e.target) for e in view.edges} == {
        (e.source, e.target) for e in diagram.edges if e.source in expected and e.target in expected
    }
    closure = set(expected)
    while grown := {e.source for e in diagram.edges if e.target in closure} - closure:
        closure |= grown
    with_chain = drill_down(diagram, province=province, ancestors=True)
    assert {n.id for n in with_chain.nodes} == closure
    assert "dla" in closure


def test_collapse_the_national_sample() -> None:
    diagram = national_sample(provinces=8)
    national = collapse(diagram)
    levels = Counter(n.level for n in national.nodes)
    assert levels[Level.PROVINCE] == 8 and Level.DISTRICT not in levels and Level.LOCAL not in levels
    assert sum(n.collapsed for n in national.nodes) == len(diagram.nodes) - len(national.nodes)
    by_district = collapse(diagram, "district")
    assert (
        Counter(n.level for n in by_district.nodes)[Level.DISTRICT]
        == Counter(n.level for n in diagram.nodes)[Level.DISTRICT]
    )
    # only PAOs and Bangkok stay as local bodies: they belong to no district
    assert all(n.district is None for n in by_district.nodes if n.level is Level.LOCAL)
    with pytest.raises(DiagramError, match="province"):
        collapse(diagram, "ministry")
    with pytest.raises(DiagramError):
        collapse(diagram, "galaxy")


def test_collapse_without_the_province_agency_makes_a_stub() -> None:
    orphan = DiagramNode("local:sao:1", "อบต.ก", Level.LOCAL, "late", province="province:99")
    folded = collapse(RoutingDiagram("t", None, (orphan,))).node("province:99")
    assert folded.level is Level.PROVINCE and folded.status == "late" and folded.collapsed == 1


def test_drill_down_a_district_and_errors() -> None:
    diagram = national_sample(provinces=3)
    district = next(n for n in diagram.nodes if n.level is Level.DISTRICT)
    view = drill_down(diagram, district=district.id)
    assert {n.id for n in view.nodes} == {district.id} | {
        n.id for n in diagram.nodes if n.district == district.id
    }
    assert district.name_th in view.title
    with pytest.raises(DiagramError, match="exactly one"):
        drill_down(diagram)
    with pytest.raises(DiagramError, match="exactly one"):
        drill_down(diagram, province="province:10", district=district.id)
    with pytest.raises(DiagramError, match="province:99"):
        drill_down(diagram, province="province:99")


def test_national_sample_has_national_shape() -> None:
    diagram = national_sample()
    levels = Counter(n.level for n in diagram.nodes)
    assert levels[Level.PROVINCE] == 77 and levels[Level.DISTRICT] == 878
    assert 7800 <= levels[Level.LOCAL] <= 7900
    statuses = Counter(n.status for n in diagram.nodes)
    assert {"on_time", "late", "overdue", "pending"} <= set(statuses)
    critical = [n for n in diagram.nodes if n.critical]
    assert {n.level for n in critical} >= {Level.PROVINCE, Level.DISTRICT, Level.LOCAL}
    worst = min((n for n in diagram.nodes if n.level is Level.LOCAL), key=lambda n: n.slack or 0)
    assert worst.critical


def test_receipt_label_dates_are_thai() -> None:
    stamp = ReceiptLabel("7", date(2021, 1, 4), time(8, 5))
    node = DiagramNode("x", "ก", Level.PROVINCE, "done", receipts=(stamp,))
    label = attr(statement(forwarding_diagram(RoutingDiagram("t", None, (node,))).source, "x"), "label")
    assert f"เลขรับ 7 · {format_thai_date(stamp.date, abbreviated=True)} · ๐๘.๐๕ น." in (label or "")  # type: ignore[arg-type]


def test_a_level_over_box_max_is_unboxed_and_named_in_the_title() -> None:
    national = collapse(national_sample())
    boxed = forwarding_diagram(national).source
    assert "subgraph cluster_province" in boxed
    source = forwarding_diagram(national, box_max=30).source
    assert "subgraph cluster_province" not in source and "subgraph level_province" in source
    assert "subgraph cluster_department" in source
    title = attr(next(line for line in source.splitlines() if line.startswith("\tgraph [")), "label") or ""
    assert "จังหวัด ๗๗ แห่ง" in title
    # Every agency is still declared once.
    for node in national.nodes:
        statement(source, node.id)
