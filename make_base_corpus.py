#!/usr/bin/env python3
"""Build a base corpus: thousands of generated sentences spoken by synthetic voices, in LJ Speech layout.

The bundled demo corpus has 8 minutes of speech, too few for a model to read text it was not trained
on. This script makes a corpus large enough to train a base model that other voices are then
fine-tuned from: `sentence_bank.base_sentences(N, seed)` (4000 sentences by default:
3.1 hours of speech, 205 MB, made in about 30 s on 2 cores; the shipped base model's corpus), each
spoken once, by one of the `--voices`, dealt round robin. The default is flite's `kal16` alone, so
that `rms` and `awb` stay unheard for fine-tuning tests (and `slt`, `kal` for evaluation); three
voices in its place did no better after fine-tuning (README, "Your own voice"). It reuses
make_demo_corpus.py's synthesis, trimming and metadata, and writes:

    base_corpus/wavs/BASE-00001.flac ...   22050 Hz, mono, 16-bit FLAC, 75 ms of silence at each end
    base_corpus/metadata.csv              ID|raw text|normalized text  (LJ Speech format)
    base_corpus/README.md                 counts, durations per voice, the command
    filelists/base_audio_text_{train,val,test}_filelist.txt   (via data_utils.prepare_filelists)

    python3 make_base_corpus.py                    # 4000 sentences, flite kal16, 2 processes
    python3 make_base_corpus.py --voices flite:kal16,espeak-ng:en-us+f3 --sentences 6000 --jobs 8

The same options and synthesiser versions give the same audio, metadata and filelists, whatever
`--jobs`; only the README's line on how long the run took differs.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from make_demo_corpus import (
    FLITE_VOICES,
    SAMPLING_RATE,
    SynthOptions,
    Utterance,
    build_utterances,
    clean_wav_dir,
    describe_voice,
    dir_size_bytes,
    engine_version,
    load_normalizer,
    synthesize,
    write_filelists,
    write_metadata,
)

ID_PREFIX = "BASE"
ENGINES = ("flite", "espeak-ng")
DEFAULT_VOICES = "flite:kal16"
# An espeak-ng voice and optional variant: "en-us", "en-gb-x-rp", "en-us+f3".
_ESPEAK_VOICE = re.compile(r"[A-Za-z0-9_-]+(?:\+([A-Za-z0-9_-]+))?")


def voice_spec(opts: SynthOptions) -> str:
    return f"{opts.engine}:{opts.voice}"


def parse_voices(specs: str) -> list[SynthOptions]:
    """'flite:kal16,espeak-ng:en-us+f3' -> one SynthOptions per voice (other settings at their defaults)."""
    voices: list[SynthOptions] = []
    for spec in specs.split(","):
        spec = spec.strip()
        engine, colon, voice = spec.partition(":")
        if not colon or not engine or not voice:
            raise ValueError(f"voice {spec!r} is not ENGINE:VOICE, e.g. flite:kal16 or espeak-ng:en-us")
        if engine not in ENGINES:
            raise ValueError(f"voice {spec!r}: engine {engine!r} is not one of {', '.join(ENGINES)}")
        if engine == "flite" and voice not in FLITE_VOICES:
            raise ValueError(f"voice {spec!r}: flite voice {voice!r} is not one of {', '.join(FLITE_VOICES)} "
                             "(the others are kept aside for evaluation)")
        if engine == "espeak-ng" and not _ESPEAK_VOICE.fullmatch(voice):
            raise ValueError(f"voice {spec!r}: {voice!r} is not an espeak-ng voice name such as en-us, "
                             "en-gb-x-rp or en-us+f3")
        opts = SynthOptions(engine=engine, voice=voice)
        if opts in voices:
            raise ValueError(f"voice {spec!r} is given twice")
        voices.append(opts)
    return voices


def check_voices(voices: Sequence[SynthOptions], programs: dict[str, str]) -> None:
    """Speak one word with each voice, so that a voice the synthesiser lacks stops the run before it starts.

    espeak-ng refuses an unknown voice but speaks an unknown variant ("en-us+f33") with no variant at
    all, so variants are looked up in its list.
    """
    for opts in voices:
        variant = _ESPEAK_VOICE.fullmatch(opts.voice).group(1) if opts.engine == "espeak-ng" else None
        if variant is not None:
            listing = subprocess.run([programs[opts.engine], "--voices=variant"], check=True,
                                     capture_output=True, text=True).stdout
            known = sorted(set(re.findall(r"!v/(\S+)", listing)))
            if variant not in known:
                raise SystemExit(f"make_base_corpus: espeak-ng has no variant {variant!r} "
                                 f"(for {voice_spec(opts)}); it has {', '.join(known)}")
        with tempfile.TemporaryDirectory(prefix="base_corpus_") as tmp:
            try:
                synthesize("Hello.", Path(tmp) / "check.flac", opts, programs[opts.engine], Path(tmp))
            except subprocess.CalledProcessError as e:
                raise SystemExit(f"make_base_corpus: {voice_spec(opts)} cannot speak: "
                                 f"{e.stderr.decode(errors='replace').strip()}") from e


@dataclass(frozen=True)
class Job:
    """One utterance to speak: what, with which voice and synthesiser, into which file."""

    utterance: Utterance
    opts: SynthOptions
    program: str
    out_path: Path


def run_job(job: Job) -> float:
    """Speak one utterance in a temporary folder of its own (jobs run side by side); return its duration."""
    with tempfile.TemporaryDirectory(prefix="base_corpus_") as tmp:
        return synthesize(job.utterance.normalized, job.out_path, job.opts, job.program, Path(tmp))


def _hours_minutes_seconds(seconds: float) -> str:
    whole = int(round(seconds))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def progress_line(done: int, total: int, elapsed_s: float) -> str:
    """'120/3000 utterances, 4.1/s, ETA 0:11:42'."""
    rate = done / elapsed_s if elapsed_s > 0 else 0.0
    eta = _hours_minutes_seconds((total - done) / rate) if rate > 0 else "unknown"
    return f"{done}/{total} utterances, {rate:.1f}/s, ETA {eta}"


def synthesize_all(jobs: Sequence[Job], n_jobs: int, every_s: float = 10.0) -> list[float]:
    """Run the jobs in `n_jobs` processes (in this one if 1); print progress every `every_s` seconds.

    flite takes about 12 ms an utterance, and the Python around it (reading, trimming, resampling to
    22050 Hz, FLAC) about 17 ms, so jobs run in processes rather than threads.
    """
    durations = [0.0] * len(jobs)
    start = last = time.monotonic()

    def report(done: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= every_s or done == len(jobs):
            print(progress_line(done, len(jobs), now - start), flush=True)
            last = now

    if n_jobs == 1:
        for index, job in enumerate(jobs):
            durations[index] = run_job(job)
            report(index + 1)
        return durations
    with ProcessPoolExecutor(max_workers=n_jobs) as pool:
        futures = {pool.submit(run_job, job): index for index, job in enumerate(jobs)}
        for done, future in enumerate(as_completed(futures), start=1):
            durations[futures[future]] = future.result()
            report(done)
    return durations


def _minutes(seconds: float) -> str:
    return f"{seconds:.1f} s ({seconds / 60:.1f} min)"


def write_readme(path: Path, args: argparse.Namespace, voices: Sequence[SynthOptions],
                 versions: dict[str, str], utterances: Sequence[Utterance], durations: Sequence[float],
                 argv: Sequence[str], elapsed_s: float) -> None:
    from sentence_words import vocabulary

    total = sum(durations)
    rows = []
    for index, opts in enumerate(voices):
        own = durations[index::len(voices)]  # round robin: utterance i (from 0) has voice i mod V
        rows.append(f"| {index} | `{voice_spec(opts)}` | {describe_voice(opts, versions[opts.engine])} "
                    f"| {len(own)} | {_minutes(sum(own))} |")
    voice_table = "\n".join(rows)
    command = " ".join(["python3", "make_base_corpus.py", *argv])
    first, last = utterances[0].uid, utterances[-1].uid
    engines = " ".join(sorted({opts.engine for opts in voices}))
    filelists_note = " (not written for this copy: --skip-filelists)" if args.skip_filelists else ""
    text = f"""# Base corpus

