"""Presentation of the exercise 9 report: figures, tables, computed wording, code listings and
the results file. The science (data, model, training, metrics) is in helpers.py.

Importing this module sets the report's figure style: every font at least 8 pt at the printed
size of a figure (FIGURE_WIDTH inches, the PDF's text width).
"""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import math
import os
import re
import statistics
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import ticker

import helpers

OUTPUT_VARIABLE = "EXERCISE9_OUTPUT"  # the tests set it: figures and results go there
FIGURE_WIDTH = 5.8  # inches: the text width of nbconvert's PDF page
STYLE = {"font.size": 9, "axes.titlesize": 9, "axes.labelsize": 9, "xtick.labelsize": 8,
         "ytick.labelsize": 8, "legend.fontsize": 8, "figure.titlesize": 9}
MARKERS = "os^DvP*X<>"  # one shape per class, with tab10's ten colours
mpl.rcParams.update(STYLE)

# ---------------------------------------------------------------------------- output files


def output_path(path: str | Path) -> Path:
    """Return `path`, placed under $EXERCISE9_OUTPUT when that is set (the test run)."""
    root = os.environ.get(OUTPUT_VARIABLE)
    return Path(root) / path if root else Path(path)


def save_figure(fig, folder: str | Path, name: str) -> Path:
    """Save a figure as folder/name.png (150 dpi) and return the path."""
    path = output_path(folder) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150, bbox_inches="tight")
    return path


def finite_or_none(value):
    """Return the value with every non-finite float (inf, nan) inside it replaced by None."""
    if isinstance(value, dict):
        return {key: finite_or_none(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def results_json(results: dict) -> str:
    """Return the results as strict JSON text (inf and nan become null), indented."""
    return json.dumps(finite_or_none(results), indent=2, allow_nan=False) + "\n"


def write_results(path: str | Path, results: dict) -> Path:
    """Write the results file (strict JSON) atomically; return where it went."""
    target = output_path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_text(results_json(results), encoding="utf-8")
    os.replace(temporary, target)
    return target


def read_seed_study(path: str | Path) -> dict:
    """Return the committed seed study, or raise a clear error naming `make seeds`."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise FileNotFoundError(f"{path} is missing or unreadable ({error}): run `make seeds` "
                                "to create it (about 8 minutes)") from None


# ---------------------------------------------------------------------------- figures


def wrapped(name: str) -> str:
    """Return a class name broken onto two lines at its space or slash (narrow titles)."""
    return name.replace("/", "/\n").replace(" ", "\n")


def readable_log_axis(axis, low: float, high: float) -> None:
    """Give a log axis plain-number tick labels, as many as fit without overlapping."""
    decades = math.log10(high / low)
    subs = range(1, 10) if decades < 0.5 else (1, 2, 3, 5) if decades < 1.2 else (1, 2, 5) \
        if decades < 2.5 else (1.0,)
    axis.set_major_locator(ticker.LogLocator(subs=subs))
    axis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(ticker.NullFormatter())


def show_image_rows(rows: dict[str, torch.Tensor], column_titles: list[str], title: str):
    """Return a figure with one labelled row of 28x28 images per entry of `rows`."""
    columns = len(column_titles)
    fig, axes = plt.subplots(len(rows), columns, squeeze=False,
                             figsize=(FIGURE_WIDTH, 0.58 * len(rows) + 0.75))
    for row, (label, images) in enumerate(rows.items()):
        for column, ax in enumerate(axes[row]):
            ax.imshow(images[column].reshape(28, 28).cpu().numpy(), cmap="gray", vmin=-1, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(wrapped(column_titles[column]), fontsize=8)
        axes[row, 0].set_ylabel(label.replace(" ", "\n"), fontsize=8, rotation=0, ha="right",
                                va="center")
    fig.suptitle(title, fontsize=9, y=0.99)
    fig.subplots_adjust(left=0.13, right=0.99, wspace=0.05, hspace=0.06,
                        top=0.72 if len(rows) < 3 else 0.78, bottom=0.02)
    return fig


def show_reconstructions(model: helpers.Autoencoder, images: torch.Tensor, titles: list[str],
                         title: str, noisy: torch.Tensor | None = None):
    """Return a figure of the inputs (noisy ones if given), their reconstructions, originals."""
    if noisy is None:
        rows = {"input": images, "output": helpers.reconstruct(model, images)}
    else:
        rows = {"noisy input": noisy, "output": helpers.reconstruct(model, noisy),
                "original": images}
    return show_image_rows(rows, titles, title)


def plot_losses(histories: dict[str, helpers.TrainingHistory]):
    """Return a figure of training loss per epoch (lines) and test loss (markers), log y."""
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH, 3.2))
    values = []
    for color, (name, history) in zip(("tab:blue", "tab:orange"), histories.items()):
        epochs = range(1, len(history.train_loss) + 1)
        ax.plot(epochs, history.train_loss, color=color, label=f"{name}: training loss")
        ax.plot(list(history.test_loss), list(history.test_loss.values()), "o", color=color,
                markerfacecolor="white", label=f"{name}: test loss")
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
                             figsize=(FIGURE_WIDTH, 3.9 if len(embeddings) > 1 else 3.9))
    for ax, (title, points) in zip(axes[0], embeddings.items()):
        handles = plot_embedding(points, labels, classes, title, ax)
    for ax in axes[0, 1:]:
        ax.set_ylabel("")  # the first panel's label serves the row; a second one would overlap
    fig.legend(handles=handles, loc="lower center", ncol=5, markerscale=1.6, frameon=False,
               handletextpad=0.2, columnspacing=0.8)
    fig.subplots_adjust(bottom=0.22 if len(embeddings) > 1 else 0.19, wspace=0.08)
    return fig


def plot_sgd_runs(runs: dict[str, helpers.SGDRun]):
    """Return a figure of loss against examples processed (left, the same on every machine)
    and against measured training time (right, this machine's)."""
    fig, (by_examples, by_time) = plt.subplots(1, 2, sharey=True, figsize=(FIGURE_WIDTH, 3.0))
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


def plot_psnr(noise_stds: list[float], curves: dict[str, list[float]], training_std: float):
    """Return a figure of PSNR (dB) against noise std, one line per curve, training std marked."""
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH, 3.0))
    for (name, values), marker in zip(curves.items(), "osD^v"):
        ax.plot(noise_stds, values, marker=marker, markersize=4, label=name)
    ax.axvline(training_std, color="gray", linestyle="--", linewidth=1)
    ax.annotate(f"training noise {training_std:g}", (training_std, 0.97), fontsize=8,
                xycoords=("data", "axes fraction"), ha="left", va="top", xytext=(3, 0),
                textcoords="offset points")
    ax.set_xlabel("noise std on the [-1, 1] scale")
    ax.set_ylabel("PSNR against the\nclean image (dB)")
    ax.grid(True, alpha=0.3)
    ax.legend()
    return fig


def plot_code_units(codes: dict[str, np.ndarray]):
    """Return a figure with one row per model: each code unit's values (box) and active share."""
    fig, axes = plt.subplots(len(codes), 1, sharex=True, squeeze=False,
                             figsize=(FIGURE_WIDTH, 1.6 * len(codes) + 0.6))
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


def value_label(value: float) -> str:
    """Return a code value short enough to print under a 28x28 image."""
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def plot_traversal(images: dict[str, torch.Tensor], values: dict[str, np.ndarray],
                   live: dict[str, np.ndarray]):
    """Return a figure with one panel per model: row u decodes the code with unit u set to
    each of values[u] (printed under the image); dead units are labelled so."""
    units, steps = next(iter(values.values())).shape
    fig = plt.figure(figsize=(FIGURE_WIDTH, 0.52 * units + 0.45))
    for panel, name in zip(fig.subfigures(1, len(images), wspace=0.04), images):
        axes = panel.subplots(units, steps)
        for unit in range(units):
            for step, ax in enumerate(axes[unit]):
                ax.imshow(images[name][unit, step].reshape(28, 28).numpy(), cmap="gray",
                          vmin=-1, vmax=1)
                ax.set_xticks([])
                ax.set_yticks([])
                ax.set_xlabel(value_label(values[name][unit, step]), fontsize=8, labelpad=1)
            label = f"unit {unit + 1}" + ("" if live[name][unit] else "\ndead")
            axes[unit, 0].set_ylabel(label, fontsize=8, rotation=0, ha="right", va="center",
                                     color="black" if live[name][unit] else "tab:red")
        panel.suptitle(name, fontsize=9)
        panel.subplots_adjust(left=0.2, right=0.99, top=0.95, bottom=0.03, wspace=0.06,
                              hspace=0.45)
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


def loss_table(history: helpers.TrainingHistory, per_column: int = 10) -> str:
    """Return a markdown table: training loss per epoch in columns of ten, test loss below."""
    epochs = len(history.train_loss)
    starts = range(0, epochs, per_column)
    header = "| epoch | " + " | ".join(f"{s + 1}-{min(s + per_column, epochs)}" for s in starts)
    lines = [header + " |", "|---:" * (len(starts) + 1) + "|"]
    for offset in range(min(per_column, epochs)):
        cells = [f"{history.train_loss[s + offset]:.4f}" if s + offset < epochs else ""
                 for s in starts]
        lines.append(f"| +{offset} | " + " | ".join(cells) + " |")
    tests = " | ".join(f"{epoch}: **{loss:.4f}**" for epoch, loss in history.test_loss.items())
    return "\n".join(lines) + f"\n\nTest loss by epoch: {tests}"


def sgd_table(sweeps: dict[str, dict[float, helpers.SGDRun]], n_train: int) -> str:
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
        "final loss": tuple(run.final_loss for run in kept.values()),
        "seconds (this machine)": tuple(f"{run.seconds[-1]:.1f}" for run in kept.values()),
        "examples per second (this machine)": tuple(
            f"{run.examples_per_second:,.0f}" for run in kept.values())})
    return markdown_table(rows, list(sweeps))


