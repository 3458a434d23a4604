"""Shared set-up of the test run.

* One PyTorch thread (OMP_NUM_THREADS=1, set before torch is imported, inherited by the
  notebook's kernel under nbval): with batches of 128 a second thread gains little on a small
  CPU, and on a busy machine threads that wait for each other make every operation many times
  slower. Results compared by the tests do not depend on it.
* The notebook run under nbval writes its figures and results file into a temporary folder
  ($EXERCISE9_OUTPUT, see report.output_path), never into the checkout.
* The tracked files are hashed when the run starts; test_checkout.py, moved to the very end,
  checks that the run left them as they were.
* Fixtures: the real Fashion-MNIST (loaded once) and a small slice of it.
"""

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402

import helpers  # noqa: E402
import report  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LAST = "test_checkout.py"


def tracked_files() -> list[Path] | None:
    """Return the files git tracks in the checkout, or None outside a git checkout."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                                check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return [ROOT / name for name in listed.decode().split("\0") if name]


def digests(paths: list[Path]) -> dict[str, str]:
    """Return the SHA-256 of every existing file, by path relative to the checkout."""
    return {path.relative_to(ROOT).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in paths if path.is_file()}


def pytest_configure(config):
    output = tempfile.mkdtemp(prefix="exercise9-test-output-")
    os.environ[report.OUTPUT_VARIABLE] = output
    files = tracked_files()
    config.stash[TRACKED] = None if files is None else (files, digests(files))
    config.stash[OUTPUT] = output


def pytest_unconfigure(config):
    shutil.rmtree(config.stash.get(OUTPUT, ""), ignore_errors=True)


def pytest_collection_modifyitems(session, config, items):
    """Run the checkout check after everything else, the notebook included."""
    items.sort(key=lambda item: Path(str(item.fspath)).name == LAST)


TRACKED = pytest.StashKey[object]()
OUTPUT = pytest.StashKey[str]()


@pytest.fixture(scope="session")
def tracked_at_start(pytestconfig):
    """The tracked files and their hashes when the run started (None outside git)."""
    return pytestconfig.stash[TRACKED]


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
