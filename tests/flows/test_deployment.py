"""Scale-out mode end to end: a real Prefect server, `prefect deploy` from prefect.yaml, a process worker.

Everything goes through the `prefect` CLI in subprocesses, as an operator would run it, against a
server started for this test alone (its own PREFECT_HOME). The worker runs `flag-overdue` against a
SQLite record built here; the example automation (docs/automation.yaml) is created on the same
server and must deliver its notifications to a webhook this test listens on.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from models.db import get_engine
from tests.conftest import ROOT, route_plainly

PREFECT = str(Path(sys.executable).with_name("prefect"))
AS_OF = date(2020, 6, 26)
AT = "2020-06-26T10:00:00+07:00"
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

pytestmark = [pytest.mark.prefect, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _base_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
    return env


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a process started in its own session, and everything it started."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def _cli(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    # A new session, so a timeout kills the flow-run subprocesses a worker starts as well.
    proc = subprocess.Popen(
        [PREFECT, *args],
        env=env,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"prefect {' '.join(args)} timed out after {timeout} s\n{out}\n{err}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"{result.args}\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture
def prefect_server(tmp_path: Path) -> Iterator[str]:
    """A `prefect server start` of our own; yields its API URL."""
    home = tmp_path / "prefect-home"
    home.mkdir()
    port = _free_port()
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=_base_env(home),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Prefect server did not come up:\n{(tmp_path / 'server.log').read_text()}")
            time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/api"
    finally:
        _stop(server)
        log.close()


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local HTTP endpoint that keeps every JSON body posted to it."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/overdue", received
    finally:
        httpd.shutdown()
        httpd.server_close()


def _record_route(url: str) -> None:
    """The demo chain routed as of 26 June 2020: Phrae's districts are overdue by then."""
    route_plainly(url, "มท 0812/ว 1434", AS_OF)


def _flagged(url: str) -> int:
    """Handoffs a sweep flagged overdue (those it announced late are stamped too, but not counted)."""
    with get_engine(url).connect() as conn:
        query = "SELECT count(*) FROM handoff WHERE overdue_flagged_at IS NOT NULL AND status = 'overdue'"
        return int(conn.execute(sa.text(query)).scalar_one())


def _digests(url: str) -> list[str]:
    """The agencies the sweep logged a digest for (one `alert.digest` event each)."""
    with get_engine(url).connect() as conn:
        return sorted(
            conn.execute(sa.text("SELECT subject FROM event WHERE kind = 'alert.digest'")).scalars()
        )


def _post(api: str, path: str, body: dict[str, Any]) -> Any:
    # Filters are posted with limit/offset/sort set: Prefect 3.8's clients send null for them,
    # which its own API rejects under fastapi 0.154.
    response = httpx.post(f"{api}{path}", json={"limit": 10, "offset": 0, **body}, timeout=10)
    response.raise_for_status()
    return response.json()


