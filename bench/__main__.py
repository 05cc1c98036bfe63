"""Run every benchmark: each `bench/bench_*.py` module exposing `main()`, in name order.

`python -m bench` runs them all; `python -m bench propagation render` runs the named ones.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    wanted = set(argv if argv is not None else sys.argv[1:])
    names = sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))
    if wanted:
        unknown = wanted - {n.removeprefix("bench_") for n in names}
        if unknown:
            print(f"unknown benchmark(s): {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        names = [n for n in names if n.removeprefix("bench_") in wanted]
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        run = getattr(module, "main", None)
        if run is None:
            continue
        print(f"== {name} ==")
        run()
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
