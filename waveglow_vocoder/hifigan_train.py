"""Train HiFi-GAN (Kong et al. 2020) on Tacotron 2's filelists and mels: random segments of the recordings,
a discriminator step then a generator step per batch, as the reference (jik876/hifi-gan) trains.

    python3 -m waveglow_vocoder.hifigan_train -o outdir -l logdir [--config v1|v2|v3|config.json]
        [-c checkpoint] [--warm_start g_FILE [--warm_start_discriminators do_FILE]] [--input_mels DIR]
    torchrun --standalone --nproc_per_node=N -m waveglow_vocoder.hifigan_train ... \
        --hparams=distributed_run=True

--hparams (train.py's syntax) gives the filelists, audio settings, seed, num_workers, fp16_run and
distributed_run; --config the generator (a preset, or a JSON of HiFiGANConfig and TrainConfig fields: the
reference's config_v1.json reads as it is) and the loop; --input_mels gta_mels.py's mels for fine-tuning.
"""

import argparse
import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torch.utils.tensorboard import SummaryWriter

import distributed
import training
from checkpoint import load_states, prepare_output_directory, prune_checkpoints, read_checkpoint, rng_state
from files import make_output_directory
from hparams import HParams, create_hparams
from layers import TacotronSTFT
from logger import plot_spectrogram
from training import TrainingDiverged, backward_and_step

from .discriminators import (
    Discriminators,
    discriminator_loss,
    feature_loss,
    generator_loss,
    load_discriminator_state,
)
from .hifigan import PRESETS, Generator, HiFiGANConfig
from .hifigan_checkpoint import save_hifigan
from .hifigan_data import MelAudio

MEL_LOSS_WEIGHT = 45  # λ_mel (§2.3)


@dataclass
class TrainConfig:
    """The training fields of the reference's config_v*.json with its values, and the loop's settings."""

    batch_size: int = 16  # per process
    learning_rate: float = 2e-4  # AdamW, for both the generator and the discriminators
    adam_b1: float = 0.8
    adam_b2: float = 0.99
    lr_decay: float = 0.999  # the learning rate's factor per epoch
    segment_size: int = 8192  # audio samples per example (0.37 s at 22050 Hz; 32 mel frames)
    fmax_for_loss: float | None = None  # top of the mel loss' band: None is the Nyquist frequency
    epochs: int = 3100  # the reference's training_epochs
    max_iterations: int = 0  # stop after this many iterations in all (0: run all epochs)
    iters_per_validation: int = 1000
    iters_per_checkpoint: int = 5000
    checkpoints_to_keep: int = 5  # the newest N hifigan_<iteration> files are kept
    validation_audio: int = 3  # validation utterances whose audio and mel go to TensorBoard
    # Not the reference's: every discriminator layer this many times narrower (1: the reference, 70.7 M
    # parameters; 8: 1.1 M, a CPU-sized run, and a smaller checkpoint than its 850 MB)
    discriminator_divisor: int = 1


# Fields of the reference's config.json that are not ours: its audio settings, which must be the hparams',
# and its run settings, which the hparams and the launcher give here.
REFERENCE_AUDIO = {"num_mels": "n_mel_channels", "n_fft": "filter_length", "hop_size": "hop_length",
                   "win_size": "win_length", "sampling_rate": "sampling_rate", "fmin": "mel_fmin",
                   "fmax": "mel_fmax"}
REFERENCE_IGNORED = {"num_gpus", "num_workers", "dist_config", "seed", "num_freq"}


def load_config(spec: str, hparams: HParams) -> tuple[HiFiGANConfig, TrainConfig]:
    """'v1', 'v2', 'v3' (the reference's generators, TrainConfig's defaults), or a JSON object of
    HiFiGANConfig and TrainConfig fields (missing ones keep V1's and the defaults), such as the reference's
    config_v1.json."""
    if spec in PRESETS:
        return PRESETS[spec], TrainConfig()
    try:
        values = json.loads(Path(spec).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"--config {spec}: neither v1, v2, v3 nor a readable JSON file ({error})") from None
    names = [{f.name for f in dataclasses.fields(cls)} for cls in (HiFiGANConfig, TrainConfig)]
    if unknown := sorted(set(values) - names[0] - names[1] - set(REFERENCE_AUDIO) - REFERENCE_IGNORED):
        raise ValueError(f"{spec}: unknown keys {unknown}; known: {sorted(names[0] | names[1])}")
    if differ := [f"{key}={values[key]} (hparams {name}={getattr(hparams, name)})" for key, name
                  in REFERENCE_AUDIO.items() if key in values and values[key] != getattr(hparams, name)]:
        raise ValueError(f"{spec}: audio settings differ from the hparams': {', '.join(differ)}")
    return (HiFiGANConfig(**{k: v for k, v in values.items() if k in names[0]}),
            TrainConfig(**{k: v for k, v in values.items() if k in names[1]}))


