"""benchmark.py at a reduced size: every mode runs in its own process and the JSON holds its figures."""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from benchmark import load_reference_hifigan, synthetic_batch

TINY = ("symbols_embedding_dim=16,encoder_embedding_dim=16,encoder_kernel_size=3,prenet_dim=16,"
        "attention_rnn_dim=32,decoder_rnn_dim=32,attention_dim=8,attention_location_n_filters=4,"
        "attention_location_kernel_size=5,postnet_embedding_dim=16,postnet_n_convolutions=2")


def test_benchmark_writes_json_for_every_mode(tmp_path, repo_root):
    output = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "benchmark.py", "--device", "cpu", "--threads", "1", f"--hparams={TINY}",
         "--batch_size", "2", "--text_length", "12", "--mel_length", "20", "--infer_frames", "10",
         "--vocoder_frames", "3", "--repeats", "2", "--warmup", "0",
         "--modes", "train", "infer", "infer_batch", "vocoders", "--output", str(output)],
        cwd=repo_root, capture_output=True, text=True, timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    modes = json.loads(output.read_text())["modes"]
    assert modes["train"]["frames_per_batch"] == 22 + 18 and modes["train"]["mel_frames_per_s"] > 0
    assert len(modes["train"]["step_s_all"]) == 2
    assert modes["infer"]["batch_size"] == 1 and modes["infer_batch"]["batch_size"] == 2
    assert modes["infer"]["real_time_factor"] > 0 and modes["infer"]["peak_rss_mb"] > 50
    assert (modes["vocoders"]["waveglow_256"]["parameters"]
            > 4 * modes["vocoders"]["waveglow_64"]["parameters"])
    assert modes["vocoders"]["griffin_lim"]["audio_seconds_per_s"] > 0
    hifigan = {preset: modes["vocoders"][f"hifigan_{preset}"] for preset in ("v1", "v2", "v3")}
    assert hifigan["v1"]["parameters"] > 10 * hifigan["v2"]["parameters"] > 0  # 13.9 M against 0.9 M
    assert all(v["audio_seconds_per_s"] > 0 and len(v["seconds_all"]) == 1 for v in hifigan.values())
    assert "hifigan_v1_reference" not in modes["vocoders"]  # only with --hifigan_reference
    assert "train" in result.stdout and "Wrote" in result.stdout and "hifigan_v3" in result.stdout


def run_benchmark(tmp_path, repo_root, *flags):
    output = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "benchmark.py", "--device", "cpu", "--threads", "1", f"--hparams={TINY}",
         "--batch_size", "2", "--text_length", "12", "--mel_length", "20", "--infer_frames", "10",
         "--repeats", "1", "--warmup", "0", *flags, "--output", str(output)],
        cwd=repo_root, capture_output=True, text=True, timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(output.read_text()), result.stdout


def test_benchmark_compares_cpu_weight_formats(tmp_path, repo_root):
    report, stdout = run_benchmark(tmp_path, repo_root, "--modes", "infer_weights")
    formats = report["modes"]["infer_weights"]
    assert formats["float32"]["mel_relative_rms_deviation"] == 0.0
    deviation = {w: formats[w]["mel_relative_rms_deviation"] for w in ("float16", "int8")}
    assert 0.0 < deviation["float16"] < deviation["int8"] < 0.2
    assert ([formats[w]["cpu_inference_weights"] for w in ("float32", "float16", "int8")]
            == ["float32", "float16", "int8"])
    assert "infer int8" in stdout


def test_benchmark_times_the_reference_path(tmp_path, repo_root):
    report, _ = run_benchmark(tmp_path, repo_root, "--modes", "train", "infer", "--reference_path")
    assert report["config"]["reference_path"] is True
    assert (report["modes"]["train"]["mel_frames_per_s"] > 0
            and report["modes"]["infer"]["mel_frames_per_s"] > 0)


def test_synthetic_batch_spreads_lengths_and_pads_to_r():
    text, text_lengths, mels, gates, mel_lengths = synthetic_batch(8, 100, 400, 80, 3, "cpu")
    assert text_lengths.tolist() == sorted(text_lengths.tolist(), reverse=True)
    assert (text_lengths[0] == 110 and text_lengths[-1] == 90
            and mel_lengths[0] == 440 and mel_lengths[-1] == 360)
    assert mels.shape == (8, 80, 441) and (mels[-1, :, 360:] == 0).all() and (text[-1, 90:] == 0).all()
    assert gates[-1, 359] == 1 and gates[-1, 358] == 0


