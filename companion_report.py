"""The companion's presentation: its figures, tables and results file (companion.ipynb)."""

import re
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import gd_variants
import helpers
import provenance
import report
import study_settings
from report import FIGURE_WIDTH, panels, read_json, readable_log_axis
from seed_study import statistics as stats
from tables import pipe_table

# ---------------------------------------------------------------------------- the study's files

ABOVE = {"xycoords": ("data", "axes fraction"), "fontsize": 8}  # a note at a height in the axes


def key(name: str) -> str:
    """Return a model's name as a companion_results.json key ('PCA-8' -> 'pca8')."""
    return "pca8" if name == "PCA-8" else report.key(name)


def read_seed_study(path: str | Path) -> dict:
    """Return the committed seed study, or raise a clear error naming `make seeds`."""
    remake = "`make seeds` (about an hour on 2 cores; minutes with build/seed_models/)"
    keys = ("plan", "seeds", "settings", "comparisons", "similarity", "restarts", "sizing")
    return read_json(
        path, remake, (*keys, "pca_8", "against_pca_8", *study_settings.STUDY_VARIANTS)
    )


def read_pilot(path: str | Path) -> dict:
    """Return the seed study's pilot (seeds 0 to 9 of every variant, kept as it was run)."""
    keys = ("seeds", "settings", "restarts", *study_settings.VARIANTS)
    return read_json(path, "nothing: the pilot is not made again", keys)


PLAN_MATH = {  # the plan's plain-text notation, typeset: R^2, 2^20, 1 - 0.05/3
    r"\bR\^2\b": r"$R^2$",
    r"\b2\^(\d+)\b": r"$2^{\1}$",
    r"\b1 - 0\.05/(\d+|k)\b": r"$1 - 0.05/\1$",
}


def plan_markdown(path: str | Path) -> str:
    """Return the study's plan (seed_study/PLAN.md) without its title, its section headings as
    bold lines and its notation typeset, as a block quote to print under a section of the
    companion."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()[1:]
    text = "\n".join(f"**{line[3:]}.**" if line.startswith("## ") else line for line in lines)
    for plain, typeset in PLAN_MATH.items():
        text = re.sub(plain, typeset, text)
    return "\n".join(f"> {line}".rstrip() for line in text.splitlines())  # set apart, as a quote


# ---------------------------------------------------------------------------- figures


def plot_paired_curve(ax, comparison: dict, measure: str, title: str) -> None:
    """Draw a curve's mean paired differences with their intervals and the 0 line; a level of
    the primary family gets an open marker."""
    primary = {row["level"] for row in comparison["primary"] if row["measure"] == measure}
    bars = {"fmt": "o", "markersize": 3.5, "capsize": 2, "color": "black"}
    ax.axhline(0, color="gray", linewidth=0.8)
    for row in comparison["curves"][measure]:
        tested = row["level"] in primary
        face, label = ("white", "primary (Table C2)") if tested else ("black", "exploratory")
        yerr = np.abs(np.array([row["interval"]], dtype=float).T - row["mean"])
        ax.errorbar([row["level"]], [row["mean"]], yerr, mfc=face, label=label, **bars)
    handles = dict(zip(*reversed(ax.get_legend_handles_labels())))
    ax.legend(handles.values(), handles.keys(), fontsize=7, loc="lower left")
    ax.set(title=title, xlabel="noise std", ylabel=" − ".join(comparison["labels"]))
    ax.grid(alpha=0.3)


def plot_primary_differences(study: dict):
    """Return one panel per primary measure: each seed's paired difference (dots), 0, the band
    within ± the margin, and the mean with its interval beside the first study's."""
    comparison = stats.comparison_of(study)
    fig, axes = panels(1, len(comparison["primary"]), 2.5)
    seeds, bars = len(study["seeds"]), {"fmt": "o", "markersize": 4, "capsize": 3}
    rng = np.random.default_rng(0)  # the dots' sideways jitter, for the eye only
    for ax, row, first in zip(axes[0], comparison["primary"], study["first_study"]):
        gaps = stats.pooled_gaps([study], row["measure"], row["level"])
        ax.axhspan(-row["margin"], row["margin"], color="tab:green", alpha=0.12, linewidth=0)
        ax.axhline(0, color="gray", linewidth=0.8)
        ax.plot(rng.uniform(-0.18, 0.18, len(gaps)), gaps, ".", color="tab:blue", alpha=0.7)
        for x, entry, color in ((0.75, row, "black"), (1.5, first, "gray")):
            yerr = np.abs(np.array([entry["interval"]], dtype=float).T - entry["mean"])
            ax.errorbar([x], [entry["mean"]], yerr, color=color, **bars)
        ticks = [f"{seeds}\nseeds", "this\nstudy", "first\nstudy"]
        ax.set_xticks([0, 0.75, 1.5], ticks, fontsize=7)
        ax.set_xlim(-0.35, 1.95)
        title = row["label"].replace("at noise 0 (dB)", "on clean inputs (dB)")
        ax.set_title(textwrap.fill(title, 22), fontsize=8)
        ax.grid(alpha=0.3, axis="y")
    axes[0, 0].set_ylabel(" − ".join(comparison["labels"]))
    fig.subplots_adjust(wspace=0.55)
    return fig


