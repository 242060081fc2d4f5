"""Data pipeline: wav and `path|text` filelist reading, `TextMelLoader` (text ids, log mel) with an
on-disk mel cache, `TextMelCollate` (padding and gate targets), a filelist checker that reports
every bad line at once, and LJ Speech filelist preparation.

CLI: `python3 data_utils.py prepare LJSpeech-1.1` and `python3 data_utils.py check filelists/x.txt`.
"""

import argparse
import codecs
import hashlib
import os
import pickle
import random
import time
from functools import partial
from pathlib import Path

import librosa
import numpy as np
import soundfile
import torch
from torch import Tensor

from files import atomic_write
from hparams import HParams, create_hparams
from layers import TacotronSTFT
from text import text_to_ids

# Everything a cached mel depends on; the cache folder is named by their hash. Bump the version
# when the mel computation itself changes, so that old caches are never served.
MEL_CACHE_VERSION = 1
AUDIO_HPARAMS = ("sampling_rate", "filter_length", "hop_length", "win_length", "n_mel_channels",
                 "mel_fmin", "mel_fmax", "max_wav_value")


def _audio_info(path: Path, sampling_rate: int, allow_resample: bool):
    """Header checks shared by load_wav and check_filelist: exists, is audio, has samples, right rate."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: audio file not found")
    try:
        info = soundfile.info(str(path))
    except soundfile.SoundFileError as error:
        reason = getattr(error, "error_string", error)
        raise ValueError(f"{path}: not a readable audio file ({reason})") from None
    if info.frames == 0:
        raise ValueError(f"{path}: audio file has no samples")
    if info.samplerate != sampling_rate and not allow_resample:
        raise ValueError(f"{path}: sampling rate is {info.samplerate} Hz but hparams.sampling_rate is "
                         f"{sampling_rate} Hz; set allow_resample=True to resample")
    return info


def load_wav(path: str | Path, sampling_rate: int, allow_resample: bool = False) -> Tensor:
    """A .wav or .flac file -> mono float32 (T,) in [-1, 1] at `sampling_rate` (stereo is averaged).

    soundfile scales integer PCM to [-1, 1) itself, so max_wav_value is not needed here.
    """
    path = Path(path)
    info = _audio_info(path, sampling_rate, allow_resample)
    try:
        audio, _ = soundfile.read(str(path), dtype="float32", always_2d=True)  # (T, channels)
    except soundfile.SoundFileError as error:
        raise ValueError(f"{path}: cannot decode audio ({getattr(error, 'error_string', error)})") from None
    audio = audio.mean(axis=1)  # (T,)
    peak = float(np.abs(audio).max(initial=0.0))
    if audio.size == 0:  # the header promised samples that are not there
        raise ValueError(f"{path}: audio file has no samples")
    if not peak <= 1.0:  # `not <=` also catches NaN; float files are not clipped silently
        raise ValueError(f"{path}: samples outside [-1, 1] (peak {peak:.4g})")
    if info.samplerate != sampling_rate:
        audio = librosa.resample(audio, orig_sr=info.samplerate, target_sr=sampling_rate)
        audio = np.clip(audio, -1.0, 1.0)  # the resampling filter can ring slightly past full scale
    return torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"not UTF-8 (byte 0x{raw[error.start]:02x} at column {error.start + 1}); "
                         "save the file as UTF-8") from None


def _lines(filename: Path) -> list[tuple[int, bytes]]:
    """Non-blank lines with their 1-based numbers, undecoded (so each bad line is reported alone)."""
    data = filename.read_bytes().removeprefix(codecs.BOM_UTF8)
    lines = enumerate(data.split(b"\n"), start=1)
    return [(number, raw.rstrip(b"\r")) for number, raw in lines if raw.strip()]


def _parse_line(line: str, data_root: str) -> tuple[Path, str]:
    fields = line.split("|")
    if len(fields) != 2:
        raise ValueError(f"expected 'path|text', found {len(fields)} field(s): {line!r}")
    path, text = fields[0].strip(), fields[1].strip()
    if not path or not text:
        raise ValueError(f"empty {'path' if not path else 'text'}: {line!r}")
    full_path = Path(data_root) / path
    # Lexical check (no symlinks followed): data_root/wavs may well be a link to another disk.
    if data_root and not Path(os.path.abspath(full_path)).is_relative_to(os.path.abspath(data_root)):
        raise ValueError(f"path {path!r} is outside data_root {data_root!r}: {line!r}")
    return full_path, text


def load_filepaths_and_text(filename: str | Path, data_root: str = "",
                            problems: list[str] | None = None) -> list[tuple[Path, str, int]]:
    """`path|text` lines (UTF-8) -> [(data_root / path, text, line number)]; blank lines are skipped.

    A bad line raises ValueError naming file:line, or, when a `problems` list is given, is appended
    to it and skipped, so that check_filelist can report every bad line at once.
    """
    filename = Path(filename)
    items = []
    for number, raw in _lines(filename):
        try:
            items.append((*_parse_line(_decode(raw), data_root), number))
        except ValueError as error:
            if problems is None:
                raise ValueError(f"{filename}:{number}: {error}") from None
            problems.append(f"{filename}:{number}: {error}")
    return items


def load_saved_mel(path: str | Path, n_mel_channels: int) -> Tensor:
    """A precomputed mel (n_mel_channels, T) from .npy or .pt (load_mel_from_disk, and the cache)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: mel file not found")
    if path.suffix not in (".npy", ".pt"):
        raise ValueError(f"{path}: expected a .npy or .pt mel (load_mel_from_disk=True)")
    try:
        if path.suffix == ".npy":
            mel = torch.from_numpy(np.load(path, allow_pickle=False))
        else:
            mel = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, ValueError, RuntimeError, EOFError, pickle.UnpicklingError) as error:  # a damaged file
        raise ValueError(f"{path}: cannot read mel ({type(error).__name__}: {error})") from None
    if not isinstance(mel, Tensor) or mel.dim() != 2 or mel.shape[0] != n_mel_channels or mel.shape[1] == 0:
        shape = tuple(mel.shape) if isinstance(mel, Tensor) else type(mel).__name__
        raise ValueError(f"{path}: expected a mel of shape ({n_mel_channels}, T>0), got {shape}")
    return mel.float()


