"""How fast deadline propagation runs on one national circular, with and without recorded events.

Graph: the `bcp-2020` plan over the stand-in directory (about 8,400 nodes). Everything below is
measured in one run; times are medians over repeats, and the steps compared with each other take
turns within every repeat (after a warm-up call each), so load from other processes hits them alike.

- **Event densities**: 0 %, 5 %, 30 % and 100 % of the agencies carry a recorded receipt (and, for
  about two thirds of them, a forwarding date), drawn with a fixed seed around their expected
  dates (5 %: where `propagate` switches from patching the no-event classes to one dense pass).
- **Baseline**: a plain-Python topological pass over precomputed arrays (`Baseline`) that computes
  the same dates from the same input: converts the events (node id -> dates) to working-day
  indices through a precomputed date table, then a backward pass (latest receive and forward of
  every node, min over receivers) and a forward pass (expected forward of every node, min over
  senders, the recorded dates where there are some; a sink's expected receipt, max over senders).
  Its arrays (preds, receivers, allowances, stated deadlines, the date table) are built once,
  outside the timing, as `compile_plan` is for propagation. Its result is checked against
  `propagate`'s, date for date.
- **full**: `propagate(compiled, ..., events, reuse_latest=False)`: both passes, events converted,
  the schedule built. Target: <= 3x the baseline at every density. **warm** reuses the latest
  dates (they depend only on plan, policy and calendar).
- **compile**: `compile_plan` of a fresh copy of the graph, paid once per graph object (cached),
  reported on its own against building the baseline's arrays from the same graph; "first call"
  is compile + full (100 % events), what a new graph costs. For reference, the previous
  baseline (a forward-only pass with no events and no backward pass) is timed too.
- **incremental**: `Schedule.update` after one receipt at a local body (and a province forwarding,
  which moves ~100 agencies), on the schedule of each density. Target: >= 20x faster than full.
  Also a chain of updates at 100 %, to show an update does not grow with the events on record.
- **memory** (tracemalloc, measured apart from the timings): what one more national circular
  holds as a graph, as its compiled plan and as a schedule with 100 % events, and the peak.

Run: `.venv/bin/python -m bench propagation` or `.venv/bin/python bench/bench_propagation.py`.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import networkx as nx

from routing.calendar import WorkingCalendar, load_calendar
from routing.deadlines import Schedule, compile_plan, propagate
from routing.directory import Directory, build_directory, load_directory
from routing.plans import Plan, builtin_plans, instantiate_plan, load_plan
from routing.policy import Policy, load_policy

FULL_TARGET_RATIO = 3.0
INCREMENTAL_TARGET_RATIO = 20.0
DENSITIES = (0.0, 0.05, 0.3, 1.0)
SEED = 20200630

Events = dict[str, tuple[date | None, date | None]]
_BIG = 1 << 40
_HALF = 1 << 39


# ---------------------------------------------------------------- the baseline
@dataclass(frozen=True)
class Baseline:
    """Precomputed arrays for the plain pass, positions in the compiled plan's topological order
    (agencies `[0, na)`, then sinks): senders, constraining receivers, allowance, stated dates."""

    n: int
    na: int
    index: Mapping[str, int]
    preds: tuple[tuple[int, ...], ...]
    down: tuple[tuple[int, ...], ...]
    allow: tuple[int, ...]
    transit: int
    start: int
    stated_receive: tuple[int, ...]
    stated_forward: tuple[int, ...]
    day_index: Mapping[date | None, int]  # every calendar day (and None -> -1)


def build_baseline(
    graph: nx.DiGraph, calendar: WorkingCalendar, policy: Policy, order: Sequence[str] | None = None
) -> Baseline:
    """The baseline's arrays, straight from the graph (as a plain implementation would), in
    `order` if given (a topological order), else networkx's topological sort."""
    order = list(nx.topological_sort(graph)) if order is None else order
    kinds = {(u, v): k for u, v, k in graph.edges(data="kind", default="forward")}
    sink = {v for (u, v), k in kinds.items() if k != "forward"}
    nodes = [v for v in order if v not in sink] + [v for v in order if v in sink]
    index = {v: i for i, v in enumerate(nodes)}
    urgency = graph.graph.get("urgency")
    allow = []
    for v in nodes:
        level = graph.nodes[v].get("level") or "unknown"
        returns = any(kinds[v, c] == "return" for c in graph.succ[v])
        allow.append(policy.preparation(level) if returns else policy.handling(urgency, level))
    stated_r = [_BIG] * len(nodes)
    stated_f = [_BIG] * len(nodes)
    for v, i in index.items():
        if (d := graph.nodes[v].get("deadline_receive")) is not None:
            stated_r[i] = calendar.index_on_or_before(d)
        if (d := graph.nodes[v].get("deadline_forward")) is not None and v not in sink:
            stated_f[i] = calendar.index_on_or_before(d)
    day_index: dict[date | None, int] = {None: -1}
    d = calendar.first
    while d <= calendar.last:
        day_index[d] = calendar.index(d)
        d = date.fromordinal(d.toordinal() + 1)
    start = graph.graph.get("start")
    return Baseline(
        n=len(nodes),
        na=len(nodes) - len(sink),
        index=index,
        preds=tuple(tuple(index[p] for p in graph.pred[v]) for v in nodes),
        down=tuple(tuple(index[c] for c in graph.succ[v] if kinds[v, c] != "copy") for v in nodes),
        allow=tuple(allow),
        transit=policy.transit(urgency),
        start=calendar.index(start) if start is not None else _BIG,
        stated_receive=tuple(stated_r),
        stated_forward=tuple(stated_f),
        day_index=day_index,
    )


