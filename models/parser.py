"""Read OCR'd Thai official letters (หนังสือราชการภายนอก) into `Letter` objects.

A file may hold several letters (a cover letter and the letter it encloses). A letter starts at
its `ที่ <number>` line; receipt stamps and letterhead printed above it belong to it, and the
closing block of the previous letter (ขอแสดงความนับถือ, signature, position, owning unit,
contact lines, สำเนาส่ง) ends where they begin. Stamps below a closing block belong to that
letter (the foot of its last page), except the group of stamps nearest the next letter's number,
which tops the next letter's page, and any stamp dated before the letter it would belong to.

The public API:

- `parse_letters(text, file=...)` -> every letter in the text, in file order;
- `read_letters(text, file=...)` -> the same as a `ParseResult` with non-fatal `ParseWarning`s
  (a body date that cannot be, an unreadable stamp, a period that is no date of the letter:
  `ภายใน ๗ วัน นับแต่วันที่ได้รับหนังสือ` falls due on each addressee's own day);
- `parse_file(path)` / `read_file(path)` for files (bytes checked: binary, empty, not UTF-8).

Anything that makes a letter unusable raises `ParseError` naming file, line and field:
no letter at all, a number that does not parse, a header date that cannot be.

Examples:
    >>> text = '''ที่ มท ๐๒๑๘/ว ๓๑๘๒
    ... กระทรวงมหาดไทย
    ... ถนนอัษฎางค์ กทม. ๑๐๒๐๐
    ... ๑ มิถุนายน ๒๕๖๓
    ... เรื่อง ทดสอบ
    ... เรียน ผู้ว่าราชการจังหวัดทุกจังหวัด
    ... ขอให้ส่งรายงานภายในวันที่ ๑๐ มิถุนายน ๒๕๖๓'''
    >>> [letter] = parse_letters(text, file="x.txt")
    >>> letter.number.canonical, letter.date.isoformat(), letter.issuer
    ('มท 0218/ว 3182', '2020-06-01', 'กระทรวงมหาดไทย')
    >>> [(d.date.isoformat(), d.kind) for d in letter.deadlines]
    [('2020-06-10', 'due')]
"""

from __future__ import annotations

import bisect
import calendar
import contextlib
import difflib
import itertools
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, time, timedelta
from pathlib import Path

from models.agency_codes import CENTRAL_CODES, PROVINCE_NAMES_BY_CODE
from models.extract import ExtractError, extract, repair_thai_marks
from models.letters import (
    Citation,
    Deadline,
    FieldReading,
    FieldStatus,
    Letter,
    ReceiptStamp,
    SourceRef,
    UnreadLetter,
    Urgency,
)
from models.numbering import (
    NUMBER_RE,
    LetterNumber,
    LetterNumberError,
    find_letter_numbers,
    parse_letter_number,
)
from models.thai import (
    DATE_RE,
    DIGIT,
    MONTHS_ABBR,
    MONTHS_FULL,
    THAI_DATE_PATTERN,
    ThaiDateError,
    date_from_match,
    month_number,
    parse_thai_date,
    parse_thai_time,
    to_arabic_digits,
    to_thai_digits,
)

__all__ = [
    "ParseError",
    "ParseResult",
    "ParseWarning",
    "parse_file",
    "parse_letters",
    "read_file",
    "read_letters",
]


# --------------------------------------------------------------------------- errors and results


class ParseError(ValueError):
    """Input that cannot be read as letters; `str(err)` is `file:line: field: message`."""

    def __init__(self, message: str, *, file: str, line: int, field: str) -> None:
        super().__init__(f"{file}:{line}: {field}: {message}")
        self.file = file
        self.line = line
        self.field = field
        self.message = message


