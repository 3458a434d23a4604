"""Every number in the submission's prose is bound to the one value it quotes.

BOUND lists sentence fragments with {} where a number stands, and for each {} the value it
quotes: a path into results.json ("results"), seed_study.json ("study") or the settings of the
committed run ("setting"), or a fact with its source (FACTS). The test finds each fragment
exactly once in the Markdown and compares the number at each {} with its value, rounded as the
text shows it (a percentage is the value times 100). A decimal, percentage or 1e-n number that
no fragment binds fails, as does a fragment that the prose no longer holds. Integers (counts,
figure, table and section numbers) are not checked. Code spans (`...`) hold code, not findings.
The companion notebook's numbers are bound in test_companion.py with the same functions.
"""

import json
import math
import random
import re
from pathlib import Path

import nbformat
import pytest

import helpers
import settings
import study_settings
from seed_study import statistics as seed_statistics

ROOT = Path(__file__).resolve().parents[1]
NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(?:e-(\d+)|(\s?%))?(?!\w)")
SLOT = r"(\d+(?:\.\d+)?(?:e-\d+|\s?%)?)"
FACTS = {  # numbers the text may state that no result file holds: name -> (value, source)
    "relu_bias": (helpers.RELU_BIAS, "helpers.RELU_BIAS, the bias before every ReLU"),
    "beta_1": (0.9, "Adam's default beta_1 (torch.optim.Adam)"),
    "beta_2": (0.999, "Adam's default beta_2 (torch.optim.Adam)"),
    "alpha": (seed_statistics.ALPHA, "seed_statistics.ALPHA, the level of the corrected test"),
    "confidence": (1 - seed_statistics.ALPHA, "the joint level of the simultaneous intervals"),
}
AE, DAE = "autoencoder", "denoising_autoencoder"
STABILITY_AT_05 = study_settings.SCORING["noise_stds_stability"].index(settings.NOISE_STD)


def maximum(values: dict) -> float:
    """A path step: the largest of a dict's values (for 'at most')."""
    return max(values.values())


def mean_at(level: int):
    """A path step: a seed-study measure's mean at one noise level."""
    return lambda summary: summary["mean"][level]


def largest_of(*names: str):
    """A path step: the largest of a dict's values for the given keys (for 'none above')."""
    return lambda values: max(values[name] for name in names)


CLASS = {name: index for index, name in enumerate(study_settings.SCORING["map_classes"])}


