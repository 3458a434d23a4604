"""The report's tables: DataFrames of formatted cells, as Markdown for the notebooks and pandoc."""

import re

import numpy as np
import pandas as pd
import torch

import gd_variants
import helpers
from report import most_taken_for
from seed_study import statistics as stats

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
    """Return a number with a typographic minus (a plus if `plus`); a number that rounds to 0
    at these decimals is written 0.000 (no sign)."""
    if value and round(value, decimals) == 0:
        return f"{0:.{decimals}f}"  # not −0.000, and no false sign
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


# ---------------------------------------------------------------------------- the seed study


def interval_cell(interval: list[float], places: int) -> str:
    """Return an interval '[low, high]' ('unbounded' with too few seeds)."""
    if not np.isfinite(np.array(interval, dtype=float)).all():
        return "unbounded"
    return "[" + ", ".join(signed(bound, places, plus=True) for bound in interval) + "]"


def p_cell(p: float) -> str:
    """Return a p-value with three decimals, '<0.001' below."""
    return "<0.001" if p < 0.0005 else f"{p:.3f}"


def row_cells(row: dict, labels: tuple[str, str], means: dict[str, list]) -> dict:
    """Return the cells of one tested row: each of `means`' mean ± sd, the difference of the
    two `labels`, its interval, the margin, wins/ties/losses, the adjusted p and the verdict."""
    places = stats.MEASURES[row["measure"]].decimals
    family = round(stats.ALPHA / (1 - row["interval_level"]))
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
    study: dict, rows: list[dict], models: list[str], means: bool = True, verdicts: bool = True
) -> str:
    """Return one family of paired rows of two of the study's models (`means`: each model's
    mean ± sd first); the margin column only where a row has a margin; an exploratory family
    (not `verdicts`) says what its interval shows instead of a verdict."""
    labels = tuple(study["settings"]["models"][name]["label"] for name in models)
    cells = {}
    for row in rows:
        level = stats.level_of(study["settings"], row["measure"], row["level"])
        values = [stats.values_of(study[name], row["measure"], level) for name in models]
        cells[row["label"]] = row_cells(row, labels, dict(zip(labels, values)) if means else {})
    frame = pd.DataFrame.from_dict(cells, orient="index").rename_axis("measure")
    if all(row["margin"] is None for row in rows):
        frame = frame.drop(columns="margin")
    if not verdicts:
        frame["verdict"] = frame["verdict"].str.replace("no difference shown", "holds 0")
        frame["verdict"] = frame["verdict"].str.replace(
            r"^(\S+) better$", r"excludes 0 (\1)", regex=True
        )
        frame = frame.rename(columns={"verdict": "interval"}, errors="ignore")
    return pipe_table(frame, text=("verdict", "interval"))


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
    return pipe_table(frame.drop(columns="margin").rename_axis("measure, model"), text=("verdict",))


def sizing_table(study: dict) -> str:
    """Return the plan's sizing per primary measure: the pilot's spread, the seeds it asks for,
    the seeds run, the smallest difference they detect and the spread the study found."""
    cells = {}
    for row in study["sizing"]:
        places = stats.MEASURES[row["measure"]].decimals + 1
        label = stats.MEASURES[row["measure"]].label.format(std=row["level"])
        cells[label] = {
            "margin": f"{row['margin']:g}",
            "mean difference, pilot": signed(row["pilot_mean"], places, plus=True),
            f"sd of the differences, pilot ({row['pilot_seeds']} seeds)": f"{row['pilot_sd']:.{places}f}",
            "seeds for 80% power": str(row["seeds_needed"]),
            "seeds run": str(row["study_seeds"]),
            "detected with 80% power": f"{row['detectable']:.{places}f}",
            "sd of the differences, study": f"{row['study_sd']:.{places}f}",
        }
    return pipe_table(pd.DataFrame.from_dict(cells, orient="index").rename_axis("measure"))


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
    return pipe_table(frame, text=("verdict, adjusted", "verdict (Table C2)"))


def code_table(study: dict) -> str:
    """Return the similarity of the codes: linear CKA and 10-NN overlap per group of pairs."""
    summary, cells = study["similarity"]["summary"], {}
    for group, entry in summary.items():
        cells[group] = {"pairs": str(entry["pairs"])} | {
            label: f"{entry[measure]['mean']:.3f} ± {entry[measure]['sd']:.3f}"
            for measure, label in (("cka", "linear CKA"), ("knn_overlap", "10-NN overlap"))
        }
    return pipe_table(pd.DataFrame.from_dict(cells, orient="index").rename_axis("pairs of codes"))


# ---------------------------------------------------------------------------- the companion


def scores_table(scores: dict[str, dict[str, float]]) -> str:
    """Return each model's scores (columns) per measure, labelled and rounded as stats.MEASURES."""
    frame = pd.DataFrame(scores)  # a row per measure
    shown = [stats.MEASURES[measure] for measure in frame.index]
    frame = frame.apply(lambda column: [signed(v, how.decimals) for v, how in zip(column, shown)])
    return pipe_table(frame.set_axis([how.label for how in shown]).rename_axis("measure"))


def mean_sd(values: list[float], places: int, thousands: bool = False) -> str:
    """Return 'mean ± sd' of a few measurements."""
    shown = ",.0f" if thousands else f".{places}f"
    return f"{np.mean(values):{shown}} ± {np.std(values, ddof=1):{shown}}"


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
