"""Routing diagrams (แผนภาพการส่งต่อหนังสือ) as graphviz objects, built purely.

Nothing here runs `dot`: the functions return `graphviz.Digraph` objects whose `.source` tests
can read; `visualize.render` turns them into SVG, PNG or PDF.

A circular sent to every local body reaches about 8,800 agencies, more than `dot` can lay out
quickly, so the national view is drawn `collapse`d (one node per province with counts by status)
and a province or district is drawn in full with `drill_down`.

Examples:
    >>> from visualize.samples import chain_sample
    >>> g = forwarding_diagram(chain_sample())
    >>> "cluster_province" in g.source and "จังหวัดแพร่" in g.source
    True
    >>> national = collapse(chain_sample())
    >>> sorted(n.level.value for n in national.nodes if n.collapsed)
    ['province']
"""

from __future__ import annotations

import html
import unicodedata
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import date
from typing import Final
from urllib.parse import quote as url_quote
from urllib.parse import urlencode

import graphviz

from models.letters import LEVEL_ORDER, Level
from models.thai import format_thai_date, format_thai_time, to_thai_digits
from visualize.model import (
    STATUS_SEVERITY,
    DiagramEdge,
    DiagramModelError,
    DiagramNode,
    EdgeLetter,
    Evidence,
    RoutingDiagram,
    worst_status,
)

# The font every label is set in. Loma ships with fonts-thai-tlwg (Debian), which the server
# renders with; the fallbacks are what a browser showing the SVG may have instead.
THAI_FONT: Final = "Loma"
THAI_FONT_FALLBACKS: Final[tuple[str, ...]] = ("Loma", "Garuda", "Sarabun", "Noto Sans Thai", "sans-serif")


class DiagramError(ValueError):
    """A diagram that cannot be built as asked: unknown focus agency, bad collapse level."""


# status -> (line colour, fill colour, Thai name)
STATUS_STYLE: Final[dict[str, tuple[str, str, str]]] = {
    "on_time": ("#2e7d32", "#c8e6c9", "ตรงเวลา"),
    "late": ("#e65100", "#ffe0b2", "ล่าช้า"),
    "overdue": ("#c62828", "#ffcdd2", "เกินกำหนด"),
    # Never received: the sender sits on the letter. Drawn with a dashed outline as well as its own
    # colour, so it reads apart from overdue without colour vision.
    "blocked": ("#6a1b9a", "#f3e5f5", "ยังไม่ได้รับ"),
    "pending": ("#757575", "#eeeeee", "รอดำเนินการ"),
    "done": ("#1565c0", "#bbdefb", "ดำเนินการแล้ว"),
    "unknown": ("#9e9e9e", "#ffffff", "ไม่ทราบสถานะ"),
}

LEVEL_TITLES: Final[dict[Level, str]] = {
    Level.CABINET: "คณะรัฐมนตรี",
    Level.CENTRAL: "หน่วยงานกลาง",
    Level.MINISTRY: "กระทรวง",
    Level.DEPARTMENT: "กรม",
    Level.PROVINCE: "จังหวัด",
    Level.DISTRICT: "อำเภอ",
    Level.LOCAL: "องค์กรปกครองส่วนท้องถิ่น",
    Level.UNKNOWN: "หน่วยงานอื่น",
}
# Short level names for the counts on a collapsed node.
LEVEL_SHORT: Final[dict[Level, str]] = {**LEVEL_TITLES, Level.LOCAL: "อปท."}

EVIDENCE_TITLES: Final[dict[str, str]] = {
    "file": "ไฟล์",
    "receipt": "ตรารับ",
    "citation": "อ้างถึง",
    "merge": "รวมเลขหนังสือ",
    "plan": "แผนเส้นทาง",
}

