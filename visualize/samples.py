"""Synthetic routing diagrams for tests, docs and the render benchmark.

`chain_sample` is a small chain shaped like the seed letters (Cabinet → OPDC → Interior → DLA →
provinces → districts → local bodies); `national_sample` is a circular of national shape: the
centre, 77 provinces, 878 districts and about 7,850 local bodies, with a deterministic
timeline and statuses. Province and district names come from geothai (DOPA data, CC-BY-4.0);
local bodies are named after the sub-districts they would sit in, since no package lists them.
Letter codes here are made up, not the real ones.

Examples:
    >>> d = national_sample()
    >>> sum(n.level is Level.PROVINCE for n in d.nodes), sum(n.level is Level.DISTRICT for n in d.nodes)
    (77, 878)
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, time, timedelta
from functools import cache

import geothai
from geothai.types import District

from models.letters import Level
from visualize.model import (
    DiagramEdge,
    DiagramNode,
    EdgeLetter,
    Evidence,
    ReceiptLabel,
    RoutingDiagram,
    letter_edge,
)

SAMPLE_DEADLINE = date(2020, 6, 30)
SAMPLE_TODAY = date(2020, 6, 26)
SAMPLE_TITLE = "แผนการปฏิรูปประเทศ (ตัวอย่างสังเคราะห์)"
BANGKOK_CODE = "10"


def working_days_between(start: date, end: date) -> int:
    """Monday-to-Friday days from `start` to `end` (negative when `end` is earlier).

    Holidays are ignored: the samples only need plausible slack, not the official calendar.

    >>> working_days_between(date(2020, 6, 26), date(2020, 6, 30))
    2
    """
    sign = 1
    if end < start:
        start, end, sign = end, start, -1
    days = sum(1 for i in range(1, (end - start).days + 1) if (start + timedelta(i)).weekday() < 5)
    return sign * days


def _status(done: date | None, latest: date, today: date) -> str:
    if done is not None:
        return "on_time" if done <= latest else "late"
    return "overdue" if today > latest else "pending"


def _pseudo_code(name: str) -> str:
    """Two Thai consonants standing in for a province's letter code (not the official one)."""
    consonants = [c for c in name if "ก" <= c <= "ฮ"]
    return "".join(consonants[:2]) or "จว"


def _central(today: date) -> tuple[list[DiagramNode], list[DiagramEdge]]:
    nodes = [
        DiagramNode("cabinet", "คณะรัฐมนตรี", Level.CABINET, "done", done=date(2020, 3, 31)),
        DiagramNode(
            "opdc", "สำนักงาน ก.พ.ร.", Level.CENTRAL, "done", parent="cabinet", done=date(2020, 5, 27)
        ),
        DiagramNode(
            "moi",
            "กระทรวงมหาดไทย",
            Level.MINISTRY,
            "done",
            parent="cabinet",
            done=date(2020, 5, 29),
            receipts=(ReceiptLabel("92093", date(2020, 5, 29)), ReceiptLabel("782", date(2020, 5, 29))),
        ),
        DiagramNode(
            "dla",
            "กรมส่งเสริมการปกครองท้องถิ่น",
            Level.DEPARTMENT,
            "done",
            parent="moi",
            done=date(2020, 5, 14),
            critical=True,
        ),
    ]
    edges = [
        DiagramEdge("cabinet", "opdc", status="done", critical=True, note="มติ ครม. ๓๑ มี.ค. ๒๕๖๓"),
        letter_edge(
            "opdc",
            "moi",
            "นร 1220/55",
            date(2020, 5, 27),
            "done",
            critical=True,
            evidence=(
                Evidence("file", "หนังสือฉบับนี้อ่านได้จากไฟล์ตัวอย่าง", "samples/opdc-moi.txt", 3),
                Evidence("receipt", "เลขรับ 92093 วันที่ 29 พ.ค. 63", "samples/opdc-moi.txt", 1),
                Evidence("merge", "นร 1220/85 ถือเป็นฉบับเดียวกับ นร 1220/55: OCR อ่าน ๕ เป็น ๘"),
            ),
        ),
        letter_edge("moi", "dla", None, None, "done", critical=True),
    ]
    return nodes, edges


