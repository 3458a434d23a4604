"""The submission's presentation: figures, listings, the notice for other runs, the results file."""

import inspect
import io
import json
import os
import secrets
import shutil
import textwrap
import time
from pathlib import Path

import filelock
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib import ticker
from sklearn.metrics import confusion_matrix

import helpers
import provenance
import settings

OUTPUT_VARIABLE = "EXERCISE9_OUTPUT"  # the tests set it: figures and results go there
OTHER_RUN_FOLDER = "other-runs"  # a folder per run that the prose does not describe
UNFINISHED = ".unfinished-"  # a run's staging folder until it is complete (publish)
RUNS: dict[Path, tuple] = {}  # this process's unpublished runs: staging -> (lock, destination)
FIGURE_WIDTH = 5.8  # inches: a figure's width on the PDF page (at 100%)
STYLE = {"font.size": 9, "axes.titlesize": 9, "axes.labelsize": 9, "figure.titlesize": 9}
STYLE |= dict.fromkeys(("xtick.labelsize", "ytick.labelsize", "legend.fontsize"), 8)
MARKERS = "os^DPX*vph"  # one shape per class, with tab10's ten colours: two triangles
LOG_SUBS = (1, 1.5, 2, 3, 5, 7)  # labelled log ticks: about six per decade, plain numbers
plt.rcParams.update(STYLE)  # on import: every font at least 8 pt at the PDF's width

# ---------------------------------------------------------------------------- files and notice


def output_folder() -> Path:
    """Return a new staging folder of this run's own: in other-runs/, or in $EXERCISE9_OUTPUT
    (the tests) or the project (a recording run, $EXERCISE9_RECORD); first remove those of runs that
    ended unpublished."""
    tests, recorded = os.environ.get(OUTPUT_VARIABLE), os.environ.get(provenance.RECORD_VARIABLE)
    base, own = Path(tests or ("." if recorded else OTHER_RUN_FOLDER)), not (tests or recorded)
    name = f"{time.strftime('%Y-%m-%d_%H-%M-%S')}_{os.getpid()}_{secrets.token_hex(2)}"
    staging = base / f"{UNFINISHED}{name}"
    for earlier, (lock, _) in list(RUNS.items()):  # this kernel's earlier, cut-off runs
        lock.release()
        del RUNS[earlier]
    try:
        base.mkdir(parents=True, exist_ok=True)
        for folder in (path for path in base.glob(f"{UNFINISHED}*") if path.is_dir()):
            remove_if_abandoned(folder)
        lock = filelock.FileLock(f"{staging}.lock")
        lock.acquire()  # held until publish, or until this process ends
        staging.mkdir()
    except OSError as error:
        raise provenance.NotWritten(
            f"cannot write into {base} ({error.strerror or error}): make it writable or free "
            "space on its disk, then run again. Nothing was trained or written."
        ) from None
    RUNS[staging] = (lock, base / name if own else base)
    return staging


def remove_if_abandoned(staging: Path) -> None:
    """Remove a staging folder and its lock file unless the run that made it still runs."""
    lock = filelock.FileLock(f"{staging}.lock")
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        return  # its run holds the lock
    shutil.rmtree(staging, ignore_errors=True)
    release(lock)


def release(lock: filelock.FileLock) -> None:
    """Release a run's lock and remove its lock file."""
    lock.release()
    Path(lock.lock_file).unlink(missing_ok=True)


def publish(staging: Path) -> Path:
    """Make a complete run's files its result in one step: rename its staging folder to its own
    folder in other-runs/, or move its files into the tests' or the project's folder, the
    results (JSON) last. Return where they went."""
    lock, destination = RUNS.pop(Path(staging), (None, Path(staging).parent))
    try:
        if destination != Path(staging).parent:
            os.rename(staging, destination)
        else:
            files = [path for path in Path(staging).rglob("*") if path.is_file()]
            for path in sorted(files, key=lambda path: (path.suffix == ".json", path.as_posix())):
                moved = destination / path.relative_to(staging)
                moved.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, moved)
            shutil.rmtree(staging)
    except OSError as error:
        raise provenance.not_written(destination, error) from None
    if lock is not None:
        release(lock)
    return destination


def save_figure(fig, folder: str | Path, name: str) -> Path:
    """Save a figure as folder/name.png (150 dpi) atomically and return the path."""
    image = io.BytesIO()
    fig.savefig(image, format="png", dpi=150, bbox_inches="tight")
    return provenance.write_atomically(Path(folder) / f"{name}.png", image.getvalue())


def write_results(path: str | Path, results: dict) -> Path:
    """Write the results file (strict JSON) atomically; return where it went."""
    return provenance.write_atomically(path, provenance.json_text(results))