@dataclass(frozen=True)
class ParseWarning:
    """Something skipped while reading a letter that did not make the letter unusable."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


@dataclass(frozen=True)
class ParseResult:
    """The letters of one text, in file order, and the warnings raised while reading them.

    `unread` are letters found whose number or date could not be read (the review list);
    `notes` say how the file was read (its encoding, characters removed, OCR), not what went wrong;
    `pages` are the page images of a scan (empty for text and PDF text layers).
    """

    letters: tuple[Letter, ...]
    warnings: tuple[ParseWarning, ...] = ()
    unread: tuple[UnreadLetter, ...] = ()
    notes: tuple[ParseWarning, ...] = ()
    pages: tuple[bytes, ...] = field(default=(), repr=False)  # PNG of each page of a scan, in order
    sha256: str = ""  # of the file's bytes as read (read_file), for the record to know the file by


# --------------------------------------------------------------------------- patterns

# OCR debris around a standalone word: `# ด่วนที่สุด`, `- ๒ มิ.ย.`; anything but Thai, Latin, digits.
_JUNK = r"[^ก-๙A-Za-z0-9]*"
_THAI_MARK = re.compile("([\u0e31\u0e34-\u0e3a\u0e47-\u0e4e])")


def _loose(words: str) -> str:
    """A regex of Thai keywords whose vowel and tone marks may be missing, as OCR drops them
    (`เรือง` for เรื่อง, `ด่วนทีสุด`, `สิงทีส่งมาด้วย`). Only for plain words, no character classes.

    >>> bool(re.fullmatch(_loose("เรื่อง"), "เรือง")), bool(re.fullmatch(_loose("เรื่อง"), "เรอง"))
    (True, True)
    """
    return _THAI_MARK.sub(r"\1?", words)


def _as_urgency(text: str) -> Urgency:
    """The urgency a (maybe mark-less) urgency word names."""
    bare = _THAI_MARK.sub("", text)
    return next(u for u in Urgency if _THAI_MARK.sub("", u.value) == bare)


_URGENCY_WORDS = _loose("ด่วนที่สุด|ด่วนมาก|ด่วน")
_CODE = r"[ก-ฮ](?:[\u0e38\u0e39]?[ก-ฮ]){0,2}"  # an agency code; OCR may hang ุ under a letter
_DATED = rf"(?:{_loose('ลง')}\s*{_loose('วัน')}\s*{_loose('ที่')}|ลว\.)"  # ลงวันที่, wrapped anywhere too

# `ที่` at the start of a line, optionally after an urgency word (glued on too: `ด่วนมากที่ สภ ...`),
# and the number after it, glued on or not (`ที่นบ.0032`); whether the rest is a number at all is
# decided by NUMBER_ATTEMPT_RE (so ที่ปรึกษา... is no number line). OCR forms of ที่ (ที without
# its tone mark, ท่ี with marks swapped, Latin `fi`/`NWI` from Tesseract) count when a number follows.
NUMBER_LINE_RE = re.compile(
    rf"^{_JUNK}(?:(?P<urgency>{_URGENCY_WORDS})\s*)?(?P<word>ที่|ท่ี|ที(?=\s|{_CODE}\s*\.?\s*[0-9๐-๙oO])|(?:fi|NWI|nwi|Ti)(?=\s)|(?:เลขที่หนังสือ|เลขหนังสือ)\s*[:：]?)\s*(?P<rest>.*?)\s*$"
)
# Text that is trying to be a number: code letters then digits, or digits with a slash (no code).
NUMBER_ATTEMPT_RE = re.compile(rf"^(?:{_CODE}\s*\.?\s*[0-9๐-๙oO]|{DIGIT}[^/]*/)")
# A number cut at the end of its line (`ที่ มท` / `๐๘๑๒.๒/ว` / `๑๒๓๔`): code letters, maybe digits.
NUMBER_HEAD_RE = re.compile(r"^[ก-ฮ]{1,3}\s*\.?\s*[0-9๐-๙oO.\s]*/?\s*(?:ว\s*\.?)?\s*$")
# Garbage where a number should be (`ที่ ???/....`): short, no Thai words, a slash or punctuation.
NUMBER_GARBLED_RE = re.compile(r"^[^ก-๙]{0,30}$|^.{0,30}/.{0,30}$")
# A date printed on the number's own line: `ที่ ชม ๐๐๑๗.๓/ว ๑๒๓๔ ลงวันที่ ๑๒ ธันวาคม ๒๕๖๘`, or the
# memo's `ที่ ... วันที่ ...` on one line.
NUMBER_LINE_DATE_RE = re.compile(rf"(?:{_loose('ลงวันที่')}|ลว\.?|{_loose('วันที่')})\s*[.:：]*\s*")
# `ที่` as a separate word inside a citation (not ลงวันที่, not ด่วนที่สุด).
CITED_NUMBER_RE = re.compile(r"(?<![ก-๙])ที่?\s*")  # a number must follow: ที alone is OCR's ที่

SUBJECT_RE = re.compile(rf"^{_JUNK}{_loose('เรื่อง')}\s*[:：]?\s*(?P<text>.*?)\s*$")
# The memo form (บันทึกข้อความ) names its agency on a ส่วนราชการ line, often with a phone number.
MEMO_AGENCY_RE = re.compile(
    rf"^{_JUNK}(?:ส่วนราชการ\s*[:：]?|จาก\s*[:：])\s*(?P<text>.*?)\s*(?:โทร.*)?$"
)  # also an e-Saraban print-out's `จาก : <agency>`
# เรียน; ถึง in a stamped letter (หนังสือประทับตรา) and in e-Saraban print-outs (`ถึง : ...`).
SALUTATION_RE = re.compile(rf"^{_JUNK}(?:เรียน|ถึง)(?:\s*[:：]\s*|\s+)(?P<text>.+?)\s*$")
REFERENCE_RE = re.compile(rf"^{_JUNK}[อฮ]{_loose('้างถึง')}\s*[:：]?\s*(?P<text>.*?)\s*$")
ENCLOSURE_RE = re.compile(rf"^{_JUNK}{_loose('สิ่งที่(?:ส่ง|แนบ)มา(?:ด้วย|พร้อมนี้)')}\s*[:：]?\s*(?P<text>.*?)\s*$")
CLOSING_RE = re.compile(rf"^{_JUNK}{_loose('ขอแสดงความนับถือ')}")
SIGNER_RE = re.compile(r"^\s*\(\s*(?P<name>[^()]+?)\s*\)\s*$")
ACTING_RE = re.compile(r"แทน\s*$")  # ปฏิบัติราชการแทน / รักษาราชการแทน: the title continues
CONTACT_RE = re.compile(
    r"^\s*(?:โทร|ไปรษณีย์อิเล็กทรอนิกส์|อีเมล|e-?mail|tel\b|fax\b|line\b|www\.|https?://)|@", re.IGNORECASE
)
COPIES_RE = re.compile(rf"^{_JUNK}{_loose('สำเนา(?:ส่ง|เรียน)')}\s*[:：]?\s*(?P<text>.*?)\s*$")
URGENCY_RE = re.compile(rf"^{_JUNK}(?:ชั้นความเร็ว\s*[:：]?\s*)?(?P<urgency>{_URGENCY_WORDS}){_JUNK}$")
URGENT_BY_RE = re.compile(rf"^{_JUNK}ด่วน\s*ภายใน\s*(?P<rest>.+?)\s*$")
ITEM_RE = re.compile(rf"^{_JUNK}(?P<n>{DIGIT}{{1,2}})\s*[.)]\s*(?P<text>.*?)\s*$")
# Lines that carry on a citation item: its date, its count, its number, a bracketed note.
CONTINUATION_RE = re.compile(rf"^{_JUNK}(?:{_DATED}|{_loose('วันที่')}|จำนวน|ที่?\s|{_URGENCY_WORDS}|\(|ฉบับ|ชุด)")

# Receipt stamp (ตรารับ) labels; longer variants first so เลขที่รับ is not read as เลขที่.
_LABEL_NUMBER = _loose("เลขทะเบียนรับ|ทะเบียนรับที่|เลขที่รับ|เลขรับที่|เลขรับ|รับที่|เลขที่")
_LABEL_DATE = _loose("รับวันที่|วันที่รับ|วันที่")
_LABEL_TIME = r"รับเวลา|เวลา"
STAMP_NUMBER_RE = re.compile(rf"^{_JUNK}(?:{_LABEL_NUMBER})\s*[.:：]*\s*(?P<value>.*?)\s*$")
STAMP_DATE_RE = re.compile(rf"^{_JUNK}(?:{_LABEL_DATE})\s*[.:：]*\s*(?P<value>.*?)\s*$")
STAMP_TIME_RE = re.compile(rf"^{_JUNK}(?:{_LABEL_TIME})\s*[.:：]*\s*(?P<value>.*?)\s*$")
MACHINE_STAMP_RE = re.compile(r"^\W*(?:RECEIVED|RECEIVE|REC'D|RCVD)\b\W*(?P<value>.*?)\s*$", re.IGNORECASE)
BARE_LABEL_RE = re.compile(rf"{_JUNK}(?:{_LABEL_NUMBER}|{_LABEL_DATE}|{_LABEL_TIME})\s*[.:：]*")
# A further label inside one stamp line (`เลขรับ ๔๔๑ วันที่ ๑๕ พ.ค. ๖๓ เวลา ๑๐.๓๐ น.`): not the end of a
# longer Thai word (ลงวันที่, ระยะเวลา), though it may follow a digit when the OCR drops the spaces.
INNER_LABEL_RE = re.compile(
    rf"(?<![ก-ฺเ-๎])(?:(?P<number>{_LABEL_NUMBER})|(?P<date>{_LABEL_DATE})|(?P<time>{_LABEL_TIME}))"
    r"\s*[.:：]*\s*"
)
DIGITS_RE = re.compile(r"[0-9๐-๙]+")
BARE_NUMBER_RE = re.compile(rf"{_JUNK}(?P<n>[0-9๐-๙]+){_JUNK}")
TIME_VALUE_RE = re.compile(rf"{DIGIT}{{1,2}}\s*[.:]\s*{DIGIT}{{2}}(?!{DIGIT})")

# An address line of the letterhead: a road, lane or sub-district, or a postcode.
ADDRESS_RE = re.compile(
    rf"^\s*(?:ถนน|ถ\.|ซอย|ซ\.|หมู่|ตำบล|ต\.|แขวง|อาคาร)|(?<!{DIGIT}){DIGIT}{{5}}(?!{DIGIT})"
    r"|^\s*(?:อำเภอ|เขต)\S+\s+(?:จังหวัด|กรุงเทพ|กทม)"  # `อำเภอสันทราย จังหวัดเชียงใหม่`: a place, not an agency
    r"|\s(?:ถนน|ถ\.|ซอย|ซ\.)\S"  # a flattened letterhead: `ศาลากลางจังหวัดลำปาง ถนนบุญวาทย์`
)
# Where an address starts inside a line that also names the agency (a flattened letterhead).
INLINE_ADDRESS_RE = re.compile(
    rf"\s(?:ถนน|ถ\.|ซอย|ซ\.|หมู่|ตำบล|ต\.|แขวง|อาคาร|เลขที่|{DIGIT}{{1,4}}(?:/{DIGIT}+)?\s+ถ)|(?<!{DIGIT}){DIGIT}{{5}}(?!{DIGIT})"
)
# A date line in the header: the date alone, with OCR punctuation around it.
DATE_LINE_RE = re.compile(rf"^{_JUNK}(?:{THAI_DATE_PATTERN}){_JUNK}$")
# The same with the word วันที่ before it (`วันที่ ๑๗ สิงหาคม ๒๕๖๓`), which also opens a stamp's date field.
LABELLED_DATE_LINE_RE = re.compile(
    rf"^{_JUNK}(?:{_loose('ลงวันที่')}|ลว\.|{_loose('วันที่')})\s*[.:：]*\s*(?:{THAI_DATE_PATTERN}){_JUNK}$"
)
# A lone page number (`๒`, `- ๒ -`) left by a page break.
PAGE_NUMBER_RE = re.compile(rf"^\s*[-–(]*\s*{DIGIT}{{1,3}}\s*[-–)]*\s*$")
ELLIPSIS_RE = re.compile(r"(?:\.{3,}|…)\s*$")

_MONTHS = "|".join(
    [re.escape(m) for m in MONTHS_FULL]
    + [r"\.?\s*".join(re.escape(c) for c in re.sub(r"[.\s]", "", a)) + r"\.?" for a in MONTHS_ABBR]
)
_DAY = rf"(?<!{DIGIT}){DIGIT}{{1,2}}(?!{DIGIT})"
# A date mentioned in the body; several days may share a month (`๑๐ และ ๑๒ มิถุนายน`), the year
# may be left out, and a two-digit year must not be the hour of a following time.
DATE_MENTION_RE = re.compile(
    rf"(?P<days>{_DAY}(?:\s*(?:,|และ|หรือ|ถึง|-|–)\s*{_DAY})*)\s*[/\-.,]?\s*(?P<month>{_MONTHS})"
    rf"(?:\s*(?:พ\.\s*ศ\.\s*)?(?P<year>{DIGIT}{{4}}(?!{DIGIT})|{DIGIT}{{2}}(?![0-9๐-๙.:])))?"
)
MONTH_DUE_RE = re.compile(
    rf"ภายใน\s*เดือน\s*(?P<month>{'|'.join(MONTHS_FULL)})(?:\s*(?:พ\.\s*ศ\.\s*)?(?P<year>{DIGIT}{{4}}))?"
)
# A period: `ภายใน ๑๕ วัน นับแต่วันที่ลงในหนังสือนี้` (from the letter's date: a dated deadline when
# the days are calendar days) or `ภายใน ๗ วันทำการ นับแต่วันที่ได้รับหนังสือ` (from each addressee's
# receipt: a warning; see `_relative_deadline`).
RELATIVE_DUE_RE = re.compile(
    rf"ภายใน\s*(?P<n>{DIGIT}{{1,3}})\s*วัน(?P<working>\s*ทำการ)?(?P<counted>\s*นับ\s*(?:ตั้งแต่|แต่|จาก))?"
    r"(?:\s*(?:วันที่|วัน)?\s*(?P<anchor>ได้รับ|(?:ลง\s*)?(?:ใน\s*)?หนังสือ))?"
)
COUNTED_FROM_RE = re.compile(r"\s*(?:วันที่|วัน)?\s*")
DAY_SPLIT_RE = re.compile(r"\s*(?:,|และ|หรือ|ถึง|-|–)\s*")
# A cited number cut at the end of its line, before its running number: `ที่ กษ ๑๐๐๘/ว`.
CUT_NUMBER_END_RE = re.compile(
    rf"(?<![ก-๙])[ก-ฮ]{{1,3}}\s*\.?\s*{DIGIT}{{2,6}}(?:\.{DIGIT}+)*\s*/\s*(?:ว\s*\.?)?\s*$"
)
# The rest of a number cut after its code (`ที่ มท` / `๐๘๑๒/ว ๑๒๑๗`): owner digits and a slash.
NUMBER_TAIL_RE = re.compile(rf"^\s*{DIGIT}{{2,6}}(?:\.{DIGIT}+)*\s*/")
# A weekday before a date: `ภายในวันศุกร์ที่ ๖ มิถุนายน`.
_WEEKDAY = _loose("วัน(?:จันทร์|อังคาร|พุธ|พฤหัสบดี|พฤหัส|ศุกร์|เสาร์|อาทิตย์)")
_DAY_WORD = rf"(?:{_WEEKDAY}\s*)?(?:{_loose('วันที่')}|วัน|{_loose('ที่')})?"
DATED_RE = re.compile(rf"{_DATED}\s*")  # "dated": a cited letter's date follows
CITATION_DATE_BEFORE_RE = re.compile(rf"{_DATED}\s*$")
PAST_BEFORE_RE = re.compile(rf"{_loose('เมื่อ')}\s*{_DAY_WORD}\s*$")
DUE_BEFORE_RE = re.compile(
    rf"(?:{_loose('ภายใน|ก่อน|ไม่เกิน|ไม่ช้ากว่า|กำหนดส่ง|ให้แล้วเสร็จ|ส่งคืน|ส่งถึง')})\s*{_DAY_WORD}\s*$"
)
MEETING_RE = re.compile(r"ประชุม|สัมมนา|อบรม")
TIME_AFTER_RE = re.compile(rf"\s*(?:เวลา\s*)?(?P<time>{DIGIT}{{1,2}}\s*[.:]\s*{DIGIT}{{2}})(?!{DIGIT})")
# Where the sentence around a date may start: a blank line, an indented line, a numbered point,
# or a line opening with a connective that starts a new sentence.
SENTENCE_BREAK_RE = re.compile(
    r"\n\s*\n|\n(?=[ \t]{2,}|\s*[0-9๐-๙]{1,2}\s*\.|\s*(?:ทั้งนี้|อนึ่ง|จึง|ด้วย|ตามที่|ตามหนังสือ|เพื่อ))"
)

# Agencies whose names open a letterhead line; an OCR'd line may carry garbage after the name.
KNOWN_AGENCIES = (
    "สำนักงาน ก.พ.ร.",
    "กรมส่งเสริมการปกครองท้องถิ่น",
    "สำนักงานปลัดกระทรวงมหาดไทย",
    "กระทรวงมหาดไทย",
    "กรมการปกครอง",
    "สำนักเลขาธิการคณะรัฐมนตรี",
    "สำนักงานปลัดสำนักนายกรัฐมนตรี",
    "สำนักนายกรัฐมนตรี",
)
# Letterhead forms that name a place's office rather than the agency: ศาลากลางจังหวัดแพร่ = จังหวัดแพร่.
AGENCY_FORM_RE = re.compile(
    r"^(?:ศาลากลาง)?(?P<province>จังหวัด[ก-๙]+)|^(?:ที่ว่าการ)?(?P<district>อำเภอ[ก-๙]+)"
    r"|^(?P<local>(?:องค์การบริหารส่วน(?:จังหวัด|ตำบล)|เทศบาล(?:นคร|เมือง|ตำบล)?)[ก-๙]+)"
)

# Words a position in a salutation starts with; a token that starts otherwise continues the last one.
POSITION_START_RE = re.compile(
    r"^(?:นาย|ผู้|ปลัด|อธิบดี|เลขาธิการ|ประธาน|รัฐมนตรี|หัวหน้า|ท้องถิ่น|อธิการบดี|รอง|ผอ|ผวจ|นอภ|สมาชิก|กรรมการ)"
)
_LOOKAHEAD_LINES = 15  # non-blank lines a ที่ line inside a body may look ahead for its own เรื่อง


# --------------------------------------------------------------------------- reading context


@dataclass
class _Ctx:
    file: str
    lines: list[str]
    warnings: list[ParseWarning] = field(default_factory=list)
    confidence: Mapping[int, float] = field(default_factory=dict)  # 1-based line -> OCR confidence

    def ref(self, i: int) -> SourceRef:
        return SourceRef(file=self.file, line=i + 1)

    def warn(self, i: int, field_name: str, message: str) -> None:
        self.warnings.append(ParseWarning(self.file, i + 1, field_name, message))

    def error(self, i: int, field_name: str, message: str) -> ParseError:
        return ParseError(message, file=self.file, line=i + 1, field=field_name)

    def blank(self, i: int) -> bool:
        return not self.lines[i].strip()

    def nonblank(self, lo: int, hi: int) -> Iterator[int]:
        return (i for i in range(lo, min(hi, len(self.lines))) if self.lines[i].strip())

    def next_nonblank(self, lo: int, hi: int) -> int | None:
        return next(self.nonblank(lo, hi), None)

    def line_confidence(self, *lines: int) -> float | None:
        """The lowest OCR confidence of the given 0-based lines; None for text that was not OCR'd."""
        found = [self.confidence[i + 1] for i in lines if i + 1 in self.confidence]
        return min(found) if found else None


@dataclass(frozen=True)
class _Start:
    line: int  # the ที่ line
    number_line: int  # where the number ends (the next lines when it is split or ที่ stands alone)
    number: LetterNumber | None  # None: a ที่ line whose number could not be read
    urgency: Urgency | None
    reading: FieldReading | None = None  # how the number was read, when not plainly
    found: bool = True  # False: no ที่ line at all, the letter's text starts at `line`
    beside: tuple[str, ...] = ()  # text set apart right of the number's lines: agency, address


@dataclass(frozen=True)
class _Closing:
    end: int
    signer: str | None = None
    position: str | None = None
    owner_unit: str | None = None
    copies: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Span:
    start: _Start
    header_start: int
    end: int  # exclusive: where the next letter's header begins
    closing: int | None


# --------------------------------------------------------------------------- public API