# What the legend says of a status where its short name (on nodes, in counts) is not enough.
LEGEND_STATUS_TEXT: Final[dict[str, str]] = {"blocked": "ยังไม่ได้รับ (ค้างที่ต้นทาง: เลยกำหนดแล้ว)"}
# Statuses whose outline is dashed: nothing reached the agency.
DASHED_STATUSES: Final[frozenset[str]] = frozenset({"blocked"})
PLANNED_EDGE_NOTE: Final = "ตามแผน: ยังไม่มีหนังสือในบันทึก (เส้นประ)"
PROJECTED_NOTE: Final = "คาดว่า …: วันที่คาดการณ์ ไม่ใช่ข้อเท็จจริง"
CRITICAL_PENWIDTH: Final = "3"
FOCUS_COLOUR: Final = "#4a148c"
FADED_COLOUR: Final = "#d0d0d0"
AGENCY_URL_PREFIX: Final = "/agencies/"
LETTER_URL_PREFIX: Final = "/letters/"
# Evidence notes wrap at this many characters a line: a merge reason is the "why" of the
# evidence and must be read whole, but one 200-character line makes the note as wide as the page.
EVIDENCE_WRAP: Final = 64
TITLE_WRAP: Final = 100
# A collapsed edge lists the letters of the handoffs it stands for up to this many; beyond, the
# count says how many handoffs there are and the tooltip and evidence name the letters.
MERGED_LETTERS_MAX: Final = 3


# --- text ------------------------------------------------------------------------------------


def _text(value: str) -> str:
    """Make free text safe inside a DOT label: backslashes literal, no raw line breaks."""
    return " ".join(value.replace("\\", "\\\\").split())


def _label(lines: Iterable[str], *, left: bool = False) -> str:
    # nohtml: a name such as "<ไม่ทราบ>" must not be read as an HTML-like label.
    text = "".join(f"{line}\\l" for line in lines) if left else "\\n".join(lines)  # "\\l": left-justified
    label: str = graphviz.nohtml(text)  # still a NoHtml: str() would drop the marker
    return label


def thai_date_short(value: date) -> str:
    """A date as stamps and diagrams write it: `๑๔ พ.ค. ๖๓`."""
    return format_thai_date(value, abbreviated=True)


def thai_number(value: int) -> str:
    return to_thai_digits(str(value))


def slack_text(slack: int) -> str:
    """Working days left or over: `เหลือ ๓ วันทำการ` / `เกิน ๒ วันทำการ`.

    >>> slack_text(3), slack_text(-2)
    ('เหลือ ๓ วันทำการ', 'เกิน ๒ วันทำการ')
    """
    if slack < 0:
        return f"เกิน {thai_number(-slack)} วันทำการ"
    return f"เหลือ {thai_number(slack)} วันทำการ"


def status_counts_text(summary: Iterable[tuple[str, int]]) -> str:
    """Counts by status on a collapsed node, worst first: `เกินกำหนด ๒ · ล่าช้า ๓ · ตรงเวลา ๕๐`."""
    counts = dict(summary)
    return " · ".join(
        f"{STATUS_STYLE[s][2]} {thai_number(counts[s])}" for s in STATUS_SEVERITY if counts.get(s)
    )


def node_label_lines(node: DiagramNode) -> list[str]:
    """The lines of an agency's label: name, folded counts, receipt stamps, deadline, slack."""
    lines = [_text(node.name_th)]
    if node.folded_levels:
        lines.append(
            " · ".join(f"{LEVEL_SHORT[level]} {thai_number(n)}" for level, n in node.folded_levels if n)
        )
    if node.summary:
        lines.append(status_counts_text(node.summary))
    for stamp in node.receipts:
        parts = [f"เลขรับ {_text(stamp.number)}" if stamp.number else "เลขรับ -"]
        if stamp.date:
            parts.append(thai_date_short(stamp.date))
        if stamp.time:
            parts.append(format_thai_time(stamp.time))
        lines.append(" · ".join(parts))
    if node.latest:
        lines.append(f"ภายใน {thai_date_short(node.latest)}")
    if node.done:
        lines.append(f"ดำเนินการ {thai_date_short(node.done)}")
    elif node.expected:
        lines.append(f"คาดว่า {thai_date_short(node.expected)}")
    if node.slack is not None:
        lines.append(slack_text(node.slack))
    return lines


def letter_line(letter: EdgeLetter) -> str:
    """`มท 0812/ว 1434 · ๑๔ พ.ค. ๖๓` (the number alone when its date is unknown)."""
    if letter.date is None:
        return _text(letter.number)
    return f"{_text(letter.number)} · {thai_date_short(letter.date)}"


