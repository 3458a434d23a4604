"""Re-check the pilot's restart decisions with the collapse check on training images.

The pilot (seed_study/pilot.json) decided its restarts on the test images. This trains the first
safeguards.COLLAPSE_CHECK_EPOCHS epochs of each of its models (and of each restart) and asks, at
every epoch, both checks: on the test images, as the pilot did, and on the training images, as
safeguards.train now does. A start restarts under a check that finds a collapse in those epochs,
at whichever epoch: the restart's model is the same. Writes seed_study/restart_recheck.json
(about 5 minutes, 2 cores)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import helpers
import provenance
import safeguards
from seed_study.study import run_parallel
from study_settings import PILOT_SEEDS, VARIANTS


class Decided(Exception):
    """One of the two checks found a collapse, or the checked epochs are over."""


def decisions(name: str, seed: int) -> list[dict]:
    """Return, per start of one pilot model, the first epoch at which each check finds a collapse
    (None: not in the checked epochs); both finding one is the same decision, a restart."""
    variant, data, starts = VARIANTS[name], helpers.load_fashion_mnist(ROOT / "data"), []
    inputs = {
        "test_check": helpers.fixed_test_noise(data.test_x, variant.noise_std, seed),
        "train_check": helpers.fixed_test_noise(
            data.train_x[: safeguards.CHECK_IMAGES], variant.noise_std, seed
        ),
    }
    init = seed
    while True:
        fired: dict = dict.fromkeys(inputs)

        def check(epoch: int, model: helpers.Autoencoder, fired: dict = fired) -> None:
            for key, x in inputs.items():
                if fired[key] is None and safeguards.collapse_reason(model, x):
                    fired[key] = epoch
            if None not in fired.values() or epoch == safeguards.COLLAPSE_CHECK_EPOCHS:
                raise Decided

        model = variant.build(init)
        try:
            epochs = safeguards.COLLAPSE_CHECK_EPOCHS
            helpers.train_autoencoder(
                model, data, epochs=epochs, noise_std=variant.noise_std, seed=seed,
                on_epoch=check, progress=False,
            )  # fmt: skip
        except Decided:
            pass
        starts.append({"model": name, "seed": seed, "initialised_with": init, **fired})
        if None in fired.values():
            return starts  # no collapse, or only one check finds one: the re-check ends
        init = safeguards.restart_seed(seed, len(starts) - 1)


def main() -> None:
    calls = [(name, seed) for name in VARIANTS for seed in PILOT_SEEDS]
    starts = [start for found in run_parallel(decisions, calls, 2) for start in found]
    changed = [s for s in starts if (s["test_check"] is None) != (s["train_check"] is None)]
    document = {"starts": starts, "decisions_changed": len(changed), "models": len(calls)}
    target = ROOT / "seed_study" / "restart_recheck.json"
    provenance.write_atomically(target, provenance.json_text(document))
    print(f"{len(changed)} of {len(starts)} decisions changed; wrote {target.name}")


if __name__ == "__main__":
    main()
