"""Autoencoders and denoising autoencoders on Fashion-MNIST: the science of exercise 9.

Sections follow the data flow (data, model, noise, training, evaluation, embedding); each
function calls only what stands above it and takes everything it needs as arguments.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.manifold import TSNE
from sklearn.metrics import confusion_matrix, recall_score
from sklearn.neighbors import NearestNeighbors
from torch import nn
from tqdm import tqdm

from data_files import FASHION_MNIST, Dataset, ensure_raw_files
from provenance import write_atomically
from settings import SHEET

# ---------------------------------------------------------------------------- data

IMAGE_SIZE = 28 * 28


class FashionMNISTData(NamedTuple):
    """Images as float32 [N, 784] in [-1, 1], labels as int64 [N], class names and groups."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    classes: list[str]
    class_groups: dict[str, list[str]] | None = None


def one_per_class(labels: torch.Tensor) -> torch.Tensor:
    """Return the index of the first image of each class, in class order."""
    classes = range(int(labels.max()) + 1)
    return torch.stack([torch.nonzero(labels == c)[0, 0] for c in classes])


def scale_images(images: torch.Tensor) -> torch.Tensor:
    """Return uint8 images [N, 28, 28] as float32 [N, 784], from [0, 255] to [-1, 1]."""
    return images.reshape(len(images), IMAGE_SIZE).float().div_(127.5).sub_(1.0)


def load_fashion_mnist(
    root: str | Path = "data", dataset: Dataset = FASHION_MNIST
) -> FashionMNISTData:
    """Return Fashion-MNIST (or another `dataset`), fetching its files offline first."""
    import torchvision.datasets

    ensure_raw_files(dataset, Path(root))  # found offline, checked against their SHA-256
    dataset_class, splits = getattr(torchvision.datasets, dataset.torchvision_class), []
    for train in (True, False):
        split = dataset_class(str(root), train=train)
        splits += [scale_images(split.data), split.targets.long()]
    return FashionMNISTData(*splits, list(split.classes), dataset.class_groups)


# ---------------------------------------------------------------------------- model

ENCODER_SIZES = (IMAGE_SIZE, 128, 64, 32, 16, 8)
DECODER_SIZES = (8, 8, 32, 64, 128, IMAGE_SIZE)
RELU_BIAS = 0.01  # a small positive bias keeps the narrow ReLU layers alive at the start


def mlp(sizes: tuple[int, ...], last_activation: nn.Module) -> nn.Sequential:
    """Return Linear layers of the given sizes, ReLU after each but the last activation."""
    layers: list[nn.Module] = []
    for index, (size_in, size_out) in enumerate(zip(sizes, sizes[1:])):
        is_last = index == len(sizes) - 2
        layers += [nn.Linear(size_in, size_out), last_activation if is_last else nn.ReLU()]
    return nn.Sequential(*layers)


