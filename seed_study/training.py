"""The seed study's training: one model per job (model, seed), trained by
safeguards.train as the report trains its own, and saved.

A saved model is keyed by what determines its weights (model_key): its variant, seed,
training settings, data and device. The key is written into the file, which is named
seed{seed}-{short SHA-256 of the key}.pt: a study trains only the jobs whose file is missing,
and load_trained refuses a file whose key is not the job's.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import torch
from threadpoolctl import threadpool_limits

import helpers
import provenance
import runtime
import safeguards
from settings import SHEET, Training, Variant


@dataclasses.dataclass(frozen=True)
class Job:
    """One model of the study: its variant (by key and as settings.Variant), its seed and how
    it is trained."""

    model: str
    seed: int
    variant: Variant
    training: Training = SHEET


@dataclasses.dataclass(frozen=True)
class DataSpec:
    """Where the data is, and how many of its first training and test images a job uses
    (None: all of them)."""

    root: str
    train_images: int | None = None
    test_images: int | None = None


def one_thread(function: Callable, *args: object) -> object:
    """Return function(*args) computed on one PyTorch thread and one thread for NumPy's and
    scikit-learn's libraries, as in every worker of the study; the threads are restored."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1):
            return function(*args)
    finally:
        torch.set_num_threads(threads)


@functools.lru_cache(maxsize=1)
def load_data(spec: DataSpec) -> helpers.FashionMNISTData:
    """Return the data of `spec`, loaded once per process."""
    data = helpers.load_fashion_mnist(spec.root)
    train, test = slice(spec.train_images), slice(spec.test_images)
    return data._replace(train_x=data.train_x[train], train_y=data.train_y[train],
                         test_x=data.test_x[test], test_y=data.test_y[test])


def model_key(job: Job, spec: DataSpec, device: str) -> dict:
    """Return what determines a job's weights, as JSON-ready data: the variant (but its label),
    the seed, the training settings, the images used and the device type."""
    variant = {name: value for name, value in job.variant.to_dict().items() if name != "label"}
    return {"variant": variant, "seed": job.seed, "training": dataclasses.asdict(job.training),
            "data": {"train_images": spec.train_images, "test_images": spec.test_images},
            "device": device}


def model_file(folder: str | Path, job: Job, spec: DataSpec, device: str) -> Path:
    """Return the file of the job's trained model: seed{seed}-{hash}.pt, the hash the first
    16 hex digits of the SHA-256 of its model_key."""
    text = json.dumps(model_key(job, spec, device), sort_keys=True)
    return Path(folder) / f"seed{job.seed}-{hashlib.sha256(text.encode()).hexdigest()[:16]}.pt"


def train_job(job: Job, spec: DataSpec, path: str | Path) -> dict:
    """Train the job's model with safeguards.train, as the notebook trains its own (the plain
    loop, restarted if it collapses), save it to `path` (its key,
    state_dict and history) and return its history and seconds as JSON-ready data."""
    device = runtime.get_device()
    model = helpers.build_model(job.variant, job.seed).to(device)
    history = safeguards.train(
        model, load_data(spec), **dataclasses.asdict(job.training),
        noise_std=job.variant.noise_std, seed=job.seed, progress=False)
    saved = {"model": job.model, "key": model_key(job, spec, device.type),
             "history": history.to_dict(), "seconds": sum(history.epoch_seconds),
             "state_dict": {name: value.cpu() for name, value in model.state_dict().items()}}
    provenance.write_atomically(path, lambda temp: torch.save(saved, temp))
    return {"history": saved["history"], "seconds": saved["seconds"]}


def load_trained(path: str | Path, job: Job, spec: DataSpec,
                 device: str) -> tuple[helpers.Autoencoder, dict]:
    """Return the job's saved model (on the CPU) and its history; raise ValueError where the
    file's key is not the job's."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    expected = model_key(job, spec, device)
    if saved.get("key") != expected:
        raise ValueError(f"{path} holds the model of {saved.get('key')}, not of {expected}: "
                         "delete it and run `make seeds`")
    model = helpers.build_model(job.variant, job.seed)
    model.load_state_dict(saved["state_dict"])
    return model, saved["history"]
