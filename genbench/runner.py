"""One run group, start to end: train → sample → score, into run records. No files, no globals.

:func:`run_group` is what an executor runs, in this process, a worker process or on a cluster:
its arguments and its records are plain picklable data, and it tells how far it got through
``on_event`` (:class:`Started`, then :class:`Trained` steps). A run whose adapter raises is
recorded as ``failed`` with the error; one whose samples are not finite as ``diverged``. Either
way its metrics stay empty and the other runs go on.

A run with ``train_points`` trains on a finite :class:`TrainingSet` of its target, its own
seed's, and is still scored against the target itself; the opt-in metrics that read the
training set (``memorisation``) get its points. The reference models (the oracle) are the
target's sampler and never train on it, but are scored against it all the same: their values
are the floor of those metrics too.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from genbench.environment import device_name
from genbench.frames import FRAME_IMAGES, NUM_FRAMES, FrameRecorder
from genbench.metrics import score
from genbench.models.base import GenerativeModel
from genbench.plan import ResolvedParams, RunGroup, RunSpec, build
from genbench.registry import metrics
from genbench.results import RunRecord, Status
from genbench.seeding import derive_seed
from genbench.targets import get_target
from genbench.targets.base import Target
from genbench.targets.training import TrainingSet


@dataclass(frozen=True)
class Started:
    """The group's training has begun."""


@dataclass(frozen=True)
class Trained:
    """Each model of the group has done ``steps`` training steps."""

    steps: int


Event = Started | Trained
EventSink = Callable[[Event], None]


def run_group(group: RunGroup, device: str, on_event: EventSink | None = None) -> list[RunRecord]:
    """Train the group's models together (``fit_many``), then sample and score each run; one
    record per run, in the group's order, with its samples (and frames, for the runs in
    ``group.record``) attached.

    Runs of one target and seed that differ only in sampling hyperparameters share one trained
    model. If training the stack raises, each model is retried alone, so that one broken run
    cannot take the others down with it.
    """
    emit = on_event or (lambda event: None)
    emit(Started())
    targets = [get_target(spec.target) for spec in group.runs]
    records = [new_record(spec, target) for spec, target in zip(group.runs, targets, strict=True)]
    hardware = device_name(device)  # this machine's: on a cluster, not the client's
    for record in records:
        record.device = hardware
    resolved = ResolvedParams()
    for record, spec in zip(records, group.runs, strict=True):
        try:
            record.hyperparameters = resolved(group.family, spec)
        except Exception:  # a broken adapter fails its own run below, not the group
            record.hyperparameters = {}
    shared = group.shared
    trainees = []
    for members in shared:
        spec, target = group.runs[members[0]], targets[members[0]]
        training = training_set(spec, target)
        data = target if training is None or group.family.reference else training
        trainees.append(Trainee(spec, data, recorded(group, group.runs, members), training))
    together = train(group.family, group.runs[0], trainees, device, emit)
    for members, trainee in zip(shared, trainees, strict=True):
        for index in members:
            record = records[index]
            record.train_seconds, record.trained_together = trainee.seconds, together
            if trainee.error:
                record.fail(Status.FAILED, trainee.error)
                continue
            model = with_sampling(trainee.model, group.family, group.runs[index])
            if trainee.recorder is not None and group.runs[index].key in group.record:
                record.frames = trainee.recorder.frames
                record.interpolation = interpolation(model, targets[index], group.runs[index])
            points = (
                trainee.training.points
                if trainee.training is not None
                else targets[index].training_points  # an image target's training half
            )
            sample_and_score(group.runs[index], targets[index], record, model, device, points)
    return records


INTERPOLATION_PATHS = 6  # paths between two latent draws an animated image run records
INTERPOLATION_STEPS = 8  # points along each


def interpolation(model: GenerativeModel, target: Target, spec: RunSpec) -> np.ndarray | None:
    """An animated image run's images along latent paths (``interpolate``), or None: on a
    2-D target, for a family with no latent space, or if the family fails to (a picture is
    not worth the run)."""
    if target.kind != "images" or not model.interpolates:
        return None
    try:
        paths = model.interpolate(INTERPOLATION_PATHS, INTERPOLATION_STEPS, sample_seed(spec.seed))
    except Exception:  # the run and its metrics stand without the picture
        return None
    return np.asarray(paths, dtype=np.float32)


def training_set(spec: RunSpec, target: Target) -> TrainingSet | None:
    """The run's finite training set, ``spec.train_points`` draws of ``target`` fixed by its
    seed (the same for every model of that target and seed); None: fresh draws."""
    if spec.train_points is None:
        return None
    return TrainingSet(target, spec.train_points, spec.seed)


def new_record(spec: RunSpec, target: Target) -> RunRecord:
    return RunRecord(
        target=spec.target,
        model=spec.model,
        latent_dim=spec.latent_dim,
        seed=spec.seed,
        steps=spec.steps,
        num_samples=spec.num_samples,
        target_fingerprint=target.fingerprint,
        config=spec.config(),
    )


def recorded(group: RunGroup, runs: Sequence[RunSpec], members: Sequence[int]) -> bool:
    return any(runs[index].key in group.record for index in members)


@dataclasses.dataclass
class Trainee:
    """One model to train: its run, what it trains on, and what training left."""

    spec: RunSpec
    target: Target  # the target itself, or its finite training set
    record_frames: bool
    training: TrainingSet | None = None  # the run's finite training set, if it has one
    model: GenerativeModel | None = None
    recorder: FrameRecorder | None = None
    seconds: float = 0.0  # its share of the training time
    error: str = ""  # why training failed, or ''


