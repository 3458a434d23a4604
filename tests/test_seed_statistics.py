"""seed_study/statistics.py: the exact sign-flip test and its interval over up to 44 seeds (meet
in the middle), the t-test beside it, the plan's families and margins, the verdict rule, the
dead-unit adjustment, the power that sized the study, and the summaries of code similarity, on
differences constructed to be significant, equivalent and neither; and the proof that they
re-make seed_study.json from its per-seed values."""

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
    """Every summary, comparison, sizing and test against PCA-8 of the committed seed_study.json,
    made again from its per-seed values, restarts, code similarities and PCA-8's scores."""
    text = (ROOT / "seed_study.json").read_text(encoding="utf-8")
    committed = json.loads(text)
    study = {key: committed[key] for key in ("plan", "pilot", "seeds", "settings")}
    study["notes"] = json.loads(study_module.NOTES_FILE.read_text(encoding="utf-8"))
    for name in committed["settings"]["models"]:
        values = {key: summary["values"] for key, summary in committed[name].items()}
        per_seed = [
            {key: v[index] for key, v in values.items()} for index in range(len(committed["seeds"]))
        ]
        study[name] = seed_statistics.summaries(per_seed)
    study["restarts"] = committed["restarts"]
    comparisons = [entry["models"] for entry in committed["comparisons"]]
    remade = study_module.compared(study, comparisons, committed["similarity"]["pairs"])
    earlier = [
        json.loads(path.read_text(encoding="utf-8"))
        for path in (study_module.PILOT_FILE, study_module.FIRST_STUDY_FILE)
    ]
    remade["sizing"] = seed_statistics.sizing(earlier, remade)
    remade["first_study"] = seed_statistics.comparison_of(earlier[1])["primary"]
    remade["pca_8"] = committed["pca_8"]
    models = committed["settings"]["models"]
    remade["against_pca_8"] = {
        m: seed_statistics.against(remade, m, committed["pca_8"], "PCA-8") for m in models
    }
    assert json.loads(provenance.json_text(remade)) == committed
    assert provenance.json_text(remade) == text


def brute_force_p(gaps: np.ndarray) -> float:
    """The sign-flip p counted over every sign pattern, without scipy."""
    observed = abs(gaps.sum())
    patterns = np.array(list(itertools.product([1, -1], repeat=len(gaps))))
    return float(np.mean(np.abs(patterns @ gaps) >= observed - 1e-12))


def brute_force_interval(gaps: np.ndarray, alpha: float) -> list[float]:
    """Hartigan's interval from every non-empty subset's mean, sorted."""
    count, k = len(gaps), math.floor(alpha * 2 ** len(gaps) / 2)
    masks = (np.arange(1, 2**count)[:, None] >> np.arange(count)) & 1
    means = np.sort(masks @ gaps / masks.sum(1))
    return [means[k - 1], means[-k]]


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("count", [7, 10, 13])
def test_the_sign_flip_p_and_interval_count_every_sign_pattern_and_subset(seed, count):
    gaps = np.random.default_rng(seed).normal(0.4, 1.0, count)
    exact = {"n_resamples": np.inf, "permutation_type": "samples"}
    scipy_p = stats.permutation_test((gaps,), np.mean, **exact).pvalue
    assert (
        seed_statistics.sign_flip_p(gaps)
        == pytest.approx(brute_force_p(gaps))
        == pytest.approx(scipy_p)
    )
    interval = seed_statistics.sign_flip_interval(gaps, 0.05 / 3)
    assert interval == pytest.approx(brute_force_interval(gaps, 0.05 / 3), abs=1e-9)


def test_thirty_seeds_that_agree_reach_p_2_of_2_to_the_30_and_zeros_give_1():
    assert seed_statistics.sign_flip_p(np.linspace(0.1, 1.0, 30)) == pytest.approx(2 / 2**30)
    assert seed_statistics.sign_flip_p(np.linspace(0.1, 1.0, 5)) == pytest.approx(2 / 32)
    assert seed_statistics.sign_flip_p(np.zeros(30)) == 1.0


