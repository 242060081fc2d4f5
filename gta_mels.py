"""Ground-truth-aligned (GTA) mels: a Tacotron 2 checkpoint's teacher-forced postnet mels of every line of
a filelist, frame for frame as long as the recording's mel, for fine-tuning a vocoder on the mels Tacotron 2
makes rather than the recordings' (Shen et al. 2018 trained their WaveNet so; HiFi-GAN §4.4 fine-tunes so).

    python3 gta_mels.py --checkpoint outdir/checkpoint_6000 --filelist TRAIN_FILELIST VAL_FILELIST \
        --output_dir gta_mels [--hparams data_root=...] [--batch_size 16] [--device cpu|cuda] [--seed 1234]

Each recording's mel goes to <output_dir>/<the audio file's name without extension>.npy (float32,
(n_mel_channels, 1 + samples // hop_length), the reference's ft_dataset layout), where
`python3 -m waveglow_vocoder.hifigan_train --input_mels <output_dir>` finds it. The prenet keeps its dropout
(paper §2.2) as in synthesis, so --seed makes a run repeatable.
"""

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from checkpoint import load_tacotron2
from data_utils import TextMelCollate, TextMelLoader, load_filepaths_and_text
from files import atomic_write, make_output_directory
from model import Tacotron2
from waveglow_vocoder.hifigan_data import check_unique_stems, gta_mel_path


@torch.no_grad()
def write_gta_mels(model: Tacotron2, hparams, filelist: str | Path, output_directory: str | Path,
                   batch_size: int = 16, device: str | torch.device = "cpu") -> int:
    """Write the GTA mel of every line of `filelist`; returns how many. Utterances go in batches of similar
    text length (the model's forward pads and masks them; each is trimmed to its own frame count)."""
    dataset = TextMelLoader(filelist, hparams)  # text ids and the recordings' mels (through the mel cache)
    check_unique_stems([path for path, _, _ in dataset.items], filelist)
    output_directory = make_output_directory(output_directory)
    # longest text first, as TextMelCollate sorts each batch: its rows then stay in this order
    order = sorted(range(len(dataset)), key=lambda i: -len(dataset.get_text(dataset.items[i][1])))
    collate, start_time, frames = TextMelCollate(hparams.n_frames_per_step), time.perf_counter(), 0
    for start in range(0, len(order), batch_size):
        indices = order[start:start + batch_size]
        batch = [dataset[i] for i in indices]
        text, text_lengths, mels, _, mel_lengths = collate(batch)  # mels padded to a multiple of r
        assert text_lengths.tolist() == [len(ids) for ids, _ in batch], "collate reordered the batch"
        _, mels_postnet, _, _ = model(text.to(device), text_lengths.to(device), mels.to(device),
                                      mel_lengths.to(device))
        for row, index in enumerate(indices):
            mel = mels_postnet[row, :, :int(mel_lengths[row])].float().cpu().numpy()  # the recording's frames
            path = gta_mel_path(output_directory, dataset.items[index][0])
            atomic_write(path, lambda handle, mel=mel: np.save(handle, mel))
            frames += mel.shape[1]
        done, seconds = start + len(indices), time.perf_counter() - start_time
        eta = seconds / done * (len(order) - done)
        print(f"{filelist}: {done}/{len(order)} utterances | {frames / seconds:.0f} frames/s | "
              f"ETA {eta:.0f} s", flush=True)
    return len(order)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="Tacotron 2 checkpoint (ours or NVIDIA's)")
    parser.add_argument("--filelist", required=True, nargs="+", help="path|text filelists")
    parser.add_argument("--output_dir", required=True, help="folder for the <name>.npy mels")
    parser.add_argument("--hparams", default="", help="overrides, e.g. data_root=... (the filelists' root)")
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--device", default=None, choices=["cpu", "cuda"],
                        help="default: CUDA when available")
    parser.add_argument("--seed", type=int, default=1234, help="for the prenet's dropout")
    args = parser.parse_args(argv)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    try:
        model, hparams = load_tacotron2(args.checkpoint, args.hparams, device)
        paths = {path for filelist in args.filelist
                 for path, _, _ in load_filepaths_and_text(filelist, hparams.data_root)}
        check_unique_stems(sorted(paths), " and ".join(args.filelist))  # they share one output folder
        torch.manual_seed(args.seed)
        for filelist in args.filelist:
            count = write_gta_mels(model, hparams, filelist, args.output_dir, args.batch_size, device)
            print(f"Wrote {count} GTA mels of {filelist} to {args.output_dir}")
    except (ValueError, FileNotFoundError) as error:
        raise SystemExit(f"error: {error}") from None


if __name__ == "__main__":
    main()
