"""The seed study's measures of one model (every draw from seed 0), and the check of its records."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.linear_model import LogisticRegression
from sklearn.manifold import trustworthiness
from sklearn.metrics import silhouette_score
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import helpers
import measures
from helpers import Autoencoder, add_white_noise, encode
from seed_study.statistics import MEASURES
from seed_study.training import DataSpec, Job, load_data, load_trained
from study_settings import VARIANTS


def code_stability(model: Autoencoder, x: torch.Tensor, noise_std: float, seed: int) -> float:
    """Return 1 - E||f(x + noise) - f(x)||^2 / E||f(x) - mean f(x)||^2 over the live code units."""
    clean = encode(model, x)
    generator = torch.Generator(x.device).manual_seed(seed)
    noisy = encode(model, add_white_noise(x, noise_std, generator))
    live = (clean != 0).any(0)
    if not live.any():
        return math.nan
    moved = (noisy - clean)[:, live].pow(2).sum(1).mean()
    spread = (clean[:, live] - clean[:, live].mean(0)).pow(2).sum(1).mean()
    return 1.0 - (moved / spread).item()


def linear_cka(first: np.ndarray, second: np.ndarray) -> float:
    """Return the linear CKA of two codes of the same images (Kornblith et al., 2019)."""
    a = np.asarray(first, dtype=np.float64) - np.mean(first, 0)
    b = np.asarray(second, dtype=np.float64) - np.mean(second, 0)
    return float(np.linalg.norm(a.T @ b) ** 2 / (np.linalg.norm(a.T @ a) * np.linalg.norm(b.T @ b)))


def nearest_neighbours(codes: np.ndarray, k: int) -> np.ndarray:
    """Return, for each code, the indices [N, k] of its k nearest other codes (Euclidean)."""
    return NearestNeighbors(n_neighbors=k).fit(codes).kneighbors(return_distance=False)


def neighbour_overlap(first: np.ndarray, second: np.ndarray) -> float:
    """Return the mean share of each point's neighbours in one code that it keeps in the other."""
    shared = (first[:, :, None] == second[:, None, :]).any(2).sum(1)
    return float(shared.mean() / first.shape[1])


def masked_pixel_mse(model: Autoencoder, x: torch.Tensor, settings: dict) -> float:
    """Return the MSE over the pixels that one fixed mask hides (sets to masked_fill)."""
    mask = torch.Generator().manual_seed(0)
    hidden = torch.rand(x.shape, generator=mask) < settings["masked_share"]
    output = helpers.reconstruct(model, x.masked_fill(hidden, settings["masked_fill"]))
    return F.mse_loss(output[hidden], x[hidden]).item()


def map_class_shares(embedding: np.ndarray, labels: np.ndarray, classes: list[str]) -> list[float]:
    """Return per class the share of its map points whose 5 nearest are mostly of its class."""
    votes = helpers.plane_neighbour_votes(embedding, labels)
    return list(helpers.per_class_recall(labels, votes, classes).values())


def code_quality(
    train_codes: np.ndarray,
    train_labels: np.ndarray,
    test_codes: np.ndarray,
    test_labels: np.ndarray,
    subset: np.ndarray,
    embedding: np.ndarray,
) -> dict[str, float]:
    """Return how well codes separate classes: the test accuracy of 5-nearest-neighbour voting
    and of logistic regression on standardised codes (a linear probe), and, for the embedded
    test codes `subset`, their silhouettes in code space and in the map and its trustworthiness."""
    embedded, labels = test_codes[subset], test_labels[subset]
    knn = KNeighborsClassifier(n_neighbors=5).fit(train_codes, train_labels)
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    return {
        "knn_accuracy": float(knn.score(test_codes, test_labels)),
        "linear_probe_accuracy": float(
            probe.fit(train_codes, train_labels).score(test_codes, test_labels)
        ),
        "code_silhouette": float(silhouette_score(embedded, labels)),
        "tsne_silhouette": float(silhouette_score(embedding, labels)),
        "trustworthiness": float(trustworthiness(embedded, embedding, n_neighbors=5)),
    }


def standardised_silhouette(
    train_codes: np.ndarray, codes: np.ndarray, labels: np.ndarray
) -> float:
    """Return the classes' silhouette of codes scaled as the training codes to mean 0 and sd 1
    per unit (dead units stay 0), so that no unit weighs more for its scale."""
    scaled = StandardScaler().fit(train_codes).transform(codes)
    return float(silhouette_score(scaled, labels))


