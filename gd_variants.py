"""The companion's Q1 experiment: plain SGD for a fixed number of updates at batch size 1
(stochastic), a mini-batch or the whole sample (batch), with the loss on fixed images."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from helpers import model_device, reconstruction_loss, train_step


@dataclass
class SGDRun:
    """One plain-SGD run: the loss on fixed images after given numbers of updates, and the
    measured training time (which depends on the machine; the losses do not)."""

    batch_size: int
    lr: float
    updates: list[int] = field(default_factory=list)
    examples: list[int] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)

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
        """Return the run's settings and summary as JSON-ready numbers."""
        return {
            "batch_size": self.batch_size,
            "lr": self.lr,
            "updates": self.updates[-1],
            "examples": self.examples[-1],
            "final_loss": self.final_loss,
            "seconds": self.seconds[-1],
            "updates_per_second": self.updates[-1] / self.seconds[-1],
            "examples_per_second": self.examples_per_second,
        }


def loss_at(run: SGDRun, axis: str, budget: float) -> tuple[float, float] | None:
    """Return (loss, where) of the run's last measurement at or before `budget` on an axis,
    "examples" or "seconds"; None if the run ended before the budget or measured nothing
    there after its start."""
    points = getattr(run, axis)
    reached = [index for index, value in enumerate(points) if 0 < value <= budget]
    if not reached or points[-1] < budget:
        return None
    return run.loss[reached[-1]], points[reached[-1]]


def evaluation_points(updates: int, count: int) -> set[int]:
    """Return about `count` update numbers from 1 to `updates`, evenly spaced on a log scale."""
    return set(np.unique(np.geomspace(1, updates, count).round().astype(int)).tolist())


def shuffled_batches(
    size: int, batch_size: int, generator: torch.Generator, device: torch.device
) -> Iterator[torch.Tensor]:
    """Yield the index batches of one random permutation after another, without end."""
    while True:
        yield from torch.randperm(size, generator=generator, device=device).split(batch_size)


def train_for_updates(
    model: nn.Module,
    train_x: torch.Tensor,
    eval_x: torch.Tensor,
    *,
    batch_size: int,
    lr: float,
    updates: int,
    seed: int = 0,
    evaluations: int = 25,
    evaluate_at: tuple[int, ...] = (),
) -> SGDRun:
    """Train with plain SGD for `updates` updates (stopping early if it diverges); measure the
    MSE of eval_x at the start, at about `evaluations` log-spaced updates and at `evaluate_at`."""
    device = model_device(model)
    train_x, eval_x = train_x.to(device), eval_x.to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    generator = torch.Generator(device=device).manual_seed(seed)
    checkpoints = evaluation_points(updates, evaluations) | set(evaluate_at)
    run = SGDRun(batch_size, lr)
    run.record(0, 0, 0.0, reconstruction_loss(model, eval_x, eval_x))
    done, examples, elapsed = 0, 0, 0.0
    for batch in shuffled_batches(len(train_x), batch_size, generator, device):
        start = time.perf_counter()
        target = train_x.index_select(0, batch)
        train_step(model, optimizer, target, target)
        if device.type != "cpu":
            torch.accelerator.synchronize()  # so that the clock measures the GPU's work
        elapsed += time.perf_counter() - start
        done, examples = done + 1, examples + len(batch)
        if done in checkpoints:
            run.record(done, examples, elapsed, reconstruction_loss(model, eval_x, eval_x))
            if done == updates or not math.isfinite(run.loss[-1]):
                return run
    raise AssertionError("unreachable: shuffled_batches never ends")


def sweep_learning_rates(
    model: nn.Module, train_x: torch.Tensor, eval_x: torch.Tensor, lrs: list[float], **settings
) -> dict[float, SGDRun]:
    """Return one train_for_updates run per learning rate, each from a copy of `model`."""
    return {
        lr: train_for_updates(copy.deepcopy(model), train_x, eval_x, lr=lr, **settings)
        for lr in lrs
    }


def best_run(runs: dict[float, SGDRun]) -> SGDRun:
    """Return the run with the lowest final loss."""
    return min(runs.values(), key=lambda run: run.final_loss)


def equal_budgets(runs: dict[str, SGDRun], compare_at: int) -> dict:
    """Return the budgets: `compare_at` and the fewest examples beyond it, the shortest time."""
    beyond = [run.examples[-1] for run in runs.values() if run.examples[-1] > compare_at]
    return {
        "examples": [compare_at, min(beyond)] if beyond else [compare_at],
        "seconds": min(run.seconds[-1] for run in runs.values()),
    }


def budget_losses(runs: dict[str, SGDRun], budgets: dict) -> dict:
    """Return per kept run its (loss, where) at or before each budget of equal_budgets."""
    return {
        name.replace(" ", "_").replace("-", "_"): {
            "examples": [loss_at(run, "examples", budget) for budget in budgets["examples"]],
            "seconds": loss_at(run, "seconds", budgets["seconds"]),
        }
        for name, run in runs.items()
    }
