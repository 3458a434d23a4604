"""Build dist/exercise9.pdf, dist/companion.pdf (listings from the current source) and the ZIP."""

import argparse
import copy
import glob
import io
import os
import re
import shutil
import sys
import zipfile
from pathlib import Path

import filelock
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbconvert import HTMLExporter, PDFExporter
from nbconvert.exporters.pdf import LatexFailed
from nbconvert.filters import escape_latex
from nbconvert.preprocessors import CoalesceStreamsPreprocessor, TagRemovePreprocessor
from nbformat.v4 import new_output

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as tools/build_report.py: the project's modules

from provenance import RECORD_VARIABLE, how_to_restore, write_atomically

NOTEBOOKS = ("exercise9.ipynb", "companion.ipynb")  # the companion reads the first one's results
ZIP_CONTENTS = """
    exercise9.ipynb helpers.py report.py tables.py settings.py runtime.py
    data_files.py provenance.py requirements.txt environment.yml results.json figures/fig*.png
"""  # the hand-in (glob patterns, each must match): the notebook, the modules it imports, its run
HAND_IN = {"hand-in/README.md": "README.md", "hand-in/pytest.ini": "pytest.ini"}  # the ZIP's own
TEMPLATE = ROOT / "tools" / "latex" / "exercise9.tex.j2"
WIDGET_NOTE = "An interactive widget: run this cell in JupyterLab (a live kernel) to use it.\n"
NAMES_MISSING = "[names not set: set AUTHORS in the parameters cell of exercise9.ipynb]"
HIDING_TAGS = {  # Jupyter Book's tags, as nbconvert's TagRemovePreprocessor takes them
    "remove_cell_tags": {"remove-cell"},
    "remove_input_tags": {"remove-input"},
    "remove_all_outputs_tags": {"remove-output"},
}


class BuildError(Exception):
    """A build step failed; the message says what is wrong and what to do."""