def read_json(path: str | Path, remake: str = "", required: tuple = ()) -> dict:
    """Return a JSON document, or raise FileNotFoundError/ValueError saying how to restore it
    (damaged: not UTF-8, not JSON, a NaN or infinity, or one of the `required` keys missing)."""
    path, remedy = Path(path), provenance.how_to_restore(path, remake)
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: {remedy}")
    try:
        document = json.loads(path.read_text(encoding="utf-8"), parse_constant=not_a_number)
    except ValueError as error:  # not UTF-8, not JSON, or NaN
        raise ValueError(f"{path} is damaged ({error}): {remedy}") from None
    missing = [key for key in required if not isinstance(document, dict) or key not in document]
    if missing:
        raise ValueError(f"{path} is damaged (it lacks {', '.join(map(repr, missing))}): {remedy}")
    return document


def not_a_number(constant: str) -> float:
    """Refuse NaN and infinity in a results file: json_text writes them as null."""
    raise ValueError(f"{constant} where the project writes null or a number")


def run_notice(config: dict, device: str, results_file: str | Path) -> str:
    """Return a notice naming each setting (and the device) that differs from the committed
    run's in `results_file`, or '' (none differs or none is committed); the repository's
    recording run ($EXERCISE9_RECORD) refuses values other than settings.py's."""
    if os.environ.get(provenance.RECORD_VARIABLE):
        committed = settings.COMMITTED.items()
        if others := [f"{k} = {config[k]!r}" for k, v in committed if config.get(k, v) != v]:
            raise settings.SettingsError(
                f"A recording run makes the committed run, with settings.py's values, but this "
                f"run sets {', '.join(others)}. Nothing was trained or written: put the value "
                "in settings.py, or run the notebook in JupyterLab or with papermill (its run "
                f"goes to {OTHER_RUN_FOLDER}/)."
            )
        return ""
    if not Path(results_file).is_file():
        return ""
    committed = read_json(results_file, "the notebook from the top", ("config",))["config"]
    current = {**config, "device": device}
    changes = [
        f"`{name} = {current.get(name)!r}` instead of {value!r}"
        for name, value in committed.items()
        if current.get(name) != value
    ]
    differs = f"**Not the committed run.** This run differs from it in {'; '.join(changes)}."
    described = "The prose describes the committed run; the tables and figures are this run's"
    where = f"saved in a folder of its own in `{OTHER_RUN_FOLDER}/` (the last cell names it)"
    return f"{differs} {described}, {where}." if changes else ""


# ---------------------------------------------------------------------------- figures and listings


def panels(rows: int, columns: int, height: float, **options):
    """Return a figure of the PDF's width and its rows x columns of axes (a 2-D array)."""
    size = (FIGURE_WIDTH, height)
    return plt.subplots(rows, columns, squeeze=False, figsize=size, **options)


def readable_log_axis(axis) -> None:
    """Label a log axis at LOG_SUBS times the powers of ten, in plain numbers."""
    axis.set(major_locator=ticker.LogLocator(subs=LOG_SUBS), major_formatter="{x:g}")
    axis.set_minor_locator(ticker.NullLocator())


def plot_recorded(recorder: helpers.Recorder, classes: list[str], title: str):
    """Return a figure of a Recorder's inputs, its outputs after every test and any clean
    originals: a labelled row of 28x28 images each, a column per class."""
    noisy = recorder.inputs is not recorder.images
    rows = {"noisy input" if noisy else "input": recorder.inputs}
    rows |= {f"epoch {epoch}": output for epoch, output in recorder.outputs.items()}
    rows |= {"original": recorder.images} if noisy else {}
    height = 0.34 * len(rows) + 0.55  # inches: a row of images, the titles above them
    fig, axes = panels(len(rows), len(classes), height)
    for row, (label, images) in zip(axes, rows.items()):
        for ax, image in zip(row, images):
            ax.imshow(image.reshape(28, 28).cpu().numpy(), cmap="gray", vmin=-1, vmax=1)
            ax.set(xticks=[], yticks=[])
        name = label.replace(" ", "\n")
        row[0].set_ylabel(name, fontsize=8, rotation=0, ha="right", va="center")
    for ax, name in zip(axes[0], classes):  # class names on two lines: narrow columns
        ax.set_title(name.replace("/", "/\n").replace(" ", "\n"), fontsize=8, pad=2)
    fig.suptitle(title, y=1 - 0.02 / height, va="top")
    fig.subplots_adjust(0.13, 0.01, 0.99, 1 - 0.55 / height, wspace=0.05, hspace=0.06)
    return fig


