"""The `saraban` command: a thin layer that parses arguments, calls one library function, prints.

Each command group lives in its own module with a `register(app)` function.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="saraban",
    help="saraban-flow: track Thai official letters (หนังสือราชการ) down the government hierarchy.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """saraban-flow: track Thai official letters (หนังสือราชการ) down the government hierarchy."""


# One module per area; each defines register(app). Listed here so the command set is explicit.
COMMAND_MODULES = (
    "cli.parse",
    "cli.records",
    "cli.progress",
    "cli.graph",
    "cli.serve",
    "cli.audit",
    "cli.clerk",
    "cli.review",
    "cli.corrections",  # after cli.records: it makes `letter` a group (`letter correct`)
    "cli.registers",
    "cli.users",
)

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
