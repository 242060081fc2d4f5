"""The HiFi-GAN trainer's data: Tacotron 2's log mels (TextMelLoader's, through its mel cache; or the
ground-truth-aligned mels that gta_mels.py writes) paired with the recordings they describe, as random
segments for training and whole utterances for validation.

The pairing: TacotronSTFT's frame t is centred on sample t * hop (a centred STFT: 1 + N // hop frames for
N samples), and the generator turns frame t into the hop samples t * hop .. (t + 1) * hop - 1. A segment
of F frames from frame s is therefore paired with samples s * hop .. (s + F) * hop - 1, past the recording's
end padded with silence (zeros; the mel's floor log(1e-5)).
"""

import math
import random
from pathlib import Path

import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

from data_utils import TextMelLoader, load_saved_mel, load_wav
from hparams import HParams

LOG_FLOOR = math.log(1e-5)  # TacotronSTFT.spectral_normalize's floor: the log mel of silence


def gta_mel_path(directory: str | Path, wav_path: str | Path) -> Path:
    """Where gta_mels.py writes, and the trainer's --input_mels reads, the mel of a recording: the file's
    stem with .npy in `directory` (the reference's fine-tuning layout: ft_dataset/LJ001-0001.npy)."""
    return Path(directory) / f"{Path(wav_path).stem}.npy"


def check_unique_stems(paths: list[Path], filelist: str | Path) -> None:
    """gta_mel_path names a mel by its recording's stem: two recordings with one stem would share a file."""
    seen: dict[str, Path] = {}
    for path in paths:
        if path.stem in seen:
            raise ValueError(f"{filelist}: {seen[path.stem]} and {path} have the same name, and GTA mels are "
                             f"named by it ({path.stem}.npy); rename one of them")
        seen[path.stem] = path


def frame_count(n_samples: int, hop_length: int) -> int:
    """Frames of TacotronSTFT's centred STFT of n_samples."""
    return 1 + n_samples // hop_length


def segment(mel: Tensor, audio: Tensor, start: int, frames: int, hop_length: int) -> tuple[Tensor, Tensor]:
    """mel (n_mels, T), audio (N,) -> mel frames start .. start + frames - 1 (n_mels, frames) and the samples
    start * hop .. (start + frames) * hop - 1 (frames * hop,), silence past either's end."""
    mel = mel[:, start:start + frames]
    audio = audio[start * hop_length:(start + frames) * hop_length]
    mel = F.pad(mel, (0, frames - mel.size(1)), value=LOG_FLOOR)
    return mel, F.pad(audio, (0, frames * hop_length - audio.numel()))


class MelAudio(Dataset):
    """(mel, audio) for each line of a filelist: a random segment of segment_size samples (segment_size / hop
    frames) of each recording, or with segment_size=0 the whole utterance (mel (n_mels, T), audio (N,),
    T = 1 + N // hop). Mels are the recordings' (TextMelLoader.get_mel: Tacotron 2's training targets), or,
    with input_mels, gta_mels.py's files in that folder, which must have the recordings' frame counts.

    Where a segment starts is drawn from (hparams.seed, epoch, index) alone, as WaveGlow's AudioSegments: a
    resumed run cuts the same segments as an uninterrupted one."""

    def __init__(self, filelist: str | Path, hparams: HParams, segment_size: int = 0,
                 input_mels: str | Path | None = None):
        if hparams.load_mel_from_disk:
            raise ValueError("HiFi-GAN trains on the recordings: set load_mel_from_disk=False (precomputed "
                             "Tacotron 2 mels go in with --input_mels)")
        if segment_size % hparams.hop_length:
            raise ValueError(f"segment_size={segment_size} is not a multiple of hop_length "
                             f"{hparams.hop_length}")
        self.mels = TextMelLoader(filelist, hparams)  # the filelist's paths, and the mel cache
        self.filelist, self.paths = filelist, [path for path, _, _ in self.mels.items]
        self.hparams, self.segment_size, self.input_mels, self.epoch = hparams, segment_size, input_mels, 0
        if input_mels is not None:
            check_unique_stems(self.paths, filelist)

    def __len__(self) -> int:
        return len(self.paths)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def mel(self, path: Path, n_samples: int) -> Tensor:
        """The recording's log mel (n_mels, 1 + n_samples // hop), or its GTA mel from input_mels."""
        if self.input_mels is None:
            return self.mels.get_mel(path)
        mel_path = gta_mel_path(self.input_mels, path)
        if not mel_path.is_file():
            raise FileNotFoundError(
                f"{mel_path}: no GTA mel for {path}; write them with: python3 gta_mels.py --checkpoint "
                f"TACOTRON2_CHECKPOINT --filelist {self.filelist} --output_dir {self.input_mels}")
        mel = load_saved_mel(mel_path, self.hparams.n_mel_channels)
        expected = frame_count(n_samples, self.hparams.hop_length)
        if mel.size(1) != expected:
            raise ValueError(f"{mel_path}: {mel.size(1)} frames, but the mel of {path} has {expected}: "
                             "written for another recording or hop_length? Write it again with gta_mels.py")
        return mel

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        path, _, number = self.mels.items[index]
        try:
            audio = load_wav(path, self.hparams.sampling_rate, self.hparams.allow_resample)
            mel = self.mel(path, audio.numel())
        except (ValueError, FileNotFoundError) as error:
            raise type(error)(f"{self.filelist}:{number}: {error}") from error
        if not self.segment_size:
            return mel, audio
        frames = self.segment_size // self.hparams.hop_length
        draw = random.Random(f"{self.hparams.seed}/{self.epoch}/{index}")
        start = draw.randint(0, max(mel.size(1) - frames, 0))
        return segment(mel, audio, start, frames, self.hparams.hop_length)
