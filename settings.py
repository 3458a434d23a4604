"""The settings of the science, in one place: the sheet's training, the model variants and the
pairs compared, the report's run, the seed study's scoring, and the notebooks' parameters."""

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
    "linear_code_autoencoder": Variant(
        "linear", "linear-code autoencoder", options=(("linear_code", True),)
    ),
}
NOISE_STD = VARIANTS["denoising_autoencoder"].noise_std  # on the [-1, 1] scale of the inputs
COMPARISONS = (
    ("autoencoder", "denoising_autoencoder"),  # first minus second; the report's
    ("autoencoder", "linear_code_autoencoder"),
)  # tables take the first by default

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
}  # fmt: skip


# ---------------------------------------------------------------------------- the parameters cells


class SettingsError(ValueError):
    """A parameter of a notebook is not allowed; the message names it, its value and the rule."""


def is_whole(value: object, low: int) -> bool:
    """Return whether a value is an integer (not a bool) of at least `low`."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def is_number(value: object, low: float, open_low: bool = False) -> bool:
    """Return whether a value is a finite real number above (or at) `low`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return False
    return value > low if open_low else value >= low


KINDS = {  # a kind of parameter: (what is allowed, the test)
    "count": ("a whole number of at least 1", lambda v: is_whole(v, 1)),
    "seed": ("a whole number of at least 0", lambda v: is_whole(v, 0)),
    "points": ("a whole number of at least 10", lambda v: is_whole(v, 10)),
    "rate": ("a finite number above 0", lambda v: is_number(v, 0, open_low=True)),
    "level": ("a finite number of at least 0", lambda v: is_number(v, 0)),
    "rates": ("a list of finite numbers above 0", lambda v: is_list(v, "rate")),
    "levels": ("a list of finite numbers of at least 0", lambda v: is_list(v, "level")),
    "path": ("a file or folder name", lambda v: isinstance(v, str) and bool(v)),
}


def is_list(value: object, kind: str) -> bool:
    """Return whether a value is a non-empty list of values of one kind."""
    return isinstance(value, list) and bool(value) and all(KINDS[kind][1](v) for v in value)


PATHS = ["DATA_DIR", "FIGURES_DIR", "MODELS_DIR", "SEED_STUDY_FILE"]  # both notebooks
SUBMISSION_PARAMETERS = {  # exercise9.ipynb's parameters cell (AUTHORS aside): name: kind
    "EPOCHS": "count", "BATCH_SIZE": "count", "LR": "rate", "WEIGHT_DECAY": "level",
    "TEST_EVERY": "count", "NOISE_STD": "level", "SEED": "seed", "TSNE_POINTS": "points",
    "TSNE_SEED": "seed", **dict.fromkeys([*PATHS, "RESULTS_FILE"], "path"),
}  # fmt: skip
COMPANION_PARAMETERS = {  # companion.ipynb's parameters cell
    **dict.fromkeys([*PATHS, "COMPANION_RESULTS_FILE"], "path"), "NOISE_STD": "level",
    "SEED": "seed", "TSNE_POINTS": "points", "TSNE_SEED": "seed", "SGD_TRAIN_IMAGES": "count",
    "SGD_EVAL_IMAGES": "count", "SGD_BATCH_SIZE": "count", "SGD_UPDATES_STOCHASTIC": "count",
    "SGD_UPDATES_MINI_BATCH": "count", "SGD_UPDATES_FULL_BATCH": "count",
    "SGD_LRS_STOCHASTIC": "rates", "SGD_LRS_MINI_BATCH": "rates", "SGD_LRS_FULL_BATCH": "rates",
    "PSNR_NOISE_STDS": "levels",
}  # fmt: skip


def problem(name: str, value: object, known: dict[str, str]) -> str:
    """Return what is wrong with one parameter ('' if nothing): unknown, or not of its kind."""
    if name not in known:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean {close[0]}?" if close else f"the settings are {', '.join(known)}"
        return f"{name} is not a setting of this notebook: {hint}"
    allowed, test = KINDS[known[name]]
    return "" if test(value) else f"{name} = {value!r}: must be {allowed}"


def check_parameters(config: dict, known: dict[str, str]) -> Training | None:
    """Raise SettingsError naming each parameter unknown to `known` or not of its kind; return
    the Training it sets (a parameter is the setting's name in capitals: LR is Training.lr)."""
    bad = [text for name, value in config.items() if (text := problem(name, value, known))]
    if bad:
        raise SettingsError(
            f"not allowed in the parameters cell: {'; '.join(bad)}. Nothing was trained or "
            "written: change the value and run the notebook again (settings.py holds the "
            "sheet's values)."
        )
    names = [field.name for field in dataclasses.fields(Training)]
    if not all(name.upper() in config for name in names):
        return None
    return Training(**{name: config[name.upper()] for name in names})
