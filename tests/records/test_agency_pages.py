"""An agency's page over several circulars (`records.pages.agency_truth`): its counts cover every
circular, and each table is one page of rows, made only for that page.

Three circulars of the Department of Local Administration to every province, each under the
BCP plan, as of a day when all of them are under way."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from models.db import session_scope
from models.tables import Circular
from records import pages, progress
from records.ingest import ingest_files

AS_OF = date(2020, 7, 1)
PHRAE = "province:54"
THAI = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")


def _letter(n: int, day: int) -> str:
    return f"""ที่ มท ๐๘๑๒/ว {str(700 + n).translate(THAI)}

กรมส่งเสริมการปกครองท้องถิ่น
ถนนนครราชสีมา เขตดุสิต กทม. ๑๐๓๐๐

{str(day).translate(THAI)} พฤษภาคม ๒๕๖๓

เรื่อง ซักซ้อมแผนรับมือภัยพิบัติ ชุดที่ {str(n).translate(THAI)}

เรียน ผู้ว่าราชการจังหวัดทุกจังหวัด

ขอให้จังหวัดแจ้งองค์กรปกครองส่วนท้องถิ่นในพื้นที่ซักซ้อมแผนและรายงานผล

จึงเรียนมาเพื่อโปรดพิจารณา

ขอแสดงความนับถือ

อธิบดีกรมส่งเสริมการปกครองท้องถิ่น
"""


@pytest.fixture
def three_circulars(engine: Engine, tmp_path: Path) -> Engine:
    files = []
    for n, day in ((1, 4), (2, 11), (3, 18)):
        path = tmp_path / f"dla_{n}.txt"
        path.write_text(_letter(n, day), encoding="utf-8")
        files.append(path)
    assert all(o.error is None for o in ingest_files(files, engine))
    with session_scope(engine) as session:
        circulars = list(session.exec(select(Circular)))
        assert len(circulars) == 3
        for circular in circulars:
            progress.set_plan(session, circular, "bcp-2020")
    return engine


def test_an_agency_page_shows_one_page_and_counts_them_all(three_circulars: Engine) -> None:
    with session_scope(three_circulars, readonly=True) as session:
        whole = pages.agency_truth(session, PHRAE, AS_OF)
        assert len(whole.circulars) == 3
        assert whole.received.total == len(whole.received.items) == 3
        assert whole.forwarded.total == len(whole.forwarded.items) >= 3  # one row per circular and level
        paged = [
            pages.agency_truth(session, PHRAE, AS_OF, page=n, forwarded_page=n, size=1)
            for n in range(1, whole.forwarded.total + 1)
        ]
        past_the_end = pages.agency_truth(session, PHRAE, AS_OF, page=99, size=2)
    assert [p.received.items for p in paged[:3]] == [[row] for row in whole.received.items]
    assert [p.forwarded.items for p in paged] == [[f] for f in whole.forwarded.items]
    for n, p in enumerate(paged, 1):
        assert p.counts == whole.counts  # counts cover every circular, whichever page is shown
        assert (p.received.total, p.forwarded.total) == (3, whole.forwarded.total)
        assert p.forwarded.number == n and p.forwarded.pages == whole.forwarded.total
    assert [p.received.number for p in paged[3:]] == [3] * len(paged[3:])  # clamped to the last page
    assert past_the_end.received.number == 2 and past_the_end.received.items == whole.received.items[2:]
    assert whole.counts.sent == 3 and whole.counts.received + whole.counts.blocked <= 3
