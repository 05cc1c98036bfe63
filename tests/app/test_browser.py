"""The dashboard in a real headless Chromium (Playwright), served by uvicorn on a free port.

Walks what an administrator does on the seed chain: the circulars list, a circular with its
overdue handoffs, the graph, a click on an agency in the SVG, a letter. Screenshots of each page
go to tests/artifacts/ (gitignored) for a human to look at.
"""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
import uvicorn

from app.main import create_app
from app.queries import HANDOFF_STATUSES
from tests.app.conftest import NATIONAL_ID, Record

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def base_url(chain_record: Record) -> Iterator[str]:
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(chain_record.url, prefect_ui_url="http://127.0.0.1:4200"),
            host="127.0.0.1",
            port=port,
            log_level="warning",
        )
    )
    thread = threading.Thread(target=server.run, name="dashboard", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, base_url: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=base_url, viewport={"width": 1360, "height": 900}, locale="th-TH")
    pg = context.new_page()
    yield pg
    context.close()


def _shot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"dashboard-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _web_font_loaded(page) -> bool:  # type: ignore[no-untyped-def]
    page.evaluate("document.fonts.ready")
    script = (
        "Array.from(document.fonts)"
        ".some(f => f.family.replace(/\"/g, '') === 'Loma' && f.status === 'loaded')"
    )
    return bool(page.evaluate(script))


def worst(statuses: list[str]) -> str:
    return min(statuses, key=HANDOFF_STATUSES.index)


def test_walk_the_seed_chain(page, chain_id: str, chain_record: Record) -> None:  # type: ignore[no-untyped-def]
    with sqlite3.connect(f"file:{chain_record.path}?mode=ro", uri=True) as con:
        phrae_statuses = [
            s for (s,) in con.execute("SELECT status FROM handoff WHERE recipient_id = 'province:54'")
        ]
    page.goto("/")
    assert page.locator(f'tr[data-circular="{chain_id}"]').count() == 1
    assert _web_font_loaded(page), "the shipped Thai font (static/fonts/Loma.ttf) was not used"
    _shot(page, "home")

    # The circular: overdue handoffs first, highlighted.
    page.locator(f'tr[data-circular="{chain_id}"] a').first.click()
    page.wait_for_url(f"**/circulars/{quote(chain_id, safe='')}*")
    rows = page.locator("#handoffs tr[data-agency]")
    classes = [rows.nth(i).get_attribute("class") for i in range(rows.count())]
    overdue = classes.count("row-overdue")
    assert overdue >= 1 and classes[:overdue] == ["row-overdue"] * overdue
    assert page.locator("#handoffs tr.row-overdue .badge").first.inner_text() == "เกินกำหนด"
    assert page.locator("a.prefect").get_attribute("href").startswith("http://127.0.0.1:4200/runs?")
    _shot(page, "circular")

    # The graph: click Phrae's node in the SVG and land on its agency page.
    node = page.locator('#graph svg g.node[id="province:54"]')
    assert node.count() == 1
    node.scroll_into_view_if_needed()
    page.locator("#graph").screenshot(path=str(ARTIFACTS / "dashboard-graph.png"))
    node.locator("a").first.click()
    page.wait_for_url("**/agencies/province:54")
    assert page.locator("h1").inner_text().startswith("จังหวัดแพร่")
    received = page.locator("#received tr[data-agency]")
    assert received.count() == len(phrae_statuses)
    assert received.first.get_attribute("class") == f"row-{worst(phrae_statuses)}"
    assert page.locator("#issued").get_by_text("พร 0023.1/ว 3026").count() >= 1
    _shot(page, "agency")

    # A letter Phrae issued: its source text in the Thai font, its citations.
    page.locator("#issued a.number").first.click()
    page.wait_for_url("**/letters/**")
    assert "พร 0023.1/ว 3026" in unquote(page.url)
    text = page.locator("pre.letter-text")
    assert text.count() == 1 and "แพร่" in text.inner_text()
    family = text.evaluate("e => getComputedStyle(e).fontFamily")
    assert family.split(",")[0].strip("\"' ") == "Loma"
    assert page.locator("#cites li").count() >= 1
    _shot(page, "letter")


def test_national_view_collapses_and_drills_down(page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"/circulars/{quote(NATIONAL_ID, safe='')}")
    assert page.locator('#graph svg g.node[id^="district:"]').count() == 0
    assert page.locator('#graph svg g.node[id^="province:"]').count() == 77
    page.locator("#graph").screenshot(path=str(ARTIFACTS / "dashboard-national-graph.png"))
    page.select_option('select[name="province"]', "54")
    page.locator("form.filters button").click()
    page.wait_for_url("**province=54**")
    assert page.locator('#graph svg g.node[id^="district:54"]').count() >= 2
    keys = page.locator("#handoffs tr[data-agency]").evaluate_all("rows => rows.map(r => r.dataset.agency)")
    assert keys and all(k == "province:54" or k.startswith("district:54") for k in keys)
    _shot(page, "national-phrae")
