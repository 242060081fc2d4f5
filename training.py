"""What every trainer's loop calls (train.py, waveglow_vocoder/train.py, and any trainer to come): the
process (DDP, device, seeds) and mixed precision; a data order that resumes mid-epoch; the optimizer step
that skips non-finite gradients, and the limit on such steps in a row; SIGTERM/SIGINT as a request to
save and stop; the progress line with its rate and ETA. Plain functions and small state holders, no
Trainer class: each trainer keeps its own explicit loop; waveglow_vocoder/train.py's `train` is the
shortest one that uses all of it. Checkpoint files (pruning, random state, restoring optimizer, scaler
and scheduler states) are checkpoint.py's.
"""

import dataclasses
import datetime
import math
import random
import signal
import threading
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DistributedSampler

import distributed
from checkpoint import set_rng_state
from hparams import HParams


@dataclasses.dataclass(frozen=True)
class Process:
    """This process's place in the run."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    is_main: bool  # rank 0: prints, logs and writes checkpoints
    distributed: bool  # hparams.distributed_run: DistributedDataParallel, even for one process


def start_process(hparams, n_gpus: int = 1, rank: int = 0, group_name: str = "",
                  device_name: str | None = None, log_directory: str | Path | None = None) -> Process:
    """Join the process group (a no-op for one process: hparams.distributed_run, dist_backend, dist_url),
    pick the device (CUDA when available unless device_name says), send the output of ranks 1..N-1 to
    <log_directory>/rank_<i>.log so that one console stays readable, and seed every generator with
    hparams.seed (torch, numpy, Python)."""
    rank, world_size, local_rank = distributed.init_distributed(
        hparams.distributed_run, hparams.dist_backend, hparams.dist_url, n_gpus, rank, group_name)
    cuda = torch.cuda.is_available() if device_name is None else device_name.startswith("cuda")
    device = torch.device("cuda", local_rank) if cuda else torch.device("cpu")
    is_main = distributed.is_main_process()
    if not is_main and log_directory is not None:
        distributed.redirect_output(Path(log_directory) / f"rank_{rank}.log")
    torch.manual_seed(hparams.seed)
    np.random.seed(hparams.seed)
    random.seed(hparams.seed)
    return Process(rank, world_size, local_rank, device, is_main, hparams.distributed_run)


def mixed_precision(device: torch.device, enabled: bool) -> tuple[torch.autocast, torch.amp.GradScaler]:
    """(autocast, scaler): float16 with loss scaling on CUDA, bfloat16 (float32's range: no scaling) on
    CPU; both no-ops when not enabled, so that a trainer has one code path."""
    cuda = device.type == "cuda"
    autocast = torch.autocast(device.type, dtype=torch.float16 if cuda else torch.bfloat16, enabled=enabled)
    return autocast, torch.amp.GradScaler(device.type, enabled=enabled and cuda)


def distribute(model: torch.nn.Module, process: Process) -> torch.nn.Module:
    """The model wrapped in DistributedDataParallel for a distributed run (gradients all-reduced in
    backward), else the model itself. Save and evaluate the unwrapped one."""
    if not process.distributed:
        return model
    cuda = process.device.type == "cuda"
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=[process.local_rank] if cuda else None)


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


def loader_options(seed: int, num_workers: int) -> dict:
    """DataLoader arguments for every trainer's loaders: workers leave Ctrl-C to the main process, and
    draw their base seed from the loader's own generator, never from the global RNG, whose state
    (dropout, random crops) is saved in checkpoints: where an epoch's iterator starts must not shift it."""
    return dict(num_workers=num_workers, worker_init_fn=_ignore_sigint,
                generator=torch.Generator().manual_seed(seed))


def batches_from(loader, iteration: int, epochs: int):
    """The loader's batches, epoch after epoch up to `epochs`, from where `iteration` batches left off
    (loader.sampler: a ResumableSampler), so that a resumed run repeats an uninterrupted one. A dataset
    whose items depend on the epoch (random crops) has a set_epoch(epoch), called as the sampler's is."""
    first_epoch, batch_in_epoch = divmod(iteration, len(loader))
    for epoch in range(first_epoch, epochs):
        loader.sampler.set_position(epoch, batch_in_epoch * loader.batch_size)
        if hasattr(loader.dataset, "set_epoch"):
            loader.dataset.set_epoch(epoch)
        batch_in_epoch = 0
        yield from loader


def resume_position(checkpoint: dict, process: Process, path) -> int:
    """The iteration a run goes on from ({} for a new run: 0), with this process's random state from a
    checkpoint that holds one per process, so that dropout and random crops go on as in an uninterrupted
    run (batches_from does the same for the data order); a note where it does not (an older file, another
    number of processes)."""
    if checkpoint.get("rng") and len(checkpoint["rng"]) == process.world_size:
        set_rng_state(checkpoint["rng"][process.rank])
    elif checkpoint and process.is_main:
        print(f"Note: {path} holds no random state for {process.world_size} process(es): the run goes on "
              "from its weights and optimizer, but will not repeat an uninterrupted run exactly")
    return int(checkpoint.get("iteration", 0))


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


def backward_and_step(model, optimizer, scaler, loss: torch.Tensor,
                      grad_clip_thresh: float) -> tuple[torch.Tensor, bool]:
    """Backward (loss-scaled under fp16), clip, and an optimizer step only if every gradient is finite:
    an fp16 overflow or a bad batch is never written into the weights (under DDP the gradients are
    all-reduced first, so every rank takes the same decision). Returns (gradient norm, stepped).
    grad_clip_thresh=math.inf measures the norm without clipping. Several models and optimizers (a GAN's
    generator and discriminators): one call per optimizer, each with its own GradScaler."""
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip_thresh)
    stepped = bool(torch.isfinite(grad_norm))
    if stepped:
        scaler.step(optimizer)
    scaler.update()  # after an overflow, the fp16 loss scale is halved
    return grad_norm, stepped


