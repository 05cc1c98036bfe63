"""Sign-in for the dashboard: the session cookie, CSRF, `/login` and `/logout`, and scopes.

`AuthMiddleware` runs on every request (every route, including ones added later):

- it reads the signed session cookie and puts the signed-in user (`app.security.SignedIn`, or None)
  and the session's CSRF token on `request.state`; a visitor without a session gets a fresh one
  (anonymous, with its own token, so that the sign-in form is protected too);
- it refuses (403) any POST/PUT/PATCH/DELETE whose `csrf_token` form field or `X-CSRF-Token` header
  does not match the session's token;
- when the record has users, an anonymous request is sent to the sign-in page (GET/HEAD: 303 to
  `/login?next=...`) or refused (401); only `/login`, `/static/` and `/healthz` stay open. With no
  user on record the dashboard is open, as before;
- an auditor reads everything and writes nothing: their POSTs other than sign-out are refused (403).

The session cookie (`saraban_session`) is signed (itsdangerous) and carries the username, the
user's session epoch (a sign-out or a disable advances it, ending every session of that user) and
the CSRF token; it is `HttpOnly`, `SameSite=Lax`, `Secure` when the request came over https, and
lasts `SESSION_MAX_AGE`. The signing key is `$SARABAN_SECRET_KEY` (at least 32 characters); else,
for a SQLite record, a key file generated once beside it (`saraban.db.secret-key`, mode 0600), so
sessions survive a restart and every worker of one record agrees; else (PostgreSQL without the
variable) a key made for the process, with a warning: sessions end when it stops.

Scopes (`records.users`): `require_scope(request, agency_id, write=...)` for an agency's page or
form, `visible_agencies(request)` for filtering lists, `require_circular`, `require_letters` and
`require_scan` for the circular, letter and scan pages, `require_auditor` for the audit pages.
A circular's page is shown whole to a user when the circular reached (or was sent or issued by)
any agency in their scope: it is one document sent down one route, and a clerk needs to see where
it came from; another circular answers 403. The circulars list (`/`) is not filtered.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers

from app.security import CSRF_FIELD, SignedIn, current_user
from models.db import database_url as resolve_database_url
from models.db import get_engine, session_scope, sqlite_file
from records import users

log = logging.getLogger(__name__)

SESSION_COOKIE = "saraban_session"
SESSION_MAX_AGE = 12 * 60 * 60  # a working day and then some
SECRET_ENV = "SARABAN_SECRET_KEY"
KEY_FILE_SUFFIX = ".secret-key"
MIN_SECRET_LENGTH = 32
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
OPEN_PREFIXES = ("/static/", "/healthz")
LOGIN_PATH = "/login"
LOGOUT_PATH = "/logout"
# Bodies larger than this are refused before their CSRF token is read (a scanned letter is a few MB).
MAX_BODY_BYTES = 64 * 1024 * 1024

SIGN_IN_FAILED_TH = "ลงชื่อเข้าใช้ไม่สำเร็จ: ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง หรือบัญชีถูกระงับชั่วคราวเพราะใส่รหัสผ่านผิดหลายครั้ง"

Render = Callable[..., HTMLResponse]
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class SecretKeyError(RuntimeError):
    """The session signing key cannot be had (a short `$SARABAN_SECRET_KEY`, an unreadable file)."""


def secret_key(database_url: str | None) -> str:
    """The key session cookies are signed with (see the module docstring for where it comes from)."""
    given = os.environ.get(SECRET_ENV)
    if given:
        if len(given) < MIN_SECRET_LENGTH:
            raise SecretKeyError(f"${SECRET_ENV} is too short: at least {MIN_SECRET_LENGTH} characters")
        return given
    path = sqlite_file(resolve_database_url(database_url))
    if path is None:
        log.warning(
            "no $%s and the record is not a SQLite file: sessions are signed with a key made for this "
            "process and end when it stops",
            SECRET_ENV,
        )
        return secrets.token_urlsafe(48)
    return _key_file(path.with_name(path.name + KEY_FILE_SUFFIX))


def _key_file(path: Path) -> str:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    except OSError as exc:
        raise SecretKeyError(f"cannot create the session key file {path}: {exc}") from None
    else:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_urlsafe(48))
    try:
        key = path.read_text(encoding="ascii").strip()
    except OSError as exc:
        raise SecretKeyError(f"cannot read the session key file {path}: {exc}") from None
    if len(key) < MIN_SECRET_LENGTH:
        # Another process is writing it this very moment, or it was truncated: never sign with it.
        raise SecretKeyError(f"session key file {path} is shorter than {MIN_SECRET_LENGTH} characters")
    return key


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site only (no `//host`, no scheme).

    >>> _safe_next("/agencies/province:21?as_of=2020-06-26"), _safe_next("//evil.example/"), _safe_next(None)
    ('/agencies/province:21?as_of=2020-06-26', '/', '/')
    """
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _client(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


class Sessions:
    """Signed session cookies: `{"u": username or None, "e": epoch, "c": csrf token}`."""

    def __init__(self, key: str) -> None:
        self._serializer = URLSafeTimedSerializer(key, salt="saraban-session")

    def load(self, cookie: str | None) -> dict[str, Any] | None:
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=SESSION_MAX_AGE)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None
        return data

    def dump(self, data: dict[str, Any]) -> str:
        return str(self._serializer.dumps(data))

    @staticmethod
    def fresh(username: str | None = None, epoch: int = 0) -> dict[str, Any]:
        return {"u": username, "e": epoch, "c": secrets.token_urlsafe(32)}

    def header(self, data: dict[str, Any], *, secure: bool) -> bytes:
        """The `Set-Cookie` header value for `data`."""
        response = Response()
        response.set_cookie(
            SESSION_COOKIE,
            self.dump(data),
            max_age=SESSION_MAX_AGE,
            path="/",
            httponly=True,
            samesite="lax",
            secure=secure,
        )
        return response.headers["set-cookie"].encode("latin-1")


