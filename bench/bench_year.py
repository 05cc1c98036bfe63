"""A year's record, read whole: `status`, `overdue --json`, `sweep` and the dashboard on N national circulars.

The record is built through the service layer, as `saraban ingest` and `saraban run C --national`
write it, never by bulk `INSERT ... SELECT`: N circular letters of the Department of Local
Administration (มท ๐๘๑๒/ว N, April and May 2020), every third forwarded by a province with a
letter of its own citing it, ingested with `records.ingest.ingest_files` (every letter, citation
and circular logged); then per circular the `route_circular` flow's unit of work without Prefect's
per-task overhead: attach the national plan (bcp-2020, logged), `plan_route` over all 77 provinces
(~960 dispatches, ~8,400 handoffs), and `records.dispatches.record_dispatches` in the batches the
flow's writer process commits (`flows.writer.MAX_BATCH`), each dispatch with its event. The record
is cached under `bench/.cache/`, keyed by its size and a hash of the code that writes it, so a
changed writer builds it anew; a cached record is brought to the current schema by the project's
migrations (`init_db`, as a deployed record is upgraded) before it is read, and derived data (the
stored states) is recomputed by the cold run whenever the read model changes.

Each command is a whole process (`.venv/bin/saraban ...`, process start included) under
`/usr/bin/time -v`: wall time, CPU (user + system) and peak RSS; the median of REPEATS runs, on
the year and, in the same run, on a baseline record of BASELINE circulars built the same way
(the ratio shows what grows with the record). The first `status` on a fresh record computes and
stores every circular's state (`circular_view`): it is reported on its own as the cold run.
`sweep` (the `flag_overdue` flow) writes: it runs on a copy, the first run (which flags) apart
from the repeats. Dashboard pages are fetched through FastAPI's test client in a process of their
own, median of REPEATS after a warm-up.

Targets (issue 16): `overdue --json` <= 30 s and < 500 MB peak; `status` <= 2 s; every page <= 1 s.

    .venv/bin/python -m bench year                       # SARABAN_BENCH_YEAR_CIRCULARS (default 1000)
    .venv/bin/python -m bench.bench_year --circulars 200
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
SARABAN = ROOT / ".venv" / "bin" / "saraban"
PYTHON = ROOT / ".venv" / "bin" / "python"
CACHE = ROOT / "bench" / ".cache"
AS_OF = "2020-06-26"  # a working day: provinces' due dates have passed, districts' not yet
SWEEP_AT = "2020-06-26T10:00:00+07:00"
BASELINE = 10
REPEATS = 3
TARGETS = {"status": 2.0, "overdue --json": 30.0}
OVERDUE_RSS_MB = 500
PAGE_SECONDS = 1.0
# What a cached record depends on: the code that writes it and the schema. Bump BUILD_VERSION
# when the letters or the build steps below change.
BUILD_VERSION = 1
KEYED = ("records/service.py", "records/dispatches.py", "records/ingest.py", "records/events.py",
         "routing/data/plans/bcp-2020.yaml")  # fmt: skip

THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
MONTHS = ("มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
          "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม")  # fmt: skip
# (DOPA code, letter code, Thai name, provincial office code) of provinces that forward in writing.
PROVINCES = (("54", "พร", "แพร่"), ("21", "รย", "ระยอง"), ("50", "ชม", "เชียงใหม่"),
             ("40", "ขก", "ขอนแก่น"), ("90", "สข", "สงขลา"), ("30", "นม", "นครราชสีมา"))  # fmt: skip


def thai(n: int | str) -> str:
    return str(n).translate(THAI_DIGITS)


def thai_date(on: date) -> str:
    return f"{thai(on.day)} {MONTHS[on.month - 1]} {thai(on.year + 543)}"


def _dla_letter(n: int, on: date) -> str:
    return f"""ด่วนที่สุด

ที่ มท ๐๘๑๒/ว {thai(n)}

กรมส่งเสริมการปกครองท้องถิ่น
ถนนนครราชสีมา เขตดุสิต กทม. ๑๐๓๐๐

{thai_date(on)}

เรื่อง การทบทวนแผนบริหารความพร้อมต่อสภาวะวิกฤต ครั้งที่ {thai(n)}

เรียน ผู้ว่าราชการจังหวัดทุกจังหวัด

กรมส่งเสริมการปกครองท้องถิ่นขอให้จังหวัดแจ้งองค์กรปกครองส่วนท้องถิ่นทุกแห่งทบทวนแผนตามแนวทางดังกล่าว

จึงเรียนมาเพื่อโปรดพิจารณา

ขอแสดงความนับถือ

