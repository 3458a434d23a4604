"""Evaluation: codes and reconstructions without gradients, in eval mode, and the losses."""

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


def test_code_metrics_are_high_for_separated_classes_and_low_for_noise():
    codes, labels = clustered()
    good = helpers.code_metrics(codes, labels, codes[:, :2])
    shuffled = helpers.code_metrics(codes, np.random.default_rng(1).permutation(labels), codes[:, :2])
    assert good["knn_accuracy"] == 1.0 and good["silhouette"] > 0.9
    assert shuffled["knn_accuracy"] < 0.6 and shuffled["silhouette"] < 0.1
    assert 0.9 < good["trustworthiness"] <= 1.0


def test_per_class_recall_and_confused_pairs_name_the_classes():
    codes, labels = clustered()
    codes[labels == 2] = codes[labels == 1]  # classes 1 and 2 become indistinguishable
    names = ["a", "b", "c"]
    recall = helpers.per_class_recall(codes, labels, names)
    assert recall["a"] == 1.0 and recall["b"] < 1.0
    assert helpers.most_confused_pairs(codes, labels, names, top=1)[0][:2] == ("b", "c")


def test_group_accuracy_forgives_mix_ups_within_a_group():
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
    labels = np.repeat([0, 2, 1], 30)  # two tops and the trousers
    codes = np.repeat([[0.0] * 8, [0.0] * 8, [9.0] * 8], 30, axis=0)
    assert helpers.group_accuracy(codes, labels, classes) == 1.0


def test_pca_with_all_components_reconstructs_exactly():
    x = torch.randn(200, 784)
    assert helpers.pca_reconstruction_loss(x, x[:20], n_components=200) < 1e-6
    assert helpers.pca_reconstruction_loss(x, x[:20], n_components=1) > 0.5


def test_fixed_test_noise_is_the_same_draw_every_time():
    x = torch.zeros(3, 784)
    assert torch.equal(helpers.fixed_test_noise(x, 0.5, 0), helpers.fixed_test_noise(x, 0.5, 0))
    assert helpers.fixed_test_noise(x, 0.0, 0) is x


def test_a_robust_code_moves_less_under_noise(model):
    x = torch.randn(50, 784).clamp(-1, 1)
    assert helpers.code_noise_sensitivity(model, x, 0.0, 0) == 0.0
    assert helpers.code_noise_sensitivity(model, x, 0.5, 0) > 0.0