A synthetic English speech corpus in the LJ Speech layout, made by this repository's
`make_base_corpus.py` to train a base model that other voices are fine-tuned from.
The sentences are `sentence_bank.base_sentences({len(durations)}, seed={args.seed})`: everyday
statements, questions, exclamations and commands over {len(vocabulary()):,} common words, with numbers,
prices, times, dates, percentages and titles written in digits and abbreviations ("$3.50", "7:30",
"the 21st", "Dr.").

| | |
|---|---|
| utterances | {len(durations)} ({first} to {last}) |
| total duration | {total:.1f} s ({total / 3600:.2f} h) |
| shortest / longest | {min(durations):.2f} s / {max(durations):.2f} s |
| audio | FLAC, {SAMPLING_RATE} Hz, mono, 16-bit |

## Voices

Each sentence is spoken once. Utterance number i (1 for {first}) is spoken by voice (i - 1) mod
{len(voices)} of this table:

| # | voice | synthesiser | utterances | duration |
|---|---|---|---|---|
{voice_table}

## Layout

- `wavs/{first}.flac` ... : one utterance each, with {voices[0].pad_s:g} s of silence before the first
  and after the last sound.
- `metadata.csv`: `ID|raw text|normalized text`, UTF-8, `|`-separated, no header, as in LJ Speech.
  The normalized column is what was spoken and what the model reads: numbers, currency, times,
  percentages and abbreviations written out (case and punctuation kept) by the repository's
  `text.normalize.expand_written_forms`, `text.numbers.normalize_numbers` and
  `text.cleaners.expand_abbreviations`, which is how `english_cleaners` reads the raw column too.
