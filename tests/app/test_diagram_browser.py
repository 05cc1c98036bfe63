"""The circular page's diagram in a real headless Chromium: fitted on load, zoom and pan with the
pointer, the wheel, the buttons and the keyboard (app/static/diagram.js), `blocked` drawn apart,
a national circular navigable from province to district, and a message instead of an empty frame.

Screenshots go to tests/artifacts/diagram-*.png for a human to look at.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest

from tests.app import test_browser
from tests.app.conftest import NATIONAL_ID, Record
from tests.app.test_browser import ARTIFACTS
from tests.app.test_pages import AS_OF, truth
from visualize.diagrams import DRILL_TEXT, STATUS_STYLE

# The dashboard served on the seed chain (and the national circular) in Chromium: test_browser's fixtures.
base_url = test_browser.base_url
browser = test_browser.browser
page = test_browser.page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="no Chromium"),
]

FRAME = "#graph div.graph[data-diagram]"
MIN_HEIGHT = 420  # diagram.js: never a blank frame


def _shot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"diagram-{name}.png"
    page.locator(FRAME).screenshot(path=str(path))
    return path


def _ready(page):  # type: ignore[no-untyped-def]
    frame = page.locator(FRAME)
    frame.wait_for()
    page.wait_for_function("document.querySelector('#graph [data-diagram]').dataset.diagramReady === '1'")
    page.evaluate("document.fonts.ready")
    return frame


def _view(page) -> list[float]:  # type: ignore[no-untyped-def]
    box = page.locator(f"{FRAME} svg").get_attribute("viewBox") or ""
    return [float(v) for v in box.split()]


def _zoom(page) -> float:  # type: ignore[no-untyped-def]
    return float(page.locator(FRAME).get_attribute("data-zoom") or "nan")


def _visible_share(page) -> float:  # type: ignore[no-untyped-def]
    """How much of the drawing's own graph group lies inside the frame (1: all of it)."""
    return float(
        page.evaluate(
            """() => {
              const svg = document.querySelector('#graph [data-diagram] svg');
              const g = svg.querySelector('g.graph');
              const s = svg.getBoundingClientRect(), b = g.getBoundingClientRect();
              const w = Math.max(0, Math.min(s.right, b.right) - Math.max(s.left, b.left));
              const h = Math.max(0, Math.min(s.bottom, b.bottom) - Math.max(s.top, b.top));
              return (w * h) / (b.width * b.height);
            }"""
        )
    )


def test_the_diagram_fits_on_load_then_zooms_and_pans(page, chain_id: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"/circulars/{quote(chain_id, safe='')}?as_of={AS_OF}")
    frame = _ready(page)
    svg = frame.locator("svg")
    home = _view(page)
    assert len(home) == 4 and home[2] > 0 and home[3] > 0
    # Fitted: dot's fixed size is gone, the whole drawing shows inside a frame that is not blank.
    assert svg.get_attribute("width") is None and svg.get_attribute("height") is None
    assert _zoom(page) == 1.0
    stage = frame.locator(".diagram-stage").bounding_box()
    assert stage is not None and stage["height"] >= MIN_HEIGHT
    assert _visible_share(page) > 0.99
    # Thai labels are drawn in the Loma font the app ships.
    family = frame.locator("svg g.node text").first.evaluate("t => getComputedStyle(t).fontFamily")
    assert family.split(",")[0].strip("\"' ") == "Loma"
    _shot(page, "fitted")

    # The + button zooms in around the centre; the view box shrinks by the step.
    frame.get_by_role("button", name="ขยาย (ปุ่ม +)").click()
    assert _zoom(page) == pytest.approx(1.25, abs=0.001)
    assert _view(page)[2] == pytest.approx(home[2] / 1.25, rel=1e-3)
    # The wheel zooms in further, around the pointer.
    box = frame.locator(".diagram-stage").bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.4)
    page.mouse.wheel(0, -300)
    page.wait_for_function(f"Number(document.querySelector('{FRAME}').dataset.zoom) > 1.3")
    zoomed = _zoom(page)
    # A drag pans: the view moves, the zoom stays, and no link was followed.
    url = page.url
    before = _view(page)
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx - 120, cy - 60, steps=6)
    page.mouse.up()
    after = _view(page)
    assert after[0] > before[0] and after[1] > before[1], (before, after)
    assert after[2] == pytest.approx(before[2]) and _zoom(page) == pytest.approx(zoomed)
    assert page.url == url
    _shot(page, "zoomed")
    assert _visible_share(page) < 0.9, "zoomed in, part of the drawing is out of the frame"

    # Keyboard: 0 fits, + zooms, arrows pan, − zooms out.
    frame.focus()
    page.keyboard.press("0")
    assert _zoom(page) == 1.0 and _view(page) == pytest.approx(home)
    page.keyboard.press("+")
    assert _zoom(page) == pytest.approx(1.25, abs=0.001)
    x0 = _view(page)[0]
    page.keyboard.press("ArrowRight")
    assert _view(page)[0] > x0
    page.keyboard.press("-")
    assert _zoom(page) == pytest.approx(1.0, abs=0.001)
    frame.get_by_role("button", name="ย่อให้พอดีกรอบ (ปุ่ม 0)").click()
    assert _view(page) == pytest.approx(home)

    # A click that does not drag still follows an agency's link, zoomed or not.
    page.keyboard.press("+")
    node = frame.locator('svg g.node[id="province:54"] a').first
    node.click()
    page.wait_for_url("**/agencies/province:54*")


