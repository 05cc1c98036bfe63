"""Score a reading of letter files against expected readings (the corpus, the seeds).

Pure: no parser, no files beyond `load_expected`. The tests (`tests/models/test_corpus.py`) and the
benchmarks share it. The matching and the normalisation are those of the seed check
(`shared/hooks/seedcheck.py`):

- numbers are compared after removing whitespace, turning Thai digits into Arabic and dropping a
  dot after ว; an expected list means any of its readings is accepted;
- an expected letter is matched to the first unused parsed letter with an accepted number, else to
  the first unused one with the expected date;
- a key left out of an expected letter is not judged; references, enclosures and receipts must
  contain the expected (number, date) pairs (more may be found; a receipt's time is not judged);
  deadlines must include the expected dates;
- parsed letters with more distinct numbers than expected letters cost one check per extra letter.

Beyond the seed check:

- an expected number of None means "a review entry whose number is null must exist" (matched to an
  unused parsed entry with no number, the one with the expected date first); a date of None likewise
  asks that the matched entry has no date;
- issuer and salutation, when the expectation has them, are compared with all whitespace removed;
  a salutation may name only the first addressee(s): the parsed one must start with it.

Each check carries the layout tag of its expected letter (`"layout"`, `"untagged"` when absent).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")


@dataclass(frozen=True)
class Check:
    """One judged item: which field, whether the reading got it, the letter's layout, what it was."""

    field: str
    ok: bool
    layout: str
    detail: str = ""


def norm_number(n: Any) -> str | None:
    """A letter or receipt number as the seed check compares it.

    >>> norm_number("มท ๐๘๑๒/ว ๑๔๓๔")
    'มท0812/ว1434'
    >>> norm_number("นร 0505/ว.617") == norm_number("นร ๐๕๐๕/ว ๖๑๗")
    True
    >>> norm_number(None) is None
    True
    """
    if n is None:
        return None
    s = re.sub(r"\s+", "", str(n).translate(THAI_DIGITS))
    return s.replace("ว.", "ว")


def _alts(value: Any) -> set[str | None]:
    """The accepted readings of an expected value (a list means any of them).

    >>> sorted(_alts(["นร 1220/85", "นร 1220/55"]))
    ['นร1220/55', 'นร1220/85']
    """
    return {norm_number(x) for x in (value if isinstance(value, list) else [value])}


def norm_text(s: Any) -> str | None:
    """A name (issuer, salutation) with all whitespace removed and Thai digits made Arabic.

    >>> norm_text("  สำนักงาน  ก.พ.ร. ")
    'สำนักงานก.พ.ร.'
    """
    if s is None:
        return None
    return re.sub(r"\s+", "", str(s).translate(THAI_DIGITS))


def _date_of(x: Any) -> Any:
    return x.get("date") if isinstance(x, dict) else x


def _label(number: Any) -> str:
    if number is None:
        return "(no number)"
    return number if isinstance(number, str) else str(number[0])


