"""report.py: labelled, legible figures sized for the PDF; tables; computed wording; listings;
the results file and where the test run writes it."""

import json
import math
import statistics

import matplotlib
import numpy as np
import pytest
import torch

import helpers
import report

matplotlib.use("Agg")
CLASSES = [f"class {i}" for i in range(10)]


@pytest.fixture
def history():
    return helpers.TrainingHistory(train_loss=[0.2 - 0.01 * i for i in range(12)],
                                   test_loss={10: 0.11, 12: 0.1})


def study_of(plain: list[float], denoising: list[float]) -> dict:
    """A seed study with one measure (test MSE, clean) and one PSNR level."""
    def model(values):
        return {"test_mse_clean": {"values": values}, "psnr_db": {"values": [[30.0, v] for v in values]}}
    return {"seeds": list(range(len(plain))), "settings": {"noise_stds_psnr": [0.0, 0.5]},
            "autoencoder": model(plain), "denoising_autoencoder": model(denoising)}


def fonts(fig) -> list[float]:
    fig.canvas.draw()
    return [text.get_fontsize() for text in fig.findobj(matplotlib.text.Text) if text.get_text()]


def test_image_rows_have_row_labels_and_class_titles_at_8_points_or_more():
    fig = report.show_image_rows({"input": torch.zeros(10, 784), "output": torch.ones(10, 784)},
                                 CLASSES, "title")
    axes = fig.axes
    assert len(axes) == 20 and fig.get_size_inches()[0] <= report.FIGURE_WIDTH
    assert axes[0].get_ylabel() == "input" and axes[10].get_ylabel() == "output"
    assert [ax.get_title() for ax in axes[:10]] == [report.wrapped(name) for name in CLASSES]
    assert min(fonts(fig)) >= 8


def test_recorder_keeps_one_output_per_test_and_draws_inputs_outputs_and_originals():
    clean, noisy = torch.zeros(10, 784), torch.ones(10, 784)
    recorder = report.Recorder(clean, noisy)
    model = helpers.Autoencoder(seed=0)
    recorder(10, model)
    recorder(20, model)
    assert list(recorder.outputs) == [10, 20]
    assert torch.equal(recorder.outputs[10], helpers.reconstruct(model, noisy))
    fig = recorder.figure(CLASSES, "t")
    assert [fig.axes[i].get_ylabel() for i in (0, 10, 20, 30)] == [
        "noisy\ninput", "epoch\n10", "epoch\n20", "original"]


def test_loss_plot_has_labels_legend_log_axis_and_readable_ticks(history):
    fig = report.plot_losses({"autoencoder": history})
    ax = fig.axes[0]
    assert ax.get_xlabel() == "epoch" and "MSE" in ax.get_ylabel() and ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "autoencoder: training loss", "autoencoder: test loss"]
    fig.canvas.draw()
    ticks = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert len(ticks) >= 3 and min(fonts(fig)) >= 8


def test_log_axis_ticks_do_not_crowd_over_one_decade():
    fig = report.plot_losses({"x": helpers.TrainingHistory(train_loss=[1.0, 0.1])})
    fig.canvas.draw()
    ticks = [float(t.get_text()) for t in fig.axes[0].get_yticklabels() if t.get_text()]
    inside = [t for t in ticks if 0.1 <= t <= 1.0]
    assert 3 <= len(inside) <= 6 and 0.7 not in inside and 0.9 not in inside


def test_embedding_plot_uses_ten_colours_and_ten_marker_shapes_with_class_names():
    points = np.random.default_rng(0).normal(size=(100, 2))
    fig = report.plot_embeddings({"a": points, "b": points}, np.arange(100) % 10, CLASSES)
    assert [t.get_text() for t in fig.legends[0].get_texts()] == CLASSES
    handles = fig.legends[0].legend_handles
    assert len({tuple(h.get_facecolor()[0]) for h in handles}) == 10
    assert len({h.get_paths()[0].vertices.tobytes() for h in handles}) == 10
    assert all("no units" in ax.get_xlabel() for ax in fig.axes)
    assert [ax.get_ylabel() for ax in fig.axes] == ["t-SNE 2 (no units)", ""]  # no overlap
    assert min(fonts(fig)) >= 8


def test_save_figure_writes_a_png_under_the_test_output_folder(tmp_path, monkeypatch):
    monkeypatch.setenv(report.OUTPUT_VARIABLE, str(tmp_path / "out"))
    fig = report.plot_losses({"x": helpers.TrainingHistory(train_loss=[1.0, 0.5])})
    path = report.save_figure(fig, "figures", "fig01_test")
    assert path == tmp_path / "out" / "figures" / "fig01_test.png"
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_without_the_variable_outputs_go_where_the_notebook_says(monkeypatch):
    monkeypatch.delenv(report.OUTPUT_VARIABLE, raising=False)
    assert str(report.output_path("figures")) == "figures"


