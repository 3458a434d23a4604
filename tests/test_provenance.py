"""provenance.py: the one atomic write."""

import os

import pytest

import provenance


def test_atomic_write_replaces_the_file_whole_and_keeps_it_when_writing_fails(tmp_path):
    target = tmp_path / "out.txt"
    provenance.write_text_atomically(target, "first")
    assert target.read_text() == "first"
    if os.name == "posix":  # mkstemp's 0600 is replaced by what the umask gives a new file
        assert target.stat().st_mode & 0o777 == 0o666 & ~provenance.current_umask()

    def failing(temp):
        temp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        provenance.write_atomically(target, failing)
    assert target.read_text() == "first" and [p.name for p in tmp_path.iterdir()] == ["out.txt"]


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
        provenance.write_text_atomically(target, "new")
    assert target.read_text() == "previous" and [p.name for p in tmp_path.iterdir()] == [
        "exercise9.pdf"
    ]
