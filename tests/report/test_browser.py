"""The report opened in a real headless browser: its images decode, its table has every row and
sorts on a click. Skipped where no Chromium is installed (CI installs Debian's `chromium`)."""

from __future__ import annotations

import re
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from PIL import Image

CHROMIUM = next(
    (path for name in ["chromium", "chromium-browser"] if (path := shutil.which(name))), None
)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium installed (apt-get install chromium)"
)

# Appended to a copy of the report: click the w2 header once the page has loaded, and write
# the sorted column and row count into the DOM for --dump-dom to show.
CLICK_AND_RECORD = """
<script>
window.addEventListener("load", () => {
  const header = document.querySelector('th[data-key="w2_mean"]');
  header.click();
  const rows = Array.from(document.querySelectorAll("#leaderboard-table tbody tr"));
  document.body.dataset.rows = rows.length;
  const cells = rows.map((row) => row.cells[header.cellIndex]);
  document.body.dataset.sortedW2 = cells.map((cell) => cell.dataset.value).join(";");
});
</script>
"""


def chromium(tmp_path, *arguments: str) -> subprocess.CompletedProcess:
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",  # CI containers run as root
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        *arguments,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


def test_the_report_renders_and_sorts_in_chromium(results_folder, tmp_path):
    folder, _ = results_folder
    page = tmp_path / "report.html"
    text = (folder / "report.html").read_text(encoding="utf-8")
    page.write_text(text.replace("</body>", CLICK_AND_RECORD + "</body>"), encoding="utf-8")

    dom = chromium(tmp_path, "--virtual-time-budget=10000", "--dump-dom", page.as_uri()).stdout
    images = len(re.findall(r"<img\b", dom))
    embedded = [*folder.glob("figures/*.png"), *folder.glob("animations/*.gif")]
    assert images == len(embedded)  # the figures and the animations
    assert f'data-images-shown="{images}/{images}"' in dom, "an embedded image did not decode"

    board = pd.read_csv(folder / "leaderboard.csv")
    assert f'data-rows="{len(board)}"' in dom
    sorted_w2 = re.search(r'data-sorted-w2="([^"]*)"', dom).group(1).split(";")
    values = [float(v) for v in sorted_w2 if v]
    assert len(values) == board["w2_mean"].notna().sum()
    assert values == sorted(values)
    assert all(v == "" for v in sorted_w2[len(values) :]), "empty cells sort last"

    shot = tmp_path / "shot.png"
    chromium(tmp_path, "--window-size=1200,1600", f"--screenshot={shot}", page.as_uri())
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.shape == (1600, 1200)
    assert pixels.var() > 100, "the page rendered blank"