@pytest.mark.parametrize("count, family", [(10, 10), (20, 3), (30, 3), (30, 1)])
def test_the_interval_holds_what_the_test_does_not_reject(count, family):
    """0 lies outside the 1 - alpha/k interval exactly when the test's p is below alpha/k, and
    the interval's ends are where the test of a shifted mean starts to reject."""
    alpha = seed_statistics.ALPHA / family
    for _ in range(6):
        gaps = RNG.normal(RNG.uniform(0, 1.0), 1.0, count)
        low, high = seed_statistics.sign_flip_interval(gaps, alpha)
        assert low <= gaps.mean() <= high
        assert (seed_statistics.sign_flip_p(gaps) < alpha) == (low > 0 or high < 0)
        for end, step in ((low, -1e-6), (high, 1e-6)):
            assert seed_statistics.sign_flip_p(gaps - end - step) < alpha
            assert seed_statistics.sign_flip_p(gaps - end + step) >= alpha


def test_an_interval_the_seeds_cannot_reach_is_unbounded_and_too_many_seeds_are_refused():
    assert seed_statistics.sign_flip_interval(np.ones(5), 0.005) == [-math.inf, math.inf]
    assert seed_statistics.sign_flip_interval(np.full(12, 0.5), 0.05) == [0.5, 0.5]
    with pytest.raises(ValueError, match="at most 44"):
        seed_statistics.sign_flip_p(np.arange(1.0, 46.0))


def test_the_t_test_beside_it_is_scipys_and_gives_no_nan():
    gaps = np.array([0.11, 0.05, -0.03, 0.17, 0.28])
    assert seed_statistics.t_test_p(gaps) == pytest.approx(stats.ttest_1samp(gaps, 0).pvalue)
    assert seed_statistics.t_test_p(np.full(4, 0.5)) == 0.0
    assert seed_statistics.t_test_p(np.zeros(4)) == 1.0


LABELS = ("plain", "denoising")
HIGHER = seed_statistics.Measure("x", True, 3)
LOWER = seed_statistics.Measure("y", False, 3)


@pytest.mark.parametrize(
    "interval, measure, margin, expected",
    [
        ([0.02, 0.05], HIGHER, 0.01, "plain better"),
        ([0.02, 0.05], LOWER, 0.01, "denoising better"),
        ([-0.05, -0.02], HIGHER, 0.01, "denoising better"),
        ([-0.05, -0.02], LOWER, None, "plain better"),
        ([0.001, 0.004], HIGHER, 0.01, "plain better, by less than the margin"),
        ([-0.004, 0.006], HIGHER, 0.01, "equivalent within ±0.01"),
        ([-0.004, 0.02], HIGHER, 0.01, "inconclusive"),
        ([-0.004, 0.006], HIGHER, None, "no difference shown"),
        ([-math.inf, math.inf], HIGHER, 0.01, "inconclusive"),
    ],
)
def test_the_verdict_reads_the_interval_against_0_and_the_margin(
    interval, measure, margin, expected
):
    assert seed_statistics.verdict(interval, margin, measure, LABELS) == expected


def test_a_row_counts_wins_ties_and_losses_and_adjusts_for_its_family():
    row = seed_statistics.paired_row([3, 2, 2, 1, 5], [1, 2, 3, 0, 4], HIGHER, 4, LABELS, None)
    assert (row["first_wins"], row["ties"], row["second_wins"]) == (3, 1, 1)
    assert row["p_adjusted"] == pytest.approx(min(1, 4 * row["p"]))
    assert row["interval_level"] == pytest.approx(1 - 0.05 / 4)
    mse = seed_statistics.paired_row([0.07, 0.06], [0.08, 0.07], LOWER, 1, LABELS, None)
    assert (mse["first_wins"], mse["second_wins"]) == (2, 0)  # lower is better


def study(plain: list, denoising: list, live: tuple = (None, None)) -> dict:
    """A seed study of the code stability at three noise levels, the probe and the live units."""
    seeds = len(plain)
    live_plain, live_denoising = (units or [6] * seeds for units in live)
    model = lambda stability, probe, units: {
        "code_stability": {"values": stability},
        "linear_probe_accuracy": {"values": probe},
        "live_code_units": {"values": units},
    }
    return {
        "settings": {
            "noise_stds_stability": [0.1, 0.5, 1.0],
            "test_noise_std": 0.5,
            "models": {
                "autoencoder": {"label": "plain"},
                "denoising_autoencoder": {"label": "denoising"},
            },
        },
        "autoencoder": model(plain, [0.75] * seeds, live_plain),
        "denoising_autoencoder": model(
            denoising, [0.75 + 0.001 * (s % 3 - 1) for s in range(seeds)], live_denoising
        ),
    }