def leftover_temporary_files(target: str | Path) -> list[Path]:
    """Return the temporary files that a killed provenance.write_atomically left beside
    `target` (it names them ".{name}.<random>")."""
    target = Path(target)
    return sorted(target.parent.glob(f".{glob.escape(target.name)}.*"))


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Return the notebook at `path`, or raise BuildError if it is missing or not valid."""
    if not path.is_file():
        raise BuildError(f"{path.name} is missing: {how_to_restore(path)}")
    try:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # noqa: BLE001 (JSON syntax or schema: one message either way)
        problem = f"{type(error).__name__}: {str(error).splitlines()[0]}"
        raise BuildError(f"{path.name} is not a valid notebook ({problem}); restore it with git")
    return notebook


def execute(path: Path) -> None:
    """Execute the notebook top to bottom in its folder and save it in place on success."""
    notebook, failed = read_notebook(path), []
    client = NotebookClient(notebook, timeout=1800)
    client.on_cell_error = lambda cell_index, **_: failed.append(cell_index)
    try:  # in the notebook's folder, recorded as the committed run
        client.execute(cwd=str(path.parent), env=os.environ | {RECORD_VARIABLE: "1"})
    except CellExecutionError as error:
        source = notebook.cells[failed[-1]].source.partition("\n")[0][:60]
        raise BuildError(
            f"{path.name}: cell {failed[-1]} ({source}) raised {error.ename}: {error.evalue}. "
            "The notebook on disk is unchanged; fix the cell and rerun."
        ) from None
    notebook.metadata.pop("widgets", None)
    CoalesceStreamsPreprocessor().preprocess(notebook, {})  # a progress bar: its last frame
    for cell in notebook.cells:  # a widget has no state without its kernel: say so instead
        for index, output in enumerate(cell.get("outputs", [])):
            if "application/vnd.jupyter.widget-view+json" in output.get("data", {}):
                cell.outputs[index] = new_output("stream", text=WIDGET_NOTE)
    write_atomically(path, nbformat.writes(notebook).rstrip("\n") + "\n")


def names_of(notebook: nbformat.NotebookNode) -> str | None:
    """Return the AUTHORS string of the notebook's parameters cell (None where it has none)."""
    tagged = [c.source for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    found = re.search(r"^AUTHORS = ([\"'])(.*?)\1", "\n".join(tagged), re.MULTILINE)
    return found[2] if found else None


def printable(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return a copy for the reader: tagged parts hidden, first heading as title, names below."""
    names, notebook = names_of(notebook), copy.deepcopy(notebook)
    if names is not None:
        notebook.metadata["authors"] = [{"name": escape_latex(names.strip() or NAMES_MISSING)}]
    notebook, _ = TagRemovePreprocessor(enabled=True, **HIDING_TAGS).preprocess(notebook, {})
    for cell in (cell for cell in notebook.cells if cell.cell_type == "markdown"):
        title = re.match(r"# (.+)\n*", cell.source)
        if title and "title" not in notebook.metadata:
            notebook.metadata["title"], cell.source = title[1], cell.source[title.end() :]
        cell.source = re.sub(r"^#(#+) ", r"\1 ", cell.source, flags=re.MULTILINE)
    return notebook


def with_current_listings(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return a copy whose `listing` cells show the current source (each is run again here)."""
    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        if "listing" in cell.metadata.get("tags", []):
            shown: list[str] = []  # Markdown(text) stays the text; display collects it
            namespace = {"display": shown.append, "Markdown": str}
            exec("import helpers, report, settings, tables\n" + cell.source, namespace)  # noqa: S102
            cell.outputs = [new_output("display_data", data={"text/markdown": t}) for t in shown]
    return notebook


def check_latex_tools() -> None:
    """Raise BuildError naming the missing LaTeX tools and how to install them."""
    if missing := [tool for tool in ("xelatex", "pandoc") if shutil.which(tool) is None]:
        raise BuildError(
            f"{' and '.join(missing)} not found: the PDF export needs them (`make setup` installs "
            "them as root on Debian/Ubuntu, else says how), or use --html for an HTML report."
        )


def export(notebook: nbformat.NotebookNode, target: Path, to_pdf: bool) -> None:
    """Export the notebook to PDF (LaTeX) or HTML at `target`; keep the old file on failure."""
    exporter = PDFExporter(template_file=str(TEMPLATE)) if to_pdf else HTMLExporter()
    exporter.exclude_input_prompt = exporter.exclude_output_prompt = True
    resources = {"metadata": {"path": str(ROOT)}}  # where LaTeX finds the figures
    try:
        body, _ = exporter.from_notebook_node(printable(notebook), resources)
    except LatexFailed as error:
        output = error.output or ""
        write_atomically(ROOT / "build" / "latex.log", output)
        first = next((line for line in output.splitlines() if line.startswith("!")), "see the log")
        raise BuildError(f"LaTeX could not build the PDF ({first}); log: build/latex.log") from None
    write_atomically(target, body)


def zip_members() -> dict[str, str]:
    """Return the hand-in's files: their path in the ZIP's folder -> their path here (POSIX)."""
    found = {pattern: sorted(ROOT.glob(pattern)) for pattern in ZIP_CONTENTS.split()}
    if missing := [pattern for pattern, paths in found.items() if not paths]:
        raise BuildError(f"files for the ZIP are missing: {', '.join(missing)}")
    members = {path.relative_to(ROOT).as_posix() for paths in found.values() for path in paths}
    return {name: name for name in sorted(members)} | {
        shown: here for here, shown in HAND_IN.items()
    }


def pack_zip(target: Path) -> None:
    """Write the ZIP of the hand-in (folder exercise9/ inside), atomically."""
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, here in sorted(zip_members().items()):
            archive.write(ROOT / here, f"exercise9/{name}")
    write_atomically(target, packed.getvalue())


def build(execute_first: bool, html: bool, dist: str = "dist") -> list[str]:
    """Build the reports and the ZIP, one build at a time in this folder; return the files."""
    lock = filelock.FileLock(ROOT / "build" / "build.lock")
    try:
        (ROOT / "build").mkdir(exist_ok=True)
        lock.acquire(timeout=0)
    except filelock.Timeout:
        raise BuildError(
            "another build (make report or make run) is running in this folder: wait for it "
            "to finish, then run again"
        ) from None
    try:
        return build_alone(execute_first, html, dist)
    finally:
        lock.release()


def build_alone(execute_first: bool, html: bool, dist: str) -> list[str]:
    """Build the reports and the ZIP; return the files. Without LaTeX: HTML, then BuildError."""
    made = [*NOTEBOOKS, "build/latex.log", f"{dist}/exercise9.zip"]
    made += [f"{dist}/{Path(name).stem}.{kind}" for name in NOTEBOOKS for kind in ("pdf", "html")]
    for leftover in (path for name in made for path in leftover_temporary_files(ROOT / name)):
        leftover.unlink(missing_ok=True)  # of a build that was killed while writing
    for name in NOTEBOOKS if execute_first else ():
        print(f"execute {name} ...", flush=True)
        execute(ROOT / name)
    notebooks = [with_current_listings(read_notebook(ROOT / name)) for name in NOTEBOOKS]
    try:
        missing_latex = None if html else check_latex_tools()
    except BuildError as error:
        missing_latex, html = error, True
    if names_of(notebooks[0]) == "":
        sys.stderr.write(
            f"warning: AUTHORS is empty in the parameters cell of {NOTEBOOKS[0]}: the PDF says "
            f'"{NAMES_MISSING}". Set AUTHORS = "your names" and run `make report` again.\n'
        )
    written = [f"{dist}/{Path(name).stem}.{'html' if html else 'pdf'}" for name in NOTEBOOKS]
    for notebook, report in zip(notebooks, written):
        print(f"export {report} ...", flush=True)
        export(notebook, ROOT / report, to_pdf=not html)
    written.append(f"{dist}/exercise9.zip")
    pack_zip(ROOT / written[-1])
    if missing_latex:
        raise BuildError(f"{missing_latex} Written instead: {', '.join(written)}.")
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--execute", action="store_true", help="run both notebooks first")
    parser.add_argument("--html", action="store_true", help="export HTML instead of PDF")
    parser.add_argument("--dist", default="dist", help="output folder (default: dist)")
    args = parser.parse_args()
    os.chdir(ROOT)
    try:
        written = build(args.execute, args.html, args.dist)
    except (BuildError, OSError) as error:  # OSError: a file in use, a full disk, no rights
        sys.exit(f"build failed: {error}")  # to stderr, exit status 1
    print("done:" + "".join(f"\n  {name}" for name in written))


if __name__ == "__main__":
    main()
