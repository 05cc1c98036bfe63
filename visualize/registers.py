"""A register (`Register`, ทะเบียนหนังสือรับ / ส่ง; `records.registers` fills it) and how it is written
out: CSV, Excel, PDF, and the HTML the PDF and the dashboard's register page print from.

Two layouts, one set of cells (`cells`):

- tables (CSV, XLSX) are flat: one row per entry, the day it was received or sent in the first
  column, so that a row stands alone when sorted or filtered;
- printed registers (PDF, the page) follow the regulation's form: the eight columns under a
  heading for each day (the form's "วันที่ ... เดือน ... พ.ศ. ...").

Numbers are printed as the record holds them (Arabic digits, `มท 0218/ว 3182`): what a clerk
types to find them in Excel or in the PDF's text. Dates are Thai, Buddhist era: `2 มิถุนายน 2563`.
The PDF embeds Laksaman (fonts-thai-tlwg's metric twin of the official Sarabun), so its text can be
selected and extracted.

Examples:
    >>> from datetime import date
    >>> entry = RegisterEntry(date(2020, 6, 2), "1515", "มท 0218/ว 3182", date(2020, 6, 1),
    ...     "กระทรวงมหาดไทย", "ผู้ว่าราชการจังหวัดทุกจังหวัด", "การประชุมชี้แจง", "", "เวลา 13.30 น.")
    >>> reg = Register("received", "province:21", "จังหวัดระยอง", 2020, (entry,), (2020,))
    >>> header(reg)[:3]
    ('วันที่รับ', 'เลขทะเบียนรับ', 'ที่')
    >>> cells(entry)[:4]
    ['1515', 'มท 0218/ว 3182', '1 มิถุนายน 2563', 'กระทรวงมหาดไทย']
    >>> to_csv(reg).startswith(b"\\xef\\xbb\\xbf")
    True
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import cache
from html import escape
from itertools import groupby
from pathlib import Path
from typing import Any, Final, Literal

from models.thai import BE_OFFSET, format_thai_date, now_bangkok

# --- a register's shape (filled by `records.registers`) ------------------------------------------

Kind = Literal["received", "sent"]
KINDS: tuple[Kind, ...] = ("received", "sent")
TITLE_TH: dict[Kind, str] = {"received": "ทะเบียนหนังสือรับ", "sent": "ทะเบียนหนังสือส่ง"}
# The columns of the regulation's forms, in order (the first names the register's own number).
COLUMNS_TH: dict[Kind, tuple[str, ...]] = {
    "received": ("เลขทะเบียนรับ", "ที่", "ลงวันที่", "จาก", "ถึง", "เรื่อง", "การปฏิบัติ", "หมายเหตุ"),
    "sent": ("เลขทะเบียนส่ง", "ที่", "ลงวันที่", "จาก", "ถึง", "เรื่อง", "การปฏิบัติ", "หมายเหตุ"),
}
DAY_TH: dict[Kind, str] = {"received": "วันที่รับ", "sent": "วันที่ส่ง"}


@dataclass(frozen=True)
class RegisterEntry:
    """One line of a register, in the regulation's columns, under the day it was made."""

    day: date  # received (stamp or registration) or sent
    number: str  # เลขทะเบียนรับ/ส่ง; "" when the stamp's number could not be read
    letter_number: str  # ที่: the letter's number, canonical
    letter_date: date | None  # ลงวันที่
    sender: str  # จาก
    addressee: str  # ถึง
    subject: str  # เรื่อง
    action: str  # การปฏิบัติ
    remarks: str  # หมายเหตุ


@dataclass(frozen=True)
class Register:
    """An agency's register of one calendar year, entries in the order they were made."""

    kind: Kind
    agency_id: str
    agency_name: str
    year: int  # Gregorian
    entries: tuple[RegisterEntry, ...]
    years: tuple[int, ...]  # Gregorian years with entries, newest first (the year picker's)

    @property
    def be_year(self) -> int:
        return self.year + BE_OFFSET

    @property
    def title(self) -> str:
        """`ทะเบียนหนังสือรับ จังหวัดระยอง พ.ศ. 2563`"""
        return f"{TITLE_TH[self.kind]} {self.agency_name} พ.ศ. {self.be_year}"

    @property
    def columns(self) -> tuple[str, ...]:
        return COLUMNS_TH[self.kind]


# --- writing it out -------------------------------------------------------------------------------

# The Thai font embedded in the PDF, from Debian's fonts-thai-tlwg (the Makefile installs it).
# Without the files, fontconfig's own Laksaman or any Thai font it knows is used instead.
FONT_DIR: Final = Path("/usr/share/fonts/truetype/tlwg")
FONT_FAMILY: Final = "Laksaman"
FONT_FILES: Final = {"normal": "Laksaman.ttf", "bold": "Laksaman-Bold.ttf"}
# Column widths: characters in Excel (the day, then the eight columns), shares of the printed page.
XLSX_WIDTHS: Final = (18, 12, 22, 18, 30, 30, 60, 40, 36)
PRINT_WIDTHS: Final = (6, 10, 8, 11, 11, 26, 14, 14)
MEDIA_TYPES: Final = {
    ".csv": "text/csv; charset=utf-8",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pdf": "application/pdf",
}


