"""Ingest at a year's volume: 10,000 generated letters through `saraban ingest`, 1,000 at a time.

The letters are written as OCR-like text files by `generate_letters`: central offices (OPDC,
DLA, the Interior ministry) issue circulars; provinces forward them to their districts with
their own circular numbers, citing (อ้างถึง) or enclosing (สิ่งที่ส่งมาด้วย) the letter they
received; districts and provinces also write ordinary letters that cite nothing. Dates run over
one year (2020), running numbers restart per owner, many letters carry a receipt stamp, and some
citations carry an OCR slip (๕ read as ๘) so that merges happen as they do in real records.

Each batch of 1,000 files is one `saraban ingest DIR` process into the same fresh record; the
whole command is timed (process start included), with its CPU time from
`resource.getrusage(RUSAGE_CHILDREN)`. Targets: the last batch's rate at least 0.8x the first's
(the cost of a letter does not grow with the record) and at least 25 letters/s on SQLite.

    .venv/bin/python -m bench ingest               # SQLite, and PostgreSQL when available
    .venv/bin/python -m bench.bench_ingest --letters 2000 --batch 500
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SARABAN = ROOT / ".venv" / "bin" / "saraban"
PG_ENV = "SARABAN_TEST_POSTGRES_URL"

THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
MONTHS = (
    "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
    "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม",
)  # fmt: skip
SHORT_MONTHS = (
    "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค.",
)  # fmt: skip
# (code, province name) of the provinces the generated circulars travel through.
PROVINCES = (
    ("พร", "แพร่"), ("รย", "ระยอง"), ("นบ", "นนทบุรี"), ("ชม", "เชียงใหม่"), ("ขก", "ขอนแก่น"),
    ("สข", "สงขลา"), ("นม", "นครราชสีมา"), ("อบ", "อุบลราชธานี"), ("ลป", "ลำปาง"), ("ภก", "ภูเก็ต"),
    ("ชบ", "ชลบุรี"), ("พล", "พิษณุโลก"), ("สฎ", "สุราษฎร์ธานี"), ("อด", "อุดรธานี"), ("นศ", "นครศรีธรรมราช"),
    ("ตก", "ตาก"), ("กบ", "กระบี่"), ("ลย", "เลย"), ("นน", "น่าน"), ("สน", "สกลนคร"),
)  # fmt: skip
CENTRAL = (
    ("นร", "1200", "สำนักงาน ก.พ.ร.", "ผู้ว่าราชการจังหวัดทุกจังหวัด"),
    ("มท", "0812", "กรมส่งเสริมการปกครองท้องถิ่น", "ผู้ว่าราชการจังหวัดทุกจังหวัด"),
    ("มท", "0218", "กระทรวงมหาดไทย", "ผู้ว่าราชการจังหวัดทุกจังหวัด"),
    ("มท", "0310", "กรมการปกครอง", "ผู้ว่าราชการจังหวัดทุกจังหวัด"),
)
SUBJECTS = (
    "การทบทวนแผนบริหารความพร้อมต่อสภาวะวิกฤต", "การจัดทำงบประมาณรายจ่ายประจำปี",
    "การป้องกันและบรรเทาสาธารณภัยช่วงฤดูฝน", "การรายงานผลการดำเนินงานตามแผนปฏิบัติราชการ",
    "การประชุมชี้แจงแนวทางการปฏิบัติงาน", "การสำรวจข้อมูลผู้สูงอายุและผู้พิการ",
    "การรณรงค์ป้องกันโรคไข้เลือดออก", "การจัดงานวันเด็กแห่งชาติ", "การเบิกจ่ายเงินอุดหนุน",
)  # fmt: skip


def thai(n: int | str) -> str:
    return str(n).translate(THAI_DIGITS)


def thai_date(on: date) -> str:
    return f"{thai(on.day)} {MONTHS[on.month - 1]} {thai(on.year + 543)}"


def stamp_date(on: date) -> str:
    return f"{thai(on.day)} {SHORT_MONTHS[on.month - 1]} {thai((on.year + 543) % 100)}"


@dataclass
class Generated:
    """One generated letter: its number as printed, its date, and what it carries."""

    code: str
    owner: str
    running: int
    circular: bool
    on: date
    issuer: str
    subject: str
    cites: list[tuple[Generated, str]] = field(default_factory=list)  # (letter, "อ้างถึง"/"สิ่งที่ส่งมาด้วย")
    slip: bool = False  # print the first citation's running number with ๕ read as ๘

    def printed(self) -> str:
        running = thai(f"{self.running:04d}" if self.code == "นร" else self.running)
        return f"{self.code} {thai(self.owner)}/{'ว ' if self.circular else ''}{running}"


def _owner_for(rnd: random.Random, code: str) -> str:
    return rnd.choice(("0017", "0023.1", "0023.3", "0118", "0215")) if code else "0001"


def generate_letters(count: int, seed: int = 2020) -> list[Generated]:
    """`count` letters over 2020, in date order: central circulars, provinces forwarding them to their
    districts (citing or enclosing what they received), and plain letters citing nothing."""
    rnd = random.Random(seed)
    start = date(2020, 1, 6)
    running: dict[tuple[str, str, bool], int] = {}
    letters: list[Generated] = []
    recent_central: list[Generated] = []
    recent_province: list[Generated] = []

    def next_number(code: str, owner: str, circular: bool) -> int:
        key = (code, owner, circular)
        running[key] = running.get(key, 0) + rnd.randint(1, 4)
        return running[key]

    for i in range(count):
        on = start + timedelta(days=int(i * 350 / count))
        roll = rnd.random()
        if roll < 0.06 or not recent_central:
            code, owner, issuer, _to = rnd.choice(CENTRAL)
            letter = Generated(
                code, owner, next_number(code, owner, True), True, on, issuer, rnd.choice(SUBJECTS)
            )
            if recent_central and rnd.random() < 0.3:
                letter.cites.append((rnd.choice(recent_central[-20:]), "อ้างถึง"))
            recent_central.append(letter)
        elif roll < 0.75:
            code, name = rnd.choice(PROVINCES)
            owner = _owner_for(rnd, code)
            parent = rnd.choice(recent_province[-40:]) if recent_province and rnd.random() < 0.4 else None
            parent = parent or rnd.choice(recent_central[-15:])
            letter = Generated(
                code, owner, next_number(code, owner, True), True, on, f"ศาลากลางจังหวัด{name}", parent.subject
            )
            letter.cites.append((parent, rnd.choice(("อ้างถึง", "สิ่งที่ส่งมาด้วย"))))
            letter.slip = rnd.random() < 0.05
            recent_province.append(letter)
        else:
            code, name = rnd.choice(PROVINCES)
            owner = _owner_for(rnd, code)
            letter = Generated(
                code,
                owner,
                next_number(code, owner, False),
                False,
                on,
                f"ศาลากลางจังหวัด{name}",
                rnd.choice(SUBJECTS),
            )
        letters.append(letter)
    return letters


def _citation_line(cited: Generated, slip: bool) -> str:
    printed = cited.printed()
    if slip and "๕" in printed.rsplit("/", 1)[1]:
        head, _, tail = printed.rpartition("/")
        printed = f"{head}/{tail.replace('๕', '๘', 1)}"
    return f"ที่ {printed} ลงวันที่ {thai_date(cited.on)}"


def letter_text(letter: Generated, rnd: random.Random) -> str:
    """The letter as an OCR'd file: an optional receipt stamp, the header, citations, body, signature."""
    lines: list[str] = []
    if rnd.random() < 0.5:
        received = letter.on + timedelta(days=rnd.randint(1, 6))
        lines += [
            "สำนักงานปลัดกระทรวงมหาดไทย" if letter.code == "นร" else "จังหวัดระยอง",
            f"เลขรับที่ {thai(f'{rnd.randint(1, 99999):06d}')}",
            f"วันที่ {stamp_date(received)}",
            f"เวลา {thai(rnd.randint(8, 16))}.{thai(rnd.choice(('00', '15', '30', '45')))}",
            "",
        ]
    if rnd.random() < 0.2:
        lines += ["ด่วนที่สุด", ""]
    lines += [f"ที่ {letter.printed()}", "", letter.issuer, "", thai_date(letter.on), ""]
    lines += [f"เรื่อง {letter.subject}", "", "เรียน นายอำเภอทุกอำเภอ", ""]
    for k, (cited, kind) in enumerate(letter.cites):
        lines.append(f"{kind} หนังสือ{cited.issuer} {_citation_line(cited, letter.slip and k == 0)}")
        lines.append("")
    lines += [
        f"ด้วย{letter.issuer}ขอแจ้งเรื่อง{letter.subject} เพื่อทราบและถือปฏิบัติ",
        "",
        "จึงเรียนมาเพื่อโปรดทราบและดำเนินการต่อไป",
        "",
        "ขอแสดงความนับถือ",
        "",
        "(นายสมชาย ใจดี)",
        "ผู้ว่าราชการจังหวัด",
        "",
    ]
    return "\n".join(lines)


