"""A sweep killed with SIGKILL at random moments, resumed until it finishes, ends with exactly
the rows of a sweep that was never interrupted."""

import os
import random
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

PRESET = """
name = "kill"
targets = ["spiral"]
seeds = 2
num_samples = 300
[models.gan]
latent_dims = [1, 2, 3]
steps = 30
params = { generator_width = 16, discriminator_width = 16, batch_size = 64 }
[models.realnvp]
steps = 30
params = { num_couplings = 2, width = 8 }
"""
RESULT_COLUMNS = [
    "target",
    "model",
    "latent_dim",
    "seed",
    "status",
    "kl_forward",
    "kl_reverse",
    "w1",
    "w2",
    "mode_coverage",
    "negative_space",
]


def genbench_run(preset, out, *extra):
    command = [
        sys.executable,
        "-m",
        "genbench",
        "run",
        "--preset",
        str(preset),
        "--out",
        str(out),
        "--workers",
        "1",
        "--quiet",
        "--no-report",
        *extra,
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.mark.slow
def test_resumed_sweep_after_random_kills_has_exactly_the_uninterrupted_rows(tmp_path):
    preset = tmp_path / "kill.toml"
    preset.write_text(PRESET)
    reference = genbench_run(preset, tmp_path / "whole")
    assert reference.wait(timeout=300) == 0, reference.stderr.read().decode()

    rng = random.Random(7)
    out = tmp_path / "killed"
    kills = 0
    for _ in range(30):
        process = genbench_run(preset, out, "--resume")
        if kills < 6:  # kill the first attempts at random moments, then let one finish
            # each attempt is killed soon after it has stored one more group's records, at a
            # random moment of what it writes or trains next: progress between kills, however
            # fast or slow the machine
            stored = len(list((out / "records").glob("*.json")))
            deadline = time.monotonic() + 300
            while (
                process.poll() is None
                and len(list((out / "records").glob("*.json"))) <= stored
                and time.monotonic() < deadline
            ):
                time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.3))
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
                kills += 1
                continue
        if process.wait(timeout=300) == 0:
            break
        pytest.fail(f"resumed sweep failed: {process.stderr.read().decode()}")
    assert kills >= 3, "the sweep finished before it could be interrupted enough"

    whole = pd.read_csv(tmp_path / "whole" / "runs.csv")[RESULT_COLUMNS]
    resumed = pd.read_csv(out / "runs.csv")[RESULT_COLUMNS]
    pd.testing.assert_frame_equal(resumed, whole)  # same rows, none torn, none twice
    assert not list(out.glob("**/.*.genbench-tmp"))  # no temporary file left behind
