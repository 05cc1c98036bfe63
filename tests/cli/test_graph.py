"""`saraban graph`: the forwarding graph of a circular, drawn with the real `dot`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from models.db import dispose_engines, get_engine, init_db, session_scope
from records import progress
from records.ingest import ingest_files
from tests.conftest import ROOT


@pytest.fixture
def recorded(tmp_path: Path) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'record.db'}"
    engine = get_engine(url)
    init_db(engine)
    assert all(
        o.error is None for o in ingest_files(sorted((ROOT / "demo" / "letters").glob("*.txt")), engine)
    )
    with session_scope(engine) as session:
        progress.set_plan(session, progress.find_circular(session, "มท 0812/ว 1434"), "bcp-2020")
    yield url
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
    assert "มท 0812/ว 1217" in svg or "มท 0812/ว 1434" in svg  # letters ride on the edges
    assert "/agencies/province%3A54" in svg or "/agencies/province:54" in svg


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
