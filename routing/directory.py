"""The national directory of agencies (ทำเนียบหน่วยงาน) a circular can travel through.

The directory holds the central agencies of `routing.agencies` (Cabinet, OPDC, Interior, DLA,
DOPA), every province and district from the `geothai` package (DOPA codes; data CC-BY-4.0,
geothai 3.2.1), and the local bodies (องค์กรปกครองส่วนท้องถิ่น, อปท.).

geothai 3.2.1 carries 77 provinces (76 + Bangkok), 928 districts (878 อำเภอ + Bangkok's 50 เขต)
and 7,436 sub-districts (7,256 ตำบล + Bangkok's 180 แขวง).

No package lists the local bodies themselves. When a user has the official list, load it with
`load_local_bodies_csv`. Otherwise the directory is a clearly labelled **stand-in**
(`Directory.stand_in is True`): one provincial administrative organisation (อบจ.) per province
outside Bangkok (76), one local body per sub-district outside Bangkok (7,256), Bangkok
(กรุงเทพมหานคร) and Pattaya (เมืองพัทยา): 7,334 bodies, 518 fewer than the official 7,852
(DLA, 5 Jun 2020). The shape is right for routing and load (one body per ตำบล is close to the
real 2,242 เทศบาลตำบล + 5,312 อบต. = 7,554), but the names and the exact set are not real.

Parents: a district's is its province; a local body's is its district (the อบจ.'s and Bangkok's
are the province); provinces' and DLA's parent is Interior (`moi`); Interior's and OPDC's is the
Cabinet. Bangkok's เขต are districts of province:10 with no local bodies of their own.

Examples:
    >>> d = load_directory()
    >>> d.parent("district:5401"), d.parent("province:54"), d.parent("moi")
    ('province:54', 'moi', 'cabinet')
    >>> [a.id for a in d.local_bodies_of("district:5401")][:2]
    ['local:sd:540101', 'local:sd:540102']
    >>> d["local:pao:54"].name_th
    'องค์การบริหารส่วนจังหวัดแพร่'
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import geothai

from models.letters import Agency, Level
from routing.agencies import CENTRAL_AGENCIES, district_id, local_id, province_agency, province_id

BANGKOK_CODE = "10"
# Pattaya (เมืองพัทยา) lies in Bang Lamung district (อำเภอบางละมุง), Chon Buri.
PATTAYA_DISTRICT_CODE = "2004"
OFFICIAL_LOCAL_BODY_COUNT = 7852  # DLA, 5 Jun 2020

#: Kinds of local body a CSV may name, with their Thai title (used in error messages and docs).
LOCAL_BODY_KINDS: dict[str, str] = {
    "pao": "องค์การบริหารส่วนจังหวัด (อบจ.)",
    "city": "เทศบาลนคร",
    "town": "เทศบาลเมือง",
    "tambon": "เทศบาลตำบล",
    "sao": "องค์การบริหารส่วนตำบล (อบต.)",
    "bkk": "กรุงเทพมหานคร",
    "pattaya": "เมืองพัทยา",
    "sd": "stand-in body of one sub-district",
}
CSV_COLUMNS = ("code", "name_th", "kind", "district_code", "province_code")


class DirectoryError(ValueError):
    """A directory lookup or load failed."""


class UnknownAgencyError(DirectoryError, KeyError):
    """No agency in the directory has this id."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class LocalBodiesCSVError(DirectoryError):
    """A row of a local-bodies CSV is wrong; names the file, line and field."""

    def __init__(self, path: Path, line: int, field: str, message: str) -> None:
        self.path, self.line, self.field = path, line, field
        super().__init__(f"{path}:{line}: field {field!r}: {message}")


@dataclass(frozen=True, slots=True)
class LocalBody:
    """One row of a local-bodies list: `kind` is a key of `LOCAL_BODY_KINDS`."""

    code: str
    name_th: str
    kind: str
    district_code: str | None
    province_code: str


_PREFIX_RE = re.compile(r"^(?:จังหวัด|อำเภอ)")


def _name_key(name: str) -> str:
    return "".join(name.split())


