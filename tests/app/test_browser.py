"""The dashboard in a real headless Chromium (Playwright), served by uvicorn on a free port.

Walks what an administrator does on the seed chain: the circulars list, a circular with its
overdue handoffs, the graph, a click on an agency in the SVG, a letter. Screenshots of each page
go to tests/artifacts/ (gitignored) for a human to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, unquote

import pytest

from app.main import create_app
from tests.app.conftest import NATIONAL_ID, Record, serving
from tests.app.test_pages import AS_OF, truth

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


@pytest.fixture(scope="module")
def base_url(chain_record: Record) -> Iterator[str]:
    with serving(create_app(chain_record.url, prefect_ui_url="http://127.0.0.1:4200"), "dashboard") as base:
        yield base


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


def _shot_graph(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    """The whole drawing, not the part the scrolling frame shows: the frame is let out first."""
    page.locator("#graph div.graph").evaluate(
        "e => { e.style.maxHeight = 'none'; e.style.overflow = 'visible'; }"
    )
    path = ARTIFACTS / name
    page.locator("#graph svg").screenshot(path=str(path))
    page.locator("#graph div.graph").evaluate("e => { e.style.maxHeight = ''; e.style.overflow = ''; }")
    return path


WORST_FIRST = ("overdue", "blocked", "late", "pending", "done")  # the pages' order of a circular's rows


def worst(statuses: list[str]) -> str:
    return min(statuses, key=WORST_FIRST.index)


def test_walk_the_seed_chain(page, chain_id: str, chain_record: Record) -> None:  # type: ignore[no-untyped-def]
    phrae_statuses = [s for agency, _, s in truth(chain_record, chain_id) if agency == "province:54"]
    page.goto(f"/?as_of={AS_OF}")
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
    _shot_graph(page, "dashboard-graph.png")
    node.scroll_into_view_if_needed()
    node.locator("a").first.click()
    page.wait_for_url("**/agencies/province:54*")
    assert page.locator("h1").inner_text().startswith("จังหวัดแพร่")
    received = page.locator("#received tr[data-agency]:not(.row-forwarded)")
    assert received.count() == len(phrae_statuses)
    assert received.first.get_attribute("class") == f"row-{worst(phrae_statuses)}"
    # What Phrae received from DLA: both of DLA's circulars, which Phrae's own letter encloses.
    in_chain = page.locator(f'a[href="/circulars/{quote(chain_id, safe="")}"]')
    from_dla = received.filter(has=page.locator('a[href="/agencies/dla"]')).filter(has=in_chain)
    assert from_dla.count() == 1
    assert from_dla.locator("a.number").all_inner_texts() == ["มท 0812/ว 1217", "มท 0812/ว 1434"]
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


def test_a_letter_on_an_edge_opens_its_page(page, chain_id: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"/circulars/{quote(chain_id, safe='')}?as_of=2020-07-01")
    edge = page.locator('#graph svg g.edge[id$=":dla->province:54"]')
    assert edge.count() == 1
    links = edge.locator("a")
    hrefs = [unquote(h or "") for h in links.evaluate_all("as => as.map(a => a.getAttribute('xlink:href'))")]
    assert any("มท 0812/ว 1217" in h for h in hrefs) and any("มท 0812/ว 1434" in h for h in hrefs)
    # The legend sits whole inside the drawing, title first.
    legend = page.locator('#graph svg g.node[id="legend"]')
    assert legend.count() == 1 and legend.locator("text").first.text_content() == "คำอธิบายสัญลักษณ์"
    inside = legend.evaluate(
        "g => { const s = g.ownerSVGElement.getBoundingClientRect(), b = g.getBoundingClientRect();"
        " return b.top >= s.top && b.left >= s.left && b.bottom <= s.bottom && b.right <= s.right; }"
    )
    assert inside, "the legend is drawn whole inside the SVG"
    label = edge.get_by_text("มท 0812/ว 1434", exact=False)
    label.scroll_into_view_if_needed()
    label.click()
    page.wait_for_url("**/letters/**")
    assert "มท 0812/ว 1434" in unquote(page.url) and "date=2020-05-14" in page.url
    assert "มท 0812/ว 1434" in page.locator("h1").inner_text()


def test_national_view_collapses_and_drills_down(page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"/circulars/{quote(NATIONAL_ID, safe='')}")
    assert page.locator('#graph svg g.node[id^="district:"]').count() == 0
    assert page.locator('#graph svg g.node[id^="province:"]').count() == 77
    _shot_graph(page, "dashboard-national-graph.png")
    page.select_option('select[name="province"]', "54")
    page.locator("form.filters button").click()
    page.wait_for_url("**province=54**")
    assert page.locator('#graph svg g.node[id^="district:54"]').count() >= 2
    keys = page.locator("#handoffs tr[data-agency]").evaluate_all("rows => rows.map(r => r.dataset.agency)")
    assert keys and all(k == "province:54" or k.startswith("district:54") for k in keys)
    _shot(page, "national-phrae")


def test_planned_dates_never_in_sent_or_received_columns(page, chain_id: str) -> None:  # type: ignore[no-untyped-def]
    """After a routing run (`route_plainly`, in `chain_record`), the circular page keeps what only the
    plan expects out of the sent/received/forwarded columns, and the as-of form changes the day."""
    page.goto(f"/circulars/{quote(chain_id, safe='')}?as_of=2020-07-01&graph=0&province=21")
    assert page.locator("#as-of-day").get_attribute("data-as-of") == "2020-07-01"
    for column in ("sent", "received", "forwarded"):
        cells = page.locator(f"table.truth td.col-{column}")
        assert cells.count() > 0
        assert cells.locator(".planned").count() == 0
        assert all("คาดว่า" not in text for text in cells.all_inner_texts())
    expected = page.locator("table.truth td.col-expected .planned")
    assert expected.count() > 0 and "คาดว่า" in expected.first.inner_text()
    assert expected.first.evaluate("e => getComputedStyle(e).fontStyle") == "italic"
    assert page.locator("tr.row-blocked").count() > 0
    _shot(page, "truth-circular-2020-07-01")

    page.fill("form.as-of input[name=as_of]", "2020-06-05")
    page.click("form.as-of button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#as-of-day").get_attribute("data-as-of") == "2020-06-05"
    assert "as_of=2020-06-05" in page.url and "province=21" in page.url
    # On 5 June nothing was due yet at the province: Rayong is pending, not overdue.
    assert page.locator('tr[data-agency="province:21"]').get_attribute("class") == "row-pending"
    _shot(page, "truth-circular-2020-06-05")