def test_loss_table_lists_every_epoch_in_columns_of_ten(history):
    table = report.loss_table(history)
    assert "| epoch | 1-10 | 11-12 |" in table
    assert "| +0 | 0.2000 | 0.1000 |" in table and "| +2 | 0.1800 |  |" in table
    assert "10: **0.1100**" in table and "12: **0.1000**" in table


def sgd_run(batch_size, lr, losses, seconds):
    run = helpers.SGDRun(batch_size, lr)
    for step, (loss, second) in enumerate(zip(losses, seconds)):
        run.record(step, step * batch_size, second, loss)
    return run


def test_sgd_plot_has_examples_and_measured_time_panels_with_a_legend():
    fig = report.plot_sgd_runs({"stochastic": sgd_run(1, 0.1, [0.6, 0.3, 0.2], [0, 1, 2])})
    by_examples, by_time = fig.axes
    assert by_examples.get_xlabel() == "training examples processed"
    assert "measured" in by_time.get_xlabel() and "MSE" in by_examples.get_ylabel()
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["stochastic (lr 0.1)"]


def test_sgd_summary_compares_losses_measured_after_the_same_examples():
    runs = {"stochastic": sgd_run(1, 0.3, [0.6, 0.5, 0.4, 0.3], [0, 1, 2, 3]),
            "mini-batch": sgd_run(2, 1.0, [0.6, 0.45, 0.2], [0, 1, 2]),
            "batch": sgd_run(6, 1.0, [0.6, 0.55], [0, 4])}
    text = report.sgd_summary(runs, compare_at=2)
    assert "After the same 2 training examples" in text
    assert "stochastic GD is at 0.400 and mini-batch GD at 0.450" in text
    assert "per example, stochastic GD learns more" in text
    assert "order is mini-batch, stochastic, batch" in text


def test_psnr_plot_marks_the_training_noise_and_names_every_curve():
    curves = {"noisy input": [math.inf, 10.0, 6.0], "autoencoder": [20.0, 18.0, 12.0]}
    ax = report.plot_psnr([0.0, 0.5, 1.0], curves, training_std=0.5).axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(curves)
    assert "dB" in ax.get_ylabel() and "noise std" in ax.get_xlabel()
    assert any("training noise 0.5" in t.get_text() for t in ax.texts)


def test_code_unit_plot_labels_dead_units_active_shares_and_the_value_axis():
    codes = np.zeros((4, 8))
    codes[:2, 0] = 1.0
    codes[:, 1:] = 2.0
    codes[:, 7] = 0.0
    fig = report.plot_code_units({"autoencoder": codes})
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["50%"] + ["100%"] * 6 + ["dead"]
    assert ax.get_ylabel() == "code value" and ax.get_title(loc="left") == "autoencoder"
    assert min(fonts(fig)) >= 8


def test_results_json_is_strict_json_with_null_for_infinite_values():
    text = report.results_json({"psnr": [math.inf, 1.5], "n": {"x": math.nan, "y": 2}})
    assert json.loads(text) == {"psnr": [None, 1.5], "n": {"x": None, "y": 2}}
    assert "Infinity" not in text and "NaN" not in text


def test_write_results_replaces_the_file_whole(tmp_path, monkeypatch):
    monkeypatch.delenv(report.OUTPUT_VARIABLE, raising=False)
    target = tmp_path / "results.json"
    report.write_results(target, {"a": 1})
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_markdown_table_keeps_strings_and_integers_as_they_are():
    table = report.markdown_table({"lr": ("0.1", 3, 0.12345)}, ["a", "b", "c"])
    assert "| lr | 0.1 | 3 | 0.123 |" in table


@pytest.mark.parametrize("mean, sd, higher, expected", [
    (0.01, 0.006, True, "no measurable difference"),
    (0.01, 0.004, True, "plain better"),
    (0.01, 0.004, False, "denoising better"),
    (-0.01, 0.004, False, "plain better"),
])
def test_a_gap_within_two_sd_reads_as_no_measurable_difference(mean, sd, higher, expected):
    assert report.verdict(mean, sd, higher) == expected


def test_seed_difference_is_paired_by_seed_and_counts_wins():
    study = study_of([0.070, 0.068, 0.071], [0.072, 0.069, 0.070])
    mean, sd, wins, seeds = report.difference(study, "test_mse_clean")
    gaps = [-0.002, -0.001, 0.001]
    assert mean == pytest.approx(statistics.mean(gaps)) and sd == pytest.approx(statistics.stdev(gaps))
    assert (wins, seeds) == (2, 3)  # lower MSE wins
    assert report.difference(study, "psnr_db", level=1)[2] == 1  # higher PSNR wins


