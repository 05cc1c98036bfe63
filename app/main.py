"""The dashboard (แดชบอร์ด): pages for administrators, auditors and clerks.

Server-rendered Jinja2, no build step. Pages:

- `/`                   circulars with their progress (forwarded / received / total, overdue, late)
- `/circulars/{id}`     status per level and per agency, overdue first, `?province=54`, the graph
- `/agencies/{id}`      what an agency received, forwarded, issued and stamped
- `/letters/{number}`   one letter: source text, receipts, citations both ways, aliases, deadlines,
                        and the page images of its scan beside the fields read from them
- `/scans/{id}.png`     one page image of a scanned letter file
- `/search`             letters by number, subject words, agency and dates (app.search)
- `/agencies/{id}/inbox|outbox|receive|dispatch`, `/review`   clerks' work (app.clerk)
- `/agencies/{id}/registers/received|sent`   the registers and their exports (app.registers)
- `/login`, `/logout`, `/audit/...`   sign-in and the auditors' pages (app.auth, app.audit_pages)
- `/healthz`            JSON

Pages read on a read-only engine: SQLite connections run with `PRAGMA query_only` and plain
(deferred) transactions, so a page never takes the write lock the service layer's writers queue on;
PostgreSQL sessions are `READ ONLY`. The only writes are the signed-in users' (sign-in, clerks'
forms), made through the service layer on a writable engine, every POST checked for its CSRF token
(app.auth). No engine exists until `create_app` is called.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import auth, clerk, security
from app.audit_pages import audit_router
from app.registers import registers_router
from app.search import search_router
from models.letters import Level
from models.thai import format_thai_date, format_thai_time
from records import dashboard as queries
from records import pages
from records.dashboard import read_only_engine
from records.holdings import CITATION_KIND_TH
from records.progress import today
from routing.calendar import CalendarError

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

# Above this many agencies the national graph is drawn with provinces collapsed (`dot` lays out a
# few hundred nodes in about a second; a national circular has ~8,800).
GRAPH_FULL_MAX_NODES = 120
# The flow run name `flows.route_circular.route_circular` gives each run (flow_run_name).
FLOW_RUN_NAME = "route-{circular_id}"

STATUS_TH: dict[str, str] = {
    "overdue": "เกินกำหนด",
    "late": "ล่าช้า",
    "pending": "รอดำเนินการ",
    "received": "รับแล้ว",
    "forwarded": "ส่งต่อแล้ว",
    "open": "เปิดอยู่",
    "closed": "ปิดแล้ว",
    "done": "ส่งต่อแล้ว",
    "blocked": "ยังไม่ได้รับ (ค้างที่ต้นทาง)",
}
LEVEL_TH: dict[str, str] = {
    Level.CABINET.value: "คณะรัฐมนตรี",
    Level.CENTRAL.value: "หน่วยงานกลาง",
    Level.MINISTRY.value: "กระทรวง",
    Level.DEPARTMENT.value: "กรม",
    Level.PROVINCE.value: "จังหวัด",
    Level.DISTRICT.value: "อำเภอ",
    Level.LOCAL.value: "องค์กรปกครองส่วนท้องถิ่น",
    Level.UNKNOWN.value: "หน่วยงานอื่น",
}
DEADLINE_KIND_TH = {"due": "กำหนดส่ง", "meeting": "ประชุม", "event": "กำหนดการ"}


def prefect_ui_from_env() -> str | None:
    """The Prefect UI address: `PREFECT_UI_URL`, else `PREFECT_API_URL` without its `/api`."""
    ui = os.environ.get("PREFECT_UI_URL")
    if ui:
        return ui.rstrip("/")
    api = os.environ.get("PREFECT_API_URL")
    if api:
        api = api.rstrip("/")
        return api.removesuffix("/api")
    return None


def prefect_runs_url(ui: str, circular_id: str) -> str:
    """The Prefect UI's flow-runs page filtered to one circular's runs (`route-<id>`).

    >>> prefect_runs_url("http://127.0.0.1:4200", "bcp-2020")
    'http://127.0.0.1:4200/runs?flow-run-search=route-bcp-2020'
    """
    query = urlencode({"flow-run-search": FLOW_RUN_NAME.format(circular_id=circular_id)})
    return f"{ui.rstrip('/')}/runs?{query}"


# --- template helpers ------------------------------------------------------------------------


def _thai_date(value: date | None, abbreviated: bool = False) -> str:
    return format_thai_date(value, abbreviated=abbreviated) if value else "–"


def _thai_time(value: time | None) -> str:
    return format_thai_time(value) if value else ""


def agency_url(agency_id: str) -> str:
    """`/agencies/province:54` (the form the diagram nodes link to)."""
    return "/agencies/" + quote(agency_id, safe=":")


def letter_url(number: str, on: date | None = None) -> str:
    """`/letters/<number, slash encoded>`, with `?date=` when known (numbers restart yearly)."""
    url = "/letters/" + quote(number, safe="")
    return f"{url}?{urlencode({'date': on.isoformat()})}" if on else url


def circular_url(circular_id: str, **params: Any) -> str:
    url = "/circulars/" + quote(circular_id, safe="")
    query = {k: v for k, v in params.items() if v not in (None, "")}
    return f"{url}?{urlencode(query)}" if query else url


def page_url(request: Request, param: str, number: int) -> str:
    """This page's URL with one page parameter changed, other filters kept."""
    params = dict(request.query_params)
    params[param] = str(number)
    return f"{request.url.path}?{urlencode(params)}"


