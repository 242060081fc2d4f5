"""Train Tacotron 2: one training path for CPU or CUDA, one process or DDP, fp32 or mixed precision.

    python3 train.py --output_directory=outdir --log_directory=logdir
    python3 train.py -o outdir -l logdir --hparams=preset=demo --target_val_loss=0.5

Top to bottom: the data, the learning-rate schedule, validation, the step (train_step, also what
benchmark.py times), what rank 0 writes, and the loop (train). The machinery every trainer shares is
training.py's (process group, resumable data order, non-finite-step guard, stop signals, progress line);
checkpoint files are checkpoint.py's.
"""

import argparse
import dataclasses
import warnings
from pathlib import Path
from typing import NamedTuple

import torch
from torch.utils.data import DataLoader, DistributedSampler

import distributed
import training
from checkpoint import (
    load_checkpoint,  # noqa: F401 (NVIDIA's train.py name: importable here)
    prepare_output_directory,
    prune_checkpoints,
    resume_or_warm_start,
    rng_state,
    save_checkpoint,
    warm_start_model,  # noqa: F401 (NVIDIA's train.py name: importable here)
    with_mel_statistics,
)
from data_utils import TextMelCollate, TextMelLoader, check_filelist, prepare_filelists
from evaluate import ValidationIntelligibility
from hparams import HParams, create_hparams, diff_from_defaults
from logger import Tacotron2Logger, save_alignment_png
from loss_function import Tacotron2Loss, alignment_metrics, per_step_targets
from model import Tacotron2
from training import TrainingDiverged, backward_and_step, learning_rate_at
from waveglow_vocoder import load_vocoder


def prepare_dataloaders(hparams: HParams, world_size: int, rank: int):
    """-> (train_loader, val_loader, train_sampler); both sets sharded across processes under DDP."""
    trainset = TextMelLoader(hparams.training_files, hparams)
    valset = TextMelLoader(hparams.validation_files, hparams)
    if len(trainset) < hparams.batch_size * world_size:
        raise ValueError(f"{hparams.training_files}: {len(trainset)} utterances, fewer than one batch "
                         f"(batch_size={hparams.batch_size} x {world_size} processes)")
    collate_fn = TextMelCollate(hparams.n_frames_per_step)
    train_sampler = training.ResumableSampler(trainset, world_size, rank, hparams.seed)
    val_sampler = (DistributedSampler(valset, world_size, rank, shuffle=False) if hparams.distributed_run
                   else None)
    loader_args = dict(collate_fn=collate_fn, **training.loader_options(hparams.seed, hparams.num_workers))
    train_loader = DataLoader(trainset, batch_size=hparams.batch_size, sampler=train_sampler, drop_last=True,
                              persistent_workers=hparams.num_workers > 0, **loader_args)
    val_loader = DataLoader(valset, batch_size=hparams.batch_size, sampler=val_sampler, **loader_args)
    return train_loader, val_loader, train_sampler


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
        focus, coverage = alignment_metrics(outputs[3].float(), text_lengths,
                                            per_step_targets(gates, mel_lengths, r)[1])
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
    gate_targets, decoder_lengths = per_step_targets(gates, mel_lengths, hparams.n_frames_per_step)
    steps, tokens = int(decoder_lengths[0]), int(text_lengths[0])
    alignment = outputs[3][0, :steps, :tokens].float().cpu().numpy()
    logger.log_validation(iteration, metrics, alignment, mels[0, :, :mel_lengths[0]].cpu().numpy(),
                          outputs[1][0, :, :mel_lengths[0]].float().cpu().numpy(),
                          gate_targets[0, :steps].cpu().numpy(),
                          torch.sigmoid(outputs[2][0, :steps].float()).cpu().numpy())
    save_alignment_png(alignment, output_directory / "alignment.png",
                       f"iteration {iteration}, focus rate {metrics['focus_rate']:.2f}")
    model.eval()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an untrained model runs to max_decoder_steps; that is expected
        mel = model.inference(text[:1, :tokens])[1].float()
    model.train()
    audio = load_vocoder(None, hparams, device=mel.device)(mel)[0]  # Griffin-Lim
    logger.add_audio("audio", audio.cpu().unsqueeze(0), iteration, sample_rate=hparams.sampling_rate)


