"""intelligibility.py and evaluate.py's intelligibility section: transcript normalization, WER and CER
against hand-counted errors, resampling for the recognizer, the recognizer on flite speech and on
silence, the message when a dependency is missing, and evaluate.py end to end on a tiny checkpoint."""

import dataclasses
import json
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pytest
import soundfile
import torch
from scipy.signal import resample_poly

import evaluate
import intelligibility
from model import Tacotron2
from waveglow_vocoder import GriffinLimVocoder

pytest.importorskip("pocketsphinx")
pytest.importorskip("jiwer")


@pytest.mark.parametrize("text, expected", [
    ("Dr. Smith paid $20.", "doctor smith paid twenty dollars"),
    ("In 1998, Mr. Jones's 3rd car.", "in nineteen ninety eight mister jones's third car"),
    ("dr smith on st james street", "doctor smith on saint james street"),  # the recognizer's spelling
    ("A well-known, 'quoted' word!", "a well known quoted word"),
    ("Don't STOP;  now...", "don't stop now"),
    ("Café naïve", "cafe naive"),
])  # fmt: skip
def test_normalize_transcript(text, expected):
    assert intelligibility.normalize_transcript(text) == expected


def test_error_rates_are_counted_over_the_corpus_not_averaged_per_utterance():
    texts, transcripts = ["The cat sat.", "A B", "the cat sat"], ["the cat sat down", "", "the bat sat"]
    scores = intelligibility.score(texts, transcripts)
    # word errors: 1 insertion of 3 words, 2 deletions of 2, 1 substitution of 3
    assert [u["wer"] for u in scores["utterances"]] == pytest.approx([1 / 3, 1.0, 1 / 3])
    assert scores["wer"] == pytest.approx(4 / 8)
    # character errors (spaces count): 5 insertions of 11, 3 deletions of 3, 1 substitution of 11
    assert [u["cer"] for u in scores["utterances"]] == pytest.approx([5 / 11, 1.0, 1 / 11])
    assert scores["cer"] == pytest.approx(9 / 25)
    assert scores["utterances"][0]["transcript"] == "the cat sat down"


def test_a_text_without_words_is_refused():
    with pytest.raises(ValueError, match="no words left"):
        intelligibility.score(["..."], ["hello"])


def test_resampling_to_16_khz_keeps_frequency_and_level_and_clips():
    rate, seconds = 22050, 0.5
    sine = 0.5 * np.sin(2 * np.pi * 440.0 * np.arange(int(rate * seconds)) / rate)
    samples = intelligibility.to_recognizer_input(torch.from_numpy(sine), rate)
    assert samples.dtype == np.int16 and len(samples) == int(np.ceil(len(sine) * 320 / 441))
    spectrum = np.abs(np.fft.rfft(samples[1000:-1000] * np.hanning(len(samples) - 2000)))
    assert np.argmax(spectrum) * 16000 / (len(samples) - 2000) == pytest.approx(440.0, abs=2.0)
    assert np.abs(samples[1000:-1000]).max() == pytest.approx(0.5 * 32767, rel=0.01)
    assert len(intelligibility.to_recognizer_input(np.zeros(48000), 48000)) == 16000  # any rate: 1/3 here
    loud = intelligibility.to_recognizer_input(np.array([2.0, -2.0, 0.25]), 16000)  # 16 kHz: not resampled
    assert loud.tolist() == [32767, -32768, round(0.25 * 32767)]


def test_the_recognizer_hears_nothing_in_silence():
    quiet = 1e-4 * np.random.default_rng(0).standard_normal(22050)  # one second of near silence
    transcript = intelligibility.Recognizer().transcribe(quiet, 22050)
    assert transcript == "" and intelligibility.Recognizer().transcribe(np.zeros(0), 22050) == ""
    assert intelligibility.score(["nothing was said"], [transcript])["wer"] == 1.0


