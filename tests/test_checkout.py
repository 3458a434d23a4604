"""The test run leaves the checkout as it found it (conftest runs this file last; under
pytest-xdist the controller compares instead, after every worker has ended)."""

import pytest

from conftest import changed_files, changed_message, is_worker


def test_the_run_left_every_tracked_file_unchanged(tracked_at_start, pytestconfig):
    """The notebook under nbval writes figures and results.json to a temporary folder, and the
    build tests write to temporary folders: no tracked file may change or vanish."""
    if is_worker(pytestconfig):
        pytest.skip("pytest-xdist worker: the controller compares the tracked files (if any) after "
                    "the whole run (conftest.pytest_sessionfinish)")
    if tracked_at_start is None:
        pytest.skip("not a git checkout (an unpacked ZIP): nothing tracked to compare")
    changed = changed_files(tracked_at_start)
    assert not changed, changed_message(changed)
