"""HiFi-GAN's discriminators and losses (Kong et al. 2020, arXiv:2010.05646, §2.2-2.3).

- MultiPeriodDiscriminator (MPD): for each period p in 2, 3, 5, 7, 11 the waveform is folded into a
  (T / p, p) picture whose columns are every p-th sample, and 2-d convolutions with (k, 1) kernels look
  down the columns: each sub-discriminator sees one periodic structure of the audio.
- MultiScaleDiscriminator (MSD, from MelGAN): 1-d grouped convolutions on the raw waveform and on x2 and
  x4 average-pooled copies; the first with spectral norm, the others with weight norm.
- The losses as plain functions: least-squares GAN (LSGAN) for both players, and feature matching.

Parameter names are the reference implementation's (jik876/hifi-gan): `mpd.discriminators.N.convs.M`,
`.conv_post`, `msd.discriminators.N...`, `msd.meanpools.N`, so that a published do_ file's 'mpd' and 'msd'
state dicts load, through `load_discriminator_state` for their old weight-norm and spectral-norm names.

Shapes: B batch, T samples; a score is (B, n) for some n that depends on T, a feature map list holds
each layer's output (the last layer's is the score before flattening).
"""

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import parametrizations

from .hifigan import LRELU_SLOPE

PERIODS = (2, 3, 5, 7, 11)


def _norm(module: nn.Module, spectral: bool) -> nn.Module:
    """Weight norm (state dict: parametrizations.weight.original0/1), or spectral norm (.original and the
    power iteration's vectors .0._u, .0._v)."""
    if spectral:
        return parametrizations.spectral_norm(module)
    return parametrizations.weight_norm(module)


def _scores_and_feature_maps(convs: nn.ModuleList, conv_post: nn.Module,
                             x: Tensor) -> tuple[Tensor, list[Tensor]]:
    """Both discriminators' stack: each conv then a leaky ReLU, then conv_post; every output is a feature
    map. -> (scores flattened to (B, n), [feature maps])."""
    feature_maps = []
    for conv in convs:
        x = F.leaky_relu(conv(x), LRELU_SLOPE)
        feature_maps.append(x)
    x = conv_post(x)
    feature_maps.append(x)
    return torch.flatten(x, 1), feature_maps


