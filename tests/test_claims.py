"""Every qualitative claim of the report, checked against results.json.

Each test names the sentence it guards. The static sentences are Markdown in the notebook (the
test checks they are there); the computed ones are rendered by report.py from results.json's
seed study, and the test renders them again and finds them in the notebook's outputs. Set
EXERCISE9_RESULTS to check another results file: test_claims_fail_when_the_models_are_swapped
does so with the two models' entries swapped, and these tests must then fail.
"""

import json
import os
from pathlib import Path

import nbformat
import pytest

import report

ROOT = Path(__file__).resolve().parents[1]
RESULTS_VARIABLE = "EXERCISE9_RESULTS"


@pytest.fixture(scope="module")
def results() -> dict:
    path = Path(os.environ.get(RESULTS_VARIABLE, ROOT / "results.json"))
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def study(results) -> dict:
    return results["seed_study"]


@pytest.fixture(scope="module")
def text() -> str:
    """The notebook's Markdown cells and rendered Markdown outputs, as one string."""
    notebook = nbformat.read(ROOT / "exercise9.ipynb", as_version=4)
    parts = [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]
    parts += [out.get("data", {}).get("text/markdown", "") for cell in notebook.cells
              if cell.cell_type == "code" for out in cell.outputs]
    return "\n".join(parts)


def said(sentence: str, text: str) -> None:
    """Fail unless the report says `sentence` (line breaks in the Markdown ignored)."""
    assert " ".join(sentence.split()) in " ".join(text.split()), f"not in the report: {sentence}"


def test_q1_batch_gd_makes_the_fewest_updates_and_mini_batch_the_most_examples(results, text):
    """'Batch GD: exact gradient, one update per pass ... Mini-batch GD: the compromise': and
    'mini-batch GD processes N times as many examples per second' (a timing: 2x margin)."""
    said("Batch GD: exact gradient, one update per pass.", text)
    sgd = results["sgd_variants"]
    assert sgd["batch"]["updates"] < sgd["mini_batch"]["updates"] < sgd["stochastic"]["updates"]
    assert sgd["mini_batch"]["examples_per_second"] > 2 * sgd["stochastic"]["examples_per_second"]
    assert sgd["stochastic"]["updates_per_second"] > 2 * sgd["batch"]["updates_per_second"]


def test_q2c_the_autoencoder_beats_pca8_in_every_seed(results, study, text):
    """'Test MSE ... (n seeds, 50 epochs), below PCA-8's.'"""
    said("below PCA-8's.", text)
    pca = results["references"]["pca8_mse"]
    assert max(report.seed_values(study, "autoencoder", "test_mse_clean")) < pca
    assert results["autoencoder"]["test_loss"][str(results["config"]["EPOCHS"])] < pca


def test_q2c_little_room_to_overfit(results, text):
    """'Test and training loss stay within ...: the model has little room to overfit.'"""
    said("the model has little room to overfit", text)
    plain = results["autoencoder"]
    final_test = plain["test_loss"][str(results["config"]["EPOCHS"])]
    assert abs(final_test - plain["train_loss"][-1]) < 0.1 * plain["train_loss"][-1]


def test_q2d_the_first_test_already_gets_the_garment_right(results, text):
    """'After the first test the garment type, outline and brightness are already right': the
    first test loss is already below 40% of predicting the mean image."""
    said("After the first test the garment type, outline and brightness are already right", text)
    first = next(iter(results["autoencoder"]["test_loss"].values()))
    assert first < 0.4 * results["references"]["predict_the_mean_mse"]


@pytest.mark.parametrize("model", ["autoencoder", "denoising_autoencoder"])
def test_q2e_q3c_garment_groups_apart_and_tops_overlapping(results, text, model):
    """'the footwear (sandals, sneakers, ankle boots) forms a region of its own, apart from the
    clothes; the trousers and the bags mostly keep to areas of their own; and the five kinds of
    tops ... overlap' (Q2 e), and 'the same coarse layout of garment groups' (Q3 c): from each
    point's 5 nearest neighbours in the t-SNE plane (own group: at least 90% for footwear and
    85% for tops, more than 60% for trousers and bags; tops classes below 80% on average)."""
    said("the footwear (sandals, sneakers, ankle boots) forms a region of its own, apart from "
         "the clothes; the trousers and the bags mostly keep to areas of their own", text)
    said("Both maps (Figure 7) show the same coarse layout of garment groups", text)
    groups = results["tsne_map"][model]["group_recall"]
    recall = results["tsne_map"][model]["class_recall"]
    assert groups["footwear"] >= 0.9 and groups["tops"] >= 0.85
    assert min(groups["trousers"], groups["bags"]) > 0.6
    tops = ["T-shirt/top", "Pullover", "Dress", "Coat", "Shirt"]
    assert sum(recall[name] for name in tops) / len(tops) < 0.8


