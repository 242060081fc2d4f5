"""Speed and memory of Tacotron 2 (and the vocoders) on a fixed synthetic workload, on CPU or CUDA.

    python3 benchmark.py                       # all modes, LJ Speech hparams, table + benchmark.json
    python3 benchmark.py --threads 1 --modes train infer
    python3 benchmark.py --device cuda --amp --batch_size 32
    python3 benchmark.py --modes vocoders      # WaveGlow (reference and small sizes), HiFi-GAN, Griffin-Lim
    python3 benchmark.py --modes vocoders --vocoders hifigan --hifigan_reference hifi-gan  # + jik876's

Modes, each measured in its own process (so that its peak memory is its own):
- train: train.py's own step (train_step: forward (teacher forced), loss, backward, gradient clipping, the
  finite-gradient check and Adam; scheduled sampling etc. as the hparams say) on a batch of `batch_size`
  utterances with text lengths `text_length` +- 10% and mel lengths `mel_length` +- 10%, varied per
  item; the median step time over `repeats`, mel frames/s and utterances/s.
- infer: one utterance of `text_length` symbols decoded for exactly `infer_frames` frames (the stop
  token is disabled, so random weights compare fairly), then the postnet; frames/s and real-time factor
  (hop_length samples per frame at sampling_rate).
- infer_batch: the same for `batch_size` utterances at once: frames/s over the batch.
- infer_weights: `infer` for each of cpu_inference_weights float32, float16 and int8 (CPU), with the
  relative rms deviation of each one's mels from float32's (same prenet dropout draws); with --checkpoint
  on a trained model, otherwise on the random one.
- vocoders: seconds of audio made per second by WaveGlow (reference size and n_channels=64, weight norm
  removed, sigma 0.666), by HiFi-GAN's V1, V2 and V3 generators (random weights of a trained one's scale,
  weight norm removed) and by Griffin-Lim (griffin_lim_iters), from a mel of `vocoder_frames` frames;
  --vocoders picks some. --hifigan_reference DIR (a checkout of jik876/hifi-gan) also times the reference's
  generator on the same weights and mel, after checking that its audio and ours agree within 1e-4;
  --hifigan_bfloat16 ours in bfloat16, with its audio's max difference and log-mel L1 from float32's;
  each timed in alternation with ours.
- stream: time to first audio and total time of streamed synthesis (streaming.py, `chunk_frames`) against
  inference.synthesize's (first audio = the whole), for a 20-word and a 60-word text (3 sentences of 20),
  with HiFi-GAN V1 and V2 (random weights, as in vocoders) and Griffin-Lim (--vocoders picks). Random
  weights never stop: the gate is off and every sentence decodes `frames_per_word` x 20 frames (33: LJ
  Speech's 17.2 words per 6.57 s clip).
- serve: serve.py's app in this process (HiFi-GAN V2) with 1, then 4 clients at once posting the 20-word
  text: time to the first audio bytes, and seconds of audio served per second.
--reference_path times the decoder's straightforward loops over Decoder.step (nn.LSTMCell, autograd) instead
of its fused fast paths, for before/after figures on any machine.
No timing assertions anywhere in the tests: this script is how speed is measured.
"""

import argparse
import copy
import dataclasses
import functools
import importlib.util
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import types
import warnings
from pathlib import Path

import torch

from hparams import create_hparams
from loss_function import Tacotron2Loss
from model import Tacotron2


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


def build_model(args, hparams, device) -> Tacotron2:
    """The model timed: built from hparams (--reference_path: the decoder's plain loops), with the
    checkpoint's weights if one is given (run_mode read its hparams)."""
    model = Tacotron2(dataclasses.replace(hparams, fused_decoder=not args.reference_path)).to(device)
    if args.checkpoint:
        from checkpoint import load_tacotron2
        model.load_state_dict(load_tacotron2(args.checkpoint, args.hparams, device)[0].state_dict())
    return model


