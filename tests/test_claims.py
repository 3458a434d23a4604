"""Every qualitative claim of the submission, checked against results.json.

Each test names the sentence it guards (the text must still say it) and checks it at every
epoch, class or noise level it speaks of. Set EXERCISE9_RESULTS to check another results file:
test_claims_fail_when_the_models_are_swapped does so with the two models' entries swapped, and
these tests must then fail. The companion notebook's claims are in test_companion.py.
"""

import json
import os
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import nbformat
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
RESULTS_VARIABLE = "EXERCISE9_RESULTS"
PLAIN, DENOISING = "autoencoder", "denoising_autoencoder"
TOPS = ["T-shirt/top", "Pullover", "Dress", "Coat", "Shirt"]
CLOTHES = [*TOPS, "Trouser"]
FOOTWEAR = ["Sandal", "Sneaker", "Ankle boot"]
SEPARATION = [
    "5-NN accuracy",
    "linear-probe accuracy",
    "silhouette in code space",
    "silhouette in the t-SNE plane",
]


@pytest.fixture(scope="module")
def results() -> dict:
    path = Path(os.environ.get(RESULTS_VARIABLE, ROOT / "results.json"))
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def text() -> str:
    """The notebook's Markdown cells, as one string."""
    notebook = nbformat.read(ROOT / "exercise9.ipynb", as_version=4)
    return "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")


def said(sentence: str, text: str) -> None:
    """Fail unless the report says `sentence` (line breaks in the Markdown ignored)."""
    assert " ".join(sentence.split()) in " ".join(text.split()), f"not in the report: {sentence}"


def final_test(results: dict, model: str) -> float:
    return results[model]["test_loss"][str(results["config"]["EPOCHS"])]


def recall(results: dict, model: str) -> dict[str, float]:
    return results["tsne_map"][model]["class_recall"]


def votes_for(results: dict, model: str, name: str, group: list[str]) -> int:
    """Return how many points of class `name` the map's 5-neighbour vote gives to `group`."""
    return sum(
        count
        for voted, count in results["tsne_map"][model]["votes"][name].items()
        if voted in group
    )


# ---------------------------------------------------------------------------- Question 2


def test_q2c_the_loss_falls_fast_in_five_epochs_and_slowly_after(results, text):
    """'The training loss falls ... fast in the first five epochs and slowly after.'"""
    said("fast in the first five epochs and slowly after", text)
    loss = results[PLAIN]["train_loss"]
    assert loss[0] - loss[4] > 2 * (loss[4] - loss[-1])
    assert all(later <= earlier for earlier, later in pairwise(loss))


def test_q2c_a_second_faster_fall_from_epoch_30_to_40(results, text):
    """'with a second, faster fall from epoch 30 to 40': the loss falls more per epoch from
    epoch 30 to 40 than over the ten epochs before and after, by half at least."""
    said("with a second, faster fall from epoch 30 to 40", text)
    loss = results[PLAIN]["train_loss"]
    before, during, after = (loss[19] - loss[29], loss[29] - loss[39], loss[39] - loss[49])
    assert during > 1.5 * max(before, after)


def test_q2c_the_test_loss_falls_at_every_test_to_a_fifth_of_the_mean_images(results, text):
    """'The test loss falls at every test, to ... after epoch 50, a fifth of the error of
    predicting the mean image.'"""
    said("The test loss falls at every test", text)
    said("a fifth of the error of predicting the mean image", text)
    tests = list(results[PLAIN]["test_loss"].values())
    assert all(later < earlier for earlier, later in pairwise(tests))
    assert 0.17 < final_test(results, PLAIN) / results["references"]["predict_the_mean_mse"] < 0.23


def test_q2c_test_loss_just_above_training_loss_at_every_test(results, text):
    """'At every test it lies just above the training loss of the same epoch, by at most ...:
    ... in 50 epochs there is no sign of overfitting.'"""
    said("At every test it lies just above the training loss of the same epoch, by at most", text)
    said("in 50 epochs there is no sign of overfitting", text)
    plain = results[PLAIN]
    for epoch, loss in plain["test_loss"].items():
        assert loss > plain["train_loss"][int(epoch) - 1], epoch
    assert max(plain["train_test_gap"].values()) < 0.05
    tests = list(plain["test_loss"].values())  # and it never rises: no sign of overfitting
    assert all(later < earlier for earlier, later in pairwise(tests))


