"""`saraban register received|sent`: an agency's register of a year, as the regulation lays it out,
to Excel, PDF or CSV (ทะเบียนหนังสือรับ / ทะเบียนหนังสือส่ง)."""

from __future__ import annotations

from pathlib import Path

import typer

from cli.common import DATABASE, fail, reading
from records import registers
from visualize.registers import WRITERS, export, rows

register_app = typer.Typer(
    help="An agency's registers of a year (ทะเบียนหนังสือรับ / ส่ง): to .xlsx, .pdf or .csv.",
    no_args_is_help=True,
)

AGENCY = typer.Option(..., "--agency", help="The agency: id (province:21) or Thai name (จังหวัดระยอง).")
YEAR = typer.Option(
    None,
    "--year",
    help="The register's year, Buddhist era (2563) or Gregorian (2020). Default: its latest year with entries.",
)
OUTPUT = typer.Option(
    None, "-o", "--output", help="Write to FILE.xlsx, FILE.pdf or FILE.csv (default: print the entries)."
)


def _register(
    kind: registers.Kind, agency: str, year: str | None, output: Path | None, database: str | None
) -> None:
    if output is not None and output.suffix.lower() not in WRITERS:
        raise fail(f"-o/--output {str(output)!r}: write to a .xlsx, .pdf or .csv file")
    try:
        ce_year = registers.gregorian_year(year) if year is not None else None
    except registers.RegisterError as exc:
        raise fail(f"--year: {exc}") from None
    with reading(database) as session:
        try:
            found = registers.register(session, kind, agency, ce_year)
        except registers.RegisterError as exc:
            raise fail(f"--agency: {exc}") from None
    if output is None:
        typer.echo(found.title)
        for values in rows(found):
            typer.echo("\t".join(values))
        return
    try:
        export(found, output)
    except OSError as exc:
        raise fail(f"-o/--output {str(output)!r}: cannot write it ({exc.strerror or exc})") from None
    count = len(found.entries)
    typer.echo(f"{found.title}: {count} {'entry' if count == 1 else 'entries'} written to {output}")


def received(
    agency: str = AGENCY,
    year: str | None = YEAR,
    output: Path | None = OUTPUT,
    database: str | None = DATABASE,
) -> None:
    """The agency's receipt register (ทะเบียนหนังสือรับ): every receipt of the year, stamped or registered."""
    _register("received", agency, year, output, database)


def sent(
    agency: str = AGENCY,
    year: str | None = YEAR,
    output: Path | None = OUTPUT,
    database: str | None = DATABASE,
) -> None:
    """The agency's dispatch register (ทะเบียนหนังสือส่ง): the letters it issued and the dispatches its
    clerks registered in the year (never what a routing plan only expects)."""
    _register("sent", agency, year, output, database)


def register(app: typer.Typer) -> None:
    """Add `register received` and `register sent` to the `saraban` command."""
    register_app.command("received")(received)
    register_app.command("sent")(sent)
    app.add_typer(register_app, name="register")