def thai_day(day: date | None) -> str:
    """`2 มิถุนายน 2563`, or "" for no date."""
    return format_thai_date(day, thai_digits=False) if day is not None else ""


def header(register: Register) -> tuple[str, ...]:
    """The flat tables' header: the day, then the regulation's columns."""
    return (DAY_TH[register.kind], *register.columns)


def cells(entry: RegisterEntry) -> list[str]:
    """An entry's eight columns as printed, in the regulation's order."""
    return [
        entry.number,
        entry.letter_number,
        thai_day(entry.letter_date),
        entry.sender,
        entry.addressee,
        entry.subject,
        entry.action,
        entry.remarks,
    ]


def rows(register: Register) -> Iterator[list[str]]:
    """The flat tables' rows: each entry's day, then its cells."""
    for entry in register.entries:
        yield [thai_day(entry.day), *cells(entry)]


def by_day(register: Register) -> list[tuple[str, list[list[str]]]]:
    """The printed layout: (the day's heading, its entries' cells), in the order made."""
    return [
        (f"วันที่ {thai_day(day)}", [cells(e) for e in entries])
        for day, entries in groupby(register.entries, key=lambda e: e.day)
    ]


def file_name(register: Register, suffix: str) -> str:
    """`register-received-province-21-2563.xlsx`: a download's name, safe on any disk."""
    agency = "".join(c if c.isalnum() else "-" for c in register.agency_id)
    return f"register-{register.kind}-{agency}-{register.be_year}{suffix}"


# --- CSV and Excel --------------------------------------------------------------------------------


def to_csv(register: Register) -> bytes:
    """UTF-8 with a byte-order mark: Excel opens Thai text correctly only with one."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header(register))
    writer.writerows(rows(register))
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(register: Register) -> bytes:
    """One sheet: the title, the Thai header (frozen, filtered, repeated on every printed page),
    then the entries; text cells throughout (receipt numbers keep their leading zeros)."""
    # openpyxl and WeasyPrint ship no type information (and no stub package is a dependency);
    # both are imported where used: the CLI's other commands and the dashboard start without them.
    from openpyxl import Workbook  # type: ignore[import-untyped]
    from openpyxl.styles import Alignment, Font, PatternFill  # type: ignore[import-untyped]
    from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = f"{register.columns[0][len('เลขทะเบียน') :]} {register.be_year}"
    sheet.append([register.title])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(list(header(register)))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE4EE")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    top = Alignment(vertical="top", wrap_text=True)
    for values in rows(register):
        sheet.append(values)
        for cell in sheet[sheet.max_row]:
            cell.number_format = "@"
            cell.alignment = top
    for i, width in enumerate(XLSX_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = width
    sheet.freeze_panes = "A3"
    sheet.auto_filter.ref = f"A2:{get_column_letter(len(XLSX_WIDTHS))}{max(sheet.max_row, 2)}"
    sheet.print_title_rows = "2:2"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- print: HTML and PDF --------------------------------------------------------------------------


def _font_faces() -> str:
    faces = []
    for weight, name in FONT_FILES.items():
        path = FONT_DIR / name
        if path.exists():
            faces.append(
                f'@font-face {{ font-family: "{FONT_FAMILY}"; font-weight: {weight};'
                f' src: url("{path.as_uri()}") format("truetype"); }}'
            )
    return "\n".join(faces)


def table_html(register: Register) -> str:
    """The register's table in the form's layout (the dashboard page shows this same table)."""
    columns = len(register.columns)
    parts = ['<table class="register">', "<colgroup>"]
    parts += [f'<col style="width: {w}%">' for w in PRINT_WIDTHS]
    parts += ["</colgroup>", "<thead><tr>"]
    parts += [f'<th scope="col">{escape(c)}</th>' for c in register.columns]
    parts.append("</tr></thead>")
    if not register.entries:
        parts.append(f'<tbody><tr><td colspan="{columns}" class="empty">ไม่มีรายการ</td></tr></tbody>')
    for heading, entries in by_day(register):
        parts.append(
            f'<tbody><tr class="day"><th colspan="{columns}" scope="rowgroup">{escape(heading)}</th></tr>'
        )
        parts += ["<tr>" + "".join(f"<td>{escape(v)}</td>" for v in values) + "</tr>" for values in entries]
        parts.append("</tbody>")
    parts.append("</table>")
    return "\n".join(parts)


_PRINT_CSS: Final = """
@page {
  size: A4 landscape;
  margin: 14mm 10mm 16mm 10mm;
  @top-left { content: string(title); font-family: "%(font)s", sans-serif; font-size: 9pt; }
  @bottom-right { content: "หน้า " counter(page) " / " counter(pages);
                  font-family: "%(font)s", sans-serif; font-size: 9pt; }
}
body { font-family: "%(font)s", sans-serif; font-size: 11pt; line-height: 1.25; }
h1 { string-set: title content(); font-size: 16pt; margin: 0 0 2pt; }
p.meta { margin: 0 0 6pt; font-size: 10pt; }
table.register { width: 100%%; border-collapse: collapse; table-layout: fixed; }
table.register thead { display: table-header-group; }
table.register th, table.register td { border: 0.5pt solid #444; padding: 2pt 3pt; vertical-align: top;
  overflow-wrap: anywhere; }
