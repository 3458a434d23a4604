"""Autoencoders and denoising autoencoders on Fashion-MNIST: the reusable code of exercise 9.

Sections follow the data flow: data, model, noise, training, evaluation, embedding; each
function calls only what stands above it (tests/test_model.py checks it). Nothing here reads
notebook globals; every function takes what it needs as arguments. The other modules:
report.py draws the figures and tables, seed_training.py and seed_scoring.py train and score
the seed study's models, seed_statistics.py compares the models over the seeds, explorer.py is
the interactive code explorer, provenance.py writes files and digests code.
"""

from __future__ import annotations

import contextlib
import copy
import gzip
import hashlib
import math
import os
import platform
import shutil
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, NamedTuple  # noqa: UP035 (kept: the seed study's digest)

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.manifold import TSNE, trustworthiness
from sklearn.metrics import accuracy_score, recall_score, silhouette_score
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn
from tqdm.auto import tqdm

from provenance import write_atomically

# ---------------------------------------------------------------------------- data

IMAGE_SIZE = 28 * 28
NUM_CLASSES = 10
# SHA-256 of the four decompressed IDX files of the original Fashion-MNIST release.
FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}
DATA_DIR_VARIABLE = "FASHION_MNIST_DIR"
DEBIAN_DATA_DIR = Path("/usr/share/datasets/fashion-mnist")  # package dataset-fashion-mnist


class DataError(RuntimeError):
    """Fashion-MNIST is missing or damaged; the message says which file and how to get it."""


class FashionMNISTData(NamedTuple):
    """Images as float32 [N, 784] in [-1, 1], labels as int64 [N], and the ten class names."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    classes: list[str]


def data_error(path: Path, problem: str) -> DataError:
    """Return the one error that names a bad data file and the three ways to get the data."""
    return DataError(
        f"Fashion-MNIST file '{path}' {problem}.\n"
        "Get the data in one of three ways:\n"
        "  1. install Debian's package: apt-get install dataset-fashion-mnist\n"
        f"  2. set {DATA_DIR_VARIABLE} to a folder with the four original files "
        "(.gz or decompressed)\n"
        "  3. connect to the internet: torchvision then downloads them.\n"
        "Nothing was deleted: move or remove the bad file yourself, then retry."
    )


def file_sha256(path: Path) -> str:
    """Return the hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def source_dirs() -> list[Path]:
    """Return the folders to copy the data from: $FASHION_MNIST_DIR, then Debian's package."""
    folders = [Path(os.environ[DATA_DIR_VARIABLE])] if os.environ.get(DATA_DIR_VARIABLE) else []
    return folders + [DEBIAN_DATA_DIR]


def find_source_file(name: str) -> Path | None:
    """Return the first source file for `name` (decompressed or .gz), or None."""
    for folder in source_dirs():
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def install_raw_file(source: Path, target: Path) -> None:
    """Copy (and gunzip) `source` to `target` atomically, after checking its SHA-256."""
    opener = gzip.open if source.suffix == ".gz" else open

    def copy_checked(temp: Path) -> None:
        with opener(source, "rb") as reader, open(temp, "wb") as writer:
            shutil.copyfileobj(reader, writer)
        if file_sha256(temp) != FASHION_MNIST_SHA256[target.name]:
            raise data_error(source, "does not hold the original data (SHA-256 mismatch)")

    try:
        write_atomically(target, copy_checked)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise data_error(source, f"cannot be read ({error})") from None


def download_raw_files(root: Path) -> None:
    """Let torchvision download and extract the four files under `root`."""
    from torchvision.datasets import FashionMNIST  # imported where used: it takes seconds

    try:
        for train in (True, False):
            FashionMNIST(str(root), train=train, download=True)
    except Exception as error:  # noqa: BLE001 (no network, a mirror down, a bad checksum: one message)
        missing = Path(root) / "FashionMNIST" / "raw"
        raise data_error(missing, f"is missing and the download failed ({error})") from None


