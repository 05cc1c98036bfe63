"""The dashboard's users (ผู้ใช้): who they are, what they may see, and their sign-ins.

A user is a clerk (เจ้าหน้าที่สารบรรณ) or an administrator (ผู้ดูแล) of one agency, or an
auditor (ผู้ตรวจสอบ) of everything. Passwords are hashed with argon2id (argon2-cffi); neither the
password nor its hash ever leaves this module in an event, a message or a repr.

Sign-in attempts are limited per account: after `LOCK_AFTER` wrong passwords in a row the account
is locked for `LOCK_FIRST`, doubling with every further wrong password up to `LOCK_MAX` (20 wrong
in a row: locked for an hour). Attempts while locked are refused without looking at the password
and do not extend the lock (so nobody can keep another's account locked for longer by guessing);
a right password resets the count.

Scopes follow the record's agency tree (`agency.parent_id`, filled from `routing.directory`): a
clerk sees their own agency; an administrator their agency and everything below it (a province
its districts and local bodies; DLA, whose circulars go to every governor, every province:
`ROUTE_BELOW`); an auditor everything, and writes nothing.

Every change is an event with its actor (`user.added`, `user.disabled`, `user.enabled`,
`user.password_set`, `user.signed_in`, `user.sign_in_failed`, `user.signed_out`). Users are not state the log can
rebuild (it carries no hash), so those events carry an empty `rows` snapshot: replay passes them by.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Protocol

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, col, select

from models.letters import Agency
from models.tables import (
    INGEST_EVENT_SQL,
    USER_ROLES,
    AgencyRow,
    Dispatch,
    Event,
    Handoff,
    LetterRow,
    Receipt,
    ScanPage,
    User,
    new_row,
)
from models.thai import now_bangkok
from records.events import append_event
from records.service import ensure_agency
from routing.directory import load_directory

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024  # argon2 takes any length; this bounds the work an attacker can ask for
LOCK_AFTER = 5
LOCK_FIRST = timedelta(seconds=30)
LOCK_MAX = timedelta(hours=1)
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")
ANONYMOUS = "anonymous"
# Downstream beyond the directory's tree: DLA writes to every provincial governor (DLA -> provinces
# in the chain of `routing.chain`), though the directory hangs provinces from Interior (`moi`). An
# administrator of DLA therefore sees every province and what lies below it.
ROUTE_BELOW: dict[str, str] = {"dla": "province:"}
# Events about users change no state table: an empty snapshot tells replay there is nothing to redo.
_NO_ROWS: dict[str, Any] = {"rows": {}}

_hasher = PasswordHasher()


class Member(Protocol):
    """Whom a scope is reckoned for: a `UserInfo`, or the dashboard's `app.security.SignedIn`."""

    @property
    def role(self) -> str: ...

    @property
    def agency_id(self) -> str | None: ...


class UserError(ValueError):
    """A user cannot be added or changed as asked; the message says why."""


@dataclass(frozen=True)
class UserInfo:
    """What may be shown of a user (no hash)."""

    username: str
    role: str
    agency_id: str | None
    disabled: bool
    session_epoch: int
    failed_attempts: int
    locked_until: datetime | None
    created_at: datetime
    last_sign_in_at: datetime | None


@dataclass(frozen=True)
class SignInOutcome:
    """The result of one sign-in attempt: `user` when it succeeded, else why not (for the log and
    the operator; the sign-in page shows one message for every failure)."""

    user: UserInfo | None
    reason: str  # "ok" | "unknown user" | "disabled" | "locked" | "wrong password"
    locked_until: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.user is not None


def _info(user: User) -> UserInfo:
    return UserInfo(
        username=user.username,
        role=user.role,
        agency_id=user.agency_id,
        disabled=user.disabled,
        session_epoch=user.session_epoch,
        failed_attempts=user.failed_attempts,
        locked_until=user.locked_until,
        created_at=user.created_at,
        last_sign_in_at=user.last_sign_in_at,
    )


def normalise_username(name: str) -> str:
    """Usernames are compared without case and surrounding spaces.

    >>> normalise_username("  Rayong.Clerk ")
    'rayong.clerk'
    """
    return name.strip().lower()


