"""Thai digits on scanned lines read again by their shapes (models.extract): the glyphs of a run
found on its own line, whole, and the runs that are read again.

The line images are drawn here with Debian's Thai fonts and made to look scanned (blur, JPEG, the
median filter OCR runs behind), as `tests/scans.degrade` does to whole pages; the end-to-end
figures are `bench/bench_read.py`'s.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pytest

from models.extract import (
    FONT_DIR,
    _digit_runs,
    _Line,
    _opening,
    _run_glyphs,
    _run_reading,
    _Word,
    classify_digit,
)

if TYPE_CHECKING:
    from PIL.Image import Image

NORASI = FONT_DIR / "Norasi.ttf"  # the face tests/scans.py prints letters in
PX_16PT = 67  # 16 pt at 300 dpi

pytestmark = pytest.mark.skipif(
    not NORASI.exists(), reason=f"{NORASI} missing (apt-get install fonts-thai-tlwg)"
)


def _scanned_lines(lines: list[str], *, blur: float = 0.6) -> tuple[Image, list[tuple[int, int, int, int]]]:
    """A page strip with `lines` one under the other at a letter's line pitch, blurred, JPEG'd and
    median-filtered; returns it and each line's ink box."""
    from PIL import Image as PILImage
    from PIL import ImageDraw, ImageFilter, ImageFont

    font = ImageFont.truetype(str(NORASI), PX_16PT)
    page = PILImage.new("L", (900, 60 + 90 * len(lines)), 255)
    draw = ImageDraw.Draw(page)
    boxes = []
    for k, text in enumerate(lines):
        at = (40, 30 + 90 * k)
        draw.text(at, text, font=font, fill=0)
        left, top, right, bottom = draw.textbbox(at, text, font=font)
        boxes.append((int(left), int(top), int(right), int(bottom)))
    page = page.filter(ImageFilter.GaussianBlur(blur))
    buffer = io.BytesIO()
    page.save(buffer, format="JPEG", quality=60)
    buffer.seek(0)
    return PILImage.open(buffer).convert("L").filter(ImageFilter.MedianFilter(3)), boxes


@pytest.mark.parametrize("digits", ["๒๕๖๘", "๐๐๑๗", "๖", "๑๘๗๒", "๓๐๙๔"])
def test_a_run_between_two_lines_of_marks_reads_whole(digits: str) -> None:
    # The lines above and below carry stacked marks (เรื่อง, ที่นี่) that reach towards the digits, and
    # the box handed in reaches into both lines, as Tesseract's boxes for Thai do.
    page, boxes = _scanned_lines(["เรื่อง ที่นี่ ทั้งสิ้น", digits, "เรื่อง ที่นี่ ทั้งสิ้น"])
    left, top, right, bottom = boxes[1]
    glyphs = _run_glyphs(page, (left + 3, top - 25, right - 3, bottom + 30), open_left=0.5, open_right=0.5)
    read = [classify_digit(g.image) for g in glyphs if not g.small]
    assert "".join(d for d, _ in read) == digits, read
    assert all(score >= 0.55 for _, score in read), read


@pytest.mark.parametrize(("digits", "blur"), [("๒๕๖๘", 0.9), ("๐๙๐", 1.3)])
def test_a_thin_stroke_blurred_light_does_not_split_a_glyph(digits: str, blur: float) -> None:
    # Norasi's hairlines (the top of ๒, the foot of ๐), blurred, are lighter than mid-grey: cut at
    # mid-grey, ๒ fell apart into two "digits".
    page, boxes = _scanned_lines([digits], blur=blur)
    glyphs = _run_glyphs(page, boxes[0], open_left=0.5, open_right=0.5)
    assert "".join(classify_digit(g.image)[0] for g in glyphs if not g.small) == digits


@pytest.mark.parametrize(
    ("printed", "before", "after", "run"),
    [
        ("๐๐๑๘.๒/ว", False, True, "๐๐๑๘"),  # Tesseract's one word for the whole code: the run opens it
        ("/ว๒๓๔๕", True, False, "๒๓๔๕"),  # the run closes its word
        ("๑๙๕๐", False, False, "๑๙๕๐"),
        ("๐๐๑๘.๒/ว", False, False, ""),  # a run that is its own word must be digits throughout
    ],
)
def test_a_run_inside_a_longer_word_is_read_from_its_end(
    printed: str, before: bool, after: bool, run: str
) -> None:
    page, boxes = _scanned_lines([printed])
    glyphs = _run_glyphs(page, boxes[0], open_left=0.5, open_right=0.5)
    assert "".join(d for d, _ in _run_reading(glyphs, 0.55, before, after)) == run


def test_a_digit_dropped_before_a_dot_is_found() -> None:
    # Tesseract read `๐๐๑๗.๒` as `๐๐๑.๒`, its box for the run ending at ๑; the ๗ is found past the
    # box up to the dot, and what lies past the dot is not the run's.
    page, boxes = _scanned_lines(["๐๐๑๗.๒"])
    _, part = _scanned_lines(["๐๐๑"])
    left, top, _, bottom = boxes[0]
    box = (left, top, part[0][2], bottom)
    glyphs = _run_glyphs(page, box, open_left=_opening(" "), open_right=_opening("."))
    assert "".join(d for d, _ in _run_reading(glyphs, 0.55, False, False)) == "๐๐๑๗"
    # Past a letter nothing is looked for.
    glyphs = _run_glyphs(page, box, open_left=_opening(" "), open_right=_opening("ก"))
    assert "".join(d for d, _ in _run_reading(glyphs, 0.55, False, False)) == "๐๐๑"


def _line(text: str) -> _Line:
    """A line as Tesseract's TSV gives it for Thai: a word a character, boxes side by side."""
    chars = text.replace(" ", "")
    words = [_Word(c, 0.9, (40 * k, 0, 40 * k + 38, 40)) for k, c in enumerate(chars)]
    return _Line(words, (1, 1, 1), text)


@pytest.mark.parametrize(
    ("text", "runs"),
    [
        # ๗ read as ญ with a tone mark, between digits of one number: one run, read again whole.
        ("ที่ มท ๕๓๐๔.๑/๑๘ญ่๒ การไฟฟ้า", ["๕๓๐๔", "๑", "๑๘ญ่๒"]),
        # ... or at the end of the number.
        ("ที่ สข ๐๐๑๗.๔/ว ๒๐๑ณ่", ["๐๐๑๗", "๔", "๒๐๑ณ่"]),
        ("๑๒๘๗๕ ลพ ญ่๒๐๐๒/ว ๔๔", ["๑๒๘๗๕", "ญ่๒๐๐๒", "๔๔"]),
        # A day read as "0" or "@" on a line written in Thai digits.
        ("0 สิงหาคม ๒๕๖๕", ["0", "๒๕๖๕"]),
        ("@๕ สิงหาคม ๒๕๖๕", ["@๕", "๒๕๖๕"]),
        # A line in Arabic digits is left alone: "8" there is an 8.
        ("8 สิงหาคม 2565", []),
        ("05/01/2567 สน ๐๕๑๘/๔", ["๐๕๑๘", "๔"]),
        # ญ in a word is a letter.
        ("ญาติ ๑๒ คน", ["๑๒"]),
    ],
)
def test_digit_runs(text: str, runs: list[str]) -> None:
    assert [text[start:end] for start, end, _, _ in _digit_runs(_line(text))] == runs
