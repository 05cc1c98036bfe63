"""Ingest OCR text files: parse each file, then store it in one transaction.

A file that does not parse, or that the database refuses (locked past its timeout, disk full),
writes nothing (its error names the file, and the line when known); the other files of the same
run are still ingested. Directories are walked (`collect_files`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from models.db import init_db, session_scope
from models.parser import ParseError, ParseResult, read_file
from records.scans import store_pages
from records.service import IngestReport, ingest_letters


class IngestError(ValueError):
    """A file that could not be ingested; `file`/`line`/`field` locate the problem when known."""

    def __init__(self, message: str, *, file: str, line: int | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.file, self.line, self.field = file, line, field

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        what = f"{self.field}: " if self.field else ""
        return f"{where}: {what}{self.args[0]}"


@dataclass(frozen=True)
class IngestOutcome:
    """One file of `ingest_files`: its report, or the error that kept it out."""

    path: Path
    report: IngestReport | None = None
    error: IngestError | None = None


def collect_files(paths: Iterable[Path | str]) -> list[Path]:
    """The files to ingest: each file given, and every file under each directory given (walked
    recursively, in sorted order, hidden files and directories skipped), in the order given.

    A path that does not exist is kept: ingesting it reports it missing.
    """
    files: list[Path] = []
    for p in paths:
        path = Path(p)
        if not path.is_dir():
            files.append(path)
            continue
        found: list[Path] = []
        for folder, dirs, names in os.walk(path):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            found += (Path(folder) / n for n in names if not n.startswith("."))
        files += sorted(found)
    return files


def _parse(path: Path) -> ParseResult:
    try:
        return read_file(path)
    except ParseError as exc:
        raise IngestError(
            str(getattr(exc, "message", None) or exc),
            file=str(getattr(exc, "file", None) or path),
            line=getattr(exc, "line", None),
            field=getattr(exc, "field", None),
        ) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise IngestError(str(exc), file=str(path)) from exc
    except OSError as exc:
        raise IngestError(exc.strerror or str(exc), file=str(path)) from exc
    except Exception as exc:  # a parser bug must not hide the other files behind a traceback
        raise IngestError(f"parser: {type(exc).__name__}: {exc}", file=str(path)) from exc


def ingest_file(
    path: Path | str, engine: Engine, *, actor: str | None = None, migrate: bool = True
) -> IngestReport:
    """Parse `path` and store its letters (and its unread letters, on the review list) in ONE
    transaction; raises `IngestError` on a bad file.

    `migrate=False` skips bringing the schema up to date, for callers that did it once already
    (`ingest_files`, the CLI): checking it costs more than storing a small letter.
    """
    path = Path(path)
    # One read of the file, by the parser, after its kind and size are checked: a FIFO is never
    # opened and /dev/zero never read (the digest comes with the text).
    read = _parse(path)
    digest = read.sha256
    unread = getattr(read, "unread", ())
    if not read.letters and not unread:
        raise IngestError("no letter found", file=str(path), line=1, field="file")
    if migrate:
        init_db(engine)
    with session_scope(engine) as session:
        report = ingest_letters(
            session,
            read.letters,
            file=str(path),
            sha256=digest,
            actor=actor,
            read_warnings=[(w.line, w.field, w.message) for w in read.warnings],
            unread=unread,
        )
        # A scan's page images, beside its letters, in the same transaction (no event: see records.scans).
        store_pages(session, digest, getattr(read, "pages", ()))
        return report


def _store_error(path: Path, exc: Exception) -> IngestError:
    """A database or system failure while storing `path`, said in one line with the file's name."""
    if isinstance(exc, sa.exc.DBAPIError) and exc.orig is not None:
        message = str(exc.orig).strip().splitlines()[0]
        return IngestError(f"not stored: {message}", file=str(path))
    if isinstance(exc, OSError):
        return IngestError(f"not stored: {exc.strerror or exc}", file=str(path))
    return IngestError(f"not stored: {type(exc).__name__}: {exc}", file=str(path))


def iter_ingest(
    paths: Iterable[Path | str], engine: Engine, *, actor: str | None = None, migrate: bool = True
) -> Iterator[IngestOutcome]:
    """Ingest each file on its own transaction, yielding its outcome as soon as it is known.

    The schema is brought up to date once (unless `migrate=False`: the caller did). A bad file,
    or one the database refuses (`database is locked`, disk full), is an outcome with its error;
    the next file still goes in.
    """
    if migrate:
        init_db(engine)
    for p in paths:
        path = Path(p)
        try:
            yield IngestOutcome(path, report=ingest_file(path, engine, actor=actor, migrate=False))
        except IngestError as exc:
            yield IngestOutcome(path, error=exc)
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            yield IngestOutcome(path, error=_store_error(path, exc))


def ingest_files(
    paths: Iterable[Path | str],
    engine: Engine,
    *,
    actor: str | None = None,
    migrate: bool = True,
    progress: Callable[[IngestOutcome], None] | None = None,
) -> list[IngestOutcome]:
    """Ingest each file on its own; a bad file is reported and the others still go in."""
    outcomes: list[IngestOutcome] = []
    for outcome in iter_ingest(paths, engine, actor=actor, migrate=migrate):
        outcomes.append(outcome)
        if progress is not None:
            progress(outcome)
    return outcomes