def baseline_pass(
    b: Baseline, events: Mapping[str, tuple[date | None, date | None]]
) -> tuple[list[int], ...]:
    """Latest receive, latest forward and expected forward (a sink: receipt) of every position;
    `_BIG` where unknown. One plain loop per pass, ints in lists, no classes, no caches."""
    n, na, t, preds, down, allow = b.n, b.na, b.transit, b.preds, b.down, b.allow
    half, big = _HALF, _BIG
    index, day = b.index, b.day_index
    ar = [-1] * n
    af = [-1] * n
    for node, (received, forwarded) in events.items():
        i = index[node]
        ar[i] = day[received]
        af[i] = day[forwarded]
    # Backward: latest forward = min over receivers of their latest receive - transit.
    lr = list(b.stated_receive)
    lf = lr.copy()  # a sink: latest forward = latest receive
    stated_f = b.stated_forward
    for i in range(na - 1, -1, -1):
        ds = down[i]
        f = stated_f[i]
        if len(ds) == 1:  # most agencies: a single receiver (or return sink)
            v = lr[ds[0]] - t
            if v < f:
                f = v
        else:
            for c in ds:
                v = lr[c] - t
                if v < f:
                    f = v
        if f < half:
            lf[i] = f
            r = f - allow[i]
            if r < lr[i]:
                lr[i] = r
        else:
            lf[i] = big
    # Forward: an agency acts on the first copy, a sink has everything with the last one.
    ef = [big] * n
    start = b.start
    for i in range(na):
        f = af[i]
        if f < 0:
            r = ar[i]
            if r < 0:
                ps = preds[i]
                if len(ps) == 1:
                    m = ef[ps[0]]
                    r = m + t if m < half else big
                elif ps:
                    m = min([ef[p] for p in ps])
                    r = m + t if m < half else big
                else:
                    r = start
            f = r + allow[i] if r < half else big
        ef[i] = f
    for s in range(na, n):
        r = ar[s]
        if r < 0:
            ps = preds[s]
            m = max([ef[p] for p in ps]) if ps else -1
            r = m + t if 0 <= m < half else big
        ef[s] = r
    return lr, lf, ef


def forward_only_pass(b: Baseline) -> list[int]:
    """The previous baseline, for reference only: one forward pass without events (max over
    senders + allowance) and no backward pass, so it computes less than `propagate` does."""
    preds, allow = b.preds, b.allow
    ef = [0] * b.n
    for i in range(b.n):
        r = 0
        for p in preds[i]:
            v = ef[p]
            if v > r:
                r = v
        ef[i] = r + 1 + allow[i]
    return ef


def _check_baseline(b: Baseline, s: Schedule, events: Events) -> None:
    """The baseline computes what `propagate` does: same dates at every node."""
    lr, lf, ef = baseline_pass(b, events)
    cal = s.calendar

    def day(i: int) -> date | None:
        return None if i >= _HALF else cal.day(i)

    for node, i in b.index.items():
        rec = s[node]
        got = (rec.latest_receive, rec.latest_forward, rec.expected_forward)
        want = (day(lr[i]), day(lf[i]), day(ef[i]))
        if got != want:
            raise AssertionError(f"baseline and propagate disagree at {node}: {want} vs {got}")