def chain_sample(today: date = SAMPLE_TODAY) -> RoutingDiagram:
    """A small diagram shaped like the seed chain: three provinces, Phrae drawn down to local bodies.

    >>> d = chain_sample()
    >>> len(d.nodes), d.node("province:54").status
    (13, 'late')
    """
    nodes, edges = _central(today)
    p54, p21, p12 = "province:54", "province:21", "province:12"
    nodes += [
        DiagramNode(
            p54,
            "จังหวัดแพร่",
            Level.PROVINCE,
            "late",
            parent="moi",
            province=p54,
            latest=date(2020, 6, 16),
            done=date(2020, 6, 23),
            slack=-5,
            critical=True,
            receipts=(ReceiptLabel("4410", date(2020, 5, 18), time(10, 15)),),
        ),
        DiagramNode(
            p21,
            "จังหวัดระยอง",
            Level.PROVINCE,
            "on_time",
            parent="moi",
            province=p21,
            latest=date(2020, 6, 16),
            done=date(2020, 6, 3),
            slack=9,
            receipts=(ReceiptLabel("1515", date(2020, 6, 2), time(13, 30)),),
        ),
        DiagramNode(
            p12,
            "จังหวัดนนทบุรี",
            Level.PROVINCE,
            "pending",
            parent="moi",
            province=p12,
            latest=date(2020, 6, 29),
            expected=date(2020, 6, 26),
            slack=1,
            receipts=(ReceiptLabel("011099", date(2020, 6, 22)), ReceiptLabel("642", date(2020, 6, 24))),
        ),
        DiagramNode(
            "district:5401",
            "อำเภอเมืองแพร่",
            Level.DISTRICT,
            "on_time",
            parent=p54,
            province=p54,
            latest=date(2020, 6, 25),
            done=date(2020, 6, 24),
            slack=1,
            critical=True,
        ),
        DiagramNode(
            "district:5402",
            "อำเภอร้องกวาง",
            Level.DISTRICT,
            "overdue",
            parent=p54,
            province=p54,
            latest=date(2020, 6, 25),
            slack=-1,
        ),
        DiagramNode(
            "local:pao:54",
            "องค์การบริหารส่วนจังหวัดแพร่",
            Level.LOCAL,
            "done",
            parent=p54,
            province=p54,
            latest=date(2020, 6, 30),
            done=date(2020, 6, 29),
            slack=1,
        ),
        DiagramNode(
            "local:tm:540101",
            "เทศบาลเมืองแพร่",
            Level.LOCAL,
            "pending",
            parent="district:5401",
            province=p54,
            district="district:5401",
            latest=date(2020, 6, 30),
            expected=date(2020, 6, 30),
            slack=0,
            critical=True,
        ),
        DiagramNode(
            "local:sao:540102",
            "องค์การบริหารส่วนตำบลป่าแมต",
            Level.LOCAL,
            "on_time",
            parent="district:5401",
            province=p54,
            district="district:5401",
            latest=date(2020, 6, 30),
            done=date(2020, 6, 26),
            slack=2,
        ),
        DiagramNode(
            "local:sao:540201",
            "องค์การบริหารส่วนตำบลร้องกวาง",
            Level.LOCAL,
            "pending",
            parent="district:5402",
            province=p54,
            district="district:5402",
            latest=date(2020, 6, 30),
        ),
    ]
    phrae_letter = ("พร 0023.1/ว 3026", date(2020, 6, 23))
    edges += [
        DiagramEdge(
            "dla",
            p54,
            (
                EdgeLetter("มท 0812/ว 1217", date(2020, 4, 20)),
                EdgeLetter("มท 0812/ว 1434", date(2020, 5, 14)),
            ),
            "done",
            critical=True,
            evidence=(
                Evidence(
                    "citation", "สิ่งที่ส่งมาด้วยของ พร 0023.1/ว 3026: มท 0812/ว 1217", "samples/phrae.txt", 12
                ),
                Evidence(
                    "citation", "สิ่งที่ส่งมาด้วยของ พร 0023.1/ว 3026: มท 0812/ว 1434", "samples/phrae.txt", 14
                ),
            ),
        ),
        letter_edge(
            "moi",
            p21,
            "มท 0218/ว 3182",
            date(2020, 6, 1),
            "done",
            evidence=(Evidence("receipt", "เลขรับ 1515 วันที่ 2 มิ.ย. 63 เวลา 13.30", "samples/rayong.txt", 2),),
        ),
        letter_edge("opdc", p12, "นร 1200/ว 0018", date(2020, 6, 18), "pending"),
        letter_edge(p54, "district:5401", *phrae_letter, "late", critical=True),
        letter_edge(p54, "district:5402", *phrae_letter, "late"),
        letter_edge(p54, "local:pao:54", *phrae_letter, "late"),
        letter_edge("district:5401", "local:tm:540101", "พร 0518/ว 211", date(2020, 6, 24), "on_time", True),
        letter_edge("district:5401", "local:sao:540102", "พร 0518/ว 211", date(2020, 6, 24), "on_time"),
        letter_edge("district:5402", "local:sao:540201", None, None, "overdue"),
    ]
    return RoutingDiagram(SAMPLE_TITLE, SAMPLE_DEADLINE, tuple(nodes), tuple(edges))


