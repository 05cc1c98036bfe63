"""Group commit for dispatch tasks, in a writer process of their own.

`route_circular` runs its dispatch tasks on a thread pool, and every task must have its dispatch
recorded before it completes. Written from the task threads, one transaction each, the record was
the bottleneck of a national run: SQLite has one writer, and in a process whose threads are busy
with Prefect's engine a transaction waited for the GIL for most of its life (measured: ~2 ms alone,
~10 ms in the flow, over ~960 serial dispatches). Batching in a writer *thread* did not help: it
got the GIL no more often (13 ms wall for 3.5 ms of CPU per batch).

So the writes leave the flow's process. A task hands its dispatch to `DispatchWriter.record`,
which sends it down a pipe to a writer process (`python -m flows.writer`) and waits for the
answer. The writer process takes everything queued so far and records it in one transaction with
a few statements (`records.dispatches.record_dispatches`): the busier the tasks, the larger the
batch. Each dispatch is still all-or-nothing (a batch is one transaction) and gets its own
`dispatch.recorded` event; a task completes only once its batch has committed. When a batch
fails, its dispatches are retried one transaction each, so a bad one fails alone.

Start-up: the writer process needs about 0.7 s to import its libraries and connect, longer on a
busy machine, and the top of every route (Cabinet -> OPDC -> Interior -> DLA) is a chain of
dispatches that each wait on the last. So until the process says it is ready, `record` writes in
the calling thread, one transaction per dispatch, as `records.dispatches.record_dispatch` would;
both writers take the record's write lock, so the two paths never interleave inside a transaction.

Lifetime: `writing(url)` holds the database's writer open (the flow holds it for its run, so the
process starts while the route is planned); the process exits shortly after the last holder lets
go (LINGER_SECONDS), when its parent exits or dies (the pipe closes), or with its process group.
"""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from itertools import count
from multiprocessing.connection import Connection
from typing import Any

from models.db import database_url as resolve_url

log = logging.getLogger(__name__)

# A bound on one transaction's size (the largest statement binds one parameter per dispatch;
# SQLite allows 32,766) and on the work redone after one failed batch.
MAX_BATCH = 256
# The job number of the writer process's first message: connected, ready to write.
READY = 0


class WriterError(RuntimeError):
    """The writer process failed a dispatch, or died."""


class DispatchWriter:
    """The parent's side: records dispatches from any thread through one writer process."""

    def __init__(self, url: str) -> None:
        self.url = url
        up_read, up_write = os.pipe()  # writer -> parent
        down_read, down_write = os.pipe()  # parent -> writer
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "flows.writer", str(down_read), str(up_write)],
            pass_fds=(down_read, up_write),
        )
        os.close(down_read)
        os.close(up_write)
        self._down = Connection(down_write, readable=False)
        self._up = Connection(up_read, writable=False)
        self._send_lock = threading.Lock()
        self._pending: dict[int, Future[Any]] = {}
        self._ids = count(1)
        self._dead: str | None = None
        self.ready = threading.Event()  # set once the writer process is connected
        self.written_here = 0  # dispatches written in this process while it was starting
        self._down.send(url)  # the URL may hold a password: not on the command line
        self._reader = threading.Thread(target=self._read, name="saraban-writer-replies", daemon=True)
        self._reader.start()

    def record(self, circular_id: str, spec: Any) -> Any:
        """Record one dispatch (see `records.dispatches.record_dispatch`); returns once committed."""
        if not self.ready.is_set():
            if self._dead is not None:
                raise WriterError(self._dead)
            return self._record_here(circular_id, spec)
        done: Future[Any] = Future()
        with self._send_lock:
            if self._dead is not None:
                raise WriterError(self._dead)
            job = next(self._ids)
            self._pending[job] = done
            self._down.send_bytes(pickle.dumps((job, circular_id, spec), pickle.HIGHEST_PROTOCOL))
        return done.result()

    def _record_here(self, circular_id: str, spec: Any) -> Any:
        from models.db import get_engine, session_scope
        from records import dispatches

        with session_scope(get_engine(self.url)) as session:
            states = dispatches.record_dispatch(session, circular_id, spec)
        with self._send_lock:
            self.written_here += 1
        return states

    def close(self) -> None:
        """Let the writer finish what it was sent, then exit."""
        with self._send_lock:
            if self._dead is None:
                self._dead = "the writer was closed"
                self._down.close()
        self._proc.wait()
        self._reader.join()

    def _read(self) -> None:
        while True:
            try:
                job, ok, value = pickle.loads(self._up.recv_bytes())
            except (EOFError, OSError):
                break
            if job == READY:
                self.ready.set()
                continue
            done = self._pending.pop(job)
            if ok:
                done.set_result(value)
            else:
                done.set_exception(WriterError(value))
        with self._send_lock:
            if self._dead is None:
                self._dead = f"the writer process for {self.url!r} died (exit {self._proc.poll()})"
            pending, self._pending = self._pending, {}
        for done in pending.values():
            done.set_exception(WriterError(self._dead))
        self._up.close()


