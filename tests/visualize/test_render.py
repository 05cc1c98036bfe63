"""Rendering with the real graphviz binaries: SVG, PNG, PDF, Thai fonts, errors, speed."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import graphviz
import pytest

from models.letters import Level
from visualize.diagrams import THAI_FONT, collapse, drill_down, evidence_diagram, forwarding_diagram
from visualize.model import DiagramNode, RoutingDiagram
from visualize.render import RenderError, fonts_used, render, render_bytes, render_svg
from visualize.samples import chain_sample, national_sample

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz `dot` is not installed")


def test_svg_file_has_thai_text_font_and_clickable_agencies(tmp_path: Path) -> None:
    diagram = drill_down(national_sample(provinces=60), province="province:54", ancestors=True)
    out = render(forwarding_diagram(diagram), tmp_path / "sub" / "phrae.svg")
    assert out == tmp_path / "sub" / "phrae.svg"
    svg = out.read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
    assert "จังหวัดแพร่" in svg and "อำเภอ" in svg
    assert re.search(r"[๐-๙]+ [ก-ฮ]\.[ก-ฮ]\. [๐-๙]{2}", svg), "Thai dates"
    families = set(re.findall(r'font-family="([^"]+)"', svg))
    assert families and all(f.split(",")[0] == THAI_FONT for f in families)
    for node in diagram.nodes:
        assert f'id="{node.id}"' in svg
        assert f'xlink:href="/agencies/{node.id}"' in svg
    assert not list(tmp_path.glob("sub/.*")), "no temporary file left behind"


def test_thai_font_is_installed_and_used_for_png() -> None:
    families = subprocess.run(
        ["fc-list", ":lang=th", "family"], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert THAI_FONT in {f.strip() for line in families for f in line.split(",")}
    graph = forwarding_diagram(chain_sample())
    used = fonts_used(graph)
    assert THAI_FONT in used
    assert f"{THAI_FONT}.ttf" in used[THAI_FONT], used


def test_png_and_pdf_are_written(tmp_path: Path) -> None:
    graph = forwarding_diagram(chain_sample(), focus="local:tm:540101")
    # Kept for a person to look at: tests/artifacts is gitignored.
    png = render(graph, ARTIFACTS / "visualize_chain.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    pdf = render(evidence_diagram(chain_sample()), tmp_path / "evidence.PDF")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    render(forwarding_diagram(collapse(national_sample())), ARTIFACTS / "visualize_national.svg")


def test_render_svg_is_inline_ready() -> None:
    svg = render_svg(evidence_diagram(chain_sample()))
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "ไม่มีหลักฐาน" in svg and "รวมเลขหนังสือ" in svg


def test_awkward_names_render() -> None:
    odd = DiagramNode("agency:x", 'กรม "ทดสอบ" <ก> a\\b', Level.DEPARTMENT, "unknown")
    svg = render_svg(forwarding_diagram(RoutingDiagram("t", None, (odd,))))
    assert "กรม &quot;ทดสอบ&quot; &lt;ก&gt; a\\b" in svg


def test_errors_are_render_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    graph = forwarding_diagram(chain_sample())
    with pytest.raises(RenderError, match="suffix"):
        render(graph, tmp_path / "x.jpeg")
    with pytest.raises(RenderError, match="syntax error"):
        render_bytes(graphviz.Source("digraph { a -> }"), "svg")
    with pytest.raises(RenderError, match="longer than"):
        render_bytes(forwarding_diagram(national_sample(provinces=4)), "svg", timeout=0.001)
    with pytest.raises(RenderError, match="engine"):
        render_bytes(graph, "svg", engine="rm")
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(RenderError, match="not found"):
        render(graph, tmp_path / "x.svg")
    assert not (tmp_path / "x.svg").exists()


def test_national_and_province_views_render() -> None:
    # Speed lives in bench/bench_render.py; here only that both views lay out and keep their agencies.
    diagram = national_sample()
    largest = max(
        (n for n in diagram.nodes if n.level is Level.PROVINCE),
        key=lambda p: sum(n.province == p.id for n in diagram.nodes),
    )
    for view in (collapse(diagram), drill_down(diagram, province=largest.id, ancestors=True)):
        svg = render_svg(forwarding_diagram(view))
        assert svg.count("<g id=") >= len(view.nodes), view.title


def _aspect(svg: str) -> float:
    """Height over width of an SVG's view box."""
    match = re.search(r'viewBox="([-\d. ]+)"', svg)
    assert match is not None
    _x, _y, width, height = (float(v) for v in match.group(1).split())
    return height / width


def test_a_wide_fan_out_unboxed_and_staggered_fits_a_screen_better() -> None:
    """77 provinces in one column are a drawing ~7 times as high as wide; unboxed and staggered
    over 6 columns (the dashboard's view), about square, with every agency and link kept."""
    national = collapse(national_sample())
    column = render_svg(forwarding_diagram(national, drill=True))
    grid = render_svg(forwarding_diagram(national, drill=True, box_max=30), stagger=6)
    assert _aspect(column) > 5
    assert _aspect(grid) < 1.5
    for svg in (column, grid):
        assert len(re.findall(r'<g id="province:\d\d" class="node', svg)) == 77
        assert len(re.findall(r'xlink:href="\?province=\d\d#graph"', svg)) == 77
    assert 'id="cluster:province"' in column and 'id="cluster:province"' not in grid
    assert 'id="cluster:department"' in grid  # the small levels keep their box


def test_stagger_must_be_a_positive_number_of_columns() -> None:
    with pytest.raises(RenderError, match="stagger must be a positive number of columns, not 0"):
        render_svg(forwarding_diagram(chain_sample()), stagger=0)
