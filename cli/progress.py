"""`saraban run|sweep|status|overdue|whatif`: route circulars, flag what is late, ask what-if."""

from __future__ import annotations

import json
import os

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

    engine = open_record(database, create=False)
    moment = moment_option(at, "--at") or now_bangkok()
    result = flag_overdue(at=moment, database=_database_env(engine), force=force)
    typer.echo(json.dumps(result, ensure_ascii=False))


def _bar(done: int, total: int, width: int = 6) -> str:
    """A text progress bar: `██░░░░  33%`."""
    filled = round(width * done / total) if total else 0
    return "█" * filled + "░" * (width - filled) + f" {100 * done // total if total else 0:3d}%"


def status(
    circular: str | None = typer.Argument(None, help="Circular id or letter number (default: all)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    database: str | None = DATABASE,
) -> None:
    """Routing status per circular and level: sent, received, forwarded, overdue, late, pending."""
    with reading(database) as session:
        rows = progress.status_report(session, circular)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        typer.echo("no routed circulars yet: run `saraban run CIRCULAR --plan PLAN` first")
        return
    console = Console()
    headers = {"level": "level", "handoffs": "total", "sent": "sent", "received": "recv", "forwarded": "fwd",
               "overdue": "overdue", "late": "late", "pending": "pend"}  # fmt: skip
    for circular_id in dict.fromkeys(row["circular"] for row in rows):
        table = Table(title=f"circular {escape(circular_id)}", title_justify="left")
        for key, header in headers.items():
            table.add_column(header, justify="left" if key == "level" else "right", no_wrap=True)
        table.add_column("forwarded", no_wrap=True)
        for row in (r for r in rows if r["circular"] == circular_id):
            table.add_row(*(escape(str(row[k])) for k in headers), _bar(row["forwarded"], row["handoffs"]))
        console.print(table)


def overdue(
    as_of: str = typer.Option(..., "--as-of", help="Judge as of this day (ISO or Thai date)."),
    circular: str | None = typer.Option(None, "--circular", help="One circular (default: every open one)."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list."),
    database: str | None = DATABASE,
) -> None:
    """Agencies that are overdue (not done by their latest date) or were late, with whom to escalate to."""
    day = day_option(as_of, "--as-of")
    assert day is not None
    with reading(database) as session:
        items = progress.overdue_report(session, day, circular)
        skipped = progress.unplanned_circulars(session) if circular is None else []
    if skipped:
        # On stderr, so that --json stays one document: the list is only as complete as the plans.
        typer.echo(
            f"note: {len(skipped)} open circular(s) follow no routing plan and are not judged: "
            f"{', '.join(skipped)}; attach one with `saraban run CIRCULAR --plan PLAN`",
            err=True,
        )
    if as_json:
        typer.echo(json.dumps(items, ensure_ascii=False, indent=2))
        return
    table = Table(title=f"overdue and late as of {day.isoformat()}: {len(items)}")
    for column in ("agency", "letter", "duty", "due", "done", "days over", "status", "escalate to"):
        table.add_column(column)
    for i in items[:200]:
        # Text from the record is escaped: a subject or name holding "[/x]" is not rich markup.
        table.add_row(*(escape(str(v)) for v in (
            i["agency"], i["letter"], i["duty"], i["due"], i["done"] or "-", i["days_over"], i["status"],
            i["escalate_to"] or "-",
        )))  # fmt: skip
    Console().print(table)
    if len(items) > 200:
        typer.echo(f"... and {len(items) - 200} more (use --json for all)")


def whatif(
    circular: str = typer.Argument(..., help="Circular id or letter number."),
    agency: str = typer.Option(..., "--agency", help="Agency id or Thai name, e.g. province:54 or จังหวัดแพร่."),
    forwards_on: str = typer.Option(..., "--forwards-on", help="The day it forwards (ISO or Thai date)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    database: str | None = DATABASE,
) -> None:
    """If AGENCY forwards on a day, who downstream still makes the deadline?"""
    day = day_option(forwards_on, "--forwards-on")
    assert day is not None
    with reading(database) as session:
        report = progress.whatif_report(session, circular, agency, day)
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
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
