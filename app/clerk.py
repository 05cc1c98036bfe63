"""Clerks' work on the web (งานสารบรรณ): an agency's inbox and outbox, receiving and dispatching.

Pages (an `APIRouter` that `app.main.create_app` includes):

- `GET  /agencies/{id}/inbox`          letters received, waiting to be sent on, by due date
                                      (`?all=1`: those sent on too)
- `GET  /agencies/{id}/outbox`         what the agency sent on, to whom, how far each got
- `GET  /agencies/{id}/receive`        upload a letter file (text, PDF or scan)
- `POST /agencies/{id}/receive`        the file is kept and read as `saraban ingest` reads it
                                      (`records.ingest.ingest_file`), then → the check page
- `GET  /agencies/{id}/receive/check`  the letters read, each field with how it was read, a
                                      correction form, and the receipt form
- `POST /agencies/{id}/receive/letters/{letter_id}`  corrections + the next receipt number
                                      (`records.registry.receive_checked`), then → the receipt
- `GET  /agencies/{id}/receipts/{receipt_id}`  the receipt number and year issued
- `GET|POST /agencies/{id}/dispatch`   record a dispatch: which letter, to whom
- `GET  /review`, `GET|POST /review/{item_id}`  letters that could not be fully read: supply the
                                      number and date (`records.review.resolve_review`)

Every write goes through the service layer on a writable engine (`models.db.get_engine`), in one
transaction, with the event log, exactly as the CLI's commands do; every POST answers with a
redirect to a page that shows the result (POST-redirect-GET), or with its form again and the
reason it was refused (nothing written). The actor of every write is the signed-in user; when the
dashboard is open (no users on record, `app.security.current_user` is None) it is what the clerk
typed in the form's ผู้ลงทะเบียน field, as `web:<name>`, or `web` when left blank.

Uploads: at most `UPLOAD_MAX_BYTES`. The file is kept byte for byte under the upload directory
(`SARABAN_UPLOAD_DIR`; by default `uploads/` beside a SQLite record, else
`$XDG_DATA_HOME/saraban-flow/uploads`) at `<sha256[:2]>/<sha256>/<name>`, and ingested from there,
so the record names the file it read, as `saraban ingest` does for a file on disk, and keeps what
ingest keeps (source text, sha256, the page images of a scan). A file that cannot be read is
removed again and nothing is written.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path, PurePosixPath
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app import auth, security
from models.db import database_url, get_engine, session_scope, sqlite_file
from models.letters import Agency
from models.thai import BANGKOK, to_thai_digits
from records import inbox, registry, review
from records.ingest import IngestError, ingest_file
from records.progress import today
from records.reference import directory
from records.service import CorrectionError

router = APIRouter()

UPLOAD_MAX_BYTES = 20 * 1024 * 1024
_CHUNK = 1024 * 1024
# A redirect's URL carries the ids of the letters read and up to this many notes of the ingest.
MAX_NOTES = 8
DEFAULT_REASON = "แก้ไขตามต้นฉบับเมื่อลงทะเบียนรับ (corrected against the original when received)"

FIELD_STATUS_TH: dict[str, str] = {
    "read": "อ่านได้",
    "repaired": "อ่านได้ (ซ่อมแล้ว)",
    "partial": "อ่านได้บางส่วน",
    "missing": "อ่านไม่ได้",
    "corrected": "แก้ไขแล้ว",
}
URGENCIES = ("", "ด่วน", "ด่วนมาก", "ด่วนที่สุด")


# --- plumbing ---------------------------------------------------------------------------------------


def _render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """The dashboard's own renderer (`create_app` puts it on `app.state.render`): same globals."""
    context.setdefault("field_status_th", FIELD_STATUS_TH)
    context.setdefault("thai_digits", to_thai_digits)
    response: HTMLResponse = request.app.state.render(request, name, status_code, **context)
    return response


def _read_session(request: Request) -> Session:
    return Session(request.app.state.engine)


