"""Data: the real Fashion-MNIST, found offline, verified, with clear errors for bad files."""

import gzip
import shutil

import pytest
import torch
import torchvision

import data_files
import helpers

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def test_load_returns_scaled_flat_images_labels_and_class_names(data):
    assert data.train_x.shape == (60_000, 784) and data.test_x.shape == (10_000, 784)
    assert data.train_x.dtype == torch.float32 and data.train_y.dtype == torch.int64
    assert data.train_x.min() == -1.0 and data.train_x.max() == 1.0
    assert data.classes == CLASSES
    assert torch.bincount(data.test_y).tolist() == [1000] * 10


def test_scale_images_maps_0_to_minus_1_and_255_to_1():
    images = torch.tensor([[[0, 255] * 392]], dtype=torch.uint8).reshape(1, 28, 28)
    assert helpers.scale_images(images).unique().tolist() == [-1.0, 1.0]


@pytest.fixture
def raw_source(tmp_path, raw_dir):
    """A folder holding verified decompressed copies of the four real files."""
    source = tmp_path / "source"
    source.mkdir()
    for name in data_files.FASHION_MNIST_SHA256:
        shutil.copy(raw_dir / name, source / name)
    return source


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No Debian folder, no $FASHION_MNIST_DIR, and a download mirror that refuses at once."""
    monkeypatch.setattr(data_files, "DEBIAN_DATA_DIR", tmp_path / "no-debian-package")
    monkeypatch.delenv(data_files.DATA_DIR_VARIABLE, raising=False)
    monkeypatch.setattr(torchvision.datasets.FashionMNIST, "mirrors", ["http://127.0.0.1:9/"])


def test_loads_from_the_folder_named_by_the_environment_variable(raw_source, tmp_path, monkeypatch, offline):
    for name in ("train-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):  # .gz works as well
        with open(raw_source / name, "rb") as plain, gzip.open(raw_source / f"{name}.gz", "wb", compresslevel=1) as packed:
            shutil.copyfileobj(plain, packed)
        (raw_source / name).unlink()
    monkeypatch.setenv(data_files.DATA_DIR_VARIABLE, str(raw_source))
    loaded = helpers.load_fashion_mnist(tmp_path / "root")
    assert loaded.train_x.shape == (60_000, 784)
    assert sorted(p.name for p in (tmp_path / "root/FashionMNIST/raw").iterdir()) == sorted(data_files.FASHION_MNIST_SHA256)


def test_missing_data_everywhere_names_the_file_and_three_ways(tmp_path, offline):
    with pytest.raises(data_files.DataError) as error:
        helpers.load_fashion_mnist(tmp_path / "root")
    message = str(error.value)
    assert "FashionMNIST" in message and "download failed" in message
    assert "apt-get install dataset-fashion-mnist" in message and data_files.DATA_DIR_VARIABLE in message


def test_corrupted_file_under_root_is_reported_and_kept(raw_source, tmp_path, offline):
    raw = tmp_path / "root/FashionMNIST/raw"
    shutil.copytree(raw_source, raw)
    target = raw / "t10k-images-idx3-ubyte"
    damaged = bytearray(target.read_bytes())
    damaged[5000] ^= 0xFF
    target.write_bytes(bytes(damaged))
    with pytest.raises(data_files.DataError, match="t10k-images-idx3-ubyte.*corrupted"):
        helpers.load_fashion_mnist(tmp_path / "root")
    assert target.read_bytes() == bytes(damaged)


def test_truncated_file_under_root_is_reported_and_kept(raw_source, tmp_path, offline):
    raw = tmp_path / "root/FashionMNIST/raw"
    shutil.copytree(raw_source, raw)
    target = raw / "train-labels-idx1-ubyte"
    target.write_bytes(target.read_bytes()[:1000])
    with pytest.raises(data_files.DataError, match="train-labels-idx1-ubyte.*truncated"):
        helpers.load_fashion_mnist(tmp_path / "root")
    assert target.stat().st_size == 1000


def test_corrupted_source_leaves_no_partial_file(raw_source, tmp_path, monkeypatch, offline):
    (raw_source / "train-labels-idx1-ubyte").write_bytes(b"not the labels")
    monkeypatch.setenv(data_files.DATA_DIR_VARIABLE, str(raw_source))
    with pytest.raises(data_files.DataError, match="train-labels-idx1-ubyte.*SHA-256"):
        helpers.load_fashion_mnist(tmp_path / "root")
    raw = tmp_path / "root/FashionMNIST/raw"
    assert "train-labels-idx1-ubyte" not in [p.name for p in raw.iterdir()]
    assert not [p for p in raw.iterdir() if p.name.startswith(".")]


def test_broken_gzip_source_gives_one_clear_error(raw_source, tmp_path, monkeypatch, offline):
    (raw_source / "t10k-labels-idx1-ubyte").unlink()
    (raw_source / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b broken")
    monkeypatch.setenv(data_files.DATA_DIR_VARIABLE, str(raw_source))
    with pytest.raises(data_files.DataError, match="t10k-labels-idx1-ubyte.gz' cannot be read"):
        helpers.load_fashion_mnist(tmp_path / "root")


def test_wrong_class_counts_are_rejected():
    images = torch.zeros(10, 28, 28, dtype=torch.uint8)
    with pytest.raises(data_files.DataError, match="class counts"):
        helpers.check_split(images, torch.zeros(10, dtype=torch.int64), 10, helpers.Path("x"))
