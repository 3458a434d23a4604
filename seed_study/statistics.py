"""The seed study's statistics, as seed_study/PLAN.md declares them: the primary family with its
margins, the secondary and exploratory rows, exact sign-flip tests and intervals over any number
of seeds up to 44, the dead-unit lottery, the power that sized the study, and code similarity."""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math

import numpy as np
from scipy import integrate, optimize, stats

from study_settings import STUDY_VARIANTS


@dataclasses.dataclass(frozen=True)
class Measure:
    """A measure: its label, direction, decimals shown and, for a curve, the setting of its levels."""

    label: str
    higher_is_better: bool
    decimals: int
    levels: str | None = None  # the setting that lists a curve's noise levels or classes
    per_class: bool = False


MEASURES = {  # key in seed_study.json: the measure
    "test_mse_clean": Measure("test MSE on clean inputs", False, 4),
    "test_mse_noisy": Measure("test MSE on noisy inputs", False, 4),
    "test_mse_masked": Measure("test MSE on masked pixels", False, 4),
    "live_code_units": Measure("live code units", True, 1),
    "knn_accuracy": Measure("5-NN accuracy", True, 3),
    "linear_probe_accuracy": Measure("linear-probe accuracy", True, 3),
    "code_silhouette": Measure("silhouette in code space", True, 3),
    "standardised_silhouette": Measure("silhouette of the standardised codes", True, 3),
    "tsne_silhouette": Measure("silhouette in the t-SNE plane", True, 3),
    "trustworthiness": Measure("t-SNE trustworthiness", True, 4),
    "psnr_db": Measure("PSNR at noise {std:g} (dB)", True, 2, "noise_stds_psnr"),
    "code_stability": Measure("code stability at noise {std:g}", True, 4, "noise_stds_stability"),
    "map_class_share": Measure("{name}", True, 2, "map_classes", per_class=True),
}
PRIMARY = {  # (measure, noise level or None): margin; seed_study/PLAN.md gives each its reason
    ("psnr_db", 0.0): 0.5,
    ("linear_probe_accuracy", None): 0.02,
    ("code_stability", 0.5): 0.02,  # PRIMARY_STABILITY
}
PRIMARY_STABILITY = 0.5  # the noise level of the primary family's code stability
SECONDARY = [
    (key, None)
    for key in ("test_mse_clean", "test_mse_noisy", "test_mse_masked", "knn_accuracy")
    + ("standardised_silhouette", "tsne_silhouette", "trustworthiness", "live_code_units")
]
REFERENCE_ROWS = (  # the measures of PCA-8 each model's seeds are tested against
    "test_mse_clean", "test_mse_noisy", "knn_accuracy", "linear_probe_accuracy",
    "standardised_silhouette",  # not the t-SNE ones: PCA-8's would rest on one t-SNE run
)  # fmt: skip
CURVES = ("psnr_db", "code_stability")  # exploratory: every noise level, a family each
ALPHA, POWER = 0.05, 0.8
MAX_SEEDS = 44  # the exact tests enumerate 2^(n/2) signs per half


def summaries(per_seed: list[dict]) -> dict[str, dict]:
    """Return per measure the seeds' values with their mean and sample sd (per level)."""
    result = {}
    for key in [key for key in MEASURES if key in per_seed[0]]:
        values = [scores[key] for scores in per_seed]
        array = np.asarray(values, dtype=float)
        mean, sd = array.mean(0).tolist(), array.std(0, ddof=1).tolist()
        result[key] = {"values": values, "mean": mean, "sd": sd}
    return result


@functools.lru_cache(maxsize=8)
def choices(count: int, signs: tuple[int, int]) -> np.ndarray:
    """Return the 2^count rows of every choice of signs[0] or signs[1] for `count` values."""
    return np.array(list(itertools.product(signs, repeat=count)), dtype=float).reshape(-1, count)