def edge_label_lines(edge: DiagramEdge) -> list[str]:
    """What an edge says: `มท 0812/ว 1434` over `๑๔ พ.ค. ๖๓` for one letter; one line per letter
    (number · date) when it carries several; its `note` when no letter passed; and on a collapsed
    edge how many handoffs it stands for.

    >>> from visualize.model import letter_edge
    >>> edge_label_lines(letter_edge("dla", "province:54", "มท 0812/ว 1434", date(2020, 5, 14)))
    ['มท 0812/ว 1434', '๑๔ พ.ค. ๖๓']
    """
    lines = []
    if len(edge.letters) == 1:
        only = edge.letters[0]
        lines.append(_text(only.number))
        if only.date:
            lines.append(thai_date_short(only.date))
    else:
        lines += [letter_line(letter) for letter in edge.letters]
    if edge.note:
        lines.append(_text(edge.note))
    if edge.count > 1:
        lines.append(f"{thai_number(edge.count)} ฉบับ")
    return lines


def wrap_text(text: str, width: int = EVIDENCE_WRAP) -> list[str]:
    """Break `text` into lines of at most `width` characters, at spaces where it can, never
    before a Thai vowel or tone mark (a combining character belongs to the letter before it).

    >>> wrap_text("running number 85 vs 55: ๕/๘ OCR confusion", 20)
    ['running number 85 vs', '55: ๕/๘ OCR', 'confusion']
    >>> wrap_text("กรมส่งเสริมการปกครองท้องถิ่น", 10)
    ['กรมส่งเสริ', 'มการปกครอง', 'ท้องถิ่น']
    """
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        while len(word) > width:
            cut = width
            while cut > 1 and unicodedata.combining(word[cut]):
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        current = word
    if current:
        lines.append(current)
    return lines


_INDENT: Final = "    "


def evidence_lines(item: Evidence, width: int = EVIDENCE_WRAP) -> list[str]:
    """An auditor's note on one piece of evidence, wrapped, nothing cut off:
    `ไฟล์ 000.txt:12 — ...`, `ตรารับ — เลขรับ 1515 ...`; continuation lines are indented.
    """
    head = EVIDENCE_TITLES[item.kind]
    if item.where:
        head = f"{head} {_text(item.where)}"
    text = _text(item.text)
    if not text:
        return [head]
    first, *rest = wrap_text(f"{head} — {text}", width)
    more = wrap_text(" ".join(rest), width - len(_INDENT)) if rest else []
    return [first, *(_INDENT + line for line in more)]


def evidence_line(item: Evidence) -> str:
    """One piece of evidence on one line, whole (tooltips): `ตรารับ — เลขรับ 1515 ...`."""
    return " ".join(line.strip() for line in evidence_lines(item, width=10_000))


# --- ids -------------------------------------------------------------------------------------


def dot_id(agency: str) -> str:
    """The DOT node name of an agency id. Colons would read as ports in an edge, so escape them.

    >>> dot_id("province:54")
    'province%3A54'
    """
    return agency.replace("%", "%25").replace(":", "%3A")


def agency_url(agency: str) -> str:
    """The dashboard page of an agency.

    >>> agency_url("province:54")
    '/agencies/province:54'
    """
    return AGENCY_URL_PREFIX + url_quote(agency, safe=":")


def letter_url(letter: EdgeLetter) -> str:
    """The dashboard page of a letter: its number with the slash encoded, and its date, since
    running numbers restart every year.

    >>> letter_url(EdgeLetter("นร 1220/55", date(2020, 5, 27)))
    '/letters/%E0%B8%99%E0%B8%A3%201220%2F55?date=2020-05-27'
    """
    url = LETTER_URL_PREFIX + url_quote(letter.number, safe="")
    return f"{url}?{urlencode({'date': letter.date.isoformat()})}" if letter.date else url


# --- graph walks -----------------------------------------------------------------------------


def upstream(diagram: RoutingDiagram, *agencies: str) -> set[str]:
    """The agencies a letter passed through to reach `agencies` (included), following edges back.

    >>> from visualize.samples import chain_sample
    >>> sorted(upstream(chain_sample(), "dla"))
    ['cabinet', 'dla', 'moi', 'opdc']
    """
    incoming: dict[str, list[str]] = defaultdict(list)
    for e in diagram.edges:
        incoming[e.target].append(e.source)
    seen = set(agencies)
    queue = deque(agencies)
    while queue:
        for source in incoming[queue.popleft()]:
            if source not in seen:
                seen.add(source)
                queue.append(source)
    return seen


# --- the forwarding diagram ------------------------------------------------------------------


