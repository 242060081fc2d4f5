"""layers.py: TacotronSTFT against an independent numpy/librosa log mel, Griffin-Lim, LinearNorm/ConvNorm,
lengths_to_mask."""

import math

import librosa
import numpy as np
import pytest
import torch

from layers import ConvNorm, LinearNorm, TacotronSTFT, griffin_lim, lengths_to_mask


def tones(n_samples: int, sampling_rate: int = 22050, seed: int = 0) -> np.ndarray:
    """Two harmonics, a chirp and a little noise, float32 within [-1, 1]."""
    t = np.arange(n_samples) / sampling_rate
    noise = np.random.default_rng(seed).uniform(-0.05, 0.05, n_samples)
    y = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 660 * t)
    y += 0.2 * np.sin(2 * np.pi * (300 + 2000 * t) * t) + noise
    return y.astype(np.float32)


def librosa_log_mel(y: np.ndarray, n_fft: int, hop: int, win: int, n_mels: int, sr: int, fmin, fmax):
    """The reference recipe written out with numpy and librosa alone: (n_mels, T)."""
    magnitudes = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop, win_length=win, window="hann",
                                     center=True, pad_mode="reflect"))
    basis = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    return np.log(np.clip(basis @ magnitudes, 1e-5, None))


def magnitude(y: torch.Tensor, n_fft: int = 1024, hop: int = 256) -> torch.Tensor:
    """(B, T_samples) -> centred magnitude STFT (B, n_fft // 2 + 1, T)."""
    window = torch.hann_window(n_fft)
    spec = torch.stft(y, n_fft, hop, window=window, center=True, pad_mode="reflect", return_complex=True)
    return spec.abs()


@pytest.mark.parametrize("config", [
    dict(filter_length=1024, hop_length=256, win_length=1024, n_mel_channels=80, sampling_rate=22050,
         mel_fmin=0.0, mel_fmax=8000.0),
    dict(filter_length=1024, hop_length=200, win_length=800, n_mel_channels=64, sampling_rate=16000,
         mel_fmin=50.0, mel_fmax=None),
])
def test_mel_matches_librosa(config):
    y = tones(8000, config["sampling_rate"])
    expected = librosa_log_mel(y, config["filter_length"], config["hop_length"], config["win_length"],
                               config["n_mel_channels"], config["sampling_rate"], config["mel_fmin"],
                               config["mel_fmax"])
    mel = TacotronSTFT(**config).mel_spectrogram(torch.from_numpy(y)[None])
    assert mel.shape == (1, *expected.shape)
    np.testing.assert_allclose(mel[0].numpy(), expected, atol=1e-4, rtol=0)


def test_default_constructor_is_the_reference_front_end():
    stft = TacotronSTFT()
    assert stft.mel_basis.shape == (80, 513)
    assert stft.window.shape == (1024,)
    assert set(dict(stft.named_buffers())) == {"mel_basis", "window"}  # so .to(device) moves both
    assert "mel_basis" in stft.state_dict()
    expected = librosa.filters.mel(sr=22050, n_fft=1024, n_mels=80, fmin=0.0, fmax=8000.0)
    np.testing.assert_array_equal(stft.mel_basis.numpy(), expected)


