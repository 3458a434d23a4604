"""seed_study/statistics.py: the exact sign-flip test and its simultaneous interval, the t-test
beside it, the margins, the verdict rule, the family and its curves, and the summaries of code
similarity, on differences constructed to be significant, equivalent and neither, for any
number of models; and the proof that they re-make seed_study.json from its per-seed values."""

import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import provenance
from seed_study import statistics as seed_statistics
from seed_study import study as study_module

RNG = np.random.default_rng(0)
ROOT = Path(__file__).resolve().parents[1]


def test_the_statistics_re_make_seed_study_json_to_the_byte_from_its_per_seed_values():
    """Every summary, comparison and similarity summary of the committed seed_study.json, made
    again from its per-seed values, restarts and code similarities, with notes.json as "notes"."""
    text = (ROOT / "seed_study.json").read_text(encoding="utf-8")
    committed = json.loads(text)
    study = {
        "seeds": committed["seeds"],
        "settings": committed["settings"],
        "notes": json.loads(study_module.NOTES_FILE.read_text(encoding="utf-8")),
    }
    for name in committed["settings"]["models"]:
        values = {key: summary["values"] for key, summary in committed[name].items()}
        study[name] = seed_statistics.summaries(
            [
                {key: per_seed[index] for key, per_seed in values.items()}
                for index in range(len(committed["seeds"]))
            ]
        )
    study["restarts"] = committed["restarts"]
    comparisons = [entry["models"] for entry in committed["comparisons"]]
    remade = study_module.compared(study, comparisons, committed["similarity"]["pairs"])
    assert json.loads(provenance.json_text(remade)) == committed
    assert provenance.json_text(remade) == text


def brute_force_p(gaps: np.ndarray) -> float:
    """The sign-flip p counted over every sign pattern, without scipy."""
    observed = abs(gaps.sum())
    patterns = np.array(list(itertools.product([1, -1], repeat=len(gaps))))
    return float(np.mean(np.abs(patterns @ gaps) >= observed - 1e-12))


@pytest.mark.parametrize("seed", range(5))
def test_the_sign_flip_p_counts_every_sign_pattern(seed):
    gaps = np.random.default_rng(seed).normal(0.4, 1.0, 10)
    assert seed_statistics.sign_flip_p(gaps) == pytest.approx(brute_force_p(gaps))


def test_ten_seeds_that_agree_reach_p_2_of_1024_and_five_cannot_go_below_1_in_16():
    assert seed_statistics.sign_flip_p(np.linspace(0.1, 1.0, 10)) == pytest.approx(2 / 1024)
    assert seed_statistics.sign_flip_p(np.linspace(0.1, 1.0, 5)) == pytest.approx(2 / 32)
    assert seed_statistics.sign_flip_p(np.zeros(10)) == 1.0


@pytest.mark.parametrize("family", [10, 6, 1])
def test_the_interval_holds_what_the_test_does_not_reject(family):
    """0 lies outside the 1 - alpha/k interval exactly when the test's p is below alpha/k,
    and the interval's ends are where the test of a shifted mean starts to reject."""
    alpha = seed_statistics.ALPHA / family
    for _ in range(40):
        gaps = RNG.normal(RNG.uniform(0, 1.5), 1.0, 10)
        low, high = seed_statistics.sign_flip_interval(gaps, alpha)
        assert low <= gaps.mean() <= high
        assert (seed_statistics.sign_flip_p(gaps) < alpha) == (low > 0 or high < 0)
        for end, step in ((low, -1e-9), (high, 1e-9)):
            assert seed_statistics.sign_flip_p(gaps - end - step) < alpha
            assert seed_statistics.sign_flip_p(gaps - end + step) >= alpha


def test_an_interval_the_seeds_cannot_reach_is_unbounded_and_too_many_seeds_are_refused():
    assert seed_statistics.sign_flip_interval(np.ones(5), 0.005) == [-math.inf, math.inf]
    with pytest.raises(ValueError, match="at most 20 seeds"):
        seed_statistics.sign_flip_interval(np.ones(21), 0.05)


def test_the_t_test_beside_it_is_scipys_and_gives_no_nan():
    gaps = np.array([0.11, 0.05, -0.03, 0.17, 0.28])
    assert seed_statistics.t_test_p(gaps) == pytest.approx(stats.ttest_1samp(gaps, 0).pvalue)
    assert seed_statistics.t_test_p(np.full(4, 0.5)) == 0.0
    assert seed_statistics.t_test_p(np.zeros(4)) == 1.0


