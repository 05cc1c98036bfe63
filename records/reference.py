"""Reference data: the agencies directory, the working-day calendar, the handling policy, the plans.

The bottom layer of `records`: loaded once per process, read by the writers, the read models and
the audit alike. A deployment may replace the official local-bodies list (CSV, see
`routing.directory`), the handling-allowance policy and a file of extra closures (YAML, as the
built-in `routing/data/policy.yaml` and `calendar.yaml`); unset, the built-in stand-in directory
and defaults are used. A file that does not load is an error naming the setting and the file.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from functools import cache
from pathlib import Path
from typing import TypeVar

from routing.calendar import WorkingCalendar, load_calendar
from routing.directory import Directory, load_directory
from routing.plans import Plan, builtin_plans, load_plan
from routing.policy import Policy, load_policy

LOCAL_BODIES_ENV = "SARABAN_LOCAL_BODIES_CSV"
POLICY_ENV = "SARABAN_POLICY"
CLOSURES_ENV = "SARABAN_CLOSURES"

_T = TypeVar("_T")


class ProgressError(LookupError):
    """A circular or agency that the record does not know, a circular without a plan, or reference
    data that does not load (`records.progress` raises it; defined here, below it, because loading
    the reference data raises it too)."""


class ReferenceDataError(ProgressError):
    """A reference data file named by a setting (or a routing plan) that does not load."""


def _reference(env: str, load: Callable[[Path | None], _T]) -> _T:
    value = os.environ.get(env)
    try:
        return load(Path(value) if value else None)
    except (OSError, ValueError) as exc:
        raise ReferenceDataError(f"{env}={value}: {exc}") from None


@cache
def directory() -> Directory:
    return _reference(LOCAL_BODIES_ENV, load_directory)


@cache
def calendar() -> WorkingCalendar:
    return _reference(CLOSURES_ENV, load_calendar)


@cache
def policy() -> Policy:
    return _reference(POLICY_ENV, load_policy)


def is_working_day(day: date) -> bool:
    return calendar().is_working_day(day)


@cache
def plan_files() -> dict[str, Path]:
    """The shipped routing plans by id (they do not change while a process runs)."""
    return builtin_plans()


@cache
def plan(plan_id: str) -> Plan:
    plans = plan_files()
    if plan_id not in plans:
        raise ReferenceDataError(f"no routing plan {plan_id!r}; known plans: {', '.join(sorted(plans))}")
    return load_plan(plans[plan_id])


def all_provinces() -> list[str]:
    """DOPA codes of every province (for a national route)."""
    return [p.id.split(":", 1)[1] for p in directory().provinces()]
