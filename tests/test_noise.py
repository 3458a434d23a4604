"""Noise: white Gaussian noise on the input scale, a new tensor, one fixed test draw."""

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
    first, second = (
        helpers.add_white_noise(x, 0.3, torch.Generator().manual_seed(7)) for _ in range(2)
    )
    assert torch.equal(first, second)


def accelerators() -> list:
    """CUDA and MPS, each skipped where this machine lacks it."""
    return [
        pytest.param(
            "cuda",
            marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here"),
        ),
        pytest.param(
            "mps",
            marks=pytest.mark.skipif(
                not torch.backends.mps.is_available(), reason="no Apple MPS device here"
            ),
        ),
    ]


def test_the_fixed_test_noise_is_drawn_on_the_cpu_and_stays_on_the_input_device():
    test_x = torch.zeros(4, 784)
    expected = test_x + 0.5 * torch.randn(4, 784, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(helpers.fixed_test_noise(test_x, 0.5, 0), expected, atol=1e-6)


@pytest.mark.parametrize("device", accelerators())
def test_the_fixed_test_noise_is_the_same_on_every_device(device):
    test_x = torch.linspace(-1, 1, 4 * 784).reshape(4, 784)
    on_device = helpers.fixed_test_noise(test_x.to(device), 0.5, 0)
    assert on_device.device.type == device
    assert torch.equal(on_device.cpu(), helpers.fixed_test_noise(test_x, 0.5, 0))
