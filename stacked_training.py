"""Several seeds at once: the models of all seeds trained side by side, their weights stacked.

The seed study (bench/seed_study.py) and the benchmark (bench/bench_epoch.py) use
train_autoencoder_seeds; the report's own two models are trained one by one with the readable
helpers.train_autoencoder. Seed s gets what train_autoencoder(Autoencoder(seed=s), seed=s)
gives it, up to float rounding (tests/test_stacked_training.py checks the losses and the final
weights): the same initial weights, shuffling, noise, test schedule and collapse restarts
(helpers.tested_epochs, helpers.restart_seed).

Why a hand-written backward pass and not torch.func: every step is one torch.baddbmm per layer
over the stacked weights [seeds, out, in], and stack_backward writes out the gradients of those
six products. torch.func.stack_module_state with vmap(grad(...)) and fused Adam would need no
hand-written backward pass, but measured on a 2-core CPU it took 8.9-10.3 s per epoch of 5
seeds against 7.6 s here (20-35% more). `make seeds` trains 15 models for 50 epochs, so the
hand-written pass saves about 5 minutes of a 25-minute run; the oracle test guards it.
"""

from __future__ import annotations

import copy
import time
import warnings
from dataclasses import dataclass

import torch
from torch import nn
from tqdm.auto import tqdm

from helpers import (COLLAPSE_CHECK_EPOCHS, MAX_RESTARTS, Autoencoder, FashionMNISTData,
                     TrainingHistory, check_training_args, collapse_reason, count_live_units,
                     fixed_test_noise, flush_denormals, get_device, make_optimizer,
                     reconstruction_loss, restart_note, restart_seed, tested_epochs)

ACTIVATIONS = {nn.ReLU: "relu", nn.Tanh: "tanh", nn.Identity: None}


def stack_layers(template: nn.Module) -> list[tuple[str, str | None]]:
    """Return (name, activation after it) for each Linear layer of the template, in order."""
    layers: list[tuple[str, str | None]] = []
    for name, module in template.named_modules():
        if isinstance(module, nn.Linear):
            layers.append((name, None))
        elif type(module) in ACTIVATIONS:
            layers[-1] = (layers[-1][0], ACTIVATIONS[type(module)])
        elif not list(module.children()):
            raise TypeError(f"stacked training knows no {type(module).__name__} layer")
    return layers


@dataclass
class ModelStack:
    """Models trained side by side, one per seed: their weights in one flat tensor (each
    parameter stacked [models, *shape], one after another), its Adam, and per seed the model,
    the generator, the test inputs and the history."""

    template: Autoencoder
    seeds: list[int]
    models: list[Autoencoder]
    generators: list[torch.Generator]
    test_inputs: list[torch.Tensor]
    histories: list[TrainingHistory]
    flat: torch.Tensor
    lr: float
    weight_decay: float

    def __post_init__(self) -> None:
        self.flat.grad = torch.zeros_like(self.flat)
        self.optimizer = make_optimizer([self.flat], self.lr, self.weight_decay)
        self.layers = stack_layers(self.template)
        self.params, self.grads = self.views(self.flat), self.views(self.flat.grad)
        self.buffers: dict[int, tuple[list[torch.Tensor], list[torch.Tensor]]] = {}

    def views(self, flat: torch.Tensor) -> dict[str, torch.Tensor]:
        """Return the stacked parameters [models, *shape] by name, as views into `flat`."""
        views, start = {}, 0
        for name, parameter in self.template.named_parameters():
            size = len(self.seeds) * parameter.numel()
            views[name] = flat[start:start + size].view(len(self.seeds), *parameter.shape)
            start += size
        return views

    def model(self, index: int) -> Autoencoder:
        """Return the model at `index` with the stack's current weights."""
        self.models[index].load_state_dict({name: p[index] for name, p in self.params.items()})
        return self.models[index]

    def keep(self, indices: list[int]) -> ModelStack:
        """Return a stack of the models at `indices` only, with their Adam state."""
        index = torch.tensor(indices, dtype=torch.long, device=self.flat.device)

        def select(flat: torch.Tensor) -> torch.Tensor:
            return torch.cat([view[index].flatten() for view in self.views(flat).values()])

        lists = {name: [getattr(self, name)[i] for i in indices]
                 for name in ("seeds", "models", "generators", "test_inputs", "histories")}
        kept = ModelStack(self.template, **lists, flat=select(self.flat), lr=self.lr,
                          weight_decay=self.weight_decay)
        state = self.optimizer.state[self.flat]
        kept.optimizer.state[kept.flat] = {key: value if key == "step" else select(value)
                                           for key, value in state.items()}
        return kept

    def batch_buffers(self, batch_size: int) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Return buffers [models, batch_size, width] for each layer's output and its gradient."""
        if batch_size not in self.buffers:
            widths = [self.params[name + ".bias"].shape[1] for name, _ in self.layers]
            self.buffers[batch_size] = tuple(
                [self.flat.new_empty(len(self.seeds), batch_size, width) for width in widths]
                for _ in range(2))
        return self.buffers[batch_size]


