"""The companion's and the seed study's settings: the model variants and the pairs compared,
the seeds, the scoring, and the companion's parameters (settings.py holds the submission's)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import settings
from settings import NOISE_STD, TEST_IMAGES, TSNE_POINTS, is_number, is_whole


@dataclass(frozen=True)
class Variant:
    """A model variant: its short label and its title in tables, the input noise it is trained
    with, its model class as a dotted name ("module.Class", a subclass of helpers.Autoencoder
    that may add its own loss term) and the options that class is built with."""

    label: str
    title: str
    noise_std: float = 0.0
    model: str = "helpers.Autoencoder"
    options: tuple[tuple[str, object], ...] = ()

    def to_dict(self) -> dict:
        """Return the variant as seed_study.json records it (the title is presentation)."""
        recorded = {"label": self.label, "noise_std": self.noise_std, **dict(self.options)}
        if self.model != "helpers.Autoencoder":
            recorded["model"] = self.model
        return recorded

    def build(self, seed: int | None = None):
        """Return a new model of this variant (a helpers.Autoencoder), initialised from `seed`."""
        module, _, name = self.model.rpartition(".")
        model_class = getattr(importlib.import_module(module), name)
        return model_class(seed=seed, **dict(self.options))


VARIANTS = {  # key in results.json and seed_study.json: the variant
    "autoencoder": Variant("plain", "sheet's autoencoder"),
    "denoising_autoencoder": Variant("denoising", "denoising autoencoder", noise_std=NOISE_STD),
    "linear_code_autoencoder": Variant(
        "linear", "linear-code autoencoder", model="measures.LinearCodeAutoencoder"
    ),
}
COMPARISONS = (
    ("autoencoder", "denoising_autoencoder"),  # first minus second; the report's
    ("autoencoder", "linear_code_autoencoder"),
)  # tables take the first by default


PILOT_SEEDS = list(range(10))  # the pilot (2026-12-05), every variant: seed_study/pilot.json
STUDY_SEEDS = list(range(40, 60))  # the replication's new seeds (seed_study/PLAN.md)
STUDY_VARIANTS = COMPARISONS[0]  # the models the study trains: plain and denoising
SCORING = {  # how the seed study scores a model (seed_study/scoring.py)
    "test_noise_std": NOISE_STD,
    "noise_stds_psnr": [0.0, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0],
    "noise_stds_stability": [0.1, 0.2, 0.3, 0.5, 0.75, 1.0],
    "neighbours": 10,
    "embedded_test_images": TSNE_POINTS,
    "masked_share": 0.3,
    "masked_fill": -1.0,
    "map_classes": ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                    "Sneaker", "Bag", "Ankle boot"],  # the data's classes, in label order
}  # fmt: skip


# ---------------------------------------------------------------------- the companion's parameters


def is_list(value: object, test) -> bool:
    """Return whether a value is a non-empty list whose every item passes `test`."""
    return isinstance(value, list) and bool(value) and all(test(item) for item in value)


KINDS = settings.KINDS | {  # the submission's kinds and the companion's
    "rates": ("a list of numbers above 0 and at most 10 (plain gradient descent's step sizes)",
              lambda v: is_list(v, lambda r: is_number(r, 0, 10, open_low=True))),
    "noises": ("a list of numbers from 0 to 2", lambda v: is_list(v, settings.KINDS["noise"][1])),
    "test images": (f"a whole number from 1 to {TEST_IMAGES:,} (the test images)",
                    lambda v: is_whole(v, 1, TEST_IMAGES)),
    "seeds": ("a whole number from 1 to 10 (each seed trains every rate again)",
              lambda v: is_whole(v, 1, 10)),
    "seconds": ("a number above 0 and at most 60 (each variant and seed trains this long)",
                lambda v: is_number(v, 0, 60, open_low=True)),
}  # fmt: skip
AT_MOST = [*settings.AT_MOST, ("SGD_BATCH_SIZE", "SGD_TRAIN_IMAGES", "a batch is some of them")]
COMPANION_PARAMETERS = {  # companion.ipynb's parameters cell
    **dict.fromkeys(
        [*settings.PATHS, "SEED_STUDY_FILE", "COMPANION_RESULTS_FILE", "PILOT_FILE", "PLAN_FILE"],
        "path"),
    "NOISE_STD": "noise", "SEED": "seed", "SGD_TRAIN_IMAGES": "images",
    "SGD_HELD_OUT_IMAGES": "images", "SGD_EVAL_IMAGES": "test images", "SGD_BATCH_SIZE": "images",
    "SGD_PASSES": "count", "SGD_SECONDS": "seconds", "SGD_SEEDS": "seeds",
    "SGD_LRS_STOCHASTIC": "rates", "SGD_LRS_MINI_BATCH": "rates", "SGD_LRS_FULL_BATCH": "rates",
    "PSNR_NOISE_STDS": "noises",
}  # fmt: skip