def with_as_of(url: str, as_of: str | None) -> str:
    """`url` keeping the day a page judges by, when one was asked for.

    >>> with_as_of("/letters/x?date=2020-06-01", "2020-07-01")
    '/letters/x?date=2020-06-01&as_of=2020-07-01'
    """
    if not as_of:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode({'as_of': as_of})}"


def requested_as_of(request: Request) -> str | None:
    """The `?as_of=` of a request when it is a valid ISO day, else None (the page's default)."""
    value = request.query_params.get("as_of")
    try:
        return date.fromisoformat(value).isoformat() if value else None
    except ValueError:
        return None


def _keeping(link: Any) -> Any:
    """A url helper for templates that keeps the page's `?as_of=` on the link it makes."""

    @pass_context
    def helper(ctx: Any, *args: Any, **kwargs: Any) -> str:
        return with_as_of(link(*args, **kwargs), ctx.get("as_of_param"))

    return helper


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    env = templates.env
    env.filters["thai_date"] = _thai_date
    env.filters["thai_time"] = _thai_time
    env.filters["status_th"] = lambda s: STATUS_TH.get(s, s)
    env.filters["level_th"] = lambda s: LEVEL_TH.get(s, s)
    env.filters["citation_kind_th"] = lambda s: CITATION_KIND_TH.get(s, s)
    env.filters["deadline_kind_th"] = lambda s: DEADLINE_KIND_TH.get(s, s)
    env.globals.update(
        agency_url=_keeping(agency_url),
        letter_url=_keeping(letter_url),
        circular_url=_keeping(circular_url),
        home_url=_keeping(lambda: "/"),
        keep_as_of=_keeping(lambda url: url),
        page_url=page_url,
        csrf_input=pass_context(lambda ctx: security.csrf_input(ctx["request"])),
        current_user=pass_context(lambda ctx: security.current_user(ctx["request"])),
    )
    return templates


# --- the graph -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Graph:
    svg: str | None
    note: str
    nodes: int
    drill: bool = False  # folded provinces link to the page narrowed to them


# The statuses of the circular's state (`records.progress.circular_state`, the tables' statuses)
# as the diagram names them: `done` is forwarding on time.
DIAGRAM_STATUS: dict[str, str] = {"done": "on_time"}
# A level of more agencies than this is drawn unboxed, its leaves spread over GRAPH_STAGGER columns:
# the 77 provinces of a national circular, or a province's local bodies, make a grid that fits a
# screen instead of one column many screens high.
GRAPH_BOX_MAX = 30
GRAPH_STAGGER = 6