def test_compare_follows_the_plan_primary_with_margins_secondary_without_curves_apart():
    base = 0.9 + RNG.normal(0, 0.005, size=(12, 3))
    plain = base.copy()
    plain[:, 1] -= 0.05 + RNG.normal(0, 0.005, 12)  # less stable at the training noise, every seed
    comparison = seed_statistics.compare(
        study(plain.tolist(), base.tolist()), "autoencoder", "denoising_autoencoder"
    )
    assert comparison["labels"] == ["plain", "denoising"]
    primary = {row["label"]: row for row in comparison["primary"]}
    assert list(primary) == ["linear-probe accuracy", "code stability at noise 0.5"]  # no PSNR
    assert primary["linear-probe accuracy"]["verdict"] == "equivalent within ±0.02"
    assert primary["code stability at noise 0.5"]["verdict"] == "denoising better"
    assert all(row["interval_level"] == pytest.approx(1 - 0.05 / 2) for row in primary.values())
    assert [row["label"] for row in comparison["secondary"]] == ["live code units"]
    assert comparison["secondary"][0]["margin"] is None
    curve = comparison["curves"]["code_stability"]
    assert [row["level"] for row in curve] == [0.1, 0.5, 1.0]  # every level, its own family
    assert all(row["interval_level"] == pytest.approx(1 - 0.05 / 3) for row in curve)


def test_the_live_units_explain_what_they_make_and_the_adjusted_difference_removes_it():
    """Probe accuracy made by the live units alone: R^2 near 1, and a paired difference that is
    all live units adjusts to about 0; a difference beside the units survives the adjustment."""
    units = RNG.integers(3, 9, size=(2, 16))
    document = study(
        [[0.9] * 3] * 16, [[0.9] * 3] * 16, live=(units[0].tolist(), units[1].tolist())
    )
    for model, row in zip(("autoencoder", "denoising_autoencoder"), units):
        document[model]["linear_probe_accuracy"]["values"] = (
            0.6 + 0.02 * row + RNG.normal(0, 1e-3, 16)
        ).tolist()
    made = seed_statistics.live_unit_adjusted(
        document, ("autoencoder", "denoising_autoencoder"), "linear_probe_accuracy", None
    )
    assert min(made["r_squared"]) > 0.95 and made["slope"] == pytest.approx(0.02, abs=2e-3)
    assert abs(made["adjusted_mean"]) < 2e-3
    document["autoencoder"]["linear_probe_accuracy"]["values"] = [
        v + 0.05 for v in document["autoencoder"]["linear_probe_accuracy"]["values"]
    ]
    shifted = seed_statistics.live_unit_adjusted(
        document, ("autoencoder", "denoising_autoencoder"), "linear_probe_accuracy", None
    )
    assert (
        shifted["adjusted_mean"] == pytest.approx(0.05, abs=2e-3)
        and shifted["verdict"] == "plain better"
    )


def test_the_same_live_units_in_every_seed_leave_the_difference_unadjusted():
    document = study([[0.9] * 3] * 8, [[0.9] * 3] * 8, live=([8] * 8, [8] * 8))
    made = seed_statistics.live_unit_adjusted(
        document, ("autoencoder", "denoising_autoencoder"), "linear_probe_accuracy", None
    )
    gaps = np.subtract(
        *(
            document[m]["linear_probe_accuracy"]["values"]
            for m in ("autoencoder", "denoising_autoencoder")
        )
    )
    assert made["r_squared"] == [None, None] and made["adjusted_mean"] == pytest.approx(gaps.mean())


@pytest.mark.parametrize("sd, margin", [(0.5, 0.5), (0.029, 0.02), (0.0084, 0.02)])
def test_the_seeds_needed_reach_80_percent_power_and_one_fewer_does_not(sd, margin):
    """Against a simulation of the paired t-test at 0.05/3: the power at the seeds needed is
    0.8 or more, with one seed fewer below it (within the simulation's error)."""
    needed = seed_statistics.seeds_needed(sd, margin, 3)
    rng, critical = np.random.default_rng(1), lambda n: stats.t.ppf(1 - 0.05 / 6, n - 1)
    for seeds, side in ((needed, 1), (needed - 1, -1)):
        if seeds < 3:
            continue
        gaps = rng.normal(margin, sd, size=(20_000, seeds))
        t = gaps.mean(1) / (gaps.std(1, ddof=1) / math.sqrt(seeds))
        simulated = np.mean(np.abs(t) > critical(seeds))
        assert side * (simulated - 0.8) > -0.015
    assert seed_statistics.detectable(sd, needed, 3) <= margin


