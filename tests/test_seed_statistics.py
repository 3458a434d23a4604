"""seed_study/statistics.py: the paired test, Holm's correction, the verdict rule and the summaries
of code similarity, on differences constructed to be significant and not, for any number of
models."""

import math

import numpy as np
import pytest
from scipy import stats

from seed_study import statistics as seed_statistics


def test_paired_test_is_scipys_ttest_rel_with_the_t_interval_of_the_mean():
    plain, denoising = [17.62, 17.39, 17.18, 17.67, 17.88], [17.51, 17.34, 17.21, 17.50, 17.60]
    result = seed_statistics.paired_test(plain, denoising)
    gaps = np.subtract(plain, denoising)
    assert result["p"] == pytest.approx(stats.ttest_rel(plain, denoising).pvalue)
    half = stats.t.ppf(0.975, 4) * gaps.std(ddof=1) / math.sqrt(5)
    assert result["ci95"] == pytest.approx([gaps.mean() - half, gaps.mean() + half])
    assert result["mean"] == pytest.approx(gaps.mean()) and result["sd"] == pytest.approx(
        gaps.std(ddof=1))


def test_differences_that_are_all_equal_give_p_0_or_1_not_nan():
    assert seed_statistics.paired_test([7, 8, 6], [6, 7, 5])["p"] == 0.0
    assert seed_statistics.paired_test([7, 8, 6], [7, 8, 6])["p"] == 1.0


def test_holm_multiplies_the_smallest_p_by_the_number_of_tests_and_keeps_the_order():
    assert seed_statistics.holm([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert seed_statistics.holm([0.02, 0.9]) == pytest.approx([0.04, 0.9])
    assert seed_statistics.holm([0.5, 0.9]) == [1.0, 1.0]  # capped at 1, never decreasing
    assert seed_statistics.holm([0.6, 0.7]) == [1.0, 1.0]


LABELS = ("plain", "denoising")


@pytest.mark.parametrize("mean, p, higher, expected", [
    (0.5, 0.01, True, "plain better"), (0.5, 0.01, False, "denoising better"),
    (-0.5, 0.01, True, "denoising better"), (-0.5, 0.01, False, "plain better"),
    (0.5, 0.05, True, "no measurable difference"), (0.5, math.nan, True,
                                                    "no measurable difference")])
def test_the_verdict_needs_a_corrected_p_below_005(mean, p, higher, expected):
    assert seed_statistics.verdict(mean, p, higher, LABELS) == expected


def study(plain: list[list[float]], denoising: list[list[float]]) -> dict:
    """A seed study of one PSNR-like measure at two noise levels (0 is left out)."""
    return {"settings": {"noise_stds_psnr": [0.0, 0.5, 1.0],
                         "models": {"autoencoder": {"label": "plain"},
                                    "denoising_autoencoder": {"label": "denoising"}}},
            "autoencoder": {"psnr_db": {"values": plain}},
            "denoising_autoencoder": {"psnr_db": {"values": denoising}}}


def test_compare_finds_a_consistent_gap_and_not_a_gap_within_the_noise():
    rng = np.random.default_rng(0)
    base = 17 + rng.normal(0, 0.3, size=(5, 3))
    plain = base.copy()
    plain[:, 2] -= 0.5 + rng.normal(0, 0.05, 5)  # loses 0.5 dB at noise 1 in every seed
    plain[:, 1] += rng.normal(0, 0.3, 5)  # noise 0.5: only seed noise
    comparison = seed_statistics.compare(study(plain.tolist(), base.tolist()), "autoencoder",
                                         "denoising_autoencoder")
    assert comparison["labels"] == ["plain", "denoising"]
    rows = comparison["rows"]
    assert [row["label"] for row in rows] == ["PSNR at noise 0.5 (dB)", "PSNR at noise 1 (dB)"]
    assert rows[0]["verdict"] == "no measurable difference"
    assert rows[1]["verdict"] == "denoising better" and rows[1]["first_wins"] == 0
    assert rows[1]["p_holm"] == pytest.approx(min(1.0, 2 * rows[1]["p"]))
    assert rows[1]["ci95"][1] < 0 < rows[0]["ci95"][1] and rows[0]["ci95"][0] < 0


def test_holm_can_turn_a_nominal_difference_into_no_measurable_one():
    """p = 0.03 alone passes 0.05; among 20 measures it does not."""
    assert seed_statistics.verdict(1.0, 0.03, True, LABELS) == "plain better"
    assert seed_statistics.verdict(1.0, seed_statistics.holm([0.03] + [0.5] * 19)[0],
                                   True, LABELS) == "no measurable difference"


def test_each_comparison_is_its_own_holm_family():
    """A third model's comparison adds no tests to the first one's correction."""
    two = study([[30.0, 17.0 + 0.1 * s, 17.0 + 0.05 * s] for s in range(4)],
                [[30.0, 17.0, 17.0]] * 4)
    third = [[30.0, 16.0 + 0.01 * s**2, 16.5 + 0.1 * s] for s in range(4)]
    three = {**two, "third": {"psnr_db": {"values": third}}}
    first = seed_statistics.compare(two, "autoencoder", "denoising_autoencoder")
    again = seed_statistics.compare(three, "autoencoder", "denoising_autoencoder")
    other = seed_statistics.compare(three, "denoising_autoencoder", "third")
    assert first == again and other["labels"] == ["denoising", "third"]  # no label: its key
    assert [row["p_holm"] for row in other["rows"]] == pytest.approx(
        seed_statistics.holm([row["p"] for row in other["rows"]]))
    assert other["rows"][0]["verdict"] == "denoising better"


def pairs_of(models: list[str], seeds: list[int]) -> list[dict]:
    """Pairs of (model, seed) with a CKA of 0.6 within a model and 0.5 across."""
    return [{"models": [a[0], b[0]], "seeds": [a[1], b[1]], "cka": 0.5 + 0.1 * (a[0] == b[0]),
             "knn_overlap": 0.3} for a, b in seed_statistics.model_pairs(models, seeds)]


def test_similarity_summary_keeps_same_seed_pairs_apart():
    labels = {"autoencoder": "plain", "denoising_autoencoder": "denoising"}
    pairs = pairs_of(list(labels), [0, 1, 2])
    summary = seed_statistics.similarity_summary(pairs, labels)
    assert {group: values["pairs"] for group, values in summary.items()} == {
        "plain-plain": 3, "plain-denoising": 6, "plain-denoising, same seed": 3,
        "denoising-denoising": 3}
    assert summary["plain-plain"]["cka"]["mean"] == pytest.approx(0.6)
    assert summary["plain-denoising"]["cka"] == pytest.approx(
        {"mean": 0.5, "sd": 0.0, "min": 0.5, "max": 0.5})
    assert len(pairs) == 15  # 6 models, each pair once


def test_similarity_summary_has_a_group_for_every_two_of_three_models():
    labels = {"a": "plain", "b": "denoising", "c": "linear"}
    summary = seed_statistics.similarity_summary(pairs_of(list(labels), [0, 1]), labels)
    assert list(summary) == ["plain-plain", "plain-denoising", "plain-denoising, same seed",
                             "plain-linear", "plain-linear, same seed", "denoising-denoising",
                             "denoising-linear", "denoising-linear, same seed", "linear-linear"]
    assert sum(group["pairs"] for group in summary.values()) == 6 * 5 // 2
