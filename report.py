"""Presentation of the exercise 9 report: figures, tables, code listings, the notice for
runs with other settings, and the results file. The science is in helpers.py; the seed
study's statistics are in seed_study/statistics.py. The report's sentences are Markdown cells of
the notebook; the only words made here are the verdict phrases of stats.verdict and the
notice of changed settings.

Importing this module sets the report's figure style: every font at least 8 pt at the printed
size of a figure (FIGURE_WIDTH inches, the PDF's text width).
"""

from __future__ import annotations

import inspect
import json
import math
import os
import re
import shutil
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import ticker

import gd_variants
import helpers
import provenance
import settings
from seed_study import statistics as stats
from seed_study import study as seed_study_run

OUTPUT_VARIABLE = "EXERCISE9_OUTPUT"  # the tests set it: figures and results go there
OTHER_RUN_FOLDER = "other-run"  # figures and results of a run that the prose does not describe
UNFINISHED = ".unfinished-run"  # a run's files until it is complete (publish); ignored by git
FIGURE_WIDTH = 5.8  # inches: the text width of nbconvert's PDF page
STYLE = {"font.size": 9, "axes.titlesize": 9, "axes.labelsize": 9, "xtick.labelsize": 8,
         "ytick.labelsize": 8, "legend.fontsize": 8, "figure.titlesize": 9}
MARKERS = "os^DPX*vph"  # one shape per class, with tab10's ten colours: two triangles
NICE_MANTISSAS = (1, 1.2, 1.5, 2, 3, 4, 5, 6, 8)
mpl.rcParams.update(STYLE)

# ---------------------------------------------------------------------------- files


def destination(differs: bool) -> Path:
    """Return where this run's figures, models and results file go: $EXERCISE9_OUTPUT when
    set (the test run); else the project folder for the run that the prose describes, and
    other-run/ (ignored by git) for a run whose settings or device differ from it, so that
    no such run overwrites the committed figures and results.json."""
    root = os.environ.get(OUTPUT_VARIABLE)
    if root:
        return Path(root)
    return Path(OTHER_RUN_FOLDER) if differs else Path(".")


def output_folder(differs: bool) -> Path:
    """Return the folder this run writes into until it ends: an empty UNFINISHED folder in
    its destination (what a run cut off earlier left there is removed). publish() moves the
    files into the destination when the run is complete, so a run that is cut off leaves the
    files of the last complete run as they were."""
    staging = destination(differs) / UNFINISHED
    shutil.rmtree(staging, ignore_errors=True)
    return staging


def publish(staging: Path) -> Path:
    """Move every file of a complete run from its UNFINISHED folder into the destination,
    each replacing the last run's at once, the results file (JSON) last; return the
    destination."""
    target = Path(staging).parent
    files = sorted((path for path in Path(staging).rglob("*") if path.is_file()),
                   key=lambda path: (path.suffix == ".json", path.as_posix()))
    for path in files:
        moved = target / path.relative_to(staging)
        moved.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, moved)
    shutil.rmtree(staging, ignore_errors=True)
    return target


def save_figure(fig, folder: str | Path, name: str) -> Path:
    """Save a figure as folder/name.png (150 dpi) and return the path."""
    path = Path(folder) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150, bbox_inches="tight")
    return path


def write_results(path: str | Path, results: dict) -> Path:
    """Write the results file (strict JSON) atomically; return where it went."""
    return provenance.write_text_atomically(path, provenance.json_text(results))


def read_json(path: str | Path, remedy: str, required: tuple[str, ...] = ()) -> dict:
    """Return a JSON file's document; a missing file is FileNotFoundError, and a damaged one
    or one without a `required` key ValueError, each naming the file and what to do."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: {remedy}")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} is not valid JSON ({error}): {remedy}") from None
    missing = [key for key in required if not isinstance(document, dict) or key not in document]
    if missing:
        raise ValueError(f"{path} lacks {', '.join(map(repr, missing))}: {remedy}")
    return document


STUDY_KEYS = ("seeds", "settings", "code_digest", "comparisons", "similarity", "restarts")
RESULTS_KEYS = ("config", "autoencoder", "denoising_autoencoder", "references", "code_quality",
                "tsne_map")


def read_seed_study(path: str | Path) -> dict:
    """Return the committed seed study, or raise a clear error naming `make seeds`."""
    return read_json(path, "restore it with `git checkout -- seed_study.json`, or run "
                           "`make seeds` to make it again (about 30 minutes on 2 cores; minutes "
                           "when build/seed_models/ holds its trained models)",
                     (*STUDY_KEYS, *settings.VARIANTS))


def read_submission_run(path: str | Path) -> dict:
    """Return the submission's results file, or raise a clear error naming `make report`."""
    return read_json(path, f"restore it with `git checkout -- {Path(path).name}`, or run "
                           "`make report` (exercise9.ipynb writes it)", RESULTS_KEYS)


def read_committed_run(path: str | Path) -> dict | None:
    """Return the settings and device of the run that the prose describes, from its results
    file, or None where this run will be it: there is none yet, or `make report` records this
    run ($EXERCISE9_RECORD)."""
    if os.environ.get(provenance.RECORD_VARIABLE) or not Path(path).is_file():
        return None
    return read_json(path, f"restore it with `git checkout -- {Path(path).name}`")["config"]


