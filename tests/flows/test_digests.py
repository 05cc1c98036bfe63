"""The sweep's digests: what it newly flags, one digest per responsible agency (`records.digests`),
one `saraban.agency.digest` Prefect event and one `alert.digest` record event each."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from flows.flag_overdue import flag_overdue
from models.db import get_engine, session_scope
from models.tables import Event
from models.thai import BANGKOK
from records import audit, digests, progress
from records.digests import DIGEST_KIND, DigestItem, group_digests
from tests.conftest import route_plainly
from tests.flows.test_route_circular import _artifact, _env

AS_OF = date(2020, 7, 1)
AT = datetime(2020, 7, 1, 10, 0, tzinfo=BANGKOK)
RAYONG, PHRAE = "province:21", "province:54"
BASE = "https://saraban.example.go.th"


def _item(agency: str, status: str, responsible: str, circular: str = "c1") -> DigestItem:
    return DigestItem(circular, agency, agency, "district", "มท 0218/ว 3182", status, date(2020, 6, 12), None, 5,
                      responsible)  # fmt: skip


def test_grouping_gives_one_digest_per_responsible_agency() -> None:
    items = [
        _item(RAYONG, "overdue", RAYONG),
        _item("district:2101", "blocked", RAYONG),
        _item("district:2102", "blocked", RAYONG),
        _item("district:2102", "blocked", RAYONG),  # the same handoff twice (two senders): once
        _item(PHRAE, "late", PHRAE),
        _item("district:2101", "blocked", RAYONG, circular="c2"),  # another circular: its own item
    ]
    found = group_digests(items, {RAYONG: "จังหวัดระยอง", PHRAE: "จังหวัดแพร่"}, AS_OF, BASE + "/")
    assert [d.agency_id for d in found] == [RAYONG, PHRAE]  # in agency-id order
    rayong, phrae = found
    assert rayong.counts == {"overdue": 1, "blocked": 3, "late": 0} and len(rayong.items) == 4
    assert rayong.circulars == ["c1", "c2"]
    assert rayong.link == f"{BASE}/agencies/province:21?as_of=2020-07-01"
    assert rayong.subject.startswith("[สารบรรณ] จังหวัดระยอง: ") and "๔ รายการ" in rayong.subject
    assert "๑ กรกฎาคม ๒๕๖๓" in rayong.subject
    assert rayong.body.startswith("เรียน จังหวัดระยอง") and rayong.link in rayong.body
    assert "ค้างส่งต่อเกินกำหนด: ๑ รายการ" in rayong.body
    assert "หน่วยงานปลายทางยังไม่ได้รับหนังสือ: ๓ รายการ" in rayong.body
    assert phrae.counts == {"overdue": 0, "blocked": 0, "late": 1}
    assert phrae.summary == "จังหวัดแพร่: ส่งต่อล่าช้ากว่ากำหนด ๑ (ณ ๑ กรกฎาคม ๒๕๖๓)"
    payload = rayong.event_payload()
    assert payload["agency_id"] == RAYONG and payload["summary"] == rayong.summary and payload["total"] == 4
    json.dumps(payload, ensure_ascii=False)  # JSON as it is: an event payload
    with pytest.raises(ValueError, match="district:2101 in c1: no such status 'done'"):
        _item("district:2101", "done", RAYONG)


def test_a_long_digest_lists_the_first_items_and_counts_the_rest() -> None:
    items = [_item(f"local:{k:04d}", "blocked", RAYONG) for k in range(digests.LISTED + 12)]
    [digest] = group_digests(items, {}, AS_OF, BASE)
    assert digest.agency == RAYONG  # no name known: its id
    assert digest.body.count(" ยังไม่ได้รับหนังสือ มท 0218/ว 3182") == digests.LISTED
    assert "และอีก ๑๒ รายการ" in digest.body
    assert len(digest.event_payload()["items"]) == digests.LISTED


def test_blame_follows_the_letter_on_the_seed_letters(seed_db: str) -> None:
    """As of 1 July 2020: Rayong holds Interior's letter past due, so its districts' blocked
    handoffs go to Rayong; Phrae forwarded late (its own digest); no Rayong district gets one."""
    route_plainly(seed_db, "มท 0812/ว 1434", AS_OF)
    with session_scope(get_engine(seed_db)) as session:
        result = progress.sweep_overdue(session, AT)
        found = digests.digests_for(session, result, BASE)
        state = progress.circular_state(session, "มท 0812/ว 1434", AS_OF)
    by_agency = {d.agency_id: d for d in found}
    assert len(by_agency) == len(found)
    rayong = by_agency[RAYONG]
    assert rayong.agency == "จังหวัดระยอง" and rayong.counts["overdue"] == 1 and rayong.counts["blocked"] > 0
    directory = progress.directory()
    assert all(directory.province_of(i.agency_id) == RAYONG for i in rayong.items)
    assert not any(a.startswith("district:21") for a in by_agency)
    assert by_agency[PHRAE].counts == {"overdue": 0, "blocked": 0, "late": 1}
    # Every item agrees with the one read model: its status, and blocked ones go to the holder.
    views = {h.recipient_id: h for h in state.handoffs}
    for d in found:
        for i in d.items:
            view = views[i.agency_id]
            assert i.status == view.status.value
            assert d.agency_id == (view.holder_id if i.status == "blocked" else i.agency_id)
    # What the sweep newly flagged is all there, less what the record shows is not (yet) due.
    flagged = {i.agency_id for i in (*result.newly_overdue, *result.newly_late)}
    listed = {i.agency_id for d in found for i in d.items}
    assert listed <= flagged
    assert {a for a in flagged - listed if views[a].status.value not in digests.STATUSES} == flagged - listed
    assert len(found) < len(result.newly_overdue) / 10  # ~10 digests for ~220 handoffs


@pytest.mark.prefect
def test_a_sweep_emits_one_event_per_digest_and_logs_it(
    prefect_api: None, seed_db: str, asserting_and_emitting_events_worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SARABAN_BASE_URL", BASE)
    monkeypatch.delenv("SARABAN_NOTIFY_FILE", raising=False)
    monkeypatch.delenv("SARABAN_NOTIFY_URLS", raising=False)
    route_plainly(seed_db, "มท 0812/ว 1434", AS_OF)
    first = flag_overdue(at=AT, database=_env(seed_db))
    assert first["digests"] > 0 and first["events"] == first["digests"] and first["mailed"] == 0
    asserting_and_emitting_events_worker.drain()
    sent = [e for e in asserting_and_emitting_events_worker._client.events if e.event.startswith("saraban.")]
    assert {e.event for e in sent} == {"saraban.agency.digest"}  # no event per handoff any more
    assert len(sent) == first["digests"]
    assert len({e.resource.id for e in sent}) == len(sent)
    rayong = next(e for e in sent if e.resource.id == "saraban.agency.province:21")
    assert rayong.resource.name == "จังหวัดระยอง" and rayong.payload["agency_id"] == RAYONG
    assert rayong.payload["summary"].startswith("จังหวัดระยอง: ค้างส่งต่อเกินกำหนด ๑")
    assert rayong.payload["link"] == f"{BASE}/agencies/province:21?as_of=2020-07-01"
    assert rayong.payload["counts"]["blocked"] > 0
    assert any(r.id.startswith("saraban.circular.") for r in rayong.related)
    table = json.loads(str(_artifact("saraban-digests")["data"]))
    assert sorted(r["agency_id"] for r in table) == sorted(e.payload["agency_id"] for e in sent)

    with session_scope(get_engine(seed_db), readonly=True) as s:
        logged = s.exec(select(Event).where(Event.kind == DIGEST_KIND).order_by(col(Event.seq))).all()
        assert sorted(e.subject for e in logged) == sorted(e.payload["agency_id"] for e in sent)
        assert json.loads(logged[0].payload)["summary"]
        before = s.exec(select(sa.func.max(Event.seq))).one()

    again = flag_overdue(at=AT.replace(hour=11), database=_env(seed_db))
    assert again["digests"] == 0 and again["events"] == 0
    with session_scope(get_engine(seed_db), readonly=True) as s:
        assert not s.exec(select(Event).where(col(Event.seq) > before, Event.kind == DIGEST_KIND)).all()
        report = audit.verify(s)  # the digests change no state: the log still replays to the record
    assert report.ok, str(report)