def mel_cache_key(hparams: HParams) -> str:
    """Short hash of the audio hparams: changing any of them moves the cache to a new folder."""
    values = [MEL_CACHE_VERSION] + [getattr(hparams, name) for name in AUDIO_HPARAMS]
    return hashlib.sha256(repr(values).encode()).hexdigest()[:12]


class TextMelLoader(torch.utils.data.Dataset):
    """(text ids (T_in,), log mel (n_mels, T_out)) for each line of a `path|text` filelist.

    Items come in file order; shuffling is the DataLoader's (or DistributedSampler's) job.
    """

    def __init__(self, filelist_path: str | Path, hparams: HParams):
        self.filelist_path = Path(filelist_path)
        self.hparams = hparams
        self.items = load_filepaths_and_text(filelist_path, hparams.data_root)
        if not self.items:
            raise ValueError(f"{filelist_path}: no utterances")
        self.stft = TacotronSTFT(
            filter_length=hparams.filter_length, hop_length=hparams.hop_length, win_length=hparams.win_length,
            n_mel_channels=hparams.n_mel_channels, sampling_rate=hparams.sampling_rate,
            mel_fmin=hparams.mel_fmin, mel_fmax=hparams.mel_fmax)
        cache_dir = hparams.mel_cache_dir
        self.cache_dir = Path(cache_dir) / mel_cache_key(hparams) if cache_dir else None

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        path, text, number = self.items[index]
        try:
            return self.get_text(text), self.get_mel(path)
        except (ValueError, FileNotFoundError) as error:
            raise ValueError(f"{self.filelist_path}:{number}: {error}") from error

    def get_text(self, text: str) -> Tensor:
        """Text -> symbol ids (T_in,) by text.text_to_ids; ValueError if nothing speakable is left."""
        return text_to_ids(text, self.hparams)

    def get_mel(self, path: str | Path) -> Tensor:
        """Log mel (n_mels, T_out) of a wav, through the cache; or a saved mel if load_mel_from_disk."""
        path = Path(path)
        if self.hparams.load_mel_from_disk:
            return load_saved_mel(path, self.hparams.n_mel_channels)
        cache_file = self.cache_file(path)
        if cache_file is not None and cache_file.exists():
            try:
                return load_saved_mel(cache_file, self.hparams.n_mel_channels)
            except (ValueError, OSError):
                pass  # damaged (or just removed): recompute and overwrite it below
        audio = load_wav(path, self.hparams.sampling_rate, self.hparams.allow_resample)
        with torch.no_grad():
            mel = self.stft.mel_spectrogram(audio.unsqueeze(0)).squeeze(0)  # (n_mels, T_out)
        if cache_file is not None:
            atomic_write(cache_file, lambda handle: torch.save(mel, handle))
        return mel

    def cache_file(self, path: Path) -> Path | None:
        """cache_dir/<audio hparams key>/<hash of resolved path, size, mtime>.pt; None without a cache."""
        if self.cache_dir is None:
            return None
        try:
            stat = path.stat()
        except OSError:
            return None  # load_wav reports the missing file
        identity = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
        return self.cache_dir / f"{hashlib.sha256(identity.encode()).hexdigest()[:32]}.pt"

    def check_data(self) -> None:
        """check_filelist on this loader's filelist."""
        check_filelist(self.filelist_path, self.hparams)