class Autoencoder(nn.Module):
    """The sheet's autoencoder: encoder 784-128-64-32-16-8, decoder 8-8-32-64-128-784, ReLU
    after each layer but the last, Tanh there."""

    def __init__(self, seed: int | None = None) -> None:
        super().__init__()
        self.encoder = mlp(ENCODER_SIZES, nn.ReLU())
        self.decoder = mlp(DECODER_SIZES, nn.Tanh())
        self.reset_parameters(seed)

    def reset_parameters(self, seed: int | None = None) -> None:
        """Re-initialise: He-normal weights, bias RELU_BIAS before ReLU, zero before Tanh."""
        generator = None if seed is None else torch.Generator().manual_seed(seed)
        linears = [m for m in self.modules() if isinstance(m, nn.Linear)]
        with torch.no_grad():
            for layer in linears:
                device = layer.weight.device
                weight = torch.empty(layer.weight.shape)
                nn.init.kaiming_normal_(weight, nonlinearity="relu", generator=generator)
                layer.weight.copy_(weight.to(device))
                layer.bias.fill_(0.0 if layer is linears[-1] else RELU_BIAS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the reconstruction g(f(x)) of a batch x of shape [N, 784]."""
        return self.decoder(self.encoder(x))

    def loss(self, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Return a batch's training loss, the MSE of g(f(inputs)) against targets (a
        variant with its own loss term, a penalty on the code say, overrides it)."""
        return F.mse_loss(self(inputs), targets)


def count_parameters(model: nn.Module) -> int:
    """Return the number of trainable parameters of a model."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def save_model(model: Autoencoder, path: str | Path) -> Path:
    """Save the model's weights (its state_dict, on the CPU) atomically; return the path."""
    weights = {name: tensor.detach().cpu() for name, tensor in model.state_dict().items()}
    saved = io.BytesIO()
    torch.save(weights, saved)  # in memory first: a full disk is then one clear OSError
    return write_atomically(path, saved.getvalue())


@contextlib.contextmanager
def evaluating(model: nn.Module) -> Iterator[None]:
    """Put the model in eval mode without gradients; restore its previous mode after."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(was_training)


def model_device(model: nn.Module) -> torch.device:
    """Return the device that holds the model's parameters."""
    return next(model.parameters()).device


def encode(model: Autoencoder, x: torch.Tensor) -> torch.Tensor:
    """Return the codes f(x), shape [N, 8], on the device of x, without gradients."""
    with evaluating(model):
        return model.encoder(x.to(model_device(model))).to(x.device)


def reconstruct(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Return the reconstructions g(f(x)) [N, 784] on the device of x, without gradients."""
    with evaluating(model):
        return model(x.to(model_device(model))).to(x.device)


def reconstruction_loss(
    model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, batch_size: int = 2500
) -> float:
    """Return the mean squared error between model(inputs) and targets over all samples."""
    total = 0.0
    for batch_in, batch_target in zip(inputs.split(batch_size), targets.split(batch_size)):
        output = reconstruct(model, batch_in)
        total += F.mse_loss(output, batch_target, reduction="sum").item()
    return total / targets.numel()


def count_live_units(model: Autoencoder, x: torch.Tensor) -> int:
    """Return how many of the code units are non-zero for at least one input in x."""
    return int((encode(model, x) != 0).any(0).sum())


# ---------------------------------------------------------------------------- noise


def add_white_noise(
    x: torch.Tensor, std: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Return a new tensor x + N(0, std^2) noise, on the scale of x (here [-1, 1])."""
    noise = torch.empty_like(x).normal_(0.0, std, generator=generator)  # = std * N(0, 1)
    return noise.add_(x)  # in place, no second buffer: the numbers of x + std * randn(...)


def fixed_test_noise(test_x: torch.Tensor, noise_std: float, seed: int) -> torch.Tensor:
    """Return test_x plus the noise draw of `seed`, drawn on the CPU (the same on every
    device): the test inputs of train_autoencoder."""
    if not noise_std:
        return test_x
    generator = torch.Generator().manual_seed(seed + 1)
    return add_white_noise(test_x.cpu(), noise_std, generator).to(test_x.device)


# ---------------------------------------------------------------------------- training


@dataclass
class TrainingHistory:
    """Per-epoch mean training loss, test loss by epoch, seconds and live code units."""

    noise_std: float = 0.0
    train_loss: list[float] = field(default_factory=list)
    test_loss: dict[int, float] = field(default_factory=dict)
    epoch_seconds: list[float] = field(default_factory=list)
    live_code_units: int = 0

    def to_dict(self) -> dict:
        """Return the history as JSON-ready data (test-loss keys as strings, no timings)."""
        tests = {str(epoch): loss for epoch, loss in self.test_loss.items()}
        data = dataclasses.asdict(self) | {"test_loss": tests}
        return {key: value for key, value in data.items() if key != "epoch_seconds"}


def make_optimizer(model: nn.Module, lr: float, weight_decay: float) -> torch.optim.Adam:
    """Return Adam with an L2 penalty (fused kernels where they exist) for the model."""
    fused = model_device(model).type in ("cpu", "cuda")
    return torch.optim.Adam(model.parameters(), lr, weight_decay=weight_decay, fused=fused)


def train_step(
    model: nn.Module, optimizer: torch.optim.Adam, inputs: torch.Tensor, target: torch.Tensor
) -> torch.Tensor:
    """Take one optimiser step on the batch's model.loss; return the loss (detached)."""
    loss = model.loss(inputs, target)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.detach()


def train_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    train_x: torch.Tensor,
    batch_size: int,
    noise_std: float,
    generator: torch.Generator,
) -> float:
    """Train one epoch over a random permutation; return the mean loss over all samples."""
    model.train()
    order = torch.randperm(len(train_x), generator=generator, device=train_x.device)
    total = torch.zeros((), device=train_x.device)
    for batch in order.split(batch_size):
        target = train_x.index_select(0, batch)  # faster than train_x[batch] on the CPU
        inputs = add_white_noise(target, noise_std, generator) if noise_std else target
        total.add_(train_step(model, optimizer, inputs, target), alpha=len(batch))
    return total.item() / len(train_x)


def train_autoencoder(
    model: Autoencoder,
    data: FashionMNISTData,
    *,
    epochs: int = SHEET.epochs,
    batch_size: int = SHEET.batch_size,
    lr: float = SHEET.lr,
    weight_decay: float = SHEET.weight_decay,
    noise_std: float = 0.0,
    seed: int = 0,
    test_every: int = SHEET.test_every,
    on_test: Callable | None = None,
    on_epoch: Callable | None = None,
    progress: bool = True,
) -> TrainingHistory:
    """Train with Adam and MSE; return the history. noise_std > 0 trains a denoising model:
    noisy inputs, clean targets, its test loss on one fixed noise draw of the test images."""
    device = model_device(model)
    train_x, test_x = data.train_x.to(device), data.test_x.to(device)
    test_input = fixed_test_noise(test_x, noise_std, seed)
    optimizer = make_optimizer(model, lr, weight_decay)
    generator = torch.Generator(device=device).manual_seed(seed)
    history = TrainingHistory(noise_std=noise_std)
    for epoch in tqdm(range(1, epochs + 1), unit="epoch", disable=not progress):
        start = time.perf_counter()
        loss = train_epoch(model, optimizer, train_x, batch_size, noise_std, generator)
        history.train_loss.append(loss)
        history.epoch_seconds.append(time.perf_counter() - start)
        if on_epoch is not None:
            on_epoch(epoch, model)  # a check after every epoch, of a collapse say
        if epoch % test_every == 0 or epoch == epochs:
            history.test_loss[epoch] = reconstruction_loss(model, test_input, test_x)
            if on_test is not None:
                on_test(epoch, model)
    history.live_code_units = count_live_units(model, test_input)
    return history


class Recorder:
    """An on_test callback: the reconstructions of fixed test images at every test."""

    def __init__(self, images: torch.Tensor, inputs: torch.Tensor | None = None) -> None:
        self.images, self.inputs = images, images if inputs is None else inputs
        self.outputs: dict[int, torch.Tensor] = {}

    def __call__(self, epoch: int, model: nn.Module) -> None:
        """Record the model's reconstructions of the inputs after `epoch`."""
        self.outputs[epoch] = reconstruct(model, self.inputs)


# ---------------------------------------------------------------------------- evaluation


def mean_image_loss(x: torch.Tensor) -> float:
    """Return the MSE of predicting the mean image for every image (the collapse level)."""
    return F.mse_loss(x.mean(0, keepdim=True).expand_as(x), x).item()


def unit_activity(codes: np.ndarray) -> np.ndarray:
    """Return, per code unit (column), the share of codes in which it is non-zero."""
    return (np.asarray(codes) != 0).mean(0)


def per_class_recall(
    labels: np.ndarray, predicted: np.ndarray, classes: list[str]
) -> dict[str, float]:
    """Return, per class, the share of its images whose predicted label is right."""
    recall = recall_score(labels, predicted, average=None, labels=range(len(classes)))
    return {name: float(value) for name, value in zip(classes, recall)}


def group_recall(
    labels: np.ndarray, predicted: np.ndarray, classes: list[str], groups: dict
) -> dict[str, float]:
    """Return, per group of classes, the share of its images predicted inside the group."""
    group_of = np.array([next(g for g in groups if name in groups[g]) for name in classes])
    inside = group_of[predicted] == group_of[labels]
    return {group: float(inside[group_of[labels] == group].mean()) for group in groups}


def most_taken_for(labels: np.ndarray, votes: np.ndarray, classes: list[str]) -> list[str]:
    """Return per class the other class its points' votes name most often ('-' if none)."""
    counts = confusion_matrix(labels, votes, labels=range(len(classes)))
    np.fill_diagonal(counts, 0)  # the votes that keep a point in its class
    return [classes[row.argmax()] if row.any() else "-" for row in counts]


# ---------------------------------------------------------------------------- embedding


def sample_indices(total: int, count: int, seed: int) -> torch.Tensor:
    """Return `count` distinct indices below `total`, drawn at random from `seed`, sorted."""
    generator = torch.Generator().manual_seed(seed)
    return torch.randperm(total, generator=generator)[:count].sort().values


def tsne_embed(codes: np.ndarray, seed: int, perplexity: float = 30.0) -> np.ndarray:
    """Return a 2-D t-SNE embedding of the codes (PCA initialisation, fixed random_state)."""
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed)
    return tsne.fit_transform(np.asarray(codes, dtype=np.float64))


