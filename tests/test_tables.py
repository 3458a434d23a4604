"""tables.py: the report's tables as Markdown pipe tables (a header row, then one row per
entry), every number rounded as the report shows it."""

import numpy as np
import pandas as pd
import pytest
import torch

import data_files
import helpers
import study_settings
import tables


def rows(table: str) -> list[list[str]]:
    """Return a pipe table's rows as lists of cells, the header first, without the rule."""
    lines = table.split("\n\n")[0].splitlines()
    return [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for number, line in enumerate(lines)
        if number != 1
    ]


def rule(table: str) -> list[str]:
    """Return the cells of a pipe table's rule, the line under its header."""
    return table.splitlines()[1].strip("|").split("|")


def record_with_votes(votes: np.ndarray) -> helpers.ModelRecord:
    record = helpers.ModelRecord(
        helpers.Autoencoder(seed=0),
        helpers.TrainingHistory(),
        helpers.Recorder(torch.zeros(10, 784)),
    )
    record.votes = votes
    return record


# ---------------------------------------------------------------------------- pipe tables


def test_a_pipe_table_keeps_cells_as_written_and_aligns_numbers_right_and_text_left():
    """tabulate would read '0.100' and '1e-5' as numbers and print them as 0.1 and 1e-05."""
    frame = pd.DataFrame(
        {"value": ["0.100", "1e-5", "3"], "verdict": ["a", "b", "c"]},
        index=pd.Index(["x", "y", "z"], name="measure"),
    )
    table = tables.pipe_table(frame, text=("verdict",))
    assert rows(table) == [
        ["measure", "value", "verdict"],
        ["x", "0.100", "a"],
        ["y", "1e-5", "b"],
        ["z", "3", "c"],
    ]
    first, value, verdict = rule(table)
    assert first.startswith(":") and value.endswith(":") and verdict.startswith(":")
    assert len(table.splitlines()) == 2 + len(frame)


def test_a_pipe_table_gives_pandoc_the_column_widths_asked_for():
    """pandoc sizes the columns of a table wider than the page by the dashes of its rule."""
    frame = pd.DataFrame({"value": ["0.100"], "verdict": ["a"]}, index=["x"])
    table = tables.pipe_table(frame, text=("verdict",), widths=(10, 4, 20))
    assert rule(table) == [":" + "-" * 10, "-" * 4 + ":", ":" + "-" * 20]
    assert rows(table) == rows(tables.pipe_table(frame, text=("verdict",)))
    with pytest.raises(ValueError):
        tables.pipe_table(frame, widths=(10, 4))  # one width per column and the index


# ---------------------------------------------------------------------------- the submission


def test_loss_table_lists_every_epoch_in_rows_of_ten_and_the_test_losses_below():
    history = helpers.TrainingHistory(
        train_loss=[0.2 - 0.01 * i for i in range(12)], test_loss={10: 0.11, 12: 0.1}
    )
    table = tables.loss_table(history)
    lines = rows(table)
    assert lines[0] == ["epochs", *(f"+{k}" for k in range(1, 11))] and len(lines) == 3
    assert lines[1][:3] == ["1-10", "0.2000", "0.1900"]
    assert lines[2] == ["11-12", "0.1000", "0.0900", *[""] * 8]
    assert table.endswith("\n\nTest loss after epoch 10: **0.1100**, 12: **0.1000**.")


def test_the_error_table_gives_both_errors_the_live_units_and_the_noisy_inputs(tiny_data):
    model = helpers.Autoencoder(seed=0)
    record = helpers.ModelRecord(model, helpers.TrainingHistory(), None)
    helpers.measure_errors(record, tiny_data.test_x, tiny_data.test_x + 0.5)
    record.mse_clean, record.mse_noisy = 0.06912, 0.07486
    table = rows(tables.error_table({"autoencoder": record}, 0.25021))
    live = helpers.count_live_units(model, tiny_data.test_x)
    assert record.live_units == live
    assert table == [
        ["", "test MSE, clean inputs", "test MSE, noisy inputs", "live code units"],
        ["autoencoder", "0.0691", "0.0749", str(live)],
        ["the noisy inputs themselves", "-", "0.2502", "-"],
    ]


def test_map_table_gives_each_class_its_own_share_and_what_it_is_taken_for():
    labels = np.array([0] * 10 + [1] * 10 + [2] * 10)
    votes = np.array([0] * 10 + [1] * 5 + [2] * 5 + [2] * 8 + [1] * 2)
    table = tables.map_table({"m": record_with_votes(votes)}, labels, ["a", "b", "c"], {}, ())
    assert rows(table) == [["class", "m"], ["a", "100%, -"], ["b", "50%, c"], ["c", "80%, b"]]


def test_map_table_ends_with_the_footwear_group():
    classes = study_settings.SCORING["map_classes"]
    labels = np.arange(100) % 10
    votes = labels.copy()
    votes[labels == 5] = 7  # sandals taken for sneakers: still footwear
    votes[labels == 9] = 0  # ankle boots taken for T-shirts: out of the group
    table = tables.map_table(
        {"m": record_with_votes(votes)},
        labels,
        classes,
        data_files.FASHION_MNIST.class_groups,
        ("footwear", "bags"),
    )
    assert rows(table)[-2:] == [["footwear (group)", "67%"], ["bags (group)", "100%"]]


# ---------------------------------------------------------------------------- the seed study


# ---------------------------------------------------------------------------- the companion
