"""The national directory: geothai geography, stand-in and CSV local bodies, hierarchy queries."""

from __future__ import annotations

from pathlib import Path

import geothai
import pytest

import routing.directory as directory_module
from models.letters import Level
from routing.directory import (
    OFFICIAL_LOCAL_BODY_COUNT,
    LocalBodiesCSVError,
    UnknownAgencyError,
    build_directory,
    load_directory,
    load_local_bodies_csv,
)


@pytest.fixture(scope="module")
def directory():  # type: ignore[no-untyped-def]
    return load_directory()


def test_counts_match_geothai(directory) -> None:  # type: ignore[no-untyped-def]
    provinces = geothai.provinces()
    districts = [d for p in provinces for d in geothai.districts(p.code)]
    subdistricts = [s for d in districts for s in geothai.subdistricts(d.code)]
    outside_bkk = [s for s in subdistricts if s.province_code != "10"]
    assert len(directory.provinces()) == len(provinces) == 77
    counts = directory.counts()
    assert counts["district"] == len(districts)
    bangkok_districts = len(directory.districts_of("province:10"))
    assert bangkok_districts == 50
    assert counts["district"] - bangkok_districts == 878
    # Stand-in: one PAO per province outside Bangkok, one body per sub-district, Bangkok, Pattaya.
    assert directory.stand_in
    assert counts["local"] == (len(provinces) - 1) + len(outside_bkk) + 2


def test_docstring_states_gap_to_official_count(directory) -> None:  # type: ignore[no-untyped-def]
    gap = OFFICIAL_LOCAL_BODY_COUNT - directory.counts()["local"]
    doc = directory_module.__doc__ or ""
    assert f"{gap} fewer" in doc
    assert f"{directory.counts()['local']:,}" in doc


def test_parents(directory) -> None:  # type: ignore[no-untyped-def]
    assert directory.parent("district:5401") == "province:54"
    assert directory.parent("local:sd:540101") == "district:5401"
    assert directory.parent("local:pao:54") == "province:54"
    assert directory.parent("local:bkk") == "province:10"
    assert directory.parent("local:pattaya") == "district:2004"
    assert geothai.district("2004").name_th == "บางละมุง"
    assert all(directory.parent(p.id) == "moi" for p in directory.provinces())
    assert directory.parent("dla") == "moi"
    assert directory.parent("moi") == directory.parent("opdc") == "cabinet"
    assert directory.parent("cabinet") is None


def test_children_and_local_bodies(directory) -> None:  # type: ignore[no-untyped-def]
    phrae_districts = directory.districts_of("province:54")
    assert [d.id for d in phrae_districts] == [f"district:{d.code}" for d in geothai.districts("54")]
    bodies = directory.local_bodies_of("district:5401")
    assert [b.id for b in bodies] == [f"local:sd:{s.code}" for s in geothai.subdistricts("5401")]
    assert all(b.level is Level.LOCAL for b in bodies)
    assert "local:pao:54" in directory.children("province:54")
    assert directory.local_bodies_of("district:1001") == ()  # Bangkok's เขต have no local bodies
    assert directory.province_of("local:sd:540101") == "province:54"
    assert directory.province_of("dla") is None


def test_find(directory) -> None:  # type: ignore[no-untyped-def]
    assert [a.id for a in directory.find("จังหวัดแพร่")] == ["province:54"]
    assert [a.id for a in directory.find("แพร่")] == ["province:54"]
    assert [a.id for a in directory.find("อำเภอ เมืองแพร่")] == ["district:5401"]
    assert {a.id for a in directory.find("กรุงเทพมหานคร")} == {"province:10", "local:bkk"}
    assert directory.find("ไม่มีหน่วยงานนี้") == ()


def test_unknown_id(directory) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnknownAgencyError, match="province:99"):
        directory.children("province:99")


def test_default_is_cached() -> None:
    fresh = build_directory()
    assert len(fresh) > 8000
    assert fresh is not build_directory()
    assert load_directory() is load_directory()


GOOD_CSV = """code,name_th,kind,district_code,province_code
6540101,เทศบาลเมืองแพร่,town,5401,54
6540102,องค์การบริหารส่วนตำบลป่าแมต,sao,5401,54
6540000,องค์การบริหารส่วนจังหวัดแพร่,pao,,54
,กรุงเทพมหานคร,bkk,,10
"""


def test_load_csv(tmp_path: Path) -> None:
    path = tmp_path / "bodies.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    d = load_directory(path)
    assert not d.stand_in
    assert [a.id for a in d.local_bodies_of("district:5401")] == ["local:town:6540101", "local:sao:6540102"]
    assert d.parent("local:pao:6540000") == "province:54"
    assert d.parent("local:bkk") == "province:10"
    assert d.counts()["local"] == 4


@pytest.mark.parametrize(
    ("row", "field"),
    [
        ("1,เทศบาลเมืองแพร่,village,5401,54", "kind"),
        ("1,,town,5401,54", "name_th"),
        (",เทศบาลเมืองแพร่,town,5401,54", "code"),
        ("1,เทศบาลเมืองแพร่,town,9999,54", "district_code"),
        ("1,เทศบาลเมืองแพร่,town,2101,54", "district_code"),
        ("1,เทศบาลเมืองแพร่,town,,54", "district_code"),
        ("1,เทศบาลเมืองแพร่,town,5401,99", "province_code"),
        ("6540101,ซ้ำ,town,5401,54", "code"),
    ],
)
def test_bad_csv_rows_name_line_and_field(tmp_path: Path, row: str, field: str) -> None:
    path = tmp_path / "bodies.csv"
    path.write_text(GOOD_CSV + row + "\n", encoding="utf-8")
    with pytest.raises(LocalBodiesCSVError) as info:
        load_local_bodies_csv(path)
    assert info.value.line == 6
    assert info.value.field == field
    assert f"{path}:6" in str(info.value)


def test_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "bodies.csv"
    path.write_text("code,name_th,kind,province_code\n1,x,town,54\n", encoding="utf-8")
    with pytest.raises(LocalBodiesCSVError, match="district_code"):
        load_local_bodies_csv(path)
