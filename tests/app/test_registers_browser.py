"""The register pages in a real headless Chromium (Playwright): Rayong's receipt register on the
dashboard, its downloads opened as Excel and PDF, and the page as it prints (print.css).

Screenshots go to tests/artifacts/ (dashboard-register.png, dashboard-register-print.png).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from app.main import create_app
from tests.app.conftest import Record, serving
from tests.app.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium"),
]

REGISTER = "/agencies/province:21/registers/received"
RECEIPT, LETTER = "1515", "มท 0218/ว 3182"


@pytest.fixture(scope="module")
def base_url(chain_record: Record) -> Iterator[str]:
    with serving(create_app(chain_record.url), "dashboard-registers") as base:
        yield base


@pytest.fixture
def page(base_url: str):  # type: ignore[no-untyped-def]
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(
            base_url=base_url, viewport={"width": 1360, "height": 900}, locale="th-TH", accept_downloads=True
        )
        yield context.new_page()
        context.close()
        browser.close()


def _download(page, fmt: str) -> bytes:  # type: ignore[no-untyped-def]
    with page.expect_download() as info:
        page.locator(f'a[data-format="{fmt}"]').click()
    path = info.value.path()
    assert info.value.suggested_filename == f"register-received-province-21-2563.{fmt}"
    return Path(path).read_bytes()


def test_rayongs_receipt_register_on_the_dashboard(page) -> None:  # type: ignore[no-untyped-def]
    page.goto(REGISTER)
    assert page.locator("h1").inner_text() == "ทะเบียนหนังสือรับ จังหวัดระยอง พ.ศ. 2563"
    headers = page.locator("table.register thead th").all_inner_texts()
    assert headers == ["เลขทะเบียนรับ", "ที่", "ลงวันที่", "จาก", "ถึง", "เรื่อง", "การปฏิบัติ", "หมายเหตุ"]
    assert page.locator("table.register tr.day").first.inner_text() == "วันที่ 2 มิถุนายน 2563"
    row = page.locator("table.register tbody tr", has_text=RECEIPT)
    assert row.locator("td").nth(0).inner_text() == RECEIPT
    assert row.locator("td").nth(1).inner_text() == LETTER
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-register.png"), full_page=True)

    # The other register and the year stay one click away.
    page.get_by_role("link", name="ทะเบียนหนังสือส่ง").click()
    page.wait_for_url(f"**/agencies/{quote('province:21', safe=':')}/registers/sent?year=2563")
    assert page.locator("h1").inner_text() == "ทะเบียนหนังสือส่ง จังหวัดระยอง พ.ศ. 2563"
    page.go_back()

    # The downloads: Excel and PDF as a clerk opens them.
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    sheet = load_workbook(io.BytesIO(_download(page, "xlsx"))).active
    assert [RECEIPT, LETTER] in [[c.value for c in r][1:3] for r in sheet.iter_rows(min_row=3)]
    pdf = _download(page, "pdf")
    assert pdf.startswith(b"%PDF")
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        text = "".join(p.get_textpage().get_text_range() for p in doc)
    finally:
        doc.close()
    assert RECEIPT in text and LETTER in text
    assert _download(page, "csv").startswith(b"\xef\xbb\xbf")


def test_the_register_prints_as_the_form(page) -> None:  # type: ignore[no-untyped-def]
    """print.css: no navigation or forms on paper, the table the sheet's full width with its header
    repeated, A4 landscape for a register."""
    page.goto(REGISTER)
    page.emulate_media(media="print")
    for hidden in ("header.top", "form.as-of button", "nav.register-tools"):
        assert not page.locator(hidden).first.is_visible(), hidden
    assert page.locator("table.register").is_visible()
    assert (
        page.locator("table.register thead").evaluate("e => getComputedStyle(e).display")
        == "table-header-group"
    )
    widths = page.evaluate(
        "[document.querySelector('table.register').getBoundingClientRect().width,"
        " document.querySelector('main').getBoundingClientRect().width, document.body.clientWidth]"
    )
    assert widths[0] >= widths[1] - 1 and widths[1] >= widths[2] - 1, widths
    page.screenshot(path=str(ARTIFACTS / "dashboard-register-print.png"), full_page=True)

    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(page.pdf(prefer_css_page_size=True))
    try:
        width, height = doc[0].get_size()
    finally:
        doc.close()
    assert round(width) == 842 and round(height) == 595, (width, height)  # A4 landscape, in points
