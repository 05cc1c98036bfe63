"""The database URL (and its password) never becomes a Prefect parameter, log line or artifact."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from typer.testing import CliRunner

from cli.main import app
from flows.flag_overdue import flag_overdue
from models.db import RecordError


async def _stored(run_id: object) -> str:
    async with get_client() as client:
        run = await client.read_flow_run(run_id)  # type: ignore[arg-type]
        logs = await client.read_logs(
            log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])), limit=200, offset=0
        )  # type: ignore[list-item]
    return json.dumps(run.parameters, default=str) + "\n".join(entry.message for entry in logs)


def test_sweep_passes_a_reference_not_the_url(
    prefect_api: None, chain_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SARABAN_DATABASE_URL", "sqlite:///elsewhere.db")  # restored afterwards
    result = CliRunner().invoke(app, ["sweep", "--at", "2020-07-01T10:00", "--force", "--database", chain_db])
    assert result.exit_code == 0, result.output
    state = flag_overdue(at=None, force=True, return_state=True)  # the default reference
    stored = asyncio.run(_stored(state.state_details.flow_run_id))
    assert '"database": "SARABAN_DATABASE_URL"' in stored
    assert str(Path(chain_db.removeprefix("sqlite:///"))) not in stored


def test_a_url_given_as_the_reference_is_refused(prefect_api: None) -> None:
    with pytest.raises(RecordError, match=r"postgresql://clerk:\*\*\*@db/saraban.*not a URL"):
        flag_overdue(database="postgresql://clerk:s3cret@db/saraban", force=True)
