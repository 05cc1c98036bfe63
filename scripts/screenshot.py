"""The README's screenshot of the dashboard (docs/screenshot.png), taken from a demo record.

    .venv/bin/python scripts/screenshot.py                      # the record `make demo` left in out/demo/
    .venv/bin/python scripts/screenshot.py --database PATH.db -o docs/screenshot.png

The record is copied to a temporary folder first and left as it was; a throw-away administrator is
added to the copy (through the service layer, so with its event) to sign in with. Without a record
the demo is run into the temporary folder. The dashboard is served on a free local port and opened in
Debian's Chromium through Playwright: the circular of the 2020 Business Continuity Plan as of
1 July 2020, at its forwarding diagram (statuses, letters on the edges, the legend).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import secrets
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import uvicorn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a file: the project's packages, from this checkout

from app.main import create_app  # noqa: E402
from models.db import dispose_engines, get_engine, session_scope  # noqa: E402
from records import users  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
AS_OF = "2020-07-01"  # the demo's day of reckoning: Phrae late, Rayong overdue, its districts blocked
WIDTH, HEIGHT = 1360, 1000
USER = "screenshot"


class ScreenshotError(RuntimeError):
    """The screenshot cannot be taken: no Chromium, no circular, the server did not start."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _serve(database_url: str) -> Iterator[str]:
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(database_url), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="dashboard", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise ScreenshotError("the dashboard did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _record(database: Path | None, work: Path) -> Path:
    """A copy of the demo record in `work` (the demo is run there when there is none)."""
    if database is None:
        database = ROOT / "out" / "demo" / "saraban.db"
        if not database.exists():
            from cli import demo  # only when needed: it runs the whole demo

            print(f"no demo record at {database}: running the demo into {work / 'demo'}", file=sys.stderr)
            with contextlib.redirect_stdout(io.StringIO()):
                if demo.main(out=work / "demo") != 0:
                    raise ScreenshotError("the demo failed")
            database = work / "demo" / "saraban.db"
    if not database.is_file():
        raise ScreenshotError(f"{database}: no such database file")
    copy = work / "saraban.db"
    shutil.copyfile(database, copy)
    for suffix in ("-wal", "-shm"):
        side = database.with_name(database.name + suffix)
        if side.exists():
            shutil.copyfile(side, copy.with_name(copy.name + suffix))
    return copy


def take(database: Path | None, output: Path) -> Path:
    """Take the screenshot into `output` (written whole: a temporary file renamed into place)."""
    if not CHROMIUM.exists():
        raise ScreenshotError(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="saraban-shot-") as tmp:
        work = Path(tmp)
        url = f"sqlite:///{_record(database, work)}"
        password = secrets.token_urlsafe(16)
        with session_scope(get_engine(url)) as session:
            users.add_user(session, USER, password, "administrator", "dla", actor="scripts/screenshot.py")
        dispose_engines()
        shot = work / "screenshot.png"
        with _serve(url) as base, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_context(
                base_url=base, viewport={"width": WIDTH, "height": HEIGHT}, locale="th-TH"
            ).new_page()
            page.goto("/login")
            page.fill("#login-form input[name=username]", USER)
            page.fill("#login-form input[name=password]", password)
            page.locator("#login-form button[type=submit]").click()
            page.wait_for_load_state()
            page.goto(f"/?as_of={AS_OF}")
            links = page.locator("tr[data-circular] a")
            if links.count() == 0:
                raise ScreenshotError("the record has no circular to show")
            links.first.click()
            page.wait_for_url("**/circulars/**")
            page.wait_for_selector("#graph [data-diagram-ready]")
            page.evaluate("document.fonts.ready")
            # The circular page's forwarding diagram: its heading, the note on what it shows, the
            # frame with its zoom buttons and the drawing fitted to it.
            page.locator("#graph").screenshot(path=str(shot))
            browser.close()
        output.parent.mkdir(parents=True, exist_ok=True)
        staged = output.with_name(f".{output.name}.tmp")
        shutil.copyfile(shot, staged)
        staged.replace(output)
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", type=Path, help="a demo record (default: out/demo/saraban.db)")
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "docs" / "screenshot.png")
    args = parser.parse_args(argv)
    try:
        path = take(args.database, args.output)
    except ScreenshotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
