"""Evaluation: codes and reconstructions without gradients, in eval mode, and the losses."""

import math

import numpy as np
import pytest
import torch

import data_files
import explorer
import helpers
import measures
import study_settings
from seed_study import scoring as seed_scoring


@pytest.fixture
def model():
    return helpers.Autoencoder(seed=0)


def test_encode_returns_8d_codes_without_gradients_and_restores_train_mode(model):
    model.train()
    codes = helpers.encode(model, torch.randn(6, 784))
    assert codes.shape == (6, 8) and not codes.requires_grad and model.training
    assert torch.all(codes >= 0)  # the code layer ends in ReLU


def test_reconstruct_matches_the_forward_pass_and_restores_eval_mode(model):
    model.eval()
    x = torch.randn(4, 784)
    output = helpers.reconstruct(model, x)
    assert torch.equal(output, model(x).detach()) and not model.training


def test_decode_runs_the_decoder_alone_without_gradients(model):
    codes = helpers.encode(model, torch.randn(5, 784))
    images = explorer.decode(model, codes)
    assert not images.requires_grad and model.training
    model.eval()
    assert torch.equal(images, model.decoder(codes).detach())


def test_reconstruction_loss_is_the_mean_over_every_pixel_of_every_image(model):
    x = torch.randn(1001, 784)
    expected = torch.nn.functional.mse_loss(model(x), x).item()
    assert helpers.reconstruction_loss(model, x, x, batch_size=100) == pytest.approx(
        expected, rel=1e-5
    )


def test_mean_image_loss_is_the_mean_pixel_variance():
    x = torch.tensor([[0.0, 2.0], [2.0, 2.0]])
    assert helpers.mean_image_loss(x) == pytest.approx(0.5)


def test_count_live_units_counts_units_that_fire_on_some_input(model):
    with torch.no_grad():
        model.encoder[8].bias[:5] = -1e3
    assert helpers.count_live_units(model, torch.randn(50, 784)) == 3


def test_per_class_recall_names_the_classes():
    labels = np.array([0, 0, 1, 1, 1, 2, 2, 2])
    predicted = np.array([0, 0, 1, 2, 2, 2, 1, 2])  # classes b and c are mixed up
    names = ["a", "b", "c"]
    recall = helpers.per_class_recall(labels, predicted, names)
    assert recall == pytest.approx({"a": 1.0, "b": 1 / 3, "c": 2 / 3})


def test_pca_with_all_components_reconstructs_exactly():
    x = torch.randn(200, 784)
    assert measures.pca_reconstruction_loss(measures.fit_pca(x, 200), x[:20], x[:20]) < 1e-6
    assert measures.pca_reconstruction_loss(measures.fit_pca(x, 1), x[:20], x[:20]) > 0.5


def test_pca_reconstruction_loss_scores_noisy_inputs_against_clean_targets():
    x = torch.randn(500, 10)
    pca = measures.fit_pca(x, 10)  # all components: reconstructs any input exactly
    noisy = x + 0.1
    assert measures.pca_reconstruction_loss(pca, noisy, x) == pytest.approx(0.01, rel=1e-3)


def test_unit_activity_is_the_share_of_codes_where_a_unit_is_non_zero():
    codes = np.array([[0.0, 1.0, -2.0], [0.0, 0.0, 3.0], [0.0, 2.0, 1.0], [0.0, 0.0, 4.0]])
    assert helpers.unit_activity(codes).tolist() == [0.0, 0.5, 1.0]


def test_linear_code_units_count_as_live_even_when_negative():
    model = measures.LinearCodeAutoencoder(seed=0)
    with torch.no_grad():
        model.encoder[8].bias[:] = -1e3  # every code value negative
    assert helpers.count_live_units(model, torch.randn(20, 784)) == 8


def test_psnr_is_infinite_for_identical_images_and_follows_the_mse():
    x = torch.rand(5, 784) * 2 - 1
    assert measures.psnr(x, x) == math.inf
    assert measures.psnr(x + 0.2, x) == pytest.approx(10 * math.log10(4 / 0.04))
    assert measures.psnr(x + 0.1, x, data_range=1.0) == pytest.approx(20.0)


def test_psnr_by_noise_has_one_value_per_level_and_falls_with_noise(model):
    x = torch.rand(30, 784) * 2 - 1
    curves = measures.psnr_by_noise({"ae": model}, x, [0.0, 0.5, 1.0], seed=0)
    assert list(curves) == ["noisy input", "ae"] and all(len(v) == 3 for v in curves.values())
    noisy = curves["noisy input"]
    assert noisy[0] == math.inf and noisy[1] == pytest.approx(20 * math.log10(2 / 0.5), abs=0.1)
    assert noisy[1] > noisy[2]
    again = measures.psnr_by_noise({"ae": model}, x, [0.0, 0.5, 1.0], seed=0)
    assert again == curves


def test_fixed_test_noise_is_the_same_draw_every_time():
    x = torch.zeros(3, 784)
    assert torch.equal(helpers.fixed_test_noise(x, 0.5, 0), helpers.fixed_test_noise(x, 0.5, 0))
    assert helpers.fixed_test_noise(x, 0.0, 0) is x


def code_reading(weights: torch.Tensor) -> helpers.Autoencoder:
    """A model whose 8 code units all read the image through the same first-layer weights."""
    model = measures.LinearCodeAutoencoder(seed=0)
    with torch.no_grad():
        for layer in model.encoder[::2]:
            layer.weight.zero_()
            layer.bias.zero_()
        model.encoder[0].weight[:] = weights
        for layer in model.encoder[2::2]:
            layer.weight[:, 0] = 1.0
    return model


