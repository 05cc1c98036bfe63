"""A test-only pause inside a writer's transaction, for tests/faults to SIGKILL it there.

A process started with this directory on PYTHONPATH and FAULTS_PAUSE=KIND:N:SIGNAL_FILE in its
environment (and so each Python child it starts: `saraban run` records its dispatches in a writer
process of its own) wraps `records.events.append_event_rows`, which every writer goes through,
when that module is first imported: the N-th event of KIND (or of any of `KIND1|KIND2`, counted
together) appended in the process writes the process id to SIGNAL_FILE and sleeps, before its
transaction commits. The product holds no such
hook; without FAULTS_PAUSE this file does nothing.

Python imports `sitecustomize` at start-up, before the script's directory is on sys.path, hence a
hook on the import of `records.events` rather than an import of it here.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys
import threading
import time
from collections.abc import Sequence
from types import ModuleType
from typing import Any

ENV = "FAULTS_PAUSE"
TARGET = "records.events"


def _wrap(events: ModuleType, kind: str, count: int, signal_file: str) -> None:
    original = events.append_event_rows
    seen = 0
    lock = threading.Lock()
    kinds = set(kind.split("|"))  # KIND may name several, `a|b`: their events count together

    def append_event_rows(session: Any, new: Sequence[Any]) -> list[dict[str, Any]]:
        nonlocal seen
        rows = original(session, new)
        for event in new:
            if event.kind not in kinds:
                continue
            with lock:
                seen += 1
                hit = seen == count
            if hit:
                with open(signal_file, "w") as f:
                    f.write(str(os.getpid()))
                time.sleep(600)
        return rows

    events.append_event_rows = append_event_rows  # type: ignore[attr-defined]


class _PauseOnImport(importlib.abc.MetaPathFinder):
    def __init__(self, kind: str, count: int, signal_file: str) -> None:
        self.args = (kind, count, signal_file)

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != TARGET:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_then_wrap(module: ModuleType) -> None:
            exec_module(module)
            _wrap(module, *self.args)

        spec.loader.exec_module = exec_then_wrap  # type: ignore[method-assign]
        return spec


def _install() -> None:
    spec = os.environ.get(ENV)
    if not spec:
        return
    kind, count, signal_file = spec.split(":", 2)
    sys.meta_path.insert(0, _PauseOnImport(kind, int(count), signal_file))


_install()
