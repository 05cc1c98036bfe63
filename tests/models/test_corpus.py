"""The parser against our own corpus of letters in the layouts real offices print.

`tests/data/corpus/` holds letter files and `expected.json` (the format of the seeds' expected.json,
plus a `layout` tag per letter); `tests/readscore.py` scores a reading against it.
"""

from __future__ import annotations

import doctest
import json
from pathlib import Path
from typing import Any

import pytest

from models.letters import letter_to_json
from models.parser import read_file
from tests import readscore

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"
EXPECTED = CORPUS / "expected.json"
BAR = 0.98


def _read(path: Path) -> list[dict[str, Any]]:
    """Letters and review entries read from one corpus file, as `saraban parse --json` shows them."""
    result = read_file(path)
    return [letter_to_json(x) for x in result.letters] + [letter_to_json(x) for x in result.unread]


def test_corpus_files_and_expectations_agree() -> None:
    files = {p.name for p in CORPUS.glob("*.txt")}
    for name in sorted(files):
        (CORPUS / name).read_bytes().decode("utf-8")  # raises on invalid UTF-8
    with open(EXPECTED, encoding="utf-8") as f:
        data = json.load(f)
    assert set(data) >= {"about", "files"}
    named = set(data["files"])
    assert files - named == set(), "corpus files with no expectation"
    assert named - files == set(), "expectations with no corpus file"
    for name, letters in data["files"].items():
        assert letters, f"{name}: no expected letter"
        for e in letters:
            assert {"layout", "number", "date"} <= set(e), f"{name}: {e}"


def test_readscore_examples() -> None:
    result = doctest.testmod(readscore, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_corpus_field_accuracy() -> None:
    expected = readscore.load_expected(EXPECTED)
    checks: list[readscore.Check] = []
    for name, letters in sorted(expected.items()):
        checks += readscore.score_file(letters, _read(CORPUS / name))
    table = readscore.summary(checks)
    hits, total = table["all"]
    missed = [f"{c.layout} {c.field} {c.detail}" for c in checks if not c.ok]
    report = "\n".join(f"{k}: {h}/{t}" for k, (h, t) in table.items()) + "\n" + "\n".join(missed[:60])
    assert total and hits / total >= BAR, f"field accuracy {hits}/{total} below {BAR}\n{report}"


ENCODINGS = {
    "cp874": lambda text: text.encode("cp874"),
    "utf-16": lambda text: text.encode("utf-16"),
    "utf-16-be": lambda text: b"\xfe\xff" + text.encode("utf-16-be"),
    "utf-8-sig+crlf": lambda text: text.replace("\n", "\r\n").encode("utf-8-sig"),
}


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_every_corpus_file_reads_the_same_in_the_encodings_offices_use(encoding: str, tmp_path: Path) -> None:
    for path in sorted(CORPUS.glob("*.txt")):
        copy = tmp_path / path.name
        try:
            copy.write_bytes(ENCODINGS[encoding](path.read_text(encoding="utf-8")))
        except UnicodeEncodeError:
            continue  # a character cp874 has no byte for (a zero-width space): no cp874 file holds it
        strip = [{k: v for k, v in x.items() if k != "source"} for x in _read(copy)]
        assert strip == [{k: v for k, v in x.items() if k != "source"} for x in _read(path)], path.name