@dataclasses.dataclass
class Best:
    """The lowest validation loss so far and its iteration, kept in checkpoints: pruning keeps that
    checkpoint besides the last N."""

    best_val_loss: float = math.inf
    best_iteration: int | None = None

    @classmethod
    def of(cls, checkpoint: dict) -> "Best":
        return cls(float(checkpoint.get("best_val_loss", math.inf)), checkpoint.get("best_iteration"))

    def update(self, val_loss: float, iteration: int) -> None:
        if val_loss < self.best_val_loss:
            self.best_val_loss, self.best_iteration = val_loss, iteration


class TrainingDiverged(RuntimeError):
    """Too many steps in a row had non-finite losses or gradients."""


@dataclasses.dataclass
class SkippedSteps:
    """Steps skipped for non-finite losses or gradients: all of them (`total`, kept in checkpoints) and the
    current run of them in a row, which at `limit` (hparams.max_nonfinite_steps) stops training."""

    limit: int
    total: int = 0
    in_a_row: int = 0

    def count(self, stepped: bool) -> bool:
        """Count one step; True when the last `limit` steps were all skipped (the run has diverged)."""
        self.total += not stepped
        self.in_a_row = 0 if stepped else self.in_a_row + 1
        return self.in_a_row >= self.limit


class StopRequest:
    """SIGTERM or SIGINT during training is remembered, and acted on between two steps: checkpoint, then a
    clean exit. The handlers go back to the defaults on the first signal, so a second one stops at once."""

    def __init__(self):
        self.signal_name, self.requested, self._previous = None, False, {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():  # signal handlers live in the main thread
            self._previous = {sig: signal.signal(sig, self._handle)
                              for sig in (signal.SIGTERM, signal.SIGINT)}
        return self

    def _handle(self, signum, _frame) -> None:
        self.signal_name = signal.Signals(signum).name
        self.__exit__()

    def __exit__(self, *_exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}

    def anywhere(self) -> bool:
        """Whether any process got a signal (every rank calls this each step, so all stop together)."""
        self.requested = distributed.any_rank(self.signal_name is not None)
        return self.requested


class Progress:
    """The clock of a run and of its steps: the progress line's s/it and rate, and its ETA, from this run's
    mean pace so far (validations and checkpoints included)."""

    def __init__(self, iteration: int, max_iterations: int, epochs_end: int):
        """The run goes from `iteration` to max_iterations if set (> 0), else to the end of the last epoch."""
        self.first_iteration, self.last_iteration = iteration, min(max_iterations or epochs_end, epochs_end)
        self.start = self.step_start = time.perf_counter()

    def start_step(self) -> None:
        self.step_start = time.perf_counter()

    def step_seconds(self) -> float:
        return time.perf_counter() - self.step_start

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def line(self, iteration: int, fields: list[str], stepped: bool) -> str:
        """'it 12 | <fields> | ETA 0:03:12', and a note when the step was skipped."""
        done, remaining = iteration - self.first_iteration, self.last_iteration - iteration
        if done > 0 and remaining > 0:
            fields = [*fields, f"ETA {datetime.timedelta(seconds=round(self.elapsed() / done * remaining))}"]
        return " | ".join([f"it {iteration}", *fields]) + ("" if stepped else " | not finite: step skipped")


def finish(stop: StopRequest, skipped: SkippedSteps, iteration: int, checkpoint: Path, process: Process,
           writer=None) -> str | None:
    """After the loop, on every process: close the TensorBoard writer (rank 0's), leave the process group;
    raise TrainingDiverged if the run stopped on non-finite steps, or say how to resume after a signal.
    Returns the signal's name, or None."""
    if writer is not None:
        writer.close()
    distributed.cleanup()
    if skipped.in_a_row >= skipped.limit:
        raise TrainingDiverged(
            f"{skipped.limit} steps in a row had non-finite losses or gradients (the last at iteration "
            f"{iteration}), so training stopped. No such step was applied: the weights are as good as "
            f"before, saved in {checkpoint}. Check the data, lower learning_rate, or train without fp16_run.")
    if not stop.requested:
        return None
    stopped_by = stop.signal_name or "a signal on another process"
    if process.is_main:
        print(f"Stopped by {stopped_by} at iteration {iteration}, saved in {checkpoint}. Resume "
              f"with the same command and -c {checkpoint}", flush=True)
    return stopped_by