def lock_duration(failed_attempts: int) -> timedelta | None:
    """How long an account is locked after this many wrong passwords in a row (None: not locked).

    >>> [lock_duration(n) for n in (4, 5, 6)]
    [None, datetime.timedelta(seconds=30), datetime.timedelta(seconds=60)]
    >>> lock_duration(20)
    datetime.timedelta(seconds=3600)
    """
    if failed_attempts < LOCK_AFTER:
        return None
    doublings = min(failed_attempts - LOCK_AFTER, 32)
    lock: timedelta = LOCK_FIRST * (2**doublings)
    return min(lock, LOCK_MAX)


@cache
def _decoy_hash() -> str:
    # Verified against when there is no such user, so that an unknown name costs as much time as a
    # wrong password and timing does not tell which usernames exist.
    return _hasher.hash("decoy password, never valid")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _event(session: Session, kind: str, username: str, payload: dict[str, Any], actor: str | None) -> None:
    append_event(session, kind, f"user:{username}", {**payload, **_NO_ROWS}, actor=actor)


def _agency_on_record(session: Session, agency_id: str) -> str:
    """The agency's id, its row added from the directory when the record does not have it yet."""
    if session.get(AgencyRow, agency_id) is not None:
        return agency_id
    directory = load_directory()
    if agency_id not in directory:
        raise UserError(f"agency {agency_id!r} is neither on record nor in the directory")
    known: Agency = directory[agency_id]
    # Its parents first, so that the new row's scope (walked up by parent_id) reaches the top.
    chain = [known]
    while chain[-1].parent is not None and session.get(AgencyRow, chain[-1].parent) is None:
        chain.append(directory[chain[-1].parent])
    for agency in reversed(chain):
        ensure_agency(session, agency, actor="directory")
    return agency_id


def check_password(password: str) -> None:
    """Refuse a password too short or too long to be a password (UserError)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password too short: at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserError(f"password too long: at most {MAX_PASSWORD_LENGTH} characters")


def add_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    agency_id: str | None,
    *,
    actor: str | None = None,
) -> UserInfo:
    """Add a user in the caller's transaction, with a `user.added` event by `actor` (default: the
    operator, `records.events.default_actor`).

    A clerk and an administrator belong to one agency (on record or in the directory); an
    auditor sees every agency and has none.
    """
    name = normalise_username(username)
    if not USERNAME_RE.match(name):
        raise UserError(
            f"username {username!r}: 1-64 characters, letters a-z, digits and . _ @ -, starting with"
            " a letter or digit"
        )
    if role not in USER_ROLES:
        raise UserError(f"role {role!r}: one of {', '.join(USER_ROLES)}")
    if role == "auditor" and agency_id:
        raise UserError("an auditor sees every agency: give no agency")
    if role != "auditor" and not agency_id:
        raise UserError(f"a {role} belongs to one agency: give its id (e.g. province:21)")
    check_password(password)
    if session.get(User, name) is not None:
        raise UserError(f"user {name!r} already exists")
    agency = _agency_on_record(session, agency_id) if agency_id else None
    user = new_row(
        User,
        username=name,
        role=role,
        agency_id=agency,
        password_hash=_hasher.hash(password),
        created_at=now_bangkok(),
    )
    session.add(user)
    session.flush()
    _event(session, "user.added", name, {"username": name, "role": role, "agency_id": agency}, actor)
    return _info(user)


def _existing(session: Session, username: str) -> User:
    user = session.get(User, normalise_username(username))
    if user is None:
        raise UserError(f"no user {username!r}")
    return user


def set_disabled(session: Session, username: str, disabled: bool, *, actor: str | None = None) -> UserInfo:
    """Disable (or enable again) a user, with a `user.disabled`/`user.enabled` event. A disabled
    user's sessions end on their next request; enabling also lifts a sign-in lock."""
    user = _existing(session, username)
    if user.disabled == disabled:
        return _info(user)
    user.disabled = disabled
    user.session_epoch += 1
    if not disabled:
        user.failed_attempts, user.locked_until = 0, None
    session.flush()
    _event(session, "user.disabled" if disabled else "user.enabled", user.username, {}, actor)
    return _info(user)


