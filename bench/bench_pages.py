"""Dashboard pages on a year of data: the same pages on a one-circular record and on 1,000 circulars.

The year is the sweep benchmark's record (`bench_flow.build_sweep_record`: 1,000 national
circulars, 959,000 dispatches, 8,369,000 handoffs, cached under `out/bench/`); the baseline is the
demo's five letters routed as one circular, built in the same run. Each page is fetched through
FastAPI's test client (no network), median of a few fetches after one warm-up. Target: every page
under 1 s on the year of data (our own target: "pages stay fast on a year of data").

Run: `.venv/bin/python -m bench pages`; `SARABAN_BENCH_CIRCULARS` sizes the year as for bench_flow.
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 1.0
REPEATS = 3


def _pages(circular: str, letter: str) -> list[tuple[str, str]]:
    return [
        ("circulars, first page", "/"),
        ("circulars, page 20", "/?page=20"),
        ("one circular", f"/circulars/{circular}"),
        ("one circular, one province", f"/circulars/{circular}?province=54"),
        ("a province's agency page", "/agencies/province:54"),
        ("a district's agency page", "/agencies/district:5401"),
        ("a letter", f"/letters/{letter}"),
    ]


def _fetch_all(url: str, pages: list[tuple[str, str]]) -> list[float]:
    from fastapi.testclient import TestClient

    from app.main import create_app
    from models.db import dispose_engines

    client = TestClient(create_app(url))
    out = []
    for _, path in pages:
        response = client.get(path)  # warm-up, and a check that the page exists
        if response.status_code != 200:
            raise RuntimeError(f"{path}: HTTP {response.status_code} on {url}")
        times = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            client.get(path)
            times.append(time.perf_counter() - started)
        out.append(statistics.median(times))
    dispose_engines()
    return out


def _baseline_record(directory: Path) -> tuple[str, str]:
    """The demo letters routed as one circular: its URL and circular id."""
    from models.db import dispose_engines, get_engine, init_db
    from records.ingest import ingest_files
    from tests.conftest import route_plainly

    url = f"sqlite:///{directory / 'one.db'}"
    init_db(get_engine(url))
    ingest_files(sorted((ROOT / "demo" / "letters").glob("*.txt")), get_engine(url))
    circular = route_plainly(url, "มท 0812/ว 1434", date(2020, 6, 26))
    dispose_engines()
    return url, circular


def main() -> dict[str, Any]:
    from bench.bench_flow import _env_int, _sweep_record

    circulars = _env_int("SARABAN_BENCH_CIRCULARS", 1000)
    year, _ = _sweep_record(circulars)
    work = Path(tempfile.mkdtemp(prefix="saraban-bench-pages-"))
    try:
        one_url, one_circular = _baseline_record(work)
        # The year is read only; a copy keeps the cached record untouched by the app's migrations.
        copy = work / "year.db"
        shutil.copyfile(year, copy)
        middle = f"bench-{circulars // 2:04d}"
        one = _fetch_all(one_url, _pages(one_circular, "มท 0812/ว 1434"))
        many = _fetch_all(f"sqlite:///{copy}", _pages(middle, f"นร 0000/ว {circulars // 2 + 1}"))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(
        f"dashboard pages: one circular vs {circulars:,} national circulars (sweep record), "
        f"median of {REPEATS} after a warm-up; target {TARGET_SECONDS:.0f} s a page"
    )
    names = [name for name, _ in _pages("", "")]
    width = max(len(n) for n in names)
    for name, a, b in zip(names, one, many, strict=True):
        verdict = "ok" if b < TARGET_SECONDS else "MISSED"
        print(f"  {name:<{width}}  {a * 1000:7.1f} ms  {b * 1000:7.1f} ms  {b / a:6.1f}x  {verdict}")
    return {"one_s": one, "year_s": many}


if __name__ == "__main__":
    main()
