"""`route_circular`: one flow run per circular, one task per dispatch.

A dispatch is one agency sending the circular on to its addressees (OPDC -> Interior, Interior -> DLA,
DLA -> every province, each province -> its districts, each district -> its local bodies). Tasks are
ordered with `wait_for` along the routing plan. Per-recipient state lives in the database (the
`handoff` table), not in Prefect: a national circular is ~960 dispatch tasks for ~8,800 handoffs.

Re-running is idempotent, and the database alone makes it so: UNIQUE(circular, sender, letter) and
UNIQUE(dispatch, recipient) with compare-and-write upserts mean a retried, re-run or overlapping
dispatch rewrites nothing that already says the same, and logs no event for it.

Dispatch tasks keep no Prefect cache (`cache_policy=NONE`, results not persisted). A cache key
lives outside the record: when a record was made anew at the same URL (restored from a backup,
rebuilt from the letters), a key computed from the same inputs was a cache hit, and the run
reported handoffs the database did not hold. The database already answers "is this dispatch
recorded?" on every write, so the cache saved nothing worth its cost (a result file written and a
key looked up per task: about a tenth of a national run). See docs/prefect.md, "Idempotency".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import date
from typing import Any

from prefect import flow, get_run_logger, tags, task
from prefect.cache_policies import NONE
from prefect.futures import PrefectFuture
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from flows.writer import writing
from models.db import ENV_URL, get_engine, session_scope, url_from_env
from models.thai import now_bangkok
from records import progress
from records.dispatches import DispatchSpec, HandoffState

# Prefect 3.8 asks the server for a concurrency slot for every task run that carries a tag, through
# one client service per distinct tag set (PrefectHQ/prefect#19367): measured here ~60 ms per tagged
# task run and ~0.3-0.7 s per new tag set, against ~9 ms for an untagged one. So dispatch tasks are
# tagged (level, agency, circular) on routes of up to this many dispatches (a province or a region,
# where the UI filters are worth it) and carry level and agency in their run name beyond that (a
# national route: ~960 dispatches would spend minutes acquiring slots that no limit asks for).
TAGGED_DISPATCHES_MAX = 200
# Dispatches wait on their sender's dispatch and hand their writes to one writer thread; a few
# threads keep the Prefect API busy without hundreds of threads contending for the GIL.
TASK_THREADS = 4


def task_runner() -> ThreadPoolTaskRunner[Any]:
    return ThreadPoolTaskRunner(max_workers=TASK_THREADS)


def tags_for_route(dispatches: int, tag_tasks: bool | None = None) -> bool:
    """Whether dispatch tasks carry tags: as asked, else on routes of at most TAGGED_DISPATCHES_MAX."""
    return tag_tasks if tag_tasks is not None else dispatches <= TAGGED_DISPATCHES_MAX


def dispatch_tags(circular_id: str, level: str, sender_id: str) -> tuple[str, ...]:
    return (f"level:{level}", f"agency:{sender_id}", f"circular:{circular_id}")


# In-process observers of routing runs (the CLI's progress bar): called with ("planned", dispatches)
# once the route is planned, then ("dispatched", done) as dispatches complete. Runs on a worker
# elsewhere have no observers.
_OBSERVERS: list[Callable[[str, int], None]] = []


@contextmanager
def watching(callback: Callable[[str, int], None]) -> Iterator[None]:
    """Report this process's routing progress to `callback` while the block runs."""
    _OBSERVERS.append(callback)
    try:
        yield
    finally:
        _OBSERVERS.remove(callback)


def _notify(event: str, count: int) -> None:
    for callback in list(_OBSERVERS):
        callback(event, count)


@task(name="plan-route", retries=2, retry_delay_seconds=1)
def plan_route(
    circular_id: str, as_of: date, provinces: list[str] | None, database: str
) -> progress.RoutePlan:
    """Instantiate the circular's routing plan and propagate its deadlines from what has happened."""
    with session_scope(get_engine(url_from_env(database))) as session:
        return progress.plan_route(session, circular_id, as_of=as_of, provinces=provinces)


@task(
    name="dispatch",
    task_run_name="{spec.run_name}",
    retries=2,
    retry_delay_seconds=1,
    # No Prefect cache: the record is the only judge of what is recorded (see the module's doc).
    cache_policy=NONE,
    persist_result=False,
)
def record_dispatch(circular_id: str, spec: DispatchSpec, database: str) -> list[HandoffState]:
    """Record one dispatch and its addressees' handoffs; return the handoff states.

    The write goes through the database's writer process, which commits the dispatches queued by
    all task threads together (`flows.writer`); the task returns once its dispatch is committed."""
    with writing(url_from_env(database)) as writer:
        return writer.record(circular_id, spec)  # type: ignore[no-any-return]


# arg-type: flow() asks for a TaskRunner[PrefectFuture], which Prefect's own ThreadPoolTaskRunner (a
# TaskRunner[PrefectConcurrentFuture]; the parameter is invariant) does not match.
@flow(name="route-circular", flow_run_name="route-{circular_id}", log_prints=True, task_runner=task_runner())  # type: ignore[arg-type]
def route_circular(
    circular_id: str,
    as_of: date | None = None,
    provinces: list[str] | None = None,
    database: str = ENV_URL,
    tag_tasks: bool | None = None,
) -> dict[str, Any]:
    """Route one circular down the hierarchy and record every handoff.

    Args:
        circular_id: the circular's id (see `saraban status`, e.g. `2020-นร-1200-ว-0013`) or the
            number of any of its letters (e.g. `มท 0812/ว 1434`).
        as_of: the day to judge deadlines against (default: today in Bangkok).
        provinces: DOPA province codes to route to (default: the circular's own scope).
        database: the NAME of the environment variable that holds the record's SQLAlchemy URL
            (default SARABAN_DATABASE_URL; unset, .saraban/ in the working directory). Never the
            URL itself: parameters are stored in Prefect's database and shown in its UI.
        tag_tasks: tag each dispatch task with its level and agency (default: when the route has
            at most 200 dispatches; see TAGGED_DISPATCHES_MAX).
    """
    as_of = as_of or now_bangkok().date()
    # The writer process starts while the route is planned, and lives as long as the run.
    with writing(url_from_env(database)):
        route = plan_route(circular_id, as_of, provinces, database)
        circular_id = route.circular_id  # the id, when a letter number named the circular
        tag_tasks = tags_for_route(len(route.dispatches), tag_tasks)
        if not tag_tasks:
            get_run_logger().info(
                "%d dispatches: tasks named, not tagged, by level and agency (TAGGED_DISPATCHES_MAX)",
                len(route.dispatches),
            )
        _notify("planned", len(route.dispatches))
        futures: dict[str, PrefectFuture[list[HandoffState]]] = {}
        for spec in route.dispatches:
            upstream = futures.get(spec.upstream) if spec.upstream else None
            # Untagged, no `tags()` context at all: entering an empty one cost ~80 us a task.
            with (
                tags(*dispatch_tags(circular_id, spec.level, spec.sender_id)) if tag_tasks else nullcontext()
            ):
                # quote: the spec holds no futures, so Prefect need not walk its recipients for them.
                # call-overload: submit() is typed from the task's parameters, which know no quote().
                futures[spec.key] = record_dispatch.submit(  # type: ignore[call-overload]
                    circular_id, quote(spec), database, wait_for=[upstream] if upstream else None
                )
        states: list[HandoffState] = []
        for done, future in enumerate(futures.values(), start=1):
            states.extend(future.result())
            _notify("dispatched", done)
    summary = progress.summarise(route, states)
    print(progress.format_summary(summary))
    return summary
