"""`/search`: letters by any printed form of a number, by subject words, by agency and date range.

The header's search box comes here (`?q=`). A query that is a whole letter number naming exactly
one letter lands on that letter's page, as the box always did; anything else lists the letters
found (`records.search.search_letters`) within the reader's agencies (`app.auth`), sortable by
column (`?sort=date|number|subject|issuer&dir=asc|desc`) and paged (`?page=`), every filter kept
in the URL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session

from app.auth import visible_agencies
from records import search

Render = Callable[..., HTMLResponse]


def _session(request: Request) -> Iterator[Session]:
    with Session(request.app.state.engine) as session:
        yield session
        session.rollback()  # nothing is written; end the read transaction promptly


def _day(value: str | None, name: str) -> date | None:
    """An ISO day from the form, or None when left empty; a bad one is the request's fault (400)."""
    if not value or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise HTTPException(400, f"{name}: ไม่ใช่วันที่ ({value!r}; ใช้รูปแบบ 2020-06-01)") from None


def _letter_url(number: str, on: date, as_of: str | None) -> str:
    query = {"date": on.isoformat(), **({"as_of": as_of} if as_of else {})}
    return f"/letters/{quote(number, safe='')}?{urlencode(query)}"


def search_router(render: Render) -> APIRouter:
    """The `/search` page, rendered with the app's `render` (base.html's context: the day, the user)."""
    router = APIRouter()

    @router.get("/search", response_class=HTMLResponse)
    def search_page(
        request: Request,
        session: Annotated[Session, Depends(_session)],
        q: Annotated[str | None, Query(max_length=search.QUERY_MAX)] = None,
        agency: Annotated[str | None, Query(max_length=100)] = None,
        date_from: Annotated[str | None, Query(max_length=20)] = None,
        date_to: Annotated[str | None, Query(max_length=20)] = None,
        sort: Annotated[str | None, Query(pattern="^(" + "|".join(search.SORT_COLUMNS) + ")?$")] = None,
        direction: Annotated[str | None, Query(alias="dir", pattern="^(asc|desc)?$")] = None,
        page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    ) -> Response:
        query = (q or "").strip()
        day_from, day_to = _day(date_from, "date_from"), _day(date_to, "date_to")
        as_of = request.query_params.get("as_of") or None
        filtered = bool(agency or day_from or day_to)
        if query and not filtered:
            # The search box's old promise: a letter's number takes you to the letter.
            exact = search.exact_letters(session, query)
            if len(exact) == 1:
                return RedirectResponse(_letter_url(exact[0].number, exact[0].date, as_of), status_code=303)
        try:
            result = (
                search.search_letters(
                    session,
                    query,
                    agency or None,
                    day_from,
                    day_to,
                    sort=sort or None,
                    direction=direction or None,
                    page=page,
                    # A signed-in clerk or administrator finds the letters of their agencies only.
                    agencies=visible_agencies(request),
                )
                if query or filtered
                else None
            )
        except search.SearchError as exc:
            raise HTTPException(400, f"ค้นหาไม่ได้: {exc}") from None
        return render(
            request,
            "search.html",
            result=result,
            q=query,
            agency=agency or "",
            date_from=day_from,
            date_to=day_to,
            agencies=search.issuing_agencies(session),
            sort=result.sort if result else search.DEFAULT_SORT,
            direction=result.direction if result else "desc",
        )

    return router
