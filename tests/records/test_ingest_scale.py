"""The cost of ingesting a letter does not grow with the record: counted in SQL statements, not time.

A record of 50 and one of 500 letters (five circulars whose letters cite earlier ones of theirs,
plain letters citing nothing), then the same new letter into each: one that joins a circular,
one that cites a letter not on file, one that nobody cites. The statements each takes must be
the same in both records, not ten times as many.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapper

from models.db import get_engine, init_db, session_scope
from models.letters import Citation, Letter, SourceRef
from records.chain import assign_circulars
from records.events import verify_chain
from records.service import ingest_letters
from tests.records.conftest import fresh_database

START = date(2020, 1, 6)


def _letter(number: str, on: date, cites: list[tuple[str, date]] = (), file: str = "f.txt") -> Letter:  # type: ignore[assignment]
    return Letter(
        number=number,  # type: ignore[arg-type]
        date=on,
        subject=f"เรื่อง {number}",
        references=tuple(Citation(number=n, date=d, text="อ้างถึง") for n, d in cites),  # type: ignore[arg-type]
        source=SourceRef(file=file, line=1),
    )


def record_letters(count: int) -> list[Letter]:
    """`count` letters: five central circulars, provinces citing an earlier letter of the same
    circular (chains and fans), and every fourth letter a plain one citing nothing."""
    letters: list[Letter] = []
    members: list[list[tuple[str, date]]] = [[] for _ in range(5)]
    for i in range(count):
        on = START + timedelta(days=i * 300 // count)
        if i < 5:
            number = f"นร 1200/ว {i + 1:04d}"
            letters.append(_letter(number, on))
            members[i].append((number, on))
        elif i % 4 == 0:
            letters.append(_letter(f"ชม 0017/{i}", on))
        else:
            circular = members[i % 5]
            cited = circular[(i * 7) % len(circular)]
            number = f"พร 0017/ว {i}"
            letters.append(_letter(number, on, [cited]))
            circular.append((number, on))
    return letters


@contextmanager
def counting(engine: Engine) -> Iterator[dict[str, int]]:
    """Count the SQL statements run on `engine` and the rows loaded as objects (a statement that
    reads the whole record is one statement, but as many rows as the record has letters)."""
    counts = {"statements": 0, "rows": 0}

    def statement(*args: object) -> None:
        counts["statements"] += 1

    def row(*args: object) -> None:
        counts["rows"] += 1

    sa.event.listen(engine, "before_cursor_execute", statement)
    sa.event.listen(Mapper, "load", row)
    try:
        yield counts
    finally:
        sa.event.remove(engine, "before_cursor_execute", statement)
        sa.event.remove(Mapper, "load", row)


def _build(url: str, size: int) -> Engine:
    engine = get_engine(url)
    init_db(engine)
    letters = record_letters(size)
    for start in range(0, size, 25):
        with session_scope(engine) as s:
            ingest_letters(
                s, letters[start : start + 25], file=f"part{start}.txt", sha256="0" * 64, actor="t"
            )
    return engine


NEW = {
    # Cites the first letter of a circular that holds a fifth of the record.
    "joins a circular": _letter("ลป 0023/ว 9001", date(2020, 12, 1), [("นร 1200/ว 0001", START)], "new.txt"),
    "cites a letter not on file": _letter(
        "ลป 0023/ว 9002", date(2020, 12, 1), [("มท 0812/ว 7777", date(2020, 11, 2))], "new.txt"
    ),
    "stands alone": _letter("ลป 0023/9003", date(2020, 12, 1), [], "new.txt"),
}


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[int, str]]:
    urls: dict[int, str] = {}
    for size in (50, 500):
        url = next(fresh_database("sqlite", Path(tmp_path_factory.mktemp(f"r{size}"))))
        _build(url, size)
        urls[size] = url
    yield urls


@pytest.mark.parametrize("case", list(NEW))
def test_statements_per_letter_do_not_grow_with_the_record(records: dict[int, str], case: str) -> None:
    counts = {}
    for size, url in records.items():
        engine = get_engine(url)
        with counting(engine) as counted, session_scope(engine) as s:
            ingest_letters(s, [NEW[case]], file=f"new-{case}.txt", sha256="0" * 64, actor="t")
        counts[size] = counted
    assert counts[500]["statements"] <= counts[50]["statements"] + 2, counts
    assert counts[500]["rows"] <= counts[50]["rows"] + 2, counts


def test_the_incremental_circulars_are_what_a_full_recompute_gives(records: dict[int, str]) -> None:
    engine = get_engine(records[500])
    with session_scope(engine) as s:
        before = s.exec(sa.text("SELECT count(*) FROM event")).one()[0]
        circulars = assign_circulars(s, actor="check")  # the whole record, from scratch
        assert s.exec(sa.text("SELECT count(*) FROM event")).one()[0] == before, (
            "full recompute changed something"
        )
        assert len([c for c in circulars if c.startswith("2020-นร-1200")]) == 5
        assert verify_chain(s).ok
