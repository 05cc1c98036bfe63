"""The dashboard's pages over real SQLite records, through FastAPI's TestClient.

Expected numbers are recomputed here from the handoff rows with plain Python, not with the
app's SQL, so a wrong GROUP BY or filter in `records.dashboard` shows up as a mismatch.
"""

from __future__ import annotations

import re
import sqlite3
from collections import Counter, defaultdict
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, unquote

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from app.main import create_app, prefect_runs_url
from models.db import get_engine, session_scope
from records.dashboard import HANDOFF_STATUSES, PAGE_SIZE
from records.progress import circular_state
from tests.app.conftest import NATIONAL_ID, NATIONAL_ROOT, Record

# --- reading pages ---------------------------------------------------------------------------


class Rows(HTMLParser):
    """Table rows carrying a data-* attribute, with their cells' text and their links."""

    def __init__(self, attribute: str) -> None:
        super().__init__()
        self.attribute = attribute
        self.rows: list[dict] = []
        self._current: dict | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "tr" and self.attribute in a:
            self._current = {
                "key": a[self.attribute],
                "class": a.get("class") or "",
                "cells": [],
                "links": [],
            }
        elif self._current is not None and tag in ("td", "th"):
            self._cell = []
        elif self._current is not None and tag == "a" and a.get("href"):
            self._current["links"].append(a["href"])

    def handle_endtag(self, tag: str) -> None:
        if self._current is None:
            return
        if tag in ("td", "th") and self._cell is not None:
            self._current["cells"].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr":
            self.rows.append(self._current)
            self._current = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def rows(html: str, attribute: str) -> list[dict]:
    parser = Rows(attribute)
    parser.feed(html)
    return parser.rows


def number(text: str) -> int:
    return int(text.replace(",", ""))


# --- expectations from the raw rows ----------------------------------------------------------


def db(record: Record) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{record.path}?mode=ro", uri=True)


def handoffs(record: Record, circular_id: str) -> list[tuple[str, str, str, str | None, str | None]]:
    with db(record) as con:
        sql = (
            "SELECT recipient_id, level, status, received_on, forwarded_on FROM handoff WHERE circular_id = ?"
        )
        return con.execute(sql, (circular_id,)).fetchall()


AS_OF = date(2020, 7, 1)  # the day the chain's pages are judged by in these tests


def truth(record: Record, circular_id: str, as_of: date = AS_OF) -> list[tuple[str, str, str]]:
    """(recipient, level, status) of each handoff as the one read function judges it as of `as_of`:
    the pages must show exactly this (the stored handoff rows are the plan's, not the facts)."""
    with session_scope(get_engine(record.url), readonly=True) as session:
        state = circular_state(session, circular_id, as_of)
    return [(h.recipient_id, h.level, str(h.status)) for h in state.handoffs]


def parents(record: Record) -> dict[str, str | None]:
    with db(record) as con:
        return dict(con.execute("SELECT id, parent_id FROM agency").fetchall())


def in_province(agency: str, province: str, parent: dict[str, str | None]) -> bool:
    seen = agency
    for _ in range(4):
        if seen == province:
            return True
        seen = parent.get(seen)
        if seen is None:
            return False
    return False


def circular_url(circular_id: str, query: str = "") -> str:
    return "/circulars/" + quote(circular_id, safe="") + (f"?{query}" if query else "")


# --- every page ------------------------------------------------------------------------------


def test_healthz_reports_the_database(national_client: TestClient, national_record: Record) -> None:
    body = national_client.get("/healthz").json()
    with db(national_record) as con:
        (count,) = con.execute("SELECT count(*) FROM circular").fetchone()
    assert body == {"status": "ok", "database": "sqlite", "circulars": count}


def test_healthz_fails_on_a_database_without_a_schema(tmp_path: Path) -> None:
    with TestClient(create_app(f"sqlite:///{tmp_path / 'empty.db'}")) as client:
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"


def test_only_get_routes_exist(national_client: TestClient) -> None:
    # Pages only read; sign-in and sign-out (app/auth.py) are the forms that post.
    methods = {
        m
        for route in national_client.app.routes
        if getattr(route, "path", "") not in ("/login", "/logout")
        for m in (getattr(route, "methods", None) or {"GET"})
    }
    assert methods <= {"GET", "HEAD"}
    # Without the session's CSRF token a POST is refused before routing; with it, 405.
    assert national_client.post("/").status_code == 403
    found = re.search(r'name="csrf_token" value="([^"]+)"', national_client.get("/login").text)
    assert found is not None
    csrf = {"X-CSRF-Token": found.group(1)}
    assert national_client.post("/", headers=csrf).status_code == 405
    assert national_client.delete(circular_url(NATIONAL_ID), headers=csrf).status_code == 405


