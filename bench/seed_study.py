"""Seed study: seeds 0-4 of the plain, the denoising and the linear-code autoencoder.

Trains all seeds of a model together (stacked_training.train_autoencoder_seeds) with the
sheet's settings, scores every model on the test set and writes seed_study.json (run it with
`make seeds`, about 25 minutes on a 2-core CPU): per seed and measure the value, per model the
mean and sample sd (ddof=1); the paired test of plain minus denoising for every measure with
Holm's correction and the verdict (seed_statistics.compare); and the code similarity (linear
CKA, 10-nearest-neighbour overlap on all 10,000 test images) of every pair of plain and
denoising models. The linear-code ablation runs where it fits the time budget (--budget
seconds, judged from the plain model's time); --linear-code always/never overrides that.

Five seeds, not eight: the stack of 8 seeds costs 2.8 times one model's epoch against 2.17
times for 5, so the 1,438 s of the 5-seed run would become about 1,850 s, over the 30
minutes allowed for `make seeds` on this machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import helpers  # noqa: E402
import provenance  # noqa: E402
import seed_statistics  # noqa: E402
from stacked_training import train_autoencoder_seeds  # noqa: E402

SETTINGS = {"epochs": 50, "batch_size": 128, "lr": 1e-3, "weight_decay": 1e-5}
MODELS = {  # key in the file: the model's own settings
    "autoencoder": {"noise_std": 0.0},
    "denoising_autoencoder": {"noise_std": 0.5},
    "linear_code_autoencoder": {"noise_std": 0.0, "linear_code": True},
}
TEST_NOISE_STD = 0.5  # the noisy test inputs: helpers.fixed_test_noise(test_x, 0.5, 0)
PSNR_NOISE_STDS = [0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0]
STABILITY_NOISE_STDS = [std for std in PSNR_NOISE_STDS if std > 0]
EMBEDDED_IMAGES = 500  # test images embedded with t-SNE: helpers.sample_indices(10000, 500, 0)
NEIGHBOURS = 10  # for the neighbour overlap of two codes
CODE_FILES = ["stacked_training.py", "seed_statistics.py", "bench/seed_study.py"]  # and the
# parts of helpers.py that they use: provenance.used_code_digest, checked by tests/test_seeds.py
NOTES = {
    "test_mse_noisy": f"inputs test_x + one fixed N(0, {TEST_NOISE_STD}^2) draw "
                      f"(helpers.fixed_test_noise(test_x, {TEST_NOISE_STD}, 0)), target the "
                      "clean test_x, the same draw for every seed and model",
    "live_code_units": "code units non-zero for at least one clean test image (of 8)",
    "knn_accuracy": "5-NN on the codes of the 60,000 training images, scored on the 10,000 "
                    "test images",
    "code_silhouette": f"the {EMBEDDED_IMAGES} test images sample_indices(10000, "
                       f"{EMBEDDED_IMAGES}, 0), in code space",
    "tsne_silhouette": "the same images in the t-SNE plane (helpers.tsne_embed(codes, 0))",
    "trustworthiness": "of that t-SNE plane, 5 neighbours",
    "psnr_db": "one value per noise_stds_psnr level; one noise draw per level (seed 0)",
    "code_stability": "helpers.code_stability on the 10,000 test images, one value per "
                      "noise_stds_stability level, the noise draws of psnr_db",
    "comparison": "per measure: plain minus denoising over the seeds, paired t-test "
                  "(scipy.stats.ttest_rel), 95% CI of the mean difference, p, Holm-corrected "
                  "p over all rows, verdict at 0.05 (seed_statistics.compare)",
    "similarity": f"linear CKA and {NEIGHBOURS}-NN overlap of the codes of the 10,000 test "
                  "images for every pair of plain and denoising models; summary by group, "
                  "same-seed pairs apart (they share initial weights and shuffling)",
}


def score(model: helpers.Autoencoder, data: helpers.FashionMNISTData, noisy_test,
          subset: np.ndarray) -> dict:
    """Return the study's measures of one trained model (psnr_db is added by the caller)."""
    train_codes = helpers.encode(model, data.train_x).numpy()
    test_codes = helpers.encode(model, data.test_x).numpy()
    embedding = helpers.tsne_embed(test_codes[subset], 0)
    quality = helpers.code_quality(train_codes, data.train_y.numpy(), test_codes,
                                   data.test_y.numpy(), subset, embedding)
    return {
        "test_mse_clean": helpers.reconstruction_loss(model, data.test_x, data.test_x),
        "test_mse_noisy": helpers.reconstruction_loss(model, noisy_test, data.test_x),
        "live_code_units": helpers.count_live_units(model, data.test_x),
        **quality,
        "code_stability": [helpers.code_stability(model, data.test_x, std, 0)
                           for std in STABILITY_NOISE_STDS],
    }


