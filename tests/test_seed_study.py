"""The seed study: its models train in joblib's worker processes exactly as train_autoencoder
trains the report's, are saved keyed by what determines them and reused; three small models go
through the statistics, the tables and the loss figure, and their records are made again
(seed0_problems, verify); the notebook's two saved models reproduce the pilot's records of seed
0; the committed seed_study.json holds the plan's seeds, families and verdicts, and its plan's
numbers are the code's."""

import dataclasses
import json
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

import companion_report
import helpers
import report
import settings
import study_settings
from seed_study import scoring as seed_scoring
from seed_study import statistics as seed_statistics
from seed_study import study as study_module
from seed_study import training as seed_training

ROOT = Path(__file__).resolve().parents[1]
SMALL = seed_training.DataSpec(str(ROOT / "data"), train_images=1000, test_images=300)
DENOISING = study_settings.VARIANTS["denoising_autoencoder"]
SLOW = pytest.mark.slow  # trains and scores models (about 20 s each): part of `make test`


@pytest.fixture(scope="module")
def study() -> dict:
    path = ROOT / "seed_study.json"
    assert path.exists(), "seed_study.json is missing: run `make seeds`"
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def pilot() -> dict:
    return json.loads(study_module.PILOT_FILE.read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------- training


@SLOW
def test_a_worker_trains_seed_s_as_train_autoencoder_with_seed_s(tmp_path):
    """The study's model of seed s, trained in a joblib worker process of one thread, has the
    weights and losses of train_autoencoder(Autoencoder(seed=s), seed=s) in this process, and
    its file holds its key."""
    job = seed_training.Job(
        "denoising_autoencoder",
        3,
        DENOISING,
        dataclasses.replace(settings.SHEET, epochs=2, test_every=1),
    )
    path = seed_training.model_file(tmp_path, job, SMALL, "cpu")
    [trained] = study_module.run_parallel(seed_training.train_job, [(job, SMALL, path)], 2)
    model = helpers.Autoencoder(seed=3)
    torch.set_num_threads(1)  # as in the worker (the tests run on one thread anyway)
    history = helpers.train_autoencoder(
        model,
        seed_training.load_data(SMALL),
        epochs=2,
        noise_std=0.5,
        seed=3,
        test_every=1,
        progress=False,
    )
    saved, saved_history = seed_training.load_trained(path, job, SMALL, "cpu")
    assert trained["history"]["train_loss"] == history.train_loss == saved_history["train_loss"]
    for name, value in model.state_dict().items():
        assert torch.equal(saved.state_dict()[name], value), name
    assert torch.load(path, weights_only=True)["key"] == seed_training.model_key(job, SMALL, "cpu")


def test_run_parallel_returns_the_results_in_the_order_of_the_calls():
    calls = [(base, exponent) for base in (2, 3) for exponent in range(4)]
    assert list(study_module.run_parallel(pow, calls, 2)) == [pow(*call) for call in calls]
    assert list(study_module.run_parallel(pow, calls, 0)) == [pow(*call) for call in calls]


def test_a_worker_runs_on_one_thread_whatever_this_process_allows(monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    [variable] = study_module.run_parallel(os.getenv, [("OMP_NUM_THREADS",)], 2)
    assert variable == "1" and list(study_module.run_parallel(torch.get_num_threads, [()], 2)) == [
        1
    ]


def test_a_model_file_is_named_by_what_determines_the_weights(tmp_path):
    plain = study_settings.VARIANTS["autoencoder"]
    job = seed_training.Job("autoencoder", 0, plain)
    path = seed_training.model_file(tmp_path, job, SMALL, "cpu")
    renamed = dataclasses.replace(plain, label="renamed", title="another title")
    assert path == seed_training.model_file(
        tmp_path,
        seed_training.Job("renamed", 0, renamed),
        seed_training.DataSpec("elsewhere", 1000, 300),
        "cpu",
    )
    assert path.parent == tmp_path and path.name.startswith("seed0-")
    noisy = dataclasses.replace(plain, noise_std=0.1)
    other_class = dataclasses.replace(plain, model="test_settings.SparseAutoencoder")
    others = [
        seed_training.model_file(
            tmp_path, seed_training.Job("autoencoder", 1, plain), SMALL, "cpu"
        ),
        seed_training.model_file(
            tmp_path,
            seed_training.Job(
                "autoencoder", 0, plain, dataclasses.replace(settings.SHEET, epochs=49)
            ),
            SMALL,
            "cpu",
        ),
        seed_training.model_file(
            tmp_path, seed_training.Job("autoencoder", 0, noisy), SMALL, "cpu"
        ),
        seed_training.model_file(
            tmp_path, seed_training.Job("autoencoder", 0, other_class), SMALL, "cpu"
        ),
        seed_training.model_file(tmp_path, job, seed_training.DataSpec("data"), "cpu"),
        seed_training.model_file(tmp_path, job, SMALL, "cuda"),
    ]
    assert len({path, *others}) == 7


def test_a_saved_model_whose_key_is_not_the_job_s_is_refused(tmp_path):
    plain = study_settings.VARIANTS["autoencoder"]
    job, other = (seed_training.Job("autoencoder", seed, plain) for seed in (0, 1))
    path = seed_training.model_file(tmp_path, job, SMALL, "cpu")
    torch.save(
        {
            "model": "autoencoder",
            "key": seed_training.model_key(other, SMALL, "cpu"),
            "history": {},
            "state_dict": helpers.Autoencoder(seed=1).state_dict(),
        },
        path,
    )
    with pytest.raises(ValueError, match="holds the model of .*'seed': 1.*, not .*'seed': 0"):
        seed_training.load_trained(path, job, SMALL, "cpu")


# ---------------------------------------------------------------------------- three small models


THREE = study_settings.VARIANTS
PAIRS = [
    ("autoencoder", "denoising_autoencoder"),
    ("autoencoder", "linear_code_autoencoder"),
    ("denoising_autoencoder", "linear_code_autoencoder"),
]


@pytest.fixture(scope="module")
def small_study(tmp_path_factory):
    """Three models, three seeds, two epochs on 1,000 training images, trained twice: the
    second run finds every model saved but one, cut short as a killed copy would leave it
    (in this process: --workers 0)."""
    folder = tmp_path_factory.mktemp("seed_models")
    training = dataclasses.replace(settings.SHEET, epochs=2)
    scoring = {**study_settings.SCORING, "embedded_test_images": 100}
    logs: list[list[str]] = [[], []]
    studies = []
    for log in logs:
        if studies:
            damaged = min(folder.glob("seed1-*.pt"))
            damaged.write_bytes(damaged.read_bytes()[:5000])
        studies.append(
            study_module.run_study(
                THREE, PAIRS, [0, 1, 2], training, scoring, SMALL, folder, 0, log.append
            )
        )
    return studies, logs, folder


@SLOW
def test_a_second_run_trains_only_the_damaged_model_and_scores_the_same(small_study):
    (first, second), logs, folder = small_study
    assert logs[0][0].startswith("0 of 9 models saved") and logs[1][0].startswith("8 of 9")
    assert sum(line.startswith("trained ") for line in logs[0]) == 9
    [retrained] = [line for line in logs[1] if line.startswith("trained ")]
    assert " seed 1 in " in retrained  # the damaged one, a seed-1 model
    assert len(list(folder.glob("seed*.pt"))) == 9 and first == second


@SLOW
def test_three_models_each_comparison_its_own_bonferroni_family_and_labels(small_study):
    study = small_study[0][0]
    assert [entry["models"] for entry in study["comparisons"]] == [list(pair) for pair in PAIRS]
    for entry in study["comparisons"]:
        labels = [THREE[name].label for name in entry["models"]]
        assert entry["labels"] == labels
        for part, size in (("primary", 3), ("secondary", 8)):
            assert len(entry[part]) == size
            for row in entry[part]:
                assert row["p_adjusted"] == pytest.approx(min(1, size * row["p"]))
                assert row["verdict"] in ("inconclusive", "no difference shown")  # 3 seeds
                assert (
                    row["seeds"] == 3 and row["first_wins"] + row["ties"] + row["second_wins"] == 3
                )
        assert (
            set(entry["curves"]) == {"psnr_db", "code_stability"} and len(entry["live_units"]) == 3
        )
    assert set(study["restarts"]) == set(THREE) and study["settings"]["models"] == {
        name: variant.to_dict() for name, variant in THREE.items()
    }


@SLOW
def test_three_models_similarity_groups_cover_every_pair(small_study):
    study = small_study[0][0]
    assert len(study["similarity"]["pairs"]) == 9 * 8 // 2
    summary = study["similarity"]["summary"]
    assert len(summary) == 3 + 3 + 3  # within each model; across two, other and same seed
    assert (
        summary["plain-linear, same seed"]["pairs"] == 3 and summary["linear-linear"]["pairs"] == 3
    )


def table_rows(table: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()]


@SLOW
def test_three_models_tables(small_study):
    study = small_study[0][0]
    for entry in study["comparisons"]:
        rows = table_rows(companion_report.rows_table(study, entry["primary"], entry["models"]))
        first, second = (THREE[name].label for name in entry["models"])
        assert rows[0][1:4] == [first, second, f"{first} − {second}"] and len(rows) == 2 + 3
    codes = table_rows(companion_report.code_table(study))
    assert [row[0] for row in codes[2:]] == list(study["similarity"]["summary"])


def altered(study: dict, model: str, key: str, change) -> dict:
    """Return a copy of a study with the seed-0 value of a measure passed through `change`."""
    copy = json.loads(json.dumps(study))
    values = copy[model][key]["values"]
    values[0] = change(values[0])
    return copy


def notebook_files(folder: Path, names: list[str], target: Path) -> dict[str, Path]:
    """Save the weights of the small study's seed-0 models of `names` into `target` as the
    notebook saves its own (helpers.save_model), and return the files by model."""
    files, training = {}, dataclasses.replace(settings.SHEET, epochs=2)
    for name in names:
        job = seed_training.Job(name, 0, THREE[name], training)
        model, _ = seed_training.load_trained(
            seed_training.model_file(folder, job, SMALL, "cpu"), job, SMALL, "cpu"
        )
        files[name] = helpers.save_model(model, target / f"{name}.pt")
    return files


@SLOW
def test_seed0_problems_finds_none_for_the_study_s_own_seed0_models(small_study, tmp_path):
    study, folder = small_study[0][0], small_study[2]
    files = notebook_files(folder, ["autoencoder", "denoising_autoencoder"], tmp_path)
    assert seed_scoring.seed0_problems(files, study, SMALL) == []


@SLOW
def test_seed0_problems_names_each_recorded_value_it_does_not_reproduce(small_study, tmp_path):
    """A test MSE off by 0.2% and a class's map share off by 0.06 are caught, each named with
    its model, measure, both values and the command; an MSE off by 0.05% is within tolerance."""
    study, folder = small_study[0][0], small_study[2]
    files = notebook_files(folder, ["autoencoder"], tmp_path)
    changed = altered(
        altered(study, "autoencoder", "test_mse_clean", lambda v: v * 1.002),
        "autoencoder",
        "map_class_share",
        lambda shares: [*shares[:6], shares[6] + 0.06, *shares[7:]],
    )
    recorded = study["autoencoder"]["test_mse_clean"]["values"][0]
    problems = seed_scoring.seed0_problems(files, changed, SMALL)
    assert [problem.split(":")[0] for problem in problems] == [
        "autoencoder seed 0 test_mse_clean",
        "autoencoder seed 0 map_class_share at Shirt",
    ]
    assert f"recorded {recorded * 1.002!r}, re-made {recorded!r}" in problems[0]
    assert all("`make seeds`" in problem for problem in problems)
    within = altered(study, "autoencoder", "test_mse_clean", lambda v: v * 1.0005)
    assert seed_scoring.seed0_problems(files, within, SMALL) == []


@SLOW
def test_verify_trains_a_seed_anew_and_finds_the_one_altered_record(small_study, tmp_path):
    """Seed 0 of the linear-code model, trained again, reproduces every record of the study but
    the one altered (its live code units, a count: exactly)."""
    study = small_study[0][0]
    changed = altered(study, "linear_code_autoencoder", "live_code_units", lambda v: v - 1)
    linear = {"linear_code_autoencoder": THREE["linear_code_autoencoder"]}
    problems = study_module.verify(changed, linear, 0, SMALL, tmp_path)
    units = study["linear_code_autoencoder"]["live_code_units"]["values"][0]
    expected = (
        f"linear_code_autoencoder seed 0 live_code_units: recorded {units - 1}, "
        f"re-made {units}; {seed_scoring.REMAKE}"
    )
    assert problems == [expected]


@SLOW
def test_three_models_loss_figure(small_study):
    folder = small_study[2]
    histories = {}
    for path in sorted(folder.glob("seed0-*.pt")):
        saved = torch.load(path, weights_only=True)["history"]
        name = THREE[torch.load(path, weights_only=True)["model"]].label
        histories[name] = helpers.TrainingHistory(
            train_loss=saved["train_loss"],
            test_loss={int(epoch): loss for epoch, loss in saved["test_loss"].items()},
        )
    fig = report.plot_losses(histories)
    ax = fig.axes[0]
    assert len(histories) == 3 and len(ax.get_lines()) == 6
    assert len({tuple(line.get_color()) for line in ax.get_lines()}) == 3
    assert [text.get_text() for text in ax.get_legend().get_texts()][::2] == [
        f"{name}: training loss" for name in histories
    ]
    plt.close(fig)


# ---------------------------------------------------------------------------- seed_study.json


@SLOW
def test_the_notebook_s_two_models_reproduce_the_pilot_s_records_of_seed_0(pilot):
    """exercise9.ipynb trains seed 0 of the plain and the denoising model as the study does:
    its saved models, scored as the study scores its own, give the pilot's values (about 25 s;
    the tolerances: seed_study/scoring.py)."""
    problems = seed_scoring.seed0_problems(
        study_module.NOTEBOOK_MODELS, pilot, seed_training.DataSpec(str(ROOT / "data"))
    )
    assert not problems, "\n".join(problems)


def test_the_study_holds_the_seeds_of_settings_new_ones_and_the_two_compared_models(study, pilot):
    assert study["seeds"] == study_settings.STUDY_SEEDS and len(study["seeds"]) >= 20
    assert not set(study["seeds"]) & set(pilot["seeds"])  # the pilot's seeds are not reused
    assert list(study["settings"]["models"]) == list(study_settings.STUDY_VARIANTS)
    assert [entry["models"] for entry in study["comparisons"]] == [
        list(study_settings.STUDY_VARIANTS)
    ]


def test_every_family_has_the_plan_s_rows_and_the_verdicts_of_the_one_rule(study):
    entry, seeds = study["comparisons"][0], len(study["seeds"])
    primary = [(row["measure"], row["level"]) for row in entry["primary"]]
    assert primary == list(seed_statistics.PRIMARY)
    assert [
        (row["measure"], row["level"]) for row in entry["secondary"]
    ] == seed_statistics.SECONDARY
    families = {"primary": entry["primary"], "secondary": entry["secondary"], **entry["curves"]}
    for name, rows in {**families, "classes": entry["classes"]}.items():
        for row in rows:
            measure = seed_statistics.MEASURES[row["measure"]]
            assert row["seeds"] == seeds and row["interval_level"] == pytest.approx(
                1 - seed_statistics.ALPHA / len(rows)
            )
            assert row["first_wins"] + row["ties"] + row["second_wins"] == seeds
            assert row["interval"][0] <= row["mean"] <= row["interval"][1]
            assert row["p_adjusted"] == pytest.approx(min(1, len(rows) * row["p"]))
            assert (row["p_adjusted"] < seed_statistics.ALPHA) == (
                row["interval"][0] > 0 or row["interval"][1] < 0
            )
            margin = (
                seed_statistics.PRIMARY.get((row["measure"], row["level"]))
                if name == "primary"
                else None
            )
            assert row["margin"] == margin
            assert row["verdict"] == seed_statistics.verdict(
                row["interval"], margin, measure, tuple(entry["labels"])
            )


def test_the_plan_s_numbers_are_the_code_s():
    """seed_study/PLAN.md quotes the margins, the earlier seeds' sd, the seeds they ask for, the
    family size, the seeds, the differences 20 seeds detect and their chance of showing
    equivalence: each as the code makes it from the pilot and the first study."""
    plan = " ".join(study_module.PLAN_FILE.read_text(encoding="utf-8").split())
    earlier = [
        json.loads(path.read_text(encoding="utf-8"))
        for path in (study_module.PILOT_FILE, study_module.FIRST_STUDY_FILE)
    ]
    seeds = study_settings.STUDY_SEEDS
    sizing = seed_statistics.sizing(earlier, earlier[1])
    margins = [f"{margin:g}" for margin in seed_statistics.PRIMARY.values()]
    assert f"| {margins[0]} dB |" in plan and plan.count(f"| {margins[1]} |") == 2
    assert f"the {sizing[0]['earlier_seeds']} earlier seeds' paired differences" in plan
    sd = [row["earlier_sd"] for row in sizing]
    assert f"(sd {sd[0]:.2f} dB, {sd[1]:.3f} and {sd[2]:.4f})" in plan
    needed = [row["seeds_needed"] for row in sizing]
    assert f"80% power with {needed[0]}, {needed[1]} and {needed[2]} seeds" in plan
    size = len(seed_statistics.PRIMARY)
    assert size == 3 and "at 1 - 0.05/3 for each measure, so the three hold together" in plan
    found = [seed_statistics.detectable(value, len(seeds), size) for value in sd]
    assert f"differences of {found[0]:.2f} dB, {found[1]:.3f} and {found[2]:.4f}" in plan
    shown = [
        seed_statistics.equivalence_power(value, len(seeds), margin, size)
        for value, margin in zip(sd, seed_statistics.PRIMARY.values())
    ]
    assert f"with probability {shown[0]:.2f}, {shown[1]:.2f} and {shown[2]:.2f}" in plan
    assert f"seeds {seeds[0]} to {seeds[-1]}, new, {len(seeds)} of each" in plan
    assert f"with {len(seeds)} seeds, the interval" in plan and f"runs {len(seeds)} seeds" in plan


def test_similarity_covers_every_pair_of_models_and_its_groups(study):
    seeds, models = len(study["seeds"]), len(study["settings"]["models"])
    pairs = study["similarity"]["pairs"]
    assert len(pairs) == (models * seeds) * (models * seeds - 1) // 2
    summary = study["similarity"]["summary"]
    assert (
        summary["plain-plain"]["pairs"]
        == summary["denoising-denoising"]["pairs"]
        == (seeds * (seeds - 1) // 2)
    )
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


# ---------------------------------------------------------------------------- code quality


def clustered(seed: int = 0):
    """Codes of three well separated classes and their labels."""
    generator = np.random.default_rng(seed)
    labels = np.repeat(np.arange(3), 30)
    return generator.normal(size=(90, 8)) * 0.1 + labels[:, None] * 5.0, labels


def quality(train_codes, train_labels, test_codes, test_labels) -> dict[str, float]:
    """code_quality with every test code embedded, its first two numbers as the map."""
    subset = np.arange(len(test_codes))
    return seed_scoring.code_quality(
        train_codes, train_labels, test_codes, test_labels, subset, test_codes[:, :2]
    )


def test_knn_and_linear_probe_are_perfect_on_separable_codes():
    codes, labels = clustered(0)
    test_codes, test_labels = clustered(1)
    scores = quality(codes, labels, test_codes, test_labels)
    assert scores["knn_accuracy"] == scores["linear_probe_accuracy"] == 1.0


def test_linear_probe_is_scored_on_the_test_codes_not_the_training_codes():
    """On codes without class information a probe fits its 12 training codes almost perfectly
    (8 dimensions) but is near chance (1/3) on 300 independent test codes."""
    generator = np.random.default_rng(2)
    train_codes, train_labels = generator.normal(size=(12, 8)), np.arange(12) % 3
    test_codes, test_labels = generator.normal(size=(300, 8)), np.arange(300) % 3
    own = quality(train_codes, train_labels, train_codes, train_labels)
    assert own["linear_probe_accuracy"] > 0.8
    assert (
        quality(train_codes, train_labels, test_codes, test_labels)["linear_probe_accuracy"] < 0.5
    )


def test_code_quality_is_high_for_separated_classes_and_low_for_shuffled_labels():
    codes, labels = clustered(0)
    test_codes, test_labels = clustered(1)
    subset = np.arange(0, 90, 2)
    good = seed_scoring.code_quality(
        codes, labels, test_codes, test_labels, subset, test_codes[subset, :2]
    )
    assert good["knn_accuracy"] == 1.0 and good["linear_probe_accuracy"] == 1.0
    assert good["code_silhouette"] > 0.9 and good["tsne_silhouette"] > 0.9
    assert 0.9 < good["trustworthiness"] <= 1.0
    shuffled_labels = np.random.default_rng(1).permutation(test_labels)
    bad = seed_scoring.code_quality(
        codes, labels, test_codes, shuffled_labels, subset, test_codes[subset, :2]
    )
    assert bad["knn_accuracy"] < 0.6 and bad["tsne_silhouette"] < 0.1
