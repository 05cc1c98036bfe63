"""`saraban graph`: the forwarding graph of a circular, drawn with the real `dot`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import pytest
from typer.testing import CliRunner

from cli.main import app
from models.db import dispose_engines, get_engine, init_db, session_scope
from records import progress
from records.ingest import ingest_files
from tests.conftest import ROOT

UNPLANNED = ROOT / "tests" / "visualize" / "data" / "unplanned"  # letters no routing plan names


def _ingested(tmp_path: Path, files: list[Path], *, plan: str | None) -> str:
    url = f"sqlite:///{tmp_path / 'record.db'}"
    engine = get_engine(url)
    init_db(engine)
    assert all(o.error is None for o in ingest_files(files, engine))
    if plan is not None:
        with session_scope(engine) as session:
            progress.set_plan(session, progress.find_circular(session, "มท 0812/ว 1434"), plan)
    return url


@pytest.fixture
def recorded(tmp_path: Path) -> Iterator[str]:
    yield _ingested(tmp_path, sorted((ROOT / "demo" / "letters").glob("*.txt")), plan="bcp-2020")
    dispose_engines()


@pytest.fixture
def unplanned(tmp_path: Path) -> Iterator[str]:
    yield _ingested(tmp_path, sorted(UNPLANNED.glob("*.txt")), plan=None)
    dispose_engines()


def _graph(url: str, *args: str) -> str:
    result = CliRunner().invoke(app, ["graph", *args, "--as-of", "2020-06-26", "--database", url])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_graph_of_a_circular_by_any_printed_number(recorded: str, tmp_path: Path) -> None:
    out = tmp_path / "bcp.svg"
    said = _graph(recorded, "มท ๐๘๑๒/ว ๑๔๓๔", "-o", str(out), "--level", "province")
    svg = out.read_text(encoding="utf-8")
    assert "wrote" in said
    assert "จังหวัดแพร่" in svg and "สำนักงาน ก.พ.ร." in svg
    # DLA's edge to Phrae carries both of DLA's circulars, each a link to its letter page.
    dla_phrae = _edge_svg(svg, "dla", "province:54")
    assert "มท 0812/ว 1217" in dla_phrae and "มท 0812/ว 1434" in dla_phrae
    hrefs = {unquote(h) for h in re.findall(r'xlink:href="([^"]+)"', dla_phrae)}
    assert "/letters/มท 0812/ว 1434?date=2020-05-14" in hrefs
    assert "/letters/มท 0812/ว 1217?date=2020-04-20" in hrefs
    assert "/agencies/province%3A54" in svg or "/agencies/province:54" in svg
    # The Cabinet's resolution is no letter: its edge says so, with the plan's date.
    cabinet = _edge_svg(svg, "cabinet", "opdc")
    assert "มติ ครม. ๓๑ มี.ค. ๒๕๖๓" in cabinet and "/letters/" not in cabinet


def _edge_svg(svg: str, tail: str, head: str) -> str:
    """The SVG group of the edge tail -> head (its id is `edge:N:tail->head`)."""
    match = re.search(
        rf'<g id="edge:\d+:{re.escape(tail)}&#45;&gt;{re.escape(head)}" class="edge.*?</g>\n</g>', svg, re.S
    )
    assert match is not None, f"no edge {tail} -> {head}"
    return match.group(0)


def test_level_district_folds_local_bodies_into_districts(recorded: str, tmp_path: Path) -> None:
    out = tmp_path / "districts.svg"
    said = _graph(recorded, "มท 0812/ว 1434", "-o", str(out), "--level", "district")
    svg = out.read_text(encoding="utf-8")
    assert 'id="district:5401"' in svg
    # Only the provinces' own local bodies (PAOs) stay: they belong to no district.
    locals_ = re.findall(r'<g id="(local:[^"]+)" class="node', svg)
    assert locals_ and all(lid.startswith("local:pao:") for lid in locals_)
    assert "อปท." in svg  # the fold says how many local bodies it holds
    full = tmp_path / "full.svg"
    _graph(recorded, "มท 0812/ว 1434", "-o", str(full))
    assert 'id="local:' in full.read_text(encoding="utf-8")
    assert int(said.split("(")[1].split()[0]) < full.read_text(encoding="utf-8").count('class="node')


def test_unknown_level_is_refused(recorded: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "graph",
            "มท 0812/ว 1434",
            "-o",
            str(tmp_path / "x.svg"),
            "--level",
            "galaxy",
            "--database",
            recorded,
        ],
    )
    assert result.exit_code == 2
    assert "--level 'galaxy'" in result.stderr and "province" in result.stderr and "district" in result.stderr
    assert not (tmp_path / "x.svg").exists()


def test_a_circular_without_a_plan_is_drawn_from_the_record(unplanned: str, tmp_path: Path) -> None:
    out = tmp_path / "record.svg"
    result = CliRunner().invoke(app, ["graph", "มท 0810/ว 7001", "-o", str(out), "--database", unplanned])
    assert result.exit_code == 0, result.output
    assert "no routing plan" in result.stderr and "saraban run" in result.stderr and "--plan" in result.stderr
    svg = out.read_text(encoding="utf-8")
    assert "record only, no routing plan" in svg
    for agency in ("dla", "province:54", "local:pao:54"):
        assert f'id="{agency}"' in svg
    assert "มท 0810/ว 7001" in _edge_svg(svg, "dla", "province:54")
    assert "พร 0023.1/ว 901" in _edge_svg(svg, "province:54", "local:pao:54")
    assert "วันทำการ" not in svg  # no plan, no slack


def test_province_drill_down_png_and_evidence_view(recorded: str, tmp_path: Path) -> None:
    png = tmp_path / "phrae.png"
    _graph(recorded, "พร 0023.1/ว 3026", "-o", str(png), "--province", "54")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    svg = tmp_path / "evidence.svg"
    _graph(recorded, "พร 0023.1/ว 3026", "-o", str(svg), "--province", "54", "--evidence")
    text = svg.read_text(encoding="utf-8")
    assert "05_phrae_pr0023_1_w3026.txt" in text  # the file behind Phrae's dispatch


def test_unknown_letter_is_a_clear_error(recorded: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["graph", "นร 9999/ว 1", "-o", str(tmp_path / "x.svg"), "--database", recorded]
    )
    assert result.exit_code == 2 and "no circular" in result.stderr
    assert not (tmp_path / "x.svg").exists()