def write_batches(letters: list[Generated], root: Path, batch: int, seed: int = 7) -> list[Path]:
    """Write the letters as files, `batch` per directory (batch-000, batch-001, ...)."""
    rnd = random.Random(seed)
    dirs: list[Path] = []
    for start in range(0, len(letters), batch):
        folder = root / f"batch-{start // batch:03d}"
        folder.mkdir(parents=True)
        for k, letter in enumerate(letters[start : start + batch]):
            (folder / f"{start + k:05d}.txt").write_text(letter_text(letter, rnd), encoding="utf-8")
        dirs.append(folder)
    return dirs


@dataclass(frozen=True)
class BatchTime:
    letters: int
    wall: float
    cpu: float

    @property
    def rate(self) -> float:
        return self.letters / self.wall


def run_batches(dirs: list[Path], url: str, per_batch: list[int]) -> list[BatchTime]:
    """Ingest each directory with one `saraban ingest` process; the whole command is timed."""
    env = {**os.environ, "SARABAN_DATABASE_URL": url, "SARABAN_ACTOR": "bench"}
    times: list[BatchTime] = []
    for folder, count in zip(dirs, per_batch, strict=True):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        done = subprocess.run(
            [str(SARABAN), "ingest", str(folder)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        wall = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            tail = done.stderr.decode(errors="replace")[-2000:]
            raise SystemExit(f"saraban ingest {folder} failed ({done.returncode}):\n{tail}")
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        times.append(BatchTime(count, wall, cpu))
        print(
            f"  {folder.name}: {count} letters in {wall:6.1f} s (cpu {cpu:6.1f} s) = {count / wall:6.1f} letters/s"
        )
    return times


def report(name: str, times: list[BatchTime]) -> None:
    total = sum(t.letters for t in times)
    wall = sum(t.wall for t in times)
    ratio = times[-1].rate / times[0].rate
    # On a shared machine the wall clock also measures the neighbours; CPU time measures us.
    cpu_ratio = (times[-1].letters / times[-1].cpu) / (times[0].letters / times[0].cpu)
    print(
        f"{name}: {total} letters in {wall:.0f} s = {total / wall:.1f} letters/s sustained;"
        f" last/first batch rate {ratio:.2f}x (target >= 0.8x; >= 25 letters/s on SQLite);"
        f" per CPU second {total / sum(t.cpu for t in times):.1f} letters, last/first {cpu_ratio:.2f}x"
    )


def _postgres_database(base: str) -> tuple[str, str]:
    """A fresh schema on the server `base` names: (URL using it, schema name)."""
    import sqlalchemy as sa

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    admin.dispose()
    url = sa.make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), schema


def _drop_schema(base: str, schema: str) -> None:
    import sqlalchemy as sa

    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    args = parser.parse_args(argv if argv is not None else [])
    letters = generate_letters(args.letters)
    per_batch = [len(letters[i : i + args.batch]) for i in range(0, len(letters), args.batch)]
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        dirs = write_batches(letters, work / "letters", args.batch)
        cites = sum(len(g.cites) for g in letters)
        print(f"{len(letters)} letters ({cites} citations) in {len(dirs)} batches of {args.batch}")
        if args.backend in ("sqlite", "both"):
            print("SQLite:")
            report("SQLite", run_batches(dirs, f"sqlite:///{work / 'record.db'}", per_batch))
        if args.backend in ("postgres", "both"):
            base = os.environ.get(PG_ENV)
            if not base:
                print(f"PostgreSQL: skipped ({PG_ENV} not set; run under scripts/with-postgres.sh)")
                return
            url, schema = _postgres_database(base)
            try:
                print("PostgreSQL:")
                report("PostgreSQL", run_batches(dirs, url, per_batch))
            finally:
                _drop_schema(base, schema)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
