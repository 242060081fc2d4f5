"""DDP on CPU with Gloo: gradients averaged as one big batch, ranks in step, the multiproc launcher (a
short run; a failing worker), WaveGlow's trainer under torchrun, and the mixed-precision step (bfloat16 on
CPU, skipped overflow steps)."""

import dataclasses
import os
import socket
import subprocess
import sys
import time

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import distributed
import train
from loss_function import Tacotron2Loss
from model import Tacotron2
from test_model import make_batch
from test_train import _hparams_string

K_STEPS = 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rank_1_log(logs) -> str:
    """The end of rank 1's own output (the launcher shows only its exit code), for a failure message."""
    path = logs / "rank_1.log"
    return "\nrank_1.log:\n" + path.read_text()[-2000:] if path.exists() else ""


def deterministic_model(hparams) -> Tacotron2:
    """Eval mode (no dropout, BatchNorm on its running statistics, so that a half batch sees the same
    normalisation as the whole) and no prenet dropout: gradients depend on the data alone."""
    torch.manual_seed(0)
    model = Tacotron2(hparams).eval()
    model.decoder.prenet.p_dropout = 0.0
    return model


def loss_of(model, batch):
    text, text_lengths, mels, gates, mel_lengths = batch
    outputs = model(text, text_lengths, mels, mel_lengths)
    return Tacotron2Loss(1)(outputs, mels, gates, text_lengths, mel_lengths)[0]


def _worker(rank: int, world_size: int, port: int, hparams, out_dir: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    try:
        model = deterministic_model(hparams)
        ddp = torch.nn.parallel.DistributedDataParallel(model)
        torch.manual_seed(1)
        batch = make_batch(text_lengths=(12, 9, 7, 5), mel_lengths=(24, 19, 14, 10))  # the same on both ranks
        shard = [t[rank::world_size] for t in batch]  # each rank its half, padded as the whole batch
        optimizer = torch.optim.Adam(ddp.parameters(), lr=1e-3)
        scaler = torch.amp.GradScaler("cpu", enabled=False)
        for step in range(K_STEPS):
            if step == 1:  # step 0 deterministic, for the gradient check; then dropout and batch statistics
                ddp.train()
            _, stepped = train.backward_and_step(ddp, optimizer, scaler, loss_of(ddp, shard), 1e9)
            assert stepped
            if step == 0:
                torch.save({k: p.grad for k, p in model.named_parameters()}, f"{out_dir}/grads_{rank}.pt")
        torch.save(dict(model.named_parameters()), f"{out_dir}/params_{rank}.pt")
        del ddp  # before the group goes: distributed.cleanup says why
    finally:
        distributed.cleanup()


def test_two_ranks_average_gradients_as_one_batch_and_stay_identical(tiny_hparams, tmp_path):
    mp.spawn(_worker, args=(2, free_port(), tiny_hparams, str(tmp_path)), nprocs=2, join=True)
    model = deterministic_model(tiny_hparams)
    torch.manual_seed(1)
    loss_of(model, make_batch(text_lengths=(12, 9, 7, 5), mel_lengths=(24, 19, 14, 10))).backward()
    for rank in (0, 1):
        grads = torch.load(tmp_path / f"grads_{rank}.pt", weights_only=True)
        for name, parameter in model.named_parameters():
            assert torch.allclose(grads[name], parameter.grad, rtol=1e-4, atol=1e-6), name
    params = [torch.load(tmp_path / f"params_{rank}.pt", weights_only=True) for rank in (0, 1)]
    assert all(torch.equal(params[0][k], params[1][k]) for k in params[0])
    assert not torch.equal(params[0]["embedding.weight"], model.embedding.weight)  # it trained


def _launch(args, cwd, timeout):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(cwd)}
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "multiproc", *map(str, args)], cwd=cwd, env=env,
                            capture_output=True, text=True, timeout=timeout)
    return result, time.monotonic() - start


def test_multiproc_trains_with_two_cpu_workers(run_hparams, tmp_path, repo_root):
    hparams = dataclasses.replace(run_hparams, batch_size=1)  # 6 training utterances: 3 per rank
    out, logs = tmp_path / "out", tmp_path / "logs"
    result, _ = _launch(["--nproc_per_node=2", "train.py", "-o", out, "-l", logs, "--device=cpu",
                         f"--hparams={_hparams_string(hparams)},distributed_run=True"],
                        repo_root, timeout=300)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:] + rank_1_log(logs)
    assert "Training on cpu x 2" in result.stdout and "Validation loss 2:" in result.stdout
    assert sorted(p.name for p in out.glob("checkpoint_*")) == ["checkpoint_2", "checkpoint_3"]  # rank 0 only
    assert (logs / "rank_1.log").exists() and "Validation loss" not in (logs / "rank_1.log").read_text()