def _base_graph(
    diagram: RoutingDiagram, name: str, rankdir: str, more: Iterable[str] = ()
) -> graphviz.Digraph:
    # A long title (a circular's full subject, a record-only note) wraps rather than setting the
    # width of the whole drawing.
    title = wrap_text(_text(diagram.title), TITLE_WRAP) + list(more)
    when = []
    if diagram.deadline:
        when.append(f"กำหนดส่ง {format_thai_date(diagram.deadline)}")
    if diagram.as_of:
        when.append(f"สถานะ ณ วันที่ {format_thai_date(diagram.as_of)}")
    if when:
        title.append(" · ".join(when))
    g = graphviz.Digraph(name=name)
    g.attr(
        "graph",
        label=_label(title),
        labelloc="t",
        fontname=THAI_FONT,
        fontsize="18",
        rankdir=rankdir,
        ranksep="0.6",
        nodesep="0.15",
        # SVG clicks in the dashboard should navigate the page, not the <object> holding the SVG.
        target="_top",
    )
    g.attr("node", fontname=THAI_FONT, fontsize="11", shape="box", style="rounded,filled")
    g.attr("edge", fontname=THAI_FONT, fontsize="9", arrowsize="0.7")
    return g


DRILL_TEXT: Final = "ดูแผนภาพรายอำเภอ ›"


def drill_url(node: DiagramNode, *, as_of: date | None = None) -> str | None:
    """For a province folded into one node (the national view): the same page narrowed to it
    (`?province=54`, the circular page's filter, at its diagram), keeping `as_of`; else None.

    >>> from visualize.samples import chain_sample
    >>> drill_url(collapse(chain_sample()).node("province:54"), as_of=date(2020, 7, 1))
    '?province=54&as_of=2020-07-01#graph'
    >>> drill_url(chain_sample().node("province:54")) is None
    True
    """
    if not (node.collapsed and node.level is Level.PROVINCE and node.id.startswith("province:")):
        return None
    query = {"province": node.id.split(":", 1)[1]}
    if as_of is not None:
        query["as_of"] = as_of.isoformat()
    return f"?{urlencode(query)}#graph"


def _drill_label(node: DiagramNode, url: str) -> str:
    """A folded province's label with a link of its own under it to the province's diagram;
    the node itself still leads to the agency's page."""
    cells = [f"<TR><TD>{_html(line)}</TD></TR>" for line in node_label_lines(node)]
    cells.append(
        f'<TR><TD HREF="{_html(url)}" TARGET="_top" ID="drill:{_html(node.id)}"'
        f' TOOLTIP="{_html(f"แผนภาพของ{node.name_th} รายอำเภอ")}">'
        f'<FONT COLOR="{FOCUS_COLOUR}"><U>{_html(DRILL_TEXT)}</U></FONT></TD></TR>'
    )
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{"".join(cells)}</TABLE>>'


def with_statuses(diagram: RoutingDiagram, statuses: Mapping[str, str]) -> RoutingDiagram:
    """The diagram with its agencies' statuses taken from `statuses` (agency id -> status), and
    each edge given the status of the agency it leads to, as the diagrams draw it.

    Lets the caller draw the statuses of the read model the tables show (`blocked` among them);
    agencies not named keep theirs. Folded nodes take the new statuses when collapsed afterwards.

    >>> from visualize.samples import chain_sample
    >>> d = with_statuses(chain_sample(), {"district:5401": "blocked"})
    >>> d.node("district:5401").status, [e.status for e in d.edges if e.target == "district:5401"]
    ('blocked', ['blocked'])
    """
    for agency, status in statuses.items():
        if status not in STATUS_STYLE:
            raise DiagramError(
                f"agency {agency!r}: unknown status {status!r}; expected one of {sorted(STATUS_STYLE)}"
            )
    nodes = tuple(replace(n, status=statuses[n.id]) if n.id in statuses else n for n in diagram.nodes)
    edges = tuple(replace(e, status=statuses[e.target]) if e.target in statuses else e for e in diagram.edges)
    return replace(diagram, nodes=nodes, edges=edges)


