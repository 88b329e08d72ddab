"""The progress display of a run: the whole grid, and one bar per group in training."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from genbench.plan import RunGroup
from genbench.results import RunRecord
from genbench.runner import Event, Started, Trained

# A run's work is its steps plus a fixed share for sampling and scoring, for an honest ETA.
SCORING_WEIGHT = 200


def progress_display(enabled: bool = True) -> Any:
    """genbench's rich progress display: description, bar, done/total, elapsed time, ETA.
    Disabled, it shows nothing."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(bar_width=24),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        disable=not enabled,
    )


class GridProgress:
    """The grid's bar, weighted by training steps, and one bar per group in training with its
    step count. Fed the executor's events (:meth:`on_event`) and the finished groups
    (:meth:`finish`). Disabled, it does nothing."""

    def __init__(self, groups: Sequence[RunGroup], enabled: bool = True) -> None:
        self.groups = groups
        self.enabled = enabled and len(groups) > 0
        # training: its steps once per model it trains; scoring: a fixed weight per run
        self.weights = [
            group.steps * group.trainings + SCORING_WEIGHT * len(group.runs) for group in groups
        ]
        self.bars: dict[int, Any] = {}  # group index → its bar, while it trains
        self.steps_done = [0] * len(groups)
        self.done: set[int] = set()  # groups finished: their late events change nothing
        self.total_runs = sum(len(group.runs) for group in groups)
        self.finished = 0
        self.failures = 0

    def __enter__(self) -> GridProgress:
        if not self.enabled:
            return self
        self.display = progress_display()
        self.display.__enter__()
        self.sweep = self.display.add_task(self._sweep_label(), total=sum(self.weights))
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.display.__exit__(*exc)

    def _sweep_label(self) -> str:
        failed = f", {self.failures} failed" if self.failures else ""
        return f"grid: {self.finished}/{self.total_runs} runs done{failed}"

    def on_event(self, index: int, event: Event) -> None:
        if not self.enabled or index >= len(self.groups) or index in self.done:
            return
        if isinstance(event, Started) and index not in self.bars:
            self.bars[index] = self.display.add_task(
                describe(self.groups[index]), total=self.groups[index].steps or 1
            )
        elif isinstance(event, Trained) and index in self.bars:
            # a stack retried one model at a time counts from 0 again: never go backwards
            trainings = self.groups[index].trainings
            advance = max(0, event.steps - self.steps_done[index]) * trainings
            self.steps_done[index] = max(event.steps, self.steps_done[index])
            self.display.update(self.bars[index], completed=event.steps)
            self.display.update(self.sweep, advance=advance)

    def finish(self, index: int, records: Sequence[RunRecord]) -> None:
        if not self.enabled:
            return
        self.done.add(index)
        self.finished += len(records)
        self.failures += sum(not record.ok for record in records)
        remaining = self.weights[index] - self.steps_done[index] * self.groups[index].trainings
        if index in self.bars:
            self.display.remove_task(self.bars.pop(index))
        self.display.update(self.sweep, advance=remaining, description=self._sweep_label())


def describe(group: RunGroup) -> str:
    """A group's bar label: its entries and latent size, targets, seeds, and stack size."""
    specs = group.runs
    first = specs[0]
    entries = ", ".join(dict.fromkeys(spec.model for spec in specs))
    what = entries if group.family.reference else f"{entries} z={first.latent_dim}"
    names = sorted({spec.target for spec in specs})
    seeds = sorted({spec.seed for spec in specs})
    where = names[0] if len(names) == 1 else f"{len(names)} targets"
    which = f"seed {seeds[0]}" if len(seeds) == 1 else f"{len(seeds)} seeds"
    together = f" ({group.trainings} models at once)" if group.trainings > 1 else ""
    return f"  {what} · {where} · {which}{together}"
