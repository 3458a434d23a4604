"""settings.py: one source for the settings; the committed runs agree with it and with each
other; a model variant can carry its own loss term (a sparse autoencoder, defined here only)
and goes through training, scoring and the statistics without a change to the loop."""

import dataclasses
import json
import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import helpers
import settings
import study_settings
from seed_study import study as study_module
from seed_study import training as seed_training

COMPANION_RULES = (study_settings.KINDS, study_settings.AT_MOST)  # the companion's kinds

ROOT = Path(__file__).resolve().parents[1]
SMALL = seed_training.DataSpec(str(ROOT / "data"), train_images=1000, test_images=300)
AGREEING = {  # seed_study.json's "settings" key: the parameter of the notebooks' config
    "epochs": "EPOCHS",
    "batch_size": "BATCH_SIZE",
    "lr": "LR",
    "weight_decay": "WEIGHT_DECAY",
    "test_every": "TEST_EVERY",
    "test_noise_std": "NOISE_STD",
    "embedded_test_images": "TSNE_POINTS",
    "device": "device",
}


class SparseAutoencoder(helpers.Autoencoder):
    """The sheet's autoencoder with an L1 penalty on its code: a variant for the tests."""

    def __init__(self, seed: int | None = None, l1: float = 0.1) -> None:
        super().__init__(seed)
        self.l1 = l1

    def loss(self, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Return the MSE of the reconstruction plus l1 times the mean absolute code."""
        codes = self.encoder(inputs)
        return F.mse_loss(self.decoder(codes), targets) + self.l1 * codes.abs().mean()


SPARSE = study_settings.Variant(
    "sparse", "sparse autoencoder", model="test_settings.SparseAutoencoder", options=(("l1", 0.2),)
)


def disagreements(study: dict, config: dict) -> list[str]:
    """Return each setting on which a seed study and a notebook run's config differ."""
    recorded = study["settings"]
    found = [
        f"{key}: {recorded[key]!r} != {name} {config[name]!r}"
        for key, name in AGREEING.items()
        if name in config and recorded[key] != config[name]
    ]
    noise = recorded["models"]["denoising_autoencoder"]["noise_std"]
    if "NOISE_STD" in config and noise != config["NOISE_STD"]:
        found.append(f"the denoising model's noise_std {noise!r} != NOISE_STD")
    return found


@pytest.fixture(scope="module")
def committed() -> dict[str, dict]:
    return {
        name: json.loads((ROOT / name).read_text(encoding="utf-8"))
        for name in ("seed_study.json", "results.json", "companion_results.json")
    }


def test_the_seed_study_and_both_notebook_runs_agree_on_their_settings(committed):
    study = committed["seed_study.json"]
    for name in ("results.json", "companion_results.json"):
        assert not disagreements(study, committed[name]["config"]), name


def test_a_disagreement_between_the_study_and_a_run_is_found(committed):
    config = {**committed["results.json"]["config"], "EPOCHS": 49, "NOISE_STD": 0.4}
    assert len(disagreements(committed["seed_study.json"], config)) == 3


def test_the_committed_runs_use_the_settings_of_settings_py(committed):
    study = committed["seed_study.json"]
    assert study["seeds"] == study_settings.STUDY_SEEDS
    studied = {name: study_settings.VARIANTS[name] for name in study_settings.STUDY_VARIANTS}
    assert study["settings"] == study_module.study_settings(
        studied, settings.SHEET, study_settings.SCORING, "cpu"
    )
    config = committed["results.json"]["config"]
    assert (
        config["EPOCHS"],
        config["BATCH_SIZE"],
        config["LR"],
        config["WEIGHT_DECAY"],
        config["TEST_EVERY"],
    ) == dataclasses.astuple(settings.SHEET)
    assert (
        config["NOISE_STD"]
        == settings.NOISE_STD
        == committed["companion_results.json"]["config"]["NOISE_STD"]
    )


def test_a_variant_s_own_loss_term_is_what_the_training_step_minimises(small_data):
    model = SPARSE.build(seed=0)
    assert isinstance(model, SparseAutoencoder) and model.l1 == 0.2
    batch = small_data.train_x[:64]
    with torch.no_grad():
        codes = model.encoder(batch)
        expected = F.mse_loss(model.decoder(codes), batch) + 0.2 * codes.abs().mean()
    optimizer = helpers.make_optimizer(model, lr=1e-3, weight_decay=0.0)
    assert helpers.train_step(model, optimizer, batch, batch).item() == pytest.approx(
        expected.item(), rel=1e-6
    )


def test_the_penalty_shrinks_the_code_under_the_unchanged_training_loop(small_data):
    codes = {}
    for variant in (study_settings.VARIANTS["autoencoder"], SPARSE):
        model = variant.build(seed=0)
        helpers.train_autoencoder(model, small_data, epochs=2, seed=0, progress=False)
        codes[variant.label] = helpers.encode(model, small_data.test_x).abs().mean().item()
    assert codes["sparse"] < 0.5 * codes["plain"]


@pytest.mark.slow
def test_a_sparse_variant_goes_through_training_scoring_and_the_statistics(tmp_path):
    """One entry in a table of variants: the seed study trains, saves, scores and compares it
    (3 seeds, 2 epochs on 1,000 images, in this process)."""
    variants = {"autoencoder": study_settings.VARIANTS["autoencoder"], "sparse": SPARSE}
    training = dataclasses.replace(settings.SHEET, epochs=2)
    scoring = {**study_settings.SCORING, "embedded_test_images": 100}
    study = study_module.run_study(
        variants,
        [("autoencoder", "sparse")],
        [0, 1, 2],
        training,
        scoring,
        SMALL,
        tmp_path,
        0,
        lambda line: None,
    )
    assert study["settings"]["models"]["sparse"] == {
        "label": "sparse",
        "noise_std": 0.0,
        "l1": 0.2,
        "model": "test_settings.SparseAutoencoder",
    }
    [comparison] = study["comparisons"]
    assert comparison["labels"] == ["plain", "sparse"] and len(comparison["secondary"]) == 8
    assert len(study["sparse"]["test_mse_clean"]["values"]) == 3
    assert len(list(tmp_path.glob("seed*.pt"))) == 6


# ---------------------------------------------------------------------------- bad parameters

SUBMISSION_CONFIG = {  # the parameters cell of exercise9.ipynb, as settings.py gives it
    **{name.upper(): value for name, value in dataclasses.asdict(settings.SHEET).items()},
    "NOISE_STD": settings.NOISE_STD,
    "SEED": settings.SEED,
    "TSNE_POINTS": settings.TSNE_POINTS,
    "TSNE_SEED": settings.TSNE_SEED,
    "DATA_DIR": "data",
    "FIGURES_DIR": "figures",
    "MODELS_DIR": "models",
    "RESULTS_FILE": "results.json",
}


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("EPOCHS", 0, "a whole number of at least 1"),
        ("EPOCHS", -5, "a whole number of at least 1"),
        ("EPOCHS", 2.5, "a whole number of at least 1"),
        ("EPOCHS", "50", "a whole number of at least 1"),
        ("EPOCHS", True, "a whole number of at least 1"),
        ("BATCH_SIZE", 0, "a whole number from 1 to 60,000 (the training images)"),
        ("BATCH_SIZE", 70000, "a whole number from 1 to 60,000 (the training images)"),
        ("NOISE_STD", -0.5, "a number from 0 to 2 (the pixels span [-1, 1]"),
        ("NOISE_STD", float("nan"), "a number from 0 to 2"),
        ("NOISE_STD", float("inf"), "a number from 0 to 2"),
        ("NOISE_STD", 100, "a number from 0 to 2 (the pixels span [-1, 1]: noise of std 2"),
        ("LR", 0, "a number above 0 and at most 0.1 (Adam moves each weight"),
        ("LR", -1e-3, "a number above 0 and at most 0.1"),
        ("LR", 5, "a number above 0 and at most 0.1"),
        ("WEIGHT_DECAY", 1, "a number from 0 to 0.1 (a larger L2 penalty"),
        ("TEST_EVERY", 0, "a whole number of at least 1"),
        ("TSNE_POINTS", 5, "a whole number from 31 to 10,000 (t-SNE's perplexity of 30"),
        ("TSNE_POINTS", 1_000_000, "a whole number from 31 to 10,000"),
        ("SEED", 2**70, "a whole number from 0 to 2,147,483,647 (2**31 - 1: NumPy's"),
        ("SEED", -1, "a whole number from 0 to 2,147,483,647"),
        ("TSNE_SEED", 2**32, "a whole number from 0 to 2,147,483,647"),
    ],
)
def test_a_bad_parameter_is_named_with_its_value_and_what_is_allowed(name, value, allowed):
    with pytest.raises(settings.SettingsError) as error:
        settings.check_parameters(
            {**SUBMISSION_CONFIG, name: value}, settings.SUBMISSION_PARAMETERS
        )
    message = str(error.value)
    assert f"{name} = {value!r}: must be {allowed}" in message
    assert "Nothing was trained or written" in message and message.count("must be") == 1