def mel_statistics(dataset: TextMelLoader, min_std: float = 1e-2) -> tuple[Tensor, Tensor]:
    """Per-channel mean and standard deviation (n_mels,) of every frame of every utterance of a dataset
    (float64 sums); deviations are floored at min_std, so that a channel that never changes (above a
    band-limited recording's top frequency, say) is not divided by ~0. Prints progress."""
    total = squares = None
    frames = 0
    start = time.perf_counter()
    for index in range(len(dataset)):
        path, _, number = dataset.items[index]
        try:
            mel = dataset.get_mel(path).double()  # (n_mels, T)
        except (ValueError, FileNotFoundError) as error:
            raise ValueError(f"{dataset.filelist_path}:{number}: {error}") from error
        total = mel.sum(1) if total is None else total + mel.sum(1)
        squares = mel.square().sum(1) if squares is None else squares + mel.square().sum(1)
        frames += mel.size(1)
        if (index + 1) % 500 == 0 or index + 1 == len(dataset):
            elapsed = time.perf_counter() - start
            print(f"\rmel statistics: {index + 1}/{len(dataset)} utterances, {(index + 1) / elapsed:.0f}/s, "
                  f"ETA {elapsed / (index + 1) * (len(dataset) - index - 1):.0f} s", end="", flush=True)
    print()
    mean = total / frames
    std = (squares / frames - mean.square()).clamp(min=0).sqrt().clamp(min=min_std)
    return mean.float(), std.float()


def check_filelist(filelist_path: str | Path, hparams: HParams) -> None:
    """Validate every line (format, text after cleaning, audio header and rate, or saved mel shape)
    and raise one ValueError listing all the problems as `file:line: what`.
    """
    problems: list[str] = []
    items = load_filepaths_and_text(filelist_path, hparams.data_root, problems)
    if not items and not problems:
        problems.append(f"{filelist_path}: no utterances")
    for path, text, number in items:
        audio_check = (partial(load_saved_mel, path, hparams.n_mel_channels) if hparams.load_mel_from_disk
                       else partial(_audio_info, path, hparams.sampling_rate, hparams.allow_resample))
        for check in (partial(text_to_ids, text, hparams), audio_check):
            try:
                check()
            except (ValueError, FileNotFoundError) as error:
                problems.append(f"{filelist_path}:{number}: {error}")
    if problems:
        raise ValueError(f"{len(problems)} problem(s) in {filelist_path}:\n  " + "\n  ".join(problems))