def best_run(runs: dict[float, helpers.SGDRun]) -> helpers.SGDRun:
    """Return the run with the lowest final loss."""
    return min(runs.values(), key=lambda run: run.final_loss)


# ---------------------------------------------------------------------------- seed study

SEED_METRICS = {  # key: (label, higher is better, decimals)
    "test_mse_clean": ("test MSE on clean inputs", False, 4),
    "test_mse_noisy": ("test MSE on noisy inputs", False, 4),
    "live_code_units": ("live code units", True, 1),
    "knn_accuracy": ("5-NN accuracy", True, 3),
    "linear_probe_accuracy": ("linear-probe accuracy", True, 3),
    "code_silhouette": ("silhouette in code space", True, 3),
    "silhouette_tsne": ("silhouette in the t-SNE plane", True, 3),
    "trustworthiness": ("t-SNE trustworthiness", True, 3),
}


def verdict(mean: float, sd: float, higher_is_better: bool, first: str = "plain",
            second: str = "denoising") -> str:
    """Return how a paired difference (first - second) reads: within 2 sd of its seed spread
    it is 'no measurable difference', otherwise which model is better."""
    if abs(mean) <= 2 * sd:
        return "no measurable difference"
    better = first if (mean > 0) == higher_is_better else second
    return f"{better} better"


def difference(study: dict, key: str, level: int | None = None) -> tuple[float, float, int, int]:
    """Return the plain-minus-denoising difference of a metric over the seeds: mean, sd, the
    seeds the plain model wins and the number of seeds (level: index into psnr_db)."""
    plain = seed_values(study, "autoencoder", key, level)
    denoising = seed_values(study, "denoising_autoencoder", key, level)
    gaps = [a - b for a, b in zip(plain, denoising)]
    higher = SEED_METRICS.get(key, ("", True, 0))[1]
    wins = sum((gap > 0) == higher and gap != 0 for gap in gaps)
    return statistics.mean(gaps), statistics.stdev(gaps), wins, len(gaps)


def seed_values(study: dict, model: str, key: str, level: int | None = None) -> list[float]:
    """Return one model's per-seed values of a metric (a PSNR level if `level` is given)."""
    values = study[model][key]["values"]
    return [value[level] for value in values] if level is not None else list(values)


def spread(values: list[float], decimals: int) -> str:
    """Return 'mean ± sd' of per-seed values."""
    return f"{statistics.mean(values):.{decimals}f} ± {statistics.stdev(values):.{decimals}f}"


def seed_rows(study: dict) -> list[tuple[str, str, int | None, bool, int]]:
    """Return the compared measures: label, key, PSNR level, higher is better, decimals."""
    rows = [(label, key, None, higher, decimals)
            for key, (label, higher, decimals) in SEED_METRICS.items()
            if key in study["autoencoder"]]
    stds = study["settings"]["noise_stds_psnr"]
    rows += [(f"PSNR at noise {std:g} (dB)", "psnr_db", level, True, 2)
             for level, std in enumerate(stds) if std > 0]
    return rows


def seed_table(study: dict, main_run: dict[str, dict[str, float]]) -> str:
    """Return the seed-study table: mean ± sd per model, the paired difference with its sd,
    the plain model's wins, the verdict, and the report's own run (marked *)."""
    seeds = len(study["seeds"])
    lines = ["| measure | plain | denoising | plain - denoising | plain wins | better (2 sd) "
             "| this run* |", "|" + "|".join("-" * width for width in (20, 14, 14, 15, 7, 9))
             + "|" + "-" * 14 + ":|"]
    for label, key, level, higher, decimals in seed_rows(study):
        mean, sd, wins, _ = difference(study, key, level)
        mine = [main_run[model].get(key if level is None else f"psnr_db_{level}")
                for model in ("autoencoder", "denoising_autoencoder")]
        own = " / ".join("-" if value is None else f"{value:.{decimals}f}" for value in mine)
        better = verdict(mean, sd, higher).replace(" better", "")
        lines.append(
            f"| {label} | {spread(seed_values(study, 'autoencoder', key, level), decimals)} | "
            f"{spread(seed_values(study, 'denoising_autoencoder', key, level), decimals)} | "
            f"{mean:+.{decimals}f} ± {sd:.{decimals}f} | {wins} of {seeds} | "
            f"{'none' if better == 'no measurable difference' else better} | {own} |")
    return "\n".join(lines)


