"""Data: the real Fashion-MNIST, found offline, verified, with clear errors for bad files;
another dataset (unbalanced, as MNIST is) loads from its own description."""

import dataclasses
import gzip
import hashlib
import shutil

import pytest
import torch
import torchvision

import data_files
import helpers
import study_settings

CLASSES = study_settings.SCORING["map_classes"]  # the data's classes, in label order


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
    for name in data_files.FASHION_MNIST.sha256:
        shutil.copy(raw_dir / name, source / name)
    return source


VARIABLE = data_files.FASHION_MNIST.folder_variable


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """Fashion-MNIST with no Debian folder and no $FASHION_MNIST_DIR, and a download mirror
    that refuses at once."""
    monkeypatch.delenv(VARIABLE, raising=False)
    monkeypatch.setattr(torchvision.datasets.FashionMNIST, "mirrors", ["http://127.0.0.1:9/"])
    return dataclasses.replace(data_files.FASHION_MNIST, debian_dir=tmp_path / "no-debian-package")


def test_loads_from_the_folder_named_by_the_environment_variable(
    raw_source, tmp_path, monkeypatch, offline
):
    for name in ("train-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):  # .gz works as well
        with (
            open(raw_source / name, "rb") as plain,
            gzip.open(raw_source / f"{name}.gz", "wb", compresslevel=1) as packed,
        ):
            shutil.copyfileobj(plain, packed)
        (raw_source / name).unlink()
    monkeypatch.setenv(VARIABLE, str(raw_source))
    loaded = helpers.load_fashion_mnist(tmp_path / "root", offline)
    assert loaded.train_x.shape == (60_000, 784)
    assert sorted(p.name for p in (tmp_path / "root/FashionMNIST/raw").iterdir()) == sorted(
        data_files.FASHION_MNIST.sha256
    )


def test_missing_data_everywhere_names_the_file_and_three_ways(tmp_path, offline):
    with pytest.raises(data_files.DataError) as error:
        helpers.load_fashion_mnist(tmp_path / "root", offline)
    message = str(error.value)
    assert "FashionMNIST" in message and "download failed" in message
    assert "apt-get install dataset-fashion-mnist" in message and VARIABLE in message


def test_corrupted_file_under_root_is_reported_and_kept(raw_source, tmp_path, offline):
    raw = tmp_path / "root/FashionMNIST/raw"
    shutil.copytree(raw_source, raw)
    target = raw / "t10k-images-idx3-ubyte"
    damaged = bytearray(target.read_bytes())
    damaged[5000] ^= 0xFF
    target.write_bytes(bytes(damaged))
    with pytest.raises(data_files.DataError, match="t10k-images-idx3-ubyte.*corrupted"):
        helpers.load_fashion_mnist(tmp_path / "root", offline)
    assert target.read_bytes() == bytes(damaged)


def test_truncated_file_under_root_is_reported_and_kept(raw_source, tmp_path, offline):
    raw = tmp_path / "root/FashionMNIST/raw"
    shutil.copytree(raw_source, raw)
    target = raw / "train-labels-idx1-ubyte"
    target.write_bytes(target.read_bytes()[:1000])
    with pytest.raises(data_files.DataError, match="train-labels-idx1-ubyte.*truncated"):
        helpers.load_fashion_mnist(tmp_path / "root", offline)
    assert target.stat().st_size == 1000


def test_corrupted_source_leaves_no_partial_file(raw_source, tmp_path, monkeypatch, offline):
    (raw_source / "train-labels-idx1-ubyte").write_bytes(b"not the labels")
    monkeypatch.setenv(VARIABLE, str(raw_source))
    with pytest.raises(data_files.DataError, match="train-labels-idx1-ubyte.*SHA-256"):
        helpers.load_fashion_mnist(tmp_path / "root", offline)
    raw = tmp_path / "root/FashionMNIST/raw"
    assert "train-labels-idx1-ubyte" not in [p.name for p in raw.iterdir()]
    assert not [p for p in raw.iterdir() if p.name.startswith(".")]


def test_broken_gzip_source_gives_one_clear_error(raw_source, tmp_path, monkeypatch, offline):
    (raw_source / "t10k-labels-idx1-ubyte").unlink()
    (raw_source / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8b broken")
    monkeypatch.setenv(VARIABLE, str(raw_source))
    with pytest.raises(data_files.DataError, match="t10k-labels-idx1-ubyte.gz' cannot be read"):
        helpers.load_fashion_mnist(tmp_path / "root", offline)


def idx_file(path, magic, array):
    """Write an uncompressed IDX file (the MNIST format) of uint8 values; return its SHA-256."""
    header = bytes([0, 0, 8, magic]) + b"".join(
        int(size).to_bytes(4, "big") for size in array.shape
    )
    path.write_bytes(header + array.numpy().tobytes())
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_unbalanced_dataset_of_another_kind_loads_from_its_description(tmp_path):
    """As MNIST would: torchvision's MNIST class, its own checksums and class groups, and
    classes of unequal size (20, 7 and 3 training images)."""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    sizes = {"train": 30, "t10k": 12}
    checksums = {}
    for split, size in sizes.items():
        images = torch.randint(
            0, 256, (size, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(size)
        )
        labels = torch.tensor(
            [0] * 20 + [1] * 7 + [2] * 3
            if split == "train"
            else [index % 3 for index in range(size)],
            dtype=torch.uint8,
        )
        checksums[f"{split}-images-idx3-ubyte"] = idx_file(
            raw / f"{split}-images-idx3-ubyte", 3, images
        )
        checksums[f"{split}-labels-idx1-ubyte"] = idx_file(
            raw / f"{split}-labels-idx1-ubyte", 1, labels
        )
    tiny = data_files.Dataset(
        torchvision_class="MNIST",
        sha256=checksums,
        split_sizes=(30, 12),
        folder_variable="TINY_MNIST_DIR",
        class_groups={"round": ["0 - zero"], "straight": ["1 - one", "2 - two"]},
    )
    data = helpers.load_fashion_mnist(tmp_path, tiny)
    assert data.train_x.shape == (30, 784) and data.test_x.shape == (12, 784)
    assert torch.bincount(data.train_y).tolist() == [20, 7, 3]
    assert data.classes[:2] == ["0 - zero", "1 - one"] and data.class_groups == tiny.class_groups
    assert data.train_x.min() >= -1 and data.train_x.max() <= 1
    labels = data.test_y.numpy()
    recall = helpers.group_recall(labels, (labels + 1) % 3, data.classes[:3], data.class_groups)
    assert recall == {"round": 0.0, "straight": 0.5}  # 1 -> 2 stays straight, 2 -> 0 does not