def read_letters(text: str, *, file: str, line_confidence: Mapping[int, float] | None = None) -> ParseResult:
    """Every letter in `text`, in file order, with the warnings raised on the way. Never raises.

    A letter whose number or date cannot be read is returned in `unread` (the review list) with
    everything else read; a text with no `ที่` line is read as a register (one letter per line
    carrying a number and a date) or, failing that, as one letter without a number.
    `line_confidence` (1-based line -> 0..1) comes with OCR'd text: a number or date read from a
    line the OCR was unsure of goes to review instead of being trusted.
    """
    clean, notes = normalize_text(text)
    ctx = _Ctx(file=file, lines=clean.splitlines(), confidence=line_confidence or {})
    note_items = tuple(ParseWarning(file, line, "text", message) for line, message in notes)
    starts = _find_starts(ctx)
    if not starts:
        rows = _register_rows(ctx)
        if rows:
            return ParseResult(letters=tuple(rows), warnings=tuple(ctx.warnings), notes=note_items)
        first = ctx.next_nonblank(0, len(ctx.lines))
        if first is None:
            return ParseResult(letters=(), warnings=tuple(ctx.warnings), notes=note_items)
        starts = [_Start(line=first, number_line=first - 1, number=None, urgency=None, found=False)]
    spans = _spans(ctx, starts)
    letters: list[Letter] = []
    unread: list[UnreadLetter] = []
    for k, span in enumerate(spans):
        try:
            letter, given_back = _read_letter(ctx, span, last_in_file=k == len(spans) - 1)
        except (ValueError, ThaiDateError) as exc:  # a field that cannot be: review, not a lost file
            letter, given_back = _fallback(ctx, span, f"{type(exc).__name__}: {exc}"), None
        if given_back is not None:
            spans[k + 1] = replace(spans[k + 1], header_start=min(given_back, spans[k + 1].start.line))
        if isinstance(letter, Letter):
            letters.append(letter)
        else:
            unread.append(letter)
    return ParseResult(
        letters=tuple(letters), warnings=tuple(ctx.warnings), unread=tuple(unread), notes=note_items
    )


def parse_letters(text: str, *, file: str) -> list[Letter]:
    """Every letter in `text` whose number and date were read, in file order."""
    return list(read_letters(text, file=file).letters)


def read_file(path: Path) -> ParseResult:
    """Read a letter file of any kind `models.extract` reads (text in any encoding, PDF, scan).

    Raises `ParseError` only for file-level faults: not a regular file, too large, unreadable,
    empty, binary; everything inside a readable file degrades by field (see `read_letters`).
    """
    try:
        extracted = extract(path)
    except ExtractError as exc:
        raise ParseError(exc.message, file=exc.file, line=exc.line, field=exc.field) from None
    result = read_letters(extracted.text, file=str(path), line_confidence=extracted.line_confidence)
    how = tuple(ParseWarning(str(path), 1, "file", note) for note in extracted.notes)
    return replace(result, notes=how + result.notes, pages=extracted.pages, sha256=extracted.sha256)


def parse_file(path: Path) -> list[Letter]:
    """Every letter in the file at `path` whose number and date were read; see `read_file`."""
    return list(read_file(path).letters)


# --------------------------------------------------------------------------- normalisation