def ensure_raw_files(root: Path) -> Path:
    """Return torchvision's raw folder under `root`, filled with the four verified files."""
    raw = Path(root) / "FashionMNIST" / "raw"
    missing = [name for name in FASHION_MNIST_SHA256 if not (raw / name).is_file()]
    for name in list(missing):
        source = find_source_file(name)
        if source is not None:
            install_raw_file(source, raw / name)
            missing.remove(name)
    if missing:
        download_raw_files(Path(root))
    for name, expected in FASHION_MNIST_SHA256.items():
        if not (raw / name).is_file():
            raise data_error(raw / name, "is missing")
        if file_sha256(raw / name) != expected:
            raise data_error(raw / name, "is truncated or corrupted (SHA-256 mismatch)")
    return raw


def check_split(images: torch.Tensor, labels: torch.Tensor, size: int, path: Path) -> None:
    """Raise DataError unless a split has `size` 28x28 images and size/10 per class."""
    counts = torch.bincount(labels, minlength=NUM_CLASSES).tolist()
    if tuple(images.shape) != (size, 28, 28) or counts != [size // NUM_CLASSES] * NUM_CLASSES:
        raise data_error(path, f"has shape {tuple(images.shape)} and class counts {counts}")


def one_per_class(labels: torch.Tensor) -> torch.Tensor:
    """Return the index of the first image of each class, in class order."""
    return torch.stack([torch.nonzero(labels == c)[0, 0] for c in range(NUM_CLASSES)])


def scale_images(images: torch.Tensor) -> torch.Tensor:
    """Return uint8 images [N, 28, 28] as float32 [N, 784] scaled from [0, 255] to [-1, 1]."""
    return images.reshape(len(images), IMAGE_SIZE).float().div_(127.5).sub_(1.0)


def load_fashion_mnist(root: str | Path = "data") -> FashionMNISTData:
    """Return Fashion-MNIST (train, test, class names), fetching it offline first."""
    from torchvision.datasets import FashionMNIST

    raw = ensure_raw_files(Path(root))
    splits = []
    for train, size in ((True, 60_000), (False, 10_000)):
        dataset = FashionMNIST(str(root), train=train, download=False)
        check_split(dataset.data, dataset.targets, size, raw)
        splits += [scale_images(dataset.data), dataset.targets.long()]
    return FashionMNISTData(*splits, classes=list(dataset.classes))


# ---------------------------------------------------------------------------- model

ENCODER_SIZES = (IMAGE_SIZE, 128, 64, 32, 16, 8)
DECODER_SIZES = (8, 8, 32, 64, 128, IMAGE_SIZE)
CODE_SIZE = ENCODER_SIZES[-1]
DEVICE_VARIABLE = "EXERCISE9_DEVICE"  # cpu, cuda or mps: overrides get_device's choice
RELU_BIAS = 0.01  # a small positive bias keeps the narrow ReLU layers alive at the start


def check_images(x: torch.Tensor, what: str) -> None:
    """Raise a clear error unless `x` is a float32 tensor of flattened images [N, 784]."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{what} must be a torch.Tensor, got {type(x).__name__}")
    if x.dtype != torch.float32:
        raise TypeError(f"{what} must be float32, got {x.dtype}: use x.float()")
    if x.ndim != 2 or x.shape[1] != IMAGE_SIZE:
        raise ValueError(
            f"{what} must have shape [N, {IMAGE_SIZE}], got {list(x.shape)}: "
            f"flatten the images with x.reshape(len(x), {IMAGE_SIZE})"
        )


def mlp(sizes: tuple[int, ...], last_activation: nn.Module) -> nn.Sequential:
    """Return Linear layers of the given sizes, ReLU after each but the last activation."""
    layers: list[nn.Module] = []
    for index, (size_in, size_out) in enumerate(zip(sizes, sizes[1:])):
        is_last = index == len(sizes) - 2
        layers += [nn.Linear(size_in, size_out), last_activation if is_last else nn.ReLU()]
    return nn.Sequential(*layers)


class Autoencoder(nn.Module):
    """The sheet's autoencoder: encoder 784-128-64-32-16-8, decoder 8-8-32-64-128-784, Tanh out.

    linear_code=True drops the ReLU after the encoder's last layer (an ablation, not the
    sheet's model): the 8 code units are then linear and cannot die.
    """

    def __init__(self, seed: int | None = None, linear_code: bool = False) -> None:
        super().__init__()
        self.encoder = mlp(ENCODER_SIZES, nn.Identity() if linear_code else nn.ReLU())
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
        check_images(x, "Autoencoder input")
        return self.decoder(self.encoder(x))


def count_parameters(model: nn.Module) -> int:
    """Return the number of trainable parameters of a model."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def save_model(model: Autoencoder, path: str | Path) -> Path:
    """Save the model's weights (its state_dict, on the CPU) atomically; return the path."""
    weights = {name: tensor.detach().cpu() for name, tensor in model.state_dict().items()}
    return write_atomically(path, lambda temp: torch.save(weights, temp))


def load_model(path: str | Path, linear_code: bool = False) -> Autoencoder:
    """Return an Autoencoder with the weights saved at `path` by save_model, on the CPU."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path} is missing: it is written by exercise9.ipynb "
                                f"(make report), or restore it with git")
    model = Autoencoder(linear_code=linear_code)
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.eval()


def get_device() -> torch.device:
    """Return the device to train on: $EXERCISE9_DEVICE if set (the tests set "cpu"), else
    CUDA, then Apple MPS, then the CPU."""
    wanted = os.environ.get(DEVICE_VARIABLE, "").strip().lower()
    if wanted:
        available = {"cpu": True, "cuda": torch.cuda.is_available(),
                     "mps": torch.backends.mps.is_available()}
        if not available.get(wanted):
            raise ValueError(f"{DEVICE_VARIABLE}={wanted!r} is not a device this machine has: "
                             f"set it to one of {[name for name, ok in available.items() if ok]}"
                             f" or unset it to choose automatically")
        return torch.device(wanted)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


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


def check_codes(codes: torch.Tensor) -> None:
    """Raise a clear error unless `codes` is a float32 tensor of codes [N, 8]."""
    if not isinstance(codes, torch.Tensor) or codes.dtype != torch.float32:
        got = codes.dtype if isinstance(codes, torch.Tensor) else type(codes).__name__
        raise TypeError(f"codes must be a float32 torch.Tensor, got {got}")
    if codes.ndim != 2 or codes.shape[1] != CODE_SIZE:
        raise ValueError(f"codes must have shape [N, {CODE_SIZE}], got {list(codes.shape)}")


def check_finite(x: torch.Tensor, what: str) -> None:
    """Raise a clear ValueError if `x` holds NaN or infinite values."""
    bad = int((~torch.isfinite(x)).sum())
    if bad:
        raise ValueError(f"{what} holds {bad} NaN or infinite values of {x.numel()}: "
                         "check how the images were made (a division by zero?)")


def encode(model: Autoencoder, x: torch.Tensor) -> torch.Tensor:
    """Return the codes f(x), shape [N, 8], on the device of x, without gradients."""
    check_images(x, "encode input")
    check_finite(x, "encode input")
    with evaluating(model):
        return model.encoder(x.to(model_device(model))).to(x.device)


def decode(model: Autoencoder, codes: torch.Tensor) -> torch.Tensor:
    """Return the images g(z) [N, 784] of codes z [N, 8], on the device of z, no gradients."""
    check_codes(codes)
    with evaluating(model):
        return model.decoder(codes.to(model_device(model))).to(codes.device)


def reconstruct(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Return the reconstructions g(f(x)), shape [N, 784], on the device of x, no gradients."""
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
    if not math.isfinite(std) or std < 0:
        raise ValueError(f"noise std must be a finite number >= 0, got {std}")
    noise = torch.empty_like(x).normal_(0.0, std, generator=generator)  # = std * N(0, 1)
    return noise.add_(x)  # in place, no second buffer: the numbers of x + std * randn(...)


def fixed_test_noise(test_x: torch.Tensor, noise_std: float, seed: int) -> torch.Tensor:
    """Return the test inputs of train_autoencoder: test_x plus the noise draw of `seed`,
    drawn on the CPU and then moved, so that every device gets the same noisy images."""
    if not noise_std:
        return test_x
    generator = torch.Generator().manual_seed(seed + 1)
    return add_white_noise(test_x.cpu(), noise_std, generator).to(test_x.device)



# ---------------------------------------------------------------------------- training

COLLAPSE_CHECK_EPOCHS = 5  # the first epochs, after which a dead model is restarted
MIN_LIVE_UNITS = 3  # collapsed: fewer code units fire on some test image, or
CONSTANT_OUTPUT_RATIO = 0.01  # the outputs vary less than this fraction of the inputs
MAX_RESTARTS = 5


@dataclass
class TrainingHistory:
    """Per-epoch mean training loss, test loss by epoch, live code units and restarts."""

    noise_std: float = 0.0
    train_loss: list[float] = field(default_factory=list)
    test_loss: dict[int, float] = field(default_factory=dict)
    epoch_seconds: list[float] = field(default_factory=list)
    live_code_units: int = 0
    restarts: list[str] = field(default_factory=list)

    @property
    def last_test_loss(self) -> float:
        """Return the latest test loss, or NaN before the first test."""
        return list(self.test_loss.values())[-1] if self.test_loss else math.nan

    def to_dict(self) -> dict:
        """Return the history as JSON-ready data (test-loss keys as strings)."""
        return {
            "train_loss": self.train_loss,
            "test_loss": {str(epoch): loss for epoch, loss in self.test_loss.items()},
            "live_code_units": self.live_code_units,
            "restarts": self.restarts,
            "noise_std": self.noise_std,
        }


def check_training_args(data: FashionMNISTData, **numbers: float) -> None:
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


def make_optimizer(
    model: nn.Module | list[torch.Tensor], lr: float, weight_decay: float
) -> torch.optim.Adam:
    """Return Adam with an L2 penalty for a model's (or a list of) parameters; fused kernels
    where this PyTorch has them."""
    parameters = list(model.parameters()) if isinstance(model, nn.Module) else model
    fused = parameters[0].device.type in ("cpu", "cuda")
    return torch.optim.Adam(parameters, lr=lr, weight_decay=weight_decay, fused=fused)


def subnormals_are_slow() -> bool:
    """Return whether this CPU computes with subnormal floats far more slowly than with
    normal ones: x86 does (microcode assists); ARM, Apple silicon included, does not."""
    return platform.machine().lower() in {"x86_64", "amd64", "i386", "i686", "x86"}


def flush_denormals() -> bool:
    """Flush subnormal floats to zero; return whether all of PyTorch's CPU threads do so.

    The setting is per thread and copied by threads when they start, so it reaches PyTorch's
    worker threads only if it is made before their first parallel operation: importing this
    module makes it (see the end of the file).
    """
    if not torch.set_flush_denormal(True):
        return True  # this CPU has no such mode; nothing more can be done
    smallest_subnormal = torch.ones(1 << 20, dtype=torch.int32).view(torch.float32)
    return not (smallest_subnormal * 1.0).view(torch.int32).any().item()


def train_step(
    model: nn.Module, optimizer: torch.optim.Optimizer, inputs: torch.Tensor, target: torch.Tensor
) -> torch.Tensor:
    """Take one optimiser step on the batch's MSE; return the loss (detached)."""
    loss = F.mse_loss(model(inputs), target)
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


def collapse_reason(model: Autoencoder, test_input: torch.Tensor) -> str:
    """Return why the model has collapsed (dead code, constant output), or '' if it has not."""
    live = count_live_units(model, test_input)
    if live < MIN_LIVE_UNITS:
        return f"only {live} of {CODE_SIZE} code units fire on the test set"
    spread = reconstruct(model, test_input).var(0).mean().item()
    if spread < CONSTANT_OUTPUT_RATIO * test_input.var(0).mean().item():
        return "the output is (almost) the same image for every input"
    return ""


def tested_epochs(epochs: int, test_every: int) -> list[int]:
    """Return the epochs after which training tests: every test_every-th, and the last."""
    return [epoch for epoch in range(1, epochs + 1)
            if epoch % test_every == 0 or epoch == epochs]


def restart_seed(seed: int, restarts: int) -> int:
    """Return the initialisation seed of a collapsed model's next try: 1000 * (k + 1) + seed."""
    return 1000 * (restarts + 1) + seed


def restart_note(reason: str, new_seed: int) -> str:
    """Return the line that history.restarts keeps for one restart."""
    return f"{reason}; restarted with seed {new_seed}"


class Collapsed(Exception):
    """Training stopped early because the model collapsed; the message says how."""


def fit(
    model: Autoencoder, data: FashionMNISTData, optimizer: torch.optim.Optimizer, *,
    epochs: int, batch_size: int, noise_std: float, seed: int, test_every: int,
    on_test: Callable[[int, nn.Module], None] | None, progress: bool, check_collapse: bool,
) -> TrainingHistory:
    """Run the epoch loop of train_autoencoder; return its history or raise Collapsed."""
    device = model_device(model)
    train_x, test_x = data.train_x.to(device), data.test_x.to(device)
    generator = torch.Generator(device=device).manual_seed(seed)
    test_input = fixed_test_noise(test_x, noise_std, seed)
    history = TrainingHistory(noise_std=noise_std)
    tests = tested_epochs(epochs, test_every)
    name = "denoising autoencoder" if noise_std else "autoencoder"
    with tqdm(range(1, epochs + 1), desc=name, unit="epoch", disable=not progress) as bar:
        for epoch in bar:
            start = time.perf_counter()
            loss = train_epoch(model, optimizer, train_x, batch_size, noise_std, generator)
            history.train_loss.append(loss)
            history.epoch_seconds.append(time.perf_counter() - start)
            if check_collapse and epoch <= COLLAPSE_CHECK_EPOCHS:
                if reason := collapse_reason(model, test_input):
                    raise Collapsed(f"epoch {epoch}: {reason}")
            if epoch in tests:
                history.test_loss[epoch] = reconstruction_loss(model, test_input, test_x)
                if on_test is not None:
                    on_test(epoch, model)
            bar.set_postfix(train_loss=f"{loss:.4f}", test_loss=f"{history.last_test_loss:.4f}")
    history.live_code_units = count_live_units(model, test_input)
    return history


def train_autoencoder(
    model: Autoencoder,
    data: FashionMNISTData,
    *,
    epochs: int = 50,
    batch_size: int = 128,
    lr: float = 1e-3,
    weight_decay: float = 1e-5,
    noise_std: float = 0.0,
    seed: int = 0,
    test_every: int = 10,
    on_test: Callable[[int, nn.Module], None] | None = None,
    progress: bool = True,
    restart_on_collapse: bool = True,
) -> TrainingHistory:
    """Train with Adam and MSE; return the history. noise_std > 0 trains a denoising model.

    The sheet's "momentum of 1e-5" is Adam's weight_decay (Adam has no momentum argument; its
    betas stay 0.9 and 0.999). A denoising model sees noisy inputs and is scored against the
    clean images, its test loss on one fixed noise draw. A model that collapses in its first
    5 epochs (fewer than 3 live code units, or one output for every input) restarts from seed
    restart_seed(seed, k), unless restart_on_collapse is False; history.restarts says why.
    """
    check_training_args(data, epochs=epochs, batch_size=batch_size, test_every=test_every,
                        lr=lr, weight_decay=weight_decay, noise_std=noise_std)
    if not flush_denormals() and subnormals_are_slow():
        warnings.warn("Some of PyTorch's CPU threads do not flush subnormal floats to zero "
                      "(they started before helpers was imported): late epochs can get several "
                      "times slower on this CPU. Import helpers before any other PyTorch work: "
                      "restart the kernel and run the notebook from the top.", stacklevel=2)
    restarts: list[str] = []
    while True:
        optimizer = make_optimizer(model, lr, weight_decay)
        check = restart_on_collapse and len(restarts) < MAX_RESTARTS
        try:
            history = fit(model, data, optimizer, epochs=epochs, batch_size=batch_size,
                          noise_std=noise_std, seed=seed, test_every=test_every,
                          on_test=on_test, progress=progress, check_collapse=check)
        except Collapsed as collapse:
            new_seed = restart_seed(seed, len(restarts))
            restarts.append(restart_note(str(collapse), new_seed))
            print(f"Collapse at {restarts[-1]}")
            model.reset_parameters(new_seed)
            continue
        history.restarts = restarts
        return history


class Recorder:
    """An on_test callback: the reconstructions of fixed test images at every test."""

    def __init__(self, images: torch.Tensor, inputs: torch.Tensor | None = None) -> None:
        self.images, self.inputs = images, images if inputs is None else inputs
        self.outputs: dict[int, torch.Tensor] = {}

    def __call__(self, epoch: int, model: nn.Module) -> None:
        """Record the model's reconstructions of the inputs after `epoch`."""
        self.outputs[epoch] = reconstruct(model, self.inputs)


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
    def updates_per_second(self) -> float:
        """Return the parameter updates per second of measured training time."""
        return self.updates[-1] / self.seconds[-1]

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
        return {"batch_size": self.batch_size, "lr": self.lr, "updates": self.updates[-1],
                "examples": self.examples[-1], "final_loss": self.final_loss,
                "seconds": self.seconds[-1], "updates_per_second": self.updates_per_second,
                "examples_per_second": self.examples_per_second}


def evaluation_points(updates: int, count: int) -> set[int]:
    """Return about `count` update numbers from 1 to `updates`, evenly spaced on a log scale."""
    return set(np.unique(np.geomspace(1, updates, count).round().astype(int)).tolist())


def shuffled_batches(size: int, batch_size: int, generator: torch.Generator,
                     device: torch.device) -> Iterator[torch.Tensor]:
    """Yield the index batches of one random permutation after another, without end."""
    while True:
        yield from torch.randperm(size, generator=generator, device=device).split(batch_size)


def synchronize(device: torch.device) -> None:
    """Wait until the queued GPU work is done, so that a clock measures it (no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def train_for_updates(
    model: nn.Module, train_x: torch.Tensor, eval_x: torch.Tensor, *, batch_size: int,
    lr: float, updates: int, seed: int = 0, evaluations: int = 25,
    evaluate_at: tuple[int, ...] = (),
) -> SGDRun:
    """Train with plain SGD (no momentum, no decay) for a fixed number of updates.

    The MSE of eval_x is measured at the start, after about `evaluations` update counts
    (log-spaced, the last one included) and after each count in `evaluate_at`; the clock runs
    only during the updates. batch_size=1 is stochastic, len(train_x) is batch gradient
    descent. A diverging run stops early.
    """
    check_images(train_x, "train_x")
    if isinstance(updates, bool) or not isinstance(updates, int) or updates <= 0 or not (
            0 < batch_size <= len(train_x) and lr > 0):
        raise ValueError(f"need an integer updates > 0, 0 < batch_size <= {len(train_x)} and "
                         f"lr > 0, got {updates!r}, {batch_size} and {lr}")
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
        synchronize(device)
        elapsed += time.perf_counter() - start
        done, examples = done + 1, examples + len(batch)
        if done in checkpoints:
            run.record(done, examples, elapsed, reconstruction_loss(model, eval_x, eval_x))
            if done == updates or not math.isfinite(run.loss[-1]):
                return run
    raise AssertionError("unreachable: shuffled_batches never ends")


def sweep_learning_rates(
    model: nn.Module, train_x: torch.Tensor, eval_x: torch.Tensor, *, batch_size: int,
    lrs: list[float], updates: int, seed: int = 0, evaluate_at: tuple[int, ...] = (),
) -> dict[float, SGDRun]:
    """Return one train_for_updates run per learning rate, each from a copy of `model`."""
    return {lr: train_for_updates(copy.deepcopy(model), train_x, eval_x, batch_size=batch_size,
                                  lr=lr, updates=updates, seed=seed, evaluate_at=evaluate_at)
            for lr in lrs}


# ---------------------------------------------------------------------------- evaluation


def mean_image_loss(x: torch.Tensor) -> float:
    """Return the MSE of predicting the mean image for every image (the collapse level)."""
    return F.mse_loss(x.mean(0, keepdim=True).expand_as(x), x).item()


def unit_activity(codes: np.ndarray) -> np.ndarray:
    """Return, per code unit (column), the share of codes in which it is non-zero."""
    return (np.asarray(codes) != 0).mean(0)


def fit_pca(train_x: torch.Tensor, n_components: int = CODE_SIZE) -> PCA:
    """Return a PCA with n_components fitted on the training images: the best linear code."""
    return PCA(n_components=n_components, random_state=0).fit(train_x.numpy())


def pca_reconstruction_loss(pca: PCA, inputs: torch.Tensor, targets: torch.Tensor) -> float:
    """Return the MSE between the PCA reconstructions of `inputs` and `targets`."""
    restored = pca.inverse_transform(pca.transform(inputs.numpy()))
    return float(np.mean((restored - targets.numpy()) ** 2))


def knn_predict(train_codes: np.ndarray, train_labels: np.ndarray, test_codes: np.ndarray,
                k: int = 5) -> np.ndarray:
    """Return the labels that k-nearest-neighbour voting among the training codes predicts."""
    return KNeighborsClassifier(n_neighbors=k).fit(train_codes, train_labels).predict(test_codes)


def linear_probe_accuracy(train_codes: np.ndarray, train_labels: np.ndarray,
                          test_codes: np.ndarray, test_labels: np.ndarray) -> float:
    """Return the test accuracy of logistic regression on standardised codes (a linear probe)."""
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    return float(probe.fit(train_codes, train_labels).score(test_codes, test_labels))


def code_quality(train_codes: np.ndarray, train_labels: np.ndarray, test_codes: np.ndarray,
                 test_labels: np.ndarray, subset: np.ndarray, embedding: np.ndarray
                 ) -> dict[str, float]:
    """Return how well codes separate classes: k-NN and linear-probe accuracy on the test set,
    and, for the embedded test codes `subset`, their silhouette in code space and in the t-SNE
    plane and the embedding's trustworthiness (5 neighbours)."""
    embedded, labels = test_codes[subset], test_labels[subset]
    predicted = knn_predict(train_codes, train_labels, test_codes)
    return {
        "knn_accuracy": float(accuracy_score(test_labels, predicted)),
        "linear_probe_accuracy": linear_probe_accuracy(train_codes, train_labels, test_codes,
                                                       test_labels),
        "code_silhouette": float(silhouette_score(embedded, labels)),
        "tsne_silhouette": float(silhouette_score(embedding, labels)),
        "trustworthiness": float(trustworthiness(embedded, embedding, n_neighbors=5)),
    }


def per_class_recall(labels: np.ndarray, predicted: np.ndarray,
                     classes: list[str]) -> dict[str, float]:
    """Return, per class, the share of its images whose predicted label is right."""
    recall = recall_score(labels, predicted, average=None, labels=range(len(classes)))
    return {name: float(value) for name, value in zip(classes, recall)}


CLASS_GROUPS = {  # coarse kinds of garment, for "which classes overlap"
    "tops": ["T-shirt/top", "Pullover", "Dress", "Coat", "Shirt"],
    "trousers": ["Trouser"],
    "footwear": ["Sandal", "Sneaker", "Ankle boot"],
    "bags": ["Bag"],
}


def group_recall(labels: np.ndarray, predicted: np.ndarray, classes: list[str]) -> dict[str, float]:
    """Return, per CLASS_GROUPS group, the share of its images predicted inside the group."""
    group_of = np.array([next(group for group, names in CLASS_GROUPS.items() if name in names)
                         for name in classes])
    return {group: float(np.mean(group_of[predicted[group_of[labels] == group]] == group))
            for group in CLASS_GROUPS}


def psnr(output: torch.Tensor, target: torch.Tensor, data_range: float = 2.0) -> float:
    """Return the peak signal-to-noise ratio in dB, 10 log10(range^2 / MSE) over all pixels.

    data_range is the span of the pixel scale (2 for [-1, 1]); identical images give inf.
    """
    mse = F.mse_loss(output, target).item()
    return math.inf if mse == 0 else 10 * math.log10(data_range**2 / mse)


def psnr_by_noise(models: dict[str, nn.Module], clean: torch.Tensor, noise_stds: list[float],
                  seed: int) -> dict[str, list[float]]:
    """Return, per noise std, the PSNR (dB) against `clean` of the noisy input ("noisy input")
    and of each model's reconstruction of it; one noise draw per level, the same for all."""
    curves: dict[str, list[float]] = {"noisy input": [], **{name: [] for name in models}}
    for std in noise_stds:
        noisy = add_white_noise(clean, std, torch.Generator(clean.device).manual_seed(seed))
        curves["noisy input"].append(psnr(noisy, clean))
        for name, model in models.items():
            curves[name].append(psnr(reconstruct(model, noisy), clean))
    return curves


def code_stability(model: Autoencoder, x: torch.Tensor, noise_std: float, seed: int) -> float:
    """Return the share of the code's variance that input noise leaves intact,
    1 - E||f(x + noise) - f(x)||^2 / E||f(x) - mean f(x)||^2 over the live code units
    (noise: the draw of psnr_by_noise for `seed`); NaN if no unit is live."""
    clean = encode(model, x)
    noisy = encode(model, add_white_noise(x, noise_std,
                                          torch.Generator(x.device).manual_seed(seed)))
    live = (clean != 0).any(0)
    if not live.any():
        return math.nan
    moved = (noisy - clean)[:, live].pow(2).sum(1).mean()
    spread = (clean[:, live] - clean[:, live].mean(0)).pow(2).sum(1).mean()
    return 1.0 - (moved / spread).item()


def linear_cka(first: np.ndarray, second: np.ndarray) -> float:
    """Return the linear CKA of two codes of the same images (Kornblith et al., 2019):
    ||A^T B||_F^2 / (||A^T A||_F ||B^T B||_F) of the centred codes, 1 for codes that differ
    by a rotation or a scaling."""
    a = np.asarray(first, dtype=np.float64) - np.mean(first, 0)
    b = np.asarray(second, dtype=np.float64) - np.mean(second, 0)
    return float(np.linalg.norm(a.T @ b) ** 2 / (np.linalg.norm(a.T @ a) * np.linalg.norm(b.T @ b)))


def nearest_neighbours(codes: np.ndarray, k: int = 10) -> np.ndarray:
    """Return, for each code, the indices [N, k] of its k nearest other codes (Euclidean)."""
    return NearestNeighbors(n_neighbors=k).fit(codes).kneighbors(return_distance=False)


def neighbour_overlap(first: np.ndarray, second: np.ndarray) -> float:
    """Return the mean share of each point's neighbours (rows of nearest_neighbours) in one
    code that are also among its neighbours in the other."""
    shared = (first[:, :, None] == second[:, None, :]).any(2).sum(1)
    return float(shared.mean() / first.shape[1])


# ---------------------------------------------------------------------------- embedding


def sample_indices(total: int, count: int, seed: int) -> torch.Tensor:
    """Return `count` distinct indices below `total`, drawn at random from `seed`, sorted."""
    if not 0 < count <= total:
        raise ValueError(f"count must be between 1 and {total}, got {count}")
    return torch.randperm(total, generator=torch.Generator().manual_seed(seed))[:count].sort().values


def tsne_embed(codes: np.ndarray, seed: int, perplexity: float = 30.0) -> np.ndarray:
    """Return a 2-D t-SNE embedding of the codes (PCA initialisation, fixed random_state)."""
    tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed)
    return tsne.fit_transform(np.asarray(codes, dtype=np.float64))


