"""Train WaveGlow on random audio segments of Tacotron 2's filelists, with the same mel settings:

    python3 -m waveglow_vocoder.train -o outdir -l logdir [--config waveglow.json] [--hparams ...] [-c checkpoint]
    torchrun --standalone --nproc_per_node=N -m waveglow_vocoder.train ... --hparams=distributed_run=True

--hparams (train.py's syntax) gives the filelists, audio settings, seed, num_workers, fp16_run and
distributed_run; --config, a JSON object of WaveGlowConfig and TrainConfig fields, the model and its loop.
"""

import argparse
import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, DistributedSampler
from torch.utils.tensorboard import SummaryWriter

import distributed
from data_utils import load_filepaths_and_text, load_wav
from hparams import HParams, create_hparams
from layers import TacotronSTFT

from .checkpoint import save_waveglow
from .model import WaveGlow, WaveGlowConfig, WaveGlowLoss


@dataclass
class TrainConfig:
    """The reference's train_config and segment_length, with its defaults."""

    segment_length: int = 16000  # audio samples per example (0.73 s at 22050 Hz)
    sigma: float = 1.0  # standard deviation of the Gaussian the flow maps audio to
    learning_rate: float = 1e-4
    batch_size: int = 12  # per process
    epochs: int = 100000
    iters_per_checkpoint: int = 2000
    max_iterations: int = 0  # stop after this many iterations in all (0: run all epochs)
    checkpoints_to_keep: int = 5  # the newest N waveglow_<iteration> files are kept


def load_config(path: str | None) -> tuple[WaveGlowConfig, TrainConfig]:
    """A flat JSON object of WaveGlowConfig and TrainConfig fields (missing ones keep the defaults)."""
    values = json.loads(Path(path).read_text()) if path else {}
    names = [{f.name for f in dataclasses.fields(cls)} for cls in (WaveGlowConfig, TrainConfig)]
    if unknown := sorted(set(values) - names[0] - names[1]):
        raise ValueError(f"{path}: unknown keys {unknown}; known: {sorted(names[0] | names[1])}")
    return (WaveGlowConfig(**{k: v for k, v in values.items() if k in names[0]}),
            TrainConfig(**{k: v for k, v in values.items() if k in names[1]}))


class AudioSegments(Dataset):
    """(mel (n_mels, segment_length // hop + 1), audio (segment_length,)): a random segment of each file,
    zero-padded if the file is shorter (the reference's mel2samp), its mel computed on the segment."""

    def __init__(self, filelist: str, hparams: HParams, segment_length: int):
        self.paths = [path for path, _, _ in load_filepaths_and_text(filelist, hparams.data_root)]
        self.hparams, self.segment_length = hparams, segment_length
        self.stft = TacotronSTFT(hparams.filter_length, hparams.hop_length, hparams.win_length,
                                 hparams.n_mel_channels, hparams.sampling_rate, hparams.mel_fmin, hparams.mel_fmax)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        audio = load_wav(self.paths[index], self.hparams.sampling_rate, self.hparams.allow_resample)
        start = int(torch.randint(max(audio.numel() - self.segment_length, 0) + 1, ()))
        audio = F.pad(audio[start:start + self.segment_length], (0, max(self.segment_length - audio.numel(), 0)))
        with torch.no_grad():
            return self.stft.mel_spectrogram(audio.unsqueeze(0)).squeeze(0), audio


