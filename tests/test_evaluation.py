"""Evaluation: codes and reconstructions without gradients, in eval mode, and the losses."""

import pytest
import torch

import helpers


@pytest.fixture
def model():
    return helpers.Autoencoder(seed=0)


def test_encode_returns_8d_codes_without_gradients_and_restores_train_mode(model):
    model.train()
    codes = helpers.encode(model, torch.randn(6, 784))
    assert codes.shape == (6, 8) and not codes.requires_grad and model.training
    assert torch.all(codes >= 0)  # the code layer ends in ReLU


def test_reconstruct_matches_the_forward_pass_and_restores_eval_mode(model):
    model.eval()
    x = torch.randn(4, 784)
    output = helpers.reconstruct(model, x)
    assert torch.equal(output, model(x).detach()) and not model.training


def test_reconstruction_loss_is_the_mean_over_every_pixel_of_every_image(model):
    x = torch.randn(1001, 784)
    expected = torch.nn.functional.mse_loss(model(x), x).item()
    assert helpers.reconstruction_loss(model, x, x, batch_size=100) == pytest.approx(expected, rel=1e-5)


def test_mean_image_loss_is_the_mean_pixel_variance():
    x = torch.tensor([[0.0, 2.0], [2.0, 2.0]])
    assert helpers.mean_image_loss(x) == pytest.approx(0.5)


def test_count_live_units_counts_units_that_fire_on_some_input(model):
    with torch.no_grad():
        model.encoder[8].bias[:5] = -1e3
    assert helpers.count_live_units(model, torch.randn(50, 784)) == 3


def test_encode_rejects_unflattened_images(model):
    with pytest.raises(ValueError, match="flatten"):
        helpers.encode(model, torch.randn(2, 28, 28))