def _wait_for_run(api: str, deployment_id: str, run_id: str, timeout: float) -> dict[str, Any]:
    body = {
        "flow_runs": {"id": {"any_": [run_id]}},
        "deployments": {"id": {"any_": [deployment_id]}},
        "sort": "ID_DESC",
    }
    deadline = time.monotonic() + timeout
    while True:
        runs = _post(api, "/flow_runs/filter", body)
        assert len(runs) == 1, runs
        state = runs[0]["state"]["type"]
        if state in {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"} or time.monotonic() > deadline:
            return dict(runs[0])
        time.sleep(1)


def test_deployed_flag_overdue_runs_on_a_process_worker_and_notifies(
    prefect_server: str, webhook: tuple[str, list[dict[str, Any]]], chain_db: str, tmp_path: Path
) -> None:
    api = prefect_server
    _record_route(chain_db)
    assert _flagged(chain_db) == 0
    env = _base_env(tmp_path / "prefect-home") | {
        "PREFECT_API_URL": api,
        "PREFECT_CLI_PROMPT": "false",
        "SARABAN_HOME": str(ROOT),
        # A scheduled run that falls due while the worker polls must not touch the checkout's record.
        "SARABAN_DATABASE_URL": chain_db,
    }

    _ok(_cli(["work-pool", "create", "saraban-process", "--type", "process"], env))
    deployed = _cli(["--no-prompt", "deploy", "--name", "flag-overdue"], env)
    # Prefect 3.8.8's deploy saves the deployment, then asks for the pool's online workers with a
    # null limit that its server rejects under fastapi 0.154; tolerate exactly that, nothing else.
    if deployed.returncode != 0:
        assert "/workers/filter" in deployed.stderr and "422" in deployed.stderr, deployed.stderr
    assert "successfully created" in deployed.stdout, deployed.stdout + deployed.stderr
    deployment = httpx.get(f"{api}/deployments/name/flag-overdue/flag-overdue", timeout=10).json()
    assert deployment["work_pool_name"] == "saraban-process"
    assert deployment["entrypoint"] == "flows/flag_overdue.py:flag_overdue"
    assert deployment["pull_steps"] == [
        {"prefect.deployments.steps.set_working_directory": {"directory": str(ROOT)}}
    ]
    [schedule] = deployment["schedules"]
    assert schedule["schedule"]["cron"] == "0 * * * 1-5"
    assert schedule["schedule"]["timezone"] == "Asia/Bangkok"

    # The example automation, wired to a notification block that posts to our webhook.
    url, received = webhook
    block_id = _ok(
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys\n"
                "from prefect.blocks.notifications import CustomWebhookNotificationBlock as B\n"
                "block = B(name='saraban', url=sys.argv[1], allow_private_urls=True,\n"
                "          json_data={'subject': '{{subject}}', 'body': '{{body}}'})\n"
                "print(block.save('saraban-overdue'))",
                url,
            ],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
    ).strip()
    automation_file = tmp_path / "automation.yaml"
    template = (ROOT / "docs" / "automation.yaml").read_text(encoding="utf-8")
    assert "${SARABAN_NOTIFICATION_BLOCK_ID}" in template
    automation_file.write_text(template.replace("${SARABAN_NOTIFICATION_BLOCK_ID}", block_id), "utf-8")
    created = _ok(_cli(["automation", "create", "--from-file", str(automation_file)], env))
    assert "Created automation 'saraban-agency-digest'" in created
    automation_id = UUID_RE.findall(created)[-1]
    automation = httpx.get(f"{api}/automations/{automation_id}", timeout=10).json()
    assert automation["enabled"] is True
    assert automation["trigger"]["expect"] == ["saraban.agency.digest"]
    assert automation["trigger"]["match"] == {"prefect.resource.id": "saraban.agency.*"}
    assert [a["type"] for a in automation["actions"]] == ["send-notification"]

    started = _ok(
        _cli(
            [
                "deployment",
                "run",
                "flag-overdue/flag-overdue",
                "--param",
                "force=true",
                "--param",
                f"at={AT}",
            ],
            env,
        )
    )
    run_id = UUID_RE.search(started.split("UUID:", 1)[1])
    assert run_id, started
    worker = _cli(["worker", "start", "--pool", "saraban-process", "--run-once"], env, timeout=90)
    run = _wait_for_run(api, deployment["id"], run_id.group(), timeout=30)
    assert run["state"]["type"] == "COMPLETED", f"{run['state']}\n{worker.stdout}\n{worker.stderr}"
    assert run["parameters"]["force"] is True

    flagged = _flagged(chain_db)
    assert flagged > 0
    artifacts = _post(
        api,
        "/artifacts/filter",
        {"artifacts": {"key": {"any_": ["saraban-overdue"]}, "flow_run_id": {"any_": [run_id.group()]}}},
    )
    assert len(artifacts) == 1 and artifacts[0]["type"] == "table"
    rows = json.loads(artifacts[0]["data"])
    assert len(rows) == flagged
    assert any(r["agency"] == "อำเภอเมืองแพร่" for r in rows)

    # One notification per responsible agency's digest (not per handoff), in Thai, from the payload.
    agencies = _digests(chain_db)
    assert 0 < len(agencies) < flagged
    deadline = time.monotonic() + 30
    while len(received) < len(agencies) and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(2)  # and no more than one each
    assert len(received) == len(agencies)
    assert all(n["subject"].startswith("[สารบรรณ] ") for n in received)
    phrae = next(n for n in received if "อำเภอเมืองแพร่" in n["subject"])
    assert phrae["body"].startswith("เรียน อำเภอเมืองแพร่")
    assert "/agencies/district:5401?as_of=2020-06-26" in phrae["body"]
