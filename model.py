"""Tacotron 2 (Shen et al. 2018, arXiv:1712.05884): model, loss and alignment metrics.

Shapes: B batch, T_in text symbols, T_out mel frames, n_mels mel channels (80), r frames per decoder
step (n_frames_per_step), S = T_out / r decoder steps, C channels of the layer at hand.
"""

import math
import warnings
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from layers import ConvNorm, LinearNorm, lengths_to_mask


class Prenet(nn.Module):
    """2 x (linear without bias, ReLU, dropout 0.5): the decoder's input bottleneck (paper §2.2)."""

    def __init__(self, in_dim: int, sizes: list[int], p_dropout: float = 0.5):
        super().__init__()
        in_sizes = [in_dim] + sizes[:-1]
        self.layers = nn.ModuleList(LinearNorm(i, o, bias=False) for i, o in zip(in_sizes, sizes))
        self.p_dropout = p_dropout  # an attribute, so tests can make the model deterministic

    def forward(self, x: Tensor) -> Tensor:
        """x: (..., in_dim) -> (..., sizes[-1])."""
        for linear in self.layers:
            # paper §2.2: dropout in the pre-net also at inference, for output variation
            x = F.dropout(F.relu(linear(x)), self.p_dropout, training=True)
        return x


class Postnet(nn.Module):
    """n x (conv, batch norm), tanh on all but the last, dropout 0.5; predicts a residual (paper §2.2)."""

    def __init__(self, n_mels: int, embedding_dim: int, kernel_size: int, n_convolutions: int):
        super().__init__()
        channels = [n_mels] + [embedding_dim] * (n_convolutions - 1) + [n_mels]
        gains = ["tanh"] * (n_convolutions - 1) + ["linear"]
        self.convolutions = nn.ModuleList(
            nn.Sequential(ConvNorm(c_in, c_out, kernel_size, w_init_gain=gain), nn.BatchNorm1d(c_out))
            for c_in, c_out, gain in zip(channels[:-1], channels[1:], gains)
        )

    def forward(self, x: Tensor, mask: Tensor | None = None) -> Tensor:
        """x: (B, n_mels, T_out), mask (B, T_out) True on real frames or None -> residual (B, n_mels, T_out).
        With a mask, padding is zeroed before every conv, as the convs' own zero padding is at an
        utterance's end when it runs alone, so the last real frames do not depend on the batch."""
        padding = None if mask is None else ~mask.unsqueeze(1)  # (B, 1, T_out)
        last = len(self.convolutions) - 1
        for i, conv in enumerate(self.convolutions):
            x = conv(x if padding is None else x.masked_fill(padding, 0.0))
            x = F.dropout(torch.tanh(x) if i < last else x, 0.5, self.training)
        return x


