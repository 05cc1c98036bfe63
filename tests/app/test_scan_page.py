"""The letter page shows the scan a letter was read from, beside the fields read from it."""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from app.main import create_app
from models.db import get_engine, init_db, session_scope
from models.letters import FieldReading, FieldStatus, Letter, SourceRef
from models.tables import ScanPage
from records.ingest import ingest_file
from records.scans import store_pages
from records.service import ingest_letters
from tests import scans
from tests.records.conftest import fresh_database

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ROOT / "demo" / "letters" / "01_opdc_nr1200_w0013.txt"
SCANNED_NUMBER = "นร 1200/ว 0013"
TEXT = ROOT / "demo" / "letters" / "02_dla_mt0812_w1434.txt"
TEXT_NUMBER = "มท 0812/ว 1434"
SYNTHETIC_SHA = "5" * 64


def _png(width: int, height: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (width, height), 200).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty record (SQLite file, or a fresh PostgreSQL schema), migrated."""
    for found in fresh_database(request.param, tmp_path):
        init_db(get_engine(found))
        yield found


def _client(url: str) -> TestClient:
    return TestClient(create_app(url))


def _letter_page(client: TestClient, number: str) -> str:
    response = client.get("/letters/" + quote(number, safe=""))
    assert response.status_code == 200, response.text
    return response.text


def test_the_letter_page_shows_its_pages_and_each_fields_reading(url: str) -> None:
    """Without OCR: a letter with a repaired and a missing reading, and two page images of its file."""
    letter = Letter(
        number="นร 1200/ว 0099",
        date=date(2020, 5, 5),
        issuer="สำนักงาน ก.พ.ร.",
        subject="ทดสอบ <b>ภาพ</b> สแกน",
        source=SourceRef(file="scans/synthetic.png", line=2),
        text="ที่ นร ๑๒๐๐/ว๐๐๙๙",
        readings=(
            FieldReading(
                field="number", status=FieldStatus.REPAIRED, line=2, raw="นร ๑๒๐๐/๖๐๐๙๙", note="ว read as ๖"
            ),
            FieldReading(field="signer", status=FieldStatus.MISSING, note="no signature block"),
        ),
    )
    pages = [_png(30, 40), _png(30, 40)]
    engine = get_engine(url)
    with session_scope(engine) as session:
        ingest_letters(session, [letter], file="scans/synthetic.png", sha256=SYNTHETIC_SHA, actor="test")
        store_pages(session, SYNTHETIC_SHA, pages)
    with session_scope(engine) as session:
        ids = [r.id for r in session.exec(select(ScanPage).order_by(ScanPage.page))]
    with _client(url) as client:
        html = _letter_page(client, "นร 1200/ว 0099")
        for page_id in ids:
            assert f'src="/scans/{page_id}.png"' in html
        scan = html[html.index('id="scan"') : html.index('id="receipts"')]
        assert "หน้า 2" in scan
        assert "แก้คำอ่านแล้ว" in scan and "(repaired)" in scan and "ว read as ๖" in scan
        assert "อ่านไม่ได้" in scan and "(missing)" in scan and "no signature block" in scan
        assert "ทดสอบ &lt;b&gt;ภาพ&lt;/b&gt; สแกน" in scan  # escaped
        got = client.get(f"/scans/{ids[1]}.png")
        assert got.status_code == 200
        assert got.headers["content-type"] == "image/png"
        assert got.content == pages[1]
        assert client.get("/scans/999999.png").status_code == 404
        assert client.get("/scans/x.png").status_code in (400, 404, 422)


@pytest.mark.slow
def test_a_scanned_letter_links_its_page_and_a_text_letter_none(url: str, tmp_path: Path) -> None:
    reason = scans.chromium_missing() or scans.tesseract_missing()
    if reason:
        pytest.skip(reason)
    text = unicodedata.normalize("NFC", SCANNED.read_text(encoding="utf-8"))
    png = scans.render_png(text, tmp_path / "nr1200-w0013.png", dpi=300)
    engine = get_engine(url)
    ingest_file(png, engine, actor="test")
    ingest_file(TEXT, engine, actor="test")
    with session_scope(engine) as session:
        page = session.exec(select(ScanPage)).one()
    with _client(url) as client:
        html = _letter_page(client, SCANNED_NUMBER)
        links = re.findall(r'src="/scans/(\d+)\.png"', html)
        assert links == [str(page.id)]
        got = client.get(f"/scans/{page.id}.png")
        assert got.headers["content-type"] == "image/png"
        assert got.content == page.png
        plain = _letter_page(client, TEXT_NUMBER)
        assert "/scans/" not in plain and 'id="scan"' not in plain
