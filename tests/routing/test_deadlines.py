"""Deadline propagation: invariants on random hierarchies, a reference implementation, the seed story."""

from __future__ import annotations

import copy
import itertools
import math
import random
from datetime import date

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.letters import LEVEL_ORDER, Level, Urgency
from routing.calendar import load_calendar
from routing.deadlines import (
    _SHIFT,
    DeadlineError,
    Schedule,
    Status,
    UnknownNodeError,
    _backward,
    _backward_nodes,
    _blocks,
    _forward,
    _no_events,
    _read_events,
    compile_plan,
    critical_path,
    overdue,
    propagate,
    status,
    whatif,
)
from routing.directory import load_directory
from routing.plans import builtin_plans, instantiate_plan, load_plan
from routing.policy import load_policy

CAL = load_calendar()
POLICY = load_policy()
INF = math.inf


# ---------------------------------------------------------------- reference implementation
def reference(
    g: nx.DiGraph, events: dict[str, tuple[date | None, date | None]]
) -> dict[str, tuple[float, ...]]:
    """The same semantics written plainly over networkx attributes (slow, obviously right)."""
    urgency = g.graph.get("urgency")
    t = POLICY.transit(urgency)

    def kind(u: str, v: str) -> str:
        return str(g.edges[u, v].get("kind", "forward"))

    sinks = {n for n in g if any(kind(p, n) != "forward" for p in g.pred[n])}
    lr: dict[str, float] = {}
    lf: dict[str, float] = {}
    for n in reversed(list(nx.topological_sort(g))):
        a = g.nodes[n]
        stated_r = CAL.index_on_or_before(a["deadline_receive"]) if a.get("deadline_receive") else INF
        if n in sinks:
            lr[n] = lf[n] = stated_r
            continue
        stated_f = CAL.index_on_or_before(a["deadline_forward"]) if a.get("deadline_forward") else INF
        level = Level(a.get("level") or "unknown")
        returns = any(kind(n, c) == "return" for c in g.succ[n])
        allow = POLICY.preparation(level) if returns else POLICY.handling(urgency, level)
        f = min([stated_f] + [lr[c] - t for c in g.succ[n] if kind(n, c) != "copy"])
        lf[n] = f
        lr[n] = min(stated_r, f - allow)
    er: dict[str, float] = {}
    ef: dict[str, float] = {}
    start = CAL.index(g.graph["start"]) if g.graph.get("start") else INF
    for n in nx.topological_sort(g):
        received, forwarded = events.get(n, (None, None))
        if n in sinks:
            arrival = max((ef[p] + t for p in g.pred[n]), default=INF)
            er[n] = ef[n] = CAL.index(received) if received else arrival
            continue
        level = Level(g.nodes[n].get("level") or "unknown")
        returns = any(kind(n, c) == "return" for c in g.succ[n])
        allow = POLICY.preparation(level) if returns else POLICY.handling(urgency, level)
        if received:
            er[n] = CAL.index(received)
        elif g.pred[n]:
            er[n] = min(ef[p] for p in g.pred[n]) + t
        else:
            er[n] = start
        ef[n] = CAL.index(forwarded) if forwarded else er[n] + allow
    return {n: (lr[n], lf[n], er[n], ef[n]) for n in g}


def as_date(i: float) -> date | None:
    return None if i == INF else CAL.day(int(i))


# ---------------------------------------------------------------- random hierarchies
LEVELS = [lvl.value for lvl in LEVEL_ORDER]
DAYS = st.dates(min_value=date(2020, 3, 1), max_value=date(2020, 12, 31))


