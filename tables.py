"""The report's tables: pandas DataFrames of formatted cells, returned as Markdown pipe tables
that the notebooks display and pandoc puts into the PDF."""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import torch

import gd_variants
import helpers
import settings
from gd_variants import best_run, budget_losses
from helpers import most_taken_for
from report import key
from seed_study import statistics as stats

CODE_ROWS = ("live code units", "5-NN accuracy", "linear-probe accuracy",
             "silhouette in code space", "silhouette in the t-SNE plane",
             f"code stability at noise {settings.NOISE_STD:g}")
SIMILARITY = (("cka", "linear CKA"), ("knn_overlap", "10-NN overlap"))
CODE_MEASURES = ("test_mse_clean", "test_mse_noisy", "knn_accuracy", "linear_probe_accuracy",
                 "code_silhouette", "tsne_silhouette", "trustworthiness")


def pipe_table(frame: pd.DataFrame, text: tuple[str, ...] = (), widths: tuple[int, ...] = ()
               ) -> str:
    """Return a frame as a Markdown pipe table of its cells as written: the index and the `text`
    columns left-aligned, the others right; `widths` (index first) set the PDF's column widths."""
    align = ["left"] + ["left" if column in text else "right" for column in frame.columns]
    table = frame.to_markdown(colalign=align, disable_numparse=True)
    if not widths:  # pandoc sizes a wide table's columns by the dashes under the header
        return table
    header, _, body = table.split("\n", 2)
    rule = "|".join(":" + "-" * width if side == "left" else "-" * width + ":"
                    for side, width in zip(align, widths, strict=True))
    return f"{header}\n|{rule}|\n{body}"


# ---------------------------------------------------------------------------- numbers


def signed(value: float, decimals: int, plus: bool = False) -> str:
    """Return a number with a typographic minus (a plus if `plus`), never rounded to a false 0."""
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


def summary_cell(values: dict) -> str:
    """Return 'mean ± sd' of a similarity summary (3 decimals)."""
    return f"{values['mean']:.3f} ± {values['sd']:.3f}"


def sheet_number(value: float) -> str:
    """Return a setting as the sheet writes it: 0.001, 128, 0.5, or 1e-5 for tiny numbers."""
    return re.sub(r"e([+-])0*(\d)", r"e\1\2", f"{value:g}") if isinstance(value, float) \
        else str(value)


# ---------------------------------------------------------------------------- the submission


def settings_table(config: dict) -> str:
    """Return the settings of the parameters cell that the text names, with their names."""
    names = {"epochs per model": "EPOCHS", "batch size": "BATCH_SIZE",
             "Adam learning rate": "LR",
             "weight decay (the sheet's \"momentum\")": "WEIGHT_DECAY",
             "epochs between tests and plots": "TEST_EVERY",
             "noise std, Question 3 ($[-1, 1]$ scale)": "NOISE_STD",
             "seed of this run": "SEED", "test images in the t-SNE maps": "TSNE_POINTS",
             "seed of their sample and of t-SNE": "TSNE_SEED"}
    frame = pd.DataFrame({"name": [f"`{name}`" for name in names.values()],
                          "value": [sheet_number(config[name]) for name in names.values()]},
                         index=pd.Index(list(names), name="setting"))
    return pipe_table(frame, text=("name",))


def loss_table(history: helpers.TrainingHistory, per_row: int = 10) -> str:
    """Return the training loss per epoch in rows of ten, and the test losses below."""
    epochs = len(history.train_loss)
    cells = [f"{loss:.4f}" for loss in history.train_loss] + [""] * (-epochs % per_row)
    starts = range(0, epochs, per_row)
    frame = pd.DataFrame(np.reshape(cells, (len(starts), per_row)),
                         columns=[f"+{k}" for k in range(1, per_row + 1)],
                         index=pd.Index([f"{start + 1}-{min(start + per_row, epochs)}"
                                         for start in starts], name="epochs"))
    tests = ", ".join(f"{epoch}: **{loss:.4f}**" for epoch, loss in history.test_loss.items())
    return pipe_table(frame) + f"\n\nTest loss after epoch {tests}."