def count_at_most(values: np.ndarray, limit: float, signs: tuple[int, int]) -> int:
    """Return how many of the 2^n signed sums (signs per value) are at most `limit` (meet in the
    middle: the sums of each half, sorted, then counted pairwise with searchsorted)."""
    if len(values) > MAX_SEEDS:
        raise ValueError(f"the exact test enumerates 2^{len(values) // 2}: at most {MAX_SEEDS}")
    half = len(values) // 2
    first = choices(half, signs) @ values[:half]
    second = np.sort(choices(len(values) - half, signs) @ values[half:])
    return int(np.searchsorted(second, limit - first, side="right").sum())


def sign_flip_p(gaps: np.ndarray) -> float:
    """Return the two-sided p of the exact sign-flip test of mean(gaps) = 0 (1 if all are 0):
    the share of the 2^n sign patterns whose |sum| reaches the observed one (itself included)."""
    gaps = np.asarray(gaps, dtype=float)
    if not np.any(gaps):
        return 1.0
    reach = abs(gaps.sum()) * (1 - 1e-12)  # float sums of the same signs may differ in last bits
    return min(1.0, 2 * count_at_most(gaps, -reach, (-1, 1)) / 2 ** len(gaps))


def subset_mean_rank(gaps: np.ndarray, value: float) -> int:
    """Return how many of the 2^n - 1 non-empty subsets of the gaps have a mean at most `value`."""
    return count_at_most(gaps - value, 0.0, (0, 1)) - 1  # less the empty subset (sum 0)


def sign_flip_interval(gaps: np.ndarray, alpha: float) -> list[float]:
    """Return the 1 - alpha interval that inverts the sign-flip test: the k-th smallest and
    largest of the 2^n - 1 subset means (Hartigan, 1969), k = floor(alpha 2^n / 2)."""
    gaps = np.asarray(gaps, dtype=float)
    k = math.floor(alpha * 2 ** len(gaps) / 2)
    if k == 0:
        return [-math.inf, math.inf]
    if np.ptp(gaps) == 0:
        return [float(gaps[0])] * 2
    low, high = float(gaps.min()) - 1, float(gaps.max())

    def kth(rank: int) -> float:  # the smallest subset mean with `rank` means at most it
        return optimize.bisect(lambda v: subset_mean_rank(gaps, v) - rank + 0.5, low, high)

    return [kth(k), kth(2 ** len(gaps) - k)]


def t_test_p(gaps: np.ndarray) -> float:
    """Return the two-sided p of the paired t-test (0 or 1 for equal gaps, not scipy's NaN)."""
    if np.ptp(gaps) == 0:
        return 1.0 if gaps[0] == 0 else 0.0
    return float(stats.ttest_1samp(gaps, 0.0).pvalue)


def verdict(interval: list[float], margin: float | None, measure: Measure, labels: tuple) -> str:
    """Return what an interval of first - second says: who is better, equivalence, or neither
    (without a margin: who is better, or 'no difference shown')."""
    low, high = interval
    within = margin is not None and -margin <= low and high <= margin
    if low > 0 or high < 0:
        better = labels[0] if (low > 0) == measure.higher_is_better else labels[1]
        return f"{better} better, by less than the margin" if within else f"{better} better"
    if within:
        return f"equivalent within ±{margin:g}"
    return "inconclusive" if margin is not None else "no difference shown"


def paired_row(
    one: list, other: list, measure: Measure, family: int, labels: tuple, margin: float | None
) -> dict:
    """Return one measure's test of first minus second over the seeds, in a family of that size."""
    gaps = np.subtract(one, other, dtype=float)
    better = (gaps > 0) if measure.higher_is_better else (gaps < 0)
    p, interval = sign_flip_p(gaps), sign_flip_interval(gaps, ALPHA / family)
    return {
        "seeds": len(gaps),
        "first_wins": int(better.sum()),
        "ties": int((gaps == 0).sum()),
        "second_wins": int((~better & (gaps != 0)).sum()),
        "mean": float(gaps.mean()),
        "sd": float(gaps.std(ddof=1)),
        "margin": margin,
        "interval": interval,
        "interval_level": 1 - ALPHA / family,
        "p": p,
        "p_adjusted": min(1.0, family * p),
        "t_test_p_adjusted": min(1.0, family * t_test_p(gaps)),
        "verdict": verdict(interval, margin, measure, labels),
    }


