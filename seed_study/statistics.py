"""The seed study's statistics: pairs of models compared over the seeds.

One table of measures (MEASURES) for the seed study and the report; one paired test per
measure and pair of models (scipy.stats.ttest_rel on the per-seed differences, first minus
second model, with the 95% confidence interval of the mean difference from the t
distribution); Holm's correction over the measures of one pair, which controls the chance of
any false "better" in that comparison at ALPHA; one verdict rule on the corrected p-value;
and summaries of how similar the codes of two models are (linear CKA, 10-nearest-neighbour
overlap), within each model and across two. Models are named by their key in the study and
shown by their label (study["settings"]["models"][key]["label"]).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy import stats

MEASURES = {  # key in seed_study.json: (label, higher is better, decimals)
    "test_mse_clean": ("test MSE on clean inputs", False, 4),
    "test_mse_noisy": ("test MSE on noisy inputs", False, 4),
    "test_mse_masked": ("test MSE on masked pixels", False, 4),
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


def verdict(mean: float, corrected_p: float, higher_is_better: bool,
            labels: tuple[str, str]) -> str:
    """Return the verdict on a paired difference first - second at ALPHA (corrected p),
    naming the better model by its label."""
    if not corrected_p < ALPHA:
        return "no measurable difference"
    return f"{labels[0] if (mean > 0) == higher_is_better else labels[1]} better"


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


def labels_of(study: dict, models: list[str]) -> tuple[str, ...]:
    """Return the labels of the study's models (their keys where a label is missing)."""
    known = study["settings"].get("models", {})
    return tuple(known.get(model, {}).get("label", model) for model in models)


def compare(study: dict, first: str, second: str) -> dict:
    """Return the comparison of two of the study's models: per measure the paired test of
    first minus second over the seeds, how many seeds the first model wins, Holm's corrected
    p over this comparison's measures (its own family), and the verdict."""
    labels = labels_of(study, [first, second])
    rows = []
    for key, label, level, std in measure_rows(study["settings"], study[first]):
        one, other = values_of(study[first], key, level), values_of(study[second], key, level)
        higher = MEASURES[key][1]
        gaps = np.subtract(one, other)
        rows.append({"measure": key, "noise_std": std, "label": label,
                     "higher_is_better": higher, "seeds": len(gaps),
                     "first_wins": int(((gaps > 0) if higher else (gaps < 0)).sum()),
                     **paired_test(one, other)})
    for row, corrected in zip(rows, holm([row["p"] for row in rows])):
        row["p_holm"] = corrected
        row["verdict"] = verdict(row["mean"], corrected, row["higher_is_better"], labels)
    return {"models": [first, second], "labels": list(labels), "rows": rows}


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
