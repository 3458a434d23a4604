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
import runtime
from settings import SHEET, Training, Variant


@dataclasses.dataclass(frozen=True)
class Job:
    """One model of the study: its variant (by key and as settings.Variant), its seed and how
    it is trained."""

    model: str
    seed: int
    variant: Variant
    training: Training = SHEET

    def to_dict(self) -> dict:
        """Return the job as JSON-ready data: key, seed, training settings and variant."""
        return {"model": self.model, "seed": self.seed, **dataclasses.asdict(self.training),
                **self.variant.to_dict()}


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
    return data._replace(train_x=data.train_x[train], train_y=data.train_y[train],
                         test_x=data.test_x[test], test_y=data.test_y[test])


def model_file(folder: str | Path, job: Job, spec: DataSpec, device: str) -> Path:
    """Return the file of the job's trained model: seed{seed}-{digest}.pt, the digest
    (provenance.digest of the "seed model") over the code that trains it, the job's settings
    and seed, the data used and the device type."""
    settings = {name: value for name, value in job.to_dict().items()
                if name not in ("model", "label")}
    determinants = {"job": settings, "device": device,
                    "data": [spec.train_images, spec.test_images]}
    return Path(folder) / f"seed{job.seed}-{provenance.digest('seed model', determinants)}.pt"


def train_job(job: Job, spec: DataSpec, path: str | Path) -> dict:
    """Train the job's model with helpers.train_autoencoder, save it to `path` (state_dict
    and history) and return the history as JSON-ready data."""
    device = runtime.get_device()
    model = helpers.build_model(job.variant, job.seed).to(device)
    history = helpers.train_autoencoder(
        model, load_data(spec), **dataclasses.asdict(job.training),
        noise_std=job.variant.noise_std, seed=job.seed, progress=False)
    saved = {"job": job.to_dict(), "history": history.to_dict(),
             "seconds": sum(history.epoch_seconds),
             "state_dict": {name: value.cpu() for name, value in model.state_dict().items()}}
    provenance.write_atomically(path, lambda temp: torch.save(saved, temp))
    return {name: saved[name] for name in ("job", "history", "seconds")}


def load_trained(path: str | Path, variant: Variant) -> tuple[helpers.Autoencoder, dict]:
    """Return a saved model of `variant` (on the CPU) and its history."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    model = helpers.build_model(variant, saved["job"]["seed"])
    model.load_state_dict(saved["state_dict"])
    return model, saved["history"]
