"""provenance.py: the one atomic write and the digests of what the code does."""

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
    assert target.read_text() == "first" and oct(target.stat().st_mode & 0o777) != "0o600"

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