class DiscriminatorP(nn.Module):
    """audio (B, 1, T) -> score (B, n), 6 feature maps (B, C, T', period); T is reflect-padded to a
    multiple of the period first. `divisor` narrows every layer (1: the reference's widths)."""

    def __init__(self, period: int, kernel_size: int = 5, stride: int = 3, spectral: bool = False,
                 divisor: int = 1):
        super().__init__()
        self.period = period
        channels = [1] + [width // divisor for width in (32, 128, 512, 1024)]
        padding = ((kernel_size - 1) // 2, 0)
        self.convs = nn.ModuleList(
            _norm(nn.Conv2d(c_in, c_out, (kernel_size, 1), (stride, 1), padding=padding), spectral)
            for c_in, c_out in zip(channels, channels[1:]))
        self.convs.append(_norm(nn.Conv2d(channels[-1], channels[-1], (kernel_size, 1), 1, padding=padding),
                                spectral))
        self.conv_post = _norm(nn.Conv2d(channels[-1], 1, (3, 1), 1, padding=(1, 0)), spectral)

    def forward(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        batch, channels, length = x.shape
        if length % self.period:
            x = F.pad(x, (0, self.period - length % self.period), "reflect")
        x = x.view(batch, channels, -1, self.period)  # column j holds samples j, j + p, j + 2p, ...
        return _scores_and_feature_maps(self.convs, self.conv_post, x)


class MultiPeriodDiscriminator(nn.Module):
    """audio (B, 1, T) -> ([score (B, n_p)] for each period, [[6 feature maps]] for each period)."""

    def __init__(self, periods: tuple[int, ...] = PERIODS, divisor: int = 1):
        super().__init__()
        self.discriminators = nn.ModuleList(DiscriminatorP(period, divisor=divisor) for period in periods)

    def forward(self, audio: Tensor) -> tuple[list[Tensor], list[list[Tensor]]]:
        scores, feature_maps = zip(*(discriminator(audio) for discriminator in self.discriminators))
        return list(scores), list(feature_maps)


class DiscriminatorS(nn.Module):
    """audio (B, 1, T) -> score (B, ~T / 64), 8 feature maps (B, C, T'): grouped strided 1-d convolutions.
    `divisor` narrows every layer (1: the reference's widths; the groups shrink with them where needed)."""

    def __init__(self, spectral: bool = False, divisor: int = 1):
        super().__init__()
        # (in, out, kernel, stride, groups) of the reference, padding (kernel - 1) / 2
        layers = [(1, 128, 15, 1, 1), (128, 128, 41, 2, 4), (128, 256, 41, 2, 16), (256, 512, 41, 4, 16),
                  (512, 1024, 41, 4, 16), (1024, 1024, 41, 1, 16), (1024, 1024, 5, 1, 1)]
        self.convs = nn.ModuleList()
        for c_in, c_out, kernel, stride, groups in layers:
            c_in, c_out = max(c_in // divisor, 1), c_out // divisor
            groups = math.gcd(groups, c_in, c_out)  # the reference's groups, or fewer in narrowed layers
            self.convs.append(_norm(nn.Conv1d(c_in, c_out, kernel, stride, groups=groups,
                                              padding=(kernel - 1) // 2), spectral))
        self.conv_post = _norm(nn.Conv1d(1024 // divisor, 1, 3, 1, padding=1), spectral)

    def forward(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        return _scores_and_feature_maps(self.convs, self.conv_post, x)


class MultiScaleDiscriminator(nn.Module):
    """audio (B, 1, T) -> ([score] for the raw, x2 and x4 pooled audio, [[8 feature maps]] for each)."""

    def __init__(self, divisor: int = 1):
        super().__init__()
        self.discriminators = nn.ModuleList(DiscriminatorS(spectral=scale == 0, divisor=divisor)
                                            for scale in range(3))  # spectral norm on the raw audio only
        self.meanpools = nn.ModuleList([nn.AvgPool1d(4, 2, padding=2), nn.AvgPool1d(4, 2, padding=2)])

    def forward(self, audio: Tensor) -> tuple[list[Tensor], list[list[Tensor]]]:
        scores, feature_maps = [], []
        for i, discriminator in enumerate(self.discriminators):
            if i > 0:
                audio = self.meanpools[i - 1](audio)  # each scale half the previous one's rate
            score, maps = discriminator(audio)
            scores.append(score)
            feature_maps.append(maps)
        return scores, feature_maps


class Discriminators(nn.Module):
    """Both discriminators as one module, for one optimizer (and one DDP wrapper): real and generated audio
    (B, 1, T) each -> real scores, generated scores (8 lists: MPD's 5 then MSD's 3), and their feature
    maps. Real and generated audio go through as one batch of 2B (no layer mixes examples). `divisor`
    narrows every layer (1: the reference's widths, 70.7 M parameters; 4: 4.4 M, for CPU runs and tests)."""

    def __init__(self, divisor: int = 1):
        super().__init__()
        self.mpd = MultiPeriodDiscriminator(divisor=divisor)
        self.msd = MultiScaleDiscriminator(divisor=divisor)

    def forward(self, real: Tensor, generated: Tensor):
        scores, feature_maps = [], []
        for discriminator in (self.mpd, self.msd):
            more_scores, more_maps = discriminator(torch.cat([real, generated]))
            scores += more_scores
            feature_maps += more_maps
        real_scores, generated_scores = zip(*(score.chunk(2) for score in scores))
        real_maps = [[layer.chunk(2)[0] for layer in maps] for maps in feature_maps]
        generated_maps = [[layer.chunk(2)[1] for layer in maps] for maps in feature_maps]
        return list(real_scores), list(generated_scores), real_maps, generated_maps


def discriminator_loss(real_scores: list[Tensor], generated_scores: list[Tensor]) -> Tensor:
    """LSGAN (§2.3): sum over sub-discriminators of mean((1 - D(y))^2) + mean(D(G(s))^2)."""
    return sum(torch.mean((1 - real.float()) ** 2) + torch.mean(generated.float() ** 2)
               for real, generated in zip(real_scores, generated_scores))


def generator_loss(generated_scores: list[Tensor]) -> Tensor:
    """LSGAN (§2.3): sum over sub-discriminators of mean((1 - D(G(s)))^2)."""
    return sum(torch.mean((1 - generated.float()) ** 2) for generated in generated_scores)


def feature_loss(real_maps: list[list[Tensor]], generated_maps: list[list[Tensor]]) -> Tensor:
    """Feature matching (§2.3), weight 2 (λ_fm): 2 * sum over sub-discriminators and layers of the mean
    absolute difference of the feature maps of real and generated audio."""
    return 2 * sum(torch.mean(torch.abs(real.float() - generated.float()))
                   for real_layers, generated_layers in zip(real_maps, generated_maps)
                   for real, generated in zip(real_layers, generated_layers))


def load_discriminator_state(module: nn.Module, state_dict: dict) -> None:
    """Load a discriminator's state dict (strict) written by us or by the reference, whose weight-norm
    layers have weight_g / weight_v (renamed by torch's own load hook) and whose spectral-norm layers
    (MSD's first) have the old torch.nn.utils.spectral_norm names weight_orig, weight_u, weight_v, for
    which torch has no such hook: those are renamed here."""
    renamed = dict(state_dict)
    for key in [key for key in state_dict if key.endswith(".weight_orig")]:
        prefix = key.removesuffix("weight_orig")
        renamed[f"{prefix}parametrizations.weight.original"] = renamed.pop(f"{prefix}weight_orig")
        renamed[f"{prefix}parametrizations.weight.0._u"] = renamed.pop(f"{prefix}weight_u")
        renamed[f"{prefix}parametrizations.weight.0._v"] = renamed.pop(f"{prefix}weight_v")
    module.load_state_dict(renamed)