@st.composite
def hierarchies(draw: st.DrawFn) -> tuple[nx.DiGraph, dict[str, tuple[date | None, date | None]]]:
    n = draw(st.integers(min_value=1, max_value=18))
    g = nx.DiGraph(
        urgency=draw(st.sampled_from([None, *Urgency])),
        start=draw(st.none() | st.dates(min_value=date(2020, 1, 6), max_value=date(2020, 3, 31))),
        plan="random",
    )
    for i in range(n):
        g.add_node(f"a{i}", level=draw(st.sampled_from(LEVELS)), agency_id=f"a{i}", name_th=f"ก{i}")
        if i and draw(st.booleans() | st.just(True)):
            parents = draw(st.lists(st.integers(0, i - 1), min_size=1, max_size=2, unique=True))
            for p in parents:
                g.add_edge(f"a{p}", f"a{i}", kind="forward")
            g.nodes[f"a{i}"]["parent"] = f"a{parents[0]}"
        if draw(st.integers(0, 4)) == 0:
            g.nodes[f"a{i}"]["deadline_" + draw(st.sampled_from(["receive", "forward"]))] = draw(DAYS)
    if draw(st.booleans()):
        g.add_node("s#plans", level="central", agency_id="s", deadline_receive=draw(DAYS))
        g.add_node("s#copies", level="province", agency_id="s")
        for leaf in [v for v in list(g) if not v.startswith("s#") and g.out_degree(v) == 0]:
            if draw(st.booleans()):
                g.add_edge(leaf, "s#plans", kind="return")
                if draw(st.booleans()):
                    g.add_edge(leaf, "s#copies", kind="copy")
    events: dict[str, tuple[date | None, date | None]] = {}
    for v in g:
        if draw(st.integers(0, 3)) == 0:
            received = draw(st.none() | DAYS)
            forwarded = draw(st.none() | DAYS)
            events[v] = (received, forwarded)
    return g, events


def _snapshot(g: nx.DiGraph) -> tuple[object, ...]:
    return (dict(g.graph), list(g.nodes(data=True)), list(g.edges(data=True)))


def _check_against_reference(
    s: Schedule, g: nx.DiGraph, events: dict[str, tuple[date | None, date | None]]
) -> None:
    ref = reference(g, events)
    for n in g:
        rec = s[n]
        lr, lf, er, ef = ref[n]
        assert (rec.latest_receive, rec.latest_forward) == (as_date(lr), as_date(lf)), n
        assert (rec.expected_receive, rec.expected_forward) == (as_date(er), as_date(ef)), n


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hierarchies())
def test_propagation_matches_reference_and_invariants(case: tuple[nx.DiGraph, dict]) -> None:  # type: ignore[type-arg]
    g, events = case
    before = copy.deepcopy(_snapshot(g))
    s = propagate(g, CAL, POLICY, events)
    assert _snapshot(g) == before  # the input graph is not mutated
    _check_against_reference(s, g, events)
    # Along every handoff: sender's latest forward <= receiver's latest receive <= receiver's latest forward.
    for u, v, kind in g.edges(data="kind"):
        if kind == "copy":
            continue
        su, sv = s[u], s[v]
        if sv.latest_receive is not None:
            assert su.latest_forward is not None and su.latest_forward <= sv.latest_receive
            # None is "no constraint": a receiver with a stated receipt deadline may have nothing to forward.
            assert sv.latest_forward is None or sv.latest_receive <= sv.latest_forward


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hierarchies(), st.data())
def test_receipt_moves_only_downstream(case: tuple[nx.DiGraph, dict], data: st.DataObject) -> None:  # type: ignore[type-arg]
    g, events = case
    s = propagate(g, CAL, POLICY, events)
    node = data.draw(st.sampled_from(sorted(g)))
    when = data.draw(DAYS)
    field = data.draw(st.sampled_from(["received", "forwarded"]))
    after = s.update(node, **{field: when})
    downstream = nx.descendants(g, node) | {node}
    for n in g:
        a, b = s[n], after[n]
        assert (a.latest_receive, a.latest_forward) == (b.latest_receive, b.latest_forward)
        if n not in downstream:
            assert (a.expected_receive, a.expected_forward) == (b.expected_receive, b.expected_forward), n
    # Incremental equals a full recompute with the event added.
    old = events.get(node, (None, None))
    merged = dict(events)
    merged[node] = (when, old[1]) if field == "received" else (old[0], when)
    _check_against_reference(after, g, merged)
    full = propagate(g, CAL, POLICY, merged)
    assert (after._ef_all(), after._agg, after._cnt) == (full._ef_all(), full._agg, full._cnt)
    assert s[node] != after[node] or getattr(s[node], f"actual_{field}") == when


