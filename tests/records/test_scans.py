"""records.scans: the page images of a scan are stored at ingest, once, and found from its letters."""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models.db import session_scope
from models.tables import LetterRow, ScanPage
from records.ingest import ingest_file
from records.scans import page_png, pages_of_letter, png_size, scan_of_letter, store_pages
from tests import scans
from tests.records.conftest import dump_tables

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ROOT / "demo" / "letters" / "01_opdc_nr1200_w0013.txt"
SCANNED_NUMBER = "นร 1200/ว 0013"
TEXT = ROOT / "demo" / "letters" / "02_dla_mt0812_w1434.txt"
TEXT_NUMBER = "มท 0812/ว 1434"


def tiny_png(width: int, height: int, shade: int = 255) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (width, height), shade).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def scan_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Demo letter 01 printed by Chromium and rasterised: a one-page scan to OCR."""
    reason = scans.chromium_missing() or scans.tesseract_missing()
    if reason:
        pytest.skip(reason)
    text = unicodedata.normalize("NFC", SCANNED.read_text(encoding="utf-8"))
    return scans.render_png(text, tmp_path_factory.mktemp("scan") / "nr1200-w0013.png", dpi=300)


def _letter(session: Session, number: str) -> LetterRow:
    return session.exec(select(LetterRow).where(LetterRow.number == number)).one()


# --- store_pages, without OCR --------------------------------------------------------------------


def test_png_size_reads_the_header() -> None:
    assert png_size(tiny_png(7, 3)) == (7, 3)
    with pytest.raises(ValueError, match="not a PNG"):
        png_size(b"\xff\xd8\xff\xe0 a JPEG")


def test_store_pages_is_idempotent(engine: Engine) -> None:
    pages = [tiny_png(20, 30), tiny_png(40, 50, shade=0)]
    with session_scope(engine) as session:
        assert store_pages(session, "a" * 64, pages) == 2
    with session_scope(engine) as session:
        assert store_pages(session, "a" * 64, pages) == 0
        assert store_pages(session, "b" * 64, pages[:1]) == 1
        assert store_pages(session, "c" * 64, []) == 0
    with session_scope(engine) as session:
        rows = session.exec(select(ScanPage).order_by(ScanPage.sha256, ScanPage.page)).all()
        assert [(r.sha256[0], r.page, r.width, r.height) for r in rows] == [
            ("a", 1, 20, 30), ("a", 2, 40, 50), ("b", 1, 20, 30),
        ]  # fmt: skip
        assert rows[1].png == pages[1] and rows[1].created_at.tzinfo is not None
        assert page_png(session, rows[1].id or 0) == pages[1]
        assert page_png(session, 10_000) is None


def test_a_page_is_stored_once_per_file_and_page(engine: Engine) -> None:
    with session_scope(engine) as session:
        store_pages(session, "a" * 64, [tiny_png(2, 2)])
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(
            sa.insert(ScanPage.__table__).values(  # type: ignore[attr-defined]
                sha256="a" * 64, page=1, png=b"x", width=1, height=1, created_at=sa.func.current_timestamp()
            )
        )


# --- at ingest ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_ingest_keeps_the_pages_of_a_scan_once(engine: Engine, scan_png: Path, tmp_path: Path) -> None:
    first = ingest_file(scan_png, engine, actor="test")
    assert [x.number for x in first.letters] == [SCANNED_NUMBER], first
    with session_scope(engine) as session:
        page = session.exec(select(ScanPage)).one()
        assert (page.sha256, page.page) == (first.sha256, 1)
        assert page.png.startswith(b"\x89PNG")
        from PIL import Image

        with Image.open(scan_png) as image:
            assert (page.width, page.height) == image.size
        letter = _letter(session, SCANNED_NUMBER)
        assert pages_of_letter(session, letter) == [(1, page.id)]
        scan = scan_of_letter(session, letter)
        assert scan is not None and scan.sha256 == first.sha256
    before = dump_tables(engine)
    ingest_file(scan_png, engine, actor="test")  # again: nothing new
    copy = tmp_path / "same-scan-another-name.png"
    copy.write_bytes(scan_png.read_bytes())
    ingest_file(copy, engine, actor="test")  # the same content elsewhere: its pages are there already
    after = dump_tables(engine)
    assert after["scan_page"] == before["scan_page"]
    with session_scope(engine) as session:
        assert len(session.exec(select(ScanPage)).all()) == 1


def test_a_text_letter_has_no_scan(engine: Engine) -> None:
    ingest_file(TEXT, engine, actor="test")
    with session_scope(engine) as session:
        assert session.exec(select(ScanPage)).all() == []
        letter = _letter(session, TEXT_NUMBER)
        assert pages_of_letter(session, letter) == []
        assert scan_of_letter(session, letter) is None
