"""`saraban graph`: draw the forwarding graph of a circular."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.common import day_option, fail, reading
from records import progress, views
from routing.plans import builtin_plans
from visualize.diagrams import collapse, drill_down, evidence_diagram, forwarding_diagram
from visualize.render import RenderError, render

LEVELS = ("province", "district")
# Above this many agencies `dot` takes too long for a command line; fold to provinces unless asked.
AUTO_COLLAPSE_NODES = 400


def graph(
    letter: str = typer.Argument(..., help="A letter number (any printed form) or a circular id."),
    output: Path = typer.Option(Path("graph.svg"), "-o", "--output", help="Output file: .svg, .png or .pdf."),
    level: str | None = typer.Option(
        None,
        "--level",
        help="Collapse to one node per province ('province') or per district ('district': local bodies "
        "folded into their district).",
    ),
    province: str | None = typer.Option(
        None, "--province", help="Draw one province in full (DOPA code or id)."
    ),
    focus: str | None = typer.Option(None, "--focus", help="Highlight one agency (id) and its path."),
    evidence: bool = typer.Option(False, "--evidence", help="Auditor view: the evidence behind each edge."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Colour statuses as of this day (ISO or Thai date; default today in Bangkok)."
    ),
    database: str | None = typer.Option(
        None, "--database", envvar="SARABAN_DATABASE_URL", help="Database URL."
    ),
) -> None:
    """Draw the forwarding graph of the circular that holds LETTER (agencies by level, letters on edges).

    A circular without a routing plan is drawn from the record alone (who issued, stamped or was
    addressed its letters), without deadlines or slack.
    """
    if level is not None and level not in LEVELS:
        raise fail(f"--level {level!r}: use one of {', '.join(LEVELS)}")
    day = day_option(as_of, "--as-of") or progress.today()  # the one default of every command
    with reading(database) as session:
        planned = views.has_plan(session, letter)
        diagram = views.circular_diagram(session, letter, as_of=day)
    if not planned:
        plans = ", ".join(sorted(builtin_plans()))
        typer.echo(
            f"note: {letter!r} belongs to a circular with no routing plan; drew the record only "
            f"(no deadlines or slack). Attach a plan with: saraban run {letter!r} --plan PLAN "
            f"(plans: {plans})",
            err=True,
        )
    try:
        if province:
            diagram = drill_down(
                diagram, province=province if ":" in province else f"province:{province}", ancestors=True
            )
        if level is not None:
            diagram = collapse(diagram, level=level)
        elif not province and len(diagram.nodes) > AUTO_COLLAPSE_NODES:
            diagram = collapse(diagram, level="province")
        built = (
            evidence_diagram(diagram, focus=focus) if evidence else forwarding_diagram(diagram, focus=focus)
        )
        path = render(built, output)
    except (RenderError, ValueError) as exc:
        raise fail(str(exc)) from None
    judged = f"as of {day.isoformat()}" if planned else "record only, no day to judge by"
    typer.echo(f"wrote {path} ({len(diagram.nodes)} agencies, {len(diagram.edges)} handoffs; {judged})")


def register(app: typer.Typer) -> None:
    app.command()(graph)
