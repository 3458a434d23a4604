"""Shared set-up of the test run, at the project's root so that every pytest run here loads
it, `pytest exercise9.ipynb` alone included (a conftest.py in tests/ would not be loaded then,
and the notebook would write into the checkout without its numbers being checked).

* One PyTorch thread (OMP_NUM_THREADS=1, set before torch is imported, inherited by the
  notebook's kernel under nbval): with batches of 128 a second thread gains little on a small
  CPU, and on a busy machine threads that wait for each other make every operation many times
  slower. Results compared by the tests do not depend on it.
* The CPU, whatever the machine has (EXERCISE9_DEVICE=cpu, read by helpers.get_device and
  inherited by the kernel): nbval compares the committed run, which was made on the CPU.
  Tests of CUDA or MPS name that device and are skipped where it is missing.
* The notebook run under nbval writes its figures and results file into a temporary folder
  ($EXERCISE9_OUTPUT, see report.output_path), never into the checkout; each process of the
  run (each pytest-xdist worker) makes and removes its own.
* After the last cell of each notebook, a check compares the results file its re-run wrote
  with the committed one (test_reproduction.py states the tolerances and why).
* The tracked files are hashed when the run starts; test_checkout.py, moved to the very end,
  checks that the run left them as they were. Under pytest-xdist (`make test`: -n 2 --dist
  loadscope) a worker sees only its own share of the run, so there the controller hashes at
  the start and compares in pytest_sessionfinish, after every worker has ended, and fails the
  session if a tracked file changed; the workers skip test_checkout.py. The notebooks come
  first, the longest (exercise9.ipynb) before companion.ipynb: under --dist loadscope each is
  one scope, so each of two workers starts with one, and the unit tests fill in beside them.
* Fixtures: the real Fashion-MNIST (loaded once) and a small slice of it; 200 random images
  and two untrained models, one with a dead code unit (explorer tests).
"""

import hashlib
import json
import math
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ["EXERCISE9_DEVICE"] = "cpu"  # helpers.DEVICE_VARIABLE: nbval checks the CPU run

import pytest
import torch
from test_reproduction import reproduction_problems

import data_files
import helpers
import report

ROOT = Path(__file__).resolve().parent
LAST = "test_checkout.py"
RESULTS_FILES = {"exercise9.ipynb": "results.json", "companion.ipynb": "companion_results.json"}


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


def changed_files(tracked: tuple[list[Path], dict[str, str]]) -> list[str]:
    """Return the tracked files whose content differs from the start of the run, or vanished."""
    files, before = tracked
    after = digests(files)
    return sorted(name for name in before.keys() | after.keys()
                  if after.get(name) != before.get(name))


def changed_message(changed: list[str]) -> str:
    """Return the one message for tracked files that the test run changed."""
    return f"the test run changed tracked files: {', '.join(changed)}"


def is_worker(config: pytest.Config) -> bool:
    """Return whether this process is a pytest-xdist worker (xdist gives it workerinput)."""
    return hasattr(config, "workerinput")


def is_controller(config: pytest.Config) -> bool:
    """Return whether this process hands the tests to pytest-xdist workers (-n 1 or more)."""
    return config.pluginmanager.has_plugin("dsession")


def check_distribution(config: pytest.Config) -> None:
    """Refuse xdist modes that would spread the notebook's cells over workers (kernels)."""
    notebook = getattr(config.option, "nbval", False) or getattr(config.option, "nbval_lax", False)
    mode = getattr(config.option, "dist", "no")
    if notebook and mode in ("load", "worksteal") and not is_worker(config):
        raise pytest.UsageError(f"--dist {mode} would run the notebook's cells on different "
                                f"workers: use --dist loadscope, as `make test` does")


def pytest_configure(config: pytest.Config) -> None:
    check_distribution(config)
    output = tempfile.mkdtemp(prefix="exercise9-test-output-")
    os.environ[report.OUTPUT_VARIABLE] = output  # this process's own: a worker replaces it
    config.stash[OUTPUT] = output
    files = None if is_worker(config) else tracked_files()
    config.stash[TRACKED] = None if files is None else (files, digests(files))