def plot_psnr(noise_stds: list, curves: dict[str, list], training_std: float, study: dict):
    """Return PSNR against noise std (top) and the seeds' paired differences (bottom)."""
    layout = [["levels", "levels"], ["psnr_db", "code_stability"]]
    fig, axes = plt.subplot_mosaic(layout, figsize=(FIGURE_WIDTH, 4.6), height_ratios=[1, 1.1])
    ax = axes["levels"]
    for (name, values), marker in zip(curves.items(), "osD^v"):
        ax.plot(noise_stds, values, marker=marker, markersize=4, label=name)
    ax.axvline(training_std, color="gray", linestyle="--", linewidth=1)
    note = f"training noise {training_std:g}"  # 3 points right of the line, near the top
    ax.annotate(note, (training_std, 0.97), (3, 0), textcoords="offset points", va="top", **ABOVE)
    ax.set(xlabel="noise std on the [-1, 1] scale", ylabel="PSNR against the\nclean image (dB)")
    ax.grid(alpha=0.3)
    ax.legend()
    comparison = stats.comparison_of(study)
    for measure, title in (("psnr_db", "PSNR (dB)"), ("code_stability", "code stability")):
        plot_paired_curve(axes[measure], comparison, measure, f"{title}, over the seeds")
    fig.subplots_adjust(hspace=0.65, wspace=0.45)
    return fig


def plot_code_units(codes: dict[str, np.ndarray]):
    """Return a figure with one row per model: each code unit's values (box) and active share."""
    fig, axes = panels(len(codes), 1, 1.05 * len(codes) + 0.55, sharex=True)
    for ax, (name, values) in zip(axes[:, 0], codes.items()):
        ax.boxplot(list(values.T), widths=0.5, showfliers=False)  # units 1, 2, ... on the x axis
        for unit, share in enumerate(helpers.unit_activity(values), 1):
            text, color = (f"{share:.0%}", "black") if share else ("dead", "tab:red")
            ax.annotate(text, (unit, 1.0), ha="center", va="bottom", color=color, **ABOVE)
        ax.axhline(0, color="gray", linewidth=0.5)
        ax.set_ylabel("code value")
        ax.set_title(name, loc="left", pad=12)
    whiskers = "code unit (box: middle half of its values on the test set, whiskers: 1.5 IQR)"
    axes[-1, 0].set_xlabel(whiskers)
    fig.subplots_adjust(hspace=0.6)
    return fig


def plot_sgd_runs(variants: dict[str, gd_variants.Variant]):
    """Return the test MSE of each variant's seeds against the examples processed (the example
    budget's runs) and against the measured training time (the time budget's runs)."""
    fig, [[by_examples, by_time]] = panels(1, 2, 2.6, sharey=True)
    for name, variant in variants.items():
        line = None
        for runs, ax, axis in (
            (variant.runs, by_examples, "examples"),
            (variant.timed, by_time, "seconds"),
        ):
            for run in runs:
                label = f"{name} (lr {variant.lr:g})" if line is None else None
                color = None if line is None else line.get_color()
                (line,) = ax.plot(
                    getattr(run, axis)[1:], run.loss[1:], ".-", color=color, label=label, alpha=0.8
                )
    by_examples.set_ylabel("test MSE (evaluation images)")
    for ax, xlabel in zip(fig.axes, ("training examples processed", "measured training time (s)")):
        ax.set(xscale="log", yscale="log", xlabel=xlabel)
        ax.grid(alpha=0.3)
    readable_log_axis(by_examples.yaxis)
    fig.legend(loc="lower center", ncol=len(variants), frameon=False)
    fig.subplots_adjust(bottom=0.3, wspace=0.08)
    return fig


# ---------------------------------------------------------------------------- tables


TEXT_WIDTH = 20  # characters: a wide table's text columns wrap at about this width


