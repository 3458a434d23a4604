"""Presentation of the exercise 9 report: figures, code listings, the notice for runs with
other settings, and the results files (the tables are in tables.py, the science in helpers.py).
Importing it sets the figure style: every font at least 8 pt at FIGURE_WIDTH, the PDF's width.
"""

from __future__ import annotations

import inspect
import json
import math
import os
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

OUTPUT_VARIABLE = "EXERCISE9_OUTPUT"  # the tests set it: figures and results go there
OTHER_RUN_FOLDER = "other-run"  # figures and results of a run that the prose does not describe
UNFINISHED = ".unfinished-run"  # a run's files until it is complete (publish); ignored by git
FIGURE_WIDTH = 5.8  # inches: the text width of nbconvert's PDF page
STYLE = {"font.size": 9, "axes.titlesize": 9, "axes.labelsize": 9, "xtick.labelsize": 8,
         "ytick.labelsize": 8, "legend.fontsize": 8, "figure.titlesize": 9}
MARKERS = "os^DPX*vph"  # one shape per class, with tab10's ten colours: two triangles
LOG_SUBS = (1, 1.5, 2, 3, 5, 7)  # labelled log ticks: about six per decade, plain numbers
mpl.rcParams.update(STYLE)

# ---------------------------------------------------------------------------- files


def destination() -> Path:
    """Return where a run's files go: $EXERCISE9_OUTPUT (the tests), the project for `make run`
    ($EXERCISE9_RECORD), else other-run/ (ignored by git): no other run rewrites a tracked file."""
    recorded = "." if os.environ.get(provenance.RECORD_VARIABLE) else OTHER_RUN_FOLDER
    return Path(os.environ.get(OUTPUT_VARIABLE) or recorded)


def output_folder() -> Path:
    """Return an emptied UNFINISHED folder in the destination: the run's files until publish."""
    staging = destination() / UNFINISHED
    shutil.rmtree(staging, ignore_errors=True)
    return staging


def publish(staging: Path) -> Path:
    """Move a complete run's files into the destination, the results (JSON) last; return it."""
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
    """Return a JSON document, or raise FileNotFoundError/ValueError naming the `remedy`."""
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


STUDY_KEYS = ("seeds", "settings", "comparisons", "similarity", "restarts")
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
                           "`make run` (exercise9.ipynb writes it)", RESULTS_KEYS)


def read_committed_run(path: str | Path) -> dict | None:
    """Return the described run's settings and device, or None where this run becomes it."""
    if os.environ.get(provenance.RECORD_VARIABLE) or not Path(path).is_file():
        return None
    return read_json(path, f"restore it with `git checkout -- {Path(path).name}`")["config"]


# ---------------------------------------------------------------------------- notice


def changed_settings(config: dict, device: str, committed: dict | None) -> list[str]:
    """Return 'NAME = value instead of committed' for each setting differing from `committed`."""
    current = {**config, "device": device}
    return [f"`{name} = {current.get(name)!r}` instead of {value!r}"
            for name, value in (committed or {}).items() if current.get(name) != value]


def run_notice(changes: list[str]) -> str:
    """Return a notice naming the settings that differ from the committed run, or ''."""
    if not changes:
        return ""
    return ("**Not the committed run.** This run differs from it in " + "; ".join(changes)
            + ". The prose describes the committed run; the tables and figures are this "
            f"run's, saved in `{OTHER_RUN_FOLDER}/`.")


# ---------------------------------------------------------------------------- figures


def wrapped(name: str) -> str:
    """Return a class name broken onto two lines at its space or slash (narrow titles)."""
    return name.replace("/", "/\n").replace(" ", "\n")


def readable_log_axis(axis) -> None:
    """Label a log axis at LOG_SUBS times the powers of ten, in plain numbers."""
    axis.set_major_locator(ticker.LogLocator(subs=LOG_SUBS))
    axis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_locator(ticker.NullLocator())


