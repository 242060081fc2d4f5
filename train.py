"""Train Tacotron 2: one training path for CPU or CUDA, one process or DDP, fp32 or mixed precision.

    python3 train.py --output_directory=outdir --log_directory=logdir
    python3 train.py -o outdir -l logdir --hparams=preset=demo --target_val_loss=0.5
"""

import argparse
import contextlib
import dataclasses
import math
import os
import random
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, DistributedSampler

import distributed
from checkpoint import check_compatible, read_checkpoint, state_dict_of
from data_utils import TextMelCollate, TextMelLoader, check_filelist, prepare_filelists
from hparams import HParams, create_hparams, diff_from_defaults
from logger import Tacotron2Logger, save_alignment_png
from model import Tacotron2, Tacotron2Loss, alignment_metrics
from waveglow_vocoder import GriffinLimVocoder


def prepare_dataloaders(hparams: HParams, world_size: int, rank: int):
    """-> (train_loader, val_loader, train_sampler); both sets sharded across processes under DDP."""
    trainset = TextMelLoader(hparams.training_files, hparams)
    valset = TextMelLoader(hparams.validation_files, hparams)
    if len(trainset) < hparams.batch_size * world_size:
        raise ValueError(f"{hparams.training_files}: {len(trainset)} utterances, fewer than one batch "
                         f"(batch_size={hparams.batch_size} x {world_size} processes)")
    collate_fn = TextMelCollate(hparams.n_frames_per_step)
    train_sampler = val_sampler = None
    if hparams.distributed_run:
        train_sampler = DistributedSampler(trainset, world_size, rank, shuffle=True, seed=hparams.seed)
        val_sampler = DistributedSampler(valset, world_size, rank, shuffle=False)
    generator = torch.Generator().manual_seed(hparams.seed)
    train_loader = DataLoader(trainset, batch_size=hparams.batch_size, shuffle=train_sampler is None,
                              sampler=train_sampler, num_workers=hparams.num_workers, drop_last=True,
                              collate_fn=collate_fn, generator=generator,
                              persistent_workers=hparams.num_workers > 0)
    val_loader = DataLoader(valset, batch_size=hparams.batch_size, sampler=val_sampler,
                            num_workers=hparams.num_workers, collate_fn=collate_fn)
    return train_loader, val_loader, train_sampler


def load_checkpoint(path: str, model, optimizer, scaler) -> tuple[int, float]:
    """Restore model, optimizer and scaler state; returns (iteration, learning_rate)."""
    checkpoint = read_checkpoint(path)
    check_compatible(model, state_dict_of(checkpoint), path)
    model.load_state_dict(state_dict_of(checkpoint))
    if "optimizer" in checkpoint:
        optimizer.load_state_dict(checkpoint["optimizer"])
    if checkpoint.get("scaler"):
        scaler.load_state_dict(checkpoint["scaler"])
    print(f"Loaded checkpoint '{path}' from iteration {checkpoint.get('iteration', 0)}")
    return int(checkpoint.get("iteration", 0)), float(checkpoint.get("learning_rate", 0.0))


def warm_start_model(path: str, model, ignore_layers: list[str]):
    """Load weights from a checkpoint, keeping the model's own values for `ignore_layers`."""
    state_dict = state_dict_of(read_checkpoint(path))
    state_dict = {k: v for k, v in state_dict.items() if k not in ignore_layers}
    check_compatible(model, state_dict, path, ignore=tuple(ignore_layers))
    model.load_state_dict({**model.state_dict(), **state_dict})
    print(f"Warm started from '{path}', keeping fresh: {', '.join(ignore_layers) or 'nothing'}")
    return model


def save_checkpoint(model, optimizer, scaler, hparams: HParams, learning_rate: float, iteration: int,
                    path: Path) -> None:
    """Write atomically: a temporary file in the same folder, fsync, rename."""
    print(f"Saving model and optimizer state at iteration {iteration} to {path}")
    checkpoint = {"iteration": iteration, "state_dict": model.state_dict(), "optimizer": optimizer.state_dict(),
                  "learning_rate": learning_rate, "hparams": dataclasses.asdict(hparams),
                  "scaler": scaler.state_dict()}
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        torch.save(checkpoint, f)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


