"""tables.py: the report's tables as Markdown pipe tables (a header row, then one row per
entry), every number rounded as the report shows it."""

import numpy as np
import pandas as pd
import pytest
import torch
from test_report import TEN_DENOISING, TEN_PLAIN, sgd_run, study_of

import data_files
import helpers
import settings
import tables
from seed_study import statistics as seed_statistics


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


# ---------------------------------------------------------------------------- numbers


def test_signed_numbers_use_a_minus_and_never_show_minus_zero():
    assert tables.signed(-0.0152, 3, plus=True) == "−0.015"
    assert tables.signed(-0.0004, 3, plus=True) == "−0.0004"
    assert tables.signed(0.0061, 3, plus=True) == "+0.006" and tables.signed(0.0, 3) == "0.000"


def test_spreads_are_mean_and_sample_sd_the_shares_in_percentage_points():
    assert tables.spread([0.1, 0.2, 0.3], 3) == "0.200 ± 0.100"
    assert tables.spread([-0.1, -0.2, -0.3], 2) == "−0.20 ± 0.10"
    assert tables.percent_spread([0.5, 0.6, 0.7]) == "60% ± 10"


def test_settings_are_written_as_the_sheet_writes_them():
    assert [tables.sheet_number(v) for v in (1e-5, 0.001, 0.5, 128, 2.5e-5)] == [
        "1e-5",
        "0.001",
        "0.5",
        "128",
        "2.5e-5",
    ]
    table = rows(
        tables.settings_table(
            {
                "EPOCHS": 50,
                "BATCH_SIZE": 128,
                "LR": 1e-3,
                "WEIGHT_DECAY": 1e-5,
                "TEST_EVERY": 10,
                "NOISE_STD": 0.5,
                "SEED": 0,
                "TSNE_POINTS": 500,
                "TSNE_SEED": 0,
            }
        )
    )
    assert table[0] == ["setting", "name", "value"] and len(table) == 1 + 9
    assert ['weight decay (the sheet\'s "momentum")', "`WEIGHT_DECAY`", "1e-5"] in table
    assert table[3] == ["Adam learning rate", "`LR`", "0.001"]


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
    record = helpers.ModelRecord(
        model, helpers.TrainingHistory(), None, mse_clean=0.06912, mse_noisy=0.07486
    )
    table = rows(tables.error_table({"autoencoder": record}, tiny_data.test_x, 0.25021))
    live = helpers.count_live_units(model, tiny_data.test_x)
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
    classes = settings.SCORING["map_classes"]
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


def test_class_map_table_gives_this_run_then_the_seeds_and_the_classes_verdicts():
    """Per class: this run's two shares, each model's mean ± sd over the seeds in points, and
    the verdict of the family over the classes; the group rows are this run's only."""
    classes = ["a", "b", "c"]
    labels = np.array([0] * 10 + [1] * 10 + [2] * 10)
    plain = np.array([0] * 10 + [1] * 5 + [2] * 5 + [2] * 10)
    denoising = np.array([0] * 10 + [1] * 10 + [2] * 4 + [1] * 6)
    records = {
        "autoencoder": record_with_votes(plain),
        "denoising autoencoder": record_with_votes(denoising),
    }
    shares = {
        "autoencoder": [[0.9, 0.5 + 0.01 * s, 0.6] for s in range(10)],
        "denoising_autoencoder": [[0.9, 0.8 + 0.01 * s, 0.6 + 0.02 * (s % 2)] for s in range(10)],
    }
    study = {
        "seeds": list(range(10)),
        "settings": {
            "map_classes": classes,
            "test_noise_std": 0.5,
            "models": {
                "autoencoder": {"label": "plain"},
                "denoising_autoencoder": {"label": "denoising"},
            },
        },
        **{model: {"map_class_share": {"values": values}} for model, values in shares.items()},
    }
    study["comparisons"] = [seed_statistics.compare(study, "autoencoder", "denoising_autoencoder")]
    table = rows(
        tables.class_map_table(
            records, labels, classes, study, {"ab": ["a", "b"], "c": ["c"]}, groups=("ab",)
        )
    )
    assert table[0] == [
        "class",
        "plain, this run",
        "denoising, this run",
        "plain, 10 seeds",
        "denoising, 10 seeds",
        "verdict, 10 seeds",
    ]
    assert table[1] == ["a", "100%", "100%", "90% ± 0", "90% ± 0", "equivalent within ±0.05"]
    assert table[2][:5] == ["b", "50%", "100%", "55% ± 3", "85% ± 3"]
    assert table[2][5].startswith("denoising better")
    assert table[3][:5] == ["c", "100%", "40%", "60% ± 0", "61% ± 1"]
    assert table[4] == ["ab (group)", "75%", "100%", "-", "-", "-"]


# ---------------------------------------------------------------------------- the seed study


def test_comparison_table_gives_the_difference_its_interval_margin_wins_p_and_verdict():
    study = study_of(TEN_PLAIN, TEN_DENOISING)
    table = rows(tables.comparison_table(study))
    first = study["comparisons"][0]["rows"][0]
    assert table[0] == [
        "measure",
        "plain − denoising",
        "simultaneous 95% interval",
        "margin",
        "plain wins",
        "p × 3, at most 1",
        "verdict",
    ]
    cells = next(row for row in table if row[0] == "test MSE on clean inputs")
    low, high = first["interval"]
    assert cells[1] == "−0.0103" and cells[2] == tables.interval_cell(first, 4)
    assert cells[2] == f"[{low:+.4f}, {high:+.4f}]".replace("-", "−") and high < 0
    assert cells[3] == "±0.0035" and cells[4] == "10/10" and cells[-1] == "plain better"
    assert cells[5] == f"{min(1, 3 * 2 / 1024):.3f}"
    assert len(table) == 1 + len(study["comparisons"][0]["rows"])