def fitted(frame: pd.DataFrame, text: tuple = ()) -> str:
    """Return pipe_table(frame) with each column's share of the page set by its cells, not its
    header (a header wraps at its words), text columns at most TEXT_WIDTH: numbers stay whole."""
    columns = [frame.index.astype(str), *(frame[column].astype(str) for column in frame)]
    headers = [str(frame.index.name or ""), *map(str, frame.columns)]
    widths = []
    for number, (cells, header) in enumerate(zip(columns, headers)):
        width = max([len(cell) for cell in cells] + [len(word) for word in header.split()] + [3])
        wraps = number == 0 or frame.columns[number - 1] in text
        widths.append(min(width, TEXT_WIDTH) if wraps else width + 2)  # + the column gap
    return pipe_table(frame, text=text, widths=tuple(widths))


def signed(value: float, decimals: int, plus: bool = False) -> str:
    """Return a number with a typographic minus (a plus if `plus`); a number that rounds to 0
    at these decimals is written 0.000 (no sign)."""
    if value and round(value, decimals) == 0:
        return f"{0:.{decimals}f}"  # not −0.000, and no false sign
    return (f"{value:+.{decimals}f}" if plus else f"{value:.{decimals}f}").replace("-", "−")


def spread(values: list[float], decimals: int) -> str:
    """Return 'mean ± sd' of per-seed values."""
    return f"{signed(np.mean(values), decimals)} ± {np.std(values, ddof=1):.{decimals}f}"


def mean_sd(values: list[float], places: int, thousands: bool = False) -> str:
    """Return 'mean ± sd' of a few measurements."""
    shown = ",.0f" if thousands else f".{places}f"
    return f"{np.mean(values):{shown}} ± {np.std(values, ddof=1):{shown}}"


def interval_cell(interval: list[float], places: int) -> str:
    """Return an interval '[low, high]' ('unbounded' with too few seeds)."""
    if not np.isfinite(np.array(interval, dtype=float)).all():
        return "unbounded"
    return "[" + ", ".join(signed(bound, places, plus=True) for bound in interval) + "]"


def p_cell(p: float) -> str:
    """Return a p-value with three decimals, '<0.001' below."""
    return "<0.001" if p < 0.0005 else f"{p:.3f}"


def family_size(row: dict) -> int:
    """Return how many tests a row's family holds (its interval level is 1 - ALPHA / k)."""
    return round(stats.ALPHA / (1 - row["interval_level"]))


def row_cells(row: dict, labels: tuple[str, str], means: dict[str, list]) -> dict:
    """Return the cells of one tested row: each of `means`' mean ± sd, the difference of the
    two `labels`, its interval, the margin, wins/ties/losses, the adjusted p and the verdict."""
    places = stats.MEASURES[row["measure"]].decimals
    family = family_size(row)
    cells = {label: spread(values, places) for label, values in means.items()}
    return cells | {
        " − ".join(labels): signed(row["mean"], places, plus=True),
        f"{row['interval_level']:.1%} interval": interval_cell(row["interval"], places),
        "margin": "-" if row["margin"] is None else f"±{row['margin']:g}",
        f"{labels[0]} wins / ties / {labels[1]} wins": (
            f"{row['first_wins']} / {row['ties']} / {row['second_wins']}"
        ),
        f"p × {family}": p_cell(row["p_adjusted"]),
        "verdict": row["verdict"],
    }


def rows_table(
    study: dict,
    rows: list[dict],
    models: list[str],
    means: bool = True,
    verdicts: bool = True,
    t_test: bool = False,
) -> str:
    """Return one family of paired rows of two of the study's models (`means`: each model's
    mean ± sd first); the margin column only where a row has a margin; an exploratory family
    (not `verdicts`) says what its interval shows instead of a verdict; `t_test`: the paired
    t-test's adjusted p after the sign-flip test's in its cell, for reference."""
    labels = tuple(study["settings"]["models"][name]["label"] for name in models)
    cells = {}
    for row in rows:
        level = stats.level_of(study["settings"], row["measure"], row["level"])
        values = [stats.values_of(study[name], row["measure"], level) for name in models]
        cells[row["label"]] = row_cells(row, labels, dict(zip(labels, values)) if means else {})
    frame = pd.DataFrame.from_dict(cells, orient="index").rename_axis("measure")
    if t_test:  # one column: the sign-flip test's p / the t-test's
        family = family_size(rows[0])
        both = [f"{p_cell(r['p_adjusted'])} / {p_cell(r['t_test_p_adjusted'])}" for r in rows]
        frame[f"p × {family}"] = both
        frame = frame.rename(columns={f"p × {family}": f"p × {family}, sign-flip / t-test"})
    if all(row["margin"] is None for row in rows):
        frame = frame.drop(columns="margin")
    return fitted(frame if verdicts else exploratory(frame), text=("verdict", "interval"))


