"""The datasets, and their files: checked, copied from a folder or Debian's, else downloaded."""

import gzip
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from provenance import write_atomically


@dataclass(frozen=True)
class Dataset:
    torchvision_class: str  # reads the files; they go to root/<class>/raw
    sha256: dict[str, str]  # of the four decompressed IDX files of the original release
    split_sizes: tuple[int, int]  # training and test images
    folder_variable: str  # an environment variable that may name a folder with the files
    debian_package: str | None = None
    debian_dir: Path | None = None
    class_groups: dict[str, list[str]] = field(default_factory=dict)  # for the maps


FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
FASHION_MNIST = Dataset(
    torchvision_class="FashionMNIST",
    sha256=FASHION_MNIST_SHA256,
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


class DataError(RuntimeError): ...  # a data file is missing or bad: the message names it


def data_error(dataset: Dataset, path: Path, problem: str) -> DataError:
    """Return the one error that names a bad data file and the ways to get the data."""
    debian = f"  - apt-get install {dataset.debian_package}\n" if dataset.debian_package else ""
    return DataError(
        f"{dataset.torchvision_class} file '{path}' {problem}. Nothing was deleted: move a bad "
        f"file away yourself, then get the data:\n{debian}  - set {dataset.folder_variable} to a "
        "folder with the four original files (.gz or not)\n  - go online: torchvision gets them"
    )


def check_and_copy(dataset: Dataset, source: Path, target: Path, sha256: str) -> None:
    """Raise DataError unless `source` (gunzipped) has `sha256`; copy it to `target` if not it."""
    try:  # gzip.BadGzipFile is an OSError
        data = (gzip.decompress if source.suffix == ".gz" else bytes)(source.read_bytes())
    except (OSError, EOFError) as error:
        raise data_error(dataset, source, f"cannot be read ({error})") from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise data_error(dataset, source, "is truncated or corrupted (SHA-256 mismatch)")
    if source != target:
        write_atomically(target, data)


def ensure_raw_files(dataset: Dataset, root: Path) -> Path:
    """Return torchvision's raw folder under `root`, holding the four verified files."""
    raw = Path(root) / dataset.torchvision_class / "raw"
    dirs = [raw] + [Path(d) for d in (os.getenv(dataset.folder_variable), dataset.debian_dir) if d]
    for name, sha256 in dataset.sha256.items():  # each from the first folder that has it
        sources = [d / n for d in dirs for n in (name, f"{name}.gz") if (d / n).is_file()]
        if sources:
            check_and_copy(dataset, sources[0], raw / name, sha256)
    if not all((raw / name).is_file() for name in dataset.sha256):
        import torchvision.datasets  # here: it takes seconds to import

        try:  # all four files; torchvision checks them against its MD5 sums
            getattr(torchvision.datasets, dataset.torchvision_class)(str(root), download=True)
        except Exception as error:  # noqa: BLE001 (offline, a mirror down, a bad checksum)
            raise data_error(dataset, raw, f"is missing; the download failed ({error})") from None
    return raw
