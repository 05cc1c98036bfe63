"""Sign-in, sessions, CSRF and scopes on the dashboard (app/auth.py, records/users.py, cli/users.py).

Each test gets its own copy of the synthetic national record (DLA -> 77 provinces -> 928
districts) with users added through the service layer, so the session-wide records other tests
read stay without users (an open dashboard).
"""

from __future__ import annotations

import io
import json
import logging
import re
import sqlite3
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from PIL import Image
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from app import auth
from app.main import create_app
from cli.main import app as cli_app
from models.db import dispose_engines, get_engine, init_db, session_scope
from models.letters import Letter, SourceRef
from models.tables import Event, ScanPage, User
from models.thai import now_bangkok
from records import users
from records.audit import verify
from records.scans import store_pages
from records.service import ingest_letters
from tests.app.conftest import NATIONAL_ID, NATIONAL_ROOT, Record
from tests.records.conftest import fresh_database

PASSWORD = "rayong-2563-secret"
OTHER_PASSWORD = "auditor-2563-secret"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Guarded:
    url: str
    path: Path


@pytest.fixture
def guarded(national_record: Record, tmp_path: Path) -> Iterator[Guarded]:
    """A copy of the national record with a Rayong clerk, a Rayong administrator, an OPDC clerk,
    a DLA administrator and an auditor on it."""
    path = tmp_path / "saraban.db"
    with sqlite3.connect(national_record.path) as source, sqlite3.connect(path) as target:
        source.backup(target)
    url = f"sqlite:///{path}"
    with session_scope(get_engine(url)) as session:
        users.add_user(session, "rayong", PASSWORD, "clerk", "province:21", actor="test-admin")
        users.add_user(session, "rayong.admin", PASSWORD, "administrator", "province:21", actor="test-admin")
        users.add_user(session, "opdc.clerk", PASSWORD, "clerk", "opdc", actor="test-admin")
        users.add_user(session, "dla.admin", PASSWORD, "administrator", "dla", actor="test-admin")
        users.add_user(session, "auditor", OTHER_PASSWORD, "auditor", None, actor="test-admin")
    yield Guarded(url, path)
    dispose_engines()


@pytest.fixture
def client(guarded: Guarded) -> Iterator[TestClient]:
    with TestClient(create_app(guarded.url)) as c:
        yield c


def token(client: TestClient, path: str = "/login") -> str:
    found = CSRF_RE.search(client.get(path).text)
    assert found, f"no csrf_token field on {path}"
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> None:
    r = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token(client)},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert client.get("/", follow_redirects=False).status_code == 200


def events(url: str, kind: str) -> list[Event]:
    with Session(get_engine(url)) as session:
        return list(session.exec(select(Event).where(Event.kind == kind).order_by(col(Event.seq))))


# --- with no user on record the dashboard stays open --------------------------------------------


def test_no_users_open_dashboard_still_guards_forms(national_client: TestClient) -> None:
    r = national_client.get("/")
    assert r.status_code == 200
    assert "saraban_session" in r.cookies
    assert national_client.get(f"/agencies/{quote('province:54', safe=':')}").status_code == 200
    # CSRF holds even on an open dashboard: a POST with no token is refused.
    assert national_client.post("/logout").status_code == 403
    r = national_client.post("/logout", data={"csrf_token": token(national_client)}, follow_redirects=False)
    assert r.status_code == 303


# --- anonymous visitors -----------------------------------------------------------------------


