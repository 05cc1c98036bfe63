"""A clerk's round in a real headless Chromium (Playwright) against uvicorn on a free port.

Upload a letter file → the fields read, each with how it was read → correct one → register →
receipt number N; the next letter gets N+1; dispatch it on; work a letter from the review list.
Screenshots of each step go to tests/artifacts/ (gitignored) for a human to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.main import create_app
from models.db import get_engine, init_db
from models.thai import now_bangkok, to_thai_digits
from tests.app.conftest import serving
from tests.app.test_clerk import AGENCY, BASE, LETTER, SECOND, UNNUMBERED, events

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium"),
]


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    """(base URL, database URL) of a fresh record served by uvicorn."""
    monkeypatch.setenv("SARABAN_UPLOAD_DIR", str(tmp_path / "uploads"))
    url = f"sqlite:///{tmp_path / 'saraban.db'}"
    init_db(get_engine(url))
    with serving(create_app(url), "clerk-dashboard") as base:
        yield base, url


@pytest.fixture
def page(served: tuple[str, str]):  # type: ignore[no-untyped-def]
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = chromium.new_context(
            base_url=served[0], viewport={"width": 1280, "height": 900}, locale="th-TH"
        )
        yield context.new_page()
        context.close()
        chromium.close()


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"clerk-{name}.png"), full_page=True)


def _upload(page, tmp_path: Path, name: str, text: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    page.goto(f"{BASE}/receive")
    page.set_input_files('input[name="file"]', str(path))
    page.fill('input[name="clerk"]', "สมศรี")
    page.click("text=อ่านไฟล์")
    page.wait_for_url("**/receive/check?**")


def test_upload_read_correct_receipt(page, served: tuple[str, str], tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    year = str(now_bangkok().year)
    _upload(page, tmp_path, "หนังสือเวียน.txt", LETTER)
    letter = page.locator("section.letter-check")
    assert letter.count() == 1
    assert letter.locator('tr[data-field="subject"]').get_attribute("data-status") == "read"
    assert letter.locator('tr[data-field="salutation"] .badge').inner_text() == "อ่านไม่ได้"
    assert "ต่อเนี่อง" in letter.locator('textarea[name="subject"]').input_value()
    _shot(page, "1-read")

    # Correct the subject and fill in the missing salutation, then register.
    letter.locator('textarea[name="subject"]').fill("การจัดส่งแผนดำเนินงานธุรกิจอย่างต่อเนื่อง")
    letter.locator('input[name="salutation"]').fill("ผู้ว่าราชการจังหวัดทุกจังหวัด")
    letter.locator('input[name="reason"]').fill("สระอื อ่านผิดเป็นสระอี")
    letter.locator('input[name="clerk"]').fill("สมศรี")
    _shot(page, "2-corrected")
    letter.locator("text=ลงทะเบียนรับและออกเลขรับ").click()
    page.wait_for_url("**/receipts/*")
    number = page.locator("#receipt-number")
    assert (number.get_attribute("data-number"), number.get_attribute("data-year")) == ("1", year)
    assert number.inner_text() == f"๑/{to_thai_digits(str(int(year) + 543))}"
    _shot(page, "3-receipt-number")
    # The POST answered with a redirect: reloading the receipt page registers nothing again.
    page.reload()
    assert [e[0] for e in events(served[1])].count("receipt.registered") == 1

    # The next letter: N+1.
    _upload(page, tmp_path, "second.txt", SECOND)
    page.locator("text=ลงทะเบียนรับและออกเลขรับ").click()
    page.wait_for_url("**/receipts/*")
    assert page.locator("#receipt-number").get_attribute("data-number") == "2"

    # The inbox: both waiting; send the first on to two districts.
    page.goto(f"{BASE}/inbox")
    assert page.locator("tr[data-receipt]").count() == 2
    _shot(page, "4-inbox")
    page.locator("tr[data-receipt]", has_text="ว 4412").get_by_role("link", name="ส่งต่อ").click()
    page.wait_for_url("**/dispatch?**")
    page.check('input[value="district:5401"]')
    page.check('input[value="district:5402"]')
    page.fill('input[name="clerk"]', "สมศรี")
    _shot(page, "5-dispatch")
    page.click("text=บันทึกการส่ง")
    page.wait_for_url("**/outbox?**")
    assert page.locator("#sent").inner_text().strip().startswith("บันทึกการส่งหนังสือแล้ว")
    assert page.locator("tr[data-dispatch] ul.recipients li").count() == 2
    _shot(page, "6-outbox")
    page.goto(f"{BASE}/inbox")
    assert page.locator("tr[data-receipt]").count() == 1


def test_review_from_the_web(page, served: tuple[str, str], tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _upload(page, tmp_path, "unnumbered.txt", UNNUMBERED)
    assert page.locator("section.letter-check").count() == 0
    page.locator("#reviews a").first.click()
    page.wait_for_url("**/review/*")
    page.fill('input[name="number"]', "มท ๐๘๑๖.๓/ว ๔๕๐๐")
    page.fill('input[name="date"]', "๒๐ มิถุนายน ๒๕๖๓")
    page.fill('input[name="clerk"]', "สมศรี")
    _shot(page, "7-review")
    page.get_by_role("button", name="บันทึก", exact=True).click()
    page.wait_for_selector("#resolved")
    page.locator("#resolved a.button").click()
    page.wait_for_url("**/receive/check?**")
    page.locator("text=ลงทะเบียนรับและออกเลขรับ").click()
    page.wait_for_url("**/receipts/*")
    assert page.locator("#receipt-number").get_attribute("data-number") == "1"
    assert AGENCY in page.url
    _shot(page, "8-review-receipt")
