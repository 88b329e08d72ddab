"""Worker processes end with the main process, even when it is killed outright."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

# Two GAN stacks (two latent sizes), long enough that both workers are busy when it is killed.
PRESET = """
name = "orphans"
targets = ["gaussian"]
seeds = 1
num_samples = 200
[models.gan]
latent_dims = [1, 2]
steps = 100000
params = { generator_width = 16, discriminator_width = 16, batch_size = 64 }
"""


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # gone meanwhile
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; it only waits to be reaped


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux's /proc")
def test_workers_exit_when_the_main_process_is_killed(tmp_path):
    preset = tmp_path / "orphans.toml"
    preset.write_text(PRESET)
    command = [sys.executable, "-m", "genbench", "run", "--preset", str(preset)]
    command += ["--out", str(tmp_path / "out"), "--workers", "2", "--quiet", "--no-report"]
    main = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        workers: list[int] = []
        while len(workers) < 2 and time.monotonic() < deadline:  # 2 workers (+ a tracker)
            time.sleep(0.5)
            workers = [
                pid
                for pid in children(main.pid)
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
            ]
        assert len(workers) >= 2, "the workers never started"
        time.sleep(3)  # let them import torch and start training
    finally:
        os.kill(main.pid, signal.SIGKILL)
        main.wait()

    deadline = time.monotonic() + 15
    while any(map(alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [pid for pid in workers if alive(pid)]
    for pid in left:  # do not leave them to burn the CPU after a failure
        os.kill(pid, signal.SIGKILL)
    assert not left, f"workers {left} outlived the main process"