class Directory(Mapping[str, Agency]):
    """Agencies by id, with the hierarchy a circular walks down. Read-only after construction.

    A `Mapping[str, Agency]`: `directory["province:54"]`, `"dla" in directory`, `len(directory)`.

    >>> d = load_directory()
    >>> d.stand_in, len(d.provinces()), len(d.districts_of("province:54"))
    (True, 77, 8)
    >>> [a.id for a in d.find("จังหวัดแพร่")]
    ['province:54']
    """

    __slots__ = ("_agencies", "_children", "_names", "_province_of", "stand_in")

    def __init__(self, agencies: Mapping[str, Agency], *, stand_in: bool) -> None:
        self._agencies: dict[str, Agency] = dict(agencies)
        self.stand_in = stand_in
        children: dict[str, list[str]] = {}
        names: dict[str, list[str]] = {}
        for agency in self._agencies.values():
            if agency.parent is not None:
                if agency.parent not in self._agencies:
                    raise DirectoryError(f"agency {agency.id!r} names unknown parent {agency.parent!r}")
                children.setdefault(agency.parent, []).append(agency.id)
            key = _name_key(agency.name_th)
            names.setdefault(key, []).append(agency.id)
            short = _PREFIX_RE.sub("", key)
            if short != key:
                names.setdefault(short, []).append(agency.id)
        self._children = {k: tuple(v) for k, v in children.items()}
        self._names = {k: tuple(v) for k, v in names.items()}
        province_of: dict[str, str] = {}
        for p in self.provinces():
            stack = [p.id]
            while stack:
                current = stack.pop()
                province_of[current] = p.id
                stack.extend(self._children.get(current, ()))
        self._province_of = province_of

    def __getitem__(self, agency_id: str) -> Agency:
        try:
            return self._agencies[agency_id]
        except KeyError:
            raise UnknownAgencyError(f"no agency with id {agency_id!r} in the directory") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._agencies)

    def __len__(self) -> int:
        return len(self._agencies)

    def __contains__(self, agency_id: object) -> bool:
        return agency_id in self._agencies

    def __repr__(self) -> str:
        return f"<Directory {len(self)} agencies{' (stand-in local bodies)' if self.stand_in else ''}>"

    def children(self, agency_id: str) -> tuple[str, ...]:
        """Ids of the agencies whose parent is `agency_id`, in directory order."""
        self[agency_id]
        return self._children.get(agency_id, ())

    def parent(self, agency_id: str) -> str | None:
        """Id of the superior agency, None for the Cabinet."""
        return self[agency_id].parent

    def province_of(self, agency_id: str) -> str | None:
        """Id of the province an agency lies in (itself for a province), None for central agencies."""
        self[agency_id]
        return self._province_of.get(agency_id)

    def provinces(self) -> tuple[Agency, ...]:
        """The 77 provinces (Bangkok included), by DOPA code."""
        return tuple(self._agencies[i] for i in self._children.get("moi", ()) if i.startswith("province:"))

    def districts_of(self, province: str) -> tuple[Agency, ...]:
        """Districts (อำเภอ, or Bangkok's เขต) of a province id."""
        return tuple(
            a for a in map(self._agencies.__getitem__, self.children(province)) if a.level is Level.DISTRICT
        )

    def local_bodies_of(self, agency_id: str) -> tuple[Agency, ...]:
        """Local bodies whose parent is `agency_id`: a district's, or a province's อบจ. (and Bangkok)."""
        return tuple(
            a for a in map(self._agencies.__getitem__, self.children(agency_id)) if a.level is Level.LOCAL
        )

    def find(self, name_th: str) -> tuple[Agency, ...]:
        """Agencies whose Thai name is `name_th` (spaces ignored; จังหวัด/อำเภอ prefix optional).

        >>> [a.id for a in load_directory().find("อำเภอเมืองแพร่")]
        ['district:5401']
        """
        key = _name_key(name_th)
        ids = self._names.get(key) or self._names.get(_PREFIX_RE.sub("", key), ())
        return tuple(self._agencies[i] for i in ids)

    def counts(self) -> dict[str, int]:
        """How many agencies of each level the directory holds."""
        out: dict[str, int] = {}
        for agency in self._agencies.values():
            out[agency.level.value] = out.get(agency.level.value, 0) + 1
        return out


def _district_agency(code: str, name_th: str, name_en: str, province_code: str) -> Agency:
    # Bangkok's เขต already carry their title in geothai ("เขตพระนคร"); อำเภอ do not.
    bangkok = province_code == BANGKOK_CODE
    return Agency(
        id=district_id(code),
        name_th=name_th if bangkok else f"อำเภอ{name_th}",
        name_en=name_en if bangkok else f"{name_en} District",
        level=Level.DISTRICT,
        parent=province_id(province_code),
    )


def _geography() -> dict[str, Agency]:
    agencies: dict[str, Agency] = {a.id: a for a in CENTRAL_AGENCIES}
    for p in geothai.provinces():
        agencies[province_id(p.code)] = province_agency(p.code)
    for p in geothai.provinces():
        for d in geothai.districts(p.code):
            agencies[district_id(d.code)] = _district_agency(d.code, d.name_th, d.name_en, p.code)
    return agencies


def _special_bodies() -> list[Agency]:
    return [
        Agency(
            id=local_id("bkk", ""),
            name_th="กรุงเทพมหานคร",
            name_en="Bangkok Metropolitan Administration",
            level=Level.LOCAL,
            parent=province_id(BANGKOK_CODE),
        ),
        Agency(
            id=local_id("pattaya", ""),
            name_th="เมืองพัทยา",
            name_en="Pattaya City",
            level=Level.LOCAL,
            parent=district_id(PATTAYA_DISTRICT_CODE),
        ),
    ]


