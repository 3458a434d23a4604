"""Seed study: seeds 0-4 of the plain, the denoising and the linear-code autoencoder.

Trains all seeds of a model together (helpers.train_autoencoder_seeds) with the sheet's
settings, scores every model on the test set and writes seed_study.json (run it with
`make seeds`): per seed and metric the value, per model the mean and sample sd (ddof=1), and
per seed the difference plain minus denoising with its mean, sd and how often plain wins.
The linear-code ablation runs where it fits the time budget (--budget seconds, judged from
the plain model's time); --linear-code always/never overrides that.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import helpers  # noqa: E402
import report  # noqa: E402

SETTINGS = {"epochs": 50, "batch_size": 128, "lr": 1e-3, "weight_decay": 1e-5}
MODELS = {  # key in the file: the model's own settings
    "autoencoder": {"noise_std": 0.0},
    "denoising_autoencoder": {"noise_std": 0.5},
    "linear_code_autoencoder": {"noise_std": 0.0, "linear_code": True},
}
TEST_NOISE_STD = 0.5  # the noisy test inputs: helpers.fixed_test_noise(test_x, 0.5, 0)
PSNR_NOISE_STDS = [0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0]
EMBEDDED_IMAGES = 500  # test images embedded with t-SNE: helpers.sample_indices(10000, 500, 0)
HIGHER_IS_BETTER = {
    "test_mse_clean": False, "test_mse_noisy": False, "live_code_units": True,
    "knn_accuracy": True, "linear_probe_accuracy": True, "code_silhouette": True,
    "silhouette_tsne": True, "trustworthiness": True, "psnr_db": True,
}
NOTES = {
    "test_mse_noisy": f"inputs test_x + one fixed N(0, {TEST_NOISE_STD}^2) draw "
                      f"(helpers.fixed_test_noise(test_x, {TEST_NOISE_STD}, 0)), target the "
                      "clean test_x, the same draw for every seed and model",
    "live_code_units": "code units non-zero for at least one clean test image (of 8)",
    "knn_accuracy": "5-NN on the codes of the 60,000 training images, scored on the 10,000 "
                    "test images",
    "code_silhouette": f"the {EMBEDDED_IMAGES} test images sample_indices(10000, "
                       f"{EMBEDDED_IMAGES}, 0), in code space",
    "silhouette_tsne": "the same images in the t-SNE plane (helpers.tsne_embed(codes, 0))",
    "trustworthiness": "of that t-SNE plane, 5 neighbours",
    "psnr_db": "one value per noise_stds_psnr level; one noise draw per level (seed 0)",
    "difference": "per seed: autoencoder minus denoising_autoencoder; plain_wins counts the "
                  "seeds where the plain model is better: lower for the MSEs, higher for "
                  "every other metric (higher_is_better); for psnr_db per noise level",
}


def score(model: helpers.Autoencoder, data: helpers.FashionMNISTData, noisy_test,
          subset: np.ndarray) -> dict:
    """Return the study's metrics of one trained model (psnr_db is added by the caller)."""
    train_codes = helpers.encode(model, data.train_x).numpy()
    test_codes = helpers.encode(model, data.test_x).numpy()
    embedding = helpers.tsne_embed(test_codes[subset], 0)
    quality = helpers.code_quality(train_codes, data.train_y.numpy(), test_codes,
                                   data.test_y.numpy(), subset, embedding)
    quality["silhouette_tsne"] = quality.pop("tsne_silhouette")
    return {
        "test_mse_clean": helpers.reconstruction_loss(model, data.test_x, data.test_x),
        "test_mse_noisy": helpers.reconstruction_loss(model, noisy_test, data.test_x),
        "live_code_units": helpers.count_live_units(model, data.test_x),
        **quality,
    }


def summary(values: list) -> dict:
    """Return the values with their mean and sample sd (lists of lists: per position)."""
    array = np.asarray(values, dtype=float)
    return {"values": values, "mean": array.mean(0).tolist(), "sd": array.std(0, ddof=1).tolist()}


def difference(plain: list, denoising: list, higher_is_better: bool) -> dict:
    """Return plain minus denoising per seed, its summary and how many seeds plain wins."""
    diff = np.asarray(plain, dtype=float) - np.asarray(denoising, dtype=float)
    wins = (diff > 0) if higher_is_better else (diff < 0)
    return {**summary(diff.tolist()), "plain_wins": wins.sum(0).tolist(),
            "higher_is_better": higher_is_better}