def scheduled_sampling_inputs(model, autocast, text, text_lengths, mels, mel_lengths, probability: float):
    """Parallel scheduled sampling (Duckworth et al. 2019, arXiv:1906.04331): a first teacher-forced pass
    without gradients predicts every frame; each frame the decoder will read is then replaced by that
    prediction with `probability`. The second pass, which learns, so goes on from its own output part of
    the time, as at inference, where a model that only ever saw recorded frames drifts (exposure bias).
    -> decoder inputs (B, n_mels, T_out): recorded frames with predicted ones mixed in."""
    with torch.no_grad(), autocast:
        # before the postnet, as inference
        predicted = model(text, text_lengths, mels, mel_lengths)[0].float()
    replace = torch.rand(mels.size(0), 1, mels.size(2), device=mels.device) < probability
    return torch.where(replace, predicted, mels)


def decoder_input_dropout(model, inputs: torch.Tensor, probability: float) -> torch.Tensor:
    """Each frame the decoder reads (B, n_mels, T_out) replaced, with `probability`, by the training set's
    mean frame (the go frame: zero in the decoder's standardised space). A decoder that may not see the
    previous frame must say the next one from the text it attends to, where teacher forcing alone lets it
    lean on the recorded previous frame and drift in free running."""
    raw = model.module if hasattr(model, "module") else model
    mean = raw.mel_mean.view(1, -1, 1).to(inputs.dtype)
    drop = torch.rand(inputs.size(0), 1, inputs.size(2), device=inputs.device) < probability
    return torch.where(drop, mean.expand_as(inputs), inputs)


def train_step(model, criterion, optimizer, scaler, autocast, batch, device, hparams: HParams,
               iteration: int) -> tuple[dict, torch.Tensor, bool]:
    """One step at iteration's learning rate -> (losses averaged over processes, gradient norm, stepped)."""
    for group in optimizer.param_groups:
        group["lr"] = learning_rate_at(iteration, hparams)
    text, text_lengths, mels, gates, mel_lengths = [t.to(device, non_blocking=True) for t in batch]
    guided_weight = hparams.guided_attn_weight * hparams.guided_attn_decay**iteration
    # The forward pass updates the batch norms' running statistics: kept aside (a few KB), so that a
    # skipped step (a NaN in a bad batch, say) leaves the whole model as it was, buffers included.
    buffers = [buffer.clone() for buffer in model.buffers()]
    decoder_inputs = None
    if hparams.scheduled_sampling > 0 and iteration >= hparams.scheduled_sampling_start:
        decoder_inputs = scheduled_sampling_inputs(model, autocast, text, text_lengths, mels, mel_lengths,
                                                   hparams.scheduled_sampling)
    if hparams.decoder_input_dropout > 0:
        decoder_inputs = decoder_input_dropout(model, mels if decoder_inputs is None else decoder_inputs,
                                               hparams.decoder_input_dropout)
    with autocast:
        outputs = model(text, text_lengths, mels, mel_lengths, decoder_inputs)
        loss, parts = criterion(outputs, mels, gates, text_lengths, mel_lengths, guided_weight)
    grad_norm, stepped = backward_and_step(model, optimizer, scaler, loss, hparams.grad_clip_thresh)
    if not stepped:
        with torch.no_grad():
            for buffer, saved in zip(model.buffers(), buffers):
                buffer.copy_(saved)
    losses = {"loss": distributed.all_reduce_mean(loss.detach())}
    losses.update({name: distributed.all_reduce_mean(value) for name, value in parts.items()})
    return losses, grad_norm, stepped


