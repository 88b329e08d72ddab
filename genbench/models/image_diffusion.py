"""DDPM and flow matching for image targets, with a small U-Net (``unet.py``) as the network.

Both learn a map from N(0, I) noise of the image's own size to images, by regression on
pairs of a training image and a noise draw, and both sample by running a fixed-step solver
from noise, so entries that differ only in the solver share one trained network
(``sampling_params``):

- ``ddpm_unet``: DDPM (Ho et al., 2020) as ``ddpm.py`` has it, with the U-Net as ε_θ(x_t, t):
  the linear β schedule from 1e-4 to 0.02 over T = 1000 steps, x_t = √ᾱ_t x_0 + √(1 − ᾱ_t) ε,
  the loss ‖ε − ε_θ(x_t, t)‖², and the samplers of ``diffusion_samplers.SAMPLERS``;
- ``fm_unet``: rectified flow (Liu et al., 2023) as ``flow_matching.py`` has it, with the
  U-Net as v_θ(x_t, t): x_t = (1 − t) x₀ + t x₁ between noise x₀ ~ N(0, I) and an image x₁,
  t ~ U[0, 1] (uniform times, where the 2-D ``fm`` mixes in logit-normal ones), the loss
  ‖x₁ − x₀ − v_θ(x_t, t)‖², and Euler or midpoint steps of dx/dt = v_θ(x, t) from t = 0 to
  1 (``flow_matching.integrate``).

The pixels are learned as the targets give them, in [-1, 1] (the range DDPM's schedule was
made for); samples are clipped to it. Training: Adam, the learning rate warmed up and decayed
on a cosine, and samples drawn with an exponential moving average of the weights, as the 2-D
families do. No log-likelihood.

The latent x_T (x₀ for the flow) lives in the image space, so its size is the pixel count.
``fixed_latent_dim`` is a class attribute and cannot follow a target's image size: both list
64, the pixel count of the image track's 8 × 8 digits (``pca_gmm`` likewise caps its latent
size at 64 there). On 16 × 16 digits their noise has 256 dimensions though the row says 64.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from genbench.models.base import GenerativeModel, ProgressCallback
from genbench.models.diffusion_samplers import NoiseSchedule, get_sampler
from genbench.models.flow_matching import SOLVERS, TIME_SCALE, integrate
from genbench.models.images import check_image_shape, image_batches, take_image_shape
from genbench.models.nn import (
    WeightAverage,
    adam,
    check_fitted,
    check_schedule,
    generator,
    sample_in_chunks,
    seeded_init,
    warmup_cosine,
)
from genbench.models.stack import Monitor, descend
from genbench.models.unet import GROUPS, UNet
from genbench.registry import models
from genbench.seeding import derive_seed
from genbench.targets.base import Target

# The pixel count of the 8 × 8 digits: the latent size both families list (see above).
IMAGE_LATENT_DIM = 64
# ``sample`` runs the U-Net on about this many pixels at a time (512 images of 8 × 8): on the
# CPU a pass of 512 images took 0.48 s per 2,000 images, of 2,000 0.55 s, of 4,000 0.82 s.
SAMPLE_CHUNK_PIXELS = 2**15


@dataclass(eq=False)
class ImageDiffusion(GenerativeModel):
    """What both families share: the U-Net, the image shape, the training loop and sampling
    in chunks. A subclass gives the loss of a batch and the solver from noise to images."""

    kinds: ClassVar[tuple[str, ...]] = ("images",)
    fixed_latent_dim: ClassVar[int | None] = IMAGE_LATENT_DIM
    sampling_params: ClassVar[tuple[str, ...]] = ("sampler", "sampling_steps")

    latent_dim: int = IMAGE_LATENT_DIM  # ignored: the noise lives in the image space
    device: str = "cpu"  # torch device to train and sample on
    width: int = 32  # C: channels at the image's side; 2C at half and quarter side
    batch_size: int = 64  # training images per step
    lr: float = 1e-3  # peak Adam learning rate
    warmup_steps: int = 100  # the learning rate ramps up over these, then decays (cosine)
    final_lr: float = 0.1  # the rate at the last step, as a fraction of ``lr``; 1: constant
    # > 0: sample with an exponential moving average of the weights; 0.995 averages over the
    # last ~200 steps, short enough for the image track's 1,500-step runs
    ema_decay: float = 0.995
    # (h, w) of the images it learns: 0 takes the target's at ``fit``, which sets them, so that
    # a saved model rebuilds its network; a nonzero shape must match the target's
    image_height: int = 0
    image_width: int = 0

    def __post_init__(self) -> None:
        check_schedule(self)
        if self.width < GROUPS or self.width % GROUPS:
            raise ValueError(f"width must be a multiple of {GROUPS}, got {self.width}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if (self.image_height, self.image_width) != (0, 0):
            check_image_shape(self.image_height, self.image_width, self.name)

    def _build(self, seed: int = 0) -> None:
        check_image_shape(self.image_height, self.image_width, self.name)
        with seeded_init(derive_seed(seed, "init")):
            self.network_ = UNet(self.width).to(self.device)

    def modules(self) -> dict[str, torch.nn.Module]:
        check_fitted(self, "network_")
        return {"network": self.network_}

    def _network(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The U-Net on flattened images ``x`` (n, h · w) at times ``t`` (n,); (n, h · w)."""
        images = x.view(-1, 1, self.image_height, self.image_width)
        return self.network_(images, t).view(x.shape)

    def fit(
        self, target: Target, steps: int, seed: int, progress: ProgressCallback | None = None
    ) -> ImageDiffusion:
        take_image_shape(self, target)
        self._build(seed)
        optimizer = adam(self.network_.parameters(), lr=self.lr)
        schedule = warmup_cosine(optimizer, steps, self.warmup_steps, self.final_lr)
        average = WeightAverage(self.network_, self.ema_decay)
        noise = generator(derive_seed(seed, "noise"), self.device)
        monitor = Monitor(steps, progress)
        batches = image_batches(target, self.batch_size, steps, seed, self.device, labelled=False)
        for step, (images, _) in enumerate(batches, start=1):  # images: (batch, h · w)
            loss = self._loss(images, noise)
            descend(optimizer, loss)
            schedule.step()
            average.update()
            # a NaN loss trains on, as in the other families: its samples come out NaN, and
            # the runner records the run as diverged
            monitor.report(step, loss.detach())
        average.copy_to_network()  # the averaged weights are the trained model
        return self

    @abstractmethod
    def _loss(self, images: torch.Tensor, noise: torch.Generator) -> torch.Tensor:
        """The mean regression loss of a batch of ``images`` (batch, h · w), (); randomness
        from ``noise``."""

    @abstractmethod
    def _solve(self, x: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        """Images (n, h · w) from noise ``x`` (n, h · w) by the sampler, randomness from ``rng``."""

    @torch.inference_mode()
    def sample(self, num_samples: int, seed: int) -> np.ndarray:
        """``num_samples`` images, (n, h · w) float32 in [-1, 1]; same seed, same images."""
        check_fitted(self, "network_")
        rng = generator(derive_seed(seed, "sample"), self.device)
        pixels = self.image_height * self.image_width

        def draw(count: int) -> torch.Tensor:
            x = torch.randn(count, pixels, generator=rng, device=self.device)  # (count, h · w)
            return self._solve(x, rng).clamp(-1.0, 1.0)

        chunk = max(1, SAMPLE_CHUNK_PIXELS // pixels)
        return sample_in_chunks(draw, num_samples, self.device, chunk, pixels)


@models.register("ddpm_unet")
@dataclass(eq=False)
class DDPMUNet(ImageDiffusion):
    """Images x_0 by reversing a T-step Gaussian diffusion with an ε-predicting U-Net."""

    name: ClassVar[str] = "ddpm_unet"

    num_timesteps: int = 1000  # T, steps of the forward (noising) process
    beta_start: float = 1e-4  # β_1 of the linear schedule
    beta_end: float = 0.02  # β_T of the linear schedule
    # a name in diffusion_samplers.SAMPLERS; "dpm_solver" (DPM-Solver++(2M), deterministic)
    # by default: "ancestral" takes all T steps, 50 times the U-Net passes of 20 steps
    sampler: str = "dpm_solver"
    sampling_steps: int = 20  # steps of the few-step samplers (ancestral always takes T)

    def __post_init__(self) -> None:
        super().__post_init__()
        get_sampler(self.sampler)  # a ValueError naming the known samplers
        if not 1 <= self.sampling_steps <= self.num_timesteps:
            raise ValueError(f"sampling_steps must be in [1, T], got {self.sampling_steps}")

    def _build(self, seed: int = 0) -> None:
        super()._build(seed)
        self.schedule = NoiseSchedule.linear(
            self.beta_start, self.beta_end, self.num_timesteps, self.device
        )

    def _predict_noise(self, x_t: torch.Tensor, t: int) -> torch.Tensor:
        """ε_θ(x_t, t) for images ``x_t`` (n, h · w) at one step t in 0 … T−1; (n, h · w)."""
        return self._network(x_t, torch.full(x_t.shape[:1], t, device=x_t.device))

    def _loss(self, images: torch.Tensor, noise: torch.Generator) -> torch.Tensor:
        x_0, batch = images, len(images)
        t = torch.randint(self.num_timesteps, (batch,), generator=noise, device=self.device)
        eps = torch.randn(x_0.shape, generator=noise, device=self.device)
        alpha_bar = self.schedule.alpha_bars.float()[t][:, None]  # (batch, 1)
        x_t = alpha_bar.sqrt() * x_0 + (1 - alpha_bar).sqrt() * eps
        return ((self._network(x_t, t) - eps) ** 2).mean()

    def _solve(self, x: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        # looked up here, not kept from __post_init__: the runner sets ``sampler`` on trained
        # copies, and a sampler registered since then must be found
        sampler = get_sampler(self.sampler)
        return sampler(self._predict_noise, x, self.schedule, rng, steps=self.sampling_steps)


@models.register("fm_unet")
@dataclass(eq=False)
class FlowMatchingUNet(ImageDiffusion):
    """Images x₁ by integrating a velocity field learned by rectified flow from N(0, I)."""

    name: ClassVar[str] = "fm_unet"

    sampler: str = "midpoint"  # fixed-step ODE solver of the samples: "euler" or "midpoint"
    sampling_steps: int = 10  # its steps from t = 0 to 1 (midpoint: 2 U-Net passes each)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.sampler not in SOLVERS:
            raise ValueError(f"sampler must be one of {', '.join(SOLVERS)}, got {self.sampler!r}")
        if self.sampling_steps < 1:
            raise ValueError(f"sampling_steps must be at least 1, got {self.sampling_steps}")

    def _velocity(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """v_θ(x, t) for images ``x`` (n, h · w) at times ``t`` (n,) in [0, 1]; (n, h · w)."""
        return self._network(x, t * TIME_SCALE)  # t embedded as DDPM embeds its steps

    def _loss(self, images: torch.Tensor, noise: torch.Generator) -> torch.Tensor:
        x_1, batch = images, len(images)  # the data are reached at t = 1
        x_0 = torch.randn(x_1.shape, generator=noise, device=self.device)  # N(0, I)
        t = torch.rand(batch, generator=noise, device=self.device)  # (batch,)
        x_t = (1 - t[:, None]) * x_0 + t[:, None] * x_1
        return ((self._velocity(x_t, t) - (x_1 - x_0)) ** 2).mean()

    def _solve(self, x: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        return integrate(self._velocity, x, 0.0, 1.0, self.sampling_steps, self.sampler)