def test_update_chain_equals_full() -> None:
    g = instantiate_plan(load_plan(builtin_plans()["bcp-2020"]), load_directory(), provinces=["54", "21"])
    steps = [
        ("province:54", None, date(2020, 6, 23)),
        ("local:sd:540101", date(2020, 6, 29), None),
        ("local:sd:540101", None, date(2020, 6, 29)),
        ("local:sd:540101", None, date(2020, 6, 26)),
        ("district:2101", date(2020, 6, 5), date(2020, 6, 8)),
    ]
    s = propagate(g, CAL, POLICY)
    events: dict[str, tuple[date | None, date | None]] = {}
    for node, received, forwarded in steps:
        s = s.update(node, received=received, forwarded=forwarded)
        old = events.get(node, (None, None))
        events[node] = (received or old[0], forwarded or old[1])
        _check_against_reference(s, g, events)


def test_bulk_dates_say_what_each_node_says() -> None:
    """`Schedule.dates` (planning reads a national route through it) agrees with `schedule[node]`
    on every node, sinks included, before and after events, full propagation and updates."""
    g = instantiate_plan(load_plan(builtin_plans()["bcp-2020"]), load_directory(), provinces=["54", "21"])
    events = {
        "province:54": (date(2020, 5, 15), date(2020, 6, 23)),
        "district:2101": (date(2020, 6, 5), None),
    }
    schedules = [propagate(g, CAL, POLICY), propagate(g, CAL, POLICY, events)]
    schedules.append(schedules[1].update("local:sd:540101", received=date(2020, 6, 29)))
    for s in schedules:
        dates = s.dates()
        assert list(dates) == list(s)
        for node, d in dates.items():
            n = s[node]
            assert d == (n.name_th, n.level, n.sender, n.latest_receive, n.latest_forward,
                         n.expected_forward, n.actual_received, n.actual_forwarded), node  # fmt: skip
    assert schedules[1].dates()["province:54"].actual_forwarded == date(2020, 6, 23)
    assert schedules[2].dates()["local:sd:540101"].actual_received == date(2020, 6, 29)
    assert schedules[0].dates()["local:sd:540101"].actual_received is None
    # A view, but a mapping all the same: an unknown node is missing, not an error of its own.
    assert "province:10" not in schedules[0].dates() and len(schedules[0].dates()) == len(schedules[0])
    with pytest.raises(KeyError, match="province:10"):
        schedules[0].dates()["province:10"]


# ---------------------------------------------------------------- classes and runs agree
@st.composite
def layered(draw: st.DrawFn) -> tuple[nx.DiGraph, dict[str, tuple[date | None, date | None]]]:
    """National-circular shaped: layers of siblings with the same level and senders (so the
    per-class passes really merge nodes), a few second senders, stated deadlines and events."""
    g = nx.DiGraph(
        urgency=draw(st.sampled_from([None, *Urgency])),
        start=draw(st.none() | st.dates(min_value=date(2020, 1, 6), max_value=date(2020, 3, 31))),
        plan="layered",
    )
    roots = ["r0", "r1"] if draw(st.booleans()) else ["r0"]
    for r in roots:
        g.add_node(r, level=LEVELS[0], agency_id=r, name_th=r)
    layers = [roots]
    for depth in range(1, draw(st.integers(1, 4)) + 1):
        layer: list[str] = []
        for parent in layers[-1]:
            for j in range(draw(st.integers(0, 3))):
                v = f"{parent}.{j}"
                level = LEVELS[min(depth, len(LEVELS) - 1)]
                if draw(st.integers(0, 5)) == 0:
                    level = draw(st.sampled_from(LEVELS))
                g.add_node(v, level=level, agency_id=v, name_th=v, parent=parent)
                g.add_edge(parent, v, kind="forward")
                other = draw(st.sampled_from(layers[-1]))
                if other != parent and draw(st.integers(0, 5)) == 0:
                    g.add_edge(other, v, kind="forward")
                layer.append(v)
        if not layer:
            break
        layers.append(layer)
    for v in list(g):
        if draw(st.integers(0, 9)) == 0:
            g.nodes[v]["deadline_" + draw(st.sampled_from(["receive", "forward"]))] = draw(DAYS)
    g.add_node("s#plans", level="central", agency_id="s", deadline_receive=draw(DAYS))
    g.add_node("s#copies", level="province", agency_id="s")
    for leaf in [v for v in list(g) if not v.startswith("s#") and g.out_degree(v) == 0]:
        if draw(st.integers(0, 4)):
            g.add_edge(leaf, "s#plans", kind="return")
            if draw(st.booleans()):
                g.add_edge(leaf, "s#copies", kind="copy")
    events: dict[str, tuple[date | None, date | None]] = {}
    rate = draw(st.sampled_from([-1, 0, 1, 3, 12]))  # none, every node, half, many, few
    for v in g:
        if rate >= 0 and draw(st.integers(0, rate)) == 0:
            events[v] = (draw(st.none() | DAYS), draw(st.none() | DAYS))
    return g, events


