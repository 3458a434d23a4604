"""The report's tables: DataFrames of formatted cells, as Markdown for the notebooks and pandoc."""

import re

import numpy as np
import pandas as pd
import torch

import gd_variants
import helpers
import settings
from report import key, most_taken_for
from seed_study import statistics as stats

CODE_ROWS = (
    "live code units",
    "5-NN accuracy",
    "linear-probe accuracy",
    "silhouette in code space",
    "silhouette in the t-SNE plane",
    f"code stability at noise {settings.NOISE_STD:g}",
)
SETTINGS = {  # the parameters cell's settings that the text names
    "epochs per model": "EPOCHS",
    "batch size": "BATCH_SIZE",
    "Adam learning rate": "LR",
    'weight decay (the sheet\'s "momentum")': "WEIGHT_DECAY",
    "epochs between tests and plots": "TEST_EVERY",
    "noise std, Question 3 ($[-1, 1]$ scale)": "NOISE_STD",
    "seed of this run": "SEED",
    "test images in the t-SNE maps": "TSNE_POINTS",
    "seed of their sample and of t-SNE": "TSNE_SEED",
}


def pipe_table(frame: pd.DataFrame, text: tuple = (), widths: tuple = ()) -> str:
    """Return a frame's cells as written, as Markdown: the index and `text` columns left-aligned."""
    align = ["left", *("left" if column in text else "right" for column in frame.columns)]
    table = frame.to_markdown(colalign=align, disable_numparse=True)
    if not widths:  # else pandoc sizes the columns by the dashes under the header
        return table
    header, rule, body = table.split("\n", 2)
    cells = rule.split("|")[1:-1]
    dashes = [re.sub("-+", "-" * n, cell) for cell, n in zip(cells, widths, strict=True)]
    return f"{header}\n|{'|'.join(dashes)}|\n{body}"


def signed(value: float, decimals: int, plus: bool = False) -> str:
    """Return a number with a typographic minus (a plus if `plus`), never rounded to a false 0."""
    while value and round(value, decimals) == 0 and decimals < 6:
        decimals += 1
    return (f"{value:+.{decimals}f}" if plus else f"{value:.{decimals}f}").replace("-", "−")


def spread(values: list[float], decimals: int) -> str:
    """Return 'mean ± sd' of per-seed values."""
    return f"{signed(np.mean(values), decimals)} ± {np.std(values, ddof=1):.{decimals}f}"


def percent_spread(values: list[float]) -> str:
    """Return 'mean% ± sd' of per-seed shares, in percentage points."""
    return f"{np.mean(values):.0%} ± {100 * np.std(values, ddof=1):.0f}"


def sheet_number(value: float) -> str:
    """Return a setting as the sheet writes it: 0.001, 128, 0.5, or 1e-5 for tiny numbers."""
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return re.sub(r"e([+-])0*(\d)", r"e\1\2", text)  # 1e-05 as 1e-5


# ---------------------------------------------------------------------------- the submission


def settings_table(config: dict) -> str:
    """Return the settings of the parameters cell that the text names, with their names."""
    cells = {label: [f"`{name}`", sheet_number(config[name])] for label, name in SETTINGS.items()}
    frame = pd.DataFrame.from_dict(cells, orient="index", columns=["name", "value"])
    return pipe_table(frame.rename_axis("setting"), text=("name",))


def loss_table(history: helpers.TrainingHistory) -> str:
    """Return the training loss per epoch in rows of ten, and the test losses below."""
    epochs = len(history.train_loss)
    cells = [f"{loss:.4f}" for loss in history.train_loss] + [""] * (-epochs % 10)
    rows = [f"{start + 1}-{min(start + 10, epochs)}" for start in range(0, epochs, 10)]
    frame = pd.DataFrame(np.reshape(cells, (-1, 10)), rows, [f"+{k}" for k in range(1, 11)])
    tests = ", ".join(f"{epoch}: **{loss:.4f}**" for epoch, loss in history.test_loss.items())
    return pipe_table(frame.rename_axis("epochs")) + f"\n\nTest loss after epoch {tests}."


