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

import json
import math
import re
from pathlib import Path

import matplotlib
import nbformat
import numpy as np
import pytest
from scipy import stats
from test_numbers import NUMBER, binding_errors, is_checked, leaves, missed_substitutions, prose

import companion_report
import explorer as explorer_module
import gd_variants
import helpers
import measures
import provenance
import settings
import study_settings
from seed_study import statistics as seed_statistics

ROOT = Path(__file__).resolve().parents[1]
AE, DAE, LINEAR, PCA = "autoencoder", "denoising_autoencoder", "linear_code_autoencoder", "pca8"
FACTS = {
    "confidence": 1 - seed_statistics.ALPHA,  # the simultaneous intervals' joint level
    "alpha": seed_statistics.ALPHA,
    "power": seed_statistics.POWER,
    "whiskers": matplotlib.rcParams["boxplot.whiskers"],  # plot_code_units' boxes
}


def row(label: str):
    """A path step: the row of a seed-study comparison with this label."""
    return lambda rows: next(entry for entry in rows if entry["label"] == label)


def fall(curve: str):
    """A path step: how many dB a PSNR curve falls from its first to its last noise level."""
    return lambda psnr: psnr[curve][0] - psnr[curve][-1]


PRIMARY, SECONDARY = ("comparisons", 0, "primary"), ("comparisons", 0, "secondary")
CURVES, LIVE = ("comparisons", 0, "curves"), ("comparisons", 0, "live_units")
PSNR_CLEAN, PROBE = "PSNR at noise 0 (dB)", "linear-probe accuracy"
RATIO = ("comparisons", 0, "lost_variance_ratio")
STABILITY = f"code stability at noise {settings.NOISE_STD:g}"
SGD = ("sgd_variants",)


def crossing_share(entry: dict) -> float:
    """A path step: the share d of test images on which two probes may disagree before the
    seeds' t standard error and the test set's, sqrt(d / images), carry the interval of a
    primary row past the margin (Table C2's caption)."""
    critical = stats.t.ppf(1 - seed_statistics.ALPHA / 3 / 2, entry["seeds"] - 1)
    room = (entry["margin"] - abs(entry["mean"])) / critical
    return settings.TEST_IMAGES * (room**2 - entry["sd"] ** 2 / entry["seeds"])


def probe_gap_reach(study: dict) -> float:
    """A path step: the largest single seed's paired difference of the linear probe."""
    one, other = (study[model]["linear_probe_accuracy"]["values"] for model in (AE, DAE))
    return float(np.max(np.abs(np.subtract(one, other))))


def widest_reach(rows: list[dict]) -> float:
    """A path step: how far from 0 the furthest end of any interval of a family reaches."""
    return max(abs(end) for entry in rows for end in entry["interval"])


def final_losses(summary):
    """A path step: `summary` of the final test losses of a variant's chosen rate, per seed."""
    return lambda variant: float(
        summary([run["loss"][-1] for run in variant["runs"][f"{variant['lr']:g}"]])
    )


def against(model: str, label: str):
    """A path to a model's row of the tests against PCA-8."""
    return ("against_pca_8", model, row(label))


