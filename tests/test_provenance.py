"""provenance.py: the one atomic write."""

import errno
import os

import pytest

import provenance


def test_atomic_write_replaces_the_file_whole_and_keeps_it_when_writing_fails(tmp_path):
    target = tmp_path / "out.txt"
    provenance.write_atomically(target, "first")
    assert target.read_text() == "first"
    if os.name == "posix":  # mkstemp's 0600 is replaced by what the umask gives a new file
        assert target.stat().st_mode & 0o777 == 0o666 & ~provenance.current_umask()

    assert provenance.write_atomically(target, b"second") == target
    assert target.read_text() == "second"


def test_a_target_that_cannot_be_replaced_is_named_and_kept(tmp_path, monkeypatch):
    """On Windows, os.replace onto a PDF that a viewer holds open raises PermissionError."""
    target = tmp_path / "exercise9.pdf"
    target.write_text("previous")

    def locked(source, destination):
        raise PermissionError(13, "Access is denied", str(destination))

    monkeypatch.setattr(provenance.os, "replace", locked)
    with pytest.raises(
        PermissionError,
        match=r"cannot replace .*exercise9\.pdf: it is open in "
        r"another program .* Close it and run again",
    ):
        provenance.write_atomically(target, "new")
    assert target.read_text() == "previous" and [p.name for p in tmp_path.iterdir()] == [
        "exercise9.pdf"
    ]


WRITE_FAILURES = {  # where a write fails: the error as the OS raises it
    "disk full": ("write", OSError(errno.ENOSPC, "No space left on device")),
    "read-only folder": ("mkstemp", PermissionError(errno.EACCES, "Permission denied")),
    "read-only file system": ("mkstemp", OSError(errno.EROFS, "Read-only file system")),
}


@pytest.mark.parametrize("step, failure", WRITE_FAILURES.values(), ids=WRITE_FAILURES)
def test_a_file_that_cannot_be_written_is_one_message_and_leaves_nothing_behind(
    tmp_path, monkeypatch, step, failure
):
    target = tmp_path / "figures" / "fig01.png"
    target.parent.mkdir()
    target.write_bytes(b"the last run's figure")
    if step == "write":  # the bytes go into the temporary file, then the disk is full
        real_fdopen = os.fdopen

        class FullDisk:
            def __init__(self, handle, mode):
                self.file = real_fdopen(handle, mode)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.file.close()

            def write(self, data):
                self.file.write(data[:100])
                raise failure

        monkeypatch.setattr(provenance.os, "fdopen", FullDisk)
    else:

        def refused(**_):
            raise failure

        monkeypatch.setattr(provenance.tempfile, "mkstemp", refused)
    with pytest.raises(provenance.NotWritten) as error:
        provenance.write_atomically(target, b"\x89PNG" * 1000)
    assert str(error.value) == (
        f"could not write fig01.png into {target.parent} ({failure.strerror}). Free space on "
        "that disk or make the folder writable, then run again; fig01.png was left as it was "
        "and nothing half-written remains."
    )
    assert [path.name for path in target.parent.iterdir()] == ["fig01.png"]
    assert target.read_bytes() == b"the last run's figure"


@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only folders"
)
def test_a_read_only_folder_is_named_before_any_work(tmp_path):
    folder = tmp_path / "read-only"
    folder.mkdir(mode=0o555)
    with pytest.raises(
        provenance.NotWritten, match=r"could not write results.json into .*read-only"
    ):
        provenance.write_atomically(folder / "results.json", "{}")
