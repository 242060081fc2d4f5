"""Denoiser: removes WaveGlow's bias, the faint hiss it makes even from a silent input, by spectral
subtraction (the reference's method: the bias spectrum is that of a zero mel decoded with sigma = 0)."""

import torch
from torch import Tensor, nn

from .model import WaveGlow


class Denoiser(nn.Module):
    """audio (B, T_samples) -> audio (B, T_samples) with strength x the bias magnitude subtracted per bin."""

    def __init__(self, waveglow: WaveGlow, filter_length: int = 1024, n_overlap: int = 4,
                 win_length: int = 1024, mode: str = "zeros"):
        super().__init__()
        self.filter_length, self.hop_length = filter_length, filter_length // n_overlap
        self.win_length = win_length
        weight = waveglow.upsample.weight
        shape = (1, waveglow.config.n_mel_channels, 88)  # 88 frames: about a second of audio
        if mode == "zeros":
            mel = torch.zeros(shape, dtype=weight.dtype, device=weight.device)
        elif mode == "normal":
            mel = torch.randn(shape, dtype=weight.dtype, device=weight.device)
        else:
            raise ValueError(f"unknown denoiser mode {mode!r}; expected 'zeros' or 'normal'")
        self.register_buffer("window", torch.hann_window(win_length, device=weight.device), persistent=False)
        with torch.no_grad():
            bias_audio = waveglow.infer(mel, sigma=0.0).float()
        # The bias is stationary: its magnitude averaged over all frames, (1, n_freq, 1). The reference keeps
        # only the first frame, whose reflect-padded window misestimates it (10x less removed in our test).
        self.register_buffer("bias_spec", self._stft(bias_audio).abs().mean(dim=2, keepdim=True))

    def _stft(self, audio: Tensor) -> Tensor:
        return torch.stft(audio, self.filter_length, self.hop_length, self.win_length, window=self.window,
                          center=True, return_complex=True)  # (B, n_freq, frames)

    def forward(self, audio: Tensor, strength: float = 0.1) -> Tensor:
        spec = self._stft(audio.float())
        magnitude = (spec.abs() - strength * self.bias_spec).clamp(min=0.0)
        return torch.istft(torch.polar(magnitude, spec.angle()), self.filter_length, self.hop_length,
                           self.win_length, window=self.window, center=True, length=audio.size(-1))
