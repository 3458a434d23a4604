"""Whole runs of the submission notebook in a copy of the project, as a student makes them:
one cut off during training (KeyboardInterrupt in the kernel, as JupyterLab's stop button
sends) leaves the committed files and an earlier run whole; one given a bad or misspelt
setting (papermill -p) stops with one message before any work and writes nothing; two
started together each end whole in a folder of their own."""

import asyncio
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

import helpers
import measures
import report

ROOT = Path(__file__).resolve().parents[1]
FIGURES = {path.name for path in (ROOT / "figures").glob("fig0*.png")}  # exercise9's
SLOW = pytest.mark.slow  # a kernel, the data and an epoch or two: 15 to 50 s
LEFT_OUT = {
    ".git",
    ".venv",
    "data",
    "build",
    "dist",
    report.OTHER_RUN_FOLDER,
    "__pycache__",
    ".pytest_cache",
    ".ipynb_checkpoints",
}


def project_copy(folder: Path) -> Path:
    """Return a copy of the project (code, notebooks, committed results) without its data,
    virtual environment and build outputs."""
    shutil.copytree(ROOT, folder, ignore=lambda _, names: [n for n in names if n in LEFT_OUT])
    return folder


def hashes(folder: Path) -> dict[str, str]:
    """Return the SHA-256 of every file under a folder, by relative path."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def client_for(copy: Path, parameters: str) -> tuple[NotebookClient, nbformat.NotebookNode]:
    """Return a client for the copy's exercise9.ipynb with `parameters` appended to its
    parameters cell (as papermill injects them), run in the copy's folder."""
    notebook = nbformat.read(copy / "exercise9.ipynb", as_version=4)
    cell = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", []))
    cell.source += f"\nDATA_DIR = {str(ROOT / 'data')!r}\n{parameters}"
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(copy)}}
    )
    return client, notebook


def kernel_environment() -> dict[str, str]:
    """The tests' environment without $EXERCISE9_OUTPUT: the run decides where it writes."""
    return {name: value for name, value in os.environ.items() if name != report.OUTPUT_VARIABLE}


def interrupt_after(client: NotebookClient, seconds: float) -> None:
    """Interrupt the client's kernel after `seconds`, from another thread, as JupyterLab's
    stop button does (the client's kernel manager is asynchronous)."""

    def interrupt() -> None:
        asyncio.run(client.km.interrupt_kernel())

    threading.Timer(seconds, interrupt).start()


@SLOW
def test_a_run_cut_off_in_training_leaves_every_earlier_file_whole(tmp_path):
    copy = project_copy(tmp_path / "project")
    earlier = copy / report.OTHER_RUN_FOLDER / "2026-12-01_10-00-00_100_abcd"
    (earlier / "figures").mkdir(parents=True)
    (earlier / "results.json").write_text('{"config": {"EPOCHS": 3}}\n', encoding="utf-8")
    (earlier / "figures" / "fig01_ae_reconstructions.png").write_bytes(b"an earlier run's figure")
    before = hashes(copy)
    client, notebook = client_for(copy, "EPOCHS = 2\nTEST_EVERY = 1\nTSNE_POINTS = 100")
    training = [
        index
        for index, cell in enumerate(notebook.cells)
        if "helpers.train_autoencoder(" in cell.source
    ]
    with client.setup_kernel(env=kernel_environment()):
        for index, cell in enumerate(notebook.cells[: training[1] + 1]):
            if index == training[1]:  # the denoising model: the first's figures are written
                interrupt_after(client, 3.0)  # the stop button, 3 s into training
                with pytest.raises(CellExecutionError, match="KeyboardInterrupt"):
                    client.execute_cell(cell, index)
            else:
                client.execute_cell(cell, index)
    after = hashes(copy)
    unfinished = f"{report.OTHER_RUN_FOLDER}/{report.UNFINISHED}"
    assert {
        name: value for name, value in after.items() if not name.startswith(unfinished)
    } == before
    written = [name for name in after if name not in before]
    assert written and all(name.startswith(unfinished) for name in written)  # not published
    assert any(name.endswith("/figures/fig01_ae_reconstructions.png") for name in written)


