"""Start one training process per GPU (or --nproc_per_node of them, on CPU too) on one machine.

    python3 -m multiproc train.py -o outdir -l logdir --hparams=distributed_run=True
    python3 -m multiproc --nproc_per_node=2 train.py ... --hparams=distributed_run=True

A thin layer over PyTorch's elastic launcher (torch.distributed.run, what `torchrun --standalone`
runs): it sets RANK/WORLD_SIZE/LOCAL_RANK for each worker, and when any worker fails it stops the
others and exits non-zero. Ranks 1..N-1 write their output to <log_directory>/rank_<i>.log.
"""

import argparse
import sys

import torch
from torch.distributed import run as elastic_run


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nproc_per_node", type=int, default=None,
                        help="workers to start (default: one per visible GPU, or 1 without a GPU)")
    parser.add_argument("script", help="the training script, e.g. train.py")
    parser.add_argument("script_args", nargs=argparse.REMAINDER, help="its arguments")
    args = parser.parse_args(argv)
    nproc = args.nproc_per_node or max(torch.cuda.device_count(), 1)
    if nproc < 1:
        parser.error(f"--nproc_per_node must be at least 1, got {nproc}")
    # --standalone: a local rendezvous on a free port, so several runs on one machine do not collide.
    elastic_run.main(["--standalone", f"--nproc_per_node={nproc}", "--max_restarts=0",
                      args.script, *args.script_args])


if __name__ == "__main__":
    main(sys.argv[1:])
