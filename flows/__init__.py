"""Prefect flows of saraban-flow.

Telemetry off for every run the product starts: set here, before any flow module imports Prefect
(a package's `__init__` runs first), so that the CLI, the demo and a worker loading a deployment's
entrypoint all send nothing. An operator who wants it can still set the variables explicitly.
"""

import os

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
