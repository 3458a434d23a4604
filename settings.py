"""The settings of the science, in one place: how a model is trained (the sheet's settings),
the model variants and the pairs the seed study compares, the report's run and the seed study's
scoring. Both notebooks' parameters cells, helpers' defaults, the seed study, report.py and
the tests read them. A new model variant is one entry in VARIANTS, plus its prose.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
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


SHEET = Training()
VARIANTS = {  # key in results.json and seed_study.json: the variant
    "autoencoder": Variant("plain", "sheet's autoencoder"),
    "denoising_autoencoder": Variant("denoising", "denoising autoencoder", noise_std=0.5),
    "linear_code_autoencoder": Variant("linear", "linear-code autoencoder",
                                       options=(("linear_code", True),)),
}
NOISE_STD = VARIANTS["denoising_autoencoder"].noise_std  # on the [-1, 1] scale of the inputs
COMPARISONS = (("autoencoder", "denoising_autoencoder"),  # first minus second; the report's
               ("autoencoder", "linear_code_autoencoder"))  # tables take the first by default

SEED = 0  # the report's run: initialisation, shuffling and noise
TSNE_POINTS = 500  # test images embedded with t-SNE
TSNE_SEED = 0

STUDY_SEEDS = 10  # seeds 0 to 9 of every variant: an exact sign-flip test reaches p 2/1024
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
}


# ---------------------------------------------------------------------------- the parameters cells


class SettingsError(ValueError):
    """A parameter of a notebook is not allowed; the message names it, its value and the rule."""


def is_whole(value: object, low: int) -> bool:
    """Return whether a value is an integer (not a bool) of at least `low`."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def is_number(value: object, low: float, open_low: bool) -> bool:
    """Return whether a value is a finite real number above (or at) `low`."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and (value > low if open_low else value >= low))


RULES = {  # parameter: (allowed, what is allowed); a name starting with * matches a suffix
    "EPOCHS": (lambda v: is_whole(v, 1), "a whole number of at least 1"),
    "*BATCH_SIZE": (lambda v: is_whole(v, 1), "a whole number of at least 1"),
    "TEST_EVERY": (lambda v: is_whole(v, 1), "a whole number of at least 1"),
    "TSNE_POINTS": (lambda v: is_whole(v, 10), "a whole number of at least 10"),
    "SEED": (lambda v: is_whole(v, 0), "a whole number of at least 0"),
    "TSNE_SEED": (lambda v: is_whole(v, 0), "a whole number of at least 0"),
    "LR": (lambda v: is_number(v, 0, True), "a finite number above 0"),
    "WEIGHT_DECAY": (lambda v: is_number(v, 0, False), "a finite number of at least 0"),
    "NOISE_STD": (lambda v: is_number(v, 0, False), "a finite number of at least 0"),
    "*_IMAGES": (lambda v: is_whole(v, 1), "a whole number of at least 1"),
    "*_UPDATES_": (lambda v: is_whole(v, 1), "a whole number of at least 1"),
    "*_LRS_": (lambda v: isinstance(v, list) and bool(v) and all(
        is_number(item, 0, True) for item in v), "a list of finite numbers above 0"),
    "*_NOISE_STDS": (lambda v: isinstance(v, list) and bool(v) and all(
        is_number(item, 0, False) for item in v), "a list of finite numbers of at least 0"),
    "*_DIR": (lambda v: isinstance(v, str) and bool(v), "a folder name"),
    "*_FILE": (lambda v: isinstance(v, str) and bool(v), "a file name"),
}


TRAINING_PARAMETERS = tuple(field.name.upper() for field in dataclasses.fields(Training))
SUBMISSION_PARAMETERS = (*TRAINING_PARAMETERS, "NOISE_STD", "SEED", "TSNE_POINTS", "TSNE_SEED",
                         "DATA_DIR", "FIGURES_DIR", "MODELS_DIR", "RESULTS_FILE",
                         "SEED_STUDY_FILE")  # exercise9.ipynb's parameters cell, AUTHORS aside
COMPANION_PARAMETERS = (
    "DATA_DIR", "MODELS_DIR", "FIGURES_DIR", "RESULTS_FILE", "SEED_STUDY_FILE",
    "COMPANION_RESULTS_FILE", "NOISE_STD", "SEED", "TSNE_POINTS", "TSNE_SEED", "SGD_TRAIN_IMAGES",
    "SGD_EVAL_IMAGES", "SGD_BATCH_SIZE", "SGD_UPDATES_STOCHASTIC", "SGD_UPDATES_MINI_BATCH",
    "SGD_UPDATES_FULL_BATCH", "SGD_LRS_STOCHASTIC", "SGD_LRS_MINI_BATCH", "SGD_LRS_FULL_BATCH",
    "PSNR_NOISE_STDS")  # companion.ipynb's parameters cell


def rule_of(name: str) -> tuple | None:
    """Return the rule for a parameter: its own, or one whose *pattern its name contains."""
    return RULES.get(name) or next((rule for pattern, rule in RULES.items()
                                    if pattern.startswith("*") and pattern[1:] in name), None)


def problem(name: str, value: object, known: tuple[str, ...]) -> str:
    """Return what is wrong with one parameter ('' if nothing): unknown, or against its rule."""
    rule = rule_of(name)
    if name not in known or rule is None:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean {close[0]}?" if close else f"the settings are {', '.join(known)}"
        return f"{name} is not a setting of this notebook: {hint}"
    return "" if rule[0](value) else f"{name} = {value!r}: must be {rule[1]}"


def check_parameters(config: dict, known: tuple[str, ...]) -> Training | None:
    """Raise SettingsError naming every parameter of a notebook's config that is unknown (not
    in `known`: SUBMISSION_PARAMETERS or COMPANION_PARAMETERS) or breaks its rule (RULES);
    return the Training the config sets (a parameter is the capitalised name of the setting:
    LR is Training.lr), or None if it sets none. The notebooks call it before any work."""
    bad = [text for name, value in config.items() if (text := problem(name, value, known))]
    if bad:
        raise SettingsError("not allowed in the parameters cell: " + "; ".join(bad)
                            + ". Nothing was trained or written: change the value and run the "
                            "notebook again (settings.py holds the sheet's values).")
    if not all(name in config for name in TRAINING_PARAMETERS):
        return None
    return Training(**{name.lower(): config[name] for name in TRAINING_PARAMETERS})
