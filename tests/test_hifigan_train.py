"""HiFi-GAN training: the discriminators (shapes, the reference's names, its do_ files), the losses, the
segments' mel/audio pairing, GTA mels, and the trainer's checkpoints, resume, stops, non-finite guard and warm
starts, on a tiny generator and discriminators narrowed 32 times (conftest's hifigan_run)."""

import dataclasses
import json
import math
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch
from torch.nn.utils import parametrize

import waveglow_vocoder.hifigan_train as hifigan_train
from checkpoint import load_tacotron2, save_checkpoint
from data_utils import load_wav
from gta_mels import main as gta_mels_main
from hparams import create_hparams
from layers import TacotronSTFT
from model import Tacotron2
from test_reliability import _sigterm_after_two_iterations
from test_train import ONE_THREAD
from text import text_to_ids
from training import TrainingDiverged
from waveglow_vocoder.discriminators import (
    Discriminators,
    discriminator_loss,
    feature_loss,
    generator_loss,
    load_discriminator_state,
)
from waveglow_vocoder.hifigan import PRESETS, Generator, HiFiGANConfig
from waveglow_vocoder.hifigan_data import LOG_FLOOR, MelAudio, gta_mel_path


def _train(run, tmp_path, checkpoint_path=None, warm_start=None, warm_start_discriminators=None,
           input_mels=None, **train_config) -> int:
    return hifigan_train.train(str(tmp_path / "out"), str(tmp_path / "logs"), checkpoint_path, run.hparams,
                               run.config, dataclasses.replace(run.train_config, **train_config), "cpu",
                               warm_start, warm_start_discriminators, input_mels)


