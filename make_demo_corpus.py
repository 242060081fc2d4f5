#!/usr/bin/env python3
"""Build the bundled demo corpus: a small single-speaker English corpus in LJ Speech layout.

LJ Speech cannot be fetched everywhere (and is 2.6 GB), so the repository ships this small corpus
for the tests and for the quick start: a few hundred short sentences written for this project,
spoken by flite's `rms` voice (or espeak-ng, `--engine espeak-ng`), resampled to 22050 Hz. The
small Tacotron 2 of the `demo` preset (`--hparams=preset=demo`) is sized to learn to align on it in
minutes on a CPU.

It writes, relative to the current directory (normally the repository root):

    demo_corpus/wavs/DEMO-0001.flac ...   22050 Hz, mono, 16-bit FLAC, 75 ms of silence at each end
    demo_corpus/metadata.csv              ID|raw text|normalized text  (LJ Speech format)
    demo_corpus/README.md                 what it is, how it was made, counts and durations
    filelists/demo_audio_text_{train,val,test}_filelist.txt   (via data_utils.prepare_filelists)

Re-running it with the same synthesiser version and the same options gives the same files.
Re-making it needs flite (`apt-get install -y flite`); using the corpus does not. Other voices make other
corpora in the same layout, e.g. a second voice for a test:
`python3 make_demo_corpus.py --voice awb --out-dir /tmp/awb --skip-filelists`.

    python3 make_demo_corpus.py                 # rebuild everything with the defaults
    python3 make_demo_corpus.py --skip-filelists
    python3 make_demo_corpus.py --help

The audio is synthesised from the *normalized* text (numbers and abbreviations written out by the
repository's own `text` package), so the speech says exactly what the transcript the model is
trained on says, whatever the synthesiser's own reading of "$3.50" or "St." would have been.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

SAMPLING_RATE = 22050
ID_PREFIX = "DEMO"

# Written for this project (not taken from LJ Speech or any other corpus). Keep each one short
# enough to be spoken in 1 to 4 seconds, free of double quotes and of characters outside the
# model's symbol set once normalized, and not ending in an abbreviation (its period would be
# consumed by the expansion). The order is part of the corpus: DEMO-0001 is the first line.
SENTENCES: list[str] = [
    # Statements.
    "A quiet fox crossed the frozen field.",
    "Her violin lay in a velvet case.",
    "Jack quickly mixed the dough.",
    "Heavy rain flooded the road.",
    "The museum opens at nine.",
    "The zebra stood by the water.",
    "A thin frost covered the windows.",
    "Yellow kites drifted above the beach.",
    "The baker sold out of rye bread.",
    "The children built a blanket fort.",
    "An owl hooted in the woods.",
    "The soup needs a pinch more salt.",
    "Fresh snow muffled every sound.",
    "The jury listened to every witness.",
    "His jacket was zipped to his chin.",
    "The squirrel buried acorns.",
    "Everyone agreed to try the plan.",
    "The puzzle had one missing piece.",
    "Her voice echoed in the chapel.",
    "They sailed north along the shore.",
    "The dog waited by the door.",
    # Questions.
    "Where did you leave the spare key?",
    "Have you ever seen a comet?",
    "Why is the sky so pale today?",
    "Could you pass me the blue folder?",
    "What time does the last bus leave?",
    "Is the ferry still running tonight?",
    "How many eggs do we need?",
    "Would you like tea or coffee?",
    "Did anyone hear the thunder?",
    "When will the new bridge open?",
    "Which path leads to the lake?",
    "Are the tickets sold out?",
    "Can we meet next Thursday?",
    "Why did the lights flicker?",
    "Do you know the way to the harbor?",
    "How long does the journey take?",
    "Shall we walk or take a taxi?",
    "What was that village called?",
    "Is anyone sitting here?",
    # Exclamations.
    "What a wonderful view!",
    "Watch out for falling branches!",
    "That was the best meal I've ever had!",
    "Hurry, the train is leaving!",
    "Look at the size of that wave!",
    "We finally reached the top!",
    "How bright the stars are tonight!",
    "Stop the car, I forgot my wallet!",
    "The fireworks were dazzling!",
    "Quick, close the window!",
    "Happy birthday, dear cousin!",
    "Never again will I skip breakfast!",
    "What a lovely surprise!",
    "Keep going, you're almost there!",
    # Commas, colons, semicolons and apostrophes.
    "It's colder today than yesterday.",
    "The cat's whiskers twitched as it slept.",
    "We bought bread, cheese, and grapes.",
    "He didn't notice the note.",
    "The rule was simple: arrive early.",
    "She smiled; he looked away.",
    "I'm sure they'll call us.",
    "The wind was cold; the sea was rough.",
    "You can't judge a melon by its rind.",
    "After lunch, we walked along the canal.",
    "They've painted the kitchen yellow.",
    "Slowly, carefully, she opened the letter.",
    "He wasn't hungry; he was bored.",
    "The garden had two parts: herbs and roses.",
    "We'd better check the weather first.",
    "Yes, the shop is open on Sundays.",
    "No, I haven't finished the report.",
    "Our plan was clear: rest, then climb.",
    "If it rains, we'll stay inside.",
    "Honestly, the film was too long.",
    "The storm passed; the birds sang.",
    "Bring two things: a torch and a rope.",
    # Cardinal numbers.
    "There are 12 chairs at the table.",
    "The recipe calls for 3 cups of flour.",
    "We counted 47 boats.",
    "The hotel has 250 rooms.",
    "Only 9 students came to the lecture.",
    "The tower is 300 feet tall.",
    "She ran 5 miles before breakfast.",
    "About 18 people waited at the gate.",
    "The village has just 2 shops.",
    "The concert hall seats 800 guests.",
    "The bus stops 7 times.",
    # Years.
    "The theater opened in 1984.",
    "She was born in 1962.",
    "The canal was dug in 1825.",
    "The school's centenary was in 2010.",
    "The old mill burned down in 1907.",
    "In 1776, the bell was cast.",
    "The comet returned in 1986.",
    "The library was expanded in 2015.",
    "By 1890, the town had a railway.",
    "The treaty was signed in 1648.",
    # Ordinals.
    "He finished 3rd in the contest.",
    "Our flat is on the 4th floor.",
    "This is my 2nd visit.",
    "The 1st chapter was the hardest.",
    "Turn left at the 5th house.",
    "The parade is on the 21st of June.",
    "Her 40th birthday was by the sea.",
    "We sat in the 12th row.",
    "It was the 100th day of the voyage.",
    "The race ends on the 23rd of May.",
    # Decimals.
    "The baby weighed 3.5 kilos.",
    "The trail is 2.5 miles long.",
    "The temperature rose by 1.8 degrees.",
    "The engine is 1.6 liters.",
    "The river rose 0.75 meters.",
    "Pi is roughly 3.14.",
    # Currency.
    "The ticket costs $3.50.",
    "I paid £20 for the old lamp.",
    "A loaf of bread costs $2.",
    "The fine was $75.",
    "She found £5 in her pocket.",
    "Lunch for two was £14.",
    "He saved $1.25 each day.",
    "The book cost $9.99.",
    "Coffee here costs £3 a cup.",
    "The fare rose to $4.75.",
    "The painting sold for £300.",
    # Numbers written with thousands separators.
    "The stadium holds 1,200 people.",
    "The ship carried 2,500 barrels.",
    "The city has 45,000 residents.",
    "The farm covers 3,400 acres.",
    "Over 10,000 birds nest on the cliffs.",
    "The summit is 4,810 meters.",
    "Fixing the roof cost $2,000.",
    # Abbreviations (St. only in its saint sense, as LJ Speech's expansion reads it).
    "Mr. Hale opened the shop at eight.",
    "Mrs. Patel grows lilies.",
    "Dr. Morgan checked the boy's pulse.",
    "We visited St. Albans on a rainy day.",
    "Jones and Co. baked bread for the town.",
    "Martin Hale Jr. took over the farm.",
    "Capt. Reed steered the ship into port.",
    "Lt. Barnes saluted the general.",
    "Mr. and Mrs. Clark arrived early.",
    "Dr. Chen gave a talk on sleep.",
    "Mrs. Dunn knitted a scarf.",
    "St. Ives is a small town by the sea.",
    "Lt. Moore checked the map.",
    "Dr. Lewis and Mr. Ford shook hands.",
    "Samuel Price Jr. joined the choir.",
    "Capt. Holt told the crew to lower the sails.",
    "Mr. Quinn waxed his wooden boat.",
    "St. Mary's church has a tall spire.",
    # Numbers and abbreviations together.
    "Dr. Ross saw 14 patients before lunch.",
    "Mr. Blake paid $6 for tulips.",
    "On the 2nd of March, 1990, the river froze.",
    "Mrs. Kim bought honey for £12.",
    "Capt. Frost sailed 1,500 miles.",
    "The 3rd train leaves at 6 sharp.",
    "Was Lt. Page born in 1970?",
    "Did Mr. Wu really pay $40?",
    "What a bargain: 2 shirts for £15!",
    # Broad letter coverage.
    "The jazz quartet played until late.",
    "Six wax candles lit the hallway.",
    "A jovial waiter brought dessert.",
    "The quiz had twenty tricky questions.",
    "Zinc and copper make a battery.",
    "Vivid violet flowers lined the drive.",
    "The oxen pulled the heavy cart.",
    "A quick breeze rippled the pond.",
    "Her knitting needles clicked.",
    "The wizard waved his crooked wand.",
    "The boxer wore yellow gloves.",
    "Kayaks glided past the jetty.",
    "The queen waved to the crowd.",
    "Jagged rocks lined the inlet.",
    "The fox jumped over the lazy hound.",
    "Frozen yogurt is my favorite treat.",
    "The vicar's bicycle squeaked.",
    "A juggler performed in the square.",
    "The puzzle box had a brass key.",
    "Walnuts and figs were piled high.",
    "Thick fog hid the peaks.",
    "The gymnast landed the jump.",
    "A zealous reporter chased the story.",
    "The sphinx guarded the tomb.",
    "Exquisite lace trimmed the dress.",
    "The banjo player tapped his foot.",
    "Moving the piano took maximum effort.",
    "The yak grazed on the windy plateau.",
    "Quiet voices drifted from the kitchen.",
    "The hive buzzed with workers.",
    "Knock twice before you enter.",
    "The whale surfaced beside our boat.",
    "Fuzzy peaches ripened on the wall.",
    "A jaguar prowled through the jungle.",
    "The explorer's compass pointed north.",
    "A wren built her nest in an old boot.",
    "The chef whisked six eggs.",
    "Please keep your voice down.",
    "Tomorrow we'll hike to the glacier.",
    "Lemons, limes, and oranges filled the bowl.",
    "Pack your bags; we leave at dawn.",
    "I can't believe it's December already!",
    "What did the doctor say about your knee?",
    "The clock struck 12, and everyone cheered.",
    "There were 3 knocks at the door.",
]


@dataclass(frozen=True)
class Utterance:
    """One corpus entry: its ID, the text as written and the text as spoken."""

    uid: str
    raw: str
    normalized: str


@dataclass(frozen=True)
class SynthOptions:
    """Synthesiser, voice and silence trimming; all fixed so the corpus is reproducible."""

    engine: str = "flite"  # "flite" (natural enough for a speech recognizer) or "espeak-ng"
    # flite: rms, awb or kal16 (slt and kal stay unused, for evaluation); espeak-ng: en-us...
    voice: str = "rms"
    rate: int = 175  # espeak-ng only: words per minute (its default)
    pitch: int = 50  # espeak-ng only: 0-99 (its default)
    amplitude: int = 100  # espeak-ng only: 0-200 (its default)
    pad_s: float = 0.075  # silence kept before the first and after the last sound
    threshold_db: float = -40.0  # a sample is "sound" above this level relative to the peak
    compression_level: float = 1.0  # FLAC compression, 0 (fastest) to 1 (smallest)


# flite's voices that this project may use for training and tuning; its others (slt, kal) are kept
# aside so that a voice nothing here was trained or tuned on stays for evaluation.
FLITE_VOICES = ("rms", "awb", "kal16")


def load_normalizer(written_forms: bool = False) -> Callable[[str], str]:
    """Return the repository's LJ-style normalizer (numbers, then abbreviations; case kept).

    With `written_forms`, `text.normalize.expand_written_forms` runs first, as in `english_cleaners`,
    so that "7:30", "45%" and "Prof." are said too; the demo corpus was made without it.
    """
    try:
        from text.cleaners import expand_abbreviations
        from text.normalize import expand_written_forms
        from text.numbers import normalize_numbers
    except ImportError as e:  # pragma: no cover - only while the text package is missing
        raise SystemExit(f"make_demo_corpus: cannot import the repository's text package ({e}); "
                         "run this from the repository root") from e

    def normalize(raw: str) -> str:
        text = expand_written_forms(raw) if written_forms else raw
        return re.sub(r"\s+", " ", expand_abbreviations(normalize_numbers(text))).strip()

    return normalize


def build_utterances(sentences: Sequence[str], normalize: Callable[[str], str], prefix: str = ID_PREFIX,
                     digits: int = 4) -> list[Utterance]:
    """Number the sentences DEMO-0001... (`prefix`, `digits`) and normalize them; reject text that would
    break the format."""
    utterances = []
    for i, raw in enumerate(sentences, start=1):
        raw = raw.strip()
        if "|" in raw or '"' in raw or "\n" in raw:
            raise ValueError(f"sentence {i} contains '|', '\"' or a newline: {raw!r}")
        normalized = normalize(raw)
        if re.search(r"\d", normalized):
            raise ValueError(f"sentence {i} still has digits after normalization: {normalized!r}")
        utterances.append(Utterance(f"{prefix}-{i:0{digits}d}", raw, normalized))
    return utterances


def trim_silence(audio: np.ndarray, sr: int, pad_s: float, threshold_db: float) -> np.ndarray:
    """Leave exactly `pad_s` seconds of silence before the first and after the last sound.

    Both synthesisers start with a few milliseconds of silence and end with up to 0.3 s of it, so the
    ends are cut and padded with zeros.
    """
    magnitude = np.abs(audio.astype(np.float64))
    peak = float(magnitude.max(initial=0.0))
    if peak == 0.0:
        raise ValueError("the synthesiser produced silence")
    loud = np.flatnonzero(magnitude > peak * 10.0 ** (threshold_db / 20.0))
    pad = int(round(pad_s * sr))
    start, end = int(loud[0]) - pad, int(loud[-1]) + 1 + pad
    head = np.zeros(max(0, -start), dtype=audio.dtype)
    tail = np.zeros(max(0, end - len(audio)), dtype=audio.dtype)
    return np.concatenate([head, audio[max(0, start):min(len(audio), end)], tail])


def to_sampling_rate(audio: np.ndarray, sr: int) -> np.ndarray:
    """int16 audio at `sr` -> int16 audio at SAMPLING_RATE (flite speaks at 16 kHz: 441/320 polyphase)."""
    if sr == SAMPLING_RATE:
        return audio
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(SAMPLING_RATE, sr)
    resampled = resample_poly(audio.astype(np.float64), SAMPLING_RATE // g, sr // g)
    return np.clip(np.round(resampled), -32768, 32767).astype(np.int16)


def synthesize(text: str, out_path: Path, opts: SynthOptions, program: str, tmp_dir: Path) -> float:
    """Speak `text` with the synthesiser, trim it, write 16-bit FLAC to `out_path`; return its duration."""
    txt_path, wav_path = tmp_dir / "utt.txt", tmp_dir / "utt.wav"
    txt_path.write_text(text + "\n", encoding="utf-8")
    if opts.engine == "flite":
        cmd = [program, "-voice", opts.voice, "-f", str(txt_path), "-o", str(wav_path)]
    else:
        cmd = [program, "-v", opts.voice, "-s", str(opts.rate), "-p", str(opts.pitch),
               "-a", str(opts.amplitude), "-w", str(wav_path), "-f", str(txt_path)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    audio, sr = sf.read(wav_path, dtype="int16", always_2d=True)
    # trimmed at the synthesiser's own rate, then resampled: the pad is exact either way
    audio = to_sampling_rate(trim_silence(audio[:, 0], sr, opts.pad_s, opts.threshold_db), sr)
    sf.write(out_path, audio, SAMPLING_RATE, format="FLAC", subtype="PCM_16",
             compression_level=opts.compression_level)
    return len(audio) / SAMPLING_RATE


def engine_version(program: str) -> str:
    """The synthesiser's version number ("1.51", "2.2-current"), or "unknown"."""
    # flite prints its version and exits 1; espeak-ng exits 0
    run = subprocess.run([program, "--version"], check=False, capture_output=True, text=True)
    match = re.search(r"(?:version: flite-|eSpeak NG text-to-speech: )(\d+\.\d+[\w.-]*)", run.stdout)
    return match.group(1) if match else "unknown"