def error_table(records: dict, test_x: torch.Tensor, noisy_input_mse: float) -> str:
    """Return each model's test MSE (clean, noisy inputs), live code units, and the noise's MSE."""
    frame = pd.DataFrame(index=list(records))
    frame["test MSE, clean inputs"] = [f"{r.mse_clean:.4f}" for r in records.values()]
    frame["test MSE, noisy inputs"] = [f"{r.mse_noisy:.4f}" for r in records.values()]
    frame["live code units"] = [helpers.count_live_units(r.model, test_x) for r in records.values()]
    frame = frame.astype(str)  # the row below is text in every column
    frame.loc["the noisy inputs themselves"] = ["-", f"{noisy_input_mse:.4f}", "-"]
    return pipe_table(frame, widths=(40, 22, 22, 16))


def kept_shares(
    records: dict, labels: np.ndarray, classes: list, class_groups: dict, groups: tuple
) -> pd.DataFrame:
    """Return per model (column) the share of each class, then group, that its map's votes keep."""
    shares = {}
    for name, record in records.items():
        recall = helpers.per_class_recall(labels, record.votes, classes)
        kept = helpers.group_recall(labels, record.votes, classes, class_groups) if groups else {}
        shares[name] = recall | {f"{group} (group)": kept[group] for group in groups}
    return pd.DataFrame(shares).map("{:.0%}".format).rename_axis("class")


def map_table(
    records: dict, labels: np.ndarray, classes: list, class_groups: dict, groups: tuple
) -> str:
    """Return per class and map the share its 5-NN vote keeps and what it is most taken for."""
    frame = kept_shares(records, labels, classes, class_groups, groups)
    for name, record in records.items():
        taken = most_taken_for(labels, record.votes, classes)
        frame.loc[classes, name] += [f", {other}" for other in taken]
    return pipe_table(frame, widths=(14, *[30] * len(records)))


def class_map_table(
    records: dict, labels: np.ndarray, classes: list, study: dict, class_groups: dict, groups: tuple
) -> str:
    """Return per class the map share kept by this run's two models, then over the seeds."""
    comparison = stats.comparison_of(study, [key(name) for name in records])
    frame = kept_shares(records, labels, classes, class_groups, groups)
    frame.columns = [f"{label}, this run" for label in comparison["labels"]]
    rows, seeds = comparison["classes"]["map_class_share"], len(study["seeds"])
    for label, model in zip(comparison["labels"], comparison["models"]):
        cells = {row["label"]: percent_spread(per_seed(study, model, row)) for row in rows}
        frame[f"{label}, {seeds} seeds"] = pd.Series(cells)
    frame[f"verdict, {seeds} seeds"] = pd.Series({row["label"]: row["verdict"] for row in rows})
    return pipe_table(frame.fillna("-"), text=(frame.columns[-1],), widths=(20, 9, 9, 12, 12, 16))


# ---------------------------------------------------------------------------- the seed study


def per_seed(study: dict, model: str, row: dict) -> np.ndarray:
    """Return a model's per-seed values of a compared row's measure, at its level or class."""
    measure = stats.MEASURES[row["measure"]]
    where = row["label" if measure.per_class else "noise_std"]
    level = study["settings"][measure.levels].index(where) if measure.levels else None
    return np.array(stats.values_of(study[model], row["measure"], level))


def interval_cell(row: dict, places: int) -> str:
    """Return a row's simultaneous interval '[low, high]' ('unbounded' with too few seeds)."""
    if not np.isfinite(np.array(row["interval"], dtype=float)).all():
        return "unbounded"
    return "[" + ", ".join(signed(bound, places, plus=True) for bound in row["interval"]) + "]"


def seeds_won(row: dict, gaps: np.ndarray) -> str:
    """Return ', in n of N seeds' where the gaps (first − second) agree with a 'better' verdict."""
    if " better" not in row["verdict"]:
        return ""
    won = np.sum(gaps > 0) if row["interval"][0] > 0 else np.sum(gaps < 0)
    return f", in {won} of {row['seeds']} seeds"


def comparison_frame(study: dict, models: tuple | None, measures: tuple = ()) -> pd.DataFrame:
    """Return a comparison's cells, a row per measure (all where none are named)."""
    comparison = stats.comparison_of(study, models)
    (first, second), names = comparison["labels"], comparison["models"]
    by_label = {row["label"]: row for row in comparison["rows"]}
    cells = {}
    for label in measures or by_label:
        row = by_label[label]
        places = stats.MEASURES[row["measure"]].decimals
        one, other = (per_seed(study, name, row) for name in names)
        cells[label] = {
            first: spread(one, places),
            second: spread(other, places),
            f"{first} − {second}": signed(row["mean"], places, plus=True),
            "simultaneous 95% interval": interval_cell(row, places),
            "margin": f"±{row['margin']:.{places}f}",
            f"{first} wins": f"{row['first_wins']}/{row['seeds']}",
            f"p × {len(comparison['rows'])}, at most 1": f"{row['p_adjusted']:.3f}",
            "verdict": row["verdict"],
            "seeds won": seeds_won(row, one - other),
        }
    return pd.DataFrame.from_dict(cells, orient="index").rename_axis("measure")


