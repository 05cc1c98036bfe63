"""`route_circular`: one flow run per circular, one task per dispatch.

A dispatch is one agency sending the circular on to its addressees (OPDC -> Interior, Interior -> DLA,
DLA -> every province, each province -> its districts, each district -> its local bodies). Tasks are
ordered with `wait_for` along the routing plan. Per-recipient state lives in the database (the
`handoff` table), not in Prefect: a national circular is ~960 dispatch tasks for ~8,800 handoffs.

Re-running is idempotent: the database's UNIQUE(dispatch, recipient) plus upserts mean a retried or
overlapping run rewrites the same rows; each task's cache key is the dispatch and its inputs, so an
unchanged dispatch within a run is not recorded twice.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from prefect import flow, tags, task
from prefect.context import TaskRunContext
from prefect.futures import PrefectFuture

from models.db import get_engine, session_scope
from models.thai import now_bangkok
from records import progress


def _dispatch_cache_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    spec: progress.DispatchSpec = parameters["spec"]
    digest = hashlib.sha256(json.dumps(spec.fingerprint(), sort_keys=True).encode()).hexdigest()[:16]
    return f"saraban-dispatch-{parameters['circular_id']}-{spec.key}-{digest}"


@task(name="plan-route", retries=2, retry_delay_seconds=1)
def plan_route(
    circular_id: str, as_of: date, provinces: list[str] | None, database_url: str | None
) -> progress.RoutePlan:
    """Instantiate the circular's routing plan and propagate its deadlines from what has happened."""
    with session_scope(get_engine(database_url)) as session:
        return progress.plan_route(session, circular_id, as_of=as_of, provinces=provinces)


@task(
    name="dispatch",
    task_run_name="{spec.sender_name} → {spec.recipient_summary}",
    retries=2,
    retry_delay_seconds=1,
    cache_key_fn=_dispatch_cache_key,
    persist_result=False,
)
def record_dispatch(
    circular_id: str, spec: progress.DispatchSpec, database_url: str | None
) -> list[progress.HandoffState]:
    """Record one dispatch and its addressees' handoffs; return the handoff states."""
    with session_scope(get_engine(database_url)) as session:
        return progress.record_dispatch(session, circular_id, spec)


@flow(name="route-circular", flow_run_name="route-{circular_id}", log_prints=True)
def route_circular(
    circular_id: str,
    as_of: date | None = None,
    provinces: list[str] | None = None,
    database_url: str | None = None,
) -> dict[str, Any]:
    """Route one circular down the hierarchy and record every handoff.

    Args:
        circular_id: the circular's id (see `saraban status`), e.g. `bcp-2020`.
        as_of: the day to judge deadlines against (default: today in Bangkok).
        provinces: DOPA province codes to route to (default: the circular's own scope).
        database_url: SQLAlchemy URL of the record (default: SARABAN_DATABASE_URL or .saraban/).
    """
    as_of = as_of or now_bangkok().date()
    route = plan_route(circular_id, as_of, provinces, database_url)
    futures: dict[str, PrefectFuture[list[progress.HandoffState]]] = {}
    for spec in route.dispatches:
        upstream = futures.get(spec.upstream) if spec.upstream else None
        with tags(f"level:{spec.level}", f"agency:{spec.sender_id}", f"circular:{circular_id}"):
            futures[spec.key] = record_dispatch.submit(
                circular_id, spec, database_url, wait_for=[upstream] if upstream else None
            )
    states = [state for future in futures.values() for state in future.result()]
    summary = progress.summarise(route, states)
    print(progress.format_summary(summary))
    return summary