# Spaces other than the plain one that Thai text copied from PDFs and web pages carries.
_ODD_SPACES = re.compile(r"[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_LINE_SEPARATORS = re.compile(r"\r\n?|[\u2028\u2029\x0b\x0c\x1c-\x1e\x85]")


# OCR's letter o for a zero, next to a digit (`๑o มกราคม`, `1O5`); Thai zero beside Thai digits.
_O_FOR_ZERO = re.compile(r"(?<=[0-9๐-๙])[oO]|[oO](?=[0-9๐-๙])")
_THAI_DIGIT_NEAR = re.compile(r"[๐-๙]")


def normalize_text(text: str) -> tuple[str, list[tuple[int, str]]]:
    r"""NFC, invisible format characters (Unicode category Cf: zero-width space, ZWNJ, soft hyphen,
    BOM) removed, odd spaces made plain, line ends made `\n`, Thai marks put back in order (sara am
    typed as nikhahit + sara aa, see `models.extract.repair_thai_marks`); and (line, note) for each
    line where something was removed or repaired. Line numbers do not change.

    >>> normalize_text("ที่\u200b มท ๐๒๑๘/ว ๓๑๘๒\r\nก\u00a0ข")
    ('ที่ มท ๐๒๑๘/ว ๓๑๘๒\nก ข', [(1, 'removed 1 invisible character(s) (U+200B)')])
    >>> normalize_text("สํานักงาน")[0] == "สำนักงาน"
    True
    """
    text = unicodedata.normalize("NFC", _LINE_SEPARATORS.sub("\n", text))
    notes: list[tuple[int, str]] = []
    lines = text.split("\n")
    for n, line in enumerate(lines):
        removed = [c for c in line if unicodedata.category(c) == "Cf"]
        if removed:
            line = "".join(c for c in line if unicodedata.category(c) != "Cf")
            names = ", ".join(sorted({f"U+{ord(c):04X}" for c in removed}))
            notes.append((n + 1, f"removed {len(removed)} invisible character(s) ({names})"))
        line = _ODD_SPACES.sub(" ", line)
        zeros = _O_FOR_ZERO.sub(
            lambda m: "๐" if _THAI_DIGIT_NEAR.search(m.string, max(0, m.start() - 1), m.end() + 1) else "0",
            line,
        )
        if zeros != line:
            notes.append((n + 1, "letter o read as zero between digits"))
        lines[n] = zeros
    text, repairs = repair_thai_marks("\n".join(lines))
    if repairs:
        notes.append((1, f"put back {repairs} displaced Thai mark(s) (sara am, tone marks)"))
    return text, notes


# --------------------------------------------------------------------------- segmentation


# A register row's subject: after เรื่อง, or the rest of the row.
REGISTER_SUBJECT_RE = re.compile(r"เรื่อง\s*[:：]?\s*(?P<text>.+?)\s*$")
REGISTER_TITLE_RE = re.compile(r"ทะเบียน|บัญชี|รายการหนังสือ|รายการ")


def _register_rows(ctx: _Ctx) -> list[Letter]:
    """A register or list of letters (ทะเบียนหนังสือรับ/ส่ง, a numbered list): one letter per row
    that carries a letter number and a date (a row may wrap onto the next line).

    Only for a text with no `ที่` line; a text that is a letter (it has a เรียน line) and rows
    inside its อ้างถึง / สิ่งที่ส่งมาด้วย are not a register.
    """
    if any(SALUTATION_RE.match(line) for line in ctx.lines):
        return []
    rows: list[Letter] = []
    skip_until = -1
    for i, line in enumerate(ctx.lines):
        if i <= skip_until:
            continue
        found = find_letter_numbers(line)
        nxt = ctx.next_nonblank(i + 1, i + 2)
        if not found and nxt is not None and NUMBER_TAIL_RE.match(ctx.lines[nxt]):
            # `... ที่ อด` / `๐๐๒๑/๓๔๑ ลงวันที่ ...`: a number wrapped after its code
            line = f"{line.rstrip()} {ctx.lines[nxt].strip()}"
            found = [(n, m) for n, m in find_letter_numbers(line) if m.start() < len(ctx.lines[i].rstrip())]
            i_end = nxt
        else:
            i_end = i
        if not found:
            continue
        number, match = found[0]
        tail, last = line[match.end() :], i_end
        dated = DATE_RE.search(tail)
        after = tail[dated.end() :] if dated else ""  # the columns after the date: จาก, ถึง, เรื่อง
        if dated is None:  # a register that prints the date column first
            dated = DATE_RE.search(line[: match.start()])
            after = tail
        if dated is None:
            j = ctx.next_nonblank(last + 1, last + 2)
            if j is not None and not find_letter_numbers(ctx.lines[j]):
                joined = f"{tail.rstrip()} {ctx.lines[j].strip()}"  # `ลงวันที่ ๒๘` / `กุมภาพันธ์ ๒๕๖๗`
                dated = DATE_RE.search(joined)
                last = j
                after = joined[dated.end() :] if dated else ""
        if dated is None:
            continue
        try:
            on = date_from_match(dated)
        except ThaiDateError as exc:
            ctx.warn(i, "date", f"register row: {exc}")
            continue
        subject = REGISTER_SUBJECT_RE.search(" ".join(ctx.lines[k].strip() for k in range(i, last + 1)))
        rows.append(
            Letter(
                number=number,
                date=on,
                subject=subject.group("text") if subject else None,
                issuer=_row_issuer(after) or _issuer_from_code(number),
                source=ctx.ref(i),
                end_line=last + 1,
                text="\n".join(ctx.lines[i : last + 1]),
            )
        )
        skip_until = last
    return rows


def _row_issuer(text: str) -> str | None:
    """The agency named right after a register row's date (the จาก column), if any."""
    head = re.split(r"เรื่อง|\t|\s{2,}|\|", text.strip(" |\t"), maxsplit=1)[0].strip()
    return _agency_name(head) if head else None


_CONFIDENT = 0.6  # an OCR'd number or date line below this confidence goes to review
_OCR_THI = {"ท่ี", "ที", "fi", "NWI", "nwi", "Ti"}  # ที่ as OCR misreads it: only before a whole number


def _number_start(ctx: _Ctx, i: int) -> _Start | None:
    """The letter start line `i` is, when it is a `ที่` line: the number read (joined over up to
    three lines when cut), or None with a reading that says what was there instead."""
    match = NUMBER_LINE_RE.match(ctx.lines[i])
    if match is None:
        return None
    urgency = _as_urgency(match.group("urgency")) if match.group("urgency") else None
    ocr_form = match.group("word") in _OCR_THI
    rest = (match.group("rest") or "").strip()
    line = i
    if not rest:
        j = ctx.next_nonblank(i + 1, i + 4)
        if j is None:
            return None
        line, rest = j, ctx.lines[j].strip()
    attempt = NUMBER_ATTEMPT_RE.match(rest) is not None or NUMBER_HEAD_RE.match(rest) is not None
    if not attempt and (ocr_form or not NUMBER_GARBLED_RE.match(rest) or not _opens_letter(ctx, line + 1)):
        return None
    number = _try_number(rest)
    joined, columns = 1, [_beside_number(ctx.lines[line])]
    first_line = line
    if number is None:
        # Cut at the line's end (`ที่ มท` / `๐๘๑๒.๒/ว` / `๑๒๓๔`), the letterhead maybe beside each piece.
        text, column = _columns(rest, _HEAD_PIECE_RE)
        columns = [column]
        while number is None and joined < 3 and NUMBER_HEAD_RE.match(text):
            j = ctx.next_nonblank(line + 1, line + 3)
            if j is None:
                break
            piece, column = _columns(ctx.lines[j].strip(), _TAIL_PIECE_RE)
            text, line, joined = f"{text} {piece}", j, joined + 1
            columns.append(column)
            number = _try_number(text)
        if number is None:  # joining did not make a number: the lines below are not its pieces
            text, line, joined = rest, first_line, 1
    if number is None and ocr_form and not NUMBER_ATTEMPT_RE.match(rest):
        return None
    confidence = ctx.line_confidence(*range(i, line + 1))
    if number is None:
        status = FieldStatus.PARTIAL if attempt else FieldStatus.MISSING
        note = "not a letter number (agency code, owner number, '/', running number)"
        reading = FieldReading(
            field="number", status=status, line=i + 1, raw=rest, note=note, confidence=confidence
        )
    elif joined > 1 or number.ocr_repairs or ocr_form or confidence is not None:
        notes = list(number.ocr_repairs)
        if joined > 1:
            notes.append(f"printed over {joined} lines")
        if ocr_form:
            notes.append(f"ที่ read as {match.group('word')!r}")
        status = FieldStatus.REPAIRED if notes else FieldStatus.READ
        reading = FieldReading(
            field="number", status=status, line=i + 1, raw=number.raw, note="; ".join(notes) or None,
            confidence=confidence,
        )  # fmt: skip
    else:
        reading = None
    if number is None:  # the letterhead may still stand right of an unreadable number
        column = _columns(rest)[1]
        columns = [_agency_part(column)] if column else []
    beside = tuple(c for c in columns if c)
    if urgency is None and number is not None:  # `ที่ มท ๐๒๑๘/ว ๓๑๘๒        ด่วนที่สุด`
        urgency = _urgency_beside(ctx.lines[line])
    return _Start(line=i, number_line=line, number=number, urgency=urgency, reading=reading, beside=beside)


# What OCR and fonts print for the number's slash.
_SLASH_LIKE = str.maketrans({"|": "/", "\\": "/", "⁄": "/", "／": "/", "∕": "/"})


def _try_number(text: str) -> LetterNumber | None:
    try:
        return parse_letter_number(text)
    except LetterNumberError:
        pass
    slashed = text.translate(_SLASH_LIKE)
    if slashed == text:
        return None
    try:
        number = parse_letter_number(slashed)
    except LetterNumberError:
        return None
    return number.model_copy(update={"ocr_repairs": (*number.ocr_repairs, "/ read as another stroke")})


# Columns on one printed line: two spaces or more, or a tab.
_COLUMN_GAP_RE = re.compile(r"(?:\s{2,}|\t+)(?P<text>\S.*?)\s*$")
# A gap wide enough to part columns even inside a number's text (numbers carry single spaces).
_WIDE_GAP_RE = re.compile(r"\s{3,}|\t+")


# A piece of a cut number followed, after a single space, by Thai words (a PDF's flattened columns).
_HEAD_PIECE_RE = re.compile(
    r"^(?P<piece>[ก-ฮ]{1,3}\s*\.?\s*[0-9๐-๙oO.\s]*/\s*(?:ว\s*\.?)?)\s+(?P<rest>[ก-ฮเ-ไ].*)$"
)
_TAIL_PIECE_RE = re.compile(r"^(?P<piece>(?:ว\s*\.?\s*)?[0-9๐-๙oO]+)\s+(?P<rest>[ก-ฮเ-ไ].*)$")


def _columns(text: str, piece: re.Pattern[str] | None = None) -> tuple[str, str | None]:
    """A line's left column and the text set apart to its right, if any; without a wide gap, the
    `piece` of a number that opens the line and the words after it."""
    parts = _WIDE_GAP_RE.split(text.strip(), maxsplit=1)
    if len(parts) > 1:
        return parts[0], parts[1].strip()
    found = piece.match(parts[0]) if piece else None
    return (found.group("piece").strip(), found.group("rest")) if found else (parts[0], None)


def _urgency_beside(line: str) -> Urgency | None:
    line = line.translate(_SLASH_LIKE)
    number = NUMBER_RE.search(line)
    found = URGENCY_RE.match(line[number.end() :].strip()) if number else None
    return _as_urgency(found.group("urgency")) if found else None


def _beside_number(line: str) -> str | None:
    """The letterhead's agency printed on the number's line, right of it, set apart by a wide gap
    (`ที่ กษ ๐๒๐๘/ว ๑๔๕๖          กระทรวงเกษตรและสหกรณ์`); not a date or a stamp there."""
    line = line.translate(_SLASH_LIKE)
    number = NUMBER_RE.search(line)
    if number is None:
        return None
    gap = _COLUMN_GAP_RE.match(line, number.end())
    if gap is None:
        # A web copy flattens the columns to single spaces: an agency's name right after the number.
        return _agency_part(line[number.end() :])
    text = gap.group("text")
    if (
        NUMBER_LINE_DATE_RE.match(text)
        or _stamp_label(text)[0] is not None
        or DATE_RE.search(text)
        or URGENCY_RE.match(text)
    ):
        return None
    address = INLINE_ADDRESS_RE.search(text)
    return text[: address.start()].strip() if address and address.start() > 0 else text


def _agency_part(text: str) -> str | None:
    """An agency's name that opens `text`, without the address after it; None if none does."""
    text = text.strip()
    address = INLINE_ADDRESS_RE.search(text)
    name = text[: address.start()].strip() if address else text
    return name if name and _agency_name(name) and not URGENCY_RE.match(name) else None


def _opens_letter(ctx: _Ctx, lo: int) -> bool:
    """Whether a `ที่` line met inside a body heads a letter: its own เรื่อง follows soon."""
    for count, i in enumerate(ctx.nonblank(lo, len(ctx.lines))):
        line = ctx.lines[i]
        if count >= _LOOKAHEAD_LINES or CLOSING_RE.match(line) or NUMBER_LINE_RE.match(line):
            return False
        if SUBJECT_RE.match(line):
            return True
    return False


def _find_starts(ctx: _Ctx) -> list[_Start]:
    starts: list[_Start] = []
    in_body = False  # after the current letter's เรื่อง and before its closing
    i = 0
    while i < len(ctx.lines):
        line = ctx.lines[i]
        start = _number_start(ctx, i) if NUMBER_LINE_RE.match(line) else None
        if start is None:
            if starts and SUBJECT_RE.match(line):
                in_body = True
            elif starts and CLOSING_RE.match(line):
                in_body = False
            i += 1
            continue
        # Inside a body a ที่ line is usually a citation wrapped onto its own line.
        if in_body and not _opens_letter(ctx, start.number_line + 1):
            i += 1
            continue
        previous = starts[-1].number if starts else None
        if previous and start.number and start.number.canonical == previous.canonical:
            between = range(starts[-1].number_line + 1, i)
            if any(SALUTATION_RE.match(ctx.lines[j]) for j in between):
                i += 1
                continue  # the number repeated on a later page, not a new letter
            starts.pop()  # a title or record line printed the number before the letter itself
        starts.append(start)
        in_body = False
        i = start.number_line + 1
    return starts


def _spans(ctx: _Ctx, starts: list[_Start]) -> list[_Span]:
    """Each letter's lines: from the end of the previous letter's closing block to its own."""
    n = len(ctx.lines)
    closings = [
        next((i for i in range(s.number_line + 1, nxt) if CLOSING_RE.match(ctx.lines[i])), None)
        for s, nxt in zip(starts, [s.line for s in starts[1:]] + [n], strict=True)
    ]
    header_starts = [0]
    for k in range(1, len(starts)):
        previous, closing = starts[k - 1], closings[k - 1]
        if closing is not None:
            lo = _foot_end(ctx, _closing_block(ctx, closing, starts[k].line).end + 1, starts[k].line)
        else:
            lo = _header_back(ctx, starts[k].line, previous.number_line + 1)
        header_starts.append(min(lo, starts[k].line))
    ends = [*header_starts[1:], n]
    return [
        _Span(start=s, header_start=h, end=e, closing=c)
        for s, h, e, c in zip(starts, header_starts, ends, closings, strict=True)
    ]


def _foot_end(ctx: _Ctx, lo: int, hi: int) -> int:
    """Where the previous letter's foot ends in the lines [lo, hi) between its closing block and the
    next letter's `ที่` line: after the last stamp group but one.

    A page carries its stamps at the top, in one group of lines (side by side or stacked); so the
    stamp group nearest the next letter is that letter's, and groups above it, set apart by blank
    lines right after the closing block, are stamps at the foot of the previous letter's last page.
    A group counts for the foot only if it holds a whole stamp (`_fits_foot`).
    """
    groups: list[tuple[int, int]] = []
    for i in range(lo, hi):
        if ctx.blank(i):
            continue
        if groups and groups[-1][1] == i - 1:
            groups[-1] = (groups[-1][0], i)
        else:
            groups.append((i, i))
    stamped = [
        (a, b)
        for a, b in groups
        if any(
            _stamp_label(cell)[0] is not None
            for i in range(a, b + 1)
            for _, cell in _split_columns(ctx.lines[i])
        )
    ]
    scratch = _Ctx(file=ctx.file, lines=ctx.lines)  # this is only a look: no warnings
    for a, b in reversed(stamped[:-1]):
        if any(_fits_foot(s) for s in _read_stamps(scratch, a, b + 1)):
            return b + 1
    return lo


def _header_like(ctx: _Ctx, i: int) -> bool:
    line = ctx.lines[i]
    return bool(
        "\t" in line
        or _stamp_label(line.strip())[0] is not None
        or URGENCY_RE.match(line)
        or ADDRESS_RE.search(line)
        or _agency_name(line.strip()) is not None
        or (i + 1 < len(ctx.lines) and _stamp_label(ctx.lines[i + 1].strip())[0] == "number")
    )


def _header_back(ctx: _Ctx, start: int, floor: int) -> int:
    """Without a closing block, walk back from a ที่ line over stamps, urgency and letterhead."""
    lo = start
    for i in range(start - 1, floor - 1, -1):
        if ctx.blank(i):
            continue
        if not _header_like(ctx, i):
            break
        lo = i
    return lo


# --------------------------------------------------------------------------- one letter


class _BadDate(Exception):
    """A header date line that cannot be a date (31 February, a BE year in the wrong century)."""

    def __init__(self, line: int, raw: str, message: str) -> None:
        super().__init__(message)
        self.line, self.raw, self.message = line, raw, message


def _letter_date(
    ctx: _Ctx, span: _Span, header_end: int, used: set[int], stamps: list[_Stamp]
) -> tuple[date | None, set[int], list[_Stamp], FieldReading | None]:
    """The letter's date, the lines it was read from, the stamps left, and how it was read.

    In order: a date on the number's own line (`ลงวันที่ ...`, the memo's `ที่ ... วันที่ ...`), a
    date line in the header (alone, or split over lines), `วันที่ <date>` there, a date line below
    the text (the stamped letter, หนังสือประทับตรา, is dated at its foot); else None, for review.
    """
    start = span.start
    try:
        on_line = _number_line_date(ctx, start)
        if on_line is not None:
            return on_line, {start.number_line}, stamps, None
        found = _header_date(ctx, span, header_end, used)
        if found is None:
            # `วันที่ ๑๗ สิงหาคม ๒๕๖๓` was read as a stamp holding only a date; with no other date
            # line in the header it is the letter's own date.
            lone = [s for s in stamps if _is_lone_date(s)]
            found = _header_date(ctx, span, header_end, used - _stamp_lines(lone), LABELLED_DATE_LINE_RE)
            if found is not None:
                stamps = [s for s in stamps if not (_stamp_lines([s]) & found[1])]
        if found is None:
            fuzzy = _fuzzy_header_date(ctx, span, header_end, used)
            if fuzzy is not None:
                return fuzzy[0], {fuzzy[1]}, stamps, fuzzy[2]
            below = next(
                (i for i in range(header_end, span.end) if i not in used and _date_shape(ctx.lines[i])), None
            )
            if below is not None:
                match = _date_shape(ctx.lines[below])
                assert match is not None
                found = date_from_match(match), {below}
    except _BadDate as bad:
        return (
            None,
            set(),
            stamps,
            FieldReading(
                field="date", status=FieldStatus.MISSING, line=bad.line + 1, raw=bad.raw, note=bad.message
            ),
        )
    except ThaiDateError as exc:
        return None, set(), stamps, FieldReading(field="date", status=FieldStatus.MISSING, note=str(exc))
    if found is None:
        note = "no date line (day, Thai month, Buddhist-era year) in the letter header"
        return None, set(), stamps, FieldReading(field="date", status=FieldStatus.MISSING, note=note)
    confidence = ctx.line_confidence(*found[1])
    reading = (
        FieldReading(field="date", status=FieldStatus.READ, line=min(found[1]) + 1, confidence=confidence)
        if confidence is not None
        else None
    )
    return found[0], found[1], stamps, reading


# A header date line whose month the OCR garbled (`๑๒ ธันวาคบ ๒๕๖๘`): day, a Thai word, a 4-digit year.
FUZZY_DATE_LINE_RE = re.compile(
    rf"^{_JUNK}(?:วันที่\s*)?(?P<day>{DIGIT}{{1,2}})\s*(?P<month>[ก-ฮะ-ฺเ-๎.]{{3,12}})\s*"
    rf"(?:พ\.\s*ศ\.\s*)?(?P<year>{DIGIT}{{4}}){_JUNK}$"
)
_MONTH_WORDS = {**{m: m for m in MONTHS_FULL}, **{a.replace(".", ""): a for a in MONTHS_ABBR}}


def _fuzzy_header_date(
    ctx: _Ctx, span: _Span, header_end: int, used: set[int]
) -> tuple[date, int, FieldReading] | None:
    """A header date whose month name is one or two letters off a Thai month, as a repair."""
    after = range(span.start.number_line + 1, header_end)
    for i in [*after, *range(span.header_start, span.start.line)]:
        match = None if i in used else FUZZY_DATE_LINE_RE.match(ctx.lines[i])
        if match is None:
            continue
        word = match.group("month").replace(".", "")
        close = difflib.get_close_matches(word, list(_MONTH_WORDS), n=1, cutoff=0.7)
        if not close:
            continue
        month = _MONTH_WORDS[close[0]]
        try:
            on = parse_thai_date(f"{match.group('day')} {month} {match.group('year')}")
        except ThaiDateError:
            continue
        note = f"month {match.group('month')!r} read as {month}"
        raw = ctx.lines[i].strip()
        confidence = ctx.line_confidence(i)
        reading = FieldReading(
            field="date", status=FieldStatus.REPAIRED, line=i + 1, raw=raw, note=note, confidence=confidence
        )
        return on, i, reading
    return None


# Thai digits Tesseract confuses, both ways (๖ read as ๒, ๘ as ๕ ...).
_DIGIT_CONFUSIONS = {
    "๒": "๖",
    "๖": "๒",
    "๕": "๘๔๗๙",
    "๙": "๕",
    "๘": "๕๓๐",
    "๔": "๕",
    "๗": "๕๑",
    "๓": "๘",
    "๐": "๘",
    "๑": "๗",
}
_PLAUSIBLE_YEARS = (1997, 2200)  # a scanned letter's year outside these (CE) is a misread digit


def _near_year(year: int, lo: int, hi: int, *, prefer: int) -> int | None:
    """The year in [lo, hi] that one or two confusable Thai digits turn `year` into (BE digits),
    the one nearest `prefer`; None when no such year exists.

    >>> _near_year(1982, 2022, 2023, prefer=2022)  # ๒๕๒๕: ๖ read twice as ๒
    2022
    """
    printed = to_thai_digits(str(year + 543))
    found: set[int] = set()
    for count in (1, 2):  # one digit misread, else two (each digit at most once)
        for places in itertools.combinations(range(len(printed)), count):
            options = [_DIGIT_CONFUSIONS.get(printed[k], "") for k in places]
            for others in itertools.product(*options):
                text = list(printed)
                for k, other in zip(places, others, strict=True):
                    text[k] = other
                candidate = int(to_arabic_digits("".join(text))) - 543
                if lo <= candidate <= hi:
                    found.add(candidate)
        if found:
            break
    return min(found, key=lambda y: (abs(y - prefer), -y)) if found else None


_BE_YEAR_RE = re.compile(r"(?<![0-9๐-๙])(?:๒๕|25)[0-9๐-๙]{2}(?![0-9๐-๙])")


def _check_ocr_year(
    ctx: _Ctx, span: _Span, on: date, date_lines: set[int], reading: FieldReading | None
) -> tuple[date, FieldReading | None]:
    """An OCR'd letter's year checked against the other years it prints (its citations, its
    deadlines, `ปี ๒๕๖๗`): a year none of them comes near is a misread digit. Repaired when one
    confusable digit turns it into the year the letter mostly speaks of; else sent to review."""
    years = [
        int(to_arabic_digits(m.group(0))) - 543
        for i in range(span.header_start, span.end)
        if i not in date_lines
        for m in _BE_YEAR_RE.finditer(ctx.lines[i])
    ]
    plausible = _PLAUSIBLE_YEARS[0] <= on.year <= date.today().year + 1
    if any(abs(on.year - y) <= 1 for y in years) or (not years and plausible):
        return on, reading
    line = min(date_lines)
    raw = " ".join(ctx.lines[i].strip() for i in sorted(date_lines))
    printed = to_thai_digits(str(on.year + 543))
    usual = max(set(years), key=years.count) if years else date.today().year
    window = (usual, usual + 1) if years else (_PLAUSIBLE_YEARS[0], usual + 1)
    year = _near_year(on.year, *window, prefer=usual)
    if year is not None:
        with contextlib.suppress(ValueError):  # 29 February of a year that has none: left for review
            fixed = on.replace(year=year)
            why = (
                f"the letter's other dates are {usual + 543}"
                if years
                else "a year no letter on file can have"
            )
            note = f"year {printed} (OCR) read as {to_thai_digits(str(year + 543))}: {why}"
            return fixed, FieldReading(
                field="date", status=FieldStatus.REPAIRED, line=line + 1, raw=raw, note=note,
                confidence=reading.confidence if reading else None,
            )  # fmt: skip
    note = f"year {printed} is far from the letter's other dates ({usual + 543}): a misread digit?"
    return on, FieldReading(
        field="date", status=FieldStatus.PARTIAL, line=line + 1, raw=raw, note=note, confidence=0.3
    )


def _number_line_date(ctx: _Ctx, start: _Start) -> date | None:
    """A date printed after the number on its own line, introduced by ลงวันที่ / ลว. / วันที่."""
    if not start.found or start.number is None:
        return None
    line = ctx.lines[start.number_line]
    number = NUMBER_RE.search(line)
    after = line[number.end() :] if number else line
    label = NUMBER_LINE_DATE_RE.search(after)
    if label is None:
        return None
    match = DATE_RE.match(after, label.end())
    if match is None:
        return None
    try:
        return date_from_match(match)
    except ThaiDateError as exc:
        raise _BadDate(start.number_line, match.group(0), str(exc)) from None


def _read_letter(ctx: _Ctx, span: _Span, *, last_in_file: bool) -> tuple[Letter | UnreadLetter, int | None]:
    """One letter (an `UnreadLetter` when its number or date cannot be read); and, when stamps
    below its closing block turn out not to be its own, the line where the next letter's header
    starts instead (see `_foot_stamps`).
    """
    start = span.start
    lines = ctx.lines
    after_number = start.number_line + 1
    subject_i = _first(ctx, SUBJECT_RE, after_number, span.end)
    header_end = _header_end(ctx, after_number, span.end)

    stamps = _read_stamps(ctx, span.header_start, header_end)
    number_lines = set(range(start.line, start.number_line + 1)) if start.found else set()
    used = _stamp_lines(stamps) | number_lines
    letter_date, date_lines, stamps, date_reading = _letter_date(ctx, span, header_end, used, stamps)
    if ctx.confidence and letter_date is not None and date_lines:
        letter_date, date_reading = _check_ocr_year(ctx, span, letter_date, date_lines, date_reading)
    used |= date_lines
    urgency, urgent_by = _header_urgency(ctx, span, header_end, used)
    issuer, address = _issuer(ctx, span.header_start, header_end, used, start)
    if date_lines and min(date_lines) >= header_end:
        # A stamped letter is signed by its agency's name right above its date, at the foot.
        above = [i for i in range(min(date_lines) - 1, header_end, -1) if not ctx.blank(i)][:2]
        for k in range(len(above)):  # the name may wrap: `สำนักงานเขตพื้นที่...อุดรธานี` / `เขต ๑`
            text = " ".join(ctx.lines[i].strip() for i in reversed(above[: k + 1]))
            if _agency_name(ctx.lines[above[k]].strip()) is not None:
                issuer, address = text, None
                break

    subject = salutation = None
    body_start = max(after_number, max({i for i in used if i < header_end} | {start.number_line}) + 1)
    if subject_i is not None:
        subject, body_start = _continued(ctx, subject_i, span.end, used)
    near = list(ctx.nonblank(body_start, span.end))[:4]
    salutation_i = next((j for j in near if SALUTATION_RE.match(ctx.lines[j])), None)
    if salutation_i is not None:
        salutation, body_start = _continued(ctx, salutation_i, span.end, used)
    elif subject_i is not None:  # `ถึง : ...` above `เรื่อง : ...` (an e-Saraban print-out)
        addressed = _first(ctx, SALUTATION_RE, after_number, subject_i)
        if addressed is not None:
            salutation = _continued(ctx, addressed, subject_i, used)[0]
    trusted = None if date_reading is not None and date_reading.status is FieldStatus.PARTIAL else letter_date
    references, enclosures, body_start = _citations(ctx, body_start, span.end, trusted)

    body_end = span.closing if span.closing is not None else span.end
    closing = (
        _closing_block(ctx, span.closing, span.end)
        if span.closing is not None
        else _Closing(end=body_end - 1)
    )
    # Deadlines need the letter's date (a date without a year takes the letter's); a letter for
    # review takes the dates that say their year only.
    # Without เรื่อง (a stamped letter, a short note) nothing parts header from body: read it all
    # but the lines already taken (stamps, the date).
    lo = body_start if subject_i is not None else after_number
    deadlines = _deadlines(ctx, lo, body_end, letter_date, skip=used)
    if urgent_by is not None:
        deadlines = _dedupe([urgent_by, *deadlines])
    end, given_back = span.end, None
    if span.closing is not None:
        foot, end = _foot_stamps(ctx, closing.end + 1, span.end, letter_date, last_in_file=last_in_file)
        stamps += foot
        given_back = end if end < span.end else None

    last = end - 1
    while last > start.line and ctx.blank(last):
        last -= 1
    first = span.header_start
    while first < start.line and ctx.blank(first):
        first += 1
    readings = [r for r in (start.reading, date_reading) if r is not None]
    fields = {
        "number": start.number,
        "date": letter_date,
        "urgency": urgency,
        "issuer": issuer,
        "address": address,
        "subject": subject,
        "salutation": salutation,
        "addressees": _addressees(salutation),
        "references": tuple(references),
        "enclosures": tuple(enclosures),
        "receipts": tuple(_receipts(ctx, stamps)),
        "deadlines": tuple(deadlines),
        "signer": closing.signer,
        "signer_position": closing.position,
        "owner_unit": closing.owner_unit,
        "copies_to": closing.copies,
        "source": ctx.ref(start.line),
        "end_line": last + 1,
        "text": "\n".join(lines[first : last + 1]),
        "readings": tuple(readings),
    }
    reason = _review_reason(start, letter_date, readings)
    if reason is not None:
        if not start.found:
            fields["source"] = ctx.ref(first)
        return UnreadLetter(**fields, reason=reason), given_back
    return Letter(**fields), given_back


def _review_reason(start: _Start, on: date | None, readings: list[FieldReading]) -> str | None:
    """Why a letter cannot go on record as read, or None: a number or date missing or unsure."""
    reasons = []
    if not start.found:
        reasons.append("number: no 'ที่' line with a letter number")
    for reading in readings:
        value = start.number if reading.field == "number" else on
        if value is None:
            reasons.append(f"{reading.field}: {reading.note or 'not read'}")
        elif reading.status is FieldStatus.PARTIAL:
            reasons.append(f"{reading.field}: {reading.note}")
        elif reading.confidence is not None and reading.confidence < _CONFIDENT:
            reasons.append(
                f"{reading.field}: OCR confidence {reading.confidence:.2f}, check it against the scan"
            )
    return "; ".join(reasons) or None


def _fallback(ctx: _Ctx, span: _Span, why: str) -> UnreadLetter:
    """A letter the reader failed on: its number if read, its lines, and why, for review."""
    first = ctx.next_nonblank(span.header_start, span.end)
    last = span.end - 1
    while last > span.header_start and ctx.blank(last):
        last -= 1
    return UnreadLetter(
        number=span.start.number,
        urgency=span.start.urgency,
        source=ctx.ref(span.start.line if span.start.found else first or 0),
        end_line=last + 1,
        text="\n".join(ctx.lines[span.header_start : last + 1]),
        readings=tuple(r for r in (span.start.reading,) if r is not None),
        reason=f"not read: {why}",
    )


def _foot_stamps(
    ctx: _Ctx, lo: int, hi: int, letter_date: date | None, *, last_in_file: bool
) -> tuple[list[_Stamp], int]:
    """Stamps below a letter's closing block, in [lo, hi), and where the letter ends.

    A registry short of room at the top, or a second registry, stamps the foot of the last page.
    Between a cover letter and its enclosure `_spans` gives such stamps to the cover letter, but a
    stamp dated before the cover letter cannot be its receipt: from that stamp on, the lines go
    back to the next letter (the end returned is then where that stamp starts).
    """
    scratch = _Ctx(file=ctx.file, lines=ctx.lines)  # warnings count only for the stamps kept
    stamps = [s for s in _read_stamps(scratch, lo, hi) if _fits_foot(s)]
    end = hi
    if not last_in_file and letter_date is not None:
        early = next((s for s in stamps if s.date is not None and s.date < letter_date), None)
        if early is not None:
            end = min(cell.line for cell in early.cells)
            stamps = [s for s in stamps if max(cell.line for cell in s.cells) < end]
            scratch = _Ctx(file=ctx.file, lines=ctx.lines)
            _read_stamps(scratch, lo, end)
    ctx.warnings += scratch.warnings
    return stamps, end


def _first(ctx: _Ctx, pattern: re.Pattern[str], lo: int, hi: int) -> int | None:
    return next((i for i in range(lo, hi) if pattern.match(ctx.lines[i])), None)


_HEADER_PART_RES = (SUBJECT_RE, SALUTATION_RE, REFERENCE_RE, ENCLOSURE_RE)


def _is_header_part(line: str) -> bool:
    return any(p.match(line) for p in _HEADER_PART_RES)


def _header_end(ctx: _Ctx, lo: int, hi: int) -> int:
    """Where the letterhead, stamps and date stop: the first เรื่อง / เรียน / อ้างถึง / สิ่งที่ส่งมาด้วย."""
    found = next((i for i in range(lo, hi) if _is_header_part(ctx.lines[i])), None)
    return found if found is not None else min(hi, lo + _LOOKAHEAD_LINES)


def _continued(ctx: _Ctx, i: int, hi: int, used: set[int]) -> tuple[str, int]:
    """A header part (เรื่อง, เรียน) with its wrapped lines; returns the text and the next line.

    Lines before the next header part belong to this one when that part is at most two lines
    away; otherwise the body follows and nothing is taken (its first paragraph is not a wrap).
    """
    line = ctx.lines[i]
    match = next(m for m in (p.match(line) for p in _HEADER_PART_RES) if m is not None)
    following = [j for j in ctx.nonblank(i + 1, hi) if j not in used][:3]
    stop = next((k for k, j in enumerate(following) if _is_header_part(ctx.lines[j])), None)
    taken = following[:stop] if stop is not None else []
    if stop is None and following and _short_wrap(ctx.lines[following[0]]):
        taken = following[:1]  # a PDF wrapped the part's last word or two onto a line of their own
    text = " ".join([match.group("text"), *(ctx.lines[j].strip() for j in taken)]).strip()
    return text, (taken[-1] if taken else i) + 1


# Words a body paragraph opens with; a short line that starts so is no wrapped header part.
_BODY_OPENING_RE = re.compile(
    r"^(?:ตาม|ด้วย|อนุสนธิ|เนื่อง|จึง|ใน|ทั้งนี้|อนึ่ง|กรม|จังหวัด|สำนัก|กระทรวง|อำเภอ)|ภายใน|ขอ|โปรด"
)


def _short_wrap(line: str) -> bool:
    """A line short enough to be the tail of a wrapped เรื่อง / เรียน line rather than a paragraph."""
    text = line.strip()
    return (
        0 < len(text) <= 32
        and len(text.split()) <= 3
        and not _BODY_OPENING_RE.search(text)
        and not _is_header_part(text)
        and not CLOSING_RE.match(text)
        and not ITEM_RE.match(text)
    )


# --------------------------------------------------------------------------- header date, urgency, issuer


def _date_shape(text: str) -> re.Match[str] | None:
    return DATE_LINE_RE.match(text.strip())


def _plain_line(ctx: _Ctx, i: int) -> str | None:
    """Line `i` as one piece of text: None when tabs split it into columns side by side (stamps)."""
    cells = _split_columns(ctx.lines[i])
    return cells[0][1] if len(cells) == 1 else None


def _header_date(
    ctx: _Ctx, span: _Span, header_end: int, used: set[int], pattern: re.Pattern[str] = DATE_LINE_RE
) -> tuple[date, set[int]] | None:
    """The letter's date: a line that is a date on its own, or one split over two or three lines
    (day, month, year); None when there is no such line. An indented line is a line like any other,
    a line of several tab-separated columns is not (that is stamps side by side).
    """
    after = range(span.start.number_line + 1, header_end)
    before = range(span.header_start, span.start.line)
    for i in [*after, *before]:
        first = None if i in used else _plain_line(ctx, i)
        if not first:
            continue
        pieces, lines_used = [first], [i]
        match = pattern.match(first)
        while match is None and len(pieces) < 3:
            j = ctx.next_nonblank(lines_used[-1] + 1, header_end)
            piece = None if j is None or j in used else _plain_line(ctx, j)
            if j is None or piece is None:
                break
            pieces.append(piece)
            lines_used.append(j)
            match = pattern.match(" ".join(pieces))
        if match is None:
            continue
        try:
            return date_from_match(match), set(lines_used)
        except ThaiDateError as exc:
            raise _BadDate(i, " ".join(pieces), str(exc)) from None
    return None


def _header_urgency(
    ctx: _Ctx, span: _Span, header_end: int, used: set[int]
) -> tuple[Urgency | None, Deadline | None]:
    urgency = span.start.urgency
    for i in range(span.header_start, header_end):
        if i in used:
            continue
        for _, cell in _split_columns(ctx.lines[i]):
            if urgency is None and (match := URGENCY_RE.match(cell)):
                urgency = _as_urgency(match.group("urgency"))
                used.add(i)
            elif by := URGENT_BY_RE.match(cell):
                used.add(i)
                return urgency or Urgency.URGENT, _urgent_by(ctx, i, by.group("rest"), cell)
    return urgency, None


def _urgent_by(ctx: _Ctx, i: int, rest: str, text: str) -> Deadline | None:
    """`ด่วนภายใน <date> [เวลา <time>]`: an urgent letter with an explicit delivery deadline."""
    try:
        when = parse_thai_date(rest)
        found = TIME_VALUE_RE.findall(rest)
        at = parse_thai_time(found[-1]) if found and not _is_date_piece(rest, found[-1]) else None
    except ThaiDateError as exc:
        ctx.warn(i, "urgency", f"ด่วนภายใน without a readable date: {exc}")
        return None
    return Deadline(date=when, time=at, kind="due", text=text.strip(), source=ctx.ref(i))


def _is_date_piece(text: str, piece: str) -> bool:
    """Whether a time-shaped piece (`02.06`) is really part of a numeric date (`02.06.2563`)."""
    return bool(re.search(re.escape(piece) + rf"\s*[./]\s*{DIGIT}", text))


def _agency_name(text: str) -> str | None:
    """The agency a letterhead line names, if it opens with a known name or an office form."""
    key = re.sub(r"[\s.]", "", text)
    for name in KNOWN_AGENCIES:
        if key.startswith(re.sub(r"[\s.]", "", name)):
            return name
    # An office form names one word: `ศาลากลางจังหวัดแพร่`, not what follows it on the line.
    match = AGENCY_FORM_RE.match(re.sub(r"\.", "", text.strip().split(" ")[0])) if text.strip() else None
    if match is not None:
        return next(g for g in match.groups() if g)
    if re.match(r"^(?:กระทรวง|กรม|สำนักงาน|สำนัก|องค์การ|ศาลากลาง)", key):
        return text.strip()
    return None


def _issuer(ctx: _Ctx, lo: int, hi: int, used: set[int], start: _Start) -> tuple[str | None, str | None]:
    """The issuing agency and its address from the letterhead (or a memo's ส่วนราชการ line); the
    number's code as a fallback."""
    for i in ctx.nonblank(lo, hi):
        memo = MEMO_AGENCY_RE.match(ctx.lines[i])
        if memo is not None and memo.group("text"):
            text = memo.group("text").strip()
            return _agency_name(text) or text, None
    if start.beside:
        agency, *address = start.beside
        address += [
            ctx.lines[i].strip()
            for i in itertools.takewhile(
                lambda i: i not in used and ADDRESS_RE.search(ctx.lines[i]) and not _date_shape(ctx.lines[i]),
                ctx.nonblank(start.number_line + 1, hi),
            )
        ]
        return _agency_name(agency) or agency, " ".join(address) or None
    candidates = [
        i
        for i in ctx.nonblank(lo, hi)
        if i not in used and "\t" not in ctx.lines[i] and not _is_debris_line(ctx, i)
    ]
    for k, i in enumerate(candidates):
        text = ctx.lines[i].strip()
        if ADDRESS_RE.search(text) or URGENCY_RE.match(text):
            continue
        address_lines = []
        for j in candidates[k + 1 :]:
            if not ADDRESS_RE.search(ctx.lines[j]) or _date_shape(ctx.lines[j]):
                break
            address_lines.append(ctx.lines[j].strip())
        if address_lines:
            return _agency_name(text) or text, " ".join(address_lines)
    for i in candidates:
        name = _agency_name(ctx.lines[i].strip())
        if name is not None:
            return name, None
    return (_issuer_from_code(start.number) if start.number else None), None


def _issuer_from_code(number: LetterNumber) -> str | None:
    if (number.code, number.owner_prefix) in CENTRAL_CODES:
        return CENTRAL_CODES[(number.code, number.owner_prefix)]
    if number.code == "กท":  # Bangkok is a city, not จังหวัด
        return "กรุงเทพมหานคร"
    province = PROVINCE_NAMES_BY_CODE.get(number.code)
    return f"จังหวัด{province}" if province else None


# --------------------------------------------------------------------------- receipt stamps


@dataclass(frozen=True)
class _Cell:
    line: int
    text: str


@dataclass
class _Stamp:
    line: int
    cells: list[_Cell] = field(default_factory=list)
    number: str | None = None
    date: date | None = None
    time: time | None = None
    kinds: set[str] = field(default_factory=set)
    agency: str | None = None


def _stamp_label(text: str) -> tuple[str | None, str]:
    """('number' | 'date' | 'time' | 'machine', value) for a stamp label line, else (None, text)."""
    for kind, pattern in (
        ("machine", MACHINE_STAMP_RE),
        ("number", STAMP_NUMBER_RE),
        ("date", STAMP_DATE_RE),
        ("time", STAMP_TIME_RE),
    ):
        match = pattern.match(text)
        if match is not None:
            return kind, match.group("value")
    return None, text


def _stamp_fields(text: str) -> list[tuple[str, str]]:
    """The (kind, value) fields of a stamp cell, several when one line holds the whole stamp.

    >>> _stamp_fields("เลขรับ ๔๔๑ วันที่ ๑๕ พ.ค. ๖๓ เวลา ๑๐.๓๐ น.")
    [('number', '๔๔๑'), ('date', '๑๕ พ.ค. ๖๓'), ('time', '๑๐.๓๐ น.')]
    >>> _stamp_fields("ถนนพิษณุโลก")
    []
    """
    kind, value = _stamp_label(text)
    if kind is None:
        return []
    if kind == "machine":
        return [(kind, value)]
    fields: list[tuple[str, str]] = []
    pos = 0
    for match in INNER_LABEL_RE.finditer(value):
        fields.append((kind, value[pos : match.start()].strip()))
        kind, pos = match.lastgroup or kind, match.end()
    fields.append((kind, value[pos:].strip()))
    return fields


def _split_columns(line: str) -> list[tuple[int, str]]:
    """Tab-separated stamps side by side: (column, text); a leading tab puts text in column 1.

    A bare label followed by a value in the next column (`เลขที่รับ<TAB>๑๕๑๕`) is one cell.
    """
    if "\t" not in line:
        return [(0, line.strip())] if line.strip() else []
    column = 1 if line.startswith("\t") and line.strip() else 0
    parts = [p.strip() for p in re.split(r"\t+", line.strip("\t\r\n "))]
    cells: list[tuple[int, str]] = []
    k = 0
    while k < len(parts):
        text = parts[k]
        nxt = parts[k + 1] if k + 1 < len(parts) else ""
        if BARE_LABEL_RE.fullmatch(text) and nxt and _stamp_label(nxt)[0] is None:
            text, k = f"{text} {nxt}", k + 1
        if text:
            cells.append((column, text))
        column += 1
        k += 1
    return cells


def _stamp_chunks(ctx: _Ctx, lo: int, hi: int) -> list[list[_Cell]]:
    """Each column's runs of consecutive non-blank cells."""
    chunks: list[list[_Cell]] = []
    open_chunks: dict[int, list[_Cell]] = {}
    for i in range(lo, hi):
        cells = _split_columns(ctx.lines[i])
        present = {column for column, _ in cells}
        for column in [c for c in open_chunks if c not in present]:
            chunks.append(open_chunks.pop(column))
        for column, text in cells:
            open_chunks.setdefault(column, []).append(_Cell(i, text))
    chunks.extend(open_chunks.values())
    return sorted(chunks, key=lambda chunk: chunk[0].line)


def _read_stamps(ctx: _Ctx, lo: int, hi: int) -> list[_Stamp]:
    """Receipt stamps in the lines [lo, hi), in file order."""
    stamps: list[_Stamp] = []
    for chunk in _stamp_chunks(ctx, lo, hi):
        stamps += _stamps_in_chunk(ctx, chunk)
    return sorted(stamps, key=lambda s: s.line)


def _stamp_lines(stamps: Sequence[_Stamp]) -> set[int]:
    return {cell.line for stamp in stamps for cell in stamp.cells}


def _receipts(ctx: _Ctx, stamps: Sequence[_Stamp]) -> list[ReceiptStamp]:
    return [
        ReceiptStamp(number=s.number, date=s.date, time=s.time, agency=s.agency, source=ctx.ref(s.line))
        for s in stamps
    ]


def _is_lone_date(stamp: _Stamp) -> bool:
    """A `วันที่ <date>` line and nothing else: a stamp, or the letter's own date written with วันที่."""
    return stamp.kinds == {"date"} and len(stamp.cells) == (2 if stamp.agency else 1)


def _fits_foot(stamp: _Stamp) -> bool:
    """Whether a stamp read below a closing block is a whole stamp, not a form field or an address.

    There a lone `เลขที่ ๑๒` is more likely a house number and a lone `วันที่` a reply form's, so
    a stamp must be a machine stamp with a date, or a receipt number with a date or time field.
    """
    if "machine" in stamp.kinds:
        return stamp.date is not None
    return stamp.number is not None and bool(stamp.kinds & {"date", "time"})


def _is_stamp_agency(text: str) -> bool:
    return not DIGITS_RE.search(text) and not ADDRESS_RE.search(text) and not URGENCY_RE.match(text)


def _stamps_in_chunk(ctx: _Ctx, chunk: list[_Cell]) -> list[_Stamp]:
    stamps: list[_Stamp] = []
    pending: list[_Cell] = []  # non-label cells since the last stamp: the next stamp's agency lines
    current: _Stamp | None = None
    k = 0
    while k < len(chunk):
        cell = chunk[k]
        fields = _stamp_fields(cell.text)
        if not fields:
            current = None
            pending.append(cell)
            k += 1
            continue
        if fields[0][0] == "machine":
            stamps.append(_machine_stamp(ctx, cell, fields[0][1]))
            current, pending = None, []
            k += 1
            continue
        for n, (kind, field_value) in enumerate(fields):
            value = field_value
            if current is None or kind in current.kinds:
                current = _Stamp(line=cell.line)
                agency = _agency_cells(pending)
                if agency:
                    current.agency = " ".join(c.text for c in agency)
                    current.cells += agency
                stamps.append(current)
                pending = []
            current.kinds.add(kind)
            if cell not in current.cells:
                current.cells.append(cell)
            last = n == len(fields) - 1
            if (
                last
                and not value.strip(".… ")
                and k + 1 < len(chunk)
                and _is_stamp_value(kind, chunk[k + 1].text)
            ):
                k += 1
                value = chunk[k].text
                current.cells.append(chunk[k])
            _set_stamp_field(ctx, current, kind, value, cell.line)
        k += 1
    return [s for s in stamps if s.number is not None or s.date is not None]


def _agency_cells(pending: list[_Cell]) -> list[_Cell]:
    """The cells right above a stamp's first label that name its agency (no digits, no address)."""
    taken: list[_Cell] = []
    for cell in reversed(pending):
        if not _is_stamp_agency(cell.text):
            break
        taken.insert(0, cell)
    return taken


def _is_stamp_value(kind: str, text: str) -> bool:
    if _stamp_label(text)[0] is not None:
        return False
    if kind == "number":
        return BARE_NUMBER_RE.fullmatch(text) is not None
    if kind == "date":
        return _date_shape(text) is not None
    return TIME_VALUE_RE.search(text) is not None and not DATE_MENTION_RE.search(text)


def _set_stamp_field(ctx: _Ctx, stamp: _Stamp, kind: str, value: str, i: int) -> None:
    if kind == "number":
        digits = DIGITS_RE.search(value)
        stamp.number = to_arabic_digits(digits.group(0)) if digits else None
        return
    try:
        if kind == "time":
            stamp.time = parse_thai_time(value)
            return
        match = DATE_RE.search(value) if value.strip(".… ") else None
        if match is None:
            if value.strip(".… "):
                raise ThaiDateError(f"no date in {value.strip()!r}")
            stamp.date = None
            return
        stamp.date = date_from_match(match)
        # `วันที่ ๒๙ มิ.ย. ๖๓ ๑๔.๐๐ น.`: the time printed after the date without its own label
        after = TIME_VALUE_RE.search(value, match.end())
        if after is not None and stamp.time is None and "time" not in stamp.kinds:
            stamp.time = parse_thai_time(after.group(0))
    except ThaiDateError as exc:
        ctx.warn(i, f"receipt {kind}", str(exc))


def _machine_stamp(ctx: _Ctx, cell: _Cell, value: str) -> _Stamp:
    """`RECEIVED 02/06/2020 11:06`: a date-time stamp without a receipt number."""
    stamp = _Stamp(line=cell.line, cells=[cell], kinds={"machine"})
    try:
        stamp.date = parse_thai_date(value)
        found = [t for t in TIME_VALUE_RE.findall(value) if not _is_date_piece(value, t)]
        stamp.time = parse_thai_time(found[0]) if found else None
    except ThaiDateError as exc:
        ctx.warn(cell.line, "receipt date", str(exc))
    return stamp


# --------------------------------------------------------------------------- references and enclosures


def _citations(
    ctx: _Ctx, lo: int, hi: int, letter_date: date | None = None
) -> tuple[list[Citation], list[Citation], int]:
    """อ้างถึง and สิ่งที่ส่งมาด้วย sections starting at `lo`; returns them and where the body starts."""
    references: list[Citation] = []
    enclosures: list[Citation] = []
    i = ctx.next_nonblank(lo, hi)
    while i is not None:
        line = ctx.lines[i]
        section = REFERENCE_RE.match(line) or ENCLOSURE_RE.match(line)
        if section is None:
            return references, enclosures, i
        target = references if REFERENCE_RE.match(line) else enclosures
        items, nxt = _section_items(ctx, i, section.group("text"), hi)
        target += [_citation(ctx, first, parts, letter_date) for first, parts in items]
        i = ctx.next_nonblank(nxt, hi)
    return references, enclosures, hi


def _section_items(ctx: _Ctx, i: int, first_text: str, hi: int) -> tuple[list[tuple[int, list[str]]], int]:
    """Numbered (or single) items of a section: each is (first line, its lines)."""
    items: list[tuple[int, list[str]]] = []
    last_number: int | None = None

    def start_item(line_i: int, text: str) -> None:
        nonlocal last_number
        marker = ITEM_RE.match(text)
        if marker is not None:
            last_number = int(to_arabic_digits(marker.group("n")))
            text = marker.group("text")
        items.append((line_i, [text]))

    if first_text:
        start_item(i, first_text)
    nxt = i + 1
    for j in ctx.nonblank(i + 1, hi):
        if _is_debris_line(ctx, j):
            continue
        line = ctx.lines[j].strip()
        if _is_header_part(line) or CLOSING_RE.match(line):
            break
        marker = ITEM_RE.match(line)
        number = int(to_arabic_digits(marker.group("n"))) if marker else None
        if not items or (marker and last_number is not None and number == last_number + 1):
            start_item(j, line)
        elif items and _continues_item(line, " ".join(items[-1][1])):
            items[-1][1].append(line)
        else:
            break
        nxt = j + 1
    return items, nxt


def _continues_item(line: str, item_text: str) -> bool:
    if CONTINUATION_RE.match(line):
        return True
    dated = DATED_RE.search(item_text)
    if dated and not DATE_RE.search(item_text, dated.end()) and re.match(rf"\s*(?:{DIGIT}|{_MONTHS})", line):
        return True  # `ลงวันที่ ๑๐` / `กรกฎาคม ๒๕๖๖`: the cited date wrapped
    if CUT_NUMBER_END_RE.search(item_text) and re.match(rf"\s*{DIGIT}", line):
        return True  # `ที่ กษ ๑๐๐๘/ว` / `๓๓๑`: the cited number wrapped
    incomplete = not NUMBER_RE.search(item_text) or not DATED_RE.search(item_text)
    has_part = bool(NUMBER_RE.search(line) or DATED_RE.search(line) or NUMBER_TAIL_RE.match(line))
    return incomplete and has_part and len(line) < 150


def _citation(ctx: _Ctx, i: int, parts: list[str], letter_date: date | None = None) -> Citation:
    text = " ".join(p.strip() for p in parts if p.strip())
    number, number_at = _cited_number(text)
    when = _cited_date(ctx, i, text, letter_date)
    issuer = None
    if number_at is not None:
        opening = re.search(r"หนังสือ", text[:number_at])
        if opening is not None:
            name = re.sub(rf"(?:{_URGENCY_WORDS})", " ", text[opening.end() : number_at])
            # `หนังสือที่ นร ...`, `หนังสือกรม...ที่ มท ...`: the word ที่ glued on is not the issuer's name
            name = re.sub(r"ที่\s*$", "", name.strip())
            issuer = " ".join(name.split()) or None
    return Citation(number=number, date=when, text=text, issuer=issuer, source=ctx.ref(i))


def _cited_number(text: str) -> tuple[LetterNumber | None, int | None]:
    """The number after a standalone `ที่` (else the first number), and where that ที่ starts."""
    for word in CITED_NUMBER_RE.finditer(text):
        match = NUMBER_RE.match(text, word.end())
        if match is not None:
            return parse_letter_number(match.group(0)), word.start()
    found = find_letter_numbers(text)
    if found:
        number, match = found[0]
        return number, match.start()
    return None, None


def _cited_date(ctx: _Ctx, i: int, text: str, letter_date: date | None = None) -> date | None:
    anchor = DATED_RE.search(text)
    match = DATE_MENTION_RE.search(text, anchor.end() if anchor else 0)
    if (match is None or match.group("year") is None) and ctx.confidence and letter_date is not None:
        return _ocr_long_year(ctx, i, text[anchor.end() if anchor else 0 :], letter_date)
    if match is None or match.group("year") is None:
        return None
    try:
        cited = _mention_dates(match, None)[0]
    except ThaiDateError as exc:
        ctx.warn(i, "citation date", str(exc))
        return None
    if ctx.confidence and letter_date is not None:  # OCR: a cited letter is at most a few years older
        cited = _ocr_year_in(ctx, i, "citation date", cited, letter_date.year - 3, letter_date.year)
    return cited


# A date whose year the OCR gave a digit too many: `๘ มีนาคม ๒๕๐๒๓`.
_LONG_YEAR_DATE_RE = re.compile(
    rf"(?P<day>{_DAY})\s*(?P<month>{_MONTHS})\s*(?P<year>{DIGIT}{{5}})(?!{DIGIT})"
)


def _ocr_long_year(ctx: _Ctx, i: int, text: str, letter_date: date) -> date | None:
    """A cited date with a five-digit year: the four-digit year (one digit dropped, then confusable
    digits) that lands within three years before the letter's own; None when none does."""
    match = _LONG_YEAR_DATE_RE.search(text)
    if match is None:
        return None
    lo, hi = letter_date.year - 3, letter_date.year
    raw = to_arabic_digits(match.group("year"))
    for k in range(len(raw)):
        year = int(raw[:k] + raw[k + 1 :]) - 543
        year = year if lo <= year <= hi else (_near_year(year, lo, hi, prefer=hi) or 0)
        if year:
            with contextlib.suppress(ValueError):
                fixed = date(
                    year, month_number(match.group("month")), int(to_arabic_digits(match.group("day")))
                )
                ctx.warn(i, "citation date", f"year {match.group('year')} (OCR) read as {year + 543}")
                return fixed
    return None


def _ocr_year_in(ctx: _Ctx, i: int, what: str, on: date, lo: int, hi: int) -> date:
    """`on` with its year repaired into [lo, hi] by confusable digits, noted; as read otherwise."""
    if lo <= on.year <= hi:
        return on
    year = _near_year(on.year, lo, hi, prefer=hi if what == "citation date" else lo)
    if year is None:
        return on
    try:
        fixed = on.replace(year=year)
    except ValueError:
        return on
    ctx.warn(i, what, f"year {on.year + 543} (OCR) read as {year + 543}, near the letter's own")
    return fixed


# --------------------------------------------------------------------------- deadlines


def _is_debris_line(ctx: _Ctx, i: int) -> bool:
    """A page-break leftover: a lone page number, or a line cut with `...` repeated in full next."""
    line = ctx.lines[i]
    if PAGE_NUMBER_RE.match(line):
        return True
    if ELLIPSIS_RE.search(line):
        head = ELLIPSIS_RE.sub("", line).strip()
        for j in itertools.islice(ctx.nonblank(i + 1, len(ctx.lines)), 3):
            if (
                len(head) >= 8
                and ctx.lines[j].strip().startswith(head)
                and len(ctx.lines[j].strip()) > len(head)
            ):
                return True
    return False


def _ce_year(raw: str) -> int:
    """A printed year (4-digit BE, or 2-digit BE) as CE, by the strict rules of models.thai."""
    return parse_thai_date(f"1 {MONTHS_FULL[0]} {raw}").year


def _mention_dates(match: re.Match[str], letter_date: date | None) -> list[date]:
    """The dates a DATE_MENTION_RE match names; a missing year comes from the letter's date."""
    month = month_number(match.group("month"))
    days = [int(to_arabic_digits(d)) for d in DAY_SPLIT_RE.split(match.group("days").strip()) if d]
    raw_year = match.group("year")
    if raw_year is not None:
        year = _ce_year(raw_year)
    elif letter_date is not None:
        year = letter_date.year
        if date(year, month, 1) < letter_date.replace(day=1) - timedelta(days=180):
            year += 1  # a month well before the letter's own, without a year, is next year's
    else:
        raise ThaiDateError(f"no year in {match.group(0)!r}")
    try:
        return [date(year, month, day) for day in days]
    except ValueError as exc:
        raise ThaiDateError(f"no such date: {match.group(0)!r} ({exc})") from None


def _deadlines(
    ctx: _Ctx, lo: int, hi: int, letter_date: date | None, *, skip: set[int] | frozenset[int] = frozenset()
) -> list[Deadline]:
    """Due dates (ภายใน...) and meetings (ประชุม...) in the body lines [lo, hi).

    Without the letter's date (a letter for review) only dates that print their year are read.
    """
    lines = ["" if i in skip or _is_debris_line(ctx, i) else ctx.lines[i] for i in range(lo, hi)]
    body = "\n".join(lines)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)

    def line_of(pos: int) -> int:
        return lo + bisect.bisect_right(starts, pos) - 1

    found: list[Deadline] = []
    if letter_date is not None:
        for match in MONTH_DUE_RE.finditer(body):
            found += _month_deadline(ctx, match, line_of(match.start()), letter_date)
        for match in RELATIVE_DUE_RE.finditer(body):
            found += _relative_deadline(ctx, body, match, line_of(match.start()), letter_date)
    for match in DATE_MENTION_RE.finditer(body):
        kind = _deadline_kind(body, match)
        if kind is None or (letter_date is None and match.group("year") is None):
            continue
        i = line_of(match.start())
        try:
            dates = _mention_dates(match, letter_date)
        except ThaiDateError as exc:
            ctx.warn(i, "deadline", str(exc))
            continue
        if ctx.confidence and letter_date is not None:  # OCR: a due date falls this year or next
            dates = [
                _ocr_year_in(ctx, i, "deadline", d, letter_date.year, letter_date.year + 1) for d in dates
            ]
        at = _time_after(ctx, body, match.end(), i)
        text = ctx.lines[i].strip()
        found += [
            Deadline(date=d, time=at, kind=kind, text=text, source=ctx.ref(i))
            for d in dates
            if letter_date is None or d >= letter_date
        ]
    found.sort(key=lambda d: d.source.line if d.source else 0)
    return _dedupe(found)