def train(output_directory: str, log_directory: str, checkpoint_path: str | None, hparams: HParams,
          config: WaveGlowConfig, train_config: TrainConfig, device_name: str | None = None) -> int:
    """The training loop (one path for CPU/CUDA, DDP or not, fp32 or AMP); returns the last iteration."""
    rank, world_size, local_rank = distributed.init_distributed(
        hparams.distributed_run, hparams.dist_backend, hparams.dist_url)
    cuda = torch.cuda.is_available() if device_name is None else device_name.startswith("cuda")
    device = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
    main_process = distributed.is_main_process()
    torch.manual_seed(hparams.seed)
    checkpoint = torch.load(checkpoint_path, map_location="cpu", weights_only=True) if checkpoint_path else {}
    config = WaveGlowConfig(**checkpoint["config"]) if checkpoint else config  # resume the model it holds
    if (config.n_mel_channels, config.hop_length) != (hparams.n_mel_channels, hparams.hop_length):
        raise ValueError(f"WaveGlow takes {config.n_mel_channels} mels at hop {config.hop_length}, but the "
                         f"hparams make {hparams.n_mel_channels} at hop {hparams.hop_length}")
    model = WaveGlow(config).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=train_config.learning_rate)
    # As train.py: float16 autocast with loss scaling on CUDA, bfloat16 (no scaling needed) on CPU.
    autocast = torch.autocast(device.type, dtype=torch.float16 if cuda else torch.bfloat16, enabled=hparams.fp16_run)
    scaler = torch.amp.GradScaler(device.type, enabled=hparams.fp16_run and cuda)
    if checkpoint:
        model.load_state_dict(checkpoint["state_dict"])
        if "optimizer" in checkpoint:
            optimizer.load_state_dict(checkpoint["optimizer"])
        if checkpoint.get("scaler"):
            scaler.load_state_dict(checkpoint["scaler"])
    iteration, raw_model = int(checkpoint.get("iteration", 0)), model
    if hparams.distributed_run:
        model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[local_rank] if cuda else None)

    dataset = AudioSegments(hparams.training_files, hparams, train_config.segment_length)
    sampler = DistributedSampler(dataset, world_size, rank, seed=hparams.seed) if hparams.distributed_run else None
    loader = DataLoader(dataset, batch_size=train_config.batch_size, shuffle=sampler is None, sampler=sampler,
                        num_workers=hparams.num_workers, drop_last=True, pin_memory=cuda)
    if len(loader) == 0:
        raise ValueError(f"{hparams.training_files}: {len(dataset)} files, fewer than one batch per process")
    criterion = WaveGlowLoss(train_config.sigma)
    output_directory, writer = Path(output_directory), None
    if main_process:
        output_directory.mkdir(parents=True, exist_ok=True)
        writer = SummaryWriter(log_directory)
        print(f"Training WaveGlow on {device} x {world_size}: {config}, {train_config}", flush=True)
    done = False
    for epoch in range(iteration // len(loader), train_config.epochs):
        if sampler is not None:
            sampler.set_epoch(epoch)
        for mel, audio in loader:
            start = time.perf_counter()
            mel, audio = mel.to(device, non_blocking=True), audio.to(device, non_blocking=True)
            with autocast:
                outputs = model(mel, audio)
            loss = criterion(outputs)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)  # skipped by the scaler when fp16 gradients overflowed
            scaler.update()
            iteration += 1
            reduced_loss = distributed.all_reduce_mean(loss.detach())
            done = bool(train_config.max_iterations) and iteration >= train_config.max_iterations
            if main_process:
                duration = time.perf_counter() - start
                print(f"it {iteration} | loss {reduced_loss:.6f} | {duration:.2f} s/it", flush=True)
                writer.add_scalar("training.loss", reduced_loss, iteration)
                writer.add_scalar("duration", duration, iteration)
                if iteration % train_config.iters_per_checkpoint == 0 or done:
                    path = output_directory / f"waveglow_{iteration}"
                    print(f"Saving model and optimizer state at iteration {iteration} to {path}", flush=True)
                    save_waveglow(path, raw_model, iteration=iteration, optimizer=optimizer.state_dict(),
                                  scaler=scaler.state_dict(), learning_rate=train_config.learning_rate,
                                  train_config=dataclasses.asdict(train_config), hparams=dataclasses.asdict(hparams))
                    found = sorted(output_directory.glob("waveglow_*"), key=lambda p: int(p.name.split("_")[1]))
                    for old in found[:-train_config.checkpoints_to_keep]:
                        old.unlink()
            if done:
                break
        if done:
            break
    if writer is not None:
        writer.close()
    distributed.cleanup()
    return iteration


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-o", "--output_directory", required=True, help="directory to save checkpoints")
    parser.add_argument("-l", "--log_directory", required=True, help="directory to save TensorBoard logs")
    parser.add_argument("-c", "--checkpoint_path", default=None, help="our checkpoint to resume from")
    parser.add_argument("--config", default=None, help="JSON of WaveGlowConfig and TrainConfig fields")
    parser.add_argument("--hparams", default="", help="Tacotron 2 hparams overrides: data, audio, run switches")
    parser.add_argument("--device", default=None, choices=["cpu", "cuda"], help="default: CUDA when available")
    args = parser.parse_args(argv)
    config, train_config = load_config(args.config)
    train(args.output_directory, args.log_directory, args.checkpoint_path, create_hparams(args.hparams), config,
          train_config, args.device)


if __name__ == "__main__":
    main()
