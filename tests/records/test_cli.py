"""`saraban ingest / chain / letter` on a Typer app of our own (register(app))."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cli.records import register

pytest.importorskip("models.parser")


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_ingest_chain_letter(app: typer.Typer, seed_files: list[Path], tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"SARABAN_DATABASE_URL": f"sqlite:///{tmp_path}/cli.db", "SARABAN_ACTOR": "cli-test"}
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not a picture")  # a file-level fault: nothing in it can be read
    first = runner.invoke(app, ["ingest", str(bad), *map(str, seed_files)], env=env)
    assert first.exit_code == 2
    assert f"{bad}:1: file:" in first.stderr and "Traceback" not in first.output
    assert "added" in first.stdout
    again = runner.invoke(app, ["ingest", *map(str, seed_files)], env=env)
    assert again.exit_code == 0 and "0 added, 0 merged" in again.stdout

    chain = runner.invoke(app, ["chain", "--json"], env=env)
    assert chain.exit_code == 0
    data = json.loads(chain.stdout)
    assert set(data) == {"letters", "edges", "receipts"}
    assert {"from": "นร 1220/55", "to": "มท 0218/ว 3182", "kind": "encloses"} in data["edges"]
    readable = runner.invoke(app, ["chain"], env=env)
    assert readable.exit_code == 0 and "มท 0218/ว 3182" in readable.stdout

    letter = runner.invoke(app, ["letter", "นร ๑๒๒๐/๘๕", "--json"], env=env)
    assert letter.exit_code == 0 and json.loads(letter.stdout)["number"] == "นร 1220/55"
    shown = runner.invoke(app, ["letter", "นร 1220/85"], env=env)
    assert shown.exit_code == 0 and "๕/๘" in shown.stdout
    missing = runner.invoke(app, ["letter", "นร 9999/1"], env=env)
    assert missing.exit_code == 2 and "no letter" in missing.stderr


def test_record_text_is_not_rich_markup(app: typer.Typer, tmp_path: Path) -> None:
    """A subject holding "[/x]" (a closing tag that matches nothing: rich would raise) and "[bold]"
    prints as itself in `letter` and `chain`."""
    subject = "แผน [/x] ประจำปี [bold]ด่วน[/bold]"
    source = tmp_path / "markup.txt"
    source.write_text(
        "กระทรวงมหาดไทย\n\nที่ มท ๐๒๑๘/ว ๙๙๙๙\n\n๑ มิถุนายน ๒๕๖๓\n\n"
        f"เรื่อง {subject}\n\nเรียน ผู้ว่าราชการจังหวัดทุกจังหวัด\n\n"
        "จึงเรียนมาเพื่อโปรดทราบ\n\nขอแสดงความนับถือ\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    env = {"SARABAN_DATABASE_URL": f"sqlite:///{tmp_path}/markup.db", "SARABAN_ACTOR": "clerk [/x]"}
    ingested = runner.invoke(app, ["ingest", str(source)], env=env)
    assert ingested.exit_code == 0, ingested.output
    assert "1 added" in ingested.stdout

    shown = runner.invoke(app, ["letter", "มท 0218/ว 9999"], env=env)
    assert shown.exit_code == 0, shown.output
    assert f"subject: {subject}" in shown.stdout
    chain = runner.invoke(app, ["chain"], env=env, terminal_width=200)
    assert chain.exit_code == 0, chain.output
    assert "มท 0218/ว 9999" in chain.stdout


def test_chain_and_letter_read_without_migrating(app: typer.Typer, tmp_path: Path) -> None:
    """Read-only: an empty database is refused untouched (nothing created, nothing migrated)."""

    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    env = {"SARABAN_DATABASE_URL": f"sqlite:///{path}"}
    for argv in (["chain"], ["letter", "มท 0218/ว 9999"]):
        result = CliRunner().invoke(app, argv, env=env)
        assert result.exit_code == 2, result.output
        assert "no record" in result.stderr
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT name FROM sqlite_master").fetchall() == []
    missing = CliRunner().invoke(
        app, ["chain"], env={"SARABAN_DATABASE_URL": f"sqlite:///{tmp_path}/typo.db"}
    )
    assert missing.exit_code == 2 and not (tmp_path / "typo.db").exists()
