"""Speed and memory of Tacotron 2 (and the vocoders) on a fixed synthetic workload, on CPU or CUDA.

    python3 benchmark.py                       # all modes, LJ Speech hparams, table + benchmark.json
    python3 benchmark.py --threads 1 --modes train infer
    python3 benchmark.py --device cuda --amp --batch_size 32
    python3 benchmark.py --modes vocoders      # WaveGlow (reference and small sizes) and Griffin-Lim

Modes, each measured in its own process (so that its peak memory is its own):
- train: forward (teacher forced), loss, backward, gradient clipping and Adam on a batch of `batch_size`
  utterances with text lengths `text_length` +- 10% and mel lengths `mel_length` +- 10%, varied per
  item; the median step time over `repeats`, mel frames/s and utterances/s.
- infer: one utterance of `text_length` symbols decoded for exactly `infer_frames` frames (the stop
  token is disabled, so random weights compare fairly), then the postnet; frames/s and real-time factor
  (hop_length samples per frame at sampling_rate).
- infer_batch: the same for `batch_size` utterances at once: frames/s over the batch.
- vocoders: seconds of audio made per second by WaveGlow (reference size and n_channels=64, weight norm
  removed, sigma 0.666) and by Griffin-Lim (griffin_lim_iters), from a mel of `vocoder_frames` frames.
No timing assertions anywhere in the tests: this script is how speed is measured.
"""

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import torch

from hparams import create_hparams
from model import Tacotron2, Tacotron2Loss


