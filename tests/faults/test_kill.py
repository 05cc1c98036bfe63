"""Faults: SIGKILL a writer in the middle of its transaction, then check all-or-nothing, the audit
chain, and that a re-run completes the work without duplicates.

The writer pauses deterministically inside its transaction: it runs with tests/faults/pausing on
PYTHONPATH and FAULTS_PAUSE=KIND:N:SIGNAL_FILE (see its sitecustomize.py), which make the N-th
event of KIND touch SIGNAL_FILE and sleep before commit; the test waits for the file and kills the
process there. The product holds no such hook.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from models.db import get_engine, init_db, session_scope
from models.tables import Dispatch, Handoff, LetterRow
from records import audit
from records.ingest import ingest_file

pytest.importorskip("models.parser")

ROOT = Path(__file__).parents[2]
DEMO = sorted((ROOT / "demo" / "letters").glob("*.txt"))
SARABAN = [sys.executable, "-m", "cli.main"]

# The flow's unit of work without Prefect: plan the route in one transaction, then one
# transaction per dispatch, exactly as flows/route_circular.py's tasks do.
ROUTE_SCRIPT = """
import sys
from datetime import date
from tests.conftest import route_plainly
route_plainly(sys.argv[1], "มท 0218/ว 3182", date(2020, 6, 26))
"""


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


PAUSING = Path(__file__).parent / "pausing"


# A routing run's dispatch events, recorded or planned (`records.dispatches.DISPATCH_KINDS`).
DISPATCHES = "dispatch.recorded|dispatch.planned"


def pausing(env: dict[str, str], pause: str, signal_file: Path) -> dict[str, str]:
    """`env` for a process (and its Python children) that pauses inside the event `pause`
    ("KIND:N") and touches `signal_file` there (tests/faults/pausing/sitecustomize.py)."""
    path = os.pathsep.join(p for p in (str(PAUSING), env.get("PYTHONPATH")) if p)
    return {**env, "PYTHONPATH": path, "FAULTS_PAUSE": f"{pause}:{signal_file}"}


def wait_until_paused(proc: subprocess.Popen[bytes], signal_file: Path, what: str, *, seconds: float) -> None:
    """Wait for `proc` to touch `signal_file` at its pause point; fail saying `what` did otherwise."""
    deadline = time.monotonic() + seconds
    while not signal_file.exists():
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(
                f"{what} ended before pausing ({proc.returncode}): {out.decode()[-500:]} {err.decode()[-500:]}"
            )
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"{what} never reached the pause point")
        time.sleep(0.05)


def _run_until_paused(argv: list[str], pause: str, signal_file: Path, env_url: str) -> None:
    env = pausing({**os.environ, "SARABAN_DATABASE_URL": env_url}, pause, signal_file)
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wait_until_paused(proc, signal_file, "writer", seconds=90)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def _reference(tmp_path: Path, name: str, files: list[Path], *, route: bool = False) -> Engine:
    engine = get_engine(f"sqlite:///{tmp_path / name}")
    init_db(engine)
    for path in files:
        ingest_file(path, engine)
    if route:
        subprocess.run(
            [sys.executable, "-c", ROUTE_SCRIPT, _url(engine)], cwd=ROOT, check=True, capture_output=True
        )
    return engine


def _state(engine: Engine) -> dict[str, object]:
    with session_scope(engine, readonly=True) as s:
        return audit.state_dump(s)  # type: ignore[return-value]


def _verified(engine: Engine) -> None:
    with session_scope(engine, readonly=True) as s:
        report = audit.verify(s)
    assert report.ok, str(report)


def test_kill_during_ingest(engine: Engine, tmp_path: Path) -> None:
    signal_file = tmp_path / "paused"
    # Files 1 and 2 hold one letter each: the 3rd letter added is inside file 3's transaction.
    _run_until_paused([*SARABAN, "ingest", *map(str, DEMO)], "letter.added:3", signal_file, _url(engine))
    assert _state(engine) == _state(_reference(tmp_path, "two.db", DEMO[:2]))
    _verified(engine)

    rerun = subprocess.run([*SARABAN, "ingest", *map(str, DEMO)], cwd=ROOT, capture_output=True, text=True,
                           env={**os.environ, "SARABAN_DATABASE_URL": _url(engine)})  # fmt: skip
    assert rerun.returncode == 0, rerun.stderr
    assert "0 added, 0 merged, 1 unchanged" in rerun.stdout  # file 1 was already in: nothing twice
    assert _state(engine) == _state(_reference(tmp_path, "all.db", DEMO))
    with session_scope(engine, readonly=True) as s:
        numbers = [(r.number, r.date) for r in s.exec(select(LetterRow))]
    assert len(numbers) == len(set(numbers))
    _verified(engine)


def test_kill_during_routing_run(engine: Engine, tmp_path: Path) -> None:
    for path in DEMO:
        ingest_file(path, engine)
    signal_file = tmp_path / "paused"
    _run_until_paused([sys.executable, "-c", ROUTE_SCRIPT, _url(engine)], f"{DISPATCHES}:10", signal_file,
                      _url(engine))  # fmt: skip
    reference = _reference(tmp_path, "routed.db", DEMO, route=True)
    full = _state(reference)
    got = _state(engine)
    # Each dispatch is one transaction: the 9 before the kill are there with ALL their handoffs.
    assert len(got["dispatch"]) == 9  # type: ignore[arg-type]
    for key in got["dispatch"]:  # type: ignore[attr-defined]
        assert got["dispatch"][key] == full["dispatch"][key]  # type: ignore[index]
    dispatch_keys = {" / ".join(str(k) for k in key) for key in got["dispatch"]}  # type: ignore[attr-defined]
    mine = {k: v for k, v in got["handoff"].items()}  # type: ignore[attr-defined]
    theirs = {k: v for k, v in full["handoff"].items() if k[0] in dispatch_keys}  # type: ignore[index]
    assert mine == theirs and mine
    with session_scope(engine, readonly=True) as s:
        for d in s.exec(select(Dispatch)):
            assert s.exec(select(Handoff).where(Handoff.dispatch_id == d.id)).first() is not None
    _verified(engine)

    subprocess.run(
        [sys.executable, "-c", ROUTE_SCRIPT, _url(engine)], cwd=ROOT, check=True, capture_output=True
    )
    assert _state(engine) == full
    _verified(engine)


@pytest.mark.prefect
@pytest.mark.slow
def test_kill_during_a_real_prefect_flow_run(tmp_path: Path) -> None:
    """SIGKILL `saraban run` (Prefect's ephemeral mode) inside its 10th dispatch transaction."""
    engine = get_engine(f"sqlite:///{tmp_path / 'record.db'}")
    init_db(engine)
    for path in DEMO:
        ingest_file(path, engine)
    signal_file = tmp_path / "paused"
    argv = [*SARABAN, "run", "มท 0218/ว 3182", "--plan", "bcp-2020", "--as-of", "2020-06-26"]
    env = {**os.environ, "SARABAN_DATABASE_URL": _url(engine), "PREFECT_HOME": str(tmp_path / "prefect"),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1"}  # fmt: skip
    # Its own session, so the kill takes Prefect's temporary server (a child process) down with it.
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=pausing(env, f"{DISPATCHES}:10", signal_file),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        wait_until_paused(proc, signal_file, "the flow (10th dispatch)", seconds=180)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)

    full = _state(_reference(tmp_path, "routed.db", DEMO, route=True))
    got = _state(engine)
    # The writer commits the dispatches queued together in one transaction (flows.writer), and
    # the flow's own process writes the first few itself while the writer starts: each process
    # counts its own events, so the pause holds the 10th of one of them. What is there is some of
    # the dispatches, never all, each with all its handoffs.
    assert 0 < len(got["dispatch"]) < len(full["dispatch"])  # type: ignore[arg-type]
    committed = {" / ".join(str(k) for k in key) for key in got["dispatch"]}  # type: ignore[attr-defined]
    assert got["handoff"] == {k: v for k, v in full["handoff"].items() if k[0] in committed}  # type: ignore[attr-defined,index]
    _verified(engine)

    rerun = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert _state(engine) == full  # completed, nothing twice
    _verified(engine)