def _node_attrs(
    node: DiagramNode, *, faded: bool, focused: bool, drill: bool = False, as_of: date | None = None
) -> dict[str, str]:
    line, fill, status_th = STATUS_STYLE[node.status]
    tooltip = [_text(node.name_th), status_th, node.id]
    if node.summary:
        tooltip.append(status_counts_text(node.summary))
    attrs = {
        "label": _label(node_label_lines(node)),
        "id": node.id,
        "URL": agency_url(node.id),
        "tooltip": _label(tooltip),
        "color": line,
        "fillcolor": fill,
        "class": f"agency status-{node.status} level-{node.level.value}",
    }
    style = ["rounded", "filled"]
    if node.status in DASHED_STATUSES:
        style.append("dashed")
    if node.critical:
        attrs["penwidth"] = CRITICAL_PENWIDTH
        if node.status not in DASHED_STATUSES:
            style.append("bold")
    attrs["style"] = ",".join(style)
    if faded:
        attrs.update(color=FADED_COLOUR, fontcolor="#9e9e9e", fillcolor="#fafafa")
    if focused:
        attrs.update(color=FOCUS_COLOUR, penwidth="4", peripheries="2")
    drill_to = drill_url(node, as_of=as_of) if drill else None
    if drill_to is not None:
        attrs["label"] = _drill_label(node, drill_to)
        attrs["class"] += " drill"
    return attrs


def _html(value: str) -> str:
    """Free text inside an HTML-like label: one line, markup characters escaped."""
    return html.escape(" ".join(value.split()), quote=True)


def _edge_label(edge: DiagramEdge, index: int) -> str:
    """The edge's label; each letter on it is a link to the letter's page.

    Plain text when no letter passed; otherwise an HTML-like table, since only a table cell
    can carry its own link: an edge with two letters links each to its own page.
    """
    if not edge.letters:
        return _label(edge_label_lines(edge))
    rows: list[tuple[str, EdgeLetter | None]] = []
    if len(edge.letters) == 1:
        only = edge.letters[0]
        rows.append((only.number, only))
        if only.date:
            rows.append((thai_date_short(only.date), only))
    else:
        rows += [(letter_line(letter), letter) for letter in edge.letters]
    if edge.note:
        rows.append((edge.note, None))
    if edge.count > 1:
        rows.append((f"{thai_number(edge.count)} ฉบับ", None))
    cells = []
    for row, (text, letter) in enumerate(rows):
        attrs = ""
        if letter is not None:
            tip = f"{letter.number} ลงวันที่ {format_thai_date(letter.date)}" if letter.date else letter.number
            attrs = (
                f' HREF="{_html(letter_url(letter))}" TARGET="_top" TOOLTIP="{_html(tip)}"'
                f' ID="edge:{index}:letter:{row}"'
            )
        cells.append(f"<TR><TD{attrs}>{_html(text)}</TD></TR>")
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0">{"".join(cells)}</TABLE>>'


def _edge_tooltip(edge: DiagramEdge) -> str:
    said = [letter_line(letter) for letter in edge.letters] or [edge.note or "หนังสือไม่ทราบเลขที่"]
    return " · ".join([*said, STATUS_STYLE[edge.status][2]])


def _edge_attrs(edge: DiagramEdge, index: int, *, faded: bool, on_focus_path: bool) -> dict[str, str]:
    line = STATUS_STYLE[edge.status][0]
    attrs = {
        "id": f"edge:{index}:{edge.source}->{edge.target}",
        "color": line,
        "fontcolor": line,
        "tooltip": _label([_edge_tooltip(edge)]),
        # An HTML-like label otherwise gets graphviz's default tooltip: the text "<TABLE>".
        "labeltooltip": _label([_edge_tooltip(edge)]),
        "class": f"handoff status-{edge.status}",
    }
    if edge.letters:
        # The line itself leads to the newest letter on it; each letter in the label to its own.
        attrs["URL"] = letter_url(edge.letters[-1])
    style = []
    if not edge.letters and edge.note is None:
        # No letter on file for this handoff: only the plan expects it (or the record cannot say
        # what passed). Drawn dashed, apart from the handoffs a letter proves.
        style.append("dashed")
        attrs["class"] += " planned"
    if edge.critical:
        attrs["penwidth"] = CRITICAL_PENWIDTH
        style.append("bold")
    if style:
        attrs["style"] = ",".join(style)
    if faded:
        attrs.update(color=FADED_COLOUR, fontcolor="#bdbdbd")
    if on_focus_path:
        attrs.update(color=FOCUS_COLOUR, fontcolor=FOCUS_COLOUR)
        attrs.setdefault("penwidth", "2")
    return attrs


LEGEND_TITLE: Final = "คำอธิบายสัญลักษณ์"