def seed_verdicts(study: dict) -> dict[str, str]:
    """Return the verdict of every compared measure, keyed by its label."""
    return {label: verdict(*difference(study, key, level)[:2], higher)
            for label, key, level, higher, _ in seed_rows(study)}


def seed_summary(study: dict) -> str:
    """Return the sentence that sums up the seed study: which measures differ, which do not."""
    verdicts = seed_verdicts(study)
    same = [label for label, text in verdicts.items() if text == "no measurable difference"]
    differ = [f"{label} ({text})" for label, text in verdicts.items() if label not in same]
    seeds = len(study["seeds"])
    return (f"Over {seeds} seeds, the plain and the denoising autoencoder show no measurable "
            f"difference (a gap within 2 sd of its seed-to-seed spread) in "
            f"{'; '.join(same) or 'none of the measures'}. They differ in "
            f"{'; '.join(differ) or 'none of them'}.")


def seed_differences(study: dict) -> str:
    """Return which measures of the seed study differ by more than 2 sd, in one sentence."""
    verdicts = seed_verdicts(study)
    differ = [f"{label} ({text})" for label, text in verdicts.items()
              if text != "no measurable difference"]
    if not differ:
        return f"None of the {len(verdicts)} measures of Table 7 differs by more than 2 sd."
    return (f"Of the {len(verdicts)} measures of Table 7, only {'; '.join(differ)} "
            f"differ{'s' if len(differ) == 1 else ''} by more than 2 sd.")


# ---------------------------------------------------------------------------- wording


def map_description(points_labels: np.ndarray, votes: np.ndarray, classes: list[str]) -> str:
    """Return which classes a 2-D map keeps apart and which it mixes, from each point's
    5 nearest neighbours in the map (helpers.plane_neighbour_votes)."""
    recall = helpers.per_class_recall(points_labels, votes, classes)
    apart = [f"{name} ({share:.0%})" for name, share in
             sorted(recall.items(), key=lambda item: -item[1]) if share >= 0.8]
    mixed = helpers.most_confused_pairs(points_labels, votes, classes, top=4)
    pairs = "; ".join(f"{a} with {b} ({n} points)" for a, b, n in mixed if n)
    return (f"Classes that keep to themselves in the map (share of their points whose 5 "
            f"nearest neighbours in the plane vote for their own class, at least 80%): "
            f"{', '.join(apart) or 'none'}. Pairs that mix most: {pairs or 'none'}.")


def sgd_summary(runs: dict[str, helpers.SGDRun], compare_at: int) -> str:
    """Return the deterministic reading of Figure 8: updates, equal-example losses, order."""
    sgd, mini, full = (runs[name] for name in ("stochastic", "mini-batch", "batch"))
    at = {name: run.loss[run.examples.index(compare_at)] for name, run in runs.items()
          if compare_at in run.examples}
    ranked = sorted(runs, key=lambda name: runs[name].final_loss)
    per_example = "stochastic" if at["stochastic"] < at["mini-batch"] else "mini-batch"
    return (
        f"From the same start (loss {sgd.loss[0]:.3f}), stochastic GD made {sgd.updates[-1]:,} "
        f"updates, mini-batch GD {mini.updates[-1]:,} and batch GD {full.updates[-1]:,}. "
        f"After the same {compare_at:,} training examples (measured, not interpolated), "
        f"stochastic GD is at {at['stochastic']:.3f} and mini-batch GD at "
        f"{at['mini-batch']:.3f}: per example, {per_example} GD learns more. At the end the "
        f"order is {', '.join(ranked)} (final losses "
        f"{', '.join(f'{runs[name].final_loss:.3f}' for name in ranked)}); batch GD, with "
        f"{full.updates[-1]} exact steps, is {1 - full.final_loss / full.loss[0]:.0%} below the "
        f"start.")


def sgd_timing(runs: dict[str, helpers.SGDRun], device: str) -> str:
    """Return the machine-dependent reading of Figure 8: throughput on this device."""
    sgd, mini, full = (runs[name] for name in ("stochastic", "mini-batch", "batch"))
    return (
        f"Measured on this run's device ({device}): stochastic GD made "
        f"{sgd.updates_per_second:,.0f} updates per second, mini-batch GD "
        f"{mini.updates_per_second:,.0f} and batch GD {full.updates_per_second:.2f}. A batch of "
        f"{mini.batch_size} costs {sgd.updates_per_second / mini.updates_per_second:.1f} times "
        f"as long as one example, so mini-batch GD processes "
        f"{mini.examples_per_second / sgd.examples_per_second:.0f} times as many examples per "
        f"second: one matrix product uses the vectorised hardware that single examples leave "
        f"idle. These timings differ between machines; the losses do not.")


# ---------------------------------------------------------------------------- listings


def listing(*objects) -> str:
    """Return the source code of functions or classes as one fenced Python block."""
    return "```python\n" + "\n\n".join(inspect.getsource(obj).rstrip() for obj in objects) + "\n```"


def lines_with(obj, pattern: str) -> str:
    """Return the source lines of `obj` that match a regular expression, as a fenced block."""
    found = [line.strip() for line in inspect.getsource(obj).splitlines() if re.search(pattern, line)]
    return "```python\n" + "\n".join(found) + "\n```"


def module_listing(path: str | Path = Path(helpers.__file__)) -> str:
    """Return a whole source file as one fenced Python block."""
    return "```python\n" + Path(path).read_text(encoding="utf-8").rstrip() + "\n```"


# ---------------------------------------------------------------------------- recorded tests


class Recorder:
    """An on_test callback: records the reconstructions of fixed test images at every test."""

    def __init__(self, images: torch.Tensor, inputs: torch.Tensor | None = None) -> None:
        self.images, self.inputs = images, images if inputs is None else inputs
        self.outputs: dict[int, torch.Tensor] = {}

    def __call__(self, epoch: int, model: torch.nn.Module) -> None:
        """Record the model's reconstructions of the inputs after `epoch`."""
        self.outputs[epoch] = helpers.reconstruct(model, self.inputs)

    def figure(self, classes: list[str], title: str):
        """Return one figure: the inputs, the output after every test, and (for noisy inputs)
        the originals."""
        noisy = self.inputs is not self.images
        rows = {"noisy input" if noisy else "input": self.inputs}
        rows.update({f"epoch {epoch}": output for epoch, output in self.outputs.items()})
        if noisy:
            rows["original"] = self.images
        return show_image_rows(rows, classes, title)


def recorder_caption(number: int, recorder: Recorder, history: helpers.TrainingHistory) -> str:
    """Return the caption of a figure of recorded reconstructions, with the test losses."""
    noisy = recorder.inputs is not recorder.images
    losses = ", ".join(f"epoch {epoch}: {loss:.4f}" for epoch, loss in history.test_loss.items())
    first = ("the noisy input (top), the denoising autoencoder's output" if noisy else
             "the input (top) and the autoencoder's output")
    last = " and the clean original (bottom)" if noisy else ""
    return (f"**Figure {number}.** Ten test images, one per class: {first} after epochs "
            f"{listed(list(recorder.outputs))}{last}, recorded during training at each test. "
            f"Test MSE over all 10,000 test images{' (noisy inputs, clean targets)' if noisy else ''}"
            f": {losses}.")