def bench_train(args, hparams, device) -> dict:
    """train.py's own step, train_step, as its loop calls it (the optimizer and precision set up as
    train.py sets them up), on a synthetic batch."""
    # Imported here, not at the top: train.py's imports (TensorBoard, matplotlib, the recognizer's helpers)
    # take about 100 MB, which count in this mode's peak memory, as in a real run, but not in the others'.
    from train import train_step
    from training import mixed_precision

    model = build_model(args, hparams, device).train()
    criterion = Tacotron2Loss.for_model(model, hparams)
    optimizer = torch.optim.Adam(model.parameters(), lr=hparams.learning_rate,
                                 weight_decay=hparams.weight_decay)
    autocast, scaler = mixed_precision(device, args.amp)
    batch = synthetic_batch(args.batch_size, args.text_length, args.mel_length, hparams.n_mel_channels,
                            hparams.n_frames_per_step, device)

    def step():
        train_step(model, criterion, optimizer, scaler, autocast, batch, device, hparams, iteration=0)

    times = _timed(step, args.repeats, args.warmup, device)
    median = statistics.median(times)
    frames = int(batch[4].sum())  # mel_lengths
    return {"step_s": median, "step_s_all": times, "mel_frames_per_s": frames / median,
            "utterances_per_s": args.batch_size / median, "frames_per_batch": frames}


