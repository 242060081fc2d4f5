"""WaveGlow (Prenger et al. 2019, arXiv:1811.00002): an invertible flow between audio and Gaussian
noise, conditioned on a mel spectrogram; trained by maximum likelihood, sampled by running it backwards.

Shapes: B batch, n_mels mel channels, T mel frames, T_samples audio samples, G = n_group samples
squeezed into one vector, T_g = T_samples // G groups, C channels of the layer at hand.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import parametrizations, parametrize


@dataclass
class WaveGlowConfig:
    """The reference's waveglow_config (WN_config flattened into it) and its defaults."""

    n_mel_channels: int = 80
    n_flows: int = 12
    n_group: int = 8  # audio samples squeezed into one vector (paper §2)
    n_early_every: int = 4  # output n_early_size channels after every this many flows (paper §2.4)
    n_early_size: int = 2
    n_layers: int = 8  # WN: dilated convolutions per coupling layer
    n_channels: int = 256  # WN: residual channels
    kernel_size: int = 3  # WN: kernel of the dilated convolutions
    hop_length: int = 256  # upsampling stride (one mel frame per hop); the kernel is 4 hops (1024)

    def __post_init__(self):
        remaining = self.n_group - self.n_early_size * ((self.n_flows - 1) // self.n_early_every)
        if self.n_group % 2 or self.n_early_size % 2 or remaining < 2:
            raise ValueError(f"bad WaveGlow config: n_group={self.n_group} and "
                             f"n_early_size={self.n_early_size} must be even and leave at least 2 channels "
                             f"for the last flow (left: {remaining})")
        if self.kernel_size % 2 == 0 or self.n_channels % 2:
            raise ValueError("bad WaveGlow config: kernel_size must be odd and n_channels even")


def fused_add_tanh_sigmoid_multiply(input_a: Tensor, input_b: Tensor, n_channels: int) -> Tensor:
    """WaveNet's gated activation tanh(a) * sigmoid(b) of the sum of two (B, 2C, T_g) inputs
    -> (B, C, T_g)."""
    in_act = input_a + input_b
    return torch.tanh(in_act[:, :n_channels]) * torch.sigmoid(in_act[:, n_channels:])


def _weight_norm(conv: nn.Conv1d) -> nn.Conv1d:
    # State dict keys: parametrizations.weight.original0 (g) and original1 (v); the old weight_g and
    # weight_v names of the reference's checkpoints load into them through PyTorch's compatibility hook.
    return parametrizations.weight_norm(conv, name="weight")


class Invertible1x1Conv(nn.Module):
    """z -> W z over the G channels of each group, log|det W| per group (paper §2.2, Glow's 1x1 conv)."""

    def __init__(self, c: int):
        super().__init__()
        self.conv = nn.Conv1d(c, c, kernel_size=1, bias=False)
        weight = torch.linalg.qr(torch.randn(c, c))[0]  # a random rotation: orthonormal columns
        if torch.det(weight) < 0:
            weight[:, 0] = -weight[:, 0]  # det +1, so that the flow starts volume-preserving
        with torch.no_grad():
            self.conv.weight.copy_(weight.unsqueeze(-1))

    def _matrix(self) -> Tensor:
        """W (c, c), in float32 at least: slogdet and inv have no half-precision kernels."""
        weight = self.conv.weight.squeeze(-1)
        return weight.to(torch.promote_types(weight.dtype, torch.float32))

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor]:
        """z: (B, c, T_g) -> (W z, log|det W| summed over the B * T_g vectors it was applied to)."""
        batch_size, _, n_groups = z.shape
        return self.conv(z), batch_size * n_groups * torch.linalg.slogdet(self._matrix())[1]

    def inverse(self, z: Tensor) -> Tensor:
        """z: (B, c, T_g) -> W^-1 z. The inverse is computed on each call (a c x c matrix, c <= 8)."""
        return F.conv1d(z, torch.linalg.inv(self._matrix()).to(z.dtype).unsqueeze(-1))


