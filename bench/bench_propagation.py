"""How fast deadline propagation runs on one national circular.

Graph: the `bcp-2020` plan over the stand-in directory (about 8,400 nodes). Measured in one run,
medians over repeats:

- full propagation (`propagate`, backward + forward pass, latest dates recomputed) and the warm
  case (latest dates reused: they depend only on plan, policy and calendar), against a baseline:
  a plain-Python topological pass over the same precomputed integer arrays (one max over each
  node's senders). The three take turns within each repeat (after one warm-up call each), so
  load from other processes hits them alike. Target: full (cold) <= 3x the baseline;
- incremental recompute after one receipt at a local body (`Schedule.update`) against full
  propagation. Target: >= 20x faster;
- peak memory of one national circular graph (instantiated networkx graph, compiled arrays and
  one schedule) with tracemalloc;
- directory build time (geothai + stand-in local bodies), plan instantiation and compile time.

Run: `.venv/bin/python -m bench` (all benchmarks) or `.venv/bin/python bench/bench_propagation.py`.
"""

from __future__ import annotations

import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import date
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from routing.calendar import load_calendar
from routing.deadlines import CompiledPlan, compile_plan, propagate
from routing.directory import build_directory, load_directory
from routing.plans import builtin_plans, instantiate_plan, load_plan
from routing.policy import load_policy

FULL_TARGET_RATIO = 3.0
INCREMENTAL_TARGET_RATIO = 20.0


def _median_ms(step: Callable[[], object], repeats: int) -> float:
    step()  # warm up (first-call caches, allocator)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _interleaved_ms(steps: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median ms of each step, the steps taking turns within every repeat, so that load from
    other processes hits them alike and their ratios stay stable on a busy machine."""
    for step in steps.values():
        step()  # warm up
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            started = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(ts) * 1000 for name, ts in times.items()}


def baseline_pass(cp: CompiledPlan, allow: tuple[int, ...]) -> list[int]:
    """The reference: one topological pass, max over senders, plain lists of ints."""
    preds = cp.preds
    n = len(cp.nodes)
    ef = [0] * n
    for i in range(n):
        r = 0
        for p in preds[i]:
            v = ef[p]
            if v > r:
                r = v
        ef[i] = r + 1 + allow[i]
    return ef


def main(repeats: int = 41) -> dict[str, float]:
    started = time.perf_counter()
    directory = build_directory()
    directory_s = time.perf_counter() - started
    load_directory()  # warm the shared cache for the rest
    calendar, policy = load_calendar(), load_policy()
    plan = load_plan(builtin_plans()["bcp-2020"])

    started = time.perf_counter()
    graph = instantiate_plan(plan, directory)
    instantiate_s = time.perf_counter() - started
    started = time.perf_counter()
    cp = compile_plan(graph)
    compile_s = time.perf_counter() - started
    schedule = propagate(cp, calendar, policy)

    # Memory of a second, identical circular, with the shared directory/calendar already loaded.
    tracemalloc.start()
    other = instantiate_plan(plan, directory)
    propagate(compile_plan(other), calendar, policy)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del other

    allow, _ = cp.allowances(policy)
    medians = _interleaved_ms(
        {
            "baseline": lambda: baseline_pass(cp, allow),
            "full": lambda: propagate(cp, calendar, policy, reuse_latest=False),
            "warm": lambda: propagate(cp, calendar, policy),
        },
        repeats,
    )
    baseline, full, warm = medians["baseline"], medians["full"], medians["warm"]
    body = next(n for n in cp.nodes if n.startswith("local:sd:"))
    incremental = _median_ms(lambda: schedule.update(body, received=date(2020, 6, 26)), repeats * 5)
    province = _median_ms(lambda: schedule.update("province:54", forwarded=date(2020, 6, 23)), repeats)
    critical = _median_ms(lambda: propagate(cp, calendar, policy).critical_path(), repeats)

    full_ratio = full / baseline
    inc_ratio = full / incremental
    rows = [
        ("nodes / edges", f"{graph.number_of_nodes():,} / {graph.number_of_edges():,}"),
        ("directory build", f"{directory_s * 1000:.0f} ms ({len(directory):,} agencies)"),
        ("plan instantiate", f"{instantiate_s * 1000:.0f} ms"),
        ("compile (once per graph)", f"{compile_s * 1000:.0f} ms"),
        ("baseline topological pass", f"{baseline:.2f} ms"),
        ("full propagation (cold)", f"{full:.2f} ms  = {full_ratio:.2f}x baseline"),
        ("full propagation (latest reused)", f"{warm:.2f} ms  = {warm / baseline:.2f}x baseline"),
        ("propagation + critical path", f"{critical:.2f} ms"),
        ("incremental: one local receipt", f"{incremental:.3f} ms  = full / {inc_ratio:.0f}"),
        ("incremental: a province forwards", f"{province:.3f} ms  = full / {full / province:.0f}"),
        ("peak memory per national circular", f"{peak / 2**20:.1f} MiB (graph + compiled + schedule)"),
    ]
    width = max(len(k) for k, _ in rows)
    print("deadline propagation, bcp-2020 national (stand-in directory)")
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")
    ok_full = full_ratio <= FULL_TARGET_RATIO
    ok_inc = inc_ratio >= INCREMENTAL_TARGET_RATIO
    verdict = {True: "PASS", False: "FAIL"}
    print(
        f"  target full (cold) <= {FULL_TARGET_RATIO:.0f}x baseline: {verdict[ok_full]} ({full_ratio:.2f}x)",
    )
    print(
        f"  target incremental >= {INCREMENTAL_TARGET_RATIO:.0f}x: {verdict[ok_inc]} ({inc_ratio:.0f}x)",
    )
    return {
        "baseline_ms": baseline,
        "full_ms": full,
        "warm_ms": warm,
        "warm_ratio": warm / baseline,
        "incremental_ms": incremental,
        "full_ratio": full_ratio,
        "incremental_ratio": inc_ratio,
        "peak_mib": peak / 2**20,
        "directory_ms": directory_s * 1000,
    }


if __name__ == "__main__":
    main()