def pixel_change(images: torch.Tensor) -> np.ndarray:
    """Return per traversal row [units, steps, 784] the mean absolute pixel change from its
    first to its last image (on the [-1, 1] scale)."""
    return (images[:, -1] - images[:, 0]).abs().mean(-1).numpy()


def traversal_sentence(name: str, images: torch.Tensor, values: np.ndarray,
                       live: np.ndarray) -> str:
    """Return what the live units of one model's traversal change, and the dead ones."""
    change = pixel_change(images)
    units = range(len(change))
    moving = [u for u in units if live[u] and values[u, -1] > values[u, 0]]
    rare = [u + 1 for u in units if live[u] and u not in moving]
    dead = [u + 1 for u in units if not live[u]]
    top = max(moving, key=lambda unit: change[unit])
    ends = helpers.ink_measures(images[top][[0, -1]])
    moves = [f"the {what} from {ends[key][0]} to {ends[key][1]} {unit}" for what, key, unit in
             (("ink area", "area", "pixels"), ("width", "width", "columns"),
              ("height", "height", "rows")) if ends[key][0] != ends[key][1]]
    effect = (f"taking {listed(moves)}" if moves else
              "changing its shading, not its ink area, width or height")
    least = min(moving, key=lambda unit: change[unit])
    text = (f"*{name.capitalize()}:* the live units {listed([u + 1 for u in moving])} change "
            f"the image by {change[least]:.2f} (unit {least + 1}, least) to "
            f"{change[top]:.2f}; unit {top + 1} changes it most, {effect}")
    if rare:
        many = len(rare) > 1
        text += (f"; unit{'s' * many} {listed(rare)} fire{'s' * (not many)} on fewer than 5% "
                 f"of the test images, so {'their rows stay' if many else 'its row stays'} at "
                 f"0 and change{'s' * (not many)} {change[[u - 1 for u in rare]].max():.3f}")
    if dead:
        many = len(dead) > 1
        text += (f"; the dead unit{'s' * many} {listed(dead)} change{'s' * (not many)} no "
                 f"pixel ({change[[u - 1 for u in dead]].max():.3f})")
    return text + ("." if dead else "; no unit is dead.")


def traversal_caption(number: int, images: dict[str, torch.Tensor], values: dict[str, np.ndarray],
                      live: dict[str, np.ndarray], index: int, class_name: str) -> str:
    """Return the caption of the traversal figure, its findings taken from its images."""
    sentences = " ".join(traversal_sentence(name, rows, values[name], live[name])
                         for name, rows in images.items())
    steps = next(iter(images.values())).shape[1]
    return (f"**Figure {number}.** What each code unit draws (a latent traversal) on test image "
            f"{index} ({class_name}). Row *u* sets unit *u* to {steps} evenly spaced values "
            f"from its 5th to its 95th percentile over the 10,000 test codes (printed under "
            f"each image) and holds the other units at the image's own code. The change of a "
            f"row is the mean absolute pixel difference between its first and last image, on "
            f"the [-1, 1] pixel scale; ink is a pixel above 0. {sentences}")


def traversal_results(images: dict[str, torch.Tensor], values: dict[str, np.ndarray],
                      live: dict[str, np.ndarray]) -> dict:
    """Return the traversal's numbers for results.json, per model and code unit."""
    return {name.replace(" ", "_"): {"live": live[name].tolist(),
                                     "values": values[name].tolist(),
                                     "pixel_change": pixel_change(rows).tolist()}
            for name, rows in images.items()}


def listed(items: list) -> str:
    """Return 'a, b and c'."""
    words = [str(item) for item in items]
    return ", ".join(words[:-1]) + (" and " if len(words) > 1 else "") + words[-1]


# ---------------------------------------------------------------------------- answers


def metric(study: dict, model: str, key: str, decimals: int, level: int | None = None) -> str:
    """Return 'mean ± sd' of a metric of the seed study."""
    return spread(seed_values(study, model, key, level), decimals)


def study_noise(study: dict) -> float:
    """Return the training noise std of the seed study's denoising model."""
    return study["settings"]["models"]["denoising_autoencoder"]["noise_std"]


def study_epochs(study: dict) -> str:
    """Return '5 seeds, 50 epochs': what the seed study's numbers rest on."""
    return f"{len(study['seeds'])} seeds, {study['settings']['epochs']} epochs"


def settings_table(config: dict) -> str:
    """Return the settings of the parameters cell that the text names, as a two-column table."""
    rows = [("epochs per model", config["EPOCHS"]), ("batch size", config["BATCH_SIZE"]),
            ("Adam learning rate", f"{config['LEARNING_RATE']:g}"),
            ("weight decay (the sheet's \"momentum\")", f"{config['WEIGHT_DECAY']:g}"),
            ("test loss and plots every", f"{config['TEST_EVERY']} epochs"),
            ("noise std (Question 3)", f"{config['NOISE_STD']:g}"),
            ("seed of this run", config["SEED"]), ("test images in the t-SNE maps",
                                                   config["TSNE_POINTS"])]
    lines = ["| setting | value |", "|---|---:|"]
    return "\n".join(lines + [f"| {name} | {value} |" for name, value in rows])


def glance_table(study: dict, config: dict, parameters: int) -> str:
    """Return the 'Answers at a glance' table: one row per sheet item."""
    tests = listed(test_epochs(config["EPOCHS"], config["TEST_EVERY"]))
    runs = study_epochs(study)
    rows = [
        ("Q1", "Batch GD: exact gradient, one update per pass. Stochastic GD: one example per "
               "update, cheap but noisy and poorly vectorised. Mini-batch GD: the compromise "
               "and the standard.", "Question 1; Appendix A.1 (Figure 8, Table 3)"),
        ("Q2 a)", f"`Autoencoder`: 784-128-64-32-16-8 with ReLU, then 8-8-32-64-128 with ReLU and "
                  f"784 with Tanh; {parameters:,} parameters.", "Listing 1"),
        ("Q2 b)", "MSE between x and g(f(x)) (`F.mse_loss`), on images scaled to [-1, 1] like "
                  "the Tanh output.", "Listing 2"),
        ("Q2 c)", f"Adam, lr {config['LEARNING_RATE']:g}, weight decay "
                  f"{config['WEIGHT_DECAY']:g} for the sheet's \"momentum\", batch "
                  f"{config['BATCH_SIZE']}, {config['EPOCHS']} epochs. Test MSE "
                  f"{metric(study, 'autoencoder', 'test_mse_clean', 4)} ({runs}), below "
                  f"PCA-8's.", "Listing 3, Table 1, Figure 1"),
        ("Q2 d)", f"Ten test images, one per class, and their reconstructions after epochs "
                  f"{tests}.", "Figure 2"),
        ("Q2 e)", f"The codes sort the images by kind of garment: footwear apart from the "
                  f"clothes, trousers and bags mostly apart, the five kinds of tops "
                  f"overlapping. 5-NN accuracy "
                  f"{metric(study, 'autoencoder', 'knn_accuracy', 3)} ({runs}).", "Figure 3"),
        ("Q3 a)", f"`add_white_noise` adds N(0, std²) to every pixel (std "
                  f"{config['NOISE_STD']:g}); the model gets the noisy image, the loss the clean "
                  f"one.", "Listing 4, Figure 4"),
        ("Q3 b)", f"Same set-up; noisy input, reconstruction and original after epochs {tests}. "
                  f"Noisy-input test MSE "
                  f"{metric(study, 'denoising_autoencoder', 'test_mse_noisy', 4)} ({runs}, "
                  f"noise std {study_noise(study):g}), "
                  f"against {study_noise(study) ** 2:.2f} for the noisy input itself.",
         "Figures 5 and 6, Table 2"),
        ("Q3 c)", f"{comparison_lead(study)}: the same layout of the garment groups. "
                  f"{comparison_short(study)}",
         "Figure 7, Table 7"),
    ]
    lines = ["| sheet item | answer | evidence |", "|" + "-" * 7 + "|" + "-" * 56 + "|" + "-" * 15 + "|"]
    return "\n".join(lines + [f"| {a} | {b} | {c} |" for a, b, c in rows])