def _month_deadline(ctx: _Ctx, match: re.Match[str], i: int, letter_date: date) -> list[Deadline]:
    """`ภายในเดือนมิถุนายน ๒๕๖๓`: due on the last day of that month."""
    month = month_number(match.group("month"))
    year = letter_date.year
    if match.group("year"):
        try:
            year = _ce_year(match.group("year"))
        except ThaiDateError as exc:
            ctx.warn(i, "deadline", str(exc))
            return []
    last = date(year, month, calendar.monthrange(year, month)[1])
    if last < letter_date:
        return []
    return [Deadline(date=last, kind="due", text=ctx.lines[i].strip(), source=ctx.ref(i))]


def _relative_deadline(
    ctx: _Ctx, body: str, match: re.Match[str], i: int, letter_date: date
) -> list[Deadline]:
    """`ภายใน ๑๕ วัน นับแต่วันที่ลงในหนังสือนี้`: due that many days after the letter's date;
    `ภายใน ๑๕ วัน นับแต่วันที่ ๑ มิถุนายน ๒๕๖๓`: that many days after the day stated.

    A period counted from receipt (นับแต่วันที่ได้รับหนังสือ) falls due on a different day for each
    addressee; one in working days (วันทำการ) needs the working-day calendar; one with no day to
    count from has no date at all. None of these is a date of the letter: each is left out with a
    warning that names the line, rather than dropped silently or given a made-up date."""
    phrase = " ".join(match.group(0).split())
    anchor = match.group("anchor")
    start: date | None = None  # the day the period counts from
    why = None
    if not match.group("counted"):
        why = "states no day to count from"
    elif anchor == "ได้รับ":
        why = "counts from each addressee's receipt"
    elif anchor is not None:
        start = letter_date
    else:
        start = _counted_from(body, match.end(), letter_date)
        if start is None:
            why = "counts from a day not read as a date"
    if why is None and match.group("working"):
        why = "counts working days"
    if why is not None or start is None:
        ctx.warn(i, "deadline", f"{phrase!r} {why}: not a date of the letter, not tracked")
        return []
    due = start + timedelta(days=int(to_arabic_digits(match.group("n"))))
    if due < letter_date:
        ctx.warn(
            i, "deadline", f"{phrase!r} fell due on {due.isoformat()}, before the letter's date: not tracked"
        )
        return []
    return [Deadline(date=due, kind="due", text=ctx.lines[i].strip(), source=ctx.ref(i))]


