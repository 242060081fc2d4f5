"""One interface for the vocoders: a module that takes log mels (B, n_mels, T) and returns waveforms
(B, T * hop_length) in [-1, 1] at `.sampling_rate`, so that synthesis, training logs and evaluation call
HiFi-GAN, WaveGlow and the Griffin-Lim fallback the same way; `load_vocoder` tells their files apart by
content. Frames past an utterance's own length in a padded batch give audio past its length * hop_length
samples: trim with the mel lengths."""

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from hparams import HParams
from layers import TacotronSTFT, griffin_lim

from .checkpoint import LegacyPickleError, load_waveglow, waveglow_from_checkpoint
from .denoiser import Denoiser
from .hifigan import Generator
from .hifigan_checkpoint import PickledCodeError, generator_from_checkpoint, preset_name, read_weights_only
from .model import WaveGlow


class GriffinLimVocoder(nn.Module):
    """Mel -> linear magnitudes by the mel basis' pseudo-inverse -> Griffin-Lim (layers.griffin_lim)."""

    name = "Griffin-Lim"

    def __init__(self, stft: TacotronSTFT | HParams, n_iters: int = 60, power: float = 1.0):
        super().__init__()
        if isinstance(stft, HParams):
            stft = TacotronSTFT(stft.filter_length, stft.hop_length, stft.win_length, stft.n_mel_channels,
                                stft.sampling_rate, stft.mel_fmin, stft.mel_fmax)
        self.stft, self.n_iters, self.power = stft, n_iters, power
        self.sampling_rate, self.hop_length = stft.sampling_rate, stft.hop_length
        self.n_mel_channels = stft.n_mel_channels

    @torch.no_grad()
    def forward(self, mels: Tensor) -> Tensor:
        """mels: (B, n_mels, T) log mel -> (B, T * hop_length) float32: Griffin-Lim's (T - 1) * hop samples,
        then one hop of silence, so that both vocoders give the same length."""
        stft, n_frames = self.stft, mels.size(2)
        # Griffin-Lim's reflect-padded STFT needs more than filter_length / 2 samples, (T - 1) * hop of them:
        # a very short mel is padded with silence (log 1e-5), and the audio cut back to T * hop samples.
        min_frames = stft.filter_length // (2 * stft.hop_length) + 2
        if n_frames < min_frames:
            mels = F.pad(mels, (0, min_frames - n_frames), value=math.log(1e-5))
        linear = stft.mel_to_linear(mels)  # (B, n_freq, T)
        audio = griffin_lim(linear, stft.filter_length, stft.hop_length, stft.win_length,
                            n_iters=self.n_iters, power=self.power)  # (B, (T - 1) * hop)
        # Raising magnitudes to `power` changes the level: scale each utterance back to the energy of the
        # unsharpened magnitudes (Parseval), i.e. to the level the mel was computed from.
        scale = linear.flatten(1).norm(dim=1) / (linear.flatten(1) ** self.power).norm(dim=1).clamp(min=1e-8)
        audio = (audio * scale.unsqueeze(1)).clamp(-1.0, 1.0)
        return F.pad(audio, (0, self.hop_length))[:, : n_frames * self.hop_length]


class WaveGlowVocoder(nn.Module):
    """WaveGlow.infer with sigma, then (if denoiser_strength > 0) the Denoiser, clipped to [-1, 1]."""

    name = "WaveGlow"

    def __init__(self, waveglow: WaveGlow, sigma: float = 0.666, denoiser_strength: float = 0.0,
                 sampling_rate: int = 22050):
        super().__init__()
        self.waveglow, self.sigma, self.denoiser_strength = waveglow.eval(), sigma, denoiser_strength
        self.denoiser = Denoiser(waveglow) if denoiser_strength > 0 else None
        self.sampling_rate, self.hop_length = sampling_rate, waveglow.config.hop_length
        self.n_mel_channels = waveglow.config.n_mel_channels

    @torch.no_grad()
    def forward(self, mels: Tensor) -> Tensor:
        """mels: (B, n_mels, T) log mel -> (B, T * hop_length) float32."""
        audio = self.waveglow.infer(mels.to(self.waveglow.upsample.weight.dtype), sigma=self.sigma)
        if self.denoiser is not None:
            audio = self.denoiser(audio, strength=self.denoiser_strength)
        return audio.float().clamp(-1.0, 1.0)