def show_image_rows(rows: dict[str, torch.Tensor], column_titles: list[str], title: str):
    """Return a figure with one labelled row of 28x28 images per entry of `rows`."""
    columns, cell, header = len(column_titles), 0.47, 0.55  # inches: image cell, title block
    height = cell * len(rows) + header
    fig, axes = plt.subplots(len(rows), columns, squeeze=False, figsize=(FIGURE_WIDTH, height))
    for row, (label, images) in enumerate(rows.items()):
        for column, ax in enumerate(axes[row]):
            ax.imshow(images[column].reshape(28, 28).cpu().numpy(), cmap="gray", vmin=-1, vmax=1)
            ax.set(xticks=[], yticks=[])
            if row == 0:
                ax.set_title(wrapped(column_titles[column]), fontsize=8, pad=2)
        axes[row, 0].set_ylabel(label.replace(" ", "\n"), fontsize=8, rotation=0, ha="right",
                                va="center")
    fig.suptitle(title, fontsize=9, y=1 - 0.02 / height, va="top")
    fig.subplots_adjust(left=0.13, right=0.99, wspace=0.05, hspace=0.06,
                        top=1 - header / height, bottom=0.01)
    return fig


def plot_recorded(recorder: helpers.Recorder, classes: list[str], title: str):
    """Return a Recorder's inputs, its output after every test and any clean originals."""
    noisy = recorder.inputs is not recorder.images
    rows = {"noisy input" if noisy else "input": recorder.inputs}
    rows.update({f"epoch {epoch}": output for epoch, output in recorder.outputs.items()})
    if noisy:
        rows["original"] = recorder.images
    return show_image_rows(rows, classes, title)


def plot_losses(histories: dict[str, helpers.TrainingHistory]):
    """Return a figure of training loss per epoch (lines) and test loss (markers), log y."""
    fig, ax = plt.subplots(figsize=(FIGURE_WIDTH, 2.4))
    colors = plt.get_cmap("tab10").colors
    for index, (name, history) in enumerate(histories.items()):
        color = colors[index % len(colors)]
        epochs = range(1, len(history.train_loss) + 1)
        ax.plot(epochs, history.train_loss, color=color, label=f"{name}: training loss")
        ax.plot(list(history.test_loss), list(history.test_loss.values()), "o", color=color,
                markerfacecolor="white", label=f"{name}: test loss"
                + (", noisy inputs" if history.noise_std else ""))
    ax.set(yscale="log", xlabel="epoch", ylabel="MSE per pixel ([-1, 1] scale)")
    readable_log_axis(ax.yaxis)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend()
    return fig


def plot_embedding(points: np.ndarray, labels: np.ndarray, classes: list[str], title: str, ax):
    """Draw a 2-D embedding, a colour and marker per class, into `ax`; return the handles."""
    colors = plt.get_cmap("tab10")
    handles = []
    for index, name in enumerate(classes):
        mine = labels == index
        handles.append(ax.scatter(points[mine, 0], points[mine, 1], s=14, marker=MARKERS[index],
                                  color=colors(index), linewidths=0, alpha=0.85, label=name))
    ax.set(title=title, xlabel="t-SNE 1 (no units)", ylabel="t-SNE 2 (no units)", xticks=[],
           yticks=[])
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
    """Return a figure of loss against examples processed and against measured time."""
    fig, (by_examples, by_time) = plt.subplots(1, 2, sharey=True, figsize=(FIGURE_WIDTH, 2.6))
    for name, run in runs.items():
        line, = by_examples.plot(run.examples[1:], run.loss[1:], marker=".",
                                 label=f"{name} (lr {run.lr:g})")
        by_time.plot(run.seconds[1:], run.loss[1:], color=line.get_color(), marker=".")
    by_examples.set(xlabel="training examples processed", yscale="log",
                    ylabel="MSE on the fixed training images")
    by_time.set_xlabel("measured training time (s)")
    for ax in (by_examples, by_time):
        ax.set_xscale("log")
        ax.grid(True, which="major", alpha=0.3)
    readable_log_axis(by_examples.yaxis)
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
    ax.set(xlabel="noise std on the [-1, 1] scale", ylabel="PSNR against the\nclean image (dB)")
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
    """Draw a curve's mean paired differences with 95% intervals, margin band and 0 line."""
    every = sorted(rows + family_rows, key=lambda row: row["noise_std"])
    ax.fill_between([row["noise_std"] for row in every], [-row["margin"] for row in every],
                    [row["margin"] for row in every], color="0.85", linewidth=0, label="margin")
    ax.axhline(0, color="gray", linewidth=0.8)
    paired_errorbar(ax, rows, marker="o", linestyle="none", label="mean, 95% interval")
    if family_rows:
        paired_errorbar(ax, family_rows, marker="o", markerfacecolor="white", linestyle="none",
                        label="training noise (Table C1)")
    ax.set_title(title, fontsize=9)
    ax.set(xlabel="noise std", ylabel=f"{labels[0]} − {labels[1]}")
    ax.grid(True, alpha=0.3)