@pytest.mark.parametrize("n_samples", [4096, 5000, 22050])
def test_frame_count_and_batched_equals_one_by_one(n_samples):
    stft = TacotronSTFT()
    y = torch.stack([torch.from_numpy(tones(n_samples, seed=seed)) for seed in range(3)])
    mel = stft.mel_spectrogram(y)
    assert mel.shape == (3, 80, n_samples // 256 + 1)
    for i in range(3):
        torch.testing.assert_close(mel[i:i + 1], stft.mel_spectrogram(y[i:i + 1]), atol=1e-5, rtol=0)


def test_any_float_dtype_is_computed_in_float32():
    stft = TacotronSTFT()
    y = torch.from_numpy(tones(4096))[None].half()
    mel = stft.mel_spectrogram(y)
    assert mel.dtype == torch.float32
    torch.testing.assert_close(mel, stft.mel_spectrogram(y.float()))
    torch.testing.assert_close(stft.mel_spectrogram(y.double()), mel)
    torch.testing.assert_close(stft.double().mel_spectrogram(y), mel)


@pytest.mark.parametrize("bad", [1.01, -1.5, 32767.0])
def test_out_of_range_waveform_raises(bad):
    y = torch.zeros(2, 4096)
    y[1, 100] = bad
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        TacotronSTFT().mel_spectrogram(y)


def test_full_scale_waveform_is_accepted():
    y = torch.zeros(1, 4096)
    y[0, 10], y[0, 20] = 1.0, -1.0
    assert torch.isfinite(TacotronSTFT().mel_spectrogram(y)).all()


def test_silence_sits_on_the_log_floor():
    mel = TacotronSTFT().mel_spectrogram(torch.zeros(1, 4096))
    torch.testing.assert_close(mel, torch.full_like(mel, math.log(1e-5)))


def test_spectral_normalize_round_trip():
    stft = TacotronSTFT()
    x = torch.tensor([1e-7, 1e-5, 0.5, 3.0])
    torch.testing.assert_close(stft.spectral_de_normalize(stft.spectral_normalize(x)),
                               torch.tensor([1e-5, 1e-5, 0.5, 3.0]))


def test_mel_to_linear_then_mel_basis_gives_back_the_mel():
    stft = TacotronSTFT()
    y = torch.rand(2, 22050) * 1.6 - 0.8
    mel = stft.mel_spectrogram(y)
    linear = stft.mel_to_linear(mel)
    assert linear.shape == (2, 513, mel.shape[-1])
    assert (linear > 0).all()
    rebuilt = stft.mel_basis @ linear
    target = stft.spectral_de_normalize(mel)
    assert (rebuilt - target).norm() / target.norm() < 0.01
    assert (stft.spectral_normalize(rebuilt) - mel).abs().mean() < 0.01


def spectral_convergence(waveforms: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """|| |STFT(x)| - S ||_F / || S ||_F per utterance: (B,)."""
    return (magnitude(waveforms) - target).norm(dim=(1, 2)) / target.norm(dim=(1, 2))


def test_griffin_lim_converges_to_the_target_magnitude():
    y = torch.stack([torch.from_numpy(tones(11025, seed=seed)) for seed in range(2)])
    target = magnitude(y)
    one = griffin_lim(target, 1024, 256, 1024, n_iters=1, power=1.0)
    thirty = griffin_lim(target, 1024, 256, 1024, n_iters=30, power=1.0)
    assert thirty.shape == (2, (target.shape[-1] - 1) * 256)
    convergence_thirty = spectral_convergence(thirty, target)
    assert (convergence_thirty < 0.25).all()
    assert (convergence_thirty < 0.75 * spectral_convergence(one, target)).all()


def test_griffin_lim_is_reproducible():
    target = magnitude(torch.from_numpy(tones(4096))[None])
    first, second = griffin_lim(target, 1024, 256, n_iters=3), griffin_lim(target, 1024, 256, n_iters=3)
    assert torch.equal(first, second)


def test_tacotron_stft_griffin_lim_from_log_mel():
    stft = TacotronSTFT()
    mel = stft.mel_spectrogram(torch.from_numpy(tones(11025))[None].repeat(2, 1))
    waveforms = stft.griffin_lim(mel, n_iters=5)
    assert waveforms.shape == (2, (mel.shape[-1] - 1) * 256)
    assert torch.isfinite(waveforms).all()


@pytest.mark.cuda
def test_mel_and_griffin_lim_on_cuda_match_cpu():
    stft = TacotronSTFT()
    y = torch.from_numpy(tones(11025))[None].repeat(2, 1)
    mel = stft.mel_spectrogram(y)
    mel_cuda = stft.to("cuda").mel_spectrogram(y.cuda())
    torch.testing.assert_close(mel_cuda.cpu(), mel, atol=1e-4, rtol=0)
    waveforms = stft.griffin_lim(mel_cuda, n_iters=5)
    assert waveforms.device == mel_cuda.device and torch.isfinite(waveforms).all()


def test_layers_stay_off_cuda_distributed_and_amp(repo_root):
    source = (repo_root / "layers.py").read_text()
    for banned in ("torch.cuda", "torch.distributed", "torch.amp", ".cuda("):
        assert banned not in source


def test_linear_norm_shape_and_xavier_gain():
    layer = LinearNorm(400, 300, w_init_gain="tanh")
    assert layer(torch.randn(2, 7, 400)).shape == (2, 7, 300)
    expected_std = (5 / 3) * math.sqrt(2 / (400 + 300))
    weight = layer.linear_layer.weight
    assert weight.std().item() == pytest.approx(expected_std, rel=0.03)
    assert weight.abs().max().item() <= expected_std * math.sqrt(3) + 1e-6


def test_conv_norm_xavier_gain_counts_the_kernel():
    conv = ConvNorm(64, 128, kernel_size=5, w_init_gain="relu").conv
    expected_std = math.sqrt(2) * math.sqrt(2 / (64 * 5 + 128 * 5))
    assert conv.weight.std().item() == pytest.approx(expected_std, rel=0.03)


@pytest.mark.parametrize("kernel_size, dilation", [(1, 1), (3, 1), (5, 1), (3, 2), (31, 1)])
def test_conv_norm_keeps_length_for_odd_kernels(kernel_size, dilation):
    conv = ConvNorm(4, 6, kernel_size=kernel_size, dilation=dilation)
    assert conv(torch.randn(2, 4, 37)).shape == (2, 6, 37)


def test_conv_norm_rejects_even_kernel_without_padding():
    with pytest.raises(ValueError, match="odd kernel_size"):
        ConvNorm(4, 6, kernel_size=4)
    assert ConvNorm(4, 6, kernel_size=4, padding=0)(torch.randn(1, 4, 10)).shape == (1, 6, 7)


def test_lengths_to_mask_values():
    mask = lengths_to_mask(torch.tensor([3, 1, 4]))
    expected = torch.tensor([[1, 1, 1, 0], [1, 0, 0, 0], [1, 1, 1, 1]], dtype=torch.bool)
    assert torch.equal(mask, expected)
    padded = lengths_to_mask(torch.tensor([2, 0]), max_len=3)
    assert padded.tolist() == [[True, True, False], [False, False, False]]
