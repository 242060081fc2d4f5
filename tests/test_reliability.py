"""Faults a long training run meets: a kill while saving, SIGTERM, exact resume, non-finite steps, and bad
folders or text at the command lines; and the same faults for WaveGlow's trainer, which shares train.py's
machinery (training.py, checkpoint.py)."""

import dataclasses
import json
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import pytest
import torch

import inference
import train
import waveglow_vocoder.train as waveglow_train
from loss_function import Tacotron2Loss
from model import Tacotron2
from test_train import ONE_THREAD, _hparams_string, _train
from training import TrainingDiverged
from waveglow_vocoder import GriffinLimVocoder, WaveGlowLoss, load_waveglow, save_waveglow


def test_sigkill_while_saving_leaves_every_checkpoint_loadable(tmp_path, repo_root):
    """A real kill -9 in the middle of a stream of saves of a ~20 MB checkpoint."""
    script = tmp_path / "saver.py"
    script.write_text(textwrap.dedent(f"""
        import sys, torch
        from pathlib import Path
        sys.path.insert(0, {str(repo_root)!r})
        import train
        from hparams import create_hparams
        from model import Tacotron2
        hparams = create_hparams("decoder_rnn_dim=512,attention_rnn_dim=512")
        model = Tacotron2(hparams)
        optimizer, scaler = torch.optim.Adam(model.parameters()), torch.amp.GradScaler("cpu", enabled=False)
        for iteration in range(1, 1000):
            train.save_checkpoint(model, optimizer, scaler, hparams, 1e-3, iteration,
                                  Path({str(tmp_path)!r}) / f"checkpoint_{{iteration}}")
            print("saved", iteration, flush=True)
    """))
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True,
                               env=ONE_THREAD)
    for line in process.stdout:
        if line.startswith("saved 2"):
            break
    time.sleep(0.15)  # somewhere inside a later save
    process.kill()
    process.wait(timeout=30)
    checkpoints = sorted(tmp_path.glob("checkpoint_*"))
    assert len(checkpoints) >= 2
    for path in checkpoints:  # every file under a checkpoint's name is complete
        assert (torch.load(path, map_location="cpu", weights_only=True)["iteration"]
                == int(path.name.split("_")[1]))
    # what the kill left is a hidden temporary file, never mistaken for a checkpoint and cleared at start
    train.prepare_output_directory(str(tmp_path))
    assert not list(tmp_path.glob(".checkpoint_*"))


def test_interrupted_save_keeps_the_previous_checkpoint(tiny_hparams, tmp_path, monkeypatch):
    model = Tacotron2(tiny_hparams)
    optimizer, scaler = torch.optim.Adam(model.parameters()), torch.amp.GradScaler("cpu", enabled=False)
    train.save_checkpoint(model, optimizer, scaler, tiny_hparams, 1e-3, 1, tmp_path / "checkpoint_1")

    def interrupted_save(obj, handle, *args, **kwargs):
        handle.write(b"PK\x03\x04 half a checkpoint")
        raise KeyboardInterrupt  # as a signal arriving mid-write

    monkeypatch.setattr(torch, "save", interrupted_save)
    with pytest.raises(KeyboardInterrupt):
        train.save_checkpoint(model, optimizer, scaler, tiny_hparams, 1e-3, 2, tmp_path / "checkpoint_2")
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint_1"]
    assert torch.load(tmp_path / "checkpoint_1", weights_only=True)["iteration"] == 1