def _logged(log_directory, tag: str) -> list[float]:
    """A scalar a run wrote to TensorBoard, in iteration order."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(log_directory))
    events.Reload()
    return [event.value for event in sorted(events.Scalars(tag), key=lambda event: event.step)]


# ---- the discriminators and the losses ----

def test_discriminators_have_the_reference_shapes_and_parameter_names():
    discriminators = Discriminators()
    shapes = {key: tuple(value.shape) for key, value in discriminators.state_dict().items()}
    # MPD: 5 x 6 convolutions of bias, g and v; MSD: 8 of bias, weight, u and v, then 2 x 8 of bias, g and v
    assert len(shapes) == 5 * 6 * 3 + 8 * 4 + 2 * 8 * 3
    assert shapes["mpd.discriminators.0.convs.0.parametrizations.weight.original1"] == (32, 1, 5, 1)
    assert shapes["mpd.discriminators.4.convs.4.parametrizations.weight.original1"] == (1024, 1024, 5, 1)
    assert shapes["mpd.discriminators.4.conv_post.parametrizations.weight.original1"] == (1, 1024, 3, 1)
    assert shapes["msd.discriminators.0.convs.1.parametrizations.weight.original"] == (128, 32, 41)
    assert shapes["msd.discriminators.0.convs.1.parametrizations.weight.0._u"] == (128,)
    assert shapes["msd.discriminators.2.convs.5.parametrizations.weight.original1"] == (1024, 64, 41)
    assert shapes["msd.discriminators.2.conv_post.bias"] == (1,)
    assert sum(p.numel() for p in discriminators.parameters()) == 70_724_591

    real, generated = torch.randn(2, 1, 8192) * 0.1, torch.randn(2, 1, 8192) * 0.1
    real_scores, generated_scores, real_maps, generated_maps = discriminators(real, generated)
    rows = [math.ceil(8192 / p) for p in (2, 3, 5, 7, 11)]
    for _ in range(4):  # four stride-3 convolutions (kernel 5, padding 2)
        rows = [(h - 1) // 3 + 1 for h in rows]
    pooled = [8192, 8192 // 2 + 1, (8192 // 2 + 1) // 2 + 1]  # AvgPool1d(4, 2, padding=2), twice
    lengths = []
    for length in pooled:  # kernel 41, padding 20 at strides 1, 2, 2, 4, 4, 1; kernel 5 and 3 at stride 1
        for stride in (2, 2, 4, 4):
            length = (length - 1) // stride + 1
        lengths.append(length)
    expected = [h * p for h, p in zip(rows, (2, 3, 5, 7, 11))] + lengths
    assert [tuple(s.shape) for s in real_scores] == [(2, n) for n in expected]
    assert [s.shape for s in generated_scores] == [s.shape for s in real_scores]
    assert [len(maps) for maps in real_maps] == [6] * 5 + [8] * 3
    assert [m.shape[1] for m in real_maps[0]] == [32, 128, 512, 1024, 1024, 1]
    assert [m.shape[1] for m in generated_maps[5]] == [128, 128, 256, 512, 1024, 1024, 1024, 1]


def test_losses_match_a_hand_computation():
    generator = torch.Generator().manual_seed(0)
    real = [torch.randn(2, n, generator=generator) for n in (3, 5)]
    fake = [torch.randn(2, n, generator=generator) for n in (3, 5)]
    maps_r, maps_g = ([[torch.randn(2, 4, n, generator=generator) for n in (6, 2)],
                       [torch.randn(2, 3, generator=generator)]] for _ in range(2))

    def mean(values):
        values = [float(v) for v in np.asarray(values).ravel()]
        return sum(values) / len(values)

    expected_d = sum(mean([(1 - x) ** 2 for x in r.numpy().ravel()])
                     + mean([x ** 2 for x in g.numpy().ravel()]) for r, g in zip(real, fake))
    expected_g = sum(mean([(1 - x) ** 2 for x in g.numpy().ravel()]) for g in fake)
    expected_fm = 2 * sum(mean(np.abs(r.numpy() - g.numpy())) for rs, gs in zip(maps_r, maps_g)
                          for r, g in zip(rs, gs))
    assert float(discriminator_loss(real, fake)) == pytest.approx(expected_d, rel=1e-6)
    assert float(generator_loss(fake)) == pytest.approx(expected_g, rel=1e-6)
    assert float(feature_loss(maps_r, maps_g)) == pytest.approx(expected_fm, rel=1e-6)


def _old_layout(discriminators: Discriminators) -> Discriminators:
    """The same weights under torch.nn.utils' old weight_norm and spectral_norm, as the reference saved them:
    weight_g / weight_v, and weight_orig / weight_u / weight_v."""
    for module in list(discriminators.modules()):
        if parametrize.is_parametrized(module, "weight"):
            spectral = hasattr(module.parametrizations.weight[0], "_u")
            parametrize.remove_parametrizations(module, "weight")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", FutureWarning)  # the old weight_norm is deprecated
                (torch.nn.utils.spectral_norm if spectral else torch.nn.utils.weight_norm)(module)
    return discriminators


def test_reference_discriminator_state_loads_and_gives_the_same_scores(tmp_path):
    old = _old_layout(Discriminators(divisor=32)).eval()
    path = tmp_path / "do_00000001"
    torch.save({"mpd": old.mpd.state_dict(), "msd": old.msd.state_dict(), "steps": 1, "epoch": 0}, path)
    saved = torch.load(path, weights_only=True)
    assert {"discriminators.0.convs.0.weight_orig", "discriminators.0.convs.0.weight_u",
            "discriminators.1.convs.0.weight_g"} <= saved["msd"].keys()
    new = Discriminators(divisor=32)
    load_discriminator_state(new.mpd, saved["mpd"])
    load_discriminator_state(new.msd, saved["msd"])
    audio = torch.randn(1, 1, 3000) * 0.1
    with torch.no_grad():
        for expected, got in zip(old(audio, audio)[0], new.eval()(audio, audio)[0]):
            torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)


# ---- data: the pairing, GTA mels ----

def test_segment_pairs_mel_frame_t_with_the_samples_from_t_times_hop(hifigan_run):
    dataset = MelAudio(hifigan_run.hparams.training_files, hifigan_run.hparams, segment_size=2048)
    hop, frames = 256, 2048 // 256
    stft = TacotronSTFT()
    for index in range(3):
        mel, audio = dataset[index]
        recording = load_wav(dataset.paths[index], 22050)
        whole = stft.mel_spectrogram(recording.unsqueeze(0))[0]  # (80, 1 + N // hop)
        starts = [s for s in range(whole.size(1) - frames + 1) if torch.equal(whole[:, s:s + frames], mel)]
        assert len(starts) == 1 and mel.shape == (80, frames) and audio.shape == (2048,)
        start = starts[0]
        assert torch.equal(audio, recording[start * hop:(start + frames) * hop])
        # frame t of the recording is centred on sample t * hop: the segment's own STFT, whose frame j is
        # centred on its sample j * hop, gives the same frames where the window lies inside the segment
        own = stft.mel_spectrogram(audio.unsqueeze(0))[0]
        torch.testing.assert_close(own[:, 2:frames - 1], mel[:, 2:frames - 1], rtol=1e-4, atol=1e-4)


def test_segment_past_the_end_is_silence(tmp_path, hifigan_run):
    short = tmp_path / "short.wav"
    soundfile.write(short, np.random.default_rng(0).uniform(-0.5, 0.5, 1000).astype(np.float32), 22050)
    (tmp_path / "short.txt").write_text(f"{short}|Short.\n")
    hparams = dataclasses.replace(hifigan_run.hparams, data_root="")
    mel, audio = MelAudio(tmp_path / "short.txt", hparams, segment_size=2048)[0]
    assert mel.shape == (80, 8) and audio.shape == (2048,)
    assert (mel[:, 4:] == LOG_FLOOR).all() and (mel[:, :4] > LOG_FLOOR).any()  # 1 + 1000 // 256 = 4 frames
    assert (audio[1000:] == 0).all() and (audio[:1000] != 0).any()


@pytest.fixture
def tacotron2_checkpoint(tiny_hparams, tmp_path):
    """A tiny Tacotron 2 decoding 3 frames per step (so the mels must be trimmed), without prenet dropout."""
    hparams = dataclasses.replace(tiny_hparams, n_frames_per_step=3, p_prenet_dropout=0.0)
    model = Tacotron2(hparams)
    optimizer, scaler = torch.optim.Adam(model.parameters()), torch.amp.GradScaler("cpu", enabled=False)
    path = tmp_path / "checkpoint_1"
    save_checkpoint(model, optimizer, scaler, hparams, 1e-3, 1, path)
    return path


def test_gta_mels_are_the_teacher_forced_postnet_mels_at_the_recordings_length(tacotron2_checkpoint,
                                                                              hifigan_run, tmp_path):
    out, run_hparams = tmp_path / "gta", hifigan_run.hparams
    gta_mels_main(["--checkpoint", str(tacotron2_checkpoint), "--filelist", run_hparams.training_files,
                   run_hparams.validation_files, "--output_dir", str(out), "--batch_size", "4",
                   "--device", "cpu", "--hparams", f"data_root={run_hparams.data_root},mel_cache_dir="])
    model, hparams = load_tacotron2(tacotron2_checkpoint)
    stft = TacotronSTFT()
    for line in Path(hifigan_run.hparams.training_files).read_text().splitlines():
        relative, text = line.split("|")
        audio = load_wav(Path(hifigan_run.hparams.data_root) / relative, 22050)
        written = np.load(gta_mel_path(out, relative))
        frames = 1 + audio.numel() // 256
        assert written.dtype == np.float32 and written.shape == (80, frames)
        mel = stft.mel_spectrogram(audio.unsqueeze(0))  # the recording's mel, on its own
        padded = torch.nn.functional.pad(mel, (0, -frames % 3))  # one utterance, whole decoder steps
        ids = text_to_ids(text, hparams).unsqueeze(0)
        with torch.no_grad():
            postnet = model(ids, torch.tensor([ids.size(1)]), padded, torch.tensor([frames]))[1]
        np.testing.assert_allclose(written, postnet[0, :, :frames].numpy(), rtol=1e-4, atol=1e-4)
    assert len(list(out.glob("*.npy"))) == 8  # the validation filelist's too: the trainer validates on them
    assert _train(hifigan_run, tmp_path, input_mels=str(out), max_iterations=2) == 2


def test_input_mels_missing_or_of_another_length_are_clear_errors(hifigan_run, tmp_path):
    hparams = hifigan_run.hparams
    dataset = MelAudio(hparams.training_files, hparams, 2048, input_mels=tmp_path / "gta")
    missing = gta_mel_path(tmp_path / "gta", dataset.paths[0])
    with pytest.raises(FileNotFoundError, match=f"{missing}: no GTA mel.*python3 gta_mels.py --checkpoint"):
        dataset[0]
    frames = 1 + load_wav(dataset.paths[0], 22050).numel() // 256
    missing.parent.mkdir()
    np.save(missing, np.zeros((80, frames + 3), np.float32))
    with pytest.raises(ValueError, match=f"{frames + 3} frames, but the mel of .* has {frames}"):
        dataset[0]
    np.save(missing, np.full((80, frames), -2.0, np.float32))
    mel, audio = dataset[0]
    assert (mel == -2.0).all() and mel.shape == (80, 8) and audio.shape == (2048,)


# ---- the trainer ----

def test_command_line_trains_validates_and_writes_checkpoints_that_load(hifigan_run, tmp_path, repo_root):
    out, logs = tmp_path / "out", tmp_path / "logs"
    config = json.loads(hifigan_run.config_file.read_text())
    hifigan_run.config_file.write_text(json.dumps({**config, "max_iterations": 4, "iters_per_checkpoint": 1,
                                                   "checkpoints_to_keep": 2}))
    result = subprocess.run([sys.executable, "-m", "waveglow_vocoder.hifigan_train", "-o", str(out), "-l",
                             str(logs), "--config", str(hifigan_run.config_file), "--device=cpu",
                             f"--hparams={hifigan_run.hparams_string}"],
                            cwd=repo_root, env=ONE_THREAD, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "it 4 | d " in result.stdout and "samples/s" in result.stdout
    assert "Validation mel L1 2: " in result.stdout and "Validation mel L1 4: " in result.stdout
    assert sorted(p.name for p in out.glob("hifigan_*")) == ["hifigan_3", "hifigan_4"]  # pruned to 2
    checkpoint = torch.load(out / "hifigan_4", weights_only=True)
    assert {"generator", "config", "mpd", "msd", "optim_g", "optim_d", "scheduler_g", "scheduler_d",
            "scaler_g", "scaler_d", "iteration", "epoch", "hparams", "train_config", "rng",
            "skipped_steps"} <= checkpoint.keys()
    assert (checkpoint["iteration"], checkpoint["epoch"], checkpoint["skipped_steps"]) == (4, 1, 0)
    assert checkpoint["scheduler_g"]["last_epoch"] == 1  # decayed once, at the end of the first epoch (3)
    # a training checkpoint is a generator file: 'generator' and 'config'
    Generator(HiFiGANConfig.from_dict(checkpoint["config"])).load_state_dict(checkpoint["generator"])
    assert len(_logged(logs, "validation/mel_spec_error")) == 2
    assert len(_logged(logs, "training/mel_spec_error")) == 4


def test_reference_config_json_reads_as_it_is(tmp_path):
    """The reference's config_v2.json fields: the generator, its training fields, and audio settings that
    must be the hparams'."""
    reference = {"resblock": "1", "num_gpus": 0, "batch_size": 16, "learning_rate": 0.0002, "adam_b1": 0.8,
                 "adam_b2": 0.99, "lr_decay": 0.999, "seed": 1234, "upsample_rates": [8, 8, 2, 2],
                 "upsample_kernel_sizes": [16, 16, 4, 4], "upsample_initial_channel": 128,
                 "resblock_kernel_sizes": [3, 7, 11],
                 "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]],
                 "segment_size": 8192, "num_mels": 80, "num_freq": 1025, "n_fft": 1024, "hop_size": 256,
                 "win_size": 1024, "sampling_rate": 22050, "fmin": 0, "fmax": 8000, "fmax_for_loss": None,
                 "num_workers": 4, "dist_config": {"dist_backend": "nccl", "dist_url": "tcp://localhost:54321",
                                                   "world_size": 1}}
    path = tmp_path / "config_v2.json"
    path.write_text(json.dumps(reference))
    config, train_config = hifigan_train.load_config(str(path), create_hparams())
    assert config == PRESETS["v2"] and train_config == hifigan_train.TrainConfig()
    with pytest.raises(ValueError, match=r"hop_size=300 \(hparams hop_length=256\)"):
        path.write_text(json.dumps({**reference, "hop_size": 300}))
        hifigan_train.load_config(str(path), create_hparams())
    with pytest.raises(ValueError, match="unknown keys"):
        path.write_text(json.dumps({**reference, "segment_length": 300}))
        hifigan_train.load_config(str(path), create_hparams())


