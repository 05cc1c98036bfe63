"""Ingest OCR text files: parse each file, then store it in one transaction.

A file that does not parse writes nothing (its error names the file and line); the other files
of the same run are still ingested.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from models.db import init_db, session_scope
from models.parser import ParseError, ParseResult, read_file
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


def ingest_file(path: Path | str, engine: Engine, *, actor: str | None = None) -> IngestReport:
    """Parse `path` and store its letters in ONE transaction; raises `IngestError` on a bad file."""
    path = Path(path)
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise IngestError(exc.strerror or str(exc), file=str(path)) from exc
    read = _parse(path)
    init_db(engine)
    with session_scope(engine) as session:
        return ingest_letters(
            session,
            read.letters,
            file=str(path),
            sha256=digest,
            actor=actor,
            read_warnings=[(w.line, w.field, w.message) for w in read.warnings],
        )


def ingest_files(
    paths: Iterable[Path | str], engine: Engine, *, actor: str | None = None
) -> list[IngestOutcome]:
    """Ingest each file on its own; a bad file is reported and the others still go in."""
    outcomes: list[IngestOutcome] = []
    for p in paths:
        path = Path(p)
        try:
            outcomes.append(IngestOutcome(path, report=ingest_file(path, engine, actor=actor)))
        except IngestError as exc:
            outcomes.append(IngestOutcome(path, error=exc))
    return outcomes
