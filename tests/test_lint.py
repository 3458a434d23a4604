"""ruff, with the configuration of pyproject.toml (the default rules and sorted imports),
finds nothing in the code or the notebooks. `make test` installs ruff (requirements-dev.txt);
elsewhere the test is skipped."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None or
                    not (ROOT / "pyproject.toml").is_file(),
                    reason="ruff is not installed: pip install -r requirements-dev.txt")
def test_ruff_finds_nothing():
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=ROOT,
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
