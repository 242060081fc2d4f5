"""Acceptance (opt-in, about 35 minutes on 2 CPU cores): the README's demo recipe, trained from scratch,
learns to say words that a speech recognizer hears.

    python3 -m pytest -m slow            # DEMO_SEED=1234 by default; DEMO_MINUTES=30 by default

train.py runs for DEMO_MINUTES and is then stopped with SIGTERM (which saves a checkpoint and exits 0,
as a user's Ctrl-C does); evaluate.py then synthesizes free running, vocodes with Griffin-Lim and scores
with pocketsphinx, against the same recognizer on the recordings' mels through the same vocoder.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

import evaluate

# The goal of the recipe: free-running WER on training sentences within 0.10 of the ceiling (the
# recordings' mels through Griffin-Lim, about 0.11); teacher forced too. Measured with one thread beside
# another run (5753 iterations, seed 1234): 0.17 free running, 0.13 teacher forced, ceiling 0.11. The
# former recipe (the paper's dropouts) scored 0.45 to 0.75 free running here.
TRAINING_MARGIN = 0.10  # free running, 30 training sentences, above the ceiling
TEACHER_FORCED_MARGIN = 0.10  # teacher forced, the same sentences
# Fine-tuning the shipped base on a voice it never heard: the goal itself, free-running WER within 0.10
# of the ceiling (the same recordings' mels through Griffin-Lim) on training sentences and within 0.25
# on unseen ones. Measured through this test with base v2, one thread beside other runs (7391
# iterations): 0.345 against 0.325 and 0.450 against 0.408. From scratch, unseen sentences stay near
# 0.6 to 1.0, so a base that does not help fails.
FINETUNE_TRAINING_MARGIN = 0.10
FINETUNE_UNSEEN_MARGIN = 0.25


def _train_for(minutes: float, arguments: list[str], tmp_path, repo_root) -> str:
    """train.py with `arguments` for `minutes` of wall time, then SIGTERM (a checkpoint, then exit 0)
    -> its output without the per-iteration lines, which is also printed."""
    with open(tmp_path / "train.log", "w") as log:
        process = subprocess.Popen([sys.executable, "train.py", *arguments], cwd=repo_root, stdout=log,
                                   stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + minutes * 60
        while process.poll() is None and time.monotonic() < deadline:
            time.sleep(5)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=600) == 0, (tmp_path / "train.log").read_text()[-3000:]
    output = "\n".join(line for line in (tmp_path / "train.log").read_text().splitlines()
                       if not line.startswith("it "))
    print(output)
    return output


@pytest.mark.slow
def test_demo_recipe_speaks_after_30_minutes(tmp_path, repo_root):
    pytest.importorskip("pocketsphinx")
    pytest.importorskip("jiwer")
    seed = os.environ.get("DEMO_SEED", "1234")
    minutes = float(os.environ.get("DEMO_MINUTES", "30"))
    out = tmp_path / "outdir"
    output = _train_for(minutes, [f"--output_directory={out}", f"--log_directory={tmp_path / 'logdir'}",
                                  f"--hparams=preset=demo,seed={seed},mel_cache_dir={tmp_path / 'mels'}"],
                        tmp_path, repo_root)
    focus, coverage = map(float, re.findall(r"focus rate ([\d.]+) \| coverage ([\d.]+)", output)[-1])
    assert focus >= 0.5 and coverage >= 0.9  # teacher-forced, on the validation utterances
    assert (out / "alignment.png").exists() and list((tmp_path / "logdir").glob("events.out.tfevents.*"))

    checkpoint = max(out.glob("checkpoint_*"), key=lambda p: int(p.name.split("_")[1]))
    figures = {}
    for name, filelist, n in (("training", "demo_audio_text_train_filelist.txt", 30),
                              ("test", "demo_audio_text_test_filelist.txt", 0)):
        results = evaluate.evaluate(str(checkpoint), str(repo_root / "filelists" / filelist),
                                    f"mel_cache_dir={tmp_path / 'mels'}", max_utterances=n)
        heard = results["intelligibility"]
        figures[name] = (heard["free_running"]["wer"], heard["vocoded_recordings"]["wer"])
        figures[f"{name}_teacher_forced"] = heard["teacher_forced"]["wer"]
        print(f"{name} sentences: free-running WER {figures[name][0]:.3f} (ceiling {figures[name][1]:.3f}), "
              f"teacher forced {heard['teacher_forced']['wer']:.3f}, stop rate {results['stop_rate']:.2f}, "
              f"postnet MSE {results['postnet_mse']:.3f}")
        assert results["stop_rate"] == 1.0 and results["coverage"] >= 0.9
    wer, ceiling = figures["training"]
    print(f"goal: training sentences within {TRAINING_MARGIN} of the ceiling: {wer:.3f} vs "
          f"{ceiling + TRAINING_MARGIN:.3f}")
    assert wer <= ceiling + TRAINING_MARGIN
    assert figures["training_teacher_forced"] <= ceiling + TEACHER_FORCED_MARGIN


@pytest.mark.slow
def test_base_model_fine_tunes_to_a_voice_it_never_heard(tmp_path, repo_root):
    """The README's "Your own voice": the shipped base model (flite kal16) fine-tuned for FINETUNE_MINUTES
    (30 by default) on 17.9 minutes of flite's awb, made here, speaks sentences it was not trained on."""
    pytest.importorskip("pocketsphinx")
    pytest.importorskip("jiwer")
    if shutil.which("flite") is None:
        pytest.skip("flite is not installed (apt-get install -y flite)")
    base = sorted((repo_root / "pretrained").glob("*.pt"))
    if not base:
        pytest.skip("no model shipped in pretrained/")
    minutes = float(os.environ.get("FINETUNE_MINUTES", "30"))
    corpus = tmp_path / "awb"
    subprocess.run([sys.executable, "make_demo_corpus.py", "--voice", "awb", "--generated", "420",
                    "--out-dir", str(corpus / "corpus"), "--filelist-dir", str(corpus / "filelists"),
                    "--name", "awb",
                    "--n-val", "20", "--n-test", "30", "--data-root", str(corpus)], cwd=repo_root, check=True)
    lists = {split: corpus / "filelists" / f"awb_audio_text_{split}_filelist.txt"
             for split in ("train", "val", "test")}
    out = tmp_path / "outdir"
    _train_for(minutes, [f"--output_directory={out}", f"--log_directory={tmp_path / 'logdir'}",
                         f"--checkpoint_path={base[0]}", "--warm_start",
                         f"--hparams=preset=finetune,data_root={corpus},training_files={lists['train']},"
                         f"validation_files={lists['val']},mel_cache_dir={tmp_path / 'mels'}"],
               tmp_path, repo_root)
    checkpoint = max(out.glob("checkpoint_*"), key=lambda p: int(p.name.split("_")[1]))
    figures = {}
    for name, filelist, n in (("training", lists["train"], 30), ("unseen", lists["test"], 0)):
        results = evaluate.evaluate(str(checkpoint), str(filelist), f"mel_cache_dir={tmp_path / 'mels'}",
                                    max_utterances=n)
        heard = results["intelligibility"]
        figures[name] = (heard["free_running"]["wer"], heard["vocoded_recordings"]["wer"])
        print(f"{name} sentences: free-running WER {figures[name][0]:.3f} (ceiling {figures[name][1]:.3f}), "
              f"teacher forced {heard['teacher_forced']['wer']:.3f}, stop rate {results['stop_rate']:.2f}")
        assert results["stop_rate"] >= 0.9
    assert figures["training"][0] <= figures["training"][1] + FINETUNE_TRAINING_MARGIN
    assert figures["unseen"][0] <= figures["unseen"][1] + FINETUNE_UNSEEN_MARGIN
