"""Synthesize speech with a trained Tacotron 2: text -> mel -> vocoder (HiFi-GAN or WaveGlow, or Griffin-Lim
without vocoder weights) -> wav, plus the mel (.npy) and an alignment picture for every utterance.

    python3 inference.py --checkpoint outdir/checkpoint_1000 --text "Hello world." --output_dir synth
    python3 inference.py --checkpoint tacotron2_statedict.pt --vocoder generator_v1 --text_file lines.txt
    echo "Read from standard input." | python3 inference.py --checkpoint outdir/checkpoint_1000

Each line of --text_file (or of stdin) is one utterance. Long text is split at sentence boundaries; all
pieces of all utterances are decoded in batches, and each utterance's pieces are joined with a short pause.
"""

import argparse
import os
import re
import sys
import time
import warnings
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile
import torch
from torch import Tensor
from torch.nn.utils.rnn import pad_sequence

from checkpoint import load_tacotron2
from files import atomic_write, make_output_directory
from logger import save_alignment_png
from text import text_to_ids
from waveglow_vocoder import load_vocoder

# A sentence ends at . ! ? or ; (closing quotes or brackets stay with it) followed by white space.
_SENTENCE_END = re.compile(r"(?<=[.!?;])[\"')\]]*\s+")
_CLAUSE_END = re.compile(r"(?<=[,:])\s+")
SILENCE_LOG_MEL = float(np.log(1e-5))  # TacotronSTFT clamps magnitudes at 1e-5 before the log


def _pack(parts: list[str], max_chars: int, joiner: str) -> list[str]:
    """Greedily join consecutive parts with `joiner` while the result stays within max_chars."""
    packed: list[str] = []
    for part in parts:
        if packed and len(packed[-1]) + len(joiner) + len(part) <= max_chars:
            packed[-1] += joiner + part
        else:
            packed.append(part)
    return packed


def split_text(text: str, max_chars: int = 200) -> list[str]:
    """Sentences of `text`, several short ones packed into one piece of at most max_chars; a longer
    sentence is cut at commas and colons, then between words, so that no piece outgrows what the
    attention saw in training (LJ Speech utterances are at most about 190 characters)."""
    pieces = []
    for sentence in _pack(_SENTENCE_END.split(text.strip()), max_chars, " "):
        for clause in _pack(_CLAUSE_END.split(sentence), max_chars, " "):
            pieces += _pack(clause.split(), max_chars, " ") if len(clause) > max_chars else [clause]
    return [piece.strip() for piece in pieces if piece.strip()]


def speakable_pieces(text: str, hparams, max_chars: int = 200) -> list[tuple[str, Tensor]]:
    """split_text's pieces of text and their symbol ids, leaving out a piece with nothing to say in it (a
    lone "..." between two sentences); ValueError naming the text when nothing in it is speakable."""
    speakable = []
    for part in split_text(text, max_chars):
        try:
            speakable.append((part, text_to_ids(part, hparams)))
        except ValueError:
            pass
    if not speakable:
        text_to_ids(text, hparams)  # raises the error that names the text
    return speakable


@dataclass
class Decoded:
    mel: Tensor  # (n_mels, T_out) postnet mel of the real frames
    alignment: Tensor  # (S, T_in) real decoder steps x real symbols
    stopped: bool  # False: cut at max_decoder_steps before the gate fired


@torch.no_grad()
def decode(model, sequences: list[Tensor], batch_size: int = 8) -> list[Decoded]:
    """Free-running decoding of many symbol sequences, batch_size at a time, each stopping on its own
    gate (Tacotron2.inference); sequences of similar length share a batch. Results in input order, the
    same mels as decoding one by one (the batch only changes which rows share the matrix products)."""
    device = next(model.parameters()).device
    # one at a time in text order, so that the prenet's dropout draws follow the text as streaming.py's do
    order = (sorted(range(len(sequences)), key=lambda i: -len(sequences[i])) if batch_size > 1
             else list(range(len(sequences))))
    results: list[Decoded | None] = [None] * len(sequences)
    r = model.n_frames_per_step
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        lengths = torch.tensor([len(sequences[i]) for i in batch], device=device)
        text = pad_sequence([sequences[i] for i in batch], batch_first=True).to(device)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # reaching max_decoder_steps is reported per utterance instead
            _, mels, gates, alignments, mel_lengths = model.inference(text, lengths)
        for row, index in enumerate(batch):
            frames, symbols_in = int(mel_lengths[row]), int(lengths[row])
            steps = frames // r
            stopped = bool(torch.sigmoid(gates[row, steps - 1].float()) > model.decoder.gate_threshold)
            results[index] = Decoded(mels[row, :, :frames].float().cpu(),
                                     alignments[row, :steps, :symbols_in].float().cpu(), stopped)
    return results


