"""Clerks' work on the web (app/clerk.py): upload a letter, check and correct it, get the receipt
number; dispatch; the review list. Real SQLite file records, the real sign-in/CSRF middleware (an
open dashboard: no user on record), the real parser and ingest."""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import clerk
from app.main import create_app
from models.db import get_engine, init_db, session_scope
from models.thai import now_bangkok
from records import inbox, users
from tests import scans
from tests.records.conftest import fresh_database

AGENCY = "province:54"  # จังหวัดแพร่
BASE = f"/agencies/{AGENCY}"

LETTER = """ด่วนที่สุด
ที่ มท ๐๘๑๖.๓/ว ๔๔๑๒                                   กรมส่งเสริมการปกครองท้องถิ่น
                                                        ถนนนครราชสีมา กทม. ๑๐๓๐๐

                                ๑๕ มิถุนายน ๒๕๖๓

เรื่อง  การจัดส่งแผนดำเนินงานธุรกิจอย่างต่อเนี่อง

        ขอให้จังหวัดแจ้งองค์กรปกครองส่วนท้องถิ่นในพื้นที่จัดส่งแผนภายในวันที่ ๓๐ มิถุนายน ๒๕๖๓

                        ขอแสดงความนับถือ
                        (นายสมชาย ใจดี)
                        อธิบดีกรมส่งเสริมการปกครองท้องถิ่น
"""
NUMBER = "มท 0816.3/ว 4412"
SECOND = LETTER.replace("๔๔๑๒", "๔๔๑๓").replace("แผนดำเนินงาน", "รายงาน")
# A letter without its ที่ line: its number cannot be read, so it goes on the review list.
UNNUMBERED = """                                ๒๐ มิถุนายน ๒๕๖๓
เรื่อง  ขอเชิญประชุมคณะทำงานติดตามแผน
เรียน  ผู้ว่าราชการจังหวัดแพร่
        ขอเชิญประชุมในวันที่ ๒๕ มิถุนายน ๒๕๖๓
"""


@pytest.fixture
def record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SARABAN_UPLOAD_DIR", str(tmp_path / "uploads"))
    url = f"sqlite:///{tmp_path / 'saraban.db'}"
    init_db(get_engine(url))
    return url


@pytest.fixture
def client(record: str) -> Iterator[TestClient]:
    with TestClient(create_app(record)) as c:
        yield c


def token(client: TestClient, url: str) -> str:
    """The CSRF token of the form on `url` (the session cookie comes with the page)."""
    page = client.get(url)
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, "every form carries the CSRF field"
    return found[1]


def upload(client: TestClient, name: str, data: bytes, **form: str) -> object:
    return client.post(
        f"{BASE}/receive",
        files={"file": (name, data, "text/plain")},
        data={"csrf_token": token(client, f"{BASE}/receive"), **form},
        follow_redirects=False,
    )


def events(url: str) -> list[tuple[str, str, str]]:
    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        return list(db.execute("SELECT kind, actor, subject FROM event ORDER BY seq"))


def check_url(client: TestClient, name: str, data: bytes, **form: str) -> str:
    sent = upload(client, name, data, **form)
    assert sent.status_code == 303, sent.text  # type: ignore[attr-defined]
    location: str = sent.headers["location"]  # type: ignore[attr-defined]
    assert location.startswith(f"{BASE}/receive/check?")
    return location


def letter_id(location: str) -> int:
    ids = parse_qs(urlsplit(location).query)["letter"]
    assert len(ids) == 1
    return int(ids[0])