def _writer(request: Request) -> Engine:
    return get_engine(request.app.state.database_url)


def actor_of(request: Request, typed: str | None) -> str:
    """Who a write is recorded as: the signed-in user, else `web:<name typed>`, else `web`.

    >>> from starlette.requests import Request as R
    >>> actor_of(R({"type": "http", "state": {}}), "  สมศรี   ใจดี ")
    'web:สมศรี ใจดี'
    """
    user = security.current_user(request)
    if user is not None:
        return user.username
    name = " ".join((typed or "").split())[:80]
    return f"web:{name}" if name else "web"


def _agency(request: Request, agency_id: str, *, write: bool) -> Agency:
    """The directory agency of a page's URL (404 for anything else), once the signed-in user may
    see it, or with `write` change it (`app.auth.require_scope`: 403 otherwise)."""
    try:
        agency: Agency | None = registry.resolve_agency(agency_id)
    except registry.RegistryError:
        agency = None
    if agency is None or agency.id != agency_id:
        raise HTTPException(404, f"ไม่พบหน่วยงาน {agency_id!r} (no such agency)")
    auth.require_scope(request, agency.id, write=write)
    return agency


def _base(agency_id: str) -> str:
    return "/agencies/" + quote(agency_id, safe=":")


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _moment(text: str | None) -> datetime | None:
    """A `datetime-local` field (Bangkok wall-clock time), or None when left empty."""
    if not text or not text.strip():
        return None
    try:
        return datetime.fromisoformat(text.strip()).replace(tzinfo=BANGKOK)
    except ValueError:
        raise registry.RegistryError(
            f"วันเวลา {text!r} ไม่ถูกต้อง (time received: expected 2020-06-02T13:30)"
        ) from None


# --- uploads ---------------------------------------------------------------------------------------


class UploadError(ValueError):
    """An upload refused before anything is written; the message is Thai, then English."""

    def __init__(self, message: str, status_code: int = 400) -> None:
        super().__init__(message)
        self.status_code = status_code


def upload_dir(request: Request) -> Path:
    """Where uploaded files are kept (see the module)."""
    configured = os.environ.get("SARABAN_UPLOAD_DIR")
    if configured:
        return Path(configured)
    db = sqlite_file(database_url(request.app.state.database_url))
    if db is not None:
        return db.resolve().parent / "uploads"
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home) / "saraban-flow" / "uploads"


def safe_name(name: str | None) -> str:
    """A file name safe to keep: the last part of what the browser sent, Thai kept, no dot first.

    >>> safe_name("../../etc/หนังสือ เวียน.pdf"), safe_name("C:\\\\scan\\\\a b?.png"), safe_name("..")
    ('หนังสือ เวียน.pdf', 'a b_.png', 'upload')
    """
    base = PurePosixPath(unicodedata.normalize("NFC", name or "").replace("\\", "/")).name
    cleaned = re.sub(r"[^\w.\- \u0e01-\u0e5b]+", "_", base).strip(" .")[:120]
    return cleaned or "upload"


def _read_upload(upload: UploadFile) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while chunk := upload.file.read(_CHUNK):
        size += len(chunk)
        if size > UPLOAD_MAX_BYTES:
            raise UploadError(
                f"ไฟล์ใหญ่เกิน {UPLOAD_MAX_BYTES // (1024 * 1024)} MB"
                f" (file too large: the limit is {UPLOAD_MAX_BYTES:,} bytes)",
                413,
            )
        chunks.append(chunk)
    data = b"".join(chunks)
    if not data.strip():
        raise UploadError("ไฟล์ว่างเปล่า ไม่มีข้อความ (the file is empty)")
    return data


