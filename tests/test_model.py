"""Tacotron 2 model: shapes, masking, step vs forward, inference stopping, checkpoint keys, loss, training."""

import dataclasses
import math
import re
import warnings
from pathlib import Path

import pytest
import torch

import hparams as hparams_module
import model as model_module
from layers import lengths_to_mask
from loss_function import Tacotron2Loss, alignment_metrics
from model import Attention, Tacotron2

T_OUT = 24  # a multiple of r = 1, 2, 3


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models run fastest on one thread, and a second thread slows a shared machine down a lot."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make_batch(n_mels=80, text_lengths=(12, 9, 7), mel_lengths=(T_OUT, 19, 14)):
    """Padded text, per-frame gate targets as the collate builds them (1 from the last real frame on)."""
    text_lengths, mel_lengths = torch.tensor(text_lengths), torch.tensor(mel_lengths)
    text = torch.randint(1, 148, (len(text_lengths), int(text_lengths.max())))
    text = text.masked_fill(~lengths_to_mask(text_lengths), 0)
    frames = torch.arange(T_OUT, dtype=torch.float32)
    channels = torch.arange(n_mels, dtype=torch.float32).unsqueeze(1)
    mels = torch.stack([torch.sin(frames * (0.2 + 0.1 * i) + channels / 9) for i in range(len(text_lengths))])
    mels = mels.masked_fill(~lengths_to_mask(mel_lengths, T_OUT).unsqueeze(1), 0.0)
    gates = (torch.arange(T_OUT) >= mel_lengths.unsqueeze(1) - 1).float()
    return text, text_lengths, mels, gates, mel_lengths


def with_r(hparams, r):
    return dataclasses.replace(hparams, n_frames_per_step=r)


def deterministic(model):
    """Eval mode and no prenet dropout (which stays on in eval by design)."""
    model.eval()
    model.decoder.prenet.p_dropout = 0.0
    return model