LABELS = ("plain", "denoising")
HIGHER = seed_statistics.Measure("x", True, 3, 0.01)
LOWER = seed_statistics.Measure("y", False, 3, 0.01)


@pytest.mark.parametrize(
    "interval, measure, expected",
    [
        ([0.02, 0.05], HIGHER, "plain better"),
        ([0.02, 0.05], LOWER, "denoising better"),
        ([-0.05, -0.02], HIGHER, "denoising better"),
        ([-0.05, -0.02], LOWER, "plain better"),
        ([0.001, 0.004], HIGHER, "plain better, by less than 0.010"),
        ([-0.004, 0.006], HIGHER, "equivalent within ±0.010"),
        ([-0.004, 0.02], HIGHER, "inconclusive"),
        ([-math.inf, math.inf], HIGHER, "inconclusive"),
    ],
)
def test_the_verdict_reads_the_interval_against_0_and_the_margin(interval, measure, expected):
    assert seed_statistics.verdict(interval, 0.01, measure, LABELS) == expected


def test_a_relative_margin_is_a_share_of_the_first_model_s_mean():
    mse = seed_statistics.MEASURES["test_mse_clean"]
    row = seed_statistics.paired_row([0.07, 0.07], [0.06, 0.08], mse, 1, LABELS)
    assert row["margin"] == pytest.approx(0.0035)
    assert seed_statistics.paired_row([5.0, 5.0], [4.0, 4.5], HIGHER, 1, LABELS)["margin"] == 0.01


def study(plain: list[list[float]], denoising: list[list[float]]) -> dict:
    """A seed study of the code stability at three noise levels and one accuracy."""
    seeds = len(plain)
    return {
        "settings": {
            "noise_stds_stability": [0.1, 0.5, 1.0],
            "test_noise_std": 0.5,
            "models": {
                "autoencoder": {"label": "plain"},
                "denoising_autoencoder": {"label": "denoising"},
            },
        },
        "autoencoder": {
            "code_stability": {"values": plain},
            "knn_accuracy": {"values": [0.8] * seeds},
        },
        "denoising_autoencoder": {
            "code_stability": {"values": denoising},
            "knn_accuracy": {"values": [0.8 + 0.001 * (s % 3 - 1) for s in range(seeds)]},
        },
    }


def test_compare_puts_each_quantity_once_in_the_family_and_the_curve_apart():
    base = 0.9 + RNG.normal(0, 0.01, size=(10, 3))
    plain = base.copy()
    plain[:, 2] -= 0.05 + RNG.normal(0, 0.005, 10)  # less stable at noise 1 in every seed
    plain[:, 1] += RNG.normal(0, 0.02, 10)  # at the training noise: only seed noise
    comparison = seed_statistics.compare(
        study(plain.tolist(), base.tolist()), "autoencoder", "denoising_autoencoder"
    )
    assert comparison["labels"] == ["plain", "denoising"]
    rows = {row["label"]: row for row in comparison["rows"]}
    assert list(rows) == ["5-NN accuracy", "code stability at noise 0.5"]
    assert rows["5-NN accuracy"]["verdict"] == "equivalent within ±0.010"
    assert rows["code stability at noise 0.5"]["verdict"] == "inconclusive"
    assert all(row["interval_level"] == pytest.approx(0.975) for row in rows.values())
    assert curve_and_family_disjoint(comparison)
    curve = comparison["curves"]["code_stability"]
    assert [row["noise_std"] for row in curve] == [0.1, 1.0]  # 0.5: in the family
    assert curve[1]["verdict"] == "denoising better" and curve[1]["first_wins"] == 0
    assert curve[1]["p_adjusted"] == pytest.approx(2 * curve[1]["p"])
    assert curve[1]["t_test_p_adjusted"] == pytest.approx(min(1, 2 * curve[1]["t_test_p"]))


