"""report.py: labelled, legible figures sized for the PDF; listings; the notice for other runs;
the results files and where the test run writes them. The tables are tests/test_tables.py's."""

import dataclasses
import errno
import json
import math
import os
from pathlib import Path

import filelock
import matplotlib
import numpy as np
import pytest
import torch

import gd_variants
import helpers
import provenance
import report
import settings
from seed_study import statistics as seed_statistics

ROOT = Path(__file__).resolve().parents[1]

matplotlib.use("Agg")
CLASSES = [f"class {i}" for i in range(10)]


@pytest.fixture
def history():
    return helpers.TrainingHistory(
        train_loss=[0.2 - 0.01 * i for i in range(12)], test_loss={10: 0.11, 12: 0.1}
    )


def shown_ticks(ax) -> list[float]:
    """Return the labelled y ticks inside the axes' view, as numbers."""
    ax.figure.canvas.draw()
    low, high = ax.get_ylim()
    return [
        float(label.get_text())
        for label in ax.get_yticklabels()
        if label.get_text() and low <= label.get_position()[1] <= high
    ]


def fonts(fig) -> list[float]:
    fig.canvas.draw()
    return [text.get_fontsize() for text in fig.findobj(matplotlib.text.Text) if text.get_text()]


def recorded(rows: int, images: int = 10) -> helpers.Recorder:
    """Return a Recorder of `images` clean images with `rows` - 1 recorded epochs."""
    recorder = helpers.Recorder(torch.zeros(images, 784))
    recorder.outputs = {10 * k: torch.ones(images, 784) for k in range(1, rows)}
    return recorder


def test_image_rows_have_row_labels_and_class_titles_at_8_points_or_more():
    fig = report.plot_recorded(recorded(2), CLASSES, "title")
    axes = fig.axes
    assert len(axes) == 20 and fig.get_size_inches()[0] <= report.FIGURE_WIDTH
    assert axes[0].get_ylabel() == "input" and axes[10].get_ylabel() == "epoch\n10"
    assert [ax.get_title() for ax in axes[:10]] == [f"class\n{i}" for i in range(10)]
    assert min(fonts(fig)) >= 8


def test_image_rows_break_class_names_at_a_space_or_after_a_slash():
    fig = report.plot_recorded(recorded(1, images=2), ["T-shirt/top", "Ankle boot"], "t")
    assert [ax.get_title() for ax in fig.axes] == ["T-shirt/\ntop", "Ankle\nboot"]


def test_plot_recorded_draws_inputs_every_recorded_epoch_and_the_originals():
    clean, noisy = torch.zeros(10, 784), torch.ones(10, 784)
    recorder = helpers.Recorder(clean, noisy)
    model = helpers.Autoencoder(seed=0)
    recorder(10, model)
    recorder(20, model)
    fig = report.plot_recorded(recorder, CLASSES, "t")
    assert [fig.axes[i].get_ylabel() for i in (0, 10, 20, 30)] == [
        "noisy\ninput",
        "epoch\n10",
        "epoch\n20",
        "original",
    ]
    plain = report.plot_recorded(helpers.Recorder(clean), CLASSES, "t")
    assert len(plain.axes) == 10 and plain.axes[0].get_ylabel() == "input"


def test_image_rows_leave_no_gap_between_the_title_and_the_first_row():
    """The column titles and the figure title take about half an inch above the images."""
    fig = report.plot_recorded(recorded(6), CLASSES, "title")
    height = fig.get_size_inches()[1]
    top_of_images = fig.axes[0].get_position().y1
    assert (1 - top_of_images) * height < 0.6


def test_loss_plot_has_labels_legend_log_axis_and_readable_ticks(history):
    fig = report.plot_losses({"autoencoder": history})
    ax = fig.axes[0]
    assert ax.get_xlabel() == "epoch" and "MSE" in ax.get_ylabel() and ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "autoencoder: training loss",
        "autoencoder: test loss",
    ]
    assert len(shown_ticks(ax)) >= 3 and min(fonts(fig)) >= 8


def test_loss_plot_says_a_denoising_models_test_loss_is_on_noisy_inputs(history):
    noisy = dataclasses.replace(history, noise_std=0.5)
    fig = report.plot_losses({"autoencoder": history, "denoising autoencoder": noisy})
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()][1:4:2] == [
        "autoencoder: test loss",
        "denoising autoencoder: test loss, noisy inputs",
    ]


