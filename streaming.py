"""Streaming synthesis: audio chunks while the decoder is still making frames, not after the whole utterance.

The frames come from Tacotron2.inference_steps (the loop and dropout draws of Tacotron2.inference). The
postnet runs on blocks of them with the frames its convolutions read on each side (Postnet.context), the
vocoder on windows with its receptive field on each side, and a chunk holds only samples that no later frame
can change. Long text is split and paused as inference.py does. Joined, the chunks are the whole synthesis:
to float rounding with HiFi-GAN; with WaveGlow, given the same noise (drawn frame by frame from the stream's
own generator); with Griffin-Lim, a reconstruction of the same magnitudes as close (GriffinLimStream).
"""

import struct
import warnings
from collections.abc import Callable, Iterator

import numpy as np
import torch
from torch import Tensor, nn

from inference import SILENCE_LOG_MEL, speakable_pieces
from waveglow_vocoder import GriffinLimVocoder, WaveGlowVocoder
from waveglow_vocoder.hifigan import Generator

HIFIGAN_MARGIN = 1  # frames added to HiFi-GAN's exact receptive field on each side: a guard, not a need


def _conv_reach(conv: nn.Module) -> tuple[int, int]:
    """Input positions before and after an output position that a Conv1d reads: its padding, and the rest
    of its dilated kernel's span."""
    span = conv.dilation[0] * (conv.kernel_size[0] - 1)
    return conv.padding[0], span - conv.padding[0]


