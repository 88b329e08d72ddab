"""A small U-Net (Ronneberger et al., 2015, as DDPM's ε_θ has it): f(x, t) for h × w images.

A 3 × 3 convolution lifts the single channel to C; the encoder then has two levels, each a
residual block and a strided convolution that halves the side (h → h/2 → h/4, C → 2C → 2C
channels); two residual blocks work at h/4; the decoder mirrors the encoder, doubling the side
(nearest neighbour, then a 3 × 3 convolution) and concatenating the encoder's maps of the same
side (the skip connections) before a residual block. A last GroupNorm, SiLU and 3 × 3
convolution, zeroed so that the network starts as the constant 0, reads out one channel.

A residual block is GroupNorm → SiLU → conv → + time → GroupNorm → SiLU → conv, added to its
input (through a 1 × 1 convolution where the channels change); "time" is a per-channel shift
projected from the embedding of t: sin and cos of t at C/2 frequencies (``sinusoidal_embedding``)
through a two-layer SiLU MLP to 4C, shared by all blocks. The output is the same shape as x.

Sized for 8 × 8 and 16 × 16 digits: 0.54 M parameters at C = 32.
"""

from __future__ import annotations

import torch
from torch import nn

from genbench.models.nn import sinusoidal_embedding

GROUPS = 8  # GroupNorm's groups: C must be a multiple


class ResidualBlock(nn.Module):
    """x (n, c_in, h, w), time (n, e) → (n, c_out, h, w): two convolutions and a shift by time."""

    def __init__(self, in_channels: int, out_channels: int, time_features: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(GROUPS, in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.time = nn.Linear(time_features, out_channels)
        self.norm2 = nn.GroupNorm(GROUPS, out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.skip = (
            nn.Conv2d(in_channels, out_channels, 1)
            if in_channels != out_channels
            else nn.Identity()
        )
        self.activation = nn.SiLU()

    def forward(self, x: torch.Tensor, time: torch.Tensor) -> torch.Tensor:
        h = self.conv1(self.activation(self.norm1(x)))
        h = h + self.time(time)[:, :, None, None]  # one shift per channel
        h = self.conv2(self.activation(self.norm2(h)))
        return self.skip(x) + h


class UNet(nn.Module):
    """f(x, t): images x (n, 1, h, w) and times t (n,) (any real scale: DDPM's steps 0 … T−1)
    → (n, 1, h, w); h and w divisible by 4, ``channels`` (C) a multiple of ``GROUPS``."""

    def __init__(self, channels: int = 32) -> None:
        super().__init__()
        if channels < GROUPS or channels % GROUPS:
            raise ValueError(f"channels must be a multiple of {GROUPS}, got {channels}")
        c, e = channels, 4 * channels  # e: the time embedding's width
        self.channels = c
        self.time_mlp = nn.Sequential(nn.Linear(c, e), nn.SiLU(), nn.Linear(e, e))
        self.stem = nn.Conv2d(1, c, 3, padding=1)
        self.down1 = ResidualBlock(c, c, e)  # at h
        self.halve1 = nn.Conv2d(c, c, 3, stride=2, padding=1)  # h → h/2
        self.down2 = ResidualBlock(c, 2 * c, e)  # at h/2
        self.halve2 = nn.Conv2d(2 * c, 2 * c, 3, stride=2, padding=1)  # h/2 → h/4
        self.middle1 = ResidualBlock(2 * c, 2 * c, e)  # at h/4
        self.middle2 = ResidualBlock(2 * c, 2 * c, e)
        self.double2 = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(2 * c, 2 * c, 3, padding=1)
        )  # h/4 → h/2
        self.up2 = ResidualBlock(4 * c, 2 * c, e)  # at h/2, with down2's maps
        self.double1 = nn.Sequential(
            nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(2 * c, c, 3, padding=1)
        )  # h/2 → h
        self.up1 = ResidualBlock(2 * c, c, e)  # at h, with down1's maps
        self.out = nn.Sequential(nn.GroupNorm(GROUPS, c), nn.SiLU(), nn.Conv2d(c, 1, 3, padding=1))
        nn.init.zeros_(self.out[-1].weight)  # f starts as 0: the first losses are the targets'
        nn.init.zeros_(self.out[-1].bias)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        time = self.time_mlp(sinusoidal_embedding(t, self.channels))  # (n, 4C)
        skip1 = self.down1(self.stem(x), time)  # (n, C, h, w)
        skip2 = self.down2(self.halve1(skip1), time)  # (n, 2C, h/2, w/2)
        h = self.middle1(self.halve2(skip2), time)  # (n, 2C, h/4, w/4)
        h = self.middle2(h, time)
        h = self.up2(torch.cat([self.double2(h), skip2], dim=1), time)  # (n, 2C, h/2, w/2)
        h = self.up1(torch.cat([self.double1(h), skip1], dim=1), time)  # (n, C, h, w)
        return self.out(h)  # (n, 1, h, w)