def test_q2c_six_of_eight_units_fire(results, text):
    """'Six of the eight code units fire on some test image': the other two are dead."""
    said("Six of the eight code units fire on some test image (Table 3)", text)
    assert results[PLAIN]["live_code_units"] == 6
    assert sum(share == 0 for share in results[PLAIN]["unit_activity"]) == 2


def keeps_the_rough_shape(results: dict, model: str, brightness: float) -> None:
    """A proxy for the eye: at every test, each of the ten reconstructions keeps its clean
    image's brightness (the area of the garment) within `brightness` and an error below half
    of predicting the mean image."""
    recorded, mean_mse = results[model]["recorded"], results["references"]["predict_the_mean_mse"]
    for epoch, pixels in recorded["mean_pixel"].items():
        for name, value in pixels.items():
            assert abs(value - recorded["clean_mean_pixel"][name]) < brightness, (epoch, name)
            assert recorded["mse"][epoch][name] < 0.5 * mean_mse, (epoch, name)


def test_q2d_every_reconstruction_keeps_the_kind_and_rough_shape_from_epoch_10(results, text):
    """'From epoch 10 on, every reconstruction keeps the rough shape of its item but not its
    thin parts, and all except the shirt and the coat keep their kind': the rough shape as
    keeps_the_rough_shape measures it (brightness within 0.05); the thin parts lost are the
    next test's; the kinds were checked by eye."""
    said(
        "From epoch 10 on, every reconstruction keeps the rough shape of its item but not its "
        "thin parts, and all except the shirt and the coat keep their kind",
        text,
    )
    keeps_the_rough_shape(results, PLAIN, 0.05)


def test_q2d_fine_detail_is_missing_at_every_epoch(results, text):
    """'the prints on the T-shirt and the pullover, the coat's zip and light edges and the bag's
    handle are missing, and the sandal's thin straps blur into one arc' and 'the coat a dim
    one': a proxy
    for the eye, the pullover
    (a large print) keeps an error above 0.1 per pixel at every test while the plain shapes get
    below 0.05; the coat keeps under a fifth of its light pixels and the sandal between a
    tenth and three quarters. The small T-shirt print, the bag's thin handle and which of the
    sandal's straps remain add too few pixels to show in a per-image error: they were checked
    by eye."""
    said(
        "the prints on the T-shirt and the pullover, the coat's zip and light edges and the bag's "
        "handle are missing, and the sandal's thin straps blur into one arc",
        text,
    )
    recorded = results[PLAIN]["recorded"]
    for epoch, mse in recorded["mse"].items():
        assert mse["Pullover"] > 0.1, epoch
        light = recorded["light_share"][epoch]
        assert light["Coat"] < 0.2 * recorded["clean_light_share"]["Coat"], epoch
        clean_sandal = recorded["clean_light_share"]["Sandal"]
        assert 0.1 * clean_sandal < light["Sandal"] < 0.75 * clean_sandal, epoch
    last = recorded["mse"][str(results["config"]["EPOCHS"])]
    assert all(last[name] < 0.05 for name in ("Trouser", "Dress", "Sandal", "Ankle boot"))


def test_q2d_the_shirt_and_the_coat_come_out_as_plain_long_sleeved_tops(results, text):
    """'The shirt and the coat come out as plain long-sleeved tops, the coat a dim one': a
    proxy for the eye, at every test both keep an error above the plain shapes' 0.05 (their
    detail is lost) while their brightness stays that of their garment; the coat has under a
    fifth of its light pixels. That they look like long-sleeved tops was checked by eye."""
    said("The shirt and the coat come out as plain long-sleeved tops, the coat a dim one", text)
    recorded = results[PLAIN]["recorded"]
    for epoch, mse in recorded["mse"].items():
        assert min(mse["Shirt"], mse["Coat"]) > 0.05, epoch
        assert (
            recorded["light_share"][epoch]["Coat"] < 0.2 * recorded["clean_light_share"]["Coat"]
        ), epoch