def plot_psnr(noise_stds: list[float], curves: dict[str, list[float]], training_std: float,
              study: dict, models: tuple[str, str] | None = None):
    """Return PSNR against noise std (top) and the seeds' paired differences (bottom)."""
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


# ---------------------------------------------------------------------------- the companion


def check_submission_models(records: dict[str, helpers.ModelRecord], results: dict) -> None:
    """Raise ValueError unless each model's clean test MSE is the one `results` records."""
    for name, record in records.items():
        recorded = results.get(key(name), {}).get("test_mse_clean", math.nan)
        if not math.isclose(record.mse_clean, recorded, rel_tol=1e-4):
            raise ValueError(
                f"the saved {name} has test MSE {record.mse_clean:.6f}, the submission's results "
                f"file records {recorded}: the models and results.json come from different runs."
                f" Run `make report` (exercise9.ipynb writes both), or restore both with git.")


def sgd_results(sgd_sweeps: dict[str, dict[float, gd_variants.SGDRun]], compare_at: int) -> dict:
    """Return the gradient-descent experiment (every rate's curves, the kept runs) as JSON."""
    kept = {name: gd_variants.best_run(runs) for name, runs in sgd_sweeps.items()}
    budgets = gd_variants.equal_budgets(kept, compare_at)
    return {"compare_at_examples": compare_at,
            "equal_budgets": {**budgets, "losses": gd_variants.budget_losses(kept, budgets)}, **{
        key(name): {**run.to_dict(),
                    "loss_at_compare": run.loss[run.examples.index(compare_at)]
                    if compare_at in run.examples else None,
                    "learning_rates": {f"{lr:g}": r.final_loss
                                       for lr, r in sgd_sweeps[name].items()},
                    **{f"{field}_curves": {f"{lr:g}": getattr(r, field)
                                           for lr, r in sgd_sweeps[name].items()}
                       for field in ("loss", "examples", "seconds")}}
        for name, run in kept.items()}}


def companion_results(*, config: dict, device: str, model_files: dict[str, str | Path],
                      codes: dict[str, np.ndarray], scores: dict[str, dict[str, float]],
                      psnr_curves: dict[str, list[float]], sgd_sweeps: dict,
                      compare_at: int) -> dict:
    """Return every number of the companion notebook as JSON (companion_results.json)."""
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
    """Return obj's source from the line with `first` to the line with `last`, dedented."""
    lines = inspect.getsource(obj).splitlines()
    start = next(i for i, line in enumerate(lines) if first in line)
    end = next(i for i, line in enumerate(lines[start:], start) if last in line)
    indent = min(len(line) - len(line.lstrip()) for line in lines[start:end + 1] if line.strip())
    return "```python\n" + "\n".join(line[indent:] for line in lines[start:end + 1]) + "\n```"


# ---------------------------------------------------------------------------- results


def recorded_numbers(recorder: helpers.Recorder, classes: list[str]) -> dict:
    """Return per epoch and class the shown output's MSE, mean pixel and light share (> 0)."""
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
    """Return a model's name as a results.json key ('PCA-8' -> 'pca8', 'a b' -> 'a_b')."""
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
                                 "taken_for": dict(zip(classes, helpers.most_taken_for(
                                     labels, r.votes, classes))),
                                 "votes": helpers.vote_counts(labels, r.votes, classes)}
                     for name, r in records.items()},
        "config": {**config, "device": device},
    }
