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


def test_no_code_cell_ended_in_an_error(code_cells):
    assert not [out for cell in code_cells for out in cell.outputs if out.output_type == "error"]


def test_executed_with_the_current_helpers(code_cells):
    """The first cell prints helpers.source_digest(): a changed helpers.py needs a re-run."""
    assert f"helpers.py {helpers.source_digest(ROOT / 'helpers.py')}," in stdout(code_cells[0])


def test_one_parameters_cell_of_plain_assignments(code_cells):
    tagged = [cell for cell in code_cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1
    for line in tagged[0].source.splitlines():
        assert re.match(r"^[A-Z_]+ = [^=]+$|^print\(", line), line


def tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def output_text(cell) -> str:
    """Return a code cell's text outputs: streams, plain text and rendered Markdown."""
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        parts += [out.get("data", {}).get(kind, "") for kind in ("text/plain", "text/markdown")]
    return "".join(parts)


def test_no_check_is_printed_into_the_report(code_cells):
    """Claims are checked by tests/test_claims.py, not printed as 'something: True'."""
    for cell in code_cells:
        assert not re.search(r": (True|False)$", output_text(cell), re.M), cell.source[:60]


def test_every_rendering_cell_hides_its_input(code_cells):
    """A cell that only renders (report's figures, tables, wording) shows its result only."""
    for cell in code_cells:
        renders = "plt.show()" in cell.source or cell.source.startswith("display(")
        if renders:
            assert {"remove-input", "remove-cell"} & set(tags(cell)), cell.source[:60]


def test_training_and_evaluation_cells_stay_visible(code_cells):
    visible = [c.source for c in code_cells if not {"remove-input", "remove-cell"} & set(tags(c))]
    for call in ("helpers.train_autoencoder(", "helpers.add_white_noise(", "helpers.encode(",
                 "helpers.tsne_embed(", "helpers.code_quality("):
        assert any(call in source for source in visible), call


def test_the_sheets_code_is_listed_from_the_source(code_cells):
    listed = " ".join(c.source for c in code_cells if "report.listing(" in c.source
                      or "report.module_listing(" in c.source)
    for name in ("helpers.Autoencoder", "helpers.train_step", "helpers.train_epoch",
                 "helpers.add_white_noise", "report.module_listing(helpers.__file__)"):
        assert name in listed, name


def test_no_markdown_hard_codes_a_setting(notebook, results):
    """Settings that papermill can override appear in the text only through report.py."""
    config = results["config"]
    text = " ".join(c.source for c in notebook.cells if c.cell_type == "markdown")
    for phrase in (f"{config['EPOCHS']} epochs", f"epoch {config['EPOCHS']}",
                   f"sigma = {config['NOISE_STD']}", f"std {config['NOISE_STD']}",
                   f"std of {config['NOISE_STD']}", "every ten epochs", "epochs 10, 20"):
        assert phrase not in text.replace("\\", ""), phrase


def test_progress_bars_are_saved_as_finished_text_without_widget_state(notebook, code_cells):
    assert "widgets" not in notebook.metadata
    bars = [out["text"] for cell in code_cells for out in cell.outputs
            if out.output_type == "stream" and "%|" in out.get("text", "")]
    assert len(bars) >= 2
    for bar in bars:
        assert re.match(r"(denoising )?autoencoder: 100%\|█+\| (\d+)/\2 ", bar), bar
    assert not [out for cell in code_cells for out in cell.outputs
                if "application/vnd.jupyter.widget-view+json" in out.get("data", {})]


def test_the_explorer_is_left_out_of_the_pdf_and_its_saved_output_says_to_run_it(code_cells):
    explorer = [cell for cell in code_cells if "report.code_explorer(" in cell.source]
    assert len(explorer) == 1
    assert {"remove-cell", IGNORE} <= set(explorer[0].metadata.get("tags", []))
    assert "run this cell in JupyterLab" in stdout(explorer[0])


def test_results_json_holds_the_traversal_of_every_code_unit(results):
    for name in ("autoencoder", "denoising_autoencoder"):
        traversal = results["traversal"][name]
        assert len(traversal["live"]) == len(traversal["pixel_change"]) == helpers.CODE_SIZE
        assert len(traversal["values"][0]) == results["config"]["TRAVERSAL_STEPS"]
        assert traversal["live"] == [share > 0 for share in results["dead_units"][name]]
        dead = [c for c, alive in zip(traversal["pixel_change"], traversal["live"]) if not alive]
        assert all(change == 0 for change in dead)


def test_kernelspec_matches_the_installed_ipykernel(notebook):
    """JupyterLab rewrites a differing display name on open and the notebook goes dirty."""
    from ipykernel.kernelspec import get_kernel_dict

    installed = get_kernel_dict()
    assert notebook.metadata.kernelspec.display_name == installed["display_name"]
    assert notebook.metadata.kernelspec.name == "python3"


def figure_cells(notebook):
    return [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"
            and any("image/png" in out.get("data", {}) for out in cell.outputs)]


def caption_of(cell) -> str:
    """Return a markdown cell's text, or the Markdown a code cell renders."""
    return cell.source if cell.cell_type == "markdown" else output_text(cell)


def test_every_figure_has_a_numbered_caption_right_under_it(notebook):
    numbers = []
    for index in figure_cells(notebook):
        match = re.search(r"\*\*Figure (\d+)\.\*\*", caption_of(notebook.cells[index + 1]))
        assert match, notebook.cells[index].source[:60]
        numbers.append(int(match[1]))
    assert numbers == list(range(1, len(numbers) + 1))


def test_every_figure_is_saved_under_figures_and_nothing_else_is(notebook):
    names = set(re.findall(r'"(fig\d\d_[a-z0-9_]+)"', "".join(c.source for c in notebook.cells)))
    saved = {path.stem for path in (ROOT / "figures").glob("*.png")}
    assert len(names) == len(figure_cells(notebook))
    assert saved == names


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


BEYOND_THE_SHEET = ("references", "code_quality", "tsne_map", "denoising_psnr", "dead_units",
                    "sgd_variants")


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


def test_results_json_holds_the_committed_seed_study(results):
    committed = json.loads((ROOT / "seed_study.json").read_text(encoding="utf-8"))
    assert results["seed_study"] == committed
    assert len(committed["seeds"]) >= 5
    for model in ("autoencoder", "denoising_autoencoder"):
        for key in ("test_mse_clean", "test_mse_noisy", "live_code_units", "knn_accuracy",
                    "linear_probe_accuracy", "silhouette_tsne", "psnr_db"):
            assert len(committed[model][key]["values"]) == len(committed["seeds"]), key


def test_measured_answers_are_consistent_with_each_other(results):
    psnr, sgd, config = results["denoising_psnr"], results["sgd_variants"], results["config"]
    assert psnr["noise_std"] == config["PSNR_NOISE_STDS"]
    assert len(psnr["noisy_input_db"]) == len(psnr["autoencoder_db"]) == len(psnr["noise_std"])
    assert psnr["noisy_input_db"][0] is None  # noise 0: identical images, infinite PSNR
    assert sgd["stochastic"]["batch_size"] == 1 and sgd["batch"]["batch_size"] == 60000
    assert sgd["mini_batch"]["batch_size"] == config["BATCH_SIZE"]
    for name, key in (("stochastic", "STOCHASTIC"), ("mini_batch", "MINI_BATCH"),
                      ("batch", "FULL_BATCH")):
        assert sgd[name]["updates"] == config[f"SGD_UPDATES_{key}"]
    assert sgd["stochastic"]["examples"] == config["SGD_UPDATES_STOCHASTIC"]
    for model in ("autoencoder", "denoising_autoencoder", "pca8"):
        assert 0.1 < results["code_quality"][model]["knn_accuracy"] <= 1.0
    live = [share > 0 for share in results["dead_units"]["autoencoder"]]
    assert sum(live) == results["autoencoder"]["live_code_units"]
