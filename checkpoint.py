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


def export_model(source: str | Path, destination: str | Path, note: str = "") -> str:
    """A training checkpoint -> a release file: float32 weights, hparams (mel statistics included), the
    iteration and a note, without the optimizer's state (two thirds of a training checkpoint) or the
    RNG and loader state. It loads with load_tacotron2 and warm-starts train.py like the original.
    Written atomically; returns its SHA-256."""
    import hashlib

    from files import atomic_write

    checkpoint = read_checkpoint(source)
    if "hparams" not in checkpoint:
        raise ValueError(f"{source}: has no hparams; export a checkpoint written by this repo's train.py")
    model, hparams = load_tacotron2(source)  # proves the weights fit their hparams before shipping them
    release = {"state_dict": model.state_dict(), "hparams": dataclasses.asdict(hparams),
               "iteration": int(checkpoint.get("iteration", 0)), "note": note}
    atomic_write(Path(destination), lambda handle: torch.save(release, handle))
    return hashlib.sha256(Path(destination).read_bytes()).hexdigest()


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Tacotron 2 checkpoints: export a training checkpoint "
                                                 "as a release file (weights and hparams, no optimizer).")
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="write SOURCE's weights and hparams to DESTINATION")
    export.add_argument("source")
    export.add_argument("destination")
    export.add_argument("--note", default="", help="stored in the file, e.g. how it was trained")
    args = parser.parse_args()
    digest = export_model(args.source, args.destination, args.note)
    size = Path(args.destination).stat().st_size
    print(f"{args.destination}: {size / 1e6:.1f} MB, sha256 {digest}")