def comparison_table(study: dict, models: tuple[str, str] | None = None) -> str:
    """Return a comparison's paired differences, intervals, margins, wins, p and verdicts."""
    frame = comparison_frame(study, models)
    frame = frame.drop(columns=[*frame.columns[:2], "seeds won"])  # the models' mean ± sd
    return pipe_table(frame, text=("verdict",), widths=(20, 9, 20, 8, 5, 6, 20))


def code_table(
    study: dict, measures: tuple = CODE_ROWS, models: tuple | None = None, similarity: bool = True
) -> str:
    """Return two models' code measures over the seeds, and (`similarity`) their CKA, k-NN."""
    frame = comparison_frame(study, models, measures)
    (first, second), verdict = frame.columns[:2], frame["verdict"] + frame["seeds won"]
    frame = frame[[first, second]].assign(verdict=verdict)
    if similarity:
        summary, across = study["similarity"]["summary"], f"{first}-{second}"
        groups = (f"{first}-{first}", f"{second}-{second}", across, f"{across}, same seed")
        for measure, label in (("cka", "linear CKA"), ("knn_overlap", "10-NN overlap")):
            pairs = [summary[group][measure] for group in groups]
            one, other, both, same = (f"{pair['mean']:.3f} ± {pair['sd']:.3f}" for pair in pairs)
            frame.loc[label] = [one, other, f"across: {both}; same seed: {same}"]
        frame = frame.rename(columns={"verdict": "verdict, or across the two models"})
    return pipe_table(frame, text=(frame.columns[-1],), widths=(28, 17, 17, 24))


# ---------------------------------------------------------------------------- the companion


def scores_table(scores: dict[str, dict[str, float]]) -> str:
    """Return each model's scores (columns) per measure, labelled and rounded as stats.MEASURES."""
    frame = pd.DataFrame(scores)  # a row per measure
    shown = [stats.MEASURES[measure] for measure in frame.index]
    frame = frame.apply(lambda column: [signed(v, how.decimals) for v, how in zip(column, shown)])
    return pipe_table(frame.set_axis([how.label for how in shown]).rename_axis("measure"))


def sgd_table(sweeps: dict[str, dict[float, gd_variants.SGDRun]], n_train: int) -> str:
    """Return per variant each learning rate's final loss, then the kept run's numbers."""
    columns = {}
    for name, runs in sweeps.items():
        run, tried = gd_variants.best_run(runs), enumerate(runs.items(), 1)
        columns[name] = {
            "batch size": str(run.batch_size),
            "updates (fixed)": str(run.updates[-1]),
            **{f"lr {k}: final loss": f"{lr:g}: {r.final_loss:.3f}" for k, (lr, r) in tried},
            "lr kept": f"{run.lr:g}",
            "passes over the training set": f"{run.examples[-1] / n_train:.3f}",
            "seconds (this machine)": f"{run.seconds[-1]:.1f}",
            "examples per second (this machine)": f"{run.examples_per_second:,.0f}",
        }
    return pipe_table(pd.DataFrame(columns).fillna("-").rename_axis("measure"))


def reached(point: tuple[float, float] | None, where: str) -> str:
    """Return 'loss (at where)' of a (loss, where) point, `where` a format, or 'not reached'."""
    return f"{point[0]:.3f} (at {where.format(point[1])})" if point else "not reached"


def budget_table(runs: dict[str, gd_variants.SGDRun], budgets: dict) -> str:
    """Return each kept run's loss at equal budgets of examples and of training time."""
    examples = [f"{budget:,} examples" for budget in budgets["examples"]]
    frame = pd.DataFrame(columns=[*examples, f"{budgets['seconds']:.2f} s (this machine)"])
    for name, entry in zip(runs, gd_variants.budget_losses(runs, budgets).values()):
        points = [reached(point, "{:,}") for point in entry["examples"]]
        frame.loc[name] = [*points, reached(entry["seconds"], "{:.2f} s")]
    return pipe_table(frame.rename_axis("variant"))
