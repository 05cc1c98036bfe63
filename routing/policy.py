"""Handling-allowance policy: working days per step of a circular, by urgency and level.

The numbers live in `routing/data/policy.yaml` (each commented with why); nothing is hard-coded
here. Urgency `None` (no ชั้นความเร็ว printed) is the YAML key `normal`.

Examples:
    >>> from models.letters import Level, Urgency
    >>> p = load_policy()
    >>> p.handling(Urgency.MOST_URGENT, Level.PROVINCE), p.transit(None), p.preparation(Level.LOCAL)
    (1, 3, 10)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from models.letters import LEVEL_ORDER, Level, Urgency

URGENCY_KEYS: tuple[str, ...] = (*(u.value for u in Urgency), "normal")
LEVEL_KEYS: tuple[str, ...] = tuple(level.value for level in LEVEL_ORDER)
_RESOURCE = "data/policy.yaml"


class PolicyError(ValueError):
    """A policy file is wrong; `key` is the dotted path of the offending entry."""

    def __init__(self, source: str, key: str, message: str) -> None:
        self.source, self.key = source, key
        super().__init__(f"{source}: {key}: {message}")


def urgency_key(urgency: Urgency | str | None) -> str:
    """The policy key of an urgency: its Thai value, or 'normal' when None.

    >>> urgency_key(None), urgency_key(Urgency.URGENT)
    ('normal', 'ด่วน')
    """
    if urgency is None or urgency == "normal":
        return "normal"
    return Urgency(urgency).value


@dataclass(frozen=True, slots=True)
class Policy:
    """Working-day allowances. Hashable, so compiled plans can cache per-policy arrays."""

    handling_days: tuple[tuple[str, tuple[tuple[str, int], ...]], ...]
    transit_days: tuple[tuple[str, int], ...]
    preparation_days: tuple[tuple[str, int], ...]
    source: str = "routing/data/policy.yaml"

    def handling(self, urgency: Urgency | str | None, level: Level | str) -> int:
        """Days between receiving and forwarding for an agency of `level`."""
        table = dict(dict(self.handling_days)[urgency_key(urgency)])
        return table[Level(level).value]

    def transit(self, urgency: Urgency | str | None) -> int:
        """Days from one agency's dispatch to the next one's receipt."""
        return dict(self.transit_days)[urgency_key(urgency)]

    def preparation(self, level: Level | str) -> int:
        """Days an agency of `level` needs to prepare what a circular asks before returning it."""
        return dict(self.preparation_days)[Level(level).value]


def _days(source: str, key: str, value: Any) -> int:
    # bool is an int subclass; `true` in YAML is a typo, not one day.
    if isinstance(value, bool) or not isinstance(value, int):
        raise PolicyError(source, key, f"expected a whole number of working days, got {value!r}")
    if value < 0 or value > 250:
        raise PolicyError(source, key, f"{value} working days is outside 0..250")
    return value


def _table(source: str, key: str, value: Any, keys: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    if not isinstance(value, dict):
        raise PolicyError(source, key, f"expected a mapping with keys {', '.join(keys)}")
    for k in value:
        if k not in keys:
            raise PolicyError(source, f"{key}.{k}", f"unknown key; expected one of {', '.join(keys)}")
    for k in keys:
        if k not in value:
            raise PolicyError(source, f"{key}.{k}", "missing")
    return tuple((k, _days(source, f"{key}.{k}", value[k])) for k in keys)


def parse_policy(data: Any, source: str) -> Policy:
    """Validate a loaded YAML document into a `Policy`; errors name the dotted key."""
    if not isinstance(data, dict):
        raise PolicyError(source, "<root>", "expected a mapping")
    expected = ("handling_days", "transit_days", "preparation_days")
    for k in data:
        if k not in expected:
            raise PolicyError(source, str(k), f"unknown key; expected {', '.join(expected)}")
    for k in expected:
        if k not in data:
            raise PolicyError(source, k, "missing")
    handling = data["handling_days"]
    if not isinstance(handling, dict):
        raise PolicyError(source, "handling_days", "expected a mapping by urgency")
    for k in handling:
        if k not in URGENCY_KEYS:
            raise PolicyError(
                source, f"handling_days.{k}", f"unknown urgency; expected {', '.join(URGENCY_KEYS)}"
            )
    for k in URGENCY_KEYS:
        if k not in handling:
            raise PolicyError(source, f"handling_days.{k}", "missing")
    return Policy(
        handling_days=tuple(
            (u, _table(source, f"handling_days.{u}", handling[u], LEVEL_KEYS)) for u in URGENCY_KEYS
        ),
        transit_days=_table(source, "transit_days", data["transit_days"], URGENCY_KEYS),
        preparation_days=_table(source, "preparation_days", data["preparation_days"], LEVEL_KEYS),
        source=source,
    )


@cache
def _default_policy() -> Policy:
    text = files("routing").joinpath(_RESOURCE).read_text(encoding="utf-8")
    return parse_policy(yaml.safe_load(text), f"routing/{_RESOURCE}")


def load_policy(path: Path | None = None) -> Policy:
    """The policy in `path`, or the built-in defaults (loaded once per process)."""
    if path is None:
        return _default_policy()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(str(path), "<file>", f"cannot read: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(str(path), "<file>", f"not valid YAML: {exc}") from None
    return parse_policy(data, str(path))