def level_of(settings: dict, key: str, where: float | str | None) -> int | None:
    """Return the index of a noise level or class in its measure's levels (None: no levels)."""
    levels = MEASURES[key].levels
    return None if levels is None else settings[levels].index(where)


def values_of(model: dict, key: str, level: int | None) -> list[float]:
    """Return one model's per-seed values of a measure (at one level if `level` is set)."""
    values = model[key]["values"]
    return list(values) if level is None else [value[level] for value in values]


def family(study: dict, models: tuple, rows: list[tuple], margins: dict | None = None) -> list:
    """Return the paired rows of (measure, level or class) of two models, one family."""
    settings = study["settings"]
    labels = tuple(settings["models"][name]["label"] for name in models)
    rows = [(key, where) for key, where in rows if key in study[models[0]]]
    tests = []
    for key, where in rows:
        level, measure = level_of(settings, key, where), MEASURES[key]
        one, other = (values_of(study[model], key, level) for model in models)
        margin = (margins or {}).get((key, where))
        label = measure.label.format(std=where, name=where)
        head = {"measure": key, "level": where, "label": label}
        tests.append(head | paired_row(one, other, measure, len(rows), labels, margin))
    return tests


def levels(settings: dict, key: str) -> list[tuple[str, float | str]]:
    """Return every (measure, level) of a curve, or (measure, class) of the map shares."""
    return [(key, where) for where in settings[MEASURES[key].levels]]


def line_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float | None, float]:
    """Return the intercept, its standard error, R^2 and slope of y on x (a constant x: the
    mean of y and its standard error, R^2 None)."""
    if np.ptp(x) == 0:
        return float(np.mean(y)), float(np.std(y, ddof=1) / math.sqrt(len(y))), None, 0.0
    fit = stats.linregress(x, y)
    return float(fit.intercept), float(fit.intercept_stderr), float(fit.rvalue**2), float(fit.slope)


def live_unit_adjusted(study: dict, models: tuple, key: str, where: float | None) -> dict:
    """Return how the live code units bear on a primary measure: per model the R^2 of a line
    through (live units, value) over the seeds, and the paired difference adjusted for the
    difference in live units (intercept of gaps on live-unit gaps) with its t interval."""
    level = level_of(study["settings"], key, where)
    values = [np.array(values_of(study[name], key, level)) for name in models]
    live = [np.array(values_of(study[name], "live_code_units", None), float) for name in models]
    r_squared = [line_fit(units, value)[2] for units, value in zip(live, values)]
    mean, stderr, _, slope = line_fit(live[0] - live[1], values[0] - values[1])
    half = stats.t.ppf(1 - ALPHA / len(PRIMARY) / 2, len(values[0]) - 2) * stderr
    interval = [float(mean - half), float(mean + half)]
    labels = tuple(study["settings"]["models"][name]["label"] for name in models)
    judged = verdict(interval, PRIMARY[key, where], MEASURES[key], labels)
    return {"measure": key, "level": where, "r_squared": r_squared, "slope": slope,
            "adjusted_mean": mean, "adjusted_interval": interval, "verdict": judged}  # fmt: skip