BOUND = [  # (fragment, [(source, path) for each {}]); sources: see the fixture `sources`
    # the data
    ("the denoising autoencoder (trained with noise std {})", [("setting", ("NOISE_STD",))]),
    # 1 the seed study
    (
        "the code stability at the training noise differs by −{} (interval −{} to −{})",
        [
            ("study", (*PRIMARY, row(STABILITY), "mean")),
            ("study", (*PRIMARY, row(STABILITY), "interval", 0)),
            ("study", (*PRIMARY, row(STABILITY), "interval", 1)),
        ],
    ),
    (
        "the plain code loses only {} of its variance to this noise",
        [("study", (AE, "code_stability", "mean", 3, lambda kept: 1 - kept))],
    ),
    (
        "the denoising code loses {} of its variance, less than half",
        [("study", (DAE, "code_stability", "mean", 3, lambda kept: 1 - kept))],
    ),
    (
        'is "better, by less than the margin" of {}, and its second half',
        [("study", (*PRIMARY, row(STABILITY), "margin"))],
    ),
    (
        "denoising over plain, is {} (the {} sign-flip interval of the mean log ratio, exponentiated: {} to {})",
        [
            ("study", (*RATIO, "ratio")),
            ("facts", ("confidence",)),
            ("study", (*RATIO, "interval", 0)),
            ("study", (*RATIO, "interval", 1)),
        ],
    ),
    (
        "whose interval ends {} inside its margin",
        [("study", (*PRIMARY, row(PROBE), lambda r: r["margin"] + r["interval"][0]))],
    ),
    (
        "equivalent within ±{} dB (interval −{} to +{} dB)",
        [
            ("study", (*PRIMARY, row(PSNR_CLEAN), "margin")),
            ("study", (*PRIMARY, row(PSNR_CLEAN), "interval", 0)),
            ("study", (*PRIMARY, row(PSNR_CLEAN), "interval", 1)),
        ],
    ),
    (
        "linear probe within ±{} (interval −{} to +{})",
        [
            ("study", (*PRIMARY, row(PROBE), "margin")),
            ("study", (*PRIMARY, row(PROBE), "interval", 0)),
            ("study", (*PRIMARY, row(PROBE), "interval", 1)),
        ],
    ),
    (
        "(it loses {} of its variance to the noise, the plain code {})",
        [
            ("study", (DAE, "code_stability", "mean", 3, lambda kept: 1 - kept)),
            ("study", (AE, "code_stability", "mean", 3, lambda kept: 1 - kept)),
        ],
    ),
    (
        "interval past −{} if the two probes disagree on more than {} of the test",
        [
            ("study", (*PRIMARY, row(PROBE), "margin")),
            ("study", (*PRIMARY, row(PROBE), crossing_share)),
        ],
    ),
    (
        "but the intervals reach up to {} from 0",
        [("study", ("comparisons", 0, "classes", widest_reach))],
    ),
    (
        "the denoising model's gain of {} dB with noisy inputs (Table C12) and its probe's lead of {} over PCA-8",
        [
            ("study", (*CURVES, "psnr_db", 4, "mean")),
            ("study", (*against(DAE, "linear-probe accuracy"), "mean")),
        ],
    ),
    (
        "Single seeds' differences of the probe reach {}, about twice its margin",
        [("study", (probe_gap_reach,))],
    ),
    (
        "(0.699), but not in their shared neighbours ({}, against {} within the denoising model)",
        [
            (
                "study",
                ("similarity", "summary", "plain-denoising, same seed", "knn_overlap", "mean"),
            ),
            ("study", ("similarity", "summary", "denoising-denoising", "knn_overlap", "mean")),
        ],
    ),
    ("paired t-test at two-sided ${}/3$", [("facts", ("alpha",))]),
    ("as large as the margin\nwith {} power; the seeds run", [("facts", ("power",))]),
    ("the smallest difference they detect with {} power; the chance", [("facts", ("power",))]),
    (
        "it shows equivalence with a chance of at least {}",
        [("study", ("sizing", 1, "equivalence_power"))],
    ),
    (
        "over the 6 levels; the level {} row",
        [("study", ("settings", "test_noise_std"))],
    ),
    (
        "With them it detects differences of {} dB, {} and {},",
        [("study", ("sizing", index, "detectable")) for index in range(3)],
    ),
    (
        "its interval at $1 - {}/3$ (the three intervals hold together at {})",
        [("facts", ("alpha",)), ("facts", ("confidence",))],
    ),
    ("the PSNR's within {} dB of 0", [("study", (*PRIMARY, row(PSNR_CLEAN), "interval", 1))]),
    ("its interval at $1 - {}/3$ (a t interval", [("facts", ("alpha",))]),
    ("(Table C2), each interval at $1 - {}/3$. A model", [("facts", ("alpha",))]),
    (
        (
            "explains {} and {} of the two models' seed-to-seed variance of the PSNR, {} and {} of the "
            "linear probe's, and {} and {} of the code stability's"
        ),
        [
            ("study", (*LIVE, 0, "r_squared", 0)),
            ("study", (*LIVE, 0, "r_squared", 1)),
            ("study", (*LIVE, 1, "r_squared", 0)),
            ("study", (*LIVE, 1, "r_squared", 1)),
            ("study", (*LIVE, 2, "r_squared", 0)),
            ("study", (*LIVE, 2, "r_squared", 1)),
        ],
    ),
    ("each interval at $1 - {}/8$ over", [("facts", ("alpha",))]),
    (
        "Masked pixels: {} of the pixels of every test image",
        [("study", ("settings", "masked_share"))],
    ),
    (
        "the denoising model's test MSE is lower, by {} (interval {} to {})",
        [
            ("study", (*SECONDARY, row("test MSE on noisy inputs"), "mean")),
            ("study", (*SECONDARY, row("test MSE on noisy inputs"), "interval", 0)),
            ("study", (*SECONDARY, row("test MSE on noisy inputs"), "interval", 1)),
        ],
    ),
    ("intervals at $1 - {}/10$ over the 10 classes", [("facts", ("alpha",))]),
    (
        "(linear CKA {}, against {} and {}; sd {} over the plain-denoising pairs). Pairs with the same seed are a little closer in linear CKA ({})",
        [
            ("study", ("similarity", "summary", "plain-denoising", "cka", "mean")),
            ("study", ("similarity", "summary", "plain-plain", "cka", "mean")),
            ("study", ("similarity", "summary", "denoising-denoising", "cka", "mean")),
            ("study", ("similarity", "summary", "plain-denoising", "cka", "sd")),
            ("study", ("similarity", "summary", "plain-denoising, same seed", "cka", "mean")),
        ],
    ),
    # 2 dead code units
    ("the whiskers reach the furthest value within {} times", [("facts", ("whiskers",))]),
    (
        "(unit 1 of the plain model on {}, unit 3 of the denoising model on {})",
        [
            ("companion", ("models", AE, "unit_activity", 0)),
            ("companion", ("models", DAE, "unit_activity", 2)),
        ],
    ),
    ("the pilot scored as one family of 10, intervals at $1 - {}/10$", [("facts", ("alpha",))]),
    (
        "so the linear code keeps {} more live units",
        [("pilot_linear", (row("live code units"), "mean"))],
    ),
    # 3 PCA-8
    ("$1 - {}/5$ over each model's 5 measures", [("facts", ("alpha",))]),
    (
        "the denoising model's linear probe lies above PCA-8's, by {} (17 of",
        [("study", (*against(DAE, "linear-probe accuracy"), "mean"))],
    ),
    (
        "(test MSE lower by {} to {})",
        [
            ("study", (*against(AE, "test MSE on noisy inputs"), "mean")),
            ("study", (*against(AE, "test MSE on clean inputs"), "mean")),
        ],
    ),
    (
        "The plain code loses {} of its variance to this noise and the denoising code {}, less",
        [
            ("study", (AE, "code_stability", "mean", 3, lambda kept: 1 - kept)),
            ("study", (DAE, "code_stability", "mean", 3, lambda kept: 1 - kept)),
        ],
    ),
    # 4 PSNR
    ("with intervals at $1 - {}/k$ over each curve's", [("facts", ("alpha",))]),
    ("its interval at $1 - {}/7$ over the 7 levels", [("facts", ("alpha",))]),
    ("as Table C12, its intervals at $1 - {}/6$", [("facts", ("alpha",))]),
    (
        "from {} at noise {} to {} at noise 1",
        [
            ("study", (*CURVES, "code_stability", 0, "mean")),
            ("study", ("settings", "noise_stds_stability", 0)),
            ("study", (*CURVES, "code_stability", -1, "mean")),
        ],
    ),
    (
        "to noise 1 the plain model's falls by {} dB and the denoising model's by {} dB.",
        [
            ("companion", ("denoising_psnr", fall("autoencoder_db"))),
            ("companion", ("denoising_psnr", fall("denoising_autoencoder_db"))),
        ],
    ),
    (
        (
            "Up to noise {} both reconstructions are below the noisy input ({} and {} against {} dB "
            "at {})"
        ),
        [
            ("setting", ("PSNR_NOISE_STDS", 2)),
            ("companion", ("denoising_psnr", "autoencoder_db", 2)),
            ("companion", ("denoising_psnr", "denoising_autoencoder_db", 2)),
            ("companion", ("denoising_psnr", "noisy_input_db", 2)),
            ("setting", ("PSNR_NOISE_STDS", 2)),
        ],
    ),
    (
        "From noise {} on both are above it, by about 10 dB at noise 1 ({} and {} against {} dB)",
        [
            ("setting", ("PSNR_NOISE_STDS", 3)),
            ("companion", ("denoising_psnr", "autoencoder_db", -1)),
            ("companion", ("denoising_psnr", "denoising_autoencoder_db", -1)),
            ("companion", ("denoising_psnr", "noisy_input_db", -1)),
        ],
    ),
    (
        "the denoising model reconstructs better from noise {} on",
        [("study", ("settings", "test_noise_std"))],
    ),
    (
        (
            "by {} dB at noise {} and by {} dB at noise 1, where it is ahead in every seed; up to "
            "noise {}"
        ),
        [
            ("study", (*CURVES, "psnr_db", 4, "mean")),
            ("study", ("settings", "noise_stds_psnr", 4)),
            ("study", (*CURVES, "psnr_db", -1, "mean")),
            ("study", ("settings", "noise_stds_psnr", 3)),
        ],
    ),
    # 5 gradient descent
    ("and the same training time, {} seconds", [("setting", ("SGD_SECONDS",))]),
    ("after {} seconds of training; and the examples", [("setting", ("SGD_SECONDS",))]),
    ("In the {} seconds of this run mini-batch GD ended lowest", [("setting", ("SGD_SECONDS",))]),
    (
        (
            "stochastic GD, with 2,000 updates, ends at {} ± {}, mini-batch GD (16 updates) at {} "
            "and batch GD (2 updates) at {}, in this order"
        ),
        [
            ("companion", (*SGD, "stochastic", final_losses(np.mean))),
            ("companion", (*SGD, "stochastic", final_losses(lambda v: np.std(v, ddof=1)))),
            ("companion", (*SGD, "mini_batch", final_losses(np.mean))),
            ("companion", (*SGD, "batch", final_losses(np.mean))),
        ],
    ),
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
def pilot() -> dict:
    return read_json("seed_study/pilot.json")


@pytest.fixture(scope="module")
def sources(companion, study, results, pilot) -> dict[str, dict]:
    models = ("autoencoder", "linear_code_autoencoder")
    rows = [*seed_statistics.PRIMARY, *seed_statistics.SECONDARY]
    return {
        "companion": companion,
        "study": study,
        "results": results,
        "setting": companion["config"],
        "facts": FACTS,
        "pilot_linear": seed_statistics.family(pilot, models, rows),
    }


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
    """Return the settings of the parameters cell (NAME = a literal or a value of the settings)."""
    cell = next(cell for cell in code_cells if "parameters" in cell.metadata.get("tags", []))
    namespace: dict = {"settings": settings, "study_settings": study_settings}
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
    assert {k: v for k, v in companion["config"].items() if k != "device"} == parameters(code_cells)
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
    """The model files and results.json come from one run of exercise9.ipynb: the companion's
    PSNR of each model on clean inputs is results.json's test MSE as a PSNR."""
    for name in (AE, DAE):
        psnr = 10 * math.log10(4 / results[name]["test_mse_clean"])
        assert companion["denoising_psnr"][f"{name}_db"][0] == pytest.approx(psnr, abs=1e-3)


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
    figures = captions_under(
        notebook,
        "Figure",
        lambda cell: any("image/png" in out.get("data", {}) for out in cell.outputs),
    )
    tables = captions_under(
        notebook,
        "Table",
        lambda cell: any(
            out.get("data", {}).get("text/markdown", "").startswith("|") for out in cell.outputs
        ),
    )
    assert figures == [1, 2, 3, 4] and tables == list(range(1, 14))


def test_its_figures_have_names_of_their_own_and_are_committed(notebook, code_cells):
    names = re.findall(r'"(companion_fig\d_[a-z0-9_]+)"', "".join(c.source for c in code_cells))
    assert [int(name[len("companion_fig")]) for name in names] == [1, 2, 3, 4]
    for name in names:
        assert (ROOT / "figures" / f"{name}.png").is_file(), name


def test_the_explorer_is_left_out_of_the_pdf_and_its_saved_output_says_to_run_it(code_cells):
    explorer = [cell for cell in code_cells if "explorer.code_explorer(" in cell.source]
    assert len(explorer) == 1
    assert {"remove-cell", "nbval-ignore-output"} <= set(explorer[0].metadata.get("tags", []))
    saved = "".join(out.get("text", "") for out in explorer[0].outputs)
    assert "run this cell in JupyterLab" in saved and explorer_module.REOPENED in saved


def test_timings_and_the_notice_are_not_compared_by_nbval(code_cells):
    for cell in code_cells:
        if "sgd_table(" in cell.source or "notice" in cell.source and "display" in cell.source:
            assert "nbval-ignore-output" in cell.metadata.get("tags", []), cell.source[:60]


def test_code_lines_shown_in_the_pdf_fit_its_text_width(code_cells):
    shown_cells = [
        cell
        for cell in code_cells
        if not {"remove-cell", "remove-input"} & set(cell.metadata.get("tags", []))
    ]
    assert len(shown_cells) >= 4
    assert max(len(line) for cell in shown_cells for line in cell.source.splitlines()) <= 78


def test_companion_results_is_strict_json():
    text = (ROOT / "companion_results.json").read_text(encoding="utf-8")
    assert not re.search(r"\b(NaN|Infinity)\b", text)


# ---------------------------------------------------------------------------- report functions


@pytest.mark.slow
def test_the_committed_models_are_the_submission_run_s(data):
    """The companion loads models/*.pt and results.json describes them: each model's clean
    test MSE is the one results.json records (`make run` writes both)."""
    results = json.loads((ROOT / "results.json").read_text(encoding="utf-8"))
    for name in ("autoencoder", "denoising_autoencoder"):
        model = measures.load_model(ROOT / "models" / f"{name}.pt")
        mse = helpers.reconstruction_loss(model, data.test_x, data.test_x)
        assert mse == pytest.approx(results[name]["test_mse_clean"], rel=1e-4), name


def test_companion_results_name_the_models_their_units_and_every_run(tmp_path):
    path = tmp_path / "m.pt"
    helpers.save_model(helpers.Autoencoder(seed=0), path)
    codes = np.array([[0.0, 1.0] + [2.0] * 6, [0.0, 3.0] + [2.0] * 6])
    run = gd_variants.SGDRun(1, 0.3, 0, held_out=0.4)
    run.record(0, 0, 0.0, 1.0), run.record(2, 2, 0.5, 0.5)
    variant = gd_variants.Variant(1, {0.3: [run]}, 0.3, [run])
    document = companion_report.companion_results(
        config={"PSNR_NOISE_STDS": [0.0, 1.0]},
        device="cpu",
        model_files={"autoencoder": path},
        codes={"autoencoder": codes},
        psnr_curves={"noisy input": [math.inf, 6.0]},
        sgd_variants={"stochastic": variant},
    )
    units = document["models"][AE]
    assert units["live_code_units"] == 7 and units["unit_activity"][:2] == [0.0, 1.0]
    assert units["unit_quartiles"][1] == [1.5, 2.0, 2.5]
    assert units["sha256"] == provenance.file_sha256(path)
    sgd = document["sgd_variants"]["stochastic"]
    assert sgd["lr"] == 0.3 and sgd["held_out"] == {"0.3": 0.4}
    assert sgd["runs"]["0.3"][0]["loss"] == [1.0, 0.5] and sgd["timed"][0]["examples"] == [0, 2]
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


def primary(study: dict, label: str) -> dict:
    return next(r for r in study["comparisons"][0]["primary"] if r["label"] == label)


def test_v1_the_sign_flip_and_the_t_test_agree_in_every_primary_row(study, text):
    """Table C2's caption: 'the two agree in every row': each row's sign-flip and paired t-test
    p, both times 3, fall on the same side of the 0.05 level and round to the same cell."""
    said("the two agree in every row", text)
    for row in study["comparisons"][0]["primary"]:
        sign_flip, t_test = row["p_adjusted"], row["t_test_p_adjusted"]
        assert (sign_flip < seed_statistics.ALPHA) == (t_test < seed_statistics.ALPHA), row["label"]
        assert companion_report.p_cell(sign_flip) == companion_report.p_cell(t_test), row["label"]


def test_v1_the_stability_differs_by_less_than_the_margin_the_rest_equivalent(study, text):
    """The verdicts, the one-sentence summary and Table C2's text: stability better by less
    than the margin in all 20 seeds, losing less than half as much variance; PSNR and probe
    equivalent; the three verdicts those of the first study."""
    seeds, stability = len(study["seeds"]), primary(study, STABILITY)
    said(f"{seeds} new seeds of each model, {study['seeds'][0]} to {study['seeds'][-1]}", text)
    said(f"in a replication on {seeds} new seeds of each model, planned before it was run", text)
    said("the code are equivalent on this test set within margins set in advance", text)
    said("All three verdicts of the first study replicate", text)
    said("all three verdicts are those of the first study", text)
    said(f"in all {seeds} seeds: plain minus denoising", text)
    said(
        f"keeps more of its variance under noise in all {seeds} seeds, and the whole interval", text
    )
    said("and the denoising code 0.0097, less than half", text)
    lost = [1 - study[model]["code_stability"]["mean"][3] for model in (AE, DAE)]
    assert lost[1] < 0.5 * lost[0] and abs(lost[1] - lost[0]) < stability["margin"]
    ratio = study["comparisons"][0]["lost_variance_ratio"]
    assert ratio["interval"][1] < 0.5 and ratio["below_1"] == seeds
    assert stability["second_wins"] == seeds
    assert stability["verdict"] == "denoising better, by less than the margin"
    for label in (PSNR_CLEAN, PROBE):
        entry = primary(study, label)
        assert entry["verdict"].startswith("equivalent") and entry["interval"][0] < 0, label
    first = {row["label"]: row["verdict"] for row in study["first_study"]}
    assert first == {row["label"]: row["verdict"] for row in study["comparisons"][0]["primary"]}


def test_v1_the_outside_gain_with_noisy_inputs_is_below_the_psnr_margin(study, text):
    said("with noisy inputs the denoising model reconstructs better (secondary, Table", text)
    [noisy] = [r for r in study["comparisons"][0]["secondary"] if r["measure"] == "test_mse_noisy"]
    assert noisy["verdict"] == "denoising better"
    gain = -study["comparisons"][0]["curves"]["psnr_db"][4]["mean"]
    assert study["settings"]["noise_stds_psnr"][4] == study["settings"]["test_noise_std"]
    assert 0 < gain < primary(study, PSNR_CLEAN)["margin"]


def test_v1_figure_c1_the_two_studies_intervals_overlap_and_every_stability_dot_is_below_0(
    study, text
):
    said("The two studies' intervals overlap in every panel, and every dot of the code", text)
    for row, first in zip(study["comparisons"][0]["primary"], study["first_study"], strict=True):
        assert (
            row["interval"][0] <= first["interval"][1]
            and first["interval"][0] <= row["interval"][1]
        )
    gaps = seed_statistics.pooled_gaps([study], "code_stability", settings.NOISE_STD)
    assert (gaps < 0).all()
    said("for someone who trains one model of each, the seed decides more than the choice", text)
    probe = primary(study, PROBE)
    assert 1.8 < probe_gap_reach(study) / probe["margin"] < 2.2
    spreads = [np.std(study[m]["linear_probe_accuracy"]["values"], ddof=1) for m in (AE, DAE)]
    assert min(spreads) > 3 * abs(probe["mean"])


def test_v2_the_earlier_seeds_asked_for_14_the_replication_ran_20_each_detectable_below_its_margin(
    study, text
):
    said(
        "The earlier seeds asked for at most 14 seeds (the linear probe); the replication ran 20",
        text,
    )
    needed = [entry["seeds_needed"] for entry in study["sizing"]]
    assert max(needed) == needed[1] == 14 and len(study["seeds"]) == 20
    assert all(entry["detectable"] < entry["margin"] for entry in study["sizing"])
    assert (
        min(entry["equivalence_power"] for entry in study["sizing"])
        == study["sizing"][1]["equivalence_power"]
    )
    said(
        "Its own spread is smaller than the earlier one for the PSNR and close to it for the", text
    )
    ratios = [entry["study_sd"] / entry["earlier_sd"] for entry in study["sizing"]]
    assert ratios[0] < 0.7 and all(0.9 < ratio < 1.1 for ratio in ratios[1:]), ratios


def test_v3_the_live_units_explain_a_minor_part_and_change_no_verdict(study, text):
    said("a minor part of the spread. Adjusted for it, every verdict stays as it was", text)
    entry = study["comparisons"][0]
    verdicts = {row["measure"]: row["verdict"] for row in entry["primary"]}
    for adjusted in entry["live_units"]:
        assert adjusted["verdict"] == verdicts[adjusted["measure"]]
        assert max(adjusted["r_squared"]) < 0.25


def test_v4_one_secondary_measure_differs_the_noisy_mse_and_the_live_units_tie_often(study, text):
    seeds, rows = len(study["seeds"]), study["comparisons"][0]["secondary"]
    said("One secondary measure differs: with noisy inputs", text)
    differ = [row for row in rows if row["verdict"] != "no difference shown"]
    assert [row["label"] for row in differ] == ["test MSE on noisy inputs"]
    assert differ[0]["verdict"] == "denoising better"
    said(f"in {differ[0]['second_wins']} of the {seeds} seeds. No other interval excludes 0", text)
    units = next(row for row in rows if row["label"] == "live code units")
    said(f"the live code units tie in {units['ties']} of the {seeds} pairs", text)


def test_v5_no_class_differs_and_the_largest_gap_is_the_coats(study, text):
    said(
        "No class's interval excludes 0, and no class's mean difference exceeds 6 points (the", text
    )
    said("points (the coats' and the sandals')", text)
    rows = study["comparisons"][0]["classes"]
    assert all(row["verdict"] == "no difference shown" for row in rows)
    largest = sorted(rows, key=lambda row: -abs(row["mean"]))[:3]
    assert [row["label"] for row in largest[:2]] == ["Coat", "Sandal"]
    assert all(round(100 * abs(row["mean"])) == 6 for row in largest[:2])
    assert round(100 * abs(largest[2]["mean"])) < 6


def test_v6_codes_share_a_quarter_of_their_neighbours_across_as_within_same_seed_closer(
    study, text
):
    said("they share about a quarter of each image's 10 nearest neighbours", text)
    said("about as alike as two codes of one model", text)
    summary = study["similarity"]["summary"]
    within = [summary[group] for group in ("plain-plain", "denoising-denoising")]
    assert all(0.2 <= group["knn_overlap"]["mean"] <= 0.3 for group in within)
    across = summary["plain-denoising"]["cka"]
    assert min(g["cka"]["mean"] for g in within) <= across["mean"] + 0.01
    assert across["mean"] <= max(g["cka"]["mean"] for g in within) + 0.01
    assert across["sd"] > 10 * abs(across["mean"] - np.mean([g["cka"]["mean"] for g in within]))
    assert summary["plain-denoising, same seed"]["cka"]["mean"] > across["mean"]
    said("but not in their shared neighbours", text)
    same = summary["plain-denoising, same seed"]["knn_overlap"]["mean"]
    assert same <= max(g["knn_overlap"]["mean"] for g in within)


def test_v7_the_restarts_of_the_study(study, text):
    """'Of the replication's 40 models, 3 restarted, each once: both models of seed 41 and the
    denoising model of seed 51. Without those 2 pairs (18 left) the three verdicts are the same.'"""
    said("Of the replication's 40 models, 3 restarted, each once: both models of seed 41,", text)
    said("restarted from the weights of seed 1041 and so share them again, and the denoising", text)
    said("model of seed 51. Without those 2 pairs (18 left) the three verdicts are the same", text)
    said("Each verdict is the same in all three", text)
    first = {row["label"]: row["verdict"] for row in study["first_study"]}
    assert all(first[row["label"]] == row["verdict"] for row in study["comparisons"][0]["primary"])
    restarted = {
        (model, seed): len(notes)
        for model in (AE, DAE)
        for seed, notes in zip(study["seeds"], study["restarts"][model], strict=True)
        if notes
    }
    assert restarted == {(AE, 41): 1, (DAE, 41): 1, (DAE, 51): 1}
    assert 2 * len(study["seeds"]) == 40
    kept = study["comparisons"][0]["without_restarts"]
    assert kept["pairs_kept"] == 18 and kept["restarted"] == [1, 2]
    verdicts = [row["verdict"] for row in study["comparisons"][0]["primary"]]
    assert [row["verdict"] for row in kept["primary"]] == verdicts
    said("with one pair that has a single restart, cannot say which model restarts more", text)
    notes = study["restarts"]
    assert "seed 1041" in notes[AE][1][0] and "seed 1041" in notes[DAE][1][0]
    assert study["seeds"][1] == 41
    said("In the first study 4 of the 5 restarted models were denoising ones", text)
    first = read_json("seed_study/first_study.json")["restarts"]
    assert [sum(map(bool, first[model])) for model in (AE, DAE)] == [1, 4]


def test_v8_the_pilot_s_restart_decisions_rechecked(text):
    """'0 of the pilot's restart decisions changed ...: its one restart, the denoising model of
    seed 8, is found at epoch 1 instead of 2 and restarts from the same seed 1008'."""
    recheck = read_json("seed_study/restart_recheck.json")
    said(RECHECK_SENTENCE.format(**recheck), text)
    said("is found at epoch 1 instead of 2 and restarts from the same seed 1008", text)
    collapsed = [s for s in recheck["starts"] if s["test_check"] or s["train_check"]]
    assert [(s["model"], s["seed"], s["train_check"], s["test_check"]) for s in collapsed] == [
        (DAE, 8, 1, 2)
    ]
    assert recheck["decisions_changed"] == 0 and recheck["models"] == 30


RECHECK_SENTENCE = (
    "Checked again with the collapse check on training images, {decisions_changed} of the "
    "pilot's restart decisions changed"
)


# ---------------------------------------------------------------------------- 2 dead code units, linear code


def test_l1_the_linear_code_keeps_more_units_nothing_else_shown(sources, text):
    rows = {row["label"]: row for row in sources["pilot_linear"]}
    said("(9 of the 10 seeds, one tie). No other interval excludes 0", text)
    units = rows.pop("live code units")
    assert units["verdict"] == "linear better" and (units["second_wins"], units["ties"]) == (9, 1)
    assert all(row["verdict"] == "no difference shown" for row in rows.values())


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


# ---------------------------------------------------------------------------- 3 PCA-8


def test_p1_both_models_reconstruct_better_than_pca_which_separates_better(study, text):
    seeds = len(study["seeds"])
    said(f"Both models reconstruct far better than PCA-8, in all {seeds} seeds", text)
    said(f"silhouette exceeds each model's in all {seeds} seeds", text)
    said("Neither model's 5-NN accuracy differs measurably from PCA-8's", text)
    said("the plain model's not measurably", text)
    for model, rows in study["against_pca_8"].items():
        by = {row["label"]: row for row in rows}
        assert "t-SNE trustworthiness" not in by and "silhouette in the t-SNE plane" not in by
        for label in ("test MSE on clean inputs", "test MSE on noisy inputs"):
            assert by[label]["first_wins"] == seeds, (model, label)
        assert by["5-NN accuracy"]["verdict"] == "no difference shown", model
        assert by["silhouette of the standardised codes"]["second_wins"] == seeds, model
        probe = by["linear-probe accuracy"]
        expected = "denoising better" if model == DAE else "no difference shown"
        assert probe["verdict"] == expected, model
    probe = next(r for r in study["against_pca_8"][DAE] if r["label"] == "linear-probe accuracy")
    said(f"by 0.013 ({probe['first_wins']} of the {seeds} seeds)", text)


# ---------------------------------------------------------------------------- 4 PSNR


def psnr(companion: dict) -> dict[str, np.ndarray]:
    curves = companion["denoising_psnr"]
    return {
        name: np.array([math.inf if v is None else v for v in values], dtype=float)
        for name, values in curves.items()
    }


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


def test_f3_both_change_little_in_this_run(companion, text):
    """'In this run both models' PSNR changes little with the noise'."""
    said("In this run both models' PSNR changes little with the noise", text)
    curves_ = psnr(companion)
    for name in ("autoencoder_db", "denoising_autoencoder_db"):
        assert np.ptp(curves_[name]) < 0.1 * np.ptp(curves_["noisy_input_db"][1:])


def test_f3_over_the_seeds_denoising_better_from_05_growing_every_seed_at_1(study, text):
    said("and by more the stronger the noise", text)
    said("where it is ahead in every seed; up to noise 0.3 no difference shows", text)
    said("Its code is the more stable at every level", text)
    rows = study["comparisons"][0]["curves"]["psnr_db"]
    stds = study["settings"]["noise_stds_psnr"]
    for entry, std in zip(rows, stds, strict=True):
        expected = "denoising better" if std >= 0.5 else "no difference shown"
        assert entry["verdict"] == expected, std
    means = [entry["mean"] for entry in rows if entry["level"] >= 0.5]
    assert means == sorted(means, reverse=True) and rows[-1]["second_wins"] == len(study["seeds"])
    stability = study["comparisons"][0]["curves"]["code_stability"]
    assert all(entry["verdict"] == "denoising better" for entry in stability)
    said(f"at every level, in all {len(study['seeds'])} seeds, and by more the", text)
    assert {entry["second_wins"] for entry in stability} == {len(study["seeds"])}
    gaps = [entry["mean"] for entry in stability]
    assert gaps == sorted(gaps, reverse=True)


# ---------------------------------------------------------------------------- 5 gradient descent


def test_g1_at_equal_examples_the_more_updates_the_lower_in_every_seed(companion, text):
    said("the more updates, the lower the loss", text)
    said("in this order in each of the 3 seeds", text)
    sgd = companion["sgd_variants"]
    finals = {
        name: [run["loss"][-1] for run in entry["runs"][f"{entry['lr']:g}"]]
        for name, entry in sgd.items()
    }
    updates = {
        name: entry["runs"][f"{entry['lr']:g}"][0]["updates"][-1] for name, entry in sgd.items()
    }
    assert updates == {"stochastic": 2000, "mini_batch": 16, "batch": 2}
    for seed in range(3):
        assert finals["stochastic"][seed] < finals["mini_batch"][seed] < finals["batch"][seed]
    assert all(len(entry["runs"][f"{entry['lr']:g}"]) == 3 for entry in sgd.values())


def test_g2_stochastic_processes_far_fewer_examples_per_second(companion, text):
    """A ratio a loaded machine keeps: one example per update against vectorised batches."""
    said("processes far fewer examples per second than the other", text)
    speed = {
        name: np.mean([run["examples"][-1] / run["seconds"][-1] for run in entry["timed"]])
        for name, entry in companion["sgd_variants"].items()
    }
    assert 5 * speed["stochastic"] < min(speed["mini_batch"], speed["batch"])


def test_g3_the_time_budget_ranks_no_variant_and_each_rate_is_inside_its_grid(companion, text):
    said("the time budget's columns rank no variant", text)
    said("Each chosen rate lies inside its grid, not at an end", text)
    for name, entry in companion["sgd_variants"].items():
        grid = sorted(float(lr) for lr in entry["held_out"])
        assert grid[0] < entry["lr"] < grid[-1], name
        assert entry["lr"] == min(grid, key=lambda lr: entry["held_out"][f"{lr:g}"]), name


def test_g4_the_runs_have_not_converged(companion, text):
    """'short runs that have not converged (Figure C3)': each chosen run still falls at its end."""
    said("short runs that have not converged (Figure C3)", text)
    for name, entry in companion["sgd_variants"].items():
        for run in entry["runs"][f"{entry['lr']:g}"]:
            assert run["loss"][-1] < run["loss"][-2], name
