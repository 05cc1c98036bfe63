"""Reading input files (models.extract): time per page and field accuracy per input kind.

The sample letters (the corpus `tests/data/corpus/*.txt` with its `expected.json`, the demo letters
and `tests/data/letters`) are turned, at run time, into each kind of input the readers meet:

- text: the UTF-8 file itself, and its cp874 copy (the Thai legacy code page);
- pdf-text: printed to A4 PDF by Chromium (a text layer, as a word processor's export);
- pdf-ocr: those pages rasterised at 300 dpi into an image-only PDF (a clean scan);
- image-ocr: the same pages skewed 1 degree, blurred, speckled and JPEG'd, as a multi-page TIFF,
  read with and without the glyph-shape recovery of Thai digits.

Each extracted text goes through the parser (`models.parser.read_letters`, `letter_to_json`) and
is scored by `tests/readscore.py` against the corpus' expected readings (per field and per layout).
For every file, the number lines (`ที่ ...`) and date lines of the source are also looked for
verbatim in the extracted text (whitespace squashed): a parser-independent measure of what the
reader gets right where it matters.

OCR is a few seconds a page, so the OCR kinds run on a sample of the letters:
`SARABAN_BENCH_OCR_LETTERS` (default 6; 0 for all). Targets: fields >= 0.98 on text, >= 0.95 on
PDF text layers, >= 0.90 of numbers and dates on noisy scans; OCR under 10 s a page.

Run: `.venv/bin/python -m bench read`.
"""

from __future__ import annotations

import os
import re
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the project root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "corpus"
OTHER_LETTERS = [ROOT / "demo" / "letters", ROOT / "tests" / "data" / "letters"]
OCR_TARGET_SECONDS = 10.0
TARGETS = {"text": 0.98, "text-cp874": 0.98, "pdf-text": 0.95}
NUMBERS_AND_DATES_TARGET = 0.90

_NUMBER_LINE = re.compile(r"^ที่\s*[ก-ฮ]{2}\s*[๐-๙0-9]")
_DATE_LINE = re.compile(r"^[๐-๙0-9]{1,2}\s+[ก-๙.]+\s+[๐-๙0-9]{4}$")


@dataclass
class Tally:
    """One input kind's figures over the files it read."""

    seconds: list[float] = field(default_factory=list)  # wall time per page
    cpu: list[float] = field(default_factory=list)  # CPU per page, Tesseract's included
    pages: int = 0
    checks: list[Any] = field(default_factory=list)
    key_found: int = 0
    key_total: int = 0
    failures: list[str] = field(default_factory=list)


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _key_lines(text: str) -> list[str]:
    """The source's number lines and date lines, whitespace squashed."""
    lines = [_squash(line) for line in text.splitlines()]
    return [line for line in lines if _NUMBER_LINE.match(line) or _DATE_LINE.match(line)]


def _letters() -> tuple[list[Path], dict[str, list[dict[str, Any]]]]:
    expected: dict[str, list[dict[str, Any]]] = {}
    files: list[Path] = []
    # The corpus hook: tests/readscore.py scores parsed letters against expected.json.
    if (CORPUS / "expected.json").exists():
        from tests.readscore import load_expected

        expected = load_expected(CORPUS / "expected.json")
        files += sorted(CORPUS.glob("*.txt"))
    for folder in OTHER_LETTERS:
        files += sorted(folder.glob("*.txt"))
    return files, expected


def _cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _parsed(text: str, name: str) -> list[dict[str, Any]]:
    from models.letters import letter_to_json
    from models.parser import read_letters

    try:
        result = read_letters(text, file=name)
    except ValueError:  # ParseError: no letter found, a number that does not parse
        return []
    return [letter_to_json(x) for x in (*result.letters, *getattr(result, "unread", ()))]


def _read(
    tally: Tally,
    source: Path,
    path: Path,
    expected: dict[str, list[dict[str, Any]]],
    reader: Callable[[Path], Any],
) -> None:
    from tests.readscore import score_file

    original = source.read_text(encoding="utf-8")
    started, cpu = time.perf_counter(), _cpu()
    try:
        got = reader(path)
    except ValueError as exc:
        tally.failures.append(f"{source.name}: {exc}")
        return
    wall, used = time.perf_counter() - started, _cpu() - cpu
    pages = max(1, len(got.pages) or _pdf_pages(path))
    tally.pages += pages
    tally.seconds.append(wall / pages)
    tally.cpu.append(used / pages)
    squashed = {_squash(line) for line in got.text.splitlines()}
    keys = _key_lines(original)
    tally.key_total += len(keys)
    tally.key_found += sum(k in squashed for k in keys)
    if source.name in expected and source.parent == CORPUS:
        tally.checks += score_file(expected[source.name], _parsed(got.text, str(path)))


def _pdf_pages(path: Path) -> int:
    if path.suffix != ".pdf":
        return 1
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(path))
    try:
        return len(doc)
    finally:
        doc.close()


