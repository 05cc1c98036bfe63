"""Sign-in in a real headless Chromium (Playwright), served by uvicorn on a free port.

A copy of the national record with a Rayong clerk and an auditor on it: the sign-in page, a wrong
password, signing in, a clerk refused another province's page, signing out; the auditor's view of
both provinces and of the audit history. Screenshots go to
tests/artifacts/ (gitignored): auth-*.png.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.main import create_app
from models.db import get_engine, session_scope
from records import users
from tests.app.conftest import Record, serving
from tests.app.test_browser import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

CLERK_PASSWORD = "rayong-2563-secret"
AUDITOR_PASSWORD = "auditor-2563-secret"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium"),
]


@pytest.fixture(scope="module")
def base_url(national_record: Record, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("auth") / "saraban.db"
    with sqlite3.connect(national_record.path) as source, sqlite3.connect(path) as target:
        source.backup(target)
    url = f"sqlite:///{path}"
    with session_scope(get_engine(url)) as session:
        users.add_user(session, "rayong", CLERK_PASSWORD, "clerk", "province:21", actor="test-admin")
        users.add_user(session, "auditor", AUDITOR_PASSWORD, "auditor", None, actor="test-admin")
    with serving(create_app(url), "dashboard-auth") as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, base_url: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800}, locale="th-TH")
    pg = context.new_page()
    yield pg
    context.close()


def _shot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"auth-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _sign_in(page, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', password)
    page.click('#login-form button[type="submit"]')


def test_clerk_signs_in_is_refused_phrae_and_signs_out(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    # Anonymous: sent to the sign-in page.
    page.goto("/")
    assert page.url == f"{base_url}/login"
    assert page.locator("h1").inner_text() == "ลงชื่อเข้าใช้"
    _shot(page, "login")

    # A wrong password opens nothing.
    _sign_in(page, "rayong", "not-the-password")
    page.wait_for_selector("#login-error")
    assert page.url == f"{base_url}/login"
    assert page.locator("#signed-in-user").count() == 0
    assert page.goto("/agencies/province:21").url == f"{base_url}/login?next=%2Fagencies%2Fprovince%3A21"
    _shot(page, "wrong-password")

    # The right one, from the page asked for: back to it.
    _sign_in(page, "rayong", CLERK_PASSWORD)
    page.wait_for_url(f"{base_url}/agencies/province:21")
    assert "rayong" in page.locator("#signed-in-user").inner_text()
    cookie = next(c for c in page.context.cookies() if c["name"] == "saraban_session")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"
    assert "saraban_session" not in page.evaluate("document.cookie")
    _shot(page, "clerk-rayong")

    # Another province's page is refused.
    response = page.goto("/agencies/province:54")
    assert response is not None and response.status == 403
    assert "province:54" in page.locator("section.error").inner_text()
    _shot(page, "clerk-refused-phrae")

    # Sign out: back to the sign-in page, and the dashboard is closed again.
    page.goto("/")
    page.click("#sign-out")
    page.wait_for_url(f"{base_url}/login")
    page.goto("/agencies/province:21")
    assert page.url.startswith(f"{base_url}/login")
    _shot(page, "signed-out")


def test_auditor_sees_both_provinces(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    _sign_in(page, "auditor", "not-the-password")
    page.wait_for_selector("#login-error")
    _sign_in(page, "auditor", AUDITOR_PASSWORD)
    page.wait_for_url(f"{base_url}/")
    for agency in ("province:21", "province:54"):
        response = page.goto(f"/agencies/{agency}")
        assert response is not None and response.status == 200, agency
    assert "ผู้ตรวจสอบ" in page.locator("#signed-in-user").inner_text()
    _shot(page, "auditor-phrae")

    # The audit pages, linked in the header for auditors only.
    page.click('a[href="/audit/history"]')
    page.wait_for_url(f"{base_url}/audit/history")
    kinds = page.locator("#events tr[data-kind]").evaluate_all("rows => rows.map(r => r.dataset.kind)")
    assert "user.signed_in" in kinds and "user.sign_in_failed" in kinds
    _shot(page, "auditor-history")
