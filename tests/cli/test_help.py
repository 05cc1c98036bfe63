"""Every command documents itself."""

from __future__ import annotations

from typer.main import get_command
from typer.testing import CliRunner

from cli.main import app


def test_every_command_has_help_text() -> None:
    group = get_command(app)
    runner = CliRunner()
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        assert (command.help or "").strip(), f"saraban {name} has no help text"
        result = runner.invoke(app, [name, "--help"])
        assert result.exit_code == 0, result.output
