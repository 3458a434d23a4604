"""Evaluation: codes and reconstructions without gradients, in eval mode, and the losses."""

import math

import numpy as np
import pytest
import torch

import helpers


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
    images = helpers.decode(model, codes)
    assert not images.requires_grad and model.training
    model.eval()
    assert torch.equal(images, model.decoder(codes).detach())


@pytest.mark.parametrize("bad, error", [(torch.zeros(3, 7), ValueError),
                                        (torch.zeros(3, 8, dtype=torch.float64), TypeError)])
def test_decode_rejects_what_is_not_a_batch_of_codes(model, bad, error):
    with pytest.raises(error, match="codes must"):
        helpers.decode(model, bad)


def test_reconstruction_loss_is_the_mean_over_every_pixel_of_every_image(model):
    x = torch.randn(1001, 784)
    expected = torch.nn.functional.mse_loss(model(x), x).item()
    assert helpers.reconstruction_loss(model, x, x, batch_size=100) == pytest.approx(expected, rel=1e-5)


def test_mean_image_loss_is_the_mean_pixel_variance():
    x = torch.tensor([[0.0, 2.0], [2.0, 2.0]])
    assert helpers.mean_image_loss(x) == pytest.approx(0.5)


def test_count_live_units_counts_units_that_fire_on_some_input(model):
    with torch.no_grad():
        model.encoder[8].bias[:5] = -1e3
    assert helpers.count_live_units(model, torch.randn(50, 784)) == 3


def test_encode_rejects_unflattened_images(model):
    with pytest.raises(ValueError, match="flatten"):
        helpers.encode(model, torch.randn(2, 28, 28))


def clustered(seed: int = 0):
    """Codes of three well separated classes and their labels."""
    generator = np.random.default_rng(seed)
    labels = np.repeat(np.arange(3), 30)
    return generator.normal(size=(90, 8)) * 0.1 + labels[:, None] * 5.0, labels


def test_knn_and_linear_probe_are_perfect_on_separable_codes():
    codes, labels = clustered(0)
    test_codes, test_labels = clustered(1)
    assert helpers.knn_predict(codes, labels, test_codes).tolist() == test_labels.tolist()
    assert helpers.linear_probe_accuracy(codes, labels, test_codes, test_labels) == 1.0


def test_linear_probe_is_scored_on_the_test_codes_not_the_training_codes():
    """On codes without class information a probe fits its 12 training codes almost perfectly
    (8 dimensions) but is near chance (1/3) on 300 independent test codes."""
    generator = np.random.default_rng(2)
    train_codes, train_labels = generator.normal(size=(12, 8)), np.arange(12) % 3
    test_codes, test_labels = generator.normal(size=(300, 8)), np.arange(300) % 3
    assert helpers.linear_probe_accuracy(train_codes, train_labels, train_codes,
                                         train_labels) > 0.8
    assert helpers.linear_probe_accuracy(train_codes, train_labels, test_codes, test_labels) < 0.5


def test_code_quality_is_high_for_separated_classes_and_low_for_shuffled_labels():
    codes, labels = clustered(0)
    test_codes, test_labels = clustered(1)
    subset = np.arange(0, 90, 2)
    good = helpers.code_quality(codes, labels, test_codes, test_labels, subset,
                                test_codes[subset, :2])
    assert good["knn_accuracy"] == 1.0 and good["linear_probe_accuracy"] == 1.0
    assert good["code_silhouette"] > 0.9 and good["tsne_silhouette"] > 0.9
    assert 0.9 < good["trustworthiness"] <= 1.0
    shuffled_labels = np.random.default_rng(1).permutation(test_labels)
    bad = helpers.code_quality(codes, labels, test_codes, shuffled_labels, subset,
                               test_codes[subset, :2])
    assert bad["knn_accuracy"] < 0.6 and bad["tsne_silhouette"] < 0.1


def test_per_class_recall_and_confused_pairs_name_the_classes():
    labels = np.array([0, 0, 1, 1, 1, 2, 2, 2])
    predicted = np.array([0, 0, 1, 2, 2, 2, 1, 2])  # classes b and c are mixed up
    names = ["a", "b", "c"]
    recall = helpers.per_class_recall(labels, predicted, names)
    assert recall == pytest.approx({"a": 1.0, "b": 1 / 3, "c": 2 / 3})
    assert helpers.most_confused_pairs(labels, predicted, names, top=1) == [("b", "c", 3)]


def test_group_accuracy_forgives_mix_ups_within_a_group():
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    labels = np.array([0, 2, 1, 5])  # T-shirt, pullover, trouser, sandal
    assert helpers.group_accuracy(labels, np.array([2, 0, 1, 9]), classes) == 1.0
    assert helpers.group_accuracy(labels, np.array([1, 2, 1, 5]), classes) == 0.75


def test_pca_with_all_components_reconstructs_exactly():
    x = torch.randn(200, 784)
    assert helpers.pca_reconstruction_loss(helpers.fit_pca(x, 200), x[:20], x[:20]) < 1e-6
    assert helpers.pca_reconstruction_loss(helpers.fit_pca(x, 1), x[:20], x[:20]) > 0.5


def test_pca_reconstruction_loss_scores_noisy_inputs_against_clean_targets():
    x = torch.randn(500, 10)
    pca = helpers.fit_pca(x, 10)  # all components: reconstructs any input exactly
    noisy = x + 0.1
    assert helpers.pca_reconstruction_loss(pca, noisy, x) == pytest.approx(0.01, rel=1e-3)


def test_unit_activity_is_the_share_of_codes_where_a_unit_is_non_zero():
    codes = np.array([[0.0, 1.0, -2.0], [0.0, 0.0, 3.0], [0.0, 2.0, 1.0], [0.0, 0.0, 4.0]])
    assert helpers.unit_activity(codes).tolist() == [0.0, 0.5, 1.0]


