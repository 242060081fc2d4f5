"""Vocoders for Tacotron 2's mels: HiFi-GAN (generator, presets, checkpoints: the reference's published files
and ours), WaveGlow (flow, loss, denoiser, checkpoints) and a Griffin-Lim fallback, all behind one interface
(mels (B, n_mels, T) -> waveforms (B, T * hop_length) at 22050 Hz); load_vocoder reads any of their files."""

from .checkpoint import LegacyPickleError, convert_legacy_checkpoint, load_waveglow, save_waveglow
from .denoiser import Denoiser
from .hifigan import PRESETS as HIFIGAN_PRESETS
from .hifigan import Generator, HiFiGANConfig
from .hifigan_checkpoint import load_hifigan, save_hifigan
from .model import WaveGlow, WaveGlowConfig, WaveGlowLoss
from .vocoder import GriffinLimVocoder, HiFiGANVocoder, WaveGlowVocoder, load_vocoder

__all__ = ["WaveGlow", "WaveGlowConfig", "WaveGlowLoss", "Denoiser", "load_waveglow", "save_waveglow",
           "convert_legacy_checkpoint", "LegacyPickleError", "Generator", "HiFiGANConfig", "HIFIGAN_PRESETS",
           "load_hifigan", "save_hifigan", "GriffinLimVocoder", "WaveGlowVocoder", "HiFiGANVocoder",
           "load_vocoder"]