def papermill(copy: Path, output: str, *parameters: str) -> subprocess.Popen:
    """Start `papermill exercise9.ipynb output -p NAME VALUE ...` in the copy, as a student
    runs the notebook with other settings; the data is the project's."""
    pairs = [*parameters, "DATA_DIR", str(ROOT / "data")]
    command = [sys.executable, "-m", "papermill", "exercise9.ipynb", output, "-k", "python3"]
    for name, value in zip(pairs[::2], pairs[1::2]):
        command += ["-p", name, value]
    return subprocess.Popen(
        command + ["--cwd", str(copy), "--no-progress-bar"],
        cwd=copy,
        env=kernel_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@SLOW
def test_bad_settings_stop_the_run_before_any_work_and_write_nothing(tmp_path):
    """A misspelt EPOCH once trained the full 50 epochs and rewrote the committed
    results.json, and SEED 2**70 failed after training; now the check names both at once,
    and no file of the project changes."""
    copy = project_copy(tmp_path / "project")
    before = hashes(copy)
    run = papermill(copy, str(tmp_path / "out.ipynb"), "EPOCH", "1", "SEED", str(2**70))
    output = run.communicate(timeout=300)[0]
    assert run.returncode == 1, output
    [message] = [line for line in output.splitlines() if line.startswith("SettingsError: ")]
    assert message.startswith("SettingsError: not allowed in the parameters cell: ")
    assert "EPOCH is not a setting of this notebook (did you mean EPOCHS?)" in message
    assert "SEED = 1180591620717411303424: must be a whole number from 0 to" in message
    executed = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    ran = [cell.source for cell in executed.cells if cell.get("execution_count")]
    assert "settings.check_parameters(config" in ran[-1]  # the last cell that ran
    assert hashes(copy) == before and not (copy / report.OTHER_RUN_FOLDER).exists()


@SLOW
def test_two_runs_started_together_each_end_whole_in_a_folder_of_their_own(tmp_path):
    """Two runs started together (SEED 1 and 2) once shared one staging folder: both reported
    success and other-run/ held only one, or figures of one and results of the other."""
    copy = project_copy(tmp_path / "project")
    before = hashes(copy)
    short = ("EPOCHS", "1", "TEST_EVERY", "1", "TSNE_POINTS", "100")
    runs = {
        seed: papermill(copy, str(tmp_path / f"seed{seed}.ipynb"), *short, "SEED", str(seed))
        for seed in (1, 2)
    }
    outputs = {seed: run.communicate(timeout=600)[0] for seed, run in runs.items()}
    assert [run.returncode for run in runs.values()] == [0, 0], outputs
    folders = sorted((copy / report.OTHER_RUN_FOLDER).iterdir())
    assert len(folders) == 2 and not any(f.name.startswith(".") for f in folders)  # all published
    data = helpers.load_fashion_mnist(ROOT / "data")
    for folder in folders:
        results = json.loads((folder / "results.json").read_text(encoding="utf-8"))
        seed = results["config"]["SEED"]
        executed = nbformat.read(tmp_path / f"seed{seed}.ipynb", as_version=4)
        [last] = [cell for cell in executed.cells if "report.publish(output)" in cell.source]
        assert f"wrote the run into {report.OTHER_RUN_FOLDER}/{folder.name}" in str(last.outputs)
        assert {path.name for path in (folder / "figures").iterdir()} == FIGURES
        for name in ("autoencoder", "denoising_autoencoder"):  # its models made its numbers
            model = measures.load_model(folder / "models" / f"{name}.pt")
            clean = helpers.reconstruction_loss(model, data.test_x, data.test_x)
            assert clean == pytest.approx(results[name]["test_mse_clean"], rel=1e-5)
    seeds = [json.loads((f / "results.json").read_text())["config"]["SEED"] for f in folders]
    assert sorted(seeds) == [1, 2]
    after = hashes(copy)
    assert {name: value for name, value in after.items() if name in before} == before
