"""Where the code runs: the device (get_device, $EXERCISE9_DEVICE) and subnormal floats, which
importing this module flushes to zero before PyTorch starts its worker threads."""

from __future__ import annotations

import os
import platform

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


def subnormals_are_slow() -> bool:
    """Return whether this CPU computes with subnormal floats far more slowly than with
    normal ones: x86 does (microcode assists); ARM, Apple silicon included, does not."""
    return platform.machine().lower() in {"x86_64", "amd64", "i386", "i686", "x86"}


def flush_denormals() -> bool:
    """Flush subnormal floats to zero; return whether all of PyTorch's CPU threads do so (a
    thread copies the setting when it starts: importing this module makes it early)."""
    if not torch.set_flush_denormal(True):
        return True  # this CPU has no such mode; nothing more can be done
    smallest_subnormal = torch.ones(1 << 20, dtype=torch.int32).view(torch.float32)
    return not (smallest_subnormal * 1.0).view(torch.int32).any().item()


# Made at import, before PyTorch starts its CPU worker threads, which copy it (flush_denormals).
torch.set_flush_denormal(True)
