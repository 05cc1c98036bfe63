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

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import holidays
import yaml
from holidays.countries.thailand import Thailand as TH

# Built when the calendar is made; any other year the `holidays` package knows for Thailand is
# built the first time a date in it is asked for (a few milliseconds a year).
DEFAULT_YEARS = range(2018, 2031)
SUPPORTED_YEARS = range(TH.start_year, TH.end_year + 1)
# Working-day indices count from here: positive, and far from the sentinels deadlines.py uses.
_ORIGIN = 1 << 20
_CALENDAR_RESOURCE = "data/calendar.yaml"


class CalendarError(ValueError):
    """A calendar file is wrong, or a date falls outside the calendar's years."""


@dataclass(frozen=True, slots=True)
class Closure:
    """A day government offices are closed, with the reason (a holiday's Thai name, or config)."""

    day: date
    reason: str


class WorkingCalendar:
    """Working days with O(1) working-day arithmetic, over any year the `holidays` package knows
    for Thailand (built lazily, a year at a time), or over the given `years` only.

    `index(d)` is a working-day count from a fixed origin (stable as years are added either
    side, so indices cached by callers stay right): for a working day it is that day's position,
    for a closed day it equals the next working day's. `day(i)` is the inverse on working days.
    """

    __slots__ = ("_built", "_closed", "_days", "_extra", "_index", "_lo", "_lock", "_public", "first", "last")

    def __init__(
        self,
        years: Iterable[int] | None = None,
        closures: Iterable[Closure] = (),
        *,
        public_holidays: bool = True,
    ) -> None:
        if years is None:
            self.first, self.last = date(SUPPORTED_YEARS.start, 1, 1), date(SUPPORTED_YEARS.stop - 1, 12, 31)
            initial = list(DEFAULT_YEARS)
        else:
            initial = sorted(set(years))
            if not initial:
                raise CalendarError("a calendar needs at least one year")
            self.first, self.last = date(initial[0], 1, 1), date(initial[-1], 12, 31)
            initial = list(range(initial[0], initial[-1] + 1))
        self._public = public_holidays
        self._extra: dict[date, str] = {}
        for c in closures:
            self._extra[c.day] = f"{self._extra[c.day]}; {c.reason}" if c.day in self._extra else c.reason
        self._closed: dict[date, str] = {}
        self._index: dict[int, int] = {}  # date ordinal -> working-day index
        self._days: dict[int, date] = {}  # working-day index -> date
        self._built: list[int] = []  # [first year, last year] built so far
        self._lo = 0  # the index of the first working day of the first year built
        self._lock = threading.Lock()
        self._build(initial[0], initial[-1], _ORIGIN)
        if years is not None:
            # A spare working day after the range, so that a closed last day still has a "next" one.
            d = self.last + timedelta(days=1)
            while d.weekday() >= 5 or d in self._extra:
                d += timedelta(days=1)
            self._days.setdefault(self._index[self.last.toordinal()] + self._is_open(self.last), d)

    def _closures_of(self, first: int, last: int) -> dict[date, str]:
        closed: dict[date, str] = {}
        if self._public:
            th = holidays.country_holidays(
                "TH", years=range(first, last + 1), categories=("public", "government"), language="th"
            )
            closed.update(th.items())
        for day, reason in self._extra.items():
            if first <= day.year <= last:
                closed[day] = f"{closed[day]}; {reason}" if day in closed else reason
        return closed

    def _build(self, first: int, last: int, start: int) -> int:
        """Index the years first..last, the first working day getting index `start`; returns the
        index after the last working day."""
        closed = self._closures_of(first, last)
        self._closed.update(closed)
        i = start
        d, end, one = date(first, 1, 1), date(last, 12, 31), timedelta(days=1)
        index, days = self._index, self._days
        while d <= end:
            index[d.toordinal()] = i
            if d.weekday() < 5 and d not in closed:
                days[i] = d
                i += 1
            d += one
        if not self._built:
            self._built, self._lo = [first, last], start
        return i

    def _extend(self, year: int) -> bool:
        """Build the years up to `year` (either side); False when beyond the calendar's range."""
        if not self.first.year <= year <= self.last.year:
            return False
        with self._lock:
            lo, hi = self._built
            if year > hi:
                end = date(hi, 12, 31)
                self._build(hi + 1, year, self._index[end.toordinal()] + self._is_open(end))
                self._built[1] = year
            elif year < lo:
                # Count the earlier years' working days first, so that theirs end where ours start.
                count = self._count(year, lo - 1)
                self._lo -= count
                self._build(year, lo - 1, self._lo)
                self._built[0] = year
        return True

    def _is_open(self, d: date) -> int:
        return 1 if self._days.get(self._index[d.toordinal()]) == d else 0

    def _count(self, first: int, last: int) -> int:
        closed = self._closures_of(first, last)
        d, end, one, n = date(first, 1, 1), date(last, 12, 31), timedelta(days=1), 0
        while d <= end:
            n += d.weekday() < 5 and d not in closed
            d += one
        return n

    def _outside(self, what: str) -> CalendarError:
        return CalendarError(f"{what} is outside the calendar ({self.first.year}-{self.last.year})")

    def __repr__(self) -> str:
        return f"<WorkingCalendar {self.first.year}-{self.last.year}, {len(self._closed)} closures built>"

    def index(self, d: date) -> int:
        """Working-day index of `d` (of the next working day when `d` is closed)."""
        try:
            return self._index[d.toordinal()]
        except KeyError:
            if not self._extend(d.year):
                raise self._outside(d.isoformat()) from None
            return self._index[d.toordinal()]

    def index_on_or_before(self, d: date) -> int:
        """Index of the last working day on or before `d`: a deadline on a Sunday means the Friday."""
        i = self.index(d)
        return i if self._days.get(i) == d else i - 1

    def day(self, i: int) -> date:
        """The working day with index `i`."""
        found = self._days.get(i)
        if found is not None:
            return found
        # Beyond the years built so far: build the next (or previous) year, if there is one.
        lo, hi = self._built
        year = hi + 1 if i >= self._lo else lo - 1
        while self._extend(year):
            found = self._days.get(i)
            if found is not None:
                return found
            lo, hi = self._built
            year = hi + 1 if i >= self._lo else lo - 1
        raise self._outside(f"working-day index {i}")

    def is_working_day(self, d: date) -> bool:
        """True unless `d` is a weekend, a public holiday or an extra closure."""
        return self._days.get(self.index(d)) == d

    def closure(self, d: date) -> str | None:
        """Why `d` is closed (weekend or the holiday's name), None on a working day."""
        if self.first <= d <= self.last:
            self.index(d)  # builds d's year
        if d in self._closed:
            return self._closed[d]
        return "weekend" if d.weekday() >= 5 else None

    def closures(self) -> Mapping[date, str]:
        """Holidays and extra closures of the years built so far (weekends not listed)."""
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
    return WorkingCalendar(None, load_closures())


def load_calendar(path: Path | None = None, *, years: Iterable[int] | None = None) -> WorkingCalendar:
    """The working calendar for `years` (default: every year `holidays` knows for Thailand, built
    lazily) with closures from `path`.

    Without arguments the calendar is built once per process and shared.
    """
    if path is None and years is None:
        return _default_calendar()
    return WorkingCalendar(years, load_closures(path))