def test_q3b_the_denoising_model_removes_noise_and_its_loss_lies_above(results, study, text):
    """'Noisy-input test MSE ..., against 0.25 for the noisy input itself', and 'The denoising
    model's losses compare reconstructions of noisy inputs with clean images, so they lie above
    the plain model's (Figure 6).'"""
    said("so they lie above the plain model's (Figure 6)", text)
    noise = report.study_noise(study) ** 2
    assert max(report.seed_values(study, "denoising_autoencoder", "test_mse_noisy")) < noise / 2
    epochs = str(results["config"]["EPOCHS"])
    plain, denoising = results["autoencoder"], results["denoising_autoencoder"]
    assert denoising["test_loss"][epochs] > plain["test_loss"][epochs]
    assert all(d > p for d, p in zip(denoising["train_loss"], plain["train_loss"]))


def test_q3b_the_plain_autoencoder_is_already_a_strong_denoiser(results, study, text):
    """'A bottleneck of eight numbers cannot pass pixel noise through, so the plain autoencoder
    is already a strong denoiser.'"""
    said("so the plain autoencoder is already a strong denoiser", text)
    noise = report.study_noise(study) ** 2
    assert max(report.seed_values(study, "autoencoder", "test_mse_noisy")) < noise / 2


def test_seed_verdicts_in_the_text_follow_the_seed_study(study, text):
    """The rendered verdicts ('no measurable difference' within 2 sd, else which model is
    better) of Q3 c) and Appendix A.7, recomputed from the results' seed study."""
    said(report.comparison_short(study), text)
    said(f"**Answer.** {report.comparison_lead(study)}. Both maps", text)
    said(report.seed_summary(study), text)
    said(report.seed_differences(study), text)


def test_a3_strong_noise_is_removed_and_weak_noise_costs_detail(results, text):
    """'wherever the noisy input is below 15 dB, both reconstructions are at least 3 dB above
    it ... At weak noise (input above 20 dB) both are below the input'."""
    said("wherever the noisy input is below 15 dB, both reconstructions are at least 3 dB above "
         "it", text)
    said("At weak noise (input above 20 dB) both are below the input", text)
    psnr = results["denoising_psnr"]
    for noisy, plain, denoising in zip(psnr["noisy_input_db"], psnr["autoencoder_db"],
                                       psnr["denoising_autoencoder_db"]):
        if noisy is not None and noisy < 15:
            assert min(plain, denoising) >= noisy + 3
        if noisy is None or noisy > 20:
            assert noisy is None or max(plain, denoising) < noisy


def test_a2_pca8_separates_the_classes_about_as_well(results, study, text):
    """'the non-linear codes reconstruct much better than PCA-8 (A.6) but do not separate the
    classes better': PCA-8's k-NN accuracy is not below the autoencoder's seed range."""
    said("but do not separate the classes better", text)
    pca = results["code_quality"]["pca8"]["knn_accuracy"]
    assert pca >= min(report.seed_values(study, "autoencoder", "knn_accuracy"))


def test_a6_both_autoencoders_beat_pca8_on_clean_and_noisy_inputs(results, text):
    """'both autoencoders beat the best linear code of the same size on both.'"""
    said("both autoencoders beat the best linear code of the same size on both", text)
    references, epochs = results["references"], str(results["config"]["EPOCHS"])
    plain, denoising = results["autoencoder"], results["denoising_autoencoder"]
    assert max(plain["test_loss"][epochs], denoising["test_mse_clean"]) < references["pca8_mse"]
    assert max(plain["test_mse_noisy"], denoising["test_loss"][epochs]) < \
        references["pca8_noisy_mse"]


def swapped(results: dict) -> dict:
    """Return the results with the plain and the denoising model's entries exchanged."""
    def swap(part: dict) -> dict:
        part = dict(part)
        part["autoencoder"], part["denoising_autoencoder"] = (part["denoising_autoencoder"],
                                                              part["autoencoder"])
        return part

    results = swap(results)
    for key in ("seed_study", "code_quality", "tsne_map"):
        results[key] = swap(results[key])
    psnr = dict(results["denoising_psnr"])
    psnr["autoencoder_db"], psnr["denoising_autoencoder_db"] = (psnr["denoising_autoencoder_db"],
                                                                psnr["autoencoder_db"])
    results["denoising_psnr"] = psnr
    return results


@pytest.mark.slow
def test_claims_fail_when_the_models_are_swapped(results, tmp_path):
    """Results that contradict the text make the claims tests fail."""
    import subprocess
    import sys

    if os.environ.get(RESULTS_VARIABLE):
        pytest.skip("already checking another results file")
    path = tmp_path / "swapped.json"
    path.write_text(json.dumps(swapped(results)), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "-o", "addopts=", "-m", "not slow", __file__], cwd=ROOT,
                         capture_output=True, text=True,
                         env={**os.environ, RESULTS_VARIABLE: str(path)})
    assert run.returncode == 1, run.stdout[-2000:]
    assert "test_q3b_the_denoising_model_removes_noise_and_its_loss_lies_above FAILED" in \
        run.stdout or "FAILED tests/test_claims.py::test_q3b" in run.stdout, run.stdout[-2000:]


def test_a1_the_best_learning_rate_of_each_variant_is_inside_its_grid(results, text):
    """'The best rate of each variant lies inside its grid, not at an edge.'"""
    said("The best rate of each variant lies inside its grid, not at an edge", text)
    for name, run in results["sgd_variants"].items():
        if isinstance(run, dict):
            rates = sorted(run["learning_rates"], key=float)
            assert rates[0] != f"{run['lr']:g}" != rates[-1], name
