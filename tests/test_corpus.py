"""make_demo_corpus.py and sentence_bank.py: the corpora the repository makes for itself."""

import hashlib
import shutil

import pytest
import soundfile

import make_demo_corpus
from sentence_bank import generated_sentences
from text.symbols import symbols


def test_generated_sentences_are_deterministic_distinct_and_speakable():
    first = generated_sentences(300, seed=3)
    assert first == generated_sentences(300, seed=3)
    assert first != generated_sentences(300, seed=4)
    assert len(set(first)) == 300 and first[:10] == generated_sentences(10, seed=3)
    allowed = set(symbols)
    for sentence in first:
        assert sentence[0].isupper() and sentence[-1] in ".?!"
        assert 3 <= len(sentence.split()) <= 16
        assert set(sentence.lower()) <= allowed, sentence


def test_generated_sentences_are_unchanged():
    # Corpora already made depend on these exact sentences (recorded before the base grammar was added).
    assert generated_sentences(5, seed=1) == [
        "Irene pushed a dark car in the theater.",
        "Felix found a bright guitar in the island.",
        "After lunch, Martin hurried rarely to the mountain.",
        "What a blue lamp Leo found on Sunday!",
        "Why did Carla ride to the airport so often?",
    ]
    assert generated_sentences(5, seed=3)[2] == "Please hide the black notebook before Julia arrives."
    assert generated_sentences(400, seed=1)[-1] == "Ruth said the gate was too blue to find."
    text = "\n".join(generated_sentences(1000, seed=1)).encode()
    assert hashlib.sha256(text).hexdigest() == (
        "89e2e76d5fbfd9eefd0415c08f55e4ccab961561805386d86682ecd07b01d719")


def test_flite_voices_other_than_the_three_are_refused(tmp_path):
    with pytest.raises(SystemExit, match="kept aside"):
        make_demo_corpus.main(["--voice", "slt", "--out-dir", str(tmp_path / "c"), "--skip-filelists"])


def test_to_sampling_rate_resamples_flite_rate():
    import numpy as np

    tone = (np.sin(2 * np.pi * 440 * np.arange(16000) / 16000) * 10000).astype(np.int16)
    out = make_demo_corpus.to_sampling_rate(tone, 16000)
    assert out.dtype == np.int16 and len(out) == 22050
    spectrum = np.abs(np.fft.rfft(out.astype(np.float64)))
    assert abs(int(np.argmax(spectrum)) - 440) <= 1  # 1 Hz bins over one second


@pytest.mark.skipif(shutil.which("flite") is None, reason="needs flite (apt-get install flite)")
def test_a_second_voice_corpus_in_lj_speech_layout(tmp_path):
    out = tmp_path / "corpus"
    code = make_demo_corpus.main(["--voice", "awb", "--generated", "6", "--out-dir", str(out),
                                  "--filelist-dir", str(tmp_path / "lists"), "--name", "awb",
                                  "--n-val", "1", "--n-test", "1", "--data-root", str(tmp_path)])
    assert code == 0
    lines = (out / "metadata.csv").read_text().splitlines()
    assert len(lines) == 6 and all(len(line.split("|")) == 3 for line in lines)
    audio, rate = soundfile.read(out / "wavs" / "DEMO-0001.flac")
    assert rate == 22050 and audio.ndim == 1 and 1.0 < len(audio) / rate < 6.0
    pad = int(0.075 * rate)  # a quiet pad (below -40 dB of the peak) at each end, then sound
    peak = abs(audio).max()
    assert abs(audio[: pad - 50]).max() < 0.01 * peak < abs(audio[pad : pad + 400]).max()
    train = (tmp_path / "lists" / "awb_audio_text_train_filelist.txt").read_text().splitlines()
    assert len(train) == 4 and train[0].startswith("corpus/wavs/")
    assert "flite" in (out / "README.md").read_text() and "`awb`" in (out / "README.md").read_text()
