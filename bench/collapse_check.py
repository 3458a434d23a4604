"""Collapse check: seeds 0-19, plain and denoising (noise std 0.5) model, 5 epochs each.

Passes when every run ends with a test MSE below 0.8 x the predict-the-mean MSE and at least
3 of the 8 code units firing on some test image. --no-restart turns off train_autoencoder's
restart after a collapse, to show how often it is needed. Exit status 1 if any run fails.
The runs share out over the seed study's worker processes (one thread each, one per core).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import helpers
import runtime
from seed_study import training as seed_training
from seed_study.study import run_jobs, worker_pool

MODELS = {"plain": 0.0, "denoising": 0.5}  # name: noise std


def check_run(root: str, noise_std: float, seed: int, epochs: int, restart: bool) -> tuple:
    """Return the last test MSE, live code units and restarts of one short training run."""
    history = helpers.train_autoencoder(
        helpers.Autoencoder(seed=seed), seed_training.load_data(seed_training.DataSpec(root)),
        epochs=epochs, noise_std=noise_std, seed=seed, progress=False,
        restart_on_collapse=restart)
    return history.last_test_loss, history.live_code_units, len(history.restarts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--no-restart", action="store_true")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    root = str(ROOT / "data")
    limit = 0.8 * helpers.mean_image_loss(seed_training.load_data(
        seed_training.DataSpec(root)).test_x)
    runs = [(name, seed) for name in MODELS for seed in range(args.seeds)]
    calls = [(root, MODELS[name], seed, args.epochs, not args.no_restart) for name, seed in runs]
    results = [None] * len(runs)
    with worker_pool(runtime.get_device().type, args.workers) as pool:
        for index, result in run_jobs(pool, check_run, calls):
            results[index] = result
    print(f"pass: test MSE < {limit:.4f} (0.8 x predict-the-mean) and >= 3 live code units")
    print(f"{'model':<12}{'seed':>5}{'test MSE':>10}{'live':>6}{'restarts':>10}  result")
    failures = 0
    for (name, seed), (loss, live, restarts) in zip(runs, results):
        ok = loss < limit and live >= 3
        failures += not ok
        print(f"{name:<12}{seed:>5}{loss:>10.4f}{live:>6}{restarts:>10}  "
              f"{'ok' if ok else 'COLLAPSED'}")
    print(f"{len(runs) - failures} of {len(runs)} runs pass")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
