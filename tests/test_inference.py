"""inference.py, evaluate.py and inference.ipynb on tiny checkpoints that the tests write: the command
line's outputs for each input kind, batched decoding, the step limit, bad input, published checkpoints."""

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

import evaluate
import inference
from checkpoint import load_tacotron2
from hparams import create_hparams
from model import Tacotron2
from waveglow_vocoder import Generator, GriffinLimVocoder, HiFiGANConfig, save_hifigan

ONE_THREAD = {**os.environ, "OMP_NUM_THREADS": "1"}


@pytest.fixture
def tiny_checkpoint(tiny_hparams, tmp_path):
    """Our checkpoint layout ({'state_dict', 'hparams', 'optimizer', ...}) of a tiny untrained model."""
    hparams = dataclasses.replace(tiny_hparams, max_decoder_steps=20, griffin_lim_iters=2)
    model = Tacotron2(hparams)
    path = tmp_path / "checkpoint_7"
    torch.save({"iteration": 7, "state_dict": model.state_dict(), "hparams": dataclasses.asdict(hparams),
                "learning_rate": 1e-3}, path)
    return path, model, hparams


def run_cli(*args, stdin=None, cwd=None):
    return subprocess.run([sys.executable, "inference.py", *map(str, args)], input=stdin, capture_output=True,
                          cwd=cwd, env=ONE_THREAD, timeout=180)


def check_outputs(stem, sampling_rate=22050):
    audio, rate = soundfile.read(f"{stem}.wav")
    mel = np.load(f"{stem}.npy")
    assert rate == sampling_rate and mel.shape[0] == 80 and len(audio) == mel.shape[1] * 256
    assert os.path.getsize(f"{stem}_alignment.png") > 1000
    return mel


def test_command_line_writes_wav_mel_and_alignment_for_text_file_and_stdin(tiny_checkpoint, tmp_path,
                                                                           repo_root):
    path = tiny_checkpoint[0]
    result = run_cli("-c", path, "--text", "Hello world.", "-o", tmp_path / "a", "--device", "cpu",
                     cwd=repo_root)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    check_outputs(tmp_path / "a" / "utt_001")
    assert b"real-time factor" in result.stdout

    lines = tmp_path / "lines.txt"
    lines.write_text("First line.\n\n  Second line, with 2 words.\n")
    result = run_cli("-c", path, "--text_file", lines, "-o", tmp_path / "b" / "nested", cwd=repo_root)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    for number in (1, 2):  # the blank line is skipped; the missing folders are created
        check_outputs(tmp_path / "b" / "nested" / f"utt_00{number}")
    assert not (tmp_path / "b" / "nested" / "utt_003.wav").exists()

    result = run_cli("-c", path, "-o", tmp_path / "c", "--prefix", "piped", stdin=b"From standard input.\n",
                     cwd=repo_root)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    check_outputs(tmp_path / "c" / "piped_001")


@pytest.mark.parametrize("text, message", [("?!... ,", "nothing speakable"),
                                           ("^^^ ~~~ ***", "nothing speakable"), ("   ", "no text")])
def test_unspeakable_or_empty_text_is_a_clear_error(tiny_checkpoint, tmp_path, repo_root, text, message):
    result = run_cli("-c", tiny_checkpoint[0], "-o", tmp_path / "out", stdin=text.encode(), cwd=repo_root)
    assert result.returncode == 1 and message in result.stderr.decode()
    assert "Traceback" not in result.stderr.decode()
    assert not list((tmp_path / "out").glob("*.wav"))


def test_bad_inputs_name_the_file_line_or_folder(tiny_checkpoint, tmp_path, repo_root):
    lines = tmp_path / "latin1.txt"
    lines.write_bytes(b"fine\ncaf\xe9\n")
    result = run_cli("-c", tiny_checkpoint[0], "--text_file", lines, "-o", tmp_path / "out", cwd=repo_root)
    assert result.returncode == 1 and f"{lines}:2: not UTF-8" in result.stderr.decode()
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    result = run_cli("-c", tiny_checkpoint[0], "--text", "Hi.", "-o", blocker / "out", cwd=repo_root)
    assert result.returncode == 1 and "cannot create output directory" in result.stderr.decode()
    result = run_cli("-c", tmp_path / "missing.pt", "--text", "Hi.", "-o", tmp_path / "out", cwd=repo_root)
    assert result.returncode == 1 and "checkpoint not found" in result.stderr.decode()