- filelists `{args.name}_audio_text_{{train,val,test}}_filelist.txt` in `{args.filelist_dir}`, written by
  `data_utils.prepare_filelists(..., name="{args.name}", n_val={args.n_val}, n_test={args.n_test},
  seed={args.split_seed})`{filelists_note}.

## How it was made

```
{command}
```

Made in {elapsed_s:.1f} s with `--jobs {args.jobs}`. This line is the only one that differs between two
runs with the same options and synthesiser versions, which reproduce the audio, `metadata.csv` and the
filelists byte for byte. Re-making the corpus needs the synthesisers (`apt-get install -y {engines}`);
using it does not.

## Licence

The sentences were generated from word lists and templates written for this project, not taken from
any other corpus. The voices are synthetic: no person's voice is recorded here. The synthesisers were
only used as tools to make the audio. The corpus is distributed under the same licence as the rest of
this repository.
"""
    path.write_text(text, encoding="utf-8")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--voices", default=DEFAULT_VOICES,
                   help="comma-separated ENGINE:VOICE specs, sentences dealt to them in turn: "
                        f"flite:{{{','.join(FLITE_VOICES)}}}, espeak-ng:en-us, espeak-ng:en-gb-x-rp, "
                        "espeak-ng:en-us+f3, ...")
    p.add_argument("--sentences", type=int, default=4000, metavar="N",
                   help="speak sentence_bank.base_sentences(N, --seed)")
    p.add_argument("--seed", type=int, default=1, help="seed of the sentences")
    p.add_argument("--jobs", type=int, default=2, help="synthesis processes run side by side")
    p.add_argument("--out-dir", type=Path, default=Path("base_corpus"),
                   help="corpus folder to (re)write: wavs/, metadata.csv, README.md")
    p.add_argument("--filelist-dir", type=Path, default=Path("filelists"),
                   help="where the <name>_audio_text_*_filelist.txt files go")
    p.add_argument("--data-root", default="",
                   help="filelist paths are relative to this folder (train with --hparams=data_root=...)")
    p.add_argument("--name", default="base",
                   help="filelists are <name>_audio_text_{train,val,test}_filelist.txt")
    p.add_argument("--skip-filelists", action="store_true", help="do not call data_utils.prepare_filelists")
    p.add_argument("--n-val", type=int, default=50, help="utterances in the validation list")
    p.add_argument("--n-test", type=int, default=100, help="utterances in the test list")
    p.add_argument("--split-seed", type=int, default=1234, help="seed of the train/val/test split")
    args = p.parse_args(argv)
    if args.sentences < 1 or args.jobs < 1:
        p.error(f"--sentences and --jobs must be at least 1, got {args.sentences} and {args.jobs}")
    if not args.skip_filelists and args.sentences <= args.n_val + args.n_test:
        p.error(f"--sentences {args.sentences} leaves none for training after --n-val {args.n_val} and "
                f"--n-test {args.n_test}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    try:
        voices = parse_voices(args.voices)
    except ValueError as e:
        raise SystemExit(f"make_base_corpus: --voices: {e}") from None
    programs = {}
    for engine in dict.fromkeys(opts.engine for opts in voices):
        programs[engine] = shutil.which(engine)
        if programs[engine] is None:
            raise SystemExit(f"make_base_corpus: {engine} not found; "
                             f"install it with `apt-get install -y {engine}`")
    check_voices(voices, programs)

    from sentence_bank import base_sentences

    digits = max(5, len(str(args.sentences)))  # BASE-00001, wider past 99999
    utterances = build_utterances(base_sentences(args.sentences, seed=args.seed),
                                  load_normalizer(written_forms=True), prefix=ID_PREFIX, digits=digits)
    wav_dir = args.out_dir / "wavs"
    clean_wav_dir(wav_dir, ID_PREFIX)
    jobs = []
    for index, utterance in enumerate(utterances):
        opts = voices[index % len(voices)]  # round robin, as the README says
        jobs.append(Job(utterance, opts, programs[opts.engine], wav_dir / f"{utterance.uid}.flac"))

    start = time.monotonic()
    durations = synthesize_all(jobs, args.jobs)
    elapsed_s = time.monotonic() - start
    write_metadata(utterances, args.out_dir / "metadata.csv")
    versions = {engine: engine_version(program) for engine, program in programs.items()}
    write_readme(args.out_dir / "README.md", args, voices, versions, utterances, durations, argv, elapsed_s)

    if not args.skip_filelists:
        write_filelists(args.out_dir, args.filelist_dir, args.name, args.n_val, args.n_test, args.split_seed,
                        args.data_root)

    total = sum(durations)
    print(f"{len(utterances)} utterances, {total / 3600:.2f} h in all ({min(durations):.2f} s to "
          f"{max(durations):.2f} s), {dir_size_bytes(args.out_dir) / 1e6:.1f} MB in {args.out_dir}; "
          f"made in {elapsed_s:.1f} s ({len(utterances) / elapsed_s:.1f} utterances/s, --jobs {args.jobs})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