def circular_graph(
    session: Session, circular_id: str, *, province: str | None, as_of: date | None = None
) -> Graph:
    """The forwarding graph of a circular as inline SVG: collapsed nationally, full in a province.

    Statuses and slack are as of `as_of` (default today). A circular a plan covers is drawn with the
    statuses its tables show (`circular_state`: done, late, overdue, blocked, pending). In the
    national view each folded province links to this page narrowed to it, keeping `as_of`.
    """
    from visualize.diagrams import DiagramError, collapse, drill_down, forwarding_diagram, with_statuses
    from visualize.render import RenderError, render_svg

    found = queries.circular_diagram(session, circular_id, province=province, as_of=as_of)
    if found is None or not found.diagram.nodes:
        return Graph(None, "ยังไม่มีการส่งต่อหนังสือ จึงยังไม่มีแผนภาพ (no handoffs yet)", 0)
    diagram = found.diagram
    state = pages.state_of(session, circular_id, as_of or today()) if found.planned else None
    if state is not None:
        diagram = with_statuses(
            diagram,
            {h.recipient_id: DIAGRAM_STATUS.get(h.status.value, h.status.value) for h in state.handoffs},
        )
    if found.planned:
        source = "ตามแผนเส้นทาง: กำหนดเวลา วันทำการคงเหลือ และเส้นทางวิกฤต"
    elif found.record_only:
        source = (
            "ตามบันทึกเท่านั้น: ยังไม่มีแผนเส้นทางและยังไม่มีการส่งต่อ (record only, no routing plan; "
            "attach one with saraban run CIRCULAR --plan PLAN)"
        )
    else:
        source = "จากรายการส่งต่อ (ยังไม่มีแผนเส้นทาง จึงไม่แสดงกำหนดเวลาและเส้นทางวิกฤต)"
    note = f"แสดงหน่วยงานทั้งหมด {len(diagram.nodes):,} แห่ง"
    drill = False
    try:
        if province is not None:
            diagram = drill_down(diagram, province=province, ancestors=True)
            note = f"เฉพาะจังหวัดที่เลือก ({len(diagram.nodes):,} หน่วยงาน)"
            if len(diagram.nodes) > GRAPH_FULL_MAX_NODES:
                diagram = collapse(diagram, Level.DISTRICT)
                note += " — ย่อรวมตามอำเภอ (collapsed by district)"
        elif len(diagram.nodes) > GRAPH_FULL_MAX_NODES:
            total = len(diagram.nodes)
            diagram = collapse(diagram, Level.PROVINCE)
            drill = True
            note = (
                f"ภาพรวมระดับประเทศ: ย่อ {total:,} หน่วยงานรวมตามจังหวัด "
                "— เลือกจังหวัดเพื่อดูรายละเอียด (national view, collapsed by province)"
            )
        drawing = forwarding_diagram(diagram, drill=drill, link_as_of=as_of, box_max=GRAPH_BOX_MAX)
        svg = render_svg(drawing, stagger=GRAPH_STAGGER)
    except DiagramError as exc:
        return Graph(None, f"ไม่มีแผนภาพสำหรับตัวกรองนี้: ไม่มีหน่วยงานของจังหวัดที่เลือกในหนังสือเวียนนี้ ({exc})", 0)
    except RenderError as exc:
        log.warning("graph of %s not rendered: %s", circular_id, exc)
        return Graph(None, f"วาดแผนภาพไม่สำเร็จ (graph rendering failed: {exc})", len(diagram.nodes))
    return Graph(svg, f"{note} · {source}", len(diagram.nodes), drill)


# --- the app ---------------------------------------------------------------------------------