def test_split_text_cuts_at_sentences_then_clauses_then_words():
    text = "One short sentence. Another one! " + "A long clause, " * 12 + "the end; and then? Done."
    pieces = inference.split_text(text, max_chars=60)
    assert all(len(piece) <= 60 for piece in pieces) and len(pieces) > 4
    assert " ".join(pieces).split() == text.split()  # nothing lost, nothing repeated
    assert pieces[0] == "One short sentence. Another one!"  # short sentences share a piece
    assert inference.split_text("No end mark", 60) == ["No end mark"]
    assert inference.split_text("x" * 50 + " " + "y" * 50, 60) == ["x" * 50, "y" * 50]


def test_batched_decoding_matches_one_by_one(tiny_hparams):
    model = Tacotron2(dataclasses.replace(tiny_hparams, max_decoder_steps=30)).eval()
    model.decoder.prenet.p_dropout = 0.0  # the prenet's dropout is random at inference by design
    sequences = [torch.randint(1, 148, (n,)) for n in (5, 13, 9, 2)]
    batched = inference.decode(model, sequences, batch_size=4)
    alone = inference.decode(model, sequences, batch_size=1)
    for a, b in zip(batched, alone):
        assert a.mel.shape == b.mel.shape and a.stopped == b.stopped
        assert torch.allclose(a.mel, b.mel, atol=1e-5) and torch.allclose(a.alignment, b.alignment, atol=1e-5)
    assert [item.alignment.shape[1] for item in batched] == [5, 13, 9, 2]  # input order kept


def test_reaching_max_decoder_steps_is_reported(tiny_checkpoint):
    _, model, hparams = tiny_checkpoint
    model.eval().decoder.gate_layer.linear_layer.bias.data.fill_(-50.0)  # the stop token never fires
    vocoder = GriffinLimVocoder(hparams, n_iters=1)
    with pytest.warns(UserWarning, match="reached max_decoder_steps=20"):
        (utterance,) = inference.synthesize(model, vocoder, hparams, ["A sentence. And another."],
                                            max_chars=12)
    assert utterance.limit_hits == [1, 2] and utterance.pieces == ["A sentence.", "And another."]
    pause = round(0.15 * 22050 / 256)
    assert (utterance.mel.shape == (80, 20 + pause + 20)
            and len(utterance.audio) == utterance.mel.shape[1] * 256)
    assert (utterance.mel[:, 20 : 20 + pause] == inference.SILENCE_LOG_MEL).all()


def test_reference_layout_checkpoint_loads_strictly_and_synthesizes(tmp_path):
    """The published tacotron2_statedict.pt: {'state_dict', 'optimizer', 'learning_rate', 'iteration'},
    the reference's parameter names at the LJ Speech sizes, no hparams."""
    model = Tacotron2(create_hparams())
    path = tmp_path / "tacotron2_statedict.pt"
    torch.save({"state_dict": model.state_dict(), "optimizer": {}, "learning_rate": 1e-3, "iteration": 100},
               path)
    loaded, hparams = load_tacotron2(path, "max_decoder_steps=3")
    assert hparams.n_symbols == 148 and hparams.max_decoder_steps == 3 and not loaded.training
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (decoded,) = inference.decode(loaded, [inference.text_to_ids("Hello.", hparams)])
    assert decoded.mel.shape[0] == 80 and 1 <= decoded.mel.shape[1] <= 3
    # weights saved from a DistributedDataParallel wrapper carry a 'module.' prefix
    torch.save({"state_dict": {f"module.{k}": v for k, v in model.state_dict().items()}}, path)
    assert load_tacotron2(path)[0].embedding.weight.shape == (148, 512)


def test_reference_layout_with_other_sizes_needs_hparams(tiny_hparams, tmp_path):
    path = tmp_path / "small_statedict.pt"
    torch.save({"state_dict": Tacotron2(tiny_hparams).state_dict()}, path)
    with pytest.raises(ValueError,
                       match="embedding.weight: checkpoint \\(148, 16\\) vs model \\(148, 512\\)"):
        load_tacotron2(path)
    sizes = "symbols_embedding_dim=16,encoder_embedding_dim=16,encoder_kernel_size=3,prenet_dim=16," \
            "attention_rnn_dim=32,decoder_rnn_dim=32,attention_dim=8,attention_location_n_filters=4," \
            "attention_location_kernel_size=5,postnet_embedding_dim=16,postnet_n_convolutions=2," \
            "postnet_kernel_size=3"
    assert load_tacotron2(path, sizes)[1].decoder_rnn_dim == 32


