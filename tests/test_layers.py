"""The layers run one way: models <- routing <- visualize <- flows <- interfaces."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

FORBIDDEN = {
    "models": {"prefect", "graphviz", "fastapi", "typer"},
    "routing": {"prefect", "graphviz", "sqlmodel", "sqlalchemy", "fastapi", "typer", "records", "flows"},
    "visualize": {"prefect", "sqlmodel", "sqlalchemy", "fastapi", "typer", "flows"},
}


def _modules_after_import(package: str) -> set[str]:
    code = (
        "import importlib, json, pkgutil, sys\n"
        f"pkg = importlib.import_module({package!r})\n"
        "for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(json.dumps(sorted({n.split('.')[0] for n in sys.modules})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_nothing_from_outer_layers(package: str) -> None:
    loaded = _modules_after_import(package)
    assert not (loaded & FORBIDDEN[package]), f"{package} pulls in {sorted(loaded & FORBIDDEN[package])}"


def test_importing_models_opens_no_database(tmp_path) -> None:
    env_code = "import models, models.letters, models.thai; import os; print(os.listdir('.'))"
    out = subprocess.run(
        [sys.executable, "-c", env_code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        check=True,
    )
    assert out.stdout.strip() == "[]"