class Outputs(NamedTuple):
    """What rank 0 writes to besides the console (logger and intelligibility are None on other ranks)."""

    directory: Path  # checkpoints and alignment.png
    logger: Tacotron2Logger | None  # TensorBoard
    intelligibility: ValidationIntelligibility | None  # what a recognizer hears at each validation


def open_outputs(output_directory: str, log_directory: str, hparams: HParams, process, model, train_loader,
                 val_loader) -> Outputs:
    """On rank 0: the recognizer, the checkpoint folder, the TensorBoard writer, and a first line that says
    what runs where."""
    if not process.is_main:
        return Outputs(Path(output_directory), None, None)
    val_intelligibility = ValidationIntelligibility(hparams, val_loader.dataset)
    output_directory = prepare_output_directory(output_directory)
    logger = Tacotron2Logger(log_directory)
    print(f"Training on {process.device} x {process.world_size}, "
          f"{sum(p.numel() for p in model.parameters()):,} parameters, {len(train_loader.dataset)} training "
          f"utterances; hparams differing from the defaults: {diff_from_defaults(hparams)}")
    return Outputs(output_directory, logger, val_intelligibility)


def log_step(logger, progress: training.Progress, iteration: int, losses: dict, grad_norm: torch.Tensor,
             learning_rate: float, stepped: bool, frames: float) -> None:
    """On rank 0: the progress line and TensorBoard scalars of one iteration (frames: of all processes)."""
    duration = progress.step_seconds()
    frames_per_second = frames / duration
    fields = [f"loss {losses['loss']:.4f} (mel {losses['mel']:.3f} post {losses['postnet_mel']:.3f} gate "
              f"{losses['gate']:.3f} attn {losses['guided_attn']:.3f})", f"grad {float(grad_norm):.2f}",
              f"lr {learning_rate:.1e}", f"{duration:.2f} s/it", f"{frames_per_second:.0f} frames/s"]
    print(progress.line(iteration, fields, stepped), flush=True)
    logger.log_training(iteration, losses, float(grad_norm), learning_rate, duration, frames_per_second)


def validate_and_report(model, criterion, val_loader, autocast, process, outputs: Outputs, iteration: int,
                        hparams: HParams, progress: training.Progress,
                        skipped_steps: int) -> tuple[dict, float]:
    """validate() on every rank; on rank 0 also the validation line, pictures and audio, and what the
    recognizer hears (its word error rates join the metrics). -> (metrics, seconds elapsed at validation)"""
    metrics, last = validate(model, criterion, val_loader, process.device, autocast)
    elapsed = progress.elapsed()
    if not process.is_main:
        return metrics, elapsed
    print(f"Validation loss {iteration}: {metrics['loss']:.6f} | focus rate {metrics['focus_rate']:.3f} | "
          f"coverage {metrics['coverage']:.2f} | {elapsed:.0f} s elapsed"
          + (f" | {skipped_steps} steps skipped" if skipped_steps else ""), flush=True)
    raw_model = model.module if process.distributed else model
    log_validation(outputs.logger, outputs.directory, iteration, metrics, last, raw_model, hparams)
    heard = outputs.intelligibility(raw_model, hparams)
    for name, value in heard.items():
        outputs.logger.add_scalar(f"validation.{name}", value, iteration)
    if heard:
        print(f"Intelligibility {iteration} ({len(outputs.intelligibility.texts)} validation utterances, "
              f"Griffin-Lim): WER free running {heard['wer_free_running']:.2f}, teacher forced "
              f"{heard['wer_teacher_forced']:.2f}, ceiling {heard['wer_ceiling']:.2f}", flush=True)
    return {**metrics, **heard}, elapsed


