"""provenance.py: the one atomic write and the digests of what the code does."""

import os

import pytest

import provenance

CODE = '''"""A module."""
LIMIT = 3  # the most


def used(x):
    """Return x, at most LIMIT."""
    return min(x, LIMIT)


def unused():
    return 1
'''


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


def digest_of(tmp_path, text, name="lib.py"):
    path = tmp_path / name
    path.write_text(text)
    return provenance.code_digest(path)


def test_a_comment_or_docstring_edit_keeps_the_digest_and_a_changed_constant_changes_it(
        tmp_path):
    before = digest_of(tmp_path, CODE)
    edited = CODE.replace("# the most", "# the largest value").replace(
        '"""Return x, at most LIMIT."""', '"""Return x, capped."""\n    # a comment')
    assert digest_of(tmp_path, edited) == before
    assert digest_of(tmp_path, CODE.replace("LIMIT = 3", "LIMIT = 4")) != before


def test_the_used_code_digest_ignores_functions_the_users_do_not_reach(tmp_path):
    library, user = tmp_path / "lib.py", tmp_path / "user.py"
    user.write_text("import lib\nprint(lib.used(5))\n")
    library.write_text(CODE)
    before = provenance.used_code_digest(library, user)
    library.write_text(CODE.replace("return 1", "return 2"))
    assert provenance.used_code_digest(library, user) == before
    library.write_text(CODE.replace("min(x, LIMIT)", "max(x, LIMIT)"))
    assert provenance.used_code_digest(library, user) != before


def test_printed_wording_keeps_the_digest_and_a_printed_value_change_does_not_matter_either(
        tmp_path):
    code = CODE + 'print(f"at most {LIMIT} items", sep=" ")\n'
    before = digest_of(tmp_path, code)
    assert digest_of(tmp_path, code.replace("at most", "no more than")) == before
    assert digest_of(tmp_path, code.replace("print(", "len(")) != before


VERSIONED = '''"""Syntax whose ast.dump differs between Python 3.10 and 3.13."""
from __future__ import annotations

import math as m


@staticmethod
def f(a: int, /, b: list[int] | None = None, *args, c=1, **kw) -> float:
    """Docstring."""
    if (n := len(args)) > 2:
        return [x ** 2 for x in args if x][0] + m.pi
    match a:
        case 1 | 2:
            pass
    return f"{a!r:>{b}} {c=}" and (lambda y: y[1:2, ::3])


class K(Exception):
    x: int = 0

    async def g(self):
        async with self as s:
            yield {**kw, **{k: v for k, v in s}}
'''


def test_the_digest_is_the_same_on_every_python_version(tmp_path):
    """The value was computed once; ast.dump gives a different text on 3.11, 3.12 and 3.13,
    and so a different digest on each (the portability run checks 3.12 and 3.13)."""
    assert digest_of(tmp_path, VERSIONED) == "8610b3957f42"


def test_a_target_that_cannot_be_replaced_is_named_and_kept(tmp_path, monkeypatch):
    """On Windows, os.replace onto a PDF that a viewer holds open raises PermissionError."""
    target = tmp_path / "exercise9.pdf"
    target.write_text("previous")

    def locked(source, destination):
        raise PermissionError(13, "Access is denied", str(destination))

    monkeypatch.setattr(provenance.os, "replace", locked)
    with pytest.raises(PermissionError, match=r"cannot replace .*exercise9\.pdf: it is open in "
                                              r"another program .* Close it and run again"):
        provenance.write_text_atomically(target, "new")
    assert target.read_text() == "previous" and [p.name for p in tmp_path.iterdir()] == [
        "exercise9.pdf"]
