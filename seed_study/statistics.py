"""The seed study's statistics: pairs of models compared over the seeds.

One table of measures (MEASURES) for the seed study and the report, each with its equivalence
margin. A comparison of two models (first minus second) has four families of tests, each
quantity, noise level and class in one of them: every quantity once, at the training noise
where it depends on noise (family_rows); the two curves over the other noise levels, the PSNR
and the code stability, each a family of its own (curve_rows); and the share of each class
kept to itself in the t-SNE map, over the classes (class_rows). Per measure:
* the exact sign-flip test of the mean paired difference over the seeds (scipy's
  permutation_test over all 2^n sign patterns): no assumption of normality; with 10 seeds its
  smallest p is 2/1024;
* its simultaneous 95% interval over the family: each interval at 1 - ALPHA/k for k measures
  (Bonferroni), found by inverting the same test (the subset means of Hartigan, 1969); the
  verdict reads this interval: "better" where it excludes 0, "equivalent within ±m" where it
  lies inside the margin, both where both hold, "inconclusive" where neither does;
* the paired t-test (scipy.stats.ttest_rel) for reference, Bonferroni-adjusted: it assumes
  normal differences and carries no verdict.
And summaries of how similar the codes of two models are (linear CKA, 10-nearest-neighbour
overlap), within each model and across two. Models are named by their key in the study and
shown by their label (study["settings"]["models"][key]["label"]).
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
from scipy import stats


@dataclasses.dataclass(frozen=True)
class Measure:
    """A measure of the seed study: its label, whether higher is better, the decimals shown,
    its equivalence margin (a share of the first model's mean if `relative`), and for a
    curve the setting that lists its noise levels (or, `per_class`, its classes) and whether
    its value at the training noise belongs to the family."""

    label: str
    higher_is_better: bool
    decimals: int
    margin: float
    relative: bool = False
    levels: str | None = None
    in_family: bool = True
    per_class: bool = False


MEASURES = {  # key in seed_study.json: the measure. Margins: notes.json, "margins"
    "test_mse_clean": Measure("test MSE on clean inputs", False, 4, 0.05, relative=True),
    "test_mse_noisy": Measure("test MSE on noisy inputs", False, 4, 0.05, relative=True),
    "test_mse_masked": Measure("test MSE on masked pixels", False, 4, 0.05, relative=True),
    "live_code_units": Measure("live code units", True, 1, 1.0),
    "knn_accuracy": Measure("5-NN accuracy", True, 3, 0.01),
    "linear_probe_accuracy": Measure("linear-probe accuracy", True, 3, 0.01),
    "code_silhouette": Measure("silhouette in code space", True, 3, 0.05),
    "tsne_silhouette": Measure("silhouette in the t-SNE plane", True, 3, 0.05),
    "trustworthiness": Measure("t-SNE trustworthiness", True, 3, 0.005),
    # at the training noise the PSNR is the test MSE on noisy inputs, 10 log10(4 / MSE):
    # the family has that quantity once, as the MSE
    "psnr_db": Measure("PSNR at noise {std:g} (dB)", True, 2, 0.2, levels="noise_stds_psnr",
                       in_family=False),
    "code_stability": Measure("code stability at noise {std:g}", True, 3, 0.01,
                              levels="noise_stds_stability"),
    "map_class_share": Measure("{name}", True, 2, 0.05, levels="map_classes", in_family=False,
                               per_class=True),
}
ALPHA = 0.05
MAX_SEEDS = 20  # the exact test and its interval enumerate 2^n sign patterns and subsets


def summary(values: list) -> dict:
    """Return the values with their mean and sample sd (lists of lists: per position)."""
    array = np.asarray(values, dtype=float)
    return {"values": values, "mean": array.mean(0).tolist(), "sd": array.std(0, ddof=1).tolist()}


def sign_flip_p(gaps: np.ndarray) -> float:
    """Return the two-sided p of the exact sign-flip test of mean(gaps) = 0 (every sign
    pattern; 1 where all gaps are 0)."""
    if not np.any(gaps):
        return 1.0
    result = stats.permutation_test((gaps,), np.mean, vectorized=True, n_resamples=np.inf,
                                    permutation_type="samples")
    return float(result.pvalue)


def sign_flip_interval(gaps: np.ndarray, alpha: float) -> list[float]:
    """Return the 1 - alpha interval of the mean difference that inverts the sign-flip test:
    the k-th smallest and k-th largest of the means of the 2^n - 1 non-empty subsets of the
    gaps, k = floor(alpha 2^n / 2) (Hartigan, 1969); (-inf, inf) where k is 0."""
    count = len(gaps)
    if count > MAX_SEEDS:
        raise ValueError(f"the exact sign-flip interval enumerates 2^{count} subsets: "
                         f"use at most {MAX_SEEDS} seeds")
    k = math.floor(alpha * 2**count / 2)
    if k == 0:
        return [-math.inf, math.inf]
    masks = (np.arange(1, 2**count)[:, None] >> np.arange(count)) & 1
    means = np.sort(masks @ gaps / masks.sum(1))
    return [float(means[k - 1]), float(means[-k])]


def t_test_p(gaps: np.ndarray) -> float:
    """Return the two-sided p of the paired t-test of mean(gaps) = 0 (0 or 1 where the gaps
    are all equal, instead of scipy's NaN)."""
    if np.ptp(gaps) == 0:
        return 1.0 if gaps[0] == 0 else 0.0
    return float(stats.ttest_1samp(gaps, 0.0).pvalue)


def margin_of(measure: Measure, first: list[float]) -> float:
    """Return a measure's equivalence margin (relative margins: of the first model's mean)."""
    return measure.margin * abs(float(np.mean(first))) if measure.relative else measure.margin


def verdict(interval: list[float], margin: float, measure: Measure,
            labels: tuple[str, str]) -> str:
    """Return the verdict that a simultaneous interval of first - second carries: the better
    model where it excludes 0, equivalence where it lies within ±margin."""
    low, high = interval
    within = -margin <= low and high <= margin
    shown = f"{margin:.{measure.decimals}f}"
    if low > 0 or high < 0:
        better = labels[0] if (low > 0) == measure.higher_is_better else labels[1]
        return f"{better} better, by less than {shown}" if within else f"{better} better"
    return f"equivalent within ±{shown}" if within else "inconclusive"


def paired_row(one: list[float], other: list[float], measure: Measure, family_size: int,
               labels: tuple[str, str]) -> dict:
    """Return one measure's comparison of first minus second over the seeds, in a family of
    `family_size` measures."""
    gaps = np.subtract(one, other, dtype=float)
    margin, level = margin_of(measure, one), 1 - ALPHA / family_size
    interval = sign_flip_interval(gaps, ALPHA / family_size)
    p, t_p = sign_flip_p(gaps), t_test_p(gaps)
    wins = (gaps > 0) if measure.higher_is_better else (gaps < 0)
    return {"higher_is_better": measure.higher_is_better, "seeds": len(gaps),
            "first_wins": int(wins.sum()), "mean": float(gaps.mean()),
            "sd": float(gaps.std(ddof=1)), "margin": margin, "interval": interval,
            "interval_level": level, "p": p, "p_adjusted": min(1.0, family_size * p),
            "t_test_p": t_p, "t_test_p_adjusted": min(1.0, family_size * t_p),
            "verdict": verdict(interval, margin, measure, labels)}


def family_rows(settings: dict, models: dict) -> list[tuple[str, str, int | None, float | None]]:
    """Return (key, label, level, noise std) of the family's measures present in `models`:
    every measure once, a curve at the training noise (settings["test_noise_std"])."""
    rows = []
    for key, measure in MEASURES.items():
        if key not in models or not measure.in_family:
            continue
        if measure.levels:
            std = settings["test_noise_std"]
            rows.append((key, measure.label.format(std=std),
                         settings[measure.levels].index(std), std))
        else:
            rows.append((key, measure.label, None, None))
    return rows


def curve_rows(settings: dict, key: str) -> list[tuple[str, str, int, float]]:
    """Return (key, label, level, noise std) of a curve's noise levels above 0 but the
    training noise, whose quantity the family holds (each quantity is tested once)."""
    measure = MEASURES[key]
    return [(key, measure.label.format(std=std), level, std)
            for level, std in enumerate(settings[measure.levels])
            if std > 0 and std != settings["test_noise_std"]]


def class_rows(settings: dict, key: str) -> list[tuple[str, str, int, None]]:
    """Return (key, label, level, None) of a per-class measure's classes, one row each."""
    return [(key, MEASURES[key].label.format(name=name), level, None)
            for level, name in enumerate(settings[MEASURES[key].levels])]


def values_of(model: dict, key: str, level: int | None) -> list[float]:
    """Return one model's per-seed values of a measure (one noise level if `level` is set)."""
    values = model[key]["values"]
    return [value[level] for value in values] if level is not None else list(values)


def labels_of(study: dict, models: list[str]) -> tuple[str, ...]:
    """Return the labels of the study's models (their keys where a label is missing)."""
    known = study["settings"].get("models", {})
    return tuple(known.get(model, {}).get("label", model) for model in models)


def compare_family(study: dict, first: str, second: str,
                   rows: list[tuple[str, str, int | None, float | None]]) -> list[dict]:
    """Return the paired comparison of first minus second of each of the rows, one family."""
    labels = labels_of(study, [first, second])
    return [{"measure": key, "noise_std": std, "label": label,
             **paired_row(values_of(study[first], key, level),
                          values_of(study[second], key, level), MEASURES[key], len(rows),
                          labels)}
            for key, label, level, std in rows]


def compare(study: dict, first: str, second: str) -> dict:
    """Return the comparison of two of the study's models: the family of every quantity
    once ("rows"), each curve over the noise levels as its own family ("curves") and each
    per-class measure over the classes as its own family ("classes")."""
    settings = study["settings"]
    present = {key: measure for key, measure in MEASURES.items()
               if measure.levels and key in study[first]}
    return {"models": [first, second], "labels": list(labels_of(study, [first, second])),
            "rows": compare_family(study, first, second, family_rows(settings, study[first])),
            "curves": {key: compare_family(study, first, second, curve_rows(settings, key))
                       for key, measure in present.items() if not measure.per_class},
            "classes": {key: compare_family(study, first, second, class_rows(settings, key))
                        for key, measure in present.items() if measure.per_class}}


def comparison_of(study: dict, models: tuple[str, str] | list[str] | None = None) -> dict:
    """Return the study's comparison of two models (the first comparison when not named)."""
    if models is None:
        return study["comparisons"][0]
    found = [entry for entry in study["comparisons"] if entry["models"] == list(models)]
    if not found:
        named = [" - ".join(entry["models"]) for entry in study["comparisons"]]
        raise KeyError(f"the seed study compares no {' - '.join(models)}: it has {named}")
    return found[0]


def group_name(labels: dict[str, str], first: tuple[str, int], second: tuple[str, int]) -> str:
    """Return the group of a pair of (model, seed): 'a-a' within a model, 'a-b' across two
    with different seeds, 'a-b, same seed' across two with the same seed."""
    name = f"{labels[first[0]]}-{labels[second[0]]}"
    return name + (", same seed" if first[0] != second[0] and first[1] == second[1] else "")


def model_pairs(models: list[str],
                seeds: list[int]) -> list[tuple[tuple[str, int], tuple[str, int]]]:
    """Return every pair of (model, seed) of the given models, each pair once."""
    return list(itertools.combinations([(model, seed) for model in models for seed in seeds], 2))


def pair_groups(pairs: list[dict], labels: dict[str, str]) -> dict[str, list[dict]]:
    """Return the pairs by group (group_name): within each model, then across each two models
    with different seeds and with the same seed, in the order of `labels`."""
    models = list(labels)
    groups: dict[str, list[dict]] = {}
    for index, first in enumerate(models):
        for second in models[index:]:
            groups[group_name(labels, (first, 0), (second, 1))] = []
            if first != second:
                groups[group_name(labels, (first, 0), (second, 0))] = []
    for pair in pairs:
        groups.setdefault(group_name(labels, *zip(pair["models"], pair["seeds"])), []).append(pair)
    return {name: members for name, members in groups.items() if members}


def similarity_summary(pairs: list[dict], labels: dict[str, str]) -> dict[str, dict]:
    """Return per pair group and similarity measure the number of pairs, mean, sd, min, max."""
    result = {}
    for group, members in pair_groups(pairs, labels).items():
        result[group] = {"pairs": len(members)}
        for measure in ("cka", "knn_overlap"):
            values = np.array([pair[measure] for pair in members], dtype=float)
            result[group][measure] = {"mean": float(values.mean()),
                                      "sd": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                                      "min": float(values.min()), "max": float(values.max())}
    return result