def synthetic_batch(batch_size: int, text_length: int, mel_length: int, n_mels: int, r: int, device):
    """Text ids, lengths, log-mel-like targets, stop targets and mel lengths, lengths spread +-10% (longest
    first, as TextMelCollate sorts), the mel padded to a multiple of r."""
    generator = torch.Generator().manual_seed(0)
    spread = torch.linspace(1.1, 0.9, batch_size) if batch_size > 1 else torch.ones(1)
    text_lengths = (spread * text_length).round().long()
    mel_lengths = (spread * mel_length).round().long()
    T_out = -(-int(mel_lengths[0]) // r) * r
    text = torch.randint(1, 148, (batch_size, int(text_lengths[0])), generator=generator)
    text = text * (torch.arange(text.size(1)) < text_lengths.unsqueeze(1))
    mels = torch.randn(batch_size, n_mels, T_out, generator=generator) * 2 - 6
    mels = mels * (torch.arange(T_out) < mel_lengths.unsqueeze(1)).unsqueeze(1)
    gates = (torch.arange(T_out) >= (mel_lengths - 1).unsqueeze(1)).float()
    return [t.to(device) for t in (text, text_lengths, mels, gates, mel_lengths)]


def _sync(device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(function, repeats: int, warmup: int, device) -> list[float]:
    for _ in range(warmup):
        function()
    times = []
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        function()
        _sync(device)
        times.append(time.perf_counter() - start)
    return times


def bench_train(args, hparams, device) -> dict:
    model = Tacotron2(hparams).to(device).train()
    criterion = Tacotron2Loss(hparams.n_frames_per_step)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-6)
    autocast = torch.autocast(device.type, dtype=torch.float16 if device.type == "cuda" else torch.bfloat16,
                              enabled=args.amp)
    scaler = torch.amp.GradScaler(device.type, enabled=args.amp and device.type == "cuda")
    text, text_lengths, mels, gates, mel_lengths = synthetic_batch(
        args.batch_size, args.text_length, args.mel_length, hparams.n_mel_channels, hparams.n_frames_per_step, device)

    def step():
        with autocast:
            outputs = model(text, text_lengths, mels, mel_lengths)
            loss, _ = criterion(outputs, mels, gates, text_lengths, mel_lengths)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.update()

    times = _timed(step, args.repeats, args.warmup, device)
    median = statistics.median(times)
    frames = int(mel_lengths.sum())
    return {"step_s": median, "step_s_all": times, "mel_frames_per_s": frames / median,
            "utterances_per_s": args.batch_size / median, "frames_per_batch": frames}


def bench_infer(args, hparams, device, batch_size: int) -> dict:
    model = Tacotron2(hparams).to(device).eval()
    if args.amp:
        model = model.to(torch.bfloat16 if device.type == "cpu" else torch.float16)
    model.decoder.gate_threshold = float("inf")  # never stop: exactly infer_frames frames
    steps = -(-args.infer_frames // hparams.n_frames_per_step)
    model.decoder.max_decoder_steps = steps
    text, text_lengths, *_ = synthetic_batch(batch_size, args.text_length, args.mel_length,
                                             hparams.n_mel_channels, hparams.n_frames_per_step, device)
    if batch_size == 1:
        text, text_lengths = text[:, : args.text_length], torch.tensor([args.text_length], device=device)

    def run():
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the step limit is the point here
            model.inference(text, text_lengths)

    times = _timed(run, args.repeats, args.warmup, device)
    median = statistics.median(times)
    frames = steps * hparams.n_frames_per_step * batch_size
    audio_seconds = frames * hparams.hop_length / hparams.sampling_rate
    return {"seconds": median, "seconds_all": times, "mel_frames_per_s": frames / median,
            "real_time_factor": median / audio_seconds, "batch_size": batch_size}


def bench_vocoders(args, hparams, device) -> dict:
    from waveglow_vocoder import GriffinLimVocoder, WaveGlow, WaveGlowConfig

    mel = (torch.randn(1, hparams.n_mel_channels, args.vocoder_frames, generator=torch.Generator().manual_seed(0))
           * 2 - 6).to(device)
    audio_seconds = args.vocoder_frames * hparams.hop_length / hparams.sampling_rate
    results = {}
    vocoders = {"waveglow_256": WaveGlow(WaveGlowConfig()).remove_weightnorm(),
                "waveglow_64": WaveGlow(WaveGlowConfig(n_channels=64)).remove_weightnorm(),
                "griffin_lim": GriffinLimVocoder(hparams, n_iters=hparams.griffin_lim_iters)}
    for name, vocoder in vocoders.items():
        vocoder = vocoder.to(device).eval()
        run = (lambda: vocoder(mel)) if name == "griffin_lim" else (lambda: vocoder.infer(mel, sigma=0.666))
        with torch.inference_mode():
            times = _timed(run, max(args.repeats // 2, 1), 1, device)
        median = statistics.median(times)
        results[name] = {"seconds": median, "audio_seconds_per_s": audio_seconds / median,
                         "parameters": sum(p.numel() for p in vocoder.parameters())}
    return results


def run_mode(args) -> dict:
    """Measure one mode in this process -> its results and peak memory."""
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    hparams = create_hparams(args.hparams)
    torch.manual_seed(0)
    if args.mode == "train":
        result = bench_train(args, hparams, device)
    elif args.mode == "infer":
        result = bench_infer(args, hparams, device, batch_size=1)
    elif args.mode == "infer_batch":
        result = bench_infer(args, hparams, device, batch_size=args.batch_size)
    else:
        result = bench_vocoders(args, hparams, device)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    if device.type == "cuda":
        result["peak_cuda_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    return result


def format_table(results: dict) -> str:
    lines = [f"{'mode':<12} {'time (s)':>9} {'frames/s':>10} {'utt/s or RTF':>13} {'peak MB':>8}"]
    for mode, r in results["modes"].items():
        memory = r.get("peak_cuda_mb", r["peak_rss_mb"])
        if mode == "train":
            lines.append(f"{mode:<12} {r['step_s']:9.3f} {r['mel_frames_per_s']:10.1f} {r['utterances_per_s']:10.2f} u/s "
                         f"{memory:8.0f}")
        elif mode.startswith("infer"):
            lines.append(f"{mode:<12} {r['seconds']:9.3f} {r['mel_frames_per_s']:10.1f} {r['real_time_factor']:8.3f} RTF "
                         f"{memory:8.0f}")
        else:
            for name, v in r.items():
                if isinstance(v, dict):
                    lines.append(f"{name:<12} {v['seconds']:9.3f} {'':>10} {v['audio_seconds_per_s']:7.2f} x RT "
                                 f"{memory:8.0f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", nargs="+", default=["train", "infer", "infer_batch"],
                        choices=["train", "infer", "infer_batch", "vocoders"])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--amp", action="store_true", help="float16 autocast on CUDA, bfloat16 on CPU")
    parser.add_argument("--hparams", default="", help="model overrides (default: the LJ Speech hparams)")
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--text_length", type=int, default=100)
    parser.add_argument("--mel_length", type=int, default=400)
    parser.add_argument("--infer_frames", type=int, default=400)
    parser.add_argument("--vocoder_frames", type=int, default=172, help="mel frames (172: 2 s of audio)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--output", default="benchmark.json")
    parser.add_argument("--mode", default=None, help=argparse.SUPPRESS)  # internal: measure one mode here
    args = parser.parse_args(argv)
    if args.mode:
        print("RESULT " + json.dumps(run_mode(args)))
        return
    forwarded = [a for a in (argv if argv is not None else sys.argv[1:])]
    results = {"config": {k: v for k, v in vars(args).items() if k not in ("mode", "modes")},
               "machine": {"torch": torch.__version__, "python": platform.python_version(),
                           "processor": platform.processor() or platform.machine(),
                           "device_name": torch.cuda.get_device_name() if args.device.startswith("cuda") else "cpu"},
               "modes": {}}
    for mode in args.modes:
        child = subprocess.run([sys.executable, str(Path(__file__).resolve()), *forwarded, "--mode", mode],
                               capture_output=True, text=True)
        if child.returncode != 0:
            raise SystemExit(f"benchmark mode {mode} failed:\n{child.stderr[-3000:]}")
        line = [line for line in child.stdout.splitlines() if line.startswith("RESULT ")][-1]
        results["modes"][mode] = json.loads(line[len("RESULT "):])
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n")
    print(format_table(results))
    print(f"Wrote {args.output}")


if __name__ == "__main__":
    main()
