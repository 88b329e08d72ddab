"""A discrete Bayesian network (pgmpy) over binned coordinates, dequantised: a classical baseline.

Each coordinate is cut into ``bins`` equal-width bins spanning the training data (and a margin
of 5 % on each side); pgmpy learns a DAG over the binned coordinates (hill climbing on BIC, or
the Chow-Liu tree) and its conditional probability tables (BDeu pseudo-counts, so no bin of the
span has probability 0). A sample draws every coordinate's bin from its table given its
parents' bins, in topological order, then a point uniformly within the cell. The network's
density is piecewise constant, P(cell of x) / area of a cell, and 0 outside the span; so that
no target point has density 0 (and the exact KL stays finite), a share ``floor`` of the mass is
a broad Gaussian (the data's mean, twice its standard deviations):

    q(x) = (1 − floor) · P(cell of x) / cell area + floor · N(x; mean, 4 · covariance).

In two dimensions such a network is at best a 2-D histogram: with two variables the DAG either
joins them (any joint table) or not (the product of the marginals, a histogram whose cells
cannot follow the spiral's arm). It earns its place on high-dimensional data such as images,
where the DAG keeps only the dependencies that pay for their tables. ``bins = 0`` chooses the
bin count among ``BIN_CANDIDATES`` by the log-likelihood of a held-out fifth of the data.

pgmpy learns the structure and the tables; sampling and the density read the tables with
numpy and this model's own seeded generator (pgmpy's sampler seeds NumPy's global state).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from genbench.models.baselines import Estimator
from genbench.models.nn import check_fitted
from genbench.registry import models
from genbench.seeding import derive_seed

BIN_CANDIDATES = (8, 12, 16, 24, 32, 48, 64, 96, 128)  # bins per coordinate tried by bins = 0
STRUCTURES = ("hill_climb", "chow_liu")
HELD_OUT = 0.2  # the share of the points that choose the bin count
MARGIN = 0.05  # the span reaches this share of the data's range beyond its extremes


def import_pgmpy() -> Any:
    """The pgmpy modules this model uses, or an ImportError that says how to install them."""
    try:
        with warnings.catch_warnings():  # deprecation notices of pgmpy's own modules
            warnings.simplefilter("ignore", FutureWarning)
            import pgmpy.estimators as estimators
            import pgmpy.models as pgmpy_models
            import pgmpy.parameter_estimator as parameter_estimators
    except ImportError:  # pragma: no cover - depends on the installation
        raise ImportError(
            "the bayesnet model needs pgmpy (a genbench dependency): pip install pgmpy"
        ) from None
    return estimators, pgmpy_models, parameter_estimators


@models.register("bayesnet")
@dataclass(eq=False)
class BayesNet(Estimator):
    """q(x) = Π_d P(bin of x_d | bins of its parents) / cell area, uniform within each cell."""

    latent_dim: int = 2  # unused: a Bayesian network over the coordinates has no latent space
    device: str = "cpu"  # unused: pgmpy and numpy run on the CPU
    bins: int = 0  # bins per coordinate; 0: the BIN_CANDIDATES count of best held-out likelihood
    structure: str = "hill_climb"  # "hill_climb" (BIC score) or "chow_liu" (a tree)
    pseudo_count: float = 1.0  # BDeu equivalent sample size of the tables' prior
    floor: float = 1e-3  # the share of the mass on a broad Gaussian: q > 0 everywhere (0: none)

    name: ClassVar[str] = "bayesnet"
    # over an image target's pixels too, where it is a real model (a DAG over 64 variables)
    kinds: ClassVar[tuple[str, ...]] = ("points", "images")
    state_names: ClassVar[tuple[str, ...]] = ("edges_", "parents_", "tables_", "broad_")

    def __post_init__(self) -> None:
        if self.bins < 0 or self.bins == 1:
            raise ValueError(f"bins must be 0 (chosen) or at least 2, got {self.bins}")
        if self.structure not in STRUCTURES:
            raise ValueError(f"structure must be one of {', '.join(STRUCTURES)}")
        if not self.pseudo_count > 0:
            raise ValueError(f"pseudo_count must be positive, got {self.pseudo_count}")
        if not 0 <= self.floor < 1:
            raise ValueError(f"floor must be in [0, 1), got {self.floor}")

    def _estimate(self, data: np.ndarray, seed: int) -> float:
        bins = self.bins
        if not bins:
            rng = np.random.default_rng(seed)
            order = rng.permutation(len(data))
            cut = max(1, int(len(data) * HELD_OUT))
            held_out, fitted = data[order[:cut]], data[order[cut:]]
            scores = {
                count: self._fit(fitted, count).mean_log_prob(held_out) for count in BIN_CANDIDATES
            }
            bins = max(scores, key=lambda count: scores[count])
        self._fit(data, bins)
        return float(-self.log_prob(data).mean())

    def _fit(self, data: np.ndarray, bins: int) -> BayesNet:
        """Learn the network on ``data`` (n, D) with ``bins`` bins per coordinate."""
        import pandas as pd

        estimators, pgmpy_models, parameter_estimators = import_pgmpy()
        low, high = data.min(axis=0), data.max(axis=0)
        margin = MARGIN * np.maximum(high - low, 1e-9)
        edges = np.linspace(low - margin, high + margin, bins + 1, axis=1)  # (D, bins + 1)
        # integer names: their hashes, and so the order in which pgmpy walks its sets of
        # candidate edges (which breaks ties between equal scores), are the same in every
        # process; strings hash differently from one process to the next
        names = list(range(data.shape[1]))
        states = list(range(bins))
        frame = pd.DataFrame(  # categorical columns: pgmpy treats integers as continuous
            {name: pd.Categorical(column, states) for name, column in
             zip(names, self._cells(data, edges).T, strict=True)}
        )  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pgmpy's notices about its own deprecations
            if self.structure == "chow_liu":
                search = estimators.TreeSearch(frame, root_node=names[0])
                dag = search.estimate(estimator_type="chow-liu", show_progress=False)
            else:
                search = estimators.HillClimbSearch(frame)
                dag = search.estimate(scoring_method="bic-d", show_progress=False)
            network = pgmpy_models.DiscreteBayesianNetwork(dag.edges())
            network.add_nodes_from(names)
            estimator = parameter_estimators.DiscreteBayesianEstimator(
                state_names=dict.fromkeys(names, states),
                prior_type="BDeu",
                equivalent_sample_size=self.pseudo_count,
            )
            network.fit(frame, estimator=estimator)
        parents = np.full((len(names), len(names)), False)
        tables = []
        for d, name in enumerate(names):
            cpd = network.get_cpds(name)
            order = [names.index(parent) for parent in cpd.variables[1:]]  # the table's axes
            parents[d, order] = True
            # axes: the child, then its parents in coordinate order
            tables.append(np.transpose(cpd.values, [0, *(1 + np.argsort(order))]))
        # the broad Gaussian: mean (D,), then the rows of its covariance (D, D)
        covariance = 4 * np.atleast_2d(np.cov(data, rowvar=False)) + 1e-9 * np.eye(len(names))
        broad = np.vstack([data.mean(axis=0), covariance])
        self._restore({"edges_": edges, "parents_": parents, "tables_": tables, "broad_": broad})
        return self

    @staticmethod
    def _cells(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
        """The bin of each coordinate of ``x`` (n, D), (n, D); -1 outside the span."""
        bins = edges.shape[1] - 1
        cells = np.stack(
            [np.searchsorted(edges[d], x[:, d], side="right") - 1 for d in range(len(edges))],
            axis=1,
        )
        cells[x[:, : len(edges)] == edges[:, -1]] = bins - 1  # the span's top edge is inside
        return np.where((cells >= 0) & (cells < bins), cells, -1)

    def _restore(self, state: dict[str, Any]) -> None:
        tables = state["tables_"]
        if isinstance(tables, np.ndarray) and tables.dtype != object:  # saved: one flat array
            tables = self._unflatten(tables, state["parents_"], state["edges_"].shape[1] - 1)
        super()._restore(state | {"tables_": tables})
        self.log_tables_ = [np.log(table) for table in self.tables_]
        self.order_ = topological_order(self.parents_)
        self.broad_cholesky_ = np.linalg.cholesky(self.broad_[1:])

    @staticmethod
    def _unflatten(flat: np.ndarray, parents: np.ndarray, bins: int) -> list[np.ndarray]:
        tables, start = [], 0
        for row in parents:
            shape = (bins,) * (1 + int(row.sum()))
            size = math.prod(shape)
            tables.append(flat[start : start + size].reshape(shape))
            start += size
        return tables

    def _state(self) -> dict[str, Any]:
        flat = np.concatenate([table.ravel() for table in self.tables_])  # one array to save
        return super()._state() | {"tables_": flat}

    @property
    def num_bins(self) -> int:
        """The bins per coordinate in use (chosen when ``bins`` is 0)."""
        check_fitted(self, "edges_")
        return self.edges_.shape[1] - 1

    @property
    def edge_list(self) -> list[tuple[int, int]]:
        """The DAG's edges as (parent coordinate, child coordinate)."""
        check_fitted(self, "edges_")
        return [(int(p), int(c)) for c, p in zip(*np.nonzero(self.parents_), strict=True)]

    def mean_log_prob(self, x: np.ndarray) -> float:
        """The mean log-density of ``x`` with points outside the span moved to its edge cells
        (so that one stray point does not decide a comparison of bin counts)."""
        inside = np.clip(x, self.edges_[:, 0], self.edges_[:, -1])
        return float(self._log_prob_cells(self._cells(inside, self.edges_)).mean())

    def _log_prob_cells(self, cells: np.ndarray) -> np.ndarray:
        """log q at points in ``cells`` (n, D), all inside the span."""
        widths = self.edges_[:, 1] - self.edges_[:, 0]
        total = np.full(len(cells), -np.log(widths).sum())
        for d, log_table in enumerate(self.log_tables_):
            index = (cells[:, d], *(cells[:, p] for p in np.flatnonzero(self.parents_[d])))
            total += log_table[index]
        return total

    def sample(self, num_samples: int, seed: int) -> np.ndarray:
        check_fitted(self, "edges_")
        rng = np.random.default_rng(derive_seed(seed, "bayesnet"))
        cells = np.zeros((num_samples, len(self.edges_)), dtype=np.int64)
        for d in self.order_:  # parents before children
            parents = np.flatnonzero(self.parents_[d])
            table = self.tables_[d]  # (bins, bins per parent …)
            if parents.size:  # each sample's column of the table: (n, bins)
                probabilities = table[(slice(None), *(cells[:, p] for p in parents))].T
            else:
                probabilities = np.broadcast_to(table, (num_samples, len(table)))
            cumulative = np.cumsum(probabilities, axis=1)
            draws = rng.random((num_samples, 1)) * cumulative[:, -1:]
            cells[:, d] = np.minimum((draws > cumulative).sum(axis=1), len(table) - 1)
        low = np.take_along_axis(self.edges_, cells.T, axis=1).T  # (n, D) each cell's low edge
        widths = self.edges_[:, 1] - self.edges_[:, 0]
        points = low + widths * rng.random(cells.shape)
        broad = rng.random(num_samples) < self.floor  # these come from the broad Gaussian
        noise = rng.standard_normal((int(broad.sum()), len(self.edges_)))
        points[broad] = self.broad_[0] + noise @ self.broad_cholesky_.T
        return points.astype(np.float32)

    def log_prob(self, x: np.ndarray) -> np.ndarray:
        check_fitted(self, "edges_")
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(self.edges_):
            raise ValueError(f"expected points of shape (n, {len(self.edges_)}), got {x.shape}")
        cells = self._cells(x, self.edges_)
        inside = (cells >= 0).all(axis=1)
        network = np.full(len(x), -np.inf)
        network[inside] = self._log_prob_cells(cells[inside])
        if not self.floor:
            return network
        return np.logaddexp(
            np.log1p(-self.floor) + network, np.log(self.floor) + self._broad_log_prob(x)
        )

    def _broad_log_prob(self, x: np.ndarray) -> np.ndarray:
        """log N(x; mean, covariance) of the broad Gaussian, (n,)."""
        whitened = np.linalg.solve(self.broad_cholesky_, (x - self.broad_[0]).T)  # (D, n)
        log_det = 2 * np.log(np.diag(self.broad_cholesky_)).sum()
        return -0.5 * ((whitened**2).sum(axis=0) + log_det + len(x[0]) * np.log(2 * np.pi))


def topological_order(parents: np.ndarray) -> list[int]:
    """The coordinates ordered so that every one comes after its parents (``parents[c, p]``)."""
    placed = np.full(len(parents), False)
    order: list[int] = []
    while not placed.all():
        ready = np.flatnonzero(~placed & ~(parents & ~placed).any(axis=1))
        if not ready.size:
            raise ValueError("the network's graph has a cycle")
        order.extend(int(c) for c in ready)
        placed[ready] = True
    return order