@dataclass
class Utterance:
    text: str
    pieces: list[str]
    mel: np.ndarray  # (n_mels, T_out): the pieces' mels joined by pauses
    alignment: np.ndarray  # (S, T_in) of all pieces, block-diagonal
    audio: np.ndarray  # (T_out * hop_length,) float32 in [-1, 1]
    seconds: float  # synthesis time spent on it (its share of the batched decoding, plus its vocoding)
    limit_hits: list[int] = field(default_factory=list)  # pieces cut at max_decoder_steps

    def real_time_factor(self, sampling_rate: int) -> float:
        return self.seconds / (len(self.audio) / sampling_rate)


def _block_diagonal(alignments: list[Tensor]) -> np.ndarray:
    """Per-piece (S_i, T_in_i) alignments -> one (sum S_i, sum T_in_i) picture of the whole utterance."""
    block = np.zeros((sum(a.shape[0] for a in alignments), sum(a.shape[1] for a in alignments)), np.float32)
    step = symbol = 0
    for alignment in alignments:
        block[step : step + alignment.shape[0], symbol : symbol + alignment.shape[1]] = alignment.numpy()
        step, symbol = step + alignment.shape[0], symbol + alignment.shape[1]
    return block


def synthesize(model, vocoder, hparams, texts: list[str], batch_size: int = 8, max_chars: int = 200,
               pause: float = 0.15) -> list[Utterance]:
    """Texts -> utterances. Every text is checked before anything is decoded; a piece that reaches
    max_decoder_steps is reported with a warning (its audio is cut there), never silently."""
    pieces, sequences = [], []
    for number, text in enumerate(texts, start=1):
        if not split_text(text, max_chars):
            raise ValueError(f"utterance {number}: empty text {text!r}; nothing to say")
        speakable = speakable_pieces(text, hparams, max_chars)
        pieces.append([part for part, _ in speakable])
        sequences += [ids for _, ids in speakable]
    start = time.perf_counter()
    decoded = decode(model, sequences, batch_size)
    decode_seconds = time.perf_counter() - start
    total_frames = sum(item.mel.size(1) for item in decoded)
    device = next(model.parameters()).device
    silence = torch.full((hparams.n_mel_channels, round(pause * hparams.sampling_rate / hparams.hop_length)),
                         SILENCE_LOG_MEL)
    utterances, position = [], 0
    for number, (text, parts) in enumerate(zip(texts, pieces), start=1):
        items, position = decoded[position : position + len(parts)], position + len(parts)
        limit_hits = [i for i, item in enumerate(items, start=1) if not item.stopped]
        for i in limit_hits:
            seconds = items[i - 1].mel.size(1) * hparams.hop_length / hparams.sampling_rate
            warnings.warn(f"utterance {number}, piece {i} of {len(parts)} ({parts[i - 1][:60]!r}): reached "
                          f"max_decoder_steps={model.decoder.max_decoder_steps} ({seconds:.1f} s of audio) "
                          "before its stop token fired, so its audio is cut there; raise it with "
                          "--hparams=max_decoder_steps=N, or split the text finer with --max_chars",
                          stacklevel=2)
        mel = torch.cat([m for item in items for m in (silence, item.mel)][1:], dim=1)  # pause between pieces
        vocoder_start = time.perf_counter()
        audio = vocoder(mel.unsqueeze(0).to(device))[0, : mel.size(1) * hparams.hop_length]
        seconds = (time.perf_counter() - vocoder_start
                   + decode_seconds * sum(i.mel.size(1) for i in items) / total_frames)
        utterances.append(Utterance(text, parts, mel.numpy(), _block_diagonal([i.alignment for i in items]),
                                    audio.float().cpu().numpy(), seconds, limit_hits))
    return utterances