def exploratory(frame: pd.DataFrame) -> pd.DataFrame:
    """Return a table whose verdict column says only what each interval shows about 0."""
    said = frame["verdict"].str.replace("no difference shown", "holds 0")
    said = said.str.replace(r"^(.+) better$", r"excludes 0 (\1)", regex=True)
    return frame.assign(verdict=said).rename(columns={"verdict": "interval"})


def sizing_table(study: dict) -> str:
    """Return the plan's sizing per primary measure: the earlier seeds' spread, the seeds it asks
    for, the seeds run, what they detect, the chance of showing equivalence, the study's spread."""
    cells = {}
    for row in study["sizing"]:
        places = stats.MEASURES[row["measure"]].decimals + 1
        label = stats.MEASURES[row["measure"]].label.format(std=row["level"])
        cells[label] = {
            "margin": f"{row['margin']:g}",
            f"sd, earlier {row['earlier_seeds']} seeds": f"{row['earlier_sd']:.{places}f}",
            "seeds for 80% power": str(row["seeds_needed"]),
            "seeds run": str(row["study_seeds"]),
            "detected with 80% power": f"{row['detectable']:.{places}f}",
            "equivalence shown if no difference": f"{row['equivalence_power']:.2f}",
            "sd, this study": f"{row['study_sd']:.{places}f}",
        }
    return fitted(pd.DataFrame.from_dict(cells, orient="index").rename_axis("measure"))


def live_units_table(study: dict) -> str:
    """Return per primary measure how much the live code units explain, and the verdict with
    the difference adjusted for them beside the verdict without."""
    comparison = stats.comparison_of(study)
    labels, verdicts = (
        comparison["labels"],
        {r["measure"]: r["verdict"] for r in comparison["primary"]},
    )
    cells = {}
    for row in comparison["live_units"]:
        places = stats.MEASURES[row["measure"]].decimals
        label = stats.MEASURES[row["measure"]].label.format(std=row["level"])
        shares = [("-" if r is None else f"{r:.2f}") for r in row["r_squared"]]
        cells[label] = {
            **{f"R², {name}": share for name, share in zip(labels, shares)},
            "adjusted difference": signed(row["adjusted_mean"], places, plus=True),
            "its interval": interval_cell(row["adjusted_interval"], places),
            "verdict, adjusted": row["verdict"],
            "verdict (Table C2)": verdicts[row["measure"]],
        }
    frame = pd.DataFrame.from_dict(cells, orient="index").rename_axis("measure")
    return fitted(frame, text=("verdict, adjusted", "verdict (Table C2)"))


def verdicts_table(study: dict) -> str:
    """Return the primary family three ways, per measure: in the first study, in this study
    without the pairs with a restarted model, and in this study over all pairs (Table C2)."""
    comparison = stats.comparison_of(study)
    ways = {
        "first study": study["first_study"],
        "without restarted pairs": comparison["without_restarts"]["primary"],
        "all pairs (Table C2)": comparison["primary"],
    }
    cells = {}
    for index, row in enumerate(comparison["primary"]):
        places = stats.MEASURES[row["measure"]].decimals
        for way, rows in ways.items():
            entry = rows[index]
            cells[f"{row['label']}, {way}"] = {
                "seeds": str(entry["seeds"]),
                " − ".join(comparison["labels"]): signed(entry["mean"], places, plus=True),
                f"{entry['interval_level']:.1%} interval": interval_cell(entry["interval"], places),
                "verdict": entry["verdict"],
            }
    frame = pd.DataFrame.from_dict(cells, orient="index").rename_axis("measure, study")
    return fitted(frame, text=("verdict",))


def psnr_table(noise_stds: list[float], curves: dict[str, list[float]]) -> str:
    """Return the PSNR (dB) of the noisy input and of each model's reconstruction per noise std
    (the top of the PSNR figure in numbers)."""
    frame = pd.DataFrame(curves, index=[f"{std:g}" for std in noise_stds], dtype=float).T
    cells = frame.map(lambda db: "∞" if np.isinf(db) else f"{db:.2f}")
    return pipe_table(cells.rename_axis("PSNR (dB) at noise std"))


