"""Hand-made letters with the facts of the seed chain (numbers, dates, stamps), not its text.

Used to test storage without the parser: three "files" shaped like the seeds, including their OCR
slips (๕/๘ in a cited number, ว read as ๖, a machine stamp without a receipt number).
"""

from __future__ import annotations

from models.letters import Citation, Deadline, Letter, ReceiptStamp, SourceRef


def _src(file: str, line: int) -> SourceRef:
    return SourceRef(file=file, line=line)


def file_interior() -> list[Letter]:
    """A ministry circular enclosing a central office's letter, both in one file."""
    f = "interior.txt"
    cover = Letter(
        number="มท ๐๒๑๘/ว ๓๑๘๒",
        date="๑ มิถุนายน ๒๕๖๓",
        urgency="ด่วนที่สุด",
        issuer="กระทรวงมหาดไทย",
        subject="ประชุมชี้แจงแผน (ตัวอย่าง)",
        salutation="ผู้ว่าราชการจังหวัดทุกจังหวัด",
        enclosures=(
            Citation(number="นร ๑๒๒๐/๘๕", date="๒๗ พฤษภาคม ๒๕๖๓", text="หนังสือตัวอย่าง", source=_src(f, 9)),
        ),
        receipts=(
            ReceiptStamp(
                number="1515", date="๒ มิ.ย. ๒๕๖๓", time="๑๓.๓๐", agency="จังหวัดระยอง", source=_src(f, 2)
            ),
        ),
        deadlines=(Deadline(date="2020-06-10", kind="meeting"), Deadline(date="2020-06-12", kind="meeting")),
        source=_src(f, 1),
    )
    enclosed = Letter(
        number="นร ๑๒๒๐/๕๕",
        date="๒๗/ พฤษภาคม ๒๕๖๓",
        issuer="สำนักงาน ก.พ.ร.",
        subject="ขอเชิญประชุม (ตัวอย่าง)",
        salutation="ปลัดกระทรวงมหาดไทย",
        references=(
            Citation(number="นร ๑๒๐๐/ ๖๐๐๑๒", date="๕ พฤษภาคม ๒๕๖๓", text="อ้างถึง ๑", source=_src(f, 40)),
            Citation(number="นร ๑๒๐๐/ ๖๐๐๑๓", date="๕ พฤษภาคม ๒๕๖๓", text="อ้างถึง ๒", source=_src(f, 41)),
        ),
        receipts=(
            ReceiptStamp(number="782", date="29 พ.ค. 2563", agency="กลุ่มงานพัฒนาระบบบริหาร", source=_src(f, 30)),
            ReceiptStamp(
                number="92093", date="29 พ.ค. 2563", agency="สำนักงานปลัดกระทรวงมหาดไทย", source=_src(f, 31)
            ),
            ReceiptStamp(number=None, date="02/06/2020", time="11:06", source=_src(f, 28)),
        ),
        deadlines=(Deadline(date="2020-06-03"), Deadline(date="2020-06-08", time="09:30", kind="meeting")),
        source=_src(f, 33),
    )
    return [cover, enclosed]


def file_province() -> list[Letter]:
    """A province forwarding two department circulars to its districts."""
    f = "province.txt"
    return [
        Letter(
            number="พร ๐๐๒๓.๑/ว ๓๐๒๖",
            date="๒๓ มิถุนายน ๒๕๖๓",
            urgency="ด่วนที่สุด",
            issuer="จังหวัดแพร่",
            salutation="นายอำเภอทุกอำเภอ นายกองค์การบริหารส่วนจังหวัดแพร่ และนายกเทศมนตรีเมืองแพร่",
            enclosures=(
                Citation(number="มท ๐๘๑๒/ว ๑๒๑๗", date="๒๐ เมษายน ๒๕๖๓", text="สำเนา ๑", source=_src(f, 12)),
                Citation(number="มท ๐๘๑๒/ว ๑๔๓๔", date="๑๔ พฤษภาคม ๒๕๖๓", text="สำเนา ๒", source=_src(f, 16)),
            ),
            deadlines=(Deadline(date="2020-06-30"),),
            source=_src(f, 3),
        )
    ]


def file_central() -> list[Letter]:
    """A central office's follow-up circular, one province's copy."""
    f = "central.txt"
    return [
        Letter(
            number="นร ๑๒๐๐/ว๐๐๑๘",
            date="๑๘ มิถุนายน ๒๕๖๓",
            urgency="ด่วนที่สุด",
            issuer="สำนักงาน ก.พ.ร.",
            salutation="ผู้ว่าราชการจังหวัดนนทบุรี",
            references=(
                Citation(number="นร ๑๒๐๐/ว๐๐๑๓", date="๕ พฤษภาคม ๒๕๖๓", text="อ้างถึง ๑", source=_src(f, 20)),
                Citation(number="มท ๐๘๑๒/ว๑๔๓๔", date="๑๔ พฤษภาคม ๒๕๖๓", text="อ้างถึง ๒", source=_src(f, 22)),
            ),
            receipts=(
                ReceiptStamp(
                    number="011099", date="๒๒ มิ.ย. ๒๕๖๓", agency="ศาลากลางจังหวัดนนทบุรี", source=_src(f, 7)
                ),
            ),
            deadlines=(Deadline(date="2020-06-30"),),
            source=_src(f, 3),
        )
    ]


def file_next_year() -> list[Letter]:
    """The central office's ว 0018 again, a year later: running numbers restart every calendar
    year, so this is another letter with the number of `file_central`'s, its own citation and stamp."""
    f = "next_year.txt"
    return [
        Letter(
            number="นร ๑๒๐๐/ว๐๐๑๘",
            date="๒ มีนาคม ๒๕๖๔",
            issuer="สำนักงาน ก.พ.ร.",
            salutation="ผู้ว่าราชการจังหวัดนนทบุรี",
            references=(
                Citation(number="นร ๑๒๐๐/ว๐๐๐๒", date="๑๕ มกราคม ๒๕๖๔", text="อ้างถึง", source=_src(f, 18)),
            ),
            receipts=(
                ReceiptStamp(
                    number="000321",
                    date="๕ มี.ค. ๒๕๖๔",
                    time="๑๐.๓๐",
                    agency="ศาลากลางจังหวัดนนทบุรี",
                    source=_src(f, 6),
                ),
            ),
            source=_src(f, 3),
        )
    ]


SAMPLE_FILES = {"interior.txt": file_interior, "province.txt": file_province, "central.txt": file_central}


TWO_LETTERS = (
    # A cover letter (lines 1-7), then the letter it encloses (lines 8-14), whose body on line 13
    # sets a period counted from receipt.
    "ที่ มท ๐๒๑๘/ว ๓๑๘๒\nกระทรวงมหาดไทย\n๑ มิถุนายน ๒๕๖๓\nเรื่อง ทดสอบ\nเรียน ผู้ว่าราชการจังหวัด\n"
    "ขอส่งสำเนาหนังสือมาเพื่อทราบ\nขอแสดงความนับถือ\n"
    "ที่ นร ๑๒๒๐/๕๕\nสำนักงาน ก.พ.ร.\n๒๗ พฤษภาคม ๒๕๖๓\nเรื่อง ทดสอบ\nเรียน ปลัดกระทรวงมหาดไทย\n"
    "ขอให้แจ้งผลภายใน ๗ วัน นับแต่วันที่ได้รับหนังสือนี้\nขอแสดงความนับถือ\n"
)