อธิบดีกรมส่งเสริมการปกครองท้องถิ่น
"""


def _province_letter(n: int, cited: int, cited_on: date, on: date, province: tuple[str, str, str]) -> str:
    _, code, name = province
    return f"""ด่วนที่สุด

ที่ {code} ๐๐๒๓.๑/ว {thai(n)}

ศาลากลางจังหวัด{name}

{thai_date(on)}

เรื่อง การทบทวนแผนบริหารความพร้อมต่อสภาวะวิกฤต

เรียน นายอำเภอทุกอำเภอ

อ้างถึง หนังสือกรมส่งเสริมการปกครองท้องถิ่น ที่ มท ๐๘๑๒/ว {thai(cited)} ลงวันที่ {thai_date(cited_on)}

จังหวัดจึงขอให้อำเภอแจ้งองค์กรปกครองส่วนท้องถิ่นในพื้นที่ทราบ

ขอแสดงความนับถือ

ผู้ว่าราชการจังหวัด{name}
"""


def write_letters(directory: Path, circulars: int, first: int = 1) -> list[Path]:
    """The letters of circulars `first` .. `first + circulars - 1` as text files."""
    files = []
    start = date(2020, 4, 1)
    for i in range(first, first + circulars):
        on = start + timedelta(days=(i * 7) % 60)
        path = directory / f"dla_{i:05d}.txt"
        path.write_text(_dla_letter(1000 + i, on), encoding="utf-8")
        files.append(path)
        if i % 3 == 0:
            province = PROVINCES[(i // 3) % len(PROVINCES)]
            later = on + timedelta(days=3 + i % 20)
            forward = directory / f"province_{i:05d}.txt"
            forward.write_text(_province_letter(3000 + i, 1000 + i, on, later, province), encoding="utf-8")
            files.append(forward)
    return files


def build_record(path: Path, circulars: int) -> dict[str, Any]:
    """A record of `circulars` national circulars, through the service layer (see the module doc)."""
    from sqlmodel import select

    from flows.writer import MAX_BATCH
    from models.db import dispose_engines, get_engine, init_db, session_scope
    from models.tables import Circular
    from records import dispatches, progress
    from records.ingest import ingest_files

    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    engine = get_engine(url)
    init_db(engine)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="saraban-year-") as tmp:
        outcomes = ingest_files(write_letters(Path(tmp), circulars), engine, migrate=False)
    failed = [o for o in outcomes if o.error is not None]
    if failed:
        raise RuntimeError(f"{len(failed)} letters failed to ingest, first: {failed[0].error}")
    ingested = time.perf_counter() - started
    with session_scope(engine) as session:
        ids = sorted(c.id for c in session.exec(select(Circular)))
    provinces = progress.all_provinces()
    as_of = date.fromisoformat(AS_OF)
    handoffs = 0
    for k, circular_id in enumerate(ids, 1):
        with session_scope(engine) as session:
            progress.set_plan(session, progress.find_circular(session, circular_id), "bcp-2020")
        with session_scope(engine) as session:
            route = progress.plan_route(session, circular_id, as_of=as_of, provinces=provinces)
        specs = list(route.dispatches)
        for b in range(0, len(specs), MAX_BATCH):
            with session_scope(engine) as session:
                written = dispatches.record_dispatches(
                    session, [(circular_id, s) for s in specs[b : b + MAX_BATCH]]
                )
            handoffs += sum(len(states) for states in written)
        if k % 25 == 0 or k == len(ids):
            rate = k / (time.perf_counter() - started - ingested)
            print(f"  routed {k}/{len(ids)} circulars ({rate:.2f}/s)", file=sys.stderr, flush=True)
    dispose_engines()
    return {
        "circulars": len(ids),
        "letters": len(outcomes),
        "handoffs": handoffs,
        "ingest_s": ingested,
        "build_s": time.perf_counter() - started,
        "size_mb": path.stat().st_size / 1e6,
    }


def _code_key() -> str:
    h = hashlib.sha256(str(BUILD_VERSION).encode())
    for name in KEYED:
        h.update((ROOT / name).read_bytes())
    return h.hexdigest()[:12]


def cached_record(circulars: int) -> tuple[Path, dict[str, Any]]:
    """The record of `circulars` circulars for this code, built unless cached."""
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / ".gitignore").write_text("# records built by bench/bench_year.py: never committed\n*\n")
    path = CACHE / f"year-{circulars}-{_code_key()}.db"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():
        from models.db import dispose_engines, get_engine, init_db

        init_db(get_engine(f"sqlite:///{path}"))  # the schema's migrations since it was built
        dispose_engines()
        info: dict[str, Any] = json.loads(meta.read_text())
        return path, {**info, "cached": True}
    for stale in CACHE.glob(f"year-{circulars}-*"):
        stale.unlink()
    info = build_record(path, circulars)
    meta.write_text(json.dumps(info))
    return path, {**info, "cached": False}


_TIME_FIELDS = {
    "wall": re.compile(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)"),
    "user": re.compile(r"User time \(seconds\): ([\d.]+)"),
    "sys": re.compile(r"System time \(seconds\): ([\d.]+)"),
    "rss": re.compile(r"Maximum resident set size \(kbytes\): (\d+)"),
}


def run_whole(
    args: list[str], *, out: Path | None = None, env: dict[str, str] | None = None
) -> dict[str, float]:
    """One whole command under `/usr/bin/time -v`: wall and CPU seconds, peak RSS in MB."""
    with open(out or os.devnull, "wb") as sink:
        done = subprocess.run(
            ["/usr/bin/time", "-v", *args], stdout=sink, stderr=subprocess.PIPE, cwd=ROOT,
            env={**os.environ, **(env or {})},
        )  # fmt: skip
    err = done.stderr.decode(errors="replace")
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}):\n{err[-2000:]}")
    wall = _TIME_FIELDS["wall"].search(err)
    user, system, rss = (_TIME_FIELDS[k].search(err) for k in ("user", "sys", "rss"))
    assert wall and user and system and rss, err[-1000:]
    hours, minutes, seconds = wall.groups()
    return {
        "wall": int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds),
        "cpu": float(user.group(1)) + float(system.group(1)),
        "rss_mb": int(rss.group(1)) / 1024,
    }


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def _commands(url: str) -> dict[str, list[str]]:
    saraban = str(SARABAN)
    return {
        "status": [saraban, "status", "--as-of", AS_OF, "--json", "--database", url],
        "overdue --json": [saraban, "overdue", "--as-of", AS_OF, "--json", "--database", url],
    }


def measure_commands(url: str, repeats: int) -> tuple[dict[str, float], dict[str, dict[str, float]], int]:
    """The cold `status` (it computes and stores every circular's state, none stored before),
    then each command's median run."""
    from models.db import dispose_engines, get_engine, session_scope
    from records import progress

    with session_scope(get_engine(url)) as session:
        progress.forget_states(session)
    dispose_engines()
    cold = run_whole(_commands(url)["status"])
    medians = {}
    for name, args in _commands(url).items():
        medians[name] = _median([run_whole(args) for _ in range(repeats)])
    with tempfile.NamedTemporaryFile(suffix=".json") as listing:
        run_whole(_commands(url)["overdue --json"], out=Path(listing.name))
        items = len(json.loads(Path(listing.name).read_text(encoding="utf-8")))
    return cold, medians, items


def measure_sweep(path: Path, repeats: int) -> tuple[dict[str, float], dict[str, float]]:
    """`saraban sweep` (the flag_overdue flow) on a copy: the first run, then the repeats' median."""
    with tempfile.TemporaryDirectory(prefix="saraban-year-sweep-") as tmp:
        copy = Path(tmp) / "sweep.db"
        shutil.copyfile(path, copy)
        args = [str(SARABAN), "sweep", "--at", SWEEP_AT, "--force", "--database", f"sqlite:///{copy}"]
        # Prefect's temporary server starts in each run: on a machine shared with others it may
        # need longer than Prefect's default 20 s.
        env = {"PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120"}
        first = run_whole(args, env=env)
        return first, _median([run_whole(args, env=env) for _ in range(repeats)])


_PAGES_CHILD = """
import json, statistics, sys, time
from fastapi.testclient import TestClient
from app.main import create_app
url, repeats, paths = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
client = TestClient(create_app(url))
out = []
for path in paths:
    r = client.get(path)
    if r.status_code != 200:
        raise SystemExit(f"{path}: HTTP {r.status_code}")
    times = []
    for _ in range(repeats):
        t = time.perf_counter(); client.get(path); times.append(time.perf_counter() - t)
    out.append(statistics.median(times))
print(json.dumps(out))
"""


def page_paths(circular: str) -> list[tuple[str, str]]:
    q = f"as_of={AS_OF}"
    return [
        ("circulars, first page", f"/?{q}"),
        ("one circular", f"/circulars/{circular}?{q}"),
        ("one circular, one province", f"/circulars/{circular}?province=54&{q}"),
        ("a province's agency page", f"/agencies/province:54?{q}"),
        ("a district's agency page", f"/agencies/district:5401?{q}"),
        ("DLA's agency page", f"/agencies/dla?{q}"),
        ("a letter", f"/letters/มท 0812/ว 1002?{q}"),
    ]


def measure_pages(path: Path, circular: str, repeats: int) -> list[float]:
    paths = [p for _, p in page_paths(circular)]
    done = subprocess.run(
        [str(PYTHON), "-c", _PAGES_CHILD, f"sqlite:///{path}", str(repeats), json.dumps(paths)],
        capture_output=True, cwd=ROOT, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(done.stderr.decode(errors="replace")[-2000:])
    times: list[float] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return times


def _first_circular(path: Path) -> str:
    import sqlite3

    with sqlite3.connect(path) as conn:
        row = conn.execute(
            "SELECT circular_id FROM letter WHERE number LIKE ? ORDER BY id LIMIT 1", ("%/ว 1002",)
        ).fetchone()
    return str(row[0])


def _fmt(m: dict[str, float]) -> str:
    return f"{m['wall']:7.2f} s wall {m['cpu']:7.2f} s CPU {m['rss_mb']:6.0f} MB"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--circulars", type=int, default=int(os.environ.get("SARABAN_BENCH_YEAR_CIRCULARS", 1000))
    )
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--skip-pages", action="store_true")
    parser.add_argument("--skip-sweep", action="store_true")
    args = parser.parse_args(argv if argv is not None else [])
    results: dict[str, Any] = {}
    for label, size in (("baseline", BASELINE), ("year", args.circulars)):
        path, info = cached_record(size)
        print(f"{label}: {info['circulars']} national circulars, {info['letters']} letters, "
              f"{info['handoffs']:,} handoffs, {info['size_mb']:.0f} MB; "
              + ("cached" if info["cached"] else f"built in {info['build_s']:.0f} s (ingest {info['ingest_s']:.0f} s)"),
              flush=True)  # fmt: skip
        work = Path(tempfile.mkdtemp(prefix="saraban-year-"))
        try:
            copy = work / "record.db"  # the cached record stays without stored states
            shutil.copyfile(path, copy)
            url = f"sqlite:///{copy}"
            cold, medians, items = measure_commands(url, args.repeats)
            entry: dict[str, Any] = {
                "info": info,
                "cold_status": cold,
                "commands": medians,
                "overdue_items": items,
            }
            if not args.skip_sweep:
                try:
                    entry["sweep_first"], entry["sweep"] = measure_sweep(copy, args.repeats)
                except RuntimeError as exc:  # Prefect's temporary server may not start on a busy machine
                    entry["sweep_error"] = str(exc).splitlines()[-1] if str(exc) else repr(exc)
                    print(f"  sweep failed: {str(exc)[:300]}", file=sys.stderr)
            if not args.skip_pages:
                entry["pages"] = measure_pages(copy, _first_circular(copy), args.repeats)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        results[label] = entry
    base, year = results["baseline"], results["year"]
    n = year["info"]["circulars"]
    print(f"\nwhole commands as of {AS_OF}, median of {args.repeats} (process start included); "
          f"baseline {BASELINE} circulars -> year {n}")  # fmt: skip
    print(f"  {'cold status (stores states)':<28} {_fmt(base['cold_status'])} -> {_fmt(year['cold_status'])}")
    for name, m in year["commands"].items():
        b = base["commands"][name]
        verdict = "ok" if m["wall"] <= TARGETS[name] else "MISSED"
        if name == "overdue --json" and m["rss_mb"] >= OVERDUE_RSS_MB:
            verdict = "MISSED (memory)"
        print(f"  {name:<28} {_fmt(b)} -> {_fmt(m)}  x{m['wall'] / b['wall']:.1f} wall, "
              f"x{m['cpu'] / b['cpu']:.1f} CPU; target {TARGETS[name]:.0f} s: {verdict}")  # fmt: skip
    print(f"  overdue --json lists {base['overdue_items']:,} -> {year['overdue_items']:,} items")
    for label in ("baseline", "year"):
        if "sweep_error" in results[label]:
            print(f"  sweep on the {label} record failed: {results[label]['sweep_error']}")
    if "sweep" in year and "sweep" in base:
        print(
            f"  {'sweep, first run (flags)':<28} {_fmt(base['sweep_first'])} -> {_fmt(year['sweep_first'])}"
        )
        print(f"  {'sweep, again':<28} {_fmt(base['sweep'])} -> {_fmt(year['sweep'])}")
    if "pages" in year:
        print(
            f"dashboard pages (test client, median of {args.repeats} after a warm-up), target {PAGE_SECONDS:.0f} s:"
        )
        for (name, _), b, y in zip(page_paths(""), base["pages"], year["pages"], strict=True):
            verdict = "ok" if y <= PAGE_SECONDS else "MISSED"
            print(f"  {name:<28} {b * 1000:8.1f} ms -> {y * 1000:8.1f} ms  {verdict}")
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
