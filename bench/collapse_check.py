"""Collapse check: seeds 0-19, plain and denoising (noise std 0.5) model, 5 epochs each.

Passes when every run ends with a test MSE below 0.8 x the predict-the-mean MSE and at least
3 of the 8 code units firing on some test image. --no-restart turns off train_autoencoder's
restart after a collapse, to show how often it is needed. Exit status 1 if any run fails.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import helpers  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--no-restart", action="store_true")
    args = parser.parse_args()

    data = helpers.load_fashion_mnist("data")
    limit = 0.8 * helpers.mean_image_loss(data.test_x)
    print(f"pass: test MSE < {limit:.4f} (0.8 x predict-the-mean) and >= 3 live code units")
    print(f"{'model':<12}{'seed':>5}{'test MSE':>10}{'live':>6}{'restarts':>10}  result")
    failures = 0
    for name, noise_std in (("plain", 0.0), ("denoising", 0.5)):
        for seed in range(args.seeds):
            history = helpers.train_autoencoder(
                helpers.Autoencoder(seed=seed), data, epochs=args.epochs, noise_std=noise_std,
                seed=seed, progress=False, restart_on_collapse=not args.no_restart)
            ok = history.last_test_loss < limit and history.live_code_units >= 3
            failures += not ok
            print(f"{name:<12}{seed:>5}{history.last_test_loss:>10.4f}{history.live_code_units:>6}"
                  f"{len(history.restarts):>10}  {'ok' if ok else 'COLLAPSED'}", flush=True)
    print(f"{2 * args.seeds - failures} of {2 * args.seeds} runs pass")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