def test_small_generator_overfits_one_segment(hifigan_run, tmp_path, repo_root):
    """One 4000-sample excerpt, shorter than the 4096-sample segment, so every step sees the same segment."""
    excerpt = tmp_path / "excerpt.wav"
    recording = load_wav(repo_root / "demo_corpus" / "wavs" / "DEMO-0050.flac", 22050)
    soundfile.write(excerpt, recording[8000:12000].numpy(), 22050)
    (tmp_path / "one.txt").write_text(f"{excerpt}|Quick.\n")
    hifigan_run.hparams = dataclasses.replace(hifigan_run.hparams, training_files=str(tmp_path / "one.txt"),
                                              data_root="")
    _train(hifigan_run, tmp_path, batch_size=1, segment_size=4096, max_iterations=40, learning_rate=2e-3,
           iters_per_validation=1000, iters_per_checkpoint=1000)
    errors = _logged(tmp_path / "logs", "training/mel_spec_error")
    assert len(errors) == 40
    assert np.mean(errors[-5:]) < 0.7 * np.mean(errors[:5]), errors  # measured: 0.75 against 2.29


def test_resume_reproduces_the_uninterrupted_run(hifigan_run, tmp_path):
    """Stopped at iteration 4 (mid-epoch: 3 batches per epoch) and resumed to 8: the same losses step for step
    and the same weights, optimizer and scheduler states (the decay steps at iterations 3 and 6)."""
    assert _train(hifigan_run, tmp_path / "a", max_iterations=8, iters_per_validation=100) == 8
    _train(hifigan_run, tmp_path / "b", max_iterations=4, iters_per_validation=100)
    assert _train(hifigan_run, tmp_path / "c", str(tmp_path / "b" / "out" / "hifigan_4"), max_iterations=8,
                  iters_per_validation=100) == 8
    for tag in ("training/disc_loss_total", "training/gen_loss_total", "training/mel_spec_error"):
        uninterrupted, resumed = _logged(tmp_path / "a" / "logs", tag), _logged(tmp_path / "c" / "logs", tag)
        assert len(uninterrupted) == 8 and resumed == uninterrupted[4:], tag
        assert len(set(uninterrupted)) == 8
    straight, resumed = (torch.load(tmp_path / run / "out" / "hifigan_8", weights_only=True) for run in "ac")
    for key in ("generator", "mpd", "msd"):
        assert all(torch.equal(straight[key][name], resumed[key][name]) for name in straight[key]), key
    for key in ("optim_g", "optim_d"):
        for index, state in straight[key]["state"].items():
            other = resumed[key]["state"][index]
            assert all(torch.equal(value, other[name]) for name, value in state.items())
    assert straight["scheduler_g"] == resumed["scheduler_g"] and straight["scheduler_g"]["last_epoch"] == 2


