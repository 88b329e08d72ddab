"""Where a result comes from: the device it ran on and the versions and commit behind it."""

from __future__ import annotations

import functools
import os
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import torch

from genbench.config import ConfigError


def genbench_version() -> str:
    try:
        return version("genbench")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0+unknown"


def resolve_device(requested: str) -> str:
    """``auto`` → ``cuda`` when a GPU is usable, else ``cpu``; ``cuda`` without one is an error."""
    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError("--device cuda was asked for, but torch sees no CUDA device")
    if requested != "cpu" and not requested.startswith("cuda"):
        raise ConfigError(f"unknown device {requested!r} (use auto, cpu or cuda)")
    return requested


def provenance(device: str) -> dict[str, str]:
    """Where a result came from: versions, commit and device."""
    return {
        "genbench_version": genbench_version(),
        "git_commit": git_commit(),
        "torch_version": torch.__version__,
        "device": device_name(device),
    }


def device_name(device: str) -> str:
    """The hardware behind ``device``: the GPU's name, or the processor's (:func:`cpu_name`)."""
    return torch.cuda.get_device_name(device) if device.startswith("cuda") else cpu_name()


@functools.cache  # the processor does not change under a running process
def processor_model() -> str:
    """The processor's model name, for example ``Intel(R) Xeon(R) Processor``: Linux says it
    in /proc/cpuinfo, other systems less well; '' where it is unknown."""
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            model = next(
                (line.split(":", 1)[1] for line in cpuinfo if line.startswith("model name")), ""
            )
    except OSError:  # not Linux
        model = platform.processor()
    return " ".join(model.split())


def cpu_name() -> str:
    """``cpu`` with the processor's model and core count, for example
    ``cpu: Intel(R) Xeon(R) Processor, 2 cores``; plain ``cpu`` where the model is unknown."""
    model = processor_model()
    return f"cpu: {model}, {os.cpu_count()} cores" if model else "cpu"


def git_commit() -> str:
    """The commit of the genbench source tree, with '+dirty' for uncommitted changes, or ''."""
    source = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=source, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()

    try:
        if Path(git("rev-parse", "--show-toplevel")).resolve() != source:
            return ""  # an installed copy inside some other repository: not genbench's commit
        commit = git("rev-parse", "HEAD")
        dirty = git("status", "--porcelain", "--", "genbench")
    except (OSError, subprocess.SubprocessError):  # no git, or not a repository
        return ""
    return commit + ("+dirty" if dirty else "")