def write_metadata(utterances: Sequence[Utterance], path: Path) -> None:
    """LJ Speech's metadata.csv: `ID|raw text|normalized text`, UTF-8, no header."""
    with path.open("w", encoding="utf-8", newline="\n") as f:
        for u in utterances:
            f.write(f"{u.uid}|{u.raw}|{u.normalized}\n")


def clean_wav_dir(wav_dir: Path, prefix: str) -> None:
    """Create `wav_dir`, deleting its <prefix>-*.flac first: no file of an older, longer run lingers."""
    if wav_dir.exists():
        for old in wav_dir.glob(f"{prefix}-*.flac"):
            old.unlink()
    wav_dir.mkdir(parents=True, exist_ok=True)


def write_filelists(out_dir: Path, filelist_dir: Path, name: str, n_val: int, n_test: int, seed: int,
                    data_root: str) -> None:
    """The corpus' train/val/test filelists (data_utils.prepare_filelists), their paths printed."""
    from data_utils import prepare_filelists

    lists = prepare_filelists(corpus_dir=str(out_dir), filelist_dir=str(filelist_dir), name=name,
                              n_val=n_val, n_test=n_test, seed=seed, data_root=data_root)
    for split, path in lists.items():
        print(f"{split}: {path}")


def dir_size_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def describe_voice(opts: SynthOptions, version: str) -> str:
    if opts.engine == "flite":
        return f"flite {version}, voice `{opts.voice}` (16 kHz, resampled to {SAMPLING_RATE} Hz)"
    return (f"espeak-ng {version}, voice `{opts.voice}`, rate {opts.rate} wpm, pitch {opts.pitch}, "
            f"amplitude {opts.amplitude} ({SAMPLING_RATE} Hz, its native rate)")


