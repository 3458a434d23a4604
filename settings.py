"""The submission's settings: the sheet's training, the report's run and the checks of the
notebook's parameters cell."""

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


SHEET = Training()
NOISE_STD = 0.5  # the denoising model's input noise, on the [-1, 1] scale of the inputs
SEED = 0  # the report's run: initialisation, shuffling and noise
TSNE_POINTS = 500  # test images embedded with t-SNE
TSNE_SEED = 0
COMMITTED = {  # the parameters of the run the report describes (results.json): settings.py's
    **{name.upper(): value for name, value in dataclasses.asdict(SHEET).items()},
    "NOISE_STD": NOISE_STD, "SEED": SEED, "TSNE_POINTS": TSNE_POINTS, "TSNE_SEED": TSNE_SEED,
}  # fmt: skip


# ---------------------------------------------------------------------------- the parameters cells


class SettingsError(ValueError):
    """A parameter of a notebook is not allowed; the message names it, its value and the rule."""


def is_whole(value: object, low: int, high: float = math.inf) -> bool:
    """Return whether a value is an integer (not a bool) from `low` to `high`."""
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def is_number(value: object, low: float, high: float, open_low: bool = False) -> bool:
    """Return whether a value is a real number above (or at) `low` and at most `high`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return False
    return (value > low if open_low else value >= low) and value <= high


TRAIN_IMAGES, TEST_IMAGES = 60_000, 10_000  # Fashion-MNIST's
MAX_SEED = 2**31 - 1  # NumPy and scikit-learn take seeds below 2**32; a run adds up to 6,000
KINDS = {  # a kind of parameter: (what is allowed and why, the test)
    "count": ("a whole number of at least 1", lambda v: is_whole(v, 1)),
    "images": (f"a whole number from 1 to {TRAIN_IMAGES:,} (the training images)",
               lambda v: is_whole(v, 1, TRAIN_IMAGES)),
    "seed": ((f"a whole number from 0 to {MAX_SEED:,} (2**31 - 1: NumPy's and scikit-learn's "
              "generators take seeds below 2**32, and a run adds up to 6,000 to it)"),
             lambda v: is_whole(v, 0, MAX_SEED)),
    "points": ((f"a whole number from 31 to {TEST_IMAGES:,} (t-SNE's perplexity of 30 needs "
                "more points; the test set holds 10,000)"),
               lambda v: is_whole(v, 31, TEST_IMAGES)),
    "rate": (("a number above 0 and at most 0.1 (Adam moves each weight by about the rate per "
              "step: 0.1 already exceeds the first layers' initial weights, at most 0.04 and "
              "0.09)"), lambda v: is_number(v, 0, 0.1, open_low=True)),
    "decay": ("a number from 0 to 0.1 (a larger L2 penalty pulls every weight to 0)",
              lambda v: is_number(v, 0, 0.1)),
    "noise": (("a number from 0 to 2 (the pixels span [-1, 1]: noise of std 2 has eight times "
               "their variance and hides the image)"), lambda v: is_number(v, 0, 2)),
    "path": ("a file or folder name", lambda v: isinstance(v, str) and bool(v)),
}  # fmt: skip
AT_MOST = [  # (name, name, why): the first may not exceed the second
    ("TEST_EVERY", "EPOCHS", "no test and no reconstruction would be recorded"),
]


PATHS = ["DATA_DIR", "FIGURES_DIR", "MODELS_DIR"]  # the folders a run reads and writes
SUBMISSION_PARAMETERS = {  # exercise9.ipynb's parameters cell (AUTHORS aside): name: kind
    "EPOCHS": "count", "BATCH_SIZE": "images", "LR": "rate", "WEIGHT_DECAY": "decay",
    "TEST_EVERY": "count", "NOISE_STD": "noise", "SEED": "seed", "TSNE_POINTS": "points",
    "TSNE_SEED": "seed", **dict.fromkeys([*PATHS, "RESULTS_FILE"], "path"),
}  # fmt: skip


def problem(name: str, value: object, known: dict[str, str], kinds: dict = KINDS) -> str:
    """Return what is wrong with one parameter ('' if nothing): unknown, or not of its kind."""
    if name not in known:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean {close[0]}?" if close else f"the settings: {', '.join(known)}"
        return f"{name} is not a setting of this notebook ({hint})"
    allowed, test = kinds[known[name]]
    return "" if test(value) else f"{name} = {value!r}: must be {allowed}"


def check_parameters(
    config: dict, known: dict[str, str], kinds: dict = KINDS, at_most: list = AT_MOST
) -> Training | None:
    """Raise SettingsError naming each parameter unknown to `known`, not of its kind or larger
    than one it may not exceed (AT_MOST); return the Training it sets (a parameter is the
    setting's name in capitals: LR is Training.lr)."""
    bad = [text for name, value in config.items() if (text := problem(name, value, known, kinds))]
    for low, high, why in at_most:
        if not bad and low in config and high in config and config[low] > config[high]:
            bad.append(f"{low} = {config[low]!r} is more than {high} = {config[high]!r}: {why}")
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