table.register thead th { background: #e8ecf2; }
table.register tr { break-inside: avoid; }
table.register tr.day th { text-align: left; background: #f4f4f4; }
table.register td:nth-child(2) { white-space: nowrap; }
td.empty { text-align: center; color: #555; }
"""


def to_html(register: Register, *, printed: date | None = None) -> str:
    """A standalone HTML document of the register, A4 landscape, for WeasyPrint."""
    printed = printed or now_bangkok().date()
    css = _font_faces() + _PRINT_CSS % {"font": FONT_FAMILY}
    meta = f"{register.agency_id} · {len(register.entries)} รายการ · พิมพ์เมื่อ {thai_day(printed)}"
    return (
        '<!doctype html>\n<html lang="th"><head><meta charset="utf-8">'
        f"<title>{escape(register.title)}</title><style>{css}</style></head><body>"
        f'<h1>{escape(register.title)}</h1><p class="meta">{escape(meta)}</p>'
        f"{table_html(register)}</body></html>"
    )


# Sara am (ำ) written as nikhahit + sara aa, which is how it is drawn (see `_mend_thai_text`).
_SARA_AM = str.maketrans({"\u0e33": "\u0e4d\u0e32"})
_GLYPH_NAME = re.compile(r"^uni(0E[0-9A-F]{2})(\..*)?$")
_BFCHAR = re.compile(rb"^<([0-9a-f]{4})> <[0-9a-f]*>$")


@cache
def _thai_glyphs(font: str) -> dict[int, str]:
    """Glyph id -> the Thai character it draws, from the glyph names of one of FONT_DIR's fonts
    (`uni0E49.low_left` draws ้ lowered and moved left); empty for any other font."""
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    path = FONT_DIR / f"{font}.ttf"
    if font.split("-")[0] != FONT_FAMILY or not path.exists():
        return {}
    order = TTFont(path, lazy=True).getGlyphOrder()
    return {gid: chr(int(m[1], 16)) for gid, name in enumerate(order) if (m := _GLYPH_NAME.match(name))}


def _mend_thai_text(_document: object, pdf: Any) -> None:
    """A WeasyPrint finisher: give each Thai glyph of the embedded font its own character in the
    PDF's text map (ToUnicode).

    WeasyPrint maps a glyph to the text of the first cluster it is drawn in, and a Thai cluster is a
    consonant with its vowel and tone marks: the whole cluster went to one glyph and nothing to the
    others, and every later use of those glyphs read back wrong (หน้า as หนูา). Thai glyphs are drawn
    in the order of their characters (sara am aside, split beforehand), so one character per glyph
    reads back as written. The font's glyph ids are those of the file: WeasyPrint keeps them when
    it subsets."""
    import pydyf  # type: ignore[import-untyped]

    for obj in pdf.objects:
        if not isinstance(obj, pydyf.Dictionary) or "ToUnicode" not in obj:
            continue
        base = obj["BaseFont"]
        glyphs = _thai_glyphs((base.decode() if isinstance(base, bytes) else str(base)).split("+")[-1])
        if not glyphs:
            continue
        stream = pdf.objects[int(obj["ToUnicode"].split()[0])]
        mended = []
        for line in stream.stream:
            m = _BFCHAR.match(line) if isinstance(line, bytes) else None
            char = glyphs.get(int(m[1], 16)) if m else None
            mended.append(line if char is None else f"<{m[1].decode()}> <{ord(char):04x}>".encode())  # type: ignore[index]
        stream.stream = mended


def to_pdf(register: Register) -> bytes:
    """The printed register as PDF, its Thai font embedded, its text extractable as written."""
    from weasyprint import HTML  # type: ignore[import-untyped]

    pdf = HTML(string=to_html(register).translate(_SARA_AM)).write_pdf(finisher=_mend_thai_text)
    assert pdf is not None
    return bytes(pdf)


WRITERS: Final[dict[str, Callable[[Register], bytes]]] = {".csv": to_csv, ".xlsx": to_xlsx, ".pdf": to_pdf}


def export(register: Register, path: Path) -> Path:
    """Write the register to `path`, in the format its suffix names (.xlsx, .pdf, .csv)."""
    writer = WRITERS.get(path.suffix.lower())
    if writer is None:
        raise ValueError(f"{path.name}: unknown format {path.suffix or '(none)'!r}; use .xlsx, .pdf or .csv")
    path.write_bytes(writer(register))
    return path
