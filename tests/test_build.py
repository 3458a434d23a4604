"""The submission: the PDF built from the committed notebook and the ZIP of the code."""

import os
import re
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from pypdf import PdfReader

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import build_report  # noqa: E402

ROOT = build_report.ROOT
UNIT_TESTS = ["tests/test_data.py", "tests/test_model.py", "tests/test_noise.py",
              "tests/test_training.py", "tests/test_seeds.py", "tests/test_evaluation.py",
              "tests/test_embedding.py", "tests/test_report.py", "tests/test_environment.py",
              "tests/test_checkout.py"]


SLOW = pytest.mark.slow  # runs LaTeX or a whole build: part of `make test`, not of the unit tests


@pytest.fixture(scope="module")
def notebook():
    return build_report.read_notebook(ROOT / "exercise9.ipynb")


@pytest.fixture(scope="module")
def pdf(notebook, tmp_path_factory) -> PdfReader:
    build_report.check_latex_tools()
    target = tmp_path_factory.mktemp("pdf") / "exercise9.pdf"
    build_report.export(notebook, target, to_pdf=True)
    return PdfReader(target)


@pytest.fixture(scope="module")
def pdf_text(pdf) -> str:
    return "\n".join(page.extract_text() for page in pdf.pages)


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@SLOW
def test_pdf_has_the_title_and_a_heading_per_question(pdf_text):
    for heading in ("Exercise sheet 9", "Question 1: Variants of gradient descent",
                    "Question 2: An autoencoder for Fashion-MNIST",
                    "Question 3: A denoising autoencoder"):
        assert squeeze(heading) in squeeze(pdf_text), heading


@SLOW
def test_pdf_has_every_answer_and_caption(pdf_text, notebook):
    answers = ["Answers at a glance", "Batch gradient descent", "Stochastic gradient descent (SGD)",
               "Mini-batch gradient descent", "Adam has no momentum", "What the autoencoder",
               "Appendix A: beyond the sheet", "Appendix B: code"]
    rendered = [out.get("data", {}).get("text/markdown", "") for cell in notebook.cells
                if cell.cell_type == "code" for out in cell.outputs]
    captions = re.findall(r"\*\*((?:Figure|Table|Listing) \d+)\.\*\*", "".join(
        [cell.source for cell in notebook.cells if cell.cell_type == "markdown"] + rendered))
    assert len(captions) >= 20
    for text in answers + captions:
        assert squeeze(text) in squeeze(pdf_text), text


@SLOW
def test_pdf_hides_cell_tags_progress_bars_and_machinery(pdf_text):
    assert "nbval" not in pdf_text and "%|" not in pdf_text
    assert "display(Markdown" not in pdf_text and "report.glance_table" not in pdf_text
    assert not re.search(r": (True|False)\s*$", pdf_text, re.M)


@SLOW
def test_pdf_lists_the_code_the_sheet_asks_for(pdf_text):
    for code in ("class Autoencoder(nn.Module):", "loss = F.mse_loss(model(inputs), target)",
                 "def train_epoch(", "def add_white_noise(", "def train_autoencoder("):
        assert squeeze(code) in squeeze(pdf_text), code


@SLOW
def test_pdf_has_at_most_20_pages_before_the_code_appendix(pdf):
    pages = [squeeze(page.extract_text()) for page in pdf.pages]
    appendix = next(i for i, page in enumerate(pages) if squeeze("Appendix B: code") in page)
    assert appendix <= 20, f"the code appendix starts on page {appendix + 1}"


@SLOW
def test_pdf_embeds_at_least_one_image_per_figure_output(pdf, notebook):
    figures = sum("image/png" in out.get("data", {}) for cell in notebook.cells
                  if cell.cell_type == "code" for out in cell.outputs)
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


