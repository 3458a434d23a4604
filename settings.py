"""The settings of the science, in one place: how a model is trained (the sheet's settings),
the model variants and the pairs the seed study compares, the report's run and the seed study's
scoring. Both notebooks' parameters cells, helpers' defaults, the seed study, report.py and
the tests read them. A new model variant is one entry in VARIANTS, plus its prose.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Training:
    """How a model is trained: Adam's learning rate and weight decay, batches and epochs."""

    epochs: int = 50
    batch_size: int = 128
    lr: float = 1e-3
    weight_decay: float = 1e-5  # the sheet's "momentum of 1e-5" (see Q2 c)
    test_every: int = 10  # epochs between test losses and recorded reconstructions


@dataclass(frozen=True)
class Variant:
    """A model variant: its short label and its title in tables, the input noise it is trained
    with, its model class (None: helpers.Autoencoder; a subclass may add its own loss term)
    and the options that class is built with."""

    label: str
    title: str
    noise_std: float = 0.0
    model: type | None = None
    options: tuple[tuple[str, object], ...] = ()

    def to_dict(self) -> dict:
        """Return the variant as seed_study.json records it (the title is presentation)."""
        recorded = {"label": self.label, "noise_std": self.noise_std, **dict(self.options)}
        if self.model is not None:
            recorded["model"] = f"{self.model.__module__}.{self.model.__qualname__}"
        return recorded


SHEET = Training()
VARIANTS = {  # key in results.json and seed_study.json: the variant
    "autoencoder": Variant("plain", "sheet's autoencoder"),
    "denoising_autoencoder": Variant("denoising", "denoising autoencoder", noise_std=0.5),
    "linear_code_autoencoder": Variant("linear", "linear-code autoencoder",
                                       options=(("linear_code", True),)),
}
SUBMISSION_MODELS = ("autoencoder", "denoising_autoencoder")  # trained by exercise9.ipynb
NOISE_STD = VARIANTS["denoising_autoencoder"].noise_std  # on the [-1, 1] scale of the inputs
COMPARISONS = (("autoencoder", "denoising_autoencoder"),  # first minus second; the report's
               ("autoencoder", "linear_code_autoencoder"))  # tables take the first by default

SEED = 0  # the report's run: initialisation, shuffling and noise
TSNE_POINTS = 500  # test images embedded with t-SNE
TSNE_SEED = 0

STUDY_SEEDS = 5  # seeds 0 to 4 of every variant
SCORING = {  # how the seed study scores a model (seed_study/scoring.py)
    "test_noise_std": NOISE_STD,
    "noise_stds_psnr": [0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0],
    "noise_stds_stability": [0.1, 0.2, 0.3, 0.5, 0.75, 1.0],
    "neighbours": 10,
    "embedded_test_images": TSNE_POINTS,
    "masked_share": 0.3,
    "masked_fill": -1.0,
}
