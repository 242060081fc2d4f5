"""HiFi-GAN checkpoint files: writing ours, and loading a generator from ours or the reference's.

Ours (written by the trainer, read with weights_only=True):
    {"generator": state_dict, "config": HiFiGANConfig.to_dict(), **extra}
where extra holds, in training checkpoints, "mpd", "msd", "optim_g", "optim_d", "scheduler_g",
"scheduler_d", "iteration", "epoch", "hparams", "rng" and the like.

The reference's (jik876/hifi-gan): a generator file g_XXXXXXXX = {"generator": state_dict} with the old
weight-norm names (weight_g, weight_v) and a config.json beside it; a do_XXXXXXXX file with the
discriminators and optimizers {"mpd", "msd", "optim_g", "optim_d", "steps", "epoch"}.
"""

import pickle
import re
from pathlib import Path

import torch

from files import atomic_write

from .hifigan import PRESETS, Generator, HiFiGANConfig

# The old torch.nn.utils.weight_norm stored g and v beside the module's parameters; the parametrization
# stores them as original0 and original1. Same tensors, same shapes (g: (out, 1, 1), v: the weight's).
_REFERENCE_SUFFIXES = {".weight_g": ".parametrizations.weight.original0",
                       ".weight_v": ".parametrizations.weight.original1"}

ConfigSource = str | Path | HiFiGANConfig | None


class PickledCodeError(ValueError):
    """A file whose unpickling would call code (a class or function it names): refused, never run."""


def save_hifigan(path: str | Path, generator: Generator, **extra) -> None:
    """Write {'generator', 'config', **extra} atomically."""
    checkpoint = {"generator": generator.state_dict(), "config": generator.config.to_dict(), **extra}
    atomic_write(Path(path), lambda handle: torch.save(checkpoint, handle))


def read_weights_only(path: str | Path) -> object:
    """torch.load(weights_only=True): tensors, numbers, strings and containers only, so nothing in the file
    runs. A pickle that names code raises PickledCodeError; a missing or damaged file names the file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file not found")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        # torch's message names the refused global ("GLOBAL posix.system"): say which, not the whole text.
        named = re.search(r"GLOBAL (\S+)", str(error))
        raise PickledCodeError(
            f"{path} was not loaded: it is a pickle that names code to run while loading"
            + (f" ({named[1]})" if named else "")
            + ", and unpickling it could run anything hidden in the file. Vocoder weights need none: "
            "HiFi-GAN's generator files (the reference's and ours) hold only tensors.") from None
    except Exception as error:  # a truncated or non-torch file: torch raises several kinds
        raise ValueError(f"{path}: cannot be read as a torch file ({type(error).__name__}: "
                         f"{str(error).splitlines()[0] if str(error) else ''})") from None


def preset_name(config: HiFiGANConfig) -> str | None:
    """'V1', 'V2' or 'V3' when config is that published configuration, else None."""
    return next((name.upper() for name, preset in PRESETS.items() if preset == config), None)


def reference_to_ours(state_dict: dict) -> dict:
    """Rename the reference's weight_g / weight_v keys to the parametrization's original0 / original1;
    other keys (biases, our own names, plain weights after weight norm removal) are kept."""
    renamed = {}
    for key, value in state_dict.items():
        suffix = next((s for s in _REFERENCE_SUFFIXES if key.endswith(s)), None)
        renamed[key.removesuffix(suffix) + _REFERENCE_SUFFIXES[suffix] if suffix else key] = value
    return renamed


def _shapes(state_dict: dict) -> dict[str, tuple[int, ...]]:
    return {key: tuple(value.shape) for key, value in state_dict.items()}


def _weight_shape(shapes: dict, module: str) -> tuple[int, ...] | None:
    """The (out, in, kernel) shape of a module's weight, weight-normed (v) or plain."""
    return shapes.get(f"{module}.parametrizations.weight.original1", shapes.get(f"{module}.weight"))


def _found(shapes: dict) -> str:
    """What the weights say about their generator, for messages: '80 mel channels in, 512 channels after
    conv_pre, 4 upsampling stages, 12 residual blocks of ResBlock1'."""
    conv_pre = _weight_shape(shapes, "conv_pre")
    if conv_pre is None:
        return "no conv_pre weight"
    n_ups = len({key.split(".")[1] for key in shapes if key.startswith("ups.")})
    n_blocks = len({key.split(".")[1] for key in shapes if key.startswith("resblocks.")})
    kind = ("ResBlock1" if any(".convs1." in key for key in shapes)
            else "ResBlock2" if any(".convs." in key for key in shapes) else "no known residual block")
    return (f"{conv_pre[1]} mel channels in, {conv_pre[0]} channels after conv_pre, {n_ups} upsampling "
            f"stages, {n_blocks} residual blocks of {kind}")


def _mismatch(expected: dict, found: dict) -> str:
    """The keys missing, unexpected or of another shape: a few of each, so that V1's 234 keys stay legible."""
    missing = [key for key in expected if key not in found]
    unexpected = [key for key in found if key not in expected]
    other = [f"{key}: file {found[key]} vs model {expected[key]}"
             for key in expected if key in found and found[key] != expected[key]]
    lines = []
    for title, items in (("other shape", other), ("missing from the file", missing),
                         ("not in the model", unexpected)):
        if items:
            more = f" (and {len(items) - 5} more)" if len(items) > 5 else ""
            lines.append(f"  {title}{more}: " + "; ".join(items[:5]))
    return "\n".join(lines)


