"""Every call into Prefect's client API (artifacts, events) lives here, so flows stay plain."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.events import emit_event

OVERDUE_EVENT = "saraban.handoff.overdue"
LATE_EVENT = "saraban.handoff.late"


def publish_table(key: str, rows: list[Mapping[str, Any]], description: str) -> None:
    """A Prefect table artifact (keys must be lowercase letters, digits and dashes)."""
    create_table_artifact(key=key, table=[dict(r) for r in rows], description=description)


def publish_markdown(key: str, markdown: str, description: str) -> None:
    create_markdown_artifact(key=key, markdown=markdown, description=description)


def emit_handoff_events(items: Iterable[Mapping[str, Any]], event: str = OVERDUE_EVENT) -> int:
    """One event per handoff (`saraban.handoff.overdue` for the newly overdue, `saraban.handoff.late`
    for those newly recorded late); the resource is the handoff."""
    count = 0
    for item in items:
        emit_event(
            event=event,
            resource={
                "prefect.resource.id": f"saraban.handoff.{item['handoff_id']}",
                "prefect.resource.name": f"{item['agency']} ← {item['letter']}",
                "saraban.circular": str(item["circular"]),
            },
            related=[
                {
                    "prefect.resource.id": f"saraban.agency.{item['agency_id']}",
                    "prefect.resource.role": "agency",
                },
                {
                    "prefect.resource.id": f"saraban.agency.{item['escalate_to_id']}",
                    "prefect.resource.role": "escalate-to",
                },
            ],
            payload={k: (str(v) if v is not None else None) for k, v in item.items()},
        )
        count += 1
    return count