def set_password(session: Session, username: str, password: str, *, actor: str | None = None) -> UserInfo:
    """Give a user a new password (an operator's reset), with a `user.password_set` event (no hash):
    their open sessions end and a sign-in lock is lifted."""
    check_password(password)
    user = _existing(session, username)
    user.password_hash = _hasher.hash(password)
    user.session_epoch += 1
    user.failed_attempts, user.locked_until = 0, None
    session.flush()
    _event(session, "user.password_set", user.username, {}, actor)
    return _info(user)


def list_users(session: Session) -> list[UserInfo]:
    return [_info(u) for u in session.exec(select(User).order_by(col(User.username)))]


def has_users(session: Session) -> bool:
    """Whether any user is on record (none: the dashboard is open, as a fresh demo is)."""
    return session.exec(select(User.username).limit(1)).first() is not None


def get_user(session: Session, username: str) -> UserInfo | None:
    user = session.get(User, username)
    return None if user is None else _info(user)


def sign_in(
    session: Session, username: str, password: str, *, client: str | None = None, at: datetime | None = None
) -> SignInOutcome:
    """Check a sign-in attempt and record it (the count of wrong passwords, the lock, the event),
    in the caller's transaction, which must be committed even when the attempt fails."""
    at = at or now_bangkok()
    name = normalise_username(username)[:64]
    where = {"client": client} if client else {}
    well_formed = USERNAME_RE.match(name) is not None
    user = session.get(User, name) if well_formed else None
    if user is None or user.disabled:
        _verify(_decoy_hash(), password)
        reason = "unknown user" if user is None else "disabled"
        # A name no user could have is not logged: it may be a password typed in the wrong field.
        _event(
            session,
            "user.sign_in_failed",
            name if well_formed else "?",
            {"reason": reason, **where},
            ANONYMOUS,
        )
        return SignInOutcome(None, reason)
    if user.locked_until is not None and at < user.locked_until:
        _event(
            session,
            "user.sign_in_failed",
            name,
            {"reason": "locked", "locked_until": user.locked_until.isoformat(), **where},
            ANONYMOUS,
        )
        return SignInOutcome(None, "locked", user.locked_until)
    if not _verify(user.password_hash, password):
        user.failed_attempts += 1
        lock = lock_duration(user.failed_attempts)
        user.locked_until = at + lock if lock is not None else None
        session.flush()
        payload: dict[str, Any] = {"reason": "wrong password", "failed_attempts": user.failed_attempts}
        if user.locked_until is not None:
            payload["locked_until"] = user.locked_until.isoformat()
        _event(session, "user.sign_in_failed", name, {**payload, **where}, ANONYMOUS)
        return SignInOutcome(None, "wrong password", user.locked_until)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.failed_attempts, user.locked_until, user.last_sign_in_at = 0, None, at
    session.flush()
    _event(session, "user.signed_in", name, where, name)
    return SignInOutcome(_info(user), "ok")


def sign_out(session: Session, username: str, *, client: str | None = None) -> None:
    """End every session of the user (the epoch in their session cookies no longer matches)."""
    user = _existing(session, username)
    user.session_epoch += 1
    session.flush()
    _event(session, "user.signed_out", user.username, {"client": client} if client else {}, user.username)


# --- scopes -------------------------------------------------------------------------------------


def _parent(session: Session, agency_id: str) -> str | None:
    row = session.get(AgencyRow, agency_id)
    if row is not None:
        return row.parent_id
    directory = load_directory()
    return directory.parent(agency_id) if agency_id in directory else None


def within(session: Session, agency_id: str, top: str) -> bool:
    """Whether `agency_id` is `top` or lies below it in the agency tree (or on `top`'s route:
    `ROUTE_BELOW`).

    Walks up from `agency_id` by parent (the record's, else the directory's): a handful of
    lookups, whatever the size of `top`'s subtree.
    """
    below = ROUTE_BELOW.get(top)
    seen: set[str] = set()
    current: str | None = agency_id
    while current is not None and current not in seen:
        if current == top or (below is not None and current.startswith(below)):
            return True
        seen.add(current)
        current = _parent(session, current)
    return False


def _subtree(top: str) -> Any:
    """A recursive CTE of the ids of `top` and every agency below it on record (and on its route)."""
    agency = AgencyRow.__table__  # type: ignore[attr-defined]
    start = agency.c.id == top
    below = ROUTE_BELOW.get(top)
    if below is not None:
        start = sa.or_(start, agency.c.id.startswith(below, autoescape=True))
    tree = sa.select(agency.c.id).where(start).cte("scope", recursive=True)
    return tree.union_all(sa.select(agency.c.id).where(agency.c.parent_id == tree.c.id))