def without_restarts(study: dict, models: tuple) -> dict:
    """Return the primary family again over the pairs in which neither model restarted, with
    the restarts per model and the exact two-sided binomial p that the pairs with one restart
    fall on either model alike."""
    seeds, notes = len(next(iter(study[models[0]].values()))["values"]), study.get("restarts", {})
    restarted = [np.array([bool(n) for n in notes.get(name, [[]] * seeds)]) for name in models]
    keep = ~(restarted[0] | restarted[1])
    kept = {key: value for key, value in study.items() if key not in models}
    for name in models:
        kept[name] = {
            key: {"values": [v for v, k in zip(entry["values"], keep) if k]}
            for key, entry in study[name].items()
        }
    only = [int((one & ~other).sum()) for one, other in (restarted, restarted[::-1])]
    p = stats.binomtest(only[0], sum(only)).pvalue if sum(only) else 1.0
    return {
        "restarted": [int(one.sum()) for one in restarted],
        "pairs_kept": int(keep.sum()),
        "one_restarted_p": float(p),
        "primary": family(kept, models, list(PRIMARY), PRIMARY),
    }


def lost_variance_ratio(study: dict, models: tuple, where: float) -> dict:
    """Return how much of the code's variance noise of std `where` moves in the second model
    relative to the first: the geometric mean over the seeds of the ratio of the two shares
    lost (1 - code stability), with the 95% sign-flip interval of the mean log ratio."""
    level = level_of(study["settings"], "code_stability", where)
    lost = [1 - np.array(values_of(study[name], "code_stability", level)) for name in models]
    logs = np.log(lost[1] / lost[0])
    low, high = sign_flip_interval(logs, ALPHA)
    ratio, interval = math.exp(logs.mean()), [math.exp(low), math.exp(high)]
    return {"level": where, "ratio": ratio, "interval": interval, "below_1": int((logs < 0).sum())}


def compare(study: dict, first: str, second: str) -> dict:
    """Return the comparison of two of the study's models as the plan declares it."""
    models, settings, scored = (first, second), study["settings"], study[first]
    curves = {key: family(study, models, levels(settings, key)) for key in CURVES if key in scored}
    primary = family(study, models, list(PRIMARY), PRIMARY)
    tested = [
        (key, where) for key, where in PRIMARY if key in scored and "live_code_units" in scored
    ]
    adjusted = [live_unit_adjusted(study, models, key, where) for key, where in tested]
    classes = levels(settings, "map_class_share") if "map_class_share" in scored else []
    return {
        "models": list(models),
        "labels": [settings["models"][name]["label"] for name in models],
        "primary": primary,
        "secondary": family(study, models, SECONDARY),
        "live_units": adjusted,
        "curves": curves,
        "classes": family(study, models, classes),
        "without_restarts": without_restarts(study, models),
        "lost_variance_ratio": lost_variance_ratio(study, models, PRIMARY_STABILITY),
    }


def against(study: dict, model: str, reference: dict, name: str) -> list[dict]:
    """Return one family of one-sample tests of a model's seeds against a reference's one value
    per measure (the reference: PCA-8's scores)."""
    rows = [key for key in REFERENCE_ROWS if key in reference and key in study[model]]
    labels, tests = (study["settings"]["models"][model]["label"], name), []
    for key in rows:
        one, measure = values_of(study[model], key, None), MEASURES[key]
        row = paired_row(one, [reference[key]] * len(one), measure, len(rows), labels, None)
        tests.append({"measure": key, "level": None, "label": measure.label} | row)
    return tests


def comparison_of(study: dict, models: tuple[str, str] | list[str] | None = None) -> dict:
    """Return the study's comparison of two models (the first comparison when not named)."""
    for entry in study["comparisons"]:
        if models is None or entry["models"] == list(models):
            return entry
    raise KeyError(f"the seed study compares no {' - '.join(models or [])}")


