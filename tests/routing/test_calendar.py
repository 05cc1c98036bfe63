"""Working-day calendar: Thai holidays (2020 specials), extra closures, integer arithmetic."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from routing.calendar import CalendarError, WorkingCalendar, load_calendar, load_closures

CAL = load_calendar()


def test_2020_special_days() -> None:
    assert not CAL.is_working_day(date(2020, 6, 3))
    assert "สุทิดา" in (CAL.closure(date(2020, 6, 3)) or "")
    # Songkran 2020 was postponed (COVID-19): offices open in April, closed on in-lieu days.
    assert all(CAL.is_working_day(date(2020, 4, d)) for d in (13, 14, 15))
    for moved in (date(2020, 7, 27), date(2020, 9, 4), date(2020, 9, 7)):
        assert "สงกรานต์" in (CAL.closure(moved) or "")
    assert not CAL.is_working_day(date(2020, 5, 11))  # Royal Ploughing Ceremony: government offices
    assert CAL.closure(date(2020, 6, 6)) == "weekend"
    assert CAL.closure(date(2020, 6, 4)) is None


def test_arithmetic_examples() -> None:
    assert CAL.add_working_days(date(2020, 6, 2), 1) == date(2020, 6, 4)
    assert CAL.add_working_days(date(2020, 6, 6), 0) == date(2020, 6, 8)  # Saturday -> Monday
    assert CAL.working_days_between(date(2020, 6, 5), date(2020, 6, 8)) == 1
    assert CAL.working_days_between(date(2020, 6, 8), date(2020, 6, 5)) == -1
    assert CAL.index_on_or_before(date(2020, 6, 7)) == CAL.index(date(2020, 6, 5))


def _naive_add(d: date, n: int) -> date:
    step = timedelta(days=1 if n >= 0 else -1)
    while not CAL.is_working_day(d):
        d += timedelta(days=1)
    left = abs(n)
    while left:
        d += step
        if CAL.is_working_day(d):
            left -= 1
    return d


days = st.dates(min_value=date(2019, 1, 1), max_value=date(2029, 12, 31))


@settings(max_examples=150, deadline=None)
@given(days, st.integers(min_value=-60, max_value=60))
def test_add_matches_day_by_day_count(d: date, n: int) -> None:
    assert CAL.add_working_days(d, n) == _naive_add(d, n)


@settings(max_examples=150, deadline=None)
@given(days, days)
def test_between_is_signed_and_consistent(a: date, b: date) -> None:
    k = CAL.working_days_between(a, b)
    assert k == -CAL.working_days_between(b, a)
    if CAL.is_working_day(a):
        assert CAL.add_working_days(a, k) == (b if CAL.is_working_day(b) else CAL.add_working_days(b, 0))


def test_extra_closures_from_file(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text("closures:\n  - date: 2020-06-04\n    reason: flood\n", encoding="utf-8")
    cal = load_calendar(path, years=[2020])
    assert not cal.is_working_day(date(2020, 6, 4))
    assert cal.closure(date(2020, 6, 4)) == "flood"
    assert cal.add_working_days(date(2020, 6, 2), 1) == date(2020, 6, 5)
    assert CAL.is_working_day(date(2020, 6, 4))  # the shared default is untouched


def test_builtin_closures_file_loads() -> None:
    assert isinstance(load_closures(), list)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("closures:\n  - date: not-a-date\n    reason: x\n", "closures[0].date"),
        ("closures:\n  - date: 2020-06-04\n", "closures[0].reason"),
        ("closed: []\n", "unknown key"),
    ],
)
def test_bad_closure_file_names_key(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CalendarError, match=key.replace("[", r"\[").replace("]", r"\]")):
        load_closures(path)


def test_out_of_range() -> None:
    cal = WorkingCalendar([2020], public_holidays=False)
    with pytest.raises(CalendarError, match="outside"):
        cal.index(date(2022, 1, 3))
    # The last day of the range still has a next working day.
    assert cal.add_working_days(date(2020, 12, 31), 1) > date(2020, 12, 31)
