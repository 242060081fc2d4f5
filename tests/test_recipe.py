"""The small-corpus recipe's levers: per-channel mel normalization and its statistics, the loss over
real frames, the stop-token weight, prenet dropout, learning-rate warm-up, scheduled sampling, and the
recognizer at validation."""

import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import train
from data_utils import TextMelLoader, mel_statistics
from hparams import create_hparams
from layers import lengths_to_mask
from loss_function import Tacotron2Loss
from model import Tacotron2
from test_model import T_OUT, make_batch


def _statistics_hparams(hparams, n_mels=80, seed=0):
    generator = torch.Generator().manual_seed(seed)
    mean = (torch.randn(n_mels, generator=generator) * 3 - 5).tolist()
    std = (torch.rand(n_mels, generator=generator) * 2 + 0.5).tolist()
    return dataclasses.replace(hparams, mel_normalization="per_channel", mel_mean=mean, mel_std=std)


def _deterministic(model):
    model.decoder.prenet.p_dropout = 0.0
    return model.eval()


def test_without_statistics_the_model_is_the_reference_bit_for_bit(tiny_hparams):
    batch = make_batch()
    torch.manual_seed(1)
    reference = _deterministic(Tacotron2(tiny_hparams))
    torch.manual_seed(1)
    # per_channel asked for but no statistics computed yet: identity, exactly
    model = _deterministic(Tacotron2(dataclasses.replace(tiny_hparams, mel_normalization="per_channel")))
    for ours, theirs in zip(model(*batch[:3], batch[4]), reference(*batch[:3], batch[4])):
        assert torch.equal(ours, theirs)
    assert set(model.state_dict()) == set(reference.state_dict())  # the reference layout, no extra keys


def test_normalized_model_predicts_standardised_mels_and_returns_log_mels(tiny_hparams):
    hparams = _statistics_hparams(tiny_hparams)
    torch.manual_seed(1)
    model = _deterministic(Tacotron2(hparams))
    text, text_lengths, mels, gates, mel_lengths = make_batch()
    mean, std = torch.tensor(hparams.mel_mean).unsqueeze(1), torch.tensor(hparams.mel_std).unsqueeze(1)
    with torch.no_grad():
        mel_outputs, postnet, _, _ = model(text, text_lengths, mels, mel_lengths)
        # the decoder's own output, recomputed by hand in its standardised space
        memory = model.encoder(model.embedding(text).transpose(1, 2), text_lengths)
        decoder_mels = model.decoder(memory, (mels - mean) / std, text_lengths)[0]
    real = lengths_to_mask(mel_lengths, T_OUT).unsqueeze(1)
    expected = (decoder_mels * std + mean).masked_fill(~real, 0.0)
    torch.testing.assert_close(mel_outputs, expected, rtol=1e-5, atol=1e-5)
    assert (postnet.masked_select(~real) == 0).all()
    # an untrained model predicts ~0 in standardised space, i.e. about the training set's mean frame
    assert abs(float(mel_outputs[0].mean()) - float(mean.mean())) < 2.0


def test_loss_on_the_standardised_scale_over_real_frames(tiny_hparams):
    hparams = _statistics_hparams(tiny_hparams)
    model = _deterministic(Tacotron2(hparams))
    text, text_lengths, mels, gates, mel_lengths = make_batch()
    with torch.no_grad():
        outputs = model(text, text_lengths, mels, mel_lengths)
    criterion = Tacotron2Loss(1, over_real_frames=True, gate_positive_weight=5.0, mel_std=model.mel_std)
    _, parts = criterion(outputs, mels, gates, text_lengths, mel_lengths)
    std = torch.tensor(hparams.mel_std).unsqueeze(1)
    squared, count = 0.0, 0
    for b, length in enumerate(mel_lengths.tolist()):
        squared += float((((outputs[0][b, :, :length] - mels[b, :, :length]) / std) ** 2).sum())
        count += length * 80
    assert float(parts["mel"]) == pytest.approx(squared / count, rel=1e-5)
    gate_terms = []
    for b, length in enumerate(mel_lengths.tolist()):
        logits, targets = outputs[2][b, :length], gates[b, :length]
        gate_terms.append(F.binary_cross_entropy_with_logits(logits, targets, pos_weight=torch.tensor(5.0),
                                                             reduction="sum"))
    assert float(parts["gate"]) == pytest.approx(float(sum(gate_terms)) / int(mel_lengths.sum()), rel=1e-5)
    # the reference loss averages over padding too: a smaller figure for the same outputs
    _, reference = Tacotron2Loss(1)(outputs, mels, gates, text_lengths, mel_lengths)
    assert float(reference["mel"]) < float(Tacotron2Loss(1, over_real_frames=True)(
        outputs, mels, gates, text_lengths, mel_lengths)[1]["mel"])