def write_utterance(utterance: Utterance, stem: Path, sampling_rate: int) -> None:
    """stem.wav (16-bit PCM), stem.npy (the mel) and stem_alignment.png, each written atomically."""
    atomic_write(stem.with_suffix(".wav"), lambda handle: soundfile.write(
        handle, utterance.audio, sampling_rate, format="WAV", subtype="PCM_16"))
    atomic_write(stem.with_suffix(".npy"), lambda handle: np.save(handle, utterance.mel.astype(np.float32)))
    save_alignment_png(utterance.alignment, stem.with_name(stem.name + "_alignment.png"),
                       f"{utterance.text[:60]}")


def write_streams(streams: list, output_dir: Path | None, prefix: str, sampling_rate: int) -> None:
    """--stream: each utterance's chunks (streaming.synthesize_stream) into PREFIX_NNN.wav as they come (a
    header of unknown length first, its sizes set at the end) or, with no output_dir, to standard output as
    raw 16-bit PCM; a line per utterance on stdout (stderr when stdout has the audio)."""
    import streaming  # here: streaming.py imports this module

    report = sys.stdout if output_dir else sys.stderr
    for number, chunks in enumerate(streams, start=1):
        path = output_dir / f"{prefix}_{number:03d}.wav" if output_dir else None
        start, first, size = time.perf_counter(), 0.0, 0
        with open(path, "wb") if path else nullcontext(sys.stdout.buffer) as out:
            if path:
                out.write(streaming.wav_header(sampling_rate))
            for chunk in chunks:
                first = first or time.perf_counter() - start
                try:
                    out.write(streaming.pcm16(chunk))
                    out.flush()
                except BrokenPipeError:  # the player has stopped listening
                    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                    raise SystemExit("standard output closed: synthesis stopped") from None
                size += 2 * len(chunk)
            if path:
                out.seek(0)
                out.write(streaming.wav_header(sampling_rate, size))
        seconds, duration = time.perf_counter() - start, size / 2 / sampling_rate
        print(f"{path or 'standard output'}: {duration:.2f} s of audio in {seconds:.2f} s, first audio after "
              f"{first:.2f} s, real-time factor {seconds / duration:.3f}", file=report)


