"""The seed study's measures of one trained model, each taken as the report takes its own, and
the check that a model scored now reproduces the study's records of its seed.

`settings` are the study's (seed_study.json's "settings"): test_noise_std, noise_stds_psnr,
noise_stds_stability, embedded_test_images, masked_share, masked_fill and map_classes. Every
noise draw, mask and image sample is fixed (seed 0), the same for every model and seed.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.neighbors import NearestNeighbors

import helpers
import measures
from helpers import add_white_noise, encode
from seed_study import statistics as seed_statistics
from seed_study import training as seed_training
from settings import VARIANTS


def code_stability(model: helpers.Autoencoder, x: torch.Tensor, noise_std: float, seed: int) -> float:
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


def masked_pixel_mse(model: helpers.Autoencoder, x: torch.Tensor, share: float, fill: float,
                     seed: int) -> float:
    """Return the MSE, over the hidden pixels only, between the clean images x and the
    model's reconstructions of x with each pixel hidden (set to `fill`) with probability
    `share`: one mask drawn from `seed`, the same for every model."""
    hidden = torch.rand(x.shape, generator=torch.Generator().manual_seed(seed)) < share
    output = helpers.reconstruct(model, x.masked_fill(hidden, fill))
    return F.mse_loss(output[hidden], x[hidden]).item()


def map_class_shares(embedding: np.ndarray, labels: np.ndarray, classes: list[str]) -> list[float]:
    """Return, per class, the share of its map points whose 5 nearest neighbours in the map are
    mostly of its own class (the report's Tables 3 and 6)."""
    votes = helpers.plane_neighbour_votes(embedding, labels)
    return list(helpers.per_class_recall(labels, votes, classes).values())


def score(model: helpers.Autoencoder, data: helpers.FashionMNISTData, settings: dict) -> dict:
    """Return the study's measures of one trained model (seed_study.statistics.MEASURES)."""
    if data.classes != settings["map_classes"]:
        raise ValueError(f"the data's classes {data.classes} are not the study's map_classes "
                         f"{settings['map_classes']}: correct settings.SCORING")
    test_x = data.test_x
    noisy_test = helpers.fixed_test_noise(test_x, settings["test_noise_std"], 0)
    subset = helpers.sample_indices(len(test_x), settings["embedded_test_images"], 0).numpy()
    train_codes = helpers.encode(model, data.train_x).numpy()
    test_codes = helpers.encode(model, test_x).numpy()
    embedding = helpers.tsne_embed(test_codes[subset], 0)
    quality = helpers.code_quality(train_codes, data.train_y.numpy(), test_codes,
                                   data.test_y.numpy(), subset, embedding)
    psnr = measures.psnr_by_noise({"model": model}, test_x, settings["noise_stds_psnr"], seed=0)
    return {
        "test_mse_clean": helpers.reconstruction_loss(model, test_x, test_x),
        "test_mse_noisy": helpers.reconstruction_loss(model, noisy_test, test_x),
        "test_mse_masked": masked_pixel_mse(model, test_x, settings["masked_share"],
                                            settings["masked_fill"], 0),
        "live_code_units": helpers.count_live_units(model, test_x),
        **quality,
        "map_class_share": map_class_shares(embedding, data.test_y.numpy()[subset],
                                            settings["map_classes"]),
        "psnr_db": psnr["model"],
        "code_stability": [code_stability(model, test_x, std, 0)
                           for std in settings["noise_stds_stability"]],
    }


def score_file(path: str | Path, job: seed_training.Job, spec: seed_training.DataSpec,
               device: str, settings: dict) -> tuple[dict, dict, np.ndarray]:
    """Return the measures of a job's saved model, its training history and its test codes."""
    model, history = seed_training.load_trained(path, job, spec, device)
    data = seed_training.load_data(spec)
    return score(model, data, settings), history, helpers.encode(model, data.test_x).numpy()


# ---------------------------------------------------------------------------- reproduction

# How far a re-made value may differ from its record, and why (as tests/test_reproduction.py
# allows a re-run of the notebooks): the study trains and scores in worker processes of one
# thread, the notebook on all the machine's cores, and another CPU may differ, so sums are added
# in another order and Adam carries the last bits through 50 epochs. Values agree within
# RELATIVE (or ABSOLUTE near 0); an accuracy within PROBE_SHARE (20 of the 10,000 test images
# may change sides, a 5-NN vote or the probe's boundary moved by those bits); a t-SNE map's
# measures within MAP_SHARE (t-SNE amplifies those bits into a slightly different map); a count
# exactly. Measured here (2 cores): the notebook's two models reproduce every record exactly.
RELATIVE, ABSOLUTE, PROBE_SHARE, MAP_SHARE = 1e-3, 1e-6, 0.002, 0.05
TOLERANCES = {  # measure: (relative, absolute); the others (RELATIVE, ABSOLUTE)
    "live_code_units": (0.0, 0.0),
    "knn_accuracy": (0.0, PROBE_SHARE), "linear_probe_accuracy": (0.0, PROBE_SHARE),
    "tsne_silhouette": (0.0, MAP_SHARE), "trustworthiness": (0.0, MAP_SHARE),
    "map_class_share": (0.0, MAP_SHARE),
}
REMAKE = ("`make seeds` re-makes seed_study.json (after a change to the training, delete "
          "build/seed_models/ first: the saved models are keyed by their settings, not the code)")


def close(key: str, recorded: float | None, remade: float | None) -> bool:
    """Return whether a re-made value of measure `key` reproduces the recorded one within
    TOLERANCES (a recorded null is a NaN: JSON has none)."""
    if recorded is None or remade is None or math.isnan(remade):
        return recorded is None and remade is not None and math.isnan(remade)
    relative, absolute = TOLERANCES.get(key, (RELATIVE, ABSOLUTE))
    return math.isclose(recorded, remade, rel_tol=relative, abs_tol=absolute)


def named_values(settings: dict, key: str, values: float | list) -> dict[str, float]:
    """Return a measure's values by name: the measure, or per level of a curve (or class)
    'measure at level'."""
    levels = seed_statistics.MEASURES[key].levels
    if not levels:
        return {key: values}
    return {f"{key} at {level}": value for level, value in zip(settings[levels], values)}


def record_problems(study: dict, model: str, seed: int, scores: dict) -> list[str]:
    """Return one message per value that the study records for `model` and `seed` and that
    `scores` (score's measures of that model, made again) does not reproduce."""
    index, problems = study["seeds"].index(seed), []
    for key, summary in study[model].items():
        remade = named_values(study["settings"], key, scores[key]) if key in scores else {}
        for name, recorded in named_values(study["settings"], key,
                                           summary["values"][index]).items():
            if not close(key, recorded, remade.get(name)):
                problems.append(f"{model} seed {seed} {name}: recorded {recorded!r}, re-made "
                                f"{remade.get(name)!r}; {REMAKE}")
    return problems


def load_weights(path: str | Path, name: str) -> helpers.Autoencoder:
    """Return the model of variant `name` with the weights helpers.save_model saved at `path`."""
    model = helpers.build_model(VARIANTS[name])
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model


def seed0_problems(model_files: dict[str, Path], study: dict,
                   spec: seed_training.DataSpec) -> list[str]:
    """Return how the models saved by helpers.save_model at `model_files` (by variant key),
    scored as the study scores its own, differ from the study's records of seed 0."""
    data = seed_training.load_data(spec)
    return [problem for name, path in model_files.items() for problem in record_problems(
        study, name, 0, score(load_weights(path, name), data, study["settings"]))]
