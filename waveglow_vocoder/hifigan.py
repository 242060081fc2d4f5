"""HiFi-GAN's generator (Kong et al. 2020, arXiv:2010.05646): log mels -> waveform by transposed
convolutions that upsample one hop in a few stages, each followed by a multi-receptive-field fusion
(MRF: the mean of several residual blocks with different kernels and dilations).

Parameter names are the reference implementation's (jik876/hifi-gan), so its published generators load:
`conv_pre`, `ups.N`, `resblocks.N.convs1.M` / `.convs2.M` (ResBlock1) or `.convs.M` (ResBlock2),
`conv_post`. Weight norm is on every convolution during training; `remove_weight_norm()` folds it away
for inference, after which `forward` without autograd takes `Generator.inference`, the same maths in
fewer passes over memory (in-place activations and sums, channels-last convolutions on CPU).

Shapes: B batch, n_mels mel channels, T mel frames, C channels of the stage at hand, T_k = T times the
product of the upsampling rates so far; the output has T * hop_length samples, hop_length = the product
of all the rates (256 for V1, V2 and V3).
"""

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import parametrizations, parametrize

LRELU_SLOPE = 0.1  # the slope of every leaky ReLU inside the generator (the last one before conv_post: 0.01)


@dataclass(frozen=True)
class HiFiGANConfig:
    """The generator fields of the reference's config_v*.json (the training fields stay in its file)."""

    resblock: str = "1"  # "1": ResBlock1 (two convolutions per dilation), "2": ResBlock2 (one)
    upsample_rates: tuple[int, ...] = (8, 8, 2, 2)
    upsample_kernel_sizes: tuple[int, ...] = (16, 16, 4, 4)
    upsample_initial_channel: int = 512  # halved by every upsampling stage
    resblock_kernel_sizes: tuple[int, ...] = (3, 7, 11)
    resblock_dilation_sizes: tuple[tuple[int, ...], ...] = ((1, 3, 5), (1, 3, 5), (1, 3, 5))
    num_mels: int = 80

    def __post_init__(self):
        # JSON gives lists: keep tuples, so that configs compare and hash.
        object.__setattr__(self, "upsample_rates", tuple(self.upsample_rates))
        object.__setattr__(self, "upsample_kernel_sizes", tuple(self.upsample_kernel_sizes))
        object.__setattr__(self, "resblock_kernel_sizes", tuple(self.resblock_kernel_sizes))
        object.__setattr__(self, "resblock_dilation_sizes",
                           tuple(tuple(d) for d in self.resblock_dilation_sizes))
        problems = []
        if str(self.resblock) not in ("1", "2"):
            problems.append(f"resblock must be '1' or '2', got {self.resblock!r}")
        if len(self.upsample_rates) != len(self.upsample_kernel_sizes) or not self.upsample_rates:
            problems.append("upsample_rates and upsample_kernel_sizes must be non-empty and as long")
        if any((k - u) % 2 or k < u for u, k in zip(self.upsample_rates, self.upsample_kernel_sizes)):
            problems.append("every upsample kernel must be its rate plus an even number, for exact length")
        if len(self.resblock_kernel_sizes) != len(self.resblock_dilation_sizes):
            problems.append("resblock_kernel_sizes and resblock_dilation_sizes must be as long")
        n_dilations = 3 if str(self.resblock) == "1" else 2
        if any(len(d) != n_dilations for d in self.resblock_dilation_sizes):
            problems.append(f"ResBlock{self.resblock} takes {n_dilations} dilations per kernel")
        if self.upsample_initial_channel % 2 ** len(self.upsample_rates):
            problems.append("upsample_initial_channel must stay whole when halved at every stage")
        if problems:
            raise ValueError("bad HiFi-GAN config: " + "; ".join(problems))
        object.__setattr__(self, "resblock", str(self.resblock))

    @property
    def hop_length(self) -> int:
        return math.prod(self.upsample_rates)

    @classmethod
    def from_dict(cls, values: dict) -> "HiFiGANConfig":
        """From a reference config (config_v1.json and the like): its generator fields, the rest ignored."""
        names = {f.name for f in fields(cls)}
        missing = names - {"num_mels"} - set(values)
        if missing:
            raise ValueError(f"a HiFi-GAN config needs the fields {sorted(missing)}")
        return cls(**{k: v for k, v in values.items() if k in names})

    @classmethod
    def from_json(cls, path: str | Path) -> "HiFiGANConfig":
        try:
            values = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise ValueError(f"{path}: cannot read a HiFi-GAN config.json: {error}") from None
        try:
            return cls.from_dict(values)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{path}: {error}") from None

    def to_dict(self) -> dict:
        return asdict(self)


