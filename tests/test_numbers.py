"""Every measured number in the notebook's Markdown is a setting, a value of results.json or
seed_study.json at the shown precision, or a fact listed here with its source. A stale or
invented number fails. Integers (counts, figure, table and section numbers) are not checked;
decimals, percentages and numbers like 1e-5 are. Code spans (`...`) hold code, not findings."""

import json
import re
from pathlib import Path

import nbformat
import pytest

import helpers
import seed_statistics

ROOT = Path(__file__).resolve().parents[1]
FACTS = {  # numbers the text may state that no result file holds: value -> source
    helpers.RELU_BIAS: "helpers.RELU_BIAS, the bias before every ReLU",
    0.9: "Adam's default beta_1 (torch.optim.Adam)",
    0.999: "Adam's default beta_2 (torch.optim.Adam)",
    0.25: "the training noise std 0.5 on a [0, 1] scale; Figure 4's weakest noise level",
    seed_statistics.ALPHA: "seed_statistics.ALPHA, the level of the corrected test",
}
NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)(?:e-(\d+)|(\s?%))?(?!\w)")


def leaves(value) -> list[float]:
    """Return every number inside a JSON document."""
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in leaves(item)]
    return [float(value)] if isinstance(value, (int, float)) and not isinstance(value, bool) \
        else []


def known_values() -> list[float]:
    results = json.loads((ROOT / "results.json").read_text(encoding="utf-8"))
    study = json.loads((ROOT / "seed_study.json").read_text(encoding="utf-8"))
    return leaves(results) + leaves(study) + list(FACTS)


def prose(notebook) -> list[str]:
    """Return the Markdown cells without their code spans."""
    return [re.sub(r"`[^`]*`", "", cell.source) for cell in notebook.cells
            if cell.cell_type == "markdown"]


def checked_numbers(text: str) -> list[tuple[str, str]]:
    """Return (kind, token) of every decimal, percentage and 1e-n number in `text`."""
    found = []
    for match in NUMBER.finditer(text):
        digits, exponent, percent = match.groups()
        if exponent:
            found.append(("power", f"{digits}e-{exponent}"))
        elif percent:
            found.append(("percent", digits))
        elif "." in digits:
            found.append(("decimal", digits))
    return found


def matches(kind: str, token: str, values: list[float]) -> bool:
    """Return whether a value shown rounded as `token` is among `values`."""
    if kind == "power":
        return any(abs(value - float(token)) <= 1e-12 for value in values)
    places = len(token.split(".")[1]) if "." in token else 0
    scale = 100 if kind == "percent" else 1
    return any(f"{abs(value) * scale:.{places}f}" == token for value in values)


def unknown_numbers(texts: list[str], values: list[float]) -> list[str]:
    """Return every checked number of the texts that matches no known value, in context."""
    missing = []
    for text in texts:
        for match in NUMBER.finditer(text):
            for kind, token in checked_numbers(match[0]):
                if not matches(kind, token, values):
                    start = max(0, match.start() - 40)
                    missing.append(f"{token} in '...{text[start:match.end() + 20]}...'")
    return missing


@pytest.fixture(scope="module")
def notebook():
    return nbformat.read(ROOT / "exercise9.ipynb", as_version=4)


def test_every_number_in_the_prose_is_a_result_a_setting_or_a_listed_fact(notebook):
    missing = unknown_numbers(prose(notebook), known_values())
    assert not missing, "numbers in the Markdown that no result holds:\n" + "\n".join(missing)


def test_the_prose_states_numbers_at_all():
    """The check is not vacuous: it finds the report's kinds of numbers."""
    assert checked_numbers("MSE 0.0691, 85% own, 1e-5 and 79.1%; Figure 3, 500 images, A.2") == [
        ("decimal", "0.0691"), ("percent", "85"), ("power", "1e-5"), ("percent", "79.1")]


@pytest.mark.parametrize("old, new", [("0.0691", "0.0692"), ("85%", "86%"), ("1e-5", "1e-4")])
def test_a_changed_number_in_the_prose_is_caught(notebook, old, new):
    texts = prose(notebook)
    assert any(old in text for text in texts), f"the report no longer says {old}"
    changed = [text.replace(old, new, 1) for text in texts]
    assert unknown_numbers(changed, known_values()), f"{new} passed for {old}"