def plot_losses(histories: dict[str, helpers.TrainingHistory]):
    """Return a figure of training loss per epoch (lines) and test loss (markers), log y."""
    fig, [[ax]] = panels(1, 1, 2.0)
    for name, history in histories.items():
        losses, tests = history.train_loss, history.test_loss
        (line,) = ax.plot(range(1, len(losses) + 1), losses, label=f"{name}: training loss")
        label = f"{name}: test loss" + (", noisy inputs" if history.noise_std else "")
        marker = {"color": line.get_color(), "mfc": "white", "label": label}
        ax.plot([*tests], [*tests.values()], "o", **marker)
    ax.set(yscale="log", xlabel="epoch", ylabel="MSE per pixel, log scale")
    readable_log_axis(ax.yaxis)
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def plot_embeddings(embeddings: dict[str, np.ndarray], labels: np.ndarray, classes: list):
    """Return a figure of 2-D embeddings side by side: a tab10 colour, marker per class."""
    fig, axes = panels(1, len(embeddings), 2.7)
    for ax, (title, points) in zip(axes[0], embeddings.items()):
        for index, name in enumerate(classes):
            style = {"marker": MARKERS[index], "color": plt.cm.tab10(index), "lw": 0}
            ax.scatter(*points[labels == index].T, s=14, alpha=0.85, label=name, **style)
        ax.set(title=title, xlabel="t-SNE 1 (no units)", xticks=[], yticks=[])
    axes[0, 0].set_ylabel("t-SNE 2 (no units)")  # the row's label, beside the first map only
    style = {"markerscale": 1.6, "handletextpad": 0.2, "columnspacing": 0.8, "ncol": 5}
    fig.legend(handles=axes[0, 0].collections, loc="lower center", frameon=False, **style)
    fig.subplots_adjust(bottom=0.28, wspace=0.08)  # the legend under the x labels
    return fig


def listing(*parts) -> str:
    """Return one fenced Python block of the source of functions or classes (or of text)."""
    sources = [part if isinstance(part, str) else inspect.getsource(part) for part in parts]
    return "```python\n" + "\n".join(source.rstrip() for source in sources) + "\n```"


def source_lines(obj, first: str, last: str) -> str:
    """Return obj's source from the line with `first` to the line with `last`, dedented."""
    lines = inspect.getsource(obj).splitlines()
    start = next(i for i, line in enumerate(lines) if first in line)
    end = next(i for i, line in enumerate(lines[start:], start) if last in line)
    return textwrap.dedent("\n".join(lines[start : end + 1]))


# ---------------------------------------------------------------------------- results files


def key(name: str) -> str:
    """Return a model's name as a results.json key ('denoising autoencoder' -> its snake case)."""
    return name.replace(" ", "_").replace("-", "_")


def recorded_numbers(recorder: helpers.Recorder, classes: list[str]) -> dict:
    """Return per epoch and class the shown output's MSE, mean pixel and light share (> 0)."""

    def per_class(images: torch.Tensor) -> dict[str, float]:
        return dict(zip(classes, images.mean(1).tolist()))

    clean, outputs = recorder.images, recorder.outputs.items()
    return {
        "mse": {str(epoch): per_class((output - clean).pow(2)) for epoch, output in outputs},
        "mean_pixel": {str(epoch): per_class(output) for epoch, output in outputs},
        "light_share": {str(epoch): per_class((output > 0).float()) for epoch, output in outputs},
        "input_mean_pixel": per_class(recorder.inputs),
        "clean_mean_pixel": per_class(clean),
        "clean_light_share": per_class((clean > 0).float()),
    }


def vote_counts(labels: np.ndarray, votes: np.ndarray, classes: list[str]) -> dict:
    """Return per class how many of its points the 5-neighbour vote gives to each class."""
    counts = confusion_matrix(labels, votes, labels=range(len(classes)))
    return {
        name: {other: int(count) for other, count in zip(classes, row) if count}
        for name, row in zip(classes, counts)
    }


def results_document(
    *, config, device, records, references, noisy_input_mse, labels, classes, class_groups
) -> dict:
    """Return every number of the report as one JSON-ready document (results.json)."""
    document, maps = {}, {}
    for name, record in records.items():
        train, tests = record.history.train_loss, record.history.test_loss.items()
        gaps = {str(epoch): abs(test / train[int(epoch) - 1] - 1) for epoch, test in tests}
        document[key(name)] = record.history.to_dict() | {
            "test_mse_clean": record.mse_clean,
            "test_mse_noisy": record.mse_noisy,
            "train_test_gap": gaps,
            "unit_activity": helpers.unit_activity(record.test_codes).tolist(),
            "recorded": recorded_numbers(record.recorder, classes),
        }
        maps[key(name)] = {
            "class_recall": helpers.per_class_recall(labels, record.votes, classes),
            "group_recall": helpers.group_recall(labels, record.votes, classes, class_groups),
            "taken_for": dict(zip(classes, helpers.most_taken_for(labels, record.votes, classes))),
            "votes": vote_counts(labels, record.votes, classes),
        }
    document["denoising_autoencoder"]["noisy_input_mse"] = noisy_input_mse
    return document | {
        "references": references,
        "tsne_map": maps,
        "config": {**config, "device": device},
    }
