"""An interactive explorer of the 8-number codes for JupyterLab (ipywidgets): the companion
opens it with explorer.code_explorer(models, data)."""

from __future__ import annotations

import contextlib
import io
import math
import sys

import matplotlib.pyplot as plt
import numpy as np
import torch

import helpers
import measures
import settings
from helpers import evaluating, model_device


def decode(model: helpers.Autoencoder, codes: torch.Tensor) -> torch.Tensor:
    """Return the images g(z) [N, 784] of codes z [N, 8], on the device of z, no gradients."""
    with evaluating(model):
        return model.decoder(codes.to(model_device(model))).to(codes.device)


EXPLORER_SCALE = 4  # screen pixels per image pixel


def png(image: torch.Tensor, scale: int = EXPLORER_SCALE) -> bytes:
    """Return a 28x28 image on the [-1, 1] scale as grey PNG bytes, scale x scale per pixel."""
    pixels = image.reshape(28, 28).cpu().numpy().repeat(scale, 0).repeat(scale, 1)
    buffer = io.BytesIO()
    plt.imsave(buffer, pixels, cmap="gray", vmin=-1, vmax=1, format="png")
    return buffer.getvalue()


class CodeExplorer:
    """Pick a test image by class and index: its code sets one slider per code unit (the
    unit's 1st to 99th percentile; a dead unit's is fixed), the image decoded from the sliders
    follows them, and a noise slider shows every model's reconstruction of a noisy input."""

    def __init__(
        self,
        models: dict[str, helpers.Autoencoder],
        data: helpers.FashionMNISTData,
        noise_std: float = settings.NOISE_STD,
        noise_seed: int = 0,
    ) -> None:
        import ipywidgets as widgets

        self.models, self.data, self.noise_seed = models, data, noise_seed
        codes = {name: helpers.encode(m, data.test_x).numpy() for name, m in models.items()}
        self.ranges = {name: np.percentile(c, [1, 99], axis=0) for name, c in codes.items()}
        self.live = {name: helpers.unit_activity(c) > 0 for name, c in codes.items()}
        self.highest = {name: c.max(0) for name, c in codes.items()}
        self.by_class = [
            torch.nonzero(data.test_y == k).flatten() for k in range(len(data.classes))
        ]
        self.garment = widgets.Dropdown(
            options=[(n, k) for k, n in enumerate(data.classes)], description="class"
        )
        self.index = widgets.IntSlider(0, 0, len(self.by_class[0]) - 1, description="image")
        self.model = widgets.ToggleButtons(
            options=list(models), description="sliders of", style={"button_width": "auto"}
        )
        named = {"description_width": "90px"}
        self.units = [
            widgets.FloatSlider(description=f"unit {unit + 1}", readout_format=".2f", style=named)
            for unit in range(helpers.ENCODER_SIZES[-1])
        ]
        self.noise = widgets.FloatSlider(
            noise_std, min=0.0, max=1.0, step=0.05, description="noise std", style=named
        )
        side = f"{28 * EXPLORER_SCALE}px"
        self.images = {
            key: widgets.Image(format="png", layout=widgets.Layout(width=side, height=side))
            for key in ["original", "decoded", "noisy input", *models]
        }
        self.captions = {key: widgets.HTML() for key in self.images}
        self.holding = False
        self.layout = self.arrange(widgets)
        self.garment.observe(self.choose_class, "value")
        for control in (self.index, self.model):
            control.observe(lambda change: self.show_image(), "value")
        for slider in self.units:
            slider.observe(lambda change: self.draw_decoded(), "value")
        self.noise.observe(lambda change: self.draw_noise(), "value")
        self.show_image()

    def arrange(self, widgets):
        """Return the layout: choices on top, sliders and images, then the noise view."""

        def shown(key):
            return widgets.VBox(
                [self.captions[key], self.images[key]],
                layout=widgets.Layout(width="190px", align_items="flex-start"),
            )

        noise_row = widgets.HBox([shown(key) for key in ["noisy input", *self.models]])
        return widgets.VBox(
            [
                widgets.HBox([self.garment, self.index]),
                self.model,
                widgets.HBox([widgets.VBox(self.units), shown("original"), shown("decoded")]),
                self.noise,
                noise_row,
            ]
        )

    def test_index(self) -> int:
        """Return the test-set index of the chosen image."""
        return int(self.by_class[self.garment.value][self.index.value])

    def code(self) -> torch.Tensor:
        """Return the code the sliders hold, shape [1, 8]."""
        return torch.tensor([[slider.value for slider in self.units]], dtype=torch.float32)

    def decoded(self) -> torch.Tensor:
        """Return the chosen model's decoder output for the sliders' code, shape [784]."""
        return decode(self.models[self.model.value], self.code())[0]

    def noise_view(self) -> dict[str, tuple[torch.Tensor, float]]:
        """Return the noisy input and each model's reconstruction, with PSNR against the clean
        image: one noise draw per image (seed noise_seed + index), scaled by the noise std."""
        index = self.test_index()
        clean = self.data.test_x[index : index + 1]
        generator = torch.Generator().manual_seed(self.noise_seed + index)
        noisy = helpers.add_white_noise(clean, self.noise.value, generator)
        shown = {"noisy input": noisy}
        shown.update({name: helpers.reconstruct(m, noisy) for name, m in self.models.items()})
        return {key: (image[0], measures.psnr(image, clean)) for key, image in shown.items()}

    def choose_class(self, change) -> None:
        """Limit the image index to the class's test images and show the image."""
        with self.hold():
            self.index.max = len(self.by_class[self.garment.value]) - 1
        self.show_image()

    def show_image(self) -> None:
        """Set the sliders to the chosen image's code and draw everything."""
        name, index = self.model.value, self.test_index()
        code = helpers.encode(self.models[name], self.data.test_x[index : index + 1])[0].tolist()
        (low, high), live = self.ranges[name], self.live[name]
        with self.hold():
            for unit, slider in enumerate(self.units):
                top = max(
                    high[unit] if high[unit] > low[unit] else self.highest[name][unit], code[unit]
                )
                bottom = min(low[unit], code[unit])
                with slider.hold_trait_notifications():  # checks min <= value <= max after
                    slider.min, slider.max, slider.value = bottom, top, code[unit]
                slider.step = (top - bottom) / 100 if top > bottom else 0.01
                slider.disabled = not live[unit]
                slider.description = f"unit {unit + 1}" + ("" if live[unit] else " (dead)")
        self.images["original"].value = png(self.data.test_x[index])
        garment = self.data.classes[self.data.test_y[index]]
        self.captions["original"].value = f"<b>test image {index}</b><br>{garment}"
        self.draw_decoded()
        self.draw_noise()

    def draw_decoded(self) -> None:
        """Draw the image decoded from the sliders' code (unless the sliders are being set)."""
        if not self.holding:
            self.images["decoded"].value = png(self.decoded())
            self.captions["decoded"].value = f"<b>decoded</b><br>{self.model.value}"

    def draw_noise(self) -> None:
        """Draw the noisy input and each model's reconstruction with its PSNR."""
        for key, (image, value) in self.noise_view().items():
            self.images[key].value = png(image)
            shown = f"{value:.1f} dB" if math.isfinite(value) else "identical"
            self.captions[key].value = f"<b>{key}</b><br>PSNR {shown}"

    @contextlib.contextmanager
    def hold(self):
        """Hold the redraws while several sliders change."""
        self.holding = True
        try:
            yield
        finally:
            self.holding = False


def enable_colab_widgets() -> bool:
    """In Google Colab, turn on the widget manager ipywidgets 8 needs; return whether it is."""
    if "google.colab" not in sys.modules:
        return False
    from google.colab import output

    output.enable_custom_widget_manager()
    return True


REOPENED = (
    "The explorer runs in this kernel. After the notebook is reopened it shows 'Error displaying "
    "widget: model not found' (or nothing): run this cell again."
)


def code_explorer(models: dict[str, helpers.Autoencoder], data: helpers.FashionMNISTData):
    """Return the code explorer's ipywidgets layout (see CodeExplorer), after a line that stays
    in the saved notebook: a reopened notebook has no kernel behind the widget."""
    enable_colab_widgets()
    print(REOPENED)
    return CodeExplorer(models, data).layout