def _counted_from(body: str, pos: int, letter_date: date) -> date | None:
    """The one date stated at `pos` (after `นับแต่`), or None."""
    at = COUNTED_FROM_RE.match(body, pos)
    mention = DATE_MENTION_RE.match(body, at.end() if at else pos)
    if mention is None:
        return None
    try:
        dates = _mention_dates(mention, letter_date)
    except ThaiDateError:
        return None
    return dates[0] if len(dates) == 1 else None


def _deadline_kind(body: str, match: re.Match[str]) -> str | None:
    """'due', 'meeting' or None (a citation date, a past event, or a date with no stated purpose)."""
    before = body[max(0, match.start() - 200) : match.start()]
    if CITATION_DATE_BEFORE_RE.search(before) or PAST_BEFORE_RE.search(before):
        return None
    if DUE_BEFORE_RE.search(before):
        return "due"
    paragraph = SENTENCE_BREAK_RE.split(before)[-1]
    after = body[match.end() : match.end() + 120].split("\n", 1)[0]
    if MEETING_RE.search(paragraph) or MEETING_RE.search(after):
        return "meeting"
    return None


def _time_after(ctx: _Ctx, body: str, pos: int, i: int) -> time | None:
    match = TIME_AFTER_RE.match(body, pos)
    if match is None:
        return None
    try:
        return parse_thai_time(match.group("time"))
    except ThaiDateError as exc:
        ctx.warn(i, "deadline time", str(exc))
        return None


