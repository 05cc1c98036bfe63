"""`/agencies/{id}/registers/received|sent`: an agency's register of a year on the dashboard, in the
regulation's layout, with its downloads (`.xlsx`, `.pdf`, `.csv` after the kind, `?year=` kept).

`?year=` takes a Buddhist-era (2563) or Gregorian (2020) year; without it, the agency's latest year
with entries. The page prints as the register itself (print.css hides the rest of the dashboard).
"""

# No `from __future__ import annotations`: FastAPI resolves the routes' annotations in the module's
# globals, and the session dependency is the factory's argument.

from collections.abc import Callable, Iterator
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup
from sqlmodel import Session

from app import auth
from models.thai import BE_OFFSET
from records import registers
from visualize.registers import MEDIA_TYPES, WRITERS, file_name, table_html

Render = Callable[..., HTMLResponse]
# `received`, or `received.xlsx` for its download.
REGISTER_NAME = r"^(received|sent)(\.(xlsx|pdf|csv))?$"


def register_url(agency_id: str, kind: str, year: int | None = None, suffix: str = "") -> str:
    """`/agencies/province:21/registers/received.xlsx?year=2563` (the year in Buddhist era).

    >>> register_url("province:21", "sent", 2563)
    '/agencies/province:21/registers/sent?year=2563'
    """
    url = f"/agencies/{quote(agency_id, safe=':')}/registers/{kind}{suffix}"
    return f"{url}?{urlencode({'year': year})}" if year is not None else url


def registers_router(render: Render, session: Callable[[Request], Iterator[Session]]) -> APIRouter:
    """The register pages and downloads, rendered with the app's `render`, read through `session`
    (the app's read-only session dependency). Include it before `/agencies/{agency_id:path}`."""
    router = APIRouter()

    @router.get("/agencies/{agency_id}/registers/{name}", response_class=HTMLResponse)
    def register_page(
        request: Request,
        agency_id: str,
        name: Annotated[str, Path(pattern=REGISTER_NAME)],
        db: Annotated[Session, Depends(session)],
        year: Annotated[str | None, Query(max_length=8)] = None,
    ) -> Response:
        kind, _, fmt = name.partition(".")
        auth.require_scope(request, agency_id)
        try:
            wanted = registers.gregorian_year(year) if year else None
        except registers.RegisterError as exc:
            raise HTTPException(400, f"year: {exc}") from None
        try:
            found = registers.register(db, "sent" if kind == "sent" else "received", agency_id, wanted)
        except registers.RegisterError as exc:
            raise HTTPException(404, f"ไม่พบหน่วยงาน {agency_id!r} ({exc})") from None
        if fmt:
            suffix = f".{fmt}"
            disposition = f'attachment; filename="{file_name(found, suffix)}"'
            return Response(
                WRITERS[suffix](found),
                media_type=MEDIA_TYPES[suffix],
                headers={"Content-Disposition": disposition},
            )
        be = found.be_year
        return render(
            request,
            "register.html",
            register=found,
            table=Markup(table_html(found)),
            other=register_url(agency_id, "sent" if kind == "received" else "received", be),
            downloads=[(s.lstrip("."), register_url(agency_id, kind, be, s)) for s in WRITERS],
            years=[(y + BE_OFFSET, register_url(agency_id, kind, y + BE_OFFSET)) for y in found.years],
        )

    return router
