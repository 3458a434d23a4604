"""Model: the sheet's exact layers, parameter count, seeded initialisation; the image check."""

import ast
from pathlib import Path

import pytest
import torch
from torch import nn

import helpers
import measures
import runtime
import safeguards


def layer_spec(sequential: nn.Sequential) -> list:
    return [
        (m.in_features, m.out_features) if isinstance(m, nn.Linear) else type(m).__name__
        for m in sequential
    ]


def test_encoder_and_decoder_have_the_sheets_layers_and_activations():
    model = helpers.Autoencoder(seed=0)
    assert layer_spec(model.encoder) == [
        (784, 128),
        "ReLU",
        (128, 64),
        "ReLU",
        (64, 32),
        "ReLU",
        (32, 16),
        "ReLU",
        (16, 8),
        "ReLU",
    ]
    assert layer_spec(model.decoder) == [
        (8, 8),
        "ReLU",
        (8, 32),
        "ReLU",
        (32, 64),
        "ReLU",
        (64, 128),
        "ReLU",
        (128, 784),
        "Tanh",
    ]


def test_parameter_count_is_223408():
    assert helpers.count_parameters(helpers.Autoencoder()) == 223_408


def test_output_has_input_shape_and_tanh_range():
    output = helpers.Autoencoder(seed=0)(torch.randn(5, 784))
    assert output.shape == (5, 784) and output.abs().max() <= 1.0


def test_same_seed_gives_same_weights_and_other_seed_differs():
    first, second, other = (helpers.Autoencoder(seed=s).state_dict() for s in (3, 3, 4))
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert not torch.equal(first["encoder.0.weight"], other["encoder.0.weight"])


def test_relu_layers_start_with_a_small_positive_bias_and_tanh_layer_with_zero():
    model = helpers.Autoencoder(seed=0)
    assert torch.all(model.encoder[8].bias == helpers.RELU_BIAS)
    assert torch.all(model.decoder[8].bias == 0.0)


@pytest.mark.parametrize(
    "bad, error, words",
    [
        (torch.randn(4, 28, 28), ValueError, "shape \\[N, 784\\]"),
        (torch.randn(784), ValueError, "shape \\[N, 784\\]"),
        (torch.randn(4, 784, dtype=torch.float64), TypeError, "float32"),
        (torch.zeros(4, 784, dtype=torch.uint8), TypeError, "float32"),
        ([[0.0] * 784], TypeError, "torch.Tensor"),
    ],
)
def test_wrong_images_give_one_clear_error(bad, error, words):
    with pytest.raises(error, match=words):
        safeguards.check_images(bad, "images")


@pytest.mark.parametrize(
    "cuda, mps, expected", [(True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")]
)
def test_get_device_prefers_cuda_then_mps_then_the_cpu(monkeypatch, cuda, mps, expected):
    monkeypatch.delenv(runtime.DEVICE_VARIABLE, raising=False)  # conftest sets "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    assert runtime.get_device() == torch.device(expected)


def test_the_device_variable_overrides_the_choice_and_a_missing_device_is_named(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    monkeypatch.setenv(runtime.DEVICE_VARIABLE, "CPU")
    assert runtime.get_device() == torch.device("cpu")
    for wanted in ("mps", "gpu"):
        monkeypatch.setenv(runtime.DEVICE_VARIABLE, wanted)
        with pytest.raises(
            ValueError,
            match=f"EXERCISE9_DEVICE='{wanted}' is not a device this "
            r"machine has: set it to one of \['cpu', 'cuda'\]",
        ):
            runtime.get_device()


def test_every_function_of_helpers_calls_only_what_stands_above_it():
    """The module docstring's promise: data flows down the file."""
    tree = ast.parse(Path(helpers.__file__).read_text(encoding="utf-8"))
    defined = {
        node.name: node.lineno
        for node in tree.body
        if isinstance(node, (ast.FunctionDef, ast.ClassDef))
    }
    downward = sorted(
        {
            (node.name, sub.id)
            for node in tree.body
            if isinstance(node, (ast.FunctionDef, ast.ClassDef))
            for sub in ast.walk(node)
            if isinstance(sub, ast.Name) and defined.get(sub.id, 0) > node.lineno
        }
    )
    assert not downward, f"calls to functions defined further down: {downward}"


def test_linear_code_drops_only_the_relu_after_the_code_layer():
    plain, linear = helpers.Autoencoder(seed=0), measures.LinearCodeAutoencoder(seed=0)
    assert layer_spec(linear.encoder)[:-1] == layer_spec(plain.encoder)[:-1]
    assert isinstance(linear.encoder[-1], nn.Identity) and isinstance(plain.encoder[-1], nn.ReLU)
    assert layer_spec(linear.decoder) == layer_spec(plain.decoder)
    x = torch.randn(100, 784)
    assert (helpers.encode(linear, x) < 0).any()
    assert helpers.count_parameters(linear) == helpers.count_parameters(plain)
    assert all(torch.equal(a, b) for a, b in zip(linear.parameters(), plain.parameters()))


def test_a_saved_model_loads_with_the_same_weights_and_outputs(tmp_path):
    model = helpers.Autoencoder(seed=3)
    path = helpers.save_model(model, tmp_path / "models" / "autoencoder.pt")
    loaded = measures.load_model(path)
    x = torch.rand(4, 784) * 2 - 1
    assert torch.equal(helpers.reconstruct(loaded, x), helpers.reconstruct(model, x))
    with pytest.raises(FileNotFoundError, match="none.pt is missing: restore it with `git"):
        measures.load_model(tmp_path / "none.pt")


@pytest.mark.parametrize("cut", [0, 11, 1000, -1000], ids=["empty", "11", "1000", "end cut"])
def test_a_damaged_model_file_is_one_message_naming_it_and_how_to_restore_it(
    tmp_path, monkeypatch, cut
):
    """A truncated models/*.pt once advised `make report`, which failed the same way."""
    whole = helpers.save_model(helpers.Autoencoder(seed=3), tmp_path / "whole.pt").read_bytes()
    monkeypatch.chdir(tmp_path)
    Path("models").mkdir()
    Path("models/autoencoder.pt").write_bytes(whole[:cut])
    with pytest.raises(ValueError) as error:
        measures.load_model("models/autoencoder.pt")
    assert str(error.value).startswith(
        "models/autoencoder.pt is damaged: it does not hold the saved weights of this Autoencoder"
    )
    assert str(error.value).endswith(
        "restore it with `git checkout -- models/autoencoder.pt` (or unzip it again), or run "
        "`make run` (exercise9.ipynb saves it)"
    )


def test_weights_of_another_shape_are_one_message(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"encoder.0.weight": torch.zeros(3, 3)}, path)
    with pytest.raises(ValueError, match="other.pt is damaged: it does not hold the saved weights"):
        measures.load_model(path)
