"""The decoder's fast paths against its straightforward ones (the loops over Decoder.step with nn.LSTMCell):
teacher forcing with the fused LSTM steps and deferred weight gradients, the recomputing attention energies,
and free-running decoding with packed float32 / float16 / int8 weights."""

import dataclasses
import warnings

import pytest
import torch
from test_model import T_OUT, make_batch, one_thread  # noqa: F401 (autouse fixture: one thread here too)

import hparams as hparams_module
from model import Tacotron2, _CollectWeightGrad, _LocationEnergies, _LSTMStep, _StepWeight


def outputs_and_grads(model, fused, batch, seed=5):
    """Training-mode forward (dropout on, same draws for both paths), a loss touching every output, backward."""
    text, text_lengths, mels, _, mel_lengths = batch
    model.decoder.fused = fused
    model.zero_grad()
    torch.manual_seed(seed)
    outputs = model(text, text_lengths, mels.to(next(model.parameters()).dtype), mel_lengths)
    weights = [torch.linspace(-1, 1, o.numel(), dtype=o.dtype).view_as(o) for o in outputs]
    sum((o * w).sum() for o, w in zip(outputs, weights)).backward()
    return [o.detach() for o in outputs], {n: p.grad.clone() for n, p in model.named_parameters()}


@pytest.mark.parametrize("r", [1, 2])
def test_fused_teacher_forcing_equals_the_step_loop_in_float64(tiny_hparams, r):
    model = Tacotron2(dataclasses.replace(tiny_hparams, n_frames_per_step=r)).double().train()
    batch = make_batch()
    slow_outputs, slow_grads = outputs_and_grads(model, False, batch)
    fast_outputs, fast_grads = outputs_and_grads(model, True, batch)
    for slow, fast in zip(slow_outputs, fast_outputs):
        torch.testing.assert_close(fast, slow, rtol=1e-10, atol=1e-12)
    scale = max(g.abs().max() for g in slow_grads.values())
    for name, grad in slow_grads.items():  # every parameter, the LSTMs' deferred weight gradients included
        torch.testing.assert_close(fast_grads[name], grad, rtol=1e-9, atol=1e-12 * scale, msg=name)
    assert slow_grads["decoder.attention_rnn.weight_hh"].abs().sum() > 0


def test_fused_teacher_forcing_matches_in_float32_at_reference_width():
    """float32 at the reference's LSTM and attention widths: the path with oneDNN-packed weights on CPU."""
    hparams = hparams_module.create_hparams(
        "symbols_embedding_dim=64,encoder_embedding_dim=64,postnet_embedding_dim=32,postnet_n_convolutions=2")
    torch.manual_seed(0)
    model = Tacotron2(hparams).train()
    batch = make_batch()
    slow_outputs, slow_grads = outputs_and_grads(model, False, batch)
    fast_outputs, fast_grads = outputs_and_grads(model, True, batch)
    for slow, fast in zip(slow_outputs, fast_outputs):
        torch.testing.assert_close(fast, slow, rtol=1e-4, atol=1e-5)
    for name in ("decoder.attention_rnn.weight_ih", "decoder.attention_rnn.weight_hh",
                 "decoder.attention_rnn.bias_hh", "decoder.decoder_rnn.weight_ih",
                 "decoder.attention_layer.location_layer.location_conv.conv.weight",
                 "decoder.attention_layer.v.linear_layer.weight", "embedding.weight"):
        slow, fast = slow_grads[name], fast_grads[name]
        assert (fast - slow).norm() <= 1e-4 * slow.norm(), name


