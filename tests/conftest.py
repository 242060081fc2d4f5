"""Shared fixtures: tiny hparams that build and run in milliseconds, a tiny WaveGlow run, and seeding."""

import dataclasses
import json
import random
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import hparams as hparams_module  # noqa: E402

# The tests' models are tiny: one thread is faster for them, and on a busy 2-core machine a second
# OpenMP thread spin-waiting on the other core slows every call down many times over.
torch.set_num_threads(1)


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def seed():
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.fixture
def tiny_hparams():
    """A model of a few thousand parameters over the real 148 symbols and 80 mel channels."""
    return hparams_module.create_hparams(
        "symbols_embedding_dim=16,encoder_embedding_dim=16,encoder_kernel_size=3,"
        "prenet_dim=16,attention_rnn_dim=32,decoder_rnn_dim=32,attention_dim=8,"
        "attention_location_n_filters=4,attention_location_kernel_size=5,"
        "postnet_embedding_dim=16,postnet_n_convolutions=2,postnet_kernel_size=3,"
        "batch_size=4,max_decoder_steps=50,mel_cache_dir="
    )


@pytest.fixture
def repo_root():
    return ROOT


@pytest.fixture
def filelists(tmp_path, repo_root):
    """Tiny train/val filelists over the bundled demo corpus (paths relative to the repo root)."""
    lines = (repo_root / "filelists" / "demo_audio_text_train_filelist.txt").read_text().splitlines()
    short = sorted(lines, key=len)[:8]  # short texts: short utterances, fast steps
    train_list, val_list = tmp_path / "train.txt", tmp_path / "val.txt"
    train_list.write_text("\n".join(short[:6]) + "\n")
    val_list.write_text("\n".join(short[6:]) + "\n")
    return train_list, val_list


@pytest.fixture
def run_hparams(tiny_hparams, filelists, repo_root, tmp_path):
    """tiny_hparams training on 6 demo utterances (batch 2, r = 2, 3 iterations, validation every 2)."""
    train_list, val_list = filelists
    return dataclasses.replace(tiny_hparams, training_files=str(train_list), validation_files=str(val_list),
                               data_root=str(repo_root), batch_size=2, iters_per_checkpoint=2,
                               max_iterations=3, num_workers=0, n_frames_per_step=2,
                               mel_cache_dir=str(tmp_path / "mels"))


@pytest.fixture
def waveglow_run(tmp_path, repo_root):
    """A tiny WaveGlow on 6 demo utterances, as the API and the command line take it: hparams, WaveGlowConfig,
    TrainConfig (batch 2 of 4096-sample segments: 3 iterations per epoch; 3 iterations, checkpoints every 2),
    and the same as a --config file and an --hparams string."""
    from waveglow_vocoder.train import load_config

    lines = (repo_root / "filelists" / "demo_audio_text_train_filelist.txt").read_text().splitlines()[:6]
    filelist, config_file = tmp_path / "wg_train.txt", tmp_path / "waveglow.json"
    filelist.write_text("\n".join(lines) + "\n")
    config_file.write_text(json.dumps({"n_flows": 4, "n_group": 8, "n_early_every": 2, "n_early_size": 2,
                                       "n_layers": 2, "n_channels": 16, "kernel_size": 3,
                                       "segment_length": 4096, "batch_size": 2, "max_iterations": 3,
                                       "iters_per_checkpoint": 2}))
    hparams_string = f"training_files={filelist},data_root={repo_root},num_workers=0"
    config, train_config = load_config(str(config_file))
    return types.SimpleNamespace(hparams=hparams_module.create_hparams(hparams_string), config=config,
                                 train_config=train_config, config_file=config_file,
                                 hparams_string=hparams_string)


@pytest.fixture
def hifigan_run(tmp_path, repo_root):
    """A tiny HiFi-GAN generator (32 channels, upsampling 8 x 8 x 4, one residual block per stage) and
    discriminators narrowed 32 times, on 6 demo utterances (batch 2 of 2048-sample segments: 3 iterations
    per epoch) validated on 2 more; 3 iterations, a validation and a checkpoint every 2; as the API and the
    command line take it: hparams, HiFiGANConfig, TrainConfig, and the same as a --config file and an
    --hparams string."""
    from waveglow_vocoder.hifigan import HiFiGANConfig
    from waveglow_vocoder.hifigan_train import TrainConfig

    lines = sorted((repo_root / "filelists" / "demo_audio_text_train_filelist.txt").read_text().splitlines(),
                   key=len)
    train_list, val_list, config_file = tmp_path / "train.txt", tmp_path / "val.txt", tmp_path / "tiny.json"
    train_list.write_text("\n".join(lines[:6]) + "\n")
    val_list.write_text("\n".join(lines[6:8]) + "\n")
    config = HiFiGANConfig(upsample_rates=(8, 8, 4), upsample_kernel_sizes=(16, 16, 8),
                           upsample_initial_channel=32, resblock_kernel_sizes=(3,),
                           resblock_dilation_sizes=((1, 3, 5),))
    train_config = TrainConfig(batch_size=2, segment_size=2048, max_iterations=3, iters_per_validation=2,
                               iters_per_checkpoint=2, discriminator_divisor=32)
    config_file.write_text(json.dumps({**config.to_dict(), **dataclasses.asdict(train_config)}))
    hparams_string = (f"training_files={train_list},validation_files={val_list},data_root={repo_root},"
                      f"num_workers=0,mel_cache_dir={tmp_path / 'mels'}")
    return types.SimpleNamespace(hparams=hparams_module.create_hparams(hparams_string), config=config,
                                 train_config=train_config, config_file=config_file,
                                 hparams_string=hparams_string)
