"""Checkpoints.

- Tacotron 2's, read by train.py, inference.py, evaluate.py and the notebook: ours ({'state_dict',
  'hparams', ...}) and the reference's tacotron2_statedict.pt ({'state_dict', ...} without hparams),
  always with torch.load(weights_only=True), which runs no code from the file; train.py's resume, warm
  start and save ({'iteration', 'state_dict', 'optimizer', 'learning_rate', 'hparams', 'scaler', 'rng',
  'skipped_steps', 'best_val_loss', 'best_iteration'}); the release file (`python3 checkpoint.py export`).
- What every trainer (train.py, waveglow_vocoder/train.py) does with its own layout: clearing unfinished
  saves, keeping the last N and the best, restoring optimizer/scaler/scheduler states and random state.
No torch.distributed here: this module is on the inference path (training.py has the process group).
"""

import dataclasses
import hashlib
import random
from pathlib import Path

import numpy as np
import torch

from files import atomic_write, make_output_directory
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
    problems += [f"  {k}: missing from the checkpoint"
                 for k in own if k not in state_dict and k not in ignore]
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


def load_checkpoint(path: str, model, optimizer, scaler) -> dict:
    """Restore model, optimizer and scaler state; returns the checkpoint (iteration, rng, best_* ...)."""
    checkpoint = read_checkpoint(path)
    check_compatible(model, state_dict_of(checkpoint), path)
    model.load_state_dict(state_dict_of(checkpoint))
    load_states(checkpoint, {"optimizer": optimizer, "scaler": scaler})
    print(f"Loaded checkpoint '{path}' from iteration {checkpoint.get('iteration', 0)}")
    return checkpoint


def warm_start_model(path: str, model, ignore_layers: list[str]):
    """Load weights from a checkpoint, keeping the model's own values for `ignore_layers`, and for the
    symbol embedding when the checkpoint's symbol set has another size (a model trained with
    another text front end): every other layer must fit, or the error lists what does not."""
    state_dict = state_dict_of(read_checkpoint(path))
    fresh = list(ignore_layers)
    own_embedding = model.state_dict().get("embedding.weight")
    theirs = state_dict.get("embedding.weight")
    if "embedding.weight" not in fresh and theirs is not None and own_embedding is not None \
            and theirs.shape != own_embedding.shape:
        print(f"Warm start: the checkpoint embeds {theirs.shape[0]} symbols, this model "
              f"{own_embedding.shape[0]}: the symbol embedding starts fresh")
        fresh.append("embedding.weight")
    state_dict = {k: v for k, v in state_dict.items() if k not in fresh}
    check_compatible(model, state_dict, path, ignore=tuple(fresh))
    model.load_state_dict({**model.state_dict(), **state_dict})
    print(f"Warm started from '{path}', keeping fresh: {', '.join(fresh) or 'nothing'}")
    return model


def with_mel_statistics(hparams: HParams, checkpoint_path: str | None, warm_start: bool) -> HParams:
    """For mel_normalization=per_channel: the statistics the run continues with when it resumes (the
    checkpoint's), else those of this run's training_files (a new run, or a warm start on a new corpus,
    whose model then adapts to the new corpus' scale). Stored in the hparams, so every checkpoint has them."""
    if hparams.mel_normalization != "per_channel" or hparams.mel_mean:
        return hparams
    if checkpoint_path and not warm_start:
        saved = read_checkpoint(checkpoint_path).get("hparams", {})
        if saved.get("mel_mean"):
            return dataclasses.replace(hparams, mel_mean=saved["mel_mean"], mel_std=saved["mel_std"])
    from data_utils import TextMelLoader, mel_statistics  # the data pipeline, only for a new run

    mean, std = mel_statistics(TextMelLoader(hparams.training_files, hparams))
    return dataclasses.replace(hparams, mel_mean=mean.tolist(), mel_std=std.tolist())


def resume_or_warm_start(checkpoint_path: str | None, warm_start: bool, model, optimizer, scaler,
                         hparams: HParams) -> tuple[dict, HParams]:
    """-> (the checkpoint resumed from, or {} for a new run or a warm start; the hparams to go on with)."""
    if checkpoint_path and warm_start:
        warm_start_model(checkpoint_path, model, hparams.ignore_layers)
    elif checkpoint_path:
        resumed = load_checkpoint(checkpoint_path, model, optimizer, scaler)
        if hparams.use_saved_learning_rate and resumed.get("learning_rate"):
            hparams = dataclasses.replace(hparams, learning_rate=float(resumed["learning_rate"]))
        return resumed, hparams
    return {}, hparams


