"""The check that fails a test run which changed a tracked file (conftest.pytest_sessionfinish,
run in the process that starts the run: the controller under pytest-xdist)."""

import shutil
import subprocess

import pytest

from conftest import changed_files, tracked_changes


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