class HiFiGANVocoder(nn.Module):
    """HiFi-GAN's generator (Kong et al. 2020), clipped to [-1, 1]. load_hifigan gives it with weight norm
    folded away; a generator still under weight norm (in training) is used as it is, with the same output."""

    def __init__(self, generator: Generator, sampling_rate: int = 22050):
        super().__init__()
        self.generator = generator.eval()
        self.sampling_rate, self.hop_length = sampling_rate, generator.hop_length
        self.n_mel_channels = generator.config.num_mels
        preset = preset_name(generator.config)
        self.name = f"HiFi-GAN {preset}" if preset else "HiFi-GAN (custom config)"

    @torch.no_grad()
    def forward(self, mels: Tensor) -> Tensor:
        """mels: (B, n_mels, T) log mel -> (B, T * hop_length) float32."""
        dtype = next(self.generator.parameters()).dtype
        return self.generator(mels.to(dtype)).squeeze(1).float().clamp(-1.0, 1.0)


Vocoder = GriffinLimVocoder | WaveGlowVocoder | HiFiGANVocoder


def _legacy_pickle_refused(path) -> LegacyPickleError:
    return LegacyPickleError(
        f"{path} is a pickled file that names code to run while loading, and unpickling can run code "
        "hidden in a file, so it was not loaded. NVIDIA's published WaveGlow files are such pickles (whole "
        "model objects): if this is one and you trust it, allow it with --allow_legacy_pickle "
        "(load_vocoder(..., allow_legacy_pickle=True)), or convert it once to a plain weights file: "
        f"python3 -m waveglow_vocoder.checkpoint {path} waveglow_converted.pt. HiFi-GAN's files, the "
        "reference's and ours, hold only tensors and never need this.")


def _vocoder_from_file(path: str, allow_legacy_pickle: bool, sigma: float, denoiser_strength: float,
                       sampling_rate: int) -> Vocoder:
    """The vocoder in `path`, recognised by what the file holds, not by its name."""
    try:
        checkpoint = read_weights_only(path)
    except PickledCodeError:  # only NVIDIA's WaveGlow files are expected to be pickles, and only by opt-in
        if not allow_legacy_pickle:
            raise _legacy_pickle_refused(path) from None
        waveglow = load_waveglow(path, allow_legacy_pickle=True)
        return WaveGlowVocoder(waveglow.remove_weightnorm(), sigma, denoiser_strength, sampling_rate)
    keys = set(checkpoint) if isinstance(checkpoint, dict) else set()
    if keys & {"generator", "mpd", "msd"}:  # HiFi-GAN, ours or the reference's (a do_ file: its message)
        if denoiser_strength > 0:
            raise ValueError(f"{path}: the denoiser is WaveGlow's; HiFi-GAN takes no --denoiser_strength")
        return HiFiGANVocoder(generator_from_checkpoint(checkpoint, path), sampling_rate)
    if {"state_dict", "config"} <= keys:  # ours for WaveGlow
        waveglow = waveglow_from_checkpoint(checkpoint, path)
        return WaveGlowVocoder(waveglow.remove_weightnorm(), sigma, denoiser_strength, sampling_rate)
    if "state_dict" in keys:
        raise ValueError(f"{path}: a Tacotron 2 checkpoint ({{'state_dict', ...}} without a vocoder config), "
                         "not a vocoder: give it as --checkpoint")
    found = f"the keys {', '.join(sorted(map(str, keys))[:8])}" if keys else type(checkpoint).__name__
    raise ValueError(f"{path}: not a vocoder file: expected HiFi-GAN ({{'generator', ...}}) or WaveGlow "
                     f"({{'state_dict', 'config'}}, or NVIDIA's pickle), found {found}")


def load_vocoder(path: str | None, hparams: HParams, allow_legacy_pickle: bool = False,
                 sigma: float = 0.666, denoiser_strength: float = 0.0,
                 device: str | torch.device = "cpu") -> Vocoder:
    """The vocoder in the file at `path`, told apart by content: HiFi-GAN (the reference's generator file
    {'generator'} with a config.json beside it or a V1/V2/V3 shape, or ours {'generator', 'config', ...})
    or WaveGlow (ours {'state_dict', 'config'}, NVIDIA's pickle only with allow_legacy_pickle), weight norm
    removed; Griffin-Lim with hparams.griffin_lim_iters when no path is given. Checked against the mel
    settings of hparams; on `device`. sigma and denoiser_strength are WaveGlow's."""
    if not path:
        return GriffinLimVocoder(hparams, n_iters=hparams.griffin_lim_iters,
                                 power=hparams.griffin_lim_power).to(device)
    vocoder = _vocoder_from_file(path, allow_legacy_pickle, sigma, denoiser_strength, hparams.sampling_rate)
    if (vocoder.n_mel_channels, vocoder.hop_length) != (hparams.n_mel_channels, hparams.hop_length):
        raise ValueError(f"{path}: {vocoder.name} takes {vocoder.n_mel_channels} mel channels at hop "
                         f"{vocoder.hop_length}, but hparams have {hparams.n_mel_channels} "
                         f"at hop {hparams.hop_length}")
    return vocoder.to(device)