def _check_passes_agree(g: nx.DiGraph, events: dict[str, tuple[date | None, date | None]]) -> None:
    s = propagate(g, CAL, POLICY, events)
    cp = s.plan
    allow, t = cp.allowances(POLICY)
    assert _backward(cp, CAL, allow, t) == _backward_nodes(cp, CAL, allow, t)
    if events:
        ev, pinned = _read_events(cp, CAL, events, allow)
        evb = _blocks(ev)
    else:
        evb, pinned = _no_events(len(cp)), {}
    assert s._ev_all() == [e for b in evb for e in b]
    assert s.events == {n: (r, f) for n, (r, f) in events.items()}
    steps = cp._allowances(POLICY)[2]
    days = cp._day_index(CAL)
    dense = _forward(cp, evb, days, pinned, allow, t, s._start, steps, "dense")
    sparse = _forward(cp, evb, days, pinned, allow, t, s._start, steps, "sparse")
    assert dense == sparse
    ef, agg, cnt = dense
    assert (ef, agg, cnt) == (s._ef_all(), s._agg, s._cnt)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layered())
def test_layered_matches_reference_and_passes_agree(case: tuple[nx.DiGraph, dict]) -> None:  # type: ignore[type-arg]
    g, events = case
    _check_against_reference(propagate(g, CAL, POLICY, events), g, events)
    _check_passes_agree(g, events)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hierarchies())
def test_passes_agree_on_random_hierarchies(case: tuple[nx.DiGraph, dict]) -> None:  # type: ignore[type-arg]
    _check_passes_agree(*case)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layered(), st.data())
def test_update_chains_equal_full_and_leave_parents(
    case: tuple[nx.DiGraph, dict], data: st.DataObject
) -> None:  # type: ignore[type-arg]
    """Updates keep their changes as a delta over the parent's dates (merged past a size):
    every schedule of a chain must equal a full propagation of its events, before and after
    later updates."""
    g, events = case
    chain = [(propagate(g, CAL, POLICY, events), dict(events))]
    for _ in range(data.draw(st.integers(1, 8))):
        node = data.draw(st.sampled_from(sorted(g)))
        when = data.draw(DAYS)
        field = data.draw(st.sampled_from(["received", "forwarded"]))
        s, evs = chain[-1]
        old = evs.get(node, (None, None))
        merged = dict(evs)
        merged[node] = (when, old[1]) if field == "received" else (old[0], when)
        chain.append((s.update(node, **{field: when}), merged))
    for s, evs in chain:
        full = propagate(g, CAL, POLICY, evs)
        assert (s._ef_all(), s._agg, s._cnt) == (full._ef_all(), full._agg, full._cnt)
        assert list(s.records()) == list(full.records())
    _check_against_reference(chain[-1][0], g, chain[-1][1])


