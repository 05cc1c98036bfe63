"""`saraban user`: the dashboard's users (add, list, disable, enable, password).

A clerk or an administrator belongs to one agency (`--agency province:21`); an auditor sees every
agency and has none. The password is read from standard input with `--password-stdin` (one line),
else asked for twice without echo; it is stored as an argon2 hash and never printed or logged.
"""

from __future__ import annotations

import json
import sys

import typer
from rich.console import Console
from rich.table import Table

from cli.common import DATABASE, fail, open_record
from models.db import session_scope
from models.tables import USER_ROLES
from records.users import (
    UserError,
    UserInfo,
    add_user,
    check_password,
    list_users,
    set_disabled,
    set_password,
)

ACTOR = typer.Option(
    None, "--actor", envvar="SARABAN_ACTOR", help="Who makes the change (default: the OS user)."
)
ROLE_TH = {"clerk": "เจ้าหน้าที่", "administrator": "ผู้ดูแล", "auditor": "ผู้ตรวจสอบ"}

user_app = typer.Typer(
    help="The dashboard's users: add, list, disable, enable, password.", no_args_is_help=True
)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise fail("--password-stdin: standard input is empty (give the password on one line)")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise fail("no terminal to ask for the password: pipe it in with --password-stdin")
    return str(typer.prompt("password", hide_input=True, confirmation_prompt=True))


def _shown(user: UserInfo) -> dict[str, object]:
    return {
        "username": user.username,
        "role": user.role,
        "agency_id": user.agency_id,
        "disabled": user.disabled,
        "locked_until": user.locked_until.isoformat() if user.locked_until else None,
        "failed_attempts": user.failed_attempts,
        "created_at": user.created_at.isoformat(),
        "last_sign_in_at": user.last_sign_in_at.isoformat() if user.last_sign_in_at else None,
    }


@user_app.command("add")
def add(
    name: str = typer.Argument(..., metavar="NAME", help="Username: a-z, digits and . _ @ - (case ignored)."),
    role: str = typer.Option(..., "--role", help=f"One of: {', '.join(USER_ROLES)}."),
    agency: str | None = typer.Option(
        None,
        "--agency",
        help="The agency of a clerk or administrator, e.g. province:21 (none for an auditor).",
    ),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
    actor: str | None = ACTOR,
    database: str | None = DATABASE,
) -> None:
    """Add a user who may sign in to the dashboard (`saraban serve`)."""
    password = _password(password_stdin)
    try:
        check_password(password)
        with session_scope(open_record(database)) as session:
            user = add_user(session, name, password, role, agency, actor=actor)
    except UserError as exc:
        raise fail(f"user {name!r}: {exc}") from None
    where = f" of {user.agency_id}" if user.agency_id else " of every agency (read-only)"
    typer.echo(f"added {user.username}: {user.role} ({ROLE_TH[user.role]}){where}")


@user_app.command("list")
def list_(
    as_json: bool = typer.Option(False, "--json", help="Print the users as JSON."),
    database: str | None = DATABASE,
) -> None:
    """List the users: role, agency, disabled or locked, last sign-in (never a password or hash)."""
    with session_scope(open_record(database), readonly=True) as session:
        found = list_users(session)
    if as_json:
        typer.echo(json.dumps([_shown(u) for u in found], ensure_ascii=False, indent=2))
        return
    if not found:
        typer.echo("no users: the dashboard is open to anyone who can reach it")
        return
    table = Table(title=f"{len(found)} user(s)")
    for column in ("username", "role", "agency", "state", "last sign-in"):
        table.add_column(column, no_wrap=True)
    for u in found:
        state = (
            "disabled"
            if u.disabled
            else (f"locked until {u.locked_until:%Y-%m-%d %H:%M}" if u.locked_until else "active")
        )
        table.add_row(
            u.username,
            u.role,
            u.agency_id or "(all)",
            state,
            f"{u.last_sign_in_at:%Y-%m-%d %H:%M}" if u.last_sign_in_at else "-",
        )
    Console().print(table)


def _set_disabled(name: str, disabled: bool, actor: str | None, database: str | None) -> None:
    try:
        with session_scope(open_record(database)) as session:
            user = set_disabled(session, name, disabled, actor=actor)
    except UserError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"{user.username}: {'disabled' if user.disabled else 'enabled'}")


@user_app.command("disable")
def disable(
    name: str = typer.Argument(..., metavar="NAME", help="The username."),
    actor: str | None = ACTOR,
    database: str | None = DATABASE,
) -> None:
    """Disable a user: they can no longer sign in, and their open sessions end."""
    _set_disabled(name, True, actor, database)


@user_app.command("enable")
def enable(
    name: str = typer.Argument(..., metavar="NAME", help="The username."),
    actor: str | None = ACTOR,
    database: str | None = DATABASE,
) -> None:
    """Enable a disabled user again (also lifts a lock earned by wrong passwords)."""
    _set_disabled(name, False, actor, database)


@user_app.command("password")
def password(
    name: str = typer.Argument(..., metavar="NAME", help="The username."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from stdin."),
    actor: str | None = ACTOR,
    database: str | None = DATABASE,
) -> None:
    """Set a user's password (a reset): their open sessions end and a sign-in lock is lifted."""
    new = _password(password_stdin)
    try:
        check_password(new)
        with session_scope(open_record(database)) as session:
            user = set_password(session, name, new, actor=actor)
    except UserError as exc:
        raise fail(f"user {name!r}: {exc}") from None
    typer.echo(f"{user.username}: password set; open sessions ended")


def register(app: typer.Typer) -> None:
    """Add `user` (`add`, `list`, `disable`, `enable`, `password`) to the `saraban` command."""
    app.add_typer(user_app, name="user")
