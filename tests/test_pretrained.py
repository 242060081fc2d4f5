"""The shipped base model (pretrained/), release files (checkpoint.export_model) and fine-tuning's warm
start: what a user who fine-tunes their own voice relies on."""

import dataclasses
import hashlib
import os
import re
import subprocess
import sys

import pytest
import torch

import train
from checkpoint import export_model, load_tacotron2
from hparams import create_hparams
from inference import decode, text_to_ids
from model import Tacotron2

PRETRAINED = "pretrained"


def _training_checkpoint(hparams, path):
    model = Tacotron2(hparams)
    optimizer, scaler = torch.optim.Adam(model.parameters()), torch.amp.GradScaler("cpu", enabled=False)
    optimizer.zero_grad()
    model(*[t for t in _batch(hparams)])[0].sum().backward()  # an optimizer with state, as after training
    optimizer.step()
    train.save_checkpoint(model, optimizer, scaler, hparams, 1e-3, 7, path, best_val_loss=1.0)
    return model


def _batch(hparams):
    text = torch.randint(1, hparams.n_symbols, (2, 9))
    mels = torch.randn(2, hparams.n_mel_channels, 4 * hparams.n_frames_per_step)
    return text, torch.tensor([9, 7]), mels, torch.tensor([mels.size(2), mels.size(2) - 1])


def test_export_drops_the_optimizer_and_keeps_weights_and_hparams(tiny_hparams, tmp_path):
    hparams = dataclasses.replace(tiny_hparams, mel_normalization="per_channel", mel_mean=[-5.0] * 80,
                                  mel_std=[2.0] * 80, data_root=str(tmp_path / "corpus"),
                                  mel_cache_dir=str(tmp_path / "cache"))
    source = _training_checkpoint(hparams, tmp_path / "checkpoint_7")
    digest = export_model(tmp_path / "checkpoint_7", tmp_path / "release.pt", note="made by a test")

    assert digest == hashlib.sha256((tmp_path / "release.pt").read_bytes()).hexdigest()
    assert (tmp_path / "release.pt").stat().st_size < 0.6 * (tmp_path / "checkpoint_7").stat().st_size
    release = torch.load(tmp_path / "release.pt", weights_only=True)
    assert set(release) == {"state_dict", "hparams", "iteration", "note"}
    assert release["iteration"] == 7 and release["note"] == "made by a test"
    assert release["hparams"]["mel_mean"] == [-5.0] * 80
    # the training machine's folders are not part of the model
    assert release["hparams"]["data_root"] == "" and release["hparams"]["mel_cache_dir"] == ".mel_cache"
    model, loaded = load_tacotron2(tmp_path / "release.pt")
    assert loaded.mel_std == [2.0] * 80
    for name, value in source.state_dict().items():
        assert torch.equal(model.state_dict()[name], value), name


def test_export_refuses_a_file_without_hparams(tiny_hparams, tmp_path):
    torch.save({"state_dict": Tacotron2(tiny_hparams).state_dict()}, tmp_path / "bare.pt")
    with pytest.raises(ValueError, match="bare.pt: has no hparams"):
        export_model(tmp_path / "bare.pt", tmp_path / "release.pt")
    assert not (tmp_path / "release.pt").exists()


def test_warm_start_with_the_finetune_preset_keeps_every_layer(tiny_hparams, tmp_path):
    sizes = {k: getattr(tiny_hparams, k) for k in ("symbols_embedding_dim", "encoder_embedding_dim",
             "encoder_kernel_size", "prenet_dim", "attention_rnn_dim", "decoder_rnn_dim", "attention_dim",
             "attention_location_n_filters", "postnet_embedding_dim", "postnet_n_convolutions",
             "n_frames_per_step")}
    finetune = dataclasses.replace(create_hparams(preset="finetune"), **sizes)
    assert (finetune.ignore_layers == []
            and finetune.learning_rate < create_hparams(preset="demo").learning_rate)
    source = _training_checkpoint(finetune, tmp_path / "base")
    torch.manual_seed(5)
    target = Tacotron2(finetune)
    train.warm_start_model(str(tmp_path / "base"), target, finetune.ignore_layers)
    for name, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[name], value), name


