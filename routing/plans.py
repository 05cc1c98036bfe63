"""Routing plans: the expected route of a circular (หนังสือเวียน) as data, and its graph.

A plan is a YAML file (see `routing/data/plans/`):

```yaml
id: bcp-2020
title: ...
urgency: ด่วนที่สุด            # or ด่วนมาก, ด่วน, normal
root: cabinet                  # where the circular starts
start: 2020-03-31              # optional: when the root acted
exclude: ["district:10??"]     # optional: fnmatch patterns of ids left out
steps:
  - opdc -> moi                # forward: one agency hands the circular to another
  - dla -> province:*          # ... to every agency matching the pattern
  - province:* -> district:*   # each source to ITS directory children matching the pattern
  - local:* => opdc#plans      # return: each source sends its result to a sink node
  - local:* ~> province:*      # copy: each source copies its result to its ancestor matching
deadlines:
  - {at: opdc#plans, date: 2020-06-30, duty: receive, text: ...}
letters:                       # optional: letters known to belong to circulars of this plan
  - {number: มท 0812/ว 1434, date: 2020-05-14}
```

`letters` lets the record find the plan of a circular nobody has attached one to: a circular that
holds one of them (same canonical number and date) follows this plan (`plan_matches`).

Returns and copies end in *sink* nodes (`opdc#plans`, `province:54#copies`) distinct from the
agency node, so the graph stays a DAG even though OPDC also forwards the circular.

`instantiate_plan` expands a plan against a `Directory` into an `nx.DiGraph`:

- node attributes: `agency_id`, `name_th`, `level` (a `Level` value string), `parent` (directory
  parent id), `sink` (bool), and `deadline_receive` / `deadline_forward` (date) where stated;
- edge attribute `kind`: `'forward'`, `'return'` or `'copy'`;
- graph attributes: `plan`, `title`, `urgency` (`Urgency` or None), `start`, `deadlines`
  (tuple of `StatedDeadline`), `stand_in` (the directory's flag).

Examples:
    >>> from routing.directory import load_directory
    >>> g = instantiate_plan(load_plan(builtin_plans()["bcp-2020"]), load_directory(), provinces=["54"])
    >>> g.graph["plan"], g.number_of_nodes()
    ('bcp-2020', 94)
    >>> g.edges["province:54", "district:5401"]["kind"], g.nodes["opdc#plans"]["deadline_receive"]
    ('forward', datetime.date(2020, 6, 30))
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from fnmatch import fnmatchcase
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal, TypeVar

import networkx as nx
import yaml

from models.letters import Urgency
from models.numbering import LetterNumberError, parse_letter_number
from routing.directory import Directory

EdgeKind = Literal["forward", "return", "copy"]
Duty = Literal["receive", "forward"]

_ARROWS: dict[str, EdgeKind] = {"->": "forward", "=>": "return", "~>": "copy"}
_STEP_RE = re.compile(r"^\s*(?P<source>[^\s=~>-][^\s]*?)\s*(?P<arrow>->|=>|~>)\s*(?P<target>\S+)\s*$")
_DEFAULT_SUFFIX: dict[EdgeKind, str] = {"forward": "", "return": "plans", "copy": "copies"}
_WILDCARDS = frozenset("*?[")


class PlanError(ValueError):
    """A plan file is wrong: names the file, the step (or key) and the field."""

    def __init__(self, source: str, where: str, field: str, message: str) -> None:
        self.source, self.where, self.field = source, where, field
        super().__init__(f"{source}: {where}: {field}: {message}")


class PlanCycleError(PlanError):
    """The steps of a plan hand the circular round in a circle; `agencies` lists the cycle."""

    def __init__(self, source: str, agencies: list[str]) -> None:
        self.agencies = agencies
        super().__init__(source, "steps", "cycle", " -> ".join([*agencies, agencies[0]]))


@dataclass(frozen=True, slots=True)
class Step:
    """One line of `steps`: `source <arrow> target` with its position (0-based) and text."""

    source: str
    target: str
    kind: EdgeKind
    text: str
    index: int


@dataclass(frozen=True, slots=True)
class StatedDeadline:
    """A deadline written in the plan: node id or pattern `at`, `date`, `duty`, and why."""

    at: str
    date: date
    duty: Duty = "receive"
    text: str = ""


@dataclass(frozen=True, slots=True)
class Plan:
    """A routing plan as read from YAML (not yet expanded against a directory)."""

    id: str
    title: str
    urgency: Urgency | None
    root: str
    steps: tuple[Step, ...]
    deadlines: tuple[StatedDeadline, ...] = ()
    start: date | None = None
    exclude: tuple[str, ...] = ()
    letters: tuple[tuple[str, date], ...] = ()  # (canonical number, date) of letters it governs
    source: str = "<plan>"


def _is_pattern(text: str) -> bool:
    return any(c in _WILDCARDS for c in text)


def parse_step(text: str, index: int, source: str = "<plan>") -> Step:
    """Parse one step line.

    >>> parse_step("province:* -> district:*", 0)
    Step(source='province:*', target='district:*', kind='forward', text='province:* -> district:*', index=0)
    """
    where = f"steps[{index}]"
    if not isinstance(text, str):
        raise PlanError(source, where, "step", f"expected text like 'opdc -> moi', got {text!r}")
    m = _STEP_RE.match(text)
    if m is None:
        raise PlanError(source, where, "step", f"{text!r} is not 'SOURCE -> TARGET' (or => return, ~> copy)")
    kind = _ARROWS[m.group("arrow")]
    target = m.group("target")
    if kind == "forward" and "#" in target:
        raise PlanError(source, where, "target", f"{target!r}: only returns and copies end in a '#' sink")
    if "#" in m.group("source"):
        raise PlanError(source, where, "source", f"{m.group('source')!r}: a sink cannot send")
    return Step(m.group("source"), target, kind, text.strip(), index)


def _urgency(source: str, value: Any) -> Urgency | None:
    if value is None or value == "normal":
        return None
    try:
        return Urgency(value)
    except ValueError:
        allowed = ", ".join([*(u.value for u in Urgency), "normal"])
        raise PlanError(source, "urgency", "urgency", f"{value!r} is not one of {allowed}") from None


def parse_plan(data: Any, source: str) -> Plan:
    """Validate a loaded YAML document into a `Plan`."""
    if not isinstance(data, dict):
        raise PlanError(source, "<root>", "<root>", "expected a mapping with id, root, steps")
    known = {"id", "title", "urgency", "root", "start", "exclude", "steps", "deadlines", "letters"}
    for k in data:
        if k not in known:
            raise PlanError(source, str(k), str(k), f"unknown key; expected {', '.join(sorted(known))}")
    for k in ("id", "root", "steps"):
        if not data.get(k):
            raise PlanError(source, k, k, "missing")
    if not isinstance(data["id"], str) or not isinstance(data["root"], str):
        raise PlanError(source, "id" if not isinstance(data["id"], str) else "root", "value", "expected text")
    start = data.get("start")
    if start is not None and not isinstance(start, date):
        raise PlanError(source, "start", "start", f"expected an ISO date, got {start!r}")
    steps_raw = data["steps"]
    if not isinstance(steps_raw, list):
        raise PlanError(source, "steps", "steps", "expected a list of 'SOURCE -> TARGET' lines")
    steps = tuple(parse_step(s, i, source) for i, s in enumerate(steps_raw))
    deadlines: list[StatedDeadline] = []
    raw_deadlines = data.get("deadlines") or []
    if not isinstance(raw_deadlines, list):
        raise PlanError(source, "deadlines", "deadlines", "expected a list")
    for i, item in enumerate(raw_deadlines):
        where = f"deadlines[{i}]"
        if not isinstance(item, dict):
            raise PlanError(source, where, "deadline", "expected a mapping with at, date, duty")
        at, when, duty = item.get("at"), item.get("date"), item.get("duty", "receive")
        if not isinstance(at, str) or not at:
            raise PlanError(source, where, "at", "expected a node id or pattern")
        if not isinstance(when, date):
            raise PlanError(source, where, "date", f"expected an ISO date, got {when!r}")
        if duty not in ("receive", "forward"):
            raise PlanError(source, where, "duty", f"{duty!r} is not 'receive' or 'forward'")
        deadlines.append(StatedDeadline(at, when, duty, str(item.get("text") or "")))
    exclude = data.get("exclude") or []
    if not isinstance(exclude, list) or not all(isinstance(e, str) for e in exclude):
        raise PlanError(source, "exclude", "exclude", "expected a list of id patterns")
    return Plan(
        letters=_letters(source, data.get("letters") or []),
        id=data["id"],
        title=str(data.get("title") or data["id"]),
        urgency=_urgency(source, data.get("urgency")),
        root=data["root"],
        steps=steps,
        deadlines=tuple(deadlines),
        start=start,
        exclude=tuple(exclude),
        source=source,
    )


def _letters(source: str, raw: Any) -> tuple[tuple[str, date], ...]:
    if not isinstance(raw, list):
        raise PlanError(source, "letters", "letters", "expected a list of {number, date}")
    out: list[tuple[str, date]] = []
    for i, item in enumerate(raw):
        where = f"letters[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("number"), str):
            raise PlanError(source, where, "number", "expected a mapping with a letter number and a date")
        if not isinstance(item.get("date"), date):
            raise PlanError(source, where, "date", f"expected an ISO date, got {item.get('date')!r}")
        try:
            number = parse_letter_number(item["number"], repair=False).canonical
        except LetterNumberError as exc:
            raise PlanError(source, where, "number", str(exc)) from None
        out.append((number, item["date"]))
    return tuple(out)


def plan_matches(plans: Iterable[Plan], letters: Iterable[tuple[str, date]]) -> list[Plan]:
    """The plans that declare one of `letters` (canonical number, date) as theirs.

    >>> bcp = load_plan(builtin_plans()["bcp-2020"])
    >>> [p.id for p in plan_matches([bcp], [("มท 0812/ว 1434", date(2020, 5, 14))])]
    ['bcp-2020']
    >>> plan_matches([bcp], [("มท 0812/ว 1434", date(2021, 5, 14))])  # numbers restart each year
    []
    """
    wanted = set(letters)
    return [plan for plan in plans if wanted.intersection(plan.letters)]


def load_plan(path: Path) -> Plan:
    """Read and validate a plan file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanError(str(path), "<file>", "<file>", f"cannot read: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PlanError(str(path), "<file>", "<yaml>", f"not valid YAML: {exc}") from None
    return parse_plan(data, str(path))


def builtin_plans() -> dict[str, Path]:
    """The plans shipped in `routing/data/plans/`, by plan id (the file stem).

    >>> sorted(builtin_plans())
    ['bcp-2020', 'moi-governors-report']
    """
    folder = files("routing").joinpath("data/plans")
    return {
        Path(str(p)).stem: Path(str(p)) for p in sorted(folder.iterdir(), key=str) if str(p).endswith(".yaml")
    }


class _Expander:
    """Expands a plan's patterns against a directory, under a province restriction."""

    def __init__(self, plan: Plan, directory: Directory, provinces: set[str] | None) -> None:
        self.plan, self.directory, self.provinces = plan, directory, provinces
        self.graph = nx.DiGraph()

    def allowed(self, agency_id: str) -> bool:
        if any(fnmatchcase(agency_id, pat) for pat in self.plan.exclude):
            return False
        if self.provinces is None:
            return True
        province = self.directory.province_of(agency_id)
        return province is None or province in self.provinces

    def matches(self, pattern: str, ids: Iterable[str]) -> Iterator[str]:
        # "kind:*" is by far the most common pattern: a prefix test is 10x cheaper than fnmatch.
        if pattern.endswith(":*") and not _is_pattern(pattern[:-1]):
            prefix = pattern[:-1]
            return (i for i in ids if i.startswith(prefix))
        return (i for i in ids if fnmatchcase(i, pattern))

    def agency(self, step: Step, field: str, agency_id: str) -> str:
        if agency_id not in self.directory:
            raise PlanError(
                self.plan.source, f"steps[{step.index}] ({step.text})", field, f"unknown agency {agency_id!r}"
            )
        return agency_id

    def add_node(self, node: str, agency_id: str, *, sink: bool = False) -> None:
        if node in self.graph:
            return
        a = self.directory[agency_id]
        self.graph.add_node(
            node, agency_id=a.id, name_th=a.name_th, level=a.level.value, parent=a.parent, sink=sink
        )

    def sources(self, step: Step) -> list[str]:
        where = f"steps[{step.index}] ({step.text})"
        senders = [n for n, sink in self.graph.nodes(data="sink") if not sink]
        if _is_pattern(step.source):
            found = list(self.matches(step.source, senders))
            if not found and self.provinces is None:
                raise PlanError(
                    self.plan.source, where, "source", f"{step.source!r} matches no agency reached so far"
                )
            return found
        self.agency(step, "source", step.source)
        if step.source not in self.graph:
            raise PlanError(
                self.plan.source,
                where,
                "source",
                f"{step.source!r} is not reached by the root or an earlier step",
            )
        return [step.source]

    def forward(self, step: Step) -> None:
        where = f"steps[{step.index}] ({step.text})"
        sources = self.sources(step)
        d = self.directory
        single_source = not _is_pattern(step.source)
        for src in sources:
            if not _is_pattern(step.target):
                targets = [self.agency(step, "target", step.target)] if self.allowed(step.target) else []
            elif single_source:
                # One sender to every matching agency in the directory ("dla -> province:*").
                targets = [t for t in self.matches(step.target, d) if self.allowed(t)]
            else:
                # Each sender to its own children ("province:* -> district:*").
                targets = [t for t in self.matches(step.target, d.children(src)) if self.allowed(t)]
            if not targets and single_source and self.provinces is None:
                raise PlanError(self.plan.source, where, "target", f"{step.target!r} matches no agency")
            for t in targets:
                self.add_node(t, t)
                self.graph.add_edge(src, t, kind="forward")

    def sink_edges(self, step: Step) -> None:
        where = f"steps[{step.index}] ({step.text})"
        target, _, suffix = step.target.partition("#")
        suffix = suffix or _DEFAULT_SUFFIX[step.kind]
        for src in self.sources(step):
            if _is_pattern(target):
                # The source's own ancestor that matches ("local:* ~> province:*": its province).
                agency: str | None = self.directory.parent(src)
                while agency is not None and not next(self.matches(target, [agency]), None):
                    agency = self.directory.parent(agency)
                if agency is None:
                    raise PlanError(
                        self.plan.source, where, "target", f"{src!r} has no ancestor matching {target!r}"
                    )
            else:
                agency = self.agency(step, "target", target)
            sink = f"{agency}#{suffix}"
            self.add_node(sink, agency, sink=True)
            self.graph.add_edge(src, sink, kind=step.kind)

    def deadlines(self) -> None:
        for i, dl in enumerate(self.plan.deadlines):
            nodes = list(self.matches(dl.at, self.graph)) if _is_pattern(dl.at) else [dl.at]
            if not nodes or (not _is_pattern(dl.at) and dl.at not in self.graph):
                raise PlanError(
                    self.plan.source, f"deadlines[{i}]", "at", f"{dl.at!r} is not a node of the plan"
                )
            key = f"deadline_{dl.duty}"
            for n in nodes:
                attrs = self.graph.nodes[n]
                if key not in attrs or dl.date < attrs[key]:
                    attrs[key] = dl.date


def _province_filter(directory: Directory, provinces: Iterable[str] | None) -> set[str] | None:
    if provinces is None:
        return None
    out: set[str] = set()
    for p in provinces:
        pid = p if p.startswith("province:") else f"province:{p}"
        if pid not in directory:
            raise PlanError("<arguments>", "provinces", "provinces", f"unknown province {p!r}")
        out.add(pid)
    return out


def instantiate_plan(
    plan: Plan, directory: Directory, *, provinces: Iterable[str] | None = None
) -> nx.DiGraph:
    """Expand `plan` against `directory` into a DAG of handoffs.

    `provinces` (DOPA codes "54" or ids "province:54") keeps only those provinces and what lies
    in them; central agencies stay. Raises `PlanError` for an unknown agency or a bad step and
    `PlanCycleError` when the steps form a cycle.
    """
    restrict = _province_filter(directory, provinces)
    ex = _Expander(plan, directory, restrict)
    if plan.root not in directory:
        raise PlanError(plan.source, "root", "root", f"unknown agency {plan.root!r}")
    ex.add_node(plan.root, plan.root)
    for step in plan.steps:
        if step.kind == "forward":
            ex.forward(step)
        else:
            ex.sink_edges(step)
    if not nx.is_directed_acyclic_graph(ex.graph):
        cycle = nx.find_cycle(ex.graph)
        raise PlanCycleError(plan.source, [u for u, _v in cycle])
    ex.deadlines()
    g = ex.graph
    g.graph.update(
        plan=plan.id,
        title=plan.title,
        urgency=plan.urgency,
        start=plan.start,
        deadlines=plan.deadlines,
        stand_in=directory.stand_in,
    )
    return g


@dataclass(frozen=True, slots=True)
class ForwardTopology:
    """A plan graph's forward edges, read once: every node in topological order (generation by
    generation, as `nx.topological_sort` gives them, so each node comes after all its senders),
    and each node's forward receivers and forward senders, in the graph's own edge order.

    Readers that walk a national plan node by node (planning a route, reading the record against
    it) spent most of their time in networkx's views; these are plain tuples."""

    order: tuple[str, ...]
    receivers: Mapping[str, tuple[str, ...]]
    senders: Mapping[str, tuple[str, ...]]


T = TypeVar("T")
PerGraph = weakref.WeakKeyDictionary[nx.DiGraph, tuple[tuple[int, int], T]]


def per_graph(store: PerGraph[T], graph: nx.DiGraph, build: Callable[[nx.DiGraph], T]) -> T:
    """`build(graph)`, cached in `store` per graph object while its nodes and edges stay the same
    in number (plan graphs are not edited once instantiated: derive from a copy to edit one).

    The count of edges is taken from the adjacency dicts in C: networkx's `number_of_edges` sums
    degrees in Python (~5 ms for a national plan, which every cached lookup would pay)."""
    signature = (len(graph), sum(map(len, graph._succ.values())))
    cached = store.get(graph)
    if cached is not None and cached[0] == signature:
        return cached[1]
    value = build(graph)
    store[graph] = (signature, value)
    return value


_TOPOLOGIES: PerGraph[ForwardTopology] = weakref.WeakKeyDictionary()


def forward_topology(graph: nx.DiGraph) -> ForwardTopology:
    """The graph's `ForwardTopology`, cached per graph object (see `per_graph`).

    >>> g = nx.DiGraph([("a", "b"), ("a", "c"), ("b", "s")])
    >>> g.edges["b", "s"]["kind"] = "return"
    >>> t = forward_topology(g)
    >>> t.order[0], t.receivers["a"], t.receivers["b"], t.senders["c"]
    ('a', ('b', 'c'), (), ('a',))
    """
    return per_graph(_TOPOLOGIES, graph, _forward_topology)


def _forward_topology(graph: nx.DiGraph) -> ForwardTopology:
    receivers: dict[str, list[str]] = {n: [] for n in graph}
    senders: dict[str, list[str]] = {n: [] for n in graph}
    for u, v, kind in graph.out_edges(data="kind", default="forward"):
        if kind == "forward":
            receivers[u].append(v)
    for u, v, kind in graph.in_edges(data="kind", default="forward"):
        if kind == "forward":
            senders[v].append(u)
    return ForwardTopology(
        order=tuple(nx.topological_sort(graph)),
        receivers={n: tuple(vs) for n, vs in receivers.items()},
        senders={n: tuple(us) for n, us in senders.items()},
    )