CODE_MEASURES = ["5-NN accuracy", "linear-probe accuracy", "silhouette in code space",
                 "silhouette in the t-SNE plane"]


def comparison_lead(study: dict) -> str:
    """Return the one-word answer to 'is the code different?': 'Hardly' unless a code measure
    differs by more than 2 sd of its seed spread."""
    verdicts = seed_verdicts(study)
    differ = [label for label in CODE_MEASURES if verdicts.get(label, "no measurable difference")
              != "no measurable difference"]
    return "Hardly" if not differ else f"Measurably, in {listed(differ)}"


def comparison_short(study: dict) -> str:
    """Return the seed study's verdict on the code measures in one sentence."""
    verdicts = seed_verdicts(study)
    same = [label for label in CODE_MEASURES if verdicts.get(label) == "no measurable difference"]
    differ = [f"{label}: {verdicts[label]}" for label in CODE_MEASURES
              if label in verdicts and label not in same]
    text = f"No measurable difference in {'; '.join(same)}" if same else "Differences"
    return text + (f"; {'; '.join(differ)}" if differ else "") + f" ({len(study['seeds'])} seeds)."


def test_epochs(epochs: int, test_every: int) -> list[int]:
    """Return the epochs after which train_autoencoder tests (every test_every, and the last)."""
    tests = list(range(test_every, epochs + 1, test_every))
    return tests if tests and tests[-1] == epochs else tests + [epochs]


def training_answer(config: dict, study: dict) -> str:
    """Return the answer to Q2 c), with the settings of the parameters cell."""
    tests = listed(test_epochs(config["EPOCHS"], config["TEST_EVERY"]))
    return (
        f"**Answer.** Adam with learning rate {config['LEARNING_RATE']:g}, batch size "
        f"{config['BATCH_SIZE']} and {config['EPOCHS']} epochs. The training loss is reported "
        f"for every epoch as the mean over all 60,000 training images (Table 1), the test loss "
        f"on all 10,000 test images after epochs {tests} (Figure 1). Adam has no momentum "
        f"argument. The sheet's \"momentum of 1e-5\" most probably comes from the widely copied "
        f"PyTorch example that this sheet follows (pytorch-beginner's `simple_autoencoder.py` "
        f"uses `Adam(lr=1e-3, weight_decay=1e-5)`), so it is used here as weight decay "
        f"{config['WEIGHT_DECAY']:g}, an L2 penalty. Read literally, it would set Adam's "
        f"first-moment coefficient $\\beta_1$ to 1e-5, which all but switches off Adam's "
        f"momentum; its $\\beta_1 = 0.9$ and $\\beta_2 = 0.999$ are left at their defaults. Over "
        f"the seed study ({study_epochs(study)}) the final test MSE is "
        f"{metric(study, 'autoencoder', 'test_mse_clean', 4)}.")


def training_result(history: helpers.TrainingHistory, mean_mse: float, pca_mse: float) -> str:
    """Return what this run's losses show (Q2 c)."""
    first, last, final = history.train_loss[0], history.train_loss[-1], history.last_test_loss
    return (
        f"In this run the training loss falls from {first:.4f} after the first epoch to "
        f"{last:.4f} after the last, and the final test loss is {final:.4f}: "
        f"{final / mean_mse:.0%} of the predict-the-mean error ({mean_mse:.3f}) and "
        f"{final / pca_mse:.0%} of the 8-component PCA's ({pca_mse:.3f}). Test and training "
        f"loss stay within {abs(final - last) / last:.1%} of each other: with 784 inputs "
        f"squeezed through 8 numbers the model has little room to overfit. "
        f"{history.live_code_units} of the 8 code units fire on some test image. Restarts "
        f"after a collapse: {'; '.join(history.restarts) or 'none'}.")


def code_answer(name: str, labels: np.ndarray, votes: np.ndarray, quality: dict[str, float],
                classes: list[str], study: dict) -> str:
    """Return what a t-SNE map and the code-quality numbers of one model show."""
    model = "autoencoder" if name == "autoencoder" else "denoising_autoencoder"
    return (
        f"**What the {name}'s map shows.** {map_description(labels, votes, classes)} "
        f"In code space, a 5-nearest-neighbour classifier that votes among the codes of the "
        f"60,000 training images names the right class for {quality['knn_accuracy']:.1%} of "
        f"the 10,000 test images in this run ({metric(study, model, 'knn_accuracy', 3)} over "
        f"{len(study['seeds'])} seeds; chance: 10%); a linear probe gets "
        f"{quality['linear_probe_accuracy']:.1%}. The class silhouette is "
        f"{quality['code_silhouette']:.2f} in code space and {quality['tsne_silhouette']:.2f} "
        f"in the map (seeds: {metric(study, model, 'silhouette_tsne', 2)}); near 0 means the "
        f"classes touch, so the order lies in the neighbourhoods rather than in separated "
        f"clusters. The map is faithful to the codes: trustworthiness "
        f"{quality['trustworthiness']:.3f} (1 = every neighbour in the plane is a neighbour in "
        f"code space).")


def noise_answer(noise_std: float) -> str:
    """Return the answer to Q3 a), with the noise level of the parameters cell."""
    return (
        f"**Answer.** `helpers.add_white_noise(x, std)` (Listing 4) returns a new tensor "
        f"$x + \\varepsilon$ with $\\varepsilon \\sim \\mathcal{{N}}(0, \\sigma^2)$ drawn "
        f"independently for every pixel; it does not clip. The noise is added on the network's "
        f"input scale $[-1, 1]$, here with $\\sigma = {noise_std:g}$ "
        f"($\\sigma = {noise_std / 2:g}$ on a $[0, 1]$ scale). The training code of Question 2 "
        f"becomes denoising by one change in `train_epoch`: with `noise_std > 0` the model gets "
        f"the noisy image as `inputs`, while the loss still compares its output with the clean "
        f"image, `target`. The noise is drawn afresh for every batch of every epoch; the test "
        f"loss uses one fixed draw, so that it is comparable across epochs.")


