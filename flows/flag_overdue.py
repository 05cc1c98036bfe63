"""`flag_overdue`: the scheduled sweep that flags overdue handoffs without anyone asking.

It reads open handoffs whose forwarding deadline has passed from an index (status, due_forward),
marks them overdue and writes a table artifact and a markdown summary. Handoffs a routing run
recorded as forwarded after their latest date are announced once as well (a table artifact).

What a sweep newly flags is grouped into one digest per responsible agency (`records.digests`:
the agency that holds the letter, or the one upstream that has not forwarded it): one
`alert.digest` event in the record's log and one `saraban.agency.digest` Prefect event per digest,
and, when a notification setting is given (`flows.notify`), one e-mail per agency, in Thai.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NONE

from flows import notify, prefect_io
from models.db import ENV_URL, get_engine, session_scope, url_from_env
from models.thai import BANGKOK, now_bangkok
from records import audit, digests, progress


@task(name="sweep-overdue", retries=2, retry_delay_seconds=1)
def sweep(
    at: datetime, database: str, base_url: str
) -> tuple[progress.SweepResult, list[digests.Digest], audit.Anchor]:
    """Find and mark overdue handoffs as of `at` and log one digest per responsible agency (one
    transaction); with the head of the event log as that transaction leaves it."""
    with session_scope(get_engine(url_from_env(database))) as session:
        result = progress.sweep_overdue(session, at)
        found = digests.digests_for(session, result, base_url)
        digests.log_digests(session, found)
        return result, found, audit.head(session)


# No retries: a retry would send again to the agencies whose message already went. The addresses
# (with the SMTP password) are read here from the worker's environment, never passed as an input
# that Prefect could hash, cache or show.
@task(name="mail-digests", cache_policy=NONE)
def mail(found: list[digests.Digest]) -> list[notify.Delivery]:
    """One message per digest to its agency's address (or the default)."""
    return notify.deliver(found, notify.load_routes())


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
        return {"at": at.isoformat(), "skipped": True, "overdue": 0, "newly_overdue": 0, "newly_late": 0,
                "digests": 0}  # fmt: skip
    url_from_env(database)  # a URL given here fails now, before a task run stores it too
    # A bad notification setting fails now too, before the sweep flags what it could not announce.
    routes = notify.load_routes()
    result, found, anchor = sweep(at, database, notify.base_url())
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
    if found:
        prefect_io.publish_table(
            "saraban-digests",
            [{"agency_id": d.agency_id, "agency": d.agency, **d.counts, "summary": d.summary, "link": d.link}
             for d in found],
            description=f"One digest per responsible agency, sweep of {at:%Y-%m-%d %H:%M} (Asia/Bangkok)",
        )  # fmt: skip
    emitted = prefect_io.emit_digest_events(d.event_payload() for d in found)
    deliveries = mail(found) if found and routes.configured else []
    failed = [d for d in deliveries if d.addressed and not d.sent]
    for d in failed:
        print(f"digest for {d.agency_id} not sent: {d.error}")
    print(
        f"{result.overdue_total} overdue handoffs, {len(result.newly_overdue)} newly flagged, "
        f"{len(result.newly_late)} newly recorded late, {len(found)} digests"
        + (f", {sum(d.sent for d in deliveries)} mailed" if routes.configured else " (mail not configured)")
    )
    return {
        "at": at.isoformat(),
        "skipped": False,
        "overdue": result.overdue_total,
        "newly_overdue": len(result.newly_overdue),
        "newly_late": len(result.newly_late),
        "digests": len(found),
        "events": emitted,
        "mailed": sum(d.sent for d in deliveries),
        "mail_failed": [d.agency_id for d in failed],
        "audit_head": str(anchor),
    }
