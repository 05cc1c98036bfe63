"""Deadline propagation over an instantiated plan graph (กำหนดเวลาการส่งต่อหนังสือเวียน).

Two passes over the DAG of handoffs (see `routing.plans`):

- **backward**, from every stated deadline: the latest date each agency may receive the circular
  and the latest date it may forward it (or send its result back), in working days, with the
  policy's handling allowance per urgency and level, its transit days per hop and, for agencies
  that send something back, their preparation days;
- **forward**, from what has actually happened (`events`: node -> (received, forwarded)): the
  expected receive and forward dates if every agency still to act takes its full allowance.

Slack is `latest - expected` in working days (negative: the deadline will be missed); the
critical path is the chain of binding handoffs through the node of least slack.

Semantics on the graph: an agency with several senders acts on the first copy that arrives
(expected receive = earliest sender + transit); a sink (`opdc#plans`) has everything when the last
return arrives (latest sender + transit). Every sender must meet every receiver's latest date.
Copy edges carry no deadline. The graph is compiled once (`compile_plan`, cached per graph) into
integer arrays; passes run over plain lists of working-day indices. The backward pass, and the
forward pass without events, take one step per class of nodes that must get equal dates (all
local bodies of a national circular are one class). With events, the forward pass patches the
ranges downstream of a few events, or, with many, goes once over the agencies that forward to
others and computes every leaf (the local bodies) at once in C. A `Schedule` keeps its
per-node arrays in blocks shared with the schedules it was updated from, and `Schedule.update`
recomputes only the range downstream of its node and copies only the blocks it writes.

Examples:
    >>> from datetime import date
    >>> from routing.calendar import load_calendar
    >>> from routing.directory import load_directory
    >>> from routing.plans import builtin_plans, instantiate_plan, load_plan
    >>> from routing.policy import load_policy
    >>> g = instantiate_plan(load_plan(builtin_plans()["bcp-2020"]), load_directory(), provinces=["54"])
    >>> s = propagate(g, load_calendar(), load_policy(), {"province:54": (None, date(2020, 6, 23))})
    >>> s["province:54"].latest_forward, s["province:54"].slack
    (datetime.date(2020, 6, 10), -9)
    >>> status(s, "province:54", date(2020, 6, 24))
    <Status.LATE: 'late'>
"""

from __future__ import annotations

import weakref
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from itertools import chain, compress, groupby
from operator import add, itemgetter
from typing import Any, Literal, NamedTuple, TypeVar

import networkx as nx

from models.letters import Level, Urgency
from routing.calendar import WorkingCalendar
from routing.plans import PerGraph, per_graph
from routing.policy import Policy

# "No constraint" / "not known" as an int, so passes need no None checks: min() ignores it,
# max() propagates it, and anything >= _HALF reads back as None.
_BIG = 1 << 40
_HALF = 1 << 39
# Events whose downstream ranges cover at most 1/_SPARSE of the agencies are applied like updates
# over the no-event classes; more, and one dense pass is cheaper (measured: even at a quarter).
_SPARSE = 4
# Per-position arrays of a schedule are kept in blocks of 2**_SHIFT, shared between schedules:
# an update copies the list of blocks and the blocks it writes, nothing of size n.
_SHIFT = 6
_WIDTH = 1 << _SHIFT
_MASK = _WIDTH - 1

Duty = Literal["receive", "forward"]
Event = tuple[date | None, date | None]
Gather = Callable[[Sequence[int]], Sequence[int]]
_T = TypeVar("_T")


class DeadlineError(ValueError):
    """The graph cannot be scheduled (bad edge kind, a sink that sends, a cycle...)."""