def _dedupe(deadlines: Sequence[Deadline | None]) -> list[Deadline]:
    """One deadline per (date, kind), the first seen, taking a time from a later one if it lacks one."""
    kept: dict[tuple[date, str], Deadline] = {}
    for d in deadlines:
        if d is None:
            continue
        key = (d.date, d.kind)
        if key not in kept:
            kept[key] = d
        elif kept[key].time is None and d.time is not None:
            kept[key] = kept[key].model_copy(update={"time": d.time})
    return list(kept.values())


# --------------------------------------------------------------------------- closing block


def _block_stop(ctx: _Ctx, i: int) -> bool:
    """A line that cannot belong to a closing block: the next letter's stamps, urgency, number."""
    line = ctx.lines[i]
    nxt = ctx.next_nonblank(i + 1, i + 2)
    return bool(
        "\t" in line
        or _stamp_label(line.strip())[0] is not None
        or URGENCY_RE.match(line)
        or (NUMBER_LINE_RE.match(line) is not None and _number_start(ctx, i) is not None)
        or (nxt is not None and _stamp_label(ctx.lines[nxt].strip())[0] == "number")
    )


def _closing_block(ctx: _Ctx, closing: int, hi: int) -> _Closing:
    """Signer, position (with the acting-for line), owning unit, copies; and the block's last line."""
    signer_i = next(
        (j for j in itertools.islice(ctx.nonblank(closing + 1, hi), 4) if SIGNER_RE.match(ctx.lines[j])),
        None,
    )
    if signer_i is None:
        return _Closing(end=closing)
    signer_match = SIGNER_RE.match(ctx.lines[signer_i])
    signer = signer_match.group("name") if signer_match else None
    end = signer_i
    position = None
    j = ctx.next_nonblank(signer_i + 1, hi)
    if j is not None and not _block_stop(ctx, j) and not CONTACT_RE.search(ctx.lines[j]):
        position, end = ctx.lines[j].strip(), j
        k = ctx.next_nonblank(j + 1, hi)
        if ACTING_RE.search(position) and k is not None and not _block_stop(ctx, k):
            position, end = f"{position} {ctx.lines[k].strip()}", k
    owner_unit = None
    copies: list[str] = []
    since_owner = 0  # non-contact lines after the owning unit, kept only if a contact line follows
    j = end + 1
    while j < hi and since_owner < 4:
        if ctx.blank(j):
            j += 1
            continue
        line = ctx.lines[j].strip()
        if _block_stop(ctx, j):
            break
        if copies_match := COPIES_RE.match(line):
            found, last = _copies(ctx, j, copies_match.group("text"), hi)
            copies += found
            end = j = last
        elif CONTACT_RE.search(line):
            end, since_owner = j, 0
        elif owner_unit is None:
            owner_unit, end = line, j
        else:
            since_owner += 1
        j += 1
    return _Closing(end=end, signer=signer, position=position, owner_unit=owner_unit, copies=tuple(copies))