def test_sigterm_saves_a_checkpoint_and_exits_cleanly(hifigan_run, tmp_path, repo_root):
    config = json.loads(hifigan_run.config_file.read_text())
    config.update(max_iterations=0, iters_per_checkpoint=1000, iters_per_validation=1000)
    hifigan_run.config_file.write_text(json.dumps(config))
    out = tmp_path / "out"
    path = _sigterm_after_two_iterations(
        ["-m", "waveglow_vocoder.hifigan_train", "-o", str(out), "-l", str(tmp_path / "logs"), "--config",
         str(hifigan_run.config_file), "--device=cpu", f"--hparams={hifigan_run.hparams_string}"],
        out, "hifigan", repo_root)
    assert HiFiGANConfig.from_dict(torch.load(path, weights_only=True)["config"]) == hifigan_run.config


def _nan_on(calls: set[int], function):
    """`function` whose result is NaN on the chosen calls (1-based)."""
    count = 0

    def wrapped(*args):
        nonlocal count
        count += 1
        return function(*args) * (float("nan") if count in calls else 1.0)

    return wrapped


def test_a_nan_step_is_skipped_and_counted(hifigan_run, tmp_path, monkeypatch):
    monkeypatch.setattr(hifigan_train, "generator_loss", _nan_on({3}, generator_loss))
    assert _train(hifigan_run, tmp_path, max_iterations=5) == 5
    checkpoint = torch.load(tmp_path / "out" / "hifigan_5", weights_only=True)
    assert checkpoint["skipped_steps"] == 1
    assert all(torch.isfinite(p).all() for p in checkpoint["generator"].values())


