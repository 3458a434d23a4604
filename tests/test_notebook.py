"""The committed report: one fresh top-to-bottom run with this helpers.py, figures, results.json.

These checks read the committed files and run nothing; `pytest --nbval exercise9.ipynb` (part
of the same test command) re-executes the notebook and compares its checked outputs.
"""

import json
import re
from pathlib import Path

import nbformat
import pytest

import helpers

ROOT = Path(__file__).resolve().parents[1]
IGNORE = "nbval-ignore-output"


@pytest.fixture(scope="module")
def notebook():
    return nbformat.read(ROOT / "exercise9.ipynb", as_version=4)


@pytest.fixture(scope="module")
def code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


@pytest.fixture(scope="module")
def results():
    return json.loads((ROOT / "results.json").read_text(encoding="utf-8"))


def stdout(cell) -> str:
    return "".join(out.get("text", "") for out in cell.outputs if out.output_type == "stream")


def test_notebook_is_valid(notebook):
    nbformat.validate(notebook)


def test_executed_top_to_bottom_in_one_session(code_cells):
    assert [cell.execution_count for cell in code_cells] == list(range(1, len(code_cells) + 1))


def test_every_code_cell_has_output_and_none_an_error(code_cells):
    assert all(cell.outputs for cell in code_cells)
    assert not [out for cell in code_cells for out in cell.outputs if out.output_type == "error"]


def test_executed_with_the_current_helpers(code_cells):
    """The first cell prints helpers.source_digest(): a changed helpers.py needs a re-run."""
    assert f"helpers.py {helpers.source_digest(ROOT / 'helpers.py')}," in stdout(code_cells[0])


def test_one_parameters_cell_of_plain_assignments(code_cells):
    tagged = [cell for cell in code_cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1
    for line in tagged[0].source.splitlines():
        assert re.match(r"^[A-Z_]+ = [^=]+$|^print\(", line), line


def test_every_ignored_output_is_followed_by_a_checked_verdict(notebook):
    """Cells whose outputs vary between machines are followed by a compared range check."""
    cells = notebook.cells
    for index, cell in enumerate(cells):
        if IGNORE not in cell.metadata.get("tags", []):
            continue
        later = [c for c in cells[index + 1:] if c.cell_type == "code"]
        checked = next(c for c in later if IGNORE not in c.metadata.get("tags", []) and stdout(c))
        verdicts = re.findall(r": (True|False)$", stdout(checked), re.M)
        assert verdicts and set(verdicts) == {"True"}, (cell.source[:60], stdout(checked))


def figure_cells(notebook):
    return [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"
            and any("image/png" in out.get("data", {}) for out in cell.outputs)]


def test_every_figure_has_a_numbered_caption_right_under_it(notebook):
    numbers = []
    for index in figure_cells(notebook):
        following = notebook.cells[index + 1]
        match = re.match(r"\*\*Figure (\d+)\.\*\*", following.source)
        assert following.cell_type == "markdown" and match, notebook.cells[index].source[:60]
        numbers.append(int(match[1]))
    assert numbers == list(range(1, len(numbers) + 1))


def test_every_figure_is_saved_under_figures(notebook):
    names = re.findall(r'"(fig\d\d_[a-z0-9_]+)', "".join(c.source for c in notebook.cells))
    saved = {path.stem for path in (ROOT / "figures").glob("*.png")}
    assert len(names) == len(figure_cells(notebook))
    for name in names:
        assert any(stem.startswith(name) for stem in saved), name


def test_no_absolute_paths_in_the_code(code_cells):
    for cell in code_cells:
        assert not re.search(r"['\"](/|[A-Za-z]:\\)", cell.source), cell.source[:60]


def test_code_lines_fit_the_pdf_text_width(code_cells):
    assert max(len(line) for cell in code_cells for line in cell.source.splitlines()) <= 78


def test_results_json_holds_the_losses_of_both_models(results):
    epochs, every = results["config"]["EPOCHS"], results["config"]["TEST_EVERY"]
    expected_tests = [str(e) for e in range(every, epochs + 1, every)]
    for name in ("autoencoder", "denoising_autoencoder"):
        model = results[name]
        assert len(model["train_loss"]) == epochs
        assert list(model["test_loss"]) == expected_tests
        assert 3 <= model["live_code_units"] <= 8
    assert results["denoising_autoencoder"]["noise_std"] == results["config"]["NOISE_STD"]


def test_results_match_the_parameters_cell(results, code_cells):
    tagged = next(c for c in code_cells if "parameters" in c.metadata.get("tags", []))
    namespace: dict = {}
    exec(tagged.source.replace("print(", "str("), namespace)  # noqa: S102: literals only
    assert results["config"] == {k: v for k, v in namespace.items() if k.isupper()}
    assert results["config"]["EPOCHS"] == 50


BEYOND_THE_SHEET = ("pca8", "code_quality", "denoising_psnr", "dead_units",
                    "linear_code_ablation", "sgd_variants")


def numbers_in(value) -> list:
    """Return the leaves of a dict/list of results (None stands for an infinite PSNR)."""
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in numbers_in(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in numbers_in(item)]
    return [value]


def test_results_json_holds_every_measured_answer_as_named_numbers(results):
    for key in BEYOND_THE_SHEET:
        assert isinstance(results[key], dict) and results[key], key
        assert all(leaf is None or isinstance(leaf, (int, float))
                   for leaf in numbers_in(results[key])), key


def test_measured_answers_are_consistent_with_each_other(results):
    pca8, psnr, sgd = results["pca8"], results["denoising_psnr"], results["sgd_variants"]
    assert pca8["test_mse_clean"] == results["references"]["pca8_mse"]
    assert len(psnr["noise_std"]) >= 6 and max(psnr["noise_std"]) >= 1.0
    assert len(psnr["noisy_input_db"]) == len(psnr["autoencoder_db"]) == len(psnr["noise_std"])
    assert psnr["noisy_input_db"][0] is None  # noise 0: identical images, infinite PSNR
    assert sgd["stochastic_batch_size"] == 1 and sgd["batch_batch_size"] == 60000
    assert sgd["mini_batch_batch_size"] == results["config"]["BATCH_SIZE"]
    for name in ("stochastic", "mini_batch", "batch"):
        assert sgd[f"{name}_seconds"] >= sgd["budget_seconds"]
    quality = results["code_quality"]
    for model in ("autoencoder", "denoising", "pca8"):
        assert 0.1 < quality[f"{model}_knn_accuracy"] <= 1.0
    dead = results["dead_units"]
    assert dead["autoencoder_live_units"] == results["autoencoder"]["live_code_units"]
    assert results["linear_code_ablation"]["epochs"] == results["config"]["ABLATION_EPOCHS"]