def _copies(ctx: _Ctx, i: int, first: str, hi: int) -> tuple[list[str], int]:
    """สำเนาส่ง and the recipients listed on it and on the lines right below."""
    texts = [first] if first else []
    last = i
    for j in range(i + 1, hi):
        line = ctx.lines[j].strip()
        if not line or CONTACT_RE.search(line) or _block_stop(ctx, j):
            break
        texts.append(line)
        last = j
    cleaned = [ITEM_RE.sub(lambda m: m.group("text"), t).strip(" -•") for t in texts]
    return [t for t in cleaned if t], last


# --------------------------------------------------------------------------- addressees


def _addressees(salutation: str | None) -> tuple[str, ...]:
    """Split `เรียน` into positions: on `และ` and on spaces before a word a position starts with.

    >>> _addressees("นายอำเภอทุกอำเภอ นายกองค์การบริหารส่วนจังหวัดแพร่ และนายกเทศมนตรีเมืองแพร่")
    ('นายอำเภอทุกอำเภอ', 'นายกองค์การบริหารส่วนจังหวัดแพร่', 'นายกเทศมนตรีเมืองแพร่')
    >>> _addressees("เลขาธิการ ก.พ.ร.")
    ('เลขาธิการ ก.พ.ร.',)
    """
    if not salutation:
        return ()
    result: list[str] = []
    for part in re.split(r"\s+และ\s*|\s*,\s*", salutation):
        for k, token in enumerate(part.split()):
            if k > 0 and not POSITION_START_RE.match(token):
                result[-1] = f"{result[-1]} {token}"
            else:
                result.append(token)
    return tuple(r for r in result if r)