def _legend_label() -> str:
    """The legend as one HTML-like table: its title, a swatch per status, the critical path.

    One node rather than a cluster of sample nodes: it takes a few lines of height instead of a
    column of boxes, so the drawing stays short enough to show whole in the dashboard.
    """
    rows = [f'<TR><TD COLSPAN="2" CELLPADDING="3"><B>{_html(LEGEND_TITLE)}</B></TD></TR>']
    for status in STATUS_SEVERITY:
        line, fill, status_th = STATUS_STYLE[status]
        look = "rounded,dashed" if status in DASHED_STATUSES else "rounded"
        rows.append(
            f'<TR><TD WIDTH="22" HEIGHT="14" BGCOLOR="{fill}" COLOR="{line}" BORDER="1" STYLE="{look}"'
            f' ID="legend:{status}"></TD>'
            f'<TD ALIGN="LEFT" CELLPADDING="2">{_html(LEGEND_STATUS_TEXT.get(status, status_th))}</TD></TR>'
        )
    rows.append(
        '<TR><TD HEIGHT="14"><FONT POINT-SIZE="14"><B>━━</B></FONT></TD>'
        f'<TD ALIGN="LEFT" CELLPADDING="2">{_html("เส้นทางวิกฤต (เส้นหนา)")}</TD></TR>'
    )
    rows.append(
        '<TR><TD HEIGHT="14" ID="legend:planned"><FONT POINT-SIZE="10">╌╌╌</FONT></TD>'
        f'<TD ALIGN="LEFT" CELLPADDING="2">{_html(PLANNED_EDGE_NOTE)}</TD></TR>'
    )
    rows.append(
        '<TR><TD HEIGHT="14"><I>คาดว่า</I></TD>'
        f'<TD ALIGN="LEFT" CELLPADDING="2">{_html(PROJECTED_NOTE)}</TD></TR>'
    )
    return f'<<TABLE BORDER="1" COLOR="#bdbdbd" CELLBORDER="0" CELLSPACING="2" STYLE="rounded">{"".join(rows)}</TABLE>>'


def _add_legend(g: graphviz.Digraph) -> None:
    g.node(
        dot_id("legend"),
        label=_legend_label(),
        shape="plaintext",
        style="",
        fontsize="10",
        id="legend",
        tooltip=LEGEND_TITLE,
    )


def forwarding_diagram(
    diagram: RoutingDiagram,
    *,
    focus: str | None = None,
    show_evidence: bool = False,
    legend: bool = True,
    rankdir: str = "LR",
    drill: bool = False,
    link_as_of: date | None = None,
    box_max: int | None = None,
) -> graphviz.Digraph:
    """The forwarding diagram: agencies in clusters by level, letters on the edges.

    Node colour is the agency's status, its label carries the receipt stamps, the latest date
    it may act (ภายใน) and its slack; the critical path is drawn heavier. `focus` fades every
    agency except the focused one and the chain the letter took to reach it. With
    `show_evidence` each edge passes through a note listing the evidence behind it. For the
    dashboard, `drill` gives a folded province a link to the page narrowed to it (`drill_url`),
    keeping the day judged by (`link_as_of`). A level of more than `box_max` agencies is drawn
    without its box (its name and count go in the title): `dot` keeps a box's members in one
    column, while unboxed they can be staggered into several (`visualize.render`'s `stagger`).

    >>> from visualize.samples import chain_sample
    >>> src = forwarding_diagram(chain_sample(), focus="province:54").source
    >>> 'URL="/agencies/province:54"' in src and "penwidth=3" in src
    True
    """
    if focus is not None and focus not in diagram.by_id:
        raise DiagramError(f"focus agency {focus!r} is not in diagram {diagram.title!r}")
    path = upstream(diagram, focus) if focus is not None else None

    by_level: dict[Level, list[DiagramNode]] = defaultdict(list)
    for node in diagram.nodes:
        by_level[node.level].append(node)
    unboxed = [lv for lv in LEVEL_ORDER if box_max is not None and len(by_level.get(lv, ())) > box_max]
    counts = " · ".join(f"{LEVEL_TITLES[lv]} {thai_number(len(by_level[lv]))} แห่ง" for lv in unboxed)
    g = _base_graph(
        diagram, "forwarding" if not show_evidence else "evidence", rankdir, [counts] if counts else []
    )
    for level in LEVEL_ORDER:
        members = by_level.get(level)
        if not members:
            continue
        boxed = level not in unboxed
        with g.subgraph(name=f"cluster_{level.value}" if boxed else f"level_{level.value}") as cluster:
            if boxed:
                cluster.attr(
                    label=f"{LEVEL_TITLES[level]} ({thai_number(len(members))})",
                    style="rounded,dashed",
                    color="#9e9e9e",
                    fontsize="14",
                    id=f"cluster:{level.value}",
                )
            for node in members:
                faded = path is not None and node.id not in path
                attrs = _node_attrs(
                    node, faded=faded, focused=node.id == focus, drill=drill, as_of=link_as_of
                )
                cluster.node(dot_id(node.id), **attrs)

    for index, edge in enumerate(diagram.edges):
        on_path = path is not None and edge.source in path and edge.target in path
        attrs = _edge_attrs(edge, index, faded=path is not None and not on_path, on_focus_path=on_path)
        source, target = dot_id(edge.source), dot_id(edge.target)
        if show_evidence:
            _add_evidence_edge(g, edge, index, source, target, attrs)
        else:
            g.edge(source, target, label=_edge_label(edge, index), **attrs)

    if legend:
        _add_legend(g)
    return g


