"""data_utils: loader and collate shapes, padding and gate targets, the mel cache, every bad-input
error, LJ Speech filelist preparation and the CLI. Synthetic audio is written into tmp_path.
"""

import dataclasses
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

import data_utils
from data_utils import (
    TextMelCollate,
    TextMelLoader,
    atomic_write,
    check_filelist,
    load_filepaths_and_text,
    load_wav,
    prepare_filelists,
)
from text import text_to_sequence

RATE = 22050


def write_wav(path: Path, seconds: float = 0.2, rate: int = RATE, channels: int = 1, **kwargs) -> Path:
    """A 440 Hz tone at half scale (mono, or the same tone in every channel)."""
    t = np.arange(int(seconds * rate)) / rate
    tone = 0.5 * np.sin(2 * np.pi * 440 * t)
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, np.stack([tone] * channels, axis=1), rate, **kwargs)
    return path


def write_filelist(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture
def hparams(tiny_hparams, tmp_path):
    return dataclasses.replace(tiny_hparams, data_root=str(tmp_path))


@pytest.fixture
def cached(hparams, tmp_path):
    return dataclasses.replace(hparams, mel_cache_dir=str(tmp_path / "cache"))


def cache_files(tmp_path: Path) -> list[Path]:
    return sorted(p for p in (tmp_path / "cache").rglob("*") if p.is_file())


# ---- loader and collate ----

@pytest.mark.parametrize("suffix", [".wav", ".flac"])
def test_loader_gives_text_ids_and_mel(hparams, tmp_path, suffix):
    write_wav(tmp_path / f"wavs/a{suffix}", seconds=0.5)
    loader = TextMelLoader(write_filelist(tmp_path / "list.txt", [f"wavs/a{suffix}|Hello world."]), hparams)
    text, mel = loader[0]
    assert text.dtype == torch.long
    assert text.tolist() == text_to_sequence("Hello world.", hparams.text_cleaners)
    assert mel.dtype == torch.float32
    assert mel.shape == (hparams.n_mel_channels, int(0.5 * RATE) // hparams.hop_length + 1)


def test_loader_keeps_file_order(hparams, tmp_path):
    for name in "cab":
        write_wav(tmp_path / f"{name}.wav")
    filelist = write_filelist(tmp_path / "list.txt", ["c.wav|c", "a.wav|a", "", "b.wav|b"])
    loader = TextMelLoader(filelist, hparams)
    order = [(path.name, number) for path, _, number in loader.items]
    assert order == [("c.wav", 1), ("a.wav", 2), ("b.wav", 4)]  # line numbers count the blank line


def test_dataloader_batches_through_collate(hparams, tmp_path):
    lines = []
    for i, seconds in enumerate([0.1, 0.3, 0.2]):
        write_wav(tmp_path / f"{i}.wav", seconds=seconds)
        lines.append(f"{i}.wav|" + "word " * (i + 1))
    loader = TextMelLoader(write_filelist(tmp_path / "list.txt", lines), hparams)
    batch = next(iter(torch.utils.data.DataLoader(loader, batch_size=3, collate_fn=TextMelCollate(3))))
    text, text_lengths, mels, gates, mel_lengths = batch
    assert text.shape == (3, int(text_lengths[0])) and mels.shape[:2] == (3, hparams.n_mel_channels)
    assert mels.shape[2] % 3 == 0 and gates.shape == (3, mels.shape[2])
    assert mel_lengths.tolist() == [int(s * RATE) // hparams.hop_length + 1 for s in (0.2, 0.3, 0.1)]


def fake_batch():
    """Three (text, mel) pairs: text lengths 2, 5, 3 and mel lengths 4, 7, 6, with no zeros inside."""
    return [(torch.arange(1, n + 1), torch.rand(80, frames) + 1) for n, frames in [(2, 4), (5, 7), (3, 6)]]


def test_collate_sorts_by_text_length_descending():
    text, text_lengths, _, _, mel_lengths = TextMelCollate(1)(fake_batch())
    assert text_lengths.tolist() == [5, 3, 2]
    assert mel_lengths.tolist() == [7, 6, 4]  # mels follow their texts
    assert text_lengths.dtype == mel_lengths.dtype == torch.long
    assert text.tolist() == [[1, 2, 3, 4, 5], [1, 2, 3, 0, 0], [1, 2, 0, 0, 0]]


def test_collate_pads_mels_with_zeros():
    batch = fake_batch()
    _, _, mels, _, mel_lengths = TextMelCollate(1)(batch)
    assert mels.shape == (3, 80, 7)
    for row, (length, (_, mel)) in enumerate(zip(mel_lengths, [batch[1], batch[2], batch[0]], strict=True)):
        assert torch.equal(mels[row, :, :length], mel)
        assert (mels[row, :, length:] == 0).all()


def test_gate_is_one_from_last_frame_on():
    _, _, _, gates, mel_lengths = TextMelCollate(1)(fake_batch())
    assert gates.dtype == torch.float32
    for row, length in enumerate(mel_lengths.tolist()):
        assert (gates[row, :length - 1] == 0).all() and (gates[row, length - 1:] == 1).all()


def test_collate_pads_to_a_multiple_of_frames_per_step():
    _, _, mels, gates, mel_lengths = TextMelCollate(3)(fake_batch())
    assert mels.shape[2] == gates.shape[1] == 9  # 7 rounded up to a multiple of 3
    assert mel_lengths.tolist() == [7, 6, 4]  # real lengths, not the padded one
    assert gates[0].tolist() == [0] * 6 + [1] * 3


# ---- mel cache ----

def test_cache_miss_writes_one_file_atomically(cached, tmp_path):
    write_wav(tmp_path / "a.wav")
    loader = TextMelLoader(write_filelist(tmp_path / "list.txt", ["a.wav|a"]), cached)
    mel = loader[0][1]
    (cache_file,) = cache_files(tmp_path)  # no temp file left beside it
    assert cache_file.parent.name == data_utils.mel_cache_key(cached) and cache_file.suffix == ".pt"
    assert torch.equal(torch.load(cache_file, weights_only=True), mel)


def test_cache_hit_serves_the_stored_mel(cached, tmp_path):
    write_wav(tmp_path / "a.wav")
    filelist = write_filelist(tmp_path / "list.txt", ["a.wav|a"])
    TextMelLoader(filelist, cached)[0]
    (cache_file,) = cache_files(tmp_path)
    marker = torch.full((cached.n_mel_channels, 3), 7.0)  # not a mel of a.wav: only the cache can give it
    torch.save(marker, cache_file)
    assert torch.equal(TextMelLoader(filelist, cached)[0][1], marker)


@pytest.mark.parametrize("change", [{"hop_length": 128}, {"mel_fmax": 7000.0}, {"max_wav_value": 1.0}])
def test_cache_key_changes_with_audio_hparams(cached, tmp_path, change):
    write_wav(tmp_path / "a.wav")
    filelist = write_filelist(tmp_path / "list.txt", ["a.wav|a"])
    first = TextMelLoader(filelist, cached)[0][1]
    second = TextMelLoader(filelist, dataclasses.replace(cached, **change))[0][1]
    assert len({p.parent for p in cache_files(tmp_path)}) == 2
    if "hop_length" in change:
        assert second.shape[1] > first.shape[1]
    other = dataclasses.replace(cached, batch_size=7, text_cleaners=["basic_cleaners"])
    assert data_utils.mel_cache_key(other) == data_utils.mel_cache_key(cached)  # not audio hparams


def test_cache_invalidated_when_wav_changes(cached, tmp_path):
    wav = write_wav(tmp_path / "a.wav", seconds=0.2)
    filelist = write_filelist(tmp_path / "list.txt", ["a.wav|a"])
    TextMelLoader(filelist, cached)[0]
    write_wav(wav, seconds=0.4)
    mel = TextMelLoader(filelist, cached)[0][1]
    assert mel.shape[1] == int(0.4 * RATE) // cached.hop_length + 1
    assert len(cache_files(tmp_path)) == 2


def test_corrupt_cache_file_is_recomputed(cached, tmp_path):
    write_wav(tmp_path / "a.wav")
    filelist = write_filelist(tmp_path / "list.txt", ["a.wav|a"])
    mel = TextMelLoader(filelist, cached)[0][1]
    (cache_file,) = cache_files(tmp_path)
    cache_file.write_bytes(b"\x00garbage")
    assert torch.equal(TextMelLoader(filelist, cached)[0][1], mel)
    assert torch.equal(torch.load(cache_file, weights_only=True), mel)  # rewritten


def test_atomic_write_leaves_nothing_on_failure(tmp_path):
    def fail_halfway(handle):
        handle.write(b"half")
        raise RuntimeError("crash")

    with pytest.raises(RuntimeError):
        atomic_write(tmp_path / "out.pt", fail_halfway)
    assert list(tmp_path.iterdir()) == []
    atomic_write(tmp_path / "out.pt", lambda handle: handle.write(b"whole"))
    assert [p.name for p in tmp_path.iterdir()] == ["out.pt"]
    assert (tmp_path / "out.pt").read_bytes() == b"whole"


# ---- audio errors ----

def test_missing_wav_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.wav"):
        load_wav(tmp_path / "nothere.wav", RATE)


def test_empty_wav_names_the_file(tmp_path):
    soundfile.write(tmp_path / "empty.wav", np.zeros(0), RATE)
    with pytest.raises(ValueError, match="empty.wav: .*no samples"):
        load_wav(tmp_path / "empty.wav", RATE)


@pytest.mark.parametrize("content", [b"", b"hello, not audio", b"RIFF\x10\x00\x00\x00WAVEfmt "])
def test_non_audio_file_names_the_file(tmp_path, content):
    (tmp_path / "bad.wav").write_bytes(content)
    with pytest.raises(ValueError, match="bad.wav: not a readable audio file"):
        load_wav(tmp_path / "bad.wav", RATE)


def test_wrong_rate_names_both_rates(tmp_path):
    write_wav(tmp_path / "a.wav", rate=16000)
    with pytest.raises(ValueError, match=r"a.wav: .*16000 Hz.*22050 Hz.*set allow_resample=True"):
        load_wav(tmp_path / "a.wav", RATE)


def test_allow_resample_resamples(tmp_path):
    audio = load_wav(write_wav(tmp_path / "a.wav", seconds=0.5, rate=16000), RATE, allow_resample=True)
    assert audio.shape == (int(0.5 * RATE),) and audio.dtype == torch.float32
    assert audio.abs().max() <= 1.0


def test_stereo_is_downmixed_to_mono(tmp_path):
    left, right = np.full(1000, 0.5), np.full(1000, -0.1)
    soundfile.write(tmp_path / "s.wav", np.stack([left, right], axis=1), RATE, subtype="FLOAT")
    audio = load_wav(tmp_path / "s.wav", RATE)
    assert audio.shape == (1000,) and torch.allclose(audio, torch.full((1000,), 0.2))


def test_float_wav_outside_unit_range_is_refused(tmp_path):
    soundfile.write(tmp_path / "loud.wav", np.full(100, 1.5), RATE, subtype="FLOAT")
    with pytest.raises(ValueError, match=r"loud.wav: samples outside \[-1, 1\] \(peak 1.5\)"):
        load_wav(tmp_path / "loud.wav", RATE)


def test_pcm_is_scaled_to_unit_range(tmp_path):
    audio = load_wav(write_wav(tmp_path / "a.wav", subtype="PCM_16"), RATE)
    assert 0.49 < float(audio.abs().max()) <= 0.5


def test_loader_error_names_filelist_line(hparams, tmp_path):
    write_wav(tmp_path / "a.wav")
    loader = TextMelLoader(write_filelist(tmp_path / "list.txt", ["a.wav|a", "gone.wav|b"]), hparams)
    with pytest.raises(ValueError, match=r"list.txt:2: .*gone.wav"):
        loader[1]


# ---- filelist errors ----

@pytest.mark.parametrize("line, problem", [
    ("a.wav hello", "expected 'path|text', found 1"),
    ("a.wav|hello|extra", "found 3"),
    ("|hello", "empty path"),
    ("a.wav|   ", "empty text"),
])
def test_malformed_line_names_file_and_line(tmp_path, line, problem):
    filelist = write_filelist(tmp_path / "list.txt", ["a.wav|fine", line])
    with pytest.raises(ValueError) as error:
        load_filepaths_and_text(filelist)
    assert str(error.value).startswith(f"{filelist}:2: ") and problem in str(error.value)
    assert str(error.value).endswith(repr(line))  # the line is shown


def test_non_utf8_filelist_names_the_line(tmp_path):
    (tmp_path / "list.txt").write_bytes("a.wav|fine\nb.wav|café\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"list.txt:2: not UTF-8 \(byte 0xe9"):
        load_filepaths_and_text(tmp_path / "list.txt")


def test_paths_resolve_against_data_root(tmp_path):
    filelist = write_filelist(tmp_path / "list.txt", ["wavs/a.wav|a"])
    assert load_filepaths_and_text(filelist, str(tmp_path / "root"))[0][0] == tmp_path / "root/wavs/a.wav"
    assert load_filepaths_and_text(filelist)[0][0] == Path("wavs/a.wav")  # "" = current directory


@pytest.mark.parametrize("path", ["../secret.wav", "wavs/../../secret.wav", "/etc/secret.wav"])
def test_path_outside_data_root_is_refused(tmp_path, path):
    filelist = write_filelist(tmp_path / "list.txt", [f"{path}|a"])
    with pytest.raises(ValueError, match=r"list.txt:1: path .* is outside data_root"):
        load_filepaths_and_text(filelist, str(tmp_path / "root"))


def test_text_that_cleans_to_nothing_names_the_line(hparams, tmp_path):
    write_wav(tmp_path / "a.wav")
    # english_cleaners reads "#" aloud ("hash") and drops what it cannot say, such as "^" and "~"
    loader = TextMelLoader(write_filelist(tmp_path / "list.txt", ["a.wav|^~^"]), hparams)
    with pytest.raises(ValueError, match=r"list.txt:1: text '\^~\^' has no symbols"):
        loader[0]


def test_empty_filelist_is_refused(hparams, tmp_path):
    with pytest.raises(ValueError, match="list.txt: no utterances"):
        TextMelLoader(write_filelist(tmp_path / "list.txt", ["", "  "]), hparams)


def test_mels_from_disk_check_channels(hparams, tmp_path):
    np.save(tmp_path / "good.npy", np.ones((hparams.n_mel_channels, 5), dtype=np.float32))
    torch.save(torch.ones(40, 5), tmp_path / "bad.pt")
    filelist = write_filelist(tmp_path / "list.txt", ["good.npy|a", "bad.pt|b"])
    loader = TextMelLoader(filelist, dataclasses.replace(hparams, load_mel_from_disk=True))
    assert loader[0][1].shape == (hparams.n_mel_channels, 5)
    with pytest.raises(ValueError, match=r"bad.pt: expected a mel of shape \(80, T>0\), got \(40, 5\)"):
        loader[1]


def test_check_filelist_lists_every_problem(hparams, tmp_path):
    write_wav(tmp_path / "good.wav")
    write_wav(tmp_path / "slow.wav", rate=16000)
    (tmp_path / "junk.wav").write_text("not audio")
    lines = ["good.wav|fine", "gone.wav|missing", "no separator", "slow.wav|rate", "junk.wav|junk",
             "good.wav|^~^", "../out.wav|outside"]
    filelist = write_filelist(tmp_path / "list.txt", lines)
    with pytest.raises(ValueError) as error:
        check_filelist(filelist, hparams)
    message = str(error.value)
    assert message.startswith(f"6 problem(s) in {filelist}")
    for number, what in [(2, "gone.wav: audio file not found"), (3, "expected 'path|text'"), (4, "16000 Hz"),
                         (5, "not a readable audio file"), (6, "no symbols"), (7, "outside data_root")]:
        assert f"list.txt:{number}: " in message and what in message
    assert "list.txt:1:" not in message
    check_filelist(write_filelist(tmp_path / "ok.txt", lines[:1]), hparams)  # a clean list passes


# ---- LJ Speech preparation and the CLI ----

def make_corpus(root: Path, n: int = 12) -> Path:
    corpus = root / "LJ"
    rows = []
    for i in range(1, n + 1):
        uid = f"LJ001-{i:04d}"
        write_wav(corpus / "wavs" / f"{uid}{'.flac' if i % 4 == 0 else '.wav'}", seconds=0.05)
        letter = chr(ord("a") + i)  # no digits: the first number would import inflect (seconds)
        normalized = "" if i == 3 else f'Normalized "quoted" {letter}.'
        rows.append(f"{uid}|Raw {letter}.|{normalized}")
    (corpus / "metadata.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return corpus


def test_prepare_filelists_splits_deterministically(tmp_path):
    corpus = make_corpus(tmp_path)
    paths = prepare_filelists(corpus, tmp_path / "lists", n_val=2, n_test=3, data_root=str(tmp_path))
    assert paths == {split: tmp_path / "lists" / f"ljs_audio_text_{split}_filelist.txt"
                     for split in ("train", "val", "test")}
    contents = {split: path.read_text(encoding="utf-8") for split, path in paths.items()}
    lines = {split: text.splitlines() for split, text in contents.items()}
    assert {split: len(v) for split, v in lines.items()} == {"train": 7, "val": 2, "test": 3}
    every_line = [line for v in lines.values() for line in v]
    assert len(set(every_line)) == 12
    assert 'LJ/wavs/LJ001-0001.wav|Normalized "quoted" b.' in every_line  # quotes kept as text
    assert "LJ/wavs/LJ001-0003.wav|Raw d." in every_line  # an empty 3rd column falls back to the 2nd
    assert any(line.startswith("LJ/wavs/LJ001-0004.flac|") for line in every_line)
    items = load_filepaths_and_text(paths["train"], str(tmp_path))
    assert all(path.is_file() for path, _, _ in items)
    again = prepare_filelists(corpus, tmp_path / "again", n_val=2, n_test=3, data_root=str(tmp_path))
    assert {split: path.read_text(encoding="utf-8") for split, path in again.items()} == contents
    other = prepare_filelists(corpus, tmp_path / "other", n_val=2, n_test=3, seed=7, data_root=str(tmp_path))
    assert other["val"].read_text(encoding="utf-8") != contents["val"]
    assert not list((tmp_path / "lists").glob(".*"))  # no temp files left


def test_prepare_filelists_names_metadata_line_without_audio(tmp_path):
    corpus = make_corpus(tmp_path)
    (corpus / "wavs/LJ001-0005.wav").unlink()
    with pytest.raises(ValueError, match=r"metadata.csv:5: no audio file for 'LJ001-0005'"):
        prepare_filelists(corpus, tmp_path / "lists", n_val=2, n_test=3)


def run_cli(monkeypatch, repo_root, *args):
    """`python3 data_utils.py ARGS` in this process (a subprocess would re-import torch: seconds)."""
    monkeypatch.setattr(sys, "argv", ["data_utils.py", *args])
    runpy.run_path(str(repo_root / "data_utils.py"), run_name="__main__")


@pytest.mark.filterwarnings("ignore")  # text_to_sequence warns as it drops the transcripts' quotes
def test_cli_prepare_then_check(repo_root, tmp_path, monkeypatch, capsys):
    corpus = make_corpus(tmp_path, n=8)
    monkeypatch.chdir(tmp_path)
    run_cli(monkeypatch, repo_root, "prepare", "LJ", "--filelist_dir", "fl", "--n_val", "1", "--n_test", "1")
    train = "fl/ljs_audio_text_train_filelist.txt"
    assert f"train: {train}" in capsys.readouterr().out
    assert len((tmp_path / train).read_text().splitlines()) == 6
    run_cli(monkeypatch, repo_root, "check", train, "--hparams", "n_frames_per_step=2")
    assert "OK" in capsys.readouterr().out
    for wav in (corpus / "wavs").iterdir():
        wav.write_text("not audio")
    with pytest.raises(SystemExit, match="(?s)error: 6 problem.*not a readable audio file"):
        run_cli(monkeypatch, repo_root, "check", train)


def test_no_device_or_distributed_imports(repo_root):
    source = (repo_root / "data_utils.py").read_text()
    assert not any(name in source for name in ("torch.cuda", "torch.distributed", "torch.amp"))
