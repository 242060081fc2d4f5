"""waveglow_vocoder: the flow's invertibility and log-determinant, shapes, weight norm removal, overfitting,
NVIDIA's pickled checkpoints (opt-in, conversion), the training command, and both vocoders."""

import json
import os
import subprocess
import sys
import types
import warnings

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from data_utils import load_wav
from hparams import create_hparams
from layers import TacotronSTFT
from waveglow_vocoder import (
    Denoiser,
    GriffinLimVocoder,
    LegacyPickleError,
    WaveGlow,
    WaveGlowConfig,
    WaveGlowLoss,
    WaveGlowVocoder,
    convert_legacy_checkpoint,
    load_vocoder,
    load_waveglow,
    save_waveglow,
)
from waveglow_vocoder import checkpoint as checkpoint_module
from waveglow_vocoder.train import train

TINY = dict(n_flows=4, n_group=8, n_early_every=2, n_early_size=2, n_layers=2, n_channels=8, kernel_size=3)


def tiny_waveglow(n_mel_channels: int = 8, **overrides) -> WaveGlow:
    """A tiny WaveGlow whose coupling layers are not the identity (the zero-initialised `end` randomised)."""
    model = WaveGlow(WaveGlowConfig(n_mel_channels=n_mel_channels, **{**TINY, **overrides}))
    for wn in model.WN:
        nn.init.normal_(wn.end.weight, std=0.2)
        nn.init.normal_(wn.end.bias, std=0.2)
    return model


