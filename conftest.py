"""Every pytest run here: one thread on the CPU, an output folder per process, a ReproductionCheck
after each notebook's last cell, and a failed run if a tracked file changed."""

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ["EXERCISE9_DEVICE"] = "cpu"  # runtime.DEVICE_VARIABLE: nbval checks the CPU run

import pytest
import torch

import data_files
import helpers
import report
from provenance import file_sha256

ROOT = Path(__file__).resolve().parent
RESULTS_FILES = {"exercise9.ipynb": "results.json", "companion.ipynb": "companion_results.json"}
TRACKED = pytest.StashKey[dict | None]()


def tracked_changes(root: Path = ROOT) -> dict[str, str] | None:
    """Return the SHA-256 (or "deleted") by path of each tracked file that git sees changed."""
    command = ["git", "diff", "HEAD", "--name-only", "--relative", "-z"]
    try:
        listed = subprocess.run(command, cwd=root, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None  # not a git checkout (an unpacked ZIP)
    paths = {name: root / name for name in listed.decode().split("\0") if name}
    return {name: file_sha256(path) if path.exists() else "deleted" for name, path in paths.items()}


def changed_files(before: dict, after: dict) -> list[str]:
    """Return the paths whose state differs between two results of tracked_changes."""
    return sorted(name for name in before | after if before.get(name) != after.get(name))


def pytest_configure(config: pytest.Config) -> None:
    if getattr(config.option, "dist", "no") in ("load", "worksteal"):  # `-n 2` alone gives load
        config.option.dist = "loadscope"  # all cells of a notebook on one worker (one kernel)
    os.environ[report.OUTPUT_VARIABLE] = tempfile.mkdtemp(prefix="exercise9-test-output-")
    config.stash[TRACKED] = None if hasattr(config, "workerinput") else tracked_changes()


def committed_file_problem(root: Path = ROOT) -> str:
    """Return the one message for the first damaged committed file (results, study, models)."""
    import companion_report
    import measures

    remake = "`make run`"
    checks = [
        lambda: report.read_json(root / "results.json", remake, ("config", "autoencoder")),
        lambda: report.read_json(root / "companion_results.json", remake, ("config", "models")),
        lambda: companion_report.read_seed_study(root / "seed_study.json"),
        *(lambda path=path: measures.load_model(path) for path in sorted(root.glob("models/*.pt"))),
    ]
    for check in checks:
        try:
            check()
        except (OSError, ValueError) as error:
            return str(error)
    return ""


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist starts its workers
def pytest_sessionstart(session: pytest.Session) -> None:
    """Stop at once, with one message, if a committed results file or model is damaged."""
    if not hasattr(session.config, "workerinput") and (problem := committed_file_problem()):
        pytest.exit(f"a committed file is damaged, so no test can run: {problem}", returncode=4)


@pytest.hookimpl(trylast=True)  # after pytest-xdist's own, which waits for the workers to end
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Fail the run if it changed a tracked file (not in an xdist worker: the controller checks)."""
    before = session.config.stash.get(TRACKED, None)
    if before is not None and (changed := changed_files(before, tracked_changes() or {})):
        session.shouldfail = f"the test run changed tracked files: {', '.join(changed)}"  # in red
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(os.environ[report.OUTPUT_VARIABLE], ignore_errors=True)  # this process's own


class ReproductionCheck(pytest.Item):
    """After a notebook's last cell: its re-run's results file against the committed one."""

    def runtest(self) -> None:
        from test_reproduction import reproduction_problems  # reads the committed files

        output = Path(os.environ[report.OUTPUT_VARIABLE])
        results_file = RESULTS_FILES[self.path.name]
        problems = reproduction_problems(ROOT / results_file, output / results_file)
        what = f"{results_file} (if the change is meant, `make run` re-makes it)"
        if not problems and results_file == "results.json":  # this run trains the pilot's seed 0
            from seed_study import scoring, training
            from seed_study.study import NOTEBOOK_MODELS

            pilot = json.loads((ROOT / "seed_study" / "pilot.json").read_text(encoding="utf-8"))
            models = {name: output / "models" / f"{name}.pt" for name in NOTEBOOK_MODELS}
            problems = scoring.seed0_problems(models, pilot, training.DataSpec(str(ROOT / "data")))
            what = "the seed study's pilot records of seed 0 (seed_study/pilot.json)"
        if problems:
            listed = f"{len(problems)} values: {'; '.join(problems[:12])}"
            raise AssertionError(f"the re-run differs from {what} in {listed}")

    def repr_failure(self, excinfo, style=None) -> str:
        return str(excinfo.value)

    def reportinfo(self):
        return self.path, None, self.name


@pytest.hookimpl(trylast=True)  # after -k and -m have deselected
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Check each notebook that runs whole after its last cell; in a worker, run notebooks first."""
    for notebook, results_file in RESULTS_FILES.items():
        cells = [index for index, item in enumerate(items) if item.path.name == notebook]
        book = json.loads((ROOT / notebook).read_text(encoding="utf-8"))
        if cells and len(cells) == sum(cell["cell_type"] == "code" for cell in book["cells"]):
            parent, name = items[cells[-1]].parent, f"the re-run reproduces {results_file}"
            items.insert(cells[-1] + 1, ReproductionCheck.from_parent(parent, name=name))
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: item.path.suffix != ".ipynb")


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
    return data_files.ensure_raw_files(data_files.FASHION_MNIST, ROOT / "data")


@pytest.fixture(scope="module")
def tiny_data():
    """200 random test images in 10 classes (the explorer needs no training)."""
    generator = torch.Generator().manual_seed(0)
    test_x, test_y = torch.rand(200, 784, generator=generator) * 2 - 1, torch.arange(200) % 10
    classes = [f"class {i}" for i in range(10)]
    return helpers.FashionMNISTData(test_x[:20], test_y[:20], test_x, test_y, classes)


@pytest.fixture
def models():
    """Two untrained models; code unit 4 of "plain" is dead (-1 before its ReLU, always)."""
    plain = helpers.Autoencoder(seed=0)
    with torch.no_grad():
        plain.encoder[-2].weight[4], plain.encoder[-2].bias[4] = 0.0, -1.0
    return {"plain": plain, "noisy": helpers.Autoencoder(seed=1)}


BAD_TRAINING_SETTINGS = [  # (setting, words of the error): both trainers reject them alike
    ({"epochs": 0}, "epochs must be a positive integer"),
    ({"epochs": 2.5}, "epochs must be a positive integer"),
    ({"batch_size": 0}, "batch_size must be a positive integer"),
    ({"batch_size": -128}, "batch_size must be a positive integer"),
    ({"test_every": 0}, "test_every must be a positive integer"),
    ({"noise_std": -0.5}, "noise_std must be a finite number"),
    ({"lr": float("nan")}, "lr must be a finite number"),
]
