"""Environment files: requirements.txt and environment.yml pin the same packages; the test run
uses one PyTorch thread per process, pytest-xdist workers included."""

import os
import re
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
PIN = re.compile(r"^\s*(?:-\s+)?([A-Za-z0-9_.\-]+)==([^\s#]+)")


def pins(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return {m[1].lower(): m[2] for m in map(PIN.match, lines) if m}


def test_every_pinned_package_is_in_both_files_with_the_same_version():
    requirements, environment = pins(ROOT / "requirements.txt"), pins(ROOT / "environment.yml")
    assert requirements == environment
    for package in (
        "torch",
        "torchvision",
        "matplotlib",
        "scikit-learn",
        "scipy",
        "numpy",
        "jupyter",
        "ipywidgets",
        "nbconvert",
        "nbval",
        "tqdm",
        "pytest",
        "pytest-xdist",
    ):
        assert package in requirements, package


def test_environment_uses_conda_forge_and_python_311():
    text = (ROOT / "environment.yml").read_text(encoding="utf-8")
    assert "- conda-forge" in text and "- python=3.11" in text


def test_this_process_uses_the_threads_conftest_set_before_importing_torch():
    """One thread unless OMP_NUM_THREADS was set for the run; in every xdist worker too."""
    assert torch.get_num_threads() == int(os.environ["OMP_NUM_THREADS"])