def agencies_below(session: Session, top: str) -> frozenset[str]:
    """`top` and every agency below it on record (a province: its districts and local bodies)."""
    tree = _subtree(top)
    return frozenset(session.execute(sa.select(tree.c.id)).scalars()) | {top}


def visible_agencies(session: Session, user: Member) -> frozenset[str] | None:
    """The agencies `user` may see; None for every agency (an auditor)."""
    if user.role == "auditor" or user.agency_id is None:
        return None
    if user.role == "clerk":
        return frozenset({user.agency_id})
    return agencies_below(session, user.agency_id)


def may_see(session: Session, user: Member, agency_id: str) -> bool:
    if user.role == "auditor":
        return True
    if user.agency_id is None:
        return False
    if user.role == "clerk":
        return agency_id == user.agency_id
    return within(session, agency_id, user.agency_id)


def _scope_ids(user: Member) -> Any:
    """A selectable of the ids in `user`'s scope (not for an auditor)."""
    assert user.agency_id is not None
    if user.role == "clerk":
        return sa.select(sa.literal(user.agency_id))
    tree = _subtree(user.agency_id)
    return sa.select(tree.c.id)


def _any_exists(session: Session, queries: Iterable[Any]) -> bool:
    return any(session.execute(sa.select(sa.exists(q))).scalar() for q in queries)


def circular_in_scope(session: Session, user: Member, circular_id: str) -> bool:
    """Whether the circular reached, or was sent by, an agency in `user`'s scope (or was issued by
    one: its letters' issuer)."""
    if user.role == "auditor":
        return True
    if user.agency_id is None:
        return False
    ids = _scope_ids(user)
    return _any_exists(
        session,
        [
            sa.select(col(Handoff.id)).where(
                col(Handoff.circular_id) == circular_id, col(Handoff.recipient_id).in_(ids)
            ),
            sa.select(col(Dispatch.id)).where(
                col(Dispatch.circular_id) == circular_id, col(Dispatch.sender_id).in_(ids)
            ),
            sa.select(col(LetterRow.id)).where(
                col(LetterRow.circular_id) == circular_id, col(LetterRow.issuer_id).in_(ids)
            ),
        ],
    )


def letters_in_scope(session: Session, user: Member, letter_ids: Sequence[int]) -> bool:
    """Whether any of the letters was issued by, received by, or sent to an agency in `user`'s
    scope (a letter's page shows one letter; several share a number across years)."""
    if user.role == "auditor":
        return True
    if user.agency_id is None or not letter_ids:
        return False
    ids = _scope_ids(user)
    sent_to = (
        sa.select(col(Handoff.id))
        .join(Dispatch, col(Dispatch.id) == col(Handoff.dispatch_id))
        .where(col(Dispatch.letter_id).in_(letter_ids), col(Handoff.recipient_id).in_(ids))
    )
    return _any_exists(
        session,
        [
            sa.select(col(LetterRow.id)).where(
                col(LetterRow.id).in_(letter_ids), col(LetterRow.issuer_id).in_(ids)
            ),
            sa.select(col(Receipt.id)).where(
                col(Receipt.letter_id).in_(letter_ids), col(Receipt.agency_id).in_(ids)
            ),
            sa.select(col(Dispatch.id)).where(
                col(Dispatch.letter_id).in_(letter_ids), col(Dispatch.sender_id).in_(ids)
            ),
            sent_to,
        ],
    )


def scan_page_letters(session: Session, page_id: int) -> list[int]:
    """The letters read from the scanned file a stored page belongs to (its `ingest.file` events
    name the file and its sha256); empty when there is no such page."""
    page = session.get(ScanPage, page_id)
    if page is None:
        return []
    files = sa.select(col(Event.subject)).where(
        sa.text(INGEST_EVENT_SQL), col(Event.payload).contains(f'"sha256":"{page.sha256}"', autoescape=True)
    )
    return [i for i in session.exec(select(LetterRow.id).where(col(LetterRow.source_file).in_(files))) if i]
