"""Plotting: labelled figures sized for the PDF, saved as PNG; the report's loss table."""

import json
import math

import matplotlib
import numpy as np
import pytest
import torch

import helpers

matplotlib.use("Agg")
CLASSES = [f"class {i}" for i in range(10)]


@pytest.fixture
def history():
    return helpers.TrainingHistory(train_loss=[0.2 - 0.01 * i for i in range(12)],
                                   test_loss={10: 0.11, 12: 0.1})


def test_image_rows_have_row_labels_and_class_titles():
    fig = helpers.show_image_rows({"input": torch.zeros(10, 784), "output": torch.ones(10, 784)},
                                  CLASSES, "title")
    axes = fig.axes
    assert len(axes) == 20 and fig.get_size_inches()[0] <= helpers.FIGURE_WIDTH
    assert axes[0].get_ylabel() == "input" and axes[10].get_ylabel() == "output"
    assert [ax.get_title() for ax in axes[:10]] == CLASSES


def test_denoising_reconstructions_show_three_rows():
    fig = helpers.show_reconstructions(helpers.Autoencoder(seed=0), torch.zeros(10, 784), CLASSES,
                                       "t", noisy=torch.zeros(10, 784))
    assert [fig.axes[i].get_ylabel() for i in (0, 10, 20)] == [
        "noisy input", "reconstruction", "original"]


def test_loss_plot_has_labels_legend_and_log_axis(history):
    ax = helpers.plot_losses({"autoencoder": history}).axes[0]
    assert ax.get_xlabel() == "epoch" and "MSE" in ax.get_ylabel() and ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "autoencoder: training loss", "autoencoder: test loss"]


def test_embedding_plot_uses_ten_tab10_colours_and_class_names_in_the_legend():
    points = np.random.default_rng(0).normal(size=(100, 2))
    fig = helpers.plot_embeddings({"a": points, "b": points}, np.arange(100) % 10, CLASSES)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == CLASSES
    colours = {tuple(h.get_facecolor()[0]) for h in fig.legends[0].legend_handles}
    assert len(colours) == 10
    assert all(ax.get_xlabel() == "t-SNE 1" for ax in fig.axes)


def test_save_figure_writes_a_png(tmp_path):
    fig = helpers.plot_losses({"x": helpers.TrainingHistory(train_loss=[1.0, 0.5])})
    path = helpers.save_figure(fig, tmp_path / "figures", "fig01_test")
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_loss_table_lists_every_epoch_in_columns_of_ten(history):
    table = helpers.loss_table(history)
    assert "| epoch | 1-10 | 11-12 |" in table
    assert "| +0 | 0.2000 | 0.1000 |" in table and "| +2 | 0.1800 |  |" in table
    assert "10: **0.1100**" in table and "12: **0.1000**" in table


def test_source_digest_ignores_line_endings(tmp_path):
    (tmp_path / "unix.py").write_bytes(b"a = 1\nb = 2\n")
    (tmp_path / "windows.py").write_bytes(b"a = 1\r\nb = 2\r\n")
    assert helpers.source_digest(tmp_path / "unix.py") == helpers.source_digest(tmp_path / "windows.py")


def test_budget_plot_has_time_and_examples_panels_with_a_legend():
    run = helpers.BudgetRun(batch_size=1, lr=0.1, seconds=[0.0, 1.0, 2.0],
                            examples=[0, 10, 20], loss=[0.6, 0.3, 0.2], updates=20)
    fig = helpers.plot_budget_runs({"stochastic": run})
    by_time, by_examples = fig.axes
    assert by_time.get_xlabel() == "training time (s)" and by_examples.get_xscale() == "log"
    assert "MSE" in by_time.get_ylabel()
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["stochastic (lr 0.1)"]


def test_psnr_plot_marks_the_training_noise_and_names_every_curve():
    curves = {"noisy input": [math.inf, 10.0, 6.0], "autoencoder": [20.0, 18.0, 12.0]}
    ax = helpers.plot_psnr([0.0, 0.5, 1.0], curves, training_std=0.5).axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(curves)
    assert "dB" in ax.get_ylabel() and "noise std" in ax.get_xlabel()
    assert any("training noise 0.5" in t.get_text() for t in ax.texts)


def test_code_unit_plot_labels_dead_units_and_active_shares():
    codes = np.zeros((4, 8))
    codes[:2, 0] = 1.0
    codes[:, 1:] = 2.0
    codes[:, 7] = 0.0
    ax = helpers.plot_code_units({"autoencoder": codes}).axes[0]
    labels = [t.get_text() for t in ax.texts]
    assert labels == ["50%"] + ["100%"] * 6 + ["dead"] and ax.get_ylabel() == "autoencoder"


def test_results_json_is_strict_json_with_null_for_infinite_values():
    text = helpers.results_json({"psnr": [math.inf, 1.5], "n": {"x": math.nan, "y": 2}})
    assert json.loads(text) == {"psnr": [None, 1.5], "n": {"x": None, "y": 2}}
    assert "Infinity" not in text and "NaN" not in text


def test_comparison_table_keeps_strings_and_integers_as_they_are():
    table = helpers.comparison_table({"lr": ("0.1", 3, 0.12345)}, ["a", "b", "c"])
    assert "| lr | 0.1 | 3 | 0.123 |" in table
