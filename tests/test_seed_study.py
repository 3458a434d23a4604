"""The seed study: its models train in worker processes exactly as train_autoencoder trains
the report's, are saved and reused; three small models go through the statistics, the tables
and the loss figure; and the committed seed_study.json was made by the current code and holds
what Question 3 c) reads (the paired tests, the code similarity, the code stability)."""

import dataclasses
import json
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
import torch

import helpers
import provenance
import report
import settings
from seed_study import statistics as seed_statistics
from seed_study import study as study_module
from seed_study import training as seed_training

ROOT = Path(__file__).resolve().parents[1]
SMALL = seed_training.DataSpec(str(ROOT / "data"), train_images=1000, test_images=300)
DENOISING = settings.VARIANTS["denoising_autoencoder"]
SLOW = pytest.mark.slow  # trains and scores models (about 20 s each): part of `make test`


@pytest.fixture(scope="module")
def seed_study_script():
    return study_module


@pytest.fixture(scope="module")
def study() -> dict:
    path = ROOT / "seed_study.json"
    assert path.exists(), "seed_study.json is missing: run `make seeds`"
    return json.loads(path.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------- training


@SLOW
def test_a_worker_trains_seed_s_as_train_autoencoder_with_seed_s(seed_study_script, tmp_path):
    """The study's model of seed s, trained in a worker process of one thread, has the
    weights and losses of train_autoencoder(Autoencoder(seed=s), seed=s) in this process."""
    job = seed_training.Job("denoising_autoencoder", 3, DENOISING,
                            dataclasses.replace(settings.SHEET, epochs=2, test_every=1))
    path = seed_training.model_file(tmp_path, job, SMALL, "cpu")
    with seed_study_script.worker_pool("cpu", 1) as pool:
        [(_, trained)] = list(seed_study_script.run_jobs(pool, seed_training.train_job,
                                                         [(job, SMALL, path)]))
    model = helpers.Autoencoder(seed=3)
    torch.set_num_threads(1)  # as in the worker (the tests run on one thread anyway)
    history = helpers.train_autoencoder(model, seed_training.load_data(SMALL), epochs=2,
                                        noise_std=0.5, seed=3, test_every=1, progress=False)
    saved, saved_history = seed_training.load_trained(path, DENOISING)
    assert trained["history"]["train_loss"] == history.train_loss == saved_history["train_loss"]
    for name, value in model.state_dict().items():
        assert torch.equal(saved.state_dict()[name], value), name


def test_a_model_file_is_named_by_what_determines_the_weights(tmp_path):
    plain = settings.VARIANTS["autoencoder"]
    job = seed_training.Job("autoencoder", 0, plain)
    path = seed_training.model_file(tmp_path, job, SMALL, "cpu")
    renamed = dataclasses.replace(plain, label="renamed", title="another title")
    assert path == seed_training.model_file(tmp_path, seed_training.Job("renamed", 0, renamed),
                                            seed_training.DataSpec("elsewhere", 1000, 300), "cpu")
    assert path.parent == tmp_path and path.name.startswith("seed0-")
    noisy = dataclasses.replace(plain, noise_std=0.1)
    others = [seed_training.model_file(tmp_path, seed_training.Job("autoencoder", 1, plain),
                                       SMALL, "cpu"),
              seed_training.model_file(tmp_path, seed_training.Job(
                  "autoencoder", 0, plain, dataclasses.replace(settings.SHEET, epochs=49)),
                  SMALL, "cpu"),
              seed_training.model_file(tmp_path, seed_training.Job("autoencoder", 0, noisy),
                                       SMALL, "cpu"),
              seed_training.model_file(tmp_path, job, seed_training.DataSpec("data"), "cpu"),
              seed_training.model_file(tmp_path, job, SMALL, "cuda")]
    assert len({path, *others}) == 6


# ---------------------------------------------------------------------------- three small models


MEASURE_ROWS = len(seed_statistics.family_rows(settings.SCORING, seed_statistics.MEASURES))
THREE = settings.VARIANTS
PAIRS = [("autoencoder", "denoising_autoencoder"), ("autoencoder", "linear_code_autoencoder"),
         ("denoising_autoencoder", "linear_code_autoencoder")]


@pytest.fixture(scope="module")
def small_study(seed_study_script, tmp_path_factory):
    """Three models, three seeds, two epochs on 1,000 training images, trained twice: the
    second run finds every model saved (in this process: --workers 0)."""
    folder = tmp_path_factory.mktemp("seed_models")
    training = dataclasses.replace(settings.SHEET, epochs=2)
    scoring = {**settings.SCORING, "embedded_test_images": 100}
    logs: list[list[str]] = [[], []]
    studies = [seed_study_script.run_study(THREE, PAIRS, [0, 1, 2], training, scoring, SMALL,
                                           folder, 0, log.append) for log in logs]
    return studies, logs, folder


@SLOW
def test_a_second_run_trains_nothing_and_scores_the_same(small_study):
    (first, second), logs, folder = small_study
    assert logs[0][0].startswith("0 of 9 models saved") and logs[1][0].startswith("9 of 9")
    assert sum(line.startswith("trained ") for line in logs[0]) == 9
    assert not any(line.startswith("trained ") for line in logs[1])
    assert len(list(folder.glob("seed*.pt"))) == 9 and first == second


@SLOW
def test_three_models_each_comparison_its_own_bonferroni_family_and_labels(small_study):
    study = small_study[0][0]
    assert [entry["models"] for entry in study["comparisons"]] == [list(pair) for pair in PAIRS]
    for entry in study["comparisons"]:
        labels = [THREE[name].label for name in entry["models"]]
        rows = entry["rows"]
        assert entry["labels"] == labels and len(rows) == MEASURE_ROWS
        for row in rows:
            assert row["p_adjusted"] == pytest.approx(min(1, MEASURE_ROWS * row["p"]))
            assert row["verdict"] == "inconclusive"  # 3 seeds: the interval is unbounded
            assert row["seeds"] == 3 and 0 <= row["first_wins"] <= 3
        assert set(entry["curves"]) == {"psnr_db", "code_stability"}
    assert set(study["restarts"]) == set(THREE) and study["settings"]["models"] == {
        name: variant.to_dict() for name, variant in THREE.items()}


@SLOW
def test_three_models_similarity_groups_cover_every_pair(small_study):
    study = small_study[0][0]
    assert len(study["similarity"]["pairs"]) == 9 * 8 // 2
    summary = study["similarity"]["summary"]
    assert len(summary) == 3 + 3 + 3  # within each model; across two, other and same seed
    assert summary["plain-linear, same seed"]["pairs"] == 3 and summary["linear-linear"][
        "pairs"] == 3


def table_rows(table: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()]


@SLOW
def test_three_models_tables(small_study):
    study = small_study[0][0]
    for first, second in PAIRS:
        rows = table_rows(report.comparison_table(study, (first, second)))
        labels = THREE[first].label, THREE[second].label
        assert rows[0][1] == f"{labels[0]} − {labels[1]}" and len(rows) == 2 + MEASURE_ROWS
        codes = table_rows(report.code_table(study, models=(first, second)))
        assert codes[0][1:3] == list(labels) and [row[0] for row in codes[2:]] == [
            *report.CODE_ROWS, "linear CKA", "10-NN overlap"]
    assert report.comparison_table(study) == report.comparison_table(study, PAIRS[0])


@SLOW
def test_three_models_loss_figure(small_study):
    folder = small_study[2]
    histories = {}
    for path in sorted(folder.glob("seed0-*.pt")):
        saved = torch.load(path, weights_only=True)["history"]
        name = THREE[torch.load(path, weights_only=True)["job"]["model"]].label
        histories[name] = helpers.TrainingHistory(
            train_loss=saved["train_loss"],
            test_loss={int(epoch): loss for epoch, loss in saved["test_loss"].items()})
    fig = report.plot_losses(histories)
    ax = fig.axes[0]
    assert len(histories) == 3 and len(ax.get_lines()) == 6
    assert len({tuple(line.get_color()) for line in ax.get_lines()}) == 3
    assert [text.get_text() for text in ax.get_legend().get_texts()][::2] == [
        f"{name}: training loss" for name in histories]
    plt.close(fig)


# ---------------------------------------------------------------------------- seed_study.json


def test_seed_study_was_made_by_the_code_it_runs_now(seed_study_script, study):
    assert not seed_study_script.staleness(study), "seed_study.json is stale: run `make seeds`"


def test_the_study_digest_leaves_out_notes_and_follows_the_settings(seed_study_script, study):
    """The notes are words, read from a file that no code reaches; a changed setting (here
    the epochs) is a different study."""
    spec = provenance.ARTEFACTS["seed study"]
    assert "NOTES_FILE" not in provenance.reached_code(ROOT, spec.entry, spec.functions, spec.opaque)
    changed = {**study, "settings": {**study["settings"], "epochs": 49}}
    assert seed_study_script.study_digest(changed) != seed_study_script.study_digest(study)


def test_every_comparison_has_its_family_its_curves_and_the_verdicts_of_the_one_rule(study):
    seeds = len(study["seeds"])
    for entry in study["comparisons"]:
        first = study[entry["models"][0]]
        families = {"rows": seed_statistics.family_rows(study["settings"], first),
                    **{key: seed_statistics.curve_rows(study["settings"], key)
                       for key in entry["curves"]},
                    **{key: seed_statistics.class_rows(study["settings"], key)
                       for key in entry["classes"]}}
        assert set(entry["classes"]) == {"map_class_share"}
        for name, expected in families.items():
            rows = entry["rows"] if name == "rows" else {**entry["curves"],
                                                          **entry["classes"]}[name]
            assert [row["label"] for row in rows] == [label for _, label, _, _ in expected]
            for row in rows:
                measure = seed_statistics.MEASURES[row["measure"]]
                assert row["seeds"] == seeds >= 10 and row["interval_level"] == pytest.approx(
                    1 - seed_statistics.ALPHA / len(rows))
                assert row["interval"][0] <= row["mean"] <= row["interval"][1]
                assert row["p_adjusted"] == pytest.approx(min(1, len(rows) * row["p"]))
                assert (row["p_adjusted"] < seed_statistics.ALPHA) == (
                    row["interval"][0] > 0 or row["interval"][1] < 0)
                assert row["verdict"] == seed_statistics.verdict(
                    row["interval"], row["margin"], measure, tuple(entry["labels"]))


def test_similarity_covers_every_pair_of_models_and_its_groups(study):
    seeds, models = len(study["seeds"]), len(study["settings"]["models"])
    pairs = study["similarity"]["pairs"]
    assert len(pairs) == (models * seeds) * (models * seeds - 1) // 2
    summary = study["similarity"]["summary"]
    assert summary["plain-plain"]["pairs"] == summary["denoising-denoising"]["pairs"] == (
        seeds * (seeds - 1) // 2)
    assert summary["plain-denoising"]["pairs"] == seeds * (seeds - 1)
    assert summary["plain-denoising, same seed"]["pairs"] == seeds
    for group in summary.values():
        for measure in ("cka", "knn_overlap"):
            values = group[measure]
            assert 0 <= values["min"] <= values["mean"] <= values["max"] <= 1


def test_code_stability_is_given_for_every_model_at_every_noise_level(study):
    levels = study["settings"]["noise_stds_stability"]
    assert levels == [std for std in study["settings"]["noise_stds_psnr"] if std > 0]
    for model in study["settings"]["models"]:
        values = study[model]["code_stability"]["values"]
        assert len(values) == len(study["seeds"]) and all(len(v) == len(levels) for v in values)