def test_loss_plot_draws_every_model_in_its_own_colour_up_to_ten():
    histories = {
        f"model {i}": helpers.TrainingHistory(train_loss=[1.0, 0.5 + i / 100], test_loss={2: 0.5})
        for i in range(12)
    }
    ax = report.plot_losses(histories).axes[0]
    lines = ax.get_lines()
    assert len(lines) == 2 * 12 and lines[4].get_label() == "model 2: training loss"
    assert len({line.get_color() for line in lines}) == 10  # tab10, then again from the first
    matplotlib.pyplot.close(ax.figure)


def test_log_axis_ticks_do_not_crowd_over_one_decade():
    ax = report.plot_losses({"x": helpers.TrainingHistory(train_loss=[1.0, 0.1])}).axes[0]
    assert shown_ticks(ax) == [0.1, 0.15, 0.2, 0.3, 0.5, 0.7, 1.0]
    assert not ax.yaxis.get_minorticklocs().size  # no unlabelled ticks between them


@pytest.mark.parametrize("low, high", [(0.0683, 0.1851), (0.2593, 0.8976), (0.17, 1.5)])
def test_log_ticks_label_the_range_of_the_data_in_plain_numbers(low, high):
    """At least three plain labels, the outermost within a tick step of the data's ends (the
    ranges of Figure 1 and of the gradient-descent figure, and a wider one)."""
    losses = np.geomspace(high, low, 20).tolist()
    ticks = shown_ticks(
        report.plot_losses({"x": helpers.TrainingHistory(train_loss=losses)}).axes[0]
    )
    assert len(ticks) >= 3 and ticks == sorted(ticks)
    assert all(
        mantissa in report.LOG_SUBS
        for mantissa in (round(tick / 10 ** math.floor(math.log10(tick)), 6) for tick in ticks)
    )
    assert low <= ticks[0] <= low * 1.5 and high / 1.5 <= ticks[-1] <= high


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


def test_save_figure_writes_a_png_into_the_folder_given(tmp_path):
    fig = report.plot_losses({"x": helpers.TrainingHistory(train_loss=[1.0, 0.5])})
    path = report.save_figure(fig, tmp_path / "out" / "figures", "fig01_test")
    assert path == tmp_path / "out" / "figures" / "fig01_test.png"
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_only_make_run_writes_into_the_project_and_every_other_run_into_a_folder_of_its_own(
    monkeypatch, tmp_path
):
    """A run in JupyterLab or with papermill, whatever its settings, leaves the tracked files
    alone (other-runs/<its own folder>); `make run` ($EXERCISE9_RECORD) writes the committed
    run; the tests write into their own folder."""
    monkeypatch.delenv(report.OUTPUT_VARIABLE, raising=False)
    monkeypatch.delenv(provenance.RECORD_VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)
    first = report.output_folder()
    assert first.parent == Path(report.OTHER_RUN_FOLDER) and first.is_dir()
    assert first.name.startswith(report.UNFINISHED)
    second = report.output_folder()  # run again in this kernel: the first was cut off
    assert second.parent == first.parent and second.is_dir() and not first.exists()
    published = report.publish(second)
    assert published == Path(report.OTHER_RUN_FOLDER) / second.name.removeprefix(report.UNFINISHED)
    monkeypatch.setenv(provenance.RECORD_VARIABLE, "1")
    staging = report.output_folder()
    assert staging.parent == Path(".") and report.publish(staging) == Path(".")
    monkeypatch.setenv(report.OUTPUT_VARIABLE, str(tmp_path / "tests"))
    staging = report.output_folder()
    assert staging.parent == tmp_path / "tests" and report.publish(staging) == tmp_path / "tests"
    assert sorted(path.name for path in tmp_path.iterdir()) == [report.OTHER_RUN_FOLDER, "tests"]
    assert [path.name for path in (tmp_path / report.OTHER_RUN_FOLDER).iterdir()] == [
        published.name  # the first, cut off by the next run in this kernel, is gone
    ]


