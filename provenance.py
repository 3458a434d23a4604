"""Files and their provenance: one atomic write for every file the project makes, strict
JSON, and the digest that tells whether a result file was made by the current code.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import json
import math
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent
RECORD_VARIABLE = "EXERCISE9_RECORD"  # set by `make report`: its run becomes the committed one


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


def file_sha256(path: Path) -> str:
    """Return the hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_docstring(statement: ast.stmt) -> bool:
    """Return whether a statement is a bare string (a docstring where it opens a body)."""
    return (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str))


WORDING_NAMES = ("AUTHORS",)  # notebook parameters that only name people: not a setting


def without_wording(tree: ast.AST) -> ast.AST:
    """Return the syntax tree without what only informs a reader: the docstring of every
    module, class and function, the arguments of every print() call and the values given to
    WORDING_NAMES (the names under the report's title)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(target, "id", None) in WORDING_NAMES
                                                for target in node.targets):
            node.value = ast.Constant(value="names")
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


# ---------------------------------------------------------------------------- what an artefact runs
# A result file is stale when the code that made it has changed. That code is found by following
# names from an entry point (a notebook's cells, or a function) through the project's modules:
# only the functions, classes and constants reached count, each by its name and its canonical
# text, with references to other project definitions written as their bare names. So moving a
# definition to another module, or editing code that is never reached, keeps every digest.

PROJECT_FOLDERS = (".", "seed_study")  # where the project's modules are; tests and tools are not
NOTEBOOK_ENTRY = "<cells>"


def module_names(root: Path) -> dict[str, Path]:
    """Return the project's modules by import name ("helpers", "seed_study.training")."""
    modules = {}
    for folder in PROJECT_FOLDERS:
        for path in sorted((root / folder).glob("*.py")):
            package = "" if folder == "." else f"{folder}."
            name = package.rstrip(".") if path.stem == "__init__" else package + path.stem
            modules[name] = path
    return modules


def is_main_guard(node: ast.stmt) -> bool:
    """Return whether a statement is `if __name__ == "__main__": ...` (runs only as a script)."""
    return isinstance(node, ast.If) and "__main__" in ast.unparse(node.test)


def is_import_plumbing(node: ast.stmt) -> bool:
    """Return whether a statement only sets up imports or typing: an import, a sys.path edit,
    an `if TYPE_CHECKING:` block or a bare string."""
    return (isinstance(node, (ast.Import, ast.ImportFrom)) or is_docstring(node)
            or (isinstance(node, ast.Expr) and ast.unparse(node).startswith("sys.path."))
            or (isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)))


def defined_names(node: ast.stmt) -> list[str]:
    """Return the names a top-level function, class or assignment defines."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    targets = node.targets if isinstance(node, ast.Assign) else (
        [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else [])
    return [sub.id for target in targets for sub in ast.walk(target) if isinstance(sub, ast.Name)]


class Module:
    """One parsed module: its definitions by name, the names its imports bind (to a project
    module, a project definition or a dotted outside name) and its other top-level statements."""

    def __init__(self, name: str, body: list[ast.stmt], modules: set[str]) -> None:
        self.name, self.definitions, self.aliases, self.statements = name, {}, {}, []
        package = name if name.endswith("__init__") else name.rpartition(".")[0]
        for node in body:
            for imported in (node.body if isinstance(node, ast.If) and is_import_plumbing(node)
                             else [node]):
                if isinstance(imported, (ast.Import, ast.ImportFrom)):
                    self.bind(imported, modules, package)
            if is_import_plumbing(node) or is_main_guard(node):
                continue
            names = defined_names(node)
            for defined in names:
                self.definitions[defined] = node
            if not names:
                self.statements.append(node)

    def bind(self, node: ast.Import | ast.ImportFrom, modules: set[str], package: str) -> None:
        """Record what the names of one import statement refer to."""
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = alias.name if alias.asname else alias.name.partition(".")[0]
                kind = "module" if target in modules else "outside"
                self.aliases[alias.asname or target] = (kind, target)
            return
        base = node.module or ""
        if node.level:
            base = ".".join(filter(None, [package.rsplit(".", node.level - 1)[0], base]))
        for alias in node.names:
            full = f"{base}.{alias.name}"
            kind = ("module" if full in modules else "definition" if base in modules
                    else "outside")
            self.aliases[alias.asname or alias.name] = (kind, full)


def dotted(node: ast.expr) -> list[str] | None:
    """Return the names of a chain a.b.c, or None if it does not start with a plain name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return [node.id, *reversed(parts)] if isinstance(node, ast.Name) else None


