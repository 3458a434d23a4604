"""The companion notebook, companion.ipynb: what goes beyond the sheet.

It loads the submission's two trained models (models/*.pt) and the seed study and writes its
own numbers to companion_results.json. These tests read the committed files and run nothing
(`pytest --nbval companion.ipynb`, part of the same test command, re-executes it):

* its structure: one parameters cell, numbered captions, figures of its own, no training of an
  autoencoder, the explorer left out of the PDF;
* its run: made from the committed models, which reproduce the submission's results.json;
* every decimal and percentage of its Markdown, bound to the one value it quotes (BOUND, with
  the functions of test_numbers.py);
* every qualitative sentence, each in a test that names it.
"""

import itertools
import json
import math
import re
from pathlib import Path

import matplotlib
import nbformat
import numpy as np
import pytest
from test_numbers import NUMBER, binding_errors, is_checked, leaves, missed_substitutions, prose

import gd_variants
import helpers
import provenance
import report
import settings
from seed_study import statistics as seed_statistics

ROOT = Path(__file__).resolve().parents[1]
AE, DAE, LINEAR, PCA = "autoencoder", "denoising_autoencoder", "linear_code_autoencoder", "pca8"
FACTS = {"alpha": seed_statistics.ALPHA, "confidence": 0.95,  # paired_test's interval
         "whiskers": matplotlib.rcParams["boxplot.whiskers"]}  # plot_code_units' boxes


def row(label: str):
    """A path step: the row of a seed-study comparison with this label."""
    return lambda rows: next(entry for entry in rows if entry["label"] == label)


def fall(curve: str):
    """A path step: how many dB a PSNR curve falls from its first to its last noise level."""
    return lambda psnr: psnr[curve][0] - psnr[curve][-1]