def test_the_app_cannot_write_to_the_record(national_client: TestClient) -> None:
    engine = national_client.app.state.engine
    with pytest.raises(sa.exc.OperationalError, match="readonly"), engine.connect() as conn:
        conn.exec_driver_sql("DELETE FROM handoff")


def test_home_lists_circulars_with_their_progress(
    national_client: TestClient, national_record: Record
) -> None:
    page = national_client.get("/")
    assert page.status_code == 200
    listed = {r["key"]: r for r in rows(page.text, "data-circular")}
    assert NATIONAL_ID in listed
    expected = handoffs(national_record, NATIONAL_ID)
    cells = listed[NATIONAL_ID]["cells"]
    # forwarded, received, total, (progress), overdue, late
    assert number(cells[3]) == sum(1 for h in expected if h[4] is not None)
    assert number(cells[4]) == sum(1 for h in expected if h[3] is not None)
    assert number(cells[5]) == len(expected)
    assert number(cells[7]) == sum(1 for h in expected if h[2] == "overdue")
    assert number(cells[8]) == sum(1 for h in expected if h[2] == "late")
    assert any(circular_url(NATIONAL_ID) == link for link in listed[NATIONAL_ID]["links"])


def test_home_paginates(tmp_path: Path) -> None:
    from datetime import date

    from models.db import get_engine, init_db, session_scope
    from models.tables import Circular, new_row
    from models.thai import bangkok_datetime

    url = f"sqlite:///{tmp_path / 'many.db'}"
    engine = get_engine(url)
    init_db(engine)
    with session_scope(engine) as session:
        for i in range(PAGE_SIZE + 7):
            session.add(
                new_row(
                    Circular,
                    id=f"c-{i:03d}",
                    title=f"เรื่องที่ {i}",
                    created_at=bangkok_datetime(date(2021, 1, 1)),
                )
            )
    with TestClient(create_app(url)) as client:
        first = [r["key"] for r in rows(client.get("/").text, "data-circular")]
        second_page = client.get("/?page=2")
        second = [r["key"] for r in rows(second_page.text, "data-circular")]
        beyond = [r["key"] for r in rows(client.get("/?page=99").text, "data-circular")]
        bad = client.get("/?page=0")
    assert len(first) == PAGE_SIZE and len(second) == 7
    assert not set(first) & set(second)
    assert sorted(first + second) == [f"c-{i:03d}" for i in range(PAGE_SIZE + 7)]
    assert 'href="/?page=1"' in second_page.text and 'rel="prev"' in second_page.text
    assert beyond == second  # past the end shows the last page
    assert bad.status_code == 400 and "คำขอไม่ถูกต้อง" in bad.text


# --- the circular page -----------------------------------------------------------------------


def test_circular_page_counts_each_level(national_client: TestClient, national_record: Record) -> None:
    page = national_client.get(circular_url(NATIONAL_ID, "graph=0"))
    assert page.status_code == 200
    by_level: dict[str, Counter] = defaultdict(Counter)
    for _recipient, level, status, received, forwarded in handoffs(national_record, NATIONAL_ID):
        c = by_level[level]
        c["sent"] += 1
        c["received_on"] += received is not None
        c["forwarded_on"] += forwarded is not None
        c[status] += 1
    shown = {r["key"]: r["cells"] for r in rows(page.text, "data-level")}
    assert set(shown) == set(by_level) == {"province", "district"}
    for level, c in by_level.items():
        got = [number(x) for x in shown[level][1:7]]
        assert got == [
            c["sent"],
            c["received_on"],
            c["forwarded_on"],
            c["overdue"],
            c["late"],
            c["pending"],
        ], level


