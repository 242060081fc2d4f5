"""Train Tacotron 2: one training path for CPU or CUDA, one process or DDP, fp32 or mixed precision.

    python3 train.py --output_directory=outdir --log_directory=logdir
    python3 train.py -o outdir -l logdir --hparams=preset=demo --target_val_loss=0.5
"""

import argparse
import copy
import dataclasses
import math
import random
import signal
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, DistributedSampler

import distributed
import evaluate
import intelligibility
from checkpoint import check_compatible, read_checkpoint, state_dict_of
from data_utils import TextMelCollate, TextMelLoader, check_filelist, mel_statistics, prepare_filelists
from files import atomic_write, make_output_directory
from hparams import HParams, create_hparams, diff_from_defaults
from inference import decode
from logger import Tacotron2Logger, save_alignment_png
from model import Tacotron2, Tacotron2Loss, alignment_metrics
from waveglow_vocoder import load_vocoder


class ResumableSampler(DistributedSampler):
    """Shuffles by seed + epoch each epoch (DistributedSampler: one shard per process, the whole set in a
    single process), and can start part-way into an epoch, so that a run resumed at iteration k gets the
    batches an uninterrupted run would have got."""

    def __init__(self, dataset, world_size: int, rank: int, seed: int):
        super().__init__(dataset, world_size, rank, shuffle=True, seed=seed)
        self.skip = 0

    def set_position(self, epoch: int, skip: int) -> None:
        self.set_epoch(epoch)
        self.skip = skip  # samples of this epoch already trained on

    def __iter__(self):
        indices = list(super().__iter__())[self.skip :]
        self.skip = 0  # only the epoch the run resumes in starts late
        return iter(indices)


