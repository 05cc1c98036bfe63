"""Delivering the sweep's digests by e-mail (or any apprise URL), one message per agency per sweep.

Where each agency's digest goes is a setting, read by `load_routes` from the environment:

- `SARABAN_NOTIFY_FILE`: a YAML file mapping agency ids to an apprise URL each, plus a default for
  the agencies it does not name::

      default: mailtos://alerts:SECRET@smtp.example.go.th?to=saraban@example.go.th
      agencies:
        province:21: mailtos://alerts:SECRET@smtp.example.go.th?to=saraban@rayong.go.th
        province:54: mailto://smtp.phrae.go.th?from=saraban@phrae.go.th&to=ops@phrae.go.th&cc=gov@phrae.go.th

- `SARABAN_NOTIFY_URLS`: the default apprise URL without a file; the file's `default` wins.

With neither set nothing is sent. An agency with no URL of its own and no default gets no message.
One URL per agency, so one message per agency per sweep; more recipients of that message go in
`cc=` (apprise sends `to=a@x,b@x` as one message to each). The link in each message is
`SARABAN_BASE_URL` (the dashboard's address; default http://127.0.0.1:8000) +
`/agencies/ID?as_of=D`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import apprise
import yaml

from records.digests import Digest

ENV_FILE = "SARABAN_NOTIFY_FILE"
ENV_URLS = "SARABAN_NOTIFY_URLS"
ENV_BASE_URL = "SARABAN_BASE_URL"
DEFAULT_BASE_URL = "http://127.0.0.1:8000"


class NotifyError(ValueError):
    """The notification setting cannot be used (its file, a key or a URL is wrong)."""


def base_url(environ: Mapping[str, str] | None = None) -> str:
    """The dashboard's address for links in messages (`SARABAN_BASE_URL`)."""
    env = os.environ if environ is None else environ
    url = env.get(ENV_BASE_URL, "").strip() or DEFAULT_BASE_URL
    if not url.startswith(("http://", "https://")):
        raise NotifyError(f"{ENV_BASE_URL}={url!r}: expected an http:// or https:// address")
    return url.rstrip("/")


@dataclass(frozen=True)
class Routes:
    """Where digests go: one apprise URL per agency id, and a default for the others."""

    agencies: Mapping[str, str] = field(default_factory=dict)
    default: str | None = None

    def url_for(self, agency_id: str) -> str | None:
        return self.agencies.get(agency_id) or self.default

    @property
    def configured(self) -> bool:
        return bool(self.agencies or self.default)


def _scheme(url: str) -> str:
    """A URL shown without its credentials: only its scheme."""
    return url.split("://", 1)[0] + "://…" if "://" in url else "(no scheme)"


def _url(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        # One URL: one message per agency (more recipients of it go in the URL's `cc=`).
        raise NotifyError(f"{where}: expected one apprise URL, got {type(value).__name__}")
    url = value.strip()
    if apprise.Apprise.instantiate(url) is None:
        raise NotifyError(f"{where}: {_scheme(url)} is not a notification URL apprise can use")
    return url


def load_routes(environ: Mapping[str, str] | None = None) -> Routes:
    """The routes the environment configures (empty when none): checked, so that a bad setting
    fails before a sweep flags anything."""
    env = os.environ if environ is None else environ
    raw = env.get(ENV_URLS, "").strip()
    default = _url(raw, ENV_URLS) if raw else None
    path = env.get(ENV_FILE, "").strip()
    if not path:
        return Routes(default=default)
    try:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise NotifyError(f"{ENV_FILE}={path}: cannot read it ({e.strerror})") from e
    except yaml.YAMLError as e:
        raise NotifyError(f"{ENV_FILE}={path}: not YAML ({e})") from e
    loaded = {} if loaded is None else loaded
    if not isinstance(loaded, dict) or set(loaded) - {"default", "agencies"}:
        raise NotifyError(f"{path}: expected a mapping with `default` and/or `agencies`")
    if loaded.get("default") is not None:
        default = _url(loaded["default"], f"{path}: default")
    agencies = loaded.get("agencies") or {}
    if not isinstance(agencies, dict):
        raise NotifyError(f"{path}: agencies: expected a mapping of agency id to an apprise URL")
    routes = {str(k): _url(v, f"{path}: agencies: {k}") for k, v in agencies.items()}
    return Routes(agencies=routes, default=default)


@dataclass(frozen=True)
class Delivery:
    """What became of one digest's message."""

    agency_id: str
    addressed: bool  # False: no URL configured for the agency (nor a default)
    sent: bool
    error: str = ""


def deliver(digests: Sequence[Digest], routes: Routes) -> list[Delivery]:
    """Send each digest once, as plain Thai text, to its agency's URL (or the default).

    A failure is reported for that agency and the others are still sent."""
    out: list[Delivery] = []
    for digest in digests:
        url = routes.url_for(digest.agency_id)
        if url is None:
            out.append(Delivery(digest.agency_id, False, False, "no address configured"))
            continue
        sender = apprise.Apprise()
        sender.add(url)
        # apprise's LogCapture is untyped: it collects the plugin's warnings (why a send failed).
        with apprise.LogCapture(level=apprise.logging.WARNING) as logs:  # type: ignore[no-untyped-call]
            ok = sender.notify(title=digest.subject, body=digest.body, body_format=apprise.NotifyFormat.TEXT)
        error = "" if ok else (logs.getvalue().strip().splitlines() or ["not sent"])[-1]
        out.append(Delivery(digest.agency_id, True, bool(ok), error))
    return out