def _local_counts(districts: list[District], total: int, rng: random.Random) -> list[int]:
    """Spread `total` local bodies over districts, roughly by how many sub-districts each has."""
    weights = [max(1, len(geothai.subdistricts(d.code))) for d in districts]
    scale = total / sum(weights)
    counts = [max(1, int(w * scale)) for w in weights]
    while sum(counts) < total:
        counts[rng.randrange(len(counts))] += 1
    while sum(counts) > total:
        i = rng.randrange(len(counts))
        if counts[i] > 1:
            counts[i] -= 1
    return counts


@cache
def national_sample(
    *, seed: int = 0, today: date = SAMPLE_TODAY, locals_total: int = 7852, provinces: int | None = None
) -> RoutingDiagram:
    """A circular from DLA to every province, district and local body, with a synthetic timeline.

    Each agency forwards after a random delay; `latest` dates step back from the 30 June deadline
    (provinces 16 June, districts 25 June, local bodies 30 June), statuses and slack follow from
    the delays and `today`, and the critical path runs to the local body with the least slack.
    `provinces` limits the sample to the first n provinces (for small tests). The result is
    cached: it is immutable.
    """
    rng = random.Random(seed)
    nodes, edges = _central(today)
    dla_sent = date(2020, 5, 14)
    latest_by_level = {
        Level.PROVINCE: date(2020, 6, 16),
        Level.DISTRICT: date(2020, 6, 25),
        Level.LOCAL: SAMPLE_DEADLINE,
    }
    all_provinces = geothai.provinces()[:provinces] if provinces else geothai.provinces()
    regional = [p for p in all_provinces if p.code != BANGKOK_CODE]
    districts = [d for p in regional for d in geothai.districts(p.code)]
    # One PAO per province and Bangkok itself are local bodies too; the rest sit in districts.
    in_districts = max(len(districts), locals_total - len(regional) - 1)
    counts = iter(_local_counts(districts, in_districts, rng))

    def agency(
        id_: str,
        name: str,
        level: Level,
        parent: str,
        received: date,
        province: str,
        district: str | None = None,
    ) -> tuple[DiagramNode, date | None]:
        delay = int(rng.expovariate(1 / {Level.PROVINCE: 18, Level.DISTRICT: 5, Level.LOCAL: 4}[level]))
        finished = received + timedelta(days=1 + delay)
        latest = latest_by_level[level]
        done = finished if finished <= today else None
        expected = None if done else max(finished, today)
        slack = working_days_between(done or expected or today, latest)
        receipts: tuple[ReceiptLabel, ...] = ()
        if level is not Level.LOCAL:
            stamp_time = (
                time(rng.randrange(8, 17), rng.choice((0, 15, 30, 45))) if rng.random() < 0.6 else None
            )
            receipts = (ReceiptLabel(str(rng.randrange(1, 20000)), received + timedelta(days=1), stamp_time),)
        node = DiagramNode(
            id_,
            name,
            level,
            _status(done, latest, today),
            parent=parent,
            province=province,
            district=district,
            latest=latest,
            expected=expected,
            done=done,
            slack=slack,
            receipts=receipts,
        )
        return node, done

    def letter(code: str, owner: str, sent: date | None) -> tuple[str | None, date | None]:
        if sent is None:
            return None, None
        return f"{code} {owner}/ว {rng.randrange(100, 4000)}", sent

    for p in all_provinces:
        pid = f"province:{p.code}"
        pnode, p_done = agency(pid, f"จังหวัด{p.name_th}", Level.PROVINCE, "moi", dla_sent, pid)
        nodes.append(pnode)
        edges.append(
            letter_edge(
                "dla",
                pid,
                "มท 0812/ว 1434",
                dla_sent,
                "done",
                evidence=(
                    Evidence("receipt", f"เลขรับ {pnode.receipts[0].number}", f"synthetic/{p.code}.txt", 1),
                ),
            )
        )
        code = _pseudo_code(p.name_th)
        p_letter = letter(code, "0023.1", p_done)
        edge_status = pnode.status if pnode.status != "on_time" else "done"
        if p.code == BANGKOK_CODE:
            local_units = [("local:bma", "กรุงเทพมหานคร", pid, None)]
        else:
            local_units = [(f"local:pao:{p.code}", f"องค์การบริหารส่วนจังหวัด{p.name_th}", pid, None)]
        for d in geothai.districts(p.code) if p.code != BANGKOK_CODE else ():
            did = f"district:{d.code}"
            dnode, d_done = agency(did, f"อำเภอ{d.name_th}", Level.DISTRICT, pid, p_done or today, pid)
            nodes.append(dnode)
            edges.append(letter_edge(pid, did, *p_letter, edge_status))
            d_letter = letter(code, f"0{d.code[2:]}18", d_done)
            d_status = dnode.status if dnode.status != "on_time" else "done"
            subs = [sub.name_th for sub in geothai.subdistricts(d.code)] or [d.name_th]
            for i in range(next(counts)):
                sub = subs[i % len(subs)]
                if i == 0 and d.name_th.startswith("เมือง"):
                    kind, name = "tm", f"เทศบาลเมือง{sub}"
                elif rng.random() < 0.3:
                    kind, name = "tt", f"เทศบาลตำบล{sub}"
                else:
                    kind, name = "sao", f"องค์การบริหารส่วนตำบล{sub}"
                lid = f"local:{kind}:{d.code}{i:03d}"
                lnode, _ = agency(lid, name, Level.LOCAL, did, d_done or today, pid, did)
                nodes.append(lnode)
                edges.append(letter_edge(did, lid, *d_letter, d_status))
        for lid, name, parent, district in local_units:
            lnode, _ = agency(lid, name, Level.LOCAL, parent, p_done or today, pid, district)
            nodes.append(lnode)
            edges.append(letter_edge(pid, lid, *p_letter, edge_status))

    return _mark_critical(RoutingDiagram(SAMPLE_TITLE, SAMPLE_DEADLINE, tuple(nodes), tuple(edges)))


def _mark_critical(diagram: RoutingDiagram) -> RoutingDiagram:
    """Mark the chain from DLA to the local body with the least slack as the critical path."""
    locals_ = [n for n in diagram.nodes if n.level is Level.LOCAL and n.slack is not None]
    if not locals_:
        return diagram
    worst = min(locals_, key=lambda n: (n.slack, n.id))
    chain = {"cabinet", "opdc", "moi", "dla", worst.id, worst.province, worst.district}
    nodes = tuple(replace(n, critical=True) if n.id in chain else n for n in diagram.nodes)
    edges = tuple(
        replace(e, critical=True) if e.source in chain and e.target in chain else e for e in diagram.edges
    )
    return RoutingDiagram(diagram.title, diagram.deadline, nodes, edges)