# ---------------------------------------------------------------- workload
def make_events(s: Schedule, density: float, seed: int = SEED) -> Events:
    """Receipts at `density` of the agencies around their expected receipt (-2..+5 working days),
    two thirds of them also forwarded (0..8 working days later). Deterministic."""
    rng = random.Random(seed)
    cal = s.calendar
    events: Events = {}
    for i, node in enumerate(s.plan.nodes[: s.plan.n_agencies]):
        if rng.random() >= density:
            continue
        expected = s[node].expected_receive or cal.day(cal.index(date(2020, 4, 1)) + i % 40)
        received = cal.add_working_days(expected, rng.randint(-2, 5))
        forwarded = cal.add_working_days(received, rng.randint(0, 8)) if rng.random() < 2 / 3 else None
        events[node] = (received, forwarded)
    return events


def _interleaved_ms(steps: dict[str, Callable[[], object]], repeats: int) -> dict[str, float]:
    """Median ms of each step, the steps taking turns within every repeat."""
    for step in steps.values():
        step()  # warm up (first-call caches, allocator)
    times: dict[str, list[float]] = {name: [] for name in steps}
    for _ in range(repeats):
        for name, step in steps.items():
            started = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(ts) * 1000 for name, ts in times.items()}


def _batched(step: Callable[[], object], batch: int) -> Callable[[], None]:
    """`step` repeated `batch` times (for steps too short to time one by one)."""

    def run() -> None:
        for _ in range(batch):
            step()

    return run


def _chain_ms(s: Schedule, nodes: list[str], when: date) -> float:
    """Mean ms per update over a chain of updates, each on the previous schedule."""
    started = time.perf_counter()
    for node in nodes:
        s = s.update(node, received=when)
    return (time.perf_counter() - started) * 1000 / len(nodes)


def _memory(
    plan: Plan, directory: Directory, calendar: WorkingCalendar, policy: Policy, events: Events
) -> dict[str, float]:
    """MiB held after instantiating a second national circular, compiling it and propagating
    it with `events`, and the peak on the way (tracemalloc; directory and calendar already loaded)."""
    tracemalloc.start()
    graph = instantiate_plan(plan, directory)
    after_graph = tracemalloc.get_traced_memory()[0]
    cp = compile_plan(graph)
    after_compile = tracemalloc.get_traced_memory()[0]
    schedule = propagate(cp, calendar, policy, events)
    after_schedule, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del graph, cp, schedule
    mib = 2**20
    return {
        "graph": after_graph / mib,
        "compiled": (after_compile - after_graph) / mib,
        "schedule": (after_schedule - after_compile) / mib,
        "peak": peak / mib,
    }