def error_table(records: dict[str, helpers.ModelRecord], test_x: torch.Tensor,
                noisy_input_mse: float) -> str:
    """Return each model's test MSE (clean, noisy inputs), live code units, and the noise's MSE."""
    frame = pd.DataFrame.from_dict(
        {name: [f"{record.mse_clean:.4f}", f"{record.mse_noisy:.4f}",
                str(helpers.count_live_units(record.model, test_x))]
         for name, record in records.items()}, orient="index",
        columns=["test MSE, clean inputs", "test MSE, noisy inputs", "live code units"])
    frame.loc["the noisy inputs themselves"] = ["-", f"{noisy_input_mse:.4f}", "-"]
    return pipe_table(frame, widths=(40, 22, 22, 16))


def group_cells(records: dict[str, helpers.ModelRecord], labels: np.ndarray,
                classes: list[str], class_groups: dict[str, list[str]], group: str) -> list[str]:
    """Return per model the share of a group's points whose map vote stays in the group."""
    return [f"{helpers.group_recall(labels, record.votes, classes, class_groups)[group]:.0%}"
            for record in records.values()]


def map_table(records: dict[str, helpers.ModelRecord], labels: np.ndarray, classes: list[str],
              class_groups: dict[str, list[str]], groups: tuple[str, ...] = ("footwear",)
              ) -> str:
    """Return per class and map the share its 5-NN vote keeps and what it is most taken for."""
    frame = pd.DataFrame(index=pd.Index(classes, name="class"))
    for name, record in records.items():
        recall = helpers.per_class_recall(labels, record.votes, classes)
        frame[name] = [f"{recall[shown]:.0%}, {taken}" for shown, taken
                       in zip(classes, most_taken_for(labels, record.votes, classes))]
    for group in groups:
        frame.loc[f"{group} (group)"] = group_cells(records, labels, classes, class_groups, group)
    return pipe_table(frame, widths=(14, *[30] * len(records)))


def class_map_table(records: dict[str, helpers.ModelRecord], labels: np.ndarray,
                    classes: list[str], study: dict, class_groups: dict[str, list[str]],
                    groups: tuple[str, ...] = (), measure: str = "map_class_share") -> str:
    """Return per class the map share kept by this run's two models, then over the seeds."""
    comparison = stats.comparison_of(study, list(map(key, records)))
    seeds = len(study["seeds"])
    frame = pd.DataFrame(index=pd.Index(classes, name="class"))
    for label, record in zip(comparison["labels"], records.values()):
        recall = helpers.per_class_recall(labels, record.votes, classes)
        frame[f"{label}, this run"] = [f"{recall[name]:.0%}" for name in classes]
    for label, model in zip(comparison["labels"], comparison["models"]):
        frame[f"{label}, {seeds} seeds"] = [percent_spread(stats.values_of(
            study[model], measure, level)) for level in range(len(classes))]
    verdicts = {row["label"]: row["verdict"] for row in comparison["classes"][measure]}
    frame[f"verdict, {seeds} seeds"] = [verdicts[name] for name in classes]
    for group in groups:
        shares = group_cells(records, labels, classes, class_groups, group)
        frame.loc[f"{group} (group)"] = shares + ["-"] * (frame.shape[1] - len(shares))
    return pipe_table(frame, text=(frame.columns[-1],), widths=(20, 9, 9, 12, 12, 16))


# ---------------------------------------------------------------------------- the seed study


def decimals_of(row: dict) -> int:
    """Return the decimals the report shows for a compared measure."""
    return stats.MEASURES[row["measure"]].decimals


def level_of(row: dict, study: dict) -> int | None:
    """Return the position of a compared row's noise level (or class) in its measure's."""
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


def comparison_cells(row: dict, study: dict, comparison: dict) -> dict[str, str]:
    """Return a compared row's cells by column, from both models' mean ± sd to the verdict."""
    places, level = decimals_of(row), level_of(row, study)
    first, second = comparison["labels"]
    one, other = (spread(stats.values_of(study[name], row["measure"], level), places)
                  for name in comparison["models"])
    return {"measure": row["label"], first: one, second: other,
            f"{first} − {second}": signed(row["mean"], places, plus=True),
            "simultaneous 95% interval": interval_cell(row),
            "margin": f"±{row['margin']:.{places}f}",
            f"{first} wins": f"{row['first_wins']}/{row['seeds']}",
            f"p × {len(comparison['rows'])}, at most 1": f"{row['p_adjusted']:.3f}",
            "verdict": row["verdict"]}


