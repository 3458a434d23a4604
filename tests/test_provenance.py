"""provenance.py: the one atomic write, the digest of what an artefact runs and its staleness."""

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


def digest_of(tmp_path, text, functions=("used",)):
    """The digest of what the functions of a module lib.py with this text run."""
    (tmp_path / "lib.py").write_text(text)
    return provenance.digest(provenance.Artefact("lib.py", functions), root=tmp_path)


def test_a_comment_or_docstring_edit_keeps_the_digest_and_a_changed_constant_changes_it(
        tmp_path):
    before = digest_of(tmp_path, CODE)
    edited = CODE.replace("# the most", "# the largest value").replace(
        '"""Return x, at most LIMIT."""', '"""Return x, capped."""\n    # a comment')
    assert digest_of(tmp_path, edited) == before
    assert digest_of(tmp_path, CODE.replace("LIMIT = 3", "LIMIT = 4")) != before


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
    assert digest_of(tmp_path, VERSIONED, ("f", "K")) == "0540ea15dc141f56"


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


# ---------------------------------------------------------------------------- what an artefact runs

LIBRARY = '''"""The library."""
from typing import Callable  # noqa: UP035

import numpy as np

LIMIT = 3


def used(x: int, scale: Callable | None = None) -> float:
    """Return x, at most LIMIT."""
    return float(np.minimum(x, LIMIT))


def unused():
    return 1
'''
ENTRY = '''import lib


def run():
    """The entry point."""
    return lib.used(5)
'''


def project(folder, library=LIBRARY, entry=ENTRY, extra=None):
    """Write a small project (lib.py, entry.py and extra files) and return its folder."""
    folder.mkdir(exist_ok=True)
    for name, text in {"lib.py": library, "entry.py": entry, **(extra or {})}.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


RUN = provenance.Artefact("entry.py", ("run",))


def test_the_digest_counts_only_the_code_the_entry_point_reaches(tmp_path):
    before = provenance.digest(RUN, root=project(tmp_path / "a"))
    changed_unused = project(tmp_path / "b", LIBRARY.replace("return 1", "return 2"))
    assert provenance.digest(RUN, root=changed_unused) == before
    changed_used = project(tmp_path / "c", LIBRARY.replace("np.minimum", "np.maximum"))
    assert provenance.digest(RUN, root=changed_used) != before
    changed_constant = project(tmp_path / "d", LIBRARY.replace("LIMIT = 3", "LIMIT = 4"))
    assert provenance.digest(RUN, root=changed_constant) != before


def test_moving_a_function_to_another_module_keeps_the_digest(tmp_path):
    before = provenance.digest(RUN, root=project(tmp_path / "a"))
    moved_function = LIBRARY.split("\n\ndef used")[0].replace("LIMIT = 3\n", "")
    moved = project(tmp_path / "b", LIBRARY.replace("LIMIT = 3\n", "").replace(
        "def used", "def _gone").replace("_gone(", "used_elsewhere("), ENTRY.replace(
        "import lib", "import measures").replace("lib.used", "measures.used"), extra={
        "measures.py": "from lib import np\n" + "import numpy\n\nLIMIT = 3\n\n\n"
        + LIBRARY[LIBRARY.index("def used"):LIBRARY.index("def unused")].replace(
            "np.minimum", "numpy.minimum")})
    assert moved_function  # the library keeps its other code
    assert provenance.digest(RUN, root=moved) == before


def test_a_lint_fix_or_an_annotation_change_keeps_the_digest(tmp_path):
    before = provenance.digest(RUN, root=project(tmp_path / "a"))
    linted = LIBRARY.replace("from typing import Callable  # noqa: UP035",
                             "from collections.abc import Callable").replace(
        "import numpy as np", "import numpy as numeric").replace("np.minimum", "numeric.minimum")
    assert provenance.digest(RUN, root=project(tmp_path / "b", linted)) == before
    annotated = LIBRARY.replace("x: int", "x: float")
    assert provenance.digest(RUN, root=project(tmp_path / "c", annotated)) == before


def test_a_notebook_digest_follows_its_cells_and_the_files_it_reads(tmp_path):
    import nbformat

    folder = project(tmp_path / "a")
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("%matplotlib inline\nimport lib"),
        nbformat.v4.new_code_cell("print(lib.used(2))  # the value")])
    nbformat.write(notebook, folder / "run.ipynb")
    (folder / "input.json").write_text("{}\n", encoding="utf-8")
    artefact = provenance.Artefact("run.ipynb", reads=("input.json",))
    before = provenance.digest(artefact, root=folder)
    assert "used" in provenance.reached_code(folder, "run.ipynb")
    (folder / "input.json").write_text("{}\r\n", encoding="utf-8")  # a Windows checkout
    assert provenance.digest(artefact, root=folder) == before
    (folder / "input.json").write_text('{"changed": 1}\n', encoding="utf-8")
    assert provenance.digest(artefact, root=folder) != before


def test_the_names_under_the_title_keep_a_notebook_current_and_a_setting_does_not(tmp_path):
    """AUTHORS only names people (WORDING_NAMES): a student who sets it is not made to
    re-execute the notebook; EPOCHS beside it is a setting."""
    import nbformat

    folder = project(tmp_path / "a")

    def digest_with(parameters: str) -> str:
        cells = [nbformat.v4.new_code_cell(parameters), nbformat.v4.new_code_cell(
            "import lib\nprint(lib.used(EPOCHS))")]
        nbformat.write(nbformat.v4.new_notebook(cells=cells), folder / "run.ipynb")
        return provenance.digest(provenance.Artefact("run.ipynb"), root=folder)

    before = digest_with('AUTHORS = ""\nEPOCHS = 50')
    assert digest_with('AUTHORS = "A. Lovelace, A. Turing"\nEPOCHS = 50') == before
    assert digest_with('AUTHORS = ""\nEPOCHS = 49') != before


def test_settings_given_as_data_are_part_of_the_digest(tmp_path):
    folder = project(tmp_path / "a")
    assert provenance.digest(RUN, {"epochs": 50}, folder) != provenance.digest(
        RUN, {"epochs": 49}, folder)
    recorded = provenance.digest(RUN, {"epochs": 50}, folder)
    assert provenance.staleness(RUN, recorded, {"epochs": 50}, folder) == ""
    assert "recorded" in provenance.staleness(RUN, recorded, {"epochs": 49}, folder)
    assert "records no digest" in provenance.staleness(RUN, None, {"epochs": 50}, folder)


def test_every_artefact_of_the_project_is_current():
    """The four kinds of artefact: each digest is computed from the real code (the seed
    models have no file in the repository; their key is checked in test_seed_study)."""
    for name in provenance.ARTEFACTS:
        assert len(provenance.digest(name)) == 16