def code_table(study: dict) -> str:
    """Return the similarity of the codes: linear CKA and 10-NN overlap per group of pairs."""
    summary, cells = study["similarity"]["summary"], {}
    for group, entry in summary.items():
        cells[group] = {"pairs": str(entry["pairs"])} | {
            label: f"{entry[measure]['mean']:.3f} ± {entry[measure]['sd']:.3f}"
            for measure, label in (("cka", "linear CKA"), ("knn_overlap", "10-NN overlap"))
        }
    return pipe_table(pd.DataFrame.from_dict(cells, orient="index").rename_axis("pairs of codes"))


def pca_table(study: dict) -> str:
    """Return PCA-8's value per measure and, per model, its seeds' mean ± sd, the difference
    from PCA-8 with its interval, the seeds better / tied / worse and the verdict."""
    frame = pd.DataFrame()
    for model, rows in study["against_pca_8"].items():
        label = study["settings"]["models"][model]["label"]
        for row in rows:
            places = stats.MEASURES[row["measure"]].decimals
            values = stats.values_of(study[model], row["measure"], None)
            cells = row_cells(row, (label, "PCA-8"), {f"{label} seeds": values})
            frame.loc[f"{row['label']}, {label}", "PCA-8"] = signed(
                study["pca_8"][row["measure"]], places
            )
            for column, cell in cells.items():
                frame.loc[f"{row['label']}, {label}", column.replace(label, "model")] = cell
    frame = exploratory(frame.drop(columns="margin").rename_axis("measure, model"))
    return fitted(frame, text=("interval",))


def sgd_table(variants: dict[str, gd_variants.Variant], n_train: int) -> str:
    """Return per variant the rates' held-out losses, the rate chosen, its test loss at the
    example budget and at the time budget, and the examples per second (this machine)."""
    columns, rates = {}, sorted({lr for variant in variants.values() for lr in variant.sweeps})
    for name, variant in variants.items():
        runs, timed, sweeps = variant.runs, variant.timed, variant.sweeps
        columns[name] = {
            "batch size": f"{variant.batch_size:,}",
            **{
                f"held-out MSE, lr {lr:g}": (
                    f"{gd_variants.held_out_mean(sweeps[lr]):.3f}" if lr in sweeps else "-"
                )
                for lr in rates
            },
            "lr chosen": f"{variant.lr:g}",
            "updates, example budget": f"{runs[0].updates[-1]:,}",
            "test MSE, example budget": mean_sd([r.final_loss for r in runs], 3),
            "updates, time budget": mean_sd([r.updates[-1] for r in timed], 0, True),
            "passes, time budget": mean_sd([r.examples[-1] / n_train for r in timed], 1),
            "test MSE, time budget": mean_sd([r.final_loss for r in timed], 3),
            "examples per second": mean_sd([r.examples_per_second for r in timed], 0, True),
        }
    return pipe_table(pd.DataFrame(columns).fillna("-").rename_axis("measure"))


# ---------------------------------------------------------------------------- results file


def sgd_results(variants: dict[str, gd_variants.Variant]) -> dict:
    """Return the gradient-descent experiment (every rate's and seed's runs) as JSON."""
    document = {}
    for name, variant in variants.items():
        document[key(name)] = {
            "batch_size": variant.batch_size,
            "lr": variant.lr,
            "held_out": {
                f"{lr:g}": gd_variants.held_out_mean(runs) for lr, runs in variant.sweeps.items()
            },
            "runs": {
                f"{lr:g}": [run.to_dict() for run in runs] for lr, runs in variant.sweeps.items()
            },
            "timed": [run.to_dict() for run in variant.timed],
        }
    return document


def companion_results(*, config, device, model_files, codes, psnr_curves, sgd_variants) -> dict:
    """Return every number of the companion notebook as JSON (companion_results.json)."""
    models = {}
    for name, path in model_files.items():
        activity, path = helpers.unit_activity(codes[name]), Path(path)
        models[key(name)] = {
            "file": path.as_posix(),
            "sha256": provenance.file_sha256(path),
            "unit_activity": activity.tolist(),
            "unit_quartiles": np.percentile(codes[name], [25, 50, 75], axis=0).T.tolist(),
            "live_code_units": int((activity > 0).sum()),
        }
    psnr = {f"{key(name)}_db": values for name, values in psnr_curves.items()}
    return {
        "models": models,
        "denoising_psnr": {"noise_std": config["PSNR_NOISE_STDS"]} | psnr,
        "sgd_variants": sgd_results(sgd_variants),
        "config": {**config, "device": device},
    }
