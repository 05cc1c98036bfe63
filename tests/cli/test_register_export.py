"""`saraban register received|sent -o FILE`: after ingesting the seed letters, Rayong's receipt
register holds receipt 1515 of มท 0218/ว 3182, read back from Excel and from the PDF's text.

The register prints numbers as the record holds them, in Arabic digits (`มท 0218/ว 3182`, `1515`):
what a clerk types to find an entry with Excel's filter or a PDF viewer's search.
"""

from __future__ import annotations

import csv
import ctypes
import io
import unicodedata
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app

RECEIPT, LETTER = "1515", "มท 0218/ว 3182"


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory, seed_files: list[Path]) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('register') / 'saraban.db'}"
    result = CliRunner().invoke(app, ["ingest", *map(str, seed_files), "--database", url])
    assert "4 went in" in result.output or result.exit_code in (0, 2), result.output
    return url


def _run(database: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["register", *args, "--database", database])
    return result.exit_code, result.stdout, result.stderr


def _squeeze(text: str) -> str:
    """Text compared as read: compatibility forms folded (a PDF holds sara am as ํ + า), no spaces."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def test_excel_holds_rayongs_receipt_1515(database: str, tmp_path: Path) -> None:
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    out = tmp_path / "r.xlsx"
    code, stdout, stderr = _run(database, "received", "--agency", "province:21", "-o", str(out))
    assert code == 0, stderr
    assert "ทะเบียนหนังสือรับ จังหวัดระยอง พ.ศ. 2563" in stdout
    sheet = load_workbook(out).active
    assert sheet["A1"].value == "ทะเบียนหนังสือรับ จังหวัดระยอง พ.ศ. 2563"
    header = [c.value for c in sheet[2]]
    assert header == ["วันที่รับ", "เลขทะเบียนรับ", "ที่", "ลงวันที่", "จาก", "ถึง", "เรื่อง", "การปฏิบัติ", "หมายเหตุ"]
    assert sheet.freeze_panes == "A3"
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    [row] = [r for r in rows if r[1] == RECEIPT]
    assert row[0] == "2 มิถุนายน 2563" and row[2] == LETTER and row[3] == "1 มิถุนายน 2563"
    assert row[4] == "กระทรวงมหาดไทย"
    assert sheet.column_dimensions["G"].width >= 40  # the subject has room


def _pdf(path: Path) -> tuple[str, list[tuple[str, bool]]]:
    """The PDF's text, and every font its text is set in with whether it is embedded."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    doc = pdfium.PdfDocument(str(path))
    text, fonts = [], set()
    try:
        for page in doc:
            text.append(page.get_textpage().get_text_range())
            for obj in page.get_objects():
                if obj.type == raw.FPDF_PAGEOBJ_TEXT:
                    font = raw.FPDFTextObj_GetFont(obj.raw)
                    name = ctypes.create_string_buffer(256)
                    raw.FPDFFont_GetBaseFontName(font, name, 256)
                    fonts.add((name.value.decode(), bool(raw.FPDFFont_GetIsEmbedded(font))))
    finally:
        doc.close()
    return "\n".join(text), sorted(fonts)


def test_pdf_text_holds_rayongs_receipt_1515(database: str, tmp_path: Path) -> None:
    out = tmp_path / "r.pdf"
    code, _, stderr = _run(database, "received", "--agency", "province:21", "-o", str(out))
    assert code == 0, stderr
    assert out.read_bytes().startswith(b"%PDF")
    text, fonts = _pdf(out)
    assert RECEIPT in text and LETTER in text
    squeezed = _squeeze(text)
    for words in ("ทะเบียนหนังสือรับ จังหวัดระยอง พ.ศ. 2563", "วันที่ 2 มิถุนายน 2563", "หน้า 1 / 1"):
        assert _squeeze(words) in squeezed, words
    # Every cell reads back as written, Thai marks included (หน้า, ผู้ว่า, ท้องถิ่น, ดำเนิน).
    table = tmp_path / "r.csv"
    assert _run(database, "received", "--agency", "province:21", "-o", str(table))[0] == 0
    cells = [c for row in csv.reader(io.StringIO(table.read_text("utf-8-sig"))) for c in row[1:]]
    assert len(cells) >= 2 * 8
    missing = [c for c in cells if _squeeze(c) not in squeezed]
    assert not missing, missing
    assert fonts and all(embedded for _, embedded in fonts), fonts
    assert any("Laksaman" in name for name, _ in fonts), fonts


def test_csv_opens_in_excel_with_thai(database: str, tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    assert _run(database, "received", "--agency", "จังหวัดระยอง", "--year", "2020", "-o", str(out))[0] == 0
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads UTF-8 Thai only after a byte-order mark
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["วันที่รับ", "เลขทะเบียนรับ", "ที่"]
    assert [RECEIPT, LETTER] in [r[1:3] for r in rows[1:]]


def test_sent_register_and_printing_without_a_file(database: str) -> None:
    code, stdout, _ = _run(database, "sent", "--agency", "province:54", "--year", "2563")
    assert code == 0
    assert stdout.splitlines()[0] == "ทะเบียนหนังสือส่ง จังหวัดแพร่ พ.ศ. 2563"
    assert "\t3026\tพร 0023.1/ว 3026\t" in stdout


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--agency", "nowhere"], "--agency"),
        (["--agency", "province:21", "--year", "1234"], "--year"),
        (["--agency", "province:21", "-o", "r.docx"], "-o/--output"),
        (["--agency", "province:21", "-o", "/no/such/dir/r.csv"], "-o/--output"),
    ],
)
def test_errors_name_the_option(database: str, args: list[str], option: str) -> None:
    code, _, stderr = _run(database, "received", *args)
    assert code == 2
    assert stderr.startswith(f"error: {option}"), stderr