def test_q3b_the_denoised_outputs_keep_the_rough_shape_and_lose_the_shirt_and_coat(results, text):
    """'As in Figure 1, each keeps the rough shape of its item, and all but the shirt and the
    coat keep their kind: those two come out as plain long-sleeved tops again': the rough
    shape as keeps_the_rough_shape measures it (brightness within 0.1: the denoised outputs
    are a little darker), and the shirt and the coat keep an error above the plain shapes'
    0.05 at every test, the coat under a fifth of its light pixels."""
    said(
        "As in Figure 1, each keeps the rough shape of its item, and all but the shirt and the "
        "coat keep their kind: those two come out as plain long-sleeved tops again",
        text,
    )
    keeps_the_rough_shape(results, DENOISING, 0.1)
    recorded = results[DENOISING]["recorded"]
    for epoch, mse in recorded["mse"].items():
        assert min(mse["Shirt"], mse["Coat"]) > 0.05, epoch
        light = recorded["light_share"][epoch]["Coat"]
        assert light < 0.2 * recorded["clean_light_share"]["Coat"], epoch


def test_q2d_the_code_has_eight_numbers_six_of_them_live(results, text):
    """'(eight numbers, of which six are live, Table 3)'."""
    said("(eight numbers, of which six are live, Table 3)", text)
    assert len(results[PLAIN]["unit_activity"]) == 8 and results[PLAIN]["live_code_units"] == 6


def test_q2e_only_coarse_groups_the_four_overlapping_tops_at_most_half(results, text):
    """'Only into coarse groups, not into the ten classes': the footwear group keeps 95% and
    more, while the pullovers, dresses, coats and shirts keep at most 51% each and below the
    T-shirts and trousers, which keep over 60% ('largely to themselves')."""
    said("Only into coarse groups, not into the ten classes.", text)
    said(
        "among the clothes the T-shirts and the trousers keep largely to themselves, while the "
        "pullovers, dresses, coats and shirts overlap, none with more than",
        text,
    )
    shares = recall(results, PLAIN)
    assert results["tsne_map"][PLAIN]["group_recall"]["footwear"] >= 0.95
    assert max(shares[name] for name in ("Pullover", "Dress", "Coat", "Shirt")) < 0.515
    assert min(shares["T-shirt/top"], shares["Trouser"]) > 0.6


def test_q2d_later_rows_change_little(results, text):
    """'The later rows change little to the eye, while the test MSE falls at every test': the
    ten images' error changes by less than a quarter from epoch 10 to the last test."""
    said("The later rows change little to the eye, while the test MSE falls at every test", text)
    mse = results[PLAIN]["recorded"]["mse"]
    first, last = np.mean(list(mse["10"].values())), np.mean(list(mse[list(mse)[-1]].values()))
    assert 0.75 * first < last < first


def test_q2e_the_footwear_apart_sandals_and_sneakers_mixed_ankle_boots_apart(results, text):
    """'The footwear forms a band of its own ...: ... of its points have mostly footwear
    neighbours. Inside it the sandals and sneakers mix, while the ankle boots ... gather'."""
    said("the footwear forms a band of its own at the top, apart from the clothes", text)
    said(
        "Inside it the sandals and sneakers mix, while the ankle boots run along its lower edge "
        "and gather at its right end",
        text,
    )
    plain = results["tsne_map"][PLAIN]
    assert plain["group_recall"]["footwear"] >= 0.95
    assert [name for name in FOOTWEAR if plain["class_recall"][name] > 0.5] == ["Ankle boot"]
    assert plain["taken_for"]["Sandal"] == "Sneaker" and plain["taken_for"]["Sneaker"] == "Sandal"


def test_q2e_most_bags_keep_to_themselves_the_few_others_among_the_clothes(results, text):
    """'Most bags have mostly bag neighbours (...), in a group just below the footwear and a
    small clump below its right half, next to the ankle boots; the few others lie among the
    clothes.'"""
    said("Most bags (85%) are voted bags, in a group just below the footwear", text)
    said("the few others lie among the clothes", text)
    votes = results["tsne_map"][PLAIN]["votes"]["Bag"]
    others = sum(votes.values()) - votes["Bag"]
    assert recall(results, PLAIN)["Bag"] > 0.75 and 1 <= others <= 10
    assert votes_for(results, PLAIN, "Bag", CLOTHES) == others