def t_power(sd: float, difference: float, seeds: int, family_size: int) -> float:
    """Return the power of a paired t-test at two-sided ALPHA / family_size for a true mean
    difference `difference` whose paired differences have this sd."""
    df, shift = seeds - 1, difference / (sd / math.sqrt(seeds))
    critical = stats.t.ppf(1 - ALPHA / family_size / 2, df)
    lower = np.nan_to_num(stats.nct.cdf(-critical, df, shift))  # scipy gives NaN for ~0 there
    return float(stats.nct.sf(critical, df, shift) + lower)


def seeds_needed(sd: float, difference: float, family_size: int) -> int:
    """Return the fewest seeds whose paired t-test detects `difference` with POWER."""
    seeds = 3
    while t_power(sd, difference, seeds, family_size) < POWER:
        seeds += 1
    return seeds


def detectable(sd: float, seeds: int, family_size: int) -> float:
    """Return the smallest difference `seeds` seeds detect with POWER (paired t-test)."""
    high = 15 * sd / math.sqrt(seeds)  # a shift of 15 standard errors: power 1 (nct is NaN far out)
    return optimize.brentq(lambda d: t_power(sd, d, seeds, family_size) - POWER, 1e-12, high)


def equivalence_power(sd: float, seeds: int, margin: float, family_size: int) -> float:
    """Return the chance that the t interval at 1 - ALPHA / family_size of `seeds` paired
    differences with this sd lies within +-margin when the true difference is 0 (the power of
    the two one-sided tests): the normal chance for the mean, integrated over the chi-square
    law of the sample variance."""
    df, error = seeds - 1, sd / math.sqrt(seeds)
    critical = stats.t.ppf(1 - ALPHA / family_size / 2, df)
    widest = df * (margin / (critical * error)) ** 2  # beyond it the interval exceeds the margin

    def density(q: float) -> float:  # q: df times the sample variance over sd^2
        room = margin - critical * error * math.sqrt(q / df)
        return (2 * stats.norm.cdf(room / error) - 1) * stats.chi2.pdf(q, df)

    return float(integrate.quad(density, 0, widest, limit=200)[0])


def pooled_gaps(sources: list[dict], key: str, where: float | None) -> np.ndarray:
    """Return the paired differences (plain minus denoising) of a measure over several studies."""
    gaps = []
    for source in sources:
        level = level_of(source["settings"], key, where)
        pair = [values_of(source[model], key, level) for model in STUDY_VARIANTS]
        gaps.extend(np.subtract(*pair))
    return np.asarray(gaps, dtype=float)


def sizing(earlier: list[dict], study: dict) -> list[dict]:
    """Return per primary measure the earlier studies' mean and sd of paired differences (the
    pilot's and the first study's seeds together), the seeds the sd needs for the margin, the
    seeds run, the smallest difference they detect, the chance their interval shows
    equivalence when there is no difference, and the study's own mean and sd."""
    rows = []
    for (key, where), margin in PRIMARY.items():
        row = {"measure": key, "level": where, "margin": margin}
        for name, sources in (("earlier", earlier), ("study", [study])):
            gaps = pooled_gaps(sources, key, where)
            row[f"{name}_sd"], row[f"{name}_seeds"] = float(np.std(gaps, ddof=1)), len(gaps)
            row[f"{name}_mean"] = float(np.mean(gaps))
        sd, seeds, size = row["earlier_sd"], row["study_seeds"], len(PRIMARY)
        row["seeds_needed"] = seeds_needed(sd, margin, size)
        row["detectable"] = detectable(sd, seeds, size)
        row["equivalence_power"] = equivalence_power(sd, seeds, margin, size)
        rows.append(row)
    return rows


def similarity_summary(pairs: list[dict], labels: dict[str, str]) -> dict[str, dict]:
    """Return per group (in a model, across two, across two with one seed) the pairs' spread."""
    order = list(labels)

    def group(pair: dict) -> tuple[int, int, bool]:
        (one, other), (seed, other_seed) = pair["models"], pair["seeds"]
        first, second = sorted((order.index(one), order.index(other)))
        return first, second, one != other and seed == other_seed

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
