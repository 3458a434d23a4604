"""Several seeds at once: stacked_training against the readable helpers.train_autoencoder."""


import pytest
import torch

import helpers
import stacked_training
from conftest import BAD_TRAINING_SETTINGS

SEEDS = [0, 1]
# Losses agree to about 1e-7 here: the stacked matrix products (torch.baddbmm) sum in another
# order than one model's, and the MSE of each model is reduced in another order, so results
# differ in the last float32 bits and these differences grow a little over the epochs.
LOSS_RTOL, WEIGHT_ATOL = 1e-4, 1e-4


def train_seeds(data, seeds, **settings):
    settings = {"epochs": 3, "test_every": 1, "progress": False, "device": "cpu", **settings}
    return stacked_training.train_autoencoder_seeds(data, seeds, **settings)


def train_one(data, seed, **settings):
    settings = {"epochs": 3, "test_every": 1, "progress": False, **settings}
    model = helpers.Autoencoder(seed=seed)
    return model, helpers.train_autoencoder(model, data, seed=seed, **settings)


@pytest.fixture(scope="module", params=[0.0, 0.5], ids=["plain", "denoising"])
def both_trainers(request, small_data):
    """(batched, one-by-one) runs of SEEDS with the same settings."""
    noise_std = request.param
    return (train_seeds(small_data, SEEDS, noise_std=noise_std),
            [train_one(small_data, seed, noise_std=noise_std) for seed in SEEDS])


def test_each_seed_has_the_losses_of_train_autoencoder(both_trainers):
    batched, one_by_one = both_trainers
    for (_, history), (_, expected) in zip(batched, one_by_one):
        assert history.train_loss == pytest.approx(expected.train_loss, rel=LOSS_RTOL)
        assert list(history.test_loss) == list(expected.test_loss) == [1, 2, 3]
        assert list(history.test_loss.values()) == pytest.approx(
            list(expected.test_loss.values()), rel=LOSS_RTOL)
        assert history.live_code_units == expected.live_code_units
        assert history.restarts == expected.restarts
        assert history.noise_std == expected.noise_std


def test_each_seed_ends_with_the_weights_of_train_autoencoder(both_trainers):
    batched, one_by_one = both_trainers
    for (model, _), (expected, _) in zip(batched, one_by_one):
        assert isinstance(model, helpers.Autoencoder)
        for name, weight in model.state_dict().items():
            torch.testing.assert_close(weight, expected.state_dict()[name], rtol=0,
                                       atol=WEIGHT_ATOL, msg=name)


def test_seeds_differ_from_each_other(both_trainers):
    batched, _ = both_trainers
    assert batched[0][1].train_loss != batched[1][1].train_loss


def test_stacked_noise_is_each_seeds_own_draw_of_add_white_noise():
    x, seeds = torch.rand(3, 5, helpers.IMAGE_SIZE), (4, 5, 6)
    noisy = stacked_training.stacked_white_noise(x, 0.5, [torch.Generator().manual_seed(s) for s in seeds])
    for part, clean, seed in zip(noisy, x, seeds):
        expected = helpers.add_white_noise(clean, 0.5, torch.Generator().manual_seed(seed))
        assert torch.equal(part, expected)


def kill_the_code(model: helpers.Autoencoder) -> helpers.Autoencoder:
    """Make every code unit dead on every input: the collapse seen with unlucky seeds."""
    with torch.no_grad():
        model.encoder[8].bias.fill_(-1e3)
    return model


def test_a_collapsed_seed_restarts_alone_like_train_autoencoder(small_data, monkeypatch, capsys):
    reset = helpers.Autoencoder.reset_parameters

    def reset_killing_seed_1(model, seed=None):
        reset(model, seed)
        if seed == 1:
            kill_the_code(model)

    monkeypatch.setattr(helpers.Autoencoder, "reset_parameters", reset_killing_seed_1)
    (_, first), (_, second) = train_seeds(small_data, [0, 1], epochs=2)
    assert "Collapse at epoch 1: only 0 of 8 code units fire" in capsys.readouterr().out
    assert second.restarts == train_one(small_data, 1, epochs=2)[1].restarts
    assert second.restarts == ["epoch 1: only 0 of 8 code units fire on the test set; "
                               "restarted with seed 1001"]
    assert len(second.train_loss) == 2 and second.live_code_units >= helpers.MIN_LIVE_UNITS
    assert first.restarts == []
    assert first.train_loss == pytest.approx(train_one(small_data, 0, epochs=2)[1].train_loss,
                                             rel=LOSS_RTOL)


def test_linear_code_models_come_back_with_a_linear_code(small_data):
    (model, history), = train_seeds(small_data, [0], epochs=1, linear_code=True)
    assert isinstance(model.encoder[-1], torch.nn.Identity) and history.train_loss


@pytest.mark.parametrize("setting, words", BAD_TRAINING_SETTINGS)
def test_bad_settings_are_the_value_errors_of_train_autoencoder(small_data, setting, words):
    with pytest.raises(ValueError, match=words):
        train_seeds(small_data, SEEDS, **setting)


@pytest.mark.parametrize("seeds, words", [
    ([], "seeds must be a non-empty list of integers"),
    ([0, 1.5], "seeds must be a non-empty list of integers"),
    ([2, 2], "seeds must be distinct"),
])
def test_bad_seeds_are_a_clear_value_error(small_data, seeds, words):
    with pytest.raises(ValueError, match=words):
        train_seeds(small_data, seeds)
