"""The code explorer: its update functions, driven without a browser."""

import math
import sys
import types

import torch

import explorer
import helpers
import measures

CLASSES = [f"class {i}" for i in range(10)]


def test_explorer_decodes_exactly_the_code_the_sliders_hold(models, tiny_data):
    app = explorer.CodeExplorer(models, tiny_data)
    for name, model in models.items():
        app.model.value = name
        index = app.test_index()
        image = tiny_data.test_x[index : index + 1]
        assert torch.equal(app.code(), helpers.encode(model, image))
        for unit, slider in enumerate(app.units):
            slider.value = slider.min + (unit + 1) / 9 * (slider.max - slider.min)
        code = app.code()
        with torch.no_grad():
            assert torch.equal(app.decoded(), model.eval().decoder(code)[0])
        assert app.images["decoded"].value == explorer.png(app.decoded())


def test_moving_a_dead_units_slider_changes_no_pixel(models, tiny_data):
    app = explorer.CodeExplorer(models, tiny_data)
    dead, live = app.units[4], app.units[0]
    assert dead.disabled and dead.description == "unit 5 (dead)" and not live.disabled
    before = app.images["decoded"].value
    dead.value = 3.0
    assert dead.value == 0.0 and app.images["decoded"].value == before
    live.value = live.max
    assert app.images["decoded"].value != before


def test_choosing_a_class_shows_one_of_its_test_images(models, tiny_data):
    app = explorer.CodeExplorer(models, tiny_data)
    app.garment.value = 3
    app.index.value = app.index.max
    index = app.test_index()
    assert tiny_data.test_y[index] == 3 and app.index.max == 19 and index == 193
    assert app.images["original"].value == explorer.png(tiny_data.test_x[index])


def test_noise_view_psnr_is_helpers_psnr_of_the_same_draw(models, tiny_data):
    app = explorer.CodeExplorer(models, tiny_data, noise_seed=7)
    app.garment.value, app.noise.value = 2, 0.3
    index = app.test_index()
    clean = tiny_data.test_x[index : index + 1]
    noisy = helpers.add_white_noise(clean, 0.3, torch.Generator().manual_seed(7 + index))
    view = app.noise_view()
    assert torch.equal(view["noisy input"][0], noisy[0])
    assert view["noisy input"][1] == measures.psnr(noisy, clean)
    for name, model in models.items():
        assert view[name][1] == measures.psnr(helpers.reconstruct(model, noisy), clean)
        assert f"PSNR {view[name][1]:.1f} dB" in app.captions[name].value
    app.noise.value = 0.0
    assert app.noise_view()["noisy input"][1] == math.inf
    assert "identical" in app.captions["noisy input"].value


def test_code_explorer_returns_one_ipywidgets_layout(models, tiny_data):
    import ipywidgets

    layout = explorer.code_explorer(models, tiny_data)
    assert isinstance(layout, ipywidgets.VBox)
    shown = []

    def walk(widget):
        shown.append(widget)
        for child in getattr(widget, "children", ()):
            walk(child)

    walk(layout)
    assert sum(isinstance(w, ipywidgets.FloatSlider) for w in shown) == 8 + 1
    assert sum(isinstance(w, ipywidgets.Image) for w in shown) == 3 + len(models)


def test_in_colab_the_widget_manager_is_turned_on_and_elsewhere_nothing_happens(monkeypatch):
    assert not explorer.enable_colab_widgets()  # no google.colab here
    calls = []
    output = types.SimpleNamespace(enable_custom_widget_manager=lambda: calls.append(True))
    colab = types.ModuleType("google.colab")
    colab.output = output
    monkeypatch.setitem(sys.modules, "google", types.ModuleType("google"))
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    assert explorer.enable_colab_widgets() and calls == [True]