def test_seed_table_marks_the_main_run_and_gives_the_verdict():
    study = study_of([0.070, 0.068, 0.071], [0.080, 0.079, 0.081])
    main = {"autoencoder": {"test_mse_clean": 0.07, "psnr_db_1": 0.07},
            "denoising_autoencoder": {"test_mse_clean": 0.08, "psnr_db_1": 0.08}}
    table = report.seed_table(study, main)
    row = next(line for line in table.splitlines() if line.startswith("| test MSE on clean inputs"))
    assert "| plain |" in row and "3 of 3" in row and "0.0700 / 0.0800" in row


def test_settings_in_the_text_follow_the_parameters():
    assert report.test_epochs(10, 5) == [5, 10] and report.test_epochs(12, 5) == [5, 10, 12]
    assert report.listed(report.test_epochs(50, 10)) == "10, 20, 30, 40 and 50"
    assert "$\\sigma = 0.3$" in report.noise_answer(0.3)


def test_map_description_names_classes_that_stay_apart_and_pairs_that_mix():
    labels = np.array([0] * 10 + [1] * 10 + [2] * 10)
    votes = np.array([0] * 10 + [1] * 5 + [2] * 5 + [2] * 8 + [1] * 2)
    text = report.map_description(labels, votes, ["a", "b", "c"])
    assert "a (100%)" in text and "c (80%)" in text and "b (" not in text.split("Pairs")[0]
    assert "b with c (7 points)" in text


def test_listing_renders_the_real_source():
    text = report.listing(helpers.add_white_noise)
    assert text.startswith("```python\ndef add_white_noise(") and "torch.randn" in text
    assert "noise" in report.lines_with(helpers.train_epoch, "noise")


# ---------------------------------------------------------------------------- traversal, explorer


def with_dead_unit(model: helpers.Autoencoder, unit: int) -> helpers.Autoencoder:
    """Kill one code unit: its pre-activation is -1 for every input, so ReLU gives 0."""
    code_layer = model.encoder[-2]
    with torch.no_grad():
        code_layer.weight[unit] = 0.0
        code_layer.bias[unit] = -1.0
    return model


@pytest.fixture(scope="module")
def tiny_data():
    """200 random test images in 10 classes (the explorer needs no training)."""
    generator = torch.Generator().manual_seed(0)
    test_x = torch.rand(200, 784, generator=generator) * 2 - 1
    return helpers.FashionMNISTData(test_x[:20], torch.arange(20) % 10, test_x,
                                    torch.arange(200) % 10, CLASSES)


@pytest.fixture
def models():
    return {"plain": with_dead_unit(helpers.Autoencoder(seed=0), 4),
            "noisy": helpers.Autoencoder(seed=1)}


def traversal(models, data):
    codes = {name: helpers.encode(m, data.test_x).numpy() for name, m in models.items()}
    values = {name: helpers.traversal_values(c) for name, c in codes.items()}
    images = {name: helpers.traverse_units(m, torch.from_numpy(codes[name][0]), values[name])
              for name, m in models.items()}
    live = {name: helpers.unit_activity(c) > 0 for name, c in codes.items()}
    return images, values, live


def test_traversal_figure_has_a_row_per_unit_a_column_per_value_and_marks_dead_units(models,
                                                                                   tiny_data):
    images, values, live = traversal(models, tiny_data)
    fig = report.plot_traversal(images, values, live)
    assert len(fig.axes) == 2 * 8 * 7
    assert [panel._suptitle.get_text() for panel in fig.subfigs] == list(models)
    first_column = [ax for ax in fig.axes if ax.get_ylabel()]
    assert [ax.get_ylabel() for ax in first_column[:8]] == [
        f"unit {u}" + ("\ndead" if u == 5 else "") for u in range(1, 9)]
    assert fig.axes[1].get_xlabel() == report.value_label(values["plain"][0, 1])
    texts = fig.findobj(matplotlib.text.Text)  # no ticks here: sizes need no (slow) draw
    assert min(text.get_fontsize() for text in texts if text.get_text()) >= 8


def test_traversal_caption_takes_its_numbers_from_the_images(models, tiny_data):
    images, values, live = traversal(models, tiny_data)
    caption = report.traversal_caption(11, images, values, live, 0, "class 0")
    change = report.pixel_change(images["plain"])
    assert caption.startswith("**Figure 11.**") and "test image 0 (class 0)" in caption
    assert change[4] == 0.0 and "the dead unit 5 changes no pixel (0.000)" in caption
    top = int(np.argmax(change))
    assert f"unit {top + 1} changes it most" in caption
    moving = live["plain"] & (values["plain"][:, -1] > values["plain"][:, 0])
    least = int(np.argmin(np.where(moving, change, np.inf)))
    assert f"by {change[least]:.2f} (unit {least + 1}, least) to {change.max():.2f}" in caption
    area = helpers.ink_measures(images["plain"][top][[0, -1]])["area"]
    assert f"ink area from {area[0]} to {area[1]} pixels" in caption


