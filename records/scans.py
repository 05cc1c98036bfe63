"""The page images of scanned letters (หนังสือฉบับสแกน), kept beside their reading.

A scan (an image, or a PDF without a text layer) is OCR'd page by page (`models.extract`); its
pages are stored at ingest, in the file's transaction, keyed by the file's sha256 (`scan_page`),
so the dashboard can show a letter's pages next to the fields read from them.

The images are not in the event log: the `ingest.file` event carries what was read, and the log
stays small. OCR joins pages with a blank line, which paragraphs have too, so which page a line
came from is not recoverable from the text: a letter is shown with every page of its file.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.letters import FieldReading
from models.tables import INGEST_EVENT_SQL, Event, LetterRow, ScanPage, new_row
from models.thai import now_bangkok

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height of a PNG, from its header (IHDR), without decoding the image.

    >>> png_size(PNG_SIGNATURE + b"\\0\\0\\0\\rIHDR" + struct.pack(">II", 2480, 3508))
    (2480, 3508)
    >>> png_size(b"GIF89a")
    Traceback (most recent call last):
    ...
    ValueError: not a PNG image (no PNG signature and header)
    """
    if len(png) < 24 or not png.startswith(PNG_SIGNATURE) or png[12:16] != b"IHDR":
        raise ValueError("not a PNG image (no PNG signature and header)")
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def store_pages(session: Session, sha256: str, pages: Sequence[bytes]) -> int:
    """Store the page images (PNG, in page order) of the scanned file whose content is `sha256`,
    in the caller's transaction; returns how many pages were new.

    Idempotent: pages already stored for `sha256` are left as they are, so re-ingesting a scan,
    or the same scan under another name, adds nothing. No event is appended (see the module).
    """
    if not pages:
        return 0
    stored = set(session.exec(select(ScanPage.page).where(ScanPage.sha256 == sha256)))
    at = now_bangkok()
    added = 0
    for number, png in enumerate(pages, start=1):
        if number in stored:
            continue
        width, height = png_size(png)
        row = new_row(
            ScanPage, sha256=sha256, page=number, png=png, width=width, height=height, created_at=at
        )
        session.add(row)
        added += 1
    if added:
        session.flush()
    return added


@dataclass(frozen=True)
class LetterScan:
    """The scan a letter was read from: its file's sha256, its pages (page number, `scan_page`
    id) and the readings of its fields that were not read plainly (repaired, partial, missing)."""

    sha256: str
    pages: list[tuple[int, int]]
    readings: tuple[FieldReading, ...] = field(default=())


def _readings_by_file(session: Session, letter: LetterRow) -> dict[str, tuple[FieldReading, ...]]:
    """sha256 -> the letter's readings, for each ingest of its file that read it, first first.

    Found like the reading notes (`records.service.reading_notes`): the `ingest.file` events of
    the file (partial index `ix_event_ingest_subject`), the letter by its first line."""
    events = (
        select(Event.payload)
        .where(Event.subject == letter.source_file, sa.text(INGEST_EVENT_SQL))
        .order_by(col(Event.seq))
    )
    out: dict[str, tuple[FieldReading, ...]] = {}
    for payload in session.exec(events):
        data = json.loads(payload)
        sha256 = data.get("sha256")
        if not isinstance(sha256, str) or sha256 in out:
            continue
        for item in data.get("letters") or ():
            if (item.get("source") or {}).get("line") == letter.source_line:
                out[sha256] = tuple(FieldReading.model_validate(r) for r in item.get("readings") or ())
                break
    return out


def scan_of_letter(session: Session, letter: LetterRow) -> LetterScan | None:
    """The scan `letter` was read from, or None: a letter read from text or a PDF text layer,
    known only by a citation, or whose file's pages were not kept (ingested before they were).

    When the file was ingested in several versions, the first one that read the letter and has
    pages wins: the letter's fields are that reading's (later ones only add to them).
    """
    if letter.known_only_by_citation or not letter.source_file:
        return None
    readings = _readings_by_file(session, letter)
    if not readings:
        return None
    rows = session.exec(
        select(ScanPage.sha256, ScanPage.page, ScanPage.id)
        .where(col(ScanPage.sha256).in_(list(readings)))
        .order_by(col(ScanPage.page))
    )
    pages: dict[str, list[tuple[int, int]]] = {}
    for sha256, page, page_id in rows:
        assert page_id is not None
        pages.setdefault(sha256, []).append((page, page_id))
    for sha256, read in readings.items():
        if sha256 in pages:
            return LetterScan(sha256, pages[sha256], read)
    return None


def pages_of_letter(session: Session, letter: LetterRow) -> list[tuple[int, int]]:
    """The pages of the scan `letter` was read from, as (page number, `scan_page` id); empty for
    a letter that did not come from a scan. Every page of its file (see the module)."""
    scan = scan_of_letter(session, letter)
    return scan.pages if scan else []


def page_png(session: Session, page_id: int) -> bytes | None:
    """The PNG of one stored page, or None when there is no such page."""
    row = session.get(ScanPage, page_id)
    return row.png if row else None