def plane_neighbour_votes(points: np.ndarray, labels: np.ndarray, k: int = 5) -> np.ndarray:
    """Return each map point's majority label among its k nearest others (ties: lower)."""
    neighbours = NearestNeighbors(n_neighbors=k + 1).fit(points).kneighbors(points)[1][:, 1:]
    votes = [np.bincount(row, minlength=labels.max() + 1) for row in labels[neighbours]]
    return np.argmax(votes, axis=1)


# ---------------------------------------------------------------------------- one record per model


@dataclass
class ModelRecord:
    """One trained model of the report and what is measured on it."""

    model: Autoencoder
    history: TrainingHistory
    recorder: Recorder
    mse_clean: float = math.nan
    mse_noisy: float = math.nan
    live_units: int = 0
    test_codes: np.ndarray | None = None
    tsne: np.ndarray | None = None
    votes: np.ndarray | None = None


def measure_errors(record: ModelRecord, test_x: torch.Tensor, noisy_x: torch.Tensor) -> None:
    """Set the record's test MSEs against the clean images, on clean and on noisy inputs,
    and its code units that fire on some clean test image."""
    record.mse_clean = reconstruction_loss(record.model, test_x, test_x)
    record.mse_noisy = reconstruction_loss(record.model, noisy_x, test_x)
    record.live_units = count_live_units(record.model, test_x)


def measure_codes(
    record: ModelRecord, data: FashionMNISTData, subset: np.ndarray, seed: int
) -> None:
    """Set the record's test codes, the t-SNE map of the codes `subset` and its votes."""
    record.test_codes = encode(record.model, data.test_x).numpy()
    record.tsne = tsne_embed(record.test_codes[subset], seed)
    labels = data.test_y.numpy()
    record.votes = plane_neighbour_votes(record.tsne, labels[subset])
