"""Re-check the pilot's restart decisions with the collapse check on training images.

The pilot (seed_study/pilot.json) decided its restarts on the test images. This trains the first
safeguards.COLLAPSE_CHECK_EPOCHS epochs of each of its models (and of each restart) and asks, at
every epoch, both checks: on the test images, as the pilot did, and on the training images, as
safeguards.train now does. Writes seed_study/restart_recheck.json (about 10 minutes, 2 cores)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import helpers
import provenance
import safeguards
from seed_study.study import run_parallel
from settings import PILOT_SEEDS, VARIANTS


class Decided(Exception):
    """One of the two checks found a collapse, or the checked epochs are over."""


def decisions(name: str, seed: int) -> list[dict]:
    """Return, per start of one pilot model, the epoch where a check fired (or the last checked)
    and what each check said there."""
    variant, data, starts = VARIANTS[name], helpers.load_fashion_mnist(ROOT / "data"), []
    inputs = {
        "test_check": helpers.fixed_test_noise(data.test_x, variant.noise_std, seed),
        "train_check": helpers.fixed_test_noise(
            data.train_x[: safeguards.CHECK_IMAGES], variant.noise_std, seed
        ),
    }
    init = seed
    while True:
        seen: dict = {}

        def check(epoch: int, model: helpers.Autoencoder, seen: dict = seen) -> None:
            seen.update(epoch=epoch)
            seen.update({key: safeguards.collapse_reason(model, x) for key, x in inputs.items()})
            if (
                seen["test_check"]
                or seen["train_check"]
                or epoch == safeguards.COLLAPSE_CHECK_EPOCHS
            ):
                raise Decided

        model = helpers.build_model(variant, init)
        try:
            epochs = safeguards.COLLAPSE_CHECK_EPOCHS
            helpers.train_autoencoder(
                model, data, epochs=epochs, noise_std=variant.noise_std, seed=seed,
                on_epoch=check, progress=False,
            )  # fmt: skip
        except Decided:
            pass
        starts.append({"model": name, "seed": seed, "initialised_with": init, **seen})
        if not (seen["test_check"] and seen["train_check"]):
            return starts  # no collapse, or the two checks disagree: the re-check ends
        init = safeguards.restart_seed(seed, len(starts) - 1)


def main() -> None:
    calls = [(name, seed) for name in VARIANTS for seed in PILOT_SEEDS]
    starts = [start for found in run_parallel(decisions, calls, 2) for start in found]
    changed = [s for s in starts if bool(s["test_check"]) != bool(s["train_check"])]
    document = {"starts": starts, "decisions_changed": len(changed), "models": len(calls)}
    target = ROOT / "seed_study" / "restart_recheck.json"
    provenance.write_atomically(target, provenance.json_text(document))
    print(f"{len(changed)} of {len(starts)} decisions changed; wrote {target.name}")


if __name__ == "__main__":
    main()