def _keep(data: bytes, name: str, root: Path) -> tuple[Path, bool]:
    """Keep the bytes at `<root>/<sha[:2]>/<sha>/<name>`; (path, whether this call wrote it)."""
    digest = hashlib.sha256(data).hexdigest()
    folder = root / digest[:2] / digest
    path = folder / name
    if path.is_file():
        return path, False
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / f".{uuid.uuid4().hex}.part"
    part.write_bytes(data)
    os.replace(part, path)
    return path, True


def _forget(path: Path, root: Path) -> None:
    """Remove a kept file that could not be read, and its folders once empty."""
    path.unlink(missing_ok=True)
    for folder in (path.parent, path.parent.parent):
        if folder != root:
            try:
                folder.rmdir()
            except OSError:
                break


def _ingest_message(exc: IngestError, path: Path, shown: str) -> str:
    detail = str(exc).replace(str(path), shown)
    return f"อ่านไฟล์นี้เป็นหนังสือราชการไม่ได้ จึงยังไม่ได้บันทึกสิ่งใด (the file could not be read: {detail})"


# --- inbox and outbox ---------------------------------------------------------------------------------


@router.get("/agencies/{agency_id}/inbox", response_class=HTMLResponse)
def inbox_page(
    request: Request,
    agency_id: str,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    all: Annotated[int, Query(ge=0, le=1)] = 0,
    as_of: Annotated[date | None, Query()] = None,
) -> HTMLResponse:
    agency = _agency(request, agency_id, write=False)
    day = as_of or today()
    with _read_session(request) as session:
        items = inbox.inbox(session, agency.id, day, waiting_only=not all, page=page)
    return _render(
        request,
        "inbox.html",
        agency=agency,
        base=_base(agency.id),
        items=items,
        show_all=bool(all),
        as_of=day,
    )


