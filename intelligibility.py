"""Intelligibility: how many of a sentence's words an offline speech recognizer hears, as word and
character error rates (WER, CER) against the text. The recognizer is pocketsphinx with the US English
acoustic model, language model and dictionary its wheel bundles (nothing is downloaded); the scoring
is jiwer's. Both are optional dependencies, imported only when a measure is asked for:
`pip install pocketsphinx jiwer` (or `pip install -r requirements-dev.txt`).
"""

import functools
import importlib
import itertools
import math
import os
import re
from types import ModuleType

import numpy as np
import torch
from scipy.signal import resample_poly
from torch import Tensor, nn
from torch.nn.utils.rnn import pad_sequence

from inference import SILENCE_LOG_MEL
from text.cleaners import english_cleaners, expand_abbreviations

RECOGNIZER_RATE = 16000  # pocketsphinx's en-us acoustic model is trained on 16 kHz speech
INSTALL_HINT = "pip install pocketsphinx jiwer (or: pip install -r requirements-dev.txt)"

_NOT_KEPT = re.compile(r"[^a-z0-9' ]")
_QUOTE = re.compile(r"(?<![a-z0-9])'|'(?![a-z0-9])")  # an apostrophe that is not inside a word ("'so'")
_WHITESPACE = re.compile(r"\s+")


def require(name: str) -> ModuleType:
    """Import an optional dependency of the measure, or raise ImportError that says how to install it."""
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise ImportError(f"the intelligibility measure needs {name}, which is not installed: "
                          f"{INSTALL_HINT}") from error


def check_available() -> None:
    """Raise the ImportError of `require` now if pocketsphinx or jiwer is missing, before any work."""
    require("pocketsphinx")
    require("jiwer")


def normalize_transcript(text: str) -> str:
    """A reference text or a recognizer output -> the words compared: numbers and abbreviations written
    out (english_cleaners, which also transliterates and lowercases), hyphens as spaces, anything but
    letters, digits, in-word apostrophes and spaces dropped, whitespace collapsed.

    The recognizer writes some abbreviations without their period ("dr smith"), where english_cleaners,
    which keys on the period, would leave them alone; each word is expanded as if it had one, on both
    sides alike, so that "Dr. Smith" and "dr smith" compare equal.
    """
    text = english_cleaners(text).replace("-", " ")
    text = _QUOTE.sub("", _NOT_KEPT.sub("", text.lower()))
    words = [expand_abbreviations(f"{word}.").removesuffix(".") for word in text.split()]
    return _WHITESPACE.sub(" ", " ".join(words)).strip()


