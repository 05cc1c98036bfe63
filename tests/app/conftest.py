"""Records for the dashboard tests.

- The seed chain: ingested (`records.ingest`) and routed with its plan through `records.progress`,
  the service calls the `route_circular` flow makes, so it has deadlines, late and overdue handoffs
  and a planned routing diagram.
- A synthetic national circular (DLA -> 77 provinces -> 928 districts) without a plan: its letter
  goes in through `records.service.ingest_letters`, its dispatches and handoffs are inserted as rows
  here. It exercises pagination, filters, the collapsed national graph and the handoff-only diagram.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.main import create_app
from models.db import get_engine, init_db, session_scope
from models.letters import Letter, Level, SourceRef
from models.tables import AgencyRow, Circular, Dispatch, Handoff, LetterRow, new_row
from records.chain import circular_slug
from records.ingest import ingest_files
from records.service import ensure_agency, ingest_letters
from routing.agencies import CENTRAL_AGENCIES
from routing.directory import load_directory
from tests.conftest import route_plainly

# The seed chain is routed with this plan, as of this day, over these provinces (Nonthaburi, Rayong,
# Phrae: the ones the seed letters name).
SEED_PLAN = "bcp-2020"
SEED_AS_OF = date(2020, 6, 26)
SEED_PROVINCES = ("12", "21", "54")

# The synthetic national circular: DLA -> every province -> every district.
NATIONAL_ROOT = "มท 0810/ว 7001"
NATIONAL_SENT = date(2021, 3, 1)
NATIONAL_ID = circular_slug(NATIONAL_ROOT, NATIONAL_SENT)
NATIONAL_DUE = date(2021, 3, 19)


@dataclass(frozen=True)
class Record:
    url: str
    path: Path


def _handoff(
    dispatch: Dispatch, recipient: str, level: str, status: str, *, due: date, **dates: date
) -> Handoff:
    return new_row(
        Handoff,
        dispatch_id=dispatch.id,
        circular_id=dispatch.circular_id,
        recipient_id=recipient,
        level=level,
        sent_on=dispatch.sent_on,
        due_receive=dispatch.sent_on + timedelta(days=2),
        due_forward=due,
        status=status,
        **dates,
    )


def _dispatch(
    session: Session, circular_id: str, letter_id: int, sender: str, sent_on: date, level: str
) -> Dispatch:
    row = new_row(
        Dispatch,
        circular_id=circular_id,
        letter_id=letter_id,
        sender_id=sender,
        sent_on=sent_on,
        level=level,
        source="flow",
    )
    session.add(row)
    session.flush()
    return row


def _letter_id(session: Session, number: str) -> int:
    row = session.exec(select(LetterRow).where(LetterRow.number == number)).one()
    return row.id


def route_seed_chain(engine: Engine) -> str:
    """Route the seed chain as the `route_circular` flow does, without Prefect: attach the BCP
    routing plan, plan the route as of 26 June 2020 over three provinces, record every dispatch.

    Returns the circular id. Statuses (late, overdue, pending...) are the service layer's.
    """
    with session_scope(engine) as session:
        circular_id = session.exec(select(Circular)).one().id
    url = engine.url.render_as_string(hide_password=False)
    return route_plainly(
        url, circular_id, SEED_AS_OF, plan=SEED_PLAN, provinces=list(SEED_PROVINCES), actor="test"
    )


def build_national(engine: Engine) -> None:
    """A synthetic national circular: DLA to 77 provinces, each province to all its districts.

    Every seventh province never received it (overdue), every fifth forwarded late; districts
    whose code ends in 1 are overdue. About 1,000 handoffs: enough for pages and collapsing.
    """
    directory = load_directory()
    root = Letter(
        number=NATIONAL_ROOT,
        date=NATIONAL_SENT,
        issuer="กรมส่งเสริมการปกครองท้องถิ่น",
        subject="ทดสอบหนังสือเวียนทั่วประเทศ (ข้อมูลสังเคราะห์)",
        salutation="ผู้ว่าราชการจังหวัดทุกจังหวัด",
        source=SourceRef(file="synthetic/national.txt", line=1),
        text="ที่ มท ๐๘๑๐/ว ๗๐๐๑\nข้อมูลสังเคราะห์สำหรับการทดสอบ",
    )
    with session_scope(engine) as session:
        ingest_letters(session, [root], file="synthetic/national.txt", sha256="0" * 64, actor="test")
        letter_id = _letter_id(session, NATIONAL_ROOT)
        assert session.get(Circular, NATIONAL_ID) is not None, "ingest names circulars after their root"
        for agency in CENTRAL_AGENCIES:
            ensure_agency(session, agency, actor="test")
        provinces = list(directory.provinces())
        districts = [a for a in directory.values() if a.level is Level.DISTRICT]
        existing = set(session.exec(sa.select(AgencyRow.id)).scalars())
        session.add_all(
            new_row(
                AgencyRow,
                id=a.id,
                name_th=a.name_th,
                name_en=a.name_en,
                level=a.level.value,
                parent_id=a.parent,
            )
            for a in [*provinces, *districts]
            if a.id not in existing
        )
        session.flush()
        top = _dispatch(session, NATIONAL_ID, letter_id, "dla", NATIONAL_SENT, "province")
        rows = []
        for i, p in enumerate(sorted(provinces, key=lambda a: a.id)):
            if i % 7 == 3:
                rows.append(_handoff(top, p.id, "province", "overdue", due=NATIONAL_DUE - timedelta(days=7)))
                continue
            late = i % 5 == 0
            forwarded = NATIONAL_SENT + timedelta(days=9 if late else 3)
            status = "late" if late else "forwarded"
            rows.append(
                _handoff(
                    top,
                    p.id,
                    "province",
                    status,
                    due=NATIONAL_DUE - timedelta(days=7),
                    received_on=NATIONAL_SENT + timedelta(days=1),
                    forwarded_on=forwarded,
                )
            )
            down = _dispatch(session, NATIONAL_ID, letter_id, p.id, forwarded, "district")
            for d in districts:
                if d.parent != p.id:
                    continue
                status = "overdue" if d.id.endswith("1") else "received"
                rows.append(
                    _handoff(
                        down,
                        d.id,
                        "district",
                        status,
                        due=NATIONAL_DUE,
                        received_on=None if status == "overdue" else forwarded + timedelta(days=1),
                    )
                )
        session.add_all(rows)


def _url(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def national_record(tmp_path_factory: pytest.TempPathFactory) -> Record:
    path = tmp_path_factory.mktemp("national") / "saraban.db"
    engine = get_engine(_url(path))
    init_db(engine)
    build_national(engine)
    return Record(_url(path), path)


@pytest.fixture(scope="session")
def chain_record(tmp_path_factory: pytest.TempPathFactory, seed_files: list[Path]) -> Record:
    """The seed letters ingested, routed, plus the synthetic national circular beside them."""
    if not seed_files:
        pytest.skip("no seed letters")
    path = tmp_path_factory.mktemp("chain") / "saraban.db"
    engine = get_engine(_url(path))
    outcomes = ingest_files(seed_files, engine, actor="test")
    assert all(o.error is None for o in outcomes), [str(o.error) for o in outcomes if o.error]
    route_seed_chain(engine)
    build_national(engine)
    return Record(_url(path), path)


@pytest.fixture(scope="session")
def chain_id(chain_record: Record) -> str:
    with Session(get_engine(chain_record.url)) as session:
        return next(c.id for c in session.exec(select(Circular)) if c.id != NATIONAL_ID)


@pytest.fixture
def national_client(national_record: Record) -> Iterator[TestClient]:
    with TestClient(create_app(national_record.url)) as client:
        yield client


@pytest.fixture
def chain_client(chain_record: Record) -> Iterator[TestClient]:
    with TestClient(create_app(chain_record.url, prefect_ui_url="http://prefect.test:4200")) as client:
        yield client


# --- a dashboard served for a real browser ------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(app: FastAPI, name: str = "dashboard") -> Iterator[str]:
    """`app` served by uvicorn on a free local port, in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
