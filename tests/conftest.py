"""Shared fixtures. Tests mirror the packages: tests/models, tests/routing, tests/records, ..."""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The seed letters live beside the project (../shared/seeds), not inside it. A fresh clone without
# them uses the project's own stand-ins: the demo letters that carry the same facts, with their
# own expected readings (tests/data/seeds), so no test skips for want of seeds.
SHARED_SEEDS = ROOT.parent / "shared" / "seeds"
OWN_SEEDS = ROOT / "tests" / "data" / "seeds"
SEEDS = Path(
    os.environ.get("SARABAN_SEEDS", SHARED_SEEDS if (SHARED_SEEDS / "expected.json").exists() else OWN_SEEDS)
)

# Prefect must never reach for a server or write telemetry from tests.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    assert (SEEDS / "expected.json").exists(), f"no expected.json in {SEEDS} (SARABAN_SEEDS)"
    return SEEDS


@pytest.fixture(scope="session")
def seed_files(seeds_dir: Path) -> list[Path]:
    return sorted(seeds_dir.glob("*.txt"))


def route_plainly(
    url: str,
    letter: str,
    as_of: date,
    *,
    plan: str = "bcp-2020",
    provinces: list[str] | None = None,
    actor: str | None = None,
) -> str:
    """The `route_circular` flow's unit of work without Prefect, for tests that need a routed record:
    attach `plan` to the circular holding `letter`, plan the route as of `as_of`, then one
    transaction per dispatch, as the flow's tasks do. Returns the circular id."""
    from models.db import get_engine, session_scope
    from records import dispatches, progress

    engine = get_engine(url)
    with session_scope(engine) as session:
        circular = progress.find_circular(session, letter)
        progress.set_plan(session, circular, plan, actor=actor)
        circular_id = circular.id
    with session_scope(engine) as session:
        route = progress.plan_route(session, circular_id, as_of=as_of, provinces=provinces)
    for spec in route.dispatches:
        with session_scope(engine) as session:
            dispatches.record_dispatch(session, circular_id, spec, actor=actor)
    return circular_id
