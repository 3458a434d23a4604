"""Benchmark: seconds per epoch of helpers.train_autoencoder against a tutorial-style baseline.

Measured in one run on one machine (run it with `make bench`):
  * baseline: torchvision dataset with ToTensor + Normalize, a shuffling DataLoader of batch
    size 128, plain Adam, the same model; the median of --baseline-epochs epochs;
  * project: 50 epochs of the plain and of the denoising model with train_autoencoder;
    median seconds per epoch, epoch 5 against epoch 50 (denormals), total time;
  * the compute floor: 6 x parameters x 60,000 images FLOP at this machine's matmul speed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import helpers  # noqa: E402


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--baseline-epochs", type=int, default=3)
    parser.add_argument("--root", default="data")
    args = parser.parse_args()

    data = helpers.load_fashion_mnist(args.root)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device cpu")
    baseline = baseline_epoch_seconds(args.root, args.baseline_epochs)
    runs, totals = {}, {}
    for name, noise_std in (("autoencoder", 0.0), ("denoising", 0.5)):
        start = time.perf_counter()
        history = helpers.train_autoencoder(helpers.Autoencoder(seed=0), data, epochs=args.epochs,
                                            noise_std=noise_std, progress=False)
        totals[name], runs[name] = time.perf_counter() - start, history.epoch_seconds
    floor = 6 * helpers.count_parameters(helpers.Autoencoder()) * len(data.train_x) / 1e9
    gflops = matmul_gflops()

    base_median = statistics.median(baseline)
    print(f"\n{'run':<28}{'median s/epoch':>16}{'epoch 5':>10}{'epoch ' + str(args.epochs):>10}")
    print(f"{'baseline (DataLoader)':<28}{base_median:>16.3f}")
    for name, seconds in runs.items():
        late = seconds[min(args.epochs, len(seconds)) - 1]
        print(f"{name:<28}{statistics.median(seconds):>16.3f}{seconds[4]:>10.3f}{late:>10.3f}")
    project_median = statistics.median(runs["autoencoder"])
    print(f"\nspeed-up over the baseline (median epoch): {base_median / project_median:.1f}x")
    for name, seconds in runs.items():
        early, late = statistics.median(seconds[2:7]), statistics.median(seconds[-5:])
        print(f"{name}: median of epochs 3-7 {early:.3f} s, of the last five {late:.3f} s, "
              f"ratio late/early {late / early:.2f}")
    print(f"both models, {args.epochs} epochs each: {sum(totals.values()):.1f} s "
          f"({totals['autoencoder']:.1f} + {totals['denoising']:.1f})")
    print(f"compute floor: {floor:.1f} GFLOP per epoch at {gflops:.0f} GFLOP/s (matmul) = "
          f"{floor / gflops:.3f} s; the median epoch is {project_median / (floor / gflops):.1f}x that")


if __name__ == "__main__":
    main()