def plane_neighbour_votes(points: np.ndarray, labels: np.ndarray, k: int = 5) -> np.ndarray:
    """Return, for each point of a 2-D map, the majority label of its k nearest other points
    (ties go to the lower label): which classes the map itself keeps apart or mixes."""
    neighbours = NearestNeighbors(n_neighbors=k + 1).fit(points).kneighbors(points)[1][:, 1:]
    votes = np.apply_along_axis(np.bincount, 1, labels[neighbours], minlength=labels.max() + 1)
    return votes.argmax(1)


# ---------------------------------------------------------------------------- one record per model


@dataclass
class ModelRecord:
    """One trained model of the report and what is measured on it: its history and recorded
    reconstructions, test MSE on clean and noisy inputs, codes, t-SNE map and code quality."""

    model: Autoencoder
    history: TrainingHistory
    recorder: Recorder
    mse_clean: float = math.nan
    mse_noisy: float = math.nan
    train_codes: np.ndarray | None = None
    test_codes: np.ndarray | None = None
    tsne: np.ndarray | None = None
    votes: np.ndarray | None = None
    quality: dict[str, float] = field(default_factory=dict)


def measure_errors(record: ModelRecord, test_x: torch.Tensor, noisy_test_x: torch.Tensor) -> None:
    """Set the record's test MSE against the clean images, on clean and on noisy inputs."""
    record.mse_clean = reconstruction_loss(record.model, test_x, test_x)
    record.mse_noisy = reconstruction_loss(record.model, noisy_test_x, test_x)


def measure_codes(record: ModelRecord, data: FashionMNISTData, subset: np.ndarray,
                  seed: int) -> None:
    """Set the record's codes, the t-SNE map of the test codes `subset`, each mapped point's
    5-neighbour vote and the code quality."""
    record.train_codes = encode(record.model, data.train_x).numpy()
    record.test_codes = encode(record.model, data.test_x).numpy()
    record.tsne = tsne_embed(record.test_codes[subset], seed)
    labels = data.test_y.numpy()
    record.votes = plane_neighbour_votes(record.tsne, labels[subset])
    record.quality = code_quality(record.train_codes, data.train_y.numpy(), record.test_codes,
                                  labels, subset, record.tsne)


# Made at import, before PyTorch starts its CPU worker threads, which copy it (flush_denormals).
torch.set_flush_denormal(True)
