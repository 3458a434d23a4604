"""Safeguards around helpers.train_autoencoder (the notebooks and the seed study call train):
clear errors for bad data or settings, the subnormal-float warning, the restart of a collapse."""

from __future__ import annotations

import dataclasses
import math
import platform
import warnings
from dataclasses import dataclass, field

import torch

import helpers
import runtime  # noqa: F401 (its import flushes subnormal floats in the threads started later)
from settings import SHEET

COLLAPSE_CHECK_EPOCHS, MAX_RESTARTS = 5, 5  # checked in the first epochs, restarted at most
MIN_LIVE_UNITS = 3  # collapsed: fewer code units fire on the checked training images, or
CONSTANT_OUTPUT_RATIO = 0.01  # the outputs vary less than this fraction of the inputs
CHECK_IMAGES = 10_000  # the first training images: the check never looks at the test set
SUBNORMAL_WARNING = (
    "Some of PyTorch's CPU threads do not flush subnormal floats to zero (they started before "
    "helpers was imported): late epochs can get several times slower on this CPU. Import "
    "helpers before any other PyTorch work: restart the kernel and run the notebook from the top."
)


def subnormals_are_slow() -> bool:
    """Return whether this CPU computes with subnormal floats far more slowly than with
    normal ones: x86 does (microcode assists); ARM, Apple silicon included, does not."""
    return platform.machine().lower() in {"x86_64", "amd64", "i386", "i686", "x86"}


def flush_denormals() -> bool:
    """Flush subnormal floats to zero; return whether all of PyTorch's CPU threads do so (a
    thread copies the setting when it starts: importing this module makes it early)."""
    if not torch.set_flush_denormal(True):
        return True  # this CPU has no such mode; nothing more can be done
    smallest_subnormal = torch.ones(1 << 20, dtype=torch.int32).view(torch.float32)
    return not (smallest_subnormal * 1.0).view(torch.int32).any().item()


def check_images(x: torch.Tensor, what: str) -> None:
    """Raise a clear error unless `x` is a finite float32 tensor of flattened images [N, 784]."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{what} must be a torch.Tensor, got {type(x).__name__}")
    if x.dtype != torch.float32:
        raise TypeError(f"{what} must be float32, got {x.dtype}: use x.float()")
    if x.ndim != 2 or x.shape[1] != helpers.IMAGE_SIZE:
        raise ValueError(
            f"{what} must have shape [N, {helpers.IMAGE_SIZE}], got {list(x.shape)}: "
            f"flatten the images with x.reshape(len(x), {helpers.IMAGE_SIZE})"
        )
    if bad := int((~torch.isfinite(x)).sum()):
        raise ValueError(f"{what} holds {bad} NaN or infinite values of {x.numel()}")


def check_training_args(data: helpers.FashionMNISTData, **numbers: float) -> None:
    """Raise a clear ValueError for bad training data or settings."""
    check_images(data.train_x, "data.train_x")
    check_images(data.test_x, "data.test_x")
    for name in ("epochs", "batch_size", "test_every"):
        value = numbers[name]
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    for name in ("lr", "weight_decay", "noise_std"):
        if not math.isfinite(numbers[name]) or numbers[name] < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {numbers[name]!r}")


def collapse_reason(model: helpers.Autoencoder, inputs: torch.Tensor) -> str:
    """Return why the model has collapsed (dead code, constant output), or '' if it has not."""
    live = helpers.count_live_units(model, inputs)
    if live < MIN_LIVE_UNITS:
        return f"only {live} of {helpers.ENCODER_SIZES[-1]} code units fire on the checked images"
    spread = helpers.reconstruct(model, inputs).var(0).mean().item()
    if spread < CONSTANT_OUTPUT_RATIO * inputs.var(0).mean().item():
        return "the output is (almost) the same image for every input"
    return ""


def restart_seed(seed: int, restarts: int) -> int:
    """Return the initialisation seed of a collapsed model's next try: 1000 * (k + 1) + seed."""
    return 1000 * (restarts + 1) + seed


@dataclass
class CheckedHistory(helpers.TrainingHistory):
    """A TrainingHistory with why the model restarted (none: an empty list)."""

    restarts: list[str] = field(default_factory=list)


class Collapsed(Exception):
    """Training stopped early because the model collapsed; the message says how."""


class CannotTrain(RuntimeError):
    """The model collapsed at every start: these settings do not train it."""


def cannot_train_message(settings: dict, collapses: list[str]) -> str:
    """Return the error of a model that collapsed at each of its starts, naming the settings."""
    shown = ", ".join(f"{name} {settings[name]:g}" for name in ("lr", "weight_decay", "noise_std"))
    return (
        f"the model collapsed at each of its {len(collapses)} starts (last: {collapses[-1]}): it "
        f"cannot learn with these settings ({shown}). Nothing was saved; use a smaller learning "
        "rate or noise (settings.py holds the sheet's values) and run again."
    )


def collapse_check(inputs: torch.Tensor):
    """Return an on_epoch callback that raises Collapsed in the first epochs of a dead model."""

    def check(epoch: int, model: helpers.Autoencoder) -> None:
        if epoch <= COLLAPSE_CHECK_EPOCHS and (reason := collapse_reason(model, inputs)):
            raise Collapsed(f"epoch {epoch}: {reason}")

    return check


def train(
    model: helpers.Autoencoder,
    data: helpers.FashionMNISTData,
    *,
    restart_on_collapse: bool = True,
    **settings,
) -> CheckedHistory:
    """Check the arguments, then train with helpers.train_autoencoder; a model that collapses
    in its first epochs (fewer than MIN_LIVE_UNITS live code units on the first CHECK_IMAGES
    training images with the training noise, or one output for every input) restarts from
    restart_seed(seed, k), and history.restarts says why; CannotTrain after MAX_RESTARTS."""
    full = dataclasses.asdict(SHEET) | {"noise_std": 0.0, "seed": 0} | settings
    check_training_args(data, **full)
    if not flush_denormals() and subnormals_are_slow():
        warnings.warn(SUBNORMAL_WARNING, stacklevel=2)
    checked = data.train_x[:CHECK_IMAGES].to(helpers.model_device(model))
    check_input = helpers.fixed_test_noise(checked, full["noise_std"], full["seed"])
    restarts: list[str] = []
    while True:
        check = collapse_check(check_input) if restart_on_collapse else None
        try:
            history = helpers.train_autoencoder(model, data, on_epoch=check, **settings)
        except Collapsed as collapse:
            if len(restarts) == MAX_RESTARTS:
                raise CannotTrain(cannot_train_message(full, [*restarts, str(collapse)])) from None
            new_seed = restart_seed(full["seed"], len(restarts))
            restarts.append(f"{collapse}; restarted with seed {new_seed}")
            print(f"Collapse at {restarts[-1]}")
            model.reset_parameters(new_seed)
            continue
        return CheckedHistory(**dataclasses.asdict(history), restarts=restarts)