def test_circular_page_lists_overdue_first_and_paginates(
    national_client: TestClient, national_record: Record
) -> None:
    expected = handoffs(national_record, NATIONAL_ID)
    severity = {s: i for i, s in enumerate(HANDOFF_STATUSES)}
    seen: list[dict] = []
    pages = -(-len(expected) // PAGE_SIZE)
    for n in range(1, pages + 1):
        html = national_client.get(circular_url(NATIONAL_ID, f"graph=0&page={n}")).text
        got = rows(html, "data-agency")
        assert len(got) == (PAGE_SIZE if n < pages else len(expected) - PAGE_SIZE * (pages - 1))
        seen += got
    statuses = [r["class"].removeprefix("row-") for r in seen]
    assert [severity[s] for s in statuses] == sorted(severity[s] for s in statuses)
    assert Counter(r["key"] for r in seen) == Counter(h[0] for h in expected)  # every handoff exactly once
    assert statuses[0] == "overdue"


def test_circular_page_filters_by_province(national_client: TestClient, national_record: Record) -> None:
    parent = parents(national_record)
    expected = [h for h in handoffs(national_record, NATIONAL_ID) if in_province(h[0], "province:54", parent)]
    html = national_client.get(circular_url(NATIONAL_ID, "province=54&graph=0")).text
    got = rows(html, "data-agency")
    assert sorted(r["key"] for r in got) == sorted(h[0] for h in expected)
    assert len(expected) > 1  # the province and its districts
    levels = {r["key"]: r["cells"] for r in rows(html, "data-level")}
    assert number(levels["district"][1]) == sum(1 for h in expected if h[1] == "district")
    # The filter form keeps the choice.
    assert '<option value="54" selected>' in html


def test_circular_page_filters_by_status(national_client: TestClient, national_record: Record) -> None:
    overdue = [h for h in handoffs(national_record, NATIONAL_ID) if h[2] == "overdue"]
    html = national_client.get(circular_url(NATIONAL_ID, "status=overdue&graph=0")).text
    got = rows(html, "data-agency")
    assert {r["class"] for r in got} == {"row-overdue"}
    assert len(got) == min(PAGE_SIZE, len(overdue))
    assert f"{len(overdue):,} รายการ" in html


@pytest.mark.parametrize("query", ["province=5", "province=abc", "status=lost", "page=-1"])
def test_circular_page_rejects_bad_filters(national_client: TestClient, query: str) -> None:
    assert national_client.get(circular_url(NATIONAL_ID, query)).status_code == 400


def test_unknown_pages_are_404(national_client: TestClient) -> None:
    for url in (
        "/circulars/no-such-circular",
        "/agencies/province:99",
        "/letters/" + quote("ขก 9999/ว 1", safe=""),
    ):
        response = national_client.get(url)
        assert response.status_code == 404, url
        assert "ไม่พบ" in response.text


def test_national_graph_is_collapsed_and_drills_down(national_client: TestClient) -> None:
    national = national_client.get(circular_url(NATIONAL_ID)).text
    assert "<svg" in national and "ภาพรวมระดับประเทศ" in national
    assert 'id="province:54"' in national and 'id="district:5401"' not in national
    assert 'href="/agencies/province:54"' in national or 'xlink:href="/agencies/province:54"' in national
    phrae = national_client.get(circular_url(NATIONAL_ID, "province=54")).text
    assert 'id="district:5401"' in phrae and 'id="province:50"' not in phrae
    assert 'id="dla"' in phrae  # the chain above the province stays, so its incoming letter shows


# --- the seed chain: agency and letter pages, the Prefect link ---------------------------------


def test_chain_circular_shows_overdue_handoffs_and_prefect_link(
    chain_client: TestClient, chain_record: Record, chain_id: str
) -> None:
    html = chain_client.get(circular_url(chain_id, f"as_of={AS_OF}")).text
    got = rows(html, "data-agency")
    overdue = sorted(h[0] for h in truth(chain_record, chain_id) if h[2] == "overdue")
    assert sorted(r["key"] for r in got if r["class"] == "row-overdue") == overdue
    assert [r["class"] for r in got[: len(overdue)]] == ["row-overdue"] * len(overdue)
    assert f'href="{prefect_runs_url("http://prefect.test:4200", chain_id)}"' in html
    assert 'id="province:54"' in html and "<svg" in html


def test_prefect_link_comes_from_the_api_url(
    chain_record: Record, chain_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PREFECT_UI_URL", raising=False)
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    with TestClient(create_app(chain_record.url)) as client:
        assert "Prefect UI" not in client.get(circular_url(chain_id, "graph=0")).text
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:4200/api")
    with TestClient(create_app(chain_record.url)) as client:
        html = client.get(circular_url(chain_id, "graph=0")).text
    assert f'href="{prefect_runs_url("http://127.0.0.1:4200", chain_id)}"' in html


def test_agency_page_shows_what_it_received_forwarded_issued(
    chain_client: TestClient, chain_record: Record, chain_id: str
) -> None:
    html = chain_client.get(f"/agencies/province:54?as_of={AS_OF}").text
    assert "จังหวัดแพร่" in html
    statuses = {f"row-{s}" for s in ("done", "late", "overdue", "blocked", "pending")}
    received = [r for r in rows(html, "data-agency") if r["class"] in statuses]  # its handoffs
    mine = [(status,) for agency, _, status in truth(chain_record, chain_id) if agency == "province:54"]
    with db(chain_record) as con:
        issued = [n for (n,) in con.execute("SELECT number FROM letter WHERE issuer_id = 'province:54'")]
        sent = con.execute("SELECT count(*) FROM dispatch WHERE sender_id = 'province:54'").fetchone()[0]
    assert sorted(r["class"] for r in received) == sorted(f"row-{s}" for (s,) in mine)
    for n in issued:
        assert quote(n, safe="") in html
    assert html.count('href="/circulars/') >= sent
    assert "เกินกำหนด" in html


def test_agency_page_lists_stamped_receipts(chain_client: TestClient, chain_record: Record) -> None:
    with db(chain_record) as con:
        stamped = con.execute("SELECT agency_id, number FROM receipt WHERE agency_id IS NOT NULL").fetchall()
    if not stamped:
        pytest.skip("the ingest recorded no receipt with a known agency")
    agency_id, receipt_number = stamped[0]
    html = chain_client.get("/agencies/" + agency_id).text
    assert receipt_number in html


@pytest.mark.parametrize("printed", ["มท 0218/ว 3182", "มท ๐๒๑๘/ว ๓๑๘๒", "มท0218/ว.3182"])
def test_letter_page_by_any_printed_form(
    chain_client: TestClient, chain_record: Record, printed: str
) -> None:
    response = chain_client.get("/letters/" + quote(printed, safe=""))
    assert response.status_code == 200
    html = response.text
    with db(chain_record) as con:
        letter_id, source_file, source_line, text = con.execute(
            "SELECT id, source_file, source_line, source_text FROM letter WHERE number = 'มท 0218/ว 3182'"
        ).fetchone()
        receipts = [n for (n,) in con.execute("SELECT number FROM receipt WHERE letter_id = ?", (letter_id,))]
        cited = con.execute(
            "SELECT l.number FROM citation c JOIN letter l ON l.id = c.cited_letter_id "
            "WHERE c.citing_letter_id = ?",
            (letter_id,),
        ).fetchall()
    assert "ที่ มท 0218/ว 3182" in html
    assert f"{source_file}:{source_line}" in html
    assert '<pre class="letter-text">' in html and text.splitlines()[0].strip()[:10] in html
    for n in receipts:
        assert n is None or n in html  # a machine stamp without a receipt number shows its date only
    for (n,) in cited:
        assert quote(n, safe="") in html
    assert "๑ มิถุนายน ๒๕๖๓" in html


def test_letter_page_shows_merges_and_cited_by(chain_client: TestClient, chain_record: Record) -> None:
    with db(chain_record) as con:
        merged = con.execute(
            "SELECT m.alias, m.reason, l.number FROM merge m JOIN letter l ON l.id = m.kept_letter_id"
        ).fetchall()
        citing = con.execute(
            "SELECT l.number, k.number FROM citation c JOIN letter l ON l.id = c.citing_letter_id "
            "JOIN letter k ON k.id = c.cited_letter_id"
        ).fetchall()
    assert merged, "the seed chain has a misread number (๕/๘) that must be merged"
    alias, reason, kept = merged[0]
    html = chain_client.get("/letters/" + quote(alias, safe="")).text  # found through its alias
    assert f"ที่ {kept}" in html and alias in html and reason.split()[0] in html
    citers = [c for c, k in citing if k == kept]
    section = html.split('id="cited-by"', 1)[1]
    for c in citers:
        assert quote(c, safe="") in section


def test_letter_search_box_redirects(chain_client: TestClient) -> None:
    response = chain_client.get("/letters/", params={"n": "พร ๐๐๒๓.๑/ว ๓๐๒๖"}, follow_redirects=False)
    assert response.status_code == 303
    assert chain_client.get(response.headers["location"]).status_code == 200


def test_letter_numbers_repeating_across_years_ask_for_the_date(national_client: TestClient) -> None:
    html = national_client.get("/letters/" + quote(NATIONAL_ROOT, safe="")).text
    assert f"ที่ {NATIONAL_ROOT}" in html  # one letter with this number: shown directly
    assert (
        national_client.get("/letters/" + quote(NATIONAL_ROOT, safe="") + "?date=1999-01-01").status_code
        == 404
    )


def test_static_thai_font_is_served(national_client: TestClient) -> None:
    css = national_client.get("/static/app.css").text
    assert "@font-face" in css and "fonts/Loma.ttf" in css
    font = national_client.get("/static/fonts/Loma.ttf")
    assert font.status_code == 200 and font.content[:4] in (b"\x00\x01\x00\x00", b"OTTO", b"true")
    assert national_client.get("/static/fonts/LICENSE").status_code == 200


def test_circular_filter_form_sends_empty_values_for_all(national_client: TestClient) -> None:
    everything = rows(national_client.get(circular_url(NATIONAL_ID, "graph=0")).text, "data-agency")
    blank = national_client.get(circular_url(NATIONAL_ID, "province=&status=&graph=0"))
    assert blank.status_code == 200
    assert rows(blank.text, "data-agency") == everything


def test_graph_comes_from_the_plan_when_there_is_one(chain_client: TestClient, chain_id: str) -> None:
    planned = chain_client.get(circular_url(chain_id)).text
    assert "ตามแผนเส้นทาง" in planned and "<svg" in planned
    assert "วันทำการ" in planned.split('id="graph"', 1)[1]  # slack on the nodes: the plan's schedule


def test_graph_falls_back_to_handoffs_without_a_plan(national_client: TestClient) -> None:
    html = national_client.get(circular_url(NATIONAL_ID)).text
    assert "จากรายการส่งต่อ" in html and "<svg" in html


def test_role_nodes_of_planned_graphs_lead_to_their_agency(chain_client: TestClient) -> None:
    response = chain_client.get("/agencies/" + quote("opdc#plans", safe=":"), follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"] == "/agencies/opdc"


def all_rows(client: TestClient, url: str) -> list[dict]:
    """Every handoff row of a circular page, walking its pages."""
    seen: list[dict] = []
    for n in range(1, 1000):
        got = rows(client.get(f"{url}&page={n}").text, "data-agency")
        seen += got
        if len(got) < PAGE_SIZE:
            return seen
    raise AssertionError("too many pages")


def test_province_filter_reaches_local_bodies_under_districts(
    chain_client: TestClient, chain_record: Record, chain_id: str
) -> None:
    parent = parents(chain_record)
    expected = [h for h in truth(chain_record, chain_id) if in_province(h[0], "province:54", parent)]
    assert {h[1] for h in expected} >= {"province", "district", "local"}
    got = all_rows(chain_client, circular_url(chain_id, f"province=54&graph=0&as_of={AS_OF}"))
    assert sorted(r["key"] for r in got) == sorted(h[0] for h in expected)


def test_graph_is_drawn_on_the_first_page_only(national_client: TestClient) -> None:
    second = national_client.get(circular_url(NATIONAL_ID, "status=overdue&page=2"))
    assert second.status_code == 200 and "<svg" not in second.text
    assert f'href="{circular_url(NATIONAL_ID, "status=overdue")}#graph"' in second.text
    # A page number past the end shows the last page: of a one-page list, the first, with its graph.
    assert "<svg" in national_client.get(circular_url(NATIONAL_ID, "province=54&page=2")).text


@pytest.mark.postgres
def test_pages_on_postgresql(seed_files: list[Path]) -> None:
    """The same queries on PostgreSQL: GROUP BY, CASE, UNION and DISTINCT behave alike."""
    import os
    import uuid

    from models.db import get_engine, init_db
    from records.ingest import ingest_files
    from tests.app.conftest import build_national, route_seed_chain

    base = os.environ.get("SARABAN_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("SARABAN_TEST_POSTGRES_URL not set")
    schema = f"app_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    url = sa.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    try:
        engine = get_engine(url)
        init_db(engine)
        ingest_files(seed_files, engine, actor="test")
        chain = route_seed_chain(engine)
        build_national(engine)
        with TestClient(create_app(url)) as client:
            assert client.get("/healthz").json()["database"] == "postgresql"
            home = {r["key"] for r in rows(client.get("/").text, "data-circular")}
            assert {chain, NATIONAL_ID} <= home
            page = client.get(circular_url(chain, "province=54&graph=0"))
            assert page.status_code == 200 and rows(page.text, "data-agency")
            assert client.get("/agencies/province:54").status_code == 200
            assert client.get("/letters/" + quote("นร 1220/85", safe="")).status_code == 200
            with pytest.raises(sa.exc.DBAPIError, match="read-only"), client.app.state.engine.begin() as conn:
                conn.exec_driver_sql("DELETE FROM handoff")
        engine.dispose()
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


# --- letters on handoffs and edges: the record's, not the dispatch row's ----------------------


def test_agency_page_lists_every_letter_a_handoff_carried(chain_client: TestClient, chain_id: str) -> None:
    html = chain_client.get("/agencies/province:54").text
    from_dla = [
        r
        for r in rows(html, "data-agency")
        if "/agencies/dla" in r["links"] and circular_url(chain_id) in r["links"]
    ]
    assert len(from_dla) == 1
    letters = [unquote(link) for link in from_dla[0]["links"] if link.startswith("/letters/")]
    # Phrae's own letter encloses both of DLA's circulars: both are what it received.
    assert [link.split("?")[0] for link in letters] == ["/letters/มท 0812/ว 1217", "/letters/มท 0812/ว 1434"]


def test_graph_edges_link_to_their_letters_and_slack_is_as_of_the_day(
    chain_client: TestClient, chain_id: str
) -> None:
    html = chain_client.get(circular_url(chain_id, "as_of=2020-07-01")).text
    graph = html.split('id="graph"', 1)[1]
    hrefs = {unquote(h) for h in re.findall(r'xlink:href="(/letters/[^"]+)"', graph)}
    assert "/letters/นร 1220/55?date=2020-05-27" in hrefs  # OPDC -> Interior
    assert any(h.startswith("/letters/มท 0812/ว 1434") for h in hrefs)  # DLA -> the provinces
    assert "สถานะ ณ วันที่ ๑ กรกฎาคม ๒๕๖๓" in graph
    assert "มติ ครม. ๓๑ มี.ค. ๒๕๖๓" in graph
    # Rayong never forwarded: on 1 July it is overdue, and its label says by how much, not what is left.
    rayong = re.search(r'<g id="province:21" class="node.*?</g>\n</g>', graph, re.S)
    assert rayong is not None and "status&#45;overdue" in rayong.group(0)
    assert "เกิน" in rayong.group(0) and "เหลือ" not in rayong.group(0)


def test_a_circular_with_no_plan_and_no_handoffs_is_drawn_from_the_record(tmp_path: Path) -> None:
    from models.db import get_engine, init_db
    from records.ingest import ingest_files
    from tests.conftest import ROOT

    url = f"sqlite:///{tmp_path / 'saraban.db'}"
    engine = get_engine(url)
    init_db(engine)
    letters = sorted((ROOT / "tests" / "visualize" / "data" / "unplanned").glob("*.txt"))
    assert all(o.error is None for o in ingest_files(letters, engine, actor="test"))
    with TestClient(create_app(url)) as client:
        html = client.get(circular_url("2021-มท-0810-ว-7001")).text
    assert "ตามบันทึกเท่านั้น" in html and "<svg" in html
    assert 'id="province:54"' in html and "มท 0810/ว 7001" in html


def test_a_letter_page_shows_what_reading_its_file_flagged(tmp_path: Path) -> None:
    from models.db import get_engine
    from records.ingest import ingest_file
    from tests.records.samples import TWO_LETTERS

    path = tmp_path / "two.txt"
    path.write_text(TWO_LETTERS, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'notes.db'}"
    assert ingest_file(path, get_engine(url)).warnings
    with TestClient(create_app(url)) as client:
        enclosed = client.get("/letters/" + quote("นร 1220/55", safe="")).text
        cover = client.get("/letters/" + quote("มท 0218/ว 3182", safe="")).text
    notes = enclosed.split('id="reading-notes"', 1)[1].split("</section>", 1)[0]
    assert f"{path}:13" in notes and "ภายใน ๗ วัน นับแต่วันที่ได้รับ" in notes and "not tracked" in notes
    assert 'id="reading-notes"' not in cover  # the cover letter's lines raised nothing