def test_too_many_nan_steps_in_a_row_stop_with_the_last_good_weights(hifigan_run, tmp_path, monkeypatch):
    monkeypatch.setattr(hifigan_train, "discriminator_loss", _nan_on(set(range(2, 100)), discriminator_loss))
    monkeypatch.setattr(hifigan_train, "generator_loss", _nan_on(set(range(2, 100)), generator_loss))
    hifigan_run.hparams = dataclasses.replace(hifigan_run.hparams, max_nonfinite_steps=3)
    with pytest.raises(TrainingDiverged, match="3 steps in a row had non-finite losses"):
        _train(hifigan_run, tmp_path, max_iterations=20, iters_per_checkpoint=1, checkpoints_to_keep=10,
               iters_per_validation=100)
    out = tmp_path / "out"
    assert sorted(int(p.name.split("_")[1]) for p in out.glob("hifigan_*")) == [1, 2, 3, 4]
    first, last = (torch.load(out / f"hifigan_{i}", weights_only=True) for i in (1, 4))
    for key in ("generator", "mpd"):  # no NaN step touched the weights (MSD's spectral norm vectors move)
        assert all(torch.equal(first[key][name], last[key][name]) for name in first[key]), key


def _reference_generator_file(path, config: HiFiGANConfig) -> dict:
    """A reference g_ file: {'generator': state dict} with the old weight-norm names weight_g / weight_v."""
    state_dict = {name.replace("parametrizations.weight.original0", "weight_g")
                  .replace("parametrizations.weight.original1", "weight_v"): value
                  for name, value in Generator(config).state_dict().items()}
    torch.save({"generator": state_dict}, path)
    return state_dict