def hifigan_receptive_field(generator: Generator) -> tuple[int, int]:
    """Mel frames (before, after) that the samples of one frame of HiFi-GAN's Generator depend on, exactly:
    back from one frame's hop_length output samples through conv_post, each stage's MRF (its widest residual
    block: the reach of its dilated convolutions added up) and transposed convolution, then conv_pre."""
    def through(conv, interval):
        before, after = _conv_reach(conv)
        return interval[0] - before, interval[1] + after

    interval = (0, generator.hop_length - 1)  # the output samples of frame 0
    interval = through(generator.conv_post, interval)
    n = generator.num_kernels
    for stage in reversed(range(len(generator.ups))):
        reaches = [(0, 0)] * n
        for i, block in enumerate(generator.resblocks[stage * n : (stage + 1) * n]):
            reach = (0, 0)
            for conv in block.modules():
                if isinstance(conv, nn.Conv1d):
                    reach = tuple(a + b for a, b in zip(reach, _conv_reach(conv)))
            reaches[i] = reach
        interval = (interval[0] - max(r[0] for r in reaches), interval[1] + max(r[1] for r in reaches))
        up = generator.ups[stage]  # output o reads input i when 0 <= o + padding - i * stride < kernel
        stride, kernel, padding = up.stride[0], up.kernel_size[0], up.padding[0]
        interval = (-(-(interval[0] + padding - kernel + 1) // stride), (interval[1] + padding) // stride)
    interval = through(generator.conv_pre, interval)
    return -interval[0], interval[1]


def waveglow_receptive_field(vocoder: WaveGlowVocoder) -> tuple[int, int]:
    """Mel frames (before, after) that one frame's samples of WaveGlowVocoder depend on: every flow's WN reads
    its dilated convolutions' reach in groups of n_group samples on each side, the flows one after the other;
    the mel's transposed convolution (kernel 4 hops, stride 1 hop, no padding) reaches 3 frames back; the
    denoiser's STFT (1024-sample frames every 256 samples) reads 1023 samples on each side."""
    waveglow = vocoder.waveglow
    group, hop = waveglow.n_group, waveglow.config.hop_length
    reach = sum(_conv_reach(layer)[0] for layer in waveglow.WN[0].in_layers) * waveglow.n_flows  # groups
    first, last = -reach * group, hop - 1 + reach * group  # samples; frame 0's are 0..hop - 1
    if vocoder.denoiser is not None:
        extra = vocoder.denoiser.filter_length - 1
        first, last = first - extra, last + extra
    kernel = waveglow.upsample.kernel_size[0]
    # sample q reads frames ceil((q - kernel + 1) / hop) .. q // hop
    return (kernel - 1 - first) // hop, last // hop


class FrameWindows:
    """The frame bookkeeping of a stream transformed window by window: blocks (C, k) are pushed in, and each
    window holds up to `before` frames already emitted (context), the new frames, and `after` frames of
    look-ahead that a later frame could still change; frames before that context are let go."""

    def __init__(self, before: int, after: int):
        self.before, self.after = before, after
        self.blocks: list[Tensor] = []  # (C, k) blocks, frames start .. total - 1
        self.start = self.total = self.emitted = 0

    def push_block(self, block: Tensor) -> None:
        self.blocks.append(block)
        self.total += block.size(1)

    def available(self, more: int = 0) -> int:
        """Frames that `emit` would give now (with `more` frames pushed first)."""
        return max(0, self.total + more - self.after - self.emitted)

    def next_window(self, final: bool) -> tuple[Tensor, int, int] | None:
        """-> (window (C, end - first), first, end): frames first .. end - 1, of which emitted .. end - 1 are
        new (final=True: the stream has ended, no look-ahead held back); None when nothing is new."""
        end = self.total if final else self.total - self.after
        if end <= self.emitted:
            return None
        first = max(self.start, self.emitted - self.before)
        return torch.cat(self.blocks, dim=1)[:, first - self.start :], first, end

    def advance(self, window: Tensor, first: int, end: int) -> None:
        """Frames up to `end` are emitted; keep only those later windows still read as context."""
        self.emitted = end
        keep = end - self.before - self.start
        if keep > 0:
            self.blocks, self.start = [window[:, end - self.before - first :]], self.start + keep


class WindowedVocoder(FrameWindows):
    """A vocoder whose samples depend on `context` = (before, after) mel frames around their own (HiFi-GAN,
    WaveGlow): mel frames are pushed in, and `emit` vocodes a window of the frames that no later frame can
    change with their context (the utterance's true start and end have none) and returns their samples.
    run(mels (1, n_mels, W), first frame's index) -> (W * hop_length,) samples."""

    def __init__(self, run: Callable[[Tensor, int], Tensor], context: tuple[int, int], hop_length: int):
        super().__init__(*context)
        self.run, self.hop_length = run, hop_length

    def push(self, mels: Tensor) -> None:
        """mels (n_mels, k): the next frames of the log-mel stream."""
        self.push_block(mels)

    def emit(self, final: bool = False) -> np.ndarray:
        """The samples of every frame that is final now (final=True: the stream has ended), float32."""
        if (found := self.next_window(final)) is None:
            return np.zeros(0, np.float32)
        window, first, end = found
        audio = self.run(window[None], first)
        samples = audio[(self.emitted - first) * self.hop_length : (end - first) * self.hop_length]
        self.advance(window, first, end)
        return samples.float().cpu().numpy()


class WaveGlowWindows:
    """WaveGlowVocoder on windows of a stream (a `run` for WindowedVocoder): its noise is drawn for each frame
    in turn (n_group x hop / n_group values) from a generator seeded with `seed`, so a frame's noise is the
    same in every window that holds it and whatever the chunk size: streamed audio equals this run on the
    whole mel (not WaveGlow.infer's draw, which takes the global random state in another order)."""

    def __init__(self, vocoder: WaveGlowVocoder, seed: int = 0):
        self.vocoder, self.waveglow = vocoder, vocoder.waveglow
        weight = self.waveglow.upsample.weight
        self.generator = torch.Generator(weight.device).manual_seed(seed)
        self.noise: list[Tensor] = []  # (n_group, hop / n_group) per frame, frames noise_start..
        self.noise_start = 0

    @torch.no_grad()
    def __call__(self, mels: Tensor, first: int) -> Tensor:
        weight, group = self.waveglow.upsample.weight, self.waveglow.n_group
        shape = (group, self.waveglow.config.hop_length // group)
        while self.noise_start + len(self.noise) < first + mels.size(2):
            self.noise.append(torch.randn(shape, generator=self.generator, device=weight.device,
                                          dtype=weight.dtype))
        self.noise, self.noise_start = self.noise[first - self.noise_start :], first  # windows only move on
        z = torch.cat(self.noise[: mels.size(2)], dim=1).unsqueeze(0)  # (1, n_group, T_g)
        audio = self.waveglow.reverse(mels.to(weight.dtype), self.vocoder.sigma * z)
        if self.vocoder.denoiser is not None:
            audio = self.vocoder.denoiser(audio, strength=self.vocoder.denoiser_strength)
        return audio.float().clamp(-1.0, 1.0)[0]


class GriffinLimStream(FrameWindows):
    """GriffinLimVocoder on overlapping windows, in the manner of real-time iterative spectrogram inversion
    (RTISI-LA, Zhu et al. 2007): a window holds up to `before` frames already sent, the new frames and `after`
    frames of look-ahead; Griffin-Lim runs on it from the phases of the window before (random ones for new
    frames), and at every iteration the signal over the frames already sent is put back to the samples sent,
    so that the new samples continue them. Not the whole-utterance Griffin-Lim's samples (its phases are
    global), but a reconstruction of the same magnitudes as close, without clicks at the chunk edges
    (tests/test_streaming.py measures both). With griffin_lim_power != 1, the level is set per window."""

    def __init__(self, vocoder: GriffinLimVocoder, before: int | None = None, after: int = 8, seed: int = 0):
        # Frames sent earlier matter only through the STFT windows that reach the new samples: filter_length /
        # hop_length of them (4); more change nothing. 8 frames of look-ahead: measured in the tests.
        before = vocoder.stft.filter_length // vocoder.stft.hop_length if before is None else before
        if before < 1 or after < 4:
            raise ValueError(f"Griffin-Lim windows need before >= 1 and after >= 4 frames, got {before} and "
                             f"{after}")
        super().__init__(before, after)
        self.vocoder = vocoder
        stft = vocoder.stft
        device = stft.mel_basis.device
        window = torch.hann_window(stft.win_length, device=device)
        self.stft_args = dict(n_fft=stft.filter_length, hop_length=stft.hop_length,
                              win_length=stft.win_length, window=window, center=True)
        self.hop_length = stft.hop_length
        self.generator = torch.Generator(device).manual_seed(seed)
        self.angles: Tensor | None = None  # (n_freq, frames): the last window's phases, from its first frame
        self.angles_start = 0
        self.sent = torch.zeros(0, device=device)  # the last samples sent, before clipping

    def push(self, mels: Tensor) -> None:
        """mels (n_mels, k): the next frames of the log-mel stream, kept as linear magnitudes (n_freq, k)."""
        self.push_block(self.vocoder.stft.mel_to_linear(mels.unsqueeze(0))[0])

    def emit(self, final: bool = False) -> np.ndarray:
        """The samples of every frame that is final now (final=True: the stream has ended), float32."""
        if (found := self.next_window(final)) is None:
            return np.zeros(0, np.float32)
        linear, first, end = found  # (n_freq, W)
        angles = self._start_angles(first, linear.size(1))
        fixed = (self.emitted - first) * self.hop_length  # samples already sent, kept in every iteration
        signal, self.angles = self._griffin_lim(linear, angles, fixed)
        self.angles_start = first
        stop = min((end - first) * self.hop_length, signal.size(0))  # at the end: (T - 1) * hop samples
        new = signal[fixed:stop]
        self.sent = torch.cat((self.sent, new))[-self.before * self.hop_length :]
        self.advance(linear, first, end)
        scale = 1.0
        if self.vocoder.power != 1.0:  # GriffinLimVocoder's level correction, here per window
            scale = float(linear.norm() / (linear**self.vocoder.power).norm().clamp(min=1e-8))
        audio = (new * scale).clamp(-1.0, 1.0)
        if final:  # the last hop is silent, as GriffinLimVocoder gives T * hop samples
            audio = torch.cat((audio, audio.new_zeros((end - first) * self.hop_length - stop)))
        return audio.float().cpu().numpy()

    def _start_angles(self, first: int, n_frames: int) -> Tensor:
        """The previous window's phases for the frames it held, random ones for the new frames."""
        n_freq = self.blocks[0].size(0)
        known = torch.zeros(n_freq, 0, device=self.sent.device)
        if self.angles is not None:
            known = self.angles[:, first - self.angles_start :]
        phase = torch.rand(n_freq, n_frames - known.size(1), generator=self.generator, device=known.device)
        random = torch.polar(torch.ones_like(phase), phase * 2 * torch.pi)
        return torch.cat((known.to(random.dtype), random), dim=1)

    def _griffin_lim(self, linear: Tensor, angles: Tensor, fixed: int) -> tuple[Tensor, Tensor]:
        """Griffin-Lim (layers.griffin_lim's iteration) on one window whose first `fixed` samples are sent
        -> its signal and phases."""
        magnitudes = linear.clamp(min=0) ** self.vocoder.power
        padded = magnitudes.size(1) < 4  # a very short utterance: as GriffinLimVocoder, pad with silence
        if padded:
            silence = self.vocoder.stft.mel_to_linear(torch.full((1, self.vocoder.stft.n_mel_channels, 1),
                                                                 SILENCE_LOG_MEL, device=linear.device))[0]
            magnitudes = torch.cat((magnitudes, silence.expand(-1, 4 - magnitudes.size(1))), dim=1)
            angles = torch.cat((angles, angles[:, -1:].expand(-1, 4 - angles.size(1))), dim=1)
        sent = self.sent[self.sent.size(0) - fixed :]
        for _ in range(self.vocoder.n_iters):
            signal = torch.istft(magnitudes * angles, **self.stft_args)
            signal[:fixed] = sent
            rebuilt = torch.stft(signal, pad_mode="reflect", return_complex=True, **self.stft_args)
            angles = rebuilt / rebuilt.abs().clamp(min=1e-8)
        signal = torch.istft(magnitudes * angles, **self.stft_args)
        signal[:fixed] = sent
        return (signal[: (linear.size(1) - 1) * self.hop_length] if padded else signal), angles


def vocoder_stream(vocoder: nn.Module, seed: int = 0) -> WindowedVocoder | GriffinLimStream:
    """The streaming form of a vocoder from waveglow_vocoder.load_vocoder (or a bare HiFi-GAN Generator):
    Griffin-Lim on overlapping windows; WaveGlow and HiFi-GAN on windows with their receptive field around;
    `seed` draws WaveGlow's noise and Griffin-Lim's starting phases."""
    if isinstance(vocoder, GriffinLimVocoder):
        return GriffinLimStream(vocoder, seed=seed)
    if isinstance(vocoder, WaveGlowVocoder):
        return WindowedVocoder(WaveGlowWindows(vocoder, seed), waveglow_receptive_field(vocoder),
                               vocoder.hop_length)
    generator = next((m for m in vocoder.modules() if isinstance(m, Generator)), None)
    if generator is None:
        raise ValueError(f"cannot stream a {type(vocoder).__name__}: its receptive field is unknown")
    before, after = hifigan_receptive_field(generator)

    @torch.no_grad()
    def run(mels: Tensor, first: int) -> Tensor:  # (B, T * hop) or a Generator's (B, 1, T * hop)
        return vocoder(mels).reshape(-1)

    return WindowedVocoder(run, (before + HIFIGAN_MARGIN, after + HIFIGAN_MARGIN), generator.hop_length)


class PostnetBlocks(FrameWindows):
    """One utterance's decoder steps in, its postnet log mels out as soon as they are exact: a frame once
    `postnet.context` more frames follow it (or the utterance has ended)."""

    def __init__(self, model):
        super().__init__(model.postnet.context, model.postnet.context)
        self.model = model

    def add(self, step_mel: Tensor) -> None:
        """A DecoderStep's mel (1, n_mels * r)."""
        self.push_block(step_mel.view(-1, self.model.n_mel_channels).t())

    def take(self, final: bool = False) -> Tensor:
        """Postnet log mels (n_mels, k) of the frames exact now (final=True: the utterance has ended)."""
        if (found := self.next_window(final)) is None:
            return self.blocks[0].new_zeros(self.model.n_mel_channels, 0)
        window, first, end = found
        mels = self.model.postnet_mels(window.unsqueeze(0))[0, :, self.emitted - first : end - first]
        self.advance(window, first, end)
        return mels


def synthesize_stream(model, vocoder: nn.Module, hparams, text: str, chunk_frames: int = 32,
                      max_chars: int = 200, pause: float = 0.15,
                      seed: int | None = None) -> Iterator[np.ndarray]:
    """Text -> audio chunks (float32 at hparams.sampling_rate, each of at least chunk_frames * hop_length
    samples but the last) as they are made; joined, the utterance that inference.synthesize makes of it (see
    the module docstring for each vocoder). The text is checked now (ValueError), before any chunk is made.

    Pieces of long text (split at max_chars, as inference.py) follow one another with `pause` seconds of
    silence between. `seed` (an int) gives the stream a random state of its own, seeded with it, for the
    prenet's dropout (set and put back around each chunk, so streams may interleave), WaveGlow's noise and
    Griffin-Lim's phases; None uses the global random state as it is (and seed 0 for the vocoder)."""
    if model.training:
        raise ValueError("the model is in training mode: call model.eval() first")
    if chunk_frames < 1 or pause < 0:
        raise ValueError(f"chunk_frames must be >= 1 and pause >= 0, got {chunk_frames} and {pause}")
    if not text.strip():
        raise ValueError("empty text; nothing to say")
    pieces = [ids for _, ids in speakable_pieces(text, hparams, max_chars)]
    pause_frames = round(pause * hparams.sampling_rate / hparams.hop_length)
    chunks = _stream(model, vocoder_stream(vocoder, seed or 0), pieces, chunk_frames, pause_frames)
    return chunks if seed is None else _own_random_state(chunks, seed, next(model.parameters()).device)


@torch.no_grad()
def _stream(model, stream, pieces: list[Tensor], chunk_frames: int,
            pause_frames: int) -> Iterator[np.ndarray]:
    device = next(model.parameters()).device
    silence = torch.full((model.n_mel_channels, pause_frames), SILENCE_LOG_MEL, device=device)
    for number, ids in enumerate(pieces, start=1):
        if number > 1 and pause_frames:
            stream.push(silence)
        postnet = PostnetBlocks(model)
        for step in model.inference_steps(ids.unsqueeze(0).to(device)):
            postnet.add(step.mel)
            # run the postnet only when the vocoder can then send a whole chunk
            if stream.available(postnet.available()) >= chunk_frames:
                stream.push(postnet.take())
                yield stream.emit()
        if not bool(step.done.all()):
            warnings.warn(f"piece {number} of {len(pieces)} reached max_decoder_steps="
                          f"{model.decoder.max_decoder_steps} before its stop token fired: its audio is cut "
                          "there", stacklevel=3)
        stream.push(postnet.take(final=True))
        if stream.available() >= chunk_frames and number < len(pieces):
            yield stream.emit()
    yield stream.emit(final=True)


def _own_random_state(chunks: Iterator[np.ndarray], seed: int, device: torch.device) -> Iterator[np.ndarray]:
    """`chunks` made with a global random state of their own, seeded with `seed`, swapped in for each chunk
    and the caller's put back after: the same draws as torch.manual_seed(seed) before an uninterrupted run."""
    cuda = device.type == "cuda"
    get_state = (lambda: torch.cuda.get_rng_state(device)) if cuda else torch.get_rng_state
    set_state = (lambda state: torch.cuda.set_rng_state(state, device)) if cuda else torch.set_rng_state
    own = torch.Generator(device).manual_seed(seed).get_state()
    try:
        while True:
            outer = get_state()
            set_state(own)
            try:
                chunk = next(chunks)
            except StopIteration:
                return
            finally:
                own = get_state()
                set_state(outer)
            yield chunk
    finally:
        chunks.close()  # a consumer that stops early (a client gone) stops the synthesis


def wav_header(sampling_rate: int, data_bytes: int | None = None) -> bytes:
    """The 44-byte header of a 16-bit mono PCM WAV of data_bytes bytes of samples. For a stream of unknown
    length (None), the sizes are the largest a WAV can state: RIFF 0xFFFFFFFF and data 0xFFFFFFFF - 36;
    readers then take the samples up to the end of the stream (libsndfile and ffmpeg do)."""
    size = 0xFFFFFFFF - 36 if data_bytes is None else data_bytes
    return struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 36 + size, b"WAVE", b"fmt ", 16, 1, 1, sampling_rate,
                       2 * sampling_rate, 2, 16, b"data", size)


def pcm16(audio: np.ndarray) -> bytes:
    """float32 samples in [-1, 1] -> little-endian 16-bit PCM."""
    return (np.clip(audio, -1.0, 1.0) * 32767.0).round().astype("<i2").tobytes()
