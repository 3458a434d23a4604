"""The seed study's measures of one trained model, each taken as the report takes its own.

`settings` are the study's (seed_study.json's "settings"): test_noise_std, noise_stds_psnr,
noise_stds_stability, embedded_test_images, masked_share and masked_fill. Every noise draw,
mask and image sample is fixed (seed 0), the same for every model and seed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

import helpers
import seed_training


def masked_pixel_mse(model: helpers.Autoencoder, x: torch.Tensor, share: float, fill: float,
                     seed: int) -> float:
    """Return the MSE, over the hidden pixels only, between the clean images x and the
    model's reconstructions of x with each pixel hidden (set to `fill`) with probability
    `share`: one mask drawn from `seed`, the same for every model."""
    hidden = torch.rand(x.shape, generator=torch.Generator().manual_seed(seed)) < share
    output = helpers.reconstruct(model, x.masked_fill(hidden, fill))
    return F.mse_loss(output[hidden], x[hidden]).item()


def score(model: helpers.Autoencoder, data: helpers.FashionMNISTData, settings: dict) -> dict:
    """Return the study's measures of one trained model (seed_statistics.MEASURES)."""
    test_x = data.test_x
    noisy_test = helpers.fixed_test_noise(test_x, settings["test_noise_std"], 0)
    subset = helpers.sample_indices(len(test_x), settings["embedded_test_images"], 0).numpy()
    train_codes = helpers.encode(model, data.train_x).numpy()
    test_codes = helpers.encode(model, test_x).numpy()
    embedding = helpers.tsne_embed(test_codes[subset], 0)
    quality = helpers.code_quality(train_codes, data.train_y.numpy(), test_codes,
                                   data.test_y.numpy(), subset, embedding)
    psnr = helpers.psnr_by_noise({"model": model}, test_x, settings["noise_stds_psnr"], seed=0)
    return {
        "test_mse_clean": helpers.reconstruction_loss(model, test_x, test_x),
        "test_mse_noisy": helpers.reconstruction_loss(model, noisy_test, test_x),
        "test_mse_masked": masked_pixel_mse(model, test_x, settings["masked_share"],
                                            settings["masked_fill"], 0),
        "live_code_units": helpers.count_live_units(model, test_x),
        **quality,
        "psnr_db": psnr["model"],
        "code_stability": [helpers.code_stability(model, test_x, std, 0)
                           for std in settings["noise_stds_stability"]],
    }


def score_file(path: str | Path, spec: seed_training.DataSpec,
               settings: dict) -> tuple[dict, dict, np.ndarray]:
    """Return the measures of a saved model, its training history and its test codes."""
    model, history = seed_training.load_model(path)
    data = seed_training.load_data(spec)
    return score(model, data, settings), history, helpers.encode(model, data.test_x).numpy()