def test_make_run_records_only_the_values_settings_py_gives(monkeypatch, tmp_path):
    """Only `make run` writes the committed run; with another value it would record a run
    that the prose does not describe, so it stops before any work."""
    monkeypatch.setenv(provenance.RECORD_VARIABLE, "1")
    config = {**settings.COMMITTED, "DATA_DIR": "data", "RESULTS_FILE": "results.json"}
    assert report.run_notice(config, "cpu", tmp_path / "results.json") == ""
    with pytest.raises(settings.SettingsError) as error:
        report.run_notice({**config, "EPOCHS": 10, "SEED": 3}, "cpu", tmp_path / "results.json")
    assert str(error.value).startswith(
        "A recording run makes the committed run, with settings.py's values, but this run sets "
        "EPOCHS = 10, SEED = 3. Nothing was trained or written"
    )


def test_a_run_that_cannot_write_stops_before_any_work(monkeypatch, tmp_path):
    """A read-only project folder once gave a bare OSError after training."""
    monkeypatch.setenv(report.OUTPUT_VARIABLE, str(tmp_path / "out"))

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(report.Path, "mkdir", read_only)
    with pytest.raises(provenance.NotWritten) as error:
        report.output_folder()
    assert str(error.value) == (
        f"cannot write into {tmp_path / 'out'} (Read-only file system): make it writable or "
        "free space on its disk, then run again. Nothing was trained or written."
    )