@pytest.mark.parametrize("mel_loss", ["l1", "l1+mse"])
def test_l1_mel_loss_over_real_frames(tiny_hparams, mel_loss):
    hparams = _statistics_hparams(tiny_hparams)
    model = _deterministic(Tacotron2(hparams))
    text, text_lengths, mels, gates, mel_lengths = make_batch()
    with torch.no_grad():
        outputs = model(text, text_lengths, mels, mel_lengths)
    criterion = Tacotron2Loss(1, over_real_frames=True, mel_std=model.mel_std, mel_loss=mel_loss)
    _, parts = criterion(outputs, mels, gates, text_lengths, mel_lengths)
    std = torch.tensor(hparams.mel_std).unsqueeze(1)
    absolute, squared, count = 0.0, 0.0, 0
    for b, length in enumerate(mel_lengths.tolist()):
        error = (outputs[1][b, :, :length] - mels[b, :, :length]) / std
        absolute += float(error.abs().sum())
        squared += float(error.square().sum())
        count += length * 80
    expected = absolute / count + (squared / count if mel_loss == "l1+mse" else 0.0)
    assert float(parts["postnet_mel"]) == pytest.approx(expected, rel=1e-5)


def test_unknown_mel_loss_is_refused(tiny_hparams):
    with pytest.raises(ValueError, match="mel_loss='l2'"):
        Tacotron2Loss(1, mel_loss="l2")
    with pytest.raises(ValueError, match="mel_loss='l2'"):
        create_hparams("mel_loss=l2")


def test_mel_statistics_match_numpy_over_every_frame(run_hparams):
    dataset = TextMelLoader(run_hparams.training_files, run_hparams)
    mean, std = mel_statistics(dataset)
    frames = np.concatenate([dataset[i][1].numpy() for i in range(len(dataset))], axis=1).astype(np.float64)
    np.testing.assert_allclose(mean.numpy(), frames.mean(axis=1), rtol=1e-5)
    np.testing.assert_allclose(std.numpy(), np.maximum(frames.std(axis=1), 1e-2), rtol=1e-4)


def test_training_stores_statistics_resume_keeps_them_warm_start_recomputes(run_hparams, tmp_path, filelists):
    hparams = dataclasses.replace(run_hparams, mel_normalization="per_channel", val_wer_utterances=0)
    train.train(str(tmp_path / "out"), str(tmp_path / "logs"), None, False, 1, 0, "", hparams,
                device_name="cpu")
    saved = torch.load(tmp_path / "out" / "checkpoint_3", weights_only=True)["hparams"]
    mean, std = mel_statistics(TextMelLoader(hparams.training_files, hparams))
    np.testing.assert_allclose(saved["mel_mean"], mean.numpy(), rtol=1e-6)
    np.testing.assert_allclose(saved["mel_std"], std.numpy(), rtol=1e-6)

    checkpoint = str(tmp_path / "out" / "checkpoint_3")
    other_corpus = dataclasses.replace(hparams, training_files=str(filelists[1]), max_iterations=4)
    assert train.with_mel_statistics(other_corpus, checkpoint, warm_start=False).mel_mean == saved["mel_mean"]
    recomputed = train.with_mel_statistics(other_corpus, checkpoint, warm_start=True)
    assert recomputed.mel_mean != saved["mel_mean"] and len(recomputed.mel_mean) == 80


def test_prenet_dropout_and_warm_up_follow_the_hparams(tiny_hparams):
    hparams = dataclasses.replace(tiny_hparams, p_prenet_dropout=0.8, lr_warmup_steps=4, learning_rate=1e-3)
    assert Tacotron2(hparams).decoder.prenet.p_dropout == 0.8
    rates = [train.learning_rate_at(i, hparams) for i in range(6)]
    assert rates == pytest.approx([2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3, 1e-3])
    with pytest.raises(ValueError, match="p_prenet_dropout"):
        create_hparams("p_prenet_dropout=1.0")
    with pytest.raises(ValueError, match="mel_normalization"):
        create_hparams("mel_normalization=global")
    with pytest.raises(ValueError, match="scheduled_sampling"):
        create_hparams("scheduled_sampling=1.5")