def test_classes_merge_siblings_of_a_plan() -> None:
    g = instantiate_plan(load_plan(builtin_plans()["bcp-2020"]), load_directory(), provinces=["54", "21"])
    cp = compile_plan(g)
    bodies = [cp.index[n] for n in g if n.startswith("local:sd:")]  # under a district
    districts = [cp.index[n] for n in g if n.startswith("district:")]
    assert len(bodies) > 50 and len(districts) > 5
    for cls in (cp.back_class, cp.fwd_class):
        assert len({cls[i] for i in bodies}) == 1  # every such local body: one class
        assert len({cls[i] for i in districts}) == 1
    # A provincial local body (local:pao:) hears from the province, yet its latest dates are the same.
    assert len({cp.back_class[cp.index[n]] for n in g if n.startswith("local:")}) == 1
    assert len(cp.back_rep) < 20 and len(cp.fwd_rep) < 20
    # Classes come after the classes they read from.
    assert all(all(d < c for d in ds) for c, ds in enumerate(cp.back_down))
    assert all(all(p < c for p in ps) for c, ps in enumerate(cp.fwd_preds))
    # Story events, some only at leaves: both ways of the forward pass, and the reference.
    events = {
        "province:21": (date(2020, 6, 2), None),
        "local:sd:540101": (date(2020, 6, 29), date(2020, 7, 3)),
        "opdc#plans": (date(2020, 7, 10), None),
    }
    _check_passes_agree(g, events)
    _check_against_reference(propagate(g, CAL, POLICY, events), g, events)


# ---------------------------------------------------------------- dense events, long update chains
def _with(
    events: dict[str, tuple[date | None, date | None]], node: str, field: str, when: date
) -> dict[str, tuple[date | None, date | None]]:
    """`events` with `node`'s receipt or forwarding set to `when` (what `Schedule.update` records)."""
    old = events.get(node, (None, None))
    merged = dict(events)
    merged[node] = (when, old[1]) if field == "received" else (old[0], when)
    return merged


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(layered(), st.data())
def test_many_updates_at_high_density_equal_full(case: tuple[nx.DiGraph, dict], data: st.DataObject) -> None:  # type: ignore[type-arg]
    """Events at most agencies (the dense pass), then a long chain of updates (blocks shared and
    copied on write), with branches: every schedule equals a full propagation of its events."""
    g, _ = case
    nodes = sorted(g)
    events = {
        v: (data.draw(st.none() | DAYS), data.draw(st.none() | DAYS))
        for v in nodes
        if data.draw(st.integers(0, 4))
    }
    s = propagate(g, CAL, POLICY, events)
    chain = [(s, events)]
    for _ in range(data.draw(st.integers(10, 40))):
        k = data.draw(st.integers(0, len(chain) - 1))  # mostly the last, sometimes an older one: a branch
        parent, evs = chain[-1] if data.draw(st.integers(0, 3)) else chain[k]
        node, when = data.draw(st.sampled_from(nodes)), data.draw(DAYS)
        field = data.draw(st.sampled_from(["received", "forwarded"]))
        chain.append((parent.update(node, **{field: when}), _with(evs, node, field, when)))
    for s, evs in chain:
        full = propagate(g, CAL, POLICY, evs)
        assert (s._ef_all(), s._agg, s._cnt) == (full._ef_all(), full._agg, full._cnt)
        assert s.events == full.events == evs
    _check_against_reference(chain[-1][0], g, chain[-1][1])


def _story_events(cp_nodes: list[str], rate: float, seed: int) -> dict[str, tuple[date | None, date | None]]:
    rng = random.Random(seed)
    days = [CAL.day(CAL.index(date(2020, 4, 1)) + k) for k in range(60)]
    events: dict[str, tuple[date | None, date | None]] = {}
    for n in cp_nodes:
        if rng.random() < rate:
            received = rng.choice(days)
            events[n] = (
                received,
                CAL.add_working_days(received, rng.randint(0, 6)) if rng.random() < 0.6 else None,
            )
    return events


