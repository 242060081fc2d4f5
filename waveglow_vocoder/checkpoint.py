"""WaveGlow checkpoint files: ours (a plain state_dict with the config, read with weights_only=True), and
NVIDIA's published ones (pickled `glow.WaveGlow` objects), read only on request and convertible once.

    python3 -m waveglow_vocoder.checkpoint waveglow_256channels_universal_v5.pt waveglow.pt
"""

import argparse
import dataclasses
import pickle
import re
import types
from pathlib import Path

import torch

from files import atomic_write

from . import model as model_module
from .model import WaveGlow, WaveGlowConfig


class LegacyPickleError(ValueError):
    """A pickled checkpoint was given without allow_legacy_pickle=True."""


def save_waveglow(path: str | Path, model: WaveGlow, **extra) -> None:
    """Write {'state_dict', 'config', **extra} atomically; extra holds iteration, optimizer and the like."""
    checkpoint = {"state_dict": model.state_dict(), "config": dataclasses.asdict(model.config), **extra}
    atomic_write(Path(path), lambda handle: torch.save(checkpoint, handle))


def _build(config: WaveGlowConfig, state_dict: dict, path) -> WaveGlow:
    """A fresh WaveGlow of this config holding these tensors, in eval mode."""
    model = WaveGlow(config)
    if "WN.0.start.weight" in state_dict:  # saved after remove_weightnorm: plain weights
        model.remove_weightnorm()
    try:
        model.load_state_dict(state_dict)
    except RuntimeError as error:
        raise ValueError(f"{path}: the weights do not fit a WaveGlow of {config}:\n{error}") from None
    return model.eval()


def _merge_cond_layers(state_dict: dict) -> dict:
    """Older checkpoints have one conditioning conv per WN layer (WN.k.cond_layers.i); stacked along the
    output channels they are the newer single WN.k.cond_layer (weight norm is per output channel)."""
    merged, parts = {}, {}
    for key, value in state_dict.items():
        match = re.fullmatch(r"(WN\.\d+\.)cond_layers\.(\d+)\.(.+)", key)
        if match:
            parts.setdefault(f"{match[1]}cond_layer.{match[3]}", {})[int(match[2])] = value
        else:
            merged[key] = value
    merged.update({key: torch.cat([layers[i] for i in sorted(layers)]) for key, layers in parts.items()})
    return merged


def _load_legacy_pickle(path: str | Path) -> tuple[WaveGlow, dict]:
    """Read NVIDIA's checkpoint {'model': <glow.WaveGlow>, 'iteration', 'optimizer', 'learning_rate'}.

    Its classes were pickled from a top-level module `glow` (with torch.nn.utils.weight_norm hooks inside),
    so a find_class remap to our module, which has the same attribute layout, is needed. Full unpickling
    runs whatever code the file names: callers reach this only after an explicit opt-in. The unpickled
    object is never used as a model (old modules lack newer attributes such as padding_mode); its
    tensors are loaded into a freshly built WaveGlow. Returns (model, {'iteration', 'learning_rate'}).
    """
    class GlowUnpickler(pickle.Unpickler):
        def find_class(self, module, name):
            return super().find_class(model_module.__name__ if module == "glow" else module, name)

    pickle_module = types.SimpleNamespace(__name__="glow_unpickler", Unpickler=GlowUnpickler,
                                          load=pickle.load)
    checkpoint = torch.load(path, map_location="cpu", weights_only=False, pickle_module=pickle_module)
    legacy = checkpoint.get("model") if isinstance(checkpoint, dict) else checkpoint
    if not isinstance(legacy, WaveGlow):
        raise ValueError(f"{path}: expected a pickled glow.WaveGlow under 'model', "
                         f"found {type(legacy).__name__}")
    wn = legacy.WN[0]
    config = WaveGlowConfig(
        n_mel_channels=legacy.upsample.in_channels, n_flows=len(legacy.WN), n_group=legacy.n_group,
        n_early_every=legacy.n_early_every, n_early_size=legacy.n_early_size, n_layers=len(wn.in_layers),
        n_channels=wn.in_layers[0].in_channels, kernel_size=wn.in_layers[0].kernel_size[0],
        hop_length=legacy.upsample.stride[0])
    if legacy.upsample.kernel_size[0] != 4 * config.hop_length:
        raise ValueError(f"{path}: upsampling kernel {legacy.upsample.kernel_size[0]} is not 4 x its stride")
    state_dict = _merge_cond_layers({k: v.detach().float() for k, v in legacy.state_dict().items()})
    extra = {k: checkpoint[k] for k in ("iteration", "learning_rate")
             if isinstance(checkpoint, dict) and k in checkpoint}
    return _build(config, state_dict, path), extra


def load_waveglow(path: str | Path, allow_legacy_pickle: bool = False) -> WaveGlow:
    """A WaveGlow in eval mode (weight norm kept) from our checkpoint, or from NVIDIA's pickled one if
    allow_legacy_pickle=True. Ours load with torch.load(weights_only=True), which runs no code."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:  # the file names classes or functions: a legacy (or hostile) pickle
        if allow_legacy_pickle:
            return _load_legacy_pickle(path)[0]
        raise LegacyPickleError(
            f"{path} is a pickled checkpoint (NVIDIA's WaveGlow files pickle whole model objects), and "
            "unpickling can run code hidden in the file, so it was not loaded. If you trust the file, "
            "load it with load_waveglow(path, allow_legacy_pickle=True), or convert it once to a plain "
            "state_dict file: "
            f"python3 -m waveglow_vocoder.checkpoint {path} waveglow_converted.pt") from None
    return waveglow_from_checkpoint(checkpoint, path)


def waveglow_from_checkpoint(checkpoint: object, path: str | Path) -> WaveGlow:
    """load_waveglow on our checkpoint already read with weights_only=True (path: for messages)."""
    if not (isinstance(checkpoint, dict) and "state_dict" in checkpoint and "config" in checkpoint):
        raise ValueError(f"{path}: not a WaveGlow checkpoint (expected the keys 'state_dict' and 'config')")
    return _build(WaveGlowConfig(**checkpoint["config"]), checkpoint["state_dict"], path)


def convert_legacy_checkpoint(src: str | Path, dst: str | Path) -> WaveGlow:
    """Unpickle NVIDIA's checkpoint src once (this runs code in it: convert only files you trust) and
    write dst, which then loads with weights_only=True. Returns the model."""
    model, extra = _load_legacy_pickle(src)
    save_waveglow(dst, model, **extra)
    return model


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("src", help="NVIDIA's pickled WaveGlow checkpoint (unpickled: only files you trust)")
    parser.add_argument("dst", help="where to write the plain state_dict file")
    args = parser.parse_args(argv)
    model = convert_legacy_checkpoint(args.src, args.dst)
    print(f"Wrote {args.dst}: {sum(p.numel() for p in model.parameters()):,} parameters, {model.config}")


if __name__ == "__main__":
    main()