def main(repeats: int = 31) -> dict[str, float]:
    started = time.perf_counter()
    directory = build_directory()
    directory_s = time.perf_counter() - started
    load_directory()  # warm the shared cache for the rest
    calendar, policy = load_calendar(), load_policy()
    plan = load_plan(builtin_plans()["bcp-2020"])
    started = time.perf_counter()
    graph = instantiate_plan(plan, directory)
    instantiate_ms = (time.perf_counter() - started) * 1000
    cp = compile_plan(graph)
    plain = propagate(cp, calendar, policy)
    b = build_baseline(graph, calendar, policy, cp.nodes)  # same positions, same memory layout
    workloads = {p: make_events(plain, p) for p in DENSITIES}
    schedules = {p: propagate(cp, calendar, policy, ev) for p, ev in workloads.items()}
    for p, ev in workloads.items():
        _check_baseline(b, schedules[p], ev)

    # One-off, per graph object: compile (propagate's arrays) vs the baseline's arrays.
    # Each call gets a copy of its own (popped: freed once used, not left for the GC to scan).
    fresh = [graph.copy() for _ in range(6)]
    fresh_b = [graph.copy() for _ in range(6)]
    one_off = _interleaved_ms(
        {
            "compile": lambda: compile_plan(fresh.pop()),
            "baseline arrays": lambda: build_baseline(fresh_b.pop(), calendar, policy),
        },
        5,
    )

    body = next(n for n in cp.nodes if n.startswith("local:sd:"))
    steps: dict[str, Callable[[], object]] = {"forward only": lambda: forward_only_pass(b)}
    batch = 50  # updates per timed step: one takes microseconds
    for p in DENSITIES:
        ev, s = workloads[p], schedules[p]
        steps[f"baseline {p}"] = lambda ev=ev: baseline_pass(b, ev)
        steps[f"full {p}"] = lambda ev=ev: propagate(cp, calendar, policy, ev, reuse_latest=False)
        steps[f"warm {p}"] = lambda ev=ev: propagate(cp, calendar, policy, ev)
        steps[f"receipt {p}"] = _batched(lambda s=s: s.update(body, received=date(2020, 6, 26)), batch)
        steps[f"province {p}"] = _batched(lambda s=s: s.update("province:54", forwarded=date(2020, 6, 23)), 5)
    medians = _interleaved_ms(steps, repeats)
    for p in DENSITIES:
        medians[f"receipt {p}"] /= batch
        medians[f"province {p}"] /= 5
    bodies = [n for n in cp.nodes if n.startswith("local:")][:2000]
    chain = statistics.median(_chain_ms(schedules[1.0], bodies, date(2020, 6, 26)) for _ in range(5))
    memory = _memory(plan, directory, calendar, policy, workloads[1.0])

    compile_ms, arrays_ms = one_off["compile"], one_off["baseline arrays"]
    rows = [
        ("nodes / edges", f"{graph.number_of_nodes():,} / {graph.number_of_edges():,}"),
        ("directory build", f"{directory_s * 1000:.0f} ms ({len(directory):,} agencies)"),
        ("plan instantiate", f"{instantiate_ms:.0f} ms"),
        ("compile (once per graph)", f"{compile_ms:.0f} ms  (the baseline's arrays: {arrays_ms:.0f} ms)"),
    ]
    result: dict[str, float] = {"compile_ms": compile_ms, "baseline_arrays_ms": arrays_ms}
    for p in DENSITIES:
        base, full, warm = medians[f"baseline {p}"], medians[f"full {p}"], medians[f"warm {p}"]
        receipt, province = medians[f"receipt {p}"], medians[f"province {p}"]
        tag = f"{p:.0%} events ({len(workloads[p]):,})"
        rows += [
            (f"{tag}: baseline pass", f"{base:.2f} ms"),
            (f"{tag}: full (cold)", f"{full:.2f} ms  = {full / base:.2f}x baseline"),
            (f"{tag}: full (latest reused)", f"{warm:.2f} ms  = {warm / base:.2f}x baseline"),
            (f"{tag}: update, one receipt", f"{receipt * 1000:.1f} us  = full / {full / receipt:.0f}"),
            (
                f"{tag}: update, province forwards",
                f"{province * 1000:.1f} us  = full / {full / province:.0f}",
            ),
        ]
        key = f"{round(p * 100)}"
        result |= {
            f"baseline_ms_{key}": base,
            f"full_ms_{key}": full,
            f"full_ratio_{key}": full / base,
            f"warm_ms_{key}": warm,
            f"incremental_ms_{key}": receipt,
            f"incremental_ratio_{key}": full / receipt,
            f"province_ms_{key}": province,
        }
    rows += [
        ("first call on a new graph (compile + full)", f"{compile_ms + result['full_ms_100']:.0f} ms"),
        ("reference: forward-only pass, no events", f"{medians['forward only']:.2f} ms (previous baseline)"),
        ("chain of 2,000 updates, 100% events", f"{chain * 1000:.1f} us per update"),
        ("memory: national graph", f"{memory['graph']:.1f} MiB"),
        ("memory: + compiled plan", f"{memory['compiled']:.1f} MiB"),
        ("memory: + schedule, 100% events", f"{memory['schedule']:.1f} MiB"),
        ("memory: peak, all three", f"{memory['peak']:.1f} MiB (tracemalloc)"),
    ]
    result |= {
        "forward_only_ms": medians["forward only"],
        "chain_update_ms": chain,
        "peak_mib": memory["peak"],
        "directory_ms": directory_s * 1000,
    }
    width = max(len(k) for k, _ in rows)
    print("deadline propagation, bcp-2020 national (stand-in directory), medians of one run")
    for k, v in rows:
        print(f"  {k:<{width}}  {v}")
    verdict = {True: "PASS", False: "FAIL"}
    worst_full = max(result[f"full_ratio_{round(p * 100)}"] for p in DENSITIES)
    worst_inc = min(result[f"incremental_ratio_{round(p * 100)}"] for p in DENSITIES)
    ok_full, ok_inc = worst_full <= FULL_TARGET_RATIO, worst_inc >= INCREMENTAL_TARGET_RATIO
    print(f"  target full (cold) <= {FULL_TARGET_RATIO:.0f}x baseline at every density: "
          f"{verdict[ok_full]} (worst {worst_full:.2f}x)")  # fmt: skip
    print(f"  target incremental >= {INCREMENTAL_TARGET_RATIO:.0f}x faster than full at every density: "
          f"{verdict[ok_inc]} (worst {worst_inc:.0f}x)")  # fmt: skip
    result["ok"] = float(ok_full and ok_inc)
    return result


if __name__ == "__main__":
    main()