def test_update_chain_at_every_agency_shares_blocks_and_equals_full() -> None:
    g = instantiate_plan(load_plan(builtin_plans()["bcp-2020"]), load_directory(), provinces=["54", "21"])
    cp = compile_plan(g)
    events = _story_events(list(cp.nodes[: cp.n_agencies]), 1.0, 7)
    s = propagate(g, CAL, POLICY, events)
    assert len(s.events) == cp.n_agencies
    rng = random.Random(11)
    bodies = [n for n in cp.nodes if n.startswith("local:")]
    for step in range(300):
        node = rng.choice(bodies if step % 5 else list(cp.nodes))
        field = rng.choice(["received", "forwarded"])
        when = CAL.day(CAL.index(date(2020, 5, 1)) + rng.randint(0, 50))
        after = s.update(node, **{field: when})
        events = _with(events, node, field, when)
        i = cp.index[node]
        if node.startswith("local:"):
            # A leaf writes one event block and at most its own and its sinks' expected blocks.
            assert sum(a is not b for a, b in zip(after._evb, s._evb, strict=True)) == 1
            assert sum(a is not b for a, b in zip(after._efb, s._efb, strict=True)) <= 3
            assert after._evb[i >> _SHIFT] is not s._evb[i >> _SHIFT]
        s = after
        if step % 50 == 0:
            full = propagate(g, CAL, POLICY, events)
            assert (s._ef_all(), s._agg, s._cnt) == (full._ef_all(), full._agg, full._cnt)
    _check_against_reference(s, g, events)


def test_dates_met_in_later_calls_are_indexed() -> None:
    """The compiled plan keeps a date -> index table across calls: a later call's new dates,
    received alongside a known forwarding date, must still be indexed."""
    g = instantiate_plan(load_plan(builtin_plans()["bcp-2020"]), load_directory(), provinces=["54"])
    first = {"province:54": (None, date(2020, 6, 23))}
    propagate(g, CAL, POLICY, first)
    second = {"province:54": (date(2020, 6, 1), date(2020, 6, 23))}
    s = propagate(g, CAL, POLICY, second)
    _check_against_reference(s, g, second)
    assert s["province:54"].expected_receive == date(2020, 6, 1)
    # Events given as lists are kept as tuples (the schedule must not share a mutable event).
    listed = {"province:54": [date(2020, 6, 2), None]}
    kept = propagate(g, CAL, POLICY, listed)  # type: ignore[arg-type]
    listed["province:54"][0] = date(2020, 6, 3)
    assert kept.events == {"province:54": (date(2020, 6, 2), None)}
    assert kept["province:54"].actual_received == date(2020, 6, 2)


# ---------------------------------------------------------------- the seed story
@pytest.fixture(scope="module")
def story() -> tuple[nx.DiGraph, Schedule]:
    g = instantiate_plan(load_plan(builtin_plans()["bcp-2020"]), load_directory(), provinces=["54", "21"])
    events = {
        "dla": (None, date(2020, 5, 14)),  # DLA's circular of 14 May 2020
        "moi": (date(2020, 5, 29), date(2020, 6, 1)),  # Interior passes OPDC's letter on
        "province:21": (date(2020, 6, 2), None),  # Rayong's receipt stamp
        "province:54": (None, date(2020, 6, 23)),  # Phrae to its districts
    }
    return g, propagate(g, CAL, POLICY, events)


def test_story_phrae_late_rayong_on_time(story: tuple[nx.DiGraph, Schedule]) -> None:
    _, s = story
    phrae = s["province:54"]
    assert phrae.actual_forwarded is not None and phrae.latest_forward is not None
    assert phrae.actual_forwarded > phrae.latest_forward
    assert status(s, "province:54", date(2020, 6, 23)) is Status.LATE
    # Interior forwarded within a working day of receiving, in time.
    assert CAL.working_days_between(date(2020, 5, 29), date(2020, 6, 1)) <= 1
    assert status(s, "moi", date(2020, 6, 1)) is Status.ON_TIME
    assert status(s, "province:21", date(2020, 6, 2), duty="receive") is Status.ON_TIME
    assert status(s, "province:21", date(2020, 6, 2)) is Status.PENDING
    assert s["province:21"].latest_receive is not None and s["province:21"].latest_receive >= date(2020, 6, 2)