def test_a_robust_code_keeps_more_of_its_variance_under_noise():
    """A code that averages all 784 pixels moves about 28 times less under pixel noise than
    one that reads a single pixel, so it keeps more of its variance."""
    x = torch.linspace(0.25, 0.75, 200)[:, None].expand(200, 784).contiguous()  # brightness
    averaging = code_reading(torch.full((784,), 1 / 784))
    one_pixel = code_reading(torch.nn.functional.one_hot(torch.tensor(300), 784).float())
    assert seed_scoring.code_stability(averaging, x, 0.0, 0) == 1.0
    robust = seed_scoring.code_stability(averaging, x, 0.5, 0)
    fragile = seed_scoring.code_stability(one_pixel, x, 0.5, 0)
    assert fragile < robust < 1.0


def test_stability_of_a_code_that_cannot_move_is_undefined():
    """Every code unit dead: the code is 0 for every input, noise or not, and has no variance
    to keep; the measure says NaN rather than a number."""
    model = helpers.Autoencoder(seed=0)
    with torch.no_grad():
        model.encoder[-2].bias.fill_(-1e3)
    x = torch.rand(50, 784)
    assert (helpers.encode(model, helpers.add_white_noise(x, 1.0)) == 0).all()
    assert math.isnan(seed_scoring.code_stability(model, x, 1.0, 0))


def test_stability_uses_the_noise_draw_of_psnr_by_noise():
    model, x = helpers.Autoencoder(seed=0), torch.rand(30, 784)
    noisy = helpers.add_white_noise(x, 0.3, torch.Generator().manual_seed(4))
    clean, moved = helpers.encode(model, x), helpers.encode(model, noisy)
    live = (clean != 0).any(0)
    expected = (
        1
        - ((moved - clean)[:, live] ** 2).sum(1).mean()
        / ((clean[:, live] - clean[:, live].mean(0)) ** 2).sum(1).mean()
    )
    assert seed_scoring.code_stability(model, x, 0.3, 4) == pytest.approx(expected.item(), rel=1e-5)


def test_linear_cka_is_1_for_a_rotated_or_scaled_code_and_low_for_an_independent_one():
    rng = np.random.default_rng(0)
    code = rng.normal(size=(2000, 8)) @ rng.normal(size=(8, 8))
    rotation, _ = np.linalg.qr(rng.normal(size=(8, 8)))
    assert seed_scoring.linear_cka(code, code @ rotation) == pytest.approx(1.0)
    assert seed_scoring.linear_cka(code, 3.0 * code + 5.0) == pytest.approx(1.0)
    assert seed_scoring.linear_cka(code, rng.normal(size=(2000, 8))) < 0.05
    half = code.copy()
    half[:, 4:] = rng.normal(size=(2000, 4))
    assert 0.05 < seed_scoring.linear_cka(code, half) < 1.0


def test_neighbour_overlap_of_a_constructed_case_is_one_third():
    """Clusters of four points far apart, k = 3: in code A the clusters are {0,1,2,3} and
    {4,5,6,7}, in code B {0,1,4,5} and {2,3,6,7}, so each point shares 1 of its 3 neighbours."""
    offsets = np.array([[0.0, 0.0], [0.1, 0.0], [0.0, 0.11], [0.12, 0.13]])
    first = np.array([[100.0 * (i // 4), 0.0] for i in range(8)]) + np.tile(offsets, (2, 1))
    second = np.array([[100.0 * ((i // 2) % 2), 0.0] for i in range(8)]) + np.tile(offsets, (2, 1))
    a, b = seed_scoring.nearest_neighbours(first, 3), seed_scoring.nearest_neighbours(second, 3)
    assert set(a[0]) == {1, 2, 3} and set(b[0]) == {1, 4, 5}
    assert seed_scoring.neighbour_overlap(a, b) == pytest.approx(1 / 3)
    assert seed_scoring.neighbour_overlap(a, a) == 1.0


def test_neighbour_overlap_ignores_a_rescaling_of_the_code():
    code = np.random.default_rng(1).normal(size=(300, 8))
    first = seed_scoring.nearest_neighbours(code, 10)
    assert (
        seed_scoring.neighbour_overlap(first, seed_scoring.nearest_neighbours(7.0 * code, 10))
        == 1.0
    )


def test_plane_neighbour_votes_follow_the_map_not_the_label_of_the_point():
    points = np.array([[0.0, 0], [0, 1], [1, 0], [1, 1], [0.5, 0.5], [10, 10], [10, 11], [11, 10]])
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    votes = helpers.plane_neighbour_votes(points, labels, k=3)
    assert votes.tolist() == [0, 0, 0, 0, 0, 1, 1, 1]  # point 4 sits among class 0


def test_group_recall_counts_mix_ups_inside_a_group_as_right():
    classes = study_settings.SCORING["map_classes"]
    labels = np.array([0, 2, 1, 5, 7, 8])
    predicted = np.array([2, 1, 1, 7, 5, 8])  # a pullover taken for a trouser
    groups = data_files.FASHION_MNIST.class_groups
    assert helpers.group_recall(labels, predicted, classes, groups) == {
        "tops": 0.5,
        "trousers": 1.0,
        "footwear": 1.0,
        "bags": 1.0,
    }


def test_most_taken_for_names_the_other_class_a_class_is_voted_most_or_none():
    labels = np.array([0] * 10 + [1] * 10 + [2] * 10)
    votes = np.array([0] * 10 + [1] * 5 + [2] * 5 + [2] * 8 + [1] * 2)
    assert helpers.most_taken_for(labels, votes, ["a", "b", "c"]) == ["-", "c", "b"]
