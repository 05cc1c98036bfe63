"""`saraban run|sweep|status|overdue|whatif`: route circulars, flag what is late, ask what-if."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from datetime import date
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.engine import Engine

from cli.common import DATABASE, day_option, fail, moment_option, open_record, reading
from models.db import ENV_URL, session_scope
from models.thai import now_bangkok
from records import progress


def _database_env(engine: Engine) -> str:
    """The flows' reference to the record: the name of the variable that holds its URL, set here.

    The flow runs in this process (or its children), which read the URL from the environment; a
    flow's parameters are stored in Prefect's database and shown in its UI, so the URL (with its
    password) is never one."""
    os.environ[ENV_URL] = engine.url.render_as_string(hide_password=False)
    return ENV_URL


def run(
    circular: str = typer.Argument(..., help="Circular id, or the number of any letter in it."),
    plan: str | None = typer.Option(None, "--plan", help="Routing plan to attach first (e.g. bcp-2020)."),
    as_of: str | None = typer.Option(None, "--as-of", help="Judge deadlines as of this day (default today)."),
    province: list[str] = typer.Option([], "--province", help="Route only to these provinces (DOPA codes)."),
    national: bool = typer.Option(
        False, "--national", help="Route to every province, not only those on record."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the run summary as JSON."),
    database: str | None = DATABASE,
) -> None:
    """Run the `route_circular` Prefect flow for one circular (ephemeral Prefect unless PREFECT_API_URL is set)."""
    from flows.prefect_io import tie_ephemeral_server
    from flows.route_circular import route_circular, watching

    engine = open_record(database, create=False)
    try:
        with session_scope(engine) as session:
            found = progress.find_circular(session, circular)
            if plan is not None:
                progress.set_plan(session, found, plan)
            circular_id = found.id
    except progress.ProgressError as exc:
        raise fail(str(exc)) from None
    provinces = list(province) or (progress.all_provinces() if national else None)
    bar = Progress(
        TextColumn("routing {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=Console(stderr=True), transient=True,
    )  # fmt: skip
    job = bar.add_task(escape(circular_id), total=None)
    tie_ephemeral_server()  # a `kill -9` of this command takes Prefect's temporary server with it

    def show(event: str, count: int) -> None:
        if event == "planned":
            bar.update(job, total=count)
        else:
            bar.update(job, completed=count)

    try:
        with bar, watching(show):
            summary = route_circular(
                circular_id,
                as_of=day_option(as_of, "--as-of"),
                provinces=provinces,
                database=_database_env(engine),
            )
    except progress.ProgressError as exc:
        raise fail(str(exc)) from None
    typer.echo(
        json.dumps(summary, ensure_ascii=False, indent=2) if as_json else progress.format_summary(summary)
    )


def sweep(
    at: str | None = typer.Option(None, "--at", help="Judge as of this moment (ISO datetime; default now)."),
    force: bool = typer.Option(False, "--force", help="Run even on a Thai public holiday."),
    database: str | None = DATABASE,
) -> None:
    """Run the `flag_overdue` Prefect flow once: flag overdue handoffs, write artifacts, emit events."""
    from flows.flag_overdue import flag_overdue
    from flows.prefect_io import tie_ephemeral_server

    engine = open_record(database, create=False)
    moment = moment_option(at, "--at") or now_bangkok()
    tie_ephemeral_server()
    result = flag_overdue(at=moment, database=_database_env(engine), force=force)
    typer.echo(json.dumps(result, ensure_ascii=False))


def _bar(done: int, total: int, width: int = 6) -> str:
    """A text progress bar: `██░░░░  33%`."""
    filled = round(width * done / total) if total else 0
    return "█" * filled + "░" * (width - filled) + f" {100 * done // total if total else 0:3d}%"


AS_OF_HELP = "Judge as of this day (ISO or Thai date; default today in Bangkok)."


def _as_of(text: str | None) -> date:
    """The one 'as of' of every command: the day given, else today in Bangkok."""
    return day_option(text, "--as-of") or progress.today()


def _judged(day: date) -> None:
    """Say which day a command judges by (on stderr, so that --json stays one document)."""
    typer.echo(f"as of {day.isoformat()} (Asia/Bangkok)", err=True)


def status(
    circular: str | None = typer.Argument(None, help="Circular id or letter number (default: all)."),
    as_of: str | None = typer.Option(None, "--as-of", help=AS_OF_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    database: str | None = DATABASE,
) -> None:
    """Handoffs per circular and level as of a day: sent and received (facts only), forwarded,
    overdue, late, blocked, pending; the same handoffs `overdue` lists."""
    day = _as_of(as_of)
    with reading(database) as session:
        try:
            rows = progress.status_report(session, circular, as_of=day)
        except progress.ProgressError as exc:
            raise fail(str(exc)) from None
        skipped = progress.unplanned_circulars(session) if circular is None else []
    _skipped(skipped)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    _judged(day)
    if not rows:
        typer.echo("no circular follows a routing plan yet: ingest its letters, or attach one with "
                   "`saraban run CIRCULAR --plan PLAN`")  # fmt: skip
        return
    console = Console()
    headers = ("level", "sent", "received", "forwarded", "overdue", "late", "blocked", "pending")
    for row in rows:
        table = Table(title=f"circular {escape(row['circular'])} as of {row['as_of']}", title_justify="left")
        for key in headers:
            table.add_column(key, justify="left" if key == "level" else "right", no_wrap=True)
        table.add_column("forwarded", no_wrap=True)
        for level in row["levels"]:
            total = sum(level[k] for k in ("forwarded", "overdue", "blocked", "pending"))
            table.add_row(*(escape(str(level[k])) for k in headers), _bar(level["forwarded"], total))
        console.print(table)
    typer.echo("sent and received count what the record shows (letters, stamps, clerks' entries), "
               "never what the plan only expects")  # fmt: skip


def _skipped(skipped: list[str]) -> None:
    if skipped:
        # On stderr, so that --json stays one document: the list is only as complete as the plans.
        typer.echo(
            f"note: {len(skipped)} open circular(s) follow no routing plan and are not judged: "
            f"{', '.join(skipped)}; attach one with `saraban run CIRCULAR --plan PLAN`",
            err=True,
        )


def overdue(
    as_of: str | None = typer.Option(None, "--as-of", help=AS_OF_HELP),
    circular: str | None = typer.Option(None, "--circular", help="One circular (default: every open one)."),
    as_json: bool = typer.Option(
        False, "--json", help="Print a JSON list (streamed, one circular at a time)."
    ),
    database: str | None = DATABASE,
) -> None:
    """Agencies that are overdue (hold the letter past their due date), blocked (never received it:
    escalate to whoever holds it) or were late, with whom to escalate to."""
    day = _as_of(as_of)
    with reading(database) as session:
        skipped = progress.unplanned_circulars(session) if circular is None else []
        _skipped(skipped)
        items = progress.overdue_items(session, day, circular)
        try:
            if as_json:
                _stream_json(items)
                return
            _judged(day)
            shown: list[dict[str, Any]] = []
            count = 0
            for item in items:
                count += 1
                if len(shown) < 200:
                    shown.append(item)
        except progress.ProgressError as exc:
            raise fail(str(exc)) from None
    table = Table(title=f"overdue, blocked and late as of {day.isoformat()}: {count}")
    for column in (
        "agency",
        "letter",
        "due",
        "done",
        "days over",
        "status",
        "holds the letter",
        "escalate to",
    ):
        table.add_column(column)
    for i in shown:
        # Text from the record is escaped: a subject or name holding "[/x]" is not rich markup.
        table.add_row(*(escape(str(v)) for v in (
            i["agency"], i["letter"], i["due"], i["done"] or "-", i["days_over"], i["status"],
            i["holder"] or "-", i["escalate_to"] or "-",
        )))  # fmt: skip
    Console().print(table)
    if count > 200:
        typer.echo(f"... and {count - 200} more (use --json for all)")


# One encoder for every item (`json.dumps` with options builds a new one per call).
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode
_FLUSH_ITEMS = 1000


def _stream_json(items: Iterable[dict[str, Any]]) -> None:
    """Write a JSON list as it comes, one item a line, a thousand lines a write: memory stays
    that of one circular, not of the whole list."""
    out = sys.stdout
    out.write("[")
    lines: list[str] = []
    first = True
    for item in items:
        lines.append(("\n  " if first else ",\n  ") + _ENCODE(item))
        first = False
        if len(lines) >= _FLUSH_ITEMS:
            out.write("".join(lines))
            lines.clear()
    out.write("".join(lines))
    out.write("]\n" if first else "\n]\n")
    out.flush()


def whatif(
    circular: str = typer.Argument(..., help="Circular id or letter number."),
    agency: str = typer.Option(..., "--agency", help="Agency id or Thai name, e.g. province:54 or จังหวัดแพร่."),
    forwards_on: str = typer.Option(..., "--forwards-on", help="The day it forwards (ISO or Thai date)."),
    as_of: str | None = typer.Option(None, "--as-of", help=AS_OF_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    database: str | None = DATABASE,
) -> None:
    """If AGENCY forwards on a day, who downstream still makes the deadline (from the facts as of a day)?"""
    day = day_option(forwards_on, "--forwards-on")
    assert day is not None
    judged = _as_of(as_of)
    with reading(database) as session:
        try:
            report = progress.whatif_report(session, circular, agency, day, as_of=judged)
        except progress.ProgressError as exc:
            raise fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    _judged(judged)
    typer.echo(
        f"if {report['agency']} forwards on {report['forwarded_on']}: "
        f"{report['makes']} downstream agencies still make their deadline, {report['misses']} miss it"
    )
    for level, counts in report["by_level"].items():
        typer.echo(f"  {level}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


def register(app: typer.Typer) -> None:
    app.command()(run)
    app.command()(sweep)
    app.command()(status)
    app.command()(overdue)
    app.command()(whatif)