def comparison_table(study: dict, models: tuple[str, str] | None = None) -> str:
    """Return a comparison's paired differences, intervals, margins, wins, p and verdicts."""
    comparison = stats.comparison_of(study, models)
    frame = pd.DataFrame([comparison_cells(row, study, comparison)
                          for row in comparison["rows"]]).set_index("measure")
    return pipe_table(frame.drop(columns=list(comparison["labels"])), text=("verdict",),
                      widths=(20, 9, 20, 8, 5, 6, 20))


def seeds_won(row: dict, study: dict, comparison: dict) -> str:
    """Return ', in n of N seeds' in which the model a verdict calls better is better, or ''."""
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
    """Return two models' code measures over the seeds, and (`similarity`) their CKA, k-NN."""
    comparison = stats.comparison_of(study, models)
    first, second = comparison["labels"]
    by_label = {row["label"]: row for row in comparison["rows"]}
    rows = [by_label[label] for label in measures]
    frame = pd.DataFrame([comparison_cells(row, study, comparison) | {
        "verdict": row["verdict"] + seeds_won(row, study, comparison)} for row in rows])
    frame = frame.set_index("measure")[[first, second, "verdict"]]
    if similarity:
        summary = study["similarity"]["summary"]
        for measure, label in SIMILARITY:
            one, other, across, same = (summary_cell(summary[group][measure]) for group in (
                f"{first}-{first}", f"{second}-{second}", f"{first}-{second}",
                f"{first}-{second}, same seed"))
            frame.loc[label] = [one, other, f"across: {across}; same seed: {same}"]
        frame = frame.rename(columns={"verdict": "verdict, or across the two models"})
    return pipe_table(frame, text=(frame.columns[-1],), widths=(28, 17, 17, 24))


# ---------------------------------------------------------------------------- the companion


def scores_table(scores: dict[str, dict[str, float]], measures: tuple[str, ...] = CODE_MEASURES
                 ) -> str:
    """Return each model's scores (columns) per measure, labelled and rounded as stats.MEASURES."""
    shown = [stats.MEASURES[measure] for measure in measures]
    frame = pd.DataFrame({model: [signed(values[measure], how.decimals)
                                  for measure, how in zip(measures, shown)]
                          for model, values in scores.items()},
                         index=pd.Index([how.label for how in shown], name="measure"))
    return pipe_table(frame)


def sgd_table(sweeps: dict[str, dict[float, gd_variants.SGDRun]], n_train: int) -> str:
    """Return per variant each learning rate's final loss, then the kept run's numbers."""
    rates = max(len(runs) for runs in sweeps.values())
    columns = {}
    for name, runs in sweeps.items():
        run, tried = best_run(runs), [f"{lr:g}: {r.final_loss:.3f}" for lr, r in runs.items()]
        columns[name] = {
            "batch size": str(run.batch_size), "updates (fixed)": str(run.updates[-1]),
            **{f"lr {k + 1}: final loss": tried[k] if k < len(tried) else "-"
               for k in range(rates)},
            "lr kept": f"{run.lr:g}",
            "passes over the training set": f"{run.examples[-1] / n_train:.3f}",
            "seconds (this machine)": f"{run.seconds[-1]:.1f}",
            "examples per second (this machine)": f"{run.examples_per_second:,.0f}"}
    return pipe_table(pd.DataFrame(columns).rename_axis("measure"))


def reached(point: tuple[float, float] | None, where: str) -> str:
    """Return 'loss (at where)' of a (loss, where) point, `where` a format, or 'not reached'."""
    return f"{point[0]:.3f} (at {where.format(point[1])})" if point else "not reached"


def budget_table(runs: dict[str, gd_variants.SGDRun], budgets: dict) -> str:
    """Return each kept run's loss at equal budgets of examples and of training time."""
    columns = [f"{budget:,} examples" for budget in budgets["examples"]]
    columns.append(f"{budgets['seconds']:.2f} s (this machine)")
    frame = pd.DataFrame.from_dict(
        {name.replace("_", "-"): [reached(point, "{:,}") for point in entry["examples"]]
         + [reached(entry["seconds"], "{:.2f} s")]
         for name, entry in budget_losses(runs, budgets).items()}, orient="index",
        columns=columns)
    return pipe_table(frame.rename_axis("variant"))
