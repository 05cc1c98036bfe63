"""Fixtures for flow tests: a recorded chain in a fresh SQLite file, and Prefect's test harness.

The harness starts a real (ephemeral) Prefect API once per session, and only for the tests that
ask for it; logic tests call the flow's tasks with `.fn()` instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.testing.fixtures import asserting_and_emitting_events_worker  # noqa: F401 (fixture)
from prefect.testing.utilities import prefect_test_harness

from models.db import dispose_engines, get_engine, init_db
from records.ingest import ingest_files
from tests.conftest import ROOT

DEMO_LETTERS = sorted((ROOT / "demo" / "letters").glob("*.txt"))


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[None]:
    with prefect_test_harness(server_startup_timeout=120):
        yield


def _record_of(path: Path, letters: list[Path]) -> Iterator[str]:
    url = f"sqlite:///{path}"
    engine = get_engine(url)
    init_db(engine)
    outcomes = ingest_files(letters, engine)
    assert all(o.error is None for o in outcomes), [str(o.error) for o in outcomes if o.error]
    yield url
    dispose_engines()


@pytest.fixture
def chain_db(tmp_path: Path) -> Iterator[str]:
    """A SQLite record holding the demo chain (the BCP 2020 circulars), with the bcp-2020 plan."""
    yield from _record_of(tmp_path / "record.db", DEMO_LETTERS)


@pytest.fixture
def seed_db(tmp_path: Path, seed_files: list[Path]) -> Iterator[str]:
    """A SQLite record holding the three real seed letters, with no plan attached by hand."""
    yield from _record_of(tmp_path / "seeds.db", seed_files)
