"""Build the submission: export dist/exercise9.pdf and dist/companion.pdf from the committed
notebooks, pack the ZIP; with --execute, run both notebooks first.

Usage (from the project folder; `make report` and `make run` run it after setting up):
    python tools/build_report.py             export the committed notebooks, then the ZIP
    python tools/build_report.py --execute   run both notebooks top to bottom first (make run)
    python tools/build_report.py --html      export HTML instead of the PDFs (no LaTeX)

The committed notebooks are what the current code makes: `make test` re-runs them and compares
every number (conftest.py), so exporting them needs no check of its own. Their listings of the
code (cells tagged `listing`) are rendered again from the current source at each export, so the
PDF never shows stale code. --execute runs each notebook in place, the submission first (the
companion reads the models and results.json that it writes). Every output file is written to
a temporary name and moved into place only on success (provenance.write_atomically).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as tools/build_report.py: the project's modules

import provenance
from provenance import write_atomically

NOTEBOOK = "exercise9.ipynb"
COMPANION = "companion.ipynb"
NOTEBOOKS = (NOTEBOOK, COMPANION)  # in the order of execution
DIST = "dist"
ZIP_FILES = [*NOTEBOOKS, "seed_study.json", "results.json",
             "companion_results.json", "requirements.txt", "requirements-dev.txt",
             "pyproject.toml", "environment.yml", "README.md",
             "Makefile", "MAINTAINERS.md", "pytest.ini", "tools/setup.sh",
             "tools/portability.sh", "tools/build_report.py", "tools/latex/exercise9.tex.j2",
             ".ci/run", ".gitattributes"]  # the README's test command; LF for the scripts
ZIP_GLOBS = ["*.py", "tests/*.py", "tests/*.cfg", "bench/*.py", "seed_study/*.py",
             "seed_study/*.json", "figures/*.png",
             "models/*.pt"]  # every module; the figures and models are the committed run's
LATEX_TOOLS = {"xelatex": "texlive-xetex texlive-fonts-recommended texlive-plain-generic",
               "pandoc": "pandoc"}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_NOTE = "An interactive widget: run this cell in JupyterLab (a live kernel) to use it.\n"
TEMPLATE = ROOT / "tools" / "latex" / "exercise9.tex.j2"
HIDING_TAGS = {"remove_input_tags": {"remove-input"}, "remove_all_outputs_tags": {"remove-output"},
               "remove_cell_tags": {"remove-cell"}}


NAMES_PARAMETER = "AUTHORS"  # in the submission's parameters cell: the names under the title
NAMES_MISSING = "[names not set: set AUTHORS in the parameters cell of exercise9.ipynb]"


class BuildError(Exception):
    """A build step failed; the message says what is wrong and what to do."""


@contextmanager
def step(name: str, timings: dict[str, float]) -> Iterator[None]:
    """Time a build step and print its name and duration."""
    print(f"{name} ...", flush=True)
    start = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - start
    print(f"{name}: {timings[name]:.1f} s", flush=True)


def read_notebook(path: Path):
    """Return the notebook at `path`, or raise BuildError if it is missing or not valid."""
    import nbformat

    if not path.is_file():
        raise BuildError(f"{path.name} is missing: restore it with `git checkout -- {path.name}`")
    try:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # noqa: BLE001 (JSON syntax or schema: one message either way)
        raise BuildError(f"{path.name} is not a valid notebook ({type(error).__name__}: "
                         f"{str(error).splitlines()[0]}); restore it with git") from None
    return notebook


def execute(path: Path) -> None:
    """Execute the notebook top to bottom in its folder and save it in place on success."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = read_notebook(path)
    client = NotebookClient(notebook, timeout=1800, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    os.environ[provenance.RECORD_VARIABLE] = "1"  # the kernel inherits it: the committed run
    try:
        client.execute()
    except CellExecutionError as error:
        index = next((i for i, cell in enumerate(notebook.cells) if any(
            out.get("output_type") == "error" for out in cell.get("outputs", []))), None)
        where = "a cell" if index is None else f"cell {index} ({first_line(notebook, index)})"
        raise BuildError(f"{path.name}: {where} raised {error.ename}: {error.evalue}. "
                         f"The notebook on disk is unchanged; fix the cell and rerun.") from None
    finally:
        os.environ.pop(provenance.RECORD_VARIABLE, None)
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:  # a widget has no state without its kernel: say so instead
        for index, out in enumerate(cell.get("outputs", [])):
            if WIDGET_VIEW in out.get("data", {}):
                cell.outputs[index] = nbformat.v4.new_output("stream", name="stdout",
                                                             text=WIDGET_NOTE)
    write_atomically(path, lambda temp: nbformat.write(notebook, temp))


def first_line(notebook, index: int) -> str:
    """Return the first line of a cell's source, shortened."""
    return notebook.cells[index].source.splitlines()[0][:60] if notebook.cells[index].source else ""


def names_of(notebook) -> str | None:
    """Return the value of AUTHORS in the notebook's parameters cell (None without one)."""
    import ast

    for cell in notebook.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            for node in ast.parse(cell.source).body:
                if (isinstance(node, ast.Assign) and len(node.targets) == 1
                        and getattr(node.targets[0], "id", None) == NAMES_PARAMETER
                        and isinstance(node.value, ast.Constant)):
                    return str(node.value.value)
    return None


def printable(notebook):
    """Return a copy for the reader: cells, inputs and outputs removed as their tags say
    (remove-cell, remove-input, remove-output), the first heading as the document title, the
    names of AUTHORS under it (or NAMES_MISSING), the other headings one level up, and no
    progress bars, cell tags or metadata."""
    import copy

    from nbconvert.filters import escape_latex
    from nbconvert.preprocessors import TagRemovePreprocessor

    names = names_of(notebook)
    notebook = copy.deepcopy(notebook)
    if names is not None:
        notebook.metadata["authors"] = [{"name": escape_latex(names.strip() or NAMES_MISSING)}]
    notebook, _ = TagRemovePreprocessor(enabled=True, **HIDING_TAGS).preprocess(notebook, {})
    for cell in notebook.cells:
        cell.metadata = {key: value for key, value in cell.metadata.items() if key == "transient"}
        if cell.cell_type == "code":
            cell.outputs = [out for out in cell.outputs if WIDGET_VIEW not in out.get("data", {})
                            and not re.search(r"\d+%\|", out.get("text", ""))]
        elif cell.cell_type == "markdown":
            title = re.match(r"# (.+)\n*", cell.source)
            if title and "title" not in notebook.metadata:
                notebook.metadata["title"] = title[1]
                cell.source = cell.source[title.end():]
            cell.source = re.sub(r"^#(#+) ", r"\1 ", cell.source, flags=re.MULTILINE)
    notebook.metadata.pop("widgets", None)
    return notebook


def check_latex_tools() -> None:
    """Raise BuildError naming the missing LaTeX tool and how to install it."""
    missing = [tool for tool in LATEX_TOOLS if shutil.which(tool) is None]
    if missing:
        packages = " ".join(LATEX_TOOLS[tool] for tool in missing)
        raise BuildError(
            f"{' and '.join(missing)} not found: the PDF export needs them. Install them "
            f"(Debian/Ubuntu: apt-get install --no-install-recommends {packages}; "
            f"macOS: MacTeX and pandoc), or run `python tools/build_report.py --html` for an "
            f"HTML report that needs no LaTeX.")


def export(notebook, target: Path, to_pdf: bool) -> None:
    """Export the notebook to PDF (LaTeX) or HTML at `target`, atomically."""
    from nbconvert import HTMLExporter, PDFExporter
    from nbconvert.exporters.pdf import LatexFailed

    exporter = PDFExporter(template_file=str(TEMPLATE)) if to_pdf else HTMLExporter()
    exporter.exclude_input_prompt = exporter.exclude_output_prompt = True
    try:
        body, _ = exporter.from_notebook_node(printable(notebook),
                                              resources={"metadata": {"path": str(ROOT)}})
    except LatexFailed as error:
        log = ROOT / "build" / "latex.log"
        log.parent.mkdir(exist_ok=True)
        log.write_text(error.output or "", encoding="utf-8")
        problems = [line for line in (error.output or "").splitlines() if line.startswith("!")]
        raise BuildError(f"LaTeX could not build the PDF: {'; '.join(problems[:3]) or 'see log'}"
                         f". Full log: {log.relative_to(ROOT)}; the previous PDF is kept."
                         ) from None
    data = body if isinstance(body, bytes) else body.encode("utf-8")
    write_atomically(target, lambda temp: temp.write_bytes(data))


def zip_members() -> list[str]:
    """Return the project files a grader needs, as relative POSIX paths."""
    files = set(ZIP_FILES)
    for pattern in ZIP_GLOBS:
        files.update(path.relative_to(ROOT).as_posix() for path in ROOT.glob(pattern))
    missing = [name for name in files if not (ROOT / name).is_file()]
    if missing:
        raise BuildError(f"files for the ZIP are missing: {', '.join(sorted(missing))}")
    return sorted(files)


def pack_zip(target: Path) -> None:
    """Write the ZIP of the code (folder exercise9/ inside), atomically."""
    def write(temp: Path) -> None:
        with zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in zip_members():
                archive.write(ROOT / name, f"exercise9/{name}")
    write_atomically(target, write)


def with_current_listings(notebook):
    """Return a copy whose `listing` cells show the current source: each is run again here
    (they only call report.listing on the project's functions)."""
    import copy

    import nbformat
    from IPython.display import Markdown

    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code" and "listing" in cell.metadata.get("tags", []):
            shown: list[str] = []
            namespace = {"display": lambda markdown, shown=shown: shown.append(markdown.data),
                         "Markdown": Markdown}
            exec("import helpers, report, safeguards\n" + cell.source, namespace)  # noqa: S102
            cell.outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": text})
                            for text in shown]
    return notebook