BOUND = [  # (fragment, [(source, path) for each {}])
    # Question 2
    ("and a constant bias of {} before every ReLU", [("fact", "relu_bias")]),
    (
        "predicting the mean test image for every test image gives an MSE of {}.",
        [("results", ("references", "predict_the_mean_mse"))],
    ),
    ("**Answer.** Adam [3] with learning rate {}, batch size 128", [("setting", ("LR",))]),
    ('the sheet\'s "momentum of {}"', [("setting", ("WEIGHT_DECAY",))]),
    ("it is used here as weight decay {}, an L2 penalty", [("setting", ("WEIGHT_DECAY",))]),
    (r"would set $\beta_1$ to {} and all but switch off", [("setting", ("WEIGHT_DECAY",))]),
    (
        r"$\beta_1 = {}$ and $\beta_2 = {}$ keep their defaults",
        [("fact", "beta_1"), ("fact", "beta_2")],
    ),
    (
        "The training loss (Table 1) falls from {} after the first epoch to {} after the fiftieth",
        [("results", (AE, "train_loss", 0)), ("results", (AE, "train_loss", -1))],
    ),
    (
        "The test loss falls at every test, to {} after epoch 50",
        [("results", (AE, "test_loss", "50"))],
    ),
    (
        "the training loss of the same epoch, by at most {}, and",
        [("results", (AE, "train_test_gap", maximum))],
    ),
    (
        "its codes put the footwear apart from the clothes ({} of the footwear's points",
        [("results", ("tsne_map", AE, "group_recall", "footwear"))],
    ),
    (
        "pullovers, dresses, coats and shirts overlap, none with more than {} of its points",
        [
            (
                "results",
                ("tsne_map", AE, "class_recall", largest_of("Pullover", "Dress", "Coat", "Shirt")),
            )
        ],
    ),
    (
        "and gather at its right end ({})",
        [("results", ("tsne_map", AE, "class_recall", "Ankle boot"))],
    ),
    (
        "Most bags ({}) are voted bags",
        [("results", ("tsne_map", AE, "class_recall", "Bag"))],
    ),
    (
        "the T-shirts form a long strand on the left ({})",
        [("results", ("tsne_map", AE, "class_recall", "T-shirt/top"))],
    ),
    (
        "second, smaller strand among the dresses ({} for the two together)",
        [("results", ("tsne_map", AE, "class_recall", "Trouser"))],
    ),
    (
        "the shirts, the most mixed class ({}), lie mostly",
        [("results", ("tsne_map", AE, "class_recall", "Shirt"))],
    ),
    # Question 3
    (
        r"on the input scale $[-1, 1]$, here $\sigma = {}$",
        [("setting", ("NOISE_STD",))],
    ),
    (
        r"with clean inputs and with the fixed noisy inputs ($\sigma = {}$)",
        [("setting", ("NOISE_STD",))],
    ),
    (
        "Its final test MSE on the noisy test images is {}, against {} for the noisy images",
        [("results", (DAE, "test_mse_noisy")), ("results", (DAE, "noisy_input_mse"))],
    ),
    (
        "fed the same noisy images it reaches {}, against {} on clean images",
        [("results", (AE, "test_mse_noisy")), ("results", (AE, "test_mse_clean"))],
    ),
    (
        "The denoising model loses little on clean images ({})",
        [("results", (DAE, "test_mse_clean"))],
    ),
    (
        "put the footwear apart from the clothes ({} and {} of its points, Table 4)",
        [
            ("results", ("tsne_map", AE, "group_recall", "footwear")),
            ("results", ("tsne_map", DAE, "group_recall", "footwear")),
        ],
    ),
    (
        (
            "the denoising map keeps the dresses ({} against {}), sneakers and trousers more to "
            "themselves and the bags ({} against {}) and coats less"
        ),
        [
            ("results", ("tsne_map", DAE, "class_recall", "Dress")),
            ("results", ("tsne_map", AE, "class_recall", "Dress")),
            ("results", ("tsne_map", DAE, "class_recall", "Bag")),
            ("results", ("tsne_map", AE, "class_recall", "Bag")),
        ],
    ),
]


def load_sources() -> dict[str, dict]:
    """Return the documents that BOUND's paths point into."""
    results = json.loads((ROOT / "results.json").read_text(encoding="utf-8"))
    study = json.loads((ROOT / "seed_study.json").read_text(encoding="utf-8"))
    return {"results": results, "study": study, "setting": results["config"]}


def value_of(sources: dict[str, dict], source: str, path) -> float:
    """Return the value at `path` in a source (a path step may be a function of the value)."""
    if source == "fact":
        return FACTS[path][0]
    value = sources[source]
    for step in path:
        value = step(value) if callable(step) else value[step]
    return value


def shown(value: float, token: str) -> str:
    """Return `value` written the way `token` is: the same kind and number of decimals."""
    if "e-" in token:
        exponent = int(token.split("e-")[1])
        return f"{value * 10**exponent:.0f}e-{exponent}"
    number = token.rstrip("% ")
    places = len(number.split(".")[1]) if "." in number else 0
    return f"{abs(value) * (100 if '%' in token else 1):.{places}f}" + token[len(number) :]


def is_checked(token: str) -> bool:
    """Return whether the test checks a number: decimals, percentages and 1e-n, not integers."""
    return "." in token or "%" in token or "e-" in token


def pattern(fragment: str) -> re.Pattern:
    """Return a fragment's regular expression: its text literally, any white space as any
    white space (Markdown breaks lines anywhere), each {} as a number."""
    pieces = [
        r"\s+".join(re.escape(word) for word in piece.split(" ")) for piece in fragment.split("{}")
    ]
    return re.compile(SLOT.join(pieces))


