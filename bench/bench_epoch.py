"""Benchmark (`make bench`): speed ratios of helpers.train_epoch, measured in one run. The
baseline (torchvision's dataset with ToTensor and Normalize, a shuffling DataLoader of batch 128,
Adam, the same model), the plain and the denoising model take turns epoch by epoch, so a change
in the machine's speed hits them alike. The compute floor is 6 FLOP per parameter and image at
this machine's best float32 matmul speed.
"""

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


def baseline_epoch(root: str) -> Callable[[], None]:
    """Return a function that trains one epoch of the loop found in most autoencoder examples."""
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    dataset = datasets.FashionMNIST(root, train=True, download=False, transform=transform)
    loader = DataLoader(dataset, batch_size=128, shuffle=True)
    model = helpers.Autoencoder(seed=0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-5)

    def epoch() -> None:
        for images, _ in loader:
            images = images.view(images.size(0), -1)
            loss = F.mse_loss(model(images), images)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    return epoch


def project_epoch(data: helpers.FashionMNISTData, noise_std: float) -> Callable[[], float]:
    """Return a function that trains its own model one epoch with helpers.train_epoch."""
    model = helpers.Autoencoder(seed=0)
    optimizer = helpers.make_optimizer(model, 1e-3, 1e-5)
    generator = torch.Generator().manual_seed(0)
    return partial(helpers.train_epoch, model, optimizer, data.train_x, 128, noise_std, generator)


def take_turns(runners: dict[str, tuple[Callable, int]]) -> dict[str, list[float]]:
    """Return the seconds of each runner's epochs, the runners taking turns epoch by epoch."""
    seconds: dict[str, list[float]] = {name: [] for name in runners}
    for round_ in range(max(epochs for _, epochs in runners.values())):
        for name, (run, epochs) in runners.items():
            if round_ < epochs:
                start = time.perf_counter()
                run()
                seconds[name].append(time.perf_counter() - start)
    return seconds


def matmul_gflops(size: int = 1024, repeats: int = 50) -> float:
    """Return this machine's float32 matmul speed in GFLOP/s."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        a @ b
    return 2 * size**3 * repeats / (time.perf_counter() - start) / 1e9


def verdict(ratio: float, target: str) -> str:
    """Return the ratio with whether it meets its target."""
    met = "met" if ratio <= TARGETS[target] else "MISSED"
    return f"{ratio:.2f}x (target <= {TARGETS[target]}x: {met})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=25, help="of each project model")
    parser.add_argument("--baseline-epochs", type=int, default=2)
    args = parser.parse_args()
    start = time.perf_counter()
    data = helpers.load_fashion_mnist("data")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, on the CPU")
    gflops = matmul_gflops()
    runners = {
        "baseline (DataLoader)": (baseline_epoch("data"), args.baseline_epochs),
        "autoencoder": (project_epoch(data, 0.0), args.epochs),
        "denoising autoencoder": (project_epoch(data, 0.5), args.epochs),
    }
    medians = {name: statistics.median(times) for name, times in take_turns(runners).items()}
    gflops = max(gflops, matmul_gflops())  # the best of two, before and after
    for name, median in medians.items():
        print(f"{name:<24}{median:8.3f} s per epoch (median of {runners[name][1]})")
    baseline, plain, denoising = medians.values()
    floor = 6 * helpers.count_parameters(helpers.Autoencoder()) * len(data.train_x) / gflops / 1e9
    print(f"speed-up over the baseline: {baseline / plain:.1f}x")
    print(f"noise: denoising epoch / plain epoch: {verdict(denoising / plain, 'noise')}")
    print(f"floor: plain epoch / compute floor ({floor:.3f} s): {verdict(plain / floor, 'floor')}")
    print(f"bench total: {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