def test_lstm_step_and_deferred_weight_gradient_pass_gradcheck():
    """Three chained steps of _LSTMStep sharing one weight, against finite differences (float64)."""
    torch.manual_seed(0)
    B, K, H = 2, 5, 3
    weight = torch.randn(4 * H, K + H, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(4 * H, dtype=torch.float64, requires_grad=True)
    x = torch.randn(3, B, K, dtype=torch.float64, requires_grad=True)
    c0 = torch.randn(B, H, dtype=torch.float64, requires_grad=True)

    def run(weight, bias, x, c0):
        step_weight = _StepWeight(weight.detach(), B, chunk_rows=3)  # folds mid-sequence and at the end
        token = _CollectWeightGrad.apply(weight, step_weight)
        h, c, hs = torch.zeros(B, H, dtype=weight.dtype), c0, []
        for x_s in x:
            h, c = _LSTMStep.apply(torch.cat((x_s, h), 1), c, bias, token, step_weight)
            hs.append(h)
        return torch.stack(hs), c

    assert torch.autograd.gradcheck(run, (weight, bias, x, c0))


def test_lstm_step_equals_nn_lstmcell():
    torch.manual_seed(0)
    cell = torch.nn.LSTMCell(6, 4).double()
    x, h, c = (torch.randn(3, n, dtype=torch.float64) for n in (6, 4, 4))
    weight = torch.cat((cell.weight_ih, cell.weight_hh), 1)
    step_weight = _StepWeight(weight.detach(), 3)
    token = _CollectWeightGrad.apply(weight, step_weight)
    h1, c1 = _LSTMStep.apply(torch.cat((x, h), 1), c, cell.bias_ih + cell.bias_hh, token, step_weight)
    h2, c2 = cell(x, (h, c))
    torch.testing.assert_close(h1, h2, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(c1, c2, rtol=1e-12, atol=1e-12)


def test_location_energies_pass_gradcheck():
    torch.manual_seed(0)
    B, T_in, A, k = 2, 7, 3, 5
    inputs = (torch.randn(B, A), torch.rand(B, 2, T_in), torch.randn(B, T_in, A), torch.randn(A, 2 * k),
              torch.randn(A))
    inputs = tuple(t.double().requires_grad_() for t in inputs)
    assert torch.autograd.gradcheck(_LocationEnergies.apply, inputs)


def decode(model, weights, text, text_lengths, seed=3):
    model.decoder.cpu_inference_weights = weights
    torch.manual_seed(seed)  # the prenet's dropout stays on in inference: same draws for both paths
    return model.inference(text, text_lengths)


@pytest.mark.parametrize("weights, tolerance", [("float32", 1e-5), ("float16", 2e-3), ("int8", 0.1)])
def test_fused_inference_matches_the_step_loop(weights, tolerance):
    """Reference widths, random weights, a fixed number of steps; the relative rms deviation of the mels from
    the float32 step loop stays within what each weight format promises."""
    hparams = hparams_module.create_hparams(
        "symbols_embedding_dim=64,encoder_embedding_dim=64,postnet_embedding_dim=32,postnet_n_convolutions=2,"
        "max_decoder_steps=60")
    torch.manual_seed(0)
    model = Tacotron2(hparams).eval()
    model.decoder.gate_threshold = float("inf")
    text, text_lengths = torch.randint(1, 148, (2, 11)), torch.tensor([11, 8])
    with torch.no_grad():
        model.decoder.fused = False
        slow = decode(model, "float32", text, text_lengths)
        model.decoder.fused = True
        fast = decode(model, weights, text, text_lengths)
    for slow_mel, fast_mel in zip(slow[:2], fast[:2]):
        assert fast_mel.shape == slow_mel.shape == (2, 80, 60)
        deviation = (fast_mel - slow_mel).square().mean().sqrt() / slow_mel.square().mean().sqrt()
        assert deviation <= tolerance, f"{weights}: relative rms deviation {deviation:.2e}"
    assert (fast[3] - slow[3]).abs().max() <= tolerance  # alignments
    assert fast[4].tolist() == slow[4].tolist() == [60, 60]
    if weights == "float32":
        torch.testing.assert_close(fast[2], slow[2], rtol=1e-4, atol=1e-4)  # gate logits


def test_fused_inference_stops_each_utterance_like_the_step_loop(tiny_hparams):
    torch.manual_seed(0)
    model = Tacotron2(tiny_hparams).eval()
    gate = model.decoder.gate_layer.linear_layer
    torch.nn.init.normal_(gate.weight, std=10.0)  # logits that swing with the state
    text, text_lengths = torch.randint(1, 148, (4, 9)), torch.tensor([9, 8, 5, 3])
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "reached max_decoder_steps" for the ones that never stop
        model.decoder.fused = False
        for bias in torch.linspace(-8.0, 0.0, 81):  # a gate bias at which the utterances stop apart
            gate.bias.fill_(bias)
            slow = decode(model, "float32", text, text_lengths)
            if len(set(slow[4].tolist())) > 1:
                break
        model.decoder.fused = True
        fast = decode(model, "float32", text, text_lengths)
    assert len(set(slow[4].tolist())) > 1, slow[4]  # the utterances stop at different steps
    assert fast[4].tolist() == slow[4].tolist()
    torch.testing.assert_close(fast[1], slow[1], rtol=1e-4, atol=1e-5)


def test_packed_inference_weights_follow_parameter_updates(tiny_hparams):
    """The packs are cached; an optimizer step (in place) or load_state_dict must not leave them stale."""
    model = Tacotron2(tiny_hparams).eval()
    model.decoder.gate_threshold = float("inf")
    text, text_lengths = torch.randint(1, 148, (1, 9)), torch.tensor([9])
    with torch.no_grad():
        before = decode(model, "float32", text, text_lengths)[1]
        assert model.decoder._inference_weights is not None
        for p in model.decoder.parameters():
            p.mul_(1.1)
        after = decode(model, "float32", text, text_lengths)[1]
        model.decoder.fused = False
        expected = decode(model, "float32", text, text_lengths)[1]
    assert not torch.allclose(after, before)
    torch.testing.assert_close(after, expected, rtol=1e-4, atol=1e-5)


def test_unknown_cpu_inference_weights_are_refused(tiny_hparams):
    with pytest.raises(ValueError, match="cpu_inference_weights='int4'"):
        dataclasses.replace(tiny_hparams, cpu_inference_weights="int4")
    model = Tacotron2(tiny_hparams).eval()
    model.decoder.cpu_inference_weights = "bfloat16"
    with torch.no_grad(), pytest.raises(ValueError, match="cpu_inference_weights='bfloat16'"):
        model.inference(torch.randint(1, 148, (1, 5)))


def test_bfloat16_autocast_fused_training_tracks_the_step_loop(tiny_hparams):
    model = Tacotron2(tiny_hparams).train()
    text, text_lengths, mels, _, mel_lengths = make_batch()
    grads = {}
    for fused in (False, True):
        model.decoder.fused = fused
        model.zero_grad()
        torch.manual_seed(5)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            outputs = model(text, text_lengths, mels, mel_lengths)
            loss = sum(o.float().square().mean() for o in outputs[:3])
        loss.backward()
        grads[fused] = torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])
    assert torch.isfinite(grads[True]).all()
    assert (grads[True] - grads[False]).norm() <= 0.05 * grads[False].norm()
    assert T_OUT == mels.size(2)


def test_a_missing_int8_kernel_falls_back_to_float16(tiny_hparams, monkeypatch):
    import model as model_module

    real_pack = model_module._fbgemm_pack

    def pack(weight, bias, weights):
        if weights == "int8":
            raise RuntimeError("no quantized tensors in this build")
        return real_pack(weight, bias, weights)

    monkeypatch.setattr(model_module, "_fbgemm_pack", pack)
    model = Tacotron2(tiny_hparams).eval()
    with torch.no_grad(), pytest.warns(UserWarning, match="int8 decoder weights unavailable"):
        packed = model.decoder.inference_weights(1)
    assert {p.kind for p in packed.attention_lstm + packed.decoder_lstm} == {"float16"}
