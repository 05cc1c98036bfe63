"""Recognising agencies (หน่วยงาน) from letter numbers, letterheads and salutations.

Letter numbers carry the issuer: two Thai letters for a ministry or a province, then the owner
number whose first two digits name the department (มท 08xx is the Department of Local
Administration, นร 12xx is OPDC). Salutations name recipients by position
(ผู้ว่าราชการจังหวัดทุกจังหวัด = every provincial governor). Unknown agencies are created with a
stable id, never dropped.

Examples:
    >>> from models.numbering import parse_letter_number
    >>> recognise_number(parse_letter_number("มท ๐๘๑๒/ว ๑๔๓๔")).id
    'dla'
    >>> recognise_number(parse_letter_number("พร ๐๐๒๓.๑/ว ๓๐๒๖")).name_th
    'จังหวัดแพร่'
    >>> [a.group for a in recognise_addressees("ผู้ว่าราชการจังหวัดทุกจังหวัด")]
    [<Level.PROVINCE: 'province'>]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import geothai

from models.agency_codes import MINISTRY_CODES, PROVINCE_NAMES_BY_CODE
from models.letters import Agency, Level
from models.numbering import LetterNumber

CABINET = Agency(id="cabinet", name_th="คณะรัฐมนตรี", name_en="Cabinet", level=Level.CABINET)
OPDC = Agency(
    id="opdc",
    name_th="สำนักงาน ก.พ.ร.",
    name_en="Office of the Public Sector Development Commission (OPDC)",
    level=Level.CENTRAL,
    parent="cabinet",
    codes=("นร 12",),
)
MOI = Agency(
    id="moi",
    name_th="กระทรวงมหาดไทย",
    name_en="Ministry of Interior (Office of the Permanent Secretary)",
    level=Level.MINISTRY,
    parent="cabinet",
    codes=("มท 02",),
)
DLA = Agency(
    id="dla",
    name_th="กรมส่งเสริมการปกครองท้องถิ่น",
    name_en="Department of Local Administration (DLA)",
    level=Level.DEPARTMENT,
    parent="moi",
    codes=("มท 08",),
)
DOPA = Agency(
    id="dopa",
    name_th="กรมการปกครอง",
    name_en="Department of Provincial Administration (DOPA)",
    level=Level.DEPARTMENT,
    parent="moi",
    codes=("มท 03",),
)
CENTRAL_AGENCIES: tuple[Agency, ...] = (CABINET, OPDC, MOI, DLA, DOPA)

# Other names and positions that stand for the central agencies. A letter addressed to a
# position (ปลัดกระทรวงมหาดไทย) goes to the agency that position heads.
_CENTRAL_ALIASES: dict[str, str] = {
    "คณะรัฐมนตรี": "cabinet",
    "สำนักงาน ก.พ.ร.": "opdc",
    "สำนักงานก.พ.ร.": "opdc",
    "สำนักงานคณะกรรมการพัฒนาระบบราชการ": "opdc",
    "เลขาธิการ ก.พ.ร.": "opdc",
    "สำนักงานปลัดกระทรวงมหาดไทย": "moi",
    "ปลัดกระทรวงมหาดไทย": "moi",
    "รัฐมนตรีว่าการกระทรวงมหาดไทย": "moi",
    "กระทรวงมหาดไทย": "moi",
    "กรมส่งเสริมการปกครองท้องถิ่น": "dla",
    "อธิบดีกรมส่งเสริมการปกครองท้องถิ่น": "dla",
    "กรมการปกครอง": "dopa",
    "อธิบดีกรมการปกครอง": "dopa",
}


def province_id(dopa_code: str) -> str:
    """Directory id of a province by its two-digit DOPA code: `province:54`."""
    return f"province:{dopa_code}"


def district_id(dopa_code: str) -> str:
    """Directory id of a district by its four-digit DOPA code: `district:5401`."""
    return f"district:{dopa_code}"


def local_id(kind: str, code: str) -> str:
    """Directory id of a local body: `local:pao:54`, `local:sd:540101`, `local:name:<Thai name>`."""
    return f"local:{kind}:{code}" if code else f"local:{kind}"


@cache
def _provinces_by_name() -> dict[str, tuple[str, str]]:
    return {p.name_th: (p.code, p.name_en) for p in geothai.provinces()}


@cache
def _province_codes() -> dict[str, str]:
    by_name = _provinces_by_name()
    return {letters: by_name[name][0] for letters, name in PROVINCE_NAMES_BY_CODE.items()}


def province_codes() -> dict[str, str]:
    """Province letter code to DOPA code: `{"พร": "54", "กท": "10", ...}` (77 entries)."""
    return dict(_province_codes())


def province_agency(dopa_code: str) -> Agency:
    """The provincial office (ศาลากลางจังหวัด) of a province, by DOPA code."""
    names = {code: (name, en) for name, (code, en) in _provinces_by_name().items()}
    name, name_en = names[dopa_code]
    letters = tuple(k for k, v in _province_codes().items() if v == dopa_code)
    if dopa_code == "10":
        # Bangkok is a special local government, not a province with a governor; it still
        # receives circulars addressed to every province.
        return Agency(
            id=province_id(dopa_code),
            name_th=name,
            name_en=name_en,
            level=Level.PROVINCE,
            parent="moi",
            codes=letters,
        )
    return Agency(
        id=province_id(dopa_code),
        name_th=f"จังหวัด{name}",
        name_en=f"{name_en} Province",
        level=Level.PROVINCE,
        parent="moi",
        codes=letters,
    )


def _unknown(name_th: str, *, level: Level = Level.UNKNOWN, code: str = "") -> Agency:
    key = re.sub(r"\s+", " ", name_th).strip()
    return Agency(id=f"agency:{key}", name_th=key, level=level, codes=(code,) if code else ())


def recognise_number(number: LetterNumber) -> Agency:
    """The agency that issued a letter, from its number's code and owner prefix."""
    prefix = f"{number.code} {number.owner_prefix}"
    for agency in CENTRAL_AGENCIES:
        if prefix in agency.codes:
            return agency
    dopa = _province_codes().get(number.code)
    if dopa is not None:
        return province_agency(dopa)
    if number.code in MINISTRY_CODES:
        return _unknown(MINISTRY_CODES[number.code], level=Level.MINISTRY, code=number.code)
    return _unknown(f"หน่วยงาน {number.code}", code=number.code)


