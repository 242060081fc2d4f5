"""train.py: the command line, checkpoints, resume, warm start, --target_val_loss, schedules."""

import dataclasses
import os
import subprocess
import sys

import pytest
import torch

import train
from hparams import create_hparams
from model import Tacotron2

ONE_THREAD = {**os.environ, "OMP_NUM_THREADS": "1"}


def _train(hparams, tmp_path, **kwargs):
    return train.train(str(tmp_path / "out"), str(tmp_path / "logs"), kwargs.pop("checkpoint_path", None),
                       kwargs.pop("warm_start", False), 1, 0, "", hparams, device_name="cpu", **kwargs)


def _hparams_string(hparams) -> str:
    keys = ["symbols_embedding_dim", "encoder_embedding_dim", "encoder_kernel_size", "prenet_dim",
            "attention_rnn_dim", "decoder_rnn_dim", "attention_dim", "attention_location_n_filters",
            "attention_location_kernel_size", "postnet_embedding_dim", "postnet_n_convolutions",
            "postnet_kernel_size", "batch_size", "iters_per_checkpoint", "max_iterations", "num_workers",
            "n_frames_per_step", "training_files", "validation_files", "data_root", "mel_cache_dir"]
    return ",".join(f"{k}={getattr(hparams, k)}" for k in keys)


def test_command_line_writes_checkpoints_logs_and_alignment(run_hparams, tmp_path, repo_root):
    out, logs = tmp_path / "out", tmp_path / "logs"
    result = subprocess.run([sys.executable, "train.py", "-o", str(out), "-l", str(logs), "--device=cpu",
                             f"--hparams={_hparams_string(run_hparams)}"],
                            cwd=repo_root, env=ONE_THREAD, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "it 3 | loss" in result.stdout and "frames/s" in result.stdout
    assert "Validation loss 2:" in result.stdout and "focus rate" in result.stdout
    assert sorted(p.name for p in out.glob("checkpoint_*")) == ["checkpoint_2", "checkpoint_3"]
    assert (out / "alignment.png").stat().st_size > 1000
    assert list(logs.glob("events.out.tfevents.*"))
    checkpoint = torch.load(out / "checkpoint_3", map_location="cpu", weights_only=True)
    assert checkpoint["iteration"] == 3
    assert checkpoint["hparams"]["n_frames_per_step"] == 2
    assert {"state_dict", "optimizer", "learning_rate", "scaler"} <= checkpoint.keys()


def test_resume_continues_iteration_and_optimizer_state(run_hparams, tmp_path):
    _train(run_hparams, tmp_path)
    resumed = dataclasses.replace(run_hparams, max_iterations=5)
    summary = _train(resumed, tmp_path / "second", checkpoint_path=str(tmp_path / "out" / "checkpoint_3"))
    assert summary["iteration"] == 5
    checkpoint = torch.load(tmp_path / "second" / "out" / "checkpoint_5", weights_only=True)
    steps = {float(state["step"]) for state in checkpoint["optimizer"]["state"].values()}
    assert steps == {5.0}  # Adam's step count went on from the checkpoint's 3


def test_target_val_loss_stops_at_first_validation(run_hparams, tmp_path, capsys):
    summary = _train(dataclasses.replace(run_hparams, max_iterations=0, epochs=100), tmp_path,
                     target_val_loss=1e9)
    assert summary["target_reached"] and summary["iteration"] == run_hparams.iters_per_checkpoint
    assert "Reached target validation loss" in capsys.readouterr().out
    assert (tmp_path / "out" / f"checkpoint_{run_hparams.iters_per_checkpoint}").exists()


def test_training_loss_falls(run_hparams, tmp_path):
    hparams = dataclasses.replace(run_hparams, max_iterations=40, iters_per_checkpoint=20, learning_rate=3e-3,
                                  training_files=run_hparams.validation_files)
    first = _train(dataclasses.replace(hparams, max_iterations=1, iters_per_checkpoint=1), tmp_path / "a")
    last = _train(hparams, tmp_path / "b")
    assert last["validation"]["loss"] < 0.5 * first["validation"]["loss"]


def test_warm_start_keeps_ignored_layers_fresh(tiny_hparams, tmp_path):
    source = Tacotron2(tiny_hparams)
    torch.save({"state_dict": source.state_dict()}, tmp_path / "published.pt")
    torch.manual_seed(1)
    target = Tacotron2(tiny_hparams)
    fresh_embedding = target.embedding.weight.detach().clone()
    train.warm_start_model(str(tmp_path / "published.pt"), target, ["embedding.weight"])
    assert torch.equal(target.embedding.weight, fresh_embedding)
    assert torch.equal(target.postnet.convolutions[0][0].conv.weight,
                       source.postnet.convolutions[0][0].conv.weight)


def test_checkpoint_of_other_sizes_names_the_mismatching_parameters(tiny_hparams, tmp_path):
    other = Tacotron2(dataclasses.replace(tiny_hparams, n_frames_per_step=2, prenet_dim=24))
    torch.save({"state_dict": other.state_dict()}, tmp_path / "other.pt")
    model = Tacotron2(tiny_hparams)
    with pytest.raises(ValueError,
                       match=r"does not fit this model[\s\S]*decoder.prenet.layers.0.linear_layer.weight"):
        train.load_checkpoint(str(tmp_path / "other.pt"), model, torch.optim.Adam(model.parameters()),
                              torch.amp.GradScaler("cpu", enabled=False))


def test_save_checkpoint_is_atomic_and_pruned(tiny_hparams, tmp_path):
    model = Tacotron2(tiny_hparams)
    optimizer, scaler = torch.optim.Adam(model.parameters()), torch.amp.GradScaler("cpu", enabled=False)
    for iteration in range(1, 5):
        train.save_checkpoint(model, optimizer, scaler, tiny_hparams, 1e-3, iteration,
                              tmp_path / f"checkpoint_{iteration}")
    train.prune_checkpoints(tmp_path, keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint_3", "checkpoint_4"]


def test_exponential_schedule_decays_to_the_floor():
    hparams = create_hparams("lr_schedule=exponential,lr_decay_start=100,lr_decay_rate=0.5,lr_decay_steps=10")
    assert train.learning_rate_at(0, hparams) == train.learning_rate_at(100, hparams) == 1e-3
    assert train.learning_rate_at(110, hparams) == pytest.approx(5e-4)
    assert train.learning_rate_at(10_000, hparams) == hparams.min_learning_rate
    assert train.learning_rate_at(10_000, create_hparams()) == 1e-3  # constant, as the reference


def test_bad_filelist_fails_before_training(tmp_path, repo_root):
    bad = tmp_path / "bad.txt"
    bad.write_text("demo_corpus/wavs/does-not-exist.flac|Hello there.\n")
    result = subprocess.run([sys.executable, "train.py", "-o", str(tmp_path / "o"), "-l", str(tmp_path / "l"),
                             f"--hparams=training_files={bad},validation_files={bad}"],
                            cwd=repo_root, env=ONE_THREAD, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "does-not-exist.flac" in result.stderr and "bad.txt" in result.stderr
    assert not (tmp_path / "o").exists()