# The published configurations (config_v1.json, config_v2.json, config_v3.json of the reference):
# V1 best quality (13.9 M parameters), V2 the same shape, 4x narrower (0.9 M), V3 fewer, wider stages
# with ResBlock2 (1.5 M), the fastest.
PRESETS = {
    "v1": HiFiGANConfig(),
    "v2": HiFiGANConfig(upsample_initial_channel=128),
    "v3": HiFiGANConfig(resblock="2", upsample_rates=(8, 8, 4), upsample_kernel_sizes=(16, 16, 8),
                        upsample_initial_channel=256, resblock_kernel_sizes=(3, 5, 7),
                        resblock_dilation_sizes=((1, 2), (2, 6), (3, 12))),
}


def _weight_norm(conv: nn.Module) -> nn.Module:
    # State dict keys: parametrizations.weight.original0 (g) and original1 (v); the reference's weight_g
    # and weight_v load through load_hifigan's renaming (hifigan_checkpoint.reference_to_ours).
    return parametrizations.weight_norm(conv, name="weight")


def _init(conv: nn.Module) -> nn.Module:
    nn.init.normal_(conv.weight, 0.0, 0.01)  # the reference's init_weights, before weight norm
    return conv


def _same_padding(kernel_size: int, dilation: int) -> int:
    return (kernel_size - 1) * dilation // 2


def _conv_inference(conv: nn.Conv1d | nn.ConvTranspose1d, x: Tensor) -> Tensor:
    """conv(x) for x (B, C, 1, T_k) instead of (B, C, T_k): the 2-d convolution with a height-1 kernel,
    which keeps x's memory format (channels-last on CPU: see Generator.inference)."""
    weight = conv.weight.unsqueeze(2)  # (C_out, C_in, 1, k); ConvTranspose1d: (C_in, C_out, 1, k)
    if isinstance(conv, nn.ConvTranspose1d):
        return F.conv_transpose2d(x, weight, conv.bias, (1, conv.stride[0]), (0, conv.padding[0]))
    return F.conv2d(x, weight, conv.bias, 1, (0, conv.padding[0]), (1, conv.dilation[0]))


class ResBlock1(nn.Module):
    """x + conv2(lrelu(conv1_d(lrelu(x)))) for each dilation d in turn, at C channels: (B, C, T_k) kept."""

    def __init__(self, channels: int, kernel_size: int, dilations: tuple[int, ...]):
        super().__init__()
        self.convs1 = nn.ModuleList(
            _weight_norm(_init(nn.Conv1d(channels, channels, kernel_size, dilation=d,
                                         padding=_same_padding(kernel_size, d)))) for d in dilations)
        self.convs2 = nn.ModuleList(
            _weight_norm(_init(nn.Conv1d(channels, channels, kernel_size,
                                         padding=_same_padding(kernel_size, 1)))) for _ in dilations)

    def forward(self, x: Tensor) -> Tensor:
        for conv1, conv2 in zip(self.convs1, self.convs2):
            x = x + conv2(F.leaky_relu(conv1(F.leaky_relu(x, LRELU_SLOPE)), LRELU_SLOPE))
        return x

    def inference(self, x: Tensor, x_activated: Tensor) -> Tensor:
        """forward(x) without autograd on Generator.inference's layout; x_activated = lrelu(x), shared by
        the MRF's blocks. Fresh tensors are activated and summed in place."""
        for j, (conv1, conv2) in enumerate(zip(self.convs1, self.convs2)):
            xt = x_activated if j == 0 else F.leaky_relu(x, LRELU_SLOPE)
            xt = F.leaky_relu_(_conv_inference(conv1, xt), LRELU_SLOPE)
            x = _conv_inference(conv2, xt).add_(x)  # conv2(...) + x: the same sum as x + conv2(...)
        return x


class ResBlock2(nn.Module):
    """x + conv_d(lrelu(x)) for each dilation d in turn (V3's lighter block): (B, C, T_k) kept."""

    def __init__(self, channels: int, kernel_size: int, dilations: tuple[int, ...]):
        super().__init__()
        self.convs = nn.ModuleList(
            _weight_norm(_init(nn.Conv1d(channels, channels, kernel_size, dilation=d,
                                         padding=_same_padding(kernel_size, d)))) for d in dilations)

    def forward(self, x: Tensor) -> Tensor:
        for conv in self.convs:
            x = x + conv(F.leaky_relu(x, LRELU_SLOPE))
        return x

    def inference(self, x: Tensor, x_activated: Tensor) -> Tensor:
        """forward(x) without autograd, as ResBlock1.inference."""
        for j, conv in enumerate(self.convs):
            xt = x_activated if j == 0 else F.leaky_relu(x, LRELU_SLOPE)
            x = _conv_inference(conv, xt).add_(x)
        return x


