"""`flag_overdue`: the scheduled sweep that flags overdue handoffs without anyone asking.

It reads open handoffs whose forwarding deadline has passed from an index (status, due_forward),
marks them overdue, writes a table artifact and a markdown summary, and emits one
`saraban.handoff.overdue` event per newly overdue handoff so Prefect automations can notify. Handoffs
a routing run recorded as forwarded after their latest date are announced once as well: a table
artifact of them and one `saraban.handoff.late` event each.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow, task

from flows import prefect_io
from models.db import ENV_URL, get_engine, session_scope, url_from_env
from models.thai import BANGKOK, now_bangkok
from records import audit, progress


@task(name="sweep-overdue", retries=2, retry_delay_seconds=1)
def sweep(at: datetime, database: str) -> tuple[progress.SweepResult, audit.Anchor]:
    """Find and mark overdue handoffs as of `at` (one transaction); with the head of the event log
    as that transaction leaves it."""
    with session_scope(get_engine(url_from_env(database))) as session:
        return progress.sweep_overdue(session, at), audit.head(session)


def _run_name() -> str:
    # Scheduled runs leave `at` empty (now): name them after the moment they judge, not "None".
    from prefect.runtime import flow_run

    at = flow_run.parameters.get("at") or now_bangkok()
    moment = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
    return f"flag-overdue-{moment.astimezone(BANGKOK):%Y-%m-%d-%H%M}"


@flow(name="flag-overdue", flow_run_name=_run_name, log_prints=True)
def flag_overdue(at: datetime | None = None, database: str = ENV_URL, force: bool = False) -> dict[str, Any]:
    """Flag every overdue handoff across all open circulars.

    Args:
        at: the moment to judge against (default: now, Asia/Bangkok).
        database: the NAME of the environment variable that holds the record's SQLAlchemy URL
            (default SARABAN_DATABASE_URL; unset, .saraban/ in the working directory). Never the
            URL itself: parameters are stored in Prefect's database and shown in its UI.
        force: run even on a Thai public holiday (scheduled runs skip holidays).
    """
    at = (at or now_bangkok()).astimezone(BANGKOK)
    if not force and not progress.is_working_day(at.date()):
        print(f"{at.date()} is not a working day; nothing to flag.")
        return {"at": at.isoformat(), "skipped": True, "overdue": 0, "newly_overdue": 0, "newly_late": 0}
    url_from_env(database)  # a URL given here fails now, before a task run stores it too
    result, anchor = sweep(at, database)
    # The log's head, kept in Prefect's database as a witness outside the record: an auditor can
    # later check that the record's log still holds it (`saraban audit verify --anchor`).
    prefect_io.publish_markdown(
        "saraban-audit-head",
        f"Event log head after the sweep of {at:%Y-%m-%d %H:%M}: `{anchor}` ({anchor.kind})\n\n"
        f"Check it later: `saraban audit verify --anchor {anchor}`",
        description="Head of the record's event log (an external witness for audits)",
    )
    rows = [item.table_row() for item in result.overdue]
    prefect_io.publish_table(
        "saraban-overdue", rows, description=f"Overdue handoffs as of {at:%Y-%m-%d %H:%M} (Asia/Bangkok)"
    )
    prefect_io.publish_markdown(
        "saraban-overdue-summary", progress.overdue_markdown(result), description="Overdue sweep summary"
    )
    if result.newly_late:
        prefect_io.publish_table(
            "saraban-late",
            [item.table_row() for item in result.newly_late],
            description=f"Handoffs newly recorded as forwarded late, as of {at:%Y-%m-%d %H:%M} (Asia/Bangkok)",
        )
    emitted = prefect_io.emit_handoff_events(item.event_payload() for item in result.newly_overdue)
    emitted += prefect_io.emit_handoff_events(
        (item.event_payload() for item in result.newly_late), prefect_io.LATE_EVENT
    )
    print(
        f"{result.overdue_total} overdue handoffs, {len(result.newly_overdue)} newly flagged, "
        f"{len(result.newly_late)} newly recorded late, {emitted} events"
    )
    return {
        "at": at.isoformat(),
        "skipped": False,
        "overdue": result.overdue_total,
        "newly_overdue": len(result.newly_overdue),
        "newly_late": len(result.newly_late),
        "events": emitted,
        "audit_head": str(anchor),
    }
