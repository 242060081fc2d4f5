"""Shared fixtures: tiny hparams that build and run in milliseconds, and seeding."""

import random
import sys
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