def test_the_committed_parameters_pass_and_every_bad_one_is_named_at_once():
    assert settings.check_parameters(SUBMISSION_CONFIG, settings.SUBMISSION_PARAMETERS) == (
        settings.SHEET
    )
    companion = json.loads((ROOT / "companion_results.json").read_text(encoding="utf-8"))
    config = {name: value for name, value in companion["config"].items() if name != "device"}
    assert (
        settings.check_parameters(config, study_settings.COMPANION_PARAMETERS, *COMPANION_RULES)
        is None
    )
    with pytest.raises(settings.SettingsError) as error:
        settings.check_parameters(
            {**config, "SGD_LRS_MINI_BATCH": [0.3, -1.0], "SGD_PASSES": 0},
            study_settings.COMPANION_PARAMETERS,
            *COMPANION_RULES,
        )
    assert str(error.value).count("must be") == 2


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("EPOCH", r"EPOCH is not a setting of this notebook \(did you mean EPOCHS\?\)"),
        ("LEARNING_RATE", "LEARNING_RATE is not a setting of this notebook"),
        ("SGD_LRS_MINIBATCH", r"did you mean SGD_LRS_MINI_BATCH\?"),
    ],
)
def test_an_unknown_parameter_is_an_error_that_names_the_closest_setting(name, words):
    known = (
        settings.SUBMISSION_PARAMETERS
        if name.isupper() and "SGD" not in name
        else study_settings.COMPANION_PARAMETERS
    )
    with pytest.raises(settings.SettingsError, match=words):
        settings.check_parameters({**SUBMISSION_CONFIG, name: 1}, known, *COMPANION_RULES)


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"TEST_EVERY": 60}, "TEST_EVERY = 60 is more than EPOCHS = 50: no test"),
        (
            {"SGD_EVAL_IMAGES": 20000},
            "SGD_EVAL_IMAGES = 20000: must be a whole number from 1 to 10,000",
        ),
        ({"SGD_BATCH_SIZE": 20000}, "SGD_BATCH_SIZE = 20000 is more than SGD_TRAIN_IMAGES"),
        ({"SGD_LRS_STOCHASTIC": [0.1, 50.0]}, "SGD_LRS_STOCHASTIC = [0.1, 50.0]: must be"),
        ({"PSNR_NOISE_STDS": [0.5, 3.0]}, "PSNR_NOISE_STDS = [0.5, 3.0]: must be a list"),
    ],
)
def test_a_parameter_larger_than_what_it_applies_to_is_named(changes, words):
    companion = json.loads((ROOT / "companion_results.json").read_text(encoding="utf-8"))
    config = {name: value for name, value in companion["config"].items() if name != "device"}
    config = {**SUBMISSION_CONFIG, **config} if "TEST_EVERY" in changes else config
    known = {**settings.SUBMISSION_PARAMETERS, **study_settings.COMPANION_PARAMETERS}
    with pytest.raises(settings.SettingsError, match=re.escape(words)):
        settings.check_parameters({**config, **changes}, known, *COMPANION_RULES)


def test_each_parameters_cell_sets_exactly_the_names_settings_py_knows():
    import nbformat

    for notebook, known in (
        ("exercise9.ipynb", settings.SUBMISSION_PARAMETERS),
        ("companion.ipynb", study_settings.COMPANION_PARAMETERS),
    ):
        cell = next(
            cell
            for cell in nbformat.read(ROOT / notebook, as_version=4).cells
            if "parameters" in cell.metadata.get("tags", [])
        )
        names = {line.split(" = ")[0] for line in cell.source.splitlines() if " = " in line}
        assert names - {"AUTHORS"} == set(known), notebook
        assert set(known.values()) <= set(study_settings.KINDS), notebook
