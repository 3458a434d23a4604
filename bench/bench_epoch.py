"""Benchmark: seconds per epoch of helpers' trainers against a tutorial-style baseline.

Measured in one run on one machine (run it with `make bench`); the trainers take turns, one
epoch each, so that a change in the machine's speed during the run hits them all alike:
  * baseline: torchvision dataset with ToTensor + Normalize, a shuffling DataLoader of batch
    size 128, plain Adam, the same model; the median of --baseline-epochs epochs;
  * project: --epochs epochs of the plain and of the denoising model with helpers.train_epoch,
    the epoch that train_autoencoder times; median seconds per epoch, early epochs against
    late ones (denormals); the denoising model's median epoch as a ratio to the plain one's;
  * the compute floor: 6 x parameters x 60,000 images FLOP at this machine's matmul speed
    (the best of three measurements spread over the run), and each trainer's epoch as a
    ratio to it;
  * the code explorer (explorer.CodeExplorer): milliseconds from a slider's new value to the
    decoded image's new PNG in its widget (Python side, no browser), against 50 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import helpers

TARGETS = {"noise": 1.15, "floor": 2.5}  # at most, as ratios
EXPLORER_TARGET_MS = 50.0


def baseline_epoch_seconds(root: str, epochs: int) -> list[float]:
    """Return seconds per epoch of the tutorial-style loop found in most autoencoder examples."""
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    dataset = datasets.FashionMNIST(root, train=True, download=False, transform=transform)
    loader = DataLoader(dataset, batch_size=128, shuffle=True)
    model = helpers.Autoencoder(seed=0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-5)
    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        for images, _ in loader:
            images = images.view(images.size(0), -1)
            loss = F.mse_loss(model(images), images)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        seconds.append(time.perf_counter() - start)
    return seconds


def matmul_gflops() -> float:
    """Return this machine's float32 matmul speed in GFLOP/s (1024 x 1024 matrices)."""
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    for _ in range(5):
        a @ b
    start, repeats = time.perf_counter(), 50
    for _ in range(repeats):
        a @ b
    return 2 * 1024**3 * repeats / (time.perf_counter() - start) / 1e9


def verdict(ratio: float, target: str) -> str:
    """Return the ratio with whether it meets its target."""
    limit = TARGETS[target]
    return f"{ratio:.2f}x (target <= {limit}x: {'met' if ratio <= limit else 'MISSED'})"


def epoch_runners(data: helpers.FashionMNISTData) -> dict[str, Callable]:
    """Return, by name, functions that each train their own model one more epoch."""
    runners = {}
    for name, noise_std in (("autoencoder", 0.0), ("denoising", 0.5)):
        model = helpers.Autoencoder(seed=0)
        optimizer = helpers.make_optimizer(model, 1e-3, 1e-5)
        generator = torch.Generator().manual_seed(0)
        runners[name] = partial(helpers.train_epoch, model, optimizer, data.train_x, 128,
                                noise_std, generator)
    return runners


def take_turns(runners: dict[str, Callable], epochs: dict[str, int]) -> dict[str, list[float]]:
    """Return seconds per epoch of each runner, the runners taking turns epoch by epoch."""
    seconds: dict[str, list[float]] = {name: [] for name in runners}
    for round_ in range(max(epochs.values())):
        for name, run in runners.items():
            if round_ < epochs[name]:
                start = time.perf_counter()
                run()
                seconds[name].append(time.perf_counter() - start)
    return seconds


def explorer_update_ms(data: helpers.FashionMNISTData, updates: int = 80) -> list[float]:
    """Return the milliseconds of each slider update of the code explorer (two models)."""
    import explorer

    models = {"autoencoder": helpers.Autoencoder(seed=0),
              "denoising autoencoder": helpers.Autoencoder(seed=1)}
    app = explorer.CodeExplorer(models, data)
    live = [slider for slider in app.units if not slider.disabled]
    times = []
    for update in range(updates):
        slider = live[update % len(live)]
        value = slider.min + (slider.max - slider.min) * (update // len(live) % 10) / 9
        begin = time.perf_counter()
        slider.value = value
        times.append(1000 * (time.perf_counter() - begin))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--baseline-epochs", type=int, default=2)
    parser.add_argument("--root", default="data")
    args = parser.parse_args()

    start = time.perf_counter()
    data = helpers.load_fashion_mnist(args.root)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device cpu")
    gflops = [matmul_gflops()]
    baseline = baseline_epoch_seconds(args.root, args.baseline_epochs)
    gflops.append(matmul_gflops())
    runners = epoch_runners(data)
    runs = take_turns(runners, {name: args.epochs for name in runners})
    gflops.append(matmul_gflops())
    floor = 6 * helpers.count_parameters(helpers.Autoencoder()) * len(data.train_x) / 1e9
    floor_seconds = floor / max(gflops)

    base_median = statistics.median(baseline)
    plain, denoising = (statistics.median(runs[name]) for name in ("autoencoder", "denoising"))
    last = f"epoch {args.epochs}"
    print(f"\n{'run':<36}{'median s/epoch':>16}{'epoch 5':>10}{last:>10}")
    print(f"{'baseline (DataLoader)':<36}{base_median:>16.3f}")
    for name in ("autoencoder", "denoising"):
        seconds = runs[name]
        print(f"{name:<36}{statistics.median(seconds):>16.3f}{seconds[4]:>10.3f}"
              f"{seconds[-1]:>10.3f}")

    print(f"\nspeed-up over the baseline (median epoch): {base_median / plain:.1f}x")
    for name in ("autoencoder", "denoising"):
        early, late = statistics.median(runs[name][2:7]), statistics.median(runs[name][-5:])
        print(f"{name}: median of epochs 3-7 {early:.3f} s, of the last five {late:.3f} s, "
              f"ratio late/early {late / early:.2f}")
    print(f"noise: denoising epoch / plain epoch: {verdict(denoising / plain, 'noise')}")
    print(f"compute floor: {floor:.1f} GFLOP per epoch at {max(gflops):.0f} GFLOP/s (matmul; "
          f"measured {', '.join(f'{g:.0f}' for g in gflops)}) = {floor_seconds:.3f} s")
    print(f"floor: plain epoch (train_autoencoder) / floor: "
          f"{verdict(plain / floor_seconds, 'floor')}")
    explorer = explorer_update_ms(data)
    print(f"explorer: {statistics.median(explorer):.1f} ms per slider update (median of "
          f"{len(explorer)}, slowest {max(explorer):.1f} ms; target at most "
          f"{EXPLORER_TARGET_MS:.0f} ms: "
          f"{'met' if statistics.median(explorer) <= EXPLORER_TARGET_MS else 'missed'})")
    print(f"bench total: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