def read_texts(args) -> list[str]:
    """--text, else the non-blank lines of --text_file, else of stdin (UTF-8; a bad byte names its line)."""
    if args.text is not None:
        return [args.text]
    if args.text_file:
        source, raw = args.text_file, Path(args.text_file).read_bytes()
    elif sys.stdin is None or sys.stdin.isatty():
        raise ValueError("no text: give --text, --text_file, or pipe text on standard input")
    else:
        source, raw = "<stdin>", sys.stdin.buffer.read()
    texts = []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        try:
            text = line.decode("utf-8").strip()
        except UnicodeDecodeError as error:
            raise ValueError(f"{source}:{number}: not UTF-8 (byte 0x{line[error.start]:02x} at column "
                             f"{error.start + 1})") from None
        if text:
            texts.append(text)
    if not texts:
        raise ValueError(f"{source}: no text (the input is empty or only white space)")
    return texts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-c", "--checkpoint", required=True,
                        help="Tacotron 2 checkpoint: ours, or the reference's tacotron2_statedict.pt")
    parser.add_argument("--text", default=None, help="one utterance (else --text_file, else stdin)")
    parser.add_argument("--text_file", default=None, help="UTF-8 file, one utterance per line")
    parser.add_argument("-o", "--output_dir", default="synth", help="created if missing (default: synth)")
    parser.add_argument("--hparams", default="",
                        help="overrides: sizes for a reference checkpoint, or e.g. max_decoder_steps=2000")
    parser.add_argument("--vocoder", default=None,
                        help="HiFi-GAN generator (the reference's g_XXXXXXXX or generator_v1, or ours) or "
                             "WaveGlow weights, told apart by content; Griffin-Lim when not given")
    parser.add_argument("--waveglow", default=None, help="the same as --vocoder (kept for older commands)")
    parser.add_argument("--allow_legacy_pickle", action="store_true",
                        help="allow NVIDIA's pickled WaveGlow files "
                             "(unpickling can run code: trusted files only)")
    parser.add_argument("--sigma", type=float, default=0.666, help="WaveGlow noise standard deviation")
    parser.add_argument("--denoiser_strength", type=float, default=0.0, help="WaveGlow denoiser (e.g. 0.01)")
    parser.add_argument("--griffin_lim_iters", type=int, default=None,
                        help="default: hparams.griffin_lim_iters")
    parser.add_argument("--batch_size", type=int, default=8, help="pieces decoded together")
    parser.add_argument("--max_chars", type=int, default=200, help="longer sentences are split further")
    parser.add_argument("--device", default=None, choices=["cpu", "cuda"],
                        help="default: CUDA when available")
    parser.add_argument("--seed", type=int, default=1234, help="for the prenet's dropout, on at inference")
    parser.add_argument("--prefix", default="utt",
                        help="output files are PREFIX_001.wav, .npy, _alignment.png")
    parser.add_argument("--stream", action="store_true",
                        help="write each utterance's audio as it is made (streaming.py): its .wav grows "
                             "chunk by chunk (no .npy or picture); with --output_dir - raw 16-bit PCM goes "
                             "to standard output, e.g. | aplay -r 22050 -f S16_LE")
    parser.add_argument("--chunk_frames", type=int, default=32, help="--stream: mel frames per chunk")
    args = parser.parse_args(argv)
    if min(args.batch_size, args.max_chars, args.chunk_frames) < 1:
        parser.error("--batch_size, --max_chars and --chunk_frames must be at least 1")
    to_stdout = args.output_dir == "-"
    if to_stdout and not args.stream:
        parser.error("--output_dir - (standard output) needs --stream")
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device=cuda but no CUDA device is available")
    if args.vocoder and args.waveglow:
        parser.error("--waveglow is another name for --vocoder: give one of them")
    vocoder_path = args.vocoder or args.waveglow
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    try:
        texts = read_texts(args)
        output_dir = None if to_stdout else make_output_directory(args.output_dir)
        model, hparams = load_tacotron2(args.checkpoint, args.hparams, device)
        if args.griffin_lim_iters is not None:
            hparams.griffin_lim_iters = args.griffin_lim_iters
        vocoder = load_vocoder(vocoder_path, hparams, args.allow_legacy_pickle, args.sigma,
                               args.denoiser_strength, device)
        torch.manual_seed(args.seed)
        if args.stream:
            import streaming  # here: streaming.py imports this module

            # every text is checked here, before any audio
            streams = [streaming.synthesize_stream(model, vocoder, hparams, text, args.chunk_frames,
                                                   args.max_chars) for text in texts]
        else:
            utterances = synthesize(model, vocoder, hparams, texts, args.batch_size, args.max_chars)
    except (ValueError, FileNotFoundError) as error:
        raise SystemExit(f"error: {error}") from None
    if args.stream:
        write_streams(streams, output_dir, args.prefix, hparams.sampling_rate)
        return
    total_audio = total_seconds = 0.0
    for number, utterance in enumerate(utterances, start=1):
        stem = output_dir / f"{args.prefix}_{number:03d}"
        write_utterance(utterance, stem, hparams.sampling_rate)
        duration = len(utterance.audio) / hparams.sampling_rate
        total_audio, total_seconds = total_audio + duration, total_seconds + utterance.seconds
        print(f"{stem}.wav: {duration:.2f} s of audio in {utterance.seconds:.2f} s, real-time factor "
              f"{utterance.real_time_factor(hparams.sampling_rate):.3f}"
              + (f", {len(utterance.limit_hits)} piece(s) cut at max_decoder_steps"
                 if utterance.limit_hits else ""))
    print(f"{len(utterances)} utterance(s), {total_audio:.2f} s of audio in {total_seconds:.2f} s "
          f"on {device} with {vocoder.name}: real-time factor {total_seconds / total_audio:.3f}")


if __name__ == "__main__":
    main()
