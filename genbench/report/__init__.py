"""``genbench report DIR``: the figures, ``report.html`` and ``report.md`` of a results folder.

Everything is derived from the folder alone (``config.json``, ``runs.csv``, ``leaderboard.csv``,
``samples/*.npy`` and any ``animations/*.gif``), so a report can be rebuilt anywhere, any time.
It writes

    figures/leaderboard.png         targets × entries, coloured by rank
    figures/samples_TARGET.png      samples by model (rows) and latent dimension (columns)
    figures/metrics_TARGET.png      every metric against the latent dimension
    report.html                     one self-contained file: figures and animations embedded
                                    as data URIs, a sortable leaderboard, config, provenance
    report.md                       the same, referring to the PNG files next to it

Every file is written to a temporary name and renamed into place, and the folder is checked
completely before anything is written, so a bad folder leaves no file behind.

The modules, in the order data flows through them: ``folder`` (read and check the folder),
``figures`` (draw), ``table`` and ``facts`` (what the pages say), ``html`` and ``markdown``
(the two pages, the HTML one from the files in ``templates/``), ``build`` (all of it).
"""

from genbench.report.build import build_report
from genbench.report.folder import ReportError, Results, load_results

__all__ = ["ReportError", "Results", "build_report", "load_results"]
