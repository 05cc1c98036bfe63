"""The registers (ทะเบียนหนังสือรับ / ส่ง) from a real ingest of the seed letters: rows, columns, years,
and only facts (stamps, clerks' entries, letters issued), never a routing plan's dispatches."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from models.db import session_scope
from models.tables import Dispatch
from models.thai import BANGKOK
from records import registry
from records.ingest import ingest_files
from records.registers import (
    COLUMNS_TH,
    RegisterError,
    gregorian_year,
    received_register,
    register,
    sent_register,
)
from tests.conftest import route_plainly

RAYONG = "province:21"
PHRAE = "province:54"
# The seed chain's facts (DOMAIN.md §3): Rayong stamped Interior's circular #1515 on 2 June 2020.
INTERIOR = "มท 0218/ว 3182"


@pytest.fixture
def seeded(engine: Engine, seed_files: list[Path]) -> Engine:
    outcomes = ingest_files(seed_files, engine, actor="test")
    assert all(o.error is None for o in outcomes), [str(o.error) for o in outcomes if o.error]
    return engine


def test_the_regulations_columns() -> None:
    common = ("ที่", "ลงวันที่", "จาก", "ถึง", "เรื่อง", "การปฏิบัติ", "หมายเหตุ")
    assert COLUMNS_TH["received"] == ("เลขทะเบียนรับ", *common)
    assert COLUMNS_TH["sent"] == ("เลขทะเบียนส่ง", *common)


def test_rayong_received_interiors_circular_as_1515(seeded: Engine) -> None:
    with Session(seeded) as session:
        reg = received_register(session, RAYONG)
    assert (reg.year, reg.be_year, reg.years) == (2020, 2563, (2020,))
    assert reg.title == "ทะเบียนหนังสือรับ จังหวัดระยอง พ.ศ. 2563"
    [entry] = [e for e in reg.entries if e.number == "1515"]
    assert entry.day == date(2020, 6, 2)
    assert (entry.letter_number, entry.letter_date) == (INTERIOR, date(2020, 6, 1))
    assert entry.sender == "กระทรวงมหาดไทย"
    assert entry.addressee == "ผู้ว่าราชการจังหวัดทุกจังหวัด"
    assert entry.subject.startswith("การประชุมชี้แจง")
    assert "เวลา 13.30 น." in entry.remarks and "ตรารับ" in entry.remarks


def test_year_in_buddhist_era_or_gregorian(seeded: Engine) -> None:
    with Session(seeded) as session:
        assert received_register(session, RAYONG, 2563) == received_register(session, RAYONG, "2020")
        assert received_register(session, "จังหวัดระยอง", "๒๕๖๓").entries[0].number == "1515"
        assert received_register(session, RAYONG, 2021).entries == ()
    assert gregorian_year("2563") == gregorian_year(2020) == 2020
    for bad in ("63", "1234", "x", "25633"):
        with pytest.raises(RegisterError):
            gregorian_year(bad)


def test_what_an_agency_did_with_a_letter_it_received(seeded: Engine) -> None:
    """Interior stamped OPDC's letter twice (#92093, #782) and sent it on enclosed in ว 3182."""
    with Session(seeded) as session:
        reg = received_register(session, "moi")
    numbers = {e.number for e in reg.entries if e.letter_number == "นร 1220/55"}
    assert {"92093", "782"} <= numbers
    for entry in reg.entries:
        assert f"ส่งต่อพร้อมหนังสือ {INTERIOR}" in entry.action
    assert [e.day for e in reg.entries] == sorted(e.day for e in reg.entries)


def test_sent_lists_the_letters_an_agency_issued(seeded: Engine) -> None:
    with Session(seeded) as session:
        phrae = sent_register(session, PHRAE)
        moi = sent_register(session, "moi")
        dla = sent_register(session, "dla")
    [entry] = phrae.entries
    assert (entry.number, entry.letter_number, entry.day) == ("3026", "พร 0023.1/ว 3026", date(2020, 6, 23))
    assert entry.addressee.startswith("นายอำเภอทุกอำเภอ")
    # Interior's circular, and who stamped it: Rayong, as the register's action column.
    assert [(e.number, e.letter_number) for e in moi.entries] == [("3182", INTERIOR)]
    assert "จังหวัดระยอง รับที่ 1515" in moi.entries[0].action
    # DLA's two circulars are known only because Phrae's letter encloses them.
    assert [e.letter_number for e in dla.entries] == ["มท 0812/ว 1217", "มท 0812/ว 1434"]
    assert all("อ้างถึง" in e.remarks for e in dla.entries)


def test_a_routing_plans_dispatches_are_no_entries(seeded: Engine, db_url: str) -> None:
    """After a routing run, every province and district has planned dispatches on record: no
    register lists them; the registers read the same as before the run."""
    with Session(seeded) as session:
        before = {a: sent_register(session, a, 2020) for a in (RAYONG, PHRAE, "cabinet", "opdc", "dla")}
    route_plainly(db_url, INTERIOR, date(2020, 7, 1), provinces=["21", "54"], actor="test")
    with Session(seeded) as session:
        sources = {d.source for d in session.exec(select(Dispatch))}
        assert "plan" in sources
        after = {a: sent_register(session, a, 2020) for a in before}
    assert after == before
    assert after[RAYONG].entries == () and after["cabinet"].entries == ()


def test_a_clerks_registrations_are_entries(seeded: Engine) -> None:
    """A clerk receives Phrae's letter at a district and sends it on: both registers list it; a
    voided receipt keeps its line, marked void."""
    district = "district:5401"  # อำเภอเมืองแพร่
    at = datetime(2020, 6, 24, 9, 15, tzinfo=BANGKOK)
    with session_scope(seeded) as session:
        first = registry.receive(session, "พร 0023.1/ว 3026", district, at, actor="clerk")
        registry.receive(session, "พร 0023.1/ว 3026", district, at.replace(hour=10), actor="clerk")
        registry.void_receipt(session, first, "ลงซ้ำ", actor="clerk")
        registry.dispatch(
            session, "พร 0023.1/ว 3026", district, ["local:sd:540101", "local:sd:540102"], at.replace(day=25)
        )
    with Session(seeded) as session:
        received = received_register(session, district)
        sent = sent_register(session, district)
    assert [e.number for e in received.entries] == ["1", "2"]
    assert "ยกเลิก" in received.entries[0].remarks and "ลงซ้ำ" in received.entries[0].remarks
    assert "ส่งต่อเมื่อ 25 มิ.ย. 63" in received.entries[1].action
    [entry] = sent.entries
    assert (entry.day, entry.letter_number, entry.number) == (date(2020, 6, 25), "พร 0023.1/ว 3026", "")
    assert entry.sender == received.agency_name
    assert entry.addressee and "ลงทะเบียนส่ง" in entry.remarks


def test_an_unknown_agency_is_an_error(seeded: Engine) -> None:
    with Session(seeded) as session, pytest.raises(RegisterError, match="unknown agency"):
        register(session, "received", "nowhere")
