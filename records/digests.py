"""Alert digests: what one overdue sweep newly flags, grouped into one digest per responsible agency.

A sweep (`records.progress.sweep_overdue`) flags handoff rows that routing runs stored; each is
judged again here by the one read model (`records.progress.circular_state` as of the sweep's day),
which puts the blame where it belongs:

- `overdue`: the agency holds the letter past its due date: the digest goes to that agency;
- `blocked`: the agency never received the letter because its sender (or one above) has not
  forwarded it: the digest goes to the agency that holds it upstream, not to the one waiting;
- `late`: the agency forwarded after its due date (announced once): the digest goes to it.

A handoff the record now shows done or pending (a receipt or a letter arrived after the routing
run) is no alert. Each digest carries a Thai subject, body and one-line summary, and a link to the
agency's page on the dashboard as of the sweep's day (`{base}/agencies/{id}?as_of=D`).

`digests_for` and `group_digests` read and group; `log_digests` writes one `alert.digest` event
per digest to the record's event log, in the sweep's transaction.

Examples:
    >>> from datetime import date
    >>> items = [
    ...     DigestItem("c1", "district:2101", "อำเภอเมืองระยอง", "district", "มท 0218/ว 3182", "blocked",
    ...                date(2020, 6, 12), None, 13, "province:21"),
    ...     DigestItem("c1", "province:21", "จังหวัดระยอง", "province", "มท 0218/ว 3182", "overdue",
    ...                date(2020, 6, 10), None, 15, "province:21"),
    ... ]
    >>> [d.agency_id for d in group_digests(items, {"province:21": "จังหวัดระยอง"}, date(2020, 7, 1), "http://x")]
    ['province:21']
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from sqlmodel import Session, col, select

from models.tables import AgencyRow
from models.thai import format_thai_date, to_thai_digits
from records.events import NewEvent, append_event_rows, default_actor
from records.progress import ProgressError, SweepItem, SweepResult, circular_state
from routing.handoffs import HandoffStatus

DIGEST_KIND = "alert.digest"
# Statuses a digest reports, in the order its text lists them; and what each means, in Thai.
STATUSES = ("overdue", "blocked", "late")
# What each status means to the agency a digest goes to, in Thai.
STATUS_TH: Mapping[str, str] = {
    "overdue": "ค้างส่งต่อเกินกำหนด",
    "blocked": "หน่วยงานปลายทางยังไม่ได้รับหนังสือ",
    "late": "ส่งต่อล่าช้ากว่ากำหนด",
}
# Items named one by one in a message body and in an event; the rest are counted, behind the link.
LISTED = 30


@dataclass(frozen=True, slots=True)
class DigestItem:
    """One agency's flagged handoff of one circular, with the agency responsible for acting on it."""

    circular: str
    agency_id: str
    agency: str
    level: str
    letter: str
    status: str  # one of STATUSES
    due: date | None
    done: date | None  # the day it forwarded (late), else None
    days_over: int
    responsible_id: str

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(
                f"digest item of {self.agency_id} in {self.circular}: no such status {self.status!r}"
            )

    def as_dict(self) -> dict[str, Any]:
        return {
            "circular": self.circular, "agency_id": self.agency_id, "agency": self.agency, "level": self.level,
            "letter": self.letter, "status": self.status, "due": _iso(self.due), "done": _iso(self.done),
            "days_over": self.days_over,
        }  # fmt: skip

    def line_th(self) -> str:
        """One line of a message body, in Thai.

        >>> DigestItem("c1", "district:2101", "อำเภอเมืองระยอง", "district", "มท 0218/ว 3182", "blocked",
        ...            date(2020, 6, 12), None, 13, "province:21").line_th()
        'อำเภอเมืองระยอง ยังไม่ได้รับหนังสือ มท 0218/ว 3182 กำหนดส่งต่อ ๑๒ มิ.ย. ๖๓ เกินกำหนด ๑๓ วันทำการ'
        """
        due = f" กำหนดส่งต่อ {format_thai_date(self.due, abbreviated=True)}" if self.due else ""
        days = to_thai_digits(str(self.days_over))
        if self.status == "late":
            done = f" เมื่อ {format_thai_date(self.done, abbreviated=True)}" if self.done else ""
            return f"{self.agency} ส่งต่อหนังสือ {self.letter}{done} ช้ากว่ากำหนด {days} วันทำการ"
        what = "ได้รับหนังสือ {} แล้วแต่ยังไม่ส่งต่อ" if self.status == "overdue" else "ยังไม่ได้รับหนังสือ {}"
        return f"{self.agency} {what.format(self.letter)}{due} เกินกำหนด {days} วันทำการ"