def _ratio(hits: int, total: int) -> str:
    return f"{hits}/{total} = {hits / total:.3f}" if total else "n/a"


def _report(kind: str, tally: Tally) -> None:
    from tests.readscore import summary

    print(f"-- {kind}: {len(tally.seconds)} files, {tally.pages} pages")
    if tally.seconds:
        median = statistics.median(tally.seconds)
        print(
            f"   time per page: median {median:.3f} s wall, {statistics.median(tally.cpu):.3f} s CPU", end=""
        )
        if "ocr" in kind:
            verdict = "meets" if median < OCR_TARGET_SECONDS else "MISSES"
            print(f" ({verdict} the {OCR_TARGET_SECONDS:.0f} s target; max {max(tally.seconds):.2f} s)")
        else:
            print()
    print(f"   number and date lines found verbatim: {_ratio(tally.key_found, tally.key_total)}")
    if tally.checks:
        s = summary(tally.checks)
        hits, total = s["all"]
        target = TARGETS.get(kind)
        verdict = (
            "" if target is None else f" (target {target}: {'met' if hits / total >= target else 'MISSED'})"
        )
        print(f"   corpus fields: {_ratio(hits, total)}{verdict}")
        nd = [c for c in tally.checks if c.field in ("number", "date")]
        nd_hits = sum(c.ok for c in nd)
        nd_verdict = ""
        if "ocr" in kind and nd:
            met = nd_hits / len(nd) >= NUMBERS_AND_DATES_TARGET
            nd_verdict = f" (target {NUMBERS_AND_DATES_TARGET}: {'met' if met else 'MISSED'})"
        print(f"   corpus numbers and dates: {_ratio(nd_hits, len(nd))}{nd_verdict}")
        for group in ("layout", "field"):
            parts = [f"{k.split(':', 1)[1]} {h}/{t}" for k, (h, t) in s.items() if k.startswith(f"{group}:")]
            print(f"   by {group}: {', '.join(parts)}")
    for failure in tally.failures[:5]:
        print(f"   failed: {failure}")


def main() -> None:
    from models.extract import extract
    from tests import scans

    files, expected = _letters()
    if not expected:
        print("no corpus (tests/data/corpus/expected.json): reporting number and date lines only")
    wanted = int(os.environ.get("SARABAN_BENCH_OCR_LETTERS", "6"))
    corpus_files = [f for f in files if f.parent == CORPUS] or files
    step = max(1, len(corpus_files) // wanted) if wanted else 1
    ocr_files = corpus_files[::step][:wanted] if wanted else files
    tallies = {
        k: Tally()
        for k in ("text", "text-cp874", "pdf-text", "pdf-ocr", "image-ocr", "image-ocr (no digit recovery)")
    }
    with tempfile.TemporaryDirectory(prefix="saraban-bench-read-") as tmp:
        work = Path(tmp)
        for source in files:
            _read(tallies["text"], source, source, expected, extract)
            copy = work / f"{source.stem}.cp874.txt"
            try:
                copy.write_bytes(source.read_text(encoding="utf-8").encode("cp874"))
            except UnicodeEncodeError:
                continue  # a character cp874 lacks
            _read(tallies["text-cp874"], source, copy, expected, extract)
        missing = scans.chromium_missing()
        if missing:
            print(f"PDF and OCR kinds skipped: {missing}")
        else:
            pdfs: dict[Path, Path] = {}
            with scans.pdf_printer() as print_pdf:
                for source in files:
                    pdfs[source] = print_pdf(source.read_text(encoding="utf-8"), work / f"{source.stem}.pdf")
            for source in files:
                _read(tallies["pdf-text"], source, pdfs[source], expected, extract)
            missing = scans.tesseract_missing()
            if missing:
                print(f"OCR kinds skipped: {missing}")
            for n, source in enumerate([] if missing else ocr_files):
                pngs = []
                noisy = []
                for k, image in enumerate(scans.rasterise(pdfs[source], dpi=300)):
                    png = work / f"{source.stem}.p{k}.png"
                    image.save(png, dpi=(300, 300))
                    pngs.append(png)
                    noisy.append(
                        scans.degrade(
                            png, work / f"{source.stem}.p{k}.noisy.png", seed=n * 100 + k, skew_degrees=1
                        )
                    )
                scan = scans.image_pdf(pngs, work / f"{source.stem}.scan.pdf")
                _read(tallies["pdf-ocr"], source, scan, expected, extract)
                tiff = scans.image_tiff(noisy, work / f"{source.stem}.noisy.tiff")
                _read(tallies["image-ocr"], source, tiff, expected, extract)
                _read(
                    tallies["image-ocr (no digit recovery)"],
                    source,
                    tiff,
                    expected,
                    lambda p: extract(p, recover_digits=False),
                )
    print(f"{len(files)} sample files ({len(expected)} with expected readings); OCR on {len(ocr_files)}")
    for kind, tally in tallies.items():
        _report(kind, tally)


if __name__ == "__main__":
    main()
