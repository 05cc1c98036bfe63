"""How long the routing diagrams take to build and render with graphviz.

Target: the national collapsed view and any single-province view each build and render to SVG
with `dot` in under 2 s on the 2-core machine. For comparison, the full national graph (about
8,800 agencies) is laid out once with `twopi` under a timeout; `dot` is not even tried on it.

Run: `.venv/bin/python -m bench` (all benchmarks) or `.venv/bin/python bench/bench_render.py`.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the project root importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.letters import Level
from visualize.diagrams import collapse, drill_down, forwarding_diagram
from visualize.render import RenderError, render_bytes
from visualize.samples import national_sample

TARGET_SECONDS = 2.0


def _median_seconds(step: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(repeats: int = 5, twopi_timeout: float = 120.0) -> dict[str, float | None]:
    """Print and return seconds per view (build + render to SVG); None when a run timed out."""
    diagram = national_sample()
    levels = Counter(n.level for n in diagram.nodes)
    largest = max(
        (n for n in diagram.nodes if n.level is Level.PROVINCE),
        key=lambda p: sum(1 for n in diagram.nodes if n.province == p.id),
    )
    size = sum(1 for n in diagram.nodes if n.province == largest.id)
    print(
        f"national sample: {len(diagram.nodes)} agencies ({levels[Level.PROVINCE]} provinces, "
        f"{levels[Level.DISTRICT]} districts, {levels[Level.LOCAL]} local bodies), "
        f"{len(diagram.edges)} letters"
    )

    def national() -> bytes:
        return render_bytes(forwarding_diagram(collapse(diagram)), "svg")

    def province() -> bytes:
        view = drill_down(diagram, province=largest.id, ancestors=True)
        return render_bytes(forwarding_diagram(view), "svg")

    results: dict[str, float | None] = {
        "national_collapsed": _median_seconds(national, repeats),
        "largest_province": _median_seconds(province, repeats),
    }
    start = time.perf_counter()
    try:
        render_bytes(forwarding_diagram(diagram, legend=False), "svg", engine="twopi", timeout=twopi_timeout)
        results["full_national_twopi"] = time.perf_counter() - start
    except RenderError as exc:
        print(f"full national graph with twopi: {exc}")
        results["full_national_twopi"] = None

    labels = {
        "national_collapsed": f"national collapsed view ({levels[Level.PROVINCE]} provinces), dot",
        "largest_province": f"largest province ({largest.name_th}, {size} agencies + chain), dot",
        "full_national_twopi": f"full national graph ({len(diagram.nodes)} agencies), twopi, 1 run",
    }
    baseline = results["national_collapsed"]
    print(f"build + render to SVG; median of {repeats} runs; target {TARGET_SECONDS:g} s")
    for key, seconds in results.items():
        if seconds is None:
            print(f"  {labels[key]:<72} timed out after {twopi_timeout:g} s")
            continue
        vs_target = seconds / TARGET_SECONDS
        vs_base = f"{seconds / baseline:7.1f}x national" if baseline else ""
        verdict = "ok" if seconds < TARGET_SECONDS else "over target"
        print(f"  {labels[key]:<72} {seconds:8.3f} s  {vs_target:5.2f} of target  {vs_base}  {verdict}")
    return results


if __name__ == "__main__":
    main()