def write_readme(path: Path, durations: Sequence[float], opts: SynthOptions, version: str,
                 argv: Sequence[str]) -> None:
    total = sum(durations)
    command = " ".join(["python3", "make_demo_corpus.py", *argv])
    flac = f"mono, 16-bit, FLAC compression level {opts.compression_level:g}"
    package = "flite" if opts.engine == "flite" else "espeak-ng"
    text = f"""# Demo corpus

A small single-speaker English speech corpus in the LJ Speech layout, bundled with this repository
so that the tests and the quick start work without downloading LJ Speech. The small Tacotron 2 of
the `demo` preset (`--hparams=preset=demo`) learns to align on it in minutes on a CPU. Unlike
espeak-ng's, this voice is understood by a speech recognizer (pocketsphinx hears its recordings with a
word error rate of about 0.13), so intelligibility can be measured on it. It is test and tutorial data.

| | |
|---|---|
| utterances | {len(durations)} |
| total duration | {total:.1f} s ({total / 60:.1f} min) |
| shortest / longest | {min(durations):.2f} s / {max(durations):.2f} s |
| audio | FLAC, {SAMPLING_RATE} Hz, mono, 16-bit |

## Layout

- `wavs/{ID_PREFIX}-0001.flac` ... : one utterance each, with {opts.pad_s:g} s of silence before the first
  and after the last sound.
- `metadata.csv`: `ID|raw text|normalized text`, UTF-8, `|`-separated, no header, as in LJ Speech.
  The normalized column has numbers, currency, ordinals and abbreviations written out (case and
  punctuation kept) by the repository's `text.numbers.normalize_numbers` and
  `text.cleaners.expand_abbreviations`.
- `../filelists/demo_audio_text_{{train,val,test}}_filelist.txt`: the split used by the `demo`
  preset, written by `data_utils.prepare_filelists(..., name="demo", n_val=12, n_test=12,
  seed=1234)`.

## How it was made

```
{command}
```

`make_demo_corpus.py` (at the repository root) holds the sentences. Each one is spoken from its
normalized text, so that the audio says exactly what the transcript says, with these settings:

- {describe_voice(opts, version)}
- {flac}

Re-running the script with the same synthesiser version reproduces the files byte for byte. Only
re-making the corpus needs {package} (`apt-get install -y {package}`).

## Licence

The sentences were written for this project and are not taken from LJ Speech or any other corpus.
The voice is synthetic: no person's voice is recorded here. {package} was only used as a tool to
make the audio and is not part of the corpus. The corpus is distributed under the same licence as
the rest of this repository.
"""
    path.write_text(text, encoding="utf-8")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out-dir", type=Path, default=Path("demo_corpus"),
                   help="corpus folder to (re)write: wavs/, metadata.csv, README.md")
    p.add_argument("--filelist-dir", type=Path, default=Path("filelists"),
                   help="where the demo_audio_text_*_filelist.txt files go")
    p.add_argument("--generated", type=int, default=0, metavar="N",
                   help="speak N sentences of sentence_bank.generated_sentences(N, --seed) instead of the "
                        "demo's own list (for a second voice or a larger corpus)")
    p.add_argument("--data-root", default="",
                   help="filelist paths are relative to this folder (train with --hparams=data_root=...)")
    p.add_argument("--name", default="demo",
                   help="filelists are <name>_audio_text_{train,val,test}_filelist.txt")
    p.add_argument("--skip-filelists", action="store_true",
                   help="do not call data_utils.prepare_filelists")
    p.add_argument("--n-val", type=int, default=12, help="utterances in the validation list")
    p.add_argument("--n-test", type=int, default=12, help="utterances in the test list")
    p.add_argument("--seed", type=int, default=1234, help="seed of the train/val/test split")
    defaults = SynthOptions()
    p.add_argument("--engine", default=defaults.engine, choices=["flite", "espeak-ng"],
                   help="synthesiser (its executable is looked up on PATH)")
    p.add_argument("--voice", default=None,
                   help=f"flite: one of {', '.join(FLITE_VOICES)} (default {defaults.voice}); "
                        "espeak-ng: a voice name (default en-us)")
    p.add_argument("--rate", type=int, default=defaults.rate, help="speaking rate, words per minute")
    p.add_argument("--pitch", type=int, default=defaults.pitch, help="pitch, 0-99")
    p.add_argument("--amplitude", type=int, default=defaults.amplitude, help="amplitude, 0-200")
    p.add_argument("--pad", type=float, default=defaults.pad_s,
                   help="seconds of silence kept at each end")
    p.add_argument("--compression-level", type=float, default=defaults.compression_level,
                   help="FLAC compression level, 0 to 1")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    program = shutil.which(args.engine)
    if program is None:
        raise SystemExit(f"make_demo_corpus: {args.engine} not found; "
                         f"install it with `apt-get install -y {args.engine}`")
    voice = args.voice or ("rms" if args.engine == "flite" else "en-us")
    if args.engine == "flite" and voice not in FLITE_VOICES:
        raise SystemExit(f"make_demo_corpus: flite voice {voice!r} is not one of {', '.join(FLITE_VOICES)} "
                         "(the others are kept aside for evaluation)")
    opts = SynthOptions(engine=args.engine, voice=voice, rate=args.rate, pitch=args.pitch,
                        amplitude=args.amplitude, pad_s=args.pad,
                        compression_level=args.compression_level)

    if args.generated:
        from sentence_bank import generated_sentences

        sentences = generated_sentences(args.generated, seed=args.seed)
    else:
        sentences = SENTENCES
    utterances = build_utterances(sentences, load_normalizer())
    wav_dir = args.out_dir / "wavs"
    clean_wav_dir(wav_dir, ID_PREFIX)

    durations = []
    with tempfile.TemporaryDirectory(prefix="demo_corpus_") as tmp:
        for u in utterances:
            durations.append(synthesize(u.normalized, wav_dir / f"{u.uid}.flac", opts, program,
                                        Path(tmp)))
    write_metadata(utterances, args.out_dir / "metadata.csv")
    write_readme(args.out_dir / "README.md", durations, opts, engine_version(program), argv)

    if not args.skip_filelists:
        write_filelists(args.out_dir, args.filelist_dir, args.name, args.n_val, args.n_test, args.seed,
                        args.data_root)

    total = sum(durations)
    size_mb = dir_size_bytes(args.out_dir) / 1e6
    print(f"{len(utterances)} utterances, {total:.1f} s in all ({min(durations):.2f} s to "
          f"{max(durations):.2f} s), {size_mb:.1f} MB in {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