def test_q2e_t_shirts_and_trousers_in_strands_the_other_clothes_overlap(results, text):
    """'the T-shirts form a long strand on the left (...) and the trousers a compact group ...
    with a second, smaller strand among the dresses (...). The other clothes overlap: the
    dresses mix most with the trousers, the pullovers with the coats, and the shirts, the most
    mixed class (...), lie mostly among the T-shirts and pullovers.'"""
    said("the T-shirts form a long strand on the left", text)
    said("with a second, smaller strand among the dresses", text)
    said(
        "The other clothes overlap: the dresses mix most with the trousers, the pullovers with "
        "the coats, and the shirts, the most mixed class",
        text,
    )
    said("lie mostly among the T-shirts and pullovers", text)
    shares, votes = recall(results, PLAIN), results["tsne_map"][PLAIN]["votes"]
    overlapping = ["Pullover", "Coat", "Dress", "Shirt"]
    assert min(shares["T-shirt/top"], shares["Trouser"]) > max(shares[n] for n in overlapping)

    def most_mixed_with(name: str) -> str:
        others = {voted: count for voted, count in votes[name].items() if voted != name}
        return max(others, key=others.get)

    assert most_mixed_with("Trouser") == "Dress" and most_mixed_with("Dress") == "Trouser"
    assert most_mixed_with("Pullover") == "Coat" and most_mixed_with("Coat") == "Pullover"
    assert min(shares, key=shares.get) == "Shirt"
    shirt = {voted: count for voted, count in votes["Shirt"].items() if voted != "Shirt"}
    assert shirt["T-shirt/top"] + shirt["Pullover"] > 0.5 * sum(shirt.values())


# ---------------------------------------------------------------------------- Question 3


def test_q3b_no_noise_survives_and_as_blurred_as_the_plain_models(results, text):
    """'none of the noise of the top row survives' and 'They are as blurred as the plain model's
    and lose the same details': on the ten images, every test's error is far below
    the noisy input's; the last reconstructions of both models are within a quarter of each
    other's error, and the pullover and the coat keep a high error at every test."""
    said("none of the noise of the top row survives", text)
    said("They are as blurred as the plain model's and lose the same details", text)
    denoising = results[DENOISING]
    for epoch, mse in denoising["recorded"]["mse"].items():
        assert np.mean(list(mse.values())) < 0.35 * denoising["noisy_input_mse"], epoch
        assert min(mse["Pullover"], mse["Coat"]) > 0.1, epoch
    last = str(results["config"]["EPOCHS"])
    plain = np.mean(list(results[PLAIN]["recorded"]["mse"][last].values()))
    assert 0.75 < np.mean(list(denoising["recorded"]["mse"][last].values())) / plain < 1.25


def test_q3b_the_training_loss_lies_above_the_plain_models_at_every_epoch(results, text):
    """'At every epoch the denoising model's training loss lies above the plain model's of the
    same epoch'; its test loss falls at every test."""
    said(
        "At every epoch the denoising model's training loss lies above the plain model's of "
        "the same epoch",
        text,
    )
    plain, denoising = results[PLAIN]["train_loss"], results[DENOISING]["train_loss"]
    assert all(d > p for d, p in zip(denoising, plain, strict=True))
    tests = list(results[DENOISING]["test_loss"].values())
    assert all(later < earlier for earlier, later in pairwise(tests))


def test_q3b_the_denoising_losses_have_not_levelled_off_at_epoch_50(results, text):
    """'over epochs 41 to 50 its training loss falls at every epoch and more than twice as much
    as over epochs 31 to 40, and its test loss falls more from epoch 40 to 50 than between any
    two earlier tests'."""
    said(
        "Its losses have not levelled off at epoch 50 (Figure 3, Table 2): over epochs 41 to 50 "
        "its training loss falls at every epoch and more than twice as much as over epochs 31 "
        "to 40, and its test loss falls more from epoch 40 to 50 than between any two earlier "
        "consecutive tests",
        text,
    )
    loss, tests = results[DENOISING]["train_loss"], list(results[DENOISING]["test_loss"].values())
    assert all(later < earlier for earlier, later in pairwise(loss[39:]))
    assert loss[39] - loss[49] > 2 * (loss[29] - loss[39])
    falls = [earlier - later for earlier, later in pairwise(tests)]
    assert falls[-1] == max(falls)