def _signed_in(engine: Any, data: dict[str, Any] | None) -> tuple[bool, SignedIn | None]:
    """(users on record?, the session's user when still valid: exists, enabled, same epoch)."""
    with Session(engine) as session:
        try:
            if not users.has_users(session):
                return False, None
            name = data.get("u") if data else None
            if not isinstance(name, str):
                return True, None
            user = users.get_user(session, name)
        finally:
            session.rollback()
    if user is None or user.disabled or data is None or user.session_epoch != data.get("e"):
        return True, None
    return True, SignedIn(user.username, user.role, user.agency_id)


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The whole request body, and whether it stayed within MAX_BODY_BYTES."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return b"", False
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks), True


async def _form_token(scope: Scope, body: bytes) -> str | None:
    """The `csrf_token` field of a urlencoded or multipart body."""
    content_type = Headers(scope=scope).get("content-type", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        values = parse_qs(body.decode("latin-1"), keep_blank_values=True).get(CSRF_FIELD)
        return values[0] if values else None
    if content_type.startswith("multipart/form-data"):
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return {"type": "http.disconnect"}
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        request = Request(scope, replay)
        try:
            form = await request.form()
        except Exception:  # a malformed body: no token can be read from it
            return None
        try:
            value = form.get(CSRF_FIELD)
            return value if isinstance(value, str) else None
        finally:
            await form.close()
    return None


class AuthMiddleware:
    """See the module docstring. Pure ASGI: the body a form posts is read once for its token and
    handed on to the route unchanged."""

    def __init__(self, app: ASGIApp, *, fastapi_app: FastAPI, sessions: Sessions, render: Render) -> None:
        self.app = app
        self.fastapi_app = fastapi_app
        self.sessions = sessions
        self.render = render

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, code: int, detail: str) -> None:
        response = self.render(
            Request(scope, receive), "error.html", status_code=code, code=code, detail=detail
        )
        await response(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        method: str = scope.get("method", "GET")
        data = self.sessions.load(Request(scope).cookies.get(SESSION_COOKIE))
        issue = data is None
        session = data if data is not None else Sessions.fresh()
        scope["state"] = {**scope.get("state", {}), "user": None, "csrf_token": session["c"]}
        state = scope["state"]
        if path.startswith(OPEN_PREFIXES):
            required, user = False, None
        else:
            try:
                required, user = await run_in_threadpool(_signed_in, self.fastapi_app.state.engine, data)
            except DBAPIError as exc:
                # No users table (not a record, an older schema) or no database: who is asking cannot
                # be known, so nothing is shown.
                log.warning("sign-in check failed: %s", str(exc.orig or exc).splitlines()[0])
                await self._refuse(scope, receive, send, 503, "ยังเปิดบันทึกไม่ได้ (the record cannot be read)")
                return
        state["user"] = user
        state["auth_required"] = required

        if method not in SAFE_METHODS:
            body, within = await _read_body(receive)
            if not within:
                await self._refuse(scope, receive, send, 413, "คำขอมีขนาดใหญ่เกินไป (request body too large)")
                return
            sent = Headers(scope=scope).get(CSRF_HEADER) or await _form_token(scope, body)
            if data is None or not sent or not hmac.compare_digest(sent.encode(), session["c"].encode()):
                # Without a session the token cannot match: the visitor gets one with this answer.
                await self._refuse(
                    scope,
                    receive,
                    self._with_cookie(scope, send, session if issue else None),
                    403,
                    "แบบฟอร์มหมดอายุหรือไม่ได้มาจากหน้านี้ (CSRF token missing or wrong): โหลดหน้าใหม่แล้วลองอีกครั้ง",
                )
                return
            receive = _replaying(body)

        if required and user is None and not self._open(path):
            if method in ("GET", "HEAD"):
                target = path + (
                    f"?{scope['query_string'].decode('latin-1')}" if scope.get("query_string") else ""
                )
                location = LOGIN_PATH + ("" if target == "/" else "?" + urlencode({"next": target}))
                response: Response = RedirectResponse(location, status_code=303)
                await response(scope, receive, self._with_cookie(scope, send, session if issue else None))
            else:
                await self._refuse(scope, receive, send, 401, "กรุณาลงชื่อเข้าใช้ก่อน (sign in first)")
            return
        writes = method not in SAFE_METHODS and path not in (LOGIN_PATH, LOGOUT_PATH)
        if user is not None and user.role == "auditor" and writes:
            await self._refuse(scope, receive, send, 403, "ผู้ตรวจสอบอ่านได้อย่างเดียว (auditors are read-only)")
            return
        await self.app(scope, receive, self._with_cookie(scope, send, session if issue else None))

    @staticmethod
    def _open(path: str) -> bool:
        return path == LOGIN_PATH or path.startswith(OPEN_PREFIXES)

    def _with_cookie(self, scope: Scope, send: Send, issue: dict[str, Any] | None) -> Send:
        """`send`, adding the session cookie to the response: a route's new session (sign-in,
        sign-out) in `state["session_out"]`, else `issue` (a visitor's first session)."""
        secure = scope.get("scheme") == "https"

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = scope.get("state", {}).get("session_out") or issue
                if out is not None:
                    headers = list(message.get("headers", []))
                    headers.append((b"set-cookie", self.sessions.header(out, secure=secure)))
                    message = {**message, "headers": headers}
            await send(message)

        return sending


def _replaying(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


# --- scopes ---------------------------------------------------------------------------------------


def _reader(request: Request) -> Session:
    return Session(request.app.state.engine)


def _who(request: Request) -> SignedIn | None:
    """The signed-in user; None on an open dashboard. A request that should have been signed in
    and is not (the middleware missing) is refused rather than let through."""
    user = current_user(request)
    if user is None and getattr(request.state, "auth_required", False):
        raise HTTPException(401, "กรุณาลงชื่อเข้าใช้ก่อน (sign in first)")
    return user


def require_scope(request: Request, agency_id: str, *, write: bool = False) -> None:
    """Raise HTTPException 403 unless the signed-in user may see (`write=True`: change) the agency.

    A clerk: their own agency; an administrator: theirs and every agency below it; an auditor:
    every agency, never to write. With no user on record (an open dashboard) everything is allowed.
    """
    user = _who(request)
    if user is None:
        return
    if write and user.role == "auditor":
        raise HTTPException(403, "ผู้ตรวจสอบอ่านได้อย่างเดียว (auditors are read-only)")
    with _reader(request) as session:
        allowed = users.may_see(session, user, agency_id)
    if not allowed:
        raise HTTPException(403, f"ไม่มีสิทธิ์ดูข้อมูลของหน่วยงาน {agency_id} (outside your agencies)")


def visible_agencies(request: Request) -> frozenset[str] | None:
    """The ids of the agencies the signed-in user may see, for filtering lists; None: every agency
    (an auditor, or an open dashboard). Computed once per request."""
    user = _who(request)
    if user is None:
        return None
    cached: tuple[frozenset[str] | None] | None = getattr(request.state, "visible_agencies", None)
    if cached is None:
        with _reader(request) as session:
            cached = (users.visible_agencies(session, user),)
        request.state.visible_agencies = cached
    return cached[0]


def require_circular(request: Request, circular_id: str) -> None:
    """403 unless the circular reached, or was sent or issued by, an agency in the user's scope."""
    user = _who(request)
    if user is None:
        return
    with _reader(request) as session:
        allowed = users.circular_in_scope(session, user, circular_id)
    if not allowed:
        raise HTTPException(403, f"ไม่มีสิทธิ์ดูหนังสือเวียน {circular_id} (outside your agencies)")


def require_letters(request: Request, letter_ids: Sequence[int], shown: str) -> None:
    """403 unless one of the letters was issued by, sent to or received by an agency in scope."""
    user = _who(request)
    if user is None:
        return
    with _reader(request) as session:
        allowed = users.letters_in_scope(session, user, letter_ids)
    if not allowed:
        raise HTTPException(403, f"ไม่มีสิทธิ์ดูหนังสือ {shown} (outside your agencies)")


def require_auditor(request: Request) -> None:
    """403 unless the signed-in user is an auditor: for the audit pages (verify, history). Open
    when no user is on record, like every page."""
    user = _who(request)
    if user is not None and user.role != "auditor":
        raise HTTPException(403, "เฉพาะผู้ตรวจสอบ (auditors only)")


def require_scan(request: Request, page_id: int) -> None:
    """403 unless a letter read from the scan the page belongs to is in the user's scope."""
    user = _who(request)
    if user is None:
        return
    with _reader(request) as session:
        letters = users.scan_page_letters(session, page_id)
        allowed = users.letters_in_scope(session, user, letters)
    if not allowed:
        raise HTTPException(403, f"ไม่มีสิทธิ์ดูภาพหน้าสแกน {page_id} (outside your agencies)")


# --- sign-in and sign-out -------------------------------------------------------------------------


def _writer(request: Request) -> Any:
    return session_scope(get_engine(request.app.state.database_url))


def install(app: FastAPI, render: Render) -> None:
    """Add the sign-in middleware and the `/login` and `/logout` routes to the dashboard."""
    sessions = Sessions(secret_key(app.state.database_url))
    app.add_middleware(AuthMiddleware, fastapi_app=app, sessions=sessions, render=render)

    def login_page(
        request: Request, *, error: str = "", username: str = "", status: int = 200
    ) -> HTMLResponse:
        target = _safe_next(request.query_params.get("next") or getattr(request.state, "next", None))
        return render(request, "login.html", status_code=status, error=error, username=username, next=target)

    @app.get(LOGIN_PATH, response_class=HTMLResponse)
    def login_form(request: Request) -> Response:
        if current_user(request) is not None:
            return RedirectResponse(_safe_next(request.query_params.get("next")), status_code=303)
        return login_page(request)

    @app.post(LOGIN_PATH, response_class=HTMLResponse)
    async def login(request: Request) -> Response:
        form = await request.form()
        username, password, target = (
            str(form.get("username") or ""),
            str(form.get("password") or ""),
            str(form.get("next") or ""),
        )
        await form.close()

        def attempt() -> users.SignInOutcome:
            with _writer(request) as session:
                return users.sign_in(session, username, password, client=_client(request.scope))

        outcome = await run_in_threadpool(attempt)
        if outcome.user is None:
            request.state.next = target
            return login_page(request, error=SIGN_IN_FAILED_TH, username=username[:64], status=401)
        # A new session (and CSRF token) on sign-in: a token seen before it is worth nothing after.
        request.state.session_out = Sessions.fresh(outcome.user.username, outcome.user.session_epoch)
        return RedirectResponse(_safe_next(target), status_code=303)

    @app.post(LOGOUT_PATH)
    def logout(request: Request) -> Response:
        user = current_user(request)
        if user is not None:
            with _writer(request) as session:
                users.sign_out(session, user.username, client=_client(request.scope))
        request.state.session_out = Sessions.fresh()
        return RedirectResponse(LOGIN_PATH, status_code=303)
