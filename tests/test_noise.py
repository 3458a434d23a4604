"""Noise: white Gaussian noise on the input scale, a new tensor, clear errors."""

import math

import pytest
import torch

import helpers


def test_noise_has_requested_std_and_zero_mean():
    x = torch.zeros(1000, 784)
    noisy = helpers.add_white_noise(x, 0.5, torch.Generator().manual_seed(0))
    assert abs(noisy.mean().item()) < 0.005
    assert noisy.std().item() == pytest.approx(0.5, rel=0.01)


def test_input_is_left_unchanged_and_a_new_tensor_returned():
    x = torch.ones(3, 784)
    noisy = helpers.add_white_noise(x, 1.0)
    assert torch.equal(x, torch.ones(3, 784)) and noisy is not x and not torch.equal(noisy, x)


def test_zero_std_returns_an_equal_copy():
    x = torch.randn(3, 784)
    copy = helpers.add_white_noise(x, 0.0)
    assert torch.equal(copy, x) and copy.data_ptr() != x.data_ptr()
    copy += 1.0
    assert not torch.equal(copy, x)


def test_same_generator_seed_gives_the_same_noise():
    x = torch.zeros(2, 784)
    first, second = (helpers.add_white_noise(x, 0.3, torch.Generator().manual_seed(7)) for _ in range(2))
    assert torch.equal(first, second)


@pytest.mark.parametrize("std", [-0.1, math.nan, math.inf])
def test_negative_or_non_finite_std_is_a_value_error(std):
    with pytest.raises(ValueError, match="noise std"):
        helpers.add_white_noise(torch.zeros(1, 784), std)
