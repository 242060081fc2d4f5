"""streaming.py: the decoder's steps are inference's frames; the postnet and vocoder windows hold enough
context (HiFi-GAN's exactly enough); streamed audio equals the whole synthesis (HiFi-GAN to float rounding at
every chunk size, WaveGlow given the same noise), Griffin-Lim's streamed audio is as close to its magnitudes
and has no clicks at chunk edges; seeds, interleaved streams and bad input."""

import dataclasses
import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import soundfile
import torch

import inference
import streaming
from layers import TacotronSTFT
from model import Postnet, Tacotron2
from waveglow_vocoder import GriffinLimVocoder, HiFiGANVocoder, WaveGlow, WaveGlowConfig, WaveGlowVocoder
from waveglow_vocoder.hifigan import PRESETS, Generator
from waveglow_vocoder.hifigan_checkpoint import save_hifigan


def small_generator(preset: str, seed: int = 0) -> Generator:
    """A preset's layout (so its receptive field) at a few channels: fast, the same windows."""
    torch.manual_seed(seed)
    channels = 16 if PRESETS[preset].resblock == "1" else 32
    return Generator(dataclasses.replace(PRESETS[preset], upsample_initial_channel=channels))


def small_hifigan(preset: str) -> HiFiGANVocoder:
    return HiFiGANVocoder(small_generator(preset).remove_weight_norm())


@pytest.fixture
def model_and_hparams(tiny_hparams):
    """The tiny model with the paper's postnet depth (5 convs of kernel 5: 10 frames of context) that never
    stops on its own: exactly max_decoder_steps steps."""
    hparams = dataclasses.replace(tiny_hparams, postnet_n_convolutions=5, postnet_kernel_size=5,
                                  max_decoder_steps=40, griffin_lim_iters=4)
    model = Tacotron2(hparams).eval()
    model.decoder.gate_threshold = float("inf")
    return model, hparams


