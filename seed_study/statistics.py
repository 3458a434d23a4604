"""The seed study's statistics: paired tests of two models over the seeds, and code similarity."""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
from scipy import stats


@dataclasses.dataclass(frozen=True)
class Measure:
    """A measure: its label, direction, decimals shown, margin and, for a curve, its levels."""

    label: str
    higher_is_better: bool
    decimals: int
    margin: float
    relative: bool = False  # the margin is a share of the first model's mean
    levels: str | None = None  # the setting that lists a curve's noise levels or classes
    in_family: bool = True  # a curve's value at the training noise is tested in "rows"
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
    # at the training noise the PSNR is 10 log10(4 / test MSE on noisy inputs): tested as that
    "psnr_db": Measure("PSNR at noise {std:g} (dB)", True, 2, 0.2, False, "noise_stds_psnr", False),
    "code_stability": Measure(
        "code stability at noise {std:g}", True, 3, 0.01, levels="noise_stds_stability"
    ),
    "map_class_share": Measure("{name}", True, 2, 0.05, False, "map_classes", False, True),
}
ALPHA = 0.05
MAX_SEEDS = 20  # the exact interval enumerates 2^n subsets


def summaries(per_seed: list[dict]) -> dict[str, dict]:
    """Return per measure the seeds' values with their mean and sample sd (per level)."""
    result = {}
    for key in [key for key in MEASURES if key in per_seed[0]]:
        values = [scores[key] for scores in per_seed]
        array = np.asarray(values, dtype=float)
        mean, sd = array.mean(0).tolist(), array.std(0, ddof=1).tolist()
        result[key] = {"values": values, "mean": mean, "sd": sd}
    return result


def sign_flip_p(gaps: np.ndarray) -> float:
    """Return the two-sided p of the exact sign-flip test of mean(gaps) = 0 (1 if all are 0)."""
    if not np.any(gaps):
        return 1.0
    exact = {"n_resamples": np.inf, "permutation_type": "samples", "vectorized": True}
    return float(stats.permutation_test((gaps,), np.mean, **exact).pvalue)


def sign_flip_interval(gaps: np.ndarray, alpha: float) -> list[float]:
    """Return the 1 - alpha interval that inverts the sign-flip test (Hartigan's subset means)."""
    count = len(gaps)
    if count > MAX_SEEDS:
        raise ValueError(f"the interval enumerates 2^{count} subsets: at most {MAX_SEEDS} seeds")
    k = math.floor(alpha * 2**count / 2)  # the k-th smallest and largest of 2^n - 1 means
    if k == 0:
        return [-math.inf, math.inf]
    masks = (np.arange(1, 2**count)[:, None] >> np.arange(count)) & 1
    means = np.sort(masks @ gaps / masks.sum(1))
    return [float(means[k - 1]), float(means[-k])]


def t_test_p(gaps: np.ndarray) -> float:
    """Return the two-sided p of the paired t-test (0 or 1 for equal gaps, not scipy's NaN)."""
    if np.ptp(gaps) == 0:
        return 1.0 if gaps[0] == 0 else 0.0
    return float(stats.ttest_1samp(gaps, 0.0).pvalue)


def verdict(interval: list[float], margin: float, measure: Measure, labels: tuple[str, str]) -> str:
    """Return what an interval of first - second says: who is better, equivalence, or neither."""
    low, high = interval
    within = -margin <= low and high <= margin
    shown = f"{margin:.{measure.decimals}f}"
    if low > 0 or high < 0:
        better = labels[0] if (low > 0) == measure.higher_is_better else labels[1]
        return f"{better} better, by less than {shown}" if within else f"{better} better"
    return f"equivalent within ±{shown}" if within else "inconclusive"