def test_anonymous_is_refused_everywhere_but_sign_in(client: TestClient) -> None:
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    r = client.get("/agencies/province:21?as_of=2021-03-05", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Fagencies%2Fprovince%3A21%3Fas_of%3D2021-03-05"
    for path in (f"/circulars/{NATIONAL_ID}", f"/letters/{quote(NATIONAL_ROOT, safe='')}", "/scans/1.png"):
        assert client.get(path, follow_redirects=False).status_code == 303, path
    assert client.post("/somewhere", data={"csrf_token": token(client)}).status_code == 401
    login = client.get("/login")
    assert login.status_code == 200 and 'name="username"' in login.text and 'name="password"' in login.text
    assert "ลงชื่อเข้าใช้" in login.text
    assert client.get("/healthz").status_code == 200
    assert client.get("/static/app.css").status_code == 200


def test_wrong_password_opens_nothing(client: TestClient, guarded: Guarded) -> None:
    csrf = token(client)
    for name, password in (("rayong", "not-the-password"), ("nobody", PASSWORD), ("", "")):
        r = client.post("/login", data={"username": name, "password": password, "csrf_token": csrf})
        assert r.status_code == 401
        assert "ลงชื่อเข้าใช้ไม่สำเร็จ" in r.text
        assert "signed-in-user" not in r.text
    assert client.get("/", follow_redirects=False).status_code == 303
    assert client.get("/agencies/province:21", follow_redirects=False).status_code == 303
    failed = events(guarded.url, "user.sign_in_failed")
    assert [json.loads(e.payload)["reason"] for e in failed] == [
        "wrong password",
        "unknown user",
        "unknown user",
    ]
    assert {e.actor for e in failed} == {users.ANONYMOUS}


def test_sign_in_and_out(client: TestClient, guarded: Guarded) -> None:
    r = client.post(
        "/login",
        data={
            "username": "Rayong",
            "password": PASSWORD,
            "csrf_token": token(client),
            "next": "/agencies/province:21",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/agencies/province:21"
    home = client.get("/")
    assert home.status_code == 200 and 'id="signed-in-user"' in home.text and "rayong" in home.text
    signed_in = events(guarded.url, "user.signed_in")
    assert [(e.actor, e.subject) for e in signed_in] == [("rayong", "user:rayong")]

    stolen = client.cookies.get("saraban_session")
    csrf = CSRF_RE.search(home.text).group(1)  # type: ignore[union-attr]
    r = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert client.get("/", follow_redirects=False).status_code == 303
    assert [e.actor for e in events(guarded.url, "user.signed_out")] == ["rayong"]
    # The cookie from before the sign-out is worth nothing now.
    with TestClient(create_app(guarded.url)) as other:
        other.cookies.set("saraban_session", stolen or "")
        assert other.get("/", follow_redirects=False).status_code == 303


def test_next_goes_nowhere_but_this_site(client: TestClient) -> None:
    r = client.post(
        "/login",
        data={
            "username": "rayong",
            "password": PASSWORD,
            "csrf_token": token(client),
            "next": "//evil.example/x",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/"


# --- CSRF and the cookie ------------------------------------------------------------------------


def test_csrf_token_required(client: TestClient, guarded: Guarded) -> None:
    form = {"username": "rayong", "password": PASSWORD}
    assert client.post("/login", data=form).status_code == 403
    assert client.post("/login", data={**form, "csrf_token": "forged"}).status_code == 403
    # A token of another session does not fit this one.
    with TestClient(create_app(guarded.url)) as other:
        theirs = token(other)
    assert client.post("/login", data={**form, "csrf_token": theirs}).status_code == 403
    assert events(guarded.url, "user.signed_in") == []
    # The header is accepted in place of the field (for scripts), and sign-in works with either.
    r = client.post("/login", data=form, headers={"X-CSRF-Token": token(client)}, follow_redirects=False)
    assert r.status_code == 303
    # Signed in, a form still needs the token: sign-out without it changes nothing.
    assert client.post("/logout").status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 200
    # Multipart forms too (a clerk's scan upload).
    r = client.post("/logout", files={"csrf_token": (None, token(client, "/"))}, follow_redirects=False)
    assert r.status_code == 303


def test_csrf_and_roles_guard_routes_added_later(guarded: Guarded) -> None:
    app = create_app(guarded.url)

    @app.post("/clerk/receipts/{agency_id:path}")
    async def receive(request: Request, agency_id: str) -> dict[str, str]:
        auth.require_scope(request, agency_id, write=True)
        form = await request.form()
        return {"subject": str(form.get("subject"))}

    @app.get("/audit/added-later")
    def added_later(request: Request) -> dict[str, str]:
        auth.require_auditor(request)
        return {"ok": "yes"}

    with TestClient(app) as c:
        sign_in(c, "rayong")
        assert c.post("/clerk/receipts/province:21", data={"subject": "x"}).status_code == 403
        ok = c.post("/clerk/receipts/province:21", data={"subject": "ทดสอบ", "csrf_token": token(c, "/")})
        assert ok.status_code == 200 and ok.json() == {"subject": "ทดสอบ"}, (
            "the route reads the body the check read"
        )
        assert c.post("/clerk/receipts/province:54", data={"csrf_token": token(c, "/")}).status_code == 403
        assert c.get("/audit/added-later").status_code == 403
    with TestClient(app) as c:
        sign_in(c, "auditor", OTHER_PASSWORD)
        # An auditor writes nothing, anywhere: refused before the route (and by require_scope).
        r = c.post("/clerk/receipts/province:21", data={"csrf_token": token(c, "/")})
        assert r.status_code == 403 and "อ่านได้อย่างเดียว" in r.text
        assert c.get("/audit/added-later").json() == {"ok": "yes"}


def test_session_cookie_is_httponly_samesite_and_secure_over_https(guarded: Guarded) -> None:
    with TestClient(create_app(guarded.url)) as c:
        header = c.get("/login").headers["set-cookie"]
    assert header.startswith("saraban_session=")
    flags = {part.strip().lower() for part in header.split(";")[1:]}
    assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
    assert "secure" not in flags
    with TestClient(create_app(guarded.url), base_url="https://testserver") as c:
        assert "secure" in {p.strip().lower() for p in c.get("/login").headers["set-cookie"].split(";")}


def test_session_key_beside_the_record_or_from_the_environment(
    guarded: Guarded, monkeypatch: pytest.MonkeyPatch
) -> None:
    with TestClient(create_app(guarded.url)) as c:
        sign_in(c, "rayong")
        cookie = c.cookies.get("saraban_session")
    key_file = guarded.path.with_name(guarded.path.name + auth.KEY_FILE_SUFFIX)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    # A restart (same key file) keeps the session.
    with TestClient(create_app(guarded.url)) as c:
        c.cookies.set("saraban_session", cookie or "")
        assert c.get("/", follow_redirects=False).status_code == 200
    # Another key (from the environment) does not accept it.
    monkeypatch.setenv(auth.SECRET_ENV, "k" * 40)
    with TestClient(create_app(guarded.url)) as c:
        c.cookies.set("saraban_session", cookie or "")
        assert c.get("/", follow_redirects=False).status_code == 303
    monkeypatch.setenv(auth.SECRET_ENV, "short")
    with pytest.raises(auth.SecretKeyError, match="too short"):
        create_app(guarded.url)


# --- scopes -------------------------------------------------------------------------------------


def test_rayong_clerk_sees_rayong_not_phrae(client: TestClient) -> None:
    sign_in(client, "rayong")
    assert client.get("/agencies/province:21").status_code == 200
    r = client.get("/agencies/province:54")
    assert r.status_code == 403 and "province:54" in r.text
    # A clerk sees their own agency only, not the districts below it.
    assert client.get("/agencies/district:2101").status_code == 403


def test_administrator_sees_downstream(client: TestClient) -> None:
    sign_in(client, "rayong.admin")
    assert client.get("/agencies/province:21").status_code == 200
    assert client.get("/agencies/district:2101").status_code == 200
    assert client.get("/agencies/province:54").status_code == 403
    assert client.get("/agencies/dla").status_code == 403


def test_dla_administrator_sees_every_province(client: TestClient, guarded: Guarded) -> None:
    """DLA's circulars go to every governor: its administrator sees the provinces and below them,
    though the directory hangs provinces from Interior, and not Interior or OPDC."""
    sign_in(client, "dla.admin")
    for agency in ("dla", "province:21", "province:54", "district:5401"):
        assert client.get(f"/agencies/{agency}").status_code == 200, agency
    for agency in ("moi", "opdc", "cabinet"):
        assert client.get(f"/agencies/{agency}").status_code == 403, agency
    assert client.get(f"/circulars/{NATIONAL_ID}?graph=0").status_code == 200
    with Session(get_engine(guarded.url)) as session:
        admin = users.get_user(session, "dla.admin")
        assert admin is not None
        seen = users.visible_agencies(session, admin)
    assert seen is not None and {"dla", "province:10", "province:54", "district:5401"} <= seen
    assert not seen & {"moi", "opdc", "cabinet", "dopa"}


def test_auditor_sees_everything(client: TestClient) -> None:
    sign_in(client, "auditor", OTHER_PASSWORD)
    for agency in ("province:21", "province:54", "district:5401", "dla"):
        assert client.get(f"/agencies/{agency}").status_code == 200, agency
    assert client.get(f"/circulars/{NATIONAL_ID}?graph=0").status_code == 200


def test_circular_and_letter_pages_follow_the_route(client: TestClient, guarded: Guarded) -> None:
    letter = f"/letters/{quote(NATIONAL_ROOT, safe='')}"
    sign_in(client, "rayong")  # the national circular reached Rayong
    assert client.get(f"/circulars/{NATIONAL_ID}?graph=0").status_code == 200
    assert client.get(letter).status_code == 200
    with TestClient(create_app(guarded.url)) as c:
        sign_in(c, "opdc.clerk")  # ... and never passed through OPDC
        assert c.get(f"/circulars/{NATIONAL_ID}?graph=0").status_code == 403
        assert c.get(letter).status_code == 403
        assert c.get("/agencies/opdc").status_code == 200


def test_the_home_page_lists_only_circulars_in_scope(client: TestClient, guarded: Guarded) -> None:
    listed = f'<small class="muted">{NATIONAL_ID}</small>'  # the list shows each circular's id
    sign_in(client, "rayong")  # the national circular reached Rayong: listed, and it opens
    assert listed in client.get("/").text
    with TestClient(create_app(guarded.url)) as c:
        sign_in(c, "opdc.clerk")  # OPDC never saw it: not even its title
        home = c.get("/").text
        assert listed not in home and NATIONAL_ROOT not in home
    with TestClient(create_app(guarded.url)) as c:
        sign_in(c, "auditor", OTHER_PASSWORD)
        assert listed in c.get("/").text


def test_visible_agencies_for_lists(guarded: Guarded) -> None:
    with Session(get_engine(guarded.url)) as session:
        admin = users.get_user(session, "rayong.admin")
        clerk = users.get_user(session, "rayong")
        auditor = users.get_user(session, "auditor")
        assert admin and clerk and auditor
        below = users.visible_agencies(session, admin)
        assert below is not None and "province:21" in below and "district:2101" in below
        assert all(a == "province:21" or a.startswith("district:21") for a in below)
        assert users.visible_agencies(session, clerk) == frozenset({"province:21"})
        assert users.visible_agencies(session, auditor) is None


# --- limits on guessing --------------------------------------------------------------------------


def test_twenty_wrong_passwords_lock_the_account(client: TestClient, guarded: Guarded) -> None:
    csrf = token(client)
    for _ in range(20):
        r = client.post("/login", data={"username": "rayong", "password": "guess", "csrf_token": csrf})
        assert r.status_code == 401
    # The right password does not open a locked account ...
    r = client.post("/login", data={"username": "rayong", "password": PASSWORD, "csrf_token": csrf})
    assert r.status_code == 401
    assert client.get("/", follow_redirects=False).status_code == 303
    with Session(get_engine(guarded.url)) as session:
        user = users.get_user(session, "rayong")
        assert user is not None and user.locked_until is not None
        assert user.locked_until - now_bangkok() > timedelta(seconds=20)
    reasons = [json.loads(e.payload)["reason"] for e in events(guarded.url, "user.sign_in_failed")]
    assert reasons[: users.LOCK_AFTER] == ["wrong password"] * users.LOCK_AFTER
    assert reasons[users.LOCK_AFTER :] == ["locked"] * (21 - users.LOCK_AFTER)
    # ... until the lock runs out; then it opens, and the count starts again.
    with session_scope(get_engine(guarded.url)) as session:
        late = user.locked_until + timedelta(seconds=1)
        assert users.sign_in(session, "rayong", PASSWORD, at=late).ok
    with Session(get_engine(guarded.url)) as session:
        after = users.get_user(session, "rayong")
        assert after is not None and after.failed_attempts == 0 and after.locked_until is None


def test_locks_grow_with_every_wrong_password_after_the_first(guarded: Guarded) -> None:
    engine = get_engine(guarded.url)
    at = now_bangkok()
    locks = []
    for _ in range(20):
        with session_scope(engine) as session:
            outcome = users.sign_in(session, "rayong.admin", "guess", at=at)
        assert not outcome.ok
        if outcome.locked_until is not None:
            locks.append(outcome.locked_until - at)
            at = outcome.locked_until  # the next guess comes as soon as it may
    assert locks[0] == users.LOCK_FIRST
    assert locks == sorted(locks) and locks[-1] == users.LOCK_MAX
    assert sum(locks, timedelta()) > timedelta(hours=5), "20 wrong passwords take hours, not seconds"


# --- what is logged, and what never is ----------------------------------------------------------


def test_password_hashes_never_logged_or_shown(
    client: TestClient, guarded: Guarded, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    csrf = token(client)
    client.post("/login", data={"username": "rayong", "password": "wrong-one", "csrf_token": csrf})
    # A password typed into the name field is not logged either.
    client.post("/login", data={"username": PASSWORD.upper() + "!", "password": "", "csrf_token": csrf})
    sign_in(client, "rayong")
    pages = [client.get(p).text for p in ("/", "/agencies/province:21", "/login")]
    with Session(get_engine(guarded.url)) as session:
        hashes = [u.password_hash for u in session.exec(select(User))]
        info = users.get_user(session, "rayong")
        log_rows = [f"{e.actor} {e.subject} {e.payload}" for e in session.exec(select(Event))]
    assert all(h.startswith("$argon2id$") for h in hashes)
    listed = CliRunner().invoke(cli_app, ["user", "list", "--json", "--database", guarded.url])
    assert listed.exit_code == 0, listed.output
    shown = [*pages, *log_rows, caplog.text, listed.output, repr(info), repr(users.list_users)]
    for text in shown:
        assert "$argon2" not in text
        assert PASSWORD not in text.lower() and "wrong-one" not in text
        assert not any(h in text for h in hashes)


def test_user_events_keep_the_log_verifiable(tmp_path: Path) -> None:
    """`saraban audit verify` still passes with users: their events change no state table."""
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    engine = get_engine(url)
    init_db(engine)
    with session_scope(engine) as session:
        users.add_user(session, "rayong", PASSWORD, "clerk", "province:21", actor="test-admin")
        users.add_user(session, "opdc.clerk", PASSWORD, "clerk", "opdc", actor="test-admin")
    with TestClient(create_app(url)) as c:
        sign_in(c, "rayong")
        c.post("/logout", data={"csrf_token": token(c, "/")})
        c.post("/login", data={"username": "rayong", "password": "nope", "csrf_token": token(c)})
    with session_scope(engine) as session:
        users.set_disabled(session, "opdc.clerk", True, actor="test-admin")
    with Session(engine) as session:
        report = verify(session)
    assert report.ok, str(report)
    kinds = [(e.kind, e.actor) for e in events(url, "user.added") + events(url, "user.disabled")]
    assert kinds == [("user.added", "test-admin")] * 2 + [("user.disabled", "test-admin")]
    assert [e.actor for e in events(url, "user.signed_in")] == ["rayong"]
    assert [e.actor for e in events(url, "user.signed_out")] == ["rayong"]
    assert len(events(url, "user.sign_in_failed")) == 1
    # The agency a user was added for came from the directory, through the log like any other.
    assert [e.subject for e in events(url, "agency.added")] == ["cabinet", "moi", "province:21", "opdc"]


def test_a_disabled_user_is_signed_out(client: TestClient, guarded: Guarded) -> None:
    sign_in(client, "rayong")
    with session_scope(get_engine(guarded.url)) as session:
        users.set_disabled(session, "rayong", True, actor="test-admin")
    assert client.get("/", follow_redirects=False).status_code == 303
    r = client.post("/login", data={"username": "rayong", "password": PASSWORD, "csrf_token": token(client)})
    assert r.status_code == 401


# --- the command ----------------------------------------------------------------------------------


def test_user_commands(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'users.db'}"
    run = CliRunner()

    def saraban(*args: str, stdin: str | None = None) -> tuple[int, str]:
        result = run.invoke(cli_app, [*args, "--database", url], input=stdin)
        return result.exit_code, result.output

    code, out = saraban(
        "user",
        "add",
        "Rayong",
        "--agency",
        "province:21",
        "--role",
        "clerk",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert code == 0 and "added rayong: clerk" in out, out
    code, out = saraban(
        "user", "add", "aud", "--role", "auditor", "--password-stdin", stdin=OTHER_PASSWORD + "\n"
    )
    assert code == 0, out
    for args, stdin, says in (
        (
            ("user", "add", "x", "--role", "auditor", "--agency", "dla"),
            PASSWORD,
            "an auditor sees every agency",
        ),
        (("user", "add", "x", "--role", "clerk"), PASSWORD, "belongs to one agency"),
        (("user", "add", "x", "--role", "clerk", "--agency", "province:99"), PASSWORD, "province:99"),
        (("user", "add", "x", "--role", "king", "--agency", "dla"), PASSWORD, "role 'king'"),
        (("user", "add", "x", "--role", "clerk", "--agency", "dla"), "short", "too short"),
        (("user", "add", "rayong", "--role", "clerk", "--agency", "dla"), PASSWORD, "already exists"),
        (("user", "add", "no spaces", "--role", "clerk", "--agency", "dla"), PASSWORD, "username"),
    ):
        code, out = saraban(*args, "--password-stdin", stdin=stdin + "\n")
        assert code == 2 and says in out, (args, out)
    code, out = saraban("user", "list", "--json")
    listed = json.loads(out)
    assert [(u["username"], u["role"], u["agency_id"]) for u in listed] == [
        ("aud", "auditor", None),
        ("rayong", "clerk", "province:21"),
    ]
    code, out = saraban("user", "disable", "rayong")
    assert code == 0 and "rayong: disabled" in out
    assert json.loads(saraban("user", "list", "--json")[1])[1]["disabled"] is True
    assert saraban("user", "disable", "ghost")[0] == 2
    assert saraban("user", "enable", "rayong")[0] == 0
    code, out = saraban("user", "password", "rayong", "--password-stdin", stdin="a-new-password-2563\n")
    assert code == 0 and "password set" in out, out
    assert saraban("user", "password", "rayong", "--password-stdin", stdin="short\n")[0] == 2
    with session_scope(get_engine(url)) as session:
        assert not users.sign_in(session, "rayong", PASSWORD).ok
        assert users.sign_in(session, "rayong", "a-new-password-2563").ok
    with Session(get_engine(url)) as session:
        kinds = [
            e.kind
            for e in session.exec(
                select(Event).where(col(Event.kind).startswith("user.")).order_by(col(Event.seq))
            )
        ]
    assert kinds == [
        "user.added", "user.added", "user.disabled", "user.enabled", "user.password_set",
        "user.sign_in_failed", "user.signed_in",
    ]  # fmt: skip


def test_scan_pages_follow_their_letters(tmp_path: Path) -> None:
    """A page image of a scan is shown to whoever may see a letter read from that scan."""
    buffer = io.BytesIO()
    Image.new("L", (20, 30), 200).save(buffer, format="PNG")
    url = f"sqlite:///{tmp_path / 'scans.db'}"
    engine = get_engine(url)
    init_db(engine)
    letter = Letter(
        number="นร 1200/ว 0099",
        date=date(2020, 5, 5),
        issuer="สำนักงาน ก.พ.ร.",
        subject="ทดสอบภาพสแกน",
        source=SourceRef(file="scans/synthetic.png", line=1),
        text="ที่ นร ๑๒๐๐/ว๐๐๙๙",
    )
    with session_scope(engine) as session:
        ingest_letters(session, [letter], file="scans/synthetic.png", sha256="5" * 64, actor="test")
        store_pages(session, "5" * 64, [buffer.getvalue()])
        page_id = session.exec(select(ScanPage.id)).one()
        users.add_user(session, "opdc.clerk", PASSWORD, "clerk", "opdc", actor="test-admin")
        users.add_user(session, "rayong", PASSWORD, "clerk", "province:21", actor="test-admin")
    with TestClient(create_app(url)) as c:
        sign_in(c, "opdc.clerk")
        r = c.get(f"/scans/{page_id}.png")
        assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
    with TestClient(create_app(url)) as c:
        sign_in(c, "rayong")
        assert c.get(f"/scans/{page_id}.png").status_code == 403
        assert c.get(f"/letters/{quote('นร 1200/ว 0099', safe='')}").status_code == 403


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty record (SQLite file, or a fresh PostgreSQL schema), migrated."""
    for found in fresh_database(request.param, tmp_path):
        init_db(get_engine(found))
        yield found


def test_users_and_scopes_on_either_database(fresh_url: str) -> None:
    """The scope queries (a recursive CTE, DLA's provinces) and the lock, on SQLite and PostgreSQL;
    on PostgreSQL the session key is made for the process (no file beside the record)."""
    engine = get_engine(fresh_url)
    with session_scope(engine) as session:
        users.add_user(session, "amphoe.clerk", PASSWORD, "clerk", "district:2101", actor="test-admin")
        users.add_user(session, "rayong.admin", PASSWORD, "administrator", "province:21", actor="test-admin")
        users.add_user(session, "dla.admin", PASSWORD, "administrator", "dla", actor="test-admin")
        users.add_user(session, "phrae", PASSWORD, "clerk", "province:54", actor="test-admin")
    with Session(engine) as session:
        rayong, dla = users.get_user(session, "rayong.admin"), users.get_user(session, "dla.admin")
        assert rayong is not None and dla is not None
        assert users.visible_agencies(session, rayong) == frozenset({"province:21", "district:2101"})
        assert users.visible_agencies(session, dla) == frozenset(
            {"dla", "province:21", "district:2101", "province:54"}
        )
        assert users.within(session, "district:2101", "province:21")
        assert users.within(session, "district:2101", "dla") and not users.within(session, "moi", "dla")
        assert not users.within(session, "province:54", "province:21")
    with TestClient(create_app(fresh_url)) as c:
        sign_in(c, "rayong.admin")
        assert c.get("/agencies/district:2101").status_code == 200
        assert c.get("/agencies/province:54").status_code == 403
    with session_scope(engine) as session:
        outcomes = [users.sign_in(session, "phrae", "guess") for _ in range(users.LOCK_AFTER + 1)]
    assert [o.reason for o in outcomes] == ["wrong password"] * users.LOCK_AFTER + ["locked"]


def test_audit_pages_for_auditors_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    engine = get_engine(url)
    init_db(engine)
    with session_scope(engine) as session:
        users.add_user(session, "rayong.admin", PASSWORD, "administrator", "province:21", actor="test-admin")
        users.add_user(session, "auditor", OTHER_PASSWORD, "auditor", None, actor="test-admin")
    with TestClient(create_app(url)) as c:
        sign_in(c, "rayong.admin")
        assert c.get("/audit/history").status_code == 403
        assert c.get("/audit/verify").status_code == 403
        assert 'href="/audit/history"' not in c.get("/").text
    with TestClient(create_app(url)) as c:
        sign_in(c, "auditor", OTHER_PASSWORD)
        assert 'href="/audit/history"' in c.get("/").text
        verified = c.get("/audit/verify")
        assert verified.status_code == 200 and "ผลการตรวจ: ถูกต้อง" in verified.text
        history = c.get("/audit/history")
        assert history.status_code == 200
        kinds = re.findall(r'<tr data-kind="([^"]+)"', history.text)
        assert kinds[:3] == ["agency.added"] * 3 and "user.added" in kinds and kinds[-1] == "user.signed_in"
        assert "$argon2" not in history.text and OTHER_PASSWORD not in history.text
        only = c.get("/audit/history?agency=province:21")
        assert re.findall(r'<tr data-kind="([^"]+)"', only.text) == ["agency.added", "user.added"]
        assert c.get("/audit/history?letter=" + quote("มท 9999/ว 1", safe="")).status_code == 400
