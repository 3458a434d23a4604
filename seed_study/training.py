"""The seed study's training: one model per job (model, seed), trained by
helpers.train_autoencoder as the report trains its own, and saved.

A saved model's file is named by the digest of what determines its weights: the code that
train_job runs (provenance.digest of the "seed model"), the job's settings and seed, the data
and the device. A study finds a model it has trained before under that name and
trains only the jobs whose inputs changed. On the CPU the jobs run in worker processes that
init_worker sets to one thread each.
"""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

import torch
from threadpoolctl import threadpool_limits

import helpers
import provenance


@dataclasses.dataclass(frozen=True)
class Job:
    """One model of the study: its key in the study, its seed and its training settings."""

    model: str
    seed: int
    noise_std: float = 0.0
    linear_code: bool = False
    epochs: int = 50
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 1e-5
    test_every: int = 10


@dataclasses.dataclass(frozen=True)
class DataSpec:
    """Where the data is, and how many of its first training and test images a job uses
    (None: all of them)."""

    root: str
    train_images: int | None = None
    test_images: int | None = None


def init_worker() -> None:
    """Set up a worker process: one PyTorch thread, one thread for NumPy's and scikit-learn's
    libraries (importing helpers has already made PyTorch flush subnormal floats)."""
    torch.set_num_threads(1)
    threadpool_limits(1)


@functools.lru_cache(maxsize=1)
def load_data(spec: DataSpec) -> helpers.FashionMNISTData:
    """Return the data of `spec`, loaded once per process."""
    data = helpers.load_fashion_mnist(spec.root)
    train, test = slice(spec.train_images), slice(spec.test_images)
    return helpers.FashionMNISTData(data.train_x[train], data.train_y[train], data.test_x[test],
                                    data.test_y[test], data.classes)


def model_file(folder: str | Path, job: Job, spec: DataSpec, device: str) -> Path:
    """Return the file of the job's trained model: seed{seed}-{digest}.pt, the digest
    (provenance.digest of the "seed model") over the code that trains it, the job's settings
    and seed, the data used and the device type."""
    return Path(folder) / f"seed{job.seed}-{provenance.digest('seed model', determinants(job, spec, device))}.pt"


def determinants(job: Job, spec: DataSpec, device: str) -> dict:
    """Return what, beside the code, determines a job's trained weights, as JSON-ready data."""
    settings = {name: value for name, value in dataclasses.asdict(job).items() if name != "model"}
    return {"job": settings, "device": device, "data": [spec.train_images, spec.test_images]}


def train_job(job: Job, spec: DataSpec, path: str | Path) -> dict:
    """Train the job's model with helpers.train_autoencoder, save it to `path` (state_dict
    and history) and return the history as JSON-ready data."""
    device = helpers.get_device()
    model = helpers.Autoencoder(seed=job.seed, linear_code=job.linear_code).to(device)
    history = helpers.train_autoencoder(
        model, load_data(spec), epochs=job.epochs, batch_size=job.batch_size, lr=job.lr,
        weight_decay=job.weight_decay, noise_std=job.noise_std, seed=job.seed,
        test_every=job.test_every, progress=False)
    saved = {"job": dataclasses.asdict(job), "history": history.to_dict(),
             "seconds": sum(history.epoch_seconds),
             "state_dict": {name: value.cpu() for name, value in model.state_dict().items()}}
    provenance.write_atomically(path, lambda temp: torch.save(saved, temp))
    return {name: saved[name] for name in ("job", "history", "seconds")}


def load_model(path: str | Path) -> tuple[helpers.Autoencoder, dict]:
    """Return a saved model (on the CPU) and its history."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    model = helpers.Autoencoder(seed=saved["job"]["seed"], linear_code=saved["job"]["linear_code"])
    model.load_state_dict(saved["state_dict"])
    return model, saved["history"]