def recognise_preset(state_dict: dict) -> str | None:
    """The published configuration ('v1', 'v2', 'v3') whose generator has exactly these keys and shapes,
    or None. Shapes tell the presets apart (V2 has a quarter of V1's channels, V3 three upsampling stages
    and ResBlock2), but not everything: dilations and upsampling strides leave no trace in the weights,
    so a custom generator with a preset's shapes needs its config."""
    found = _shapes(reference_to_ours(state_dict))
    weight_norm = any(".parametrizations.weight." in key for key in found)
    conv_pre = _weight_shape(found, "conv_pre")
    for name, config in PRESETS.items():
        # conv_pre's (out, in) differ between the presets, so at most one generator is built to compare
        if conv_pre and conv_pre[:2] == (config.upsample_initial_channel, config.num_mels):
            if _expected_shapes(config, weight_norm) == found:
                return name
    return None


def _expected_shapes(config: HiFiGANConfig, weight_norm: bool) -> dict:
    generator = Generator(config)
    return _shapes((generator if weight_norm else generator.remove_weight_norm()).state_dict())


def _generator_state_dict(checkpoint: object, path: Path) -> dict:
    """checkpoint['generator'], or an error that says what the file is instead."""
    if isinstance(checkpoint, dict) and isinstance(checkpoint.get("generator"), dict):
        state_dict = checkpoint["generator"]
        if not all(isinstance(value, torch.Tensor) for value in state_dict.values()):
            raise ValueError(f"{path}: its 'generator' entry holds things other than tensors")
        return state_dict
    keys = sorted(map(str, checkpoint)) if isinstance(checkpoint, dict) else []
    if {"mpd", "msd"} & set(keys):
        generator_file = (f"{path.with_name('g_' + path.name[3:])}" if path.name.startswith("do_")
                          else "the g_XXXXXXXX file of the same step")
        raise ValueError(f"{path} holds HiFi-GAN's discriminators and optimizers ({', '.join(keys)}), a "
                         f"do_ file of the reference's training, not the generator: give the generator "
                         f"file, {generator_file}")
    if "state_dict" in keys and "config" in keys:
        hint = " (it looks like a WaveGlow checkpoint: waveglow_vocoder.load_vocoder reads both kinds)"
    else:
        hint = ""
    found = f"a dict with the keys {', '.join(keys[:8])}" if keys else type(checkpoint).__name__
    raise ValueError(f"{path}: not a HiFi-GAN generator file: expected a dict with a 'generator' state "
                     f"dict, found {found}{hint}")


def _config_and_source(checkpoint: dict, state_dict: dict, path: Path,
                       config: ConfigSource) -> tuple[HiFiGANConfig, str]:
    """The generator's config and where it came from, in this order: the `config` argument (a
    config.json path or a HiFiGANConfig), our checkpoint's own 'config', a config.json beside the file,
    the published preset that the weights' shapes match; else an error saying which config is needed."""
    if isinstance(config, HiFiGANConfig):
        return config, "the config given"
    if config is not None:
        return HiFiGANConfig.from_json(config), f"config={config}"
    if "config" in checkpoint:
        try:
            return HiFiGANConfig.from_dict(checkpoint["config"]), "the file's own config"
        except (TypeError, ValueError) as error:
            raise ValueError(f"{path}: its own config is not a HiFi-GAN config: {error}") from None
    beside = path.parent / "config.json"
    if beside.is_file():
        return HiFiGANConfig.from_json(beside), f"{beside} (the config.json beside it)"
    name = recognise_preset(state_dict)
    if name:
        return PRESETS[name], f"the {name.upper()} preset, recognised from the weights' shapes"
    raise ValueError(
        f"{path}: no config for this generator: none was given, the file holds none, there is no "
        f"config.json beside it, and its shapes ({_found(_shapes(state_dict))}) are none of the "
        "published V1, V2, V3. Put the config_v*.json it was trained with beside it as config.json, "
        "or pass load_hifigan(path, config='path/to/config.json').")


def generator_from_checkpoint(checkpoint: object, path: str | Path, config: ConfigSource = None) -> Generator:
    """load_hifigan on a checkpoint already read with read_weights_only (path: for config.json and
    messages)."""
    path = Path(path)
    state_dict = reference_to_ours(_generator_state_dict(checkpoint, path))
    config, source = _config_and_source(checkpoint, state_dict, path, config)
    generator = Generator(config)
    if not any(".parametrizations.weight." in key for key in state_dict):
        generator.remove_weight_norm()  # saved after remove_weight_norm(): plain weights
    expected, found = _shapes(generator.state_dict()), _shapes(state_dict)
    if expected != found:
        raise ValueError(f"{path}: the weights ({_found(found)}) do not fit the HiFi-GAN generator of "
                         f"{source}:\n{_mismatch(expected, found)}")
    generator.load_state_dict(state_dict)  # strict: every key checked above
    return generator.eval().remove_weight_norm()


def load_hifigan(path: str | Path, config: ConfigSource = None) -> Generator:
    """A HiFi-GAN generator, in eval mode with weight norm folded away, from the reference's generator file
    (g_XXXXXXXX, generator_v1, ...) or ours: mels (B, num_mels, T) -> audio (B, 1, T * hop_length).

    Read with torch.load(weights_only=True) only: a file that names code is refused (PickledCodeError).
    The config: `config` (a config.json path, or a HiFiGANConfig) when given; else the checkpoint's own;
    else config.json beside the file; else V1, V2 or V3 recognised from the weights' shapes; else an error
    saying which config is needed."""
    return generator_from_checkpoint(read_weights_only(path), path, config)
