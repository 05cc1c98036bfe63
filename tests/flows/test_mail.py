"""The sweep's digests by e-mail, against a real SMTP server (aiosmtpd) on a free local port: one
Thai message per responsible agency and no more, nothing sent without a setting, a bad setting
refused before anything is flagged."""

from __future__ import annotations

import email
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from flows import notify
from flows.flag_overdue import flag_overdue
from models.db import get_engine
from models.thai import BANGKOK
from records.digests import DigestItem, group_digests
from tests.conftest import route_plainly
from tests.flows.test_route_circular import _env

AS_OF = date(2020, 7, 1)
AT = datetime(2020, 7, 1, 10, 0, tzinfo=BANGKOK)
BASE = "https://saraban.example.go.th"
SENDER = "saraban@example.go.th"


@dataclass
class Inbox:
    """What the SMTP server received: (envelope recipients, parsed message) per message."""

    port: int
    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def url(self, to: str) -> str:
        """An apprise URL that sends through this server (plain SMTP, no sign-in) to `to`."""
        return f"mailto://127.0.0.1:{self.port}?from={SENDER}&to={to}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[Inbox]:
    inbox = Inbox(_free_port())
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


def _notify_file(tmp_path: Path, inbox: Inbox) -> Path:
    path = tmp_path / "notify.yaml"
    path.write_text(
        f"default: '{inbox.url('saraban@dla.example.go.th')}'\n"
        "agencies:\n"
        f"  province:21: '{inbox.url('saraban@rayong.example.go.th&cc=governor@rayong.example.go.th')}'\n"
        f"  province:54: '{inbox.url('saraban@phrae.example.go.th')}'\n",
        encoding="utf-8",
    )
    return path


def _text(message: EmailMessage) -> str:
    """The message's plain-text body (apprise sends an HTML alternative beside it)."""
    part = message.get_body(("plain",))
    assert part is not None, message
    return str(part.get_content())


def _flagged(url: str) -> int:
    with get_engine(url).connect() as conn:
        return int(
            conn.execute(
                sa.text("SELECT count(*) FROM handoff WHERE overdue_flagged_at IS NOT NULL")
            ).scalar()
        )