def save_and_prune(process, outputs: Outputs, model, optimizer, scaler, hparams: HParams,
                   learning_rate: float, iteration: int, **training_state) -> None:
    """Every rank calls this, to give rank 0 its random state; rank 0 writes checkpoint_<iteration>
    (training_state: skipped_steps, best_val_loss, best_iteration) and prunes the older ones."""
    rng = distributed.all_gather_object(rng_state())
    if process.is_main:
        save_checkpoint(model, optimizer, scaler, hparams, learning_rate, iteration,
                        outputs.directory / f"checkpoint_{iteration}", rng=rng, **training_state)
        prune_checkpoints(outputs.directory, hparams.checkpoints_to_keep, training_state["best_iteration"])


def train(output_directory: str, log_directory: str, checkpoint_path: str | None, warm_start: bool,
          n_gpus: int, rank: int, group_name: str, hparams: HParams, target_val_loss: float | None = None,
          device_name: str | None = None) -> dict:
    """Train until hparams.epochs / max_iterations, until the validation loss reaches target_val_loss, or
    until SIGTERM / SIGINT (each ends with a checkpoint); training.TrainingDiverged after max_nonfinite_steps
    non-finite steps in a row. -> {iteration, target_reached, validation (the last metrics), stopped_by (a
    signal's name or None), losses (the training loss of each iteration of this run), skipped_steps}."""
    process = training.start_process(hparams, n_gpus, rank, group_name, device_name, log_directory)
    hparams = with_mel_statistics(hparams, checkpoint_path, warm_start)
    model = Tacotron2(hparams).to(process.device)
    criterion = Tacotron2Loss.for_model(model, hparams)
    optimizer = torch.optim.Adam(model.parameters(), lr=hparams.learning_rate,
                                 weight_decay=hparams.weight_decay)
    autocast, scaler = training.mixed_precision(process.device, hparams.fp16_run)
    resumed, hparams = resume_or_warm_start(checkpoint_path, warm_start, model, optimizer, scaler, hparams)
    raw_model, model = model, training.distribute(model, process)
    train_loader, val_loader, _ = prepare_dataloaders(hparams, process.world_size, process.rank)
    outputs = open_outputs(output_directory, log_directory, hparams, process, raw_model, train_loader,
                           val_loader)
    iteration, best = training.resume_position(resumed, process, checkpoint_path), training.Best.of(resumed)
    skipped = training.SkippedSteps(hparams.max_nonfinite_steps, total=int(resumed.get("skipped_steps", 0)))
    progress = training.Progress(iteration, hparams.max_iterations, hparams.epochs * len(train_loader))
    validation, target_reached, loss_history = None, False, []
    with training.StopRequest() as stop:
        for batch in training.batches_from(train_loader, iteration, hparams.epochs):
            progress.start_step()
            losses, grad_norm, stepped = train_step(model, criterion, optimizer, scaler, autocast, batch,
                                                    process.device, hparams, iteration)
            learning_rate, iteration = learning_rate_at(iteration, hparams), iteration + 1  # the rate used
            loss_history.append(losses["loss"])
            if process.is_main:
                log_step(outputs.logger, progress, iteration, losses, grad_norm, learning_rate, stepped,
                         frames=float(batch[4].sum()) * process.world_size)
            diverged, stopped = skipped.count(stepped), stop.anywhere()
            done = bool(hparams.max_iterations) and iteration >= hparams.max_iterations
            validating = (iteration % hparams.iters_per_checkpoint == 0 or done) and not diverged
            if validating:
                validation, elapsed = validate_and_report(model, criterion, val_loader, autocast,
                                                          process, outputs, iteration, hparams, progress,
                                                          skipped.total)
                best.update(validation["loss"], iteration)
                target_reached = target_val_loss is not None and validation["loss"] <= target_val_loss
            if validating or stopped or diverged:  # after a skipped step too: it never changes the weights
                save_and_prune(process, outputs, raw_model, optimizer, scaler, hparams, learning_rate,
                               iteration, skipped_steps=skipped.total, **dataclasses.asdict(best))
            # The validation metrics and the stop flags are the same on every rank: all stop together.
            if done or target_reached or stopped or diverged:
                break
    if target_reached and process.is_main:
        print(f"Reached target validation loss {target_val_loss} (got {validation['loss']:.4f}) at "
              f"iteration {iteration} after {elapsed:.0f} s", flush=True)
    del model  # the DDP wrapper, before the process group goes (distributed.cleanup says why)
    stopped_by = training.finish(stop, skipped, iteration, outputs.directory / f"checkpoint_{iteration}",
                                 process, writer=outputs.logger)
    return {"iteration": iteration, "target_reached": target_reached, "validation": validation,
            "stopped_by": stopped_by, "losses": loss_history, "skipped_steps": skipped.total}