def _add_evidence_edge(
    g: graphviz.Digraph, edge: DiagramEdge, index: int, source: str, target: str, attrs: dict[str, str]
) -> None:
    # An edge cannot carry a node, so the handoff is drawn through its note: the auditor sees
    # which evidence belongs to which letter without guessing from label positions.
    note = dot_id(f"evidence:{index}")
    lines = edge_label_lines(edge) or ["หนังสือไม่ทราบเลขที่"]
    if edge.evidence:
        lines += [line for item in edge.evidence for line in evidence_lines(item)]
    else:
        lines.append("ไม่มีหลักฐาน")
    extra = {"URL": attrs["URL"]} if "URL" in attrs else {}
    g.node(
        note,
        label=_label(lines, left=True),
        shape="note",
        style="filled" if edge.evidence else "filled,dashed",
        fillcolor="#fffde7",
        color=attrs["color"],
        fontsize="9",
        id=f"evidence:{index}",
        tooltip=_label([_edge_tooltip(edge), *(evidence_line(item) for item in edge.evidence)]),
        **extra,
    )
    first = {**attrs, "id": attrs["id"] + ":in", "arrowhead": "none"}
    g.edge(source, note, **first)
    g.edge(note, target, **attrs)


def evidence_diagram(diagram: RoutingDiagram, *, focus: str | None = None) -> graphviz.Digraph:
    """The auditor's view: every handoff passes through a note naming its evidence
    (file and line, receipt stamp, citation, merges of misread numbers and why).

    >>> from visualize.samples import chain_sample
    >>> "shape=note" in evidence_diagram(chain_sample()).source
    True
    """
    return forwarding_diagram(diagram, focus=focus, show_evidence=True)


# --- national scale --------------------------------------------------------------------------

_FOLDED_BELOW: Final[dict[Level, frozenset[Level]]] = {
    Level.PROVINCE: frozenset({Level.DISTRICT, Level.LOCAL}),
    Level.DISTRICT: frozenset({Level.LOCAL}),
}


def _fold_key(node: DiagramNode, level: Level) -> str | None:
    if node.level not in _FOLDED_BELOW[level]:
        return None
    key = node.province if level is Level.PROVINCE else node.district
    return key if key and key != node.id else None


def _merge_edges(edges: list[DiagramEdge], source: str, target: str) -> DiagramEdge:
    if len(edges) == 1:
        return replace(edges[0], source=source, target=target)
    letters: dict[EdgeLetter, None] = {}
    for e in edges:
        letters.update(dict.fromkeys(e.letters))
    notes = {e.note for e in edges}
    evidence: dict[Evidence, None] = {}
    for e in edges:
        evidence.update(dict.fromkeys(e.evidence))
    return DiagramEdge(
        source=source,
        target=target,
        letters=tuple(sorted(letters, key=lambda x: (x.date or date.min, x.number)))
        if len(letters) <= MERGED_LETTERS_MAX
        else (),
        status=worst_status(e.status for e in edges),
        critical=any(e.critical for e in edges),
        evidence=tuple(evidence),
        count=sum(e.count for e in edges),
        note=notes.pop() if len(notes) == 1 else None,
    )