def get_session(request: Request) -> Iterator[Session]:
    """A session on the app's read-only engine, for one request."""
    with Session(request.app.state.engine) as session:
        yield session
        # Nothing is written; end the read transaction promptly.
        session.rollback()


# Module level: with postponed annotations FastAPI resolves these names in the module's globals.
SessionDep = Annotated[Session, Depends(get_session)]
PageQ = Annotated[int, Query(ge=1, le=1_000_000)]
# The day every page judges by: `?as_of=YYYY-MM-DD`, default today in Bangkok (`progress.today`).
AsOfQ = Annotated[date | None, Query()]
# The circular page's status filter: the statuses of a circular's state, and, for a circular no plan
# covers, those its handoff rows carry.
STATUS_FILTER = "^(" + "|".join(dict.fromkeys([*pages.STATUS_ORDER, *queries.HANDOFF_STATUSES])) + ")?$"


# `?sort=<column>&dir=asc|desc` of a sortable table: the columns are records.dashboard's whitelists.
DirQ = Annotated[str | None, Query(alias="dir", pattern="^(asc|desc)?$")]


def _sort_pattern(columns: dict[str, str]) -> str:
    return "^(" + "|".join(columns) + ")?$"


def _sorted_by(
    columns: dict[str, str], sort: str | None, direction: str | None, default: tuple[str, str]
) -> tuple[str, str]:
    """(column, asc|desc) a table is sorted by, for its headers (`sort_th` in _macros.html)."""
    return (sort, direction or columns[sort]) if sort else default