def _stand_in_local_bodies() -> list[Agency]:
    bodies: list[Agency] = []
    for p in geothai.provinces():
        if p.code == BANGKOK_CODE:
            continue
        bodies.append(
            Agency(
                id=local_id("pao", p.code),
                name_th=f"องค์การบริหารส่วนจังหวัด{p.name_th}",
                name_en=f"{p.name_en} Provincial Administrative Organisation",
                level=Level.LOCAL,
                parent=province_id(p.code),
            )
        )
        for d in geothai.districts(p.code):
            for s in geothai.subdistricts(d.code):
                bodies.append(
                    Agency(
                        id=local_id("sd", s.code),
                        # Labelled as a stand-in: the real body may be a เทศบาล or an อบต.
                        name_th=f"ท้องถิ่นตำบล{s.name_th} (สมมติ)",
                        name_en=f"{s.name_en} sub-district local body (stand-in)",
                        level=Level.LOCAL,
                        parent=district_id(d.code),
                    )
                )
    bodies.extend(_special_bodies())
    return bodies


def load_local_bodies_csv(path: Path) -> list[LocalBody]:
    """Read the official local-bodies list from a UTF-8 CSV with a header row.

    Columns (`CSV_COLUMNS`):

    - `code`: the body's own code (DLA's 7-digit code, or any stable code), unique per kind;
      empty only for the kinds `bkk` and `pattaya`;
    - `name_th`: its Thai name, e.g. `เทศบาลเมืองแพร่`;
    - `kind`: one of `LOCAL_BODY_KINDS` (`pao`, `city`, `town`, `tambon`, `sao`, `bkk`, `pattaya`);
    - `district_code`: 4-digit DOPA district code; empty for `pao` and `bkk` (their parent is the
      province);
    - `province_code`: 2-digit DOPA province code, which must contain the district.

    Raises `LocalBodiesCSVError` naming the line and field of the first bad row.
    """
    bodies: list[LocalBody] = []
    seen: set[str] = set()
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise DirectoryError(f"{path}: cannot read local-bodies CSV: {exc.strerror}") from None
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise LocalBodiesCSVError(
                path, 1, missing[0], f"missing column; expected {', '.join(CSV_COLUMNS)}"
            )
        for row in reader:
            line = reader.line_num
            values = {c: (row.get(c) or "").strip() for c in CSV_COLUMNS}
            bodies.append(_check_row(path, line, values, seen))
    return bodies


def _check_row(path: Path, line: int, v: dict[str, str], seen: set[str]) -> LocalBody:
    kind = v["kind"]
    if kind not in LOCAL_BODY_KINDS or kind == "sd":
        allowed = ", ".join(k for k in LOCAL_BODY_KINDS if k != "sd")
        raise LocalBodiesCSVError(path, line, "kind", f"unknown kind {kind!r}; use one of {allowed}")
    if not v["name_th"]:
        raise LocalBodiesCSVError(path, line, "name_th", "empty name")
    code = v["code"]
    if not code and kind not in ("bkk", "pattaya"):
        raise LocalBodiesCSVError(path, line, "code", "empty code")
    if code and not re.fullmatch(r"[0-9A-Za-z_.-]+", code):
        raise LocalBodiesCSVError(
            path, line, "code", f"code {code!r} must be ASCII letters, digits, '_', '.', '-'"
        )
    province = v["province_code"]
    if geothai.province(province) is None:
        raise LocalBodiesCSVError(path, line, "province_code", f"no province with DOPA code {province!r}")
    district = v["district_code"] or None
    if district is None:
        if kind not in ("pao", "bkk"):
            raise LocalBodiesCSVError(
                path, line, "district_code", f"a body of kind {kind!r} needs its district"
            )
    else:
        found = geothai.district(district)
        if found is None:
            raise LocalBodiesCSVError(path, line, "district_code", f"no district with DOPA code {district!r}")
        if found.province_code != province:
            raise LocalBodiesCSVError(
                path, line, "district_code", f"district {district} is not in province {province}"
            )
    ident = local_id(kind, code)
    if ident in seen:
        raise LocalBodiesCSVError(path, line, "code", f"duplicate body {ident!r}")
    seen.add(ident)
    return LocalBody(
        code=code, name_th=v["name_th"], kind=kind, district_code=district, province_code=province
    )


def _body_agency(body: LocalBody) -> Agency:
    parent = district_id(body.district_code) if body.district_code else province_id(body.province_code)
    return Agency(id=local_id(body.kind, body.code), name_th=body.name_th, level=Level.LOCAL, parent=parent)


def build_directory(local_bodies: list[LocalBody] | None = None) -> Directory:
    """A fresh directory: geothai geography plus `local_bodies`, or the stand-in set when None."""
    agencies = _geography()
    bodies = _stand_in_local_bodies() if local_bodies is None else [_body_agency(b) for b in local_bodies]
    for body in bodies:
        agencies[body.id] = body
    return Directory(agencies, stand_in=local_bodies is None)


@cache
def _default_directory() -> Directory:
    return build_directory(None)


def load_directory(local_bodies_csv: Path | None = None) -> Directory:
    """The national directory; the stand-in one (cached, built once per process) without a CSV.

    >>> load_directory() is load_directory()
    True
    """
    if local_bodies_csv is None:
        return _default_directory()
    return build_directory(load_local_bodies_csv(local_bodies_csv))