class Encoder(nn.Module):
    """n x (conv, batch norm, ReLU, dropout 0.5) then a bidirectional LSTM (paper §2.2)."""

    def __init__(self, n_convolutions: int, embedding_dim: int, kernel_size: int):
        super().__init__()
        self.convolutions = nn.ModuleList(
            nn.Sequential(ConvNorm(embedding_dim, embedding_dim, kernel_size, w_init_gain="relu"),
                          nn.BatchNorm1d(embedding_dim))
            for _ in range(n_convolutions)
        )
        self.lstm = nn.LSTM(embedding_dim, embedding_dim // 2, batch_first=True, bidirectional=True)

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        """x: (B, C, T_in) embedded symbols, lengths: (B,) -> (B, T_in, C); one path for train and inference.
        Padding is zeroed before every conv (as in Postnet): a batch encodes each text as it would alone."""
        padding = ~lengths_to_mask(lengths, x.size(2)).unsqueeze(1)  # (B, 1, T_in)
        for conv in self.convolutions:
            x = F.dropout(F.relu(conv(x.masked_fill(padding, 0.0))), 0.5, self.training)
        total_length = x.size(2)
        x = x.transpose(1, 2)  # (B, T_in, C)
        # packing keeps the backward LSTM from reading padding before an utterance's last symbol
        x = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        x, _ = self.lstm(x)
        x, _ = pad_packed_sequence(x, batch_first=True, total_length=total_length)
        return x


class LocationLayer(nn.Module):
    """Location features: conv over previous and cumulative attention weights, then a projection."""

    def __init__(self, n_filters: int, kernel_size: int, attention_dim: int):
        super().__init__()
        self.location_conv = ConvNorm(2, n_filters, kernel_size, bias=False)
        self.location_dense = LinearNorm(n_filters, attention_dim, bias=False, w_init_gain="tanh")

    def forward(self, attention_weights_cat: Tensor) -> Tensor:
        """attention_weights_cat: (B, 2, T_in) -> (B, T_in, attention_dim)."""
        # location_conv's weights as one matmul over unfolded windows: at this size (2 channels, once per
        # decoder step) conv1d's per-call set-up costs more on CPU than the arithmetic
        conv = self.location_conv.conv
        windows = _location_windows(attention_weights_cat, conv.kernel_size[0])  # (B, T_in, 2 * k)
        return self.location_dense(F.linear(windows, conv.weight.flatten(1)))  # (n_filters, 2 * k) weights


class Attention(nn.Module):
    """Location-sensitive attention (paper §2.2; Chorowski et al. 2015):
    e_j = v^T tanh(W query + V memory_j + U f_j), f = conv([previous, cumulative] weights)."""

    def __init__(self, attention_rnn_dim: int, embedding_dim: int, attention_dim: int,
                 attention_location_n_filters: int, attention_location_kernel_size: int):
        super().__init__()
        self.query_layer = LinearNorm(attention_rnn_dim, attention_dim, bias=False, w_init_gain="tanh")
        self.memory_layer = LinearNorm(embedding_dim, attention_dim, bias=False, w_init_gain="tanh")
        self.v = LinearNorm(attention_dim, 1, bias=False)
        self.location_layer = LocationLayer(attention_location_n_filters, attention_location_kernel_size,
                                            attention_dim)

    def location_weight(self) -> Tensor:
        """The location conv and its projection as one (attention_dim, 2 * kernel_size) matrix on the unfolded
        windows of LocationLayer: both are linear and bias-free, so their product is the same map."""
        location = self.location_layer
        return location.location_dense.linear_layer.weight @ location.location_conv.conv.weight.flatten(1)

    def energies(self, processed_query: Tensor, attention_weights_cat: Tensor, processed_memory: Tensor) -> Tensor:
        """processed_query (B, attention_dim), attention_weights_cat (B, 2, T_in), processed_memory
        (B, T_in, attention_dim) -> unmasked energies (B, T_in)."""
        processed_location = self.location_layer(attention_weights_cat)
        return self.v(torch.tanh(processed_query.unsqueeze(1) + processed_location + processed_memory)).squeeze(2)

    def forward(self, query: Tensor, memory: Tensor, processed_memory: Tensor,
                attention_weights_cat: Tensor, mask: Tensor | None,
                location_weight: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """query (B, attention_rnn_dim), memory (B, T_in, C), processed_memory (B, T_in, attention_dim),
        attention_weights_cat (B, 2, T_in), mask (B, T_in) True on real symbols or None
        -> context (B, C), attention weights (B, T_in). With `location_weight()`'s result passed in, the
        energies run through _LocationEnergies (same values and gradients, a fraction of the memory)."""
        processed_query = self.query_layer(query)
        if location_weight is None:
            energies = self.energies(processed_query, attention_weights_cat, processed_memory)
        else:
            dtype = location_weight.dtype  # one dtype inside (autocast's, if on); the casts carry gradients
            energies = _LocationEnergies.apply(processed_query.to(dtype), attention_weights_cat.to(dtype),
                                               processed_memory.to(dtype), location_weight,
                                               self.v.linear_layer.weight.view(-1).to(dtype))
        return self.attend(energies, memory, mask)

    @staticmethod
    def attend(energies: Tensor, memory: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
        """energies (B, T_in), memory (B, T_in, C), mask (B, T_in) or None -> context (B, C), weights (B, T_in)."""
        if mask is not None:  # finfo.min, not -inf: finite in float16/bfloat16 too, and no NaN from inf-inf
            energies = energies.masked_fill(~mask, torch.finfo(energies.dtype).min)
        weights = F.softmax(energies.float(), dim=1).to(energies.dtype)  # float32 softmax: AMP-safe
        context = torch.bmm(weights.unsqueeze(1), memory).squeeze(1)  # (B, C)
        return context, weights


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
            return torch.ops.mkldnn._linear_pointwise(x, self.packed, pre, "none", [], "")
        return torch.ops.mkldnn._linear_pointwise(x, self.packed, None, "none", [], "").add_(pre)

    def backward_mm(self, d_gates: Tensor) -> Tensor:
        """d_gates W: the input's gradient."""
        if self.onednn and self.packed_t is None:  # packed on first use: backward only
            self.packed_t = _onednn_pack(self.weight.t().contiguous(), self.batch_size)
        if self.packed_t is None:
            return d_gates @ self.weight
        return torch.ops.mkldnn._linear_pointwise(d_gates, self.packed_t, None, "none", [], "")

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


_onednn_works: bool | None = None  # None: not tried yet in this process


def _onednn_pack(weight: Tensor, batch_size: int) -> Tensor | None:
    """weight (N, K) reordered by oneDNN for x (batch_size, K) @ weight^T, or None where that does not apply
    (not float32 CPU, no oneDNN, or the private ops missing or failing in this torch build)."""
    global _onednn_works
    if (_onednn_works is False or weight.device.type != "cpu" or weight.dtype != torch.float32
            or not torch.backends.mkldnn.is_available()):
        return None
    try:
        packed = torch.ops.mkldnn._reorder_linear_weight(weight, batch_size)
        if _onednn_works is None:  # private ops: check the call and its result once
            probe = weight.new_ones(1, weight.size(1))
            result = torch.ops.mkldnn._linear_pointwise(probe, packed, None, "none", [], "")
            if not torch.allclose(result, probe @ weight.t(), rtol=1e-4,
                                  atol=1e-4 * float(weight.abs().sum(1).max())):
                raise RuntimeError("oneDNN linear disagrees with matmul")
            _onednn_works = True
        return packed
    except (AttributeError, RuntimeError, TypeError):
        _onednn_works = False
        return None


class _CollectWeightGrad(torch.autograd.Function):
    """weight -> a scalar token that every fused step takes as an input. Autograd runs this node's backward
    only after all of the steps' backwards (they all feed it), so it can hand the weight its whole gradient."""

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
        h, c_new, act, tanh_c = lstm_cell_forward(step_weight.forward_mm(x, pre), c)
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


def lstm_cell_forward(gates: Tensor, c: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
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



def _location_windows(attention_weights_cat: Tensor, kernel_size: int) -> Tensor:
    """(B, 2, T_in) -> (B, T_in, 2 * kernel_size): the zero-padded windows a 'same' conv1d reads."""
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
        B, _, T_in = attention_weights_cat.shape
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



CPU_INFERENCE_WEIGHTS = ("float32", "float16", "int8")


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
            if not _fbgemm_available():
                break
            try:
                self.packed, self.kind = _fbgemm_pack(weight, bias, fallback), fallback
                return
            except (AttributeError, RuntimeError) as error:  # an op gone from a later torch: the next format
                warnings.warn(f"{fallback} decoder weights unavailable here ({error})", stacklevel=3)
        if batch_size >= 4:  # a oneDNN copy pays at a batch (1.5x); one utterance is bandwidth-bound anyway
            self.packed = _onednn_pack(weight, batch_size)
        self.kind = "plain" if self.packed is None else "onednn"

    def __call__(self, x: Tensor) -> Tensor:
        if self.kind == "float16":
            return torch.ops.quantized.linear_dynamic_fp16(x, self.packed)
        if self.kind == "int8":  # activations quantized per utterance (row), so that an utterance decodes
            # the same alone or in any batch; reduce_range as fbgemm wants
            if x.size(0) == 1:
                return torch.ops.quantized.linear_dynamic(x, self.packed, True)
            return torch.cat([torch.ops.quantized.linear_dynamic(row, self.packed, True) for row in x.split(1)])
        if self.kind == "onednn":
            return torch.ops.mkldnn._linear_pointwise(x, self.packed, self.bias, "none", [], "")
        return F.linear(x, self.weight, self.bias)


def _fbgemm_available() -> bool:
    engines = torch.backends.quantized.supported_engines
    return "fbgemm" in engines or "x86" in engines


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


class _InferenceWeights(NamedTuple):
    """The decoder's weights rearranged for free-running decoding (Decoder._inference_fused)."""
    attention_lstm: tuple[_PackedLinear, _PackedLinear]  # [prenet output, context] (both biases), hidden
    decoder_lstm: tuple[_PackedLinear, _PackedLinear]  # [attention hidden, context] (both biases), hidden
    location_weight: Tensor  # (attention_dim, 2 * kernel_size): Attention.location_weight()
    v: Tensor  # (attention_dim,)
    projection: _PackedLinear  # [hidden, context] -> n_mels * r mel values and the gate logit


class DecoderState(NamedTuple):
    attention_hidden: Tensor  # (B, attention_rnn_dim)
    attention_cell: Tensor  # (B, attention_rnn_dim)
    decoder_hidden: Tensor  # (B, decoder_rnn_dim)
    decoder_cell: Tensor  # (B, decoder_rnn_dim)
    attention_weights: Tensor  # (B, T_in)
    attention_weights_cum: Tensor  # (B, T_in)
    attention_context: Tensor  # (B, encoder_embedding_dim)


class Decoder(nn.Module):
    """Autoregressive decoder (paper §2.2): prenet -> attention LSTM -> attention -> decoder LSTM ->
    r frames and one stop-token ("gate") logit per step.

    With r > 1 (Tacotron 1's reduction factor), the next step reads the LAST of the r frames just
    predicted, so the prenet takes n_mels inputs; at r = 1 this is the reference's n_mels * r = 80, so
    its checkpoint loads unchanged.
    """

    def __init__(self, n_mel_channels: int, n_frames_per_step: int, encoder_embedding_dim: int,
                 attention_dim: int, attention_rnn_dim: int, attention_location_n_filters: int,
                 attention_location_kernel_size: int, decoder_rnn_dim: int, prenet_dim: int,
                 max_decoder_steps: int, gate_threshold: float, p_attention_dropout: float,
                 p_decoder_dropout: float, cpu_inference_weights: str = "float32", p_prenet_dropout: float = 0.5):
        super().__init__()
        self.n_mel_channels = n_mel_channels
        self.n_frames_per_step = n_frames_per_step
        self.encoder_embedding_dim = encoder_embedding_dim
        self.attention_rnn_dim = attention_rnn_dim
        self.decoder_rnn_dim = decoder_rnn_dim
        self.max_decoder_steps = max_decoder_steps  # mutable: inference reads it at each call
        self.gate_threshold = gate_threshold  # float("inf") never stops: exactly max_decoder_steps steps
        self.p_attention_dropout = p_attention_dropout
        self.p_decoder_dropout = p_decoder_dropout

        self.prenet = Prenet(n_mel_channels, [prenet_dim, prenet_dim], p_prenet_dropout)
        self.attention_rnn = nn.LSTMCell(prenet_dim + encoder_embedding_dim, attention_rnn_dim)
        self.attention_layer = Attention(attention_rnn_dim, encoder_embedding_dim, attention_dim,
                                         attention_location_n_filters, attention_location_kernel_size)
        self.decoder_rnn = nn.LSTMCell(attention_rnn_dim + encoder_embedding_dim, decoder_rnn_dim, bias=True)
        self.linear_projection = LinearNorm(decoder_rnn_dim + encoder_embedding_dim,
                                            n_mel_channels * n_frames_per_step)
        self.gate_layer = LinearNorm(decoder_rnn_dim + encoder_embedding_dim, 1, w_init_gain="sigmoid")
        self.fused = True  # _teacher_forced_fused and _inference_fused; False: the loops over `step`
        self.cpu_inference_weights = cpu_inference_weights  # see _PackedLinear; mutable
        self._inference_weights: tuple | None = None  # (key, _InferenceWeights)

    def initial_state(self, memory: Tensor) -> DecoderState:
        """memory: (B, T_in, C) -> all-zero state of its device and dtype."""
        B, T_in, _ = memory.shape
        attention = memory.new_zeros(B, self.attention_rnn_dim)
        decoder = memory.new_zeros(B, self.decoder_rnn_dim)
        weights = memory.new_zeros(B, T_in)
        return DecoderState(attention, attention, decoder, decoder, weights, weights,
                            memory.new_zeros(B, self.encoder_embedding_dim))

    def step(self, frame: Tensor, state: DecoderState, memory: Tensor, processed_memory: Tensor,
             mask: Tensor | None) -> tuple[Tensor, Tensor, DecoderState]:
        """One decoder step: frame (B, prenet_dim) after the prenet -> mel (B, n_mels * r), gate (B, 1),
        new state. memory (B, T_in, C), processed_memory (B, T_in, attention_dim), mask (B, T_in) or None."""
        cell_input = torch.cat((frame, state.attention_context), dim=1)
        attention_hidden, attention_cell = self.attention_rnn(
            cell_input, (state.attention_hidden, state.attention_cell))
        attention_hidden = F.dropout(attention_hidden, self.p_attention_dropout, self.training)

        weights_cat = torch.stack((state.attention_weights, state.attention_weights_cum), dim=1)  # (B,2,T_in)
        context, weights = self.attention_layer(attention_hidden, memory, processed_memory, weights_cat, mask)

        decoder_input = torch.cat((attention_hidden, context), dim=1)
        decoder_hidden, decoder_cell = self.decoder_rnn(
            decoder_input, (state.decoder_hidden, state.decoder_cell))
        decoder_hidden = F.dropout(decoder_hidden, self.p_decoder_dropout, self.training)

        hidden_context = torch.cat((decoder_hidden, context), dim=1)  # (B, decoder_rnn_dim + C)
        new_state = DecoderState(attention_hidden, attention_cell, decoder_hidden, decoder_cell,
                                 weights, state.attention_weights_cum + weights, context)
        return self.linear_projection(hidden_context), self.gate_layer(hidden_context), new_state

    def _stack(self, mels: list[Tensor], gates: list[Tensor], alignments: list[Tensor]):
        """Per-step lists -> mels (B, n_mels, S * r), gates (B, S), alignments (B, S, T_in)."""
        mel = torch.stack(mels, dim=1)  # (B, S, n_mels * r)
        mel = mel.view(mel.size(0), -1, self.n_mel_channels).transpose(1, 2)  # (B, n_mels, S * r)
        return mel, torch.cat(gates, dim=1), torch.stack(alignments, dim=1)

    def forward(self, memory: Tensor, mels: Tensor, memory_lengths: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Teacher forcing. memory (B, T_in, C), mels (B, n_mels, T_out) with T_out a multiple of r,
        memory_lengths (B,) -> mels (B, n_mels, T_out), gate logits (B, S), alignments (B, S, T_in)."""
        B, _, T_out = mels.shape
        r = self.n_frames_per_step
        if T_out % r:
            raise ValueError(f"T_out={T_out} is not a multiple of n_frames_per_step={r}")
        # step s reads the go frame (zeros) for s = 0, else the last frame of group s - 1
        previous = mels[:, :, r - 1 : T_out - 1 : r]  # (B, n_mels, S - 1)
        frames = torch.cat((mels.new_zeros(B, self.n_mel_channels, 1), previous), dim=2).permute(2, 0, 1)
        frames = self.prenet(frames)  # (S, B, prenet_dim): all steps in one call, not one per step
        processed_memory = self.attention_layer.memory_layer(memory)  # once, not per step
        mask = lengths_to_mask(memory_lengths, memory.size(1))
        if self.fused:
            return self._teacher_forced_fused(frames, memory, processed_memory, mask)
        state = self.initial_state(memory)
        mel_outputs, gate_outputs, alignments = [], [], []
        for frame in frames:
            mel, gate, state = self.step(frame, state, memory, processed_memory, mask)
            mel_outputs.append(mel)
            gate_outputs.append(gate)
            alignments.append(state.attention_weights)
        return self._stack(mel_outputs, gate_outputs, alignments)

    def _teacher_forced_fused(self, frames: Tensor, memory: Tensor, processed_memory: Tensor, mask: Tensor):
        """The same computation as the loop over `step` (same values, gradients and dropout draws), rearranged
        for speed: the prenet's share of the attention LSTM's input projection, the mel projection and the
        gate run once for all steps; each LSTM is one matrix product per step on [input, hidden] with a
        hand-written backward whose weight gradient is one large product after the loop (_LSTMStep).
        frames (S, B, prenet_dim) after the prenet -> mels (B, n_mels, S * r), gates (B, S), alignments."""
        att, dec = self.attention_rnn, self.decoder_rnn
        prenet_dim = frames.size(2)
        device_type = memory.device.type
        dtype = (torch.get_autocast_dtype(device_type) if torch.is_autocast_enabled(device_type)
                 else att.weight_hh.dtype)
        # columns: attention LSTM [context, hidden] (its prenet columns go to `att_pre`), decoder LSTM
        # [attention hidden, context, hidden], as in the straightforward path's cat + LSTMCell
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
            return lstm_cell_forward(step_weight.forward_mm(x, pre), c)[:2]

        location_weight = self.attention_layer.location_weight().to(dtype)
        state = self.initial_state(memory)
        att_h, att_c, dec_h, dec_c = (t.to(dtype) for t in state[:4])
        weights, weights_cum, context = state[4:]
        context = context.to(dtype)
        hidden_contexts, alignments = [], []
        for pre in att_pre.unbind(0):
            x = torch.cat((context, att_h), dim=1)
            att_h, att_c = lstm(x, att_c, pre, att_step, att_token)
            att_h = F.dropout(att_h, self.p_attention_dropout, self.training)
            weights_cat = torch.stack((weights, weights_cum), dim=1)
            context, weights = self.attention_layer(att_h, memory, processed_memory, weights_cat, mask,
                                                    location_weight)
            context = context.to(dtype)
            weights_cum = weights_cum + weights
            x = torch.cat((att_h, context, dec_h), dim=1)
            dec_h, dec_c = lstm(x, dec_c, dec_bias, dec_step, dec_token)
            dec_h = F.dropout(dec_h, self.p_decoder_dropout, self.training)
            hidden_contexts.append(torch.cat((dec_h, context), dim=1))
            alignments.append(weights)
        att_step.packed = dec_step.packed = None  # the forward packs; the backward makes its own
        hidden_context = torch.stack(hidden_contexts, dim=1)  # (B, S, decoder_rnn_dim + C)
        mel = self.linear_projection(hidden_context)  # (B, S, n_mels * r)
        mel = mel.view(mel.size(0), -1, self.n_mel_channels).transpose(1, 2)  # (B, n_mels, S * r)
        return mel, self.gate_layer(hidden_context).squeeze(2), torch.stack(alignments, dim=1)

    def inference(self, memory: Tensor, memory_lengths: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Free running until each utterance's gate fires (sigmoid > gate_threshold) or max_decoder_steps.
        -> mels (B, n_mels, S * r), gate logits (B, S), alignments (B, S, T_in), mel lengths (B,) (frames)."""
        B = memory.size(0)
        mask = lengths_to_mask(memory_lengths, memory.size(1))
        mask = None if bool(mask.all()) else mask
        processed_memory = self.attention_layer.memory_layer(memory)
        if self.fused and not torch.is_grad_enabled():
            return self._inference_fused(memory, processed_memory, mask)
        state = self.initial_state(memory)
        frame = memory.new_zeros(B, self.n_mel_channels)  # go frame
        steps = torch.full((B,), self.max_decoder_steps, dtype=torch.long, device=memory.device)
        done = torch.zeros(B, dtype=torch.bool, device=memory.device)
        mel_outputs, gate_outputs, alignments = [], [], []
        for i in range(self.max_decoder_steps):
            mel, gate, state = self.step(self.prenet(frame), state, memory, processed_memory, mask)
            mel_outputs.append(mel)
            gate_outputs.append(gate)
            alignments.append(state.attention_weights)
            done, steps = self._stop(gate.squeeze(1), done, steps, i)
            if bool(done.all()):
                break
            frame = mel[:, -self.n_mel_channels :]  # last of the r frames
        self._warn_unstopped(done)
        return *self._stack(mel_outputs, gate_outputs, alignments), steps * self.n_frames_per_step


    def _stop(self, gate: Tensor, done: Tensor, steps: Tensor, i: int) -> tuple[Tensor, Tensor]:
        """After step i (0-based): gate logits (B,), done (B,) -> done, steps (B,) with the newly stopped
        utterances' step counts set to i + 1."""
        stopped = (torch.sigmoid(gate.float()) > self.gate_threshold) & ~done
        return done | stopped, steps.masked_fill(stopped, i + 1)

    def _warn_unstopped(self, done: Tensor, stacklevel: int = 3) -> None:
        """The step-limit warning, pointing at Tacotron2.inference's call."""
        if not bool(done.all()):
            warnings.warn(f"reached max_decoder_steps={self.max_decoder_steps} before {int((~done).sum())} "
                          f"of {done.numel()} utterances stopped", stacklevel=stacklevel)

    def inference_weights(self, batch_size: int) -> _InferenceWeights:
        """The packed weights for decoding, made once and reused while the parameters stay the same (a
        key of their storage and in-place version counters: an optimizer step or load_state_dict renews it)."""
        params = list(self.parameters())
        key = (self.cpu_inference_weights, batch_size, tuple((p.data_ptr(), p._version) for p in params))
        if self._inference_weights is not None and self._inference_weights[0] == key:
            return self._inference_weights[1]
        if self.cpu_inference_weights not in CPU_INFERENCE_WEIGHTS:
            raise ValueError(f"cpu_inference_weights={self.cpu_inference_weights!r}; expected one of "
                             f"{CPU_INFERENCE_WEIGHTS}")
        self._inference_weights = None  # the old packs go before the new ones are made
        with torch.no_grad():
            att, dec, weights = self.attention_rnn, self.decoder_rnn, self.cpu_inference_weights
            mel_layer, gate_layer = self.linear_projection.linear_layer, self.gate_layer.linear_layer
            projection = torch.cat((mel_layer.weight, gate_layer.weight))
            projection_bias = torch.cat((mel_layer.bias, gate_layer.bias))
            packed = _InferenceWeights(
                # input and hidden weights packed apart, straight from the parameters: no concatenated copy
                (_PackedLinear(att.weight_ih, att.bias_ih + att.bias_hh, weights, batch_size),
                 _PackedLinear(att.weight_hh, None, weights, batch_size)),
                (_PackedLinear(dec.weight_ih, dec.bias_ih + dec.bias_hh, weights, batch_size),
                 _PackedLinear(dec.weight_hh, None, weights, batch_size)),
                self.attention_layer.location_weight(),
                self.attention_layer.v.linear_layer.weight.view(-1).clone(),
                _PackedLinear(projection, projection_bias, "plain", batch_size))  # small: packing costs more
        self._inference_weights = (key, packed)
        return packed

    def _inference_fused(self, memory: Tensor, processed_memory: Tensor, mask: Tensor | None):
        """Decoder.inference without autograd, as the loop over `step` computes it (same dropout draws) but
        with the weights of inference_weights(): packed input and hidden products for each LSTM, the location
        conv and its projection as one matrix, the mel projection and the gate as one product."""
        B = memory.size(0)
        r, n_mels = self.n_frames_per_step, self.n_mel_channels
        packed = self.inference_weights(B)
        state = self.initial_state(memory)
        att_h, att_c, dec_h, dec_c, weights, weights_cum, context = state
        frame = memory.new_zeros(B, n_mels)  # go frame
        steps = torch.full((B,), self.max_decoder_steps, dtype=torch.long, device=memory.device)
        done = torch.zeros(B, dtype=torch.bool, device=memory.device)
        kernel_size = packed.location_weight.size(1) // 2
        (att_ih, att_hh), (dec_ih, dec_hh) = packed.attention_lstm, packed.decoder_lstm
        attention = self.attention_layer
        outputs, alignments = [], []
        for i in range(self.max_decoder_steps):
            gates = att_ih(torch.cat((self.prenet(frame), context), dim=1)).add_(att_hh(att_h))
            att_h, att_c = lstm_cell_forward(gates, att_c)[:2]
            att_h = F.dropout(att_h, self.p_attention_dropout, self.training)
            windows = _location_windows(torch.stack((weights, weights_cum), dim=1), kernel_size)
            hidden = _location_hidden(attention.query_layer(att_h), windows, processed_memory,
                                      packed.location_weight)
            context, weights = attention.attend(hidden @ packed.v, memory, mask)
            weights_cum = weights_cum + weights
            gates = dec_ih(torch.cat((att_h, context), dim=1)).add_(dec_hh(dec_h))
            dec_h, dec_c = lstm_cell_forward(gates, dec_c)[:2]
            dec_h = F.dropout(dec_h, self.p_decoder_dropout, self.training)
            output = packed.projection(torch.cat((dec_h, context), dim=1))  # (B, n_mels * r + 1)
            outputs.append(output)
            alignments.append(weights)
            if self.gate_threshold != float("inf"):  # inf: a fixed number of steps (benchmarks)
                done, steps = self._stop(output[:, -1], done, steps, i)
                if bool(done.all()):
                    break
            frame = output[:, n_mels * (r - 1) : n_mels * r]  # last of the r frames
        self._warn_unstopped(done, stacklevel=4)
        output = torch.stack(outputs, dim=1)  # (B, S, n_mels * r + 1)
        mel = output[:, :, :-1].reshape(B, -1, n_mels).transpose(1, 2)  # (B, n_mels, S * r)
        return mel, output[:, :, -1], torch.stack(alignments, dim=1), steps * r


class Tacotron2(nn.Module):
    """Embedding -> Encoder -> Decoder -> Postnet residual (paper Fig. 1)."""

    def __init__(self, hparams):
        super().__init__()
        if hparams.symbols_embedding_dim != hparams.encoder_embedding_dim:
            raise ValueError(f"symbols_embedding_dim={hparams.symbols_embedding_dim} must equal encoder_"
                             f"embedding_dim={hparams.encoder_embedding_dim}: the encoder convs read it")
        self.mask_padding = hparams.mask_padding
        self.n_mel_channels = hparams.n_mel_channels
        self.n_frames_per_step = hparams.n_frames_per_step
        self.embedding = nn.Embedding(hparams.n_symbols, hparams.symbols_embedding_dim)
        # Xavier-uniform bound for a (n_symbols, dim) matrix: sqrt(3) * sqrt(2 / (fan_in + fan_out))
        bound = math.sqrt(3.0) * math.sqrt(2.0 / (hparams.n_symbols + hparams.symbols_embedding_dim))
        nn.init.uniform_(self.embedding.weight, -bound, bound)
        self.encoder = Encoder(hparams.encoder_n_convolutions, hparams.encoder_embedding_dim,
                               hparams.encoder_kernel_size)
        self.decoder = Decoder(
            hparams.n_mel_channels, hparams.n_frames_per_step, hparams.encoder_embedding_dim,
            hparams.attention_dim, hparams.attention_rnn_dim, hparams.attention_location_n_filters,
            hparams.attention_location_kernel_size, hparams.decoder_rnn_dim, hparams.prenet_dim,
            hparams.max_decoder_steps, hparams.gate_threshold, hparams.p_attention_dropout,
            hparams.p_decoder_dropout, hparams.cpu_inference_weights, hparams.p_prenet_dropout)
        self.postnet = Postnet(hparams.n_mel_channels, hparams.postnet_embedding_dim,
                               hparams.postnet_kernel_size, hparams.postnet_n_convolutions)
        # The decoder and postnet work on standardised mels (mel - mean) / std, and the outputs are turned
        # back into log mels. Identity without statistics (the reference): then nothing changes, bit for
        # bit. Not in the state dict (which keeps the reference's layout): the hparams carry them.
        n_mels = hparams.n_mel_channels
        normalize = hparams.mel_normalization == "per_channel" and hparams.mel_mean
        self.register_buffer("mel_mean", torch.tensor(hparams.mel_mean if normalize else [0.0] * n_mels),
                             persistent=False)
        self.register_buffer("mel_std", torch.tensor(hparams.mel_std if normalize else [1.0] * n_mels),
                             persistent=False)

    def normalize(self, mels: Tensor) -> Tensor:
        """Log mels (B, n_mels, T) -> the decoder's standardised space."""
        return (mels - self.mel_mean.unsqueeze(1).to(mels.dtype)) / self.mel_std.unsqueeze(1).to(mels.dtype)

    def denormalize(self, mels: Tensor) -> Tensor:
        """The decoder's standardised space (B, n_mels, T) -> log mels."""
        # in the dtype the model ran in (bfloat16 / float16 under autocast), as the reference's outputs are
        return mels * self.mel_std.unsqueeze(1).to(mels.dtype) + self.mel_mean.unsqueeze(1).to(mels.dtype)

    def _postnet_and_mask(self, mels: Tensor, gates: Tensor, alignments: Tensor, mask: Tensor | None):
        """Postnet residual; with a frame mask (B, T_out), every output is zero on padding (gate 1e3) and
        the postnet never reads it, so the real frames of a batch match those of each utterance alone."""
        if mask is None:
            return self.denormalize(mels), self.denormalize(mels + self.postnet(mels)), gates, alignments
        frame_padding = ~mask.unsqueeze(1)  # (B, 1, T_out)
        step_padding = ~mask[:, :: self.n_frames_per_step]  # (B, S): a step is real if its first frame is
        mels = mels.masked_fill(frame_padding, 0.0)
        mels_postnet = self.denormalize(mels + self.postnet(mels, mask)).masked_fill(frame_padding, 0.0)
        mels = self.denormalize(mels).masked_fill(frame_padding, 0.0)
        gates = gates.masked_fill(step_padding, 1e3)  # sigmoid(1e3) = 1: padding reads as "stop"
        return mels, mels_postnet, gates, alignments.masked_fill(step_padding.unsqueeze(2), 0.0)

    def forward(self, text: Tensor, text_lengths: Tensor, mels: Tensor, mel_lengths: Tensor,
                decoder_inputs: Tensor | None = None):
        """text (B, T_in), text_lengths (B,), mels (B, n_mels, T_out) with T_out a multiple of r,
        mel_lengths (B,) -> mel outputs (B, n_mels, T_out), postnet mel outputs (B, n_mels, T_out),
        gate logits (B, S), alignments (B, S, T_in).

        The decoder reads the previous step's frames from `mels` (teacher forcing), or from
        `decoder_inputs` (B, n_mels, T_out) when given: scheduled sampling mixes the model's own
        predictions in there, so that it learns to go on from its own output as it must at inference."""
        memory = self.encoder(self.embedding(text).transpose(1, 2), text_lengths)  # (B, T_in, C)
        inputs = self.normalize(mels if decoder_inputs is None else decoder_inputs)
        mel_outputs, gate_outputs, alignments = self.decoder(memory, inputs, text_lengths)
        mask = lengths_to_mask(mel_lengths, mels.size(2)) if self.mask_padding else None
        return self._postnet_and_mask(mel_outputs, gate_outputs, alignments, mask)

    @torch.no_grad()
    def inference(self, text: Tensor, text_lengths: Tensor | None = None):
        """text (B, T_in), text_lengths (B,) or None (all full length) -> mel outputs, postnet mel outputs
        (B, n_mels, T_out), gate logits (B, S), alignments (B, S, T_in), mel lengths (B,); each utterance
        stops on its own gate and everything after its end is zero (gate logits 1e3)."""
        if text_lengths is None:
            text_lengths = torch.full((text.size(0),), text.size(1), dtype=torch.long, device=text.device)
        if self.decoder.fused:
            self.decoder.inference_weights(text.size(0))  # packed first: less memory held at the peak
        memory = self.encoder(self.embedding(text).transpose(1, 2), text_lengths)
        mel_outputs, gate_outputs, alignments, mel_lengths = self.decoder.inference(memory, text_lengths)
        mask = lengths_to_mask(mel_lengths, mel_outputs.size(2))
        return *self._postnet_and_mask(mel_outputs, gate_outputs, alignments, mask), mel_lengths


class Tacotron2Loss(nn.Module):
    """MSE of the mels before and after the postnet + stop-token BCE (paper §2.2; reference loss), plus
    the optional guided attention loss of Tachibana et al. 2017 (arXiv:1710.08969, §4.1).

    Options the reference lacks, off by default: the MSE on standardised mels (`mel_std`, the model's:
    the error of each channel divided by its deviation), averaged over real frames only
    (`over_real_frames`), and a weight on the stop steps (`gate_positive_weight`)."""

    def __init__(self, n_frames_per_step: int, guided_attn_sigma: float = 0.2, over_real_frames: bool = False,
                 gate_positive_weight: float = 1.0, mel_std: Tensor | None = None, mel_loss: str = "mse"):
        super().__init__()
        if mel_loss not in ("mse", "l1", "l1+mse"):
            raise ValueError(f"mel_loss={mel_loss!r}; expected 'mse', 'l1' or 'l1+mse'")
        self.mel_loss = mel_loss
        self.n_frames_per_step = n_frames_per_step
        self.guided_attn_sigma = guided_attn_sigma
        self.over_real_frames = over_real_frames
        self.gate_positive_weight = gate_positive_weight
        self.mel_std = mel_std  # (n_mels,) or None: the MSE in log-mel units

    @classmethod
    def for_model(cls, model: "Tacotron2", hparams) -> "Tacotron2Loss":
        """The loss that hparams ask for, on the model's standardised scale when it has one."""
        mel_std = model.mel_std if hparams.mel_normalization == "per_channel" else None
        return cls(hparams.n_frames_per_step, hparams.guided_attn_sigma, hparams.loss_over_real_frames,
                   hparams.gate_positive_weight, mel_std, hparams.mel_loss)

    def guided_attention(self, alignments: Tensor, text_lengths: Tensor, decoder_lengths: Tensor) -> Tensor:
        """alignments (B, S, T_in), text_lengths N and decoder_lengths S (B,) -> mean over real steps s of
        sum_n A_sn W_sn, W_sn = 1 - exp(-(n/N - s/S)^2 / (2 g^2)): the attention mass off the diagonal.

        Tachibana et al. average over all (s, n) cells, which scales the loss by 1/N (about 0.015 for a
        uniform attention over 40 symbols); averaging over steps keeps it in [0, 1] whatever the text length.
        """
        _, S, T_in = alignments.shape
        steps = torch.arange(S, device=alignments.device) / decoder_lengths.unsqueeze(1)  # (B, S)
        symbols = torch.arange(T_in, device=alignments.device) / text_lengths.unsqueeze(1)  # (B, T_in)
        distance = symbols.unsqueeze(1) - steps.unsqueeze(2)  # (B, S, T_in)
        penalty = 1.0 - torch.exp(-distance.square() / (2.0 * self.guided_attn_sigma**2))
        steps_mask = lengths_to_mask(decoder_lengths, S).unsqueeze(2)  # (B, S, 1)
        cells = steps_mask & lengths_to_mask(text_lengths, T_in).unsqueeze(1)
        return (alignments.float() * penalty).masked_fill(~cells, 0.0).sum() / steps_mask.sum()

    def forward(self, outputs, mels: Tensor, gates: Tensor, text_lengths: Tensor, mel_lengths: Tensor,
                guided_attn_weight: float = 0.0) -> tuple[Tensor, dict[str, Tensor]]:
        """outputs: Tacotron2.forward's 4-tuple; mels (B, n_mels, T_out); gates (B, T_out) per-frame stop
        targets; text_lengths, mel_lengths (B,) -> total loss, {component: detached value}."""
        mel_outputs, mel_outputs_postnet, gate_outputs, alignments = outputs[:4]
        r = self.n_frames_per_step
        mels = mels.float()  # float32 losses whatever the dtype the model ran in (AMP)
        scale = None if self.mel_std is None else 1.0 / self.mel_std.float().unsqueeze(1)  # (n_mels, 1)
        gate_targets = gates[:, r - 1 :: r].float()  # one logit per step: the target of its last frame
        frames = steps = None
        if self.over_real_frames:
            frames = lengths_to_mask(mel_lengths, mels.size(2)).unsqueeze(1)  # (B, 1, T_out)
            steps = lengths_to_mask(torch.div(mel_lengths + r - 1, r, rounding_mode="floor"), gate_targets.size(1))

        def mean(values: Tensor) -> Tensor:  # over every cell, or over real frames' cells only
            if frames is None:
                return values.mean()
            return values.masked_fill(~frames, 0.0).sum() / (frames.sum() * mels.size(1))

        def mse(predicted: Tensor) -> Tensor:
            error = predicted.float() - mels
            error = error if scale is None else error * scale
            if self.mel_loss == "mse":
                return mean(error.square())
            if self.mel_loss == "l1":
                return mean(error.abs())
            return mean(error.abs()) + mean(error.square())

        pos_weight = None if self.gate_positive_weight == 1.0 else mels.new_tensor(self.gate_positive_weight)
        gate = F.binary_cross_entropy_with_logits(gate_outputs.float(), gate_targets, pos_weight=pos_weight,
                                                  reduction="none" if steps is not None else "mean")
        if steps is not None:
            gate = gate.masked_fill(~steps, 0.0).sum() / steps.sum()
        losses = {"mel": mse(mel_outputs), "postnet_mel": mse(mel_outputs_postnet), "gate": gate,
                  "guided_attn": mels.new_zeros(())}
        total = losses["mel"] + losses["postnet_mel"] + losses["gate"]
        if guided_attn_weight > 0:
            decoder_lengths = torch.div(mel_lengths + r - 1, r, rounding_mode="floor")
            losses["guided_attn"] = self.guided_attention(alignments, text_lengths, decoder_lengths)
            total = total + guided_attn_weight * losses["guided_attn"]
        return total, {name: value.detach() for name, value in losses.items()}


def alignment_metrics(alignments: Tensor, text_lengths: Tensor, decoder_lengths: Tensor,
                      tail: int = 3) -> tuple[float, float]:
    """"Is my attention aligning?" alignments (B, S, T_in), text_lengths, decoder_lengths (B,) ->
    focus rate: mean over real steps (all utterances pooled) of the peak attention weight (1 = sharp);
    coverage: share of utterances whose attention peak at their last real step lies on one of their last
    `tail` symbols (the final ones are often punctuation that a good alignment passes over quickly).
    The last step, not any step: a blurred attention's peak wanders and touches the end by chance."""
    alignments = alignments.detach().float()
    step_mask = lengths_to_mask(decoder_lengths, alignments.size(1))
    peak, position = alignments.max(dim=2)  # (B, S)
    focus = peak[step_mask].mean()
    final = position.gather(1, (decoder_lengths - 1).unsqueeze(1)).squeeze(1)  # (B,)
    coverage = (final >= text_lengths - tail).float().mean()
    return float(focus), float(coverage)
