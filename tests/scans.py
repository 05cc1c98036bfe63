"""Scans and PDFs of letters, made at test time (no binaries in the repository).

`render_pdf` prints a letter's text on an A4 page through Debian's Chromium (a PDF with a text
layer, as a word processor's export would be); `render_png` is the same page as an image;
`degrade` makes it look scanned (skew, blur, speckle, JPEG noise); `image_pdf` wraps an image in a
PDF with no text layer, as a scanner does.
"""

from __future__ import annotations

import html
import io
import random
import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# fonts-thai-tlwg; TH Sarabun, the offices' own font, is not in Debian. Norasi is a serif Thai
# face close to it in spirit; Garuda the sans one.
FONT = "Norasi"
FONT_PT = 16


def chromium_missing() -> str | None:
    """Why the browser-made scans cannot be made here, or None when they can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not installed (apt-get install chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


def tesseract_missing() -> str | None:
    """Why OCR cannot run here, or None when it can."""
    if shutil.which("tesseract") is None:
        return "tesseract not installed (apt-get install tesseract-ocr tesseract-ocr-tha)"
    return None


_COLUMNS = re.compile(r"(?<=\S)(?: {3,}|\t+)(?=\S)")


def _page_html(text: str, font: str) -> str:
    """A letter as a page: one block per line (long lines wrap); a line whose parts are set apart
    by a tab or three spaces or more (`ที่ กษ ๐๒๐๘/ว ๑๔๕๖      กระทรวงเกษตรและสหกรณ์`) is laid out
    as on paper, its parts spread across the line, without wrapping; an indented line (the
    issuer's address, the date) starts that far across the page."""
    rows = []
    for line in text.splitlines():
        parts = _COLUMNS.split(line.strip("\r"))
        indent = len(line) - len(line.lstrip(" "))
        if indent >= 8 and len(parts) == 1:  # a block set to the right half, as the letterhead
            rows.append(f"<div style='padding-left: {min(indent, 50)}%'>{html.escape(line.strip())}</div>")
        elif len(parts) > 1:
            cells = "".join(f"<span>{html.escape(part)}</span>" for part in parts)
            rows.append(f"<div class='cols'>{cells}</div>")
        else:
            rows.append(f"<div>{html.escape(line) or '&nbsp;'}</div>")
    return (
        "<!doctype html><html lang='th'><head><meta charset='utf-8'><style>"
        "@page { size: A4; margin: 20mm 20mm 20mm 30mm; }"
        f"body {{ margin: 0; font-family: '{font}'; font-size: {FONT_PT}pt; line-height: 1.35;"
        " white-space: pre-wrap; color: #000; background: #fff; }"
        ".cols { display: flex; justify-content: space-between; gap: 1em; white-space: pre; }"
        "</style></head><body>" + "".join(rows) + "</body></html>"
    )


@contextmanager
def pdf_printer(*, font: str = FONT) -> Iterator[Callable[[str, Path], Path]]:
    """One Chromium for many letters: yields `print_pdf(text, path)` (about 0.3 s a letter after
    the browser's start, against 2 s for `render_pdf` on its own)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)

        def print_pdf(text: str, path: Path) -> Path:
            page = browser.new_page()
            try:
                page.set_content(_page_html(text, font), wait_until="load")
                page.pdf(path=str(path), format="A4", print_background=True, prefer_css_page_size=True)
            finally:
                page.close()
            return path

        try:
            yield print_pdf
        finally:
            browser.close()


def render_pdf(text: str, path: Path, *, font: str = FONT) -> Path:
    """Print `text` (line breaks kept) on A4 pages with Chromium; the PDF has a text layer."""
    with pdf_printer(font=font) as print_pdf:
        return print_pdf(text, path)


def rasterise(pdf: Path, *, dpi: int = 300) -> list[PILImage]:
    """Every page of a PDF as a greyscale image at `dpi` (pypdfium2)."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    try:
        images = [page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L") for page in doc]
    finally:
        doc.close()
    for image in images:
        image.info["dpi"] = (dpi, dpi)
    return images


def render_png(text: str, path: Path, *, dpi: int = 300, font: str = FONT, page: int = 0) -> Path:
    """The page `render_pdf` prints, as a PNG at `dpi` (rasterised with pypdfium2)."""
    pdf_path = path.with_suffix(".render.pdf")
    render_pdf(text, pdf_path, font=font)
    image = rasterise(pdf_path, dpi=dpi)[page]
    pdf_path.unlink()
    image.save(path, dpi=(dpi, dpi))
    return path


def degrade(
    png_in: Path,
    png_out: Path,
    *,
    seed: int,
    skew_degrees: float = 1.0,
    blur: float = 0.6,
    speckle: float = 0.02,
    jpeg_quality: int = 60,
) -> Path:
    """A scanned-looking copy of a page: rotated, blurred, speckled and JPEG-compressed.

    `speckle` is the fraction of pixels flipped to black or white (salt and pepper). The same seed
    gives the same image.
    """
    from PIL import Image, ImageFilter

    rng = random.Random(seed)
    image = Image.open(png_in).convert("L")
    dpi = image.info.get("dpi", (300, 300))
    image = image.rotate(skew_degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    if speckle:
        pixels = image.load()
        assert pixels is not None
        width, height = image.size
        for _ in range(int(width * height * speckle)):
            x, y = rng.randrange(width), rng.randrange(height)
            pixels[x, y] = 0 if rng.random() < 0.5 else 255
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=jpeg_quality)
    buffer.seek(0)
    Image.open(buffer).save(png_out, dpi=dpi)
    return png_out


def image_pdf(png: Path | Sequence[Path], path: Path) -> Path:
    """An image-only PDF of page images (no text layer), as a scanner makes; one page per image."""
    from PIL import Image

    pngs = [png] if isinstance(png, Path) else list(png)
    images = [Image.open(p).convert("L") for p in pngs]
    resolution = float(Image.open(pngs[0]).info.get("dpi", (300, 300))[0])
    images[0].save(path, format="PDF", resolution=resolution, save_all=True, append_images=images[1:])
    return path


def image_tiff(pngs: Sequence[Path], path: Path) -> Path:
    """A multi-page TIFF of page images, as a document scanner writes."""
    from PIL import Image

    images = [Image.open(p).convert("L") for p in pngs]
    dpi = Image.open(pngs[0]).info.get("dpi", (300, 300))
    images[0].save(
        path, format="TIFF", dpi=dpi, save_all=True, append_images=images[1:], compression="tiff_lzw"
    )
    return path
