"""What pages and forms take from sign-in: the signed-in user and the CSRF field of a form.

The sign-in middleware (`app.auth`) puts both on `request.state` for every request; templates and
routes read them only through these functions, so a page never depends on how sign-in works.
With no user on record the dashboard is open (a fresh demo) and `current_user` is None.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from markupsafe import Markup, escape

CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class SignedIn:
    """The user a request acts for."""

    username: str
    role: str  # clerk | administrator | auditor
    agency_id: str | None  # None for an auditor of everything


def current_user(request: Request) -> SignedIn | None:
    user = getattr(request.state, "user", None)
    return user if isinstance(user, SignedIn) else None


def csrf_token(request: Request) -> str | None:
    token = getattr(request.state, "csrf_token", None)
    return token if isinstance(token, str) else None


def csrf_input(request: Request) -> Markup:
    """The hidden field every POST form carries (empty when the request has no token)."""
    token = csrf_token(request)
    if token is None:
        return Markup("")
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, escape(token))