def test_warm_start_from_reference_generator_and_discriminator_files(hifigan_run, tmp_path):
    """Learning rate 0: after one step the weights are still the files' (fresh optimizers, step 1)."""
    generator_state = _reference_generator_file(tmp_path / "g_00000001", hifigan_run.config)
    assert "conv_pre.weight_g" in generator_state
    old = _old_layout(Discriminators(divisor=32))
    torch.save({"mpd": old.mpd.state_dict(), "msd": old.msd.state_dict(), "steps": 1, "epoch": 0},
               tmp_path / "do_00000001")
    _train(hifigan_run, tmp_path, warm_start=str(tmp_path / "g_00000001"),
           warm_start_discriminators=str(tmp_path / "do_00000001"), max_iterations=1, learning_rate=0.0)
    checkpoint = torch.load(tmp_path / "out" / "hifigan_1", weights_only=True)
    assert checkpoint["iteration"] == 1
    assert HiFiGANConfig.from_dict(checkpoint["config"]) == hifigan_run.config
    assert {float(s["step"]) for s in checkpoint["optim_g"]["state"].values()} == {1.0}
    assert torch.equal(checkpoint["generator"]["conv_pre.parametrizations.weight.original0"],
                       generator_state["conv_pre.weight_g"])
    assert torch.equal(checkpoint["msd"]["discriminators.0.convs.2.parametrizations.weight.original"],
                       old.msd.state_dict()["discriminators.0.convs.2.weight_orig"])
    assert torch.equal(checkpoint["mpd"]["discriminators.3.conv_post.parametrizations.weight.original1"],
                       old.mpd.state_dict()["discriminators.3.conv_post.weight_v"])