def register(client: TestClient, location: str, **fields: str) -> tuple[str, str]:
    """POST the receive form of the one letter on the check page; (number, year) of the receipt."""
    lid = letter_id(location)
    done = client.post(
        f"{BASE}/receive/letters/{lid}",
        data={"csrf_token": token(client, location), **fields},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    page = client.get(done.headers["location"])
    assert page.status_code == 200
    found = re.search(r'id="receipt-number" data-number="(\d+)" data-year="(\d+)"', page.text)
    assert found, page.text
    return found[1], found[2]


def test_upload_read_correct_receive(client: TestClient, record: str, tmp_path: Path) -> None:
    data = LETTER.encode("utf-8")
    location = check_url(client, "../หนังสือ ว4412.txt", data, clerk="สมศรี")
    check = client.get(location)
    assert check.status_code == 200
    html = check.text
    # Each field with how it was read: the salutation is missing from this letter.
    assert 'data-field="number" data-status="read"' in html
    assert 'data-field="urgency" data-status="read"' in html
    assert 'data-field="salutation" data-status="missing"' in html
    assert "อ่านไม่ได้" in html and "ต่อเนี่อง" in html
    # The file is kept byte for byte, named by its content, and the record names it.
    digest = hashlib.sha256(data).hexdigest()
    kept = tmp_path / "uploads" / digest[:2] / digest / "หนังสือ ว4412.txt"
    assert kept.read_bytes() == data
    assert ("ingest.file", "web:สมศรี", str(kept)) in events(record)

    # Correct the subject's OCR-like typo and add the salutation, then register: receipt no. 1.
    number, year = register(
        client,
        location,
        subject="การจัดส่งแผนดำเนินงานธุรกิจอย่างต่อเนื่อง",
        salutation="ผู้ว่าราชการจังหวัดทุกจังหวัด",
        urgency="ด่วนที่สุด",
        date="2020-06-15",
        clerk="สมศรี",
    )
    assert (number, year) == ("1", str(now_bangkok().year))
    log = events(record)
    corrected = [e for e in log if e[0] == "letter.corrected"]
    # Two fields changed; the unchanged urgency and date are not "corrected".
    assert len(corrected) == 2 and all(e[1:] == ("web:สมศรี", NUMBER) for e in corrected)
    assert log[-1][:2] == ("receipt.registered", "web:สมศรี")
    again = client.get(location).text
    assert 'data-field="subject" data-status="corrected"' in again
    assert "ลงทะเบียนรับที่จังหวัดแพร่แล้ว" in again

    # The next letter gets the next number of the yearly register.
    second = check_url(client, "second.txt", SECOND.encode("utf-8"))
    assert register(client, second) == ("2", year)
    assert [e[1] for e in events(record) if e[0] == "receipt.registered"] == ["web:สมศรี", "web"]

    # The inbox lists both, waiting to be forwarded, by their due date.
    page = client.get(f"{BASE}/inbox")
    assert page.status_code == 200
    assert page.text.count('data-receipt="') == 2
    assert "๓๐ มิ.ย. ๖๓" in page.text or "๓๐ มิ.ย. ๒๕๖๓" in page.text


def test_refused_receipt_writes_nothing(client: TestClient, record: str) -> None:
    location = check_url(client, "a.txt", LETTER.encode("utf-8"))
    assert register(client, location, receipt_number="7") == ("7", str(now_bangkok().year))
    before = events(record)
    lid = letter_id(location)
    # A number already taken, with a subject correction: refused whole, the correction too.
    refused = client.post(
        f"{BASE}/receive/letters/{lid}",
        data={"csrf_token": token(client, location), "receipt_number": "7", "subject": "เรื่องใหม่"},
    )
    assert refused.status_code == 400
    assert "already taken" in refused.text and "ยังไม่ได้บันทึกสิ่งใด" in refused.text
    assert ">เรื่องใหม่</textarea>" in refused.text  # the form comes back as the clerk filled it
    assert events(record) == before
    # The series continues after the stamped number.
    assert register(client, location) == ("8", str(now_bangkok().year))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_client(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, str]]:
    """A client of a fresh record on SQLite, or on PostgreSQL (scripts/with-postgres.sh), and its URL."""
    monkeypatch.setenv("SARABAN_UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setenv("SARABAN_SECRET_KEY", "k" * 40)
    for url in fresh_database(request.param, tmp_path):
        init_db(get_engine(url))
        with TestClient(create_app(url)) as c:
            yield c, url


def test_concurrent_clerks_gap_free(any_client: tuple[TestClient, str]) -> None:
    client, record = any_client
    locations = [
        check_url(client, f"l{i}.txt", LETTER.replace("๔๔๑๒", f"๔๔{i:02d}").encode("utf-8")) for i in range(6)
    ]
    ids = [letter_id(loc) for loc in locations]
    csrf = token(client, locations[0])
    statuses: list[int] = []
    errors: list[BaseException] = []

    def receive(lid: int) -> None:
        try:
            for _ in range(2):
                r = client.post(
                    f"{BASE}/receive/letters/{lid}", data={"csrf_token": csrf}, follow_redirects=False
                )
                statuses.append(r.status_code)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=receive, args=(lid,)) for lid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and statuses == [303] * 12
    with Session(get_engine(record)) as session:
        entries = inbox.inbox(session, AGENCY, date(2020, 7, 1), waiting_only=False).items
    numbers = sorted(int(e.receipt_number or 0) for e in entries)
    assert numbers == list(range(1, 13))