@dataclass(frozen=True)
class Digest:
    """Everything one sweep newly flagged that one agency must act on."""

    agency_id: str
    agency: str
    as_of: date
    items: tuple[DigestItem, ...]
    link: str

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(i.status for i in self.items)
        return {s: found[s] for s in STATUSES}

    @property
    def circulars(self) -> list[str]:
        return sorted({i.circular for i in self.items})

    @property
    def summary(self) -> str:
        """One line in Thai: the agency, the counts, the day."""
        parts = [f"{STATUS_TH[s]} {to_thai_digits(str(n))}" for s, n in self.counts.items() if n]
        return f"{self.agency}: {', '.join(parts)} (ณ {format_thai_date(self.as_of)})"

    @property
    def subject(self) -> str:
        n = to_thai_digits(str(len(self.items)))
        return f"[สารบรรณ] {self.agency}: หนังสือเวียนที่ต้องติดตาม {n} รายการ (ณ {format_thai_date(self.as_of)})"

    @property
    def body(self) -> str:
        counts = self.counts
        lines = [
            f"เรียน {self.agency}",
            "",
            f"การตรวจติดตามหนังสือเวียน ณ วันที่ {format_thai_date(self.as_of)} "
            f"พบรายการใหม่ที่หน่วยงานของท่านต้องดำเนินการ {to_thai_digits(str(len(self.items)))} รายการ",
        ]
        lines += [f"- {STATUS_TH[s]}: {to_thai_digits(str(n))} รายการ" for s, n in counts.items() if n]
        if counts["blocked"]:
            lines.append("  (หน่วยงานปลายทางจะได้รับหนังสือเมื่อท่านส่งต่อ)")
        lines += ["", "รายการ:"]
        ordered = sorted(self.items, key=lambda i: (STATUSES.index(i.status), -i.days_over, i.agency_id))
        lines += [f"{to_thai_digits(str(k))}. {i.line_th()}" for k, i in enumerate(ordered[:LISTED], 1)]
        if len(ordered) > LISTED:
            lines.append(f"และอีก {to_thai_digits(str(len(ordered) - LISTED))} รายการ")
        lines += ["", f"ดูรายละเอียดและดำเนินการได้ที่: {self.link}", "", "ระบบติดตามหนังสือเวียน saraban-flow"]
        return "\n".join(lines)

    def event_payload(self) -> dict[str, Any]:
        """What the `saraban.agency.digest` Prefect event and the `alert.digest` record event carry."""
        ordered = sorted(self.items, key=lambda i: (STATUSES.index(i.status), -i.days_over, i.agency_id))
        return {
            "agency_id": self.agency_id, "agency": self.agency, "as_of": self.as_of.isoformat(),
            "summary": self.summary, "subject": self.subject, "body": self.body, "link": self.link,
            "counts": self.counts, "total": len(self.items), "circulars": self.circulars,
            "items": [i.as_dict() for i in ordered[:LISTED]],
        }  # fmt: skip


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def agency_link(base_url: str, agency_id: str, as_of: date) -> str:
    """The dashboard page of an agency as of a day.

    >>> agency_link("https://saraban.example.org/", "province:21", date(2020, 7, 1))
    'https://saraban.example.org/agencies/province:21?as_of=2020-07-01'
    """
    path = "/agencies/" + quote(agency_id, safe=":")
    return f"{base_url.rstrip('/')}{path}?{urlencode({'as_of': as_of.isoformat()})}"


def group_digests(
    items: Iterable[DigestItem], names: Mapping[str, str], as_of: date, base_url: str
) -> list[Digest]:
    """One digest per responsible agency (pure), in agency-id order; each item appears once."""
    by_agency: dict[str, dict[tuple[str, str, str], DigestItem]] = defaultdict(dict)
    for item in items:
        by_agency[item.responsible_id].setdefault((item.circular, item.agency_id, item.status), item)
    return [
        Digest(
            agency_id=agency_id,
            agency=names.get(agency_id, agency_id),
            as_of=as_of,
            items=tuple(found.values()),
            link=agency_link(base_url, agency_id, as_of),
        )
        for agency_id, found in sorted(by_agency.items())
    ]


def _judged(session: Session, circular: str, flagged: Sequence[SweepItem], as_of: date) -> list[DigestItem]:
    """The flagged handoffs of one circular, judged by its state as of the sweep's day."""
    try:
        state = circular_state(session, circular, as_of)
    except ProgressError:
        # No plan any more (it was routed under one): keep the routing run's judgement.
        return [
            DigestItem(circular, f.agency_id, f.agency, "", f.letter, f.status, f.due, f.done, f.days_over,
                       f.agency_id)
            for f in flagged
        ]  # fmt: skip
    views = {h.recipient_id: h for h in state.handoffs}
    out: list[DigestItem] = []
    for f in flagged:
        view = views.get(f.agency_id)
        if view is None or view.status.value not in STATUSES:
            continue  # the record shows it done or not yet due: nothing to act on
        if view.status is HandoffStatus.BLOCKED:
            responsible = view.escalate_to_id or view.holder_id or f.escalate_to_id
        else:
            responsible = view.recipient_id
        out.append(
            DigestItem(circular, view.recipient_id, view.recipient, view.level, view.letter, view.status.value,
                       view.due, view.forwarded_on, view.days_over, responsible)
        )  # fmt: skip
    return out


def digests_for(session: Session, result: SweepResult, base_url: str) -> list[Digest]:
    """The digests of one sweep: what it newly flagged (overdue and late), one per responsible agency."""
    as_of = result.at.date()
    by_circular: dict[str, list[SweepItem]] = defaultdict(list)
    for item in (*result.newly_overdue, *result.newly_late):
        by_circular[item.circular].append(item)
    items = [i for c in sorted(by_circular) for i in _judged(session, c, by_circular[c], as_of)]
    responsible = {i.responsible_id for i in items}
    names = dict(
        session.exec(select(AgencyRow.id, AgencyRow.name_th).where(col(AgencyRow.id).in_(responsible))).all()
    )
    return group_digests(items, names, as_of, base_url)


def log_digests(session: Session, digests: Sequence[Digest], *, actor: str | None = None) -> None:
    """One `alert.digest` event per digest, in the caller's transaction (the sweep's)."""
    if not digests:
        return
    who = actor or default_actor()
    append_event_rows(session, [NewEvent(DIGEST_KIND, d.agency_id, d.event_payload(), who) for d in digests])