def test_linear_code_units_count_as_live_even_when_negative():
    model = helpers.Autoencoder(seed=0, linear_code=True)
    with torch.no_grad():
        model.encoder[8].bias[:] = -1e3  # every code value negative
    assert helpers.count_live_units(model, torch.randn(20, 784)) == 8


def test_psnr_is_infinite_for_identical_images_and_follows_the_mse():
    x = torch.rand(5, 784) * 2 - 1
    assert helpers.psnr(x, x) == math.inf
    assert helpers.psnr(x + 0.2, x) == pytest.approx(10 * math.log10(4 / 0.04))
    assert helpers.psnr(x + 0.1, x, data_range=1.0) == pytest.approx(20.0)


def test_psnr_by_noise_has_one_value_per_level_and_falls_with_noise(model):
    x = torch.rand(30, 784) * 2 - 1
    curves = helpers.psnr_by_noise({"ae": model}, x, [0.0, 0.5, 1.0], seed=0)
    assert list(curves) == ["noisy input", "ae"] and all(len(v) == 3 for v in curves.values())
    noisy = curves["noisy input"]
    assert noisy[0] == math.inf and noisy[1] == pytest.approx(20 * math.log10(2 / 0.5), abs=0.1)
    assert noisy[1] > noisy[2]
    again = helpers.psnr_by_noise({"ae": model}, x, [0.0, 0.5, 1.0], seed=0)
    assert again == curves


def test_fixed_test_noise_is_the_same_draw_every_time():
    x = torch.zeros(3, 784)
    assert torch.equal(helpers.fixed_test_noise(x, 0.5, 0), helpers.fixed_test_noise(x, 0.5, 0))
    assert helpers.fixed_test_noise(x, 0.0, 0) is x


def code_reading(weights: torch.Tensor) -> helpers.Autoencoder:
    """A model whose 8 code units all read the image through the same first-layer weights."""
    model = helpers.Autoencoder(seed=0, linear_code=True)
    with torch.no_grad():
        for layer in model.encoder[::2]:
            layer.weight.zero_()
            layer.bias.zero_()
        model.encoder[0].weight[:] = weights
        for layer in model.encoder[2::2]:
            layer.weight[:, 0] = 1.0
    return model


def test_a_robust_code_moves_less_under_noise():
    """A code that averages all 784 pixels shifts about sqrt(784) = 28 times less under pixel
    noise than a code that reads one pixel."""
    x = torch.rand(50, 784) * 0.5 + 0.25
    averaging = code_reading(torch.full((784,), 1 / 784))
    one_pixel = code_reading(torch.nn.functional.one_hot(torch.tensor(300), 784).float())
    assert helpers.code_noise_sensitivity(averaging, x, 0.0, 0) == 0.0
    robust = helpers.code_noise_sensitivity(averaging, x, 0.5, 0)
    fragile = helpers.code_noise_sensitivity(one_pixel, x, 0.5, 0)
    assert 0 < robust < fragile / 10


def test_plane_neighbour_votes_follow_the_map_not_the_label_of_the_point():
    points = np.array([[0.0, 0], [0, 1], [1, 0], [1, 1], [0.5, 0.5], [10, 10], [10, 11], [11, 10]])
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    votes = helpers.plane_neighbour_votes(points, labels, k=3)
    assert votes.tolist() == [0, 0, 0, 0, 0, 1, 1, 1]  # point 4 sits among class 0


def test_group_recall_counts_mix_ups_inside_a_group_as_right():
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    labels = np.array([0, 2, 1, 5, 7, 8])
    predicted = np.array([2, 1, 1, 7, 5, 8])  # a pullover taken for a trouser
    assert helpers.group_recall(labels, predicted, classes) == {
        "tops": 0.5, "trousers": 1.0, "footwear": 1.0, "bags": 1.0}


# ---------------------------------------------------------------------------- traversal


def test_traversal_values_run_from_the_5th_to_the_95th_percentile_and_dead_units_stay_0():
    codes = np.zeros((101, 8), dtype=np.float32)
    codes[:, 1] = np.arange(101)  # percentiles 5 and 95 are 5 and 95; unit 0 is dead
    values = helpers.traversal_values(codes, steps=7)
    assert values.shape == (8, 7)
    assert np.allclose(values[1], np.linspace(5, 95, 7))
    assert not values[0].any()


def test_traverse_units_varies_one_unit_per_row_and_holds_the_others(model):
    code = helpers.encode(model, torch.randn(1, 784))[0]
    values = np.tile(np.linspace(0, 2, 5, dtype=np.float32), (8, 1))
    values[3] = code[3].item()  # row 3 keeps its unit where the code has it
    images = helpers.traverse_units(model, code, values)
    assert images.shape == (8, 5, 784)
    for unit in (0, 6):
        codes = code.repeat(5, 1)
        codes[:, unit] = torch.from_numpy(values[unit])
        assert torch.allclose(images[unit], helpers.decode(model, codes), atol=1e-6)
    assert torch.allclose(images[3], helpers.decode(model, code[None]).expand(5, -1), atol=1e-6)
    assert (images[0, -1] - images[0, 0]).abs().max() > 1e-3


def test_ink_measures_count_the_inked_pixels_columns_and_rows():
    image = -torch.ones(28, 28)
    image[4:14, 20:25] = 1.0  # 10 rows x 5 columns of ink
    measures = helpers.ink_measures(torch.stack([image.flatten(), -torch.ones(784)]))
    assert measures["area"].tolist() == [50, 0]
    assert measures["width"].tolist() == [5, 0]
    assert measures["height"].tolist() == [10, 0]
    assert measures["brightness"][0] == pytest.approx((50 - 734) / 784)
