"""Any input file as the text of a letter: legacy encodings, PDF text layers, scans through OCR.

`extract(path)` is the one entry point: it checks the file (a regular file, not too large, not
empty), decides what it is by its first bytes (`%PDF-`, PNG/JPEG/TIFF magic, else text) and reads it:

- text: strict UTF-8 first, then a BOM (UTF-8, UTF-16), then charset-normalizer, preferring cp874
  (the superset of TIS-620, the Thai legacy code page) among the Thai single-byte candidates;
- PDF: the text layer through pypdfium2, with the Thai marks PDF extraction displaces put back
  (`repair_thai_marks`); a PDF with no Thai text layer is a scan and goes to OCR;
- image, or a scanned PDF: Tesseract (`tha+eng`) on each page at 300 dpi, lines built from its TSV
  with their mean confidence, and Thai digits checked again one by one against glyphs rendered
  from Debian's Thai fonts (Tesseract's Thai model reads ๖ as ๒, ๘ as ๕, ...).

Every result is NFC with "\\n" line ends; invisible characters are the parser's business.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import io
import itertools
import math
import operator
import os
import re
import shutil
import stat
import subprocess
import tempfile
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL.Image import Image

MAX_BYTES = 50 * 1024 * 1024
OCR_DPI = 300
# Thai alone: with `tha+eng` the English model takes Thai words of the header for Latin ones (ที่ as
# "N", กษ as "nw", อ้างถึง as "OWEN"), and those are the anchors of every field; Arabic digits
# survive in `tha`, English words (an e-mail, a plan's English name) do not, and are no field.
OCR_LANGUAGES = "tha"
# Page segmentation mode 6 (one uniform block of text) and 4 (one column of lines) read the demo
# letters equally well; 6 keeps a letter's short header lines (number, date) apart more reliably.
OCR_PSM = "6"
OCR_TIMEOUT_SECONDS = 120
THAI_DIGITS = "๐๑๒๓๔๕๖๗๘๙"
FONT_DIR = Path("/usr/share/fonts/truetype/tlwg")


class ExtractError(ValueError):
    """A file-level fault: str(err) == f"{file}:{line}: {field}: {message}"."""

    def __init__(self, message: str, *, file: str, line: int = 1, field: str = "file") -> None:
        self.file = file
        self.line = line
        self.field = field
        self.message = message
        super().__init__(f"{file}:{line}: {field}: {message}")


@dataclass(frozen=True)
class Extracted:
    """A file read as text (ข้อความของหนังสือ), with how it was read."""

    text: str
    kind: str  # "text" | "pdf-text" | "pdf-ocr" | "image-ocr"
    encoding: str | None
    notes: tuple[str, ...]
    line_confidence: Mapping[int, float]  # 1-based line of `text` -> OCR confidence 0..1
    pages: tuple[bytes, ...] = field(default=(), repr=False)  # PNG of each OCR'd page
    sha256: str = ""  # of the bytes read: the file's identity in the record, read once with its text


# --- the file -------------------------------------------------------------------------------------


def extract(path: Path, *, max_bytes: int = MAX_BYTES, recover_digits: bool = True) -> Extracted:
    """Read `path` into text for the parser; raises `ExtractError` naming the file, line and field.

    `recover_digits=False` leaves Tesseract's Thai digits as it read them (for measuring).
    """
    name = str(path)
    data = _read_bytes(path, name, max_bytes)
    digest = hashlib.sha256(data).hexdigest()
    if data.startswith(b"%PDF-"):
        return replace(_extract_pdf(data, name, recover_digits=recover_digits), sha256=digest)
    if _image_kind(data):
        return replace(_extract_image(data, name, recover_digits=recover_digits), sha256=digest)
    text, encoding, notes = decode_text(data, file=name)
    if not text.strip():
        raise ExtractError("empty file", file=name)
    return Extracted(
        text=text, kind="text", encoding=encoding, notes=notes, line_confidence={}, sha256=digest
    )


def _read_bytes(path: Path, name: str, max_bytes: int) -> bytes:
    """The file's bytes, after checks that never block: os.stat first, so a FIFO is never opened."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise ExtractError(f"cannot read file: {exc.strerror or exc}", file=name) from None
    if not stat.S_ISREG(st.st_mode):
        what = "a directory" if stat.S_ISDIR(st.st_mode) else "a FIFO, device or socket"
        raise ExtractError(f"not a regular file ({what})", file=name)
    if st.st_size > max_bytes:
        raise ExtractError(f"file too large: {st.st_size} bytes, the limit is {max_bytes}", file=name)
    try:
        # O_NONBLOCK: should the path turn into a FIFO between stat and open, open does not hang.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise ExtractError(f"cannot read file: {exc.strerror or exc}", file=name) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ExtractError("not a regular file", file=name)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise ExtractError(f"cannot read file: {exc.strerror or exc}", file=name) from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:  # grew since stat
        raise ExtractError(f"file too large: more than {max_bytes} bytes, the limit", file=name)
    if not data.strip():
        raise ExtractError("empty file", file=name)
    return data