class Generator(nn.Module):
    """mels (B, num_mels, T) -> audio (B, 1, T * hop_length) in [-1, 1], as the reference's Generator."""

    def __init__(self, config: HiFiGANConfig = PRESETS["v1"]):
        super().__init__()
        self.config = config
        channels = config.upsample_initial_channel
        self.conv_pre = _weight_norm(nn.Conv1d(config.num_mels, channels, 7, padding=3))
        block = ResBlock1 if config.resblock == "1" else ResBlock2
        self.ups, self.resblocks = nn.ModuleList(), nn.ModuleList()
        for rate, kernel in zip(config.upsample_rates, config.upsample_kernel_sizes):
            # padding (k - u) / 2 makes the output exactly `rate` times longer
            self.ups.append(_weight_norm(_init(nn.ConvTranspose1d(channels, channels // 2, kernel, rate,
                                                                  padding=(kernel - rate) // 2))))
            channels //= 2
            for kernel_size, dilations in zip(config.resblock_kernel_sizes, config.resblock_dilation_sizes):
                self.resblocks.append(block(channels, kernel_size, dilations))
        self.conv_post = _weight_norm(_init(nn.Conv1d(channels, 1, 7, padding=3)))
        self.num_kernels = len(config.resblock_kernel_sizes)

    @property
    def hop_length(self) -> int:
        return self.config.hop_length

    def forward(self, mels: Tensor) -> Tensor:
        """Training, or anything with autograd or weight norm on, runs the plain rendering below; inference
        after remove_weight_norm() runs `inference`, which gives the same audio to float rounding."""
        if torch.is_grad_enabled() or self.has_weight_norm:
            return self.forward_plain(mels)
        return self.inference(mels)

    def forward_plain(self, mels: Tensor) -> Tensor:
        """The reference generator's forward, step by step (bit-identical to it)."""
        x = self.conv_pre(mels)  # (B, C0, T)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, LRELU_SLOPE))  # (B, C_i, T_i): upsampled, channels halved
            blocks = self.resblocks[i * self.num_kernels:(i + 1) * self.num_kernels]
            x = sum(block(x) for block in blocks) / self.num_kernels  # MRF: the mean of the blocks
        x = self.conv_post(F.leaky_relu(x))  # the default slope 0.01 here, as in the reference
        return torch.tanh(x)  # (B, 1, T * hop_length)

    @torch.no_grad()
    def inference(self, mels: Tensor) -> Tensor:
        """forward_plain(mels) in fewer passes over memory; mels in any float dtype, computed in the
        weights' dtype (generator.bfloat16() is the whole opt-in for bfloat16), audio in the mels' dtype.

        Levers (measured in README, "HiFi-GAN on CPU"): every activation, residual sum, MRF sum and mean
        written in place into a tensor the step has just made; lrelu(x) at a stage's start computed once
        for all its blocks; on CPU, the tensors laid out (B, C, 1, T_k) channels-last, where oneDNN's
        convolutions on 32 to 64 channels run up to 3 times faster than on (B, C, T_k).
        """
        memory_format = torch.channels_last if mels.device.type == "cpu" else torch.contiguous_format
        x = mels.to(self.conv_pre.weight.dtype).unsqueeze(2).contiguous(memory_format=memory_format)
        x = _conv_inference(self.conv_pre, x)  # (B, C0, 1, T)
        for i, up in enumerate(self.ups):
            x = _conv_inference(up, F.leaky_relu_(x, LRELU_SLOPE))  # x: made by the step before
            x_activated = F.leaky_relu(x, LRELU_SLOPE)  # every block of the MRF starts with it
            blocks = self.resblocks[i * self.num_kernels:(i + 1) * self.num_kernels]
            mrf = blocks[0].inference(x, x_activated)
            for block in blocks[1:]:
                mrf.add_(block.inference(x, x_activated))
            x = mrf.div_(self.num_kernels)
        audio = _conv_inference(self.conv_post, F.leaky_relu_(x)).tanh_()  # (B, 1, 1, T * hop_length)
        return audio.squeeze(2).to(mels.dtype)

    def remove_weight_norm(self) -> "Generator":
        """Fold each weight norm (g * v / |v|) into a plain weight, for inference; returns self."""
        for module in self.modules():
            if parametrize.is_parametrized(module, "weight"):
                parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)
        return self

    @property
    def has_weight_norm(self) -> bool:
        return parametrize.is_parametrized(self.conv_pre, "weight")
