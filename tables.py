"""The submission's tables: DataFrames of formatted cells, as Markdown for the notebook and pandoc."""

import re

import numpy as np
import pandas as pd

import helpers


def pipe_table(frame: pd.DataFrame, text: tuple = (), widths: tuple = ()) -> str:
    """Return a frame's cells as written, as Markdown; the index and `text` columns left."""
    align = ["left", *("left" if column in text else "right" for column in frame.columns)]
    table = frame.to_markdown(colalign=align, disable_numparse=True)
    if not widths:  # else pandoc sizes the columns by the dashes under the header
        return table
    header, rule, body = table.split("\n", 2)
    cells = rule.split("|")[1:-1]
    dashes = [re.sub("-+", "-" * n, cell) for cell, n in zip(cells, widths, strict=True)]
    return f"{header}\n|{'|'.join(dashes)}|\n{body}"


def loss_table(history: helpers.TrainingHistory) -> str:
    """Return the training loss per epoch in rows of ten, and the test losses below."""
    epochs = len(history.train_loss)
    cells = [f"{loss:.4f}" for loss in history.train_loss] + [""] * (-epochs % 10)
    rows = [f"{start + 1}-{min(start + 10, epochs)}" for start in range(0, epochs, 10)]
    frame = pd.DataFrame(np.reshape(cells, (-1, 10)), rows, [f"+{k}" for k in range(1, 11)])
    tests = ", ".join(f"{n}: **{loss:.4f}**" for n, loss in history.test_loss.items())
    return pipe_table(frame.rename_axis("epochs")) + f"\n\nTest loss after epoch {tests}."


def error_table(records: dict, noisy_input_mse: float) -> str:
    """Return each model's test MSEs (clean, noisy inputs), live units; the noise's MSE."""
    frame = pd.DataFrame(index=list(records))
    frame["test MSE, clean inputs"] = [f"{r.mse_clean:.4f}" for r in records.values()]
    frame["test MSE, noisy inputs"] = [f"{r.mse_noisy:.4f}" for r in records.values()]
    frame["live code units"] = [record.live_units for record in records.values()]
    frame = frame.astype(str)  # the row below is text in every column
    frame.loc["the noisy inputs themselves"] = ["-", f"{noisy_input_mse:.4f}", "-"]
    return pipe_table(frame, widths=(40, 22, 22, 16))


def map_table(
    records: dict, labels: np.ndarray, classes: list, class_groups: dict, groups: tuple
) -> str:
    """Return per class and map the share of its points that their 5-NN vote keeps in the
    class and the class it most often takes them for; then the same share for `groups`."""
    shares = {}
    for name, record in records.items():
        kept = helpers.per_class_recall(labels, record.votes, classes)
        taken = helpers.most_taken_for(labels, record.votes, classes)
        shares[name] = {c: f"{kept[c]:.0%}, {other}" for c, other in zip(classes, taken)}
        if groups:
            inside = helpers.group_recall(labels, record.votes, classes, class_groups)
            shares[name] |= {f"{group} (group)": f"{inside[group]:.0%}" for group in groups}
    frame = pd.DataFrame(shares).rename_axis("class")
    return pipe_table(frame, widths=(14, *[30] * len(records)))