_CENTRAL_BY_ID = {a.id: a for a in CENTRAL_AGENCIES}
_PROVINCE_NAME_RE = re.compile(r"(?:ศาลากลาง)?(?:ผู้ว่าราชการ)?จังหวัด\s*(?P<name>[ก-๙]+)")


def recognise_name(text: str) -> Agency | None:
    """The agency a name, letterhead or position names, or None when nothing is recognised.

    >>> recognise_name("ศาลากลางจังหวัดนนทบุรี").id
    'province:12'
    >>> recognise_name("ปลัดกระทรวงมหาดไทย").id
    'moi'
    """
    clean = re.sub(r"\s+", " ", text).strip()
    compact = clean.replace(" ", "")
    # Longest alias first: สำนักงานปลัดกระทรวงมหาดไทย before กระทรวงมหาดไทย.
    for alias in sorted(_CENTRAL_ALIASES, key=len, reverse=True):
        if compact.startswith(alias.replace(" ", "")):
            return _CENTRAL_BY_ID[_CENTRAL_ALIASES[alias]]
    if clean.startswith("กรุงเทพมหานคร"):
        return province_agency("10")
    match = _PROVINCE_NAME_RE.match(compact)
    if match:
        name = match.group("name")
        by_name = _provinces_by_name()
        # Province names can be followed by other words (จังหวัดแพร่ ถนน...): take the longest known prefix.
        for candidate in sorted(by_name, key=len, reverse=True):
            if name.startswith(candidate):
                return province_agency(by_name[candidate][0])
    return None


@dataclass(frozen=True)
class Addressee:
    """One recipient named in a salutation: a concrete agency, or a group (every province...)."""

    text: str
    agency: Agency | None = None
    group: Level | None = None
    within: str | None = None  # for groups: the agency id whose subordinates are meant


_GROUPS: tuple[tuple[re.Pattern[str], Level], ...] = (
    (re.compile(r"ผู้ว่าราชการจังหวัดทุกจังหวัด|ทุกจังหวัด"), Level.PROVINCE),
    (re.compile(r"นายอำเภอทุกอำเภอ|ทุกอำเภอ"), Level.DISTRICT),
    (re.compile(r"องค์กรปกครองส่วนท้องถิ่นทุกแห่ง|ทุกองค์กรปกครองส่วนท้องถิ่น"), Level.LOCAL),
)
_SPLIT_RE = re.compile(r"\s+และ\s*|\s*,\s*|\s+(?=(?:นาย|ผู้ว่า|ปลัด|อธิบดี|เลขาธิการ|ประธาน)[ก-๙])")
_PAO_RE = re.compile(r"(?:นายก)?องค์การบริหารส่วนจังหวัด(?P<name>[ก-๙]+)")
_MUNICIPALITY_RE = re.compile(r"(?:นายก)?เทศ(?:มนตรี|บาล)(?P<kind>นคร|เมือง|ตำบล)?(?P<name>[ก-๙]+)")


def recognise_addressees(salutation: str, *, sender: Agency | None = None) -> list[Addressee]:
    """The recipients a salutation (เรียน ...) names, groups resolved relative to the sender.

    >>> from routing.agencies import province_agency
    >>> got = recognise_addressees("นายอำเภอทุกอำเภอ และนายกเทศมนตรีเมืองแพร่", sender=province_agency("54"))
    >>> [(a.group, a.within, a.agency.name_th if a.agency else None) for a in got]
    [(<Level.DISTRICT: 'district'>, 'province:54', None), (None, None, 'เทศบาลเมืองแพร่')]
    """
    parts = [p.strip() for p in _SPLIT_RE.split(salutation.strip()) if p and p.strip()]
    found: list[Addressee] = []
    for part in parts:
        found.append(_addressee(part, sender))
    return found


def _addressee(part: str, sender: Agency | None) -> Addressee:
    for pattern, level in _GROUPS:
        if pattern.search(part):
            within = None
            if level in (Level.DISTRICT, Level.LOCAL) and sender is not None:
                within = sender.id
            return Addressee(text=part, group=level, within=within)
    compact = part.replace(" ", "")
    pao = _PAO_RE.search(compact)
    if pao:
        province = recognise_name(f"จังหวัด{pao.group('name')}")
        if province is not None:
            dopa = province.id.split(":", 1)[1]
            return Addressee(
                text=part,
                agency=Agency(
                    id=local_id("pao", dopa),
                    name_th=f"องค์การบริหารส่วนจังหวัด{pao.group('name')}",
                    level=Level.LOCAL,
                    parent=province.id,
                ),
            )
    municipality = _MUNICIPALITY_RE.search(compact)
    if municipality:
        name = f"เทศบาล{municipality.group('kind') or ''}{municipality.group('name')}"
        parent = sender.id if sender is not None and sender.level is Level.PROVINCE else None
        return Addressee(
            text=part,
            agency=Agency(id=local_id("name", name), name_th=name, level=Level.LOCAL, parent=parent),
        )
    agency = recognise_name(part)
    if agency is not None:
        return Addressee(text=part, agency=agency)
    return Addressee(text=part, agency=_unknown(part))