# ---------------------------------------------------------------------------- notice


def changed_settings(config: dict, device: str, committed: dict | None) -> list[str]:
    """Return 'NAME = value instead of committed value' for every setting (and the device)
    that differs from the committed run's."""
    current = {**config, "device": device}
    return [f"`{name} = {current.get(name)!r}` instead of {value!r}"
            for name, value in (committed or {}).items() if current.get(name) != value]


def run_notice(changes: list[str], study: dict) -> str:
    """Return a notice naming the settings that differ from the committed run (changes, from
    changed_settings) and saying whether seed_study.json is stale, or ''."""
    notes = []
    if changes:
        notes.append("**Not the committed run.** This run differs from it in "
                     + "; ".join(changes) + ". The prose describes the committed run; the "
                     f"tables and figures are this run's, saved in `{OTHER_RUN_FOLDER}/`.")
    if stale := seed_study_run.staleness(study):
        notes.append(f"**The seed study is stale:** {stale}. Its tables describe the code "
                     "that made it; `make seeds` makes it again.")
    return "\n\n".join(notes)


# ---------------------------------------------------------------------------- figures


def wrapped(name: str) -> str:
    """Return a class name broken onto two lines at its space or slash (narrow titles)."""
    return name.replace("/", "/\n").replace(" ", "\n")


