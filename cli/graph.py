"""`saraban graph`: draw the forwarding graph of a circular."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.common import day_option, fail, reading
from records import views
from visualize.diagrams import collapse, drill_down, evidence_diagram, forwarding_diagram
from visualize.render import RenderError, render


def graph(
    letter: str = typer.Argument(..., help="A letter number (any printed form) or a circular id."),
    output: Path = typer.Option(Path("graph.svg"), "-o", "--output", help="Output file: .svg, .png or .pdf."),
    level: str | None = typer.Option(None, "--level", help="Collapse to one node per province ('province')."),
    province: str | None = typer.Option(
        None, "--province", help="Draw one province in full (DOPA code or id)."
    ),
    focus: str | None = typer.Option(None, "--focus", help="Highlight one agency (id) and its path."),
    evidence: bool = typer.Option(False, "--evidence", help="Auditor view: the evidence behind each edge."),
    as_of: str | None = typer.Option(None, "--as-of", help="Colour statuses as of this day (default today)."),
    database: str | None = typer.Option(
        None, "--database", envvar="SARABAN_DATABASE_URL", help="Database URL."
    ),
) -> None:
    """Draw the forwarding graph of the circular that holds LETTER (agencies by level, letters on edges)."""
    with reading(database) as session:
        diagram = views.routing_diagram(session, letter, as_of=day_option(as_of, "--as-of"))
    if province:
        diagram = drill_down(
            diagram, province=province if ":" in province else f"province:{province}", ancestors=True
        )
    elif level == "province" or (level is None and len(diagram.nodes) > 400):
        diagram = collapse(diagram, level="province")
    try:
        built = (
            evidence_diagram(diagram, focus=focus) if evidence else forwarding_diagram(diagram, focus=focus)
        )
        path = render(built, output)
    except (RenderError, ValueError) as exc:
        raise fail(str(exc)) from None
    typer.echo(f"wrote {path} ({len(diagram.nodes)} agencies, {len(diagram.edges)} handoffs)")


def register(app: typer.Typer) -> None:
    app.command()(graph)