def paired_row(one: list, other: list, measure: Measure, family: int, labels: tuple) -> dict:
    """Return one measure's test of first minus second over the seeds, in a family of that size."""
    gaps = np.subtract(one, other, dtype=float)
    margin = measure.margin * abs(float(np.mean(one))) if measure.relative else measure.margin
    interval = sign_flip_interval(gaps, ALPHA / family)
    p, t_p = sign_flip_p(gaps), t_test_p(gaps)
    wins = (gaps > 0) if measure.higher_is_better else (gaps < 0)
    return {
        "higher_is_better": measure.higher_is_better,
        "seeds": len(gaps),
        "first_wins": int(wins.sum()),
        "mean": float(gaps.mean()),
        "sd": float(gaps.std(ddof=1)),
        "margin": margin,
        "interval": interval,
        "interval_level": 1 - ALPHA / family,
        "p": p,
        "p_adjusted": min(1.0, family * p),
        "t_test_p": t_p,
        "t_test_p_adjusted": min(1.0, family * t_p),
        "verdict": verdict(interval, margin, measure, labels),
    }


def family_rows(settings: dict, present: dict) -> list[tuple[str, int | None]]:
    """Return the family's (measure, level): each quantity once, a curve at the training noise."""
    rows = [(key, m) for key, m in MEASURES.items() if key in present and m.in_family]
    std = settings.get("test_noise_std")
    return [(key, settings[m.levels].index(std) if m.levels else None) for key, m in rows]


def level_rows(settings: dict, key: str) -> list[tuple[str, int]]:
    """Return (measure, level) per class, or per noise level except 0 and the training noise."""
    measure, std = MEASURES[key], settings.get("test_noise_std")
    levels = enumerate(settings[measure.levels])
    return [(key, level) for level, value in levels if measure.per_class or value not in (0, std)]


def described(settings: dict, key: str, level: int | None) -> dict:
    """Return a tested row's measure, noise std (None for a class) and label."""
    measure = MEASURES[key]
    value = None if level is None else settings[measure.levels][level]
    std = None if measure.per_class else value
    return {"measure": key, "noise_std": std, "label": measure.label.format(std=value, name=value)}


def values_of(model: dict, key: str, level: int | None) -> list[float]:
    """Return one model's per-seed values of a measure (at one level if `level` is set)."""
    values = model[key]["values"]
    return list(values) if level is None else [value[level] for value in values]


def compare(study: dict, first: str, second: str) -> dict:
    """Return the comparison of two of the study's models, family by family."""
    settings, known = study["settings"], study["settings"].get("models", {})
    labels = tuple(known.get(name, {}).get("label", name) for name in (first, second))

    def family(rows: list[tuple[str, int | None]]) -> list[dict]:
        tests = []
        for key, level in rows:
            one, other = (values_of(study[model], key, level) for model in (first, second))
            row = paired_row(one, other, MEASURES[key], len(rows), labels)
            tests.append(described(settings, key, level) | row)
        return tests

    curves, classes = {}, {}  # the families over a curve's noise levels or the classes
    for key, measure in MEASURES.items():
        if measure.levels and key in study[first]:
            families = classes if measure.per_class else curves
            families[key] = family(level_rows(settings, key))
    rows = family(family_rows(settings, study[first]))
    head = {"models": [first, second], "labels": list(labels)}
    return head | {"rows": rows, "curves": curves, "classes": classes}


def comparison_of(study: dict, models: tuple[str, str] | list[str] | None = None) -> dict:
    """Return the study's comparison of two models (the first comparison when not named)."""
    for entry in study["comparisons"]:
        if models is None or entry["models"] == list(models):
            return entry
    raise KeyError(f"the seed study compares no {' - '.join(models or [])}")


def similarity_summary(pairs: list[dict], labels: dict[str, str]) -> dict[str, dict]:
    """Return per group (in a model, across two, across two with one seed) the pairs' spread."""
    order = list(labels)

    def group(pair: dict) -> tuple[int, int, bool]:
        (one, other), (seed, other_seed) = pair["models"], pair["seeds"]
        return order.index(one), order.index(other), one != other and seed == other_seed

    result = {}
    for (one, other, same_seed), members in itertools.groupby(sorted(pairs, key=group), group):
        name = f"{labels[order[one]]}-{labels[order[other]]}" + (", same seed" if same_seed else "")
        members = list(members)
        result[name] = {"pairs": len(members)}
        for measure in ("cka", "knn_overlap"):
            values = np.array([pair[measure] for pair in members], dtype=float)
            sd = values.std(ddof=1) if len(values) > 1 else 0.0
            spread = {"mean": values.mean(), "sd": sd, "min": values.min(), "max": values.max()}
            result[name][measure] = {key: float(value) for key, value in spread.items()}
    return result