def local_names(function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> set[str]:
    """Return the names local to a function: its parameters and every name it (or a function
    inside it) assigns, imports or defines, less those it declares global."""
    arguments = function.args
    names = {argument.arg for argument in [*arguments.posonlyargs, *arguments.args,
                                           *arguments.kwonlyargs, arguments.vararg,
                                           arguments.kwarg] if argument is not None}
    body = function.body if isinstance(function.body, list) else [function.body]
    declared_global = set()
    for node in (sub for statement in body for sub in ast.walk(statement)):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(alias.asname or alias.name).partition(".")[0] for alias in node.names}
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.Global):
            declared_global |= set(node.names)
    return names - declared_global


class Resolver(ast.NodeTransformer):
    """Rewrite a definition's references: a project definition becomes its bare name (and is
    collected in `reached`), an outside import its dotted name (np.mean -> numpy.mean)."""

    def __init__(self, module: Module, modules: dict[str, Module]) -> None:
        self.module, self.modules, self.reached = module, modules, set()
        self.local_names: list[set[str]] = []  # of each function being visited, innermost last

    def resolve(self, parts: list[str]) -> tuple[str, int] | None:
        """Return (the replacement name, how many parts it stands for), or None."""
        head = parts[0]
        if any(head in scope for scope in self.local_names):
            return None
        if head in self.module.definitions:
            self.reached.add((self.module.name, head))
            return head, 1
        kind, target = self.module.aliases.get(head, (None, None))
        if kind == "definition":
            owner, name = target.rsplit(".", 1)
            self.reached.add((owner, name))
            return name, 1
        if kind == "outside":
            return target, 1
        if kind != "module":
            return None
        for used, part in enumerate(parts[1:], start=2):
            if f"{target}.{part}" in self.modules:
                target = f"{target}.{part}"
            elif part in self.modules[target].definitions:
                self.reached.add((target, part))
                return part, used
            else:
                return None
        return None

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.Lambda) -> ast.AST:
        self.local_names.append(local_names(node))
        try:
            return self.generic_visit(node)
        finally:
            self.local_names.pop()

    visit_AsyncFunctionDef = visit_Lambda = visit_FunctionDef

    def visit_Attribute(self, node: ast.Attribute) -> ast.expr:
        parts = dotted(node)
        resolved = self.resolve(parts) if parts else None
        if resolved is None:
            return self.generic_visit(node)
        name, used = resolved
        result: ast.expr = ast.Name(id=name)
        for part in parts[used:]:
            result = ast.Attribute(value=result, attr=part)
        return result

    def visit_Name(self, node: ast.Name) -> ast.Name:
        resolved = self.resolve([node.id])
        return ast.Name(id=resolved[0]) if resolved else node


def without_annotations(tree: ast.AST) -> ast.AST:
    """Return the tree without type annotations, which do not change what the code does
    (`from __future__ import annotations`); a dataclass field keeps a placeholder."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            node.returns = None
            arguments = node.args
            for argument in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                             arguments.vararg, arguments.kwarg]:
                if argument is not None:
                    argument.annotation = None
        elif isinstance(node, ast.AnnAssign):
            keep = "ClassVar" in ast.unparse(node.annotation)
            node.annotation = node.annotation if keep else ast.Constant(value="annotation")
    return tree


def notebook_code(path: Path) -> list[ast.stmt]:
    """Return the statements of a notebook's code cells, IPython magics (% and ! lines) left
    out."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    sources = ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]
    lines = [line for source in sources for line in source.splitlines()
             if not line.lstrip().startswith(("%", "!"))]
    return ast.parse("\n".join(lines)).body


