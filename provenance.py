"""Files and their provenance: one atomic write for every file the project makes, strict
JSON, and the digest that tells whether a result file was made by the current code.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def current_umask() -> int:
    """Return the process's file-creation mask (e.g. 0o022, giving 0644 files)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomically(target: str | Path, write: Callable[[Path], None]) -> Path:
    """Call write(temporary_path) in target's folder, then move the file onto `target`.

    If write raises, or `target` cannot be replaced (on Windows, a file that is open in a
    viewer), the temporary file is removed and `target` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    os.close(handle)
    try:
        write(Path(temp_name))
        os.chmod(temp_name, 0o666 & ~current_umask())  # mkstemp's 0600 is for secrets
        try:
            os.replace(temp_name, target)
        except PermissionError:  # Windows: the file is open in a viewer
            raise PermissionError(f"cannot replace {target}: it is open in another program "
                                  f"(a PDF viewer?) or write-protected. Close it and run "
                                  f"again; {target.name} was left as it was.") from None
    finally:
        if os.path.exists(temp_name):
            os.remove(temp_name)
    return target


def write_text_atomically(target: str | Path, text: str) -> Path:
    """Write UTF-8 text to `target` through write_atomically."""
    return write_atomically(target, lambda temp: temp.write_text(text, encoding="utf-8"))


def is_docstring(statement: ast.stmt) -> bool:
    """Return whether a statement is a bare string (a docstring where it opens a body)."""
    return (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str))


def without_wording(tree: ast.AST) -> ast.AST:
    """Return the syntax tree without what only informs a reader: the docstring of every
    module, class and function, and the arguments of every print() call."""
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                and body and is_docstring(body[0])):
            node.body = body[1:] or [ast.Pass()]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id == "print":
            node.args, node.keywords = [], []
    return tree


def syntax_tree(path: str | Path) -> ast.Module:
    """Return a Python file's syntax tree (comments are never in it)."""
    return ast.parse(Path(path).read_text(encoding="utf-8"))


SKIPPED_FIELDS = {"ctx", "kind", "type_comment"}  # no effect on what the code does


def canonical(node) -> str:
    """Return a text of the syntax tree that is the same on Python 3.10 to 3.13: node names
    and fields in order, leaving out empty and absent fields (3.12 adds an empty
    `type_params`; ast.dump's layout changes between versions), empty f-string pieces and
    positions."""
    if isinstance(node, ast.JoinedStr):  # 3.12 keeps empty pieces of an f-string's format
        node = ast.JoinedStr(values=[value for value in node.values if not (
            isinstance(value, ast.Constant) and value.value == "")])
    if isinstance(node, ast.AST):
        fields = [f"{name}={canonical(value)}" for name, value in ast.iter_fields(node)
                  if name not in SKIPPED_FIELDS and value is not None and value != []]
        return f"{type(node).__name__}({','.join(fields)})"
    if isinstance(node, list):
        return f"[{','.join(canonical(item) for item in node)}]"
    return repr(node)


def code_digest(*paths: str | Path) -> str:
    """Return 12 hex digits of a SHA-256 over what the Python files do: their syntax trees
    without comments, docstrings and printed wording, the same on every Python version."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(canonical(without_wording(syntax_tree(path))).encode("utf-8"))
    return digest.hexdigest()[:12]


def referenced_names(node: ast.AST) -> set[str]:
    """Return every name and attribute name that a piece of code mentions."""
    return {sub.id if isinstance(sub, ast.Name) else sub.attr for sub in ast.walk(node)
            if isinstance(sub, (ast.Name, ast.Attribute))}


def used_definitions(library: ast.Module, users: list[ast.Module]) -> list[ast.stmt]:
    """Return the library's top-level statements that the users' code can run: every one
    that defines no function or class (imports, constants, calls at import), and the
    functions and classes reached from the users' names, transitively."""
    definitions = {node.name: node for node in library.body
                   if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    always = [node for node in library.body if node.__class__.__name__ not in
              ("FunctionDef", "ClassDef")]
    pending = set().union(*map(referenced_names, users + always))
    reached: set[str] = set()
    while pending:
        name = pending.pop()
        if name in definitions and name not in reached:
            reached.add(name)
            pending |= referenced_names(definitions[name])
    return always + [node for node in library.body if getattr(node, "name", None) in reached]


def used_code_digest(library: str | Path, *users: str | Path) -> str:
    """Return 12 hex digits of a SHA-256 over the users' files and the parts of `library`
    that they use (used_definitions), each as in code_digest."""
    trees = [syntax_tree(path) for path in users]  # what a print() call runs counts as used
    module = ast.Module(body=used_definitions(syntax_tree(library), trees), type_ignores=[])
    digest = hashlib.sha256()
    for tree in [module, *trees]:
        digest.update(canonical(without_wording(tree)).encode("utf-8"))
    return digest.hexdigest()[:12]


def finite_or_none(value):
    """Return the value with every non-finite float (inf, nan) inside it replaced by None."""
    if isinstance(value, dict):
        return {key: finite_or_none(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def json_text(document: dict) -> str:
    """Return a document as strict JSON text (inf and nan become null), indented."""
    return json.dumps(finite_or_none(document), indent=2, allow_nan=False) + "\n"