def test_q3b_the_plain_model_also_removes_most_noise_the_denoising_loses_little(results, text):
    """'The plain autoencoder, never trained on noise, also removes most of it ... The
    denoising model loses little on clean images'."""
    said("The plain autoencoder, never trained on noise, also removes most of it", text)
    said("The denoising model loses little on clean images", text)
    plain, denoising = results[PLAIN], results[DENOISING]
    assert plain["test_mse_noisy"] < 0.5 * denoising["noisy_input_mse"]
    assert plain["test_mse_noisy"] > plain["test_mse_clean"]
    assert denoising["test_mse_clean"] < 1.05 * plain["test_mse_clean"]
    assert denoising["test_mse_noisy"] < plain["test_mse_noisy"]


def test_q3c_the_denoising_map_keeps_dresses_sneakers_trousers_more_bags_coats_less(results, text):
    """'the denoising map keeps the dresses (...), sneakers and trousers more to themselves and
    the bags (...) and coats less, its bags in several small groups where the plain map has
    one main group and a small clump': the five classes that differ by 10 points or more."""
    said("the denoising map keeps the dresses", text)
    said("sneakers and trousers more to themselves and the bags", text)
    said(
        "and coats less, its bags in several small groups where the plain map has one main "
        "group and a small clump",
        text,
    )
    plain, denoising = recall(results, PLAIN), recall(results, DENOISING)
    named = {"Dress": 1, "Sneaker": 1, "Trouser": 1, "Bag": -1, "Coat": -1}
    assert {name for name in plain if abs(denoising[name] - plain[name]) >= 0.095} == set(named)
    for name, sign in named.items():
        assert sign * (denoising[name] - plain[name]) > 0.095, name


def test_q3c_both_maps_keep_the_footwear_apart_and_the_other_clothes_overlap(results, text):
    """'Both maps (Figure 4) put the footwear apart from the clothes (...), keep the T-shirts
    and trousers largely to themselves and let the other clothes overlap, the shirts most'."""
    said("Both maps (Figure 4) put the footwear apart from the clothes", text)
    said("keep the T-shirts and trousers largely to themselves and let the other clothes", text)
    said("overlap, the shirts most", text)
    others = ("Pullover", "Dress", "Coat", "Shirt")
    for model in (PLAIN, DENOISING):
        shares = recall(results, model)
        assert results["tsne_map"][model]["group_recall"]["footwear"] >= 0.95, model
        assert min(shares["T-shirt/top"], shares["Trouser"]) > 0.65, model
        assert all(shares[name] < 0.75 for name in others), model
        assert min(shares, key=shares.get) == "Shirt", model


def swapped(results: dict) -> dict:
    """Return the results with the plain and the denoising model's entries exchanged."""

    def swap(part: dict) -> dict:
        part = dict(part)
        part[PLAIN], part[DENOISING] = part[DENOISING], part[PLAIN]
        return part

    results = swap(results)
    results["tsne_map"] = swap(results["tsne_map"])
    return results


@pytest.mark.slow
def test_claims_fail_when_the_models_are_swapped(results, tmp_path):
    """Results that contradict the text make the claims tests fail."""
    if os.environ.get(RESULTS_VARIABLE):
        pytest.skip("already checking another results file")
    path = tmp_path / "swapped.json"
    path.write_text(json.dumps(swapped(results)), encoding="utf-8")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "no:xdist",
            "-o",
            "addopts=",
            "-m",
            "not slow",
            __file__,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, RESULTS_VARIABLE: str(path)},
    )
    assert run.returncode == 1, run.stdout[-2000:]
    for claim in (
        "test_q3b_the_training_loss_lies_above_the_plain_models_at_every_epoch",
        "test_q2e_most_bags_keep_to_themselves_the_few_others_among_the_clothes",
        "test_q3c_the_denoising_map_keeps_dresses_sneakers_trousers_more_bags_coats_less",
    ):
        assert f"FAILED tests/test_claims.py::{claim}" in run.stdout, run.stdout[-2000:]