def test_the_classes_are_a_family_of_their_own_labelled_by_class():
    """Ten classes, one per row, tested together (Bonferroni over 10) and in no other family;
    a class kept better in every seed by 0.2 is found, one that differs by seed noise is not."""
    classes = [f"class {index}" for index in range(10)]
    plain = 0.6 + RNG.normal(0, 0.02, size=(10, 10))
    denoising = plain + RNG.normal(0, 0.02, size=(10, 10))
    denoising[:, 3] = plain[:, 3] - 0.2 - RNG.normal(0, 0.01, 10)
    document = study([[0.9, 0.9, 0.9]] * 10, [[0.9, 0.9, 0.9]] * 10)
    document["settings"]["map_classes"] = classes
    document["autoencoder"]["map_class_share"] = {"values": plain.tolist()}
    document["denoising_autoencoder"]["map_class_share"] = {"values": denoising.tolist()}
    comparison = seed_statistics.compare(document, "autoencoder", "denoising_autoencoder")
    rows = comparison["classes"]["map_class_share"]
    assert [row["label"] for row in rows] == classes
    assert "map_class_share" not in comparison["curves"]
    assert all(row["measure"] != "map_class_share" for row in comparison["rows"])
    assert all(row["interval_level"] == pytest.approx(1 - 0.05 / 10) for row in rows)
    assert rows[3]["verdict"] == "plain better" and rows[3]["first_wins"] == 10
    assert all(row["verdict"] != "plain better" for index, row in enumerate(rows) if index != 3)


def curve_and_family_disjoint(comparison: dict) -> bool:
    """Whether no quantity and noise level is tested in two families."""
    tested = [(row["measure"], row["noise_std"]) for row in comparison["rows"]] + [
        (row["measure"], row["noise_std"]) for rows in comparison["curves"].values() for row in rows
    ]
    return len(tested) == len(set(tested))


def test_each_comparison_is_its_own_family():
    """A third model's comparison adds no tests to the first one's family."""
    two = study([[0.9, 0.9 + 0.01 * s, 0.8] for s in range(10)], [[0.9, 0.9, 0.9]] * 10)
    third = {
        "code_stability": {"values": [[0.9, 0.7 + 0.01 * s, 0.7] for s in range(10)]},
        "knn_accuracy": {"values": [0.7] * 10},
    }
    three = {**two, "third": third}
    first = seed_statistics.compare(two, "autoencoder", "denoising_autoencoder")
    again = seed_statistics.compare(three, "autoencoder", "denoising_autoencoder")
    other = seed_statistics.compare(three, "denoising_autoencoder", "third")
    assert first == again and other["labels"] == ["denoising", "third"]  # no label: its key
    assert other["rows"][0]["verdict"] == "denoising better"


def pairs_of(models: list[str], seeds: list[int]) -> list[dict]:
    """Pairs of (model, seed) with a CKA of 0.6 within a model and 0.5 across."""
    return [
        {
            "models": [a[0], b[0]],
            "seeds": [a[1], b[1]],
            "cka": 0.5 + 0.1 * (a[0] == b[0]),
            "knn_overlap": 0.3,
        }
        for a, b in itertools.combinations([(m, s) for m in models for s in seeds], 2)
    ]


def test_similarity_summary_keeps_same_seed_pairs_apart():
    labels = {"autoencoder": "plain", "denoising_autoencoder": "denoising"}
    pairs = pairs_of(list(labels), [0, 1, 2])
    summary = seed_statistics.similarity_summary(pairs, labels)
    assert {group: values["pairs"] for group, values in summary.items()} == {
        "plain-plain": 3,
        "plain-denoising": 6,
        "plain-denoising, same seed": 3,
        "denoising-denoising": 3,
    }
    assert summary["plain-plain"]["cka"]["mean"] == pytest.approx(0.6)
    assert summary["plain-denoising"]["cka"] == pytest.approx(
        {"mean": 0.5, "sd": 0.0, "min": 0.5, "max": 0.5}
    )
    assert len(pairs) == 15  # 6 models, each pair once


def test_similarity_summary_has_a_group_for_every_two_of_three_models():
    labels = {"a": "plain", "b": "denoising", "c": "linear"}
    summary = seed_statistics.similarity_summary(pairs_of(list(labels), [0, 1]), labels)
    assert list(summary) == [
        "plain-plain",
        "plain-denoising",
        "plain-denoising, same seed",
        "plain-linear",
        "plain-linear, same seed",
        "denoising-denoising",
        "denoising-linear",
        "denoising-linear, same seed",
        "linear-linear",
    ]
    assert sum(group["pairs"] for group in summary.values()) == 6 * 5 // 2