def load_weights(module: torch.nn.Module, state_dict: dict, path, load=torch.nn.Module.load_state_dict):
    """load_state_dict (strict; old weight_g / weight_v names load too), with an error that names the file."""
    try:
        load(module, state_dict)
    except (RuntimeError, KeyError) as error:
        raise ValueError(f"{path} does not fit this model (give the --config it was trained with): "
                         f"{str(error)[:2000]}") from None


def log_step(writer, progress, iteration: int, losses: list[float], stepped: bool, samples: int,
             learning_rate: float) -> None:
    """On rank 0: the progress line and TensorBoard scalars (the reference's tags) of one iteration."""
    duration = progress.step_seconds()
    fields = [f"d {losses[0]:.3f}", f"g {losses[1]:.3f}", f"mel {losses[2]:.3f}", f"{duration:.2f} s/it",
              f"{samples / duration:.0f} samples/s"]
    print(progress.line(iteration, fields, stepped), flush=True)
    for tag, value in zip(("disc_loss_total", "gen_loss_total", "mel_spec_error"), losses):
        writer.add_scalar(f"training/{tag}", value, iteration)
    writer.add_scalar("learning.rate", learning_rate, iteration)


@torch.no_grad()
def validate(generator: Generator, dataset: MelAudio, loss_stft: TacotronSTFT, writer, iteration: int,
             train_config: TrainConfig, device, with_ground_truth: bool) -> float:
    """Mean mel L1 (the loss' mels) of whole validation utterances; a few of them to TensorBoard."""
    generator.eval()
    errors = []
    for index in range(len(dataset)):
        mel, audio = (t.to(device).unsqueeze(0) for t in dataset[index])  # (1, n_mels, T), (1, N)
        generated = generator(mel)[:, 0, :audio.size(1)]  # T * hop >= N samples: trimmed to the recording's
        generated_mel, real_mel = loss_stft.mel_spectrogram(generated), loss_stft.mel_spectrogram(audio)
        errors.append(float(F.l1_loss(generated_mel, real_mel)))
        if index < train_config.validation_audio:
            rate = dataset.hparams.sampling_rate
            writer.add_audio(f"generated/y_hat_{index}", generated[0].cpu(), iteration, rate)
            picture = plot_spectrogram(generated_mel[0].cpu().numpy())
            writer.add_figure(f"generated/y_hat_spec_{index}", picture, iteration)
            if with_ground_truth:
                writer.add_audio(f"gt/y_{index}", audio[0].cpu(), iteration, rate)
                writer.add_figure(f"gt/y_spec_{index}", plot_spectrogram(real_mel[0].cpu().numpy()),
                                  iteration)
    generator.train()
    writer.add_scalar("validation/mel_spec_error", sum(errors) / len(errors), iteration)
    return sum(errors) / len(errors)