@router.get("/agencies/{agency_id}/outbox", response_class=HTMLResponse)
def outbox_page(
    request: Request,
    agency_id: str,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    sent: Annotated[int | None, Query(ge=1)] = None,
    same: Annotated[int, Query(ge=0, le=1)] = 0,
    warn: Annotated[list[str] | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    agency = _agency(request, agency_id, write=False)
    with _read_session(request) as session:
        items = inbox.outbox(session, agency.id, page=page)
    return _render(
        request,
        "outbox.html",
        agency=agency,
        base=_base(agency.id),
        items=items,
        sent=sent,
        same=bool(same),
        warnings=(warn or [])[:MAX_NOTES],
    )


# --- receiving ---------------------------------------------------------------------------------------


@router.get("/agencies/{agency_id}/receive", response_class=HTMLResponse)
def receive_form(request: Request, agency_id: str) -> HTMLResponse:
    agency = _agency(request, agency_id, write=True)
    return _render(
        request, "receive.html", agency=agency, base=_base(agency.id), error=None, max_bytes=UPLOAD_MAX_BYTES
    )


@router.post("/agencies/{agency_id}/receive", response_class=HTMLResponse)
def receive_upload(
    request: Request,
    agency_id: str,
    file: UploadFile,
    clerk: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    agency = _agency(request, agency_id, write=True)
    shown = safe_name(file.filename)
    root = upload_dir(request)
    try:
        data = _read_upload(file)
        path, wrote = _keep(data, shown, root)
        try:
            report = ingest_file(path, _writer(request), actor=actor_of(request, clerk), migrate=False)
        except IngestError as exc:
            if wrote:
                _forget(path, root)
            raise UploadError(_ingest_message(exc, path, shown)) from None
        except (SQLAlchemyError, OSError) as exc:
            if wrote:
                _forget(path, root)
            raise UploadError(
                f"บันทึกไม่สำเร็จ ลองใหม่อีกครั้ง (not stored: {type(exc).__name__}: {exc})", 503
            ) from None
    except UploadError as exc:
        return _render(
            request,
            "receive.html",
            status_code=exc.status_code,
            agency=agency,
            base=_base(agency.id),
            error=str(exc),
            max_bytes=UPLOAD_MAX_BYTES,
        )
    with _read_session(request) as session:
        ids = inbox.letter_ids_of(session, [(o.number, o.date) for o in report.letters if o.status != "held"])
    notes = [str(o) for o in report.letters if o.status in ("held", "differs")] + list(report.warnings)
    query: list[tuple[str, str | int]] = [("file", shown)]
    query += [("letter", i) for i in ids]
    query += [("review", r.id) for r in report.to_review]
    query += [("note", n[:300]) for n in notes[:MAX_NOTES]]
    return _see_other(f"{_base(agency.id)}/receive/check?{urlencode(query)}")


def _check_page(
    request: Request,
    agency: Agency,
    letter_ids: Sequence[int],
    review_ids: Sequence[int],
    *,
    file: str | None = None,
    notes: Sequence[str] = (),
    error: str | None = None,
    error_letter: int | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    with _read_session(request) as session:
        letters = inbox.letters_to_receive(session, letter_ids, agency.id)
        reviews = []
        for item_id in dict.fromkeys(review_ids):
            try:
                reviews.append(review.review_detail(session, item_id))
            except review.ReviewError:
                continue
    if not letters and not reviews and error is None:
        raise HTTPException(404, "ไม่พบหนังสือที่จะลงทะเบียน (no letter to register: upload its file first)")
    return _render(
        request,
        "receive_check.html",
        status_code=status_code,
        agency=agency,
        base=_base(agency.id),
        letters=letters,
        reviews=reviews,
        file=file,
        notes=notes,
        error=error,
        error_letter=error_letter,
        form=form or {},
        urgencies=URGENCIES,
        default_reason=DEFAULT_REASON,
        check_query=urlencode([*(("letter", i) for i in letter_ids), *(("review", i) for i in review_ids)]),
    )


@router.get("/agencies/{agency_id}/receive/check", response_class=HTMLResponse)
def receive_check(
    request: Request,
    agency_id: str,
    letter: Annotated[list[int] | None, Query()] = None,
    review_item: Annotated[list[int] | None, Query(alias="review")] = None,
    file: Annotated[str | None, Query(max_length=200)] = None,
    note: Annotated[list[str] | None, Query(max_length=500)] = None,
) -> HTMLResponse:
    agency = _agency(request, agency_id, write=True)
    return _check_page(
        request,
        agency,
        (letter or [])[:50],
        (review_item or [])[:50],
        file=file,
        notes=(note or [])[:MAX_NOTES],
    )


@router.post("/agencies/{agency_id}/receive/letters/{letter_id}", response_class=HTMLResponse)
def receive_letter(
    request: Request,
    agency_id: str,
    letter_id: int,
    date_: Annotated[str, Form(alias="date", max_length=40)] = "",
    urgency: Annotated[str, Form(max_length=40)] = "",
    issuer: Annotated[str, Form(max_length=500)] = "",
    subject: Annotated[str, Form(max_length=2000)] = "",
    salutation: Annotated[str, Form(max_length=500)] = "",
    signer: Annotated[str, Form(max_length=500)] = "",
    signer_position: Annotated[str, Form(max_length=500)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
    receipt_number: Annotated[str, Form(max_length=40)] = "",
    received_at: Annotated[str, Form(max_length=40)] = "",
    clerk: Annotated[str, Form(max_length=200)] = "",
    others: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    agency = _agency(request, agency_id, write=True)
    corrections = {
        "date": date_,
        "urgency": urgency,
        "issuer": issuer,
        "subject": subject,
        "salutation": salutation,
        "signer": signer,
        "signer_position": signer_position,
    }
    try:
        with session_scope(_writer(request)) as session:
            receipt = registry.receive_checked(
                session,
                letter_id,
                agency.id,
                corrections,
                reason.strip() or DEFAULT_REASON,
                _moment(received_at),
                receipt_number.strip() or None,
                actor=actor_of(request, clerk),
            )
            receipt_id = receipt.id
    except (registry.RegistryError, CorrectionError) as exc:
        # The other letters of the same file stay on the page (`others`: the check page's query).
        ids = [letter_id] + [int(v) for k, v in _pairs(others) if k == "letter" and v.isdigit()]
        reviews = [int(v) for k, v in _pairs(others) if k == "review" and v.isdigit()]
        form = {**corrections, "reason": reason, "receipt_number": receipt_number, "received_at": received_at}
        return _check_page(
            request,
            agency,
            ids,
            reviews,
            error=f"ลงทะเบียนรับไม่ได้ ยังไม่ได้บันทึกสิ่งใด (not registered: {exc})",
            error_letter=letter_id,
            form={**form, "clerk": clerk},
            status_code=400,
        )
    kept = [(k, v) for k, v in _pairs(others) if k in ("letter", "review") and v.isdigit()]
    return _see_other(f"{_base(agency.id)}/receipts/{receipt_id}" + (f"?{urlencode(kept)}" if kept else ""))


def _pairs(query: str) -> list[tuple[str, str]]:
    return [(k, v) for k, _, v in (p.partition("=") for p in query.split("&") if p)]


@router.get("/agencies/{agency_id}/receipts/{receipt_id}", response_class=HTMLResponse)
def receipt_page(
    request: Request,
    agency_id: str,
    receipt_id: int,
    letter: Annotated[list[int] | None, Query()] = None,
    review_item: Annotated[list[int] | None, Query(alias="review")] = None,
) -> HTMLResponse:
    agency = _agency(request, agency_id, write=False)
    with _read_session(request) as session:
        entry = inbox.receipt_entry(session, receipt_id)
    if entry is None or entry.registry != agency.id:
        raise HTTPException(404, f"ไม่พบเลขรับ {receipt_id} ของ {agency.name_th} (no such receipt)")
    # The other letters of the same file, when it held several: back to their check page.
    others = [i for i in (letter or [])[:50] if i != entry.letter_id]
    reviews = (review_item or [])[:50]
    back = urlencode([*(("letter", i) for i in others), *(("review", i) for i in reviews)])
    return _render(
        request, "receive_done.html", agency=agency, base=_base(agency.id), entry=entry, others=back
    )


# --- dispatching -------------------------------------------------------------------------------------


def _recipients(agency: Agency) -> list[Agency]:
    """The agencies below `agency` in the directory: whom it usually sends a circular on to."""
    found = directory()
    return [found[i] for i in found.children(agency.id)] if agency.id in found else []


def _dispatch_page(
    request: Request, agency: Agency, *, status_code: int = 200, error: str | None = None, **form: Any
) -> HTMLResponse:
    with _read_session(request) as session:
        waiting = inbox.inbox(session, agency.id, today(), waiting_only=True, size=200)
    return _render(
        request,
        "dispatch.html",
        status_code=status_code,
        agency=agency,
        base=_base(agency.id),
        waiting=waiting.items,
        children=_recipients(agency),
        error=error,
        form=form,
    )


@router.get("/agencies/{agency_id}/dispatch", response_class=HTMLResponse)
def dispatch_form(
    request: Request,
    agency_id: str,
    letter: Annotated[str, Query(max_length=200)] = "",
    letter_date: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    agency = _agency(request, agency_id, write=True)
    return _dispatch_page(request, agency, letter=letter, letter_date=letter_date, to=[])


@router.post("/agencies/{agency_id}/dispatch", response_class=HTMLResponse)
def dispatch_letter(
    request: Request,
    agency_id: str,
    letter: Annotated[str, Form(max_length=200)] = "",
    letter_date: Annotated[str, Form(max_length=40)] = "",
    to: Annotated[list[str] | None, Form()] = None,
    to_other: Annotated[str, Form(max_length=5000)] = "",
    sent_at: Annotated[str, Form(max_length=40)] = "",
    clerk: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    agency = _agency(request, agency_id, write=True)
    recipients = [t for t in (to or []) if t.strip()]
    recipients += [r.strip() for r in re.split(r"[\n,]+", to_other) if r.strip()]
    form = {"letter": letter, "letter_date": letter_date, "to": to or [], "to_other": to_other, "sent_at": sent_at,
            "clerk": clerk}  # fmt: skip
    try:
        if not letter.strip():
            raise registry.RegistryError("ระบุเลขที่หนังสือ (give the letter's number)")
        on = review.parse_review_date(letter_date) if letter_date.strip() else None
        with session_scope(_writer(request)) as session:
            outcome = registry.dispatch(
                session,
                letter.strip(),
                agency.id,
                recipients,
                _moment(sent_at),
                actor=actor_of(request, clerk),
                letter_date=on,
            )
            dispatch_id = outcome.dispatch.id
    except (registry.RegistryError, review.ReviewError) as exc:
        return _dispatch_page(
            request,
            agency,
            status_code=400,
            error=f"บันทึกการส่งไม่ได้ ยังไม่ได้บันทึกสิ่งใด (not recorded: {exc})",
            **form,
        )
    query: list[tuple[str, str | int]] = [("sent", dispatch_id or 0)]
    if not outcome.changed:
        query.append(("same", 1))
    query += [("warn", w[:300]) for w in outcome.warnings[:MAX_NOTES]]
    return _see_other(f"{_base(agency.id)}/outbox?{urlencode(query)}")


# --- the review list ----------------------------------------------------------------------------------


@router.get("/review", response_class=HTMLResponse)
def review_list(request: Request) -> HTMLResponse:
    with _read_session(request) as session:
        items = review.open_reviews(session)
    return _render(request, "review.html", items=items)


def _review_page(
    request: Request,
    item_id: int,
    *,
    agency: str | None,
    status_code: int = 200,
    error: str | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    with _read_session(request) as session:
        try:
            item = review.review_detail(session, item_id)
        except review.ReviewError as exc:
            raise HTTPException(404, f"ไม่พบรายการตรวจทาน {item_id} ({exc})") from None
        letter = inbox.letter_brief(session, item["letter_id"]) if item.get("letter_id") else None
    back = _agency(request, agency, write=False) if agency else None
    return _render(
        request,
        "review_item.html",
        status_code=status_code,
        item=item,
        day=date.fromisoformat(item["date"]) if item.get("date") else None,
        letter=letter,
        error=error,
        form=form or {},
        agency=back,
        base=_base(back.id) if back else None,
    )


@router.get("/review/{item_id}", response_class=HTMLResponse)
def review_item(
    request: Request, item_id: int, agency: Annotated[str | None, Query(max_length=100)] = None
) -> HTMLResponse:
    return _review_page(request, item_id, agency=agency)


@router.post("/review/{item_id}", response_class=HTMLResponse)
def review_resolve(
    request: Request,
    item_id: int,
    number: Annotated[str, Form(max_length=200)] = "",
    date_: Annotated[str, Form(alias="date", max_length=100)] = "",
    clerk: Annotated[str, Form(max_length=200)] = "",
    agency: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    back = _agency(request, agency, write=True) if agency else None
    try:
        if not number.strip() or not date_.strip():
            raise review.ReviewError("ระบุทั้งเลขที่และวันที่ของหนังสือ (give both the number and the date)")
        with session_scope(_writer(request)) as session:
            review.resolve_review(
                session, item_id, number.strip(), date_.strip(), actor=actor_of(request, clerk)
            )
    except review.ReviewError as exc:
        return _review_page(
            request,
            item_id,
            agency=back.id if back else None,
            status_code=400,
            error=f"บันทึกไม่ได้ ยังไม่ได้บันทึกสิ่งใด (not resolved: {exc})",
            form={"number": number, "date": date_, "clerk": clerk},
        )
    suffix = f"?{urlencode({'agency': back.id})}" if back else ""
    return _see_other(f"/review/{item_id}{suffix}")
