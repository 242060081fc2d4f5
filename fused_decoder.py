"""The decoder's fast paths: `teacher_forced` and `free_running` give the same values, gradients and dropout
draws as `Decoder.forward` / `Decoder.inference` (model.py), held by tests/test_fast_paths.py; only faster,
and with less memory in training. `InferenceWeightCache` keeps the LSTM weights packed for free running.

This is the only module that touches private or deprecated torch ops (oneDNN's packed linear, fbgemm's
float16 and int8 kernels, tensor version counters). Each sits behind one _Probe, checked on first use,
with a fallback to plain torch ops: a torch release that drops one costs speed, never a crash.
"""

import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

if TYPE_CHECKING:
    from model import Attention, Decoder, DecoderStep

CPU_INFERENCE_WEIGHTS = ("float32", "float16", "int8")
# what a private op that is missing, renamed or re-typed in some torch release raises
_OP_ERRORS = (AttributeError, RuntimeError, TypeError, ValueError)


class _Probe:
    """Whether one private torch feature works in this build: `check` runs on first use and the answer is
    kept; a failure then or in later use turns the feature off, with one warning. Off, callers take their
    fallback to plain torch ops."""

    def __init__(self, name: str, check: Callable[[], bool]):
        self.name, self.check, self.works = name, check, None

    def __bool__(self) -> bool:
        if self.works is None:
            # plain float32 maths whatever the caller's mode (autocast, inference_mode: no version counters)
            with torch.inference_mode(False), torch.no_grad(), torch.autocast("cpu", enabled=False):
                try:
                    self.works = bool(self.check())
                except _OP_ERRORS as error:
                    self.fail(error)
        return self.works

    def fail(self, error: Exception) -> None:
        self.works = False
        warnings.warn(f"{self.name} unavailable here ({error}); falling back to a slower path", stacklevel=3)


# oneDNN's linear with the weight reordered once for the batch size (torch.ops.mkldnn, private)
def _onednn_linear(x: Tensor, packed: Tensor, bias: Tensor | None) -> Tensor:
    return torch.ops.mkldnn._linear_pointwise(x, packed, bias, "none", [], "")


# fbgemm's dynamically quantized linear: float16 or int8 weights, float32 activations in and out
def _fbgemm_pack(weight: Tensor, bias: Tensor | None, weights: str):
    if weights == "float16":
        return torch.ops.quantized.linear_prepack_fp16(weight, bias)
    low, high = torch.aminmax(weight, dim=1)  # no full-size temporary, unlike weight.abs()
    scales = (torch.maximum(-low, high) / 127.0).clamp_min(1e-12).double()  # symmetric, one scale per row
    zero_points = torch.zeros(weight.size(0), dtype=torch.long)
    with warnings.catch_warnings():  # torch 2.13 marks quantized tensors deprecated; the kernels are current
        warnings.simplefilter("ignore")
        qweight = torch.quantize_per_channel(weight, scales, zero_points, 0, torch.qint8)
        return torch.ops.quantized.linear_prepack(qweight, bias)


def _fbgemm_linear(x: Tensor, packed, weights: str) -> Tensor:
    if weights == "float16":
        return torch.ops.quantized.linear_dynamic_fp16(x, packed)
    # int8: activations quantized per utterance (row), so that an utterance decodes the same alone or in
    # any batch; reduce_range as fbgemm wants
    if x.size(0) == 1:
        return torch.ops.quantized.linear_dynamic(x, packed, True)
    return torch.cat([torch.ops.quantized.linear_dynamic(row, packed, True) for row in x.split(1)])


def _computes_linear(product: Callable[[Tensor, Tensor, Tensor], Tensor], tolerance: float) -> bool:
    """Whether product(x (4, 8), weight (16, 8), bias) is F.linear's within `tolerance` of the largest output;
    drawn from a generator of its own, so that the global random state (the dropout draws) is untouched."""
    generator = torch.Generator().manual_seed(0)
    x, weight, bias = (torch.randn(shape, generator=generator) for shape in ((4, 8), (16, 8), (16,)))
    expected = F.linear(x, weight, bias)
    return bool((product(x, weight, bias) - expected).abs().max() <= tolerance * expected.abs().max())