def collapse(diagram: RoutingDiagram, level: Level | str = Level.PROVINCE) -> RoutingDiagram:
    """Fold every agency below `level` into its province (or district) node.

    The folded node keeps its own deadline and slack, takes the worst status of everything
    folded into it, is critical if any member is, and records the counts by status (`summary`)
    and by level. Edges inside a fold disappear; edges leaving or entering it are redirected to
    the fold and merged per pair of endpoints.

    >>> from visualize.samples import chain_sample
    >>> phrae = collapse(chain_sample()).node("province:54")
    >>> phrae.collapsed, dict(phrae.folded_levels)[Level.DISTRICT] > 0
    (6, True)
    """
    try:
        level = Level(level)
    except ValueError:
        raise DiagramError(f"cannot collapse to level {level!r}; use 'province' or 'district'") from None
    if level not in _FOLDED_BELOW:
        raise DiagramError(f"cannot collapse to level {level.value!r}; use 'province' or 'district'")

    owner: dict[str, str] = {}
    members: dict[str, list[DiagramNode]] = defaultdict(list)
    for node in diagram.nodes:
        key = _fold_key(node, level)
        if key is not None:
            owner[node.id] = key
            members[key].append(node)

    nodes: list[DiagramNode] = []
    for node in diagram.nodes:
        if node.id in owner:
            continue
        folded = members.pop(node.id, None)
        nodes.append(_fold(node, folded) if folded else node)
    for key, folded in members.items():  # folds whose own agency is not in the diagram
        stub = DiagramNode(id=key, name_th=key, level=level, status="unknown", province=folded[0].province)
        nodes.append(_fold(stub, folded))

    grouped: dict[tuple[str, str], list[DiagramEdge]] = defaultdict(list)
    for e in diagram.edges:
        source, target = owner.get(e.source, e.source), owner.get(e.target, e.target)
        if source != target:
            grouped[source, target].append(e)
    edges = tuple(_merge_edges(es, s, t) for (s, t), es in grouped.items())
    return replace(diagram, nodes=tuple(nodes), edges=edges)


def _fold(node: DiagramNode, folded: list[DiagramNode]) -> DiagramNode:
    by_status = Counter(n.status for n in folded)
    by_level = Counter(n.level for n in folded)
    return replace(
        node,
        status=worst_status([node.status, *by_status]),
        critical=node.critical or any(n.critical for n in folded),
        summary=tuple((s, by_status[s]) for s in STATUS_SEVERITY if by_status[s]),
        folded_levels=tuple((lv, by_level[lv]) for lv in LEVEL_ORDER if by_level[lv]),
    )


def drill_down(
    diagram: RoutingDiagram,
    *,
    province: str | None = None,
    district: str | None = None,
    ancestors: bool = False,
) -> RoutingDiagram:
    """One province (its districts and local bodies) or one district, in full.

    With `ancestors` the agencies upstream of it (the chain from the Cabinet down) are kept too,
    so the letter that reached the province shows on its incoming edge.

    >>> from visualize.samples import chain_sample
    >>> sorted(n.level.value for n in drill_down(chain_sample(), district="district:5401").nodes)
    ['district', 'local', 'local']
    """
    if (province is None) == (district is None):
        raise DiagramError("drill_down needs exactly one of province= or district=")
    if province is not None:
        keep = {n.id for n in diagram.nodes if n.in_province(province)}
        root, what = province, "province"
    else:
        assert district is not None
        keep = {n.id for n in diagram.nodes if n.in_district(district)}
        root, what = district, "district"
    if not keep:
        raise DiagramError(f"no {what} {root!r} in diagram {diagram.title!r}")
    name = diagram.by_id[root].name_th if root in diagram.by_id else root
    if ancestors:
        keep = upstream(diagram, *keep)
    return replace(
        diagram,
        title=f"{diagram.title} — {name}",
        nodes=tuple(n for n in diagram.nodes if n.id in keep),
        edges=tuple(e for e in diagram.edges if e.source in keep and e.target in keep),
    )


__all__ = [
    "STATUS_STYLE",
    "THAI_FONT",
    "THAI_FONT_FALLBACKS",
    "DiagramError",
    "DiagramModelError",
    "collapse",
    "drill_down",
    "drill_url",
    "evidence_diagram",
    "forwarding_diagram",
    "with_statuses",
]
