"""Tacotron 2 checkpoint reading shared by train.py, inference.py, evaluate.py and the notebook: ours
({'state_dict', 'hparams', ...}) and the reference's tacotron2_statedict.pt ({'state_dict', ...} without
hparams), always with torch.load(weights_only=True), which runs no code from the file.
"""

import dataclasses
from pathlib import Path

import torch

from hparams import HParams, create_hparams, hparams_from_dict, parse_overrides
from model import Tacotron2


def state_dict_of(checkpoint: dict) -> dict:
    """The weights of a checkpoint: under 'state_dict' (ours and the reference's), or the dict itself.
    A 'module.' prefix (weights saved from a DistributedDataParallel wrapper) is removed."""
    state_dict = checkpoint["state_dict"] if "state_dict" in checkpoint else checkpoint
    if state_dict and all(key.startswith("module.") for key in state_dict):
        state_dict = {key.removeprefix("module."): value for key, value in state_dict.items()}
    return state_dict


def check_compatible(model: torch.nn.Module, state_dict: dict, path: str | Path, ignore: tuple = ()) -> None:
    """Raise one clear error listing every parameter whose name or shape differs from the model's."""
    own = model.state_dict()
    problems = [f"  {k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}"
                for k, v in state_dict.items() if k in own and k not in ignore and v.shape != own[k].shape]
    problems += [f"  {k}: missing from the checkpoint" for k in own if k not in state_dict and k not in ignore]
    problems += [f"  {k}: not a parameter of this model" for k in state_dict if k not in own]
    if problems:
        raise ValueError(f"{path} does not fit this model (were the hparams, e.g. sizes, n_symbols or "
                         f"n_frames_per_step, different?):\n" + "\n".join(problems[:20]))


def read_checkpoint(path: str | Path) -> dict:
    """torch.load(weights_only=True) with errors that name the file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint not found")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # a damaged file, or a pickle that names code (refused by weights_only)
        raise ValueError(f"{path}: cannot be read as a weights-only checkpoint ({type(error).__name__}: "
                         f"{str(error).splitlines()[0] if str(error) else ''})") from None
    if not isinstance(checkpoint, dict):
        raise ValueError(f"{path}: expected a dict of weights, found {type(checkpoint).__name__}")
    return checkpoint


def load_tacotron2(path: str | Path, hparams_string: str = "",
                   device: str | torch.device = "cpu") -> tuple[Tacotron2, HParams]:
    """A Tacotron2 in eval mode, float32, on `device`, and its hparams.

    Our checkpoints carry their hparams; `hparams_string` then overrides inference settings such as
    max_decoder_steps or gate_threshold. The reference's tacotron2_statedict.pt carries none: its
    hparams are the defaults (the LJ Speech configuration) with `hparams_string` on top, which is where
    non-default sizes go. The weights load with strict=True.
    """
    checkpoint = read_checkpoint(path)
    if "hparams" in checkpoint:
        overrides = parse_overrides(hparams_string)
        if "preset" in overrides:
            raise ValueError(f"{path} carries its own hparams: override single values, not preset=")
        hparams = dataclasses.replace(hparams_from_dict(checkpoint["hparams"]), **overrides)
    else:
        hparams = create_hparams(hparams_string)
    state_dict = {key: value.float() if value.is_floating_point() else value
                  for key, value in state_dict_of(checkpoint).items()}
    model = Tacotron2(hparams)
    check_compatible(model, state_dict, path)
    model.load_state_dict(state_dict, strict=True)
    return model.to(device).eval(), hparams
