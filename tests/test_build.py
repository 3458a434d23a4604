"""The submission: the PDF built from the committed notebook and the ZIP of the code."""

import ast
import copy
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import filelock
import nbformat
import pytest
from pypdf import PdfReader

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import build_report
import provenance

ROOT = build_report.ROOT
QUIET = ["-q", "-p", "no:cacheprovider", "-n", "0"]  # a run inside a run: no cache, no workers


SLOW = pytest.mark.slow  # runs LaTeX or a whole build: part of `make test`, not of the unit tests


@pytest.fixture(scope="module")
def notebook():
    return build_report.read_notebook(ROOT / "exercise9.ipynb")


@pytest.fixture(scope="module")
def companion():
    return build_report.read_notebook(ROOT / "companion.ipynb")


def needs_latex() -> None:
    """Skip, saying what to install, where XeLaTeX or pandoc is missing."""
    try:
        build_report.check_latex_tools()
    except build_report.BuildError as error:
        pytest.skip(f"no PDF export here: {error}")


def child_environment(**variables: str) -> dict[str, str]:
    """Return a small environment for a child process: the given variables, plus those that
    Windows needs to start one (SYSTEMROOT and the like), where they are set."""
    kept = ("SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "COMSPEC", "PATHEXT", "TEMP", "TMP")
    return {**{name: os.environ[name] for name in kept if name in os.environ}, **variables}


@pytest.fixture(scope="module")
def pdf_file(notebook, tmp_path_factory) -> Path:
    """The notebook exported, its listings rendered from the current code (as `make report`)."""
    needs_latex()
    target = tmp_path_factory.mktemp("pdf") / "exercise9.pdf"
    build_report.export(build_report.with_current_listings(notebook), target, to_pdf=True)
    return target


@pytest.fixture(scope="module")
def pdf(pdf_file) -> PdfReader:
    return PdfReader(pdf_file)


@pytest.fixture(scope="module")
def pdf_text(pdf) -> str:
    return "\n".join(page.extract_text() for page in pdf.pages)


@pytest.fixture(scope="module")
def companion_pdf_text(companion, tmp_path_factory) -> str:
    needs_latex()
    target = tmp_path_factory.mktemp("pdf") / "companion.pdf"
    build_report.export(companion, target, to_pdf=True)
    return "\n".join(page.extract_text() for page in PdfReader(target).pages)


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def imported_modules(source: str) -> set[str]:
    """Return the top-level names of the modules that Python source imports."""
    tree = ast.parse(source)
    return {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        node.module.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module
    }


def project_modules(sources: list[str]) -> set[str]:
    """Return the project's modules (NAME.py in the project folder) that the sources import,
    directly or through each other."""
    found: set[str] = set()
    pending = set().union(*map(imported_modules, sources))
    while pending:
        name = pending.pop()
        if name not in found and (ROOT / f"{name}.py").is_file():
            found.add(name)
            pending |= imported_modules((ROOT / f"{name}.py").read_text(encoding="utf-8"))
    return found


def code_cells(notebook) -> list[str]:
    """Return the notebook's code cells as Python (IPython's % and ! lines left out)."""
    return [
        "\n".join(
            line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!"))
        )
        for cell in notebook.cells
        if cell.cell_type == "code"
    ]


@pytest.fixture(scope="module")
def zip_environment(raw_dir) -> dict[str, str]:
    """The environment of a test run in the unpacked ZIP: this run's verified data (no
    download), on the CPU."""
    return {**os.environ, "FASHION_MNIST_DIR": str(raw_dir)}


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory) -> Path:
    """The folder of the ZIP's contents, unpacked into a temporary folder (no .git, no data)."""
    folder = tmp_path_factory.mktemp("zip")
    build_report.pack_zip(folder / "exercise9.zip")
    zipfile.ZipFile(folder / "exercise9.zip").extractall(folder / "unpacked")
    return folder / "unpacked" / "exercise9"


@SLOW
def test_pdf_has_the_title_and_a_heading_per_question(pdf_text):
    for heading in (
        "Exercise sheet 9",
        "Question 1: Variants of gradient descent",
        "Question 2: An autoencoder for Fashion-MNIST",
        "Question 3: A denoising autoencoder",
    ):
        assert squeeze(heading) in squeeze(pdf_text), heading


