"""conftest's checks of the checkout: a test run that changed a tracked file fails
(pytest_sessionfinish, in the controller under pytest-xdist), and a damaged committed file
stops the tests before they start, with one message (pytest_sessionstart)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_runs import project_copy

from conftest import changed_files, committed_file_problem, tracked_changes

ROOT = Path(__file__).resolve().parents[1]


def test_the_check_names_each_tracked_file_the_run_changed_and_no_other(tmp_path):
    git = shutil.which("git") or pytest.skip("git not found")
    checkout, outside = tmp_path / "checkout", tmp_path / "outside"
    outside.mkdir()
    checkout.mkdir()
    for name in ("kept", "edited", "edited-before", "deleted"):
        (checkout / name).write_text(name)
    for command in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "start"]):
        subprocess.run(
            [
                git,
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "commit.gpgsign=false",
                *command,
            ],
            cwd=checkout,
            check=True,
            capture_output=True,
        )
    (checkout / "edited-before").write_text("edited before the run")
    (checkout / "untracked").write_text("untracked")
    before = tracked_changes(checkout)
    assert list(before) == ["edited-before"]
    (checkout / "edited").write_text("edited by the run")
    (checkout / "edited-before").write_text("edited again by the run")
    (checkout / "deleted").unlink()
    (checkout / "untracked").write_text("edited by the run")
    (checkout / "kept").write_text("kept")  # written, the same content
    assert changed_files(before, tracked_changes(checkout)) == [
        "deleted",
        "edited",
        "edited-before",
    ]
    assert tracked_changes(outside) is None


# ---------------------------------------------------------------------------- damaged committed files

COMMITTED = ["results.json", "companion_results.json", "seed_study.json", "models"]
DAMAGE = {  # a committed file, what is done to it, the words of the one message
    "results.json truncated": ("results.json", lambda b: b[:-200], "results.json is damaged"),
    "results.json with a NaN": (
        "results.json",
        lambda b: b.replace(b'"test_mse_clean": 0.', b'"test_mse_clean": NaN, "x": 0.', 1),
        "results.json is damaged (NaN where the project writes null or a number)",
    ),
    "results.json without its config": (
        "results.json",
        lambda b: b.replace(b'"config"', b'"configuration"'),
        "results.json is damaged (it lacks 'config')",
    ),
    "companion_results.json invalid": (
        "companion_results.json",
        lambda b: b"{" + b,
        "companion_results.json is damaged",
    ),
    "seed_study.json without its comparisons": (
        "seed_study.json",
        lambda b: b.replace(b'"comparisons"', b'"compared"'),
        "seed_study.json is damaged (it lacks 'comparisons')",
    ),
    "a model truncated": (
        "models/denoising_autoencoder.pt",
        lambda b: b[: len(b) // 2],
        "models/denoising_autoencoder.pt is damaged: it does not hold the saved weights",
    ),
}


@pytest.mark.parametrize("name, damage, words", DAMAGE.values(), ids=DAMAGE)
def test_a_damaged_committed_file_stops_the_tests_with_one_message_and_its_fix(
    tmp_path, name, damage, words
):
    for committed in COMMITTED:
        copy = shutil.copytree if (ROOT / committed).is_dir() else shutil.copy
        copy(ROOT / committed, tmp_path / committed)
    assert committed_file_problem(tmp_path) == ""
    (tmp_path / name).write_bytes(damage((ROOT / name).read_bytes()))
    problem = committed_file_problem(tmp_path)
    assert words in problem and problem.count(" is damaged") == 1
    assert f"restore it with `git checkout -- {(tmp_path / name).as_posix()}`" in problem


@pytest.mark.slow  # a pytest run in a copy of the project: about 10 s
def test_the_tests_stop_before_collecting_when_a_committed_file_is_damaged(tmp_path):
    """Once a truncated results.json gave a JSONDecodeError from conftest, naming no file."""
    copy = project_copy(tmp_path / "project")
    (copy / "results.json").write_bytes((ROOT / "results.json").read_bytes()[:-100])
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests/test_noise.py"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 4, run.stdout + run.stderr
    output = run.stdout + run.stderr
    assert "a committed file is damaged, so no test can run: " in output
    assert "results.json is damaged (" in output
    assert "restore it with `git checkout -- results.json` (or unzip it again)" in output
    assert "Traceback" not in output and "collected" not in output
