"""Process-group setup for DistributedDataParallel training, from torchrun's environment or the
reference's flags (--n_gpus, --rank, --group_name with hparams.dist_url), and small helpers.

Gradients are synchronised by torch.nn.parallel.DistributedDataParallel in train.py; nothing here
all-reduces gradients by hand.
"""

import gc
import os
import sys
from pathlib import Path

import torch
import torch.distributed as dist


def init_distributed(distributed_run: bool, dist_backend: str, dist_url: str, n_gpus: int = 1,
                     rank: int = 0, group_name: str = "") -> tuple[int, int, int]:
    """Join the process group; returns (rank, world_size, local_rank). A no-op for one process.

    torchrun (or `python -m multiproc`) sets RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR/PORT and
    wins over the flags. NCCL needs CUDA, so on a machine without a GPU Gloo is used.
    """
    if not distributed_run:
        if int(os.environ.get("WORLD_SIZE", "1")) > 1:
            raise ValueError("launched as one of several processes (WORLD_SIZE="
                             f"{os.environ['WORLD_SIZE']}) but distributed_run=False; "
                             "add --hparams=distributed_run=True")
        return 0, 1, 0
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ:
        rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        local_rank = int(os.environ.get("LOCAL_RANK", rank))
        init_method = "env://"
    else:
        world_size, init_method = n_gpus, dist_url
        local_rank = rank % max(torch.cuda.device_count(), 1)
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"rank {rank} is outside world size {world_size}")
    backend = dist_backend if torch.cuda.is_available() else "gloo"
    if torch.cuda.is_available():
        torch.cuda.set_device(local_rank)
    # group_name is accepted for the reference's command lines; PyTorch no longer uses it.
    dist.init_process_group(backend, init_method=init_method, world_size=world_size, rank=rank)
    return rank, world_size, local_rank


def cleanup() -> None:
    """Leave the process group. Drop every DistributedDataParallel wrapper first (the trainers `del` theirs):
    a wrapper that outlives the group (DDP sits in a reference cycle, so only the collector frees it) made
    Gloo processes abort at exit, "terminate called without an active exception", in about one run of ten."""
    if dist.is_available() and dist.is_initialized():
        gc.collect()
        dist.destroy_process_group()


def is_main_process() -> bool:
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def barrier() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.barrier()


def all_reduce_mean(value: torch.Tensor | float) -> float:
    """Mean of a scalar over all processes (the value itself in a single process)."""
    if not (dist.is_available() and dist.is_initialized()):
        return float(value)
    tensor = torch.as_tensor(value, dtype=torch.float64).detach().clone()
    if dist.get_backend() == "nccl":
        tensor = tensor.cuda()
    dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
    return float(tensor) / dist.get_world_size()


def any_rank(flag: bool) -> bool:
    """True on every process if `flag` is True on any (a stop request seen by one rank stops all)."""
    if not (dist.is_available() and dist.is_initialized()):
        return flag
    tensor = torch.tensor([int(flag)], device="cuda" if dist.get_backend() == "nccl" else "cpu")
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return bool(tensor.item())


def all_gather_object(value) -> list:
    """[value of rank 0, value of rank 1, ...] on every process ([value] in a single process)."""
    if not (dist.is_available() and dist.is_initialized()):
        return [value]
    gathered = [None] * dist.get_world_size()
    dist.all_gather_object(gathered, value)
    return gathered


def redirect_output(path: Path) -> None:
    """Send this process's stdout and stderr (Python's and C's) to a line-buffered file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    log = open(path, "a", buffering=1)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    sys.stdout = sys.stderr = log
