"""Training (helpers.train_autoencoder, the plain loop): true per-epoch means, the test
schedule, denoising, reproducibility; the gradient-descent variants (gd_variants.py)."""

import math

import pytest

import gd_variants
import helpers


def train(data, **settings):
    settings = {"epochs": 2, "progress": False, **settings}
    return helpers.train_autoencoder(
        helpers.Autoencoder(seed=settings.get("seed", 0)), data, **settings
    )


def test_history_has_one_train_loss_per_epoch_and_tests_on_schedule(small_data):
    history = train(small_data, epochs=5, test_every=2)
    assert len(history.train_loss) == 5 and len(history.epoch_seconds) == 5
    assert list(history.test_loss) == [2, 4, 5]
    assert history.train_loss[-1] < history.train_loss[0]
    assert 1 <= history.live_code_units <= 8


def test_train_loss_is_the_mean_over_all_samples_not_the_last_batch(small_data):
    model = helpers.Autoencoder(seed=1)
    expected = helpers.reconstruction_loss(model, small_data.train_x, small_data.train_x)
    history = (
        helpers.train_autoencoder(  # lr 0: the weights stay, so each epoch sees the same model
            model, small_data, epochs=2, batch_size=300, lr=0.0, weight_decay=0.0, progress=False
        )
    )
    assert history.train_loss == pytest.approx([expected, expected], rel=1e-5)


def test_denoising_test_loss_uses_one_fixed_noise_draw(small_data):
    history = helpers.train_autoencoder(
        helpers.Autoencoder(seed=2),
        small_data,
        epochs=3,
        test_every=1,
        lr=0.0,
        weight_decay=0.0,
        noise_std=0.5,
        progress=False,
    )
    losses = list(history.test_loss.values())
    assert losses[0] == losses[1] == losses[2]
    assert history.to_dict()["noise_std"] == 0.5


def test_denoising_targets_are_the_clean_images(small_data):
    """Against noisy targets the training loss could not fall below the noise variance 0.25."""
    history = train(small_data, epochs=6, batch_size=32, noise_std=0.5)
    assert history.train_loss[-1] < 0.2


def test_same_seed_gives_the_same_losses_and_another_seed_differs(small_data):
    first, second, other = (train(small_data, seed=s, noise_std=0.3) for s in (5, 5, 6))
    assert first.train_loss == second.train_loss and first.test_loss == second.test_loss
    assert first.train_loss != other.train_loss


def test_on_test_is_called_with_the_epoch_and_the_model(small_data):
    calls = []
    model = helpers.Autoencoder(seed=0)
    helpers.train_autoencoder(
        model,
        small_data,
        epochs=3,
        test_every=10,
        progress=False,
        on_test=lambda epoch, m: calls.append((epoch, m)),
    )
    assert calls == [(3, model)]


def test_to_dict_has_string_epoch_keys(small_data):
    result = train(small_data, epochs=2, test_every=1).to_dict()
    assert list(result["test_loss"]) == ["1", "2"] and len(result["train_loss"]) == 2


def sgd_images(small_data) -> dict:
    return {
        "train": small_data.train_x,
        "held_out": small_data.train_x[:300],
        "eval": small_data.test_x[:200],
    }


def sgd_run(small_data, **settings):
    settings = {"batch_size": 64, "lr": 0.1, "seed": 0, "passes": 2, "evaluations": 5, **settings}
    return gd_variants.train_sgd(sgd_images(small_data), **settings)


def test_an_example_budget_run_counts_passes_updates_examples_and_time(small_data):
    run = sgd_run(small_data, batch_size=50)
    assert run.updates[0] == 0 and run.examples[0] == 0 and run.seconds[0] == 0.0
    assert run.updates[-1] == 80 and run.updates == sorted(run.updates)  # 2 passes of 40 batches
    assert run.examples == [50 * u for u in run.updates] and run.examples[-1] == 4000
    assert run.seconds == sorted(run.seconds) and run.seconds[-1] > 0
    assert run.final_loss < run.loss[0] and math.isfinite(run.held_out)
    assert run.examples_per_second == pytest.approx(run.examples[-1] / run.seconds[-1])


def test_an_example_budget_run_gives_the_same_losses_every_time(small_data):
    """The losses depend on the seed only, not on time or load: what nbval may compare."""
    first, second = sgd_run(small_data), sgd_run(small_data)
    assert first.loss == second.loss and first.held_out == second.held_out
    assert sgd_run(small_data, seed=1).loss != first.loss


def test_a_pass_ends_with_a_partial_batch_counted_as_its_size(small_data):
    run = sgd_run(small_data, batch_size=300, passes=1, evaluations=7)
    assert run.updates[-1] == 7 and run.examples[-1] == 2000  # six of 300, then 200


def test_batch_gd_takes_one_update_per_pass(small_data):
    run = sgd_run(small_data, batch_size=len(small_data.train_x), lr=0.5, passes=3)
    assert run.examples == [0, 2000, 4000, 6000] and run.to_dict()["batch_size"] == 2000


def test_a_time_budget_run_stops_when_its_training_time_is_spent(small_data):
    run = sgd_run(small_data, passes=None, seconds=0.2)
    assert 0.2 <= run.seconds[-1] < 1.2 and run.updates[-1] > 1
    assert run.examples[-1] <= 64 * run.updates[-1]  # a pass of 2,000 ends with 16


def test_a_diverging_run_stops_early_with_an_infinite_loss(small_data):
    run = sgd_run(small_data, lr=1e10, passes=300)  # the weights overflow to nan
    assert run.final_loss == math.inf and run.updates[-1] < 300 * 32
    assert gd_variants.held_out_mean([run]) == math.inf


def test_a_variant_chooses_its_rate_on_the_held_out_images_and_times_that_rate(small_data):
    variant = gd_variants.run_variant(sgd_images(small_data), 64, [1e-9, 0.1], [0, 1], 1, 0.1)
    means = {lr: gd_variants.held_out_mean(runs) for lr, runs in variant.sweeps.items()}
    assert variant.lr == min(means, key=means.get) == 0.1
    assert [run.seed for run in variant.runs] == [0, 1] == [run.seed for run in variant.timed]
    assert all(run.lr == 0.1 and run.seconds[-1] >= 0.1 for run in variant.timed)
    start = helpers.reconstruction_loss(helpers.Autoencoder(seed=0), *[small_data.test_x[:200]] * 2)
    assert variant.sweeps[1e-9][0].final_loss == pytest.approx(start, rel=1e-4)
