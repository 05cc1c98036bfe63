"""Every call into Prefect's client API (artifacts, events, its temporary server) lives here, so
flows stay plain."""

from __future__ import annotations

import ctypes
import functools
import os
import signal
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.events import emit_event

DIGEST_EVENT = "saraban.agency.digest"


def publish_table(key: str, rows: Sequence[Mapping[str, Any]], description: str) -> None:
    """A Prefect table artifact (keys must be lowercase letters, digits and dashes)."""
    create_table_artifact(key=key, table=[dict(r) for r in rows], description=description)


def publish_markdown(key: str, markdown: str, description: str) -> None:
    create_markdown_artifact(key=key, markdown=markdown, description=description)


def emit_digest_events(payloads: Iterable[Mapping[str, Any]]) -> int:
    """One `saraban.agency.digest` event per digest (see `records.digests.Digest.event_payload`):
    the resource is the responsible agency (`saraban.agency.<id>`), related to each circular."""
    count = 0
    for payload in payloads:
        emit_event(
            event=DIGEST_EVENT,
            resource={
                "prefect.resource.id": f"saraban.agency.{payload['agency_id']}",
                "prefect.resource.name": str(payload["agency"]),
            },
            related=[
                {"prefect.resource.id": f"saraban.circular.{c}", "prefect.resource.role": "circular"}
                for c in payload["circulars"]
            ],
            payload=dict(payload),
        )
        count += 1
    return count


# prctl(2) option: the signal the kernel sends this process when its parent thread ends.
_PR_SET_PDEATHSIG = 1


def tie_ephemeral_server() -> None:
    """Start Prefect's temporary API server now, so that it dies with this process, even by SIGKILL.

    Without PREFECT_API_URL a flow called in-process starts `SubprocessASGIServer` (uvicorn, about
    200 MB) and stops it at exit; a `kill -9` leaves it running for good. Started here instead, the
    server process asks the kernel for SIGTERM when its parent dies (`PR_SET_PDEATHSIG`), and
    Prefect's own calls (`SubprocessASGIServer()` is one instance per port) reuse it. Call it from
    the main thread just before the flow: the signal is tied to the thread that starts the child,
    and an idle thread of Prefect's may end while the server is still needed. With a configured
    API, ephemeral mode off, or no prctl (not Linux), it does nothing and Prefect starts as before.
    """
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return
    if _prctl() is None:
        return
    _server_class()().start()


@functools.cache
def _prctl() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    return getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)  # libc, already loaded


def _die_with(parent: int, prctl: Any) -> Any:
    """The `preexec_fn` of the server: runs in the forked child before exec (no locks taken)."""

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the request: nobody will signal us
            os._exit(0)

    return preexec


def _server_class() -> type[Any]:
    """`SubprocessASGIServer` whose uvicorn process carries PR_SET_PDEATHSIG.

    The command and environment are Prefect 3.8's `_run_uvicorn_command` verbatim (see
    tests/flows/test_orphans.py, which compares them); only `preexec_fn` is added. Registering the
    instance under Prefect's default key (port None) is what `prefect.testing` does with its own.
    """
    import prefect
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import get_current_settings

    prctl = _prctl()

    class TiedServer(SubprocessASGIServer):
        def _run_uvicorn_command(self) -> subprocess.Popen[Any]:
            server_env = {
                "PREFECT_UI_ENABLED": "0",
                "PREFECT__SERVER_EPHEMERAL": "1",
                "PREFECT__SERVER_FINAL": "1",
            }
            return subprocess.Popen(
                args=[
                    sys.executable, "-m", "uvicorn", "--app-dir", str(prefect.__module_path__.parent),
                    "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1",
                    "--port", str(self.port), "--log-level", "error", "--lifespan", "on",
                ],
                env={**os.environ, **server_env,
                     **get_current_settings().to_environment_variables(exclude_unset=True)},
                preexec_fn=_die_with(os.getpid(), prctl),
            )  # fmt: skip

    return TiedServer