def noise_caption(number: int, noise_std: float) -> str:
    """Return the caption of the figure of noise levels."""
    return (f"**Figure {number}.** The ten test images without noise (top) and with white "
            f"Gaussian noise of the standard deviations given on the left, on the $[-1, 1]$ "
            f"scale ($\\sigma = {noise_std:g}$ is used for training); shown clipped to the grey "
            f"range, while the network sees the unclipped values.")


def denoising_result(ae_history: helpers.TrainingHistory, dae_history: helpers.TrainingHistory,
                     noisy_mse: float, ae_on_noisy: float, dae_on_clean: float,
                     study: dict) -> str:
    """Return what this run and the seed study show about denoising (Q3 b)."""
    final = dae_history.last_test_loss
    noisy = verdict(*difference(study, "test_mse_noisy")[:2], False)
    clean = verdict(*difference(study, "test_mse_clean")[:2], False)
    return (
        f"In this run the denoising autoencoder's output has a test MSE of {final:.4f} against "
        f"the clean images, {1 - final / noisy_mse:.0%} less than the noisy input itself "
        f"({noisy_mse:.4f}). The plain autoencoder, fed the same noisy images, reaches "
        f"{ae_on_noisy:.4f}; on clean images the denoising model reaches {dae_on_clean:.4f} "
        f"and the plain one {ae_history.last_test_loss:.4f}. Over the seed study "
        f"({study_epochs(study)}) the noisy-input MSE is "
        f"{metric(study, 'autoencoder', 'test_mse_noisy', 4)} for the plain and "
        f"{metric(study, 'denoising_autoencoder', 'test_mse_noisy', 4)} for the denoising "
        f"model ({noisy}), and the clean-input MSE "
        f"{metric(study, 'autoencoder', 'test_mse_clean', 4)} against "
        f"{metric(study, 'denoising_autoencoder', 'test_mse_clean', 4)} ({clean}). A bottleneck "
        f"of eight numbers cannot pass pixel noise through, so the plain autoencoder is "
        f"already a strong denoiser. Restarts after a collapse: "
        f"{'; '.join(dae_history.restarts) or 'none'}.")


def comparison_answer(study: dict) -> str:
    """Return the answer to Q3 c), from the seed study."""
    return (
        f"**Answer.** {comparison_lead(study)}. Both maps (Figure 7) show the same coarse layout of garment "
        f"groups, and the derived descriptions below each list which classes the map keeps "
        f"apart and which it mixes. Whether the codes differ is a question about two models, "
        f"so it is answered over the seed study ({study_epochs(study)} per model, Table 7): "
        f"{comparison_short(study)} {seed_differences(study)}")


def quality_table(qualities: dict[str, dict[str, float]]) -> str:
    """Return Table 4: code quality of each model."""
    measures = {"knn_accuracy": "5-NN accuracy", "linear_probe_accuracy": "linear-probe accuracy",
                "code_silhouette": "silhouette in code space", "tsne_silhouette":
                "silhouette in the t-SNE plane", "trustworthiness": "t-SNE trustworthiness"}
    rows = {label: tuple(q[key] for q in qualities.values()) for key, label in measures.items()}
    return markdown_table(rows, list(qualities)) + (
        "\n\n**Table 4.** How well the codes separate the classes, this run: both autoencoders "
        "and, as the best linear code of the same size, PCA with 8 components. 5-NN: five "
        "nearest neighbours among the codes of the 60,000 training images; linear probe: "
        "logistic regression on the standardised codes; silhouettes and trustworthiness (5 "
        "neighbours) on the embedded test images.")


def quality_finding(qualities: dict[str, dict[str, float]], study: dict) -> str:
    """Return the finding of A.2 and its caveat."""
    pca = qualities["PCA-8"]
    return (
        f"*Finding:* the non-linear codes reconstruct much better than PCA-8 (A.6) but do not "
        f"separate the classes better: PCA-8 reaches a 5-NN accuracy of "
        f"{pca['knn_accuracy']:.3f} and a linear-probe accuracy of "
        f"{pca['linear_probe_accuracy']:.3f}, against "
        f"{metric(study, 'autoencoder', 'knn_accuracy', 3)} and "
        f"{metric(study, 'autoencoder', 'linear_probe_accuracy', 3)} for the autoencoder over "
        f"{len(study['seeds'])} seeds. *Caveat:* the silhouettes rest on 500 images and one "
        f"t-SNE run each, and they change sign between seeds (Table 7).")


def psnr_finding(stds: list[float], curves: dict[str, list[float]], study: dict) -> str:
    """Return the finding of A.3 (from the seed study) and its caveat."""
    levels = [(level, std) for level, std in enumerate(study["settings"]["noise_stds_psnr"])
              if std > 0]
    words = []
    for level, std in levels:
        mean, sd, _, _ = difference(study, "psnr_db", level)
        words.append(f"{std:g}: {verdict(mean, sd, True)} ({mean:+.2f} ± {sd:.2f} dB)")
    return (
        f"*Finding:* wherever the noisy input is below 15 dB, both reconstructions are at least "
        f"3 dB above it: both models remove most of strong noise. At weak noise (input above "
        f"20 dB) both are below the input, because a code of eight numbers loses the fine "
        f"detail that weak noise leaves intact. Plain minus denoising PSNR over "
        f"the seed study ({study_epochs(study)}), by noise std: {'; '.join(words)}. *Caveat:* "
        f"one noise draw per level, the same for all models.")


def units_finding(unit_codes: dict[str, np.ndarray], study: dict) -> str:
    """Return the finding of A.4 and its caveat."""
    live = {name: int((helpers.unit_activity(codes) > 0).sum()) for name, codes in unit_codes.items()}
    return (
        f"*Finding:* every code unit ends in ReLU, and a unit whose input is negative for every "
        f"image outputs 0 for all of them: it is dead, gets no gradient and stays dead. In this "
        f"run the autoencoder uses {live['autoencoder']} and the denoising autoencoder "
        f"{live['denoising autoencoder']} of their 8 units; over the seed study the counts are "
        f"{metric(study, 'autoencoder', 'live_code_units', 1)} and "
        f"{metric(study, 'denoising_autoencoder', 'live_code_units', 1)} "
        f"({verdict(*difference(study, 'live_code_units')[:2], True)}). So the "
        f"'8-dimensional' code has fewer dimensions than it seems: the t-SNE maps of this run "
        f"embed {live['autoencoder']}- and {live['denoising autoencoder']}-dimensional codes. "
        f"*Caveat:* a unit counts as live if it fires on any one test image.")


