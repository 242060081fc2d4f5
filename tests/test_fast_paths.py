"""fused_decoder.py against the decoder's straightforward loops in model.py (Decoder.forward / inference over
Decoder.step with nn.LSTMCell): teacher forcing with the fused LSTM steps and deferred weight gradients, the
recomputing attention energies, free-running decoding with packed float32 / float16 / int8 weights, and the
fallback of each private torch op to plain torch ops."""

import dataclasses
import re
import warnings

import pytest
import torch

import fused_decoder
import hparams as hparams_module
from fused_decoder import _CollectWeightGrad, _LocationEnergies, _LSTMStep, _StepWeight
from model import Tacotron2
from test_model import T_OUT, make_batch, one_thread  # noqa: F401 (autouse fixture: one thread here too)


@pytest.fixture(autouse=True)
def restore_probes(monkeypatch):
    """Whatever a test does to a probe (forcing it off, or making its op fail), the next test sees it as
    before."""
    for probe in fused_decoder._PROBES.values():
        monkeypatch.setattr(probe, "works", probe.works)


def variant(model, hparams, **changes):
    """`model`'s weights and decoder knobs in a model built from other hparams (fused_decoder, the CPU
    format)."""
    other = Tacotron2(dataclasses.replace(hparams, **changes)).to(next(model.parameters()).dtype)
    other.load_state_dict(model.state_dict())
    other.decoder.gate_threshold = model.decoder.gate_threshold
    other.decoder.max_decoder_steps = model.decoder.max_decoder_steps
    return other.train(model.training)


def outputs_and_grads(model, batch, seed=5):
    """Training-mode forward (dropout on, same draws for both paths), a loss touching every output,
    backward."""
    text, text_lengths, mels, _, mel_lengths = batch
    model.zero_grad()
    torch.manual_seed(seed)
    outputs = model(text, text_lengths, mels.to(next(model.parameters()).dtype), mel_lengths)
    weights = [torch.linspace(-1, 1, o.numel(), dtype=o.dtype).view_as(o) for o in outputs]
    sum((o * w).sum() for o, w in zip(outputs, weights)).backward()
    return [o.detach() for o in outputs], {n: p.grad.clone() for n, p in model.named_parameters()}


@pytest.mark.parametrize("r", [1, 2])
def test_fused_teacher_forcing_equals_the_step_loop_in_float64(tiny_hparams, r):
    hparams = dataclasses.replace(tiny_hparams, n_frames_per_step=r)
    model = Tacotron2(hparams).double().train()
    batch = make_batch()
    slow_outputs, slow_grads = outputs_and_grads(variant(model, hparams, fused_decoder=False), batch)
    fast_outputs, fast_grads = outputs_and_grads(model, batch)
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
    slow_outputs, slow_grads = outputs_and_grads(variant(model, hparams, fused_decoder=False), batch)
    fast_outputs, fast_grads = outputs_and_grads(model, batch)
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


def decode(model, text, text_lengths, seed=3):
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
        slow = decode(variant(model, hparams, fused_decoder=False), text, text_lengths)
        fast = decode(variant(model, hparams, cpu_inference_weights=weights), text, text_lengths)
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
    plain = variant(model, tiny_hparams, fused_decoder=False)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "reached max_decoder_steps" for the ones that never stop
        for bias in torch.linspace(-8.0, 0.0, 81):  # a gate bias at which the utterances stop apart
            gate.bias.fill_(bias)
            plain.load_state_dict(model.state_dict())
            slow = decode(plain, text, text_lengths)
            if len(set(slow[4].tolist())) > 1:
                break
        fast = decode(variant(model, tiny_hparams, cpu_inference_weights="float32"), text, text_lengths)
    assert len(set(slow[4].tolist())) > 1, slow[4]  # the utterances stop at different steps
    assert fast[4].tolist() == slow[4].tolist()
    torch.testing.assert_close(fast[1], slow[1], rtol=1e-4, atol=1e-5)


