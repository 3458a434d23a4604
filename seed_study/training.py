"""The seed study's training: one model per job, trained as the report's, saved by model_key."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import json
from pathlib import Path

import torch

import helpers
import provenance
import runtime
import safeguards
from settings import SHEET, Training
from study_settings import Variant


@dataclasses.dataclass(frozen=True)
class Job:
    """One model of the study: its variant's key and settings, its seed and its training."""

    model: str
    seed: int
    variant: Variant
    training: Training = SHEET


@dataclasses.dataclass(frozen=True)
class DataSpec:
    """Where the data is, and how many of its first training and test images to use (None: all)."""

    root: str
    train_images: int | None = None
    test_images: int | None = None


@functools.lru_cache(maxsize=1)
def load_data(spec: DataSpec) -> helpers.FashionMNISTData:
    """Return the data of `spec`, loaded once per process."""
    data = helpers.load_fashion_mnist(spec.root)
    train, test = slice(spec.train_images), slice(spec.test_images)
    parts = data.train_x[train], data.train_y[train], data.test_x[test], data.test_y[test]
    return helpers.FashionMNISTData(*parts, data.classes, data.class_groups)


def model_key(job: Job, spec: DataSpec, device: str) -> dict:
    """Return what determines a job's weights: variant but label, seed, training, data, device."""
    variant = {name: value for name, value in job.variant.to_dict().items() if name != "label"}
    data = {"train_images": spec.train_images, "test_images": spec.test_images}
    seed, training = job.seed, dataclasses.asdict(job.training)
    return {"variant": variant, "seed": seed, "training": training, "data": data, "device": device}


def model_file(folder: str | Path, job: Job, spec: DataSpec, device: str) -> Path:
    """Return the job's model file: seed{seed}-{first 16 hex digits of SHA-256(model_key)}.pt."""
    digest = hashlib.sha256(json.dumps(model_key(job, spec, device), sort_keys=True).encode())
    return Path(folder) / f"seed{job.seed}-{digest.hexdigest()[:16]}.pt"


def train_job(job: Job, spec: DataSpec, path: Path) -> dict:
    """Train the job's model, save it with its key to `path`; return its history and seconds."""
    device, data, training = runtime.get_device(), load_data(spec), dataclasses.asdict(job.training)
    model = job.variant.build(job.seed).to(device)
    history = safeguards.train(
        model, data, **training, noise_std=job.variant.noise_std, seed=job.seed, progress=False
    )
    trained = {"history": history.to_dict(), "seconds": sum(history.epoch_seconds)}
    saved = {"model": job.model, "key": model_key(job, spec, device.type), **trained}
    saved["state_dict"] = {name: value.cpu() for name, value in model.state_dict().items()}
    serialised = io.BytesIO()
    torch.save(saved, serialised)
    provenance.write_atomically(path, serialised.getvalue())
    return trained


def is_saved(path: Path) -> bool:
    """Return whether `path` holds a whole saved model (one damaged or cut short is not)."""
    try:
        return "key" in torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 (missing, truncated, not a model: train it again)
        return False


def load_trained(
    path: Path, job: Job, spec: DataSpec, device: str
) -> tuple[helpers.Autoencoder, dict]:
    """Return the job's saved model (on the CPU) and its history, if its key is the job's."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    if saved.get("key") != (expected := model_key(job, spec, device)):
        raise ValueError(f"{path} holds the model of {saved.get('key')}, not {expected}")
    model = job.variant.build(job.seed)
    model.load_state_dict(saved["state_dict"])
    return model, saved["history"]