PLAIN_DENOISING, PLAIN_LINEAR = ("comparisons", 0, "rows"), ("comparisons", 1, "rows")
PSNR_AT_1 = "PSNR at noise 1 (dB)"
SGD = ("sgd_variants",)
BOUND = [  # (fragment, [(source, path) for each {}]); sources: see the fixture `sources`
    # the data
    ("the denoising autoencoder (trained with noise std {})", [("setting", ("NOISE_STD",))]),
    # 1 the seed study
    ('keeps the chance of any false "better" at {} at most', [("facts", ("alpha",))]),
    ("the mean paired difference with its {} confidence interval", [
        ("facts", ("confidence",))]),
    ("The masked pixels: {} of the pixels of every test image", [
        ("study", ("settings", "masked_share"))]),
    ("the interval of the 5-NN accuracy, for example, runs from −{} to +{}.", [
        ("study", (*PLAIN_DENOISING, row("5-NN accuracy"), "ci95", 0)),
        ("study", (*PLAIN_DENOISING, row("5-NN accuracy"), "ci95", 1))]),
    ("are a little closer (CKA {})", [
        ("study", ("similarity", "summary", "plain-denoising, same seed", "cka", "mean"))]),
    # 2 dead code units
    ("whiskers to {} times that range", [("facts", ("whiskers",))]),
    ("(unit 1 of the plain model on {}, unit 3 of the denoising model on {})", [
        ("companion", ("models", AE, "unit_activity", 0)),
        ("companion", ("models", DAE, "unit_activity", 2))]),
    ("against {} on average for the sheet's model", [
        ("study", (AE, "live_code_units", "mean"))]),
    ("not even the number of live units (Holm p {})", [
        ("study", (*PLAIN_LINEAR, row("live code units"), "p_holm"))]),
    # 3 PCA-8
    (r"(one fixed draw, $\sigma = {}$)", [("setting", ("NOISE_STD",))]),
    ("(test MSE {} and {} against {} on clean inputs)", [
        ("companion", ("scores", AE, "test_mse_clean")),
        ("companion", ("scores", DAE, "test_mse_clean")),
        ("companion", ("scores", PCA, "test_mse_clean"))]),
    ("its silhouettes are positive ({} in code space)", [
        ("companion", ("scores", PCA, "code_silhouette"))]),
    # 4 gradient descent
    ("After the same 1,280 examples, stochastic GD is at {} and mini-batch GD (10 updates) at {}",
     [("companion", (*SGD, "stochastic", "loss_at_compare")),
      ("companion", (*SGD, "mini_batch", "loss_at_compare"))]),
    (("It also ends lowest ({}, against {} for stochastic GD after its 1,280 updates and {} for "
      "batch GD after its 5)"), [
         ("companion", (*SGD, "mini_batch", "final_loss")),
         ("companion", (*SGD, "stochastic", "final_loss")),
         ("companion", (*SGD, "batch", "final_loss"))]),
    (("the loss rises at the second step ({} to {}) and ends at {}; with rate {} it falls at "
      "every step but ends a little higher ({})"), [
         ("companion", (*SGD, "batch", "loss_curves", "1", 1)),
         ("companion", (*SGD, "batch", "loss_curves", "1", 2)),
         ("companion", (*SGD, "batch", "final_loss")),
         ("setting", ("SGD_LRS_FULL_BATCH", 0)),
         ("companion", (*SGD, "batch", "learning_rates", "0.3"))]),
    # 5 PSNR
    ("to noise 1 the plain model's falls by {} dB and the denoising model's by {} dB.", [
        ("companion", ("denoising_psnr", fall("autoencoder_db"))),
        ("companion", ("denoising_psnr", fall("denoising_autoencoder_db")))]),
    (("Up to noise {} both reconstructions are below the noisy input ({} and {} against {} dB "
      "at {})"), [("setting", ("PSNR_NOISE_STDS", 2)),
                  ("companion", ("denoising_psnr", "autoencoder_db", 2)),
                  ("companion", ("denoising_psnr", "denoising_autoencoder_db", 2)),
                  ("companion", ("denoising_psnr", "noisy_input_db", 2)),
                  ("setting", ("PSNR_NOISE_STDS", 2))]),
    ("From noise {} on both are above it, by about 10 dB at noise 1 ({} and {} against {} dB)", [
        ("setting", ("PSNR_NOISE_STDS", 3)),
        ("companion", ("denoising_psnr", "autoencoder_db", -1)),
        ("companion", ("denoising_psnr", "denoising_autoencoder_db", -1)),
        ("companion", ("denoising_psnr", "noisy_input_db", -1))]),
    ("the plain model is ahead up to noise {} and the denoising model from noise {} on", [
        ("setting", ("PSNR_NOISE_STDS", 3)), ("setting", ("PSNR_NOISE_STDS", 4))]),
    ("(Table C1), {} dB in favour of the denoising model", [
        ("study", (*PLAIN_DENOISING, row(PSNR_AT_1), "mean"))]),
]