def test_a_run_writes_into_its_unfinished_folder_until_publish_moves_it_whole(
    monkeypatch, tmp_path
):
    monkeypatch.setenv(report.OUTPUT_VARIABLE, str(tmp_path))
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "fig01.png").write_bytes(b"the last complete run")
    (tmp_path / "figures" / "fig09.png").write_bytes(b"another notebook's figure")
    (tmp_path / "results.json").write_text("{}")
    cut_off = tmp_path / f"{report.UNFINISHED}run-that-was-killed" / "figures"
    cut_off.mkdir(parents=True)
    (cut_off / "fig01.png").write_bytes(b"a run that was cut off")
    running = tmp_path / f"{report.UNFINISHED}run-that-still-runs"
    running.mkdir()
    held = filelock.FileLock(f"{running}.lock")  # as another process's run holds it
    held.acquire()
    staging = report.output_folder()
    assert not cut_off.parent.exists() and running.is_dir()  # only the abandoned one is gone
    held.release()
    report.save_figure(
        report.plot_losses({"x": helpers.TrainingHistory(train_loss=[1.0])}),
        staging / "figures",
        "fig01",
    )
    report.write_results(staging / "results.json", {"a": 1})
    assert (tmp_path / "results.json").read_text() == "{}"  # nothing published yet
    moved, replace = [], os.replace

    def recording(source, target):
        moved.append(Path(target).name)
        replace(source, target)

    monkeypatch.setattr(report.os, "replace", recording)
    assert report.publish(staging) == tmp_path and not staging.exists()
    assert moved == ["fig01.png", "results.json"]  # the results file last
    assert not Path(f"{staging}.lock").exists()
    assert (tmp_path / "figures" / "fig01.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "figures" / "fig09.png").read_bytes() == b"another notebook's figure"
    assert json.loads((tmp_path / "results.json").read_text()) == {"a": 1}


@pytest.mark.skipif(not (ROOT / ".gitignore").is_file(), reason="no .gitignore (the unpacked ZIP)")
def test_an_unfinished_run_is_ignored_by_git():
    assert f"{report.UNFINISHED}*" in (ROOT / ".gitignore").read_text(encoding="utf-8").split()


@pytest.mark.skipif(not (ROOT / ".gitignore").is_file(), reason="no .gitignore (the unpacked ZIP)")
def test_the_other_run_folder_is_ignored_by_git():
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert f"{report.OTHER_RUN_FOLDER}/" in ignored


def sgd_run(batch_size, lr, losses, seconds, seed=0, held_out=0.5):
    run = gd_variants.SGDRun(batch_size, lr, seed, held_out=held_out)
    for step, (loss, second) in enumerate(zip(losses, seconds)):
        run.record(step, step * batch_size, second, loss)
    return run


def sgd_variant(batch_size, rates: dict, timed_losses: list) -> gd_variants.Variant:
    """A variant with rates {lr: held-out loss} over two seeds, the lowest chosen."""
    sweeps = {
        lr: [
            sgd_run(batch_size, lr, [0.9, 0.5 + 0.1 * s], [0, 1 + s], s, loss + 0.01 * s)
            for s in (0, 1)
        ]
        for lr, loss in rates.items()
    }
    chosen = min(rates, key=rates.get)
    timed = [
        sgd_run(batch_size, chosen, [0.9, loss], [0, 0.5 + 0.1 * s], s)
        for s, loss in enumerate(timed_losses)
    ]
    return gd_variants.Variant(batch_size, sweeps, chosen, timed)


def test_results_json_is_strict_json_with_null_for_infinite_values():
    text = provenance.json_text({"psnr": [math.inf, 1.5], "n": {"x": math.nan, "y": 2}})
    assert json.loads(text) == {"psnr": [None, 1.5], "n": {"x": None, "y": 2}}
    assert "Infinity" not in text and "NaN" not in text


def test_write_results_replaces_the_file_whole(tmp_path):
    target = tmp_path / "results.json"
    report.write_results(target, {"a": 1})
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


DAMAGED_RESULTS = {  # what a damaged results.json holds: the words of its one message
    "missing": (None, "results.json is missing"),
    "truncated": ('{"config": {"EPOCHS": 5', "results.json is damaged (Expecting"),
    "not UTF-8": (b'{"config": "\xff"}', "results.json is damaged ("),
    "a list": ("[1, 2]", "results.json is damaged (it lacks 'config', 'autoencoder')"),
    "a key missing": ('{"config": {}}', "results.json is damaged (it lacks 'autoencoder')"),
    "a NaN": ('{"config": {}, "autoencoder": NaN}', "results.json is damaged (NaN where"),
    "an infinity": ('{"config": -Infinity, "autoencoder": 1}', "damaged (-Infinity where"),
}


@pytest.mark.parametrize("content, words", DAMAGED_RESULTS.values(), ids=DAMAGED_RESULTS)
def test_a_damaged_results_file_is_one_message_naming_how_to_restore_it(
    tmp_path, monkeypatch, content, words
):
    monkeypatch.chdir(tmp_path)
    if content is not None:
        path = Path("results.json")
        path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    with pytest.raises((FileNotFoundError, ValueError)) as error:
        report.read_json("results.json", "`make run`", ("config", "autoencoder"))
    message = str(error.value)
    assert words in message
    assert message.endswith(
        "restore it with `git checkout -- results.json` (or unzip it again), or run `make run`"
    )


def notice(config: dict, device: str, committed: dict | None, folder) -> str:
    """The notice of a run with these settings beside a results file holding `committed`."""
    path = folder / "results.json"
    if committed is not None:
        path.write_text(json.dumps({"config": committed}))
    return report.run_notice(config, device, path)


def test_the_notice_names_every_changed_setting_and_is_empty_for_the_committed_run(tmp_path):
    committed = {"EPOCHS": 50, "NOISE_STD": 0.5, "SEED": 0, "device": "cpu"}
    assert notice(dict(committed), "cpu", committed, tmp_path) == ""
    changed = notice({**committed, "EPOCHS": 10, "NOISE_STD": 0.3}, "cpu", committed, tmp_path)
    assert "`EPOCHS = 10` instead of 50" in changed
    assert "`NOISE_STD = 0.3` instead of 0.5" in changed
    assert "SEED" not in changed and "the tables and figures are this run's" in changed
    assert "`device = 'cuda'` instead of 'cpu'" in notice(committed, "cuda", committed, tmp_path)


def test_a_first_run_and_make_run_have_no_committed_run_to_differ_from(tmp_path, monkeypatch):
    assert notice({"EPOCHS": 10}, "cuda", None, tmp_path) == ""
    committed = {"EPOCHS": 50, "device": "cuda"}
    assert "`device = 'cpu'` instead of 'cuda'" in notice(
        {"EPOCHS": 50}, "cpu", committed, tmp_path
    )
    monkeypatch.setenv(provenance.RECORD_VARIABLE, "1")
    assert notice({"EPOCHS": 50}, "cpu", committed, tmp_path) == ""


def test_source_lines_give_a_complete_dedented_fragment():
    text = report.source_lines(helpers.train_epoch, "for batch in", "total.add_(")
    lines = text.splitlines()
    assert lines[0].startswith("for batch in order.split(")
    assert lines[-1].startswith("    total.add_(")
    assert "inputs = add_white_noise(target, noise_std, generator)" in text
    block = report.listing(text, helpers.add_white_noise).splitlines()
    assert block[0] == "```python" and block[1] == lines[0] and block[-1] == "```"
    assert "def add_white_noise(" in block[len(lines) + 1]


def test_listing_renders_the_real_source():
    text = report.listing(helpers.add_white_noise)
    assert text.startswith("```python\ndef add_white_noise(") and ".normal_(0.0, std" in text


# ---------------------------------------------------------------------------- seed study
# study_of, TEN_PLAIN and TEN_DENOISING (and sgd_run above) serve tests/test_tables.py too.


def study_of(plain: list[float], denoising: list[float]) -> dict:
    """A seed study with two measures, one noise level each, and code similarities."""

    def model(values):
        keys = ("test_mse_clean", "knn_accuracy", "linear_probe_accuracy")
        return {key: {"values": values} for key in keys} | {
            "live_code_units": {"values": [6] * len(values)},
            "code_stability": {"values": [[v, v - 0.01 * (v > 0.075)] for v in values]},
            "psnr_db": {"values": [[30.0, v, v - 0.5 * (v > 0.075)] for v in values]},
        }

    labels = {
        "autoencoder": "plain",
        "denoising_autoencoder": "denoising",
        "linear_code_autoencoder": "linear",
    }
    study = {
        "seeds": list(range(len(plain))),
        "settings": {
            "noise_stds_psnr": [0.0, 0.5, 1.0],
            "noise_stds_stability": [0.5, 1.0],
            "test_noise_std": 0.5,
            "models": {name: {"label": label} for name, label in labels.items()},
        },
        "autoencoder": model(plain),
        "denoising_autoencoder": model(denoising),
        "linear_code_autoencoder": model(plain),
    }
    pairs = [
        {
            "models": list(models),
            "seeds": list(seeds),
            "cka": 0.9 - 0.1 * index,
            "knn_overlap": 0.4 - 0.05 * index,
        }
        for index, (models, seeds) in enumerate(
            [
                (("autoencoder", "autoencoder"), (0, 1)),
                (("denoising_autoencoder", "denoising_autoencoder"), (0, 1)),
                (("autoencoder", "denoising_autoencoder"), (0, 1)),
                (("autoencoder", "denoising_autoencoder"), (0, 0)),
            ]
        )
    ]
    study["comparisons"] = [
        seed_statistics.compare(study, "autoencoder", other)
        for other in ("denoising_autoencoder", "linear_code_autoencoder")
    ]
    study["similarity"] = {
        "pairs": pairs,
        "summary": seed_statistics.similarity_summary(pairs, labels),
    }
    return study


TEN_PLAIN = [0.070, 0.068, 0.071, 0.069, 0.070, 0.072, 0.069, 0.070, 0.071, 0.068]
TEN_DENOISING = [0.080, 0.079, 0.081, 0.080, 0.082, 0.080, 0.079, 0.081, 0.080, 0.079]


# ---------------------------------------------------------------------------- map votes, results


def test_recorded_numbers_are_the_shown_images_errors_and_brightness():
    clean = torch.zeros(10, 784)
    recorder = helpers.Recorder(clean, clean + 1.0)
    recorder.outputs = {10: clean + 0.5}
    numbers = report.recorded_numbers(recorder, CLASSES)
    assert numbers["mse"]["10"]["class 3"] == pytest.approx(0.25)
    assert numbers["mean_pixel"]["10"]["class 0"] == pytest.approx(0.5)
    assert (
        numbers["input_mean_pixel"]["class 9"] == 1.0
        and numbers["clean_mean_pixel"]["class 9"] == 0.0
    )
    assert (
        numbers["light_share"]["10"]["class 1"] == 1.0
        and numbers["clean_light_share"]["class 1"] == 0.0
    )


def test_vote_counts_give_each_class_its_votes_by_class():
    labels, votes = np.array([0, 0, 0, 1, 1]), np.array([0, 1, 1, 1, 1])
    assert report.vote_counts(labels, votes, ["a", "b"]) == {"a": {"a": 1, "b": 2}, "b": {"b": 2}}