def _check_onednn() -> bool:
    def product(x, weight, bias):
        return _onednn_linear(x, torch.ops.mkldnn._reorder_linear_weight(weight, x.size(0)), bias)

    return torch.backends.mkldnn.is_available() and _computes_linear(product, 1e-5)


def _check_fbgemm(weights: str) -> bool:
    engines = torch.backends.quantized.supported_engines
    return ("fbgemm" in engines or "x86" in engines) and _computes_linear(
        lambda x, weight, bias: _fbgemm_linear(x, _fbgemm_pack(weight, bias, weights), weights),
        1e-2 if weights == "float16" else 0.1)


def _check_version_counters() -> bool:
    tensor = torch.zeros(1)
    before = tensor._version
    tensor.add_(1.0)
    return tensor._version == before + 1


_PROBES = {
    "onednn": _Probe("oneDNN packed linear", _check_onednn),
    "float16": _Probe("float16 decoder weights", lambda: _check_fbgemm("float16")),
    "int8": _Probe("int8 decoder weights", lambda: _check_fbgemm("int8")),
    # the packs' cache notices in-place parameter updates by these; without them it packs at every call
    "version_counters": _Probe("parameter version counters", _check_version_counters),
}


def _onednn_pack(weight: Tensor, batch_size: int) -> Tensor | None:
    """weight (N, K) reordered by oneDNN for x (batch_size, K) @ weight^T, or None where that does not apply
    (not float32 CPU, or oneDNN's private ops missing in this torch build)."""
    if weight.device.type != "cpu" or weight.dtype != torch.float32 or not _PROBES["onednn"]:
        return None
    try:
        return torch.ops.mkldnn._reorder_linear_weight(weight, batch_size)
    except _OP_ERRORS as error:
        _PROBES["onednn"].fail(error)
        return None