def read_json(name: str) -> dict:
    return json.loads((ROOT / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def notebook():
    return nbformat.read(ROOT / "companion.ipynb", as_version=4)


@pytest.fixture(scope="module")
def code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


@pytest.fixture(scope="module")
def companion() -> dict:
    return read_json("companion_results.json")


@pytest.fixture(scope="module")
def study() -> dict:
    return read_json("seed_study.json")


@pytest.fixture(scope="module")
def results() -> dict:
    return read_json("results.json")


@pytest.fixture(scope="module")
def sources(companion, study, results) -> dict[str, dict]:
    return {"companion": companion, "study": study, "results": results,
            "setting": companion["config"], "facts": FACTS}


@pytest.fixture(scope="module")
def text(notebook) -> str:
    return prose(notebook)


def said(sentence: str, text: str) -> None:
    """Fail unless the companion says `sentence` (line breaks in the Markdown ignored)."""
    assert " ".join(sentence.split()) in " ".join(text.split()), f"not in the companion: {sentence}"


def comparison(study: dict, index: int) -> dict[str, dict]:
    """Return a comparison's rows by label."""
    return {entry["label"]: entry for entry in study["comparisons"][index]["rows"]}


def parameters(code_cells) -> dict:
    """Return the settings of the parameters cell (NAME = a literal or a value of settings.py)."""
    cell = next(cell for cell in code_cells if "parameters" in cell.metadata.get("tags", []))
    namespace: dict = {"settings": settings}
    exec(cell.source, namespace)  # noqa: S102 (assignments of literals and settings.py's values)
    return {name: value for name, value in namespace.items() if name.isupper()}


# ---------------------------------------------------------------------------- structure


def test_executed_top_to_bottom_in_one_session_without_errors(notebook, code_cells):
    nbformat.validate(notebook)
    assert [cell.execution_count for cell in code_cells] == list(range(1, len(code_cells) + 1))
    assert not [out for cell in code_cells for out in cell.outputs if out.output_type == "error"]


def test_one_parameters_cell_of_plain_assignments(code_cells):
    tagged = [cell for cell in code_cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1
    for line in tagged[0].source.splitlines():
        assert re.match(r"^[A-Z_]+ = [^=]+$", line), line


def test_companion_results_hold_the_run_of_the_parameters_cell(companion, code_cells):
    assert {k: v for k, v in companion["config"].items() if k != "device"} == parameters(
        code_cells)
    assert companion["config"]["device"] == "cpu"


def test_it_trains_no_autoencoder_but_loads_the_submissions_models(code_cells, text):
    """'It trains no autoencoder: it loads the two models that the submission trained'."""
    said("It trains no autoencoder: it loads the two models that the submission trained", text)
    source = "\n".join(cell.source for cell in code_cells)
    assert "train_autoencoder" not in source and "measures.load_model(" in source


def test_its_run_read_the_committed_models(companion):
    for name in (AE, DAE):
        entry = companion["models"][name]
        assert entry["file"] == f"models/{name}.pt"
        assert entry["sha256"] == provenance.file_sha256(ROOT / entry["file"]), name


def test_the_models_reproduce_the_submissions_results(companion, results):
    """The model files and results.json come from one run of exercise9.ipynb."""
    for name in (AE, DAE):
        assert companion["scores"][name]["test_mse_clean"] == pytest.approx(
            results[name]["test_mse_clean"], rel=1e-4)
        assert companion["scores"][name]["test_mse_noisy"] == pytest.approx(
            results[name]["test_mse_noisy"], rel=1e-4)


def captions_under(notebook, kind: str, is_shown) -> list[int]:
    """Return the numbers n of the '**{kind} Cn.**' captions right under each cell is_shown
    picks, failing where one is missing."""
    numbers = []
    for index, cell in enumerate(notebook.cells[:-1]):
        if cell.cell_type == "code" and is_shown(cell):
            match = re.match(rf"\*\*{kind} C(\d+)\.\*\*", notebook.cells[index + 1].source)
            assert match, f"no {kind} caption under: {cell.source[:60]}"
            numbers.append(int(match[1]))
    return numbers


def test_every_figure_and_table_has_a_numbered_caption_right_under_it(notebook):
    figures = captions_under(notebook, "Figure", lambda cell: any(
        "image/png" in out.get("data", {}) for out in cell.outputs))
    tables = captions_under(notebook, "Table", lambda cell: any(
        out.get("data", {}).get("text/markdown", "").startswith("|") for out in cell.outputs))
    assert figures == [1, 2, 3] and tables == [1, 2, 3, 4, 5]


def test_its_figures_have_names_of_their_own_and_are_committed(notebook, code_cells):
    names = re.findall(r'"(companion_fig\d_[a-z0-9_]+)"', "".join(c.source for c in code_cells))
    assert [int(name[len("companion_fig")]) for name in names] == [1, 2, 3]
    for name in names:
        assert (ROOT / "figures" / f"{name}.png").is_file(), name


def test_the_explorer_is_left_out_of_the_pdf_and_its_saved_output_says_to_run_it(code_cells):
    explorer = [cell for cell in code_cells if "explorer.code_explorer(" in cell.source]
    assert len(explorer) == 1
    assert {"remove-cell", "nbval-ignore-output"} <= set(explorer[0].metadata.get("tags", []))
    assert "run this cell in JupyterLab" in "".join(out.get("text", "")
                                                    for out in explorer[0].outputs)


def test_timings_and_the_notice_are_not_compared_by_nbval(code_cells):
    for cell in code_cells:
        if "sgd_table(" in cell.source or "notice" in cell.source and "display" in cell.source:
            assert "nbval-ignore-output" in cell.metadata.get("tags", []), cell.source[:60]


def test_code_lines_shown_in_the_pdf_fit_its_text_width(code_cells):
    shown_cells = [cell for cell in code_cells
                   if not {"remove-cell", "remove-input"} & set(cell.metadata.get("tags", []))]
    assert len(shown_cells) >= 5
    assert max(len(line) for cell in shown_cells for line in cell.source.splitlines()) <= 78


def test_companion_results_is_strict_json():
    text = (ROOT / "companion_results.json").read_text(encoding="utf-8")
    assert not re.search(r"\b(NaN|Infinity)\b", text)


# ---------------------------------------------------------------------------- report functions


def test_scores_table_has_a_row_per_measure_and_a_column_per_model():
    scores = {"plain": {"test_mse_clean": 0.06912, "test_mse_noisy": 0.0749, "knn_accuracy": 0.79,
                        "linear_probe_accuracy": 0.747, "code_silhouette": -0.068,
                        "tsne_silhouette": 0.1, "trustworthiness": 0.997}}
    scores["PCA-8"] = dict(scores["plain"], code_silhouette=0.076)
    lines = report.scores_table(scores).splitlines()
    assert lines[0] == "| measure | plain | PCA-8 |" and len(lines) == 2 + 7
    assert "| test MSE on clean inputs | 0.0691 | 0.0691 |" in lines
    assert "| silhouette in code space | −0.068 | 0.076 |" in lines


def test_models_of_another_run_stop_the_companion_with_one_message():
    record = helpers.ModelRecord(helpers.Autoencoder(seed=0), None, None, mse_clean=0.0691)
    report.check_submission_models({"autoencoder": record}, {AE: {"test_mse_clean": 0.06910001}})
    with pytest.raises(ValueError, match="different runs.*make report"):
        report.check_submission_models({"autoencoder": record}, {AE: {"test_mse_clean": 0.0712}})


def test_companion_results_name_the_models_their_units_and_every_run(tmp_path):
    path = tmp_path / "m.pt"
    helpers.save_model(helpers.Autoencoder(seed=0), path)
    codes = np.array([[0.0, 1.0] + [2.0] * 6, [0.0, 3.0] + [2.0] * 6])
    run = gd_variants.SGDRun(1, 0.3)
    run.record(0, 0, 0.0, 1.0), run.record(2, 2, 0.5, 0.5)
    document = report.companion_results(
        config={"PSNR_NOISE_STDS": [0.0, 1.0]}, device="cpu", model_files={"autoencoder": path},
        codes={"autoencoder": codes}, scores={"PCA-8": {"knn_accuracy": 0.8}},
        psnr_curves={"noisy input": [math.inf, 6.0]},
        sgd_sweeps={"stochastic": {0.3: run}}, compare_at=2)
    units = document["models"][AE]
    assert units["live_code_units"] == 7 and units["unit_activity"][:2] == [0.0, 1.0]
    assert units["unit_quartiles"][1] == [1.5, 2.0, 2.5]
    assert units["sha256"] == provenance.file_sha256(path)
    assert document["scores"] == {"pca8": {"knn_accuracy": 0.8}}
    sgd = document["sgd_variants"]["stochastic"]
    assert sgd["loss_at_compare"] == 0.5 and sgd["seconds_curves"] == {"0.3": [0.0, 0.5]}
    assert sgd["examples_curves"] == {"0.3": [0, 2]} and sgd["loss_curves"] == {"0.3": [1.0, 0.5]}
    assert document["denoising_psnr"]["noisy_input_db"] == [math.inf, 6.0]


# ---------------------------------------------------------------------------- numbers


def test_every_number_in_the_prose_is_bound_to_the_value_it_quotes(text, sources):
    errors = binding_errors(text, BOUND, sources)
    assert not errors, "numbers of the companion's Markdown:\n" + "\n".join(errors)


def test_every_number_changed_to_another_value_of_the_results_is_caught(text, sources):
    """Each checked number of the prose, replaced by another value taken from
    companion_results.json or seed_study.json and written in the same form, fails the check."""
    numbers = [match for match in NUMBER.finditer(text) if is_checked(match[0])]
    assert len(numbers) >= 30, "fewer bound numbers than expected"
    values = leaves(sources["companion"]) + leaves(sources["study"])
    assert not missed_substitutions(text, BOUND, sources, values, numbers)


# ---------------------------------------------------------------------------- 1 the seed study


def test_s1_the_seed_study_compares_plain_and_denoising_then_plain_and_linear(study, text):
    """'`make seeds` trains the plain, the denoising and the linear-code autoencoder ... with
    seeds 0 to 4'; Holm's method 'corrects the p-values for the N measures' (N: the rows of
    each comparison)."""
    said("trains the plain, the denoising and the linear-code autoencoder (next section) with "
         "seeds 0 to 4", text)
    assert study["seeds"] == [0, 1, 2, 3, 4]
    assert [entry["models"] for entry in study["comparisons"]] == [[AE, DAE], [AE, LINEAR]]
    [measures] = {len(entry["rows"]) for entry in study["comparisons"]}
    said(f"Holm's method corrects the p-values for the {measures} measures", text)
    said(f"(Holm's correction over their {measures} measures)", text)


def test_t1_only_stability_and_psnr_at_noise_1_differ_all_for_denoising_in_every_seed(
        study, text):
    """'After the correction, the denoising model is better in the code stability at every
    noise level and in the PSNR at noise 1, and in all 5 seeds. The six stability rows are one
    quantity at six noise levels'."""
    said("the denoising model is better in the code stability at every noise level and in the "
         "PSNR at noise 1, and in all 5 seeds", text)
    said("The six stability rows are one quantity at six noise levels", text)
    rows = comparison(study, 0)
    better = {label for label, entry in rows.items() if entry["verdict"] != "no measurable "
              "difference"}
    stability = {label for label in rows if label.startswith("code stability")}
    assert len(stability) == 6 and better == stability | {PSNR_AT_1}
    for label in better:
        assert rows[label]["verdict"] == "denoising better" and rows[label]["first_wins"] == 0


def test_t1_mse_units_and_class_separation_show_no_measurable_difference(study, text):
    """'The test MSE on clean inputs, on noisy inputs and on masked pixels, the number of live
    units and the four measures of class separation show no measurable difference over 5
    seeds.'"""
    said("The test MSE on clean inputs, on noisy inputs and on masked pixels, the number of live "
         "units and the four measures of class separation show no measurable difference over 5 "
         "seeds", text)
    rows = comparison(study, 0)
    for label in ("test MSE on clean inputs", "test MSE on noisy inputs",
                  "test MSE on masked pixels", "live code units",
                  "5-NN accuracy", "linear-probe accuracy", "silhouette in code space",
                  "silhouette in the t-SNE plane"):
        assert rows[label]["verdict"] == "no measurable difference" and rows[label]["seeds"] == 5


def test_t2_codes_of_different_seeds_share_about_a_fifth_of_their_neighbours(study, text):
    """'Two codes of one kind of model from different seeds are far from identical: they share
    about a fifth of each image's 10 nearest neighbours.'"""
    said("Two codes of one kind of model from different seeds are far from identical: they share"
         " about a fifth of each image's 10 nearest neighbours", text)
    summary = study["similarity"]["summary"]
    assert study["settings"]["neighbours"] == 10
    for group in ("plain-plain", "denoising-denoising"):
        assert 0.15 < summary[group]["knn_overlap"]["mean"] < 0.25
        assert summary[group]["cka"]["mean"] < 0.75


def test_t2_across_the_models_as_similar_as_within_and_same_seed_pairs_closer(study, text):
    """'A plain and a denoising code are about as similar as two codes of one model, by both
    measures. ... The 5 same-seed pairs ... are a little closer'."""
    said("A plain and a denoising code are about as similar as two codes of one model, by both "
         "measures", text)
    said("The 5 same-seed pairs, which share initial weights and shuffling, are a little closer",
         text)
    summary = study["similarity"]["summary"]
    across, same = summary["plain-denoising"], summary["plain-denoising, same seed"]
    assert across["pairs"] == 20 and same["pairs"] == 5
    for measure in ("cka", "knn_overlap"):
        for group in ("plain-plain", "denoising-denoising"):
            within = summary[group][measure]
            assert abs(across[measure]["mean"] - within["mean"]) < within["sd"], (measure, group)
        assert same[measure]["mean"] > across[measure]["mean"], measure


# ---------------------------------------------------------------------------- 2 dead code units


def test_f1_the_plain_model_uses_6_units_the_denoising_7_unit_2_dead_in_both(companion, text):
    """'The plain model uses 6 of its 8 units and the denoising model 7 ... Unit 2 is dead in
    both.'"""
    said("The plain model uses 6 of its 8 units and the denoising model 7", text)
    said("Unit 2 is dead in both.", text)
    models = companion["models"]
    assert models[AE]["live_code_units"] == 6 and models[DAE]["live_code_units"] == 7
    assert models[AE]["unit_activity"][1] == 0 and models[DAE]["unit_activity"][1] == 0


def test_f1_some_units_fire_on_part_of_the_images_and_unit_4_is_largest(companion, text):
    """'Among the live units some fire on only part of the images ..., and in both models
    unit 4 takes the largest values.'"""
    said("Among the live units some fire on only part of the images", text)
    said("in both models unit 4 takes the largest values", text)
    for name in (AE, DAE):
        activity = companion["models"][name]["unit_activity"]
        assert any(0 < share < 0.9 for share in activity)
        quartiles = np.array(companion["models"][name]["unit_quartiles"])
        assert quartiles.argmax(0).tolist() == [3, 3, 3], name


def test_t3_a_linear_code_keeps_all_8_units_and_nothing_differs_measurably(study, text):
    """'Without the last ReLU all 8 units stay live in every seed ... nothing differs measurably,
    not even the number of live units'."""
    said("Without the last ReLU all 8 units stay live in every seed", text)
    said("nothing differs measurably, not even the number of live units", text)
    assert study[LINEAR]["live_code_units"]["values"] == [8] * 5
    assert max(study[AE]["live_code_units"]["values"]) <= 8
    assert {entry["verdict"] for entry in study["comparisons"][1]["rows"]} == {
        "no measurable difference"}


# ---------------------------------------------------------------------------- 3 PCA-8


def test_t4_the_autoencoders_reconstruct_far_better_than_pca(companion, text):
    """'Both autoencoders reconstruct far better than PCA-8, from clean and from noisy inputs'."""
    said("Both autoencoders reconstruct far better than PCA-8, from clean and from noisy inputs",
         text)
    scores = companion["scores"]
    for name in (AE, DAE):
        for measure in ("test_mse_clean", "test_mse_noisy"):
            assert scores[name][measure] < 0.8 * scores[PCA][measure], (name, measure)


def test_t4_knn_on_either_side_of_pca_probes_a_little_above(companion, text):
    """'their 5-NN accuracies lie on either side of PCA-8's and their linear probes a little
    above it'."""
    said("their 5-NN accuracies lie on either side of PCA-8's and their linear probes a little "
         "above it", text)
    scores = companion["scores"]
    knn = sorted(scores[name]["knn_accuracy"] for name in (AE, DAE))
    assert knn[0] < scores[PCA]["knn_accuracy"] < knn[1]
    for name in (AE, DAE):
        assert 0 < scores[name]["linear_probe_accuracy"] - scores[PCA]["linear_probe_accuracy"] \
            < 0.03


def test_t4_pca_silhouettes_positive_above_every_seed_autoencoders_negative(
        companion, study, text):
    """'its silhouettes are positive ..., the autoencoders' negative, and higher than those of
    all 10 plain and denoising models of the seed study.'"""
    said("the autoencoders' negative, and higher than those of all 10 plain and denoising "
         "models of the seed study", text)
    scores = companion["scores"]
    for measure in ("code_silhouette", "tsne_silhouette"):
        assert scores[PCA][measure] > 0 > max(scores[AE][measure], scores[DAE][measure])
        seeds = study[AE][measure]["values"] + study[DAE][measure]["values"]
        assert len(seeds) == 10 and scores[PCA][measure] > max(seeds), measure


def test_t4_tsne_keeps_the_neighbourhoods_of_every_code_about_equally_well(companion, text):
    """'t-SNE keeps the neighbourhoods of every code about equally well (trustworthiness).'"""
    said("t-SNE keeps the neighbourhoods of every code about equally well (trustworthiness)", text)
    values = [companion["scores"][name]["trustworthiness"] for name in (AE, DAE, PCA)]
    assert max(values) - min(values) < 0.005


# ---------------------------------------------------------------------------- 5 PSNR


def psnr(companion: dict) -> dict[str, np.ndarray]:
    curves = companion["denoising_psnr"]
    return {name: np.array([math.inf if v is None else v for v in values], dtype=float)
            for name, values in curves.items()}


def test_f3_below_the_noisy_input_up_to_02_above_from_03_by_about_10_db_at_1(companion, text):
    """'Up to noise 0.2 both reconstructions are below the noisy input ... From noise 0.3 on both
    are above it, by about 10 dB at noise 1'."""
    said("Up to noise 0.2 both reconstructions are below the noisy input", text)
    said("From noise 0.3 on both are above it, by about 10 dB at noise 1", text)
    curves = psnr(companion)
    weak = curves["noise_std"] <= 0.2
    for name in ("autoencoder_db", "denoising_autoencoder_db"):
        assert (curves[name][weak] < curves["noisy_input_db"][weak]).all()
        assert (curves[name][~weak] > curves["noisy_input_db"][~weak]).all()
        assert 9.5 < curves[name][-1] - curves["noisy_input_db"][-1] < 11


def test_f3_both_change_little_plain_ahead_up_to_03_denoising_from_05(companion, text):
    """'Both models' PSNR changes little with the noise ... In this run the plain model is ahead
    up to noise 0.3 and the denoising model from noise 0.5 on'."""
    said("Both models' PSNR changes little with the noise", text)
    said("In this run the plain model is ahead up to noise 0.3 and the denoising model from "
         "noise 0.5 on", text)
    curves = psnr(companion)
    lead = curves["autoencoder_db"] - curves["denoising_autoencoder_db"]
    assert (lead[curves["noise_std"] <= 0.3] > 0).all()
    assert (lead[curves["noise_std"] >= 0.5] < 0).all()
    for name in ("autoencoder_db", "denoising_autoencoder_db"):
        assert np.ptp(curves[name]) < 0.1 * np.ptp(curves["noisy_input_db"][1:])


def test_f3_over_the_seeds_only_the_gap_at_noise_1_is_measurable(study, text):
    """'over the seed study only the gap at noise 1 is a measurable difference (Table C1)'."""
    said("over the seed study only the gap at noise 1 is a measurable difference (Table C1)", text)
    rows = comparison(study, 0)
    measurable = [label for label, entry in rows.items() if label.startswith("PSNR")
                  and entry["verdict"] != "no measurable difference"]
    assert measurable == [PSNR_AT_1] and rows[PSNR_AT_1]["verdict"] == "denoising better"


# ---------------------------------------------------------------------------- 4 gradient descent


def test_s4_three_rates_a_factor_of_three_apart_the_lowest_final_loss_kept(companion, text):
    """'Each variant tries three learning rates about a factor of three apart and keeps the one
    with the lowest final loss'."""
    said("Each variant tries three learning rates about a factor of three apart and keeps the one "
         "with the lowest final loss", text)
    for name in ("stochastic", "mini_batch", "batch"):
        variant = companion["sgd_variants"][name]
        rates = sorted(float(lr) for lr in variant["learning_rates"])
        assert len(rates) == 3 and all(2.5 < b / a < 3.5 for a, b in itertools.pairwise(rates))
        finals = {float(lr): loss for lr, loss in variant["learning_rates"].items()}
        assert variant["lr"] == min(finals, key=finals.get), name


def test_t5_per_example_single_example_steps_learn_more(companion, text):
    """'After the same 1,280 examples, stochastic GD is at ... and mini-batch GD (10 updates) at
    ...: per example, single-example steps learn more, as they make 128 times as many
    updates.'"""
    said("per example, single-example steps learn more, as they make 128 times as many updates",
         text)
    sgd, config = companion["sgd_variants"], companion["config"]
    assert sgd["compare_at_examples"] == 1280 == config["SGD_UPDATES_STOCHASTIC"]
    assert config["SGD_BATCH_SIZE"] == 128 and 1280 // 128 == 10
    assert sgd["stochastic"]["loss_at_compare"] < sgd["mini_batch"]["loss_at_compare"]


def test_t5_mini_batch_ends_lowest_batch_gd_the_most_examples_per_second(companion, text):
    """'It also ends lowest ... Batch GD processes the most examples per second but makes few
    updates'."""
    said("It also ends lowest", text)
    said("Batch GD processes the most examples per second but makes few updates", text)
    sgd = {name: companion["sgd_variants"][name] for name in ("stochastic", "mini_batch", "batch")}
    assert min(sgd, key=lambda name: sgd[name]["final_loss"]) == "mini_batch"
    assert max(sgd, key=lambda name: sgd[name]["examples_per_second"]) == "batch"
    assert sgd["batch"]["updates"] < 0.05 * sgd["mini_batch"]["updates"]


def test_t5_batch_gd_rises_with_its_best_rate_and_falls_with_the_smallest(companion, text):
    """'with its best rate, 1, the loss rises at the second step ... and ends at ...; with rate
    0.3 it falls at every step but ends a little higher ..., so the kept rate won a near
    tie.'"""
    said("with its best rate, 1, the loss rises at the second step", text)
    said("it falls at every step but ends a little higher", text)
    batch = companion["sgd_variants"]["batch"]
    assert batch["lr"] == 1.0
    kept, smallest = batch["loss_curves"]["1"], batch["loss_curves"]["0.3"]
    assert kept[2] > kept[1] and all(b < a for a, b in itertools.pairwise(smallest))
    assert 0 < smallest[-1] - kept[-1] < 0.05 * kept[-1]


def test_t5_no_convergence_the_kept_runs_still_fall_at_the_end(companion, text):
    """'One seed, three rates and no convergence: another budget can change the order.'"""
    said("One seed, three rates and no convergence", text)
    for name in ("stochastic", "mini_batch", "batch"):
        variant = companion["sgd_variants"][name]
        curve = variant["loss_curves"][f"{variant['lr']:g}"]
        assert curve[-1] < curve[-2], name


def per_second(variant: dict) -> tuple[np.ndarray, np.ndarray]:
    """Return the kept run's seconds of training and loss at each measurement."""
    rate = f"{variant['lr']:g}"
    return np.array(variant["seconds_curves"][rate]), np.array(variant["loss_curves"][rate])


def test_t5_per_second_much_closer_than_per_example_many_times_the_examples(companion, text):
    """'Per second of training the two are much closer than per example (Figure C2, right):
    mini-batch GD learns less per example but processes many times as many examples per
    second (Table C5).'"""
    said("Per second of training the two are much closer than per example (Figure C2, right): "
         "mini-batch GD learns less per example but processes many times as many examples per "
         "second (Table C5).", text)
    sgd = companion["sgd_variants"]
    seconds, stochastic = per_second(sgd["stochastic"])
    mini_seconds, mini_batch = per_second(sgd["mini_batch"])
    at_same_time = mini_batch[np.searchsorted(mini_seconds, seconds, side="right") - 1]
    later = slice(len(seconds) // 3, None)  # after the first updates, where single steps jump
    gap_per_second = np.abs(np.log(at_same_time[later] / stochastic[later])).max()
    gap_per_example = abs(math.log(sgd["mini_batch"]["loss_at_compare"]
                                   / sgd["stochastic"]["loss_at_compare"]))
    assert gap_per_second < 0.5 * gap_per_example
    speed = sgd["mini_batch"]["examples_per_second"] / sgd["stochastic"]["examples_per_second"]
    assert speed > 10
