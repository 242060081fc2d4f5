"""Vocoders for Tacotron 2's mels: WaveGlow (flow, loss, denoiser, checkpoints) and a Griffin-Lim fallback,
both behind one interface (mels (B, n_mels, T) -> waveforms (B, T * hop_length) at 22050 Hz)."""

from .checkpoint import LegacyPickleError, convert_legacy_checkpoint, load_waveglow, save_waveglow
from .denoiser import Denoiser
from .model import WaveGlow, WaveGlowConfig, WaveGlowLoss
from .vocoder import GriffinLimVocoder, WaveGlowVocoder, load_vocoder

__all__ = ["WaveGlow", "WaveGlowConfig", "WaveGlowLoss", "Denoiser", "load_waveglow", "save_waveglow",
           "convert_legacy_checkpoint", "LegacyPickleError", "GriffinLimVocoder", "WaveGlowVocoder",
           "load_vocoder"]