class UnknownNodeError(DeadlineError, KeyError):
    """A node id that is not in the plan graph."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class Status(StrEnum):
    """Where a node stands as of a date."""

    ON_TIME = "on_time"  # done by its latest date
    LATE = "late"  # done after its latest date
    OVERDUE = "overdue"  # not done, and the latest date has passed
    PENDING = "pending"  # not done, not yet due


@dataclass(frozen=True, eq=False)
class CompiledPlan:
    """A plan graph as integer arrays; positions `[0, n_agencies)` are agencies in topological
    order (a DFS preorder of the primary-sender tree whenever that is topological, so a subtree is
    a contiguous range), positions `[n_agencies, n)` are sinks.

    `preds[i]`: forward senders of agency i, or return/copy senders of sink i. `down[i]`: forward
    receivers and return sinks of agency i (the handoffs that constrain it). `copies[i]`: its copy
    sinks. `child_ptr`/`child_idx`: `down` + copies as CSR arrays. `reach_end[i]`: one past the
    last position reachable from i by forward edges, so `range(i, reach_end[i])` covers every
    agency downstream of i.

    For the dense forward pass: `leaves`, agencies with one sender and no agency among their
    receivers (a national circular's local bodies, whose values feed only sinks); `general`,
    every other agency as (position, senders), in order. Gathers (`itemgetter`, a loop in C):
    `leaf_senders` the leaves' senders' values, `leaf_merge` the n positions out of
    `values + leaf values` (cheaper than writing 7,300 leaves back one by one), and
    `sink_gather[s - n_agencies]` the values of sink s's senders.

    Classes (`back_class`, `fwd_class`) merge positions whose dates are equal whenever no event
    is recorded: same level and return duty, and receivers (backward) or senders (forward) drawn
    from the same classes, and no stated deadline (backward). A national circular's ~8,300
    agencies fall into about ten classes (its ~7,300 local bodies into one or two), so a pass
    computes one value per class, in class order, and expands the values to positions in C
    (`back_expand`, `fwd_expand`: an `itemgetter` over the class of each position).
    `back_class[i]` / `fwd_class[i]`: the class of position i (sinks: one extra forward class that
    stays `_BIG`). Per class: `*_rep` a representative position, `back_down` / `fwd_preds` the
    receiver or sender classes. `sink_senders[s - n_agencies]`: (forward class, number of senders)
    of sink s.
    """

    plan: str
    nodes: tuple[str, ...]
    index: Mapping[str, int]
    n_agencies: int
    agency_ids: tuple[str, ...]
    names: tuple[str, ...]
    levels: tuple[Level, ...]
    sender: tuple[int, ...]
    preds: tuple[tuple[int, ...], ...]
    down: tuple[tuple[int, ...], ...]
    copies: tuple[tuple[int, ...], ...]
    sinks_of: tuple[tuple[int, ...], ...]
    returns: tuple[bool, ...]
    reach_end: tuple[int, ...]
    general: tuple[tuple[int, tuple[int, ...]], ...]
    leaves: tuple[int, ...]
    leaf_senders: Gather = field(repr=False)
    leaf_merge: Gather = field(repr=False)
    sink_gather: tuple[Gather, ...] = field(repr=False)
    back_class: tuple[int, ...]
    back_rep: tuple[int, ...]
    back_down: tuple[tuple[int, ...], ...]
    fwd_class: tuple[int, ...]
    fwd_rep: tuple[int, ...]
    fwd_preds: tuple[tuple[int, ...], ...]
    sink_senders: tuple[tuple[tuple[int, int], ...], ...]
    back_expand: Callable[[list[int]], list[int]] = field(repr=False)
    fwd_expand: Callable[[list[int]], list[int]] = field(repr=False)
    child_ptr: tuple[int, ...]
    child_idx: tuple[int, ...]
    deadline_receive: tuple[tuple[int, date], ...]
    deadline_forward: tuple[tuple[int, date], ...]
    urgency: Urgency | None
    start: date | None
    _per_policy: dict[Policy, tuple[tuple[int, ...], int, tuple[int, ...]]] = field(
        default_factory=dict, repr=False
    )
    _days: dict[WorkingCalendar, dict[date | None, int]] = field(default_factory=dict, repr=False)
    _latest: dict[tuple[Policy, WorkingCalendar], tuple[list[int], list[int]]] = field(
        default_factory=dict, repr=False
    )

    def __len__(self) -> int:
        return len(self.nodes)

    def allowances(self, policy: Policy) -> tuple[tuple[int, ...], int]:
        """(working days each agency may hold the circular, transit days per hop) under `policy`."""
        allow, t, _ = self._allowances(policy)
        return allow, t

    def _allowances(self, policy: Policy) -> tuple[tuple[int, ...], int, tuple[int, ...]]:
        """`allowances`, plus transit + allowance of each leaf (what a leaf adds to its sender)."""
        got = self._per_policy.get(policy)
        if got is None:
            by_level: dict[tuple[Level, bool], int] = {}
            allow: list[int] = []
            for level, ret in zip(self.levels, self.returns, strict=True):
                key = (level, ret)
                if key not in by_level:
                    by_level[key] = policy.preparation(level) if ret else policy.handling(self.urgency, level)
                allow.append(by_level[key])
            t = policy.transit(self.urgency)
            got = (tuple(allow), t, tuple(t + allow[i] for i in self.leaves))
            self._per_policy[policy] = got
        return got

    def _day_index(self, calendar: WorkingCalendar) -> dict[date | None, int]:
        """Working-day index by date (None: -1), filled as dates are met: a dict lookup costs a
        third of `calendar.index` (a method call and a range check)."""
        days = self._days.get(calendar)
        if days is None:
            days = self._days[calendar] = {None: -1}
        return days


_COMPILED: PerGraph[CompiledPlan] = weakref.WeakKeyDictionary()


def _level(node: str, value: object) -> Level:
    if value is None:
        return Level.UNKNOWN
    try:
        return Level(str(value))
    except ValueError:
        raise DeadlineError(f"node {node!r}: level {value!r} is not a Level") from None


def compile_plan(graph: nx.DiGraph) -> CompiledPlan:
    """Compile a plan graph into integer arrays (cached per graph object while it is unchanged).

    Plan graphs are treated as immutable once instantiated; the cache notices added or removed
    nodes and edges, not changed attributes (compile a copy if you edit attributes).

    >>> g = nx.DiGraph([("a", "b"), ("b", "c")])
    >>> compile_plan(g).nodes
    ('a', 'b', 'c')
    """
    return per_graph(_COMPILED, graph, _compile)


def _classes(
    positions: Iterable[int],
    key: Callable[[int, list[int]], Hashable],
    links: Callable[[int], tuple[int, ...]],
    n: int,
    rest: int = 0,
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[tuple[int, ...], ...]]:
    """Partition `positions` (visited so that `links` come first) into classes of equal `key`.

    Returns (class of each position, a representative per class, linked classes per class).
    Classes are numbered in first-visit order, so each class's linked classes come before it.
    `rest` trailing positions not visited share one extra class (no links).
    """
    cls = [-1] * n
    numbers: dict[Hashable, int] = {}
    reps: list[int] = []
    linked: list[tuple[int, ...]] = []
    for i in positions:
        k = key(i, cls)
        c = numbers.get(k)
        if c is None:
            c = numbers[k] = len(reps)
            reps.append(i)
            linked.append(tuple(sorted({cls[j] for j in links(i)})))
        cls[i] = c
    if rest:
        extra = len(reps)
        cls[n - rest :] = [extra] * rest
    return tuple(cls), tuple(reps), tuple(linked)


def _expander(cls: tuple[int, ...]) -> Callable[[list[int]], list[int]]:
    """`values -> [values[c] for c in cls]`, with the loop in C (`itemgetter` beats `map` 2:1)."""
    if len(cls) < 2:  # itemgetter of one item returns the item, of none is an error
        return lambda values: [values[c] for c in cls]
    get = itemgetter(*cls)
    return lambda values: list(get(values))


def _gather(idx: Sequence[int]) -> Gather:
    """`values -> values at idx` as a sequence, in C when there are two or more."""
    if not idx:
        return lambda values: ()
    if len(idx) == 1:
        k = idx[0]
        return lambda values: (values[k],)
    return itemgetter(*idx)


def _compile(graph: nx.DiGraph) -> CompiledPlan:
    order_hint = {n: k for k, n in enumerate(graph)}
    # Read the graph through its edge and node views, each once (plain dicts and lists from
    # here on: indexing networkx's views node by node costs more than the rest of compiling).
    pred: dict[str, list[str]] = {n: [] for n in graph}
    forwarded: set[str] = set()
    returned: set[str] = set()  # targets of a return or a copy: sinks
    for u, v, k in graph.in_edges(data="kind", default="forward"):  # senders in each pred order
        pred[v].append(u)
        if k == "forward":
            forwarded.add(v)
        elif k in ("return", "copy"):
            returned.add(v)
        else:
            raise DeadlineError(f"edge into {v!r}: kind {k!r} is not forward, return or copy")
    attrs_of: dict[str, dict[str, Any]] = dict(graph.nodes(data=True))
    sinks = [n for n in graph if n in returned]
    for n in sinks:
        if n in forwarded:
            raise DeadlineError(f"node {n!r} receives both the circular and returns; split it into a sink")
        if graph.succ[n]:
            raise DeadlineError(f"sink {n!r} (target of a return or copy) cannot send anything")
    agencies = [n for n in graph if n not in returned]  # an agency's senders all forward to it

    # Primary sender: the directory parent when it sends, else the first sender in plan order.
    primary: dict[str, str | None] = {}
    for n in agencies:
        ps = pred[n]
        parent = attrs_of[n].get("parent")
        primary[n] = parent if parent in ps else (ps[0] if ps else None)
    tree_children: dict[str, list[str]] = {n: [] for n in agencies}
    for n in agencies:
        p = primary[n]
        if p is not None:
            tree_children[p].append(n)
    order: list[str] = []
    for root in agencies:
        if primary[root] is not None:
            continue
        stack = [root]
        while stack:
            n = stack.pop()
            order.append(n)
            stack.extend(reversed(tree_children[n]))
    pos = {n: k for k, n in enumerate(order)}
    topological = len(order) == len(agencies) and all(pos[p] < pos[n] for n in agencies for p in pred[n])
    if not topological:
        # A preorder with every sender first proves the graph acyclic (sinks send nothing);
        # otherwise check before sorting.
        if not nx.is_directed_acyclic_graph(graph):
            cycle = nx.find_cycle(graph)
            raise DeadlineError("the plan graph has a cycle: " + " -> ".join(str(u) for u, _ in cycle))
        sub = graph.subgraph(agencies)
        order = list(nx.lexicographical_topological_sort(sub, key=order_hint.__getitem__))
    nodes = (*order, *sinks)
    index = {n: k for k, n in enumerate(nodes)}
    na = len(order)

    preds = [tuple(map(index.__getitem__, pred[n])) for n in nodes]
    del pred, tree_children, pos  # the peak of compiling a national plan: drop early
    empty: tuple[int, ...] = ()
    down = [empty] * len(nodes)
    copies = [empty] * len(nodes)
    returns = [False] * len(nodes)
    # Out-edges come grouped by sender, in each sender's order (concatenating keeps it right
    # even if a sender came back in another group).
    for u, out in groupby(graph.edges(data="kind", default="forward"), key=itemgetter(0)):
        i = index[u]
        d: list[int] = []
        c: list[int] = []
        for _, t, kind in out:
            if kind == "copy":
                c.append(index[t])
            else:
                d.append(index[t])
                returns[i] = returns[i] or kind == "return"
        down[i] += tuple(d)
        copies[i] += tuple(c)
    sinks_of = [tuple(k for k in (*down[i], *copies[i]) if k >= na) for i in range(len(nodes))]
    reach = list(range(1, len(nodes) + 1))
    for i in range(na - 1, -1, -1):
        end = i + 1
        for c2 in down[i]:
            if c2 < na and reach[c2] > end:
                end = reach[c2]
        reach[i] = end
    child_ptr = [0]
    child_idx: list[int] = []
    for i in range(len(nodes)):
        child_idx.extend(down[i])
        child_idx.extend(copies[i])
        child_ptr.append(len(child_idx))
    levels = tuple(_level(n, attrs_of[n].get("level")) for n in nodes)
    dr = tuple(
        (index[n], attrs_of[n]["deadline_receive"]) for n in nodes if attrs_of[n].get("deadline_receive")
    )
    df = tuple(
        (index[n], attrs_of[n]["deadline_forward"]) for n in nodes if attrs_of[n].get("deadline_forward")
    )
    stated = {i for i, _ in (*dr, *df)}
    back_class, back_rep, back_down = _classes(
        range(len(nodes) - 1, -1, -1),
        lambda i, cls: (
            ("sink",) if i >= na and i not in stated
            else (i,) if i in stated
            else (frozenset(map(cls.__getitem__, down[i])), levels[i], returns[i])
        ),
        lambda i: down[i] if i < na else (),
        len(nodes),
    )  # fmt: skip
    fwd_class, fwd_rep, fwd_linked = _classes(
        range(na),
        lambda i, cls: (frozenset(map(cls.__getitem__, preds[i])), levels[i], returns[i]),
        lambda i: preds[i],
        len(nodes),
        rest=len(nodes) - na,
    )
    sink_senders = tuple(
        tuple(Counter(fwd_class[p] for p in preds[s]).items()) for s in range(na, len(nodes))
    )
    # A leaf's value feeds no agency, only sinks: the dense pass computes all leaves at once.
    leaf = [len(preds[i]) == 1 and all(c >= na for c in down[i]) for i in range(na)]
    leaves = [i for i in range(na) if leaf[i]]
    merge = list(range(len(nodes)))
    for k, i in enumerate(leaves):
        merge[i] = len(nodes) + k
    urgency = graph.graph.get("urgency")
    return CompiledPlan(
        plan=str(graph.graph.get("plan", "")),
        nodes=nodes,
        index=index,
        n_agencies=na,
        agency_ids=tuple(str(attrs_of[n].get("agency_id", n)) for n in nodes),
        names=tuple(str(attrs_of[n].get("name_th", n)) for n in nodes),
        levels=levels,
        sender=tuple(index[p] if (p := primary.get(n)) is not None else -1 for n in nodes),
        preds=tuple(preds),
        down=tuple(down),
        copies=tuple(copies),
        sinks_of=tuple(sinks_of),
        returns=tuple(returns),
        reach_end=tuple(reach),
        general=tuple((i, preds[i]) for i in range(na) if not leaf[i]),
        leaves=tuple(leaves),
        leaf_senders=_gather([preds[i][0] for i in leaves]),
        leaf_merge=_gather(merge),
        sink_gather=tuple(_gather(preds[s]) for s in range(na, len(nodes))),
        back_class=back_class,
        back_rep=back_rep,
        back_down=back_down,
        fwd_class=fwd_class,
        fwd_rep=fwd_rep,
        fwd_preds=fwd_linked,
        sink_senders=sink_senders,
        back_expand=_expander(back_class),
        fwd_expand=_expander(fwd_class),
        child_ptr=tuple(child_ptr),
        child_idx=tuple(child_idx),
        deadline_receive=dr,
        deadline_forward=df,
        urgency=Urgency(urgency) if urgency not in (None, "normal") else None,
        start=graph.graph.get("start"),
    )


@dataclass(frozen=True, slots=True)
class NodeSchedule:
    """One node's dates. For a sink, forward dates equal receive dates (a sink only receives).

    `slack` is in working days: latest forward minus expected (or actual) forward; None when
    either is unknown. `sender` is the node that sends it the circular (its superior for this
    circular), None for the root.
    """

    node: str
    agency_id: str
    name_th: str
    level: Level
    sink: bool
    sender: str | None
    latest_receive: date | None
    latest_forward: date | None
    expected_receive: date | None
    expected_forward: date | None
    actual_received: date | None
    actual_forwarded: date | None
    slack: int | None
    critical: bool


class NodeDates(NamedTuple):
    """One node's dates as `Schedule.dates` reads them in bulk: a `NodeSchedule` without the
    expected receipt, the slack and the critical flag (a plain tuple: cheap to build by the
    thousand, and the cyclic garbage collector stops tracking it)."""

    name_th: str
    level: Level
    sender: str | None
    latest_receive: date | None
    latest_forward: date | None
    expected_forward: date | None
    actual_received: date | None
    actual_forwarded: date | None


class _DatesView(Mapping[str, NodeDates]):
    """`Schedule.dates`: node -> NodeDates, read from the schedule's arrays on each lookup."""

    __slots__ = ("_day", "_ef", "_ev", "_lf", "_lr", "_schedule")

    def __init__(self, schedule: Schedule) -> None:
        self._schedule = schedule
        self._lr, self._lf = schedule._lr, schedule._lf
        self._ef, self._ev = schedule._ef_all(), schedule._ev_all()
        day = schedule.calendar.day
        # A national circular's ~8,400 nodes share a few dozen distinct days: convert each once.
        days = {i: None if i >= _HALF or i < 0 else day(i) for i in {*self._lr, *self._lf, *self._ef}}
        self._day = days.__getitem__

    def __getitem__(self, node: str) -> NodeDates:
        s = self._schedule
        i, cp, day = s._pos(node), s.plan, self._day
        sender = cp.sender[i]
        received, forwarded = self._ev[i] or (None, None)
        return NodeDates(
            cp.names[i], cp.levels[i], cp.nodes[sender] if sender >= 0 else None,
            day(self._lr[i]), day(self._lf[i]), day(self._ef[i]), received, forwarded,
        )  # fmt: skip

    def __iter__(self) -> Iterator[str]:
        return iter(self._schedule.plan.nodes)

    def __len__(self) -> int:
        return len(self._schedule.plan.nodes)


@dataclass(frozen=True, slots=True)
class OverdueItem:
    """A node that missed (`late`) or is missing (`overdue`) its latest date, and whom to chase."""

    node: str
    agency_id: str
    name_th: str
    due: date
    done: date | None
    days_over: int
    status: Status
    escalate_to: str | None
    duty: Duty


def _blocks(values: list[_T]) -> list[list[_T]]:
    """`values` cut into blocks of `_WIDTH` (the last one shorter)."""
    return [values[k : k + _WIDTH] for k in range(0, len(values), _WIDTH)]


def _flat(blocks: list[list[_T]]) -> list[_T]:
    return list(chain.from_iterable(blocks))


def _written(blocks: list[list[_T]], changes: Mapping[int, _T]) -> list[list[_T]]:
    """`blocks` with `changes` (position -> value) written, sharing every block not written to:
    copies the block list (n / 64 references) and the blocks that change."""
    out = blocks.copy()
    fresh: set[int] = set()
    for i, v in changes.items():
        b = i >> _SHIFT
        if b not in fresh:
            out[b] = out[b].copy()
            fresh.add(b)
        out[b][i & _MASK] = v
    return out


def _no_events(n: int) -> list[list[Event | None]]:
    """Blocks of n Nones; the full ones are one list (never written: `_written` copies first)."""
    full: list[Event | None] = [None] * _WIDTH
    rest: list[Event | None] = [None] * (n & _MASK)
    return [full] * (n >> _SHIFT) + ([rest] if rest else [])


def _scatter(target: list[_T], positions: Iterable[int], values: Iterable[_T]) -> None:
    """`target[p] = v` for each pair (a plain loop: 3.11's list store beats `map(__setitem__)`)."""
    for p, v in zip(positions, values, strict=True):
        target[p] = v


class Schedule:
    """Latest and expected dates of every node of one circular; immutable.

    Index by node id (`schedule["province:54"]` -> `NodeSchedule`); `update` returns a new
    schedule after one event, recomputing only what lies downstream of it.
    """

    # Per position: `_lr`, `_lf` latest (plain lists, shared by every schedule of the plan and
    # policy); `_efb` expected forward (a sink: its expected receipt) and `_evb` the recorded
    # (received, forwarded) or None, both in blocks of `_WIDTH` shared with the schedules it was
    # updated from or to, so an update copies only the blocks it writes (`_written`). Expected
    # receipt of an agency is derived from its senders on demand. `_agg`, `_cnt` by sink
    # (position - n_agencies): the latest expected forward among its senders and how many share
    # it. `_ef`, `_ev`: flat copies made once for bulk readers. `_days`: working-day index by
    # date (None: -1) of every date recorded.
    __slots__ = ("_agg", "_allow", "_cnt", "_critical", "_days", "_ef", "_efb", "_ev", "_evb", "_lf",
                 "_lr", "_nevents", "_start", "_t", "calendar", "plan", "policy")  # fmt: skip

    def __init__(
        self,
        plan: CompiledPlan,
        calendar: WorkingCalendar,
        policy: Policy,
        latest: tuple[list[int], list[int]],
        expected: list[list[int]],
        recorded: list[list[Event | None]],
        sinks: tuple[list[int], list[int]],
        nevents: int,
        constants: tuple[tuple[int, ...], int, int],
    ) -> None:
        self.plan, self.calendar, self.policy = plan, calendar, policy
        self._lr, self._lf = latest
        self._efb, self._evb = expected, recorded
        self._agg, self._cnt = sinks
        self._nevents = nevents
        self._allow, self._t, self._start = constants
        self._days = plan._day_index(calendar)
        self._ef: list[int] | None = None
        self._ev: list[Event | None] | None = None
        self._critical: tuple[str, ...] | None = None

    def __repr__(self) -> str:
        return f"<Schedule {self.plan.plan!r}: {len(self.plan)} nodes, {self._nevents} events>"

    def __len__(self) -> int:
        return len(self.plan.nodes)

    def __iter__(self) -> Iterator[str]:
        return iter(self.plan.nodes)

    def __contains__(self, node: object) -> bool:
        return node in self.plan.index

    def _pos(self, node: str) -> int:
        try:
            return self.plan.index[node]
        except KeyError:
            raise UnknownNodeError(f"{node!r} is not a node of plan {self.plan.plan!r}") from None

    def _date(self, i: int) -> date | None:
        return None if i >= _HALF or i < 0 else self.calendar.day(i)

    def _ef_at(self, i: int) -> int:
        return self._efb[i >> _SHIFT][i & _MASK]

    def _ev_at(self, i: int) -> Event | None:
        return self._evb[i >> _SHIFT][i & _MASK]

    def _ef_all(self) -> list[int]:
        """Expected forward of every position (flattened once per schedule; do not modify)."""
        if self._ef is None:
            self._ef = _flat(self._efb)
        return self._ef

    def _ev_all(self) -> list[Event | None]:
        """Recorded event of every position (flattened once per schedule; do not modify)."""
        if self._ev is None:
            self._ev = _flat(self._evb)
        return self._ev

    def _er(self, i: int) -> int:
        """Expected receipt of position i: as recorded, else the first sender's copy arriving."""
        if i >= self.plan.n_agencies:
            return self._ef_at(i)
        e = self._ev_at(i)
        if e is not None and e[0] is not None:
            return self._days[e[0]]
        ps = self.plan.preds[i]
        if not ps:
            return self._start
        r = min(map(self._ef_at, ps))
        return r + self._t if r < _HALF else _BIG

    def _slack(self, i: int, expected: int | None = None) -> int | None:
        latest = self._lr[i] if i >= self.plan.n_agencies else self._lf[i]
        if expected is None:
            expected = self._ef_at(i)
        if latest >= _HALF or expected >= _HALF:
            return None
        return latest - expected

    @property
    def events(self) -> Mapping[str, Event]:
        """The recorded (received, forwarded) dates by node."""
        ev = self._ev_all()
        return dict(zip(compress(self.plan.nodes, ev), filter(None, ev), strict=True))

    def slack(self, node: str) -> int | None:
        """Working days between the expected and the latest forward (receive, for a sink)."""
        return self._slack(self._pos(node))

    def __getitem__(self, node: str) -> NodeSchedule:
        i = self._pos(node)
        cp = self.plan
        sink = i >= cp.n_agencies
        e = self._ev_at(i)
        received, forwarded = e if e is not None else (None, None)
        sender = cp.sender[i]
        return NodeSchedule(
            node=node,
            agency_id=cp.agency_ids[i],
            name_th=cp.names[i],
            level=cp.levels[i],
            sink=sink,
            sender=cp.nodes[sender] if sender >= 0 else None,
            latest_receive=self._date(self._lr[i]),
            latest_forward=self._date(self._lf[i]),
            expected_receive=self._date(self._er(i)),
            expected_forward=self._date(self._ef_at(i)),
            actual_received=received,
            actual_forwarded=forwarded,
            slack=self._slack(i),
            critical=node in self.critical_path(),
        )

    def dates(self) -> Mapping[str, NodeDates]:
        """Every node's dates, by node: what `self[node]` says of each, but for readers of
        thousands of nodes (planning a national route) without one `NodeSchedule` each (~9,000
        of those cost a national plan ~0.1 s). A view: each lookup builds its tuple from the
        schedule's arrays, so a reader that looks each node up once holds none of them for long
        (a dict of ~9,300 tuples, each holding a tracked `Level`, cost a national plan a few
        collections of the garbage collector's older generations)."""
        return _DatesView(self)

    def records(self) -> Iterator[NodeSchedule]:
        """Every node's record, in topological order (sinks last)."""
        for node in self.plan.nodes:
            yield self[node]

    def critical_path(self) -> tuple[str, ...]:
        """See `critical_path`; computed once per schedule."""
        if self._critical is None:
            self._critical = _critical_path(self)
        return self._critical

    def update(self, node: str, *, received: date | None = None, forwarded: date | None = None) -> Schedule:
        """A new schedule with `node`'s receipt and/or forwarding recorded (None: leave as is).

        Latest dates never change; expected dates change only downstream of `node`. Costs the
        agencies downstream of `node` plus a few blocks: nothing grows with the events on record.
        """
        i = self._pos(node)
        cp, cal = self.plan, self.calendar
        na = cp.n_agencies
        old = self._ev_at(i)
        rd, fd = old if old is not None else (None, None)
        days = self._days
        if received is not None:
            rd = received
            days[received] = cal.index(received)
        if forwarded is not None:
            fd = forwarded
            days[forwarded] = cal.index(forwarded)
        evb = _written(self._evb, {i: (rd, fd)})
        agg, cnt = self._agg.copy(), self._cnt.copy()  # one entry per sink (78 nationally)
        delta: dict[int, int] = {}
        if i >= na:
            touched: Iterable[int] = (i,)
        else:
            touched = _forward_range(
                cp,
                evb,
                days,
                self._efb,
                delta,
                agg,
                cnt,
                self._allow,
                self._t,
                i,
                cp.reach_end[i],
                self._start,
            )
        for s in touched:
            delta[s] = _sink_value(evb[s >> _SHIFT][s & _MASK], days, agg[s - na], self._t)
        efb = _written(self._efb, delta) if delta else self._efb
        return Schedule(
            cp,
            cal,
            self.policy,
            (self._lr, self._lf),
            efb,
            evb,
            (agg, cnt),
            self._nevents + (old is None),
            (self._allow, self._t, self._start),
        )


def _backward(
    cp: CompiledPlan, cal: WorkingCalendar, allow: tuple[int, ...], t: int
) -> tuple[list[int], list[int]]:
    """Latest receive/forward of every node: one step per backward class, then expanded."""
    na = cp.n_agencies
    half, big = _HALF, _BIG
    stated_r: dict[int, int] = {}
    stated_f: dict[int, int] = {}
    for i, d in cp.deadline_receive:
        k = cal.index_on_or_before(d)
        if k < stated_r.get(i, big):
            stated_r[i] = k
    for i, d in cp.deadline_forward:
        k = cal.index_on_or_before(d)
        if i < na and k < stated_f.get(i, big):
            stated_f[i] = k
    reps, downs = cp.back_rep, cp.back_down
    lr = [big] * len(reps)
    lf = lr.copy()
    for c, rep in enumerate(reps):
        sr = stated_r.get(rep, big) if stated_r else big
        if rep >= na:
            lr[c] = lf[c] = sr  # a sink: latest forward = latest receive
            continue
        ds = downs[c]
        if len(ds) == 1:
            v = lr[ds[0]] - t
        elif ds:
            v = min(map(lr.__getitem__, ds)) - t
        else:
            v = big
        f = stated_f.get(rep, big) if stated_f else big
        if v < f:
            f = v
        if f >= half:
            lr[c] = sr  # lf stays _BIG
            continue
        lf[c] = f
        r = f - allow[rep]
        lr[c] = r if r < sr else sr
    return cp.back_expand(lr), cp.back_expand(lf)


def _backward_nodes(
    cp: CompiledPlan, cal: WorkingCalendar, allow: tuple[int, ...], t: int
) -> tuple[list[int], list[int]]:
    """`_backward` one node at a time, without classes: the plain statement of the pass."""
    n, na = len(cp.nodes), cp.n_agencies
    lr = [_BIG] * n
    stated_f = [_BIG] * na
    for i, d in cp.deadline_receive:
        lr[i] = min(lr[i], cal.index_on_or_before(d))
    for i, d in cp.deadline_forward:
        if i < na:
            stated_f[i] = min(stated_f[i], cal.index_on_or_before(d))
    lf = lr.copy()
    for i in range(na - 1, -1, -1):
        f = min([stated_f[i], *(lr[c] - t for c in cp.down[i])])
        if f >= _HALF:
            lf[i] = _BIG
            continue
        lf[i] = f
        lr[i] = min(lr[i], f - allow[i])
    return lr, lf


def _forward_classes(
    cp: CompiledPlan, allow: tuple[int, ...], t: int, start: int
) -> tuple[list[int], list[int], list[int]]:
    """Expected forward of every agency and each sink's (latest sender, how many) when no agency
    has an event: one step per forward class, then expanded. Sinks are left `_BIG`."""
    half, big = _HALF, _BIG
    reps, gpreds = cp.fwd_rep, cp.fwd_preds
    ef = [big] * (len(reps) + 1)  # + the sinks' class
    for c, rep in enumerate(reps):
        ps = gpreds[c]
        if len(ps) == 1:
            r = ef[ps[0]]
            r = r + t if r < half else big
        elif ps:
            r = min(map(ef.__getitem__, ps))
            r = r + t if r < half else big
        else:
            r = start
        ef[c] = r + allow[rep] if r < half else big
    ns = len(cp.sink_senders)
    agg, cnt = [-1] * ns, [0] * ns
    for s, senders in enumerate(cp.sink_senders):
        if senders:
            m = max(ef[c] for c, _ in senders)
            agg[s] = m
            cnt[s] = sum(k for c, k in senders if ef[c] == m)
    return cp.fwd_expand(ef), agg, cnt


def _forward_dense(
    cp: CompiledPlan,
    pinned: dict[int, int],
    allow: tuple[int, ...],
    leaf_steps: tuple[int, ...],
    t: int,
    start: int,
) -> list[int]:
    """Expected forward of every agency, with events, in one pass (sinks left `_BIG`).

    `pinned`: the expected forward that events fix (position -> forwarded, else received +
    allowance). The general agencies go one by one; then every leaf at once, in C: its sender's
    value + transit + allowance, then the leaves' pinned values on top (no agency reads a leaf).
    """
    half, big = _HALF, _BIG
    ef = [big] * len(cp.nodes)
    get = pinned.get
    unknown = False
    for i, ps in cp.general:
        f = get(i)
        if f is None:
            if ps:
                r = ef[ps[0]] if len(ps) == 1 else min(map(ef.__getitem__, ps))
                f = r + t + allow[i] if r < half else big
            else:
                f = start + allow[i] if start < half else big
            if f >= half:
                unknown = True
        ef[i] = f
    if not cp.leaves:
        return ef
    values = list(map(add, cp.leaf_senders(ef), leaf_steps))
    if unknown:  # a sender not reached (no start date): nor are its leaves
        values = [v if v < half else big for v in values]
    if pinned:  # a leaf's own event wins: pinned.get(leaf, computed)
        values = list(map(pinned.get, cp.leaves, values))
    return list(cp.leaf_merge(ef + values))


def _sink_counts(cp: CompiledPlan, ef: list[int]) -> tuple[list[int], list[int]]:
    """Each sink's latest expected sender forward (-1: no sender) and how many share it."""
    agg: list[int] = []
    cnt: list[int] = []
    for gather in cp.sink_gather:
        values = gather(ef)
        if values:
            m = max(values)
            agg.append(m)
            cnt.append(values.count(m))
        else:
            agg.append(-1)
            cnt.append(0)
    return agg, cnt


def _forward_range(
    cp: CompiledPlan,
    evb: list[list[Event | None]],
    days: Mapping[date | None, int],
    efb: list[list[int]],
    delta: dict[int, int],
    agg: list[int],
    cnt: list[int],
    allow: tuple[int, ...],
    t: int,
    lo: int,
    hi: int,
    start: int,
) -> set[int]:
    """Recompute agencies in positions [lo, hi), keeping each sink's running maximum (`agg`) and
    how many senders reach it (`cnt`); returns the sinks whose inputs moved.

    Expected forward dates are read as `delta` over `efb` and new ones written to `delta` (`efb`
    is not modified), so an update costs what it changes, not a copy of every node.
    """
    preds, sinks_of, na = cp.preds, cp.sinks_of, cp.n_agencies
    half, big, shift, mask = _HALF, _BIG, _SHIFT, _MASK
    get = delta.get
    touched: set[int] = set()
    for i in range(lo, hi):
        e = evb[i >> shift][i & mask]
        if e is not None and e[1] is not None:
            f = days[e[1]]
        elif e is not None and e[0] is not None:
            f = days[e[0]] + allow[i]
        else:
            ps = preds[i]
            if ps:
                r = big
                for p in ps:
                    v = get(p)
                    if v is None:
                        v = efb[p >> shift][p & mask]
                    if v < r:
                        r = v
                f = r + t + allow[i] if r < half else big
            else:
                f = start + allow[i] if start < half else big
        prev = get(i)
        if prev is None:
            prev = efb[i >> shift][i & mask]
        if f == prev:
            continue
        delta[i] = f
        for s in sinks_of[i]:
            k = s - na
            m = agg[k]
            if f > m:
                agg[k], cnt[k] = f, 1
            elif f == m:
                cnt[k] += 1
            elif prev == m:
                cnt[k] -= 1
                if cnt[k] == 0:
                    agg[k], cnt[k] = _max_count(efb, delta, preds[s])
            touched.add(s)
    return touched


def _max_count(efb: list[list[int]], delta: dict[int, int], ps: tuple[int, ...]) -> tuple[int, int]:
    """Largest expected forward (`delta` over `efb`) among senders `ps`, and how many reach it.
    Only when a sink's only latest sender moves earlier: then every sender is a candidate."""
    if not ps:
        return -1, 0
    if len(ps) > _WIDTH:
        flat = _flat(efb)
        _scatter(flat, delta.keys(), delta.values())
        values = list(map(flat.__getitem__, ps))
    else:
        values = [delta.get(p, efb[p >> _SHIFT][p & _MASK]) for p in ps]
    m = max(values)
    return m, values.count(m)


def _sink_value(e: Event | None, days: Mapping[date | None, int], m: int, t: int) -> int:
    """Expected receipt of a sink: as recorded, else its latest sender's forward + transit."""
    if e is not None and e[0] is not None:
        return days[e[0]]
    return m + t if 0 <= m < _HALF else _BIG


def _forward(
    cp: CompiledPlan,
    evb: list[list[Event | None]],
    days: Mapping[date | None, int],
    pinned: dict[int, int],
    allow: tuple[int, ...],
    t: int,
    start: int,
    leaf_steps: tuple[int, ...],
    how: Literal["auto", "dense", "sparse"] = "auto",
) -> tuple[list[int], list[int], list[int]]:
    """Expected forward of every node (a sink: expected receipt) and each sink's (latest
    sender, count). `pinned`: the expected forward that events fix, by position.

    Two ways, same result. "sparse": per class (`_forward_classes`), then the ranges downstream
    of the events recomputed as `Schedule.update` does (only this without events). "dense": one
    pass over every agency (`_forward_dense`), cheaper once the events' ranges cover more than
    1/_SPARSE of the plan. "auto" picks; tests force each.
    """
    na = cp.n_agencies
    if how == "auto" and len(pinned) * _SPARSE > na:
        how = "dense"  # the ranges cover at least as many agencies as there are events
    ranges: list[tuple[int, int]] = []
    if how != "dense" and pinned:
        reach = cp.reach_end
        for i in sorted(p for p in pinned if p < na):
            if ranges and i <= ranges[-1][1]:
                if reach[i] > ranges[-1][1]:
                    ranges[-1] = (ranges[-1][0], reach[i])
            else:
                ranges.append((i, reach[i]))
        if how == "auto" and sum(hi - lo for lo, hi in ranges) * _SPARSE > na:
            how = "dense"
    if how == "dense":
        ef = _forward_dense(cp, pinned, allow, leaf_steps, t, start)
        agg, cnt = _sink_counts(cp, ef)
    else:
        ef, agg, cnt = _forward_classes(cp, allow, t, start)
        if ranges:
            efb = _blocks(ef)
            delta: dict[int, int] = {}
            for lo, hi in ranges:
                _forward_range(cp, evb, days, efb, delta, agg, cnt, allow, t, lo, hi, start)
            _scatter(ef, delta.keys(), delta.values())
    ef[na:] = [_sink_value(evb[s >> _SHIFT][s & _MASK], days, m, t) for s, m in enumerate(agg, na)]
    return ef, agg, cnt


def _read_events(
    cp: CompiledPlan, calendar: WorkingCalendar, events: Mapping[str, Event], allow: tuple[int, ...]
) -> tuple[list[Event | None], dict[int, int]]:
    """Recorded events per position (None where there is none), and the expected forward they
    fix (position -> forwarded, else received + allowance); every date gets into `_day_index`.

    One plain loop: a national circular may carry an event at each of its 8,300 agencies, and
    specialised list and dict subscripts beat `map` over bound methods here.
    """
    index = cp.index
    days = cp._day_index(calendar)
    ev: list[Event | None] = [None] * len(cp.nodes)
    pinned: dict[int, int] = {}
    try:
        for node, event in events.items():
            p = index[node]
            r, f = event
            ev[p] = event if event.__class__ is tuple else (r, f)
            # Every recorded date must be in `days` (readers index through it): a KeyError here
            # is a date not met before.
            if f is not None:
                pinned[p] = days[f]
                if r is not None:
                    days[r]  # only to raise KeyError if r is new
            elif r is not None:
                pinned[p] = days[r] + allow[p]
    except KeyError:
        unknown = [n for n in events if n not in index]
        if unknown:
            raise UnknownNodeError(
                f"event for {unknown[0]!r}, which is not a node of plan {cp.plan!r}"
            ) from None
        for d in {d for e in events.values() for d in e}.difference(days):  # dates not met before
            if d is not None:
                days[d] = calendar.index(d)
        return _read_events(cp, calendar, events, allow)
    return ev, pinned


def propagate(
    graph: nx.DiGraph | CompiledPlan,
    calendar: WorkingCalendar,
    policy: Policy,
    events: Mapping[str, Event] | None = None,
    *,
    reuse_latest: bool = True,
) -> Schedule:
    """Latest and expected dates of every node, from the plan's deadlines and recorded `events`.

    `events` maps node id -> (received, forwarded), either may be None. The graph is not
    modified. Raises `UnknownNodeError` for an event on a node outside the plan.

    Latest dates depend only on the plan, the policy and the calendar, never on events, so the
    backward pass is kept on the compiled plan per (policy, calendar) and reused by later calls;
    `reuse_latest=False` recomputes it.

    >>> from datetime import date
    >>> from routing.calendar import load_calendar
    >>> from routing.policy import load_policy
    >>> g = nx.DiGraph(urgency=None)
    >>> g.add_node("moi", level="ministry"); g.add_node("moi#reports", deadline_receive=date(2020, 8, 14))
    >>> g.add_edge("moi", "province:54"); g.nodes["province:54"]["level"] = "province"
    >>> g.add_edge("province:54", "moi#reports", kind="return")
    >>> s = propagate(g, load_calendar(), load_policy())
    >>> s["province:54"].latest_receive, s["moi"].latest_forward
    (datetime.date(2020, 7, 23), datetime.date(2020, 7, 20))
    """
    cp = graph if isinstance(graph, CompiledPlan) else compile_plan(graph)
    allow, t = cp.allowances(policy)
    latest = cp._latest.get((policy, calendar)) if reuse_latest else None
    if latest is None:
        latest = _backward(cp, calendar, allow, t)
        cp._latest[(policy, calendar)] = latest
    _, _, leaf_steps = cp._allowances(policy)
    start = calendar.index(cp.start) if cp.start is not None else _BIG
    if events:
        ev, pinned = _read_events(cp, calendar, events, allow)
        evb, nevents = _blocks(ev), len(events)
    else:
        evb, pinned, nevents = _no_events(len(cp.nodes)), {}, 0
    ef, agg, cnt = _forward(cp, evb, cp._day_index(calendar), pinned, allow, t, start, leaf_steps)
    return Schedule(cp, calendar, policy, latest, _blocks(ef), evb, (agg, cnt), nevents, (allow, t, start))


def _critical_path(s: Schedule) -> tuple[str, ...]:
    cp = s.plan
    n, na = len(cp.nodes), cp.n_agencies
    ef, ev = s._ef_all(), s._ev_all()
    slacks = [s._slack(i, ef[i]) for i in range(n)]
    best, best_slack = -1, _BIG
    for i, v in enumerate(slacks):
        if v is not None and v <= best_slack:
            best, best_slack = i, v
    if best < 0:
        return ()
    chain = [best]
    j = best
    while True:
        ps = cp.preds[j]
        if not ps:
            break
        e = ev[j]
        if j >= na:
            j = max(ps, key=ef.__getitem__)
        elif e is not None and e[0] is not None and cp.sender[j] >= 0:
            j = cp.sender[j]
        else:
            j = min(ps, key=ef.__getitem__)
        chain.append(j)
    chain.reverse()
    j = best
    while True:
        kids = [c for c in cp.down[j] if slacks[c] is not None]
        if not kids:
            break
        j = min(kids, key=lambda c: slacks[c] or 0)
        chain.append(j)
    return tuple(cp.nodes[k] for k in chain)


def critical_path(schedule: Schedule) -> tuple[str, ...]:
    """The min-slack chain: from a root, through the binding sender of each node, to the node of
    least slack (the latest such), then on through its least-slack receivers to the end.

    Binding sender: the one whose copy arrives first (an agency) or last (a sink); an agency
    with a recorded receipt is bound to its primary sender.
    """
    return schedule.critical_path()


def _status(
    lr: int,
    lf: int,
    e: Event | None,
    days: Mapping[date | None, int],
    sink: bool,
    asof: int,
    duty: Duty | None,
) -> tuple[Status, Duty, int, int]:
    """(status, duty, due index, done-or-as-of index) of a node with latest dates `lr`, `lf`
    and recorded event `e` (dates, indexed by `days`)."""
    ar, af = (days[e[0]], days[e[1]]) if e is not None else (-1, -1)
    if duty == "receive" or sink:
        due, done = lr, ar
        if done >= 0:
            return (Status.LATE if due < _HALF and done > due else Status.ON_TIME), "receive", due, done
        if af >= 0 and not sink:
            # Forwarded without a recorded receipt: it was received, we cannot say it was late.
            return Status.ON_TIME, "receive", due, af
        return (Status.OVERDUE if due < _HALF and asof > due else Status.PENDING), "receive", due, asof
    if af >= 0:
        return (Status.LATE if lf < _HALF and af > lf else Status.ON_TIME), "forward", lf, af
    if lf < _HALF and asof > lf:
        return Status.OVERDUE, "forward", lf, asof
    if duty == "forward":
        return Status.PENDING, "forward", lf, asof
    if ar >= 0:
        if lr < _HALF and ar > lr:
            return Status.LATE, "receive", lr, ar
        return Status.PENDING, "forward", lf, asof
    if lr < _HALF and asof > lr:
        return Status.OVERDUE, "receive", lr, asof
    return Status.PENDING, "forward", lf, asof


def status(schedule: Schedule, node: str, as_of: date, *, duty: Duty | None = None) -> Status:
    """Status of `node` as of `as_of`.

    With `duty=None`, the node's current obligation: once forwarded, whether it forwarded in
    time; before that, overdue if its latest forward (or, not yet received, its latest receive)
    has passed, late if it received late, else pending. A sink is judged on its receipt.
    `duty="receive"` or `"forward"` judges that one act only.
    """
    s = schedule
    i = s._pos(node)
    sink = i >= s.plan.n_agencies
    return _status(s._lr[i], s._lf[i], s._ev_at(i), s._days, sink, s.calendar.index(as_of), duty)[0]


def statuses(schedule: Schedule, as_of: date) -> dict[str, Status]:
    """`status` of every node as of a date (for drawing)."""
    s = schedule
    asof, na = s.calendar.index(as_of), s.plan.n_agencies
    lr, lf, ev, days = s._lr, s._lf, s._ev_all(), s._days
    return {n: _status(lr[i], lf[i], ev[i], days, i >= na, asof, None)[0] for i, n in enumerate(s.plan.nodes)}


def overdue(schedule: Schedule, as_of: date) -> list[OverdueItem]:
    """Nodes that are overdue or were late as of `as_of`, most working days over first.

    `escalate_to` is the agency id of the node's sender in the plan (whom to chase).
    """
    s, cp, cal = schedule, schedule.plan, schedule.calendar
    asof, na = cal.index(as_of), cp.n_agencies
    lr, lf, ev, days = s._lr, s._lf, s._ev_all(), s._days
    items: list[OverdueItem] = []
    for i, node in enumerate(cp.nodes):
        e = ev[i]
        st, duty, due, done = _status(lr[i], lf[i], e, days, i >= na, asof, None)
        if st is not Status.OVERDUE and st is not Status.LATE:
            continue
        sender = cp.sender[i]
        if i >= na:
            # A sink's senders are many; chase the agency that owns it.
            escalate: str | None = cp.agency_ids[i]
        else:
            escalate = cp.agency_ids[sender] if sender >= 0 else None
        when = None
        if st is Status.LATE and e is not None:
            when = e[0] if duty == "receive" else e[1]
        items.append(
            OverdueItem(
                node=node,
                agency_id=cp.agency_ids[i],
                name_th=cp.names[i],
                due=cal.day(due),
                done=when,
                days_over=done - due,
                status=st,
                escalate_to=escalate,
                duty=duty,
            )
        )
    items.sort(key=lambda x: -x.days_over)
    return items


@dataclass(frozen=True, slots=True)
class WhatIf:
    """Who downstream of `node` still meets their latest date if it forwards on `forwarded_on`."""

    node: str
    forwarded_on: date
    makes: tuple[str, ...]
    misses: tuple[str, ...]
    schedule: Schedule


def whatif(
    schedule: Schedule | nx.DiGraph,
    node: str,
    forwarded_on: date,
    *,
    calendar: WorkingCalendar | None = None,
    policy: Policy | None = None,
) -> WhatIf:
    """ "If `node` forwards on `forwarded_on`, who still makes the deadline?"

    Downstream nodes with a latest date are split into `makes` (expected <= latest) and
    `misses`. Given a graph instead of a schedule, propagates it first (no events); then
    `calendar` and `policy` are required.
    """
    if not isinstance(schedule, Schedule):
        if calendar is None or policy is None:
            raise DeadlineError("whatif on a graph needs calendar= and policy=")
        schedule = propagate(schedule, calendar, policy)
    after = schedule.update(node, forwarded=forwarded_on)
    cp = after.plan
    start = cp.index[node]
    seen = {start}
    stack = [start]
    ptr, idx = cp.child_ptr, cp.child_idx
    while stack:
        j = stack.pop()
        for c in idx[ptr[j] : ptr[j + 1]]:
            if c not in seen:
                seen.add(c)
                stack.append(c)
    seen.discard(start)
    makes: list[str] = []
    misses: list[str] = []
    for j in sorted(seen):
        slack = after._slack(j)
        if slack is None:
            continue
        (makes if slack >= 0 else misses).append(cp.nodes[j])
    return WhatIf(node, forwarded_on, tuple(makes), tuple(misses), after)