@SLOW
def test_pdf_has_every_answer_and_caption(pdf_text, notebook):
    answers = [
        "Batch gradient descent",
        "Stochastic gradient descent (SGD)",
        "Mini-batch gradient descent",
        "Adam has no momentum argument",
        "the footwear forms a band of its own",
        "Both maps (Figure 4) put the footwear apart from the clothes",
        "The written code",
    ]
    rendered = [
        out.get("data", {}).get("text/markdown", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for out in cell.outputs
    ]
    captions = re.findall(
        r"\*\*((?:Figure|Table|Listing) \d+)\.\*\*",
        "".join(
            [cell.source for cell in notebook.cells if cell.cell_type == "markdown"] + rendered
        ),
    )
    assert len(captions) >= 13  # 4 figures, 4 tables, 5 listings
    for text in answers + captions:
        assert squeeze(text) in squeeze(pdf_text), text


@SLOW
def test_pdf_hides_cell_tags_progress_bars_and_machinery(pdf_text):
    assert "nbval" not in pdf_text and "%|" not in pdf_text
    assert "display(Markdown" not in pdf_text and "report.run_notice" not in pdf_text
    assert not re.search(r": (True|False)\s*$", pdf_text, re.MULTILINE)


@SLOW
def test_pdf_lists_the_code_the_sheet_asks_for(pdf_text):
    for code in (
        "class Autoencoder(nn.Module):",
        "return F.mse_loss(self(inputs), targets)",
        "loss = model.loss(inputs, target)",
        "def train_epoch(",
        "def make_optimizer(",
        "def train_autoencoder(",
        "def add_white_noise(",
        "class Recorder:",
        "def tsne_embed(",
        "def plane_neighbour_votes(",
    ):
        assert squeeze(code) in squeeze(pdf_text), code
    for machinery in (
        "def stack_backward(",
        "FASHION_MNIST_SHA256",
        "class CodeExplorer",
        "def flush_denormals(",
        "def collapse_reason(",
        "def check_training_args(",
    ):
        assert squeeze(machinery) not in squeeze(pdf_text), machinery


@SLOW
def test_companion_pdf_has_its_title_sections_and_captions(companion_pdf_text, companion):
    text = squeeze(companion_pdf_text)
    markdown = "\n".join(cell.source for cell in companion.cells if cell.cell_type == "markdown")
    headings = re.findall(r"^#+ (.+)$", markdown, re.MULTILINE)
    captions = re.findall(r"\*\*((?:Figure|Table) C\d+)\.\*\*", markdown)
    assert "Exercisesheet9" in text and len(headings) >= 7 and len(captions) >= 8
    for shown in headings + captions:
        assert squeeze(shown) in text, shown


@SLOW
def test_companion_pdf_hides_cell_tags_the_explorer_and_machinery(companion_pdf_text):
    for machinery in (
        "nbval",
        "%|",
        "display(Markdown",
        "companion_results(",
        "code_explorer(",
        "import helpers",
    ):
        assert machinery not in companion_pdf_text, machinery


def pages_of_parts(pages: list[str]) -> dict[str, int]:
    """Return how many pages the sheet's part and the written code take; a page shared by the
    two counts for both, a page where the code starts at the top only for the code."""
    heading = squeeze("The written code")
    index = max(i for i, page in enumerate(pages) if heading in page)  # the heading, not p. 1
    before = pages[index].split(heading)[0]
    shared = len(re.sub(r"^\d+", "", before)) > 60  # more than a page number and a number
    return {"sheet": index + shared, "code": len(pages) - index}


@SLOW
def test_pdf_has_the_sheets_part_in_6_pages_and_10_in_all(pdf):
    """The sheet's answers in at most 6 pages and the written code in the rest of 10: a
    strict reader's five minutes (issue 40)."""
    counts = pages_of_parts([squeeze(page.extract_text()) for page in pdf.pages])
    assert counts["sheet"] <= 6, counts
    assert len(pdf.pages) <= 10


@SLOW
def test_the_page_the_text_names_for_figure_4_is_its_page(pdf, notebook):
    """Q2 e) sends the reader to Figure 4 by its page, as a strict reader asked: it must be the
    page that holds Figure 4's caption."""
    text = " ".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    [named] = re.findall(r"left half of Figure 4 \(page (\d+),", " ".join(text.split()))
    pages = [squeeze(page.extract_text()) for page in pdf.pages]
    [caption] = [i + 1 for i, page in enumerate(pages) if squeeze("Figure 4. t-SNE maps") in page]
    assert int(named) == caption


@SLOW
def test_the_listings_glyphs_are_at_least_9_points(tmp_path, pdf_file):
    """Measured as the issue asks, with pdftotext -bbox (a word's box is as tall as its font
    size, in PDF points): every word from the written code on is 9 pt or more."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    subprocess.run(["pdftotext", "-bbox", str(pdf_file), str(tmp_path / "words.html")], check=True)
    pages = (tmp_path / "words.html").read_text(encoding="utf-8").split("<page ")[1:]
    heading = re.compile(r">The</word>\s*<word[^>]*>written</word>\s*<word[^>]*>code<")
    first = max(i for i, page in enumerate(pages) if heading.search(page))  # not the intro's
    code = [heading.split(pages[first])[-1], *pages[first + 1 :]]
    heights = [
        float(low_high[1]) - float(low_high[0])
        for page in code
        for low_high in re.findall(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)"', page)
    ]
    assert len(heights) > 1000 and min(heights) >= 9.0, min(heights)


@SLOW
def test_pdf_embeds_at_least_one_image_per_figure_output(pdf, notebook):
    figures = sum(
        "image/png" in out.get("data", {})
        for cell in notebook.cells
        if cell.cell_type == "code"
        for out in cell.outputs
    )
    assert sum(len(page.images) for page in pdf.pages) >= figures > 0


@SLOW
def test_no_code_line_is_cut_or_wrapped_in_the_pdf(pdf_text, notebook):
    """The longest line of each code cell shown appears whole, without a line-break marker."""
    text = squeeze(pdf_text)
    hidden = {"remove-input", "remove-cell"}
    for cell in notebook.cells:
        if cell.cell_type == "code" and not hidden & set(cell.metadata.get("tags", [])):
            longest = max(cell.source.splitlines(), key=len)
            assert squeeze(longest) in text, longest


WORKSHOP = (  # the repository's, not the hand-in's
    "tests/", "tools/", "bench/", "seed_study", ".ci/", "companion", "explorer.py", "Makefile",
    "MAINTAINERS.md", "gd_variants.py", "measures.py", "models/", "data/", "dist/", "build/",
    "__pycache__", ".pyc", ".venv", ".git",
)  # fmt: skip


def test_zip_is_the_hand_in_in_at_most_20_files(tmp_path, notebook):
    """The notebook, the modules it imports, the requirements, its run's results and figures,
    a short README and the check's pytest.ini: at most 20 files, none of the workshop."""
    target = tmp_path / "exercise9.zip"
    build_report.pack_zip(target)
    names = [name.removeprefix("exercise9/") for name in zipfile.ZipFile(target).namelist()]
    assert len(names) <= 20, names
    modules = {f"{name}.py" for name in project_modules(code_cells(notebook))}
    figures = {f"figures/{path.name}" for path in (ROOT / "figures").glob("fig*.png")}
    expected = {"exercise9.ipynb", "README.md", "pytest.ini", "requirements.txt"}
    assert set(names) == modules | figures | expected | {"environment.yml", "results.json"}
    assert not [name for name in names if any(part in name for part in WORKSHOP)], names
    readme = zipfile.ZipFile(target).read("exercise9/README.md").decode()
    assert "pytest --nbval exercise9.ipynb" in readme and len(readme.splitlines()) <= 60


FILE_NAME = re.compile(
    r"(?<![\w/.$-])((?:[\w.][\w.-]*/)*\w[\w-]*\.(?:md|py|sh|ipynb|json|txt|yml|toml|"
    r"ini|cfg|j2|pt|png|pdf|zip))\b"
)
MADE_HERE = ("other-runs/", "data/", ".venv")  # made by a run or the README's commands
NOT_IN_THE_ZIP = {  # files the texts name that are not the hand-in's, and why
    "exercise9.zip": "the ZIP itself",
    "exercise9.pdf": "the PDF, handed in beside the ZIP",
    "exercise_09_starter.py": "the course's starter code, a reference",
    "simple_autoencoder.py": "pytorch-beginner's example, a reference",
}


def names_missing_from_zip(text: str, members: set[str]) -> list[str]:
    """Return the files a text names that the ZIP lacks (made by a run, or listed above, aside)."""
    return [
        name
        for name in FILE_NAME.findall(text)
        if not name.startswith(MADE_HERE) and Path(name).name not in NOT_IN_THE_ZIP
        if not any(member == name or member.endswith("/" + name) for member in members)
    ]


def test_every_file_the_zip_s_readme_names_is_in_the_zip():
    members = set(build_report.zip_members())
    for shown, here in build_report.HAND_IN.items():
        text = (ROOT / shown).read_text(encoding="utf-8")
        assert not names_missing_from_zip(text, members), here


@SLOW
def test_every_file_the_pdf_names_is_in_the_zip(pdf_text):
    assert not names_missing_from_zip(pdf_text, set(build_report.zip_members()))


def test_zip_contains_no_absolute_path_of_this_machine(tmp_path):
    target = tmp_path / "exercise9.zip"
    build_report.pack_zip(target)
    with zipfile.ZipFile(target) as archive:
        for name in archive.namelist():
            assert str(ROOT).encode() not in archive.read(name), name


@SLOW
def test_unpacked_zip_imports_the_notebook_s_modules_and_collects_its_check(
    unpacked, zip_environment, notebook
):
    """There, the notebook's modules import from the unpacked folder, and the README's check
    (`pytest --nbval exercise9.ipynb`, with the ZIP's pytest.ini) collects every code cell;
    `make portability` runs it whole, offline and as a user who is not root."""
    found = subprocess.run(
        [
            sys.executable,
            "-c",
            "import helpers, report, tables; print(helpers.__file__)",
        ],
        cwd=unpacked,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert Path(found.strip()).resolve().parent == unpacked.resolve()
    run = subprocess.run(
        [sys.executable, "-m", "pytest", *QUIET, "--nbval", "exercise9.ipynb", "--collect-only"],
        cwd=unpacked,
        capture_output=True,
        text=True,
        env=zip_environment,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:]
    cells = sum(cell.cell_type == "code" for cell in notebook.cells)
    assert f"{cells} tests collected" in run.stdout, run.stdout[-500:]


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX's; Windows has none")
def test_build_outputs_are_readable_by_everyone_like_other_build_files(tmp_path):
    """0644 (with the usual umask 022), not the 0600 of a temporary file."""
    old = os.umask(0o022)
    try:
        build_report.pack_zip(tmp_path / "exercise9.zip")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "exercise9.zip").stat().st_mode) == 0o644


