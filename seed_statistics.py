"""The seed study's statistics: plain against denoising autoencoder over the seeds.

One table of measures (MEASURES) for the seed study and the report; one paired test per
measure (scipy.stats.ttest_rel on the per-seed differences, plain minus denoising, with the
95% confidence interval of the mean difference from the t distribution); Holm's correction
over all the measures tested together, which controls the chance of any false "better" at
ALPHA; one verdict rule on the corrected p-value; and summaries of how similar the codes of
two models are (linear CKA, 10-nearest-neighbour overlap), within and across the models.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy import stats

MEASURES = {  # key in seed_study.json: (label, higher is better, decimals)
    "test_mse_clean": ("test MSE on clean inputs", False, 4),
    "test_mse_noisy": ("test MSE on noisy inputs", False, 4),
    "live_code_units": ("live code units", True, 1),
    "knn_accuracy": ("5-NN accuracy", True, 3),
    "linear_probe_accuracy": ("linear-probe accuracy", True, 3),
    "code_silhouette": ("silhouette in code space", True, 3),
    "tsne_silhouette": ("silhouette in the t-SNE plane", True, 3),
    "trustworthiness": ("t-SNE trustworthiness", True, 3),
    "psnr_db": ("PSNR at noise {std:g} (dB)", True, 2),  # one value per noise level
    "code_stability": ("code stability at noise {std:g}", True, 3),  # one per noise level
}
LEVEL_SETTINGS = {"psnr_db": "noise_stds_psnr", "code_stability": "noise_stds_stability"}
ALPHA = 0.05
PLAIN, DENOISING = "autoencoder", "denoising_autoencoder"


def summary(values: list) -> dict:
    """Return the values with their mean and sample sd (lists of lists: per position)."""
    array = np.asarray(values, dtype=float)
    return {"values": values, "mean": array.mean(0).tolist(), "sd": array.std(0, ddof=1).tolist()}


def paired_test(first: list[float], second: list[float]) -> dict[str, float]:
    """Return the paired t-test of first - second: the mean difference, its sd, the 95%
    confidence interval of the mean, t and the two-sided p-value. Differences that are all
    equal give p 0 (or 1 if they are all 0) instead of scipy's NaN."""
    gaps = np.asarray(first, dtype=float) - np.asarray(second, dtype=float)
    mean, sd = float(gaps.mean()), float(gaps.std(ddof=1))
    if sd == 0:
        return {"mean": mean, "sd": 0.0, "ci95": [mean, mean],
                "t": math.copysign(math.inf, mean) if mean else 0.0, "p": 0.0 if mean else 1.0}
    result = stats.ttest_rel(first, second)
    interval = result.confidence_interval(0.95)
    return {"mean": mean, "sd": sd, "ci95": [float(interval.low), float(interval.high)],
            "t": float(result.statistic), "p": float(result.pvalue)}


def holm(p_values: list[float]) -> list[float]:
    """Return Holm's step-down adjusted p-values, in the order given."""
    order = np.argsort(p_values, kind="stable")
    count, adjusted, running = len(p_values), [0.0] * len(p_values), 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (count - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def verdict(mean: float, corrected_p: float, higher_is_better: bool) -> str:
    """Return the verdict on a paired difference plain - denoising at ALPHA (corrected p)."""
    if not corrected_p < ALPHA:
        return "no measurable difference"
    return "plain better" if (mean > 0) == higher_is_better else "denoising better"


def measure_rows(settings: dict, models: dict) -> list[tuple[str, str, int | None, float | None]]:
    """Return (key, label, level, noise std) of every compared measure present in `models`."""
    rows = []
    for key, (label, _, _) in MEASURES.items():
        if key not in models:
            continue
        if key in LEVEL_SETTINGS:
            rows += [(key, label.format(std=std), level, std)
                     for level, std in enumerate(settings[LEVEL_SETTINGS[key]]) if std > 0]
        else:
            rows.append((key, label, None, None))
    return rows


def values_of(model: dict, key: str, level: int | None) -> list[float]:
    """Return one model's per-seed values of a measure (one noise level if `level` is set)."""
    values = model[key]["values"]
    return [value[level] for value in values] if level is not None else list(values)


def compare(study: dict) -> list[dict]:
    """Return, per measure, the paired test of plain minus denoising over the seeds, how many
    seeds the plain model wins, Holm's corrected p over all measures, and the verdict."""
    plain, denoising = study[PLAIN], study[DENOISING]
    rows = []
    for key, label, level, std in measure_rows(study["settings"], plain):
        first, second = values_of(plain, key, level), values_of(denoising, key, level)
        higher = MEASURES[key][1]
        gaps = np.subtract(first, second)
        rows.append({"measure": key, "noise_std": std, "label": label,
                     "higher_is_better": higher, "seeds": len(gaps),
                     "plain_wins": int(((gaps > 0) if higher else (gaps < 0)).sum()),
                     **paired_test(first, second)})
    for row, corrected in zip(rows, holm([row["p"] for row in rows])):
        row["p_holm"] = corrected
        row["verdict"] = verdict(row["mean"], corrected, row["higher_is_better"])
    return rows


def pair_groups(pairs: list[dict]) -> dict[str, list[dict]]:
    """Return the pairs of models by group: within plain and within denoising (different
    seeds), across the two models with different seeds, and across with the same seed."""
    groups: dict[str, list[dict]] = {"plain-plain": [], "denoising-denoising": [],
                                     "plain-denoising": [], "plain-denoising, same seed": []}
    for pair in pairs:
        first, second = pair["models"]
        if first == second:
            groups["plain-plain" if first == PLAIN else "denoising-denoising"].append(pair)
        else:
            same = pair["seeds"][0] == pair["seeds"][1]
            groups["plain-denoising, same seed" if same else "plain-denoising"].append(pair)
    return groups


def similarity_summary(pairs: list[dict]) -> dict[str, dict]:
    """Return per pair group and similarity measure the number of pairs, mean, sd, min, max."""
    result = {}
    for group, members in pair_groups(pairs).items():
        result[group] = {"pairs": len(members)}
        for measure in ("cka", "knn_overlap"):
            values = np.array([pair[measure] for pair in members], dtype=float)
            result[group][measure] = {"mean": float(values.mean()),
                                      "sd": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                                      "min": float(values.min()), "max": float(values.max())}
    return result


def model_pairs(seeds: list[int]) -> list[tuple[tuple[str, int], tuple[str, int]]]:
    """Return every pair of (model, seed) among the plain and denoising models, each once."""
    models = [(model, seed) for model in (PLAIN, DENOISING) for seed in seeds]
    return list(itertools.combinations(models, 2))