def study_model(data: helpers.FashionMNISTData, seeds: list[int], settings: dict,
                noisy_test, subset: np.ndarray) -> tuple[dict, list[list[str]], list]:
    """Train one model per seed, score each; return measure -> summary, the restarts and
    the trained models."""
    trained = train_autoencoder_seeds(data, seeds, **settings)
    per_seed = [score(model, data, noisy_test, subset) for model, _ in trained]
    curves = helpers.psnr_by_noise({str(seed): model for seed, (model, _) in zip(seeds, trained)},
                                   data.test_x, PSNR_NOISE_STDS, seed=0)
    for seed, scores in zip(seeds, per_seed):
        scores["psnr_db"] = curves[str(seed)]
    measures = {name: seed_statistics.summary([scores[name] for scores in per_seed])
                for name in seed_statistics.MEASURES}
    return measures, [history.restarts for _, history in trained], [m for m, _ in trained]


def similarities(models: dict[str, list], seeds: list[int], test_x) -> list[dict]:
    """Return the linear CKA and neighbour overlap of the test codes of every model pair."""
    codes = {(name, seed): helpers.encode(model, test_x).numpy()
             for name, trained in models.items() for seed, model in zip(seeds, trained)}
    neighbours = {key: helpers.nearest_neighbours(code, NEIGHBOURS) for key, code in codes.items()}
    return [{"models": [first[0], second[0]], "seeds": [first[1], second[1]],
             "cka": helpers.linear_cka(codes[first], codes[second]),
             "knn_overlap": helpers.neighbour_overlap(neighbours[first], neighbours[second])}
            for first, second in seed_statistics.model_pairs(seeds)]

def code_digest() -> str:
    """Return the digest of the code this study runs (see CODE_FILES)."""
    return provenance.used_code_digest(ROOT / "helpers.py", *(ROOT / name for name in CODE_FILES))


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
                                          "noise_stds_stability": STABILITY_NOISE_STDS,
                                          "neighbours": NEIGHBOURS,
                                          "embedded_test_images": EMBEDDED_IMAGES,
                                          "device": str(helpers.get_device())},
             "code_digest": code_digest(),
             "notes": NOTES}
    restarts, finished, trained = {}, {}, {}
    for name, model_settings in MODELS.items():
        if name == "linear_code_autoencoder" and not wanted(args, start, finished):
            del study["settings"]["models"][name]
            continue
        study[name], restarts[name], trained[name] = study_model(
            data, seeds, {**settings, **model_settings}, noisy_test, subset)
        finished[name] = time.perf_counter() - start
        print(f"{name}: done after {finished[name]:.0f} s", flush=True)
    study["restarts"] = restarts
    study["comparison"] = seed_statistics.compare(study)
    pairs = similarities({name: trained[name] for name in ("autoencoder", "denoising_autoencoder")},
                         seeds, data.test_x)
    study["similarity"] = {"summary": seed_statistics.similarity_summary(pairs), "pairs": pairs}
    provenance.write_text_atomically(args.output, provenance.json_text(study))
    print_table(study)
    print(f"wrote {args.output.name}; total time {time.perf_counter() - start:.0f} s")


def print_table(study: dict) -> None:
    """Print each measure's paired difference with its CI, corrected p and verdict, and the
    similarity summary."""
    print(f"\n{'measure':<34}{'plain - denoising [95% CI]':>36}{'p Holm':>9}  verdict")
    for row in study["comparison"]:
        low, high = row["ci95"]
        print(f"{row['label']:<34}{row['mean']:>+12.4f} [{low:+.4f}, {high:+.4f}]"
              f"{row['p_holm']:>9.3f}  {row['verdict']}")
    for group, values in study["similarity"]["summary"].items():
        print(f"{group:<28} pairs {values['pairs']:>2}  CKA {values['cka']['mean']:.3f} +- "
              f"{values['cka']['sd']:.3f}  10-NN overlap {values['knn_overlap']['mean']:.3f} +- "
              f"{values['knn_overlap']['sd']:.3f}")


if __name__ == "__main__":
    main()
