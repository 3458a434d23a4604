"""The companion's Q1 experiment: the autoencoder trained with plain SGD as stochastic (batch 1),
mini-batch and batch gradient descent, at one budget of training examples and one of training
time, over seeds, each variant's learning rate chosen on held-out images."""

from __future__ import annotations

import math
import platform
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import torch

from helpers import Autoencoder, reconstruction_loss, train_step


@dataclass
class SGDRun:
    """One plain-SGD run: the loss on the evaluation images after given numbers of updates, the
    measured training time (the machine's; the losses are not), and the held-out loss at the end."""

    batch_size: int
    lr: float
    seed: int
    updates: list[int] = field(default_factory=list)
    examples: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    held_out: float = math.inf

    @property
    def final_loss(self) -> float:
        """Return the last measured loss (inf if the run diverged)."""
        return self.loss[-1] if math.isfinite(self.loss[-1]) else math.inf

    @property
    def examples_per_second(self) -> float:
        """Return the training examples processed per second of measured training time."""
        return self.examples[-1] / self.seconds[-1]

    def record(self, updates: int, examples: int, seconds: float, loss: float) -> None:
        """Append one measurement."""
        self.updates.append(updates), self.examples.append(examples)
        self.seconds.append(seconds), self.loss.append(loss)

    def to_dict(self) -> dict:
        """Return the run as JSON-ready numbers."""
        fields = ("batch_size", "lr", "seed", "updates", "examples", "seconds", "loss")
        return {name: getattr(self, name) for name in fields} | {"held_out": self.held_out}


@dataclass
class Variant:
    """One variant of the experiment: its runs per learning rate and seed at the example
    budget, the rate chosen on the held-out images, and that rate's runs at the time budget."""

    batch_size: int
    sweeps: dict[float, list[SGDRun]]
    lr: float
    timed: list[SGDRun]

    @property
    def runs(self) -> list[SGDRun]:
        """Return the chosen rate's runs at the example budget, one per seed."""
        return self.sweeps[self.lr]


def evaluation_points(updates: int, count: int) -> set[int]:
    """Return about `count` update numbers from 1 to `updates`, evenly spaced on a log scale."""
    return set(np.unique(np.geomspace(1, updates, count).round().astype(int)).tolist())


def shuffled_batches(
    size: int, batch_size: int, generator: torch.Generator, device: torch.device
) -> Iterator[torch.Tensor]:
    """Yield the index batches of one random permutation after another, without end."""
    while True:
        yield from torch.randperm(size, generator=generator, device=device).split(batch_size)


def train_sgd(
    images: dict[str, torch.Tensor], *, batch_size: int, lr: float, seed: int,
    passes: int | None = None, seconds: float | None = None, evaluations: int = 20,
) -> SGDRun:  # fmt: skip
    """Train Autoencoder(seed) with plain SGD on images["train"] for `passes` passes or `seconds`
    of training time (evaluations not counted); measure the MSE of images["eval"] at the start
    and at about `evaluations` log-spaced updates, and of images["held_out"] at the end."""
    train_x = images["train"]
    model = Autoencoder(seed=seed).to(train_x.device)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    generator = torch.Generator(device=train_x.device).manual_seed(seed)
    updates = passes * math.ceil(len(train_x) / batch_size) if passes else 10**7
    checkpoints = evaluation_points(updates if passes else 10**5, evaluations)
    run = SGDRun(batch_size, lr, seed)
    run.record(0, 0, 0.0, reconstruction_loss(model, images["eval"], images["eval"]))
    done, examples, elapsed = 0, 0, 0.0
    for batch in shuffled_batches(len(train_x), batch_size, generator, train_x.device):
        start = time.perf_counter()
        train_step(model, optimizer, train_x[batch], train_x[batch])
        if train_x.device.type != "cpu":
            torch.accelerator.synchronize()  # so that the clock measures the GPU's work
        elapsed += time.perf_counter() - start
        done, examples = done + 1, examples + len(batch)
        last = done == updates or (seconds is not None and elapsed >= seconds)
        if done in checkpoints or last:
            run.record(done, examples, elapsed, reconstruction_loss(model, *[images["eval"]] * 2))
            if last or not math.isfinite(run.loss[-1]):
                run.held_out = reconstruction_loss(model, *[images["held_out"]] * 2)
                return run
    raise AssertionError("unreachable: shuffled_batches never ends")


def held_out_mean(runs: list[SGDRun]) -> float:
    """Return the mean held-out loss of a rate's runs (inf if one diverged)."""
    losses = [run.held_out for run in runs]
    return float(np.mean(losses)) if all(map(math.isfinite, losses)) else math.inf


def run_variant(
    images: dict, batch_size: int, lrs: list[float], seeds: list[int], passes: int, seconds: float
) -> Variant:
    """Return a variant: every rate and seed for `passes` passes, the rate with the lowest mean
    held-out loss, and that rate's seeds for `seconds` of training time."""
    settings = {"batch_size": batch_size, "passes": passes}
    sweeps = {lr: [train_sgd(images, lr=lr, seed=s, **settings) for s in seeds] for lr in lrs}
    chosen = min(sweeps, key=lambda lr: held_out_mean(sweeps[lr]))
    timed = [
        train_sgd(images, batch_size=batch_size, lr=chosen, seed=s, seconds=seconds) for s in seeds
    ]
    return Variant(batch_size, sweeps, chosen, timed)


def machine() -> str:
    """Return the machine the timings were taken on: processor, cores, PyTorch threads."""
    name = platform.processor() or platform.machine()
    return f"{name}, {torch.get_num_threads()} PyTorch threads ({platform.system()})"