@pytest.mark.parametrize("sd, margin, seeds", [(0.34, 0.5, 8), (0.02, 0.02, 20), (0.02, 0.02, 12)])
def test_the_equivalence_power_is_the_simulated_share_of_intervals_within_the_margin(
    sd, margin, seeds
):
    """Against a simulation: with no true difference, the share of t intervals at 1 - 0.05/3
    that lie within +-margin."""
    gaps = np.random.default_rng(2).normal(0.0, sd, size=(40_000, seeds))
    half = stats.t.ppf(1 - 0.05 / 6, seeds - 1) * gaps.std(1, ddof=1) / math.sqrt(seeds)
    simulated = np.mean(np.abs(gaps.mean(1)) + half < margin)
    assert seed_statistics.equivalence_power(sd, seeds, margin, 3) == pytest.approx(
        simulated, abs=0.01
    )


def test_one_model_against_a_reference_value_is_a_one_sample_family():
    document = study([[0.9] * 3] * 10, [[0.9] * 3] * 10)
    document["autoencoder"]["linear_probe_accuracy"]["values"] = [
        0.75 + 0.001 * s for s in range(10)
    ]
    rows = seed_statistics.against(
        document, "autoencoder", {"linear_probe_accuracy": 0.70, "knn_accuracy": 0.7}, "PCA-8"
    )
    assert [row["label"] for row in rows] == ["linear-probe accuracy"]  # the model has no 5-NN
    assert rows[0]["verdict"] == "plain better" and rows[0]["first_wins"] == 10
    assert rows[0]["mean"] == pytest.approx(0.0545)


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


def test_without_restarts_drops_every_pair_with_a_restart_and_tests_where_they_fall():
    """The primary family over the pairs in which neither model restarted; the pairs with one
    restart go to an exact binomial test (3 of 3 on one model: p 0.25)."""
    document = study([[0.9] * 3] * 10, [[0.9] * 3] * 10)
    for name, shift in (("autoencoder", 0.0), ("denoising_autoencoder", 0.01)):
        document[name]["linear_probe_accuracy"]["values"] = [
            0.7 + shift + 0.001 * s for s in range(10)
        ]
    restarts = {"autoencoder": [[]] * 10, "denoising_autoencoder": [[]] * 10}
    restarts["denoising_autoencoder"] = [["collapsed"] if s in (1, 4, 7) else [] for s in range(10)]
    restarts["autoencoder"] = [["collapsed"] if s == 7 else [] for s in range(10)]
    document["restarts"] = restarts
    kept = seed_statistics.without_restarts(document, ("autoencoder", "denoising_autoencoder"))
    assert kept["restarted"] == [1, 3] and kept["pairs_kept"] == 7
    assert kept["one_restarted_p"] == pytest.approx(0.5)  # 2 of 2 pairs with one restart
    [probe] = [row for row in kept["primary"] if row["measure"] == "linear_probe_accuracy"]
    assert probe["seeds"] == 7 and probe["mean"] == pytest.approx(-0.01)
    del document["restarts"]
    unrestarted = seed_statistics.without_restarts(
        document, ("autoencoder", "denoising_autoencoder")
    )
    assert unrestarted["pairs_kept"] == 10 and unrestarted["one_restarted_p"] == 1.0


def test_the_lost_variance_ratio_is_the_geometric_mean_of_the_seeds_ratios():
    document = study([[0.9] * 3] * 10, [[0.9] * 3] * 10)
    levels = document["settings"]["noise_stds_stability"]
    plain = [0.02 * (1 + 0.1 * (s - 4.5) / 4.5) for s in range(10)]
    ratios = [0.5 * math.exp(0.1 * (-1) ** s) for s in range(10)]  # geometric mean 0.5
    for name, lost in (
        ("autoencoder", plain),
        ("denoising_autoencoder", np.multiply(plain, ratios)),
    ):
        document[name]["code_stability"] = {"values": [[1 - v] * len(levels) for v in lost]}
    made = seed_statistics.lost_variance_ratio(
        document, ("autoencoder", "denoising_autoencoder"), levels[0]
    )
    assert made["ratio"] == pytest.approx(0.5) and made["below_1"] == 10
    assert made["interval"][0] < 0.5 < made["interval"][1] < 0.5 * math.exp(0.1)