def make_stack(seeds: list[int], inits: list[int], test_x: torch.Tensor, *, noise_std: float,
               lr: float, weight_decay: float, linear_code: bool) -> ModelStack:
    """Return a stack of Autoencoder(seed=init) models on test_x's device, one per seed."""
    device = test_x.device
    models = [Autoencoder(init, linear_code).to(device) for init in inits]
    flat = torch.cat([torch.stack([model.get_parameter(name).detach() for model in models])
                      .flatten() for name, _ in models[0].named_parameters()])
    return ModelStack(
        copy.deepcopy(models[0]), list(seeds), models,
        [torch.Generator(device=device).manual_seed(seed) for seed in seeds],
        [fixed_test_noise(test_x, noise_std, seed) for seed in seeds],
        [TrainingHistory(noise_std=noise_std) for _ in seeds], flat, lr, weight_decay)


def stack_forward(stack: ModelStack, x: torch.Tensor, outputs: list[torch.Tensor]) -> torch.Tensor:
    """Write each layer's output for the batches x [models, N, 784] into `outputs`; return the
    last: each model's reconstruction of its own batch."""
    for (name, activation), out in zip(stack.layers, outputs):
        torch.baddbmm(stack.params[name + ".bias"].unsqueeze(1), x,
                      stack.params[name + ".weight"].mT, out=out)
        if activation == "relu":
            out.relu_()
        elif activation == "tanh":
            out.tanh_()
        x = out
    return x


def stack_backward(stack: ModelStack, x: torch.Tensor, outputs: list[torch.Tensor],
                   output_grads: list[torch.Tensor]) -> None:
    """Write into stack.grads the gradients of the loss whose gradient with respect to the
    last output is output_grads[-1] (backpropagation by hand; overwrites output_grads)."""
    grad = output_grads[-1]
    for index in reversed(range(len(stack.layers))):
        name, activation = stack.layers[index]
        if activation == "relu":  # the gradient before the activation, in place (as autograd)
            torch.ops.aten.threshold_backward.grad_input(grad, outputs[index], 0, grad_input=grad)
        elif activation == "tanh":
            torch.ops.aten.tanh_backward.grad_input(grad, outputs[index], grad_input=grad)
        layer_input = outputs[index - 1] if index else x
        torch.bmm(grad.mT, layer_input, out=stack.grads[name + ".weight"])
        torch.sum(grad, 1, out=stack.grads[name + ".bias"])
        if index:
            grad = torch.bmm(grad, stack.params[name + ".weight"], out=output_grads[index - 1])


def stacked_white_noise(x: torch.Tensor, std: float,
                        generators: list[torch.Generator]) -> torch.Tensor:
    """Return x + N(0, std^2) noise where x[i] draws its noise from generators[i]: the same
    numbers as add_white_noise(x[i], std, generators[i])."""
    noise = torch.empty_like(x)
    for part, generator in zip(noise, generators):
        part.normal_(0.0, std, generator=generator)  # rounds std * N(0, 1) once, as there
    return noise.add_(x)