def test_warm_start_without_discriminators_keeps_them_fresh_and_a_misfit_is_a_clear_error(hifigan_run,
                                                                                          tmp_path):
    _reference_generator_file(tmp_path / "g_v2", PRESETS["v2"])
    with pytest.raises(ValueError, match="g_v2 does not fit this model"):
        _train(hifigan_run, tmp_path / "a", warm_start=str(tmp_path / "g_v2"), max_iterations=1)
    _reference_generator_file(tmp_path / "g_tiny", hifigan_run.config)
    with pytest.raises(ValueError, match="g_tiny: has no mpd and msd"):
        _train(hifigan_run, tmp_path / "a", warm_start=str(tmp_path / "g_tiny"),
               warm_start_discriminators=str(tmp_path / "g_tiny"), max_iterations=1)
    _train(hifigan_run, tmp_path / "b", warm_start=str(tmp_path / "g_tiny"), max_iterations=1,
           learning_rate=0.0)
    checkpoint = torch.load(tmp_path / "b" / "out" / "hifigan_1", weights_only=True)
    torch.manual_seed(hifigan_run.hparams.seed)  # as the trainer builds them: the generator, then the rest
    Generator(hifigan_run.config)
    fresh = Discriminators(divisor=32).mpd.state_dict()
    assert all(torch.equal(checkpoint["mpd"][name], value) for name, value in fresh.items())


def test_warm_start_from_our_checkpoint_takes_its_generator_config_and_discriminator_width(hifigan_run,
                                                                                           tmp_path):
    _train(hifigan_run, tmp_path / "a", max_iterations=1)
    first = tmp_path / "a" / "out" / "hifigan_1"
    # V1's config and the reference's discriminator width asked for: the file's win
    hifigan_run.config, hifigan_run.train_config = PRESETS["v1"], hifigan_train.TrainConfig(
        batch_size=2, segment_size=2048, iters_per_validation=100)
    _train(hifigan_run, tmp_path / "b", warm_start=str(first), warm_start_discriminators=str(first),
           max_iterations=1, learning_rate=0.0)
    before = torch.load(first, weights_only=True)
    after = torch.load(tmp_path / "b" / "out" / "hifigan_1", weights_only=True)
    assert after["config"] == before["config"] and after["train_config"]["discriminator_divisor"] == 32
    assert all(torch.equal(before["mpd"][name], value) for name, value in after["mpd"].items())
    assert {float(s["step"]) for s in after["optim_d"]["state"].values()} == {1.0}  # a fresh optimizer