def ablation_finding(study: dict) -> str:
    """Return the linear-code ablation (A.5) from the seed study, or say it was not run."""
    if "linear_code_autoencoder" not in study:
        return "The seed study file holds no linear-code runs: run `make seeds` to add them."
    rows = {SEED_METRICS[key][0]: (metric(study, "autoencoder", key, SEED_METRICS[key][2]),
                                   metric(study, "linear_code_autoencoder", key,
                                          SEED_METRICS[key][2]))
            for key in ("test_mse_clean", "test_mse_noisy", "live_code_units", "knn_accuracy",
                        "linear_probe_accuracy") if key in study["linear_code_autoencoder"]}
    return (
        f"The same network without the ReLU after the encoder's last layer, so that its 8 code "
        f"units are linear and cannot die; everything else as in Question 2, trained in the "
        f"seed study ({study_epochs(study)}), the same number of epochs as the sheet's model.\n\n"
        + markdown_table(rows, ["sheet's autoencoder", "linear-code autoencoder"])
        + "\n\n**Table 5.** The linear-code ablation against the sheet's model, mean ± sd over "
        "the seed study.\n\n*Caveat:* the ablation changes one layer only; "
        "a wider code would change more.")


def error_table(errors: dict[str, tuple[float, float]], noise_std: float, epochs: int) -> str:
    """Return Table 6: every model's test MSE on clean and noisy inputs."""
    columns = ["test MSE, clean inputs", f"test MSE, noise std {noise_std:g}"]
    return markdown_table(errors, columns, first="model") + (
        f"\n\n**Table 6.** Test MSE (per pixel, $[-1, 1]$ scale, all 10,000 test images) of "
        f"every model of this run ({epochs} epochs) on clean and on noisy inputs (one fixed "
        f"draw), always against the clean image, next to predicting the mean training image and "
        f"PCA with 8 components. *Finding:* both autoencoders beat the best linear code of the "
        f"same size on both. *Caveat:* one seed; Table 7 gives the spread.")


def main_run_metrics(ae_history, dae_history, ae_on_noisy: float, dae_on_clean: float,
                     ae_quality: dict, dae_quality: dict, psnr_curves: dict,
                     study: dict) -> dict[str, dict[str, float]]:
    """Return this run's values of the seed study's measures, per model."""
    runs = {}
    for model, history, clean, noisy, quality, curve in (
            ("autoencoder", ae_history, ae_history.last_test_loss, ae_on_noisy, ae_quality,
             psnr_curves["autoencoder"]),
            ("denoising_autoencoder", dae_history, dae_on_clean, dae_history.last_test_loss,
             dae_quality, psnr_curves["denoising autoencoder"])):
        runs[model] = {"test_mse_clean": clean, "test_mse_noisy": noisy,
                       "live_code_units": history.live_code_units,
                       "knn_accuracy": quality["knn_accuracy"],
                       "linear_probe_accuracy": quality["linear_probe_accuracy"],
                       "code_silhouette": quality["code_silhouette"],
                       "silhouette_tsne": quality["tsne_silhouette"],
                       "trustworthiness": quality["trustworthiness"],
                       **{f"psnr_db_{level}": value for level, value in enumerate(curve)}}
    return runs


def seed_study_text(study: dict, main_run: dict[str, dict[str, float]]) -> str:
    """Return A.7: how the seed study was made, its table and its finding."""
    settings = study["settings"]
    return (
        f"Both models were trained with seeds {listed(study['seeds'])} "
        f"({settings['epochs']} epochs, batch {settings['batch_size']}, Adam lr "
        f"{settings['lr']:g}, weight decay {settings['weight_decay']:g}, noise std "
        f"{study_noise(study):g}) by `make seeds` (`bench/seed_study.py`), which trains "
        f"all seeds of a model at once with `helpers.train_autoencoder_seeds`; seed s gives the "
        f"same losses as `train_autoencoder(seed=s)` (a test checks it). Every seed is scored "
        f"as in this report.\n\n" + seed_table(study, main_run) +
        f"\n\n**Table 7.** Seed study: mean ± sample standard deviation over "
        f"{len(study['seeds'])} seeds per model, the paired difference plain minus denoising "
        f"(same seed) with its standard deviation, how many seeds the plain model wins, and "
        f"which model is better where the gap exceeds 2 sd ('none': no measurable difference). "
        f"*This run: the "
        f"report's own values (seed {study['seeds'][0]} of the same set-up, trained by "
        f"`train_autoencoder`).\n\n*Finding:* {seed_summary(study)} *Caveat:* "
        f"{len(study['seeds'])} seeds give a rough spread; a gap near 2 sd may go either way "
        f"with more seeds.")


def results_document(*, config: dict, ae_history, dae_history, mean_mse: float,
                     pca_mse: float, pca_noisy: float, noisy_mse: float, ae_on_noisy: float,
                     dae_on_clean: float, qualities: dict, votes: dict, labels: np.ndarray,
                     classes: list[str], psnr_curves: dict, unit_codes: dict,
                     sgd_sweeps: dict, compare_at: int, traversal: dict, study: dict) -> dict:
    """Return every number of the report as one JSON-ready document (results.json)."""
    sgd_runs = {name: best_run(runs) for name, runs in sgd_sweeps.items()}
    return {
        "autoencoder": {**ae_history.to_dict(), "test_mse_noisy": ae_on_noisy},
        "denoising_autoencoder": {**dae_history.to_dict(), "test_mse_clean": dae_on_clean,
                                  "noisy_input_mse": noisy_mse},
        "references": {"predict_the_mean_mse": mean_mse, "pca8_mse": pca_mse,
                       "pca8_noisy_mse": pca_noisy},
        "code_quality": {{"PCA-8": "pca8"}.get(name, name.replace(" ", "_")): quality
                         for name, quality in qualities.items()},
        "tsne_map": {model: {"class_recall": helpers.per_class_recall(labels, vote, classes),
                             "group_recall": helpers.group_recall(labels, vote, classes)}
                     for model, vote in votes.items()},
        "denoising_psnr": {"noise_std": config["PSNR_NOISE_STDS"],
                           **{name.replace(" ", "_") + "_db": values
                              for name, values in psnr_curves.items()}},
        "dead_units": {name.replace(" ", "_"): helpers.unit_activity(codes).tolist()
                       for name, codes in unit_codes.items()},
        "sgd_variants": {"compare_at_examples": compare_at, **{
            name.replace("-", "_"): {**run.to_dict(),
                                     "loss_at_compare": run.loss[run.examples.index(compare_at)]
                                     if compare_at in run.examples else None,
                                     "learning_rates": {f"{lr:g}": r.final_loss
                                                        for lr, r in sgd_sweeps[name].items()}}
            for name, run in sgd_runs.items()}},
        "traversal": traversal,
        "seed_study": study,
        "config": config,
    }


# ---------------------------------------------------------------------------- explorer

EXPLORER_SCALE = 4  # screen pixels per image pixel


def png(image: torch.Tensor, scale: int = EXPLORER_SCALE) -> bytes:
    """Return a 28x28 image on the [-1, 1] scale as grey PNG bytes, scale x scale per pixel."""
    pixels = image.reshape(28, 28).cpu().numpy().repeat(scale, 0).repeat(scale, 1)
    buffer = io.BytesIO()
    plt.imsave(buffer, pixels, cmap="gray", vmin=-1, vmax=1, format="png")
    return buffer.getvalue()


