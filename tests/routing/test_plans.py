"""Routing plans: YAML parsing, expansion against the directory, errors."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import networkx as nx
import pytest

from models.letters import Urgency
from routing.directory import load_directory
from routing.plans import (
    PlanCycleError,
    PlanError,
    builtin_plans,
    forward_topology,
    instantiate_plan,
    load_plan,
    plan_matches,
)

DIRECTORY = load_directory()


@pytest.fixture(scope="module")
def national() -> nx.DiGraph:
    return instantiate_plan(load_plan(builtin_plans()["bcp-2020"]), DIRECTORY)


def test_builtin_plans_load() -> None:
    plans = builtin_plans()
    assert {"bcp-2020", "moi-governors-report"} <= set(plans)
    for path in plans.values():
        plan = load_plan(path)
        assert plan.id == path.stem
        instantiate_plan(plan, DIRECTORY, provinces=["54"])


def test_national_bcp_shape(national: nx.DiGraph) -> None:
    g = national
    assert nx.is_directed_acyclic_graph(g)
    assert g.graph["plan"] == "bcp-2020" and g.graph["urgency"] is Urgency.MOST_URGENT
    levels = [lvl for _, lvl in g.nodes(data="level")]
    sinks = [n for n, s in g.nodes(data="sink") if s]
    assert levels.count("province") - sum(1 for n in sinks if n.startswith("province:")) == 77
    assert sum(1 for n, a in g.nodes(data=True) if a["level"] == "district") == 878  # no Bangkok เขต
    locals_ = [n for n, a in g.nodes(data=True) if a["level"] == "local" and not a["sink"]]
    assert len(locals_) == DIRECTORY.counts()["local"]
    assert g.nodes["opdc#plans"]["deadline_receive"].isoformat() == "2020-06-30"
    assert g.in_degree("opdc#plans") == len(locals_)
    for n in locals_:
        kinds = {g.edges[n, s]["kind"]: s for s in g.succ[n]}
        assert kinds["return"] == "opdc#plans"
        assert kinds["copy"] == f"{DIRECTORY.province_of(n)}#copies"
    # Every forward edge follows the directory (a parent to its own child) below DLA.
    for u, v, kind in g.edges(data="kind"):
        if kind == "forward" and g.nodes[v]["level"] in ("district", "local"):
            assert DIRECTORY.parent(v) == u
    attrs = g.nodes["district:5401"]
    assert attrs == {
        "agency_id": "district:5401",
        "name_th": DIRECTORY["district:5401"].name_th,
        "level": "district",
        "parent": "province:54",
        "sink": False,
    }


def test_restrict_to_provinces() -> None:
    g = instantiate_plan(load_plan(builtin_plans()["bcp-2020"]), DIRECTORY, provinces=["54", "province:21"])
    provinces = {DIRECTORY.province_of(g.nodes[n]["agency_id"]) for n in g}
    assert provinces == {None, "province:54", "province:21"}
    assert set(g.succ["dla"]) == {"province:54", "province:21"}


def _write(tmp_path: Path, steps: list[str], **extra: str) -> Path:
    lines = ["id: t", "root: opdc", "steps:"] + [f"  - {s!r}" for s in steps]
    lines += [f"{k}: {v}" for k, v in extra.items()]
    path = tmp_path / "plan.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_cycle_names_agencies(tmp_path: Path) -> None:
    path = _write(tmp_path, ["opdc -> moi", "moi -> dla", "dla -> moi"])
    with pytest.raises(PlanCycleError) as info:
        instantiate_plan(load_plan(path), DIRECTORY)
    assert set(info.value.agencies) == {"moi", "dla"}
    assert str(path) in str(info.value)


def test_return_keeps_graph_acyclic(tmp_path: Path) -> None:
    path = _write(tmp_path, ["opdc -> moi", "moi -> province:54", "province:54 => opdc"])
    g = instantiate_plan(load_plan(path), DIRECTORY)
    assert g.edges["province:54", "opdc#plans"]["kind"] == "return"
    assert nx.is_directed_acyclic_graph(g)


@pytest.mark.parametrize(
    ("steps", "where", "field"),
    [
        (["opdc -> nowhere"], "steps[0]", "target"),
        (["opdc -> moi", "ghost:* -> district:*"], "steps[1]", "source"),
        (["opdc moi"], "steps[0]", "step"),
        (["dla -> province:*"], "steps[0]", "source"),  # dla is not reached from the root
        (["opdc -> moi#x"], "steps[0]", "target"),
    ],
)
def test_bad_steps_name_file_step_and_field(tmp_path: Path, steps: list[str], where: str, field: str) -> None:
    path = _write(tmp_path, steps)
    with pytest.raises(PlanError) as info:
        instantiate_plan(load_plan(path), DIRECTORY)
    assert info.value.source == str(path)
    assert info.value.where.startswith(where)
    assert info.value.field == field


def test_bad_keys(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="urgency"):
        load_plan(_write(tmp_path, ["opdc -> moi"], urgency="soon"))
    with pytest.raises(PlanError, match="deadlines"):
        load_plan(_write(tmp_path, ["opdc -> moi"], deadlines="[{at: moi, date: tomorrow}]"))
    path = _write(tmp_path, ["opdc -> moi"], deadlines="[{at: dla, date: 2020-06-30}]")
    with pytest.raises(PlanError, match="dla"):
        instantiate_plan(load_plan(path), DIRECTORY)


def test_a_plan_names_the_letters_of_its_circulars(tmp_path: Path) -> None:
    bcp = load_plan(builtin_plans()["bcp-2020"])
    # Any printed form of a number goes in a plan; it is kept canonical.
    path = _write(tmp_path, ["opdc -> moi"], letters="[{number: 'นร ๑๒๐๐/ว.๐๐๑๓', date: 2020-05-05}]")
    mine = load_plan(path)
    assert mine.letters == (("นร 1200/ว 0013", date(2020, 5, 5)),)
    assert ("มท 0812/ว 1434", date(2020, 5, 14)) in bcp.letters
    assert [p.id for p in plan_matches([bcp, mine], [("นร 1200/ว 0013", date(2020, 5, 5))])] == [
        "bcp-2020",
        "t",
    ]
    assert plan_matches([bcp], [("มท 0812/ว 1434", date(2021, 5, 14))]) == []  # numbers restart yearly
    assert plan_matches([bcp], []) == []


@pytest.mark.parametrize(
    ("letters", "where", "field"),
    [
        ("[{number: 'นร 1200/ว 0013'}]", "letters[0]", "date"),
        ("[{number: '1200/ว 0013', date: 2020-05-05}]", "letters[0]", "number"),
        ("[{date: 2020-05-05}]", "letters[0]", "number"),
        ("'นร 1200/ว 0013'", "letters", "letters"),
    ],
)
def test_bad_plan_letters_name_the_entry_and_field(
    tmp_path: Path, letters: str, where: str, field: str
) -> None:
    path = _write(tmp_path, ["opdc -> moi"], letters=letters)
    with pytest.raises(PlanError) as info:
        load_plan(path)
    assert (info.value.source, info.value.where, info.value.field) == (str(path), where, field)


def test_forward_topology_is_the_graphs_forward_edges(national: nx.DiGraph) -> None:
    g = national
    t = forward_topology(g)
    assert forward_topology(g) is t  # cached per graph
    assert t.order == tuple(nx.topological_sort(g))
    kind = nx.get_edge_attributes(g, "kind")
    for n in g:
        assert t.receivers[n] == tuple(v for v in g.successors(n) if kind.get((n, v), "forward") == "forward")
        assert t.senders[n] == tuple(u for u in g.predecessors(n) if kind.get((u, n), "forward") == "forward")
    phrae = t.receivers["province:54"]
    assert phrae and all(v.startswith(("district:54", "local:")) for v in phrae)
    assert t.receivers["opdc#plans"] == () and "opdc#plans" not in {
        v for vs in t.receivers.values() for v in vs
    }
    # An edited graph (an edge more) is read afresh, not served from the cache.
    h = g.copy()
    h.add_edge("province:54", "new:agency")
    assert forward_topology(h).receivers["province:54"][-1] == "new:agency"