def test_packed_inference_weights_follow_parameter_updates(tiny_hparams):
    """The packs are cached; an optimizer step (in place) or load_state_dict must not leave them stale."""
    model = Tacotron2(dataclasses.replace(tiny_hparams, cpu_inference_weights="float32")).eval()
    model.decoder.gate_threshold = float("inf")
    text, text_lengths = torch.randint(1, 148, (1, 9)), torch.tensor([9])
    with torch.no_grad():
        before = decode(model, text, text_lengths)[1]
        assert model.inference_weights.packed is not None
        for p in model.decoder.parameters():
            p.mul_(1.1)
        after = decode(model, text, text_lengths)[1]
        expected = decode(variant(model, tiny_hparams, fused_decoder=False), text, text_lengths)[1]
    assert not torch.allclose(after, before)
    torch.testing.assert_close(after, expected, rtol=1e-4, atol=1e-5)


def test_unknown_cpu_inference_weights_are_refused(tiny_hparams):
    with pytest.raises(ValueError, match="cpu_inference_weights='int4'"):
        dataclasses.replace(tiny_hparams, cpu_inference_weights="int4")
    unchecked = dataclasses.replace(tiny_hparams)
    unchecked.cpu_inference_weights = "bfloat16"  # past HParams' own check, to test the model's
    model = Tacotron2(unchecked).eval()
    with torch.no_grad(), pytest.raises(ValueError, match="cpu_inference_weights='bfloat16'"):
        model.inference(torch.randint(1, 148, (1, 5)))


def test_bfloat16_autocast_fused_training_tracks_the_step_loop(tiny_hparams):
    models = {True: Tacotron2(tiny_hparams).train()}
    models[False] = variant(models[True], tiny_hparams, fused_decoder=False)
    text, text_lengths, mels, _, mel_lengths = make_batch()
    grads = {}
    for fused in (False, True):
        model = models[fused]
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
    real_pack = fused_decoder._fbgemm_pack

    def pack(weight, bias, weights):
        if weights == "int8":
            raise RuntimeError("no quantized tensors in this build")
        return real_pack(weight, bias, weights)

    monkeypatch.setattr(fused_decoder, "_fbgemm_pack", pack)
    model = Tacotron2(tiny_hparams).eval()
    with torch.no_grad(), pytest.warns(UserWarning, match="int8 decoder weights unavailable"):
        packed = model.inference_weights.get(model.decoder, 1)
    assert {p.kind for p in packed.attention_lstm + packed.decoder_lstm} == {"float16"}


def infer_fixed_steps(model, text, text_lengths, steps=12):
    """Decode exactly `steps` steps as ../shared/bench/ours_adapter.py does: an infinite gate threshold."""
    model.decoder.gate_threshold, model.decoder.max_decoder_steps = float("inf"), steps
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the step limit is the point
        return decode(model, text, text_lengths)


# per probe: the CPU weight format decoded, and the packs' kind at batch 4 with the op and with it
# reported off
PROBE_CASES = {"onednn": ("float32", "onednn", "plain"), "float16": ("float16", "float16", "onednn"),
               "int8": ("int8", "int8", "float16"), "version_counters": ("int8", "int8", "int8")}