def code_scores(train_codes: np.ndarray, test_codes: np.ndarray, data, settings: dict) -> dict:
    """Return the measures of a code, a model's or PCA's: neighbours, probe, silhouettes, the
    t-SNE map of the embedded test images (every draw from seed 0) and its class shares."""
    test_y = data.test_y.numpy()
    subset = helpers.sample_indices(len(test_codes), settings["embedded_test_images"], 0).numpy()
    embedding = helpers.tsne_embed(test_codes[subset], 0)
    train_y, embedded, labels = data.train_y.numpy(), test_codes[subset], test_y[subset]
    return {
        **code_quality(train_codes, train_y, test_codes, test_y, subset, embedding),
        "standardised_silhouette": standardised_silhouette(train_codes, embedded, labels),
        "map_class_share": map_class_shares(embedding, labels, settings["map_classes"]),
    }


def score(model: Autoencoder, data: helpers.FashionMNISTData, settings: dict) -> dict:
    """Return the study's measures of one trained model (seed_study.statistics.MEASURES)."""
    test_x = data.test_x
    noisy_x = helpers.fixed_test_noise(test_x, settings["test_noise_std"], 0)
    psnr = measures.psnr_by_noise({"model": model}, test_x, settings["noise_stds_psnr"], seed=0)
    codes = encode(model, data.train_x).numpy(), encode(model, test_x).numpy()
    return {
        "test_mse_clean": helpers.reconstruction_loss(model, test_x, test_x),
        "test_mse_noisy": helpers.reconstruction_loss(model, noisy_x, test_x),
        "test_mse_masked": masked_pixel_mse(model, test_x, settings),
        "live_code_units": helpers.count_live_units(model, test_x),
        **code_scores(*codes, data, settings),
        "psnr_db": psnr["model"],
        "code_stability": [
            code_stability(model, test_x, std, 0) for std in settings["noise_stds_stability"]
        ],
    }


def pca_scores(data: helpers.FashionMNISTData, settings: dict) -> dict:
    """Return the measures of PCA-8's code, scored as a model's (the best linear code of 8)."""
    pca = measures.fit_pca(data.train_x)
    noisy_x = helpers.fixed_test_noise(data.test_x, settings["test_noise_std"], 0)
    codes = pca.transform(data.train_x.numpy()), pca.transform(data.test_x.numpy())
    return {
        "test_mse_clean": measures.pca_reconstruction_loss(pca, data.test_x, data.test_x),
        "test_mse_noisy": measures.pca_reconstruction_loss(pca, noisy_x, data.test_x),
        **code_scores(*codes, data, settings),
    }


def score_file(path: Path, job: Job, spec: DataSpec, device: str, settings: dict) -> tuple:
    """Return the measures of a job's saved model, its training history and its test codes."""
    model, history = load_trained(path, job, spec, device)
    data = load_data(spec)
    return score(model, data, settings), history, encode(model, data.test_x).numpy()


# How far a re-made value may be from its record: worker processes of one thread and another CPU
# change the last bits. Within 1e-3 (1e-6 near 0); an accuracy within 0.002 (20 test images may
# change sides); the t-SNE map's measures within 0.05 (t-SNE amplifies those bits); a count exactly.
TOLERANCES = {  # measure: (relative, absolute)
    "live_code_units": (0.0, 0.0),
    **dict.fromkeys(["knn_accuracy", "linear_probe_accuracy"], (0.0, 0.002)),
    **dict.fromkeys(["tsne_silhouette", "trustworthiness", "map_class_share"], (0.0, 0.05)),
}
REMAKE = "after a change to the training, delete build/seed_models/ and run `make seeds`"


def record_problems(study: dict, model: str, seed: int, scores: dict) -> list[str]:
    """Return a message per value recorded for `model` and `seed` that `scores` differs from."""
    index, problems = study["seeds"].index(seed), []
    for key, summary in study[model].items():
        levels = MEASURES[key].levels
        names = [f"{key} at {level}" for level in study["settings"][levels]] if levels else [key]
        recorded, remade = (np.ravel(values) for values in (summary["values"][index], scores[key]))
        rtol, atol = TOLERANCES.get(key, (1e-3, 1e-6))
        close = np.isclose(remade.astype(float), recorded.astype(float), rtol, atol, equal_nan=True)
        problems += [
            f"{model} seed {seed} {name}: recorded {old!r}, re-made {new!r}; {REMAKE}"
            for name, old, new, ok in zip(names, recorded.tolist(), remade.tolist(), close)
            if not ok
        ]
    return problems


def seed0_problems(model_files: dict[str, Path], study: dict, spec: DataSpec) -> list[str]:
    """Return how the saved models (by variant key), scored, differ from the records of seed 0."""
    data, problems = load_data(spec), []
    for name, path in model_files.items():
        model = VARIANTS[name].build()
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        problems += record_problems(study, name, 0, score(model, data, study["settings"]))
    return problems
