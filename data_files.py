"""The data files: a description of each dataset (torchvision's class, the SHA-256 of its four
IDX files, the images per split, where Debian ships it, the coarse class groups of the maps),
where its files come from (a folder named by an environment variable, Debian's package or a
download by torchvision) and the check of their SHA-256. helpers.load_fashion_mnist reads
them. Another dataset of 28x28 grey images in torchvision's layout (MNIST, say) is one more
Dataset entry.
"""

from __future__ import annotations

import gzip
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from provenance import file_sha256, write_atomically


@dataclass(frozen=True)
class Dataset:
    """A dataset of 28x28 grey images as torchvision reads it."""

    name: str  # as people write it, for messages
    torchvision_class: str  # in torchvision.datasets; its files go to root/<class>/raw
    sha256: dict[str, str]  # of the four decompressed IDX files of the original release
    split_sizes: tuple[int, int]  # training and test images
    folder_variable: str  # an environment variable that may name a folder with the files
    debian_package: str | None = None
    debian_dir: Path | None = None
    class_groups: dict[str, list[str]] = field(default_factory=dict)  # for the maps


FASHION_MNIST = Dataset(
    name="Fashion-MNIST",
    torchvision_class="FashionMNIST",
    sha256={
        "train-images-idx3-ubyte":
            "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "train-labels-idx1-ubyte":
            "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "t10k-images-idx3-ubyte":
            "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "t10k-labels-idx1-ubyte":
            "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    },
    split_sizes=(60_000, 10_000),
    folder_variable="FASHION_MNIST_DIR",
    debian_package="dataset-fashion-mnist",
    debian_dir=Path("/usr/share/datasets/fashion-mnist"),
    class_groups={  # coarse kinds of garment, for "which classes overlap"
        "tops": ["T-shirt/top", "Pullover", "Dress", "Coat", "Shirt"],
        "trousers": ["Trouser"],
        "footwear": ["Sandal", "Sneaker", "Ankle boot"],
        "bags": ["Bag"],
    },
)


class DataError(RuntimeError):
    """The data is missing or damaged; the message says which file and how to get it."""


def data_error(dataset: Dataset, path: Path, problem: str) -> DataError:
    """Return the one error that names a bad data file and the ways to get the data."""
    ways = [(f"set {dataset.folder_variable} to a folder with the four original files "
             "(.gz or decompressed)"),
            "connect to the internet: torchvision then downloads them"]
    if dataset.debian_package:
        ways.insert(0, f"install Debian's package: apt-get install {dataset.debian_package}")
    listed = "".join(f"  {number}. {way}\n" for number, way in enumerate(ways, start=1))
    return DataError(f"{dataset.name} file '{path}' {problem}.\nGet the data in one of these "
                     f"ways:\n{listed}Nothing was deleted: move or remove the bad file "
                     f"yourself, then retry.")


def source_dirs(dataset: Dataset) -> list[Path]:
    """Return the folders to copy the data from: the one its variable names, then Debian's."""
    named = os.environ.get(dataset.folder_variable)
    return [Path(folder) for folder in (named, dataset.debian_dir) if folder]


def find_source_file(dataset: Dataset, name: str) -> Path | None:
    """Return the first source file for `name` (decompressed or .gz), or None."""
    for folder in source_dirs(dataset):
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def install_raw_file(dataset: Dataset, source: Path, target: Path) -> None:
    """Copy (and gunzip) `source` to `target` atomically, after checking its SHA-256."""
    opener = gzip.open if source.suffix == ".gz" else open

    def copy_checked(temp: Path) -> None:
        with opener(source, "rb") as reader, open(temp, "wb") as writer:
            shutil.copyfileobj(reader, writer)
        if file_sha256(temp) != dataset.sha256[target.name]:
            raise data_error(dataset, source,
                             "does not hold the original data (SHA-256 mismatch)")

    try:
        write_atomically(target, copy_checked)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise data_error(dataset, source, f"cannot be read ({error})") from None


def download_raw_files(dataset: Dataset, root: Path) -> None:
    """Let torchvision download and extract the four files under `root`."""
    import torchvision.datasets  # imported where used: it takes seconds

    try:
        for train in (True, False):
            getattr(torchvision.datasets, dataset.torchvision_class)(
                str(root), train=train, download=True)
    except Exception as error:  # noqa: BLE001 (no network, a mirror down, a bad checksum: one message)
        missing = Path(root) / dataset.torchvision_class / "raw"
        raise data_error(dataset, missing,
                         f"is missing and the download failed ({error})") from None


def ensure_raw_files(dataset: Dataset, root: Path) -> Path:
    """Return torchvision's raw folder under `root`, filled with the four verified files."""
    raw = Path(root) / dataset.torchvision_class / "raw"
    missing = [name for name in dataset.sha256 if not (raw / name).is_file()]
    for name in list(missing):
        source = find_source_file(dataset, name)
        if source is not None:
            install_raw_file(dataset, source, raw / name)
            missing.remove(name)
    if missing:
        download_raw_files(dataset, Path(root))
    for name, expected in dataset.sha256.items():
        if not (raw / name).is_file():
            raise data_error(dataset, raw / name, "is missing")
        if file_sha256(raw / name) != expected:
            raise data_error(dataset, raw / name, "is truncated or corrupted (SHA-256 mismatch)")
    return raw
