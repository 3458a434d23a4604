"""Measures beyond the sheet, for the companion and the seed study: the PSNR against noise,
the best linear code of the same size (PCA-8), the linear-code ablation, and load_model for
the submission's models."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.decomposition import PCA
from torch import nn

import provenance
from helpers import ENCODER_SIZES, Autoencoder, add_white_noise, reconstruct


class LinearCodeAutoencoder(Autoencoder):
    """The companion's ablation: the sheet's autoencoder without the ReLU on the 8 code units."""

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(seed)
        self.encoder[-1] = nn.Identity()  # the code layer's activation; weights as the sheet's


def load_model(path: str | Path) -> Autoencoder:
    """Return an Autoencoder with the weights saved at `path` by save_model, on the CPU; a
    missing or damaged file is one error that names it and how to make it again."""
    remedy = provenance.how_to_restore(path, "`make run` (exercise9.ipynb saves it)")
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path} is missing: {remedy}")
    model = Autoencoder()
    try:
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    except Exception as error:  # noqa: BLE001 (not a zip, a pickle, or these weights: one message)
        problem = (str(error).splitlines() or ["no details"])[0][:120]
        raise ValueError(
            f"{path} is damaged: it does not hold the saved weights of this Autoencoder "
            f"({type(error).__name__}: {problem}): {remedy}"
        ) from None
    return model.eval()


def fit_pca(train_x: torch.Tensor, n_components: int = ENCODER_SIZES[-1]) -> PCA:
    """Return a PCA with n_components fitted on the training images: the best linear code."""
    return PCA(n_components=n_components, random_state=0).fit(train_x.numpy())


def pca_reconstruction_loss(pca: PCA, inputs: torch.Tensor, targets: torch.Tensor) -> float:
    """Return the MSE between the PCA reconstructions of `inputs` and `targets`."""
    restored = pca.inverse_transform(pca.transform(inputs.numpy()))
    return float(np.mean((restored - targets.numpy()) ** 2))


def psnr(output: torch.Tensor, target: torch.Tensor, data_range: float = 2.0) -> float:
    """Return the PSNR in dB, 10 log10(data_range^2 / MSE) over all pixels (inf if identical)."""
    mse = F.mse_loss(output, target).item()
    return math.inf if mse == 0 else 10 * math.log10(data_range**2 / mse)


def psnr_by_noise(
    models: dict[str, nn.Module], clean: torch.Tensor, noise_stds: list[float], seed: int
) -> dict[str, list[float]]:
    """Return, per noise std, the PSNR (dB) against `clean` of the noisy input ("noisy input")
    and of each model's reconstruction of it; one noise draw per level, the same for all."""
    curves: dict[str, list[float]] = {"noisy input": [], **{name: [] for name in models}}
    for std in noise_stds:
        noisy = add_white_noise(clean, std, torch.Generator(clean.device).manual_seed(seed))
        curves["noisy input"].append(psnr(noisy, clean))
        for name, model in models.items():
            curves[name].append(psnr(reconstruct(model, noisy), clean))
    return curves
