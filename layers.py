"""Building blocks: Xavier-initialised linear and conv layers, length masks, and (below) the mel
front-end `TacotronSTFT` on torch.stft with its Griffin-Lim inverse.
"""

import torch
from torch import Tensor, nn


class LinearNorm(nn.Module):
    """nn.Linear with Xavier-uniform weights scaled by the gain of the following nonlinearity."""

    def __init__(self, in_dim: int, out_dim: int, bias: bool = True, w_init_gain: str = "linear"):
        super().__init__()
        self.linear_layer = nn.Linear(in_dim, out_dim, bias=bias)
        nn.init.xavier_uniform_(self.linear_layer.weight, gain=nn.init.calculate_gain(w_init_gain))

    def forward(self, x: Tensor) -> Tensor:
        return self.linear_layer(x)


class ConvNorm(nn.Module):
    """1-d convolution, 'same' padding for odd kernels, Xavier-uniform weights with the given gain."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 1, stride: int = 1,
                 padding: int | None = None, dilation: int = 1, bias: bool = True,
                 w_init_gain: str = "linear"):
        super().__init__()
        if padding is None:
            if kernel_size % 2 != 1:
                raise ValueError(f"ConvNorm needs an odd kernel_size for 'same' padding, got {kernel_size}")
            padding = dilation * (kernel_size - 1) // 2
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                              dilation=dilation, bias=bias)
        nn.init.xavier_uniform_(self.conv.weight, gain=nn.init.calculate_gain(w_init_gain))

    def forward(self, x: Tensor) -> Tensor:
        """x: (B, C_in, T) -> (B, C_out, T)."""
        return self.conv(x)


def lengths_to_mask(lengths: Tensor, max_len: int | None = None) -> Tensor:
    """lengths: (B,) -> bool mask (B, max_len), True on real positions, on the lengths' device."""
    if max_len is None:
        max_len = int(lengths.max())
    positions = torch.arange(max_len, device=lengths.device)
    return positions.unsqueeze(0) < lengths.unsqueeze(1)


def griffin_lim(magnitudes: Tensor, n_fft: int, hop_length: int, win_length: int | None = None,
                n_iters: int = 60, power: float = 1.0, seed: int = 0) -> Tensor:
    """Griffin & Lim (1984) phase recovery, batched on the magnitudes' device.

    magnitudes: (B, n_fft // 2 + 1, T) linear STFT magnitudes -> waveforms (B, (T - 1) * hop_length),
    the natural length of a centred istft, not rescaled to [-1, 1]. Raising to `power` > 1 sharpens the
    harmonics and reduces artefacts (Wang et al. 2017, Tacotron, used 1.2). The random start phase comes
    from a seeded generator, so a call is repeatable (each utterance in the batch gets its own phase).
    """
    win_length = win_length or n_fft
    magnitudes = magnitudes.float().clamp(min=0) ** power
    window = torch.hann_window(win_length, device=magnitudes.device)
    stft_args = dict(n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window, center=True)
    generator = torch.Generator(device=magnitudes.device).manual_seed(seed)
    phase = torch.rand(magnitudes.shape, generator=generator, device=magnitudes.device) * (2 * torch.pi)
    angles = torch.polar(torch.ones_like(phase), phase)  # unit complex numbers, (B, n_freq, T)
    for _ in range(n_iters):
        signal = torch.istft(magnitudes * angles, **stft_args)
        rebuilt = torch.stft(signal, pad_mode="reflect", return_complex=True, **stft_args)
        angles = rebuilt / rebuilt.abs().clamp(min=1e-8)  # keep the phase, drop the magnitude
    return torch.istft(magnitudes * angles, **stft_args)


class TacotronSTFT(nn.Module):
    """Log-mel front-end on torch.stft: centred, reflect-padded magnitude STFT with a periodic Hann
    window, then a Slaney-normalised librosa mel basis and log compression, as NVIDIA's `TacotronSTFT`.

    Shapes: B batch, T_samples audio samples, T frames (T_samples // hop_length + 1),
    n_freq = filter_length // 2 + 1 linear bins, n_mel_channels mel bins.
    """

    def __init__(self, filter_length: int = 1024, hop_length: int = 256, win_length: int = 1024,
                 n_mel_channels: int = 80, sampling_rate: int = 22050, mel_fmin: float = 0.0,
                 mel_fmax: float | None = 8000.0):
        super().__init__()
        import librosa  # here, so that importing LinearNorm/ConvNorm for the model does not need librosa

        self.filter_length, self.hop_length, self.win_length = filter_length, hop_length, win_length
        self.n_mel_channels, self.sampling_rate = n_mel_channels, sampling_rate
        mel_basis = librosa.filters.mel(sr=sampling_rate, n_fft=filter_length, n_mels=n_mel_channels,
                                        fmin=mel_fmin, fmax=mel_fmax)  # keywords: librosa >= 0.10 needs them
        mel_basis = torch.from_numpy(mel_basis).float()  # (n_mel_channels, n_freq)
        self.register_buffer("mel_basis", mel_basis)
        self.register_buffer("window", torch.hann_window(win_length), persistent=False)

    def spectral_normalize(self, magnitudes: Tensor, clip_val: float = 1e-5) -> Tensor:
        """Dynamic range compression: log(clamp(x, clip_val)); the floor is -11.51 at 1e-5."""
        return torch.log(torch.clamp(magnitudes, min=clip_val))

    def spectral_de_normalize(self, magnitudes: Tensor) -> Tensor:
        """Inverse of `spectral_normalize` above the floor: exp(x)."""
        return torch.exp(magnitudes)

    def mel_spectrogram(self, y: Tensor) -> Tensor:
        """y: (B, T_samples) in [-1, 1], any float dtype -> float32 log mel (B, n_mel_channels, T)."""
        y = y.float()
        if y.min() < -1 or y.max() > 1:
            raise ValueError(f"waveform must lie in [-1, 1], got [{y.min():.4f}, {y.max():.4f}]; "
                             "divide integer PCM by max_wav_value first")
        # .float(): a no-op unless the module was cast (.half(), .double()); the maths stays float32
        spec = torch.stft(y, self.filter_length, self.hop_length, self.win_length, window=self.window.float(),
                          center=True, pad_mode="reflect", return_complex=True)  # (B, n_freq, T)
        return self.spectral_normalize(self.mel_basis.float() @ spec.abs())

    def mel_to_linear(self, mel: Tensor) -> Tensor:
        """Log mel (B, n_mel_channels, T) -> linear magnitudes (B, n_freq, T) by the basis' pseudo-inverse.

        The least-squares solution dips below zero between filter centres; magnitudes cannot, so clamp.
        The pseudo-inverse is taken per call (milliseconds), not in __init__, which every data loader runs.
        """
        linear = torch.linalg.pinv(self.mel_basis.float()) @ self.spectral_de_normalize(mel.float())
        return torch.clamp(linear, min=1e-10)

    def griffin_lim(self, mel: Tensor, n_iters: int = 60, power: float = 1.0) -> Tensor:
        """Log mel (B, n_mel_channels, T) -> waveforms (B, (T - 1) * hop_length) by Griffin-Lim."""
        return griffin_lim(self.mel_to_linear(mel), self.filter_length, self.hop_length, self.win_length,
                           n_iters=n_iters, power=power)
