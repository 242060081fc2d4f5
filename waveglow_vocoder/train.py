"""Train WaveGlow on random audio segments of Tacotron 2's filelists, with the same mel settings:

    python3 -m waveglow_vocoder.train -o outdir -l logdir [--config waveglow.json] [--hparams ...]
        [-c checkpoint]
    torchrun --standalone --nproc_per_node=N -m waveglow_vocoder.train ... --hparams=distributed_run=True

--hparams (train.py's syntax) gives the filelists, audio settings, seed, num_workers, fp16_run and
distributed_run; --config, a JSON object of WaveGlowConfig and TrainConfig fields, the model and its loop.
"""

import argparse
import dataclasses
import json
import math
import random
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset
from torch.utils.tensorboard import SummaryWriter

import distributed
from checkpoint import load_states, prepare_output_directory, prune_checkpoints, read_checkpoint, rng_state
from data_utils import load_filepaths_and_text, load_wav
from files import make_output_directory
from hparams import HParams, create_hparams
from layers import TacotronSTFT
from training import (
    Progress,
    ResumableSampler,
    SkippedSteps,
    StopRequest,
    TrainingDiverged,
    backward_and_step,
    batches_from,
    distribute,
    finish,
    loader_options,
    mixed_precision,
    resume_position,
    start_process,
)

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
    zero-padded if the file is shorter (the reference's mel2samp), its mel computed on the segment.

    Where the segment starts is drawn from (hparams.seed, epoch, index) alone, not from a process's random
    state: a resumed run cuts the same segments as an uninterrupted one, with loader workers too (they are
    started each epoch, after batches_from's set_epoch)."""

    def __init__(self, filelist: str, hparams: HParams, segment_length: int):
        self.paths = [path for path, _, _ in load_filepaths_and_text(filelist, hparams.data_root)]
        self.hparams, self.segment_length, self.epoch = hparams, segment_length, 0
        self.stft = TacotronSTFT(hparams.filter_length, hparams.hop_length, hparams.win_length,
                                 hparams.n_mel_channels, hparams.sampling_rate, hparams.mel_fmin,
                                 hparams.mel_fmax)

    def __len__(self) -> int:
        return len(self.paths)

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        audio = load_wav(self.paths[index], self.hparams.sampling_rate, self.hparams.allow_resample)
        draw = random.Random(f"{self.hparams.seed}/{self.epoch}/{index}")
        start = draw.randint(0, max(audio.numel() - self.segment_length, 0))
        audio = F.pad(audio[start:start + self.segment_length],
                      (0, max(self.segment_length - audio.numel(), 0)))
        with torch.no_grad():
            return self.stft.mel_spectrogram(audio.unsqueeze(0)).squeeze(0), audio


def segment_loader(hparams: HParams, train_config: TrainConfig, process) -> DataLoader:
    """Random segments of the training files, shuffled by seed and epoch, one shard per process, in an order
    that a resumed run takes up where the checkpoint left off (ResumableSampler)."""
    dataset = AudioSegments(hparams.training_files, hparams, train_config.segment_length)
    sampler = ResumableSampler(dataset, process.world_size, process.rank, hparams.seed)
    loader = DataLoader(dataset, batch_size=train_config.batch_size, sampler=sampler, drop_last=True,
                        pin_memory=process.device.type == "cuda",
                        **loader_options(hparams.seed, hparams.num_workers))
    if len(loader) == 0:
        raise ValueError(f"{hparams.training_files}: {len(dataset)} files, fewer than one batch per process")
    return loader


def log_step(writer, progress: Progress, iteration: int, loss: float, grad_norm: torch.Tensor, stepped: bool,
             samples: int) -> None:
    """On rank 0: the progress line and TensorBoard scalars of one iteration (samples: of all processes)."""
    duration = progress.step_seconds()
    fields = [f"loss {loss:.6f}", f"grad {float(grad_norm):.2f}", f"{duration:.2f} s/it",
              f"{samples / duration:.0f} samples/s"]
    print(progress.line(iteration, fields, stepped), flush=True)
    writer.add_scalar("training.loss", loss, iteration)
    writer.add_scalar("grad.norm", float(grad_norm), iteration)
    writer.add_scalar("duration", duration, iteration)


def save(process, output_directory: Path, model: WaveGlow, optimizer, scaler, hparams: HParams,
         train_config: TrainConfig, iteration: int, **training_state) -> None:
    """Every rank calls this, to give rank 0 its random state; rank 0 writes waveglow_<iteration> (the
    layout of save_waveglow, with the optimizer, scaler, configs, random states and training_state) and
    keeps the last train_config.checkpoints_to_keep."""
    rng = distributed.all_gather_object(rng_state())
    if process.is_main:
        path = output_directory / f"waveglow_{iteration}"
        print(f"Saving model and optimizer state at iteration {iteration} to {path}", flush=True)
        save_waveglow(path, model, iteration=iteration, optimizer=optimizer.state_dict(),
                      scaler=scaler.state_dict(), learning_rate=train_config.learning_rate,
                      train_config=dataclasses.asdict(train_config), hparams=dataclasses.asdict(hparams),
                      rng=rng, **training_state)
        prune_checkpoints(output_directory, train_config.checkpoints_to_keep, prefix="waveglow")


def train(output_directory: str, log_directory: str, checkpoint_path: str | None, hparams: HParams,
          config: WaveGlowConfig, train_config: TrainConfig, device_name: str | None = None) -> int:
    """The training loop (one path for CPU/CUDA, DDP or not, fp32 or AMP), until train_config.epochs /
    max_iterations or SIGTERM / SIGINT (each ends with a checkpoint); TrainingDiverged after
    hparams.max_nonfinite_steps non-finite steps in a row. Returns the last iteration."""
    process = start_process(hparams, device_name=device_name, log_directory=log_directory)
    checkpoint = read_checkpoint(checkpoint_path) if checkpoint_path else {}
    config = WaveGlowConfig(**checkpoint["config"]) if checkpoint else config  # resume the model it holds
    if (config.n_mel_channels, config.hop_length) != (hparams.n_mel_channels, hparams.hop_length):
        raise ValueError(f"WaveGlow takes {config.n_mel_channels} mels at hop {config.hop_length}, but the "
                         f"hparams make {hparams.n_mel_channels} at hop {hparams.hop_length}")
    model = WaveGlow(config).to(process.device)
    optimizer = torch.optim.Adam(model.parameters(), lr=train_config.learning_rate)
    autocast, scaler = mixed_precision(process.device, hparams.fp16_run)
    if checkpoint:
        model.load_state_dict(checkpoint["state_dict"])
        load_states(checkpoint, {"optimizer": optimizer, "scaler": scaler})
    raw_model, model = model, distribute(model, process)
    loader, criterion = segment_loader(hparams, train_config, process), WaveGlowLoss(train_config.sigma)
    output_directory, writer = Path(output_directory), None
    if process.is_main:
        output_directory = prepare_output_directory(output_directory, prefix="waveglow")
        writer = SummaryWriter(str(make_output_directory(log_directory)))
        print(f"Training WaveGlow on {process.device} x {process.world_size}: {config}, {train_config}",
              flush=True)
    iteration = resume_position(checkpoint, process, checkpoint_path)  # with batches_from: an exact resume
    skipped = SkippedSteps(hparams.max_nonfinite_steps, total=int(checkpoint.get("skipped_steps", 0)))
    progress = Progress(iteration, train_config.max_iterations, train_config.epochs * len(loader))
    with StopRequest() as stop:
        for mel, audio in batches_from(loader, iteration, train_config.epochs):
            progress.start_step()
            mel, audio = (t.to(process.device, non_blocking=True) for t in (mel, audio))
            with autocast:
                outputs = model(mel, audio)
            loss = criterion(outputs)
            # The reference does not clip WaveGlow's gradients: math.inf only measures their norm.
            grad_norm, stepped = backward_and_step(model, optimizer, scaler, loss, math.inf)
            iteration += 1
            reduced_loss = distributed.all_reduce_mean(loss.detach())
            if process.is_main:
                log_step(writer, progress, iteration, reduced_loss, grad_norm, stepped,
                         samples=audio.numel() * process.world_size)
            diverged, stopped = skipped.count(stepped), stop.anywhere()
            done = bool(train_config.max_iterations) and iteration >= train_config.max_iterations
            if iteration % train_config.iters_per_checkpoint == 0 or done or stopped or diverged:
                # after a skipped step too: it never changes the weights
                save(process, output_directory, raw_model, optimizer, scaler, hparams, train_config,
                     iteration, skipped_steps=skipped.total)
            if done or stopped or diverged:  # the same on every rank: all stop together
                break
    del model  # the DDP wrapper, before the process group goes (distributed.cleanup says why)
    finish(stop, skipped, iteration, output_directory / f"waveglow_{iteration}", process, writer)
    return iteration


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-o", "--output_directory", required=True, help="directory to save checkpoints")
    parser.add_argument("-l", "--log_directory", required=True, help="directory to save TensorBoard logs")
    parser.add_argument("-c", "--checkpoint_path", default=None, help="our checkpoint to resume from")
    parser.add_argument("--config", default=None, help="JSON of WaveGlowConfig and TrainConfig fields")
    parser.add_argument("--hparams", default="",
                        help="Tacotron 2 hparams overrides: data, audio, run switches")
    parser.add_argument("--device", default=None, choices=["cpu", "cuda"],
                        help="default: CUDA when available")
    args = parser.parse_args(argv)
    try:
        hparams = create_hparams(args.hparams)
        config, train_config = load_config(args.config)
    except ValueError as error:
        parser.error(str(error))
    try:
        train(args.output_directory, args.log_directory, args.checkpoint_path, hparams, config, train_config,
              args.device)
    except (TrainingDiverged, ValueError, FileNotFoundError) as error:
        raise SystemExit(f"error: {error}") from None


if __name__ == "__main__":
    main()
