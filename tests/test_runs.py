"""Whole runs of the submission notebook in a copy of the project, as a student makes them:
one cut off during training (KeyboardInterrupt in the kernel, as JupyterLab's stop button
sends) leaves the committed files and an earlier other-run/ whole; one given a bad setting
stops with one message before any work and writes nothing."""

import asyncio
import hashlib
import os
import shutil
import threading
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

import report

ROOT = Path(__file__).resolve().parents[1]
SLOW = pytest.mark.slow  # a kernel, the data and a few epochs: about 40 s
LEFT_OUT = {
    ".git",
    ".venv",
    "data",
    "build",
    "dist",
    "other-run",
    "__pycache__",
    ".pytest_cache",
    ".ipynb_checkpoints",
    report.UNFINISHED,
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
    earlier = copy / report.OTHER_RUN_FOLDER
    (earlier / "figures").mkdir(parents=True)
    (earlier / "results.json").write_text('{"config": {"EPOCHS": 3}}\n', encoding="utf-8")
    (earlier / "figures" / "fig01_ae_loss_curves.png").write_bytes(b"an earlier run's figure")
    before = hashes(copy)
    client, notebook = client_for(copy, "EPOCHS = 12")
    training = [
        index for index, cell in enumerate(notebook.cells) if "safeguards.train(" in cell.source
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
    unfinished = f"{report.OTHER_RUN_FOLDER}/{report.UNFINISHED}/"
    assert {
        name: value for name, value in after.items() if not name.startswith(unfinished)
    } == before
    assert f"{unfinished}figures/fig01_ae_loss_curves.png" in after  # written, not published


@SLOW
def test_a_bad_setting_stops_the_run_before_any_work_and_writes_nothing(tmp_path):
    copy = project_copy(tmp_path / "project")
    before = hashes(copy)
    client, notebook = client_for(copy, "EPOCHS = 0")
    reached = []
    with client.setup_kernel(env=kernel_environment()), pytest.raises(CellExecutionError) as error:
        for index, cell in enumerate(notebook.cells):
            reached.append(cell)
            client.execute_cell(cell, index)
    assert error.value.ename == "SettingsError"
    assert "EPOCHS = 0: must be a whole number of at least 1" in error.value.evalue
    assert "settings.check_parameters(config" in reached[-1].source
    assert hashes(copy) == before and not (copy / report.OTHER_RUN_FOLDER).exists()