# A writer outlives its last holder by this long, so that tasks run one by one (retries, `.fn()`
# calls, back-to-back runs) do not start a process each.
LINGER_SECONDS = 10.0


class _Held:
    def __init__(self, writer: DispatchWriter) -> None:
        self.writer = writer
        self.users = 0
        self.timer: threading.Timer | None = None


_WRITERS: dict[str, _Held] = {}
_GUARD = threading.Lock()


@contextmanager
def writing(database_url: str | None) -> Iterator[DispatchWriter]:
    """The database's writer in this process: started on first use, closed LINGER_SECONDS after
    its last holder let go."""
    url = resolve_url(database_url)
    with _GUARD:
        held = _WRITERS.get(url)
        if held is None or held.writer._dead is not None:
            held = _WRITERS[url] = _Held(DispatchWriter(url))
        if held.timer is not None:
            held.timer.cancel()
            held.timer = None
        held.users += 1
    try:
        yield held.writer
    finally:
        with _GUARD:
            held.users -= 1
            if held.users == 0 and _WRITERS.get(url) is held:
                held.timer = threading.Timer(LINGER_SECONDS, _close_idle, (url, held))
                held.timer.daemon = True
                held.timer.start()


def _close_idle(url: str, held: _Held) -> None:
    with _GUARD:
        if held.users or _WRITERS.get(url) is not held:
            return
        del _WRITERS[url]
    held.writer.close()


def close_writers() -> None:
    """Close every writer of this process now (tests, and the end of a CLI command)."""
    with _GUARD:
        helds = list(_WRITERS.values())
        _WRITERS.clear()
    for held in helds:
        if held.timer is not None:
            held.timer.cancel()
        held.writer.close()


# --- the writer process ---------------------------------------------------------------------------


def _serve(down: Connection, up: Connection) -> None:
    from models.db import get_engine, session_scope
    from records import dispatches

    url = down.recv()
    engine = get_engine(url)
    with engine.connect():  # connect (and check the schema's dialect) before saying so
        pass
    up.send_bytes(pickle.dumps((READY, True, None), pickle.HIGHEST_PROTOCOL))

    def write(batch: list[tuple[int, str, Any]]) -> None:
        try:
            with session_scope(engine) as session:
                results = dispatches.record_dispatches(session, [(c, spec) for _, c, spec in batch])
        except Exception as exc:
            if len(batch) == 1:
                up.send_bytes(pickle.dumps((batch[0][0], False, f"{type(exc).__name__}: {exc}")))
                return
            log.warning("a batch of %d dispatches failed (%s); writing them one by one", len(batch), exc)
            for one in batch:
                write([one])
            return
        for (job, _, _), states in zip(batch, results, strict=True):
            up.send_bytes(pickle.dumps((job, True, states), pickle.HIGHEST_PROTOCOL))

    closed = False
    while not closed:
        try:
            batch = [pickle.loads(down.recv_bytes())]
        except EOFError:
            return
        while len(batch) < MAX_BATCH and down.poll():
            try:
                batch.append(pickle.loads(down.recv_bytes()))
            except EOFError:
                closed = True  # write what came before the end, then stop
                break
        try:
            write(batch)
        except (BrokenPipeError, ConnectionResetError):
            return  # the parent is gone; what was written is committed


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False))