def create_app(database_url: str | None = None, *, prefect_ui_url: str | None = None) -> FastAPI:
    """The dashboard app, reading the record at `database_url` (default: `SARABAN_DATABASE_URL`).

    `prefect_ui_url` (default: `PREFECT_UI_URL`, or `PREFECT_API_URL` without `/api`) adds a link
    from each circular to its flow runs in the Prefect UI.
    """
    engine = read_only_engine(database_url)
    prefect_ui = (prefect_ui_url or prefect_ui_from_env() or "").rstrip("/") or None
    templates = _templates()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    app = FastAPI(
        title="saraban-flow",
        lifespan=lifespan,
        # A dashboard, not an API: no interactive docs to expose.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.engine = engine
    # Pages read on `engine`; what a signed-in user changes (sign-in, clerks' forms) is written
    # through the service layer on this engine, opened on first use.
    app.state.database_url = database_url
    app.state.prefect_ui_url = prefect_ui
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")

    def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        # Every page says the day it judges by and offers to change it (base.html).
        asked = requested_as_of(request)
        context.setdefault("as_of", date.fromisoformat(asked) if asked else today())
        context.setdefault("as_of_param", asked)
        context.setdefault("as_of_default", asked is None)
        return templates.TemplateResponse(request, name, context, status_code=status_code)

    # The clerks' pages (app/clerk.py) render through this too.
    app.state.render = render

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> HTMLResponse | JSONResponse:
        if request.url.path.startswith(("/healthz", "/static")):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        return render(
            request, "error.html", status_code=exc.status_code, code=exc.status_code, detail=exc.detail
        )

    @app.exception_handler(CalendarError)
    async def _outside_calendar(request: Request, exc: CalendarError) -> HTMLResponse:
        # A date the working-day calendar does not cover (?as_of=2201-01-01): the request is wrong.
        return render(request, "error.html", status_code=400, code=400, detail=str(exc))

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> HTMLResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ())[1:])}: {e.get('msg', '')}" for e in exc.errors()
        )
        return render(request, "error.html", status_code=400, code=400, detail=f"คำขอไม่ถูกต้อง ({problems})")

    # Sign-in, CSRF on every form, `/login` and `/logout` (app/auth.py); open when no user is on record.
    auth.install(app, render)
    app.include_router(registers_router(render, get_session))  # before /agencies/{agency_id:path}
    # Before `/agencies/{agency_id:path}` below, which would take `/agencies/x/inbox` for an agency id.
    app.include_router(clerk.router)

    # `/search`: letters by number, subject words, agency and dates (the header's search box).
    app.include_router(search_router(render))
    # `/audit/verify`, `/audit/history`: auditors only once users are on record (app/audit_pages.py).
    app.include_router(audit_router(render, get_session))

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        code, body = queries.health(engine)
        return JSONResponse(body, status_code=code)

    @app.get("/", response_class=HTMLResponse)
    def home(
        request: Request,
        session: SessionDep,
        page: PageQ = 1,
        as_of: AsOfQ = None,
        sort: Annotated[str | None, Query(pattern=_sort_pattern(queries.CIRCULAR_SORTS))] = None,
        direction: DirQ = None,
    ) -> HTMLResponse:
        day = as_of or today()
        circulars = queries.list_circulars(
            session,
            page=page,
            sort=sort or None,
            direction=direction or None,
            # A signed-in clerk or administrator lists only the circulars their agencies took part in.
            agencies=auth.visible_agencies(request),
        )
        # A circular a plan covers is counted from its state as of the day; others from their rows.
        judged = pages.circular_totals(session, [c.id for c in circulars.items], day)
        shown = _sorted_by(queries.CIRCULAR_SORTS, sort, direction, ("created", "desc"))
        return render(request, "index.html", circulars=circulars, judged=judged, as_of=day, sorted_by=shown)

    @app.get("/circulars/{circular_id}", response_class=HTMLResponse)
    def circular_page(
        request: Request,
        circular_id: str,
        session: SessionDep,
        page: PageQ = 1,
        # Empty values are what the filter form sends for "all".
        province: Annotated[str | None, Query(pattern=r"^((province:)?\d{2})?$")] = None,
        status: Annotated[str | None, Query(pattern=STATUS_FILTER)] = None,
        sort: Annotated[str | None, Query(pattern=_sort_pattern(queries.HANDOFF_SORTS))] = None,
        direction: DirQ = None,
        graph: Annotated[int, Query(ge=0, le=1)] = 1,
        # The day counts, statuses, the graph's slack are reckoned on (default today in Bangkok).
        as_of: AsOfQ = None,
    ) -> HTMLResponse:
        province, status = province or None, status or None
        day = as_of or today()
        circular = queries.get_circular(session, circular_id)
        if circular is None:
            raise HTTPException(404, f"ไม่พบหนังสือเวียน {circular_id!r} (no such circular)")
        auth.require_circular(request, circular_id)
        province_id = queries.province_agency_id(province) if province else None
        # The circular's state as of the day (`records.progress.circular_state`, what `saraban
        # status` counts); a circular no plan covers has none: its handoff rows are shown as before.
        sort = sort or None
        truth = pages.circular_truth(
            session, circular_id, day, province=province_id, status=status, sort=sort, direction=direction
        )
        if truth is not None:
            levels: Any = truth.levels
            handoffs: Any = queries.page_of(truth.rows, page)
            provinces: Any = truth.provinces
            statuses: tuple[str, ...] = pages.STATUS_ORDER
        else:
            levels = queries.level_status(session, circular_id, province=province_id)
            handoffs = queries.circular_handoffs(
                session,
                circular_id,
                province=province_id,
                status=status,
                page=page,
                sort=sort,
                direction=direction,
            )
            provinces = queries.circular_provinces(session, circular_id)
            statuses = queries.HANDOFF_STATUSES
        return render(
            request,
            "circular.html",
            circular=circular,
            truth=truth,
            as_of=day,
            levels=levels,
            handoffs=handoffs,
            deadlines=queries.root_deadlines(session, circular_id),
            provinces=provinces,
            province=province_id,
            status=status,
            statuses=statuses,
            sorted_by=_sorted_by(queries.HANDOFF_SORTS, sort, direction, ("status", "asc")),
            # The graph (a `dot` run) is drawn on the first page only: paging through a long table of
            # handoffs stays fast, and the graph does not change from page to page.
            graph=circular_graph(session, circular_id, province=province_id, as_of=day)
            if graph and handoffs.number == 1
            else None,
            graph_url=circular_url(
                circular_id, province=province, status=status, as_of=as_of.isoformat() if as_of else None
            )
            + "#graph",
            prefect_url=prefect_runs_url(prefect_ui, circular_id) if prefect_ui else None,
        )

    @app.get("/agencies/{agency_id:path}", response_class=HTMLResponse)
    def agency_page(
        request: Request,
        agency_id: str,
        session: SessionDep,
        hpage: PageQ = 1,
        dpage: PageQ = 1,
        lpage: PageQ = 1,
        rpage: PageQ = 1,
        fpage: PageQ = 1,
        as_of: AsOfQ = None,
    ) -> Response:
        agency = queries.get_agency(session, agency_id)
        if agency is None and "#" in agency_id:
            # Planned diagrams split an agency into roles (`opdc#plans`, `province:54#copies`).
            url = with_as_of(agency_url(agency_id.split("#", 1)[0]), requested_as_of(request))
            return RedirectResponse(url, status_code=307)
        auth.require_scope(request, agency_id)
        if agency is None:
            raise HTTPException(404, f"ไม่พบหน่วยงาน {agency_id!r} (no such agency)")
        day = as_of or today()
        # Circulars a plan covers: the agency's part from their state as of the day; the others
        # (no plan) from their handoff and dispatch rows, shown apart.
        truth = pages.agency_truth(session, agency_id, day, page=hpage, forwarded_page=fpage)
        return render(
            request,
            "agency.html",
            agency=agency,
            truth=truth,
            as_of=day,
            counts=queries.agency_counts(session, agency_id, exclude=truth.circulars),
            handoffs=queries.agency_handoffs(session, agency_id, page=hpage, exclude=truth.circulars),
            dispatches=queries.agency_dispatches(session, agency_id, page=dpage, exclude=truth.circulars),
            letters=queries.agency_letters(session, agency_id, page=lpage),
            receipts=queries.agency_receipts(session, agency_id, page=rpage),
        )

    @app.get("/scans/{page_id}.png", response_class=Response)
    def scan_page(request: Request, page_id: int, session: SessionDep) -> Response:
        auth.require_scan(request, page_id)
        png = queries.scan_page_png(session, page_id)
        if png is None:
            raise HTTPException(404, f"ไม่พบภาพหน้าสแกน {page_id} (no such scan page)")
        # A page is stored once per file content and never changed: it may be cached for good.
        headers = {
            "Cache-Control": "public, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
        }
        return Response(png, media_type="image/png", headers=headers)

    @app.get("/letters/{number:path}", response_class=HTMLResponse)
    def letter_page(
        request: Request,
        number: str,
        session: SessionDep,
        on: Annotated[date | None, Query(alias="date")] = None,
        n: Annotated[str | None, Query(max_length=200)] = None,
        as_of: AsOfQ = None,
    ) -> Response:
        if not number.strip() and n and n.strip():
            # The search box in the header: a plain GET form, no JavaScript.
            return RedirectResponse(
                with_as_of(letter_url(n.strip()), requested_as_of(request)), status_code=303
            )
        found = queries.find_letters(session, number, on=on)
        if not found:
            raise HTTPException(404, f"ไม่พบหนังสือเลขที่ {number!r} (no such letter)")
        auth.require_letters(request, [letter.id for letter in found], number)
        if len(found) > 1:
            # Running numbers restart every year: let the reader pick the letter by its date.
            return render(request, "letter_choice.html", number=number, letters=found)
        detail = queries.letter_detail(session, found[0].id)
        assert detail is not None
        day = as_of or today()
        return render(
            request,
            "letter.html",
            d=detail,
            as_of=day,
            dispatches=pages.letter_dispatches(session, found[0].id, day, limit=queries.LETTER_DISPATCHES),
            asked=number,
            asked_canonical=queries.canonical_number(number),
        )

    return app
