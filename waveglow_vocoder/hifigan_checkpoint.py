"""HiFi-GAN checkpoint files.

Ours (written by the trainer, read with weights_only=True):
    {"generator": state_dict, "config": HiFiGANConfig.to_dict(), **extra}
where extra holds, in training checkpoints, "mpd", "msd", "optim_g", "optim_d", "scheduler_g",
"scheduler_d", "iteration", "epoch", "hparams", "rng" and the like.

The reference's (jik876/hifi-gan): a generator file g_XXXXXXXX = {"generator": state_dict} with the old
weight-norm names (weight_g, weight_v) and a config.json beside it; a do_XXXXXXXX file with the
discriminators and optimizers {"mpd", "msd", "optim_g", "optim_d", "steps", "epoch"}.
"""

from pathlib import Path

import torch

from files import atomic_write

from .hifigan import Generator


def save_hifigan(path: str | Path, generator: Generator, **extra) -> None:
    """Write {'generator', 'config', **extra} atomically."""
    checkpoint = {"generator": generator.state_dict(), "config": generator.config.to_dict(), **extra}
    atomic_write(Path(path), lambda handle: torch.save(checkpoint, handle))