@pytest.mark.parametrize(
    ("name", "data", "status", "words"),
    [
        ("empty.txt", b"  \n", 400, ("ไฟล์ว่างเปล่า", "empty")),
        ("junk.bin", b"abc\x00\x01\x02binary", 400, ("อ่านไฟล์นี้เป็นหนังสือราชการไม่ได้", "binary file")),
        ("scan.png", b"\x89PNG\r\n\x1a\nnot an image", 400, ("ไม่ได้บันทึกสิ่งใด", "not a readable image")),
    ],
)
def test_bad_file_clear_error_nothing_written(
    client: TestClient,
    record: str,
    tmp_path: Path,
    name: str,
    data: bytes,
    status: int,
    words: tuple[str, ...],
) -> None:
    before = events(record)
    sent = upload(client, name, data)
    assert sent.status_code == status  # type: ignore[attr-defined]
    text = sent.text  # type: ignore[attr-defined]
    assert all(w in text for w in words), text
    assert 'id="upload-error"' in text
    assert str(tmp_path) not in text  # the error names the file as uploaded, not where it was kept
    assert events(record) == before
    uploads = tmp_path / "uploads"
    assert not uploads.exists() or not any(p.is_file() for p in uploads.rglob("*"))


def test_too_large(client: TestClient, record: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clerk, "UPLOAD_MAX_BYTES", 1000)
    before = events(record)
    sent = upload(client, "big.txt", LETTER.encode("utf-8") * 3)
    assert sent.status_code == 413  # type: ignore[attr-defined]
    assert "ไฟล์ใหญ่เกิน" in sent.text and "file too large" in sent.text  # type: ignore[attr-defined]
    assert events(record) == before