def log_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Return about `count` round values from about `low` to about `high`, evenly spread on a
    log scale (the nearest of NICE_MANTISSAS times a power of ten), and every power of ten in
    the range."""
    powers = range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1)
    nice = np.array(sorted(m * 10.0 ** p for p in powers for m in NICE_MANTISSAS))
    targets = np.geomspace(low, high, count)
    picked = {float(nice[np.argmin(abs(np.log(nice) - math.log(t)))]) for t in targets}
    picked |= {10.0 ** p for p in powers if low <= 10.0 ** p <= high}
    return sorted(round(value, 12) for value in picked)


def readable_log_axis(axis, low: float, high: float) -> None:
    """Label a log axis over its whole range with plain numbers (log_ticks), no minor labels."""
    ticks = log_ticks(low, high)
    axis.set_major_locator(ticker.FixedLocator(ticks))
    axis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_locator(ticker.NullLocator())
    if axis is axis.axes.yaxis:  # keep the outermost ticks inside the axes
        axis.axes.set_ylim(min(low, ticks[0]) / 1.05, max(high, ticks[-1]) * 1.05)


def show_image_rows(rows: dict[str, torch.Tensor], column_titles: list[str], title: str):
    """Return a figure with one labelled row of 28x28 images per entry of `rows`, the title
    and the column titles close above the first row."""
    columns, cell, header = len(column_titles), 0.47, 0.55  # inches: image cell, title block
    height = cell * len(rows) + header
    fig, axes = plt.subplots(len(rows), columns, squeeze=False, figsize=(FIGURE_WIDTH, height))
    for row, (label, images) in enumerate(rows.items()):
        for column, ax in enumerate(axes[row]):
            ax.imshow(images[column].reshape(28, 28).cpu().numpy(), cmap="gray", vmin=-1, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(wrapped(column_titles[column]), fontsize=8, pad=2)
        axes[row, 0].set_ylabel(label.replace(" ", "\n"), fontsize=8, rotation=0, ha="right",
                                va="center")
    fig.suptitle(title, fontsize=9, y=1 - 0.02 / height, va="top")
    fig.subplots_adjust(left=0.13, right=0.99, wspace=0.05, hspace=0.06,
                        top=1 - header / height, bottom=0.01)
    return fig


def plot_recorded(recorder: helpers.Recorder, classes: list[str], title: str):
    """Return one figure of a Recorder: the inputs, the output after every test, and (for
    noisy inputs) the clean originals."""
    noisy = recorder.inputs is not recorder.images
    rows = {"noisy input" if noisy else "input": recorder.inputs}
    rows.update({f"epoch {epoch}": output for epoch, output in recorder.outputs.items()})
    if noisy:
        rows["original"] = recorder.images
    return show_image_rows(rows, classes, title)



def plot_losses(histories: dict[str, helpers.TrainingHistory]):
    """Return a figure of training loss per epoch (lines) and test loss (markers), log y; a
    denoising model's test loss is on its noisy test inputs, and its label says so."""
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH, 2.4))
    values, colors = [], plt.get_cmap("tab10").colors
    for index, (name, history) in enumerate(histories.items()):
        color = colors[index % len(colors)]
        epochs = range(1, len(history.train_loss) + 1)
        ax.plot(epochs, history.train_loss, color=color, label=f"{name}: training loss")
        ax.plot(list(history.test_loss), list(history.test_loss.values()), "o", color=color,
                markerfacecolor="white", label=f"{name}: test loss"
                + (", noisy inputs" if history.noise_std else ""))
        values += history.train_loss + list(history.test_loss.values())
    ax.set_yscale("log")
    readable_log_axis(ax.yaxis, min(values), max(values))
    ax.set_xlabel("epoch")
    ax.set_ylabel("MSE per pixel ([-1, 1] scale)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    return fig


def plot_embedding(points: np.ndarray, labels: np.ndarray, classes: list[str], title: str, ax):
    """Draw a 2-D embedding into `ax`, one colour (tab10) and marker shape per class; return
    the scatter handles."""
    colors = plt.get_cmap("tab10")
    handles = []
    for index, name in enumerate(classes):
        mine = labels == index
        handles.append(ax.scatter(points[mine, 0], points[mine, 1], s=14, marker=MARKERS[index],
                                  color=colors(index), linewidths=0, alpha=0.85, label=name))
    ax.set_title(title)
    ax.set_xlabel("t-SNE 1 (no units)")
    ax.set_ylabel("t-SNE 2 (no units)")
    ax.set_xticks([])
    ax.set_yticks([])
    return handles


def plot_embeddings(embeddings: dict[str, np.ndarray], labels: np.ndarray, classes: list[str]):
    """Return a figure with the embeddings side by side and one legend of class names."""
    fig, axes = plt.subplots(1, len(embeddings), squeeze=False,
                             figsize=(FIGURE_WIDTH, 3.1 if len(embeddings) > 1 else 2.9))
    for ax, (title, points) in zip(axes[0], embeddings.items()):
        handles = plot_embedding(points, labels, classes, title, ax)
    for ax in axes[0, 1:]:
        ax.set_ylabel("")  # the first panel's label serves the row; a second one would overlap
    fig.legend(handles=handles, loc="lower center", ncol=5, markerscale=1.6, frameon=False,
               handletextpad=0.2, columnspacing=0.8)
    fig.subplots_adjust(bottom=0.22 if len(embeddings) > 1 else 0.19, wspace=0.08)
    return fig


def plot_sgd_runs(runs: dict[str, gd_variants.SGDRun]):
    """Return a figure of loss against examples processed (left, the same on every machine)
    and against measured training time (right, this machine's)."""
    fig, (by_examples, by_time) = plt.subplots(1, 2, sharey=True, figsize=(FIGURE_WIDTH, 2.6))
    for name, run in runs.items():
        line, = by_examples.plot(run.examples[1:], run.loss[1:], marker=".",
                                 label=f"{name} (lr {run.lr:g})")
        by_time.plot(run.seconds[1:], run.loss[1:], color=line.get_color(), marker=".")
    by_examples.set_xlabel("training examples processed")
    by_time.set_xlabel("measured training time (s)")
    for ax in (by_examples, by_time):
        ax.set_xscale("log")
        ax.grid(True, which="major", alpha=0.3)
    by_examples.set_ylabel("MSE on the fixed training images")
    by_examples.set_yscale("log")
    losses = [loss for run in runs.values() for loss in run.loss[1:] if math.isfinite(loss)]
    readable_log_axis(by_examples.yaxis, min(losses), max(losses))
    fig.legend(loc="lower center", ncol=len(runs), frameon=False)
    fig.subplots_adjust(bottom=0.3, wspace=0.08)
    return fig


def plot_psnr_levels(ax, noise_stds: list[float], curves: dict[str, list[float]],
                     training_std: float) -> None:
    """Draw PSNR (dB) against noise std, one line per curve, the training std marked."""
    for (name, values), marker in zip(curves.items(), "osD^v"):
        ax.plot(noise_stds, values, marker=marker, markersize=4, label=name)
    ax.axvline(training_std, color="gray", linestyle="--", linewidth=1)
    ax.annotate(f"training noise {training_std:g}", (training_std, 0.97), fontsize=8,
                xycoords=("data", "axes fraction"), ha="left", va="top", xytext=(3, 0),
                textcoords="offset points")
    ax.set_xlabel("noise std on the [-1, 1] scale")
    ax.set_ylabel("PSNR against the\nclean image (dB)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)


def paired_errorbar(ax, rows: list[dict], **style) -> None:
    """Draw rows' mean paired differences against their noise std with their intervals."""
    if not rows:
        return
    stds = [row["noise_std"] for row in rows]
    means = np.array([row["mean"] for row in rows])
    ends = np.array([row["interval"] for row in rows], dtype=float)
    ax.errorbar(stds, means, yerr=[means - ends[:, 0], ends[:, 1] - means], markersize=3.5,
                capsize=2, color="black", **style)


def plot_paired_curve(ax, rows: list[dict], family_rows: list[dict], labels: list[str],
                      title: str) -> None:
    """Draw a curve family's mean paired difference first − second against the noise std,
    with its simultaneous 95% intervals, the margin (grey band) and 0; a row of the main
    family at the training noise as an open marker."""
    every = sorted(rows + family_rows, key=lambda row: row["noise_std"])
    ax.fill_between([row["noise_std"] for row in every], [-row["margin"] for row in every],
                    [row["margin"] for row in every], color="0.85", linewidth=0, label="margin")
    ax.axhline(0, color="gray", linewidth=0.8)
    paired_errorbar(ax, rows, marker="o", linestyle="none", label="mean, 95% interval")
    if family_rows:
        paired_errorbar(ax, family_rows, marker="o", markerfacecolor="white", linestyle="none",
                        label="training noise (Table C1)")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("noise std")
    ax.set_ylabel(f"{labels[0]} − {labels[1]}")
    ax.grid(True, alpha=0.3)


def plot_psnr(noise_stds: list[float], curves: dict[str, list[float]], training_std: float,
              study: dict, models: tuple[str, str] | None = None):
    """Return a figure: PSNR against noise std of one run (top), and over the seed study
    the paired differences of the PSNR and of the code stability (bottom)."""
    fig, axes = plt.subplot_mosaic([["levels", "levels"], ["psnr_db", "code_stability"]],
                                   figsize=(FIGURE_WIDTH, 4.6),
                                   gridspec_kw={"height_ratios": [1, 1.1]})
    plot_psnr_levels(axes["levels"], noise_stds, curves, training_std)
    comparison = stats.comparison_of(study, models)
    for key, title in (("psnr_db", "PSNR (dB), over the seeds"),
                       ("code_stability", "code stability, over the seeds")):
        family = [row for row in comparison["rows"] if row["measure"] == key]
        plot_paired_curve(axes[key], comparison["curves"][key], family, comparison["labels"],
                          title)
    axes["code_stability"].legend(fontsize=7, loc="lower left")
    fig.subplots_adjust(hspace=0.65, wspace=0.45)
    return fig


def plot_code_units(codes: dict[str, np.ndarray]):
    """Return a figure with one row per model: each code unit's values (box) and active share."""
    fig, axes = plt.subplots(len(codes), 1, sharex=True, squeeze=False,
                             figsize=(FIGURE_WIDTH, 1.05 * len(codes) + 0.55))
    for ax, (name, values) in zip(axes[:, 0], codes.items()):
        units = range(1, values.shape[1] + 1)
        ax.boxplot(list(values.T), positions=list(units), widths=0.5, showfliers=False)
        for unit, share in zip(units, helpers.unit_activity(values)):
            ax.annotate(f"{share:.0%}" if share else "dead", (unit, 1.0), ha="center",
                        va="bottom", fontsize=8, xycoords=("data", "axes fraction"),
                        color="black" if share else "tab:red")
        ax.axhline(0, color="gray", linewidth=0.5)
        ax.set_ylabel("code value")
        ax.set_title(name, loc="left", pad=12)
    axes[-1, 0].set_xlabel("code unit (box: middle half of its values on the test set, "
                           "whiskers: 1.5 IQR)")
    fig.subplots_adjust(hspace=0.6)
    return fig


# ---------------------------------------------------------------------------- tables


def cell(value) -> str:
    """Return a table cell: floats with 3 decimals, integers and strings as they are."""
    return str(value) if isinstance(value, (int, str)) else f"{value:.3f}"


def markdown_table(rows: dict[str, tuple], columns: list[str], first: str = "measure") -> str:
    """Return a markdown table: one row per entry, one column per name."""
    lines = [f"| {first} | " + " | ".join(columns) + " |",
             "|" + "-" * 16 + "|" + "|".join(["-" * 7 + ":"] * len(columns)) + "|"]
    lines += [f"| {name} | " + " | ".join(map(cell, values)) + " |" for name, values in rows.items()]
    return "\n".join(lines)


def loss_table(history: helpers.TrainingHistory, per_row: int = 10) -> str:
    """Return a markdown table: training loss per epoch in rows of ten, test loss below."""
    epochs = len(history.train_loss)
    lines = ["| epochs | " + " | ".join(f"+{k}" for k in range(1, per_row + 1)) + " |",
             "|-------|" + "------:|" * per_row]
    for start in range(0, epochs, per_row):
        cells = [f"{history.train_loss[epoch]:.4f}" if epoch < epochs else ""
                 for epoch in range(start, start + per_row)]
        lines.append(f"| {start + 1}-{min(start + per_row, epochs)} | " + " | ".join(cells) + " |")
    tests = ", ".join(f"{epoch}: **{loss:.4f}**" for epoch, loss in history.test_loss.items())
    return "\n".join(lines) + f"\n\nTest loss after epoch {tests}."


def sgd_table(sweeps: dict[str, dict[float, gd_variants.SGDRun]], n_train: int) -> str:
    """Return Table 3: per variant, each learning rate's final loss and the kept run's numbers,
    the deterministic ones first, then this machine's timings."""
    kept = {name: best_run(runs) for name, runs in sweeps.items()}
    rows = {"batch size": tuple(run.batch_size for run in kept.values()),
            "updates (fixed)": tuple(run.updates[-1] for run in kept.values())}
    for k in range(max(len(runs) for runs in sweeps.values())):
        rows[f"lr {k + 1}: final loss"] = tuple(
            f"{list(runs)[k]:g}: {list(runs.values())[k].final_loss:.3f}" if k < len(runs)
            else "-" for runs in sweeps.values())
    rows.update({
        "lr kept": tuple(f"{run.lr:g}" for run in kept.values()),
        "passes over the training set": tuple(run.examples[-1] / n_train for run in kept.values()),
        "seconds (this machine)": tuple(f"{run.seconds[-1]:.1f}" for run in kept.values()),
        "examples per second (this machine)": tuple(
            f"{run.examples_per_second:,.0f}" for run in kept.values())})
    return markdown_table(rows, list(sweeps))


def best_run(runs: dict[float, gd_variants.SGDRun]) -> gd_variants.SGDRun:
    """Return the run with the lowest final loss."""
    return min(runs.values(), key=lambda run: run.final_loss)


def sheet_number(value: float) -> str:
    """Return a setting as the sheet writes it: 0.001, 128, 0.5, or 1e-5 for tiny numbers."""
    return re.sub(r"e([+-])0*(\d)", r"e\1\2", f"{value:g}") if isinstance(value, float) \
        else str(value)


def settings_table(config: dict) -> str:
    """Return the settings of the parameters cell that the text names, as a two-column table."""
    rows = [("epochs per model", "EPOCHS"), ("batch size", "BATCH_SIZE"),
            ("Adam learning rate", "LEARNING_RATE"),
            ("weight decay (the sheet's \"momentum\")", "WEIGHT_DECAY"),
            ("epochs between tests and plots", "TEST_EVERY"),
            ("noise std, Question 3 ($[-1, 1]$ scale)", "NOISE_STD"),
            ("seed of this run", "SEED"), ("test images in the t-SNE maps", "TSNE_POINTS"),
            ("seed of their sample and of t-SNE", "TSNE_SEED")]
    lines = ["| setting | name | value |", "|---|---|---:|"]
    return "\n".join(lines + [f"| {label} | `{name}` | {sheet_number(config[name])} |"
                              for label, name in rows])


def signed(value: float, decimals: int, plus: bool = False) -> str:
    """Return a number with a typographic minus (and a plus sign if `plus`), with more decimals
    where the given ones would round a non-zero value to 0."""
    while value and round(value, decimals) == 0 and decimals < 6:
        decimals += 1
    text = f"{value:+.{decimals}f}" if plus else f"{value:.{decimals}f}"
    return text.replace("-", "−")


def spread(values: list[float], decimals: int) -> str:
    """Return 'mean ± sd' of per-seed values."""
    return f"{signed(np.mean(values), decimals)} ± {np.std(values, ddof=1):.{decimals}f}"


def percent_spread(values: list[float]) -> str:
    """Return 'mean% ± sd' of per-seed shares, in percentage points."""
    return f"{np.mean(values):.0%} ± {100 * np.std(values, ddof=1):.0f}"


def decimals_of(row: dict) -> int:
    """Return the decimals the report shows for a compared measure."""
    return stats.MEASURES[row["measure"]].decimals


def level_of(row: dict, study: dict) -> int | None:
    """Return the position of a compared row's noise level (or class) in its measure's
    levels."""
    measure = stats.MEASURES[row["measure"]]
    if measure.levels is None:
        return None
    return study["settings"][measure.levels].index(row["label" if measure.per_class
                                                        else "noise_std"])


def interval_cell(row: dict) -> str:
    """Return a row's simultaneous interval '[low, high]' ('unbounded' with too few seeds)."""
    if None in row["interval"] or not all(map(math.isfinite, row["interval"])):
        return "unbounded"
    places = decimals_of(row)
    return "[" + ", ".join(signed(bound, places, plus=True) for bound in row["interval"]) + "]"


def comparison_cells(row: dict, study: dict, comparison: dict) -> list[str]:
    """Return a row of a comparison's cells: label, both models' mean ± sd, the mean
    difference, its simultaneous interval, the margin, the seeds the first model wins, the
    adjusted sign-flip p and the verdict."""
    places, level = decimals_of(row), level_of(row, study)
    means = [spread(stats.values_of(study[name], row["measure"], level), places)
             for name in comparison["models"]]
    return [row["label"], *means, signed(row["mean"], places, plus=True), interval_cell(row),
            f"±{row['margin']:.{places}f}", f"{row['first_wins']}/{row['seeds']}",
            f"{row['p_adjusted']:.3f}", row["verdict"]]


def comparison_table(study: dict, models: tuple[str, str] | None = None) -> str:
    """Return a comparison of the seed study (the first when `models` is None): every
    measure of its family with the mean paired difference first − second, the simultaneous
    95% interval, the margin, the wins, the adjusted p and the verdict."""
    comparison = stats.comparison_of(study, models)
    first, second = comparison["labels"]
    lines = [(f"| measure | {first} − {second} | simultaneous 95% interval | margin | "
              f"{first} wins | p × {len(comparison['rows'])}, at most 1 | verdict |"),
             "|" + "-" * 20 + "|" + "-" * 9 + ":|" + "-" * 20 + ":|" + "-" * 8 + ":|"
             + "-" * 5 + ":|" + "-" * 6 + ":|" + "-" * 20 + "|"]
    for row in comparison["rows"]:
        label, _, _, *rest = comparison_cells(row, study, comparison)
        lines.append("| " + " | ".join([label, *rest]) + " |")
    return "\n".join(lines)


def map_table(records: dict[str, helpers.ModelRecord], labels: np.ndarray, classes: list[str],
              class_groups: dict[str, list[str]], groups: tuple[str, ...] = ("footwear",)
              ) -> str:
    """Return, per class and map, the share of its points whose 5 nearest neighbours in the
    map vote for their own class, and the class it is most often taken for; then, per group
    of `class_groups` named in `groups`, the share whose vote stays in the group."""
    columns = {name: helpers.per_class_recall(labels, record.votes, classes)
               for name, record in records.items()}
    mixed = {name: most_taken_for(labels, record.votes, classes)
             for name, record in records.items()}
    lines = ["| class | " + " | ".join(records) + " |",
             "|" + "-" * 14 + "|" + ("-" * 30 + ":|") * len(records)]
    for index, name in enumerate(classes):
        lines.append(f"| {name} | " + " | ".join(
            f"{columns[model][name]:.0%}, {mixed[model][index]}" for model in records) + " |")
    for group in groups:
        shares = [f"{helpers.group_recall(labels, record.votes, classes, class_groups)[group]:.0%}"
                  for record in records.values()]
        lines.append(f"| {group} (group) | " + " | ".join(shares) + " |")
    return "\n".join(lines)


def class_map_table(records: dict[str, helpers.ModelRecord], labels: np.ndarray,
                    classes: list[str], study: dict, class_groups: dict[str, list[str]],
                    groups: tuple[str, ...] = (), measure: str = "map_class_share") -> str:
    """Return, per class, the share of its points kept to themselves in the map (as
    map_table) for this run's two models, then over the seed study's seeds: each model's mean
    ± sd and the verdict of the comparison's family over the classes; then, for this run, the
    share of each of `groups` that stays in its group."""
    comparison = stats.comparison_of(study, list(map(key, records)))
    rows = {row["label"]: row for row in comparison["classes"][measure]}
    first, second = comparison["labels"]
    seeds = len(study["seeds"])
    lines = [(f"| class | {first}, this run | {second}, this run | {first}, {seeds} seeds | "
              f"{second}, {seeds} seeds | verdict, {seeds} seeds |"),
             "|" + "-" * 20 + "|" + ("-" * 9 + ":|") * 2 + ("-" * 12 + ":|") * 2 + "-" * 16 + "|"]
    shares = [helpers.per_class_recall(labels, record.votes, classes) for record in records.values()]
    for level, name in enumerate(classes):
        spreads = [percent_spread(stats.values_of(study[model], measure, level))
                   for model in comparison["models"]]
        lines.append(f"| {name} | {shares[0][name]:.0%} | {shares[1][name]:.0%} | "
                     f"{spreads[0]} | {spreads[1]} | {rows[name]['verdict']} |")
    for group in groups:
        shares = [helpers.group_recall(labels, record.votes, classes, class_groups)[group]
                  for record in records.values()]
        lines.append(f"| {group} (group) | {shares[0]:.0%} | {shares[1]:.0%} | - | - | - |")
    return "\n".join(lines)


def vote_counts(labels: np.ndarray, votes: np.ndarray, classes: list[str]) -> dict:
    """Return per class how many of its points the 5-neighbour vote gives to each class."""
    return {name: {other: int(np.sum((labels == index) & (votes == voted)))
                   for voted, other in enumerate(classes)
                   if np.any((labels == index) & (votes == voted))}
            for index, name in enumerate(classes)}


def most_taken_for(labels: np.ndarray, votes: np.ndarray, classes: list[str]) -> list[str]:
    """Return per class the other class its points' votes name most often ('-' if none)."""
    result = []
    for index in range(len(classes)):
        others = np.bincount(votes[(labels == index) & (votes != index)], minlength=len(classes))
        result.append(classes[int(others.argmax())] if others.any() else "-")
    return result


def summary_cell(values: dict) -> str:
    """Return 'mean ± sd' of a similarity summary (3 decimals)."""
    return f"{values['mean']:.3f} ± {values['sd']:.3f}"


CODE_ROWS = ("live code units", "5-NN accuracy", "linear-probe accuracy",
             "silhouette in code space", "silhouette in the t-SNE plane",
             f"code stability at noise {settings.NOISE_STD:g}")
SIMILARITY = (("cka", "linear CKA"), ("knn_overlap", "10-NN overlap"))


def seeds_won(row: dict, study: dict, comparison: dict) -> str:
    """Return ', in n of N seeds' for a row whose verdict names a better model: the seeds in
    which that model is better ('' for an inconclusive or equivalent row)."""
    if " better" not in row["verdict"]:
        return ""
    level = level_of(row, study)
    one, other = (np.array(stats.values_of(study[name], row["measure"], level))
                  for name in comparison["models"])
    first_better = (row["interval"][0] > 0) == row["higher_is_better"]
    wins = row["first_wins"] if first_better else int(np.sum(
        (other > one) if row["higher_is_better"] else (other < one)))
    return f", in {wins} of {row['seeds']} seeds"


def code_table(study: dict, measures: tuple[str, ...] = CODE_ROWS,
               models: tuple[str, str] | None = None, similarity: bool = True) -> str:
    """Return the codes of a comparison's two models (the first when `models` is None) over
    the seeds: the measures named by label, each model's mean ± sd with the verdict of the
    comparison's family; then, with `similarity`, the code similarity (linear CKA, 10-NN
    overlap) within each model, across the two, and across the two with the same seed."""
    comparison = stats.comparison_of(study, models)
    first, second = comparison["labels"]
    header = "verdict, or across the two models" if similarity else "verdict"
    lines = [f"| measure | {first} | {second} | {header} |",
             "|" + "-" * 28 + "|" + "-" * 17 + ":|" + "-" * 17 + ":|" + "-" * 24 + "|"]
    rows = {row["label"]: row for row in comparison["rows"]}
    for label in measures:
        label_cell, one, other, *_, verdict = comparison_cells(rows[label], study, comparison)
        lines.append(f"| {label_cell} | {one} | {other} | {verdict}"
                     f"{seeds_won(rows[label], study, comparison)} |")
    if not similarity:
        return "\n".join(lines)
    summary = study["similarity"]["summary"]
    for measure, label in SIMILARITY:
        cells = [summary_cell(summary[group][measure]) for group in
                 (f"{first}-{first}", f"{second}-{second}", f"{first}-{second}",
                  f"{first}-{second}, same seed")]
        lines.append(f"| {label} | {cells[0]} | {cells[1]} | across: {cells[2]}; "
                     f"same seed: {cells[3]} |")
    return "\n".join(lines)


def error_table(records: dict[str, helpers.ModelRecord], test_x: torch.Tensor,
                noisy_input_mse: float) -> str:
    """Return each model's test MSE with clean and with noisy inputs and its live code units
    (non-zero for some clean test image), and the MSE of the noisy inputs themselves."""
    rows = {name: (f"{record.mse_clean:.4f}", f"{record.mse_noisy:.4f}",
                   helpers.count_live_units(record.model, test_x))
            for name, record in records.items()}
    rows["the noisy inputs themselves"] = ("-", f"{noisy_input_mse:.4f}", "-")
    return markdown_table(rows, ["test MSE, clean inputs", "test MSE, noisy inputs",
                                 "live code units"], first="")


# ---------------------------------------------------------------------------- the companion


CODE_MEASURES = ("test_mse_clean", "test_mse_noisy", "knn_accuracy", "linear_probe_accuracy",
                 "code_silhouette", "tsne_silhouette", "trustworthiness")


def scores_table(scores: dict[str, dict[str, float]], measures: tuple[str, ...] = CODE_MEASURES
                 ) -> str:
    """Return one column per model and one row per measure (labels and decimals of
    seed_statistics.MEASURES): the companion's table of reconstruction and code quality."""
    rows = {}
    for measure in measures:
        shown = stats.MEASURES[measure]
        rows[shown.label] = tuple(signed(values[measure], shown.decimals)
                                  for values in scores.values())
    return markdown_table(rows, list(scores))


def check_submission_models(records: dict[str, helpers.ModelRecord], results: dict) -> None:
    """Raise ValueError unless every model's test MSE on clean inputs is the one that the
    submission's results file records for it (the model files and results.json of one run)."""
    for name, record in records.items():
        recorded = results.get(key(name), {}).get("test_mse_clean", math.nan)
        if not math.isclose(record.mse_clean, recorded, rel_tol=1e-4):
            raise ValueError(
                f"the saved {name} has test MSE {record.mse_clean:.6f}, the submission's results "
                f"file records {recorded}: the models and results.json come from different runs."
                f" Run `make report` (exercise9.ipynb writes both), or restore both with git.")


def equal_budgets(runs: dict[str, gd_variants.SGDRun], compare_at: int) -> dict:
    """Return the budgets at which the kept runs are compared: `compare_at` examples, the
    examples of the run that processed fewest beyond it, and the training time of the
    shortest run (this machine's)."""
    beyond = [run.examples[-1] for run in runs.values() if run.examples[-1] > compare_at]
    return {"examples": [compare_at, min(beyond)] if beyond else [compare_at],
            "seconds": min(run.seconds[-1] for run in runs.values())}


def budget_losses(runs: dict[str, gd_variants.SGDRun], budgets: dict) -> dict:
    """Return per kept run its (loss, where) at or before each budget of equal_budgets."""
    return {key(name): {"examples": [gd_variants.loss_at(run, "examples", budget)
                                     for budget in budgets["examples"]],
                        "seconds": gd_variants.loss_at(run, "seconds", budgets["seconds"])}
            for name, run in runs.items()}


def budget_table(runs: dict[str, gd_variants.SGDRun], budgets: dict) -> str:
    """Return each kept run's loss at equal budgets: after the same examples and after the
    same training time (with where it was last measured, at or before the budget)."""
    losses = budget_losses(runs, budgets)
    columns = [f"{budget:,} examples" for budget in budgets["examples"]]
    columns.append(f"{budgets['seconds']:.2f} s (this machine)")
    lines = ["| variant | " + " | ".join(columns) + " |",
             "|" + "-" * 12 + "|" + "|".join(["-" * 21 + ":"] * len(columns)) + "|"]
    for name, entry in losses.items():
        cells = [f"{point[0]:.3f} (at {point[1]:,})" if point else "not reached"
                 for point in entry["examples"]]
        point = entry["seconds"]
        cells.append(f"{point[0]:.3f} (at {point[1]:.2f} s)" if point else "not reached")
        lines.append(f"| {name.replace('_', '-')} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def sgd_results(sgd_sweeps: dict[str, dict[float, gd_variants.SGDRun]], compare_at: int) -> dict:
    """Return the gradient-descent experiment as JSON-ready numbers: per variant the kept
    run, its loss after `compare_at` examples, and every rate's final loss and its curve (the
    loss after the examples processed and the seconds of training of each measurement); and
    the kept runs' losses at equal budgets (equal_budgets; the time budget is this
    machine's)."""
    kept = {name: best_run(runs) for name, runs in sgd_sweeps.items()}
    budgets = equal_budgets(kept, compare_at)
    return {"compare_at_examples": compare_at,
            "equal_budgets": {**budgets, "losses": budget_losses(kept, budgets)}, **{
        key(name): {**run.to_dict(),
                    "loss_at_compare": run.loss[run.examples.index(compare_at)]
                    if compare_at in run.examples else None,
                    "learning_rates": {f"{lr:g}": r.final_loss
                                       for lr, r in sgd_sweeps[name].items()},
                    "loss_curves": {f"{lr:g}": r.loss for lr, r in sgd_sweeps[name].items()},
                    "examples_curves": {f"{lr:g}": r.examples
                                        for lr, r in sgd_sweeps[name].items()},
                    "seconds_curves": {f"{lr:g}": r.seconds
                                       for lr, r in sgd_sweeps[name].items()}}
        for name, run in kept.items()}}


def companion_results(*, config: dict, device: str, model_files: dict[str, str | Path],
                      codes: dict[str, np.ndarray], scores: dict[str, dict[str, float]],
                      psnr_curves: dict[str, list[float]], sgd_sweeps: dict,
                      compare_at: int) -> dict:
    """Return every number of the companion notebook as one JSON-ready document
    (companion_results.json): which model files it read, their code units (share of test
    images on which each fires, quartiles of its values), the scores of every code, PSNR
    against noise, the gradient-descent experiment and the settings."""
    models = {}
    for name, path in model_files.items():
        activity = helpers.unit_activity(codes[name])
        models[key(name)] = {"file": Path(path).as_posix(),
                             "sha256": provenance.file_sha256(Path(path)),
                             "unit_activity": activity.tolist(),
                             "unit_quartiles": np.percentile(codes[name], [25, 50, 75],
                                                             axis=0).T.tolist(),
                             "live_code_units": int((activity > 0).sum())}
    return {
        "models": models,
        "scores": {key(name): values for name, values in scores.items()},
        "denoising_psnr": {"noise_std": config["PSNR_NOISE_STDS"],
                           **{key(name) + "_db": values for name, values in psnr_curves.items()}},
        "sgd_variants": sgd_results(sgd_sweeps, compare_at),
        "config": {**config, "device": device},
    }


# ---------------------------------------------------------------------------- listings


def listing(*objects) -> str:
    """Return the source code of functions or classes as one fenced Python block."""
    return "```python\n" + "\n\n".join(inspect.getsource(obj).rstrip() for obj in objects) + "\n```"


def source_lines(obj, first: str, last: str) -> str:
    """Return the lines of obj's source from the one containing `first` to the one containing
    `last` (both included), dedented, as a fenced block: a complete fragment."""
    lines = inspect.getsource(obj).splitlines()
    start = next(i for i, line in enumerate(lines) if first in line)
    end = next(i for i, line in enumerate(lines[start:], start) if last in line)
    indent = min(len(line) - len(line.lstrip()) for line in lines[start:end + 1] if line.strip())
    return "```python\n" + "\n".join(line[indent:] for line in lines[start:end + 1]) + "\n```"


# ---------------------------------------------------------------------------- results


def recorded_numbers(recorder: helpers.Recorder, classes: list[str]) -> dict:
    """Return, per recorded epoch and shown image (by class), the MSE of the output against
    the clean image, its mean pixel and its share of light pixels (above 0 on the [-1, 1]
    scale), and the same for the inputs and the clean images."""
    def per_class(values: torch.Tensor) -> dict[str, float]:
        return dict(zip(classes, values.tolist()))
    outputs = recorder.outputs.items()
    return {"mse": {str(epoch): per_class((output - recorder.images).pow(2).mean(1))
                    for epoch, output in outputs},
            "mean_pixel": {str(epoch): per_class(output.mean(1)) for epoch, output in outputs},
            "light_share": {str(epoch): per_class((output > 0).float().mean(1))
                            for epoch, output in outputs},
            "input_mean_pixel": per_class(recorder.inputs.mean(1)),
            "clean_mean_pixel": per_class(recorder.images.mean(1)),
            "clean_light_share": per_class((recorder.images > 0).float().mean(1))}


def key(name: str) -> str:
    """Return a model's name as a results.json key ('denoising autoencoder' ->
    'denoising_autoencoder')."""
    return {"PCA-8": "pca8"}.get(name, name.replace(" ", "_").replace("-", "_"))


def results_document(*, config: dict, device: str, records: dict[str, helpers.ModelRecord],
                     references: dict[str, float], noisy_input_mse: float, labels: np.ndarray,
                     classes: list[str], class_groups: dict[str, list[str]]) -> dict:
    """Return every number of the report as one JSON-ready document (results.json)."""
    models = {key(name): {**record.history.to_dict(), "test_mse_clean": record.mse_clean,
                          "test_mse_noisy": record.mse_noisy,
                          "train_test_gap": {epoch: abs(loss / record.history.train_loss[
                              int(epoch) - 1] - 1) for epoch, loss in
                              record.history.to_dict()["test_loss"].items()},
                          "unit_activity": helpers.unit_activity(record.test_codes).tolist(),
                          "recorded": recorded_numbers(record.recorder, classes)}
              for name, record in records.items()}
    models["denoising_autoencoder"]["noisy_input_mse"] = noisy_input_mse
    return {
        **models,
        "references": references,
        "code_quality": {key(name): record.quality for name, record in records.items()},
        "tsne_map": {key(name): {"class_recall": helpers.per_class_recall(labels, r.votes, classes),
                                 "group_recall": helpers.group_recall(labels, r.votes, classes,
                                                                      class_groups),
                                 "taken_for": dict(zip(classes, most_taken_for(
                                     labels, r.votes, classes))),
                                 "votes": vote_counts(labels, r.votes, classes)}
                     for name, r in records.items()},
        "config": {**config, "device": device},
    }