def prose(notebook) -> str:
    """Return the Markdown cells without their code spans, as one text."""
    return "\n\n".join(
        re.sub(r"`[^`]*`", lambda m: " " * len(m[0]), cell.source)
        for cell in notebook.cells
        if cell.cell_type == "markdown"
    )


def binding_errors(text: str, bound: list, sources: dict[str, dict]) -> list[str]:
    """Return what is wrong with the numbers of `text`: a fragment missing or found twice, a
    number that differs from the value it quotes, and a checked number that nothing binds."""
    errors, covered = [], set()
    for fragment, slots in bound:
        found = list(pattern(fragment).finditer(text))
        if len(found) != 1:
            errors.append(f"{'missing' if not found else 'found twice'}: {fragment!r}")
            continue
        for index, (source, path) in enumerate(slots, start=1):
            token = found[0][index]
            covered.add(found[0].start(index))
            expected = shown(value_of(sources, source, path), token)
            if token != expected:
                errors.append(f"{token} should be {expected} ({source} {path}) in {fragment!r}")
    for match in NUMBER.finditer(text):
        if is_checked(match[0]) and match.start() not in covered:
            errors.append(
                f"unbound number {match[0]!r} in "
                f"'...{text[max(0, match.start() - 50) : match.end() + 20]}...'"
            )
    return errors


@pytest.fixture(scope="module")
def text() -> str:
    return prose(nbformat.read(ROOT / "exercise9.ipynb", as_version=4))


@pytest.fixture(scope="module")
def sources() -> dict[str, dict]:
    return load_sources()


def test_every_number_in_the_prose_is_bound_to_the_value_it_quotes(text, sources):
    errors = binding_errors(text, BOUND, sources)
    assert not errors, "numbers of the Markdown:\n" + "\n".join(errors)


def test_the_binding_finds_the_reports_kinds_of_numbers():
    """The check is not vacuous: decimals, percentages and 1e-n are checked, integers not."""
    sample = "MSE 0.0691, 85% own, 1e-5, 79.1 % and Figure 3, 500 images"
    assert [m[0] for m in NUMBER.finditer(sample) if is_checked(m[0])] == [
        "0.0691",
        "85%",
        "1e-5",
        "79.1 %",
    ]
    assert shown(0.0691221, "0.0691") == "0.0691" and shown(0.85106, "85%") == "85%"
    assert shown(1e-5, "1e-5") == "1e-5" and shown(0.7906, "79.1%") == "79.1%"


def leaves(value) -> list[float]:
    """Return every finite number inside a JSON document."""
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in leaves(item)]
    return (
        [float(value)]
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        else []
    )


def missed_substitutions(
    text: str, bound: list, sources: dict, values: list[float], matches: list
) -> list[str]:
    """Return each number of `matches` that, replaced by another of `values` written in the
    same form, the binding check does not catch (seeded, so the same draws every run)."""
    rng, missed = random.Random(0), []
    for match in matches:
        replacement = match[0]
        while replacement == match[0]:
            replacement = shown(rng.choice(values), match[0])
        changed = text[: match.start()] + replacement + text[match.end() :]
        if not binding_errors(changed, bound, sources):
            missed.append(f"{match[0]} -> {replacement}")
    return missed


def test_fifty_numbers_changed_to_other_values_of_the_results_are_all_caught(text, sources):
    """Each of 50 bound numbers, picked at random, replaced by another value taken from
    results.json or seed_study.json and written in the same form, fails the check."""
    numbers = [m for m in NUMBER.finditer(text) if is_checked(m[0])]
    assert len(numbers) >= 30, "fewer bound numbers than expected"  # 32 on 2026-12-08
    picks = random.Random(1).choices(numbers, k=50)
    values = leaves(sources["results"]) + leaves(sources["study"])
    assert not missed_substitutions(text, BOUND, sources, values, picks)