def reached_code(root: str | Path, entry: str, functions: tuple[str, ...] = (),
                 opaque: tuple[str, ...] = ()) -> dict[str, str]:
    """Return the canonical text of the code an entry point runs, by definition name: from a
    notebook (entry "x.ipynb": its cells) or from functions of a module (entry "a/b.py"), every
    project definition reached, and the top-level statements of each module used. Definitions
    named in `opaque` count by their name only: they are not followed."""
    root = Path(root)
    paths = module_names(root)
    modules = {name: Module(name, syntax_tree(path).body, set(paths))
               for name, path in paths.items()}
    if entry.endswith(".ipynb"):
        start = Module(NOTEBOOK_ENTRY, notebook_code(root / entry), set(paths))
        start.definitions = {}  # every statement of the cells runs
        start.statements = [node for node in notebook_code(root / entry)
                            if not is_import_plumbing(node)]
        modules[NOTEBOOK_ENTRY] = start
        pending = [(NOTEBOOK_ENTRY, None)]
    else:
        start = next((name for name, path in paths.items() if path == root / entry), entry)
        if start not in modules:  # a script outside the project's folders
            modules[start] = Module(start, syntax_tree(root / entry).body, set(paths))
        pending = [(start, name) for name in functions]
    texts: dict[str, list[str]] = {}
    done: set = set()
    while pending:
        owner, name = pending.pop()
        if (owner, name) in done:
            continue
        done.add((owner, name))
        if name in opaque:
            texts.setdefault(name, []).append("opaque")
            continue
        module = modules[owner]
        nodes = module.statements if name is None else [module.definitions[name]]
        resolver = Resolver(module, modules)  # what a print() call runs counts as reached
        text = "".join(canonical(without_wording(resolver.visit(without_annotations(
            copy.deepcopy(node))))) for node in nodes)
        texts.setdefault("<statements>" if name is None else name, []).append(text)
        pending += sorted(resolver.reached) + [(used, None) for used, _ in resolver.reached]
    return {key: "".join(sorted(text)) for key, text in texts.items() if any(text)}


# ---------------------------------------------------------------------------- staleness


@dataclass(frozen=True)
class Artefact:
    """What the project makes by running code: where that code starts (a notebook, or
    functions of a module) and the files it reads, whose bytes count as inputs."""

    entry: str
    functions: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()
    opaque: tuple[str, ...] = ("staleness", "model_file")  # reached, but they only check
    # freshness or name cache files: what they run does not shape the artefact


ARTEFACTS = {
    "submission": Artefact("exercise9.ipynb", reads=("seed_study.json",)),
    "companion": Artefact("companion.ipynb", reads=(
        "seed_study.json", "results.json", "models/autoencoder.pt",
        "models/denoising_autoencoder.pt")),  # the submission's run
    "seed study": Artefact("seed_study/study.py", ("run_study",)),
    "seed model": Artefact("seed_study/training.py", ("train_job",)),
}


def digest(artefact: str | Artefact, settings=None, root: str | Path = ROOT) -> str:
    """Return 16 hex digits of the SHA-256 that identifies what makes an artefact: the code it
    runs (reached_code: only the definitions reached, without comments, docstrings,
    annotations or printed wording, the same on every Python version), the settings it is
    given as data (JSON) and the bytes of the files it reads (JSON with LF line ends)."""
    spec = ARTEFACTS[artefact] if isinstance(artefact, str) else artefact
    code = reached_code(root, spec.entry, spec.functions, spec.opaque)
    hashed = hashlib.sha256(json.dumps({"code": code, "settings": settings}, sort_keys=True)
                            .encode("utf-8"))
    for name in spec.reads:
        content = (Path(root) / name).read_bytes() if (Path(root) / name).is_file() else b""
        hashed.update(hashlib.sha256(content.replace(b"\r\n", b"\n") if name.endswith(
            ".json") else content).digest())
    return hashed.hexdigest()[:16]


def staleness(artefact: str | Artefact, recorded: str | None, settings=None,
              root: str | Path = ROOT) -> str:
    """Return why an artefact is stale ('' if it is current): the one check of the build, the
    notebooks, the seed study and the tests. `recorded` is the digest stored with it."""
    spec = ARTEFACTS[artefact] if isinstance(artefact, str) else artefact
    name = artefact if isinstance(artefact, str) else spec.entry
    if not recorded:
        return f"the {name} records no digest of the code that made it"
    current = digest(spec, settings, root)
    if recorded != current:
        inputs = f" or the files it reads ({', '.join(spec.reads)})" if spec.reads else ""
        settings_note = " or settings" if settings is not None else ""
        return (f"the {name} was made by other code{settings_note}{inputs}: recorded "
                f"{recorded}, current {current}")
    return ""


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
