"""ruff, with the configuration of pyproject.toml (the default rules and sorted imports),
finds nothing in the code or the notebooks, and `ruff format` would change nothing. `make test` installs ruff (requirements-dev.txt);
elsewhere the test is skipped."""

import ast
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(
    importlib.util.find_spec("ruff") is None or not (ROOT / "pyproject.toml").is_file(),
    reason="ruff is not installed: pip install -r requirements-dev.txt",
)
@pytest.mark.parametrize("command", [["check", "--no-cache"], ["format", "--check", "--no-cache"]])
def test_ruff_finds_nothing(command):
    run = subprocess.run(
        [sys.executable, "-m", "ruff", *command, "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr


def imported_modules(path: Path) -> set[str]:
    """Return the modules a script imports (absolute imports only)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    return names | {
        f"{node.module}.{alias.name}" if node.module == "seed_study" else node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 0
        for alias in node.names
    }


def test_every_module_the_scripts_import_exists(monkeypatch):
    """bench/ and tools/ run as scripts, outside the tests: a renamed module fails here first."""
    monkeypatch.syspath_prepend(str(ROOT))
    for script in sorted((ROOT / "bench").glob("*.py")) + sorted((ROOT / "tools").glob("*.py")):
        for name in sorted(imported_modules(script)):
            assert importlib.util.find_spec(name) is not None, f"{script.name} imports {name}"