def check_data(hparams: HParams) -> None:
    """Write LJ Speech's filelists if they are missing and the corpus is there; then check every line and
    file of both filelists, so that bad data fails before training starts, in one error."""
    ljspeech = Path(hparams.data_root or ".") / "LJSpeech-1.1"
    if (not Path(hparams.training_files).exists() and "ljs_audio_text" in hparams.training_files
            and ljspeech.is_dir()):
        print(f"Writing the LJ Speech filelists from {ljspeech}/metadata.csv")
        prepare_filelists(ljspeech, Path(hparams.training_files).parent, "ljs", data_root=hparams.data_root)
    for filelist in (hparams.training_files, hparams.validation_files):
        check_filelist(filelist, hparams)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-o", "--output_directory", type=str, required=True,
                        help="directory to save checkpoints")
    parser.add_argument("-l", "--log_directory", type=str, required=True,
                        help="directory to save TensorBoard logs")
    parser.add_argument("-c", "--checkpoint_path", type=str, default=None, help="checkpoint to resume from")
    parser.add_argument("--warm_start", action="store_true",
                        help="load model weights only, skipping ignore_layers")
    parser.add_argument("--n_gpus", type=int, default=1, help="number of processes (reference flag)")
    parser.add_argument("--rank", type=int, default=0, help="rank of this process (reference flag)")
    parser.add_argument("--group_name", type=str, default="group_name",
                        help="distributed group name (unused)")
    parser.add_argument("--hparams", type=str, default="",
                        help="comma-separated name=value pairs; preset=demo")
    parser.add_argument("--target_val_loss", type=float, default=None,
                        help="stop as soon as a validation loss is at or below this value")
    parser.add_argument("--device", type=str, default=None, choices=["cpu", "cuda"],
                        help="default: CUDA when available, else CPU")
    parser.add_argument("--check_data", action="store_true",
                        help="only validate the training and validation filelists and audio, then exit")
    args = parser.parse_args()

    try:
        hparams = create_hparams(args.hparams)
    except ValueError as error:
        parser.error(str(error))
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device=cuda but no CUDA device is available")
    torch.backends.cudnn.enabled = hparams.cudnn_enabled
    torch.backends.cudnn.benchmark = hparams.cudnn_benchmark
    try:
        check_data(hparams)
        if args.check_data:
            print("Data OK: " + ", ".join((hparams.training_files, hparams.validation_files)))
            return
        print(f"FP16 Run: {hparams.fp16_run} | Distributed Run: {hparams.distributed_run} | "
              f"cuDNN Enabled: {hparams.cudnn_enabled} | cuDNN Benchmark: {hparams.cudnn_benchmark}")
        summary = train(args.output_directory, args.log_directory, args.checkpoint_path, args.warm_start,
                        args.n_gpus, args.rank, args.group_name, hparams, args.target_val_loss, args.device)
    except (TrainingDiverged, ValueError, FileNotFoundError) as error:
        raise SystemExit(f"error: {error}") from None
    if args.target_val_loss is not None and not summary["target_reached"] and not summary["stopped_by"]:
        print(f"Target validation loss {args.target_val_loss} not reached; "
              f"last validation: {summary['validation']}")


if __name__ == "__main__":
    main()