def _image_kind(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    return None


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


# --- text -----------------------------------------------------------------------------------------

_THAI_SINGLE_BYTE = {"cp874", "tis_620", "tis-620", "iso8859_11", "iso-8859-11", "windows_874"}


def decode_text(data: bytes, *, file: str) -> tuple[str, str, tuple[str, ...]]:
    """Decode a text file: (text with "\\n" line ends and NFC, encoding, notes).

    >>> decode_text("ที่ นร ๑๒๐๐\\r\\n".encode("cp874"), file="a.txt")
    ('ที่ นร ๑๒๐๐\\n', 'cp874', ('decoded as cp874 (TIS-620)',))
    >>> decode_text(b"\\xef\\xbb\\xbfabc", file="a.txt")
    ('abc', 'utf-8-sig', ('decoded as UTF-8 with a byte-order mark',))
    """
    if data.startswith(b"\xef\xbb\xbf"):
        text = _strict(data[3:], "utf-8", file, offset=3)
        return _normalise(text), "utf-8-sig", ("decoded as UTF-8 with a byte-order mark",)
    for bom, codec, label in ((b"\xff\xfe", "utf-16-le", "LE"), (b"\xfe\xff", "utf-16-be", "BE")):
        if data.startswith(bom):
            text = _strict(data[2:], codec, file, offset=2)
            return _normalise(text), "utf-16", (f"decoded as UTF-16 {label} (byte-order mark)",)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = exc.start
    else:
        if "\x00" not in text:
            return _normalise(text), "utf-8", ()
        bad = -1
    if b"\x00" in data:
        for codec, label in (("utf-16-le", "LE"), ("utf-16-be", "BE")):
            decoded = _try(data, codec)
            if decoded is not None and _sensible(decoded):
                return _normalise(decoded), codec, (f"decoded as UTF-16 {label} (no byte-order mark)",)
        nul = data.index(b"\x00")
        raise ExtractError("binary file (NUL byte), not text", file=file, line=data[:nul].count(b"\n") + 1)
    guessed = _guess(data)
    if guessed is not None:
        return guessed
    line = data[:bad].count(b"\n") + 1 if bad >= 0 else 1
    raise ExtractError(
        f"not text in any known encoding (first byte not UTF-8: {data[bad]:#04x} at offset {bad})",
        file=file,
        line=line,
    )


def _strict(data: bytes, codec: str, file: str, *, offset: int) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        at = offset + exc.start
        raise ExtractError(
            f"not valid {codec} (byte {data[exc.start]:#04x} at offset {at})",
            file=file,
            line=data[: exc.start].count(b"\n") + 1,
        ) from None


def _try(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


def _sensible(text: str) -> bool:
    """Text a Thai office would write: mostly Thai, ASCII, common punctuation; no control codes."""
    if not text.strip():
        return False
    good = 0
    for ch in text:
        code = ord(ch)
        if ch in "\t\n\r\f" or 0x20 <= code < 0x7F or 0x0E00 <= code <= 0x0E7F:
            good += 1
        elif code < 0x20 or 0x7F <= code < 0xA0:
            return False
        elif 0x2000 <= code <= 0x206F or ch in "\u00a0\u00b7\ufeff":
            good += 1
    return good / len(text) >= 0.9


def _guess(data: bytes) -> tuple[str, str, tuple[str, ...]] | None:
    """charset-normalizer's reading, cp874 for any Thai single-byte candidate; None if none is text."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    codecs = [m.encoding for m in matches]
    if any(c.replace("-", "_").lower() in _THAI_SINGLE_BYTE for c in codecs):
        text = _try(data, "cp874")
        if text is not None and _sensible(text):
            return _normalise(text), "cp874", ("decoded as cp874 (TIS-620)",)
    for match in matches:
        text = str(match)
        if _sensible(text):
            return _normalise(text), match.encoding, (f"decoded as {match.encoding} (detected)",)
    # The detector may pass over a short Thai file; cp874 is the one legacy code page to expect.
    text = _try(data, "cp874")
    if text is not None and _sensible(text) and sum(0x0E00 <= ord(c) <= 0x0E7F for c in text) >= 3:
        return _normalise(text), "cp874", ("decoded as cp874 (TIS-620)",)
    return None


# --- PDF text layers ------------------------------------------------------------------------------

# Thai fonts of the Windows/Mac era draw shifted marks from the Private Use Area; PDF text layers
# made with them carry those code points. Each maps back to the standard character.
_PUA = {
    0xF700: "\u0e10",  # tho than without its descender
    0xF701: "\u0e34",
    0xF702: "\u0e35",
    0xF703: "\u0e36",
    0xF704: "\u0e37",  # above vowels, shifted left
    0xF705: "\u0e48",
    0xF706: "\u0e49",
    0xF707: "\u0e4a",
    0xF708: "\u0e4b",
    0xF709: "\u0e4c",  # tone marks, low and left
    0xF70A: "\u0e48",
    0xF70B: "\u0e49",
    0xF70C: "\u0e4a",
    0xF70D: "\u0e4b",
    0xF70E: "\u0e4c",  # tone marks, low
    0xF70F: "\u0e0d",  # yo ying without its descender
    0xF710: "\u0e31",
    0xF711: "\u0e4d",
    0xF712: "\u0e47",  # mai han akat, nikhahit, mai taikhu, shifted left
    0xF713: "\u0e48",
    0xF714: "\u0e49",
    0xF715: "\u0e4a",
    0xF716: "\u0e4b",
    0xF717: "\u0e4c",  # tone marks, left
    0xF718: "\u0e38",
    0xF719: "\u0e39",
    0xF71A: "\u0e3a",  # below vowels and phinthu, low
}
_VOWEL_MARKS = "\u0e31\u0e34\u0e35\u0e36\u0e37\u0e38\u0e39\u0e3a\u0e47"
_TONE_MARKS = "\u0e48\u0e49\u0e4a\u0e4b\u0e4c"
_MARKS = _VOWEL_MARKS + _TONE_MARKS + "\u0e4d\u0e4e"
_STRAY_SPACE = re.compile(f"(?<=[\u0e01-\u0e2e\u0e30-\u0e3a\u0e47-\u0e4e])[ \u00a0]+(?=[{_MARKS}])")
_SPLIT_AM = re.compile(f"\u0e4d([{_TONE_MARKS}]?)\u0e32|([{_TONE_MARKS}])\u0e4d\u0e32")
_MARK_RUN = re.compile(f"[{_MARKS}]{{2,}}")
_AM_SPACE = re.compile("(?<=\u0e33) (?=[\u0e01-\u0e2e\u0e40-\u0e44])")


def _mark_rank(ch: str) -> int:
    return 0 if ch in _VOWEL_MARKS else 1 if ch in _TONE_MARKS else 2


def repair_thai_marks(text: str) -> tuple[str, int]:
    """Put back the Thai marks PDF text extraction displaces; returns (text, how many repairs).

    Private-use glyphs of Thai fonts back to their characters:

    >>> repair_thai_marks("\\u0e1b\\uf70b\\u0e32")  # ป + low mai tho + า
    ('ป้า', 1)

    Sara am drawn as nikhahit + sara aa, with or without a tone mark between:

    >>> repair_thai_marks("\\u0e19\\u0e49\\u0e4d\\u0e32")  # น ้ ํ า
    ('น้ำ', 1)
    >>> repair_thai_marks("\\u0e19\\u0e4d\\u0e49\\u0e32")  # น ํ ้ า
    ('น้ำ', 1)

    A tone mark emitted before its vowel goes after it (consonant, vowel, tone):

    >>> repair_thai_marks("\\u0e17\\u0e48\\u0e35")  # ท ่ ี
    ('ที่', 1)

    A space between a consonant and its marks goes; so do the spaces some PDF makers put after every
    sara am (when most sara am in the text have one):

    >>> repair_thai_marks("เร ื่อง สำ นักงาน จำ นวน")
    ('เรื่อง สำนักงาน จำนวน', 3)
    >>> repair_thai_marks("ที่ นร ๑๒๐๐/ว๐๐๑๓")
    ('ที่ นร ๑๒๐๐/ว๐๐๑๓', 0)
    """
    count = 0

    def pua(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return _PUA[ord(match.group(0))]

    text = re.sub("[\uf700-\uf71a]", pua, text)
    text, n = _STRAY_SPACE.subn("", text)
    count += n
    text, n = _SPLIT_AM.subn(lambda m: (m.group(1) or m.group(2) or "") + "\u0e33", text)
    count += n

    def reorder(match: re.Match[str]) -> str:
        nonlocal count
        run = match.group(0)
        fixed = "".join(sorted(run, key=_mark_rank))
        count += fixed != run
        return fixed

    text = _MARK_RUN.sub(reorder, text)
    am = text.count("\u0e33")
    spaced = len(_AM_SPACE.findall(text))
    if spaced >= 2 and spaced * 2 >= am:
        text, n = _AM_SPACE.subn("", text)
        count += n
    return text, count


def _thai_letters(text: str) -> int:
    return sum(0x0E01 <= ord(c) <= 0x0E2E for c in text)


@dataclass
class _Char:
    char: str
    box: tuple[float, float, float, float]  # left, right, bottom, top
    origin: tuple[float, float]
    size: float


def _page_text(textpage: Any) -> tuple[str, int]:
    """A page's text layer, lines by the glyphs' baselines; (text, repeated clusters dropped).

    pdfium's own line breaks follow every change of height, so a Thai mark drawn above the line
    breaks it; here a line ends where the baseline moves by more than half the font size, and a
    gap of two lines' height is a blank line. Chromium (Skia) maps the glyph of a stacked mark to
    its whole cluster (`ตั้` after `ตั้` in `ตั้งใจ`); such clusters are dropped.
    """
    import ctypes

    import pypdfium2.raw as raw  # type: ignore[import-untyped]

    chars: list[_Char | None] = []  # None: a space pdfium generated from a gap
    left, right, bottom, top = (ctypes.c_double() for _ in range(4))
    x, y = ctypes.c_double(), ctypes.c_double()
    for i in range(raw.FPDFText_CountChars(textpage)):
        code = raw.FPDFText_GetUnicode(textpage, i)
        char = chr(code) if code else ""
        if raw.FPDFText_IsGenerated(textpage, i) == 1 or char in ("\r", "\n", "\ufffe", ""):
            if char == " ":
                chars.append(None)
            continue
        raw.FPDFText_GetCharBox(textpage, i, left, right, bottom, top)
        raw.FPDFText_GetCharOrigin(textpage, i, x, y)
        size = raw.FPDFText_GetFontSize(textpage, i) or 12.0
        chars.append(
            _Char(char, (left.value, right.value, bottom.value, top.value), (x.value, y.value), size)
        )
    # Clusters: runs of glyph-sharing characters (the same box, split evenly across them).
    clusters: list[list[_Char]] = []
    for c in chars:
        if c is None:
            clusters.append([])
            continue
        last = clusters[-1] if clusters and clusters[-1] else None
        if (
            last is not None
            and abs(last[-1].box[2] - c.box[2]) < 0.05
            and abs(last[-1].box[3] - c.box[3]) < 0.05
            and abs(last[-1].box[1] - c.box[0]) < 0.05
            and not c.char.isspace()
        ):
            last.append(c)
        else:
            clusters.append([c])
    # The height of a plain Thai consonant (x-height) measures the type as printed: Chromium scales
    # a page down when a line is too wide for it, and the font size pdfium reports ignores that.
    heights = sorted(
        c.box[3] - c.box[2]
        for cluster in clusters
        if len(cluster) == 1
        for c in cluster
        if "\u0e01" <= c.char <= "\u0e2e"
    )
    sizes = [c.size for c in chars if c is not None]
    unit = heights[len(heights) // 2] if heights else 0.43 * max(sizes, default=12.0)
    dropped = 0
    kept: list[list[_Char]] = []
    skip_space = False
    for cluster in clusters:
        # A mark's glyph mapped to its whole cluster: several characters, a Thai consonant first,
        # under 0.6 of a consonant's height. It repeats the cluster drawn in full beside it (Skia
        # may emit it before or after the line, or on the page above when the line is the next
        # page's first), with a space pdfium makes up for the jump; a ligature of ordinary letters
        # is full height.
        if (
            len(cluster) >= 2
            and "\u0e01" <= cluster[0].char <= "\u0e2e"
            and any(c.char in _MARKS for c in cluster)
            and cluster[0].box[3] - cluster[0].box[2] < 0.6 * unit
        ):
            dropped += 1
            if kept and not kept[-1]:
                kept.pop()
            skip_space = True
            continue
        if not cluster and skip_space:
            continue
        skip_space = False
        kept.append(cluster)
    # A line ends where the baseline moves by more than a consonant's height; a move of more than
    # 1.6 times the usual line pitch leaves a blank line.
    baselines = [c.origin[1] for cluster in kept for c in cluster]
    steps = sorted(abs(b - a) for a, b in itertools.pairwise(baselines) if abs(b - a) > 1.2 * unit)
    pitch = steps[len(steps) // 2] if steps else math.inf
    out: list[str] = []
    baseline: float | None = None
    space = False
    for cluster in kept:
        if not cluster:
            space = True
            continue
        for c in cluster:
            step = abs(c.origin[1] - baseline) if baseline is not None else 0.0
            if baseline is not None and step > 1.2 * unit:
                out.append("\n\n" if step > 1.6 * pitch else "\n")
            elif space and out:
                out.append(" ")
            space = False
            out.append(c.char)
            baseline = c.origin[1]
    return "".join(out), dropped


def _extract_pdf(data: bytes, name: str, *, recover_digits: bool = True) -> Extracted:
    import pypdfium2 as pdfium  # ships no type information

    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise ExtractError(f"not a readable PDF ({exc})", file=name) from None
    try:
        texts = []
        duplicates = 0
        for page in doc:
            textpage = page.get_textpage()
            page_text, dropped = _page_text(textpage)
            texts.append(_normalise(page_text).strip("\n"))
            duplicates += dropped
            textpage.close()
            page.close()
        pages = len(texts)
        # A scan has no text layer, or a few stray characters of one (a stamp, a page number).
        if _thai_letters("".join(texts)) >= 20 * max(1, pages) // 2:
            repaired = 0
            out = []
            for page_text in texts:
                fixed, n = repair_thai_marks(page_text)
                out.append(fixed)
                repaired += n
            notes = [f"PDF text layer, {pages} page{'s' if pages != 1 else ''}"]
            if repaired:
                notes.append(f"repaired {repaired} displaced Thai marks from the PDF text layer")
            if duplicates:
                notes.append(
                    f"dropped {duplicates} repeated Thai clusters (mark glyphs mapped to whole clusters)"
                )
            text = _normalise("\n\n".join(out)) + "\n"
            return Extracted(
                text=text, kind="pdf-text", encoding=None, notes=tuple(notes), line_confidence={}
            )
        images = []
        for page in doc:
            bitmap = page.render(scale=OCR_DPI / 72, grayscale=True)
            images.append(bitmap.to_pil())
            page.close()
    finally:
        doc.close()
    return _ocr_pages(images, name, kind="pdf-ocr", why="no Thai text layer", recover_digits=recover_digits)


# --- OCR ------------------------------------------------------------------------------------------


def _extract_image(data: bytes, name: str, *, recover_digits: bool = True) -> Extracted:
    from PIL import Image, ImageSequence, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        frames = [frame.copy() for frame in ImageSequence.Iterator(image)]
    except (UnidentifiedImageError, OSError, ValueError) as exc:
        raise ExtractError(f"not a readable image ({exc})", file=name) from None
    pages = []
    for frame in frames:
        dpi = frame.info.get("dpi", (0, 0))[0] or OCR_DPI
        page = frame.convert("L")
        if dpi and abs(float(dpi) - OCR_DPI) > 20 and float(dpi) > 50:
            scale = OCR_DPI / float(dpi)
            page = page.resize(
                (round(page.width * scale), round(page.height * scale)), Image.Resampling.LANCZOS
            )
        pages.append(page)
    return _ocr_pages(pages, name, kind="image-ocr", why="image", recover_digits=recover_digits)


@dataclass
class _Word:
    text: str
    conf: float
    box: tuple[int, int, int, int]  # left, top, right, bottom


@dataclass
class _Line:
    """One line of Tesseract's reading: its words (TSV; for Thai, often a glyph each) and its text.

    The TSV has no spaces for Thai, so `text` comes from Tesseract's plain-text output of the same
    recognition, which keeps them; without a matching plain-text line the words are joined.
    """

    words: list[_Word]
    key: tuple[int, int, int]  # block, paragraph, line
    text: str = ""

    @property
    def confidence(self) -> float:
        confs = [w.conf for w in self.words if w.conf >= 0]
        return sum(confs) / len(confs) if confs else 0.0


def _ocr_pages(
    images: Sequence[Image], name: str, *, kind: str, why: str, recover_digits: bool = True
) -> Extracted:
    from PIL import ImageFilter

    lines_out: list[str] = []
    confidence: dict[int, float] = {}
    pngs = []
    fixed_digits = fixed_anchor = fixed_marks = stray = fixed_signs = 0
    for number, image in enumerate(images):
        gray = image.convert("L")
        buffer = io.BytesIO()
        gray.save(buffer, format="PNG")
        pngs.append(buffer.getvalue())
        # Salt-and-pepper speckle is what throws Tesseract most on office scans; a 3x3 median takes
        # it out and costs clean pages nothing measurable.
        clean = gray.filter(ImageFilter.MedianFilter(3))
        lines = _tesseract_lines(clean, name, page=number + 1)
        if number and lines:
            lines_out.append("")
        previous: tuple[int, int] | None = None
        for line in lines:
            if recover_digits:
                fixed_digits += _recover_digits(clean, line)
            text = line.text
            text, n = _fix_number_anchor(text)
            fixed_anchor += n
            text, n = repair_thai_marks(text)  # Tesseract also writes sara am as nikhahit + sara aa
            fixed_marks += n
            text, n = _strip_date_line(text)
            stray += n
            text, n = _repair_ocr_signs(text)
            fixed_signs += n
            if previous is not None and previous != line.key[:2]:
                lines_out.append("")
            previous = line.key[:2]
            lines_out.append(_normalise(text))
            confidence[len(lines_out)] = round(line.confidence, 3)
    notes = [
        f"OCR (tesseract {OCR_LANGUAGES}, {OCR_DPI} dpi, psm {OCR_PSM}), {len(images)} "
        f"page{'s' if len(images) != 1 else ''} ({why})"
    ]
    if fixed_digits:
        notes.append(f"corrected {fixed_digits} Thai digits by their glyph shapes")
    if fixed_marks:
        notes.append(f"repaired {fixed_marks} split or misordered Thai marks")
    if fixed_signs:
        notes.append(f"put back {fixed_signs} slashes or dots OCR dropped or marked (`๓ว๒`, `ก.ุค.`)")
    if stray:
        notes.append(f"dropped {stray} stray characters (speckle read as letters) around a date line")
    if fixed_anchor:
        notes.append(f"put back {fixed_anchor} 'ที่' read without its tone mark or as Latin letters")
    text = "\n".join(lines_out).strip("\n") + "\n"
    if not text.strip():
        raise ExtractError("no text found by OCR", file=name)
    return Extracted(
        text=text,
        kind=kind,
        encoding=None,
        notes=tuple(notes),
        line_confidence=confidence,
        pages=tuple(pngs),
    )


def _tesseract_lines(image: Image, name: str, *, page: int) -> list[_Line]:
    binary = shutil.which("tesseract")
    if binary is None:
        raise ExtractError(
            "OCR needs tesseract: install the Debian packages tesseract-ocr and tesseract-ocr-tha",
            file=name,
            field="ocr",
        )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", dpi=(OCR_DPI, OCR_DPI))
    # One thread: Tesseract's OpenMP threads fight each other on two cores (1.5 s a page with one
    # thread, 11 s with the default).
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    with tempfile.TemporaryDirectory(prefix="saraban-ocr-") as tmp:
        base = Path(tmp) / "page"
        command = [binary, "stdin", str(base), "-l", OCR_LANGUAGES, "--psm", OCR_PSM, "--dpi", str(OCR_DPI)]
        try:
            done = subprocess.run(
                [*command, "txt", "tsv"],
                input=buffer.getvalue(),
                capture_output=True,
                timeout=OCR_TIMEOUT_SECONDS,
                env=env,
            )
        except subprocess.TimeoutExpired:
            raise ExtractError(
                f"OCR of page {page} took more than {OCR_TIMEOUT_SECONDS} s", file=name, field="ocr"
            ) from None
        if done.returncode != 0 or not base.with_suffix(".tsv").exists():
            err = done.stderr.decode("utf-8", "replace").strip()
            if "tha" in err and ("Failed loading language" in err or "traineddata" in err):
                err = "Thai model missing: install the Debian package tesseract-ocr-tha"
            raise ExtractError(f"OCR of page {page} failed: {err[-300:]}", file=name, field="ocr")
        tsv = base.with_suffix(".tsv").read_text(encoding="utf-8", errors="replace")
        txt = base.with_suffix(".txt").read_text(encoding="utf-8", errors="replace")
    return _lines_from_tsv(tsv, txt)


def _lines_from_tsv(tsv: str, txt: str = "") -> list[_Line]:
    """Tesseract's TSV rows of level 5 (words), grouped into lines in reading order, each given the
    matching line of the plain-text output (same characters once spaces are taken out)."""
    lines: dict[tuple[int, int, int], _Line] = {}
    for row in tsv.splitlines()[1:]:
        cells = row.split("\t")
        if len(cells) < 12 or cells[0] != "5" or not cells[11].strip():
            continue
        left, top, width, height = (int(c) for c in cells[6:10])
        key = (int(cells[2]), int(cells[3]), int(cells[4]))
        word = _Word(cells[11].strip(), float(cells[10]) / 100, (left, top, left + width, top + height))
        lines.setdefault(key, _Line([], key)).words.append(word)
    plain = [t.strip() for t in txt.splitlines() if t.strip()]
    k = 0
    for line in lines.values():
        joined = "".join(w.text for w in line.words)
        line.text = " ".join(w.text for w in line.words)
        for j in range(k, min(k + 3, len(plain))):
            if re.sub(r"\s+", "", plain[j]) == re.sub(r"\s+", "", joined):
                line.text = re.sub(r"\s+", " ", plain[j])
                k = j + 1
                break
    return list(lines.values())


_ANCHOR = re.compile(r"^\s*(\S{1,4})\s+(?=[ก-ฮ]{2}\s?[๐-๙0-9]{4}(?:\.[๐-๙0-9]+)*\s?/)")


_THI_BEFORE_NUMBER = re.compile(r"(?<!\S)ที(?=\s+[ก-ฮ]{2}\s?[๐-๙0-9]{4})")
_WANTHI = re.compile(r"วันที(?=\s*[๐-๙0-9])")


def _fix_number_anchor(line: str) -> tuple[str, int]:
    """`ที่` before a letter number is often read as `ที`, `N`, `fi` or `NWI`, and `วันที่` before a
    day as `วันที`; put them back.

    >>> _fix_number_anchor("N นร ๑๒๐๐/ว๐๐๑๓")
    ('ที่ นร ๑๒๐๐/ว๐๐๑๓', 1)
    >>> _fix_number_anchor("อ้างถึง หนังสือจังหวัด ที กษ ๐๒๐๘/ว ๙๑๒ ลงวันที ๒๐ กุมภาพันธ์ ๒๕๖๗")
    ('อ้างถึง หนังสือจังหวัด ที่ กษ ๐๒๐๘/ว ๙๑๒ ลงวันที่ ๒๐ กุมภาพันธ์ ๒๕๖๗', 2)
    """
    count = 0
    match = _ANCHOR.match(line)
    if match is not None and match.group(1) not in ("ที่", "ที"):
        line = "ที่ " + line[match.end() :]
        count += 1
    line, n = _THI_BEFORE_NUMBER.subn("ที่", line)
    count += n
    line, n = _WANTHI.subn("วันที่", line)
    return line, count + n


_DATE_CORE = re.compile(
    r"(?<![๐-๙0-9])(?P<day>[๐-๙0-9]{1,2})\s*(?P<month>[ก-ฮเ-ไ][ก-๙.]{1,12}?)\s*(?P<year>[๐-๙0-9]{2,4})(?![๐-๙0-9])"
)


def _is_month(word: str) -> bool:
    """A Thai month name, full or abbreviated, or one a letter or two off (OCR)."""
    if word in _MONTHS:
        return True
    bare = word.replace(".", "")
    names = [m.replace(".", "") for m in _MONTHS]
    return len(bare) >= 4 and bool(difflib.get_close_matches(bare, names, n=1, cutoff=0.75))


def _is_stray(token: str) -> bool:
    """A token OCR makes of speckle: two letters at most (marks not counted), or signs only; never
    a Thai digit."""
    if re.search("[๐-๙]", token):
        return False
    letters = re.sub("[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]", "", token)
    return len(letters) <= 2 or not re.search("[ก-ฮA-Za-z0-9]", letters)


_SERIES_WITHOUT_SLASH = re.compile("(?<=[๐-๙])ว(?=[๐-๙])")
_MARK_AFTER_DOT = re.compile("(?<=[.])[\u0e31\u0e34-\u0e3a\u0e47-\u0e4e]+(?=[ก-ฮ])")


def _repair_ocr_signs(line: str) -> tuple[str, int]:
    """The slash before the series mark ว that OCR dropped between two digits, and a Thai mark it
    put after a dot (no mark follows a dot: `ก.ุค.`); (line, how many repairs).

    >>> _repair_ocr_signs("๑๒๘๗๒ มท ๐๘๑๖.๓ว๒๓๔๕ ๒๘ มิ.ย. ๖๗")
    ('๑๒๘๗๒ มท ๐๘๑๖.๓/ว๒๓๔๕ ๒๘ มิ.ย. ๖๗', 1)
    >>> _repair_ocr_signs("๑ ก.ุค. ๖๗ ที่ นร ๑๒๐๐/ว๐๐๑๓")
    ('๑ ก.ค. ๖๗ ที่ นร ๑๒๐๐/ว๐๐๑๓', 1)
    """
    line, slashes = _SERIES_WITHOUT_SLASH.subn("/ว", line)
    line, marks = _MARK_AFTER_DOT.subn("", line)
    return line, slashes + marks


def _strip_date_line(line: str) -> tuple[str, int]:
    """A date line with the specks around it that OCR read as letters dropped; (line, how many
    characters went). Only a line that is a date and nothing but such tokens besides.

    >>> _strip_date_line("ุ ธง ะ ๑๘ มกราคม ๒๕๖๗ น")
    ('๑๘ มกราคม ๒๕๖๗', 5)
    >>> _strip_date_line(". 0 ๒๒กธันวาคม ๒๕๖๖")
    ('๒๒กธันวาคม ๒๕๖๖', 2)
    >>> _strip_date_line("า ๒ เมษายน ๒๕๖๗")
    ('๒ เมษายน ๒๕๖๗', 1)
    >>> _strip_date_line("ณ วันที่ ๑๘ มกราคม ๒๕๖๗")
    ('ณ วันที่ ๑๘ มกราคม ๒๕๖๗', 0)
    >>> _strip_date_line("๓ ม.ค. ๖๗ สน ๐๕๑๘/ว ๑")
    ('๓ ม.ค. ๖๗ สน ๐๕๑๘/ว ๑', 0)
    """
    match = _DATE_CORE.search(line)
    if match is None or not _is_month(match.group("month")):
        return line, 0
    around = (line[: match.start()] + " " + line[match.end() :]).split()
    if not around or not all(_is_stray(t) for t in around):
        return line, 0
    return match.group(0), sum(len(t) for t in around)


# --- Thai digits by glyph shape -------------------------------------------------------------------

_GRID = 16
_DIGIT_FONTS = ("Norasi", "Garuda", "Loma", "Kinnari", "TlwgTypo", "Waree", "Sawasdee", "Umpush", "Laksaman")
_MIN_MATCH = 0.55
_MIN_LOOKALIKE = 0.8


def _vector(image: Image) -> list[float] | None:
    """A glyph crop as a zero-mean unit vector on a square grid (aspect kept), or None if blank."""
    from PIL import Image as PILImage
    from PIL import ImageOps

    inverted = ImageOps.invert(image.convert("L"))
    box = inverted.point(lambda v: 255 if v > 96 else 0).getbbox()
    if box is None:
        return None
    glyph = inverted.crop(box)
    side = max(glyph.width, glyph.height)
    square = PILImage.new("L", (side, side), 0)
    square.paste(glyph, ((side - glyph.width) // 2, (side - glyph.height) // 2))
    values = [float(v) for v in square.resize((_GRID, _GRID), PILImage.Resampling.BILINEAR).tobytes()]
    mean = sum(values) / len(values)
    centred = [v - mean for v in values]
    norm = math.sqrt(sum(v * v for v in centred))
    if norm == 0:
        return None
    return [v / norm for v in centred]


@functools.cache
def _digit_templates() -> tuple[tuple[str, tuple[float, ...], float], ...]:
    """The ten Thai digits rendered in Debian's Thai fonts: (digit, vector, aspect ratio)."""
    from PIL import Image as PILImage
    from PIL import ImageDraw, ImageFont

    templates = []
    for family in _DIGIT_FONTS:
        for suffix in ("", "-Bold"):
            path = FONT_DIR / f"{family}{suffix}.ttf"
            if not path.exists():
                continue
            font = ImageFont.truetype(str(path), 64)
            for digit in THAI_DIGITS:
                canvas = PILImage.new("L", (128, 128), 255)
                ImageDraw.Draw(canvas).text((24, 16), digit, font=font, fill=0)
                vector = _vector(canvas)
                box = _ink_box(canvas)
                if vector is None or box is None:
                    continue
                aspect = (box[2] - box[0]) / max(1, box[3] - box[1])
                templates.append((digit, tuple(vector), aspect))
    return tuple(templates)


def _ink_box(image: Image) -> tuple[int, int, int, int] | None:
    from PIL import ImageOps

    return ImageOps.invert(image.convert("L")).point(lambda v: 255 if v > 96 else 0).getbbox()


def classify_digit(image: Image) -> tuple[str, float]:
    """The Thai digit a glyph crop looks most like, and how well (correlation, -1..1)."""
    vector = _vector(image)
    box = _ink_box(image)
    if vector is None or box is None:
        return "", -1.0
    aspect = (box[2] - box[0]) / max(1, box[3] - box[1])
    best: dict[str, float] = {}
    for digit, template, t_aspect in _digit_templates():
        score = sum(map(operator.mul, vector, template)) - 0.5 * abs(math.log(max(aspect, 0.05) / t_aspect))
        if score > best.get(digit, -9.0):
            best[digit] = score
    digit = max(best, key=best.__getitem__)
    return digit, best[digit]


_MONTHS = frozenset(
    {"มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน", "กรกฎาคม", "สิงหาคม", "กันยายน"}
    | {"ตุลาคม", "พฤศจิกายน", "ธันวาคม", "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค."}
    | {"ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค."}
)
# Latin letters and signs Tesseract reads Thai digits as (๐๓ as "oo", ๑ as "l", ๘ as "0", ๑ as
# "@"); a token of these beside a Thai date word or number is read again as digits. Arabic digits
# count only on a line otherwise written in Thai digits (`0 สิงหาคม ๒๕๖๕`).
_DIGIT_LOOKALIKES = re.compile("[oOlI|@๐-๙0-9]{1,4}")


# A run of Thai digits, with the Arabic digits and guillemets Tesseract puts among them for a Thai
# digit it could not place (`๕๕5`, `๒»`): the whole run is read again glyph by glyph.
# Thai letters it reads for a digit (ญ, ณ, with a stray mark) count after a Thai digit, before
# another digit or the end of the word, and at the start of a word before a Thai digit.
_THAI_DIGIT_RUN = re.compile(
    "(?:(?<!\\S)[ญณ][\u0e48-\u0e4c]?(?=[๐-๙]))?"
    "[๐-๙0-9»«@]*[๐-๙](?:[๐-๙0-9»«@]|[ญณ][\u0e48-\u0e4c]?(?=[๐-๙0-9]|[^\u0e01-\u0e4e]|$))*"
)


def _digit_runs(line: _Line) -> list[tuple[int, int, list[_Word], bool]]:
    """Runs of Thai digits in `line.text`: (start, end, the TSV words holding them, lookalike).

    `lookalike` runs are tokens of Latin letters shaped like Thai digits next to a month or a Thai
    number (`oo มิถุนายน`); they are only replaced by a confident reading of every glyph.
    """
    owners: list[_Word] = []
    for word in line.words:
        owners += [word] * len(re.sub(r"\s+", "", word.text))
    # index among the non-space characters of each character of the text
    position = []
    count = 0
    for char in line.text:
        position.append(count)
        count += not char.isspace()
    spans: list[tuple[int, int, bool]] = [
        (m.start(), m.end(), False) for m in _THAI_DIGIT_RUN.finditer(line.text)
    ]
    tokens = list(re.finditer(r"\S+", line.text))
    arabic = [t for t in tokens if re.search("[0-9]", t.group())]
    for k, token in enumerate(tokens):
        if re.search("[0-9]", token.group()) and (arabic != [token] or not re.search("[๐-๙]", line.text)):
            continue
        if _DIGIT_LOOKALIKES.fullmatch(token.group()) and not re.search("[๐-๙]", token.group()):
            beside = [t.group() for t in tokens[max(0, k - 1) : k + 2] if t is not token]
            if any(t in _MONTHS or re.fullmatch("[๐-๙]+", t) for t in beside):
                spans.append((token.start(), token.end(), True))
    runs = []
    for start, end, lookalike in sorted(spans):
        words: list[_Word] = []
        for i in range(start, end):
            if position[i] < len(owners) and (not words or words[-1] is not owners[position[i]]):
                words.append(owners[position[i]])
        runs.append((start, end, words, lookalike))
    return runs


_INK = 212  # a pixel darker than this is ink: blurred thin strokes of a serif face stay joined


def _components(strip: Image) -> list[tuple[int, int, int, int, list[int]]]:
    """Connected components (8-neighbour) of the ink of a strip: (left, top, right, bottom, pixel
    offsets), right and bottom exclusive."""
    width, height = strip.size
    data = strip.tobytes()
    seen = bytearray(width * height)
    found = []
    for start in range(width * height):
        if seen[start] or data[start] >= _INK:
            continue
        seen[start] = 1
        stack = [start]
        pixels = []
        while stack:
            at = stack.pop()
            pixels.append(at)
            y, x = divmod(at, width)
            for ny in (y - 1, y, y + 1):
                if ny < 0 or ny >= height:
                    continue
                for nx in (x - 1, x, x + 1):
                    if 0 <= nx < width:
                        n = ny * width + nx
                        if not seen[n] and data[n] < _INK:
                            seen[n] = 1
                            stack.append(n)
        xs = [p % width for p in pixels]
        ys = [p // width for p in pixels]
        found.append((min(xs), min(ys), max(xs) + 1, max(ys) + 1, pixels))
    return found


def _ink_band(strip: Image, box: tuple[int, int, int, int]) -> tuple[int, int] | None:
    """The rows of the text line in a strip cut around a run of digits whose box (in the strip) is
    `box`: the band of consecutive inked rows (gaps of three rows or less bridged) with the most ink
    within the box. Tesseract's boxes may reach into the lines above and below, and the strip
    further."""
    width, height = strip.size
    data = strip.tobytes()
    lo, hi = max(0, box[0]), min(width, box[2])
    rows = [
        sum(1 for x in range(lo, hi) if data[y * width + x] < _INK) if box[1] <= y < box[3] else 0
        for y in range(height)
    ]
    # Outside the box a row only joins a band (its ink counts for nothing).
    joins = [sum(1 for x in range(lo, hi) if data[y * width + x] < _INK) for y in range(height)]
    best: tuple[int, int, int] | None = None
    start = None
    gap = ink = 0
    for y, count in enumerate([*joins, 0, 0, 0, 0]):
        if count > 0:
            if start is None:
                start, ink = y, 0
            ink += rows[y]
            gap = 0
        elif start is not None:
            gap += 1
            if gap > 3:
                end = y - gap + 1
                if best is None or ink > best[2]:
                    best = (start, end, ink)
                start = None
    return None if best is None else (best[0], best[1])


def _glyph_spans(strip: Image, band: tuple[int, int]) -> list[tuple[int, int, int, int, list[int]]]:
    """The glyphs of the text line `band` of a strip, left to right: its connected components that
    lie mostly within the band (what reaches in from the lines above and below does not), those
    that overlap in columns merged into one glyph (a mark with its base), specks dropped."""
    b0, b1 = band
    found = [c for c in _components(strip) if min(c[3], b1) - max(c[1], b0) > 0]
    # The band may take in a mark of the line above or below (within three rows); the line's core
    # is where its tall components (the digits) sit.
    tallest = max((c[3] - c[1] for c in found), default=0)
    bodies = [c for c in found if (c[3] - c[1]) * 5 >= tallest * 3]
    if bodies:
        b0 = sorted(c[1] for c in bodies)[len(bodies) // 2]
        b1 = sorted(c[3] for c in bodies)[len(bodies) // 2]
    line_height = max(1, b1 - b0)
    kept = []
    for left, top, right, bottom, pixels in found:
        inside = min(bottom, b1) - max(top, b0)
        if inside * 2 < min(bottom - top, line_height):
            continue
        if len(pixels) * 60 < line_height * line_height and bottom - top < line_height // 3:
            continue  # a speck: small and short
        kept.append((left, top, right, bottom, pixels))
    kept.sort()
    glyphs: list[tuple[int, int, int, int, list[int]]] = []
    for left, top, right, bottom, pixels in kept:
        if glyphs and left < glyphs[-1][2] - 1:
            l0, t0, r0, bt0, p0 = glyphs[-1]
            glyphs[-1] = (l0, min(t0, top), max(r0, right), max(bt0, bottom), p0 + pixels)
        else:
            glyphs.append((left, top, right, bottom, pixels))
    return glyphs


@dataclass(frozen=True)
class _Glyph:
    image: Image
    in_margin: bool  # only in the widened margin: may be the neighbouring character, not a digit
    small: bool  # under half the tallest glyph's height: a dot or speck, no digit


def _run_glyphs(
    page: Image, box: tuple[int, int, int, int], *, open_left: float, open_right: float
) -> list[_Glyph]:
    """The glyphs of a run of digits whose TSV boxes span `box`, left to right.

    Tesseract's boxes for Thai clip glyphs at the edges and may reach into the neighbouring lines,
    so the glyphs are found on a wider strip: the line's band of rows, its connected components
    (`_glyph_spans`), each drawn alone on white (so no neighbour's stroke enters its crop). A glyph
    a third of which or more lies inside the box is kept; dots and specks (less than half the run's
    glyph height) are marked small. Its first box is often the worst, and Tesseract may drop a digit
    at either end: the box is widened by `open_left` and `open_right` times its height (`_opening`).
    """
    from PIL import Image as PILImage

    left, top, right, bottom = box
    wide_left = left - round((bottom - top) * open_left)
    wide_right = right + round((bottom - top) * open_right)
    margin = round((bottom - top) * 0.6)
    x0, y0 = max(0, wide_left - margin), max(0, top - margin)
    strip = page.crop((x0, y0, min(page.width, wide_right + margin), min(page.height, bottom + margin)))
    band = _ink_band(strip, (left - x0, top - y0, right - x0, bottom - y0))
    if band is None:
        return []
    width = strip.width
    data = strip.tobytes()
    glyphs = []
    for a, g_top, b, g_bottom, pixels in _glyph_spans(strip, band):
        overlap = min(wide_right, x0 + b) - max(wide_left, x0 + a)
        if overlap * 3 < b - a:
            continue
        glyph = PILImage.new("L", (b - a + 4, g_bottom - g_top + 4), 255)
        put = glyph.load()
        assert put is not None
        for at in pixels:
            y, x = divmod(at, width)
            put[x - a + 2, y - g_top + 2] = data[at]
        inside = min(right, x0 + b) - max(left, x0 + a)
        glyphs.append((glyph, g_bottom - g_top, inside * 3 < b - a))
    if not glyphs:
        return []
    tallest = max(h for _, h, _ in glyphs)
    return [_Glyph(g, in_margin, h * 2 < tallest) for g, h, in_margin in glyphs]


def _spill(line: _Line, start: int, end: int, words: list[_Word]) -> tuple[bool, bool]:
    """Whether the run's first TSV word holds characters before the run, and its last word after
    it (Tesseract's word for `๐๐๑๘.๒/ว` is one box: the run `๐๐๑๘` is only its first part)."""
    first = sum(not c.isspace() for c in line.text[:start])
    last = first + sum(not c.isspace() for c in line.text[start:end])
    at = 0
    bounds = {}
    for word in line.words:
        bounds[id(word)] = (at, at + len(re.sub(r"\s+", "", word.text)))
        at = bounds[id(word)][1]
    return bounds[id(words[0])][0] < first, bounds[id(words[-1])][1] > last


def _run_reading(
    glyphs: Sequence[_Glyph], least: float, before: bool, after: bool
) -> list[tuple[str, float]]:
    """The digits of a run's glyphs, or [] when they cannot all be read as digits.

    The glyphs fall into groups of digits (each matching a template by `least` or more) parted by
    anything else: a slash, a letter, a dot (a speck inside the run's own box parts nothing). The
    run is the group holding the glyphs inside its box, with the digits of the margins beside them
    (Tesseract drops a digit at a run's edge); when Tesseract's word goes on past the run (`after`)
    or starts before it (`before`), the group of the run's first or last glyph in the box.
    """
    readings = [(*classify_digit(g.image), g) for g in glyphs]
    groups: list[list[tuple[str, float, _Glyph]]] = [[]]
    for digit, score, glyph in readings:
        if glyph.small and not glyph.in_margin and not (before or after):
            continue
        if glyph.small or score < least:
            groups.append([(digit, score, glyph)])  # a parting glyph: a group of its own
            groups.append([])
        else:
            groups[-1].append((digit, score, glyph))
    groups = [g for g in groups if g]
    core = [k for k, g in enumerate(groups) if any(not glyph.in_margin for _, _, glyph in g)]
    if not core:
        return []
    if before and after:
        return []
    if after:
        core = core[:1]
    elif before:
        core = core[-1:]
    if len(core) != 1:
        return []
    group = groups[core[0]]
    if any(glyph.small or score < least for _, score, glyph in group):
        return []
    return [(digit, score) for digit, score, _ in group]


def _opening(beside: str) -> float:
    """How far (in the run's heights) to look past a run's box for a digit Tesseract dropped, by
    the character it read beside the run: past a space half a digit; past a dot or a slash, which
    part the glyphs themselves, a whole digit; past a letter nothing."""
    if beside.isspace():
        return 0.5
    return 1.2 if beside in "./" else 0.0


def _recover_digits(page: Image, line: _Line) -> int:
    """Re-read each run of Thai digits of a line glyph by glyph; returns how many digits changed.

    The run's glyphs are the connected components of its line around the union of its TSV boxes
    (`_run_glyphs`; Tesseract also adds or drops a digit, so the run is read again whole). A run
    whose glyphs do not read as one group of digits (`_run_reading`) keeps Tesseract's reading.
    Where the two readings disagree, the line's words in the run drop to confidence 0.5 at most.
    """
    if len(re.sub(r"\s+", "", line.text)) != sum(len(w.text) for w in line.words):
        return 0  # text and boxes do not line up: leave the line as Tesseract read it
    changed = 0
    text = line.text
    for start, end, words, lookalike in reversed(_digit_runs(line)):
        if not words:
            continue
        left = min(w.box[0] for w in words)
        top = min(w.box[1] for w in words)
        right = max(w.box[2] for w in words)
        bottom = max(w.box[3] for w in words)
        glyphs = _run_glyphs(
            page,
            (left, top, right, bottom),
            open_left=_opening(text[start - 1] if start else " "),
            open_right=_opening(text[end] if end < len(text) else " "),
        )
        least = _MIN_LOOKALIKE if lookalike else _MIN_MATCH
        readings = _run_reading(glyphs, least, *_spill(line, start, end, words))
        if not readings:
            continue
        new = "".join(d for d, _ in readings)
        old = text[start:end]
        if new != old:
            changed += max(len(new), len(old)) - sum(a == b for a, b in zip(new, old, strict=False))
            text = text[:start] + new + text[end:]
            for word in words:
                word.conf = min(word.conf, 0.5)
    line.text = text
    return changed