def test_missing_xelatex_or_pandoc_is_one_clear_message(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(build_report.BuildError, match="xelatex and pandoc not found.*--html"):
        build_report.check_latex_tools()


def test_missing_or_invalid_notebook_is_one_clear_message(tmp_path):
    with pytest.raises(build_report.BuildError, match="missing"):
        build_report.read_notebook(tmp_path / "exercise9.ipynb")
    (tmp_path / "broken.ipynb").write_text('{"cells": [', encoding="utf-8")
    with pytest.raises(build_report.BuildError, match="not a valid notebook"):
        build_report.read_notebook(tmp_path / "broken.ipynb")


def test_a_raising_cell_is_named_and_the_notebook_kept(tmp_path):
    path = tmp_path / "failing.ipynb"
    cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("1 / 0")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    before = path.read_bytes()
    with pytest.raises(build_report.BuildError, match=r"cell 1 \(1 / 0\) raised ZeroDivisionError"):
        build_report.execute(path)
    assert path.read_bytes() == before


@SLOW
def test_a_latex_failure_keeps_the_previous_pdf(tmp_path):
    needs_latex()
    target = tmp_path / "exercise9.pdf"
    target.write_bytes(b"%PDF previous")
    broken = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(r"$\notacommand$")])
    with pytest.raises(build_report.BuildError, match="LaTeX could not build the PDF"):
        build_report.export(broken, target, to_pdf=True)
    assert target.read_bytes() == b"%PDF previous"
    assert [p.name for p in tmp_path.iterdir()] == ["exercise9.pdf"]


