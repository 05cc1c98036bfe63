"""`/audit/verify` and `/audit/history`: the audit pages (ตรวจสอบบันทึก), for auditors.

`/audit/verify` checks the event chain, replays the log into a scratch database and compares the
state, as `saraban audit verify` does (without an anchor: the page says what that leaves open).
`/audit/history` lists the newest events, oldest first, about a letter and/or an agency (`?letter=`,
`?agency=`), as `saraban audit log` does. Auditors only once users are on record
(`app.auth.require_auditor`); open with the rest of the dashboard when none is.
"""

# No `from __future__ import annotations`: FastAPI resolves the routes' annotations in the module's
# globals, and the session dependency is the factory's argument.

import json
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from app import auth
from records import audit

Render = Callable[..., HTMLResponse]
HISTORY_LIMIT = 200
PAYLOAD_SHOWN = 400  # characters of an event's payload shown in the list (snapshots can be long)


def _payload(text: str) -> str:
    """An event's payload as compact JSON, cut to PAYLOAD_SHOWN characters.

    >>> _payload('{"a": 1}')
    '{"a":1}'
    """
    try:
        compact = json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":"))
    except json.JSONDecodeError:
        compact = text
    return compact if len(compact) <= PAYLOAD_SHOWN else compact[:PAYLOAD_SHOWN] + " …"


def audit_router(render: Render, session: Callable[[Request], Iterator[Session]]) -> APIRouter:
    """The audit pages, rendered with the app's `render`, read through `session` (the app's
    read-only session dependency)."""
    router = APIRouter()

    @router.get("/audit/verify", response_class=HTMLResponse)
    def verify_page(request: Request, db: Annotated[Session, Depends(session)]) -> HTMLResponse:
        auth.require_auditor(request)
        report = audit.verify(db)
        return render(request, "audit_verify.html", report=report, lines=report.lines(limit=50))

    @router.get("/audit/history", response_class=HTMLResponse)
    def history_page(
        request: Request,
        db: Annotated[Session, Depends(session)],
        letter: Annotated[str | None, Query(max_length=200)] = None,
        agency: Annotated[str | None, Query(max_length=200)] = None,
    ) -> HTMLResponse:
        auth.require_auditor(request)
        letter, agency = (letter or "").strip() or None, (agency or "").strip() or None
        try:
            events = audit.log(db, letter=letter, agency=agency, limit=HISTORY_LIMIT)
        except (audit.AuditError, ValueError) as exc:
            raise HTTPException(400, str(exc)) from None
        rows: list[dict[str, Any]] = [
            {
                "seq": e.seq,
                "at": e.at,
                "actor": e.actor,
                "on_behalf_of": e.on_behalf_of,
                "kind": e.kind,
                "subject": e.subject,
                "payload": _payload(e.payload),
            }
            for e in events
        ]
        return render(
            request,
            "audit_history.html",
            events=rows,
            letter=letter or "",
            agency=agency or "",
            limit=HISTORY_LIMIT,
        )

    return router