class WN(nn.Module):
    """The affine coupling network (paper §2.3): WaveNet-like non-causal dilated convolutions (dilation
    2^i, never reset) with gated activations conditioned on the mel, residual and skip connections."""

    def __init__(self, n_in_channels: int, n_mel_channels: int, n_layers: int, n_channels: int,
                 kernel_size: int):
        super().__init__()
        self.n_layers, self.n_channels = n_layers, n_channels
        self.start = _weight_norm(nn.Conv1d(n_in_channels, n_channels, 1))
        # A zero last layer makes each fresh coupling the identity (b = 0, log s = 0): stabler early training.
        self.end = nn.Conv1d(n_channels, 2 * n_in_channels, 1)
        nn.init.zeros_(self.end.weight)
        nn.init.zeros_(self.end.bias)
        # One 1x1 conv conditions all layers at once: its output is cut into n_layers slices of 2C channels.
        self.cond_layer = _weight_norm(nn.Conv1d(n_mel_channels, 2 * n_channels * n_layers, 1))
        self.in_layers, self.res_skip_layers = nn.ModuleList(), nn.ModuleList()
        for i in range(n_layers):
            dilation = 2**i
            self.in_layers.append(_weight_norm(nn.Conv1d(n_channels, 2 * n_channels, kernel_size,
                                                         dilation=dilation,
                                                         padding=dilation * (kernel_size - 1) // 2)))
            # the last needs no residual
            res_skip_channels = 2 * n_channels if i < n_layers - 1 else n_channels
            self.res_skip_layers.append(_weight_norm(nn.Conv1d(n_channels, res_skip_channels, 1)))

    def forward(self, audio: Tensor, spect: Tensor) -> Tensor:
        """audio: (B, n_in, T_g) half of the channels, spect: (B, n_mels * G, T_g)
        -> (B, 2 n_in, T_g): b, log s."""
        audio = self.start(audio)  # (B, C, T_g)
        cond = self.cond_layer(spect)  # (B, 2C * n_layers, T_g)
        output = torch.zeros_like(audio)
        c = self.n_channels
        for i, (in_layer, res_skip_layer) in enumerate(zip(self.in_layers, self.res_skip_layers)):
            acts = fused_add_tanh_sigmoid_multiply(in_layer(audio), cond[:, 2 * c * i:2 * c * (i + 1)], c)
            res_skip = res_skip_layer(acts)
            if i < self.n_layers - 1:
                audio = audio + res_skip[:, :c]
                output = output + res_skip[:, c:]
            else:
                output = output + res_skip
        return self.end(output)


class WaveGlow(nn.Module):
    """n_flows x (invertible 1x1 conv, affine coupling), with n_early_size channels leaving the flow
    every n_early_every flows (multi-scale, paper §2.4). Attribute names are the reference's, so its
    state dict keys (upsample, WN.k.*, convinv.k.conv.weight) map one to one."""

    def __init__(self, config: WaveGlowConfig | None = None):
        super().__init__()
        self.config = config = config or WaveGlowConfig()
        self.n_flows, self.n_group = config.n_flows, config.n_group
        self.n_early_every, self.n_early_size = config.n_early_every, config.n_early_size
        hop = config.hop_length
        self.upsample = nn.ConvTranspose1d(config.n_mel_channels, config.n_mel_channels, 4 * hop, stride=hop)
        self.WN, self.convinv = nn.ModuleList(), nn.ModuleList()
        n_remaining_channels = config.n_group
        for k in range(config.n_flows):
            if self._early_output(k):
                n_remaining_channels -= config.n_early_size
            self.convinv.append(Invertible1x1Conv(n_remaining_channels))
            self.WN.append(WN(n_remaining_channels // 2, config.n_mel_channels * config.n_group,
                              config.n_layers, config.n_channels, config.kernel_size))
        self.n_remaining_channels = n_remaining_channels  # channels that go through every flow

    def _early_output(self, k: int) -> bool:
        return k > 0 and k % self.n_early_every == 0

    def _condition(self, mel: Tensor, n_groups: int) -> Tensor:
        """mel (B, n_mels, T) -> upsampled to one vector per sample and squeezed:
        (B, n_mels * G, n_groups)."""
        spect = self.upsample(mel)  # (B, n_mels, (T - 1) * hop + 4 * hop)
        if spect.size(2) < n_groups * self.n_group:
            raise ValueError(f"{mel.size(2)} mel frames are too few for {n_groups * self.n_group} samples")
        # (B, n_mels, T_g, G)
        spect = spect[:, :, :n_groups * self.n_group].unfold(2, self.n_group, self.n_group)
        # (B, n_mels * G, T_g), channel = mel * G + g
        return spect.permute(0, 2, 1, 3).flatten(2).transpose(1, 2)

    def _coupling(self, k: int, audio: Tensor, spect: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Split audio's channels in halves; WN of the first half gives (b, log s) for the second."""
        n_half = audio.size(1) // 2
        output = self.WN[k](audio[:, :n_half], spect)
        return audio[:, :n_half], output[:, :n_half], output[:, n_half:]

    def forward(self, mel: Tensor, audio: Tensor) -> tuple[Tensor, list[Tensor], list[Tensor]]:
        """mel: (B, n_mels, T), audio: (B, T_samples) -> z (B, G, T_g), log s per flow, log|det W| per flow.

        Samples past the last whole group of G are dropped; z lists the early outputs first."""
        audio = audio.unfold(1, self.n_group, self.n_group).transpose(1, 2)  # (B, G, T_g)
        spect = self._condition(mel, audio.size(2))
        early_outputs, log_s_list, log_det_w_list = [], [], []
        for k in range(self.n_flows):
            if self._early_output(k):
                early_outputs.append(audio[:, :self.n_early_size])
                audio = audio[:, self.n_early_size:]
            audio, log_det_w = self.convinv[k](audio)
            audio_0, b, log_s = self._coupling(k, audio, spect)
            audio = torch.cat([audio_0, torch.exp(log_s) * audio[:, audio_0.size(1):] + b], 1)
            log_s_list.append(log_s)
            log_det_w_list.append(log_det_w)
        return torch.cat(early_outputs + [audio], 1), log_s_list, log_det_w_list

    def reverse(self, mel: Tensor, z: Tensor) -> Tensor:
        """The exact inverse of forward: mel (B, n_mels, T), z (B, G, T_g) -> audio (B, T_g * G)."""
        spect = self._condition(mel, z.size(2))
        audio = z[:, z.size(1) - self.n_remaining_channels:]
        n_early = z.size(1) - self.n_remaining_channels  # early channels not yet put back
        for k in reversed(range(self.n_flows)):
            audio_0, b, log_s = self._coupling(k, audio, spect)
            audio = torch.cat([audio_0, (audio[:, audio_0.size(1):] - b) * torch.exp(-log_s)], 1)
            audio = self.convinv[k].inverse(audio)
            if self._early_output(k):
                audio = torch.cat([z[:, n_early - self.n_early_size:n_early], audio], 1)
                n_early -= self.n_early_size
        return audio.transpose(1, 2).flatten(1)  # (B, T_g * G)

    @torch.no_grad()
    def infer(self, mel: Tensor, sigma: float = 1.0) -> Tensor:
        """mel: (B, n_mels, T) -> audio (B, T * hop_length), from noise of standard deviation sigma.

        Noise is drawn in the reference's order (the remaining channels, then each early output from the
        last flow back), so a seed gives the reference's sample for the same weights."""
        n_groups = mel.size(2) * self.config.hop_length // self.n_group
        shape = (mel.size(0), self.n_remaining_channels, n_groups)
        n_early_outputs = (self.n_flows - 1) // self.n_early_every
        noise = [torch.randn(shape, device=mel.device, dtype=mel.dtype)]
        noise += [torch.randn(shape[0], self.n_early_size, n_groups, device=mel.device, dtype=mel.dtype)
                  for _ in range(n_early_outputs)]
        return self.reverse(mel, sigma * torch.cat(noise[::-1], 1))

    def remove_weightnorm(self) -> "WaveGlow":
        """Fold each weight norm (g * v / |v|) into a plain weight, for faster inference; returns self.

        Also callable as the reference's static form, WaveGlow.remove_weightnorm(model)."""
        for module in self.modules():
            if parametrize.is_parametrized(module, "weight"):
                parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)
        return self


class WaveGlowLoss(nn.Module):
    """Negative log-likelihood per dimension (paper eq. 6): z^2 / (2 sigma^2) - sum log s - sum log|det W|,
    with the constants left out, divided by the number of audio samples."""

    def __init__(self, sigma: float = 1.0):
        super().__init__()
        self.sigma = sigma

    def forward(self, model_output: tuple[Tensor, list[Tensor], list[Tensor]]) -> Tensor:
        z, log_s_list, log_det_w_list = model_output
        z = z.float()  # the sums of squares and of log s are kept in float32 under autocast
        log_s_total = sum(log_s.float().sum() for log_s in log_s_list)
        loss = (z * z).sum() / (2 * self.sigma**2) - log_s_total - sum(log_det_w_list)
        return loss / z.numel()
