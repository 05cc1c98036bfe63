"""Shared fixtures. Tests mirror the packages: tests/models, tests/routing, tests/records, ..."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The seed letters live beside the project (../shared/seeds), not inside it.
SEEDS = Path(os.environ.get("SARABAN_SEEDS", ROOT.parent / "shared" / "seeds"))

# Prefect must never reach for a server or write telemetry from tests.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    if not (SEEDS / "expected.json").exists():
        pytest.skip(f"seed letters not found at {SEEDS}")
    return SEEDS


@pytest.fixture(scope="session")
def seed_files(seeds_dir: Path) -> list[Path]:
    return sorted(seeds_dir.glob("*.txt"))