@torch.no_grad()
def stack_step(stack: ModelStack, inputs: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Take one Adam step for every model on its own batch's MSE; return the losses."""
    outputs, output_grads = stack.batch_buffers(target.shape[1])
    error = torch.sub(stack_forward(stack, inputs, outputs), target, out=output_grads[-1])
    size = error[0].numel()
    losses = torch.linalg.vecdot(error.flatten(1), error.flatten(1)) / size
    error.mul_(2 / size)  # the gradient of each model's MSE with respect to its output
    stack_backward(stack, inputs, outputs, output_grads)
    stack.optimizer.step()
    return losses


def train_stack_epoch(stack: ModelStack, train_x: torch.Tensor, batch_size: int,
                      noise_std: float) -> list[float]:
    """Train every model of the stack one epoch, as train_epoch; return the mean losses."""
    orders = torch.stack([torch.randperm(len(train_x), generator=generator, device=train_x.device)
                          for generator in stack.generators])
    total = torch.zeros(len(stack.seeds), device=train_x.device)
    for batch in orders.split(batch_size, dim=1):
        target = train_x.index_select(0, batch.flatten()).view(*batch.shape, -1)
        inputs = stacked_white_noise(target, noise_std, stack.generators) if noise_std else target
        total.add_(stack_step(stack, inputs, target), alpha=batch.shape[1])
    return [loss / len(train_x) for loss in total.tolist()]


def drop_collapsed(stack: ModelStack, epoch: int,
                   checks: dict[int, bool]) -> tuple[ModelStack, dict[int, str]]:
    """Return the stack without its collapsed models (of the seeds checked), and why, by seed."""
    reasons = {seed: collapse_reason(stack.model(i), stack.test_inputs[i]) if checks[seed] else ""
               for i, seed in enumerate(stack.seeds)}
    collapsed = {seed: f"epoch {epoch}: {reason}" for seed, reason in reasons.items() if reason}
    if collapsed:
        stack = stack.keep([i for i, seed in enumerate(stack.seeds) if seed not in collapsed])
    return stack, collapsed


def fit_stack(stack: ModelStack, data: FashionMNISTData, *, epochs: int, batch_size: int,
              noise_std: float, test_every: int, progress: bool, checks: dict[int, bool],
              ) -> tuple[list[tuple[int, Autoencoder, TrainingHistory]], dict[int, str]]:
    """Run fit's epoch loop for every model of the stack; return (seed, model, history) for
    those that finished, and the collapsed seeds with why (they left the stack at once)."""
    device = stack.test_inputs[0].device
    train_x, test_x = data.train_x.to(device), data.test_x.to(device)
    collapsed: dict[int, str] = {}
    tests = tested_epochs(epochs, test_every)
    name = f"{len(stack.seeds)} {'denoising autoencoders' if noise_std else 'autoencoders'}"
    for epoch in tqdm(range(1, epochs + 1), desc=name, unit="epoch", disable=not progress):
        start = time.perf_counter()
        losses = train_stack_epoch(stack, train_x, batch_size, noise_std)
        seconds = time.perf_counter() - start
        for history, loss in zip(stack.histories, losses):
            history.train_loss.append(loss)
            history.epoch_seconds.append(seconds)
        if epoch <= COLLAPSE_CHECK_EPOCHS:
            stack, newly_collapsed = drop_collapsed(stack, epoch, checks)
            collapsed.update(newly_collapsed)
        if not stack.seeds:
            break
        if epoch in tests:
            for i, history in enumerate(stack.histories):
                history.test_loss[epoch] = reconstruction_loss(stack.model(i), stack.test_inputs[i],
                                                               test_x)
    for i, history in enumerate(stack.histories):
        history.live_code_units = count_live_units(stack.model(i), stack.test_inputs[i])
    return list(zip(stack.seeds, stack.models, stack.histories)), collapsed


def check_seeds(seeds: list[int]) -> None:
    """Raise a clear ValueError unless `seeds` is a non-empty list of distinct integers."""
    if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise ValueError(f"seeds must be a non-empty list of integers, got {seeds!r}")
    if len(set(seeds)) < len(seeds):
        raise ValueError(f"seeds must be distinct, got {seeds!r}")


def train_autoencoder_seeds(
    data: FashionMNISTData,
    seeds: list[int],
    *,
    epochs: int = 50,
    batch_size: int = 128,
    lr: float = 1e-3,
    weight_decay: float = 1e-5,
    noise_std: float = 0.0,
    test_every: int = 10,
    progress: bool = True,
    restart_on_collapse: bool = True,
    linear_code: bool = False,
    device: torch.device | str | None = None,
) -> list[tuple[Autoencoder, TrainingHistory]]:
    """Train Autoencoder(seed=s) for every seed s side by side; return (model, history) per seed.

    Seed s gets what train_autoencoder(Autoencoder(seed=s), data, seed=s, ...) gives it: the
    same initial weights, shuffling, noise, collapse restarts and history, up to rounding.
    Its steps are batched with the other seeds' (torch.baddbmm over stacked weights, with
    backpropagation written out, see stack_backward), which is much faster than one model
    after the other. A collapsed model leaves the stack, is re-initialised and trained again
    after the others, in a stack of its own. epoch_seconds are the stack's. device None is
    get_device().
    """
    check_training_args(data, epochs=epochs, batch_size=batch_size, test_every=test_every,
                        lr=lr, weight_decay=weight_decay, noise_std=noise_std)
    check_seeds(seeds)
    if not flush_denormals():
        warnings.warn("PyTorch's worker threads do not flush subnormal floats: see "
                      "train_autoencoder", stacklevel=2)
    test_x = data.test_x.to(device or get_device())
    results: dict[int, tuple[Autoencoder, TrainingHistory]] = {}
    restarts: dict[int, list[str]] = {seed: [] for seed in seeds}
    inits = {seed: seed for seed in seeds}
    while pending := [seed for seed in seeds if seed not in results]:
        stack = make_stack(pending, [inits[seed] for seed in pending], test_x, noise_std=noise_std,
                           lr=lr, weight_decay=weight_decay, linear_code=linear_code)
        checks = {seed: restart_on_collapse and len(restarts[seed]) < MAX_RESTARTS
                  for seed in pending}
        finished, collapsed = fit_stack(stack, data, epochs=epochs, batch_size=batch_size,
                                        noise_std=noise_std, test_every=test_every,
                                        progress=progress, checks=checks)
        for seed, model, history in finished:
            history.restarts, results[seed] = restarts[seed], (model, history)
        for seed, reason in collapsed.items():
            inits[seed] = restart_seed(seed, len(restarts[seed]))
            restarts[seed].append(restart_note(reason, inits[seed]))
            print(f"Collapse at {restarts[seed][-1]}")
    return [results[seed] for seed in seeds]


