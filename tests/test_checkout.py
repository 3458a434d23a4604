"""The test run leaves the checkout as it found it (conftest runs this file last)."""

import pytest

from conftest import digests


def test_the_run_left_every_tracked_file_unchanged(tracked_at_start):
    """The notebook under nbval writes figures and results.json to a temporary folder, and the
    build tests write to temporary folders: no tracked file may change or vanish."""
    if tracked_at_start is None:
        pytest.skip("not a git checkout (an unpacked ZIP): nothing tracked to compare")
    files, before = tracked_at_start
    after = digests(files)
    changed = sorted(name for name in before if after.get(name) != before[name])
    assert not changed, f"the test run changed tracked files: {', '.join(changed)}"
