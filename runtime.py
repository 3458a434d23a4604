"""Where the code runs: the device (get_device, $EXERCISE9_DEVICE) and subnormal floats, which
importing this module flushes to zero before PyTorch starts its worker threads."""

from __future__ import annotations

import os

import torch

DEVICE_VARIABLE = "EXERCISE9_DEVICE"  # cpu, cuda or mps: overrides get_device's choice


def get_device() -> torch.device:
    """Return the device to train on: $EXERCISE9_DEVICE if set (the tests set "cpu"), else
    CUDA, then Apple MPS, then the CPU."""
    wanted = os.environ.get(DEVICE_VARIABLE, "").strip().lower()
    if wanted:
        have = {
            "cpu": True,
            "cuda": torch.cuda.is_available(),
            "mps": torch.backends.mps.is_available(),
        }
        if not have.get(wanted):
            names = [name for name, ok in have.items() if ok]
            raise ValueError(
                f"{DEVICE_VARIABLE}={wanted!r} is not a device this machine has: "
                f"set it to one of {names} or unset it to choose automatically"
            )
        return torch.device(wanted)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


# Made at import, before PyTorch starts its CPU worker threads, which copy it (a thread started
# before this import keeps its old setting: import this module before any PyTorch work).
torch.set_flush_denormal(True)