def test_review_list_worked_from_the_web(client: TestClient, record: str) -> None:
    location = check_url(client, "unnumbered.txt", UNNUMBERED.encode("utf-8"))
    reviews = parse_qs(urlsplit(location).query)["review"]
    assert "letter" not in parse_qs(urlsplit(location).query)
    item = int(reviews[0])
    check = client.get(location)
    assert f'data-review="{item}"' in check.text
    listed = client.get("/review")
    assert f'data-review="{item}"' in listed.text and "ขอเชิญประชุมคณะทำงานติดตามแผน" in listed.text

    page = f"/review/{item}?agency={AGENCY}"
    bad = client.post(
        f"/review/{item}",
        data={
            "csrf_token": token(client, page),
            "number": "มท 0816.3/ว 4500",
            "date": "๓๒ มิถุนายน ๒๕๖๓",
            "agency": AGENCY,
        },
    )
    assert bad.status_code == 400 and "ยังไม่ได้บันทึกสิ่งใด" in bad.text
    assert not any(e[0] == "review.resolved" for e in events(record))

    done = client.post(
        f"/review/{item}",
        data={
            "csrf_token": token(client, page),
            "number": "มท ๐๘๑๖.๓/ว ๔๕๐๐",
            "date": "๒๐ มิถุนายน ๒๕๖๓",
            "clerk": "สมชาย",
            "agency": AGENCY,
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    resolved = client.get(done.headers["location"])
    assert 'id="resolved"' in resolved.text and "มท 0816.3/ว 4500" in resolved.text
    assert ("review.resolved", "web:สมชาย") in [e[:2] for e in events(record)]
    assert f'data-review="{item}"' not in client.get("/review").text
    # From there the clerk registers the letter it became.
    found = re.search(r'href="(/agencies/province:54/receive/check\?letter=\d+)"', resolved.text)
    assert found
    assert register(client, found[1]) == ("1", str(now_bangkok().year))


def test_dispatch_then_outbox(client: TestClient, record: str) -> None:
    location = check_url(client, "a.txt", LETTER.encode("utf-8"))
    register(client, location)
    form = f"{BASE}/dispatch?letter={NUMBER}"
    page = client.get(form)
    assert 'value="district:5401"' in page.text  # the province's districts are offered
    nobody = client.post(f"{BASE}/dispatch", data={"csrf_token": token(client, form), "letter": NUMBER})
    assert nobody.status_code == 400 and "at least one recipient" in nobody.text
    sent = client.post(
        f"{BASE}/dispatch",
        data={
            "csrf_token": token(client, form),
            "letter": NUMBER,
            "to": ["district:5401", "district:5402"],
            "to_other": "อำเภอสูงเม่น",
            "clerk": "สมศรี",
        },
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    outbox = client.get(sent.headers["location"])
    assert outbox.status_code == 200 and "บันทึกการส่งหนังสือแล้ว" in outbox.text
    assert outbox.text.count('<li><a href="/agencies/district:') == 3
    # The letter is no longer waiting in the inbox.
    assert 'data-receipt="' not in client.get(f"{BASE}/inbox").text
    assert 'data-receipt="' in client.get(f"{BASE}/inbox?all=1").text
    assert ("dispatch.registered", "web:สมศรี") in [e[:2] for e in events(record)]


def test_unknown_agency_and_missing_csrf(client: TestClient) -> None:
    assert client.get("/agencies/nowhere:1/inbox").status_code == 404
    refused = client.post(f"{BASE}/receive", files={"file": ("a.txt", LETTER.encode("utf-8"), "text/plain")})
    assert refused.status_code == 403


# --- PDF and scans: read as ingest reads them, pages kept --------------------------------------------


@pytest.mark.slow
def test_pdf_and_scan_uploads(client: TestClient, record: str, tmp_path: Path) -> None:
    if scans.chromium_missing() or scans.tesseract_missing():
        pytest.skip(scans.chromium_missing() or scans.tesseract_missing() or "")
    pdf = scans.render_pdf(LETTER, tmp_path / "letter.pdf")
    png = scans.render_png(SECOND, tmp_path / "scan.png")
    for path, number, mime in ((pdf, NUMBER, "application/pdf"), (png, "มท 0816.3/ว 4413", "image/png")):
        data = path.read_bytes()
        sent = client.post(
            f"{BASE}/receive",
            files={"file": (path.name, data, mime)},
            data={"csrf_token": token(client, f"{BASE}/receive")},
            follow_redirects=False,
        )
        assert sent.status_code == 303, sent.text
        check = client.get(sent.headers["location"]).text
        assert number in check and 'data-field="number"' in check
        assert register(client, sent.headers["location"])[0] in ("1", "2")
    with sqlite3.connect(record.removeprefix("sqlite:///")) as db:
        pages = db.execute("SELECT sha256 FROM scan_page").fetchall()
    # The scan's page image is kept beside its letter (what `saraban ingest` keeps); a text PDF has none.
    assert pages == [(hashlib.sha256(png.read_bytes()).hexdigest(),)]


# --- signed in: the actor is the user, and the scope is the user's agency ----------------------------


@pytest.fixture
def users_record(record: str) -> str:
    with session_scope(get_engine(record)) as session:
        users.add_user(session, "phrae.clerk", "correct horse battery", "clerk", AGENCY, actor="test-admin")
        users.add_user(
            session, "rayong.clerk", "correct horse battery", "clerk", "province:21", actor="test-admin"
        )
        users.add_user(session, "auditor", "correct horse battery", "auditor", None, actor="test-admin")
    return record


def sign_in(client: TestClient, username: str) -> None:
    r = client.post(
        "/login",
        data={
            "username": username,
            "password": "correct horse battery",
            "csrf_token": token(client, "/login"),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def test_signed_in_clerk_is_the_actor_and_scope_holds(users_record: str) -> None:
    with TestClient(create_app(users_record)) as phrae:
        sign_in(phrae, "phrae.clerk")
        location = check_url(phrae, "a.txt", LETTER.encode("utf-8"), clerk="someone else")
        assert register(phrae, location, clerk="someone else") == ("1", str(now_bangkok().year))
        actors = {
            actor for kind, actor, _ in events(users_record) if kind in ("ingest.file", "receipt.registered")
        }
        assert actors == {"phrae.clerk"}
        assert (
            'href="/agencies/province:54/inbox"' in phrae.get("/review").text
        )  # the nav's link to their work
    with TestClient(create_app(users_record)) as rayong:
        sign_in(rayong, "rayong.clerk")
        assert rayong.get(f"{BASE}/inbox").status_code == 403
        assert rayong.get(f"{BASE}/receive").status_code == 403
        assert rayong.get("/agencies/province:21/receive").status_code == 200
    with TestClient(create_app(users_record)) as auditor:
        sign_in(auditor, "auditor")
        assert auditor.get(f"{BASE}/inbox").status_code == 200
        assert auditor.get(f"{BASE}/receive").status_code == 403


def test_a_file_of_two_letters(client: TestClient) -> None:
    sent = upload(client, "two.txt", (LETTER + "\n\n" + SECOND).encode("utf-8"))
    assert sent.status_code == 303  # type: ignore[attr-defined]
    location = sent.headers["location"]  # type: ignore[attr-defined]
    ids = [int(i) for i in parse_qs(urlsplit(location).query)["letter"]]
    assert len(ids) == 2 and 'class="letter-check"' in client.get(location).text
    done = client.post(
        f"{BASE}/receive/letters/{ids[0]}",
        data={"csrf_token": token(client, location), "others": urlsplit(location).query},
        follow_redirects=False,
    )
    assert done.status_code == 303
    receipt = client.get(done.headers["location"]).text
    back = re.search(r'id="file-others" href="([^"]+)"', receipt)
    assert back, "the receipt page leads back to the file's other letter"
    again = client.get(back[1].replace("&amp;", "&")).text
    assert again.count('class="letter-check"') == 1 and f'data-letter="{ids[1]}"' in again
    assert register(client, back[1].replace("&amp;", "&")) == ("2", str(now_bangkok().year))


def test_reading_notes_shown_with_the_letter(client: TestClient) -> None:
    relative = LETTER.replace("ภายในวันที่ ๓๐ มิถุนายน ๒๕๖๓", "ภายใน ๗ วัน นับแต่วันที่ได้รับหนังสือนี้")
    check = client.get(check_url(client, "relative.txt", relative.encode("utf-8"))).text
    # What ingest flagged about the letter (a deadline counted from each receipt) is on its check page.
    notes = re.search(r'<ul class="reading-notes">(.*?)</ul>', check, re.S)
    assert notes and "บรรทัด 9: deadline:" in notes[1] and "counts from each addressee" in notes[1]