@pytest.mark.parametrize("r", [1, 2, 3])
def test_output_shapes(tiny_hparams, r):
    text, text_lengths, mels, _, mel_lengths = make_batch()
    model = Tacotron2(with_r(tiny_hparams, r))
    mel, mel_postnet, gate, alignments = model(text, text_lengths, mels, mel_lengths)
    assert mel.shape == mel_postnet.shape == (3, 80, T_OUT)
    assert gate.shape == (3, T_OUT // r)
    assert alignments.shape == (3, T_OUT // r, 12)


@pytest.mark.parametrize("r", [1, 2])
def test_padded_frames_are_zero_and_padded_gates_stop(tiny_hparams, r):
    text, text_lengths, mels, _, mel_lengths = make_batch()
    mel, mel_postnet, gate, _ = Tacotron2(with_r(tiny_hparams, r))(text, text_lengths, mels, mel_lengths)
    padding = ~lengths_to_mask(mel_lengths, T_OUT)
    assert (mel.transpose(1, 2)[padding] == 0).all() and (mel_postnet.transpose(1, 2)[padding] == 0).all()
    assert (mel.transpose(1, 2)[~padding] != 0).all()
    step_padding = padding[:, ::r]  # a step is padding when its first frame is
    assert (gate[step_padding] == 1e3).all() and (gate[~step_padding] != 1e3).all()


def test_attention_sums_to_one_and_skips_padded_symbols(tiny_hparams):
    text, text_lengths, mels, _, mel_lengths = make_batch()
    _, _, _, alignments = Tacotron2(tiny_hparams)(text, text_lengths, mels, mel_lengths)
    steps = lengths_to_mask(mel_lengths, T_OUT)
    assert torch.allclose(alignments.sum(2)[steps], torch.ones(int(steps.sum())), atol=1e-6)
    assert (alignments.transpose(1, 2)[~lengths_to_mask(text_lengths)] == 0).all()


def test_location_layer_equals_its_conv_then_dense():
    layer = model_module.LocationLayer(n_filters=4, kernel_size=5, attention_dim=6)
    weights_cat = torch.rand(3, 2, 9)
    expected = layer.location_dense(layer.location_conv(weights_cat).transpose(1, 2))
    assert torch.allclose(layer(weights_cat), expected, atol=1e-6)


def test_attention_mask_is_finite_in_bfloat16():
    attention = Attention(8, 6, 4, 2, 3).to(torch.bfloat16)
    memory = torch.randn(2, 5, 6, dtype=torch.bfloat16)
    mask = lengths_to_mask(torch.tensor([5, 2]))
    weights_cat = torch.rand(2, 2, 5, dtype=torch.bfloat16)
    context, weights = attention(torch.randn(2, 8, dtype=torch.bfloat16), memory,
                                 attention.memory_layer(memory), weights_cat, mask)
    assert weights.dtype == context.dtype == torch.bfloat16 and torch.isfinite(context).all()
    assert (weights[~mask] == 0).all() and torch.allclose(weights.float().sum(1), torch.ones(2), atol=1e-2)


def test_bfloat16_autocast_gives_finite_losses_and_gradients(tiny_hparams):
    model = Tacotron2(with_r(tiny_hparams, 2))
    text, text_lengths, mels, gates, mel_lengths = make_batch()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        outputs = model(text, text_lengths, mels, mel_lengths)
        loss, _ = Tacotron2Loss(2)(outputs, mels, gates, text_lengths, mel_lengths, guided_attn_weight=1.0)
    loss.backward()
    assert outputs[0].dtype == torch.bfloat16 and loss.dtype == torch.float32 and torch.isfinite(loss)
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


@pytest.mark.parametrize("r", [1, 2])
def test_teacher_forced_forward_equals_steps_by_hand(tiny_hparams, r):
    model = deterministic(Tacotron2(with_r(tiny_hparams, r)))
    decoder = model.decoder
    text, text_lengths, mels, _, _ = make_batch()
    with torch.no_grad():
        memory = model.encoder(model.embedding(text).transpose(1, 2), text_lengths)
        mel, gate, alignments = decoder(memory, mels, text_lengths)
        processed_memory = decoder.attention_layer.memory_layer(memory)
        state, frame = decoder.initial_state(memory), torch.zeros(3, 80)
        for s in range(T_OUT // r):
            mel_step, gate_step, state = decoder.step(decoder.prenet(frame), state, memory, processed_memory,
                                                      lengths_to_mask(text_lengths))
            frames = mel_step.view(3, r, 80).transpose(1, 2)  # (B, n_mels, r)
            assert torch.allclose(mel[:, :, s * r : (s + 1) * r], frames, atol=1e-6)
            assert torch.allclose(gate[:, s], gate_step[:, 0], atol=1e-6)
            assert torch.allclose(alignments[:, s], state.attention_weights, atol=1e-6)
            frame = mels[:, :, (s + 1) * r - 1]  # teacher forcing: the last true frame of this step


@pytest.mark.parametrize("r", [1, 3])
def test_inference_stops_when_the_gate_fires(tiny_hparams, r):
    model = Tacotron2(with_r(tiny_hparams, r)).eval()
    torch.nn.init.constant_(model.decoder.gate_layer.linear_layer.bias, 100.0)
    mel, mel_postnet, gate, alignments, mel_lengths = model.inference(torch.randint(1, 148, (1, 9)))
    assert mel.shape == mel_postnet.shape == (1, 80, r)
    assert gate.shape == (1, 1) and alignments.shape == (1, 1, 9)
    assert mel_lengths.tolist() == [r]


def test_inference_without_a_stop_runs_to_max_decoder_steps_and_warns(tiny_hparams):
    model = Tacotron2(with_r(tiny_hparams, 2)).eval()
    torch.nn.init.constant_(model.decoder.gate_layer.linear_layer.bias, -100.0)
    with pytest.warns(UserWarning, match="max_decoder_steps=50"):
        mel, _, _, _, mel_lengths = model.inference(torch.randint(1, 148, (2, 9)))
    assert mel.shape == (2, 80, 100) and mel_lengths.tolist() == [100, 100]


def test_infinite_gate_threshold_gives_exactly_max_decoder_steps(tiny_hparams):
    """The benchmark harness's protocol: a fixed number of steps whatever the gate says."""
    model = Tacotron2(tiny_hparams).eval()
    torch.nn.init.constant_(model.decoder.gate_layer.linear_layer.bias, 100.0)
    model.decoder.gate_threshold, model.decoder.max_decoder_steps = float("inf"), 7
    with pytest.warns(UserWarning):
        _, mel_postnet, *_ = model.inference(torch.randint(1, 148, (1, 9)))
    assert mel_postnet.shape == (1, 80, 7)


def test_batched_inference_matches_each_utterance_alone(tiny_hparams):
    model = deterministic(Tacotron2(with_r(tiny_hparams, 2)))
    model.decoder.gate_layer.linear_layer.weight.data.mul_(30.0)  # sharp gates: no knife-edge stops
    text, text_lengths = torch.randint(1, 148, (2, 11)), torch.tensor([11, 6])
    # find a threshold at which the two utterances stop at different steps
    model.decoder.gate_threshold = float("inf")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        probabilities = [torch.sigmoid(model.inference(text[i : i + 1, :n])[2][0])
                         for i, n in enumerate(text_lengths.tolist())]
    model.decoder.gate_threshold = 0.5
    for threshold in torch.linspace(0.05, 0.95, 19).tolist():
        stops = [int((p > threshold).nonzero()[0]) + 1 if (p > threshold).any() else None
                 for p in probabilities]
        if None not in stops and stops[0] != stops[1]:
            model.decoder.gate_threshold = threshold
            break
    else:
        pytest.skip("random gates give no threshold with two distinct stops")
    alone = [model.inference(text[i : i + 1, :n]) for i, n in enumerate(text_lengths.tolist())]
    mel, mel_postnet, gate, alignments, mel_lengths = model.inference(text, text_lengths)
    assert mel_lengths.tolist() == [2 * stop for stop in stops]
    for i, (mel_i, postnet_i, _gate_i, alignments_i, (length,)) in enumerate(alone):
        steps = length // 2
        assert torch.allclose(mel[i, :, :length], mel_i[0], atol=1e-5)
        assert torch.allclose(mel_postnet[i, :, :length], postnet_i[0], atol=1e-5)
        assert torch.allclose(alignments[i, :steps, : text_lengths[i]], alignments_i[0], atol=1e-5)
        assert (mel[i, :, length:] == 0).all() and (mel_postnet[i, :, length:] == 0).all()
        assert (gate[i, steps:] == 1e3).all() and (alignments[i, steps:] == 0).all()


def conv_block(prefix, weight_shape):
    """ConvNorm + BatchNorm1d keys of one conv block."""
    channels = (weight_shape[0],)
    return {f"{prefix}.0.conv.weight": weight_shape, f"{prefix}.0.conv.bias": channels,
            **{f"{prefix}.1.{name}": channels for name in ("weight", "bias", "running_mean", "running_var")},
            f"{prefix}.1.num_batches_tracked": ()}


def test_state_dict_matches_the_published_reference_checkpoint():
    """NVIDIA's tacotron2_statedict.pt (LJ Speech defaults) must load with strict=True."""
    expected = {"embedding.weight": (148, 512)}
    for i in range(3):
        expected |= conv_block(f"encoder.convolutions.{i}", (512, 512, 5))
    for suffix in ("", "_reverse"):
        expected |= {f"encoder.lstm.weight_ih_l0{suffix}": (1024, 512),
                     f"encoder.lstm.weight_hh_l0{suffix}": (1024, 256),
                     f"encoder.lstm.bias_ih_l0{suffix}": (1024,), f"encoder.lstm.bias_hh_l0{suffix}": (1024,)}
    expected |= {
        "decoder.prenet.layers.0.linear_layer.weight": (256, 80),
        "decoder.prenet.layers.1.linear_layer.weight": (256, 256),
        "decoder.attention_rnn.weight_ih": (4096, 768), "decoder.attention_rnn.weight_hh": (4096, 1024),
        "decoder.attention_rnn.bias_ih": (4096,), "decoder.attention_rnn.bias_hh": (4096,),
        "decoder.attention_layer.query_layer.linear_layer.weight": (128, 1024),
        "decoder.attention_layer.memory_layer.linear_layer.weight": (128, 512),
        "decoder.attention_layer.v.linear_layer.weight": (1, 128),
        "decoder.attention_layer.location_layer.location_conv.conv.weight": (32, 2, 31),
        "decoder.attention_layer.location_layer.location_dense.linear_layer.weight": (128, 32),
        "decoder.decoder_rnn.weight_ih": (4096, 1536), "decoder.decoder_rnn.weight_hh": (4096, 1024),
        "decoder.decoder_rnn.bias_ih": (4096,), "decoder.decoder_rnn.bias_hh": (4096,),
        "decoder.linear_projection.linear_layer.weight": (80, 1536),
        "decoder.linear_projection.linear_layer.bias": (80,),
        "decoder.gate_layer.linear_layer.weight": (1, 1536), "decoder.gate_layer.linear_layer.bias": (1,),
    }
    postnet_shapes = [(512, 80, 5), (512, 512, 5), (512, 512, 5), (512, 512, 5), (80, 512, 5)]
    for i, shape in enumerate(postnet_shapes):
        expected |= conv_block(f"postnet.convolutions.{i}", shape)

    model = Tacotron2(hparams_module.create_hparams())
    assert {key: tuple(value.shape) for key, value in model.state_dict().items()} == expected
    assert sum(p.numel() for p in model.parameters()) == 28_193_153
    model.load_state_dict({key: torch.zeros(shape) for key, shape in expected.items()}, strict=True)


def test_gate_loss_reads_the_last_frame_of_each_step():
    criterion = Tacotron2Loss(n_frames_per_step=2)
    mels = torch.zeros(1, 80, 6)
    gates = torch.tensor([[0.0, 0.0, 0.0, 1.0, 1.0, 1.0]])  # last real frame is 3: step 1 already "stops"
    logits = torch.tensor([[-2.0, 0.5, 3.0]])
    outputs = (mels, mels, logits, torch.full((1, 3, 4), 0.25))
    _, losses = criterion(outputs, mels, gates, torch.tensor([4]), torch.tensor([4]))
    expected = torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.tensor([[0.0, 1.0, 1.0]]))
    assert torch.isclose(losses["gate"], expected)
    assert losses["mel"] == 0 and losses["postnet_mel"] == 0 and losses["guided_attn"] == 0


def test_guided_attention_loss_is_small_on_the_diagonal():
    steps, symbols = 30, 10
    diagonal = torch.zeros(1, steps, symbols)
    diagonal[0, torch.arange(steps), torch.arange(steps) * symbols // steps] = 1.0
    uniform = torch.full((1, steps, symbols), 1.0 / symbols)
    criterion = Tacotron2Loss(n_frames_per_step=1)
    lengths = (torch.tensor([symbols]), torch.tensor([steps]))
    on_diagonal, spread = (criterion.guided_attention(a, *lengths) for a in (diagonal, uniform))
    brute_force = sum(1 - math.exp(-((n / symbols - s / steps) ** 2) / (2 * 0.2**2))
                      for s in range(steps) for n in range(symbols)) / (steps * symbols)  # uniform: mean W
    assert spread.item() == pytest.approx(brute_force, rel=1e-5)
    assert on_diagonal < 0.05 and spread > 5 * on_diagonal
    mels, gates = torch.zeros(1, 80, steps), torch.zeros(1, steps)
    total, losses = criterion((mels, mels, torch.zeros(1, steps), uniform), mels, gates, *lengths,
                              guided_attn_weight=5.0)
    assert torch.isclose(total, losses["gate"] + 5.0 * spread)


def test_alignment_metrics_tell_a_diagonal_from_a_blur():
    steps, symbols = 40, 12
    diagonal = torch.zeros(2, steps, symbols)
    diagonal[:, torch.arange(steps), torch.arange(steps) * symbols // steps] = 1.0
    lengths = (torch.tensor([symbols, symbols]), torch.tensor([steps, steps]))
    assert alignment_metrics(diagonal, *lengths) == (1.0, 1.0)
    assert alignment_metrics(diagonal, torch.tensor([symbols, 8]), torch.tensor([steps, 10])) == (1.0, 0.5)
    focus, _ = alignment_metrics(torch.full((2, steps, symbols), 1.0 / symbols), *lengths)
    assert focus == pytest.approx(1.0 / symbols)
    wandering = torch.zeros(2, steps, symbols)  # visits every symbol, ends on the first
    wandering[:, torch.arange(steps), (steps - 1 - torch.arange(steps)) * 7 % symbols] = 1.0
    assert alignment_metrics(wandering, *lengths)[1] == 0.0
    stuck = torch.zeros(2, steps, symbols)
    stuck[:, :, 2] = 1.0  # sharp but never reaching the end
    assert alignment_metrics(stuck, *lengths) == (1.0, 0.0)


def train(hparams, iterations):
    model = Tacotron2(hparams)
    criterion = Tacotron2Loss(hparams.n_frames_per_step)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    text, text_lengths, mels, gates, mel_lengths = make_batch(text_lengths=(12, 9), mel_lengths=(T_OUT, 18))
    losses = []
    for _ in range(iterations):
        outputs = model(text, text_lengths, mels, mel_lengths)
        loss, _ = criterion(outputs, mels, gates, text_lengths, mel_lengths)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def test_tiny_model_overfits_two_utterances(tiny_hparams):
    losses = train(tiny_hparams, 60)
    assert all(math.isfinite(loss) for loss in losses)
    assert min(losses[-5:]) < losses[0] / 5


def test_reduction_factor_two_trains(tiny_hparams):
    losses = train(with_r(tiny_hparams, 2), 40)
    assert min(losses[-5:]) < losses[0] / 2.5


def test_model_is_device_agnostic_and_silent():
    source = Path(model_module.__file__).read_text()
    assert not re.search(r"torch\.(cuda|distributed|amp)|\.cuda\(|\bprint\(", source)