def test_pruning_keeps_the_last_n_and_the_best(tiny_hparams, tmp_path):
    for iteration in range(1, 6):
        (tmp_path / f"checkpoint_{iteration}").write_bytes(b"")
    train.prune_checkpoints(tmp_path, keep=2, best_iteration=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint_2", "checkpoint_4", "checkpoint_5"]


def test_best_checkpoint_survives_training(run_hparams, tmp_path):
    hparams = dataclasses.replace(run_hparams, max_iterations=4, iters_per_checkpoint=1,
                                  checkpoints_to_keep=1)
    _train(hparams, tmp_path)
    kept = sorted((tmp_path / "out").glob("checkpoint_*"))
    best = torch.load(kept[0], weights_only=True)
    assert kept[-1].name == "checkpoint_4" and best["best_iteration"] == int(kept[0].name.split("_")[1])
    assert len(kept) == (1 if best["best_iteration"] == 4 else 2)


def test_sigterm_saves_a_checkpoint_and_exits_cleanly(run_hparams, tmp_path, repo_root):
    hparams = dataclasses.replace(run_hparams, max_iterations=0, iters_per_checkpoint=1000, epochs=1000)
    out = tmp_path / "out"
    _sigterm_after_two_iterations(["train.py", "-o", str(out), "-l", str(tmp_path / "logs"), "--device=cpu",
                                   f"--hparams={_hparams_string(hparams)}"], out, "checkpoint", repo_root)


def _sigterm_after_two_iterations(arguments: list[str], out, prefix: str, repo_root):
    """Run a trainer, SIGTERM it once it has printed iteration 2, and check the exit and the checkpoint
    <prefix>_<iteration> it leaves -> that checkpoint's path."""
    process = subprocess.Popen([sys.executable, *arguments], cwd=repo_root, env=ONE_THREAD,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in process.stdout:
        if line.startswith("it 2 |"):
            break
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr[-2000:]
    (path,) = out.glob(f"{prefix}_*")
    iteration = int(path.name.split("_")[1])
    assert iteration >= 2 and f"Stopped by SIGTERM at iteration {iteration}" in stdout
    assert f"-c {path}" in stdout
    assert torch.load(path, weights_only=True)["iteration"] == iteration
    return path


def test_resume_reproduces_the_uninterrupted_losses(run_hparams, tmp_path):
    """Stopped at iteration 2 (mid-epoch: 3 batches per epoch) and resumed, the run repeats the losses of an
    uninterrupted one: same batches in the same order, same dropout, same optimizer state."""
    hparams = dataclasses.replace(run_hparams, max_iterations=7, iters_per_checkpoint=2)
    uninterrupted = _train(hparams, tmp_path / "a")["losses"]
    _train(dataclasses.replace(hparams, max_iterations=2), tmp_path / "b")
    resumed = _train(hparams, tmp_path / "c", checkpoint_path=str(tmp_path / "b" / "out" / "checkpoint_2"))
    assert len(uninterrupted) == 7 and len(resumed["losses"]) == 5 and resumed["iteration"] == 7
    assert resumed["losses"] == pytest.approx(uninterrupted[2:], rel=1e-6, abs=0)
    # the losses differ from step to step, so matching them means something
    assert len(set(uninterrupted)) == 7


class _NonFiniteAt(Tacotron2Loss):
    """The training loss of the chosen training calls (1-based) becomes NaN."""

    calls, bad = 0, set()

    def forward(self, *args, **kwargs):
        loss, parts = super().forward(*args, **kwargs)
        if torch.is_grad_enabled():
            type(self).calls += 1
            if type(self).calls in self.bad:
                loss = loss * float("nan")
        return loss, parts


def test_a_nan_step_is_skipped_and_counted(run_hparams, tmp_path, monkeypatch):
    monkeypatch.setattr(_NonFiniteAt, "calls", 0)
    monkeypatch.setattr(_NonFiniteAt, "bad", {3})
    monkeypatch.setattr(train, "Tacotron2Loss", _NonFiniteAt)
    summary = _train(dataclasses.replace(run_hparams, max_iterations=5), tmp_path)
    assert summary["skipped_steps"] == 1 and summary["iteration"] == 5
    assert all(torch.isfinite(p).all() for p in
               torch.load(tmp_path / "out" / "checkpoint_5", weights_only=True)["state_dict"].values())


def test_too_many_nan_steps_in_a_row_stop_with_the_last_good_weights(run_hparams, tmp_path, monkeypatch):
    monkeypatch.setattr(_NonFiniteAt, "calls", 0)
    monkeypatch.setattr(_NonFiniteAt, "bad", set(range(2, 100)))
    monkeypatch.setattr(train, "Tacotron2Loss", _NonFiniteAt)
    hparams = dataclasses.replace(run_hparams, max_iterations=20, iters_per_checkpoint=1,
                                  max_nonfinite_steps=3, checkpoints_to_keep=10)
    with pytest.raises(train.TrainingDiverged, match="3 steps in a row had non-finite losses"):
        _train(hparams, tmp_path)
    out = tmp_path / "out"
    assert sorted(int(p.name.split("_")[1]) for p in out.glob("checkpoint_*")) == [1, 2, 3, 4]
    first, last = (torch.load(out / f"checkpoint_{i}", weights_only=True)["state_dict"] for i in (1, 4))
    assert all(torch.equal(first[k], last[k]) for k in first)  # no NaN step touched the weights


def test_train_output_directory_that_cannot_be_made_is_a_clear_error(run_hparams, tmp_path, repo_root):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    result = subprocess.run([sys.executable, "train.py", "-o", str(blocker / "out"),
                             "-l", str(tmp_path / "logs"), "--device=cpu",
                             f"--hparams={_hparams_string(run_hparams)}"],
                            cwd=repo_root, env=ONE_THREAD, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "cannot create output directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_hparam_at_the_command_line_is_a_clear_error(tmp_path, repo_root):
    result = subprocess.run([sys.executable, "train.py", "-o", str(tmp_path), "-l", str(tmp_path),
                             "--hparams=bach_size=2"],
                            cwd=repo_root, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "did you mean 'batch_size'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_very_long_text_is_split_and_every_piece_synthesized(tiny_hparams):
    hparams = dataclasses.replace(tiny_hparams, max_decoder_steps=3)
    model = Tacotron2(hparams).eval()
    text = " ".join(f"Sentence number {i} goes on for a while, as long texts do." for i in range(60))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (utterance,) = inference.synthesize(model, GriffinLimVocoder(hparams, n_iters=1), hparams, [text])
    assert len(text) > 3000 and len(utterance.pieces) >= len(text) // 200
    assert all(len(piece) <= 200 for piece in utterance.pieces)
    assert utterance.alignment.shape[1] >= len(text) * 0.9  # every piece's symbols are in the alignment


# ---- WaveGlow's trainer: the same faults ----

def _train_waveglow(run, tmp_path, checkpoint_path=None, **train_config) -> int:
    return waveglow_train.train(str(tmp_path / "out"), str(tmp_path / "logs"), checkpoint_path, run.hparams,
                                run.config, dataclasses.replace(run.train_config, **train_config), "cpu")


def _logged_losses(log_directory) -> list[float]:
    """The training.loss scalars a run wrote to TensorBoard, in iteration order."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(log_directory))
    events.Reload()
    return [event.value for event in sorted(events.Scalars("training.loss"), key=lambda event: event.step)]


def test_waveglow_sigterm_saves_a_checkpoint_and_exits_cleanly(waveglow_run, tmp_path, repo_root):
    config = json.loads(waveglow_run.config_file.read_text())
    config.update(max_iterations=0, iters_per_checkpoint=1000)
    waveglow_run.config_file.write_text(json.dumps(config))
    out = tmp_path / "out"
    path = _sigterm_after_two_iterations(
        ["-m", "waveglow_vocoder.train", "-o", str(out), "-l", str(tmp_path / "logs"), "--config",
         str(waveglow_run.config_file), "--device=cpu", f"--hparams={waveglow_run.hparams_string}"],
        out, "waveglow", repo_root)
    assert load_waveglow(path).config == waveglow_run.config


@pytest.mark.parametrize("num_workers", [0, 1])
def test_waveglow_resume_reproduces_the_uninterrupted_losses(waveglow_run, tmp_path, num_workers):
    """Stopped at iteration 2 (mid-epoch: 3 batches per epoch) and resumed: the same segments in the same
    order (also when loader workers cut them), the same optimizer state."""
    waveglow_run.hparams = dataclasses.replace(waveglow_run.hparams, num_workers=num_workers)
    assert _train_waveglow(waveglow_run, tmp_path / "a", max_iterations=7) == 7
    _train_waveglow(waveglow_run, tmp_path / "b", max_iterations=2)
    assert _train_waveglow(waveglow_run, tmp_path / "c", str(tmp_path / "b" / "out" / "waveglow_2"),
                           max_iterations=7) == 7
    uninterrupted, resumed = _logged_losses(tmp_path / "a" / "logs"), _logged_losses(tmp_path / "c" / "logs")
    assert len(uninterrupted) == 7 and resumed == uninterrupted[2:]
    assert len(set(uninterrupted)) == 7  # the losses differ from step to step: matching them means something


def test_waveglow_checkpoint_of_the_earlier_layout_resumes(waveglow_run, tmp_path, capsys):
    """A checkpoint as the trainer wrote it before it kept random states: weights, optimizer and iteration
    go on (with a note that the run will not repeat an uninterrupted one exactly)."""
    _train_waveglow(waveglow_run, tmp_path / "a", max_iterations=2)
    saved = torch.load(tmp_path / "a" / "out" / "waveglow_2", weights_only=True)
    earlier = {key: saved[key]
               for key in ("iteration", "optimizer", "scaler", "learning_rate", "train_config", "hparams")}
    save_waveglow(tmp_path / "earlier.pt", load_waveglow(tmp_path / "a" / "out" / "waveglow_2"), **earlier)
    assert _train_waveglow(waveglow_run, tmp_path / "b", str(tmp_path / "earlier.pt"), max_iterations=3) == 3
    assert "holds no random state" in capsys.readouterr().out
    checkpoint = torch.load(tmp_path / "b" / "out" / "waveglow_3", weights_only=True)
    assert {float(state["step"]) for state in checkpoint["optimizer"]["state"].values()} == {3.0}


class _NonFiniteWaveGlowLoss(WaveGlowLoss):
    """The loss of the chosen calls (1-based) becomes NaN."""

    calls, bad = 0, set()

    def forward(self, model_output):
        type(self).calls += 1
        loss = super().forward(model_output)
        return loss * float("nan") if type(self).calls in self.bad else loss


def test_waveglow_nan_step_is_skipped_and_counted(waveglow_run, tmp_path, monkeypatch):
    monkeypatch.setattr(_NonFiniteWaveGlowLoss, "calls", 0)
    monkeypatch.setattr(_NonFiniteWaveGlowLoss, "bad", {3})
    monkeypatch.setattr(waveglow_train, "WaveGlowLoss", _NonFiniteWaveGlowLoss)
    assert _train_waveglow(waveglow_run, tmp_path, max_iterations=5) == 5
    checkpoint = torch.load(tmp_path / "out" / "waveglow_5", weights_only=True)
    assert checkpoint["skipped_steps"] == 1
    assert all(torch.isfinite(p).all() for p in checkpoint["state_dict"].values())


def test_waveglow_too_many_nan_steps_in_a_row_stop_with_the_last_good_weights(waveglow_run, tmp_path,
                                                                              monkeypatch):
    monkeypatch.setattr(_NonFiniteWaveGlowLoss, "calls", 0)
    monkeypatch.setattr(_NonFiniteWaveGlowLoss, "bad", set(range(2, 100)))
    monkeypatch.setattr(waveglow_train, "WaveGlowLoss", _NonFiniteWaveGlowLoss)
    waveglow_run.hparams = dataclasses.replace(waveglow_run.hparams, max_nonfinite_steps=3)
    with pytest.raises(TrainingDiverged, match="3 steps in a row had non-finite losses"):
        _train_waveglow(waveglow_run, tmp_path, max_iterations=20, iters_per_checkpoint=1,
                        checkpoints_to_keep=10)
    out = tmp_path / "out"
    assert sorted(int(p.name.split("_")[1]) for p in out.glob("waveglow_*")) == [1, 2, 3, 4]
    first, last = (torch.load(out / f"waveglow_{i}", weights_only=True)["state_dict"] for i in (1, 4))
    assert all(torch.equal(first[k], last[k]) for k in first)  # no NaN step touched the weights