def test_the_committed_notebooks_are_each_one_top_to_bottom_run(notebook, companion):
    """Execution counts 1, 2, 3, ...: one run, not cells run by hand in another order (that
    the run is one of the current code is what nbval's re-run and the reproduction check
    prove)."""
    for book in (notebook, companion):
        counts = [cell.execution_count for cell in book.cells if cell.cell_type == "code"]
        assert counts == list(range(1, len(counts) + 1)), "run `make run`"


def test_the_export_lists_the_current_source_not_the_committed_output(notebook):
    """A listing is rendered from the code when the PDF is built: a renamed local in a listed
    function shows in the export at once, with no notebook run and no failing test."""
    import inspect

    import helpers

    stale = copy.deepcopy(notebook)
    listings = [cell for cell in stale.cells if "listing" in cell.metadata.get("tags", [])]
    for cell in listings:
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="stale code")]
    fresh = build_report.with_current_listings(stale)
    shown = "".join(
        out.get("data", {}).get("text/markdown", out.get("text", ""))
        for cell in fresh.cells
        if "listing" in cell.metadata.get("tags", [])
        for out in cell.outputs
    )
    assert listings and "stale code" not in shown
    assert inspect.getsource(helpers.train_autoencoder).rstrip() in shown


@SLOW
def test_without_latex_the_html_and_zip_are_still_built(tmp_path, notebook):
    """Run as a user without XeLaTeX and pandoc would: one message, the rest of the build."""
    python = Path(sys.executable)
    run = subprocess.run(
        [str(python), "tools/build_report.py", "--dist", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env=child_environment(PATH=str(python.parent), HOME=str(tmp_path)),
    )
    assert run.returncode == 1
    assert "xelatex and pandoc not found" in run.stderr and "Traceback" not in run.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [
        "companion.html",
        "exercise9.html",
        "exercise9.zip",
    ]


def test_a_locked_output_file_stops_the_build_with_one_message(monkeypatch):
    def locked(*args, **kwargs):
        raise PermissionError("cannot replace dist/exercise9.pdf: it is open in another program")

    monkeypatch.setattr(build_report, "build", locked)
    monkeypatch.setattr(sys, "argv", ["build_report.py"])
    monkeypatch.chdir(ROOT)  # main() changes into the project folder; this restores the old one
    with pytest.raises(SystemExit) as exit_:  # Python prints the message to stderr, status 1
        build_report.main()
    assert exit_.value.code == (
        "build failed: cannot replace dist/exercise9.pdf: it is open in another program"
    )


def test_a_second_build_at_once_stops_with_one_message(tmp_path):
    """Two builds at once would write the same PDFs and notebooks: the second waits for none."""
    running = filelock.FileLock(ROOT / "build" / "build.lock")
    running.acquire()  # as a build in another process holds it
    try:
        with pytest.raises(
            build_report.BuildError,
            match="another build .make report or make "
            "run. is running in this folder: wait for it to finish",
        ):
            build_report.build(execute_first=False, html=True, dist=str(tmp_path))
    finally:
        running.release()
    assert not any(tmp_path.iterdir())


def test_a_build_removes_the_temporary_files_a_killed_build_left(tmp_path, monkeypatch):
    """A build killed while writing the ZIP once left dist/.exercise9.zip.<random> for good."""
    left = [tmp_path / ".exercise9.zip.k3j9_x2", tmp_path / ".companion.html.8fa_1q"]
    for path in left:
        path.write_bytes(b"half a file")
    kept = tmp_path / ".exercise9.zip-notes.txt"  # not a temporary file of the build
    kept.write_text("someone's notes")
    monkeypatch.setattr(build_report, "export", lambda notebook, target, to_pdf: None)
    monkeypatch.setattr(build_report, "pack_zip", lambda target: None)
    build_report.build(execute_first=False, html=True, dist=str(tmp_path))
    assert not any(path.exists() for path in left) and kept.exists()


def test_the_build_records_its_run_as_the_committed_one(tmp_path):
    """`make run` executes with EXERCISE9_RECORD set, so its run writes into the project
    and shows no notice (report.read_committed_run gives None); afterwards it is unset."""

    path = tmp_path / "record.ipynb"
    cells = [
        nbformat.v4.new_code_cell(
            f"import os\nassert os.environ.get({provenance.RECORD_VARIABLE!r}) == '1'"
        )
    ]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    build_report.execute(path)
    assert provenance.RECORD_VARIABLE not in os.environ


PLACEHOLDER_WORDS = re.compile(r"\b(TODO|TBD|FIXME|XXX|TIME_[A-Z]+)\b")


def handed_out_markdown() -> dict[str, str]:
    """Return the Markdown that a user or grader reads: the ZIP's .md files and the markdown
    cells of both notebooks."""
    texts = {
        name: (ROOT / name).read_text(encoding="utf-8")
        for name in build_report.zip_members()
        if name.endswith(".md")
    }
    for name in build_report.NOTEBOOKS:
        cells = nbformat.read(ROOT / name, as_version=4).cells
        texts[name] = "\n".join(cell.source for cell in cells if cell.cell_type == "markdown")
    return texts


def with_names(notebook, names: str):
    """Return a copy of the notebook with AUTHORS set to `names` in its parameters cell."""

    notebook = copy.deepcopy(notebook)
    cell = next(cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", []))
    cell.source = re.sub(
        r'^AUTHORS = "[^"]*"', f'AUTHORS = "{names}"', cell.source, flags=re.MULTILINE
    )
    return notebook


def test_the_title_shows_the_names_or_a_visible_placeholder(notebook, companion):
    """The names come from the parameters cell at export time (LaTeX-escaped); without them
    the title area says so; the companion has no names and gets no line."""
    from nbconvert import LatexExporter

    needs_latex()  # the LaTeX export converts the Markdown with pandoc

    def title_area(book) -> str:
        body, _ = LatexExporter(template_file=str(build_report.TEMPLATE)).from_notebook_node(
            build_report.printable(book)
        )
        return body[body.index("\\title") : body.index("\\begin{document}")]

    assert build_report.names_of(notebook) == ""  # the committed notebook: no names yet
    assert "\\author{[names not set: set AUTHORS in the parameters cell" in title_area(notebook)
    named = title_area(with_names(notebook, "A. Lovelace & A. Turing"))
    assert "\\author{A. Lovelace \\& A. Turing}" in named and "not set" not in named
    assert build_report.names_of(companion) is None and "\\author" not in title_area(companion)


def test_the_build_warns_when_the_names_are_missing(monkeypatch, capsys, notebook, tmp_path):
    """`make report` without names still builds, with one warning that says what to do."""
    monkeypatch.setattr(build_report, "read_notebook", lambda path: notebook)
    monkeypatch.setattr(build_report, "export", lambda *args, **kwargs: None)
    monkeypatch.setattr(build_report, "pack_zip", lambda target: None)
    build_report.build(execute_first=False, html=True, dist=str(tmp_path))
    warning = capsys.readouterr().err
    assert "warning: AUTHORS is empty in the parameters cell of exercise9.ipynb" in warning
    assert "run `make report` again" in warning
    notebook = with_names(notebook, "A. Lovelace")
    build_report.build(execute_first=False, html=True, dist=str(tmp_path))
    assert "warning" not in capsys.readouterr().err


def test_no_placeholder_is_left_in_any_handed_out_markdown():
    """A word like TIME_REPORT names nothing: every CAPITALS_WITH_UNDERSCORES word of the
    handed-out Markdown must be a name the project's code or build uses."""
    code = "\n".join(
        path.read_text(encoding="utf-8")
        for pattern in ("*.py", "seed_study/*.py", "tools/*", "Makefile", "*.ipynb")
        for path in ROOT.glob(pattern)
        if path.is_file()
    )
    texts = handed_out_markdown()
    assert "README.md" in texts
    for name, text in texts.items():
        assert not PLACEHOLDER_WORDS.search(text), (name, PLACEHOLDER_WORDS.search(text))
        unknown = {
            word
            for word in re.findall(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b", text)
            if word not in code
        }
        assert not unknown, (name, unknown)


def test_the_placeholder_check_finds_one():
    assert PLACEHOLDER_WORDS.search("takes about TIME_REPORT; `make test` takes TIME_TEST")