def _ignore_sigint(_worker_id: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle (StopRequest)


def prepare_dataloaders(hparams: HParams, world_size: int, rank: int):
    """-> (train_loader, val_loader, train_sampler); both sets sharded across processes under DDP."""
    trainset = TextMelLoader(hparams.training_files, hparams)
    valset = TextMelLoader(hparams.validation_files, hparams)
    if len(trainset) < hparams.batch_size * world_size:
        raise ValueError(f"{hparams.training_files}: {len(trainset)} utterances, fewer than one batch "
                         f"(batch_size={hparams.batch_size} x {world_size} processes)")
    collate_fn = TextMelCollate(hparams.n_frames_per_step)
    train_sampler = ResumableSampler(trainset, world_size, rank, hparams.seed)
    val_sampler = DistributedSampler(valset, world_size, rank, shuffle=False) if hparams.distributed_run else None
    # The loaders draw their workers' base seed from their own generator, never from the global RNG, whose
    # state (dropout) is saved in checkpoints: where an epoch's iterator starts must not shift it.
    loader_args = dict(num_workers=hparams.num_workers, collate_fn=collate_fn, worker_init_fn=_ignore_sigint,
                       generator=torch.Generator().manual_seed(hparams.seed))
    train_loader = DataLoader(trainset, batch_size=hparams.batch_size, sampler=train_sampler, drop_last=True,
                              persistent_workers=hparams.num_workers > 0, **loader_args)
    val_loader = DataLoader(valset, batch_size=hparams.batch_size, sampler=val_sampler, **loader_args)
    return train_loader, val_loader, train_sampler


def with_mel_statistics(hparams: HParams, checkpoint_path: str | None, warm_start: bool) -> HParams:
    """For mel_normalization=per_channel: the statistics the run continues with when it resumes (the
    checkpoint's), else those of this run's training_files (a new run, or a warm start on a new corpus,
    whose model then adapts to the new corpus' scale). Stored in the hparams, so every checkpoint has them."""
    if hparams.mel_normalization != "per_channel" or hparams.mel_mean:
        return hparams
    if checkpoint_path and not warm_start:
        saved = read_checkpoint(checkpoint_path).get("hparams", {})
        if saved.get("mel_mean"):
            return dataclasses.replace(hparams, mel_mean=saved["mel_mean"], mel_std=saved["mel_std"])
    mean, std = mel_statistics(TextMelLoader(hparams.training_files, hparams))
    return dataclasses.replace(hparams, mel_mean=mean.tolist(), mel_std=std.tolist())


def load_checkpoint(path: str, model, optimizer, scaler) -> dict:
    """Restore model, optimizer and scaler state; returns the checkpoint (iteration, rng, best_* ...)."""
    checkpoint = read_checkpoint(path)
    check_compatible(model, state_dict_of(checkpoint), path)
    model.load_state_dict(state_dict_of(checkpoint))
    if "optimizer" in checkpoint:
        optimizer.load_state_dict(checkpoint["optimizer"])
    if checkpoint.get("scaler"):
        scaler.load_state_dict(checkpoint["scaler"])
    print(f"Loaded checkpoint '{path}' from iteration {checkpoint.get('iteration', 0)}")
    return checkpoint


def warm_start_model(path: str, model, ignore_layers: list[str]):
    """Load weights from a checkpoint, keeping the model's own values for `ignore_layers`, and for the
    symbol embedding when the checkpoint's symbol set has another size (a model trained with
    another text front end): every other layer must fit, or the error lists what does not."""
    state_dict = state_dict_of(read_checkpoint(path))
    fresh = list(ignore_layers)
    own_embedding = model.state_dict().get("embedding.weight")
    theirs = state_dict.get("embedding.weight")
    if "embedding.weight" not in fresh and theirs is not None and own_embedding is not None \
            and theirs.shape != own_embedding.shape:
        print(f"Warm start: the checkpoint embeds {theirs.shape[0]} symbols, this model {own_embedding.shape[0]}: "
              "the symbol embedding starts fresh")
        fresh.append("embedding.weight")
    state_dict = {k: v for k, v in state_dict.items() if k not in fresh}
    check_compatible(model, state_dict, path, ignore=tuple(fresh))
    model.load_state_dict({**model.state_dict(), **state_dict})
    print(f"Warm started from '{path}', keeping fresh: {', '.join(fresh) or 'nothing'}")
    return model


def save_checkpoint(model, optimizer, scaler, hparams: HParams, learning_rate: float, iteration: int,
                    path: Path, **training_state) -> None:
    """Write atomically (a temporary file in the same folder, fsync, rename): a kill at any moment leaves
    the previous checkpoints intact. training_state: rng, best_val_loss, best_iteration and the like."""
    print(f"Saving model and optimizer state at iteration {iteration} to {path}", flush=True)
    checkpoint = {"iteration": iteration, "state_dict": model.state_dict(), "optimizer": optimizer.state_dict(),
                  "learning_rate": learning_rate, "hparams": dataclasses.asdict(hparams),
                  "scaler": scaler.state_dict(), **training_state}
    atomic_write(Path(path), lambda handle: torch.save(checkpoint, handle))


def prune_checkpoints(output_directory: Path, keep: int, best_iteration: int | None = None) -> None:
    """Delete all but the newest `keep` checkpoint_<iteration> files and the best one."""
    found = sorted(output_directory.glob("checkpoint_*"), key=lambda p: int(p.name.split("_")[1]))
    for old in found[:-keep] if keep > 0 else []:
        if old.name != f"checkpoint_{best_iteration}":
            old.unlink()


def rng_state() -> dict:
    """This process's random state (torch, CUDA, numpy, Python) in types that weights_only loading takes."""
    kind, keys, position, has_gauss, cached_gaussian = np.random.get_state()
    return {"torch": torch.get_rng_state(), "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), position, has_gauss, cached_gaussian],
            "python": random.getstate()}


def set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    kind, keys, position, has_gauss, cached_gaussian = state["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), position, has_gauss, cached_gaussian))
    version, internal, gauss_next = state["python"]
    random.setstate((version, tuple(internal), gauss_next))


class StopRequest:
    """SIGTERM or SIGINT during training is remembered, and acted on between two steps: checkpoint, then a
    clean exit. The handlers go back to the defaults on the first signal, so a second one stops at once."""

    def __init__(self):
        self.signal_name, self._previous = None, {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():  # signal handlers live in the main thread
            self._previous = {sig: signal.signal(sig, self._handle) for sig in (signal.SIGTERM, signal.SIGINT)}
        return self

    def _handle(self, signum, _frame) -> None:
        self.signal_name = signal.Signals(signum).name
        self.__exit__()

    def __exit__(self, *_exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}


class TrainingDiverged(RuntimeError):
    """Too many steps in a row had non-finite losses or gradients."""


def learning_rate_at(iteration: int, hparams: HParams) -> float:
    """Constant (reference), or exponential decay after lr_decay_start down to min_learning_rate; either
    after a linear warm-up over the first lr_warmup_steps iterations."""
    if iteration < hparams.lr_warmup_steps:
        return hparams.learning_rate * (iteration + 1) / hparams.lr_warmup_steps
    if hparams.lr_schedule == "constant" or iteration < hparams.lr_decay_start:
        return hparams.learning_rate
    decayed = hparams.learning_rate * hparams.lr_decay_rate ** (
        (iteration - hparams.lr_decay_start) / hparams.lr_decay_steps)
    return max(decayed, hparams.min_learning_rate)


def backward_and_step(model, optimizer, scaler, loss: torch.Tensor, grad_clip_thresh: float) -> tuple[torch.Tensor, bool]:
    """Backward (loss-scaled under fp16), clip, and an optimizer step only if every gradient is finite:
    an fp16 overflow or a bad batch is never written into the weights (under DDP the gradients are
    all-reduced first, so every rank takes the same decision). Returns (gradient norm, stepped)."""
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip_thresh)
    stepped = bool(torch.isfinite(grad_norm))
    if stepped:
        scaler.step(optimizer)
    scaler.update()  # after an overflow, the fp16 loss scale is halved
    return grad_norm, stepped


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
    audio = load_vocoder(None, hparams, device=mel.device)(mel)[0]  # Griffin-Lim
    logger.add_audio("audio", audio.cpu().unsqueeze(0), iteration, sample_rate=hparams.sampling_rate)


class ValidationIntelligibility:
    """What a speech recognizer hears of the first `val_wer_utterances` validation utterances through
    Griffin-Lim, teacher-forced and free-running: the measure that says whether the words can be heard,
    which the loss, the alignment and the stop token do not. The recordings' mels through the same
    vocoder are scored once, as the ceiling. A few seconds per validation; a note and nothing else when
    pocketsphinx or jiwer is not installed."""

    def __init__(self, hparams: HParams, valset: TextMelLoader):
        self.subset = copy.copy(valset)
        self.subset.items = valset.items[: hparams.val_wer_utterances]
        self.texts = [text for _, text, _ in self.subset.items]
        self.ceiling = None
        try:
            intelligibility.check_available()
        except ImportError as error:
            print(f"Note: no intelligibility at validation ({error})")
            self.subset = None

    def __call__(self, model, hparams: HParams) -> dict:
        if self.subset is None or not self.texts:
            return {}
        device = next(model.parameters()).device
        vocoder = load_vocoder(None, hparams, device=device)  # Griffin-Lim
        if self.ceiling is None:
            recordings = [self.subset.get_mel(path).to(device) for path, _, _ in self.subset.items]
            self.ceiling = intelligibility.intelligibility_of(recordings, self.texts, vocoder)["wer"]
        model.eval()
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an untrained model runs to max_decoder_steps; that is expected
            _, teacher_forced_mels = evaluate.teacher_forced(model, hparams, self.subset, len(self.texts))
            free_mels = [item.mel for item in decode(model, [self.subset.get_text(t) for t in self.texts])]
        model.train()
        return {"wer_teacher_forced": intelligibility.intelligibility_of(teacher_forced_mels, self.texts, vocoder)["wer"],
                "wer_free_running": intelligibility.intelligibility_of(free_mels, self.texts, vocoder)["wer"],
                "wer_ceiling": self.ceiling}


def prepare_output_directory(path: str) -> Path:
    """Create the checkpoint folder and remove temporary files that a killed save left behind (the
    checkpoints themselves are only ever renamed into place whole)."""
    output_directory = make_output_directory(path)
    for stale in output_directory.glob(".checkpoint_*.tmp"):
        stale.unlink()
    return output_directory


def scheduled_sampling_inputs(model, autocast, text, text_lengths, mels, mel_lengths, probability: float):
    """Parallel scheduled sampling (Duckworth et al. 2019, arXiv:1906.04331): a first teacher-forced pass
    without gradients predicts every frame; each frame the decoder will read is then replaced by that
    prediction with `probability`. The second pass, which learns, so goes on from its own output part of
    the time, as at inference, where a model that only ever saw recorded frames drifts (exposure bias).
    -> decoder inputs (B, n_mels, T_out): recorded frames with predicted ones mixed in."""
    with torch.no_grad(), autocast:
        predicted = model(text, text_lengths, mels, mel_lengths)[0].float()  # before the postnet, as inference
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


def train(output_directory: str, log_directory: str, checkpoint_path: str | None, warm_start: bool,
          n_gpus: int, rank: int, group_name: str, hparams: HParams, target_val_loss: float | None = None,
          device_name: str | None = None) -> dict:
    """Train until hparams.epochs / max_iterations, until the validation loss reaches target_val_loss, or
    until SIGTERM / SIGINT (each ends with a checkpoint). Raises TrainingDiverged after
    hparams.max_nonfinite_steps steps in a row whose losses or gradients were not finite.

    Returns a summary: iteration, last validation metrics, target_reached, skipped_steps, stopped_by (the
    signal's name or None) and losses (the training loss of each iteration of this run)."""
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

    hparams = with_mel_statistics(hparams, checkpoint_path, warm_start)
    model = Tacotron2(hparams).to(device)
    criterion = Tacotron2Loss.for_model(model, hparams)
    optimizer = torch.optim.Adam(model.parameters(), lr=hparams.learning_rate, weight_decay=hparams.weight_decay)
    # Mixed precision: float16 + loss scaling on CUDA, bfloat16 (no scaling needed) on CPU.
    autocast = torch.autocast(device.type, dtype=torch.float16 if cuda else torch.bfloat16,
                              enabled=hparams.fp16_run)
    scaler = torch.amp.GradScaler(device.type, enabled=hparams.fp16_run and cuda)

    resumed = {}
    if checkpoint_path and warm_start:
        warm_start_model(checkpoint_path, model, hparams.ignore_layers)
    elif checkpoint_path:
        resumed = load_checkpoint(checkpoint_path, model, optimizer, scaler)
        if hparams.use_saved_learning_rate and resumed.get("learning_rate"):
            hparams = dataclasses.replace(hparams, learning_rate=float(resumed["learning_rate"]))
    raw_model = model
    if hparams.distributed_run:
        model = torch.nn.parallel.DistributedDataParallel(model, device_ids=[local_rank] if cuda else None)

    train_loader, val_loader, train_sampler = prepare_dataloaders(hparams, world_size, rank)
    val_intelligibility = None
    if main_process and hparams.val_wer_utterances:
        val_intelligibility = ValidationIntelligibility(hparams, val_loader.dataset)
    logger = None
    if main_process:
        output_directory = prepare_output_directory(output_directory)
        logger = Tacotron2Logger(str(Path(log_directory)))
        print(f"Training on {device} x {world_size}, {sum(p.numel() for p in raw_model.parameters()):,} "
              f"parameters, {len(train_loader.dataset)} training utterances; hparams differing from the "
              f"defaults: {diff_from_defaults(hparams)}")
    output_directory = Path(output_directory)

    # Exact resume: the data order goes on from the same place in the same epoch, and every process gets
    # back its random state (dropout), so a resumed run repeats what an uninterrupted one would have done.
    iteration = int(resumed.get("iteration", 0))
    first_epoch, batch_in_epoch = divmod(iteration, len(train_loader))
    if resumed.get("rng") and len(resumed["rng"]) == world_size:
        set_rng_state(resumed["rng"][rank])
    elif resumed and main_process:
        print(f"Note: {checkpoint_path} holds no random state for {world_size} process(es): the run goes on "
              "from its weights and optimizer, but will not repeat an uninterrupted run exactly")
    best = {"best_val_loss": float(resumed.get("best_val_loss", math.inf)),
            "best_iteration": resumed.get("best_iteration")}
    skipped_steps, nonfinite_in_a_row = int(resumed.get("skipped_steps", 0)), 0
    summary = {"iteration": iteration, "target_reached": False, "validation": None, "stopped_by": None,
               "losses": []}

    def save() -> None:  # every rank calls it: the random states are gathered from all of them
        rng = distributed.all_gather_object(rng_state())
        if main_process:
            save_checkpoint(raw_model, optimizer, scaler, hparams, learning_rate,
                            iteration, output_directory / f"checkpoint_{iteration}", rng=rng,
                            skipped_steps=skipped_steps, **best)
            prune_checkpoints(output_directory, hparams.checkpoints_to_keep, best["best_iteration"])

    start_time, finished = time.perf_counter(), False
    stop_signal = diverged = False
    model.train()
    with StopRequest() as stop_request:
        for epoch in range(first_epoch, hparams.epochs):
            train_sampler.set_position(epoch, batch_in_epoch * hparams.batch_size)
            batch_in_epoch = 0
            for batch in train_loader:
                step_start = time.perf_counter()
                losses, grad_norm, stepped = train_step(model, criterion, optimizer, scaler, autocast, batch,
                                                        device, hparams, iteration)
                learning_rate, iteration = learning_rate_at(iteration, hparams), iteration + 1  # the rate just used
                skipped_steps += not stepped
                nonfinite_in_a_row = 0 if stepped else nonfinite_in_a_row + 1
                summary["losses"].append(losses["loss"])
                if main_process:
                    duration = time.perf_counter() - step_start
                    frames_per_second = float(batch[4].sum()) * world_size / duration
                    print(f"it {iteration} | loss {losses['loss']:.4f} (mel {losses['mel']:.3f} post "
                          f"{losses['postnet_mel']:.3f} gate {losses['gate']:.3f} attn {losses['guided_attn']:.3f})"
                          f" | grad {float(grad_norm):.2f} | lr {learning_rate:.1e} | "
                          f"{duration:.2f} s/it | {frames_per_second:.0f} frames/s"
                          + ("" if stepped else " | not finite: step skipped"), flush=True)
                    logger.log_training(iteration, losses, float(grad_norm), learning_rate, duration,
                                        frames_per_second)

                stop_signal = distributed.any_rank(stop_request.signal_name is not None)
                diverged = nonfinite_in_a_row >= hparams.max_nonfinite_steps
                done = bool(hparams.max_iterations) and iteration >= hparams.max_iterations
                if (iteration % hparams.iters_per_checkpoint == 0 or done) and not diverged:
                    metrics, last = validate(model, criterion, val_loader, device, autocast)
                    if metrics["loss"] < best["best_val_loss"]:
                        best = {"best_val_loss": metrics["loss"], "best_iteration": iteration}
                    summary.update(validation=metrics,
                                   target_reached=target_val_loss is not None and metrics["loss"] <= target_val_loss)
                    if main_process:
                        elapsed = time.perf_counter() - start_time
                        print(f"Validation loss {iteration}: {metrics['loss']:.6f} | focus rate "
                              f"{metrics['focus_rate']:.3f} | coverage {metrics['coverage']:.2f} | "
                              f"{elapsed:.0f} s elapsed" + (f" | {skipped_steps} steps skipped" if skipped_steps else ""),
                              flush=True)
                        log_validation(logger, output_directory, iteration, metrics, last, raw_model, hparams)
                        if val_intelligibility is not None:
                            heard = val_intelligibility(raw_model, hparams)
                            for name, value in heard.items():
                                logger.add_scalar(f"validation.{name}", value, iteration)
                            if heard:
                                print(f"Intelligibility {iteration} ({len(val_intelligibility.texts)} validation "
                                      f"utterances, Griffin-Lim): WER free running {heard['wer_free_running']:.2f}, "
                                      f"teacher forced {heard['wer_teacher_forced']:.2f}, ceiling "
                                      f"{heard['wer_ceiling']:.2f}", flush=True)
                            metrics = {**metrics, **heard}
                            summary["validation"] = metrics
                    save()
                    if summary["target_reached"] and main_process:
                        print(f"Reached target validation loss {target_val_loss} (got {metrics['loss']:.4f}) at "
                              f"iteration {iteration} after {elapsed:.0f} s", flush=True)
                elif stop_signal or diverged:
                    save()  # the weights are good: a skipped step never changes them
                # The validation metrics and the stop flags are the same on every rank: all stop together.
                finished = done or summary["target_reached"] or stop_signal or diverged
                if finished:
                    break
            if finished:
                break
    summary.update(iteration=iteration, skipped_steps=skipped_steps)
    if logger is not None:
        logger.close()
    distributed.cleanup()
    checkpoint = output_directory / f"checkpoint_{iteration}"
    if diverged:
        raise TrainingDiverged(
            f"{hparams.max_nonfinite_steps} steps in a row had non-finite losses or gradients (the last at "
            f"iteration {iteration}), so training stopped. No such step was applied: the weights are as good as "
            f"before, saved in {checkpoint}. Check the data, lower learning_rate, or train without fp16_run.")
    if stop_signal:
        summary["stopped_by"] = stop_request.signal_name or "a signal on another process"
        if main_process:
            print(f"Stopped by {summary['stopped_by']} at iteration {iteration}, saved in {checkpoint}. Resume "
                  f"with the same command and -c {checkpoint}", flush=True)
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

    try:
        hparams = create_hparams(args.hparams)
    except ValueError as error:
        parser.error(str(error))
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device=cuda but no CUDA device is available")
    torch.backends.cudnn.enabled = hparams.cudnn_enabled
    torch.backends.cudnn.benchmark = hparams.cudnn_benchmark
    ljspeech = Path(hparams.data_root or ".") / "LJSpeech-1.1"
    if not Path(hparams.training_files).exists() and "ljs_audio_text" in hparams.training_files and ljspeech.is_dir():
        print(f"Writing the LJ Speech filelists from {ljspeech}/metadata.csv")
        prepare_filelists(ljspeech, Path(hparams.training_files).parent, "ljs", data_root=hparams.data_root)
    try:
        for filelist in (hparams.training_files, hparams.validation_files):
            check_filelist(filelist, hparams)  # every bad file or line in one error, before training starts
    except (ValueError, FileNotFoundError) as error:
        raise SystemExit(f"error: {error}") from None
    if args.check_data:
        print("Data OK: " + ", ".join((hparams.training_files, hparams.validation_files)))
        return
    print(f"FP16 Run: {hparams.fp16_run} | Distributed Run: {hparams.distributed_run} | "
          f"cuDNN Enabled: {hparams.cudnn_enabled} | cuDNN Benchmark: {hparams.cudnn_benchmark}")
    try:
        summary = train(args.output_directory, args.log_directory, args.checkpoint_path, args.warm_start,
                        args.n_gpus, args.rank, args.group_name, hparams, args.target_val_loss, args.device)
    except (TrainingDiverged, ValueError, FileNotFoundError) as error:
        raise SystemExit(f"error: {error}") from None
    if args.target_val_loss is not None and not summary["target_reached"] and not summary["stopped_by"]:
        print(f"Target validation loss {args.target_val_loss} not reached; last validation: {summary['validation']}")


if __name__ == "__main__":
    main()