def test_blocked_agencies_are_drawn_apart_and_named_in_the_legend(
    page, chain_id: str, chain_record: Record
) -> None:  # type: ignore[no-untyped-def]
    """As of 1 July 2020 Rayong never forwarded DLA's circular: its districts are blocked, in the
    tables and in the diagram alike, drawn in their own colour with a dashed outline."""
    blocked = {agency for agency, _, status in truth(chain_record, chain_id) if status == "blocked"}
    in_rayong = {a for a in blocked if a.startswith("district:21")}
    assert in_rayong, "the seed chain has blocked districts in Rayong as of 1 July 2020"
    page.goto(f"/circulars/{quote(chain_id, safe='')}?as_of={AS_OF}&province=21")
    frame = _ready(page)
    drawn = set(frame.locator("svg g.node.status-blocked").evaluate_all("gs => gs.map(g => g.id)"))
    assert in_rayong <= drawn
    assert drawn <= blocked, drawn - blocked
    fill = STATUS_STYLE["blocked"][1]
    first = frame.locator(f'svg g.node[id="{sorted(in_rayong)[0]}"] path').first
    assert first.get_attribute("fill") == fill
    assert first.get_attribute("stroke-dasharray") is not None
    legend = frame.locator('svg g.node[id="legend"]')
    assert legend.get_by_text("ยังไม่ได้รับ (ค้างที่ต้นทาง: เลยกำหนดแล้ว)").count() == 1
    assert legend.locator(f'[fill="{fill}"]').count() >= 1
    # The table's blocked rows are the diagram's blocked agencies.
    rows = set(page.locator("#handoffs tr.row-blocked").evaluate_all("rs => rs.map(r => r.dataset.agency)"))
    assert rows and rows <= drawn
    # Zoomed in on a blocked district with the wheel: the district stays under the pointer.
    district = frame.locator(f'svg g.node[id="{sorted(in_rayong)[0]}"]')
    frame.scroll_into_view_if_needed()
    box = district.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    for _ in range(3):
        page.mouse.wheel(0, -200)
    page.wait_for_function(f"Number(document.querySelector('{FRAME}').dataset.zoom) > 3")
    after = district.bounding_box()
    assert after is not None and after["width"] > 3 * box["width"]
    assert after["x"] <= x <= after["x"] + after["width"] and after["y"] <= y <= after["y"] + after["height"]
    _shot(page, "rayong-blocked")


def test_a_national_circular_navigates_from_province_to_district(page) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"/circulars/{quote(NATIONAL_ID, safe='')}?as_of=2021-03-26")
    frame = _ready(page)
    assert frame.locator('svg g.node[id^="province:"]').count() == 77
    assert _visible_share(page) > 0.99
    _shot(page, "national")
    # A folded province carries a link to this page narrowed to it, keeping the day; the node
    # itself still leads to the province's own page.
    phrae = frame.locator('svg g.node[id="province:54"]')
    hrefs = phrae.locator("a").evaluate_all("as => as.map(a => a.getAttribute('xlink:href'))")
    assert hrefs[0] == "/agencies/province:54"
    assert "?province=54&as_of=2021-03-26#graph" in hrefs
    frame.get_by_role("button", name="ขยาย (ปุ่ม +)").click()
    phrae.get_by_text(DRILL_TEXT).click()
    page.wait_for_url("**province=54**")
    query = parse_qs(urlsplit(page.url).query)
    assert query["province"] == ["54"] and query["as_of"] == ["2021-03-26"]
    assert urlsplit(page.url).path == f"/circulars/{quote(NATIONAL_ID, safe='')}"
    frame = _ready(page)
    districts = frame.locator('svg g.node[id^="district:54"]')
    assert districts.count() >= 2
    assert _visible_share(page) > 0.99
    _shot(page, "national-phrae")
    # ... and each district leads on to its own page.
    target = districts.first.get_attribute("id")
    districts.first.locator("a").first.click()
    page.wait_for_url("**/agencies/district:54*")
    assert unquote(urlsplit(page.url).path) == f"/agencies/{target}"


def test_a_filter_without_a_diagram_says_so_instead_of_an_empty_frame(page, chain_id: str) -> None:  # type: ignore[no-untyped-def]
    # Bangkok (10) is outside the seed chain's scope (Nonthaburi, Rayong, Phrae).
    page.goto(f"/circulars/{quote(chain_id, safe='')}?as_of={AS_OF}&province=10")
    section = page.locator("#graph")
    if section.count() == 0:
        pytest.fail("the graph section is missing under a filter")
    assert page.locator(FRAME).count() == 0
    message = page.locator("#graph .graph-empty")
    assert message.is_visible() and "ไม่มีแผนภาพสำหรับตัวกรองนี้" in message.inner_text()
    box = message.bounding_box()
    assert box is not None and box["height"] > 20
    message.screenshot(path=str(ARTIFACTS / "diagram-empty-filter.png"))


def test_without_the_script_the_drawing_keeps_its_size_in_a_scrolling_frame(
    browser, base_url: str, chain_id: str
) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(
        base_url=base_url, viewport={"width": 1360, "height": 900}, java_script_enabled=False
    )
    try:
        page = context.new_page()
        page.goto(f"/circulars/{quote(chain_id, safe='')}?as_of={AS_OF}")
        frame = page.locator("#graph div.graph[data-diagram]")
        assert frame.count() == 1 and frame.locator(".diagram-tools").count() == 0
        assert frame.evaluate("e => getComputedStyle(e).overflow") == "auto"
        svg = frame.locator("svg")
        assert svg.get_attribute("width") is not None  # dot's own size, nothing clipped
        assert svg.locator('g.node[id="province:54"]').count() == 1
    finally:
        context.close()
