"""safeguards.py: clear errors for bad settings and data, the restart of a collapsed model,
the warning where subnormal floats would slow training."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import helpers
import safeguards
from conftest import BAD_TRAINING_SETTINGS


def train(data, **settings):
    settings = {"epochs": 2, "progress": False, **settings}
    return safeguards.train(helpers.Autoencoder(seed=settings.get("seed", 0)), data, **settings)


def test_the_safeguards_change_no_number_of_a_model_that_trains_normally(small_data):
    plain = helpers.train_autoencoder(
        helpers.Autoencoder(seed=3), small_data, epochs=2, noise_std=0.5, seed=3, progress=False
    )
    guarded = train(small_data, seed=3, noise_std=0.5)
    assert guarded.train_loss == plain.train_loss and guarded.test_loss == plain.test_loss
    assert guarded.restarts == []


@pytest.mark.parametrize("setting, words", BAD_TRAINING_SETTINGS)
def test_bad_settings_are_one_clear_value_error(small_data, setting, words):
    with pytest.raises(ValueError, match=words):
        train(small_data, **setting)


def test_wrong_data_shape_or_dtype_is_a_clear_error(small_data):
    images = small_data.train_x.reshape(-1, 28, 28)
    with pytest.raises(ValueError, match="data.train_x must have shape"):
        train(small_data._replace(train_x=images))
    with pytest.raises(TypeError, match="data.test_x must be float32"):
        train(small_data._replace(test_x=small_data.test_x.double()))


def kill_the_code(model: helpers.Autoencoder) -> helpers.Autoencoder:
    """Make every code unit dead on every input: the collapse seen with unlucky seeds."""
    with torch.no_grad():
        model.encoder[8].bias.fill_(-1e3)
    return model


def test_a_collapsed_model_is_detected_restarted_and_reported(small_data, capsys):
    model = kill_the_code(helpers.Autoencoder(seed=0))
    history = safeguards.train(model, small_data, epochs=2, progress=False)
    assert len(history.restarts) == 1
    assert "epoch 1: only 0 of 8 code units fire" in history.restarts[0]
    assert "restarted with seed 1000" in history.restarts[0]
    assert "Collapse at epoch 1" in capsys.readouterr().out
    assert history.live_code_units >= safeguards.MIN_LIVE_UNITS and len(history.train_loss) == 2


def test_a_model_that_collapses_at_every_start_stops_with_a_message(small_data, monkeypatch):
    """NOISE_STD 100 once gave a collapsed model that crashed the kernel in t-SNE."""
    monkeypatch.setattr(safeguards, "collapse_reason", lambda model, x: "no code unit fires")
    with pytest.raises(safeguards.CannotTrain) as error:
        safeguards.train(helpers.Autoencoder(seed=0), small_data, epochs=2, progress=False)
    message = str(error.value)
    assert "collapsed at each of its 6 starts (last: epoch 1: no code unit fires)" in message
    assert "cannot learn with these settings (lr 0.001, weight_decay 1e-05, noise_std 0)" in message


def test_restarts_can_be_turned_off(small_data):
    model = kill_the_code(helpers.Autoencoder(seed=0))
    history = safeguards.train(
        model, small_data, epochs=1, progress=False, restart_on_collapse=False
    )
    assert history.restarts == [] and history.live_code_units == 0


@pytest.mark.slow
@pytest.mark.parametrize("noise_std", [0.0, 0.5])
def test_seed_0_does_not_collapse_on_the_full_data(data, noise_std):
    """Seed 0 of the denoising model collapsed with PyTorch's default initialisation.

    The seed study records every restart of seeds 0 to 9 (seed_study.json, "restarts")."""
    history = safeguards.train(
        helpers.Autoencoder(seed=0), data, epochs=2, noise_std=noise_std, progress=False
    )
    assert list(history.test_loss.values())[-1] < 0.8 * helpers.mean_image_loss(data.test_x)
    assert history.live_code_units >= 3


def run_with_two_threads(script: str) -> str:
    """Return what a fresh Python prints, with two PyTorch worker threads."""
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        check=True,
    ).stdout


@pytest.mark.slow
def test_every_cpu_thread_flushes_subnormal_floats():
    """Importing helpers first makes every worker thread flush: products that would be
    subnormal (1e-20 x 1e-20 = 1e-40), computed across both threads, come out as 0."""
    script = (
        "import helpers, runtime, safeguards, torch; "
        "products = torch.full((1 << 22,), 1e-20) * 1e-20; "
        "print(torch.get_num_threads(), products.count_nonzero().item(), "
        "safeguards.flush_denormals())"
    )
    assert run_with_two_threads(script).split() == ["2", "0", "True"]


GNU_OPENMP = (
    "from pathlib import Path; maps = Path('/proc/self/maps'); "
    "print(maps.is_file() and 'libgomp' in maps.read_text())"
)


@pytest.mark.slow
def test_threads_started_before_helpers_are_detected():
    """PyTorch work before `import helpers` starts worker threads that do not flush; the check
    that train_autoencoder runs must see it. Only GNU OpenMP (libgomp, Linux wheels) keeps
    the old setting in running threads; LLVM's and Intel's runtimes (macOS, Windows, conda)
    pass it on, and ARM has no slow subnormals to warn about."""
    script = (
        "import torch; torch.ones(1 << 22).sum(); import helpers, safeguards; "
        f"print(safeguards.flush_denormals()); {GNU_OPENMP}"
    )
    flushes, gnu_openmp = run_with_two_threads(script).split()
    if gnu_openmp != "True" or not safeguards.subnormals_are_slow():
        pytest.skip("the threads inherit the flush setting here (not GNU OpenMP on x86)")
    assert flushes == "False"


def test_the_slow_subnormal_warning_is_only_for_x86(monkeypatch):
    for machine, slow in [("x86_64", True), ("AMD64", True), ("arm64", False), ("aarch64", False)]:
        monkeypatch.setattr(safeguards.platform, "machine", lambda machine=machine: machine)
        assert safeguards.subnormals_are_slow() == slow
