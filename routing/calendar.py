"""Government working days (วันทำการ): weekends, Thai public holidays and extra closures.

Holidays come from the `holidays` package (Thailand, categories `public` and `government`, so
the Royal Ploughing Ceremony day, a government-office holiday, counts). It knows the special days
of 2020: 3 June 2020 (Queen Suthida's birthday) is a holiday, and Songkran 2020 (13-15 April) was
postponed because of COVID-19: the package has no Songkran in April 2020 but three
"ชดเชยวันสงกรานต์" days instead (27 July, 4 and 7 September 2020), plus the special bridge
holidays of 19-20 November and 11 December 2020. Extra closures the package does not know come
from `routing/data/calendar.yaml` (or a file of the user's).

Arithmetic is integer: every date of the covered years maps to a working-day index (the number of
working days before it), so "n working days after d" is one list lookup each way and propagation
can work on plain ints (`index`, `day`).

Examples:
    >>> cal = load_calendar()
    >>> from datetime import date
    >>> cal.is_working_day(date(2020, 6, 3))
    False
    >>> cal.add_working_days(date(2020, 6, 2), 1)
    datetime.date(2020, 6, 4)
    >>> cal.working_days_between(date(2020, 6, 10), date(2020, 6, 23))
    9
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import holidays
import yaml

DEFAULT_YEARS = range(2018, 2031)
_CALENDAR_RESOURCE = "data/calendar.yaml"


class CalendarError(ValueError):
    """A calendar file is wrong, or a date falls outside the calendar's years."""


@dataclass(frozen=True, slots=True)
class Closure:
    """A day government offices are closed, with the reason (a holiday's Thai name, or config)."""

    day: date
    reason: str


class WorkingCalendar:
    """Working days over a range of years, with O(1) working-day arithmetic.

    `index(d)` is the number of working days between the first covered day and `d` (exclusive);
    for a working day it is that day's position, for a closed day it equals the next working
    day's. `day(i)` is the inverse on working days.
    """

    __slots__ = ("_base", "_closed", "_days", "_index", "first", "last")

    def __init__(
        self, years: Iterable[int], closures: Iterable[Closure] = (), *, public_holidays: bool = True
    ) -> None:
        year_list = sorted(set(years))
        if not year_list:
            raise CalendarError("a calendar needs at least one year")
        self.first = date(year_list[0], 1, 1)
        self.last = date(year_list[-1], 12, 31)
        closed: dict[date, str] = {}
        if public_holidays:
            th = holidays.country_holidays(
                "TH",
                years=range(year_list[0], year_list[-1] + 1),
                categories=("public", "government"),
                language="th",
            )
            closed.update(th.items())
        for c in closures:
            closed[c.day] = f"{closed[c.day]}; {c.reason}" if c.day in closed else c.reason
        self._closed = closed
        self._base = self.first.toordinal()
        index: list[int] = []
        days: list[date] = []
        d = self.first
        one = timedelta(days=1)
        # One spare working day after the range so that a closed last day still has a "next" one.
        while d <= self.last or len(days) == 0 or days[-1] <= self.last:
            index.append(len(days))
            if d.weekday() < 5 and d not in closed:
                days.append(d)
            d += one
        self._index = index
        self._days = days

    def __repr__(self) -> str:
        return f"<WorkingCalendar {self.first.year}-{self.last.year}, {len(self._closed)} closures>"

    def _offset(self, d: date) -> int:
        k = d.toordinal() - self._base
        if k < 0 or k >= len(self._index):
            raise CalendarError(
                f"{d.isoformat()} is outside the calendar ({self.first.year}-{self.last.year})"
            )
        return k

    def index(self, d: date) -> int:
        """Working-day index of `d` (of the next working day when `d` is closed)."""
        return self._index[self._offset(d)]

    def index_on_or_before(self, d: date) -> int:
        """Index of the last working day on or before `d`: a deadline on a Sunday means the Friday."""
        i = self.index(d)
        return i if self._days[i] == d else i - 1

    def day(self, i: int) -> date:
        """The working day with index `i`."""
        if i < 0 or i >= len(self._days):
            raise CalendarError(
                f"working-day index {i} is outside the calendar ({self.first.year}-{self.last.year})"
            )
        return self._days[i]

    def is_working_day(self, d: date) -> bool:
        """True unless `d` is a weekend, a public holiday or an extra closure."""
        i = self.index(d)
        return i < len(self._days) and self._days[i] == d

    def closure(self, d: date) -> str | None:
        """Why `d` is closed (weekend or the holiday's name), None on a working day."""
        if d in self._closed:
            return self._closed[d]
        return "weekend" if d.weekday() >= 5 else None

    def closures(self) -> Mapping[date, str]:
        """Holidays and extra closures (weekends not listed)."""
        return dict(self._closed)

    def add_working_days(self, d: date, n: int) -> date:
        """The date `n` working days after `d` (before it when negative).

        From a closed day, counting starts at the next working day: Saturday + 0 is Monday.

        >>> load_calendar().add_working_days(date(2020, 6, 29), -10)
        datetime.date(2020, 6, 15)
        """
        return self.day(self.index(d) + n)

    def working_days_between(self, a: date, b: date) -> int:
        """Working days from `a` to `b` (negative when `b` is earlier): Friday to Monday is 1."""
        return self.index(b) - self.index(a)


def _parse_closures(data: Any, source: str) -> list[Closure]:
    if data is None:
        return []
    if not isinstance(data, dict):
        raise CalendarError(f"{source}: expected a mapping with a 'closures' list")
    unknown = set(data) - {"closures"}
    if unknown:
        raise CalendarError(f"{source}: unknown key {sorted(unknown)[0]!r}")
    items = data.get("closures") or []
    if not isinstance(items, list):
        raise CalendarError(f"{source}: 'closures' must be a list")
    out: list[Closure] = []
    for i, item in enumerate(items):
        where = f"{source}: closures[{i}]"
        if not isinstance(item, dict):
            raise CalendarError(f"{where}: expected a mapping with 'date' and 'reason'")
        day = item.get("date")
        if not isinstance(day, date):
            raise CalendarError(f"{where}.date: expected an ISO date (YYYY-MM-DD), got {day!r}")
        reason = item.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise CalendarError(f"{where}.reason: a reason is required")
        out.append(Closure(day, reason.strip()))
    return out


def load_closures(path: Path | None = None) -> list[Closure]:
    """Extra closures from a YAML file (`closures: [{date: 2020-..., reason: ...}]`), default built in."""
    if path is None:
        text = files("routing").joinpath(_CALENDAR_RESOURCE).read_text(encoding="utf-8")
        source = f"routing/{_CALENDAR_RESOURCE}"
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CalendarError(f"{path}: cannot read calendar file: {exc.strerror}") from None
        source = str(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CalendarError(f"{source}: not valid YAML: {exc}") from None
    return _parse_closures(data, source)


@cache
def _default_calendar() -> WorkingCalendar:
    return WorkingCalendar(DEFAULT_YEARS, load_closures())


def load_calendar(path: Path | None = None, *, years: Iterable[int] | None = None) -> WorkingCalendar:
    """The working calendar for `years` (default 2018-2030) with closures from `path`.

    Without arguments the calendar is built once per process and shared.
    """
    if path is None and years is None:
        return _default_calendar()
    return WorkingCalendar(DEFAULT_YEARS if years is None else years, load_closures(path))
