"""The input of the routing diagrams (แผนภาพเส้นทางหนังสือเวียน): agencies, letters, evidence.

`visualize` defines its own small model so that drawing does not depend on how the data was
computed. The caller fills it from the routing results (deadlines, slack, critical path) and the
records (letters, receipt stamps, citation merges).

Examples:
    >>> from datetime import date
    >>> from models.letters import Level
    >>> moi = DiagramNode(id="moi", name_th="กระทรวงมหาดไทย", level=Level.MINISTRY, status="done")
    >>> prov = DiagramNode(id="province:54", name_th="จังหวัดแพร่", level=Level.PROVINCE,
    ...                    status="late", parent="moi", province="province:54")
    >>> edge = DiagramEdge(source="moi", target="province:54",
    ...                    letters=(EdgeLetter("มท 0218/ว 3182", date(2020, 6, 1)),), status="done")
    >>> d = RoutingDiagram(title="แผนปฏิรูป", deadline=date(2020, 6, 30), nodes=(moi, prov), edges=(edge,))
    >>> d.node("province:54").name_th
    'จังหวัดแพร่'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, time
from functools import cached_property
from typing import Any, Final, Literal

from models.letters import Level

Status = Literal["on_time", "late", "overdue", "blocked", "pending", "done", "unknown"]

# Worst first: a summary takes the colour of its worst member. Blocked (due, but the letter never
# reached the agency: its sender sits on it) follows overdue, which names the agency to chase.
# Pending is worse than on time because the work is not finished; unknown sits between, since
# nothing is known to be wrong.
STATUS_SEVERITY: Final[tuple[str, ...]] = (
    "overdue",
    "blocked",
    "late",
    "pending",
    "unknown",
    "on_time",
    "done",
)
STATUSES: Final[frozenset[str]] = frozenset(STATUS_SEVERITY)

EVIDENCE_KINDS: Final[frozenset[str]] = frozenset({"file", "receipt", "merge", "citation", "plan"})


class DiagramModelError(ValueError):
    """A diagram input that cannot be drawn: unknown status, dangling edge, duplicate id."""


def worst_status(statuses: Iterable[str]) -> str:
    """The most severe of some statuses (`unknown` for none).

    >>> worst_status(["on_time", "late", "pending"])
    'late'
    >>> worst_status([])
    'unknown'
    """
    seen = set(statuses)
    for status in STATUS_SEVERITY:
        if status in seen:
            return status
    return "unknown"


def _check_status(status: str, where: str) -> None:
    if status not in STATUSES:
        raise DiagramModelError(f"{where}: unknown status {status!r}; expected one of {sorted(STATUSES)}")


@dataclass(frozen=True, slots=True)
class ReceiptLabel:
    """A receipt stamp (ตรารับ) as the diagram shows it: เลขรับ, date, time."""

    number: str | None
    date: date | None
    time: time | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why an edge is believed (หลักฐาน): a line of a file, a receipt stamp, a citation, a merge.

    `kind` is 'file' (the letter was read there), 'receipt' (a stamp proves arrival),
    'citation' (a later letter cites it: อ้างถึง / สิ่งที่ส่งมาด้วย), 'merge' (two readings of a
    number were taken as one letter, `text` says why) or 'plan' (the routing plan says so: the
    Cabinet resolution that opens a circular is no letter on file, its date is the plan's).
    """

    kind: str
    text: str
    file: str | None = None
    line: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in EVIDENCE_KINDS:
            raise DiagramModelError(f"evidence kind {self.kind!r} is not one of {sorted(EVIDENCE_KINDS)}")

    @property
    def where(self) -> str | None:
        """`file:line` (or just the file) when the evidence points into a file."""
        if self.file is None:
            return None
        return f"{self.file}:{self.line}" if self.line is not None else self.file