@pytest.mark.parametrize("name", ["p_encoder_dropout", "p_postnet_dropout"])
def test_encoder_and_postnet_dropout_follow_the_hparams(tiny_hparams, name):
    """The reference's fixed 0.5 by default; 0 makes that stack deterministic in training mode."""
    assert getattr(create_hparams(""), name) == 0.5
    with pytest.raises(ValueError, match=name):
        create_hparams(f"{name}=1.0")
    text, text_lengths, mels, gates, mel_lengths = make_batch()
    mask = lengths_to_mask(mel_lengths, mels.size(2))
    def run(model):
        if name == "p_encoder_dropout":
            return model.encoder(model.embedding(text).transpose(1, 2), text_lengths)
        return model.postnet(mels, mask)

    outputs = {}
    for p in (0.5, 0.0):
        model = Tacotron2(dataclasses.replace(tiny_hparams, **{name: p})).train()
        assert (model.encoder if name == "p_encoder_dropout" else model.postnet).p_dropout == p
        torch.manual_seed(0)
        outputs[p] = torch.equal(run(model), run(model))
    assert outputs == {0.5: False, 0.0: True}


@pytest.mark.parametrize("probability", [0.0, 1.0, 0.5])
def test_scheduled_sampling_mixes_first_pass_predictions_into_the_decoder_inputs(tiny_hparams, probability):
    model = _deterministic(Tacotron2(tiny_hparams))
    text, text_lengths, mels, gates, mel_lengths = make_batch()
    autocast = torch.autocast("cpu", enabled=False)
    inputs = train.scheduled_sampling_inputs(model, autocast, text, text_lengths, mels, mel_lengths,
                                             probability)
    with torch.no_grad():
        predicted = model(text, text_lengths, mels, mel_lengths)[0]
    from_prediction = (inputs == predicted).all(dim=1)  # (B, T_out): whole frames come from one source
    from_recording = (inputs == mels).all(dim=1)
    assert bool((from_prediction | from_recording).all())
    if probability == 0.0:
        assert torch.equal(inputs, mels)
    elif probability == 1.0:
        assert torch.equal(inputs, predicted)
    else:
        share = float((from_prediction & ~from_recording).float().mean())
        assert 0.3 < share < 0.7
    # the decoder reads these inputs: outputs change when inputs differ from the recording
    outputs = model(text, text_lengths, mels, mel_lengths, decoder_inputs=inputs)[0]
    assert torch.equal(outputs, model(text, text_lengths, mels, mel_lengths)[0]) == (probability == 0.0)


def test_training_with_scheduled_sampling_and_validation_intelligibility(run_hparams, tmp_path):
    pytest.importorskip("pocketsphinx")
    pytest.importorskip("jiwer")
    hparams = dataclasses.replace(run_hparams, scheduled_sampling=0.5, scheduled_sampling_start=1,
                                  val_wer_utterances=2, griffin_lim_iters=4)
    summary = train.train(str(tmp_path / "out"), str(tmp_path / "logs"), None, False, 1, 0, "", hparams,
                          device_name="cpu")
    assert summary["iteration"] == 3 and all(np.isfinite(summary["losses"]))
    heard = summary["validation"]
    # an untrained model says nothing the recognizer can match; the recordings are heard
    assert heard["wer_free_running"] >= 0.5 and heard["wer_teacher_forced"] >= 0.5
    assert heard["wer_ceiling"] < heard["wer_free_running"]


def test_decoder_input_dropout_replaces_whole_frames_by_the_mean_frame(tiny_hparams):
    model = Tacotron2(_statistics_hparams(tiny_hparams))
    mels = make_batch()[2]
    for probability in (0.0, 0.5):
        inputs = train.decoder_input_dropout(model, mels, probability)
        dropped = (inputs == model.mel_mean.view(1, -1, 1)).all(dim=1)  # (B, T_out)
        kept = (inputs == mels).all(dim=1)
        assert bool((dropped | kept).all())
        share = float(dropped.float().mean())
        assert share == 0.0 if probability == 0.0 else 0.3 < share < 0.7
    with pytest.raises(ValueError, match="decoder_input_dropout"):
        create_hparams("decoder_input_dropout=1.0")