def test_warm_start_from_another_symbol_set_keeps_the_rest(tiny_hparams, tmp_path, capsys):
    other = Tacotron2(dataclasses.replace(tiny_hparams, n_symbols=tiny_hparams.n_symbols + 12))
    torch.save({"state_dict": other.state_dict()}, tmp_path / "other.pt")
    torch.manual_seed(3)
    target = Tacotron2(tiny_hparams)
    fresh = target.embedding.weight.detach().clone()
    train.warm_start_model(str(tmp_path / "other.pt"), target, [])
    assert torch.equal(target.embedding.weight, fresh)
    assert torch.equal(target.decoder.linear_projection.linear_layer.weight,
                       other.decoder.linear_projection.linear_layer.weight)
    assert "embeds 160 symbols, this model 148" in capsys.readouterr().out


def test_warm_start_names_layers_of_other_sizes(tiny_hparams, tmp_path):
    torch.save({"state_dict": Tacotron2(dataclasses.replace(tiny_hparams, decoder_rnn_dim=48)).state_dict()},
               tmp_path / "wider.pt")
    with pytest.raises(ValueError, match=r"does not fit this model[\s\S]*decoder.decoder_rnn"):
        train.warm_start_model(str(tmp_path / "wider.pt"), Tacotron2(tiny_hparams), [])


def _shipped(repo_root):
    files = sorted((repo_root / PRETRAINED).glob("*.pt"))
    if not files:
        pytest.skip("no model shipped in pretrained/")
    return files


def test_shipped_models_match_their_checksums(repo_root):
    shipped = _shipped(repo_root)
    sums = (repo_root / PRETRAINED / "SHA256SUMS").read_text().splitlines()
    listed = dict(reversed(re.fullmatch(r"([0-9a-f]{64})  (\S+)", line).groups()) for line in sums if line)
    for path in shipped:
        assert path.stat().st_size < 20e6, f"{path.name} is over 20 MB"
        assert listed[path.name] == hashlib.sha256(path.read_bytes()).hexdigest(), path.name


def test_shipped_models_load_weights_only_and_speak(repo_root):
    for path in _shipped(repo_root):
        release = torch.load(path, map_location="cpu", weights_only=True)
        assert "optimizer" not in release and release["hparams"]["mel_normalization"] == "per_channel"
        assert len(release["hparams"]["mel_mean"]) == 80
        model, hparams = load_tacotron2(path)
        texts = ["The train to the harbor leaves at nine.", "Did Anna find the key?"]
        torch.manual_seed(0)
        results = decode(model, [text_to_ids(t, hparams) for t in texts])
        for text, result in zip(texts, results):
            # a trained model stops on its own, at a plausible length for the text (about 6-12 frames
            # of speech per symbol at 22050 Hz and hop 256), with a focused alignment
            assert result.stopped, text
            symbols = len(text_to_ids(text, hparams))
            assert 2 * symbols < result.mel.size(1) < 20 * symbols, (text, result.mel.size(1))
            assert result.alignment.max(dim=1).values.mean() > 0.4


def test_shipped_model_fine_tunes_from_the_command_line(repo_root, filelists, tmp_path):
    """The README's fine-tuning command, a few iterations on 6 demo utterances."""
    path = _shipped(repo_root)[0]
    train_list, val_list = filelists
    run = subprocess.run(
        [sys.executable, "train.py", "-o", str(tmp_path / "out"), "-l", str(tmp_path / "logs"),
         "-c", str(path), "--warm_start", "--hparams",
         f"preset=finetune,training_files={train_list},validation_files={val_list},"
         f"max_iterations=2,iters_per_checkpoint=2,batch_size=2,val_wer_utterances=0,"
         f"mel_cache_dir={tmp_path / 'mels'}"],
        cwd=repo_root, capture_output=True, text=True, timeout=600,
        env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert run.returncode == 0, run.stderr[-2000:]
    assert "keeping fresh: nothing" in run.stdout
    base = torch.load(path, weights_only=True)
    tuned = torch.load(tmp_path / "out" / "checkpoint_2", weights_only=True)
    assert tuned["hparams"]["mel_mean"] != base["hparams"]["mel_mean"]  # recomputed on the new corpus
    assert tuned["iteration"] == 2