class TextMelCollate:
    """Zero-pads a batch of (text ids, mel), sorted by text length descending as in the reference;
    mels are padded to a multiple of n_frames_per_step (r) so the decoder emits whole steps.
    """

    def __init__(self, n_frames_per_step: int):
        self.n_frames_per_step = n_frames_per_step

    def __call__(self, batch: list[tuple[Tensor, Tensor]]) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
        """-> text_padded (B, T_in), input_lengths (B,), mel_padded (B, n_mels, T_out),
        gate_padded (B, T_out) (1 from each mel's last frame on), output_lengths (B,)."""
        input_lengths, order = torch.sort(torch.tensor([len(text) for text, _ in batch]),
                                          descending=True, stable=True)
        output_lengths = torch.tensor([batch[i][1].shape[1] for i in order.tolist()])
        r = self.n_frames_per_step
        max_frames = -(-int(output_lengths.max()) // r) * r  # round up to a multiple of r
        n_mels = batch[0][1].shape[0]
        text_padded = torch.zeros(len(batch), int(input_lengths[0]), dtype=torch.long)
        mel_padded = torch.zeros(len(batch), n_mels, max_frames)
        gate_padded = torch.zeros(len(batch), max_frames)
        for row, index in enumerate(order.tolist()):
            text, mel = batch[index]
            text_padded[row, :len(text)] = text
            mel_padded[row, :, :mel.shape[1]] = mel
            gate_padded[row, mel.shape[1] - 1:] = 1.0
        return text_padded, input_lengths, mel_padded, gate_padded, output_lengths


def _read_lj_metadata(corpus_dir: Path, data_root: str, problems: list[str]) -> dict[str, str]:
    """LJ metadata.csv (`id|raw|normalized`; quotes are plain text) -> {id: 'audio path|text'}."""
    metadata = corpus_dir / "metadata.csv"
    entries: dict[str, str] = {}
    for number, raw in _lines(metadata):
        try:
            line = _decode(raw)
            fields = [field.strip() for field in line.split("|")]
            if len(fields) not in (2, 3) or not fields[0]:
                raise ValueError(f"expected 'id|raw text|normalized text': {line!r}")
            uid, text = fields[0], (fields[2] if len(fields) == 3 and fields[2] else fields[1])
            audio = next((path for suffix in (".wav", ".flac")
                          if (path := corpus_dir / "wavs" / f"{uid}{suffix}").is_file()), None)
            if uid in entries or not text or audio is None:
                what = "repeated id" if uid in entries else "empty text" if not text else "no audio file"
                raise ValueError(f"{what} for {uid!r} (looked for wavs/{uid}.wav and .flac)")
            relative = Path(os.path.relpath(audio, data_root or "."))
            if relative.parts[0] == "..":
                raise ValueError(f"{audio} is outside data_root {data_root!r}")
            entries[uid] = f"{relative.as_posix()}|{text}"
        except ValueError as error:
            problems.append(f"{metadata}:{number}: {error}")
    return entries


def prepare_filelists(corpus_dir: str | Path, filelist_dir: str | Path = "filelists", name: str = "ljs",
                      n_val: int = 100, n_test: int = 500, seed: int = 1234,
                      data_root: str = "") -> dict[str, Path]:
    """An LJ Speech layout (metadata.csv, wavs/<id>.wav|.flac) -> {name}_audio_text_{split}_filelist.txt.

    The sorted ids are shuffled by random.Random(seed): the first n_val are val, the next n_test
    test, the rest train; each file lists its ids in sorted order. Returns {split: path}.
    """
    problems: list[str] = []
    entries = _read_lj_metadata(Path(corpus_dir), data_root, problems)
    if problems:
        raise ValueError(f"{len(problems)} problem(s) in {corpus_dir}:\n  " + "\n  ".join(problems))
    if len(entries) <= n_val + n_test:
        raise ValueError(f"{corpus_dir}: {len(entries)} utterances leave none for training "
                         f"after n_val={n_val} and n_test={n_test}")
    ids = sorted(entries)
    random.Random(seed).shuffle(ids)
    splits = {"train": ids[n_val + n_test:], "val": ids[:n_val], "test": ids[n_val:n_val + n_test]}
    paths = {}
    for split, split_ids in splits.items():
        paths[split] = Path(filelist_dir) / f"{name}_audio_text_{split}_filelist.txt"
        content = "".join(f"{entries[uid]}\n" for uid in sorted(split_ids)).encode("utf-8")
        atomic_write(paths[split], lambda handle, content=content: handle.write(content))
    return paths


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Prepare or check `path|text` filelists.")
    commands = parser.add_subparsers(dest="command", required=True)
    prepare = commands.add_parser("prepare", help="write LJ Speech train/val/test filelists")
    prepare.add_argument("corpus_dir", help="folder with metadata.csv and wavs/")
    prepare.add_argument("--filelist_dir", default="filelists")
    prepare.add_argument("--name", default="ljs")
    prepare.add_argument("--data_root", default="", help="filelist paths are relative to this folder")
    prepare.add_argument("--n_val", type=int, default=100)
    prepare.add_argument("--n_test", type=int, default=500)
    prepare.add_argument("--seed", type=int, default=1234)
    check = commands.add_parser("check", help="report every bad line of a filelist at once")
    check.add_argument("filelist")
    check.add_argument("--hparams", default="", help="name=value overrides, as for train.py")
    args = parser.parse_args()
    try:
        if args.command == "prepare":
            for split, path in prepare_filelists(args.corpus_dir, args.filelist_dir, args.name, args.n_val,
                                                 args.n_test, args.seed, args.data_root).items():
                print(f"{split}: {path}")
        else:
            check_filelist(args.filelist, create_hparams(args.hparams))
            print(f"{args.filelist}: OK")
    except (ValueError, FileNotFoundError) as error:
        raise SystemExit(f"error: {error}") from None