def bench_infer(args, hparams, device, batch_size: int, model: Tacotron2 | None = None) -> dict:
    model = build_model(args, hparams, device).eval() if model is None else model
    if args.amp:
        model = model.to(torch.bfloat16 if device.type == "cpu" else torch.float16)
    model.decoder.gate_threshold = float("inf")  # never stop: exactly infer_frames frames
    steps = -(-args.infer_frames // hparams.n_frames_per_step)
    model.decoder.max_decoder_steps = steps
    text, text_lengths, *_ = synthetic_batch(batch_size, args.text_length, args.mel_length,
                                             hparams.n_mel_channels, hparams.n_frames_per_step, device)
    if batch_size == 1:
        text, text_lengths = text[:, : args.text_length], torch.tensor([args.text_length], device=device)
    mels = []

    def run():
        torch.manual_seed(0)  # the prenet's dropout: the same draws in every run
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the step limit is the point here
            mels[:] = [model.inference(text, text_lengths)[1]]

    times = _timed(run, args.repeats, args.warmup, device)
    median = statistics.median(times)
    frames = steps * hparams.n_frames_per_step * batch_size
    audio_seconds = frames * hparams.hop_length / hparams.sampling_rate
    return {"seconds": median, "seconds_all": times, "mel_frames_per_s": frames / median,
            "real_time_factor": median / audio_seconds, "batch_size": batch_size,
            "cpu_inference_weights": hparams.cpu_inference_weights, "_mel": mels[0]}


def bench_infer_weights(args, hparams, device) -> dict:
    """`infer` per CPU weight format, and each format's mel deviation from float32's."""
    state_dict = build_model(args, hparams, device).state_dict()
    results = {}
    for weights in ("float32", "float16", "int8"):
        formatted = dataclasses.replace(hparams, cpu_inference_weights=weights)
        model = build_model(args, formatted, device).eval()
        model.load_state_dict(state_dict)  # the same weights in every format
        results[weights] = bench_infer(args, formatted, device, 1, model)
    reference = results["float32"]["_mel"].float()
    for result in results.values():
        mel = result.pop("_mel").float()
        result["mel_relative_rms_deviation"] = float((mel - reference).square().mean().sqrt()
                                                      / reference.square().mean().sqrt())
        result["mel_max_abs_deviation"] = float((mel - reference).abs().max())
    return results


def bench_vocoders(args, hparams, device) -> dict:
    from waveglow_vocoder import WaveGlow, WaveGlowConfig, load_vocoder

    mel = (torch.randn(1, hparams.n_mel_channels, args.vocoder_frames,
                       generator=torch.Generator().manual_seed(0)) * 2 - 6).to(device)
    audio_seconds = args.vocoder_frames * hparams.hop_length / hparams.sampling_rate
    results = {}
    vocoders = {}
    if "waveglow" in args.vocoders:
        vocoders["waveglow_256"] = WaveGlow(WaveGlowConfig()).remove_weightnorm()
        vocoders["waveglow_64"] = WaveGlow(WaveGlowConfig(n_channels=64)).remove_weightnorm()
    if "griffin_lim" in args.vocoders:
        vocoders["griffin_lim"] = load_vocoder(None, hparams)
    for name, vocoder in vocoders.items():
        vocoder = vocoder.to(device).eval()
        if name == "griffin_lim":
            run = functools.partial(vocoder, mel)
        else:
            run = functools.partial(vocoder.infer, mel, sigma=0.666)
        with torch.inference_mode():
            times = _timed(run, max(args.repeats // 2, 1), 1, device)
        median = statistics.median(times)
        results[name] = {"seconds": median, "audio_seconds_per_s": audio_seconds / median,
                         "parameters": sum(p.numel() for p in vocoder.parameters())}
    if "hifigan" in args.vocoders:
        results.update(bench_hifigan(args, hparams, mel, audio_seconds, device))
    return results


def load_reference_hifigan(directory: str | Path) -> types.ModuleType:
    """jik876/hifi-gan's models.py, loaded from a checkout by path. It imports `utils` (its utils.py, which
    needs matplotlib) by a bare name: that name points at the checkout's file only while models.py loads."""
    directory = Path(directory)
    if not (directory / "models.py").is_file() or not (directory / "utils.py").is_file():
        raise SystemExit(f"--hifigan_reference {directory}: no models.py and utils.py there "
                         "(a checkout of https://github.com/jik876/hifi-gan)")

    def load(name: str, path: Path) -> types.ModuleType:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    saved = sys.modules.get("utils")
    sys.modules["utils"] = load("hifigan_reference_utils", directory / "utils.py")
    try:
        return load("hifigan_reference_models", directory / "models.py")
    finally:
        if saved is None:
            del sys.modules["utils"]
        else:
            sys.modules["utils"] = saved


def reference_state_dict(state_dict: dict) -> dict:
    """Our generator's weight-norm parameters under the names of torch.nn.utils.weight_norm, which the
    reference uses: parametrizations.weight.original0 / original1 -> weight_g / weight_v."""
    renamed = {}
    for key, value in state_dict.items():
        for ours, theirs in ((".parametrizations.weight.original0", ".weight_g"),
                             (".parametrizations.weight.original1", ".weight_v")):
            if key.endswith(ours):
                key = key[: -len(ours)] + theirs
        renamed[key] = value
    return renamed


def audio_sized_weights(generator) -> None:
    """Random weights under weight norm that give audio of a trained generator's size (rms 0.1 to 0.5)
    rather than the training initialisation's (about 1e-3), so that agreeing within 1e-4 means something:
    fan-in scaled weights (a quarter in conv_pre, whose input sits around -6) and biases of std 0.1."""
    with torch.no_grad():
        for module in generator.modules():
            if isinstance(module, torch.nn.Conv1d | torch.nn.ConvTranspose1d):
                fan_in = module.in_channels * module.kernel_size[0] // module.stride[0]
                direction = module.parametrizations.weight.original1  # v; the weight is g * v / |v|
                direction.normal_(0.0, (0.25 if module is generator.conv_pre else 1.0) / math.sqrt(fan_in))
                magnitude = module.parametrizations.weight.original0  # g = |v|: the weight is v
                magnitude.copy_(direction.flatten(1).norm(dim=1).view_as(magnitude))
                module.bias.normal_(0.0, 0.1)


def hifigan_generators(preset: str, hparams, reference: types.ModuleType | None, bfloat16: bool) -> dict:
    """Ours at `preset` (weight norm removed), and on the same weights, as asked: the reference's
    (loaded under its weight-norm names, then its remove_weight_norm()) and ours in bfloat16."""
    from waveglow_vocoder.hifigan import PRESETS, Generator

    config = dataclasses.replace(PRESETS[preset], num_mels=hparams.n_mel_channels)
    torch.manual_seed(0)
    generator = Generator(config)
    audio_sized_weights(generator)
    generators = {f"hifigan_{preset}": generator}
    if reference is not None:
        # the reference reads its config as attributes (its AttrDict); the same fields as ours
        theirs = reference.Generator(types.SimpleNamespace(**config.to_dict()))
        theirs.load_state_dict(reference_state_dict(generator.state_dict()))
        theirs.remove_weight_norm()
        generators[f"hifigan_{preset}_reference"] = theirs
    generator.remove_weight_norm()
    if bfloat16:
        generators[f"hifigan_{preset}_bfloat16"] = copy.deepcopy(generator).bfloat16()
    return generators


def bench_hifigan(args, hparams, mel, audio_seconds: float, device) -> dict:
    """HiFi-GAN V1, V2, V3 as inference runs them (weight norm removed, no autograd), and beside each, timed
    in alternation with it: the reference's generator (--hifigan_reference), ours in bfloat16
    (--hifigan_bfloat16, with its audio's distance from float32's)."""
    from layers import TacotronSTFT

    reference = load_reference_hifigan(args.hifigan_reference) if args.hifigan_reference else None
    if reference is not None and hparams.n_mel_channels != 80:
        raise SystemExit("--hifigan_reference: the reference's generator takes 80 mel channels only")
    stft = TacotronSTFT(hparams.filter_length, hparams.hop_length, hparams.win_length, hparams.n_mel_channels,
                        hparams.sampling_rate, hparams.mel_fmin, hparams.mel_fmax).to(device)
    results = {}
    for preset in ("v1", "v2", "v3"):
        generators = hifigan_generators(preset, hparams, reference, args.hifigan_bfloat16)
        runs = {name: functools.partial(g.to(device).eval(), mel) for name, g in generators.items()}
        with torch.inference_mode():
            audio = {name: run().float() for name, run in runs.items()}
            times = {name: [] for name in runs}
            for _ in range(max(args.repeats // 2, 1)):  # alternated: the same machine state for each
                for name, run in runs.items():
                    times[name] += _timed(run, 1, 0, device)
        for name, name_times in times.items():
            median = statistics.median(name_times)
            results[name] = {"seconds": median, "seconds_all": name_times,
                             "audio_seconds_per_s": audio_seconds / median,
                             "parameters": sum(p.numel() for p in generators[name].parameters())}
        ours, float32 = results[f"hifigan_{preset}"], audio[f"hifigan_{preset}"]
        if reference is not None:
            difference = float((float32 - audio[f"hifigan_{preset}_reference"]).abs().max())
            if difference > 1e-4:
                raise SystemExit(f"HiFi-GAN {preset}: the reference's audio differs from ours by up to "
                                 f"{difference:.3g} (more than 1e-4) on the same weights and mel")
            ours["reference_max_abs_diff"] = difference
            ours["speed_vs_reference"] = (ours["audio_seconds_per_s"]
                                          / results[f"hifigan_{preset}_reference"]["audio_seconds_per_s"])
        if args.hifigan_bfloat16:
            bfloat16, low = results[f"hifigan_{preset}_bfloat16"], audio[f"hifigan_{preset}_bfloat16"]
            bfloat16["float32_max_abs_diff"] = float((low - float32).abs().max())
            bfloat16["float32_mel_l1"] = float((stft.mel_spectrogram(low.squeeze(1))
                                                - stft.mel_spectrogram(float32.squeeze(1))).abs().mean())
            bfloat16["speed_vs_float32"] = bfloat16["audio_seconds_per_s"] / ours["audio_seconds_per_s"]
    return results


# Three sentences of 20 words, each over 100 characters, so that inference.split_text keeps each one a piece.
STREAM_SENTENCES = (
    "The quick brown fox jumps over the lazy dog while the old farmer watches from the porch of his house.",
    "Every morning she walks to the station, buys a paper, and reads it on the slow train into the city.",
    "Scientists measured rain in the valley for ten years and found that the summers grew a bit drier "
    "each year.",
)


def _stream_setup(args, hparams, device, vocoder_names: tuple[str, ...]):
    """The LJ Speech-size model (random weights, the gate off: frames_per_word x 20 frames per sentence), the
    texts by name, and the vocoders asked for (hifigan_v1, hifigan_v2, griffin_lim) by name."""
    from waveglow_vocoder import HiFiGANVocoder, load_vocoder

    model = build_model(args, hparams, device).eval()
    model.decoder.gate_threshold = float("inf")
    model.decoder.max_decoder_steps = args.frames_per_word * 20
    texts = {"20 words": STREAM_SENTENCES[0], "60 words": " ".join(STREAM_SENTENCES)}
    vocoders = {}
    for name in vocoder_names:
        if name == "griffin_lim":
            vocoders[name] = load_vocoder(None, hparams, device=device)
        else:  # weights of a trained generator's scale, as in the vocoders mode
            generator = hifigan_generators(name.removeprefix("hifigan_"), hparams, None, False)[name]
            vocoders[name] = HiFiGANVocoder(generator).to(device).eval()
    return model, texts, vocoders


def bench_stream(args, hparams, device) -> dict:
    """First audio and total seconds, streamed and not, per vocoder and text (medians over `repeats`)."""
    import inference
    import streaming

    names = (("hifigan_v1", "hifigan_v2") if "hifigan" in args.vocoders else ()) + (
        ("griffin_lim",) if "griffin_lim" in args.vocoders else ())
    model, texts, vocoders = _stream_setup(args, hparams, device, names)
    results = {}
    for vocoder_name, vocoder in vocoders.items():
        for text_name, text in texts.items():
            assert all(len(piece.split()) == 20 for piece in inference.split_text(text))
            runs = {"whole": [], "streamed": []}
            n_pieces = len(inference.split_text(text))
            for repeat in range(args.warmup + args.repeats):
                # the decoder's packed weights are made once per batch size and kept: as in a server,
                # neither run pays for them
                model.inference_weights.get(model.decoder, min(n_pieces, 8))
                torch.manual_seed(0)
                start = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # the step limit is the point here
                    audio = inference.synthesize(model, vocoder, hparams, [text])[0].audio
                total = time.perf_counter() - start
                if repeat >= args.warmup:
                    runs["whole"].append((total, total))
                model.inference_weights.get(model.decoder, 1)
                start, first, samples = time.perf_counter(), None, 0
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    for chunk in streaming.synthesize_stream(model, vocoder, hparams, text, args.chunk_frames,
                                                             seed=0):
                        first = first or time.perf_counter() - start
                        samples += len(chunk)
                assert samples == len(audio)
                if repeat >= args.warmup:
                    runs["streamed"].append((first, time.perf_counter() - start))
            audio_seconds = len(audio) / hparams.sampling_rate
            for mode, times in runs.items():
                first_audio, total = (statistics.median(t[i] for t in times) for i in (0, 1))
                results[f"{vocoder_name} {text_name} {mode}"] = {
                    "first_audio_s": first_audio, "total_s": total, "audio_s": audio_seconds,
                    "real_time_factor": total / audio_seconds, "all": times}
    results["load_average_after"] = os.getloadavg()  # the machine's other work, over 1, 5 and 15 minutes
    return results


def bench_serve(args, hparams, device) -> dict:
    """serve.py's app on a loopback port in this process: 1 client, then 4 at once, each posting the 20-word
    text; time to the first audio bytes (past the WAV header) and audio seconds served per second."""
    import socket
    import threading

    import uvicorn

    import serve

    model, texts, vocoders = _stream_setup(args, hparams, device, ("hifigan_v2",))
    app = serve.create_app(serve.Server(model, vocoders["hifigan_v2"], hparams, max_streams=4,
                                        chunk_frames=args.chunk_frames))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)

    def client(times: list, index: int) -> None:
        import http.client

        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        start = time.perf_counter()
        connection.request("POST", "/api/synthesize", body=json.dumps({"text": texts["20 words"], "seed": 0}),
                           headers={"Content-Type": "application/json"})
        response, first, size = connection.getresponse(), None, 0
        while part := response.read1(65536):
            size += len(part)
            if first is None and size > 44:
                first = time.perf_counter() - start
        times[index] = (first, time.perf_counter() - start, (size - 44) / 2 / hparams.sampling_rate)
        connection.close()

    results = {}
    for n_clients in [1] * args.warmup + [1, 4]:
        times = [None] * n_clients
        clients = [threading.Thread(target=client, args=(times, i)) for i in range(n_clients)]
        start = time.perf_counter()
        for thread_ in clients:
            thread_.start()
        for thread_ in clients:
            thread_.join()
        wall = time.perf_counter() - start
        results[f"{n_clients} client{'s' if n_clients > 1 else ''}"] = {
            "first_byte_s": [t[0] for t in times], "total_s": [t[1] for t in times],
            "audio_s_per_s": sum(t[2] for t in times) / wall, "wall_s": wall}
    server.should_exit = True
    thread.join()
    results["load_average_after"] = os.getloadavg()
    return results


def run_mode(args) -> dict:
    """Measure one mode in this process -> its results and peak memory."""
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    if args.checkpoint:
        from checkpoint import load_tacotron2
        hparams = load_tacotron2(args.checkpoint, args.hparams)[1]
    else:
        hparams = create_hparams(args.hparams)
    torch.manual_seed(0)
    if args.mode == "train":
        result = bench_train(args, hparams, device)
    elif args.mode == "infer":
        result = bench_infer(args, hparams, device, batch_size=1)
    elif args.mode == "infer_batch":
        result = bench_infer(args, hparams, device, batch_size=args.batch_size)
    elif args.mode == "infer_weights":
        result = bench_infer_weights(args, hparams, device)
    elif args.mode == "stream":
        result = bench_stream(args, hparams, device)
    elif args.mode == "serve":
        result = bench_serve(args, hparams, device)
    else:
        result = bench_vocoders(args, hparams, device)
    result.pop("_mel", None)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    if device.type == "cuda":
        result["peak_cuda_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    return result


def format_table(results: dict) -> str:
    lines = [f"{'mode':<20} {'time (s)':>9} {'frames/s':>10} {'utt/s or RTF':>13} {'peak MB':>8}"]
    for mode, r in results["modes"].items():
        memory = r.get("peak_cuda_mb", r["peak_rss_mb"])
        if mode == "train":
            lines.append(f"{mode:<20} {r['step_s']:9.3f} {r['mel_frames_per_s']:10.1f} "
                         f"{r['utterances_per_s']:10.2f} u/s {memory:8.0f}")
        elif mode == "infer_weights":
            for weights, v in r.items():
                if isinstance(v, dict):
                    lines.append(f"{'infer ' + weights:<20} {v['seconds']:9.3f} "
                                 f"{v['mel_frames_per_s']:10.1f} {v['real_time_factor']:8.3f} RTF "
                                 f"{memory:8.0f}  mel deviation "
                                 f"{v['mel_relative_rms_deviation']:.2e} rms")
        elif mode == "stream":
            for name, v in r.items():
                if isinstance(v, dict):
                    lines.append(f"{name:<34} first audio {v['first_audio_s']:7.3f} s, all "
                                 f"{v['total_s']:7.3f} s of {v['audio_s']:5.1f} s "
                                 f"(RTF {v['real_time_factor']:.3f})")
        elif mode == "serve":
            for name, v in r.items():
                if isinstance(v, dict):
                    lines.append(f"serve, {name:<10} first bytes after {max(v['first_byte_s']):6.3f} s "
                                 f"(slowest), {v['audio_s_per_s']:6.2f} s of audio per s")
        elif mode.startswith("infer"):
            lines.append(f"{mode:<20} {r['seconds']:9.3f} {r['mel_frames_per_s']:10.1f} "
                         f"{r['real_time_factor']:8.3f} RTF {memory:8.0f}")
        else:
            for name, v in r.items():
                if isinstance(v, dict):
                    line = (f"{name:<20} {v['seconds']:9.3f} {'':>10} "
                            f"{v['audio_seconds_per_s']:7.2f} x RT {memory:8.0f}")
                    if "speed_vs_reference" in v:
                        line += (f"  {v['speed_vs_reference']:.2f}x the reference's speed, audio within "
                                 f"{v['reference_max_abs_diff']:.1e}")
                    if "speed_vs_float32" in v:
                        line += (f"  {v['speed_vs_float32']:.2f}x float32's speed, audio within "
                                 f"{v['float32_max_abs_diff']:.1e}, log-mel L1 {v['float32_mel_l1']:.1e}")
                    lines.append(line)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", nargs="+", default=["train", "infer", "infer_batch"],
                        choices=["train", "infer", "infer_batch", "infer_weights", "vocoders", "stream",
                                 "serve"])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--amp", action="store_true", help="float16 autocast on CUDA, bfloat16 on CPU")
    parser.add_argument("--hparams", default="", help="model overrides (default: the LJ Speech hparams)")
    parser.add_argument("--checkpoint", default=None, help="time this trained model (its hparams) instead")
    parser.add_argument("--reference_path", action="store_true",
                        help="the decoder's straightforward loops instead of its fused fast paths")
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--text_length", type=int, default=100)
    parser.add_argument("--mel_length", type=int, default=400)
    parser.add_argument("--infer_frames", type=int, default=400)
    parser.add_argument("--vocoder_frames", type=int, default=172, help="mel frames (172: 2 s of audio)")
    parser.add_argument("--vocoders", nargs="+", default=["waveglow", "hifigan", "griffin_lim"],
                        choices=["waveglow", "hifigan", "griffin_lim"], help="vocoders: which to time")
    parser.add_argument("--hifigan_reference", default=None, metavar="DIR",
                        help="vocoders: also time jik876/hifi-gan's generator from this checkout")
    parser.add_argument("--hifigan_bfloat16", action="store_true",
                        help="vocoders: also time HiFi-GAN in bfloat16, its audio against float32's")
    parser.add_argument("--chunk_frames", type=int, default=32, help="stream, serve: frames per chunk")
    parser.add_argument("--frames_per_word", type=int, default=33,
                        help="stream, serve: decoder frames per word")
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
                           "device_name": (torch.cuda.get_device_name() if args.device.startswith("cuda")
                                           else "cpu")},
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