def load_expected(path: Path) -> dict[str, list[dict[str, Any]]]:
    """File name -> its expected letters, from an expected.json (`{"about": ..., "files": {...}}`)."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    return dict(data["files"])


def _match(e: dict[str, Any], parsed: list[dict[str, Any]], used: set[int]) -> int | None:
    free = [i for i in range(len(parsed)) if i not in used]
    if e.get("number") is None:
        unnumbered = [i for i in free if parsed[i].get("number") is None]
        same_day = [i for i in unnumbered if parsed[i].get("date") == e.get("date")]
        pool = same_day or unnumbered
        return pool[0] if pool else None
    accepted = _alts(e["number"])
    by_number = next((i for i in free if norm_number(parsed[i].get("number")) in accepted), None)
    if by_number is not None:
        return by_number
    return next((i for i in free if parsed[i].get("date") == e.get("date")), None)


def _name_ok(field: str, expected: Any, got: Any) -> bool:
    have = norm_text(got)
    if have is None:
        return False
    for want in expected if isinstance(expected, list) else [expected]:
        w = norm_text(want)
        if w is None:
            continue
        if have == w or (field == "salutation" and have.startswith(w)):
            return True
    return False


def score_file(expected: list[dict[str, Any]], parsed: list[dict[str, Any]]) -> list[Check]:
    """The checks of one file: its expected letters against the letters read from it.

    `parsed` holds letters in the JSON shape of `saraban parse --json` (review entries included,
    with a null number or date).

    >>> exp = [{"layout": "ext-standard", "number": "มท 0812/ว 1434", "date": "2020-05-14",
    ...         "urgency": "ด่วนที่สุด", "circular": True, "issuer": "กรมส่งเสริมการปกครองท้องถิ่น",
    ...         "references": [{"number": ["นร 1200/60013", "นร 1200/ว 0013"], "date": "2020-05-05"}],
    ...         "enclosures": [], "receipts": [{"number": "1515", "date": "2020-06-02"}],
    ...         "deadlines": ["2020-06-30"]}]
    >>> got = [{"number": "มท 0812/ว.1434", "date": "2020-05-14", "urgency": "ด่วนที่สุด",
    ...         "circular": True, "issuer": "กรมส่งเสริม การปกครองท้องถิ่น",
    ...         "references": [{"number": "นร 1200/ว 0013", "date": "2020-05-05"}],
    ...         "receipts": [{"number": "๑๕๑๕", "date": "2020-06-02", "time": None}],
    ...         "deadlines": [{"date": "2020-06-30"}]}]
    >>> [(c.field, c.ok) for c in score_file(exp, got)]  # doctest: +NORMALIZE_WHITESPACE
    [('number', True), ('date', True), ('urgency', True), ('circular', True), ('issuer', True),
     ('references', True), ('receipts', True), ('deadlines', True)]

    An expected null number asks for a review entry; a letter read twice is no extra letter:

    >>> exp = [{"layout": "unreadable", "number": None, "date": "2024-01-05", "urgency": None}]
    >>> [(c.field, c.ok) for c in score_file(exp, [{"number": None, "date": "2024-01-05"}])]
    [('number', True), ('date', True), ('urgency', True)]
    >>> [(c.field, c.ok) for c in score_file(exp, [{"number": "ศธ 1/2", "date": "2024-01-05"}])]
    [('number', False), ('date', False), ('urgency', True)]
    >>> two = [{"number": "ศธ 1/2", "date": "2024-01-05"}, {"number": "ศธ 1/3", "date": "2024-01-05"}]
    >>> [c.detail for c in score_file(exp, two) if c.field == "extra"]
    ['1 letter(s) more than expected']
    """
    checks: list[Check] = []
    layout0 = str(expected[0].get("layout", "untagged")) if expected else "untagged"
    numbers = {norm_number(p.get("number")) for p in parsed}
    extra = max(0, len(numbers) - len(expected))
    checks += [Check("extra", False, layout0, f"{extra} letter(s) more than expected")] * extra
    used: set[int] = set()
    for e in expected:
        layout = str(e.get("layout", "untagged"))
        label = _label(e.get("number"))
        match = _match(e, parsed, used)
        p: dict[str, Any] = parsed[match] if match is not None else {}
        if match is not None:
            used.add(match)

        def add(field: str, ok: bool, detail: str = "", _layout: str = layout, _label: str = label) -> None:
            checks.append(Check(field, bool(ok), _layout, f"[{_label}] {detail}".rstrip()))

        if e.get("number") is None:
            add("number", match is not None and p.get("number") is None, "a review entry with no number")
        else:
            add("number", norm_number(p.get("number")) in _alts(e["number"]), f"got {p.get('number')!r}")
        if e.get("date") is None:
            add("date", match is not None and p.get("date") is None, "a review entry with no date")
        else:
            add("date", p.get("date") == e["date"], f"got {p.get('date')!r}")
        if "urgency" in e:
            add("urgency", (p.get("urgency") or None) == e["urgency"], f"got {p.get('urgency')!r}")
        if "circular" in e:
            add("circular", bool(p.get("circular")) == e["circular"], f"got {p.get('circular')!r}")
        for field in ("issuer", "salutation"):
            if e.get(field) is not None:
                add(field, _name_ok(field, e[field], p.get(field)), f"got {p.get(field)!r}")
        for kind in ("references", "enclosures"):
            have = {
                (norm_number(x.get("number")), x.get("date"))
                for x in p.get(kind) or []
                if isinstance(x, dict)
            }
            for x in e.get(kind, []):
                ok = any((a, x["date"]) in have for a in _alts(x["number"]))
                add(kind, ok, f"{_label(x['number'])} {x['date']}")
        have_r = {
            (norm_number(x.get("number")), x.get("date"))
            for x in p.get("receipts") or []
            if isinstance(x, dict)
        }
        for x in e.get("receipts", []):
            ok = any((a, x["date"]) in have_r for a in _alts(x["number"]))
            add("receipts", ok, f"{_label(x['number'])} {x['date']}")
        have_d = {_date_of(x) for x in p.get("deadlines") or []}
        for d in e.get("deadlines", []):
            add("deadlines", d in have_d, d)
    return checks


def summary(checks: Iterable[Check]) -> dict[str, tuple[int, int]]:
    """(hits, total) overall (`all`), per layout (`layout:<tag>`) and per field (`field:<name>`).

    >>> s = summary([Check("number", True, "glued"), Check("date", False, "glued"),
    ...              Check("number", True, "memo")])
    >>> s["all"], s["layout:glued"], s["field:number"], s["field:date"]
    ((2, 3), (1, 2), (2, 2), (0, 1))
    """
    out: dict[str, list[int]] = {}
    for c in checks:
        for key in ("all", f"layout:{c.layout}", f"field:{c.field}"):
            hit_total = out.setdefault(key, [0, 0])
            hit_total[0] += int(c.ok)
            hit_total[1] += 1
    return {k: (v[0], v[1]) for k, v in sorted(out.items())}