def save_checkpoint(model, optimizer, scaler, hparams: HParams, learning_rate: float, iteration: int,
                    path: Path, **training_state) -> None:
    """Write atomically (a temporary file in the same folder, fsync, rename): a kill at any moment leaves
    the previous checkpoints intact. training_state: rng, best_val_loss, best_iteration and the like."""
    print(f"Saving model and optimizer state at iteration {iteration} to {path}", flush=True)
    checkpoint = {"iteration": iteration, "state_dict": model.state_dict(),
                  "optimizer": optimizer.state_dict(), "learning_rate": learning_rate,
                  "hparams": dataclasses.asdict(hparams), "scaler": scaler.state_dict(), **training_state}
    atomic_write(Path(path), lambda handle: torch.save(checkpoint, handle))


def export_model(source: str | Path, destination: str | Path, note: str = "") -> str:
    """A training checkpoint -> a release file: float32 weights, hparams (mel statistics included), the
    iteration and a note, without the optimizer's state (two thirds of a training checkpoint) or the
    RNG and loader state. It loads with load_tacotron2 and warm-starts train.py like the original.
    The training machine's own folders (data_root, mel_cache_dir) go back to their defaults: they
    describe where that machine kept its files, not the model. Written atomically; returns its SHA-256."""
    checkpoint = read_checkpoint(source)
    if "hparams" not in checkpoint:
        raise ValueError(f"{source}: has no hparams; export a checkpoint written by this repo's train.py")
    model, hparams = load_tacotron2(source)  # proves the weights fit their hparams before shipping them
    defaults = HParams()
    hparams = dataclasses.replace(hparams, data_root=defaults.data_root, mel_cache_dir=defaults.mel_cache_dir)
    release = {"state_dict": model.state_dict(), "hparams": dataclasses.asdict(hparams),
               "iteration": int(checkpoint.get("iteration", 0)), "note": note}
    atomic_write(Path(destination), lambda handle: torch.save(release, handle))
    return hashlib.sha256(Path(destination).read_bytes()).hexdigest()


def prepare_output_directory(path: str | Path, prefix: str = "checkpoint") -> Path:
    """Create the checkpoint folder and remove the temporary files that a killed save left behind
    (`.<prefix>_*.tmp`; the checkpoints themselves are only ever renamed into place whole)."""
    output_directory = make_output_directory(path)
    for stale in output_directory.glob(f".{prefix}_*.tmp"):
        stale.unlink()
    return output_directory


def prune_checkpoints(output_directory: Path, keep: int, best_iteration: int | None = None,
                      prefix: str = "checkpoint") -> None:
    """Delete all but the newest `keep` <prefix>_<iteration> files and the best one (keep=0 keeps all)."""
    found = sorted(output_directory.glob(f"{prefix}_*"), key=lambda p: int(p.name.split("_")[1]))
    for old in found[:-keep] if keep > 0 else []:
        if old.name != f"{prefix}_{best_iteration}":
            old.unlink()


def load_states(checkpoint: dict, stateful: dict) -> None:
    """load_state_dict for each named object (optimizers, GradScalers, schedulers; models that need no
    compatibility check) whose state the checkpoint holds. An older checkpoint may lack one, and a
    disabled GradScaler saves an empty state, which is skipped."""
    for name, thing in stateful.items():
        if checkpoint.get(name):
            thing.load_state_dict(checkpoint[name])


def rng_state() -> dict:
    """This process's random state (torch, CUDA, numpy, Python) in types that weights_only loading takes."""
    kind, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []
    return {"torch": torch.get_rng_state(), "cuda": cuda,
            "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), position, has_gauss, cached_gaussian],
            "python": random.getstate()}


def set_rng_state(state: dict) -> None:
    """Undo rng_state: every generator continues exactly where the saving process's did."""
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    kind, keys, position, has_gauss, cached_gaussian = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), position, has_gauss, cached_gaussian))
    version, internal, gauss_next = state["python"]
    random.setstate((version, tuple(internal), gauss_next))


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