def stream(model, vocoder, hparams, text, **settings) -> tuple[np.ndarray, list[int]]:
    """Streamed audio joined, and the chunks' lengths."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # max_decoder_steps is the point: these models never stop
        chunks = list(streaming.synthesize_stream(model, vocoder, hparams, text, **settings))
    assert all(chunk.dtype == np.float32 and chunk.ndim == 1 for chunk in chunks)
    return np.concatenate(chunks), [len(chunk) for chunk in chunks]


def whole(model, vocoder, hparams, text, seed, **settings) -> np.ndarray:
    """inference.py's synthesis of the same text with the same seed, one piece at a time."""
    torch.manual_seed(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return inference.synthesize(model, vocoder, hparams, [text], batch_size=1, **settings)[0].audio


@pytest.mark.parametrize("fused, r", [(True, 1), (False, 1), (True, 2), (False, 2)])
def test_decoder_steps_are_the_frames_of_inference(tiny_hparams, fused, r):
    hparams = dataclasses.replace(tiny_hparams, fused_decoder=fused, n_frames_per_step=r,
                                  max_decoder_steps=12)
    model = Tacotron2(hparams).eval()
    model.decoder.gate_threshold = float("inf")
    text = torch.randint(1, 148, (1, 9))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.manual_seed(4)
        steps = list(model.inference_steps(text))
        torch.manual_seed(4)
        mels, postnet_mels, gates, alignments, lengths = model.inference(text)
    frames = torch.cat([step.mel.view(r, 80).t() for step in steps], dim=1).unsqueeze(0)
    assert len(steps) == 12 and lengths.tolist() == [12 * r]
    assert torch.equal(model.denormalize(frames), mels)  # the same loop and dropout draws: the same frames
    torch.testing.assert_close(model.postnet_mels(frames), postnet_mels, rtol=0, atol=1e-6)
    assert torch.equal(torch.cat([step.gate for step in steps], dim=1), gates)
    assert torch.equal(torch.stack([step.attention_weights for step in steps], dim=1), alignments)


def test_postnet_context_is_ten_frames_at_the_paper_size():
    assert Postnet(80, 512, 5, 5).context == 10  # 5 convs of kernel 5: 2 frames each side per conv
    assert Postnet(80, 16, 3, 2).context == 2


@pytest.mark.parametrize("preset, expected", [("v1", 13), ("v2", 13), ("v3", 11)])
def test_hifigan_receptive_field_is_exactly_what_the_gradient_reaches(preset, expected):
    generator = small_generator(preset).remove_weight_norm().double()
    T, frame = 40, 20
    mels = torch.randn(1, 80, T, dtype=torch.float64, requires_grad=True)
    generator(mels)[..., frame * 256 : (frame + 1) * 256].sum().backward()
    reached = (mels.grad.abs().sum(1)[0] != 0).nonzero().flatten()
    reach = (frame - int(reached.min()), int(reached.max()) - frame)
    assert streaming.hifigan_receptive_field(generator) == reach == (expected, expected)


def windowed(vocoder, context, mels, chunk: int) -> np.ndarray:
    """A WindowedVocoder fed one frame at a time, emitting whenever `chunk` frames are final."""
    stream = streaming.WindowedVocoder(lambda window, first: vocoder(window)[0], context, 256)
    chunks = []
    for frame in range(mels.size(2)):
        stream.push(mels[0, :, frame : frame + 1])
        if stream.available() >= chunk:
            chunks.append(stream.emit())
    return np.concatenate(chunks + [stream.emit(final=True)])


@pytest.mark.parametrize("preset", ["v1", "v3"])
def test_hifigan_context_is_enough_and_two_frames_less_are_not(preset):
    """Weights at a trained network's scale (unit gain per layer): the reference's initial 0.01 makes the
    frames at the edge of the receptive field too faint to tell apart from rounding."""
    vocoder = small_hifigan(preset)
    with torch.no_grad():
        for conv in vocoder.modules():
            if isinstance(conv, (torch.nn.Conv1d, torch.nn.ConvTranspose1d)):
                fan_in = conv.in_channels * conv.kernel_size[0] / conv.stride[0]
                conv.weight.normal_(0.0, fan_in**-0.5)
    mels = torch.randn(1, 80, 40) - 4
    expected = vocoder(mels)[0].numpy()
    before, after = streaming.hifigan_receptive_field(vocoder.generator)
    for chunk in (1, 7):
        streamed = windowed(vocoder, (before, after), mels, chunk)
        np.testing.assert_allclose(streamed, expected, rtol=0, atol=2e-6)
    assert np.abs(windowed(vocoder, (before - 2, after - 2), mels, 1) - expected).max() > 1e-5


@pytest.mark.parametrize("chunk_frames", [1, 5, 32])
def test_streamed_hifigan_equals_the_whole_synthesis(model_and_hparams, chunk_frames):
    model, hparams = model_and_hparams
    vocoder = small_hifigan("v2")
    text = "A single piece of text."
    expected = whole(model, vocoder, hparams, text, seed=7)
    audio, lengths = stream(model, vocoder, hparams, text, chunk_frames=chunk_frames, seed=7)
    assert len(audio) == len(expected) == 40 * 256
    np.testing.assert_allclose(audio, expected, rtol=0, atol=1e-5)
    # a chunk is sent once chunk + the postnet's context (10) + HiFi-GAN's (13 + margin 1) frames are decoded
    assert len(lengths) == (40 - 24) // chunk_frames + 1
    assert all(length == chunk_frames * 256 for length in lengths[:-1])


def test_streamed_pieces_follow_each_other_as_inference_decodes_them_one_by_one(model_and_hparams):
    model, hparams = model_and_hparams
    vocoder = small_hifigan("v2")
    text = "The first piece here. And the second one. A third."
    assert len(inference.speakable_pieces(text, hparams, max_chars=25)) == 3
    expected = whole(model, vocoder, hparams, text, seed=11, max_chars=25, pause=0.3)
    audio, _ = stream(model, vocoder, hparams, text, chunk_frames=4, max_chars=25, pause=0.3, seed=11)
    assert len(audio) == (3 * 40 + 2 * round(0.3 * 22050 / 256)) * 256
    np.testing.assert_allclose(audio, expected, rtol=0, atol=1e-5)


def tiny_waveglow() -> WaveGlow:
    """A small WaveGlow whose couplings are not the identity (a fresh one's last layers are zero)."""
    torch.manual_seed(0)
    waveglow = WaveGlow(WaveGlowConfig(n_flows=4, n_group=8, n_early_every=2, n_early_size=2, n_layers=3,
                                       n_channels=16, kernel_size=3))
    for coupling in waveglow.WN:
        torch.nn.init.normal_(coupling.end.weight, std=0.1)
    return waveglow.remove_weightnorm().eval()


def test_waveglow_receptive_field_is_what_the_gradient_reaches():
    vocoder = WaveGlowVocoder(tiny_waveglow())
    waveglow = vocoder.waveglow.double()
    T, frame = 30, 15
    mels = torch.randn(1, 80, T, dtype=torch.float64, requires_grad=True)
    audio = waveglow.reverse(mels, torch.randn(1, 8, T * 32, dtype=torch.float64))
    audio[0, frame * 256 : (frame + 1) * 256].sum().backward()
    reached = (mels.grad.abs().sum(1)[0] != 0).nonzero().flatten()
    waveglow.float()
    reach = (frame - int(reached.min()), int(reached.max()) - frame)
    assert streaming.waveglow_receptive_field(vocoder) == reach


@pytest.mark.parametrize("denoiser_strength", [0.0, 0.1])
def test_streamed_waveglow_equals_the_whole_with_the_same_noise(denoiser_strength):
    vocoder = WaveGlowVocoder(tiny_waveglow(), sigma=0.666, denoiser_strength=denoiser_strength)
    mels = torch.randn(1, 80, 30) - 5
    expected = streaming.WaveGlowWindows(vocoder, seed=3)(mels, 0).numpy()
    context = streaming.waveglow_receptive_field(vocoder)
    for chunk in (1, 6):
        stream = streaming.WindowedVocoder(streaming.WaveGlowWindows(vocoder, seed=3), context, 256)
        chunks = []
        for frame in range(30):
            stream.push(mels[0, :, frame : frame + 1])
            if stream.available() >= chunk:
                chunks.append(stream.emit())
        np.testing.assert_allclose(np.concatenate(chunks + [stream.emit(final=True)]), expected,
                                   rtol=0, atol=1e-5)


def spectral_convergence(audio: np.ndarray, magnitudes: torch.Tensor) -> float:
    """|| |STFT(audio)| - magnitudes || / || magnitudes ||: how well audio has the wanted magnitudes."""
    spectrum = torch.stft(torch.from_numpy(audio), 1024, 256, 1024, window=torch.hann_window(1024),
                          center=True, pad_mode="reflect", return_complex=True).abs()[:, : magnitudes.size(1)]
    return float((spectrum - magnitudes).norm() / magnitudes.norm())


def test_streamed_griffin_lim_is_as_close_to_the_magnitudes_without_clicks(repo_root):
    audio, _ = soundfile.read(repo_root / "demo_corpus" / "wavs" / "DEMO-0001.flac", dtype="float32")
    stft = TacotronSTFT()
    mels = stft.mel_spectrogram(torch.from_numpy(audio[: 22050 * 2])[None])  # 2 s of speech
    magnitudes = stft.mel_to_linear(mels)[0]
    vocoder = GriffinLimVocoder(stft, n_iters=30)
    expected = vocoder(mels)[0].numpy()
    whole_error, whole_jump = spectral_convergence(expected, magnitudes), np.abs(np.diff(expected)).max()
    for chunk in (4, 32):
        stream = streaming.GriffinLimStream(vocoder)
        chunks = []
        for frame in range(mels.size(2)):
            stream.push(mels[0, :, frame : frame + 1])
            if stream.available() >= chunk:
                chunks.append(stream.emit())
        chunks.append(stream.emit(final=True))
        streamed = np.concatenate(chunks)
        assert len(streamed) == len(expected)
        # measured: 0.188 (chunks of 4) and 0.184 (32) against the whole utterance's 0.192
        assert spectral_convergence(streamed, magnitudes) <= 1.25 * whole_error
        edges = np.cumsum([len(chunk) for chunk in chunks[:-1]])
        assert np.abs(streamed[edges] - streamed[edges - 1]).max() <= whole_jump


def test_streamed_griffin_lim_makes_the_whole_length(model_and_hparams):
    model, hparams = model_and_hparams
    vocoder = GriffinLimVocoder(hparams, n_iters=2)
    audio, lengths = stream(model, vocoder, hparams, "Short. Then longer text.", chunk_frames=8,
                            max_chars=10, seed=1)
    assert len(audio) == len(whole(model, vocoder, hparams, "Short. Then longer text.", 1, max_chars=10))
    assert all(length >= 8 * 256 for length in lengths[:-1]) and np.abs(audio).max() <= 1.0


def test_seeded_streams_interleave_without_changing_each_other_or_the_global_state(model_and_hparams):
    model, hparams = model_and_hparams
    vocoder = small_hifigan("v2")
    alone = [stream(model, vocoder, hparams, text, chunk_frames=4, seed=seed)[0]
             for text, seed in (("First text.", 1), ("Second text.", 2))]
    state = torch.get_rng_state()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        streams = [streaming.synthesize_stream(model, vocoder, hparams, text, chunk_frames=4, seed=seed)
                   for text, seed in (("First text.", 1), ("Second text.", 2))]
        interleaved = [[], []]
        for pair in zip(*streams):  # one chunk of each in turn
            for chunks, chunk in zip(interleaved, pair):
                chunks.append(chunk)
        for chunks, rest in zip(interleaved, streams):
            chunks.extend(rest)
    assert torch.equal(torch.get_rng_state(), state)
    for expected, chunks in zip(alone, interleaved):
        np.testing.assert_array_equal(np.concatenate(chunks), expected)


def test_reaching_max_decoder_steps_warns(model_and_hparams):
    model, hparams = model_and_hparams
    with pytest.warns(UserWarning, match="piece 1 of 1 reached max_decoder_steps=40"):
        list(streaming.synthesize_stream(model, GriffinLimVocoder(hparams, n_iters=1), hparams, "Text."))


def test_bad_input_is_refused_before_any_chunk(model_and_hparams):
    model, hparams = model_and_hparams
    vocoder = GriffinLimVocoder(hparams, n_iters=1)
    for text, message in (("   ", "empty text"), ("?!... ,", "nothing speakable")):
        with pytest.raises(ValueError, match=message):
            streaming.synthesize_stream(model, vocoder, hparams, text)
    with pytest.raises(ValueError, match="chunk_frames must be >= 1"):
        streaming.synthesize_stream(model, vocoder, hparams, "Text.", chunk_frames=0)
    with pytest.raises(ValueError, match="cannot stream a Linear"):
        streaming.synthesize_stream(model, torch.nn.Linear(1, 1), hparams, "Text.")
    with pytest.raises(ValueError, match="training mode"):
        streaming.synthesize_stream(model.train(), vocoder, hparams, "Text.")


@pytest.fixture
def checkpoint(model_and_hparams, tmp_path):
    """The tiny model as a file; a gate bias of -100 never stops it (the hparams cannot say 'never')."""
    model, hparams = model_and_hparams
    state_dict = dict(model.state_dict(), **{"decoder.gate_layer.linear_layer.bias": torch.tensor([-100.0])})
    path = tmp_path / "checkpoint_1"
    torch.save({"state_dict": state_dict, "hparams": dataclasses.asdict(hparams)}, path)
    return path


def run_inference(*args, cwd):
    return subprocess.run([sys.executable, "inference.py", *map(str, args)], capture_output=True, cwd=cwd,
                          env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=180)


def test_inference_stream_writes_the_wav_of_the_whole_synthesis(checkpoint, tmp_path, repo_root):
    """One piece, the same seed, HiFi-GAN: the streamed file has the samples of the one written at the end."""
    save_hifigan(tmp_path / "hifigan.pt", small_generator("v2"))
    common = ("-c", checkpoint, "--vocoder", tmp_path / "hifigan.pt", "--text", "Streamed to a file.",
              "--seed", "3")
    for name, extra in (("whole", ()), ("streamed", ("--stream", "--chunk_frames", "8"))):
        result = run_inference(*common, "-o", tmp_path / name, *extra, cwd=repo_root)
        assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert b"first audio after" in result.stdout and not (tmp_path / "streamed" / "utt_001.npy").exists()
    whole_audio, _ = soundfile.read(tmp_path / "whole" / "utt_001.wav", dtype="int16")
    streamed, rate = soundfile.read(tmp_path / "streamed" / "utt_001.wav", dtype="int16")
    header = (tmp_path / "streamed" / "utt_001.wav").read_bytes()[:44]
    assert int.from_bytes(header[40:44], "little") == 2 * len(streamed)  # the sizes set at the end
    assert rate == 22050 and len(streamed) == len(whole_audio) == 40 * 256
    assert np.abs(streamed.astype(int) - whole_audio).max() <= 1  # 16-bit rounding


def test_inference_stream_to_standard_output_is_raw_pcm(checkpoint, repo_root):
    result = run_inference("-c", checkpoint, "--stream", "-o", "-", "--text", "One. Two.", "--max_chars", "5",
                           cwd=repo_root)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert len(result.stdout) == 2 * (2 * 40 + 13) * 256  # two pieces and a pause, nothing else
    assert b"standard output:" in result.stderr
    result = run_inference("-c", checkpoint, "-o", "-", "--text", "Hi.", cwd=repo_root)
    assert result.returncode == 2 and b"needs --stream" in result.stderr


def test_benchmark_stream_and_serve_modes(tmp_path, repo_root):
    tiny = ("symbols_embedding_dim=16,encoder_embedding_dim=16,encoder_kernel_size=3,prenet_dim=16,"
            "attention_rnn_dim=32,decoder_rnn_dim=32,attention_dim=8,attention_location_n_filters=4,"
            "attention_location_kernel_size=5,postnet_embedding_dim=16,postnet_n_convolutions=2,"
            "griffin_lim_iters=2")
    output = tmp_path / "bench.json"
    result = subprocess.run(
        [sys.executable, "benchmark.py", "--device", "cpu", "--threads", "1", f"--hparams={tiny}",
         "--modes", "stream", "serve", "--vocoders", "griffin_lim", "--frames_per_word", "2",
         "--chunk_frames", "8", "--repeats", "1",
         "--warmup", "0", "--output", str(output)],
        cwd=repo_root, capture_output=True, text=True, timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    modes = json.loads(output.read_text())["modes"]
    assert {name.split()[0] for name in modes["stream"] if " words " in name} == {"griffin_lim"}
    for vocoder in ("griffin_lim",):  # serve runs HiFi-GAN V2
        for text, frames in (("20 words", 40), ("60 words", 3 * 40 + 2 * 13)):
            whole, streamed = (modes["stream"][f"{vocoder} {text} {mode}"] for mode in ("whole", "streamed"))
            assert whole["audio_s"] == streamed["audio_s"] == frames * 256 / 22050
            assert whole["first_audio_s"] == whole["total_s"]
            assert streamed["first_audio_s"] <= streamed["total_s"]
    assert len(modes["serve"]["4 clients"]["first_byte_s"]) == 4
    assert modes["serve"]["1 client"]["audio_s_per_s"] > 0
    assert "first audio" in result.stdout
