"""models.extract on real files: legacy encodings, faulty files, PDFs printed by Chromium, OCR'd scans."""

from __future__ import annotations

import os
import random
import re
import signal
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from models.extract import ExtractError, decode_text, extract, repair_thai_marks
from tests import scans

ROOT = Path(__file__).resolve().parents[2]
LETTERS = sorted((ROOT / "demo" / "letters").glob("*.txt")) + sorted(
    (ROOT / "tests" / "data" / "letters").glob("*.txt")
)
THAI_DIGITS = "๐๑๒๓๔๕๖๗๘๙"


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail instead of hanging (a FIFO opened for reading blocks forever)."""

    def expired(signum: int, frame: object) -> None:
        raise TimeoutError(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _utf8(path: Path) -> str:
    return unicodedata.normalize("NFC", path.read_text(encoding="utf-8").replace("\r\n", "\n"))


# --- encodings ------------------------------------------------------------------------------------

COPIES = {
    "cp874": (lambda t: t.encode("cp874"), "cp874"),
    "utf-16": (lambda t: t.encode("utf-16"), "utf-16"),  # LE with BOM on this machine
    "utf-16-be": (lambda t: b"\xfe\xff" + t.encode("utf-16-be"), "utf-16"),
    "utf-8-bom-crlf": (lambda t: b"\xef\xbb\xbf" + t.replace("\n", "\r\n").encode("utf-8"), "utf-8-sig"),
    "cr": (lambda t: t.replace("\n", "\r").encode("utf-8"), "utf-8"),
}


@pytest.mark.parametrize("copy", sorted(COPIES))
@pytest.mark.parametrize("letter", LETTERS, ids=lambda p: p.name)
def test_every_letter_decodes_exactly_in_every_encoding(tmp_path: Path, letter: Path, copy: str) -> None:
    text = _utf8(letter)
    encode, encoding = COPIES[copy]
    path = tmp_path / letter.name
    path.write_bytes(encode(text))
    got = extract(path)
    assert got.kind == "text"
    assert got.encoding == encoding
    assert got.text == text
    assert got.line_confidence == {}
    if encoding != "utf-8":
        assert any(encoding.split("-")[0].upper() in note.upper() for note in got.notes), got.notes


def test_plain_utf8_is_the_fast_path_and_says_nothing(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("ที่ นร ๑๒๐๐/ว๐๐๑๓\n", encoding="utf-8")
    got = extract(path)
    assert (got.text, got.encoding, got.notes) == ("ที่ นร ๑๒๐๐/ว๐๐๑๓\n", "utf-8", ())


def test_text_is_nfc(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text(unicodedata.normalize("NFD", "Café ที่ นร ๑๒๐๐/๕๕\n"), encoding="utf-8")
    assert extract(path).text == "Café ที่ นร ๑๒๐๐/๕๕\n"


def test_utf16_without_bom_is_read(tmp_path: Path) -> None:
    text = _utf8(LETTERS[0])
    path = tmp_path / "le.txt"
    path.write_bytes(text.encode("utf-16-le"))
    assert extract(path).text == text


def test_decode_text_names_cp874() -> None:
    text, encoding, notes = decode_text("ที่ มท ๐๘๑๒/ว ๑๔๓๔\r\n".encode("cp874"), file="x.txt")
    assert (text, encoding) == ("ที่ มท ๐๘๑๒/ว ๑๔๓๔\n", "cp874")
    assert "cp874" in notes[0]


# --- faulty files ---------------------------------------------------------------------------------


def _fault(path: Path, **kwargs: int) -> ExtractError:
    with deadline(10), pytest.raises(ExtractError) as info:
        extract(path, **kwargs)
    err = info.value
    assert err.file == str(path)
    assert err.field == "file"
    assert err.line >= 1
    assert str(err) == f"{err.file}:{err.line}: {err.field}: {err.message}"
    return err


def test_fifo_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    assert "not a regular file" in _fault(fifo).message


def test_directory_is_refused(tmp_path: Path) -> None:
    assert "not a regular file" in _fault(tmp_path).message


def test_device_is_refused() -> None:
    assert "not a regular file" in _fault(Path("/dev/zero")).message


def test_missing_file(tmp_path: Path) -> None:
    assert "No such file" in _fault(tmp_path / "nope.txt").message


def test_over_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("ที่ นร ๑๒๐๐/๕๕\n" * 100, encoding="utf-8")
    message = _fault(path, max_bytes=1000).message
    assert str(path.stat().st_size) in message
    assert "1000" in message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file whatever its mode")
def test_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("ที่\n", encoding="utf-8")
    path.chmod(0)
    assert "Permission denied" in _fault(path).message


@pytest.mark.parametrize("content", [b"", b"  \n\r\n\t ", "\n\n".encode("utf-16")])
def test_empty(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    assert _fault(path).message == "empty file"


def test_binary_names_the_line_of_the_nul(tmp_path: Path) -> None:
    path = tmp_path / "bin.txt"
    path.write_bytes(b"line one\nline two\nab\x00\x01\x02\x03\xff\xfe\x80")
    err = _fault(path)
    assert err.message == "binary file (NUL byte), not text"
    assert err.line == 3


def test_random_bytes(tmp_path: Path) -> None:
    rng = random.Random(7)
    path = tmp_path / "random.bin"
    path.write_bytes(bytes(rng.randrange(256) for _ in range(4096)))
    assert "binary file" in _fault(path).message


def test_random_bytes_without_nul(tmp_path: Path) -> None:
    rng = random.Random(8)
    path = tmp_path / "random.txt"
    path.write_bytes(b"ok\n" + bytes(rng.randrange(1, 256) for _ in range(4096)))
    err = _fault(path)
    assert "not text in any known encoding" in err.message
    assert "offset" in err.message


# --- Thai marks in PDF text layers ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("displaced", "fixed", "count"),
    [
        ("\u0e19\u0e4d\u0e32", "น\u0e33", 1),  # sara am as nikhahit + sara aa
        ("\u0e19\u0e49\u0e4d\u0e32", "น้ำ", 1),  # with the tone between
        ("\u0e19\u0e4d\u0e49\u0e32", "น้ำ", 1),  # with the tone after the nikhahit
        ("\u0e17\u0e48\u0e35", "ที่", 1),  # tone before the vowel
        ("\u0e01\u0e49\u0e38", "กุ้", 1),  # tone before a below vowel
        ("\u0e1b\uf70b\u0e32", "ป้า", 1),  # private-use low mai tho
        ("\u0e2a\uf701\u0e07", "สิง", 1),  # private-use sara i shifted left
        ("\u0e1e\uf700", "พ\u0e10", 1),  # tho than without descender
        ("เร ื่อง", "เรื่อง", 1),  # stray space before the marks
        ("สำ นักงาน จำ นวน", "สำนักงาน จำนวน", 2),
        ("ที่ มท ๐๘๑๒/ว ๑๔๓๔", "ที่ มท ๐๘๑๒/ว ๑๔๓๔", 0),
    ],
)
def test_repair_thai_marks(displaced: str, fixed: str, count: int) -> None:
    assert repair_thai_marks(displaced) == (fixed, count)


def test_a_lone_space_after_sara_am_in_ordinary_text_stays() -> None:
    text = "ทำ ตามที่สำนักงานจำนวนหนึ่งกำหนด"
    assert repair_thai_marks(text) == (text, 0)


# --- PDFs from Chromium ---------------------------------------------------------------------------

_NUMBER_LINE = re.compile(r"^ที่\s+\S")
_DATE_LINE = re.compile(r"^[๐-๙0-9]{1,2}\s+\S+\s+[๐-๙0-9]{4}$")


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _key_lines(text: str) -> tuple[str, str]:
    """The letter's first number line and first date line (the header's), whitespace squashed."""
    lines = [_squash(line) for line in text.splitlines()]
    number = next(line for line in lines if _NUMBER_LINE.match(line))
    date = next(line for line in lines if _DATE_LINE.match(line))
    return number, date


browser = pytest.mark.skipif(scans.chromium_missing() is not None, reason=str(scans.chromium_missing()))
ocr = pytest.mark.skipif(scans.tesseract_missing() is not None, reason=str(scans.tesseract_missing()))


@browser
@pytest.mark.browser
@pytest.mark.parametrize("letter", (ROOT / "demo" / "letters").glob("*.txt"), ids=lambda p: p.name)
def test_pdf_text_layer(tmp_path: Path, letter: Path) -> None:
    text = _utf8(letter)
    pdf = scans.render_pdf(text, tmp_path / "letter.pdf")
    got = extract(pdf)
    assert got.kind == "pdf-text"
    assert got.line_confidence == {}
    squashed = _squash(got.text)
    number, date = _key_lines(text)
    assert number in squashed
    assert date in squashed
    # Every Thai word of the letter is there, with its marks in place.
    assert _squash(text).replace(" ", "") == squashed.replace(" ", "")


# --- OCR ------------------------------------------------------------------------------------------

OCR_LETTER = ROOT / "demo" / "letters" / "01_opdc_nr1200_w0013.txt"


@pytest.fixture(scope="module")
def page_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    reason = scans.chromium_missing() or scans.tesseract_missing()
    if reason:
        pytest.skip(reason)
    return scans.render_png(_utf8(OCR_LETTER), tmp_path_factory.mktemp("scan") / "page.png", dpi=300)


def _check_ocr(got_text: str, confidence: dict[int, float] | object) -> None:
    number, date = _key_lines(_utf8(OCR_LETTER))
    lines = [_squash(line) for line in got_text.splitlines()]
    assert number in lines, lines[:8]
    assert date in lines, lines[:8]
    assert "๓๐ มิถุนายน ๒๕๖๓" in _squash(got_text)  # the deadline, in the body


@ocr
@pytest.mark.slow
def test_ocr_of_a_page_image(page_png: Path) -> None:
    got = extract(page_png)
    assert got.kind == "image-ocr"
    _check_ocr(got.text, got.line_confidence)
    assert got.line_confidence
    lines = got.text.split("\n")
    assert all(1 <= n <= len(lines) and lines[n - 1].strip() for n in got.line_confidence)
    assert all(0.0 <= c <= 1.0 for c in got.line_confidence.values())
    assert len(got.pages) == 1 and got.pages[0].startswith(b"\x89PNG")
    assert any("OCR" in note for note in got.notes)


@ocr
@pytest.mark.slow
def test_ocr_of_an_image_only_pdf(page_png: Path, tmp_path: Path) -> None:
    got = extract(scans.image_pdf(page_png, tmp_path / "scan.pdf"))
    assert got.kind == "pdf-ocr"
    _check_ocr(got.text, got.line_confidence)


@ocr
@pytest.mark.slow
def test_ocr_of_a_degraded_scan(page_png: Path, tmp_path: Path) -> None:
    noisy = scans.degrade(page_png, tmp_path / "noisy.png", seed=1, skew_degrees=1, blur=0.6, speckle=0.02)
    got = extract(noisy)
    assert got.kind == "image-ocr"
    _check_ocr(got.text, got.line_confidence)
    assert any("Thai digits" in note for note in got.notes)  # Tesseract alone reads ๒๕๖๓ as ๒๕๒๓


@ocr
def test_missing_tesseract_names_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, page_png: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ExtractError) as info:
        extract(page_png)
    assert "tesseract-ocr" in info.value.message