@pytest.mark.skipif(shutil.which("flite") is None, reason="needs flite (apt-get install flite)")
def test_the_recognizer_understands_flite_speech_at_22050_hz(tmp_path):
    text = "The museum opens at 9 on Monday morning."
    subprocess.run(["flite", "-voice", "rms", "-t", text, "-o", str(tmp_path / "a.wav")], check=True)
    audio, rate = soundfile.read(tmp_path / "a.wav", dtype="float32")
    assert rate == 16000
    audio = resample_poly(audio, 441, 320)  # to the repo's 22050 Hz, and back inside the recognizer
    scores = intelligibility.intelligibility_of_audio([audio], [text], 22050)
    assert scores["wer"] <= 0.25, scores
    recognizer = intelligibility.Recognizer()
    recognizer.transcribe(audio[::-1].copy(), 22050)  # other speech first: what is heard next is the same
    again = intelligibility.normalize_transcript(recognizer.transcribe(audio, 22050))
    assert again == scores["utterances"][0]["transcript"]


def test_missing_dependencies_say_how_to_install_them(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pocketsphinx", None)  # `import pocketsphinx` now raises ImportError
    with pytest.raises(ImportError, match=r"needs pocketsphinx.*pip install pocketsphinx jiwer"):
        intelligibility.Recognizer()
    with pytest.raises(SystemExit, match=r"pip install pocketsphinx jiwer.*--no_intelligibility"):
        evaluate.main(["-c", str(tmp_path / "never_read"), "-f", str(tmp_path / "never_read.txt")])
    monkeypatch.setitem(sys.modules, "jiwer", None)
    with pytest.raises(ImportError, match=r"needs jiwer.*pip install pocketsphinx jiwer"):
        intelligibility.score(["a"], ["a"])


def test_intelligibility_of_trims_each_mel_to_its_own_length(tiny_hparams):
    vocoder = GriffinLimVocoder(tiny_hparams, n_iters=2)
    mels = [torch.full((80, frames), -11.5) for frames in (30, 12)]  # silence of two lengths
    audios = intelligibility.vocode(mels, vocoder, batch_size=2)
    assert [len(audio) for audio in audios] == [30 * 256, 12 * 256]
    scores = intelligibility.intelligibility_of(mels, ["one", "two words"], vocoder)
    assert len(scores["utterances"]) == 2 and 0.0 <= scores["cer"]


def test_evaluate_reports_intelligibility_against_its_ceilings(tiny_hparams, tmp_path, repo_root, capsys):
    hparams = dataclasses.replace(tiny_hparams, max_decoder_steps=20, griffin_lim_iters=4)
    checkpoint = tmp_path / "checkpoint_3"
    torch.save({"iteration": 3, "state_dict": Tacotron2(hparams).state_dict(),
                "hparams": dataclasses.asdict(hparams), "learning_rate": 1e-3}, checkpoint)
    lines = (repo_root / "filelists" / "demo_audio_text_val_filelist.txt").read_text().splitlines()[:2]
    filelist = tmp_path / "eval.txt"
    filelist.write_text("\n".join(lines) + "\n")
    output = tmp_path / "results.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the untrained model runs to max_decoder_steps
        evaluate.main(["-c", str(checkpoint), "-f", str(filelist), "--output", str(output), "--device", "cpu",
                       "--hparams", f"data_root={repo_root},mel_cache_dir="])
    results = json.loads(output.read_text())
    measured = results["intelligibility"]
    assert measured["vocoder"] == f"Griffin-Lim, 4 iterations, power {hparams.griffin_lim_power:g}"
    assert set(measured) == {"vocoder", "recordings", "vocoded_recordings", "teacher_forced", "free_running"}
    assert measured["recordings"]["wer"] <= 0.5  # the demo corpus is flite speech, which the recognizer hears
    assert results["postnet_mse"] > 0
    for utterance in results["utterances"]:
        assert utterance["postnet_mse"] > 0 and utterance["intelligibility"]["reference"]
        assert {"transcript", "wer", "cer"} <= set(utterance["intelligibility"]["free_running"])
    printed = capsys.readouterr().out
    ceiling, recordings = measured["vocoded_recordings"]["wer"], measured["recordings"]["wer"]
    assert f"(ceiling {ceiling:.2f}, recordings {recordings:.2f})" in printed
    assert "postnet log-mel MSE per real frame" in printed and "DEMO-" in printed
