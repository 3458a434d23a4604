"""The data files: where Fashion-MNIST's four IDX files come from (Debian's package,
$FASHION_MNIST_DIR or a download by torchvision) and the check of their SHA-256 against the
original release. helpers.load_fashion_mnist reads them.
"""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

from provenance import file_sha256, write_atomically

# SHA-256 of the four decompressed IDX files of the original Fashion-MNIST release.
FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
DATA_DIR_VARIABLE = "FASHION_MNIST_DIR"
DEBIAN_DATA_DIR = Path("/usr/share/datasets/fashion-mnist")  # package dataset-fashion-mnist


class DataError(RuntimeError):
    """Fashion-MNIST is missing or damaged; the message says which file and how to get it."""



def data_error(path: Path, problem: str) -> DataError:
    """Return the one error that names a bad data file and the three ways to get the data."""
    return DataError(
        f"Fashion-MNIST file '{path}' {problem}.\n"
        "Get the data in one of three ways:\n"
        "  1. install Debian's package: apt-get install dataset-fashion-mnist\n"
        f"  2. set {DATA_DIR_VARIABLE} to a folder with the four original files "
        "(.gz or decompressed)\n"
        "  3. connect to the internet: torchvision then downloads them.\n"
        "Nothing was deleted: move or remove the bad file yourself, then retry."
    )



def source_dirs() -> list[Path]:
    """Return the folders to copy the data from: $FASHION_MNIST_DIR, then Debian's package."""
    folders = [Path(os.environ[DATA_DIR_VARIABLE])] if os.environ.get(DATA_DIR_VARIABLE) else []
    return folders + [DEBIAN_DATA_DIR]



def find_source_file(name: str) -> Path | None:
    """Return the first source file for `name` (decompressed or .gz), or None."""
    for folder in source_dirs():
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None



def install_raw_file(source: Path, target: Path) -> None:
    """Copy (and gunzip) `source` to `target` atomically, after checking its SHA-256."""
    opener = gzip.open if source.suffix == ".gz" else open

    def copy_checked(temp: Path) -> None:
        with opener(source, "rb") as reader, open(temp, "wb") as writer:
            shutil.copyfileobj(reader, writer)
        if file_sha256(temp) != FASHION_MNIST_SHA256[target.name]:
            raise data_error(source, "does not hold the original data (SHA-256 mismatch)")

    try:
        write_atomically(target, copy_checked)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise data_error(source, f"cannot be read ({error})") from None



def download_raw_files(root: Path) -> None:
    """Let torchvision download and extract the four files under `root`."""
    from torchvision.datasets import FashionMNIST  # imported where used: it takes seconds

    try:
        for train in (True, False):
            FashionMNIST(str(root), train=train, download=True)
    except Exception as error:  # noqa: BLE001 (no network, a mirror down, a bad checksum: one message)
        missing = Path(root) / "FashionMNIST" / "raw"
        raise data_error(missing, f"is missing and the download failed ({error})") from None



def ensure_raw_files(root: Path) -> Path:
    """Return torchvision's raw folder under `root`, filled with the four verified files."""
    raw = Path(root) / "FashionMNIST" / "raw"
    missing = [name for name in FASHION_MNIST_SHA256 if not (raw / name).is_file()]
    for name in list(missing):
        source = find_source_file(name)
        if source is not None:
            install_raw_file(source, raw / name)
            missing.remove(name)
    if missing:
        download_raw_files(Path(root))
    for name, expected in FASHION_MNIST_SHA256.items():
        if not (raw / name).is_file():
            raise data_error(raw / name, "is missing")
        if file_sha256(raw / name) != expected:
            raise data_error(raw / name, "is truncated or corrupted (SHA-256 mismatch)")
    return raw