# A stand-in for a checkout of jik876/hifi-gan with the interface benchmark.py uses: models.py importing
# `from utils import ...` by a bare name, Generator(h) reading its config as attributes, the old
# torch.nn.utils.weight_norm (weight_g / weight_v), remove_weight_norm(), and the generator's maths written
# out again independently of ours. SLOPE lets a test make it disagree.
FAKE_REFERENCE_UTILS = """
def init_weights(m, mean=0.0, std=0.01):
    if "Conv" in type(m).__name__:
        m.weight.data.normal_(mean, std)

def get_padding(kernel_size, dilation=1):
    return int((kernel_size * dilation - dilation) / 2)
"""
FAKE_REFERENCE_MODELS = """
import torch
import torch.nn.functional as F
from torch.nn.utils import remove_weight_norm, weight_norm
from utils import get_padding, init_weights

SLOPE = {slope}

def conv(channels, kernel_size, dilation):
    return weight_norm(torch.nn.Conv1d(channels, channels, kernel_size, 1, dilation=dilation,
                                       padding=get_padding(kernel_size, dilation)))

class Block(torch.nn.Module):
    def __init__(self, h, channels, kernel_size, dilations):
        super().__init__()
        if h.resblock == "1":
            self.convs1 = torch.nn.ModuleList(conv(channels, kernel_size, d) for d in dilations)
            self.convs2 = torch.nn.ModuleList(conv(channels, kernel_size, 1) for _ in dilations)
            pairs = zip(self.convs1, self.convs2)
        else:
            self.convs = torch.nn.ModuleList(conv(channels, kernel_size, d) for d in dilations)
            pairs = ((c, None) for c in self.convs)
        self.pairs = list(pairs)

    def forward(self, x):
        for first, second in self.pairs:
            y = first(F.leaky_relu(x, SLOPE))
            x = (second(F.leaky_relu(y, SLOPE)) if second is not None else y) + x
        return x

class Generator(torch.nn.Module):
    def __init__(self, h):
        super().__init__()
        self.k = len(h.resblock_kernel_sizes)
        self.conv_pre = weight_norm(torch.nn.Conv1d(80, h.upsample_initial_channel, 7, 1, padding=3))
        self.ups, self.resblocks = torch.nn.ModuleList(), torch.nn.ModuleList()
        channels = h.upsample_initial_channel
        for u, k in zip(h.upsample_rates, h.upsample_kernel_sizes):
            self.ups.append(weight_norm(torch.nn.ConvTranspose1d(channels, channels // 2, k, u,
                                                                 padding=(k - u) // 2)))
            channels //= 2
            for kernel_size, dilations in zip(h.resblock_kernel_sizes, h.resblock_dilation_sizes):
                self.resblocks.append(Block(h, channels, kernel_size, dilations))
        self.conv_post = weight_norm(torch.nn.Conv1d(channels, 1, 7, 1, padding=3))
        self.apply(init_weights)

    def forward(self, x):
        x = self.conv_pre(x)
        for i, up in enumerate(self.ups):
            x = up(F.leaky_relu(x, SLOPE))
            x = sum(block(x) for block in self.resblocks[i * self.k:(i + 1) * self.k]) / self.k
        return torch.tanh(self.conv_post(F.leaky_relu(x)))

    def remove_weight_norm(self):
        for m in self.modules():
            if hasattr(m, "weight_g"):
                remove_weight_norm(m)
"""


def fake_reference(directory, slope=0.1):
    directory.mkdir()
    (directory / "utils.py").write_text(textwrap.dedent(FAKE_REFERENCE_UTILS))
    (directory / "models.py").write_text(textwrap.dedent(FAKE_REFERENCE_MODELS).format(slope=slope))
    return directory


REFERENCE_CHECKOUT = os.environ.get("HIFIGAN_REFERENCE")  # a real checkout of jik876/hifi-gan, if at hand


@pytest.mark.parametrize("kind", ["stand-in", "checkout"])
def test_benchmark_times_hifigan_beside_the_reference_and_in_bfloat16(kind, tmp_path, repo_root):
    if kind == "checkout" and not REFERENCE_CHECKOUT:
        pytest.skip("set HIFIGAN_REFERENCE to a checkout of https://github.com/jik876/hifi-gan")
    reference = fake_reference(tmp_path / "hifi-gan") if kind == "stand-in" else REFERENCE_CHECKOUT
    report, stdout = run_benchmark(tmp_path, repo_root, "--modes", "vocoders", "--vocoders", "hifigan",
                                   "--vocoder_frames", "3", "--repeats", "4", "--hifigan_reference",
                                   str(reference), "--hifigan_bfloat16")
    vocoders = report["modes"]["vocoders"]
    assert "waveglow_256" not in vocoders and "griffin_lim" not in vocoders
    for preset in ("v1", "v2", "v3"):
        ours, theirs = vocoders[f"hifigan_{preset}"], vocoders[f"hifigan_{preset}_reference"]
        assert ours["parameters"] == theirs["parameters"]  # the reference's count, weight norm removed
        assert 0 <= ours["reference_max_abs_diff"] <= 1e-4
        assert len(ours["seconds_all"]) == len(theirs["seconds_all"]) == 2
        assert ours["speed_vs_reference"] == pytest.approx(
            ours["audio_seconds_per_s"] / theirs["audio_seconds_per_s"])
        bfloat16 = vocoders[f"hifigan_{preset}_bfloat16"]  # opt-in: near float32, but not within 1e-4
        assert 1e-4 < bfloat16["float32_max_abs_diff"] < 0.2 and 0 < bfloat16["float32_mel_l1"] < 0.1
    assert "the reference's speed" in stdout and "float32's speed" in stdout


def test_benchmark_refuses_a_reference_whose_audio_differs(tmp_path, repo_root):
    reference = fake_reference(tmp_path / "hifi-gan", slope=0.2)
    result = subprocess.run(
        [sys.executable, "benchmark.py", "--device", "cpu", "--threads", "1", "--modes", "vocoders",
         "--vocoders", "hifigan", "--vocoder_frames", "3", "--repeats", "1",
         "--hifigan_reference", str(reference), "--output", str(tmp_path / "bench.json")],
        cwd=repo_root, capture_output=True, text=True, timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode != 0 and "differs from ours" in result.stderr
    assert not (tmp_path / "bench.json").exists()


def test_reference_loader_leaves_the_name_utils_as_it_was(tmp_path, monkeypatch):
    before = sys.modules.get("utils")
    models = load_reference_hifigan(fake_reference(tmp_path / "hifi-gan"))
    assert hasattr(models, "Generator") and sys.modules.get("utils") is before
    placeholder = object()
    monkeypatch.setitem(sys.modules, "utils", placeholder)
    load_reference_hifigan(tmp_path / "hifi-gan")
    assert sys.modules["utils"] is placeholder
    with pytest.raises(SystemExit, match="no models.py"):
        load_reference_hifigan(tmp_path)
