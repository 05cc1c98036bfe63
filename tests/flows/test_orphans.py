"""No orphan: a `kill -9` of `saraban run` takes Prefect's temporary API server with it.

Without PREFECT_API_URL, Prefect starts a uvicorn subprocess (about 200 MB) and stops it at exit;
a SIGKILL skips the exit, so `flows.prefect_io.tie_ephemeral_server` starts it with
PR_SET_PDEATHSIG (the kernel sends it SIGTERM when its parent dies).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from prefect.server.api.server import SubprocessASGIServer
from prefect.settings import PREFECT_API_URL, temporary_settings

from flows import prefect_io
from tests.conftest import ROOT
from tests.faults.test_kill import DISPATCHES, pausing, wait_until_paused

SERVER = "prefect.server.api.server:create_app"  # in the temporary server's command line
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process, None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    state, ppid = text[text.rindex(")") + 2 :].split()[:2]
    return state, int(ppid)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return ""


def _servers_of(parent: int) -> list[int]:
    """The temporary Prefect servers whose parent is `parent`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and SERVER in _cmdline(int(entry.name)):
            stat = _stat(int(entry.name))
            if stat is not None and stat[1] == parent:
                found.append(int(entry.name))
    return found


def _running(pid: int, cmdline: str) -> bool:
    """Still alive as the same program (a zombie left to an init that does not reap is dead)."""
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z" and _cmdline(pid) == cmdline


@pytest.mark.slow
def test_kill_9_of_run_leaves_no_temporary_server(chain_db: str, tmp_path: Path) -> None:
    signal_file = tmp_path / "paused"
    env = {**os.environ, "SARABAN_DATABASE_URL": chain_db, "PREFECT_HOME": str(tmp_path / "prefect")}
    env.pop("PREFECT_API_URL", None)  # ephemeral mode: the command starts the server itself
    argv = [
        sys.executable,
        "-m",
        "cli.main",
        "run",
        "มท 0218/ว 3182",
        "--plan",
        "bcp-2020",
        "--as-of",
        "2020-06-26",
    ]
    # Paused inside its first dispatch: the server is up and the flow is running on it.
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=pausing(env, f"{DISPATCHES}:1", signal_file),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        wait_until_paused(proc, signal_file, "run (first dispatch)", seconds=180)
        servers = _servers_of(proc.pid)
        assert len(servers) == 1, servers
        server = servers[0]
        cmdline = _cmdline(server)

        proc.send_signal(signal.SIGKILL)  # the command alone, not its process group
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        killed = time.monotonic()
        while _running(server, cmdline) and time.monotonic() - killed < 5:
            time.sleep(0.05)
        gone_after = time.monotonic() - killed
        assert not _running(server, cmdline), f"Prefect's temporary server {server} outlived the kill"
        print(f"temporary server gone {gone_after:.2f} s after the kill")
    finally:
        with contextlib.suppress(ProcessLookupError):  # whatever the outcome, nothing of ours runs on
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def test_the_tied_server_runs_prefects_own_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tied server's command and environment are Prefect's, plus the `preexec_fn`: an upgrade
    of Prefect that changes how it starts its server shows here."""
    tied = prefect_io._server_class()
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(subprocess, "Popen", lambda **kwargs: calls.append(kwargs))
    server = SimpleNamespace(port=8123)
    SubprocessASGIServer._run_uvicorn_command(server)  # type: ignore[arg-type]
    tied._run_uvicorn_command(server)
    theirs, ours = calls
    assert callable(ours.pop("preexec_fn"))
    assert ours == theirs


def test_nothing_is_started_with_a_configured_api() -> None:
    before = dict(SubprocessASGIServer._instances)
    with temporary_settings({PREFECT_API_URL: "http://127.0.0.1:9/api"}):
        prefect_io.tie_ephemeral_server()
    assert SubprocessASGIServer._instances == before