def test_audio_through_the_flow_and_back_is_unchanged():
    model = tiny_waveglow()
    mel, audio = torch.randn(2, 8, 6), 0.3 * torch.randn(2, 6 * 256)
    z, log_s_list, log_det_w_list = model(mel, audio)
    assert z.shape == (2, 8, 6 * 256 // 8) and len(log_s_list) == len(log_det_w_list) == 4
    assert torch.allclose(model.reverse(mel, z), audio, atol=1e-5)


def test_log_determinant_matches_brute_force_jacobian():
    model = tiny_waveglow(n_mel_channels=2, n_group=4, n_channels=4).double()
    mel, audio = torch.randn(1, 2, 1, dtype=torch.float64), torch.randn(1, 32, dtype=torch.float64)
    jacobian = torch.autograd.functional.jacobian(lambda x: model(mel, x)[0].flatten(), audio).reshape(32, 32)
    _, log_s_list, log_det_w_list = model(mel, audio)
    log_det = sum(log_s.sum() for log_s in log_s_list) + sum(log_det_w_list)
    # the flow is not volume-preserving, so the check means something
    assert abs(float(log_det.detach())) > 0.1
    assert torch.allclose(log_det, torch.linalg.slogdet(jacobian)[1], atol=1e-9)


def test_loss_is_the_negative_log_likelihood_per_sample():
    model = tiny_waveglow(n_mel_channels=2, n_group=4, n_channels=4).double()
    z, log_s_list, log_det_w_list = outputs = model(torch.randn(1, 2, 1).double(),
                                                    torch.randn(1, 32).double())
    expected = ((z**2).sum() / (2 * 0.5**2) - sum(s.sum() for s in log_s_list) - sum(log_det_w_list)) / 32
    assert torch.allclose(WaveGlowLoss(sigma=0.5)(outputs), expected)


@pytest.mark.parametrize("n_frames", [1, 5, 12])
def test_infer_gives_hop_length_samples_per_frame(n_frames):
    model = tiny_waveglow()
    assert model.infer(torch.randn(3, 8, n_frames), sigma=0.6).shape == (3, n_frames * 256)


def test_default_config_is_the_reference_layout():
    model = WaveGlow()
    assert model.n_remaining_channels == 4 and len(model.WN) == len(model.convinv) == 12
    assert (model.upsample.kernel_size, model.upsample.stride) == ((1024,), (256,))
    keys = model.state_dict().keys()
    assert {"WN.0.cond_layer.parametrizations.weight.original0",
            "WN.0.in_layers.7.parametrizations.weight.original1",
            "WN.11.end.weight", "convinv.11.conv.weight", "upsample.weight"} <= keys
    assert model.WN[0].cond_layer.weight.shape == (2 * 256 * 8, 80 * 8, 1)
    assert model.WN[11].start.weight.shape == (256, 2, 1)  # the last flows see 4 channels, halves of 2


def test_remove_weightnorm_leaves_outputs_unchanged():
    model = tiny_waveglow()
    mel = torch.randn(2, 8, 4)
    torch.manual_seed(1)
    before = model.infer(mel, sigma=0.7)
    assert WaveGlow.remove_weightnorm(model) is model  # the reference's static spelling works too
    assert not any("parametrizations" in key for key in model.state_dict())
    torch.manual_seed(1)
    assert torch.allclose(model.infer(mel, sigma=0.7), before, atol=1e-6)


@pytest.fixture
def segment(repo_root):
    """4096 samples of a demo utterance and their log mel (80, 17)."""
    audio = load_wav(repo_root / "demo_corpus/wavs/DEMO-0002.flac", 22050)[4000:8096].unsqueeze(0)
    return TacotronSTFT().mel_spectrogram(audio), audio


def test_small_waveglow_overfits_one_segment(segment):
    mel, audio = segment
    model = WaveGlow(WaveGlowConfig(**{**TINY, "n_channels": 16}))
    criterion, optimizer = WaveGlowLoss(sigma=1.0), torch.optim.Adam(model.parameters(), lr=2e-3)
    losses = []
    for _ in range(30):
        loss = criterion(model(mel, audio))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < losses[0] - 1.0, losses


def _fake_glow_module(old_cond_layers: bool) -> types.ModuleType:
    """A stand-in for NVIDIA's glow.py: its attribute layout, the old hook-based weight norm, and its
    arithmetic, written independently of ours. `old_cond_layers`: the older per-layer conditioning convs."""
    weight_norm = torch.nn.utils.weight_norm

    class Invertible1x1Conv(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.conv = nn.Conv1d(c, c, 1, bias=False)
            self.conv.weight.data = torch.linalg.qr(torch.randn(c, c))[0][..., None]

        def forward(self, z, reverse=False):
            return F.conv1d(z, self.conv.weight.squeeze(-1).inverse()[..., None]) if reverse else self.conv(z)

    class WN(nn.Module):
        def __init__(self, n_in_channels, n_mel_channels, n_layers, n_channels, kernel_size):
            super().__init__()
            self.n_layers, self.n_channels = n_layers, n_channels
            self.in_layers, self.res_skip_layers = nn.ModuleList(), nn.ModuleList()
            self.start = weight_norm(nn.Conv1d(n_in_channels, n_channels, 1))
            self.end = nn.Conv1d(n_channels, 2 * n_in_channels, 1)  # random, not zero: a non-trivial flow
            if old_cond_layers:
                self.cond_layers = nn.ModuleList(weight_norm(nn.Conv1d(n_mel_channels, 2 * n_channels, 1))
                                                 for _ in range(n_layers))
            else:
                self.cond_layer = weight_norm(nn.Conv1d(n_mel_channels, 2 * n_channels * n_layers, 1))
            for i in range(n_layers):
                self.in_layers.append(weight_norm(nn.Conv1d(n_channels, 2 * n_channels, kernel_size,
                                                            dilation=2**i,
                                                            padding=2**i * (kernel_size // 2))))
                out = 2 * n_channels if i < n_layers - 1 else n_channels
                self.res_skip_layers.append(weight_norm(nn.Conv1d(n_channels, out, 1)))

        def forward(self, forward_input):
            audio, spect = forward_input
            audio, output, c = self.start(audio), 0, self.n_channels
            for i in range(self.n_layers):
                cond = (self.cond_layers[i](spect) if old_cond_layers
                        else self.cond_layer(spect)[:, 2 * c * i:][:, :2 * c])
                x = self.in_layers[i](audio) + cond
                res_skip = self.res_skip_layers[i](torch.tanh(x[:, :c]) * torch.sigmoid(x[:, c:]))
                if i < self.n_layers - 1:
                    audio = audio + res_skip[:, :c]
                output = output + res_skip[:, -c:]
            return self.end(output)

    class WaveGlow(nn.Module):
        def __init__(self, n_mel_channels, n_flows, n_group, n_early_every, n_early_size, WN_config):
            super().__init__()
            self.upsample = nn.ConvTranspose1d(n_mel_channels, n_mel_channels, 1024, stride=256)
            self.n_flows, self.n_group = n_flows, n_group
            self.n_early_every, self.n_early_size = n_early_every, n_early_size
            self.WN, self.convinv = nn.ModuleList(), nn.ModuleList()
            remaining = n_group
            for k in range(n_flows):
                remaining -= n_early_size if k and k % n_early_every == 0 else 0
                self.convinv.append(Invertible1x1Conv(remaining))
                self.WN.append(WN(remaining // 2, n_mel_channels * n_group, **WN_config))
            self.n_remaining_channels = remaining

        def infer(self, spect, sigma=1.0):
            spect = self.upsample(spect)[:, :, :-768]
            batch, channels, length = spect.shape
            groups = length // self.n_group  # channel m * n_group + g holds mel m at sample g of each group
            spect = (spect.reshape(batch, channels, groups, self.n_group).transpose(2, 3)
                     .reshape(batch, -1, groups))
            audio = sigma * torch.randn(batch, self.n_remaining_channels, groups)
            for k in reversed(range(self.n_flows)):
                n_half = audio.size(1) // 2
                output = self.WN[k]((audio[:, :n_half], spect))
                audio_1 = (audio[:, n_half:] - output[:, :n_half]) / torch.exp(output[:, n_half:])
                audio = self.convinv[k](torch.cat([audio[:, :n_half], audio_1], 1), reverse=True)
                if k and k % self.n_early_every == 0:
                    audio = torch.cat([sigma * torch.randn(batch, self.n_early_size, groups), audio], 1)
            return audio.transpose(1, 2).reshape(batch, -1)

    module = types.ModuleType("glow")
    for cls in (Invertible1x1Conv, WN, WaveGlow):
        cls.__module__, cls.__qualname__ = "glow", cls.__name__
        setattr(module, cls.__name__, cls)
    return module


@pytest.fixture(params=[False, True], ids=["cond_layer", "old_cond_layers"])
def legacy_checkpoint(request, tmp_path, monkeypatch):
    """(path, the pickled glow.WaveGlow object): a checkpoint in the layout of NVIDIA's published files."""
    glow = _fake_glow_module(old_cond_layers=request.param)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.nn.utils.weight_norm is deprecated: it is what NVIDIA used
        model = glow.WaveGlow(8, 4, 8, 2, 2, dict(n_layers=2, n_channels=8, kernel_size=3))
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "glow", glow)
        path = tmp_path / "waveglow_legacy.pt"
        torch.save({"model": model, "iteration": 7, "optimizer": None, "learning_rate": 1e-4}, path)
    assert "glow" not in sys.modules
    return path, model.eval()


def test_legacy_pickle_is_refused_without_opt_in(legacy_checkpoint):
    with pytest.raises(LegacyPickleError, match="allow_legacy_pickle=True") as error:
        load_waveglow(legacy_checkpoint[0])
    assert "python3 -m waveglow_vocoder.checkpoint" in str(error.value)


def test_legacy_pickle_loads_with_opt_in_and_matches_the_pickled_model(legacy_checkpoint):
    path, reference = legacy_checkpoint
    model = load_waveglow(path, allow_legacy_pickle=True)
    assert type(model) is WaveGlow and not model.training and "glow" not in sys.modules
    assert model.config == WaveGlowConfig(n_mel_channels=8, **TINY)
    mel = torch.randn(2, 8, 5)
    for sigma in (0.0, 0.7):
        torch.manual_seed(3)
        expected = reference.infer(mel, sigma=sigma)
        torch.manual_seed(3)
        assert torch.allclose(model.infer(mel, sigma=sigma), expected, atol=1e-5)
    assert float(expected.detach().abs().max()) > 0.01


def test_converted_checkpoint_loads_with_weights_only(legacy_checkpoint, tmp_path, capsys):
    path, reference = legacy_checkpoint
    converted = tmp_path / "converted.pt"
    convert_legacy_checkpoint(path, converted)
    checkpoint = torch.load(converted, map_location="cpu", weights_only=True)
    assert checkpoint["iteration"] == 7 and checkpoint["config"]["n_mel_channels"] == 8
    model, mel = load_waveglow(converted), torch.randn(1, 8, 3)
    assert torch.allclose(model.infer(mel, sigma=0.0), reference.infer(mel, sigma=0.0), atol=1e-5)
    checkpoint_module.main([str(path), str(tmp_path / "by_cli.pt")])  # the command-line form
    assert "Wrote" in capsys.readouterr().out
    assert (torch.load(tmp_path / "by_cli.pt", weights_only=True)["state_dict"].keys()
            == checkpoint["state_dict"].keys())


class _RunsAShellCommand:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_malicious_pickle_is_refused_and_runs_nothing(tmp_path):
    marker, path = tmp_path / "pwned", tmp_path / "evil.pt"
    torch.save({"model": _RunsAShellCommand(marker)}, path)
    with pytest.raises(LegacyPickleError, match="unpickling can run code"):
        load_waveglow(path)
    assert not marker.exists()


def test_our_checkpoint_loads_after_remove_weightnorm_too(tmp_path):
    model = tiny_waveglow().remove_weightnorm()
    save_waveglow(tmp_path / "plain.pt", model, iteration=1)
    mel = torch.randn(1, 8, 2)
    assert torch.allclose(load_waveglow(tmp_path / "plain.pt").infer(mel, 0.0), model.infer(mel, 0.0))


def test_denoiser_removes_the_bias_spectrum():
    model = tiny_waveglow(n_mel_channels=80)
    bias_audio = model.infer(torch.zeros(1, 80, 88), sigma=0.0)
    denoised = Denoiser(model)(bias_audio, strength=1.0)
    assert denoised.shape == bias_audio.shape
    assert float(denoised.pow(2).mean()) < 0.1 * float(bias_audio.pow(2).mean())


def test_training_command_writes_checkpoints_that_load(tmp_path, repo_root):
    lines = (repo_root / "filelists/demo_audio_text_train_filelist.txt").read_text().splitlines()[:4]
    filelist, config = tmp_path / "train.txt", tmp_path / "waveglow.json"
    filelist.write_text("\n".join(lines) + "\n")
    config.write_text(json.dumps({**TINY, "n_channels": 16, "segment_length": 4096, "batch_size": 2,
                                  "max_iterations": 3, "iters_per_checkpoint": 2}))
    out, logs = tmp_path / "out", tmp_path / "logs"
    result = subprocess.run(
        [sys.executable, "-m", "waveglow_vocoder.train", "-o", str(out), "-l", str(logs),
         "--config", str(config), "--device=cpu",
         f"--hparams=training_files={filelist},data_root={repo_root},num_workers=0"],
        cwd=repo_root, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True,
        timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "it 3 | loss" in result.stdout
    assert sorted(p.name for p in out.glob("waveglow_*")) == ["waveglow_2", "waveglow_3"]
    assert list(logs.glob("events.out.tfevents.*"))
    assert load_waveglow(out / "waveglow_3").config.n_channels == 16

    # Resume: the iteration count and Adam's state go on from the checkpoint.
    hparams = create_hparams(f"training_files={filelist},data_root={repo_root},num_workers=0")
    from waveglow_vocoder.train import load_config
    model_config, train_config = load_config(str(config))
    train_config.max_iterations = 4
    assert train(str(tmp_path / "resumed"), str(logs), str(out / "waveglow_3"), hparams, model_config,
                 train_config, "cpu") == 4
    checkpoint = torch.load(tmp_path / "resumed" / "waveglow_4", weights_only=True)
    assert {float(state["step"]) for state in checkpoint["optimizer"]["state"].values()} == {4.0}


def test_griffin_lim_vocoder_length_level_and_convergence(segment):
    mel, audio = segment
    vocoder = GriffinLimVocoder(create_hparams(), n_iters=30)
    output = vocoder(mel.expand(2, -1, -1))
    assert vocoder.sampling_rate == 22050 and output.shape == (2, mel.size(2) * 256)
    assert 0.3 < float(output.std() / audio.std()) < 3.0  # about the level of the original
    stft = TacotronSTFT()
    target = stft.mel_to_linear(mel)

    def spectral_convergence(n_iters):
        waveform = GriffinLimVocoder(stft, n_iters=n_iters, power=1.0)(mel)[:, :-256]
        rebuilt = torch.stft(waveform, 1024, 256, window=torch.hann_window(1024), return_complex=True).abs()
        return float((rebuilt - target).norm() / target.norm())

    errors = [spectral_convergence(n) for n in (1, 5, 30)]
    assert errors[0] > errors[1] > errors[2], errors


def test_load_vocoder_picks_waveglow_or_griffin_lim(tmp_path):
    hparams = create_hparams("griffin_lim_iters=2")
    assert isinstance(load_vocoder(None, hparams), GriffinLimVocoder)
    save_waveglow(tmp_path / "wg.pt", tiny_waveglow(n_mel_channels=80))
    vocoder = load_vocoder(str(tmp_path / "wg.pt"), hparams, sigma=0.5, denoiser_strength=0.05)
    assert isinstance(vocoder, WaveGlowVocoder) and vocoder.sampling_rate == 22050
    output = vocoder(torch.randn(2, 80, 3) - 5)
    assert output.shape == (2, 3 * 256) and output.dtype == torch.float32 and output.abs().max() <= 1
    save_waveglow(tmp_path / "wg8.pt", tiny_waveglow(n_mel_channels=8))
    with pytest.raises(ValueError, match="8 mel channels"):
        load_vocoder(str(tmp_path / "wg8.pt"), hparams)


def test_package_avoids_cuda_tensors_sys_path_and_cached_inverse(repo_root):
    for path in (repo_root / "waveglow_vocoder").glob("*.py"):
        source = path.read_text()
        assert "torch.cuda." not in source.replace("torch.cuda.is_available", ""), path
        assert "sys.path" not in source and "W_inverse" not in source, path
        if not path.name.endswith("train.py"):  # only the trainers may use the process group
            assert "import distributed" not in source, path


def test_griffin_lim_vocoder_handles_a_single_frame(segment):
    mel, _ = segment
    for n_frames in (1, 2, 3, 4, 5):
        assert (GriffinLimVocoder(create_hparams(), n_iters=2)(mel[:, :, :n_frames]).shape
                == (1, n_frames * 256))