def train(output_directory: str, log_directory: str, checkpoint_path: str | None, hparams: HParams,
          config: HiFiGANConfig, train_config: TrainConfig, device_name: str | None = None,
          warm_start: str | None = None, warm_start_discriminators: str | None = None,
          input_mels: str | None = None) -> int:
    """The training loop (one path for CPU/CUDA, DDP or not, fp32 or AMP), until train_config.epochs /
    max_iterations or SIGTERM / SIGINT (each ends with a checkpoint); TrainingDiverged after
    hparams.max_nonfinite_steps non-finite steps in a row. Returns the last iteration."""
    if checkpoint_path and warm_start:
        raise ValueError("-c resumes a run and --warm_start starts a new one from weights: give one of them")
    process = training.start_process(hparams, device_name=device_name, log_directory=log_directory)
    checkpoint = read_checkpoint(checkpoint_path) if checkpoint_path else {}
    start = read_checkpoint(warm_start) if warm_start else {}
    if saved := checkpoint or start:  # the generator a file holds, if it says (a reference g_ file does not)
        config = HiFiGANConfig.from_dict(saved["config"]) if "config" in saved else config
    discriminator_file = checkpoint or (read_checkpoint(warm_start_discriminators)
                                        if warm_start_discriminators else {})
    if "train_config" in discriminator_file:  # ours: the discriminators' width too is the file's
        train_config = dataclasses.replace(train_config, discriminator_divisor=int(
            discriminator_file["train_config"].get("discriminator_divisor", 1)))
    if (config.num_mels, config.hop_length) != (hparams.n_mel_channels, hparams.hop_length):
        raise ValueError(f"the generator takes {config.num_mels} mels at hop {config.hop_length}, but the "
                         f"hparams make {hparams.n_mel_channels} at hop {hparams.hop_length}")
    generator, discriminators = Generator(config), Discriminators(train_config.discriminator_divisor)
    generator, discriminators = generator.to(process.device), discriminators.to(process.device)
    betas = (train_config.adam_b1, train_config.adam_b2)
    optim_g = torch.optim.AdamW(generator.parameters(), train_config.learning_rate, betas=betas)
    optim_d = torch.optim.AdamW([*discriminators.msd.parameters(), *discriminators.mpd.parameters()],
                                train_config.learning_rate, betas=betas)  # the reference's order: MSD, MPD
    autocast, scaler_g = training.mixed_precision(process.device, hparams.fp16_run)
    scaler_d = training.mixed_precision(process.device, hparams.fp16_run)[1]  # a GradScaler per optimizer
    states = {"optim_g": optim_g, "optim_d": optim_d, "scaler_g": scaler_g, "scaler_d": scaler_d,
              "scheduler_g": torch.optim.lr_scheduler.ExponentialLR(optim_g, train_config.lr_decay),
              "scheduler_d": torch.optim.lr_scheduler.ExponentialLR(optim_d, train_config.lr_decay)}
    generator_path = checkpoint_path or warm_start
    discriminator_path = checkpoint_path or warm_start_discriminators
    for file, path, keys in ((saved, generator_path, {"generator"}),
                             (discriminator_file, discriminator_path, {"mpd", "msd"})):
        if file and not keys <= file.keys():
            raise ValueError(f"{path}: has no {' and '.join(sorted(keys - file.keys()))} (a HiFi-GAN file?)")
    if saved:
        load_weights(generator, saved["generator"], generator_path)
    for name in ("mpd", "msd") if discriminator_file else ():
        load_weights(getattr(discriminators, name), discriminator_file[name], discriminator_path,
                     load_discriminator_state)
    load_states(checkpoint, states)  # a warm start (checkpoint {}) keeps fresh optimizers and schedulers
    raw_generator, generator = generator, training.distribute(generator, process)
    raw_discriminators, discriminators = discriminators, training.distribute(discriminators, process)
    dataset = MelAudio(hparams.training_files, hparams, train_config.segment_size, input_mels)
    sampler = training.ResumableSampler(dataset, process.world_size, process.rank, hparams.seed)
    loader = DataLoader(dataset, batch_size=train_config.batch_size, sampler=sampler, drop_last=True,
                        pin_memory=process.device.type == "cuda",
                        **training.loader_options(hparams.seed, hparams.num_workers))
    if len(loader) == 0:
        raise ValueError(f"{hparams.training_files}: {len(dataset)} files, fewer than one batch per process")
    # The loss' mels cover the whole band the generator makes, to the Nyquist frequency by default (the
    # reference's fmax_for_loss=None), though its input mels stop at mel_fmax.
    loss_stft = TacotronSTFT(hparams.filter_length, hparams.hop_length, hparams.win_length,
                             hparams.n_mel_channels, hparams.sampling_rate, hparams.mel_fmin,
                             train_config.fmax_for_loss).to(process.device)
    output_directory, writer, validation = Path(output_directory), None, None
    if process.is_main:
        output_directory = prepare_output_directory(output_directory, prefix="hifigan")
        writer = SummaryWriter(str(make_output_directory(log_directory)))
        validation = MelAudio(hparams.validation_files, hparams, input_mels=input_mels)
        print(f"Training HiFi-GAN on {process.device} x {process.world_size}: {config}, {train_config}"
              + (f", GTA mels from {input_mels}" if input_mels else ""), flush=True)
    iteration = training.resume_position(checkpoint, process, checkpoint_path)  # with batches_from: exact
    skipped = training.SkippedSteps(hparams.max_nonfinite_steps, int(checkpoint.get("skipped_steps", 0)))
    progress = training.Progress(iteration, train_config.max_iterations, train_config.epochs * len(loader))
    first_validation = True
    with training.StopRequest() as stop:
        for mel, audio in training.batches_from(loader, iteration, train_config.epochs):
            progress.start_step()
            mel, audio = (t.to(process.device, non_blocking=True) for t in (mel, audio))
            real_mel = loss_stft.mel_spectrogram(audio)  # (B, n_mels, frames)
            audio = audio.unsqueeze(1)  # (B, 1, segment_size)
            with autocast:
                generated = generator(mel)  # (B, 1, segment_size)
                real_scores, generated_scores, _, _ = discriminators(audio, generated.detach())
            loss_d = discriminator_loss(real_scores, generated_scores)
            _, d_stepped = backward_and_step(discriminators, optim_d, scaler_d, loss_d, math.inf)
            with autocast:  # the generator's step meets the discriminators just updated, as in the reference
                _, generated_scores, real_maps, generated_maps = discriminators(audio, generated)
            mel_error = F.l1_loss(loss_stft.mel_spectrogram(generated.squeeze(1)), real_mel)
            loss_g = (generator_loss(generated_scores) + feature_loss(real_maps, generated_maps)
                      + MEL_LOSS_WEIGHT * mel_error)
            _, g_stepped = backward_and_step(generator, optim_g, scaler_g, loss_g, math.inf)
            iteration += 1
            if iteration % len(loader) == 0:  # the end of an epoch: the reference's per-epoch decay
                states["scheduler_g"].step()
                states["scheduler_d"].step()
            losses = [distributed.all_reduce_mean(loss.detach()) for loss in (loss_d, loss_g, mel_error)]
            stepped = d_stepped and g_stepped  # a non-finite step is skipped by each optimizer it reached
            if process.is_main:
                log_step(writer, progress, iteration, losses, stepped, audio.numel() * process.world_size,
                         optim_g.param_groups[0]["lr"])
            if process.is_main and iteration % train_config.iters_per_validation == 0:
                error = validate(raw_generator, validation, loss_stft, writer, iteration, train_config,
                                 process.device, with_ground_truth=first_validation)
                first_validation = False
                print(f"Validation mel L1 {iteration}: {error:.4f} ({len(validation)} utterances, "
                      f"{progress.elapsed():.0f} s)", flush=True)
            diverged, stopped = skipped.count(stepped), stop.anywhere()
            done = bool(train_config.max_iterations) and iteration >= train_config.max_iterations
            if iteration % train_config.iters_per_checkpoint == 0 or done or stopped or diverged:
                rng = distributed.all_gather_object(rng_state())  # every rank's: an exact resume
                if process.is_main:
                    path = output_directory / f"hifigan_{iteration}"
                    print(f"Saving HiFi-GAN at iteration {iteration} to {path}", flush=True)
                    save_hifigan(path, raw_generator, mpd=raw_discriminators.mpd.state_dict(),
                                 msd=raw_discriminators.msd.state_dict(),
                                 **{name: thing.state_dict() for name, thing in states.items()},
                                 iteration=iteration, epoch=iteration // len(loader), rng=rng,
                                 skipped_steps=skipped.total, hparams=dataclasses.asdict(hparams),
                                 train_config=dataclasses.asdict(train_config))
                    prune_checkpoints(output_directory, train_config.checkpoints_to_keep, prefix="hifigan")
            if done or stopped or diverged:  # the same on every rank: all stop together
                break
    del generator, discriminators  # the DDP wrappers, before the process group goes (distributed.cleanup)
    training.finish(stop, skipped, iteration, output_directory / f"hifigan_{iteration}", process, writer)
    return iteration


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-o", "--output_directory", required=True, help="directory to save checkpoints")
    parser.add_argument("-l", "--log_directory", required=True, help="directory to save TensorBoard logs")
    parser.add_argument("-c", "--checkpoint_path", default=None, help="our checkpoint to resume from")
    parser.add_argument("--config", default="v1", help="v1, v2, v3, or a JSON of HiFiGANConfig and "
                                                       "TrainConfig fields (the reference's config.json)")
    parser.add_argument("--warm_start", default=None,
                        help="start from this generator's weights (ours, or the reference's g_ file)")
    parser.add_argument("--warm_start_discriminators", default=None,
                        help="and from these discriminators (a reference do_ file, or our checkpoint)")
    parser.add_argument("--input_mels", default=None,
                        help="train on gta_mels.py's mels in this folder instead of the recordings' own")
    parser.add_argument("--hparams", default="",
                        help="Tacotron 2 hparams overrides: data, audio, run switches")
    parser.add_argument("--device", default=None, choices=["cpu", "cuda"],
                        help="default: CUDA when available")
    args = parser.parse_args(argv)
    if args.warm_start_discriminators and not args.warm_start:
        parser.error("--warm_start_discriminators goes with --warm_start (a generator to start from)")
    try:
        hparams = create_hparams(args.hparams)
        config, train_config = load_config(args.config, hparams)
    except ValueError as error:
        parser.error(str(error))
    try:
        train(args.output_directory, args.log_directory, args.checkpoint_path, hparams, config, train_config,
              args.device, args.warm_start, args.warm_start_discriminators, args.input_mels)
    except (TrainingDiverged, ValueError, FileNotFoundError) as error:
        raise SystemExit(f"error: {error}") from None


if __name__ == "__main__":
    main()
