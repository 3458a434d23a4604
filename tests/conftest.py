"""Shared fixtures: the real Fashion-MNIST (loaded once) and a small slice of it."""

from pathlib import Path

import pytest

import helpers

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def data() -> helpers.FashionMNISTData:
    return helpers.load_fashion_mnist(ROOT / "data")


@pytest.fixture(scope="session")
def small_data(data) -> helpers.FashionMNISTData:
    """2,000 training and 500 test images: enough to see learning, fast to train."""
    return helpers.FashionMNISTData(
        data.train_x[:2000], data.train_y[:2000], data.test_x[:500], data.test_y[:500], data.classes
    )


@pytest.fixture(scope="session")
def raw_dir():
    """torchvision's raw folder of the project's verified data."""
    return helpers.ensure_raw_files(ROOT / "data")