@pytest.mark.parametrize("probe", list(PROBE_CASES))
def test_each_private_op_reported_unavailable_falls_back_to_the_same_results(probe, monkeypatch):
    """A torch build without one of the private ops fused_decoder uses must still run, only slower: with its
    probe forced off, every path gives what it gives with the op (or, for a CPU weight format, what the
    next format gives: int8 -> float16 -> float32, whose products are plain torch ops)."""
    hparams = hparams_module.create_hparams(
        "symbols_embedding_dim=64,encoder_embedding_dim=64,postnet_embedding_dim=32,postnet_n_convolutions=2")
    torch.manual_seed(0)
    model = Tacotron2(hparams).eval()
    weights, kind_with_op, kind_without = PROBE_CASES[probe]
    text, text_lengths = torch.randint(1, 148, (4, 11)), torch.tensor([11, 9, 8, 6])  # batch 4: oneDNN packs

    def run(weights):
        inference = variant(model, hparams, cpu_inference_weights=weights)
        decoded = [infer_fixed_steps(inference, text[:n], text_lengths[:n]) for n in (1, 4)]
        packed = inference.inference_weights.get(inference.decoder, 4)
        return decoded, {p.kind for p in packed.attention_lstm + packed.decoder_lstm}

    with_op, kinds = run(weights)
    trained = outputs_and_grads(variant(model, hparams).train(), make_batch()) if probe == "onednn" else None
    monkeypatch.setattr(fused_decoder._PROBES[probe], "works", False)
    without, kinds_without = run(weights)
    assert kinds == {kind_with_op} and kinds_without == {kind_without}
    expected = with_op if kind_with_op == kind_without or probe == "onednn" else run(
        {"float16": "float32", "int8": "float16"}[probe])[0]
    for expected_outputs, outputs in zip(expected, without):
        for e, o in zip(expected_outputs, outputs):
            torch.testing.assert_close(o, e, rtol=1e-5, atol=1e-5)
    if probe == "onednn":  # teacher forcing: the LSTM steps' products through oneDNN or plain matmuls
        (outputs, grads), (outputs_without, grads_without) = trained, outputs_and_grads(
            variant(model, hparams).train(), make_batch())
        assert not _StepWeight(model.decoder.decoder_rnn.weight_hh.detach(), 3).onednn
        for e, o in zip(outputs, outputs_without):
            torch.testing.assert_close(o, e, rtol=1e-5, atol=1e-5)
        scale = max(grad.norm() for grad in grads.values())  # a few are ~0 (a conv bias before batch norm)
        for name, grad in grads.items():
            assert (grads_without[name] - grad).norm() <= 1e-5 * scale, name
    if probe == "version_counters":  # no cache then: packed afresh at every call, so never stale
        cache = fused_decoder.InferenceWeightCache("int8")
        assert cache.get(model.decoder, 1) is not cache.get(model.decoder, 1)


def test_fused_inference_honours_the_reference_knobs_set_after_construction(tiny_hparams):
    """`model.decoder.gate_threshold` and `max_decoder_steps` as NVIDIA/tacotron2 users (and the benchmark
    harness, with an infinite threshold) set them: both paths read them at each call."""
    torch.manual_seed(0)
    model = Tacotron2(tiny_hparams).eval()
    torch.nn.init.constant_(model.decoder.gate_layer.linear_layer.bias, 100.0)  # the gate fires at once
    plain = variant(model, tiny_hparams, fused_decoder=False)
    text = torch.randint(1, 148, (2, 9))
    for decoder_model in (model, plain):
        assert decode(decoder_model, text, None)[4].tolist() == [1, 1]
        assert infer_fixed_steps(decoder_model, text, None, steps=7)[1].shape == (2, 80, 7)
        decoder_model.decoder.gate_threshold = 0.5
        assert decode(decoder_model, text, None)[4].tolist() == [1, 1]


PRIVATE_TORCH = re.compile(r"torch\.ops\.|torch\._[A-Za-z]|\._version\b|quantize_per_"
                           r"|torch\.backends\.quantized|torch\.ao\b|torch\.quantization|fbgemm|mkldnn"
                           r"|linear_prepack|linear_dynamic")


def test_private_torch_ops_appear_in_fused_decoder_only(repo_root):
    offenders = []
    for path in sorted(repo_root.rglob("*.py")):
        relative = path.relative_to(repo_root)
        if relative.parts[0] == "tests" or relative.name == "fused_decoder.py" or any(
                part.startswith(".") for part in relative.parts):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if PRIVATE_TORCH.search(line):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert not offenders, "private torch ops outside fused_decoder.py:\n" + "\n".join(offenders)
    assert PRIVATE_TORCH.search((repo_root / "fused_decoder.py").read_text())  # the pattern does match