def test_story_local_margin_to_30_june(story: tuple[nx.DiGraph, Schedule]) -> None:
    _, s = story
    t = POLICY.transit(Urgency.MOST_URGENT)
    deadline = date(2020, 6, 30)
    assert s["opdc#plans"].latest_receive == deadline
    body = s["local:sd:540101"]
    # A local body must send its plan one transit before 30 June and start a preparation before that.
    assert body.latest_forward == CAL.add_working_days(deadline, -t)
    assert body.latest_receive == CAL.add_working_days(body.latest_forward, -POLICY.preparation(Level.LOCAL))
    # From Phrae's forward on 23 June: district transit + handling + transit, then preparation.
    handling = POLICY.handling(Urgency.MOST_URGENT, Level.DISTRICT)
    assert body.expected_receive == CAL.add_working_days(date(2020, 6, 23), 2 * t + handling)
    assert body.slack == CAL.working_days_between(body.expected_forward, body.latest_forward)  # type: ignore[arg-type]
    assert body.slack is not None and body.slack < 0
    # Only a few working days were left between Phrae's forward and the deadline.
    assert CAL.working_days_between(date(2020, 6, 23), deadline) < POLICY.preparation(Level.LOCAL)
    # Rayong, which received on 2 June, leaves its local bodies a non-negative margin.
    rayong_body = s["local:sd:210101"]
    assert rayong_body.slack is not None and rayong_body.slack >= 0
    assert s["opdc#plans"].slack is not None and s["opdc#plans"].slack < 0


def test_story_overdue_and_escalation(story: tuple[nx.DiGraph, Schedule]) -> None:
    _, s = story
    items = {i.node: i for i in overdue(s, date(2020, 6, 24))}
    phrae = items["province:54"]
    assert (phrae.status, phrae.duty, phrae.escalate_to, phrae.done) == (
        Status.LATE, "forward", "moi", date(2020, 6, 23),
    )  # fmt: skip
    assert phrae.days_over == CAL.working_days_between(phrae.due, date(2020, 6, 23))
    district = items["district:5401"]
    assert (district.status, district.escalate_to, district.done) == (Status.OVERDUE, "province:54", None)
    assert "moi" not in items and "dla" not in items
    assert all(i.days_over > 0 for i in items.values())
    assert [i.days_over for i in overdue(s, date(2020, 6, 24))] == sorted(
        (i.days_over for i in items.values()), reverse=True
    )


def test_story_critical_path_and_whatif(story: tuple[nx.DiGraph, Schedule]) -> None:
    g, s = story
    path = critical_path(s)
    assert path[0] == "cabinet" and path[-1] == "opdc#plans"
    assert "province:54" in path
    assert all(g.has_edge(u, v) for u, v in itertools.pairwise(path))
    assert s["province:54"].critical and not s["province:21"].critical
    base = propagate(g, CAL, POLICY, {k: v for k, v in s.events.items() if k != "province:54"})
    on_time = whatif(base, "province:54", s["province:54"].latest_forward)  # type: ignore[arg-type]
    late = whatif(base, "province:54", date(2020, 6, 23))
    phrae_bodies = {n for n in g.successors("district:5401")}
    assert phrae_bodies <= set(on_time.makes)
    assert phrae_bodies <= set(late.misses)
    assert "local:sd:210101" not in late.makes + late.misses  # not downstream of Phrae
    with pytest.raises(DeadlineError):
        whatif(g, "province:54", date(2020, 6, 10))
    assert whatif(g, "province:54", date(2020, 6, 10), calendar=CAL, policy=POLICY).misses == ()


def test_errors() -> None:
    g = nx.DiGraph([("a", "b")])
    with pytest.raises(UnknownNodeError):
        propagate(g, CAL, POLICY, {"zz": (None, None)})
    with pytest.raises(UnknownNodeError):
        propagate(g, CAL, POLICY).update("zz", received=date(2020, 1, 6))
    bad = nx.DiGraph()
    bad.add_edge("a", "b", kind="sideways")
    with pytest.raises(DeadlineError, match="sideways"):
        propagate(bad, CAL, POLICY)
    sink_sends = nx.DiGraph()
    sink_sends.add_edge("a", "s#x", kind="return")
    sink_sends.add_edge("s#x", "b")
    with pytest.raises(DeadlineError, match="cannot send"):
        propagate(sink_sends, CAL, POLICY)
    # A cycle, with or without a root above it (the root's preorder cannot reach it).
    for edges in ([("a", "b"), ("b", "a")], [("r", "a"), ("a", "b"), ("b", "c"), ("c", "a")], [("a", "a")]):
        with pytest.raises(DeadlineError, match="cycle"):
            propagate(nx.DiGraph(edges), CAL, POLICY)