@pytest.hookimpl(trylast=True)  # after xdist's own, which waits for the workers to end
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Under pytest-xdist, compare the tracked files in the controller after the whole run."""
    tracked = session.config.stash.get(TRACKED, None)
    if not is_controller(session.config) or tracked is None:
        return
    changed = changed_files(tracked)
    if changed:  # the terminal prints shouldfail in red above the final counts
        earlier = session.shouldfail if isinstance(session.shouldfail, str) else ""
        session.shouldfail = "; ".join(filter(None, [earlier, changed_message(changed)]))
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(config.stash.get(OUTPUT, ""), ignore_errors=True)


class ReproductionCheck(pytest.Item):
    """After a notebook's last cell: its re-run's results file against the committed one
    (test_reproduction.differences, with the tolerances that module states)."""

    def __init__(self, *, results_file: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.results_file = results_file

    def runtest(self) -> None:
        output = Path(os.environ[report.OUTPUT_VARIABLE])
        problems = reproduction_problems(ROOT / self.results_file, output / self.results_file)
        if problems:
            raise AssertionError(f"the re-run does not reproduce {self.results_file} "
                                 f"({len(problems)} values): " + "; ".join(problems[:12])
                                 + ". If the change is meant, `make run` re-makes the file.")
        if self.results_file == "results.json":  # the seed study's seed 0 is this very run
            from seed_study import scoring, training

            study = json.loads((ROOT / "seed_study.json").read_text(encoding="utf-8"))
            models = {name: output / "models" / f"{name}.pt"
                      for name in ("autoencoder", "denoising_autoencoder")}
            problems = scoring.seed0_problems(models, study, training.DataSpec(str(ROOT / "data")))
            if problems:
                raise AssertionError(f"the re-run's models do not reproduce seed_study.json's "
                                     f"seed-0 records ({len(problems)} values): "
                                     + "; ".join(problems[:12]))

    def repr_failure(self, excinfo, style=None) -> str:
        return str(excinfo.value)

    def reportinfo(self):
        return self.path, None, self.name


def code_cell_count(path: Path) -> int:
    """Return how many code cells a notebook has."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return sum(cell["cell_type"] == "code" for cell in cells)


def reproduction_items(items: list[pytest.Item]) -> None:
    """Put a ReproductionCheck after the last cell of each notebook that runs whole."""
    for notebook, results_file in RESULTS_FILES.items():
        cells = [index for index, item in enumerate(items)
                 if Path(str(item.fspath)).name == notebook and item.parent is not None
                 and not isinstance(item, ReproductionCheck)]
        if cells and len(cells) == code_cell_count(ROOT / notebook):
            check = ReproductionCheck.from_parent(
                items[cells[-1]].parent, name=f"the re-run reproduces {results_file}",
                results_file=results_file)
            items.insert(cells[-1] + 1, check)


@pytest.hookimpl(trylast=True)  # after -k and -m have deselected
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    """Check each whole notebook run's numbers after its last cell; run the checkout check
    after everything else, the notebooks included; in a worker, put the notebooks first (in
    testpaths order), so that their long runs start at once."""
    reproduction_items(items)

    def order(item: pytest.Item) -> tuple[bool, bool]:
        name = Path(str(item.fspath)).name
        return name == LAST, not (is_worker(config) and name.endswith(".ipynb"))
    items.sort(key=order)


TRACKED = pytest.StashKey[object]()
OUTPUT = pytest.StashKey[str]()


@pytest.fixture(scope="session")
def tracked_at_start(pytestconfig):
    """The tracked files and their hashes when the run started (None outside git and in an
    xdist worker, where the controller compares them)."""
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
    return data_files.ensure_raw_files(data_files.FASHION_MNIST, ROOT / "data")


def with_dead_unit(model: helpers.Autoencoder, unit: int) -> helpers.Autoencoder:
    """Kill one code unit: its pre-activation is -1 for every input, so ReLU gives 0."""
    code_layer = model.encoder[-2]
    with torch.no_grad():
        code_layer.weight[unit] = 0.0
        code_layer.bias[unit] = -1.0
    return model


@pytest.fixture(scope="module")
def tiny_data():
    """200 random test images in 10 classes (the explorer needs no training)."""
    generator = torch.Generator().manual_seed(0)
    test_x = torch.rand(200, 784, generator=generator) * 2 - 1
    return helpers.FashionMNISTData(test_x[:20], torch.arange(20) % 10, test_x,
                                    torch.arange(200) % 10, [f"class {i}" for i in range(10)])


@pytest.fixture
def models():
    return {"plain": with_dead_unit(helpers.Autoencoder(seed=0), 4),
            "noisy": helpers.Autoencoder(seed=1)}


BAD_TRAINING_SETTINGS = [  # (setting, words of the error): both trainers reject them alike
    ({"epochs": 0}, "epochs must be a positive integer"),
    ({"epochs": 2.5}, "epochs must be a positive integer"),
    ({"batch_size": 0}, "batch_size must be a positive integer"),
    ({"batch_size": -128}, "batch_size must be a positive integer"),
    ({"test_every": 0}, "test_every must be a positive integer"),
    ({"noise_std": -0.5}, "noise_std must be a finite number"),
    ({"lr": math.nan}, "lr must be a finite number"),
]
