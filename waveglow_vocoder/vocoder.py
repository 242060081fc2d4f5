"""One interface for both vocoders: a module that takes log mels (B, n_mels, T) and returns waveforms
(B, T * hop_length) in [-1, 1] at `.sampling_rate`, so that synthesis, training logs and evaluation call
WaveGlow and the Griffin-Lim fallback the same way. Frames past an utterance's own length in a padded
batch give audio past its length * hop_length samples: trim with the mel lengths."""

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from hparams import HParams
from layers import TacotronSTFT, griffin_lim

from .checkpoint import load_waveglow
from .denoiser import Denoiser
from .model import WaveGlow


class GriffinLimVocoder(nn.Module):
    """Mel -> linear magnitudes by the mel basis' pseudo-inverse -> Griffin-Lim (layers.griffin_lim)."""

    def __init__(self, stft: TacotronSTFT | HParams, n_iters: int = 60, power: float = 1.0):
        super().__init__()
        if isinstance(stft, HParams):
            stft = TacotronSTFT(stft.filter_length, stft.hop_length, stft.win_length, stft.n_mel_channels,
                                stft.sampling_rate, stft.mel_fmin, stft.mel_fmax)
        self.stft, self.n_iters, self.power = stft, n_iters, power
        self.sampling_rate, self.hop_length = stft.sampling_rate, stft.hop_length

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

    def __init__(self, waveglow: WaveGlow, sigma: float = 0.666, denoiser_strength: float = 0.0,
                 sampling_rate: int = 22050):
        super().__init__()
        self.waveglow, self.sigma, self.denoiser_strength = waveglow.eval(), sigma, denoiser_strength
        self.denoiser = Denoiser(waveglow) if denoiser_strength > 0 else None
        self.sampling_rate, self.hop_length = sampling_rate, waveglow.config.hop_length

    @torch.no_grad()
    def forward(self, mels: Tensor) -> Tensor:
        """mels: (B, n_mels, T) log mel -> (B, T * hop_length) float32."""
        audio = self.waveglow.infer(mels.to(self.waveglow.upsample.weight.dtype), sigma=self.sigma)
        if self.denoiser is not None:
            audio = self.denoiser(audio, strength=self.denoiser_strength)
        return audio.float().clamp(-1.0, 1.0)


def load_vocoder(waveglow_path: str | None, hparams: HParams, allow_legacy_pickle: bool = False,
                 sigma: float = 0.666, denoiser_strength: float = 0.0,
                 device: str | torch.device = "cpu") -> WaveGlowVocoder | GriffinLimVocoder:
    """WaveGlow (weight norm removed) from waveglow_path, or Griffin-Lim with hparams.griffin_lim_iters
    when no path is given; checked against the mel settings of hparams; on `device`."""
    if not waveglow_path:
        return GriffinLimVocoder(hparams, n_iters=hparams.griffin_lim_iters,
                                 power=hparams.griffin_lim_power).to(device)
    waveglow = load_waveglow(waveglow_path, allow_legacy_pickle=allow_legacy_pickle)
    config = waveglow.config
    if (config.n_mel_channels, config.hop_length) != (hparams.n_mel_channels, hparams.hop_length):
        raise ValueError(f"{waveglow_path}: WaveGlow takes {config.n_mel_channels} mel channels at hop "
                         f"{config.hop_length}, but hparams have {hparams.n_mel_channels} "
                         f"at hop {hparams.hop_length}")
    waveglow = waveglow.remove_weightnorm().to(device)
    return WaveGlowVocoder(waveglow, sigma, denoiser_strength, hparams.sampling_rate)
