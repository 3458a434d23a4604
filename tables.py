"""The submission's tables: DataFrames of formatted cells, as Markdown for the notebook and pandoc."""

import re

import numpy as np
import pandas as pd
import torch

import helpers

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
        taken = helpers.most_taken_for(labels, record.votes, classes)
        frame.loc[classes, name] += [f", {other}" for other in taken]
    return pipe_table(frame, widths=(14, *[30] * len(records)))