def train(
    family: type[GenerativeModel],
    template: RunSpec,
    trainees: Sequence[Trainee],
    device: str,
    emit: EventSink,
) -> int:
    """Train one model per trainee with ``template``'s hyperparameters: all at once when there
    are several, else (or after a failure) one by one. Returns how many trained at once."""

    def progress(step: int, loss: float) -> None:
        emit(Trained(step))

    if len(trainees) > 1:
        try:
            start = time.perf_counter()
            prepare(family, template, trainees, device)
            recorders = [trainee.recorder for trainee in trainees]
            watching = {"watchers": recorders} if any(recorders) else {}  # plug-ins may lack it
            family.fit_many(
                [trainee.model for trainee in trainees],
                [trainee.target for trainee in trainees],
                template.steps,
                [trainee.spec.seed for trainee in trainees],
                progress,
                **watching,
            )
            synchronize(device)
            recording = sum(recorder.seconds for recorder in recorders if recorder)
            share = (time.perf_counter() - start - recording) / len(trainees)
            for trainee in trainees:
                trainee.seconds = share
            return len(trainees)
        except KeyboardInterrupt:
            raise
        except Exception:  # retried one by one below, where the failing run is pinned down
            pass
    for trainee in trainees:
        start = time.perf_counter()
        try:
            prepare(family, template, [trainee], device)
            recorder = trainee.recorder
            if recorder is not None:
                recorder.then = progress
            model = trainee.model
            assert model is not None
            model.fit(trainee.target, template.steps, trainee.spec.seed, recorder or progress)
            synchronize(device)
        except KeyboardInterrupt:
            raise
        except Exception as error:  # a broken adapter must not end the sweep
            trainee.model, trainee.error = None, describe(error)
        recording = trainee.recorder.seconds if trainee.recorder else 0.0
        trainee.seconds = time.perf_counter() - start - recording
    return 1


def prepare(
    family: type[GenerativeModel], template: RunSpec, trainees: Sequence[Trainee], device: str
) -> None:
    """Build each trainee's untrained model, and its frame recorder where it has one."""
    for trainee in trainees:
        trainee.model = build(family, template, device)
        trainee.recorder = (
            FrameRecorder(
                trainee.model,
                every=max(1, template.steps // NUM_FRAMES),
                seed=trainee.spec.seed,
                steps=template.steps,
                # an image target's frame is a mosaic: only its images are recorded
                **({"num_points": FRAME_IMAGES} if trainee.target.kind == "images" else {}),
            )
            if trainee.record_frames
            else None
        )


def with_sampling(
    model: GenerativeModel | None, family: type[GenerativeModel], spec: RunSpec
) -> GenerativeModel | None:
    """``model`` (trained) set to sample as ``spec`` says: its ``sampling_params`` from the spec,
    or their defaults; a shallow copy sharing the trained networks when anything changes."""
    fields = {f.name: f for f in dataclasses.fields(family)}  # type: ignore[arg-type]
    wanted = {name: spec.params.get(name, fields[name].default) for name in family.sampling_params}
    if all(getattr(model, name) == value for name, value in wanted.items()):
        return model
    shallow = copy.copy(model)
    for name, value in wanted.items():
        setattr(shallow, name, value)
    return shallow


def sample_and_score(
    spec: RunSpec,
    target: Target,
    record: RunRecord,
    model: GenerativeModel,
    device: str,
    training: np.ndarray | None = None,
) -> None:
    """Draw the run's samples and score them into ``record`` against ``target`` and, for the
    metrics that read it, the run's ``training`` set (N, 2) (``diverged`` if any sample is not
    finite, ``failed`` if the adapter raises or returns something that is not points)."""
    try:
        start = time.perf_counter()
        samples = model.sample(spec.num_samples, sample_seed(spec.seed))
        synchronize(device)
        record.sample_seconds = time.perf_counter() - start
        record.samples_per_second = spec.num_samples / max(record.sample_seconds, 1e-9)
        samples = np.asarray(samples)
        finite = np.isfinite(samples).all(axis=1)
        record.samples = samples  # kept when diverged too: they show where it went wrong
        if not finite.all():
            record.status = Status.DIVERGED
            record.error = f"{(~finite).sum()} of {len(samples)} samples are NaN or infinite"
            return
        record.metrics = score(target, samples, seed=spec.seed)  # the default metrics
        score_opt_in(spec, target, samples, record, model, training)
    except KeyboardInterrupt:
        raise
    except Exception as error:  # an adapter that raises, or a wrong shape or dtype
        record.fail(Status.FAILED, describe(error))


def score_opt_in(
    spec: RunSpec,
    target: Target,
    samples: np.ndarray,
    record: RunRecord,
    model: GenerativeModel,
    training: np.ndarray | None = None,
) -> None:
    """Score ``record`` with the opt-in metrics ``spec`` asks for (``training``: the run's
    training set (N, 2), for those that read it). One that raises costs only its own column
    (NaN, with the error in ``record.error``): the run and its default metrics stand."""
    problems = []
    for name in spec.metrics:
        if target.kind not in metrics.get(name).kinds:
            continue  # a metric of another kind of target (a preset may mix kinds)
        try:
            record.metrics[name] = metrics.get(name)(
                target, samples, seed=spec.seed, model=model, training=training
            )
        except KeyboardInterrupt:
            raise
        except Exception as error:
            record.metrics[name] = math.nan
            problems.append(f"{name}: {describe(error)}")
    if problems:
        record.error = "; ".join(problems)[:500]


def sample_seed(seed: int) -> int:
    """The seed a run of seed ``seed`` draws its samples with (its metrics use ``seed``)."""
    return derive_seed(seed, "sample")


def synchronize(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}".replace("\n", " ")[:500]
