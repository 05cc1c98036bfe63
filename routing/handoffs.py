"""Where a handoff stands as of a day, and where each of its dates comes from (pure rules).

A handoff is one agency receiving the circular from its sender and owing the next step (to
forward it on, or, for a local body, to send its result back). Its dates have a provenance:

- `recorded`: a letter or a receipt stamp on file says so (with its evidence);
- `registered`: a clerk entered it (ทะเบียนหนังสือรับ/ส่ง);
- `planned`: only the routing plan expects it (a dispatch nobody has seen yet);
- `projected`: a date computed by deadline propagation (an expected date, never a fact).

Only recorded and registered dates are facts; views count and show nothing else as having happened.

Statuses put the blame where it belongs:

- `done`: forwarded by its due date; `late`: forwarded after it;
- `overdue`: the agency holds the letter and its due date has passed;
- `blocked`: the due date has passed but the agency never received the letter, because its
  sender (or one above it) has not forwarded it: escalate to the agency that holds it;
- `pending`: not done and not yet due.

An agency that received the letter after its own latest date gets its handling allowance from
the day it actually received it (`due_after_receipt`); the circular's final deadline is kept
beside it by the caller.

Examples:
    >>> from datetime import date
    >>> judge(date(2020, 7, 1), received=date(2020, 6, 2), forwarded=None, due=date(2020, 6, 10))
    <HandoffStatus.OVERDUE: 'overdue'>
    >>> judge(date(2020, 7, 1), received=None, forwarded=None, due=date(2020, 6, 12))
    <HandoffStatus.BLOCKED: 'blocked'>
    >>> judge(date(2020, 7, 1), received=date(2020, 4, 20), forwarded=date(2020, 6, 23), due=date(2020, 6, 10))
    <HandoffStatus.LATE: 'late'>
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from routing.calendar import WorkingCalendar


class Provenance(StrEnum):
    """Where a date comes from."""

    RECORDED = "recorded"  # a letter or a stamp on file
    REGISTERED = "registered"  # a clerk's entry
    PLANNED = "planned"  # the routing plan expects it
    PROJECTED = "projected"  # computed by deadline propagation

    @property
    def is_fact(self) -> bool:
        """Recorded and registered dates happened; planned and projected ones are expectations."""
        return self in (Provenance.RECORDED, Provenance.REGISTERED)


class HandoffStatus(StrEnum):
    """Where a handoff stands as of a day (see the module docstring)."""

    DONE = "done"
    LATE = "late"
    OVERDUE = "overdue"
    BLOCKED = "blocked"
    PENDING = "pending"


# The statuses an overdue list names: each one is somebody to chase or a lateness on record.
FLAGGED = frozenset({HandoffStatus.OVERDUE, HandoffStatus.LATE, HandoffStatus.BLOCKED})


def judge(as_of: date, *, received: date | None, forwarded: date | None, due: date | None) -> HandoffStatus:
    """The status of a handoff as of `as_of`, from facts only (dates after `as_of` are the
    caller's to drop) and its due date.

    >>> judge(date(2020, 6, 5), received=None, forwarded=None, due=date(2020, 6, 10))
    <HandoffStatus.PENDING: 'pending'>
    >>> judge(date(2020, 6, 5), received=None, forwarded=date(2020, 6, 4), due=date(2020, 6, 10))
    <HandoffStatus.DONE: 'done'>
    """
    if forwarded is not None:
        return HandoffStatus.LATE if due is not None and forwarded > due else HandoffStatus.DONE
    if due is None or as_of <= due:
        return HandoffStatus.PENDING
    return HandoffStatus.OVERDUE if received is not None else HandoffStatus.BLOCKED


def due_after_receipt(
    calendar: WorkingCalendar, latest_forward: date | None, received: date | None, allowance: int
) -> date | None:
    """The day an agency must forward by: its latest date from the plan, or, when it received the
    letter too late to keep it, its handling allowance counted from the day it received it.

    >>> from routing.calendar import load_calendar
    >>> cal = load_calendar()
    >>> due_after_receipt(cal, date(2020, 6, 12), date(2020, 6, 23), 1)
    datetime.date(2020, 6, 24)
    >>> due_after_receipt(cal, date(2020, 6, 10), date(2020, 4, 20), 1)
    datetime.date(2020, 6, 10)
    """
    if latest_forward is None or received is None:
        return latest_forward
    return max(latest_forward, calendar.add_working_days(received, allowance))


def working_days_over(calendar: WorkingCalendar, status: HandoffStatus, due: date | None,
                      as_of: date, forwarded: date | None) -> int:  # fmt: skip
    """Working days past the due date: to the forwarding day when late, to `as_of` while overdue
    or blocked; 0 otherwise."""
    if due is None:
        return 0
    if status is HandoffStatus.LATE and forwarded is not None:
        return calendar.working_days_between(due, forwarded)
    if status in (HandoffStatus.OVERDUE, HandoffStatus.BLOCKED):
        return calendar.working_days_between(due, as_of)
    return 0