@dataclass(frozen=True, slots=True)
class DiagramNode:
    """One agency (หน่วยงาน) in the diagram, with its deadline state.

    `province`/`district` name the province and district agency the node belongs to (a province
    node may name itself); they drive collapsing and drill-down. `latest` is the latest date the
    agency may forward (or receive) without endangering the final deadline, `slack` the working
    days of margin as of the diagram's day (negative: days over; for an agency that has acted,
    its latest date minus the day it acted). `summary` is filled only on collapsed nodes: how many folded
    agencies are in each status, and `folded_levels` how many of each level.
    """

    id: str
    name_th: str
    level: Level
    status: str
    parent: str | None = None
    province: str | None = None
    district: str | None = None
    latest: date | None = None
    expected: date | None = None
    done: date | None = None
    slack: int | None = None
    critical: bool = False
    receipts: tuple[ReceiptLabel, ...] = ()
    summary: tuple[tuple[str, int], ...] = ()
    folded_levels: tuple[tuple[Level, int], ...] = ()

    def __post_init__(self) -> None:
        _check_status(self.status, f"agency {self.id!r}")
        for status, _count in self.summary:
            _check_status(status, f"summary of {self.id!r}")

    @property
    def collapsed(self) -> int:
        """How many agencies were folded into this node (0 for an ordinary node)."""
        return sum(count for _status, count in self.summary)

    def in_province(self, province: str) -> bool:
        return self.id == province or self.province == province

    def in_district(self, district: str) -> bool:
        return self.id == district or self.district == district


@dataclass(frozen=True, slots=True)
class EdgeLetter:
    """A letter carried on an edge (หนังสือที่ส่งต่อ): its number and, when known, its date."""

    number: str
    date: date | None = None


@dataclass(frozen=True, slots=True)
class DiagramEdge:
    """A handoff from one agency to the next: the letters that passed, with their evidence.

    `letters` are in date order; an edge may carry several (DLA sent the provinces both มท 0812/ว 1217
    and ว 1434). `note` says what passed when it was no letter on file (a Cabinet resolution:
    `มติ ครม. ๓๑ มี.ค. ๒๕๖๓`).
    """

    source: str
    target: str
    letters: tuple[EdgeLetter, ...] = ()
    status: str = "unknown"
    critical: bool = False
    evidence: tuple[Evidence, ...] = ()
    count: int = 1  # how many handoffs a collapsed edge stands for
    note: str | None = None

    def __post_init__(self) -> None:
        _check_status(self.status, f"edge {self.source!r} -> {self.target!r}")
        if not isinstance(self.letters, tuple) or not all(isinstance(x, EdgeLetter) for x in self.letters):
            raise DiagramModelError(
                f"edge {self.source!r} -> {self.target!r}: letters must be a tuple of EdgeLetter"
            )

    @property
    def numbers(self) -> tuple[str, ...]:
        """The numbers of the letters on the edge, in date order."""
        return tuple(x.number for x in self.letters)


def letter_edge(
    source: str,
    target: str,
    number: str | None,
    on: date | None = None,
    status: str = "unknown",
    critical: bool = False,
    **more: Any,
) -> DiagramEdge:
    """An edge carrying one letter (or none when `number` is None): the common case, spelled short.

    >>> letter_edge("dla", "province:54", "มท 0812/ว 1434", date(2020, 5, 14), "done").numbers
    ('มท 0812/ว 1434',)
    """
    letters = (EdgeLetter(number, on),) if number is not None else ()
    return DiagramEdge(source, target, letters, status, critical, **more)


@dataclass(frozen=True)
class RoutingDiagram:
    """A whole diagram: the agencies a circular reaches and the letters between them.

    `as_of` is the day the statuses and slack are reckoned on, when they are.
    """

    title: str
    deadline: date | None
    nodes: tuple[DiagramNode, ...]
    edges: tuple[DiagramEdge, ...] = ()
    as_of: date | None = None

    def __post_init__(self) -> None:
        ids = [n.id for n in self.nodes]
        if len(set(ids)) != len(ids):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            raise DiagramModelError(f"duplicate agency ids: {dupes[:5]}")
        known = set(ids)
        for e in self.edges:
            for end in (e.source, e.target):
                if end not in known:
                    raise DiagramModelError(f"edge {e.source!r} -> {e.target!r} names unknown agency {end!r}")

    @cached_property
    def by_id(self) -> Mapping[str, DiagramNode]:
        return {n.id: n for n in self.nodes}

    def node(self, agency: str) -> DiagramNode:
        try:
            return self.by_id[agency]
        except KeyError:
            raise DiagramModelError(f"no agency {agency!r} in diagram {self.title!r}") from None