def build(execute_first: bool, html: bool, dist: str = DIST) -> list[str]:
    """Run the build steps; return the files written. A missing LaTeX toolchain does not stop
    the other steps: the HTML reports are written instead of the PDFs, then BuildError is
    raised."""
    timings: dict[str, float] = {}
    written, missing_latex = [], None
    for name in NOTEBOOKS if execute_first else ():
        with step(f"execute {name}", timings):
            execute(ROOT / name)
    notebooks = {name: with_current_listings(read_notebook(ROOT / name)) for name in NOTEBOOKS}
    if not html:
        try:
            check_latex_tools()
        except BuildError as error:
            missing_latex, html = error, True
    names = names_of(notebooks[NOTEBOOK])
    if names is not None and not names.strip():
        print(f"warning: {NAMES_PARAMETER} is empty in the parameters cell of {NOTEBOOK}, so the "
              f"PDF says \"{NAMES_MISSING}\" under its title. Set {NAMES_PARAMETER} = \"your "
              f"names\" there and run `make report` again (names do not re-execute it).",
              file=sys.stderr, flush=True)
    for name, notebook in notebooks.items():
        report = f"{dist}/{Path(name).stem}.{'html' if html else 'pdf'}"
        with step(f"export {report}", timings):
            export(notebook, ROOT / report, to_pdf=not html)
            written.append(report)
    with step(f"pack {dist}/exercise9.zip", timings):
        pack_zip(ROOT / dist / "exercise9.zip")
        written.append(f"{dist}/exercise9.zip")
    if missing_latex:
        raise BuildError(f"{missing_latex} Written instead: {', '.join(written)}.")
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--execute", "--force", action="store_true",
                        help="run both notebooks top to bottom before the export")
    parser.add_argument("--html", action="store_true", help="export HTML instead of PDF")
    parser.add_argument("--dist", default=DIST, help="output folder (default: dist)")
    args = parser.parse_args()
    os.chdir(ROOT)
    start = time.perf_counter()
    try:
        written = build(args.execute, args.html, args.dist)
    except (BuildError, PermissionError) as error:
        print(f"build failed: {error}", file=sys.stderr)
        return 1
    files = "".join(f"\n  {name}" for name in written)
    print(f"done in {time.perf_counter() - start:.1f} s:{files}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