def test_waveglow_trains_with_two_cpu_workers(waveglow_run, tmp_path, repo_root):
    """torchrun -m waveglow_vocoder.train: rank 0 writes checkpoints holding both ranks' random states."""
    out, logs = tmp_path / "out", tmp_path / "logs"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(repo_root)}
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                             "--nproc_per_node=2", "-m", "waveglow_vocoder.train", "-o", str(out), "-l",
                             str(logs), "--config", str(waveglow_run.config_file), "--device=cpu",
                             f"--hparams={waveglow_run.hparams_string},distributed_run=True"],
                            cwd=repo_root, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:] + rank_1_log(logs)
    assert "Training WaveGlow on cpu x 2" in result.stdout and "it 3 | loss" in result.stdout
    assert sorted(p.name for p in out.glob("waveglow_*")) == ["waveglow_2", "waveglow_3"]
    assert len(torch.load(out / "waveglow_3", weights_only=True)["rng"]) == 2
    assert (logs / "rank_1.log").exists() and "Saving" not in (logs / "rank_1.log").read_text()


def test_hifigan_trains_with_two_cpu_workers(hifigan_run, tmp_path, repo_root):
    """torchrun -m waveglow_vocoder.hifigan_train: both models under DDP, rank 0 validating and writing
    checkpoints that hold both ranks' random states."""
    out, logs = tmp_path / "out", tmp_path / "logs"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(repo_root)}
    result = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                             "--nproc_per_node=2", "-m", "waveglow_vocoder.hifigan_train", "-o", str(out),
                             "-l", str(logs), "--config", str(hifigan_run.config_file), "--device=cpu",
                             f"--hparams={hifigan_run.hparams_string},distributed_run=True"],
                            cwd=repo_root, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:] + rank_1_log(logs)
    assert "Training HiFi-GAN on cpu x 2" in result.stdout and "it 3 | d " in result.stdout
    assert "Validation mel L1 2:" in result.stdout
    assert sorted(p.name for p in out.glob("hifigan_*")) == ["hifigan_2", "hifigan_3"]
    assert len(torch.load(out / "hifigan_3", weights_only=True)["rng"]) == 2
    assert (logs / "rank_1.log").exists() and "Saving" not in (logs / "rank_1.log").read_text()


def test_multiproc_stops_all_workers_when_one_fails(tmp_path, repo_root):
    script = tmp_path / "worker.py"
    script.write_text("import os, sys, time\n"
                      "if os.environ['RANK'] == '1':\n"
                      "    sys.exit('rank 1 failed on purpose')\n"
                      "time.sleep(300)\n")
    result, seconds = _launch(["--nproc_per_node=2", script], repo_root, timeout=120)
    assert result.returncode != 0 and seconds < 60, seconds
    assert "rank 1 failed on purpose" in result.stderr


def test_bfloat16_training_tracks_float32(tiny_hparams):
    """A few CPU steps under bfloat16 autocast: finite losses within 5% of float32's, step by step."""
    losses = {}
    for name, enabled in (("float32", False), ("bfloat16", True)):
        model = deterministic_model(tiny_hparams)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        scaler = torch.amp.GradScaler("cpu", enabled=False)  # bfloat16 has float32's range: no scaling
        torch.manual_seed(1)
        batch = make_batch()
        losses[name] = []
        for _ in range(5):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=enabled):
                loss = loss_of(model, batch)
            train.backward_and_step(model, optimizer, scaler, loss, 1.0)
            losses[name].append(float(loss.detach()))
    assert all(torch.isfinite(torch.tensor(losses["bfloat16"])))
    assert losses["float32"][-1] < losses["float32"][0]
    for ours, reference in zip(losses["bfloat16"], losses["float32"]):
        assert abs(ours - reference) <= 0.05 * reference, losses


def test_overflow_step_is_skipped_and_leaves_weights_unchanged(tiny_hparams):
    model = deterministic_model(tiny_hparams)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    loss = loss_of(model, make_batch()) * float("inf")  # what an fp16 overflow does to the gradients
    grad_norm, stepped = train.backward_and_step(model, optimizer, scaler, loss, 1.0)
    assert not stepped and not torch.isfinite(grad_norm)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert not optimizer.state  # Adam did not even count the step
    _, stepped = train.backward_and_step(model, optimizer, scaler, loss_of(model, make_batch()), 1.0)
    assert stepped and not torch.equal(before["embedding.weight"], model.embedding.weight)


@pytest.mark.cuda
def test_float16_overflow_halves_the_loss_scale():
    model = torch.nn.Linear(4, 1).cuda()
    optimizer = torch.optim.Adam(model.parameters())
    scaler = torch.amp.GradScaler("cuda", init_scale=2.0**16)
    weight = model.weight.detach().clone()
    with torch.autocast("cuda", dtype=torch.float16):
        loss = model(torch.full((2, 4), 6e4, device="cuda")).sum() * 1e4
    _, stepped = train.backward_and_step(model, optimizer, scaler, loss, 1.0)
    assert not stepped and scaler.get_scale() == 2.0**15 and torch.equal(model.weight, weight)