def prune_checkpoints(output_directory: Path, keep: int) -> None:
    """Delete all but the newest `keep` checkpoint_<iteration> files."""
    found = sorted(output_directory.glob("checkpoint_*"), key=lambda p: int(p.name.split("_")[1]))
    for old in found[:-keep] if keep > 0 else []:
        old.unlink()


def learning_rate_at(iteration: int, hparams: HParams) -> float:
    """Constant (reference), or exponential decay after lr_decay_start down to min_learning_rate."""
    if hparams.lr_schedule == "constant" or iteration < hparams.lr_decay_start:
        return hparams.learning_rate
    decayed = hparams.learning_rate * hparams.lr_decay_rate ** (
        (iteration - hparams.lr_decay_start) / hparams.lr_decay_steps)
    return max(decayed, hparams.min_learning_rate)


@torch.no_grad()
def validate(model, criterion, val_loader, device, autocast) -> tuple[dict, tuple]:
    """Teacher-forced validation loss (without the guided-attention term, so values compare with the
    reference's), its parts and alignment health, averaged over all processes; plus the last batch."""
    model.eval()
    totals = {"loss": 0.0, "mel": 0.0, "postnet_mel": 0.0, "gate": 0.0, "focus_rate": 0.0, "coverage": 0.0}
    n_batches = 0
    for batch in val_loader:
        text, text_lengths, mels, gates, mel_lengths = [t.to(device, non_blocking=True) for t in batch]
        with autocast:
            outputs = model(text, text_lengths, mels, mel_lengths)
            _, parts = criterion(outputs, mels, gates, text_lengths, mel_lengths)
        r = criterion.n_frames_per_step
        focus, coverage = alignment_metrics(outputs[3].float(), text_lengths, (mel_lengths + r - 1) // r)
        values = {"mel": parts["mel"], "postnet_mel": parts["postnet_mel"], "gate": parts["gate"],
                  "focus_rate": focus, "coverage": coverage}
        values["loss"] = float(parts["mel"] + parts["postnet_mel"] + parts["gate"])
        for name, value in values.items():
            totals[name] += float(value)
        n_batches += 1
    model.train()
    metrics = {name: distributed.all_reduce_mean(total / max(n_batches, 1)) for name, total in totals.items()}
    return metrics, (batch, outputs)


def log_validation(logger, output_directory: Path, iteration: int, metrics: dict, last, model,
                   hparams: HParams) -> None:
    """Pictures of one validation utterance to TensorBoard, the alignment as a PNG file, and the same
    utterance synthesised free-running and turned into audio by Griffin-Lim."""
    (text, text_lengths, mels, gates, mel_lengths), outputs = last
    r = hparams.n_frames_per_step
    steps, tokens = int(math.ceil(int(mel_lengths[0]) / r)), int(text_lengths[0])
    alignment = outputs[3][0, :steps, :tokens].float().cpu().numpy()
    logger.log_validation(iteration, metrics, alignment, mels[0, :, :mel_lengths[0]].cpu().numpy(),
                          outputs[1][0, :, :mel_lengths[0]].float().cpu().numpy(),
                          gates[0, r - 1::r][:steps].cpu().numpy(),
                          torch.sigmoid(outputs[2][0, :steps].float()).cpu().numpy())
    save_alignment_png(alignment, output_directory / "alignment.png",
                       f"iteration {iteration}, focus rate {metrics['focus_rate']:.2f}")
    model.eval()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an untrained model runs to max_decoder_steps; that is expected
        mel = model.inference(text[:1, :tokens])[1].float()
    model.train()
    audio = GriffinLimVocoder(hparams, n_iters=hparams.griffin_lim_iters).to(mel.device)(mel)[0]
    logger.add_audio("audio", audio.cpu().unsqueeze(0), iteration, sample_rate=hparams.sampling_rate)


def train(output_directory: str, log_directory: str, checkpoint_path: str | None, warm_start: bool,
          n_gpus: int, rank: int, group_name: str, hparams: HParams, target_val_loss: float | None = None,
          device_name: str | None = None) -> dict:
    """Train until hparams.epochs / max_iterations, or until the validation loss reaches target_val_loss.

    Returns a summary: final iteration, last validation metrics, whether the target was reached."""
    rank, world_size, local_rank = distributed.init_distributed(
        hparams.distributed_run, hparams.dist_backend, hparams.dist_url, n_gpus, rank, group_name)
    cuda = torch.cuda.is_available() if device_name is None else device_name.startswith("cuda")
    device = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
    main_process = distributed.is_main_process()
    if not main_process:  # one console stays readable: ranks 1..N-1 write to files in the log directory
        distributed.redirect_output(Path(log_directory) / f"rank_{rank}.log")
    torch.manual_seed(hparams.seed)
    np.random.seed(hparams.seed)
    random.seed(hparams.seed)

    model = Tacotron2(hparams).to(device)
    criterion = Tacotron2Loss(hparams.n_frames_per_step, hparams.guided_attn_sigma)
    optimizer = torch.optim.Adam(model.parameters(), lr=hparams.learning_rate, weight_decay=hparams.weight_decay)
    # Mixed precision: float16 + loss scaling on CUDA, bfloat16 (no scaling needed) on CPU.
    autocast = torch.autocast(device.type, dtype=torch.float16 if cuda else torch.bfloat16,
                              enabled=hparams.fp16_run)
    scaler = torch.amp.GradScaler(device.type, enabled=hparams.fp16_run and cuda)

    iteration = 0
    if checkpoint_path and warm_start:
        warm_start_model(checkpoint_path, model, hparams.ignore_layers)
    elif checkpoint_path:
        iteration, saved_lr = load_checkpoint(checkpoint_path, model, optimizer, scaler)
        if hparams.use_saved_learning_rate and saved_lr:
            hparams = dataclasses.replace(hparams, learning_rate=saved_lr)
    raw_model = model
    if hparams.distributed_run:
        model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[local_rank] if cuda else None)

    train_loader, val_loader, train_sampler = prepare_dataloaders(hparams, world_size, rank)
    output_directory = Path(output_directory)
    logger = None
    if main_process:
        output_directory.mkdir(parents=True, exist_ok=True)
        logger = Tacotron2Logger(str(Path(log_directory)))
        print(f"Training on {device} x {world_size}, {sum(p.numel() for p in raw_model.parameters()):,} "
              f"parameters, {len(train_loader.dataset)} training utterances; hparams differing from the "
              f"defaults: {diff_from_defaults(hparams)}")

    start_time, skipped_steps = time.perf_counter(), 0
    epoch_offset = iteration // max(len(train_loader), 1)
    summary = {"iteration": iteration, "target_reached": False, "validation": None, "skipped_steps": 0}
    model.train()
    done = False
    for epoch in range(epoch_offset, hparams.epochs):
        if train_sampler is not None:
            train_sampler.set_epoch(epoch)
        for batch in train_loader:
            step_start = time.perf_counter()
            learning_rate = learning_rate_at(iteration, hparams)
            for group in optimizer.param_groups:
                group["lr"] = learning_rate
            text, text_lengths, mels, gates, mel_lengths = [t.to(device, non_blocking=True) for t in batch]
            guided_weight = hparams.guided_attn_weight * hparams.guided_attn_decay ** iteration
            with autocast:
                outputs = model(text, text_lengths, mels, mel_lengths)
                loss, parts = criterion(outputs, mels, gates, text_lengths, mel_lengths, guided_weight)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), hparams.grad_clip_thresh)
            if torch.isfinite(grad_norm):
                scaler.step(optimizer)
            else:  # an overflow (fp16) or a bad batch: never write non-finite values into the weights
                skipped_steps += 1
            scaler.update()
            iteration += 1

            losses = {"loss": distributed.all_reduce_mean(loss.detach())}
            losses.update({name: distributed.all_reduce_mean(value) for name, value in parts.items()})
            duration = time.perf_counter() - step_start
            frames_per_second = float(mel_lengths.sum()) * world_size / duration
            if main_process:
                print(f"it {iteration} | loss {losses['loss']:.4f} (mel {losses['mel']:.3f} post "
                      f"{losses['postnet_mel']:.3f} gate {losses['gate']:.3f} attn {losses['guided_attn']:.3f}) | "
                      f"grad {float(grad_norm):.2f} | lr {learning_rate:.1e} | {duration:.2f} s/it | "
                      f"{frames_per_second:.0f} frames/s", flush=True)
                logger.log_training(iteration, losses, float(grad_norm), learning_rate, duration, frames_per_second)

            done = bool(hparams.max_iterations) and iteration >= hparams.max_iterations
            if iteration % hparams.iters_per_checkpoint == 0 or done:
                metrics, last = validate(model, criterion, val_loader, device, autocast)
                reached = target_val_loss is not None and metrics["loss"] <= target_val_loss
                summary.update(iteration=iteration, validation=metrics, target_reached=reached,
                               skipped_steps=skipped_steps)
                if main_process:
                    elapsed = time.perf_counter() - start_time
                    print(f"Validation loss {iteration}: {metrics['loss']:.6f} | focus rate "
                          f"{metrics['focus_rate']:.3f} | coverage {metrics['coverage']:.2f} | "
                          f"{elapsed:.0f} s elapsed", flush=True)
                    log_validation(logger, output_directory, iteration, metrics, last, raw_model, hparams)
                    save_checkpoint(raw_model, optimizer, scaler, hparams, learning_rate, iteration,
                                    output_directory / f"checkpoint_{iteration}")
                    prune_checkpoints(output_directory, hparams.checkpoints_to_keep)
                    if reached:
                        print(f"Reached target validation loss {target_val_loss} (got {metrics['loss']:.4f}) at "
                              f"iteration {iteration} after {elapsed:.0f} s", flush=True)
                # Every rank holds the same all-reduced metrics, so all ranks stop together.
                if reached:
                    done = True
            if done:
                break
        if done:
            break
    if logger is not None:
        logger.close()
    distributed.cleanup()
    summary["skipped_steps"] = skipped_steps
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-o", "--output_directory", type=str, required=True, help="directory to save checkpoints")
    parser.add_argument("-l", "--log_directory", type=str, required=True, help="directory to save TensorBoard logs")
    parser.add_argument("-c", "--checkpoint_path", type=str, default=None, help="checkpoint to resume from")
    parser.add_argument("--warm_start", action="store_true", help="load model weights only, skipping ignore_layers")
    parser.add_argument("--n_gpus", type=int, default=1, help="number of processes (reference flag)")
    parser.add_argument("--rank", type=int, default=0, help="rank of this process (reference flag)")
    parser.add_argument("--group_name", type=str, default="group_name", help="distributed group name (unused)")
    parser.add_argument("--hparams", type=str, default="", help="comma-separated name=value pairs; preset=demo")
    parser.add_argument("--target_val_loss", type=float, default=None,
                        help="stop as soon as a validation loss is at or below this value")
    parser.add_argument("--device", type=str, default=None, choices=["cpu", "cuda"],
                        help="default: CUDA when available, else CPU")
    parser.add_argument("--check_data", action="store_true",
                        help="only validate the training and validation filelists and audio, then exit")
    args = parser.parse_args()

    hparams = create_hparams(args.hparams)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device=cuda but no CUDA device is available")
    torch.backends.cudnn.enabled = hparams.cudnn_enabled
    torch.backends.cudnn.benchmark = hparams.cudnn_benchmark
    ljspeech = Path(hparams.data_root or ".") / "LJSpeech-1.1"
    if not Path(hparams.training_files).exists() and "ljs_audio_text" in hparams.training_files and ljspeech.is_dir():
        print(f"Writing the LJ Speech filelists from {ljspeech}/metadata.csv")
        prepare_filelists(ljspeech, Path(hparams.training_files).parent, "ljs", data_root=hparams.data_root)
    for filelist in (hparams.training_files, hparams.validation_files):
        check_filelist(filelist, hparams)  # every bad file or line in one error, before training starts
    if args.check_data:
        print("Data OK: " + ", ".join((hparams.training_files, hparams.validation_files)))
        return
    print(f"FP16 Run: {hparams.fp16_run} | Distributed Run: {hparams.distributed_run} | "
          f"cuDNN Enabled: {hparams.cudnn_enabled} | cuDNN Benchmark: {hparams.cudnn_benchmark}")
    summary = train(args.output_directory, args.log_directory, args.checkpoint_path, args.warm_start,
                    args.n_gpus, args.rank, args.group_name, hparams, args.target_val_loss, args.device)
    if args.target_val_loss is not None and not summary["target_reached"]:
        print(f"Target validation loss {args.target_val_loss} not reached; last validation: {summary['validation']}")


if __name__ == "__main__":
    main()