def study_model(data: helpers.FashionMNISTData, seeds: list[int], settings: dict,
                noisy_test, subset: np.ndarray) -> tuple[dict, list[list[str]]]:
    """Train one model per seed, score each; return metric -> summary, and the restarts."""
    trained = helpers.train_autoencoder_seeds(data, seeds, **settings)
    per_seed = [score(model, data, noisy_test, subset) for model, _ in trained]
    curves = helpers.psnr_by_noise({str(seed): model for seed, (model, _) in zip(seeds, trained)},
                                   data.test_x, PSNR_NOISE_STDS, seed=0)
    for seed, scores in zip(seeds, per_seed):
        scores["psnr_db"] = curves[str(seed)]
    metrics = {name: summary([scores[name] for scores in per_seed]) for name in HIGHER_IS_BETTER}
    return metrics, [history.restarts for _, history in trained]


def write_atomically(path: Path, text: str) -> None:
    """Write text to path through a temporary file in the same folder and os.replace."""
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as file:
        file.write(text)
    os.chmod(file.name, 0o644)
    os.replace(file.name, path)


def wanted(args: argparse.Namespace, start: float, finished: dict[str, float]) -> bool:
    """Return whether to run the linear-code ablation; say so when the budget rules it out."""
    if args.linear_code != "auto":
        return args.linear_code == "always"
    expected = time.perf_counter() - start + finished["autoencoder"]  # about one plain model
    if expected > args.budget:
        print(f"linear-code ablation left out: it would end after about {expected:.0f} s, "
              f"over the budget of {args.budget:.0f} s (--linear-code always runs it)")
    return expected <= args.budget


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=SETTINGS["epochs"])
    parser.add_argument("--linear-code", choices=["auto", "always", "never"], default="auto")
    parser.add_argument("--budget", type=float, default=480.0, help="seconds (for auto)")
    parser.add_argument("--output", type=Path, default=ROOT / "seed_study.json")
    args = parser.parse_args()

    start = time.perf_counter()
    data = helpers.load_fashion_mnist(ROOT / "data")
    seeds = list(range(args.seeds))
    noisy_test = helpers.fixed_test_noise(data.test_x, TEST_NOISE_STD, 0)
    subset = helpers.sample_indices(len(data.test_x), EMBEDDED_IMAGES, 0).numpy()
    settings = {**SETTINGS, "epochs": args.epochs}
    study = {"seeds": seeds, "settings": {**settings, "models": dict(MODELS),
                                          "test_noise_std": TEST_NOISE_STD,
                                          "noise_stds_psnr": PSNR_NOISE_STDS,
                                          "embedded_test_images": EMBEDDED_IMAGES,
                                          "device": str(helpers.get_device())},
             "helpers_sha256": helpers.source_digest(ROOT / "helpers.py"), "notes": NOTES}
    restarts, finished = {}, {}
    for name, model_settings in MODELS.items():
        if name == "linear_code_autoencoder" and not wanted(args, start, finished):
            del study["settings"]["models"][name]
            continue
        study[name], restarts[name] = study_model(data, seeds, {**settings, **model_settings},
                                                  noisy_test, subset)
        finished[name] = time.perf_counter() - start
        print(f"{name}: done after {finished[name]:.0f} s", flush=True)
    study["restarts"] = restarts
    study["difference"] = {
        name: difference(study["autoencoder"][name]["values"],
                         study["denoising_autoencoder"][name]["values"], higher)
        for name, higher in HIGHER_IS_BETTER.items()}
    write_atomically(args.output, report.results_json(study))
    print_table(study)
    print(f"wrote {args.output.name}; total time {time.perf_counter() - start:.0f} s")


def print_table(study: dict) -> None:
    """Print mean +- sd per metric and model, and how many seeds the plain model wins."""
    names = [name for name in MODELS if name in study]
    print(f"\n{'metric':<24}" + "".join(f"{name:>26}" for name in names) + f"{'plain wins':>12}")
    for metric in HIGHER_IS_BETTER:
        if metric == "psnr_db":
            continue
        cells = [f"{study[n][metric]['mean']:.4f} +- {study[n][metric]['sd']:.4f}" for n in names]
        wins = study["difference"][metric]["plain_wins"]
        print(f"{metric:<24}" + "".join(f"{c:>26}" for c in cells)
              + f"{wins:>8} of {len(study['seeds'])}")


if __name__ == "__main__":
    main()