@pytest.mark.prefect
def test_a_sweep_mails_one_thai_digest_per_responsible_agency(
    prefect_api: None, seed_db: str, smtp: Inbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(notify.ENV_FILE, str(_notify_file(tmp_path, smtp)))
    monkeypatch.delenv(notify.ENV_URLS, raising=False)
    monkeypatch.setenv(notify.ENV_BASE_URL, BASE)
    route_plainly(seed_db, "มท 0812/ว 1434", AS_OF)
    result = flag_overdue(at=AT, database=_env(seed_db))
    assert result["digests"] > 1 and result["mailed"] == result["digests"] and result["mail_failed"] == []
    assert len(smtp.messages) == result["digests"]  # one message per agency, no more
    subjects = [m["Subject"] for _, m in smtp.messages]
    assert len(set(subjects)) == len(subjects)
    assert all(s.startswith("[สารบรรณ] ") and "(ณ ๑ กรกฎาคม ๒๕๖๓)" in s for s in subjects)

    by_agency = {
        m["Subject"].split(": ", 1)[0].removeprefix("[สารบรรณ] "): (to, m) for to, m in smtp.messages
    }
    to, rayong = by_agency["จังหวัดระยอง"]
    assert to == ["saraban@rayong.example.go.th", "governor@rayong.example.go.th"]  # one message, cc'd
    assert rayong["From"] == SENDER
    body = _text(rayong)
    assert body.startswith("เรียน จังหวัดระยอง")
    assert "ค้างส่งต่อเกินกำหนด: ๑ รายการ" in body and "หน่วยงานปลายทางยังไม่ได้รับหนังสือ" in body
    assert f"{BASE}/agencies/province:21?as_of=2020-07-01" in body
    assert "อำเภอ" in body and "มท 0218/ว 3182" in body  # its districts, waiting for Interior's letter
    to, phrae = by_agency["จังหวัดแพร่"]
    assert to == ["saraban@phrae.example.go.th"] and "ส่งต่อล่าช้ากว่ากำหนด: ๑ รายการ" in _text(phrae)
    # Agencies the file does not name get theirs at the default address (Phrae's districts).
    to, district = by_agency["อำเภอเมืองแพร่"]
    assert to == ["saraban@dla.example.go.th"]
    assert f"{BASE}/agencies/district:5401?as_of=2020-07-01" in _text(district)

    again = flag_overdue(at=AT.replace(hour=11), database=_env(seed_db))
    assert again["digests"] == 0 and again["mailed"] == 0
    time.sleep(0.5)
    assert len(smtp.messages) == result["digests"]  # re-running the sweep sends nothing new


@pytest.mark.prefect
def test_nothing_is_sent_without_a_setting(
    prefect_api: None, seed_db: str, smtp: Inbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(notify.ENV_FILE, raising=False)
    monkeypatch.delenv(notify.ENV_URLS, raising=False)
    route_plainly(seed_db, "มท 0812/ว 1434", AS_OF)
    result = flag_overdue(at=AT, database=_env(seed_db))
    assert result["digests"] > 0 and result["mailed"] == 0
    time.sleep(0.5)
    assert smtp.messages == []


@pytest.mark.prefect
def test_a_bad_setting_fails_before_the_sweep_flags_anything(
    prefect_api: None, seed_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    route_plainly(seed_db, "มท 0812/ว 1434", AS_OF)
    bad = tmp_path / "notify.yaml"
    bad.write_text("agencies:\n  province:21: not-a-url\n", encoding="utf-8")
    monkeypatch.setenv(notify.ENV_FILE, str(bad))
    with pytest.raises(
        notify.NotifyError, match=r"notify.yaml: agencies: province:21: .*not a notification URL"
    ):
        flag_overdue(at=AT, database=_env(seed_db))
    assert _flagged(seed_db) == 0  # the sweep did not run: nothing flagged that could not be sent


def test_the_setting_is_read_and_checked(tmp_path: Path, smtp: Inbox) -> None:
    assert not notify.load_routes({}).configured
    both = smtp.url("a@x.go.th&cc=b@x.go.th")  # one message to both
    routes = notify.load_routes({notify.ENV_URLS: f"  {both}\n"})
    assert routes.default == both and routes.url_for("province:21") == both
    file = _notify_file(tmp_path, smtp)
    routes = notify.load_routes({notify.ENV_FILE: str(file), notify.ENV_URLS: smtp.url("other@x.go.th")})
    assert routes.url_for("province:21") == smtp.url(
        "saraban@rayong.example.go.th&cc=governor@rayong.example.go.th"
    )
    assert routes.url_for("district:5401") == smtp.url("saraban@dla.example.go.th")  # the file's default
    for text, error in [
        ("[1, 2]", "expected a mapping with `default` and/or `agencies`"),
        ("agencies: [province:21]", "agencies: expected a mapping"),
        ("default: 12", "default: expected one apprise URL, got int"),
        (
            f"agencies:\n  province:21:\n    - '{both}'\n    - '{both}'",
            "province:21: expected one apprise URL, got list",
        ),
        (f"agencies:\n  province:21: '{both}'\n  province:54: 'ftp://x'", "province:54: ftp://… is not"),
        ("default: [unclosed", "not YAML"),
    ]:
        file.write_text(text, encoding="utf-8")
        with pytest.raises(notify.NotifyError, match=error):
            notify.load_routes({notify.ENV_FILE: str(file)})
    with pytest.raises(notify.NotifyError, match=r"missing.yaml: cannot read it"):
        notify.load_routes({notify.ENV_FILE: str(tmp_path / "missing.yaml")})
    with pytest.raises(notify.NotifyError, match=r"SARABAN_NOTIFY_URLS: https://… is not"):
        notify.load_routes({notify.ENV_URLS: "https://"})
    with pytest.raises(notify.NotifyError, match=r"SARABAN_BASE_URL='saraban\.local'"):
        notify.base_url({notify.ENV_BASE_URL: "saraban.local"})
    assert notify.base_url({}) == notify.DEFAULT_BASE_URL


def test_an_unreachable_server_is_reported_for_its_agency_and_the_others_still_go(smtp: Inbox) -> None:
    items = [
        DigestItem("c1", agency, agency, "province", "มท 0218/ว 3182", "overdue", AS_OF, None, 3, agency)
        for agency in ("province:12", "province:21")
    ]
    found = group_digests(items, {}, AS_OF, BASE)
    down = f"mailto://127.0.0.1:{_free_port()}?from={SENDER}&to=x@x.go.th"
    routes = notify.Routes(agencies={"province:12": down}, default=smtp.url("ok@x.go.th"))
    first, second = notify.deliver(found, routes)
    assert (first.agency_id, first.addressed, first.sent) == ("province:12", True, False) and first.error
    assert (second.agency_id, second.sent) == ("province:21", True)
    assert [to for to, _ in smtp.messages] == [["ok@x.go.th"]]
    nowhere = notify.deliver(found, notify.Routes())
    assert [(d.addressed, d.sent, d.error) for d in nowhere] == [(False, False, "no address configured")] * 2