def test_explorer_decodes_exactly_the_code_the_sliders_hold(models, tiny_data):
    explorer = report.CodeExplorer(models, tiny_data)
    for name, model in models.items():
        explorer.model.value = name
        index = explorer.test_index()
        image = tiny_data.test_x[index:index + 1]
        assert torch.equal(explorer.code(), helpers.encode(model, image))
        for unit, slider in enumerate(explorer.units):
            slider.value = slider.min + (unit + 1) / 9 * (slider.max - slider.min)
        code = explorer.code()
        with torch.no_grad():
            assert torch.equal(explorer.decoded(), model.eval().decoder(code)[0])
        assert explorer.images["decoded"].value == report.png(explorer.decoded())


def test_moving_a_dead_units_slider_changes_no_pixel(models, tiny_data):
    explorer = report.CodeExplorer(models, tiny_data)
    dead, live = explorer.units[4], explorer.units[0]
    assert dead.disabled and dead.description == "unit 5 (dead)" and not live.disabled
    before = explorer.images["decoded"].value
    dead.value = 3.0
    assert dead.value == 0.0 and explorer.images["decoded"].value == before
    live.value = live.max
    assert explorer.images["decoded"].value != before


def test_choosing_a_class_shows_one_of_its_test_images(models, tiny_data):
    explorer = report.CodeExplorer(models, tiny_data)
    explorer.garment.value = 3
    explorer.index.value = explorer.index.max
    index = explorer.test_index()
    assert tiny_data.test_y[index] == 3 and explorer.index.max == 19 and index == 193
    assert explorer.images["original"].value == report.png(tiny_data.test_x[index])


def test_noise_view_psnr_is_helpers_psnr_of_the_same_draw(models, tiny_data):
    explorer = report.CodeExplorer(models, tiny_data, noise_seed=7)
    explorer.garment.value, explorer.noise.value = 2, 0.3
    index = explorer.test_index()
    clean = tiny_data.test_x[index:index + 1]
    noisy = helpers.add_white_noise(clean, 0.3, torch.Generator().manual_seed(7 + index))
    view = explorer.noise_view()
    assert torch.equal(view["noisy input"][0], noisy[0])
    assert view["noisy input"][1] == helpers.psnr(noisy, clean)
    for name, model in models.items():
        assert view[name][1] == helpers.psnr(helpers.reconstruct(model, noisy), clean)
        assert report.psnr_label(view[name][1]) in explorer.captions[name].value
    explorer.noise.value = 0.0
    assert explorer.noise_view()["noisy input"][1] == math.inf
    assert "identical" in explorer.captions["noisy input"].value


def test_code_explorer_returns_one_ipywidgets_layout(models, tiny_data):
    import ipywidgets

    layout = report.code_explorer(models, tiny_data)
    assert isinstance(layout, ipywidgets.VBox)
    shown = []

    def walk(widget):
        shown.append(widget)
        for child in getattr(widget, "children", ()):
            walk(child)
    walk(layout)
    assert sum(isinstance(w, ipywidgets.FloatSlider) for w in shown) == 8 + 1
    assert sum(isinstance(w, ipywidgets.Image) for w in shown) == 3 + len(models)


def test_traversal_caption_explains_a_live_unit_whose_range_stays_at_zero():
    images = -torch.ones(8, 7, 784)
    images[1:, -1, :100] = 1.0  # every unit but the first adds 100 pixels of ink
    values = np.tile(np.linspace(0, 1, 7, dtype=np.float32), (8, 1))
    values[0] = 0.0  # unit 1 fires on under 5% of the images: its percentiles are both 0
    images[0] = images[0, :1]
    caption = report.traversal_caption(3, {"plain": images}, {"plain": values},
                                       {"plain": np.ones(8, bool)}, 5, "Bag")
    assert ("the live units 2, 3, 4, 5, 6, 7 and 8 change the image by 0.26 (unit 2, least) "
            "to 0.26") in caption
    assert "unit 1 fires on fewer than 5% of the test images, so its row stays at 0" in caption
    assert "taking the ink area from 0 to 100 pixels, the width from 0 to 28 columns and the " \
           "height from 0 to 4 rows; unit 1" in caption
    assert caption.endswith("changes 0.000; no unit is dead.")