def test_a_pickle_that_runs_code_is_refused(tmp_path):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    torch.save({"state_dict": Payload()}, tmp_path / "evil.pt")
    with pytest.raises(ValueError, match="cannot be read as a weights-only checkpoint"):
        load_tacotron2(tmp_path / "evil.pt")
    assert not marker.exists()


def test_mcd_is_zero_for_identical_mels_and_grows_with_distortion():
    generator = np.random.default_rng(0)
    mel = np.log(np.abs(generator.normal(size=(80, 60))) + 1e-3)
    assert evaluate.mel_cepstral_distortion(mel, mel) == pytest.approx(0.0, abs=1e-9)
    assert (evaluate.mel_cepstral_distortion(np.repeat(mel, 2, axis=1), mel)
            == pytest.approx(0.0, abs=1e-9))  # DTW
    distortions = [evaluate.mel_cepstral_distortion(mel + generator.normal(scale=s, size=mel.shape), mel)
                   for s in (0.1, 0.5, 2.0)]
    assert 0 < distortions[0] < distortions[1] < distortions[2], distortions


def test_mel_cepstrum_is_the_real_cepstrum_of_the_log_mel():
    log_mel = np.random.default_rng(1).normal(size=(80, 3))
    n = np.arange(80)
    expected = np.stack([(log_mel * np.cos(np.pi * k * (n + 0.5) / 80)[:, None]).sum(0) / 80
                         for k in range(1, 14)], 1)
    assert np.allclose(evaluate.mel_cepstrum(log_mel), expected)


def test_evaluate_writes_json_and_table(tiny_checkpoint, tmp_path, repo_root, capsys):
    lines = (repo_root / "filelists" / "demo_audio_text_val_filelist.txt").read_text().splitlines()[:3]
    filelist = tmp_path / "eval.txt"
    filelist.write_text("\n".join(lines) + "\n")
    output = tmp_path / "results.json"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        evaluate.main(["-c", str(tiny_checkpoint[0]), "-f", str(filelist), "--output", str(output),
                       "--device", "cpu", "--hparams", f"data_root={repo_root},mel_cache_dir=",
                       "--no_intelligibility"])
    results = json.loads(output.read_text())
    assert (results["n_utterances"] == 3 and len(results["utterances"]) == 3
            and "intelligibility" not in results)
    assert 0 <= results["gate_accuracy"] <= 1 and 0 < results["focus_rate"] <= 1 and results["mcd"] > 0
    assert results["val_loss"] > 0 and results["real_time_factor"] > 0 and results["postnet_mse"] > 0
    assert "MCD-DTW" in capsys.readouterr().out


def test_notebook_runs_top_to_bottom(tiny_checkpoint, repo_root, tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    notebook = nbformat.read(repo_root / "inference.ipynb", as_version=4)
    (parameters,) = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    # a vocoder file (a small HiFi-GAN) rather than None: the same cells, and the path goes through them too
    vocoder_path = tmp_path / "hifigan.pt"
    config = HiFiGANConfig(resblock="2", upsample_rates=(8, 8, 4), upsample_kernel_sizes=(16, 16, 8),
                           upsample_initial_channel=16, resblock_kernel_sizes=(3,),
                           resblock_dilation_sizes=((1, 2),))
    save_hifigan(vocoder_path, Generator(config))
    parameters.source += (f"\ncheckpoint_path = {str(tiny_checkpoint[0])!r}\ntext = 'Testing the notebook.'"
                          f"\nvocoder_path = {str(vocoder_path)!r}")
    assert all(not cell.get("outputs")
               for cell in notebook.cells if cell.cell_type == "code")  # committed stripped
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(repo_root)}}).execute()
    outputs = [output for cell in notebook.cells if cell.cell_type == "code"
               for output in cell.get("outputs", [])]
    assert not [output for output in outputs if output.output_type == "error"]
    assert any("vocoder: HiFi-GAN (custom config)" in output.get("text", "") for output in outputs)
    assert any("image/png" in output.get("data", {}) for output in outputs)  # the mel and alignment plots
    assert any("text/html" in output.get("data", {}) for output in outputs)  # the audio player


def test_a_piece_with_nothing_speakable_is_left_out(tiny_checkpoint):
    _, model, hparams = tiny_checkpoint
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (utterance,) = inference.synthesize(model.eval(), GriffinLimVocoder(hparams, n_iters=1), hparams,
                                            ["First part. ?!? Second part."], max_chars=12)
    assert utterance.pieces == ["First part.", "Second part."]
