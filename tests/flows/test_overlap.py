"""Two `saraban run` processes routing the same circular at the same moment, each with its own
Prefect (ephemeral server, result storage, writer process): the record ends with each dispatch and
each handoff once, and the audit chain verifies. Run on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from models.db import dispose_engines, get_engine, init_db, session_scope
from records import audit
from records.ingest import ingest_files
from tests.conftest import ROOT, route_plainly
from tests.records.conftest import fresh_database

DEMO = sorted((ROOT / "demo" / "letters").glob("*.txt"))
ARGS = ["run", "มท 0812/ว 1434", "--plan", "bcp-2020", "--as-of", "2020-06-26", "--province", "54",
        "--province", "21"]  # fmt: skip


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def record_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    for url in fresh_database(request.param, tmp_path):
        engine = get_engine(url)
        init_db(engine)
        assert all(o.error is None for o in ingest_files(DEMO, engine))
        yield url
        dispose_engines()


def _counts(url: str) -> dict[str, int]:
    with get_engine(url).connect() as conn:
        return {
            t: int(conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one())
            for t in ("dispatch", "handoff")
        } | {
            "distinct handoffs": int(
                conn.execute(
                    sa.text(
                        "SELECT count(*) FROM (SELECT DISTINCT dispatch_id, recipient_id FROM handoff) AS d"
                    )
                ).scalar_one()
            )
        }


@pytest.mark.prefect
@pytest.mark.slow
def test_two_overlapping_flow_runs_record_each_handoff_once(record_url: str, tmp_path: Path) -> None:
    procs = []
    for i in range(2):
        env = {**os.environ, "SARABAN_DATABASE_URL": record_url, "PREFECT_HOME": str(tmp_path / f"prefect{i}"),
               "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
               # two temporary servers start at once on two cores: give them time
               "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180"}  # fmt: skip
        env.pop("PREFECT_API_URL", None)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "cli.main", *ARGS],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    for proc in procs:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
    got = _counts(record_url)

    # The same route written once, without Prefect, into a fresh record of the same letters.
    reference = f"sqlite:///{tmp_path / 'reference.db'}"
    engine = get_engine(reference)
    init_db(engine)
    ingest_files(DEMO, engine)
    route_plainly(reference, "มท 0812/ว 1434", date(2020, 6, 26), provinces=["54", "21"])
    assert got == _counts(reference) and got["handoff"] == got["distinct handoffs"] > 0
    with session_scope(get_engine(record_url), readonly=True) as session:
        report = audit.verify(session)
    assert report.ok, str(report)