def test_comparison_table_of_another_pair_names_its_models_and_few_seeds_reach_nothing():
    table = rows(
        tables.comparison_table(
            study_of(TEN_PLAIN, TEN_DENOISING), ("autoencoder", "linear_code_autoencoder")
        )
    )
    assert table[0][:3] == ["measure", "plain − linear", "simultaneous 95% interval"]
    assert table[1][-1] == "equivalent within ±0.0035"  # the same values
    study = study_of([0.070, 0.068, 0.071, 0.069], [0.080, 0.079, 0.081, 0.080])
    few = rows(tables.comparison_table(study))[1]
    assert few[2] == "unbounded" and few[-1] == "inconclusive"  # 4 seeds: no interval
    with pytest.raises(KeyError, match="compares no denoising_autoencoder - autoencoder"):
        tables.comparison_table(study, ("denoising_autoencoder", "autoencoder"))


def test_code_table_has_the_code_measures_then_similarity_within_across_and_same_seed():
    study = study_of([0.70, 0.68, 0.71], [0.70, 0.69, 0.70])
    table = rows(tables.code_table(study, ("5-NN accuracy", "code stability at noise 0.5")))
    assert table[0] == ["measure", "plain", "denoising", "verdict, or across the two models"]
    assert [row[0] for row in table[1:]] == [
        "5-NN accuracy",
        "code stability at noise 0.5",
        "linear CKA",
        "10-NN overlap",
    ]
    assert table[1][1:3] == ["0.697 ± 0.015", "0.697 ± 0.006"]
    assert table[3] == [
        "linear CKA",
        "0.900 ± 0.000",
        "0.800 ± 0.000",
        "across: 0.700 ± 0.000; same seed: 0.600 ± 0.000",
    ]


def test_code_table_without_similarity_and_with_the_seeds_the_better_model_wins():
    """A verdict that names a better model says in how many seeds it is better; the
    submission's table leaves the similarity rows to the companion."""

    def verdict(plain: list[float], denoising: list[float]) -> str:
        table = rows(
            tables.code_table(
                study_of(plain, denoising), ("test MSE on clean inputs",), similarity=False
            )
        )
        assert table[0] == ["measure", "plain", "denoising", "verdict"] and len(table) == 2
        return table[1][-1]

    assert verdict(TEN_PLAIN, TEN_DENOISING) == "plain better, in 10 of 10 seeds"
    assert verdict(TEN_DENOISING, TEN_PLAIN) == "denoising better, in 10 of 10 seeds"
    assert verdict(TEN_PLAIN, TEN_PLAIN[::-1]) == "equivalent within ±0.0035"


# ---------------------------------------------------------------------------- the companion


def test_scores_table_labels_and_rounds_each_measure_as_the_seed_study_does():
    scores = {
        "autoencoder": {"test_mse_clean": 0.069123, "knn_accuracy": 0.7866},
        "PCA-8": {"test_mse_clean": 0.10637, "knn_accuracy": -0.00004},
    }
    table = rows(tables.scores_table(scores))
    assert table == [
        ["measure", "autoencoder", "PCA-8"],
        ["test MSE on clean inputs", "0.0691", "0.1064"],
        ["5-NN accuracy", "0.787", "−0.00004"],
    ]


def test_sgd_table_gives_every_rate_tried_the_kept_one_and_the_timings():
    sweeps = {
        "stochastic": {
            0.1: sgd_run(1, 0.1, [0.6, 0.5], [0, 1]),
            0.3: sgd_run(1, 0.3, [0.6, 0.4], [0, 2]),
        },
        "batch": {1.0: sgd_run(6, 1.0, [0.6, 0.55], [0, 4])},
    }
    table = rows(tables.sgd_table(sweeps, n_train=6))
    assert table[0] == ["measure", "stochastic", "batch"]
    assert table[1:3] == [["batch size", "1", "6"], ["updates (fixed)", "1", "1"]]
    assert table[3:5] == [
        ["lr 1: final loss", "0.1: 0.500", "1: 0.550"],
        ["lr 2: final loss", "0.3: 0.400", "-"],
    ]
    assert table[5:] == [
        ["lr kept", "0.3", "1"],
        ["passes over the training set", "0.167", "1.000"],
        ["seconds (this machine)", "2.0", "4.0"],
        ["examples per second (this machine)", "0", "2"],
    ]


def test_budget_table_gives_each_runs_loss_and_where_at_equal_budgets():
    runs = {
        "stochastic": sgd_run(1, 0.3, [0.9, 0.5, 0.4, 0.3], [0, 1.0, 2.0, 3.0]),
        "mini-batch": sgd_run(2, 1.0, [0.9, 0.6, 0.45, 0.35], [0, 0.5, 1.0, 1.5]),
        "batch": sgd_run(4, 1.0, [0.9, 0.7], [0, 0.8]),
    }
    table = rows(tables.budget_table(runs, {"examples": [2, 3], "seconds": 0.8}))
    assert table == [
        ["variant", "2 examples", "3 examples", "0.80 s (this machine)"],
        ["stochastic", "0.400 (at 2)", "0.300 (at 3)", "not reached"],
        ["mini-batch", "0.600 (at 2)", "0.600 (at 2)", "0.600 (at 0.50 s)"],
        ["batch", "not reached", "not reached", "0.700 (at 0.80 s)"],
    ]