def to_recognizer_input(audio: np.ndarray | Tensor, sampling_rate: int) -> np.ndarray:
    """Float audio (T,) in [-1, 1] at `sampling_rate` -> 16-bit samples (about T * 16000 / sampling_rate,)
    at 16 kHz, clipped to the int16 range (polyphase resampling: 320/441 from 22050 Hz)."""
    if isinstance(audio, Tensor):
        audio = audio.detach().float().cpu().numpy()
    audio = np.asarray(audio, dtype=np.float64)
    divisor = math.gcd(RECOGNIZER_RATE, sampling_rate)
    if sampling_rate != RECOGNIZER_RATE:
        audio = resample_poly(audio, RECOGNIZER_RATE // divisor, sampling_rate // divisor)
    return np.clip(np.round(audio * 32767.0), -32768, 32767).astype(np.int16)


@functools.cache
def _decoder():
    """The process's one pocketsphinx decoder (its models take about half a second to load)."""
    pocketsphinx = require("pocketsphinx")
    return pocketsphinx.Decoder(samprate=RECOGNIZER_RATE, logfn=os.devnull)


class Recognizer:
    """pocketsphinx's bundled US English recognizer: float audio at any sampling rate -> lower-case words.
    Instances share one decoder per process, loaded on the first transcription."""

    def __init__(self):
        require("pocketsphinx")  # fail here, not after the caller has spent minutes synthesizing

    def transcribe(self, audio: np.ndarray | Tensor, sampling_rate: int) -> str:
        """audio: (T,) float in [-1, 1] -> the recognized words ("" for silence or empty audio)."""
        samples = to_recognizer_input(audio, sampling_rate)
        if samples.size == 0:
            return ""
        decoder = _decoder()
        # The front end carries statistics from one utterance to the next (cepstral means, noise levels),
        # which changed 2 of 24 transcripts with the order of the utterances; reset, every utterance is
        # heard as by a fresh decoder, at no measurable cost.
        decoder.reinit_feat()
        decoder.start_utt()
        decoder.process_raw(samples.tobytes(), full_utt=True)
        decoder.end_utt()
        hypothesis = decoder.hyp()
        return "" if hypothesis is None else hypothesis.hypstr


def score(texts: list[str], transcripts: list[str]) -> dict:
    """Reference texts and recognizer outputs (raw; both normalized here) -> {"wer", "cer", "utterances":
    [{"transcript" (normalized), "wer", "cer"}]}. The overall rates are errors summed over all utterances
    divided by the reference words (characters) summed, so a long sentence weighs more than a short one;
    the character rates count the spaces between words."""
    jiwer = require("jiwer")
    references = [normalize_transcript(text) for text in texts]
    hypotheses = [normalize_transcript(transcript) for transcript in transcripts]
    for text, reference in zip(texts, references):
        if not reference:
            raise ValueError(f"text {text!r} has no words left to recognize after normalization")
    utterances = [{"transcript": hypothesis, "wer": float(jiwer.wer(reference, hypothesis)),
                   "cer": float(jiwer.cer(reference, hypothesis))}
                  for reference, hypothesis in zip(references, hypotheses)]
    return {"wer": float(jiwer.wer(references, hypotheses)), "cer": float(jiwer.cer(references, hypotheses)),
            "utterances": utterances}


def intelligibility_of_audio(audios: list[np.ndarray | Tensor], texts: list[str], sampling_rate: int) -> dict:
    """Recordings or synthesized waveforms (T_i,) and their texts -> `score`'s dict."""
    recognizer = Recognizer()
    return score(texts, [recognizer.transcribe(audio, sampling_rate) for audio in audios])


@torch.no_grad()
def vocode(mels: list[Tensor], vocoder: nn.Module, batch_size: int = 8) -> list[Tensor]:
    """Log mels (n_mels, T_i) -> waveforms (T_i * hop_length,) on the CPU, each trimmed to its own length.
    Mels of similar length are vocoded together, padded with silence; on the vocoder's device."""
    state = next(itertools.chain(vocoder.parameters(), vocoder.buffers()), None)
    device = state.device if state is not None else torch.device("cpu")
    order = sorted(range(len(mels)), key=lambda i: -mels[i].size(1))
    audios: list[Tensor | None] = [None] * len(mels)
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        frames_first = [mels[i].T.float() for i in batch]  # (T_i, n_mels): pad_sequence pads dimension 0
        padded = pad_sequence(frames_first, batch_first=True, padding_value=SILENCE_LOG_MEL).transpose(1, 2)
        audio = vocoder(padded.to(device)).cpu()  # (B, n_mels, T_max) -> (B, T_max * hop_length)
        for row, index in enumerate(batch):
            audios[index] = audio[row, : mels[index].size(1) * vocoder.hop_length]
    return audios


def intelligibility_of(mels: list[Tensor], texts: list[str], vocoder: nn.Module, batch_size: int = 8) -> dict:
    """Vocode log mels (n_mels, T_i) with `vocoder` (a GriffinLimVocoder or WaveGlowVocoder, see
    waveglow_vocoder.load_vocoder) and score what the recognizer hears against `texts`: `score`'s dict.

    Cost per second of speech, measured on one thread of the 2-core CPU machine: Griffin-Lim at 60
    iterations about 0.05 s, recognition about 0.12 s, plus half a second once per process to load the
    recognizer; four 3-second utterances add about 2 s to a validation. WaveGlow costs far more on a CPU
    (README, Vocoders). `texts` are raw, as in a filelist; the utterances come back in the order given.
    """
    return intelligibility_of_audio(vocode(mels, vocoder, batch_size), texts, vocoder.sampling_rate)
