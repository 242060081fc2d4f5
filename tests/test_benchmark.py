"""benchmark.py at a reduced size: every mode runs in its own process and the JSON holds its figures."""

import json
import os
import subprocess
import sys

from benchmark import synthetic_batch

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
    assert "train" in result.stdout and "Wrote" in result.stdout


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
