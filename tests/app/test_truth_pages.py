"""The dashboard reads a circular's state through `records.progress.circular_state`: its counts are
`saraban status`'s, planned dates never sit in a sent/received column, every page says its day."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.main import create_app
from models.db import get_engine
from models.tables import Circular
from records.ingest import ingest_files
from records.progress import status_report
from tests.app.conftest import Record
from tests.app.test_pages import rows

AS_OF = date(2020, 7, 1)
KEYS = ("sent", "received", "forwarded", "overdue", "late", "blocked", "pending")


@pytest.fixture(scope="module")
def seed_record(tmp_path_factory: pytest.TempPathFactory, seed_files: list[Path]) -> Record:
    """The seed letters ingested only: no routing run."""
    path = tmp_path_factory.mktemp("truth") / "saraban.db"
    url = f"sqlite:///{path}"
    outcomes = ingest_files(seed_files, get_engine(url), actor="test")
    assert all(o.error is None for o in outcomes)
    return Record(url, path)


@pytest.fixture
def seed_client(seed_record: Record) -> Iterator[TestClient]:
    with TestClient(create_app(seed_record.url)) as client:
        yield client


def _circular(record: Record) -> str:
    with Session(get_engine(record.url)) as session:
        return session.exec(select(Circular.id)).one()


def _levels(html: str) -> dict[str, list[int]]:
    return {r["key"]: [int(c.replace(",", "")) for c in r["cells"][1:8]] for r in rows(html, "data-level")}


def _expected(record: Record, circular_id: str) -> dict[str, list[int]]:
    with Session(get_engine(record.url)) as session:
        (report,) = status_report(session, circular_id, as_of=AS_OF)
    assert report["as_of"] == AS_OF.isoformat()
    return {lv["level"]: [lv[k] for k in KEYS] for lv in report["levels"]}


def test_circular_page_counts_equal_status_report(seed_client: TestClient, seed_record: Record) -> None:
    cid = _circular(seed_record)
    html = seed_client.get(f"/circulars/{quote(cid, safe='')}?as_of=2020-07-01&graph=0").text
    expected = _expected(seed_record, cid)
    assert _levels(html) == expected
    # The seed letters as of 1 July 2020 (docs/truth.md): Rayong and Nonthaburi overdue, Phrae late,
    # the districts of the first two blocked.
    assert expected["province"] == [3, 3, 1, 2, 1, 0, 0]
    assert expected["district"][5] == 14
    assert 'data-as-of="2020-07-01"' in html and "๑ กรกฎาคม ๒๕๖๓" in html


def test_routed_circular_page_counts_equal_status_report(chain_client: TestClient, chain_record: Record,
                                                          chain_id: str) -> None:  # fmt: skip
    html = chain_client.get(f"/circulars/{quote(chain_id, safe='')}?as_of=2020-07-01&graph=0").text
    assert _levels(html) == _expected(chain_record, chain_id)


def _cells(html: str, column: str) -> list[str]:
    return re.findall(rf'<td class="[^"]*\bcol-{column}\b[^"]*">(.*?)</td>', html, re.S)


def test_planned_dates_stay_out_of_sent_and_received_columns(chain_client: TestClient, chain_id: str) -> None:
    url = f"/circulars/{quote(chain_id, safe='')}?as_of=2020-07-01&graph=0&province=21"
    html = chain_client.get(url).text
    got = rows(html, "data-agency")
    rayong_districts = [r for r in got if r["key"].startswith("district:21")]
    assert rayong_districts and all(r["class"] == "row-blocked" for r in rayong_districts)
    for column in ("sent", "received", "forwarded"):
        for cell in _cells(html, column):
            assert "planned" not in cell and "คาดว่า" not in cell
    # Rayong's dispatch to its districts is only planned: its districts' sent cells are empty
    # (status, recipient, level, sender, letter, sent, received, forwarded, due, expected, escalate)...
    cells = {r["key"]: r["cells"] for r in rayong_districts}
    assert all(c[5] == "–" and c[6] == "–" for c in cells.values())
    # ...and what the plan expects is shown apart, labelled and styled as such.
    assert all(c[9].startswith("≈") is False and "คาดว่าส่ง" in c[9] for c in cells.values())
    assert 'class="planned"' in html
    # Blocked: whom to escalate to is the agency that holds the letter.
    assert all("จังหวัดระยอง" in c[10] for c in cells.values())


def test_letter_page_keeps_planned_dispatches_apart(chain_client: TestClient) -> None:
    html = chain_client.get("/letters/" + quote("มท 0812/ว 1434", safe="") + "?as_of=2020-07-01").text
    section = html.split('id="dispatches"', 1)[1].split("</section>", 1)[0]
    sent = section.split('class="expected"', 1)[0]
    assert "จังหวัดระยอง" not in sent  # no letter of Rayong on file: not "sent"
    if 'class="expected"' in section:
        assert "คาดว่า" in section.split('class="expected"', 1)[1]


@pytest.mark.parametrize(
    "path", ["/", "/agencies/province:21", "/letters/" + quote("มท 0812/ว 1434", safe="")]
)
def test_every_page_states_its_day_and_links_keep_it(chain_client: TestClient, path: str) -> None:
    html = chain_client.get(path + ("&" if "?" in path else "?") + "as_of=2020-07-01").text
    assert 'data-as-of="2020-07-01"' in html
    assert 'name="as_of" value="2020-07-01"' in html
    main = html.split("<main>", 1)[1]
    links = re.findall(r'href="(/(?:circulars|agencies)/[^"#]*)"', main)
    assert links and all("as_of=2020-07-01" in link for link in links)


def test_default_day_is_today_in_bangkok(chain_client: TestClient) -> None:
    from records.progress import today

    html = chain_client.get("/").text
    assert f'data-as-of="{today().isoformat()}"' in html and "วันนี้" in html


def test_agency_page_reads_the_state(chain_client: TestClient, chain_id: str) -> None:
    html = chain_client.get("/agencies/province:21?as_of=2020-07-01").text
    got = [r for r in rows(html, "data-agency") if chain_id in unquote_all(r["links"])]
    assert [r["class"] for r in got] == ["row-overdue"]
    forwarded = html.split('id="forwarded"', 1)[1].split("</table>", 1)[0]
    for cell in _cells(forwarded, "sent"):
        assert cell.strip() == "–"  # Rayong forwarded nothing
    assert "คาดว่าส่ง" in forwarded


def unquote_all(links: list[str]) -> str:
    from urllib.parse import unquote

    return " ".join(unquote(link) for link in links)
