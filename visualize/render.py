"""Render diagrams with the graphviz binaries (`dot`, `twopi`, ...): SVG, PNG or PDF.

This is the I/O edge of `visualize`: `diagrams` builds `graphviz.Digraph` objects, this module
feeds their source to the layout program in a subprocess with a timeout, so a layout that runs
away (the full national graph) fails with a clear `RenderError` instead of hanging a request.

Examples:
    >>> from visualize.diagrams import forwarding_diagram
    >>> from visualize.samples import chain_sample
    >>> svg = render_svg(forwarding_diagram(chain_sample()))  # doctest: +SKIP
    >>> "จังหวัดแพร่" in svg  # doctest: +SKIP
    True
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Final

import graphviz

from visualize.diagrams import THAI_FONT, THAI_FONT_FALLBACKS

FORMATS: Final[frozenset[str]] = frozenset({"svg", "png", "pdf"})
ENGINES: Final[frozenset[str]] = frozenset({"dot", "neato", "twopi", "circo", "fdp", "sfdp"})
DEFAULT_TIMEOUT: Final = 60.0
# Cairo renders PNG and PDF through pango, which shapes Thai (vowels and tone marks stacked);
# the plain `-Tpng` of some builds uses gd, which does not.
_RENDERERS: Final[dict[str, str]] = {"svg": "svg", "png": "png:cairo", "pdf": "pdf:cairo"}
_FONT_FAMILY_RE = re.compile(rf'font-family="{re.escape(THAI_FONT)}"')
_CSS_FONTS: Final = ",".join(f"'{f}'" if " " in f else f for f in THAI_FONT_FALLBACKS)


class RenderError(RuntimeError):
    """The layout program is missing, failed, or took too long."""


def _unflatten(source: str, stagger: int, timeout: float) -> str:
    """Graphviz's `unflatten -l N`: the leaves of a wide fan-out (77 provinces under DLA, the local
    bodies of a province) are spread over N columns instead of one long one, so the drawing is
    closer to the shape of a screen."""
    binary = shutil.which("unflatten")
    if binary is None:
        raise RenderError("graphviz program 'unflatten' not found on PATH; install graphviz")
    try:
        done = subprocess.run(
            [binary, "-l", str(stagger)],
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RenderError(f"unflatten took longer than {timeout:g} s") from None
    if done.returncode != 0 or not done.stdout:
        message = done.stderr.decode("utf-8", "replace").strip() or "no output"
        raise RenderError(f"unflatten failed (exit {done.returncode}): {message}")
    return done.stdout.decode("utf-8")


def _run(source: str, *, fmt: str, engine: str, timeout: float) -> bytes:
    if fmt not in FORMATS:
        raise RenderError(f"cannot render to {fmt!r}: use one of {sorted(FORMATS)}")
    if engine not in ENGINES:
        raise RenderError(f"unknown graphviz engine {engine!r}: use one of {sorted(ENGINES)}")
    binary = shutil.which(engine)
    if binary is None:
        raise RenderError(
            f"graphviz program {engine!r} not found on PATH; "
            "install graphviz (Debian: apt-get install graphviz)"
        )
    try:
        done = subprocess.run(
            [binary, f"-T{_RENDERERS[fmt]}"],
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RenderError(
            f"{engine} took longer than {timeout:g} s; draw a collapsed or drilled-down view instead"
        ) from None
    except OSError as exc:
        raise RenderError(f"could not run {binary}: {exc}") from None
    if done.returncode != 0 or not done.stdout:
        message = done.stderr.decode("utf-8", "replace").strip() or "no output"
        raise RenderError(f"{engine} -T{_RENDERERS[fmt]} failed (exit {done.returncode}): {message}")
    return done.stdout


def _svg_fallback_fonts(svg: bytes) -> bytes:
    # dot writes the one font it laid out with; a browser without it should still find a Thai
    # font rather than fall back to one that shows boxes.
    return _FONT_FAMILY_RE.sub(f'font-family="{_CSS_FONTS}"', svg.decode("utf-8")).encode("utf-8")


def render_bytes(
    graph: graphviz.Graph | graphviz.Digraph,
    fmt: str = "svg",
    *,
    engine: str = "dot",
    timeout: float = DEFAULT_TIMEOUT,
    stagger: int | None = None,
) -> bytes:
    """Lay out and render `graph`, returning the file's bytes; with `stagger`, its leaves are spread
    over that many columns first (`unflatten -l`)."""
    if stagger is not None and stagger < 1:
        raise RenderError(f"stagger must be a positive number of columns, not {stagger}")
    source = _unflatten(graph.source, stagger, timeout) if stagger else graph.source
    output = _run(source, fmt=fmt, engine=engine, timeout=timeout)
    return _svg_fallback_fonts(output) if fmt == "svg" else output


def render(
    graph: graphviz.Graph | graphviz.Digraph,
    path: Path | str,
    *,
    engine: str = "dot",
    timeout: float = DEFAULT_TIMEOUT,
) -> Path:
    """Render `graph` to `path`; the format comes from the suffix (.svg, .png, .pdf).

    The file is written whole or not at all (a temporary file is renamed into place).
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise RenderError(f"{path}: cannot tell the format from suffix {path.suffix!r}; use .svg .png .pdf")
    data = render_bytes(graph, fmt, engine=engine, timeout=timeout)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def render_svg(
    graph: graphviz.Graph | graphviz.Digraph,
    *,
    engine: str = "dot",
    timeout: float = DEFAULT_TIMEOUT,
    stagger: int | None = None,
) -> str:
    """The SVG of `graph` as text, without the XML prolog, ready to inline in an HTML page."""
    svg = render_bytes(graph, "svg", engine=engine, timeout=timeout, stagger=stagger).decode("utf-8")
    start = svg.find("<svg")
    return svg[start:] if start >= 0 else svg


def fonts_used(
    graph: graphviz.Graph | graphviz.Digraph, *, timeout: float = DEFAULT_TIMEOUT
) -> dict[str, str]:
    """Which font file each `fontname` resolved to when rendering with cairo/pango (`dot -v`).

    Lets a test prove the Thai font is really installed and used, not silently substituted.
    """
    binary = shutil.which("dot")
    if binary is None:
        raise RenderError("graphviz program 'dot' not found on PATH")
    try:
        done = subprocess.run(
            [binary, "-v", "-Tpng:cairo", "-o", os.devnull],
            input=graph.source.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RenderError(f"dot -v took longer than {timeout:g} s") from None
    if done.returncode != 0:
        raise RenderError(f"dot -v failed: {done.stderr.decode('utf-8', 'replace').strip()}")
    # e.g. fontname: "Loma" resolved to: (PangoCairoFcFont) "Loma, Regular" /usr/share/.../Loma.ttf
    found = re.findall(r'fontname: "([^"]+)" resolved to: .*?"([^"]+)"\s*(\S*)', done.stderr.decode())
    return {name: f"{face} {file}".strip() for name, face, file in found}
