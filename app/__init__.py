"""The web dashboard: read-only FastAPI pages over the record (`create_app`)."""

from __future__ import annotations

from app.main import create_app

__all__ = ["create_app"]