def _lstm_cell(gates: Tensor, c: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """The LSTM cell's pointwise part: gates (B, 4H) pre-activations (overwritten), c (B, H) ->
    h, c', activations (B, 4H) (sigmoid i, f; tanh g; sigmoid o) and tanh(c')."""
    H = c.size(1)
    gates[:, : 2 * H].sigmoid_()
    gates[:, 2 * H : 3 * H].tanh_()
    gates[:, 3 * H :].sigmoid_()
    i, f, g, o = gates.chunk(4, dim=1)
    c_new = torch.addcmul(f * c, i, g)
    tanh_c = torch.tanh(c_new)
    return o * tanh_c, c_new, gates, tanh_c


class _StepWeight:
    """A decoder LSTM's weight W (4H, K) on [input, hidden], used at every step of one teacher-forced pass:
    x W^T in the forward, d W in the backward and, after the loop, W's gradient.

    The products run through oneDNN with W pre-packed for the batch size on float32 CPU (1.4 to 1.6 times
    the plain skinny matmul on a 2-core AMD EPYC at batch 8), else through plain matmuls. The weight
    gradient is not one skinny product per step as autograd would make it: the steps' (input, gate
    gradient) rows are kept and folded in by large products of `chunk_rows` rows (the way cuDNN treats a
    whole sequence), which also bounds the memory they take."""

    def __init__(self, weight: Tensor, batch_size: int, chunk_rows: int = 512):
        self.weight, self.batch_size, self.chunk_rows = weight, batch_size, chunk_rows
        self.packed = _onednn_pack(weight, batch_size)
        self.onednn = self.packed is not None
        self.packed_t: Tensor | None = None
        self.inputs: list[Tensor] = []
        self.gate_grads: list[Tensor] = []
        self.rows = 0
        self.grad: Tensor | None = None

    def forward_mm(self, x: Tensor, pre: Tensor) -> Tensor:
        """pre + x W^T; pre (B, 4H) or (4H,)."""
        if self.packed is None:
            return torch.addmm(pre, x, self.weight.t())
        if pre.dim() == 1:
            return _onednn_linear(x, self.packed, pre)
        return _onednn_linear(x, self.packed, None).add_(pre)

    def backward_mm(self, d_gates: Tensor) -> Tensor:
        """d_gates W: the input's gradient."""
        if self.onednn and self.packed_t is None:  # packed on first use: backward only
            self.packed_t = _onednn_pack(self.weight.t().contiguous(), self.batch_size)
        if self.packed_t is None:
            return d_gates @ self.weight
        return _onednn_linear(d_gates, self.packed_t, None)

    def add_rows(self, x: Tensor, d_gates: Tensor) -> None:
        self.inputs.append(x)
        self.gate_grads.append(d_gates)
        self.rows += x.size(0)
        if self.rows >= self.chunk_rows:
            self._fold()

    def _fold(self) -> None:
        if not self.inputs:
            return
        d_gates, x = torch.cat(self.gate_grads), torch.cat(self.inputs)  # (rows, 4H), (rows, K)
        if self.grad is None:  # summed in float32 also under autocast; rounded once, in take_grad
            self.grad = (d_gates.t() @ x).to(torch.promote_types(d_gates.dtype, torch.float32))
        elif self.grad.dtype == d_gates.dtype:
            self.grad.addmm_(d_gates.t(), x)
        else:
            self.grad += d_gates.t() @ x
        self.inputs, self.gate_grads, self.rows = [], [], 0

    def take_grad(self) -> Tensor:
        """The summed gradient (4H, K) of all rows since the last call (zeros if none); frees the packs."""
        self._fold()
        grad, self.grad, self.packed, self.packed_t = self.grad, None, None, None
        return torch.zeros_like(self.weight) if grad is None else grad.to(self.weight.dtype)


class _CollectWeightGrad(torch.autograd.Function):
    """weight -> a scalar token that every fused step takes as an input. Autograd runs this node's backward
    only after all of the steps' backwards (they all feed it), so it can hand the weight its whole
    gradient."""

    @staticmethod
    def forward(ctx, weight: Tensor, step_weight: _StepWeight) -> Tensor:
        ctx.step_weight = step_weight
        return weight.new_zeros(())

    @staticmethod
    def backward(ctx, _token_grad: Tensor):
        return ctx.step_weight.take_grad(), None


class _LSTMStep(torch.autograd.Function):
    """One nn.LSTMCell step on a concatenated input: gates = pre + x W^T (gate order i, f, g, o as in torch),
    c' = f c + i g, h = o tanh(c'). Backward returns the gradients of x, c and pre; W's gradient is deferred
    to _CollectWeightGrad through `step_weight`, whose token is an input only to order the backwards."""

    @staticmethod
    def forward(ctx, x: Tensor, c: Tensor, pre: Tensor, token: Tensor,
                step_weight: _StepWeight) -> tuple[Tensor, Tensor]:
        h, c_new, act, tanh_c = _lstm_cell(step_weight.forward_mm(x, pre), c)
        ctx.save_for_backward(x, c, act, tanh_c)
        ctx.step_weight, ctx.pre_is_bias = step_weight, pre.dim() == 1
        return h, c_new

    @staticmethod
    def backward(ctx, d_h: Tensor, d_c_new: Tensor):
        x, c, act, tanh_c = ctx.saved_tensors
        i, f, g, o = act.chunk(4, dim=1)
        d_c = torch.addcmul(d_c_new, d_h * o, 1.0 - tanh_c * tanh_c)  # through h = o tanh(c')
        d_gates = torch.cat((d_c * g * i * (1.0 - i),  # sigmoid' = s (1 - s), tanh' = 1 - t^2
                             d_c * c * f * (1.0 - f),
                             d_c * i * (1.0 - g * g),
                             d_h * tanh_c * o * (1.0 - o)), dim=1)
        ctx.step_weight.add_rows(x, d_gates)
        d_x = ctx.step_weight.backward_mm(d_gates) if ctx.needs_input_grad[0] else None
        d_pre = d_gates.sum(0) if ctx.pre_is_bias else d_gates
        return d_x, d_c * f, d_pre, d_gates.new_zeros(()), None


def _location_weight(attention: "Attention") -> Tensor:
    """The location conv and its projection as one (attention_dim, 2 * kernel_size) matrix on the unfolded
    windows of _location_windows: both are linear and bias-free, so their product is the same map."""
    location = attention.location_layer
    return location.location_dense.linear_layer.weight @ location.location_conv.conv.weight.flatten(1)


def _location_windows(attention_weights_cat: Tensor, kernel_size: int) -> Tensor:
    """(B, 2, T_in) -> (B, T_in, 2 * kernel_size): the zero-padded windows a 'same' conv1d reads. At this
    size (2 channels, once per step) conv1d's per-call set-up costs more on CPU than the arithmetic."""
    B, _, T_in = attention_weights_cat.shape
    padding = (kernel_size - 1) // 2
    windows = F.pad(attention_weights_cat, (padding, padding)).unfold(2, kernel_size, 1)  # (B, 2, T_in, k)
    return windows.transpose(1, 2).reshape(B, T_in, 2 * kernel_size)


def _location_hidden(processed_query: Tensor, windows: Tensor, processed_memory: Tensor,
                     location_weight: Tensor) -> Tensor:
    """tanh(query + windows W_loc^T + memory): query (B, A), windows (B, T_in, 2 * k), memory (B, T_in, A),
    W_loc (A, 2 * k) -> (B, T_in, A)."""
    location = location_weight.t().expand(windows.size(0), -1, -1)  # (B, 2 * k, A)
    return torch.baddbmm(processed_memory, windows, location).add_(processed_query.unsqueeze(1)).tanh_()


class _LocationEnergies(torch.autograd.Function):
    """e = tanh(query + windows(weights_cat) W_loc^T + memory) v, the location-sensitive energies of one step,
    keeping only the small inputs for backward: the (B, T_in, attention_dim) intermediates, most of a
    step's activations with autograd, are recomputed there (about 1 ms per step at batch 8).
    processed_query (B, A), attention_weights_cat (B, 2, T_in), processed_memory (B, T_in, A),
    location_weight (A, 2 * k), v (A,) -> energies (B, T_in)."""

    @staticmethod
    def forward(ctx, processed_query, attention_weights_cat, processed_memory, location_weight, v):
        windows = _location_windows(attention_weights_cat, location_weight.size(1) // 2)
        hidden = _location_hidden(processed_query, windows, processed_memory, location_weight)
        ctx.save_for_backward(processed_query, attention_weights_cat, processed_memory, location_weight, v)
        return hidden @ v

    @staticmethod
    def backward(ctx, d_energies):
        processed_query, attention_weights_cat, processed_memory, location_weight, v = ctx.saved_tensors
        T_in = attention_weights_cat.size(2)
        kernel_size = location_weight.size(1) // 2
        windows = _location_windows(attention_weights_cat, kernel_size)
        hidden = _location_hidden(processed_query, windows, processed_memory, location_weight)
        d_v = (d_energies.reshape(1, -1) @ hidden.reshape(-1, hidden.size(2))).view(-1)
        d_sum = (d_energies.unsqueeze(2) * v) * (1.0 - hidden * hidden)  # (B, T_in, A)
        d_location_weight = d_sum.reshape(-1, d_sum.size(2)).t() @ windows.reshape(-1, windows.size(2))
        d_windows = d_sum @ location_weight  # (B, T_in, 2 * k) -> back onto the padded input: fold
        d_padded = F.fold(d_windows.transpose(1, 2), output_size=(1, T_in + kernel_size - 1),
                          kernel_size=(1, kernel_size))  # (B, 2, 1, T_in + 2 * padding)
        padding = (kernel_size - 1) // 2
        d_weights_cat = d_padded[:, :, 0, padding : padding + T_in]
        return d_sum.sum(1), d_weights_cat, d_sum, d_location_weight, d_v


def teacher_forced(decoder: "Decoder", memory: Tensor, mels: Tensor, memory_lengths: Tensor):
    """`decoder(memory, mels, memory_lengths)` (Decoder.forward) rearranged for speed: the prenet's share of
    the attention LSTM's input projection, the mel projection and the gate run once for all steps; each LSTM
    is one matrix product per step on [input, hidden] with a hand-written backward whose weight gradient is
    one large product after the loop (_LSTMStep); the attention energies recompute their intermediates in
    backward (_LocationEnergies). memory (B, T_in, C), mels (B, n_mels, T_out), memory_lengths (B,)
    -> mels (B, n_mels, T_out), gate logits (B, S), alignments (B, S, T_in)."""
    frames = decoder.prenet_frames(mels)  # (S, B, prenet_dim): the same dropout draws as Decoder.forward
    processed_memory, mask = decoder.attention_memory(memory, memory_lengths)
    att, dec, attention = decoder.attention_rnn, decoder.decoder_rnn, decoder.attention_layer
    prenet_dim = frames.size(2)
    device_type = memory.device.type
    dtype = (torch.get_autocast_dtype(device_type) if torch.is_autocast_enabled(device_type)
             else att.weight_hh.dtype)
    # columns: attention LSTM [context, hidden] (its prenet columns go to `att_pre`), decoder LSTM
    # [attention hidden, context, hidden], as in Decoder.step's cat + LSTMCell
    att_weight = torch.cat((att.weight_ih[:, prenet_dim:], att.weight_hh), dim=1).to(dtype)
    dec_weight = torch.cat((dec.weight_ih, dec.weight_hh), dim=1).to(dtype)
    att_pre = F.linear(frames.to(dtype), att.weight_ih[:, :prenet_dim].to(dtype),
                       (att.bias_ih + att.bias_hh).to(dtype))  # (S, B, 4 * attention_rnn_dim)
    dec_bias = (dec.bias_ih + dec.bias_hh).to(dtype)
    B = memory.size(0)
    record = torch.is_grad_enabled() and att_weight.requires_grad and dec_weight.requires_grad
    att_step = _StepWeight(att_weight.detach(), B)
    dec_step = _StepWeight(dec_weight.detach(), B)
    att_token = _CollectWeightGrad.apply(att_weight, att_step) if record else None
    dec_token = _CollectWeightGrad.apply(dec_weight, dec_step) if record else None

    def lstm(x, c, pre, step_weight, token):
        if record:
            return _LSTMStep.apply(x, c, pre, token, step_weight)
        return _lstm_cell(step_weight.forward_mm(x, pre), c)[:2]

    location_weight = _location_weight(attention).to(dtype)
    state = decoder.initial_state(memory)
    att_h, att_c, dec_h, dec_c = (t.to(dtype) for t in state[:4])
    weights, weights_cum, context = state[4:]
    context = context.to(dtype)
    hidden_contexts, alignments = [], []
    for pre in att_pre.unbind(0):
        x = torch.cat((context, att_h), dim=1)
        att_h, att_c = lstm(x, att_c, pre, att_step, att_token)
        att_h = F.dropout(att_h, decoder.p_attention_dropout, decoder.training)
        weights_cat = torch.stack((weights, weights_cum), dim=1)
        # one dtype inside (autocast's, if on); the casts carry gradients
        energies = _LocationEnergies.apply(attention.query_layer(att_h).to(dtype), weights_cat.to(dtype),
                                           processed_memory.to(dtype), location_weight,
                                           attention.v.linear_layer.weight.view(-1).to(dtype))
        context, weights = attention.attend(energies, memory, mask)
        context = context.to(dtype)
        weights_cum = weights_cum + weights
        x = torch.cat((att_h, context, dec_h), dim=1)
        dec_h, dec_c = lstm(x, dec_c, dec_bias, dec_step, dec_token)
        dec_h = F.dropout(dec_h, decoder.p_decoder_dropout, decoder.training)
        hidden_contexts.append(torch.cat((dec_h, context), dim=1))
        alignments.append(weights)
    att_step.packed = dec_step.packed = None  # the forward packs; the backward makes its own
    hidden_context = torch.stack(hidden_contexts, dim=1)  # (B, S, decoder_rnn_dim + C)
    mel = decoder.linear_projection(hidden_context)  # (B, S, n_mels * r)
    mel = mel.view(mel.size(0), -1, decoder.n_mel_channels).transpose(1, 2)  # (B, n_mels, S * r)
    return mel, decoder.gate_layer(hidden_context).squeeze(2), torch.stack(alignments, dim=1)


class _PackedLinear:
    """x W^T + b for free-running decoding, W packed once for the batch. On a float32 CPU model, `weights`
    picks what the matrix-vector products read (they stream all of the LSTMs' ~70 MB every step, so the
    bytes per weight set the speed): "float32" (the parameters; oneDNN-packed for batches of 4 or more),
    "float16" (fbgemm, float32 activations and sums: half the bytes, ~1e-4 relative error) or "int8"
    (fbgemm dynamic quantization: symmetric per-row weight scales, activations quantized per utterance
    at each product: a quarter of the bytes, ~1% relative error per product). A format this torch build
    lacks falls back, with a warning, to the next (int8 -> float16 -> float32). Elsewhere (CUDA, other
    dtypes): plain products."""

    def __init__(self, weight: Tensor, bias: Tensor | None, weights: str, batch_size: int):
        self.weight, self.bias, self.kind, self.packed = weight, bias, "plain", None
        if weights == "plain" or weight.device.type != "cpu" or weight.dtype != torch.float32:
            return
        for fallback in {"int8": ("int8", "float16"), "float16": ("float16",)}.get(weights, ()):
            if _PROBES[fallback]:
                try:
                    self.packed, self.kind = _fbgemm_pack(weight, bias, fallback), fallback
                    return
                except _OP_ERRORS as error:  # gone from a later torch: the next format
                    _PROBES[fallback].fail(error)
        if batch_size >= 4:  # a oneDNN copy pays at a batch (1.5x); one utterance is bandwidth-bound anyway
            self.packed = _onednn_pack(weight, batch_size)
        self.kind = "plain" if self.packed is None else "onednn"

    def __call__(self, x: Tensor) -> Tensor:
        if self.kind in ("float16", "int8"):
            return _fbgemm_linear(x, self.packed, self.kind)
        if self.kind == "onednn":
            return _onednn_linear(x, self.packed, self.bias)
        return F.linear(x, self.weight, self.bias)


class InferenceWeights(NamedTuple):
    """The decoder's weights rearranged for free_running."""

    attention_lstm: tuple[_PackedLinear, _PackedLinear]  # [prenet output, context] (both biases), hidden
    decoder_lstm: tuple[_PackedLinear, _PackedLinear]  # [attention hidden, context] (both biases), hidden
    location_weight: Tensor  # (attention_dim, 2 * kernel_size): _location_weight
    v: Tensor  # (attention_dim,)
    projection: _PackedLinear  # [hidden, context] -> n_mels * r mel values and the gate logit


def _pack_inference_weights(decoder: "Decoder", cpu_weights: str, batch_size: int) -> InferenceWeights:
    """The decoder's weights for free_running, its LSTMs' in the CPU format `cpu_weights` (_PackedLinear)."""
    if cpu_weights not in CPU_INFERENCE_WEIGHTS:
        raise ValueError(f"cpu_inference_weights={cpu_weights!r}; expected one of {CPU_INFERENCE_WEIGHTS}")
    with torch.no_grad():
        att, dec = decoder.attention_rnn, decoder.decoder_rnn
        mel_layer, gate_layer = decoder.linear_projection.linear_layer, decoder.gate_layer.linear_layer
        projection = torch.cat((mel_layer.weight, gate_layer.weight))
        projection_bias = torch.cat((mel_layer.bias, gate_layer.bias))
        return InferenceWeights(
            # input and hidden weights packed apart, straight from the parameters: no concatenated copy
            (_PackedLinear(att.weight_ih, att.bias_ih + att.bias_hh, cpu_weights, batch_size),
             _PackedLinear(att.weight_hh, None, cpu_weights, batch_size)),
            (_PackedLinear(dec.weight_ih, dec.bias_ih + dec.bias_hh, cpu_weights, batch_size),
             _PackedLinear(dec.weight_hh, None, cpu_weights, batch_size)),
            _location_weight(decoder.attention_layer),
            decoder.attention_layer.v.linear_layer.weight.view(-1).clone(),
            _PackedLinear(projection, projection_bias, "plain", batch_size))  # small: packing costs more


class InferenceWeightCache:
    """_pack_inference_weights, made once and reused while the parameters stay the same: the key is their
    storage and in-place version counters, so an optimizer step or load_state_dict renews the packs."""

    def __init__(self, cpu_weights: str):
        self.cpu_weights = cpu_weights
        self.key: tuple | None = None
        self.packed: InferenceWeights | None = None

    def get(self, decoder: "Decoder", batch_size: int) -> InferenceWeights:
        key = None
        if _PROBES["version_counters"]:
            key = (batch_size, tuple((p.data_ptr(), p._version) for p in decoder.parameters()))
        if key is not None and key == self.key:
            return self.packed
        self.key = self.packed = None  # the old packs go before the new ones are made
        self.packed = _pack_inference_weights(decoder, self.cpu_weights, batch_size)
        self.key = key
        return self.packed


def free_running(decoder: "Decoder", memory: Tensor, memory_lengths: Tensor, weights: InferenceWeights):
    """`decoder.inference(memory, memory_lengths)` (Decoder.inference) without autograd, with the same
    dropout draws, on `weights` (InferenceWeightCache.get): packed input and hidden products for each LSTM,
    the location conv and its projection as one matrix, the mel projection and the gate as one product.
    Stops as Decoder.inference does, on decoder.gate_threshold and decoder.max_decoder_steps.
    -> mels (B, n_mels, S * r), gate logits (B, S), alignments (B, S, T_in), mel lengths (B,) (frames)."""
    return decoder.collect(free_running_steps(decoder, memory, memory_lengths, weights))


def free_running_steps(decoder: "Decoder", memory: Tensor, memory_lengths: Tensor,
                       weights: InferenceWeights) -> Iterator["DecoderStep"]:
    """`free_running` one step at a time, as Decoder.inference_steps: a generator of DecoderSteps."""
    from model import DecoderStep  # model.py imports this module: a cycle at import time otherwise

    B = memory.size(0)
    r, n_mels = decoder.n_frames_per_step, decoder.n_mel_channels
    processed_memory, mask = decoder.attention_memory(memory, memory_lengths)
    mask = None if bool(mask.all()) else mask
    att_h, att_c, dec_h, dec_c, attention_weights, weights_cum, context = decoder.initial_state(memory)
    frame = memory.new_zeros(B, n_mels)  # go frame
    done = torch.zeros(B, dtype=torch.bool, device=memory.device)
    kernel_size = weights.location_weight.size(1) // 2
    (att_ih, att_hh), (dec_ih, dec_hh) = weights.attention_lstm, weights.decoder_lstm
    attention = decoder.attention_layer
    for _ in range(decoder.max_decoder_steps):
        gates = att_ih(torch.cat((decoder.prenet(frame), context), dim=1)).add_(att_hh(att_h))
        att_h, att_c = _lstm_cell(gates, att_c)[:2]
        att_h = F.dropout(att_h, decoder.p_attention_dropout, decoder.training)
        windows = _location_windows(torch.stack((attention_weights, weights_cum), dim=1), kernel_size)
        hidden = _location_hidden(attention.query_layer(att_h), windows, processed_memory,
                                  weights.location_weight)
        context, attention_weights = attention.attend(hidden @ weights.v, memory, mask)
        weights_cum = weights_cum + attention_weights
        gates = dec_ih(torch.cat((att_h, context), dim=1)).add_(dec_hh(dec_h))
        dec_h, dec_c = _lstm_cell(gates, dec_c)[:2]
        dec_h = F.dropout(dec_h, decoder.p_decoder_dropout, decoder.training)
        output = weights.projection(torch.cat((dec_h, context), dim=1))  # (B, n_mels * r + 1)
        done = decoder.gate_stops(output[:, -1], done)
        yield DecoderStep(output[:, :-1], output[:, -1:], attention_weights, done)
        if bool(done.all()):
            return
        frame = output[:, n_mels * (r - 1) : n_mels * r]  # last of the r frames