def psnr_label(value: float) -> str:
    """Return a PSNR for the screen: dB, or 'identical' for a perfect copy."""
    return f"{value:.1f} dB" if math.isfinite(value) else "identical"


class CodeExplorer:
    """An explorer of the 8-number codes for JupyterLab (report.code_explorer shows it).

    Pick a test image by class and index; its code sets one slider per code unit (range: the
    unit's 1st to 99th percentile over the test codes, widened to hold the image's value; a
    dead unit's slider is fixed at 0), and the image decoded from the sliders follows them.
    A noise slider adds white noise (one fixed draw per image, scaled) and shows the noisy
    input and every model's reconstruction with its PSNR. The update functions (decoded,
    noise_view) are plain methods, so tests drive them without a browser.
    """

    def __init__(self, models: dict[str, helpers.Autoencoder], data: helpers.FashionMNISTData,
                 noise_std: float = 0.5, noise_seed: int = 0) -> None:
        import ipywidgets as widgets

        self.models, self.data, self.noise_seed = models, data, noise_seed
        codes = {name: helpers.encode(m, data.test_x).numpy() for name, m in models.items()}
        self.ranges = {name: np.percentile(c, [1, 99], axis=0) for name, c in codes.items()}
        self.live = {name: helpers.unit_activity(c) > 0 for name, c in codes.items()}
        self.highest = {name: c.max(0) for name, c in codes.items()}
        self.by_class = [torch.nonzero(data.test_y == k).flatten()
                         for k in range(len(data.classes))]
        self.garment = widgets.Dropdown(options=[(n, k) for k, n in enumerate(data.classes)],
                                        description="class")
        self.index = widgets.IntSlider(0, 0, len(self.by_class[0]) - 1, description="image")
        self.model = widgets.ToggleButtons(options=list(models), description="sliders of",
                                           style={"button_width": "auto"})
        named = {"description_width": "90px"}
        self.units = [widgets.FloatSlider(description=f"unit {unit + 1}", readout_format=".2f",
                                          style=named) for unit in range(helpers.CODE_SIZE)]
        self.noise = widgets.FloatSlider(noise_std, min=0.0, max=1.0, step=0.05,
                                         description="noise std", style=named)
        side = f"{28 * EXPLORER_SCALE}px"
        self.images = {key: widgets.Image(format="png", layout=widgets.Layout(width=side,
                                                                              height=side))
                       for key in ["original", "decoded", "noisy input", *models]}
        self.captions = {key: widgets.HTML() for key in self.images}
        self.holding = False
        self.layout = self.arrange(widgets)
        self.garment.observe(self.choose_class, "value")
        for control in (self.index, self.model):
            control.observe(lambda change: self.show_image(), "value")
        for slider in self.units:
            slider.observe(lambda change: self.draw_decoded(), "value")
        self.noise.observe(lambda change: self.draw_noise(), "value")
        self.show_image()

    def arrange(self, widgets):
        """Return the layout: choices on top, sliders and images, then the noise view."""
        def shown(key):
            return widgets.VBox([self.captions[key], self.images[key]],
                                layout=widgets.Layout(width="190px", align_items="flex-start"))
        noise_row = widgets.HBox([shown(key) for key in ["noisy input", *self.models]])
        return widgets.VBox([
            widgets.HBox([self.garment, self.index]), self.model,
            widgets.HBox([widgets.VBox(self.units), shown("original"), shown("decoded")]),
            self.noise, noise_row])

    def test_index(self) -> int:
        """Return the test-set index of the chosen image."""
        return int(self.by_class[self.garment.value][self.index.value])

    def code(self) -> torch.Tensor:
        """Return the code the sliders hold, shape [1, 8]."""
        return torch.tensor([[slider.value for slider in self.units]], dtype=torch.float32)

    def decoded(self) -> torch.Tensor:
        """Return the chosen model's decoder output for the sliders' code, shape [784]."""
        return helpers.decode(self.models[self.model.value], self.code())[0]

    def noise_view(self) -> dict[str, tuple[torch.Tensor, float]]:
        """Return the noisy input and each model's reconstruction, with PSNR against the clean
        image: one noise draw per image (seed noise_seed + index), scaled by the noise std."""
        index = self.test_index()
        clean = self.data.test_x[index:index + 1]
        generator = torch.Generator().manual_seed(self.noise_seed + index)
        noisy = helpers.add_white_noise(clean, self.noise.value, generator)
        shown = {"noisy input": noisy}
        shown.update({name: helpers.reconstruct(m, noisy) for name, m in self.models.items()})
        return {key: (image[0], helpers.psnr(image, clean)) for key, image in shown.items()}

    def choose_class(self, change) -> None:
        """Limit the image index to the class's test images and show the image."""
        with self.hold():
            self.index.max = len(self.by_class[self.garment.value]) - 1
        self.show_image()

    def show_image(self) -> None:
        """Set the sliders to the chosen image's code and draw everything."""
        name, index = self.model.value, self.test_index()
        code = helpers.encode(self.models[name], self.data.test_x[index:index + 1])[0].tolist()
        (low, high), live = self.ranges[name], self.live[name]
        with self.hold():
            for unit, slider in enumerate(self.units):
                top = max(high[unit] if high[unit] > low[unit] else self.highest[name][unit],
                          code[unit])
                bottom = min(low[unit], code[unit])
                with slider.hold_trait_notifications():  # checks min <= value <= max after
                    slider.min, slider.max, slider.value = bottom, top, code[unit]
                slider.step = (top - bottom) / 100 if top > bottom else 0.01
                slider.disabled = not live[unit]
                slider.description = f"unit {unit + 1}" + ("" if live[unit] else " (dead)")
        self.images["original"].value = png(self.data.test_x[index])
        garment = self.data.classes[self.data.test_y[index]]
        self.captions["original"].value = f"<b>test image {index}</b><br>{garment}"
        self.draw_decoded()
        self.draw_noise()

    def draw_decoded(self) -> None:
        """Draw the image decoded from the sliders' code (unless the sliders are being set)."""
        if not self.holding:
            self.images["decoded"].value = png(self.decoded())
            self.captions["decoded"].value = f"<b>decoded</b><br>{self.model.value}"

    def draw_noise(self) -> None:
        """Draw the noisy input and each model's reconstruction with its PSNR."""
        for key, (image, value) in self.noise_view().items():
            self.images[key].value = png(image)
            self.captions[key].value = f"<b>{key}</b><br>PSNR {psnr_label(value)}"

    @contextlib.contextmanager
    def hold(self):
        """Hold the redraws while several sliders change."""
        self.holding = True
        try:
            yield
        finally:
            self.holding = False


def code_explorer(models: dict[str, helpers.Autoencoder], data: helpers.FashionMNISTData):
    """Return the code explorer's ipywidgets layout (see CodeExplorer)."""
    return CodeExplorer(models, data).layout