def test_zip_holds_the_code_and_nothing_generated(tmp_path):
    target = tmp_path / "exercise9.zip"
    build_report.pack_zip(target)
    names = zipfile.ZipFile(target).namelist()
    for required in ("exercise9.ipynb", "helpers.py", "report.py", "seed_study.json",
                     "requirements.txt", "environment.yml", "README.md", "tests/test_model.py",
                     "tools/latex/exercise9.tex.j2", "bench/seed_study.py"):
        assert f"exercise9/{required}" in names
    assert not [n for n in names if re.search(r"/(data|figures|dist|\.venv)/|__pycache__|\.pyc$", n)]


def test_zip_contains_no_absolute_path_of_this_machine(tmp_path):
    target = tmp_path / "exercise9.zip"
    build_report.pack_zip(target)
    with zipfile.ZipFile(target) as archive:
        for name in archive.namelist():
            assert str(ROOT).encode() not in archive.read(name), name


@pytest.mark.slow
def test_unpacked_zip_imports_helpers_and_passes_its_unit_tests(tmp_path):
    target = tmp_path / "exercise9.zip"
    build_report.pack_zip(target)
    zipfile.ZipFile(target).extractall(tmp_path / "unpacked")
    folder = tmp_path / "unpacked" / "exercise9"
    found = subprocess.run([sys.executable, "-c", "import helpers; print(helpers.__file__)"],
                           cwd=folder, capture_output=True, text=True, check=True).stdout
    assert Path(found.strip()).resolve().parent == folder.resolve()
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "-m", "not slow", *UNIT_TESTS], cwd=folder, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:]


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
    build_report.check_latex_tools()
    target = tmp_path / "exercise9.pdf"
    target.write_bytes(b"%PDF previous")
    broken = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(r"$\notacommand$")])
    with pytest.raises(build_report.BuildError, match="LaTeX could not build the PDF"):
        build_report.export(broken, target, to_pdf=True)
    assert target.read_bytes() == b"%PDF previous"
    assert [p.name for p in tmp_path.iterdir()] == ["exercise9.pdf"]


def test_up_to_date_check_notices_a_changed_code_cell(notebook):
    assert build_report.is_up_to_date(notebook)
    changed = nbformat.from_dict(notebook)
    changed = nbformat.reads(nbformat.writes(changed), as_version=4)
    next(c for c in changed.cells if c.cell_type == "code").source += "\n# changed"
    assert not build_report.is_up_to_date(changed)


@SLOW
def test_without_latex_the_html_and_zip_are_still_built(tmp_path):
    """Run as a user without XeLaTeX and pandoc would: one message, the rest of the build."""
    python = Path(sys.executable)
    run = subprocess.run([str(python), "tools/build_report.py", "--dist", str(tmp_path)],
                         cwd=ROOT, capture_output=True, text=True,
                         env={"PATH": str(python.parent), "HOME": str(tmp_path)})
    assert run.returncode == 1
    assert "xelatex and pandoc not found" in run.stderr and "Traceback" not in run.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [
        "exercise9.html", "exercise9.zip"]


def test_saved_widgets_become_finished_bars_or_a_note_to_run_the_cell():
    def view(model_id):
        return nbformat.v4.new_output("display_data", data={
            build_report.WIDGET_VIEW: {"model_id": model_id}, "text/plain": "VBox(children=…"})
    state = {"bar": {"model_name": "HBoxModel", "state": {"children": [
        "IPY_MODEL_label", "IPY_MODEL_progress", "IPY_MODEL_numbers"]}},
             "label": {"model_name": "HTMLModel", "state": {"value": "autoencoder: 100%"}},
             "progress": {"model_name": "FloatProgressModel", "state": {"value": 50, "max": 50}},
             "numbers": {"model_name": "HTMLModel", "state": {"value": " 50/50 [00:01]"}},
             "explorer": {"model_name": "VBoxModel", "state": {"children": []}}}
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[
        view("bar"), view("explorer")])])
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": state}}
    build_report.finish_progress_bars(notebook)
    texts = [out["text"] for out in notebook.cells[0].outputs]
    assert texts == ["autoencoder: 100%|██████████| 50/50 [00:01]\n", build_report.WIDGET_NOTE]
    assert "widgets" not in notebook.metadata
