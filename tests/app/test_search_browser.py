"""Search and sortable tables in a real headless Chromium (Playwright), and through the app's client.

A person types subject words (Thai, no spaces) or a number in Thai digits into the header's search
box, narrows by agency and dates, clicks column headers to sort the results, the circulars on the
home page and a circular's handoffs, and pages on with the sort kept. Screenshots go to
tests/artifacts/ (gitignored).
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from fastapi.testclient import TestClient

from tests.app import test_browser as on_chromium
from tests.app.conftest import NATIONAL_ID, NATIONAL_ROOT, Record
from tests.app.test_browser import ARTIFACTS, CHROMIUM

# The dashboard served by uvicorn and a headless Chromium page on it: test_browser's fixtures.
base_url, browser, page = on_chromium.base_url, on_chromium.browser, on_chromium.page
MEETING_NUMBER = "มท 0218/ว 3182"  # the Interior circular of the seed chain


def _shot(pg, name: str) -> Path:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"dashboard-{name}.png"
    pg.screenshot(path=str(path), full_page=True)
    return path


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def _column(pg, selector: str) -> list[str]:  # type: ignore[no-untyped-def]
    cells = pg.locator(selector)
    return [cells.nth(i).inner_text().strip() for i in range(cells.count())]


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium")
def test_search_by_subject(page) -> None:  # type: ignore[no-untyped-def]
    page.goto("/")
    box = page.get_by_role("search").locator("input[name=q]")
    # Thai has no spaces: three words of the subject typed as one run.
    box.fill("แผนบริหารความพร้อม")
    box.press("Enter")
    page.wait_for_url("**/search?*")
    assert _query(page.url)["q"] == ["แผนบริหารความพร้อม"]
    numbers = [n for n in (page.locator("tr[data-letter]").nth(i).get_attribute("data-letter")
                           for i in range(page.locator("tr[data-letter]").count()))]  # fmt: skip
    assert MEETING_NUMBER in numbers
    assert NATIONAL_ROOT not in numbers  # the synthetic national circular says nothing of the plan
    subjects = _column(page, "table.search-results tbody td:nth-child(3)")
    # Every word of the run, in any order and place (a search for words, not for the phrase).
    assert subjects and all(w in s for s in subjects for w in ("แผน", "บริหาร", "ความพร้อม")), subjects
    assert page.locator("#results h2").inner_text().count("แผน") >= 1
    _shot(page, "search")

    # Narrowed by agency and a date range, through the form; the filters stay in the URL.
    form = page.locator("form.filters.search")
    form.locator("select[name=agency]").select_option(label="กระทรวงมหาดไทย")
    form.locator("input[name=date_from]").fill("2020-06-01")
    form.locator("input[name=date_to]").fill("2020-06-30")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**agency=*")
    query = _query(page.url)
    assert query["q"] == ["แผนบริหารความพร้อม"] and query["date_from"] == ["2020-06-01"]
    assert _column(page, "tr[data-letter] td:nth-child(1) a.number") == [MEETING_NUMBER]

    # A whole number in Thai digits, ว with its dot, lands on the letter as the box always did.
    box = page.get_by_role("search").first.locator("input[name=q]")
    box.fill("มท ๐๒๑๘/ว. ๓๑๘๒")
    box.press("Enter")
    page.wait_for_url("**/letters/**")
    assert urlsplit(page.url).path == "/letters/" + quote(MEETING_NUMBER, safe="")


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium")
def test_sort(page, chain_id: str) -> None:  # type: ignore[no-untyped-def]
    # Search results: a click on a header sorts by it, ascending; a second click, descending.
    page.goto("/search?q=" + quote("แผนบริหาร"))
    numbers = _column(page, "tr[data-letter] td:nth-child(1) a.number")
    assert len(numbers) >= 3
    page.locator("th[data-sort=number] a").click()
    page.wait_for_url("**sort=number*")
    assert _query(page.url)["dir"] == ["asc"] and _query(page.url)["q"] == ["แผนบริหาร"]
    ascending = _column(page, "tr[data-letter] td:nth-child(1) a.number")
    assert ascending == sorted(numbers)
    assert page.locator("th[data-sort=number]").get_attribute("aria-sort") == "ascending"
    _shot(page, "search-sorted")
    page.locator("th[data-sort=number] a").click()
    page.wait_for_url("**dir=desc*")
    assert _column(page, "tr[data-letter] td:nth-child(1) a.number") == sorted(numbers, reverse=True)

    # The national circular (1,000 handoffs, 20 pages): by recipient, and paging keeps the sort.
    page.goto("/circulars/" + quote(NATIONAL_ID, safe="") + "?graph=0&status=overdue")
    page.locator("#handoffs th[data-sort=recipient] a").click()
    page.wait_for_url("**sort=recipient*")
    assert _query(page.url)["status"] == ["overdue"]  # the filter is kept
    first = _column(page, "#handoffs tr[data-agency] td:nth-child(2)")
    assert first == sorted(first) and len(first) == 50
    page.locator("nav.pager a[rel=next]").click()
    page.wait_for_url("**page=2*")
    assert _query(page.url)["sort"] == ["recipient"]
    second = _column(page, "#handoffs tr[data-agency] td:nth-child(2)")
    assert second == sorted(second) and second[0] >= first[-1]
    _shot(page, "circular-sorted")
    # Changing the filter keeps the sort, back on the first page.
    page.locator("form.filters select[name=status]").select_option("received")
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_url("**status=received*")
    assert _query(page.url)["sort"] == ["recipient"] and "page" not in _query(page.url)

    # The seed circular's state (a plan covers it): by the date each agency must forward by.
    page.goto("/circulars/" + quote(chain_id, safe="") + "?graph=0&as_of=2020-07-01")
    page.locator("#handoffs th[data-sort=due] a").click()
    page.wait_for_url("**sort=due*")
    assert _query(page.url)["as_of"] == ["2020-07-01"]
    days = [
        page.locator("#handoffs tr[data-agency]").nth(i).get_attribute("data-agency")
        for i in range(page.locator("#handoffs tr[data-agency]").count())
    ]
    assert days, "no handoff rows"

    # The home page's circulars, by title.
    page.goto("/")
    page.locator("th[data-sort=title] a").click()
    page.wait_for_url("**sort=title*")
    ids = [
        page.locator("tr[data-circular]").nth(i).get_attribute("data-circular")
        for i in range(page.locator("tr[data-circular]").count())
    ]
    titles = _column(page, "tr[data-circular] td:nth-child(1) strong")
    assert titles == sorted(titles) and len(ids) >= 2
    _shot(page, "home-sorted")


# --- the same through the app's client (no browser) ----------------------------------------------


def test_a_number_naming_one_letter_lands_on_it(chain_client: TestClient) -> None:
    response = chain_client.get("/search", params={"q": "มท๐๒๑๘/ว๓๑๘๒"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/letters/" + quote(MEETING_NUMBER, safe="") + "?date=")
    # With a filter the number is listed, not jumped to.
    listed = chain_client.get("/search", params={"q": "มท๐๒๑๘/ว๓๑๘๒", "date_from": "2020-01-01"})
    assert listed.status_code == 200 and f'data-letter="{MEETING_NUMBER}"' in listed.text


def test_a_subject_search_lists_letters(chain_client: TestClient) -> None:
    response = chain_client.get("/search", params={"q": "ทบทวนแผน"})
    assert response.status_code == 200
    # Phrae's letter reviews the plan (its subject has both words, whichever seed letters are read);
    # the Interior meeting circular does not say ทบทวน in our own letters' wording.
    listed = re.findall(r'data-letter="([^"]+)"', response.text)
    assert any(n.endswith("ว 3026") for n in listed), listed
    nothing = chain_client.get("/search", params={"q": "ไม่มีคำนี้ในหนังสือใดเลย"})
    assert nothing.status_code == 200 and "ไม่พบหนังสือที่ตรงกับการค้นหา" in nothing.text


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"q": "x", "date_from": "1 มิ.ย."}, "date_from"),
        ({"q": "x", "date_from": "2020-02-01", "date_to": "2020-01-01"}, "date_from 2020-02-01 is after"),
        ({"q": "x", "sort": "id"}, "sort"),
        ({"q": "x", "dir": "up"}, "dir"),
    ],
)
def test_bad_search_requests_are_named(chain_client: TestClient, params: dict[str, str], named: str) -> None:
    response = chain_client.get("/search", params=params)
    assert response.status_code == 400
    assert named in response.text


def test_sort_headers_keep_the_filters_and_reset_the_page(national_client: TestClient) -> None:
    url = "/circulars/" + quote(NATIONAL_ID, safe="")
    response = national_client.get(url, params={"graph": 0, "status": "overdue", "page": 2, "sort": "due"})
    assert response.status_code == 200
    link = response.text.split('data-sort="recipient"', 1)[1].split('href="', 1)[1].split('"', 1)[0]
    query = parse_qs(urlsplit(link.replace("&amp;", "&")).query)
    assert query == {"graph": ["0"], "status": ["overdue"], "sort": ["recipient"], "dir": ["asc"]}
    assert national_client.get(url, params={"sort": "recipient_id;drop"}).status_code == 400


def test_the_national_circular_sorts_in_sql_across_pages(national_client: TestClient) -> None:
    url = "/circulars/" + quote(NATIONAL_ID, safe="")
    pages = [
        national_client.get(url, params={"graph": 0, "sort": "recipient", "dir": "desc", "page": n}).text
        for n in (1, 2)
    ]
    names = [
        cell.split(">", 1)[1].split("<", 1)[0]
        for text in pages
        for cell in text.split('<tr class="row-')[1:]
        for cell in [cell.split("<td>", 3)[2]]
    ]
    assert len(names) == 100
    assert names == sorted(names, reverse=True)


def test_home_sorts_circulars(chain_client: TestClient, chain_record: Record) -> None:
    ascending = chain_client.get("/", params={"sort": "root_date", "dir": "asc"}).text
    descending = chain_client.get("/", params={"sort": "root_date", "dir": "desc"}).text
    order = [part.split('"', 1)[0] for part in ascending.split('data-circular="')[1:]]
    assert len(order) >= 2
    assert [part.split('"', 1)[0] for part in descending.split('data-circular="')[1:]] == order[::-1]
    assert 'aria-sort="ascending"' in ascending
