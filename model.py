"""Tacotron 2 (Shen et al. 2018, arXiv:1712.05884) in the order of the paper's Fig. 1: pre-net, encoder,
location-sensitive attention, decoder, post-net and the whole model (its loss and alignment metrics are
in loss_function.py). The decoder's loops here are the reference; fused_decoder.py computes the same
faster (hparams.fused_decoder).

Shapes: B batch, T_in text symbols, T_out mel frames, n_mels mel channels (80), r frames per decoder
step (n_frames_per_step), S = T_out / r decoder steps, C channels of the layer at hand.
"""

import math
import warnings
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import fused_decoder
from layers import ConvNorm, LinearNorm, lengths_to_mask
from loss_function import Tacotron2Loss, alignment_metrics, per_step_targets  # noqa: F401 (older imports)


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


class Encoder(nn.Module):
    """n x (conv, batch norm, ReLU, dropout 0.5) then a bidirectional LSTM (paper §2.2)."""

    def __init__(self, n_convolutions: int, embedding_dim: int, kernel_size: int, p_dropout: float = 0.5):
        super().__init__()
        self.p_dropout = p_dropout
        self.convolutions = nn.ModuleList(
            nn.Sequential(ConvNorm(embedding_dim, embedding_dim, kernel_size, w_init_gain="relu"),
                          nn.BatchNorm1d(embedding_dim))
            for _ in range(n_convolutions)
        )
        self.lstm = nn.LSTM(embedding_dim, embedding_dim // 2, batch_first=True, bidirectional=True)

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        """x: (B, C, T_in) embedded symbols, lengths: (B,) -> (B, T_in, C); one path for training and
        inference. Padding is zeroed before every conv (as in Postnet): a batch encodes each text as it
        would alone."""
        padding = ~lengths_to_mask(lengths, x.size(2)).unsqueeze(1)  # (B, 1, T_in)
        for conv in self.convolutions:
            x = F.dropout(F.relu(conv(x.masked_fill(padding, 0.0))), self.p_dropout, self.training)
        total_length = x.size(2)
        x = x.transpose(1, 2)  # (B, T_in, C)
        # packing keeps the backward LSTM from reading padding before an utterance's last symbol
        x = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        x, _ = self.lstm(x)
        x, _ = pad_packed_sequence(x, batch_first=True, total_length=total_length)
        return x


class LocationLayer(nn.Module):
    """Location features f = conv([previous, cumulative] attention weights), projected (paper §2.2)."""

    def __init__(self, n_filters: int, kernel_size: int, attention_dim: int):
        super().__init__()
        self.location_conv = ConvNorm(2, n_filters, kernel_size, bias=False)
        self.location_dense = LinearNorm(n_filters, attention_dim, bias=False, w_init_gain="tanh")

    def forward(self, attention_weights_cat: Tensor) -> Tensor:
        """attention_weights_cat: (B, 2, T_in) -> (B, T_in, attention_dim)."""
        return self.location_dense(self.location_conv(attention_weights_cat).transpose(1, 2))


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

    def forward(self, query: Tensor, memory: Tensor, processed_memory: Tensor,
                attention_weights_cat: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
        """query (B, attention_rnn_dim), memory (B, T_in, C), processed_memory (B, T_in, attention_dim),
        attention_weights_cat (B, 2, T_in), mask (B, T_in) True on real symbols or None
        -> context (B, C), attention weights (B, T_in)."""
        processed_query = self.query_layer(query).unsqueeze(1)  # (B, 1, attention_dim)
        processed_location = self.location_layer(attention_weights_cat)  # (B, T_in, attention_dim)
        energies = self.v(torch.tanh(processed_query + processed_location + processed_memory)).squeeze(2)
        return self.attend(energies, memory, mask)

    @staticmethod
    def attend(energies: Tensor, memory: Tensor, mask: Tensor | None) -> tuple[Tensor, Tensor]:
        """energies (B, T_in), memory (B, T_in, C), mask (B, T_in) or None -> context (B, C),
        weights (B, T_in)."""
        if mask is not None:  # finfo.min, not -inf: finite in float16/bfloat16 too, and no NaN from inf-inf
            energies = energies.masked_fill(~mask, torch.finfo(energies.dtype).min)
        weights = F.softmax(energies.float(), dim=1).to(energies.dtype)  # float32 softmax: AMP-safe
        context = torch.bmm(weights.unsqueeze(1), memory).squeeze(1)  # (B, C)
        return context, weights


class DecoderState(NamedTuple):  # what one decoder step hands the next
    attention_hidden: Tensor  # (B, attention_rnn_dim)
    attention_cell: Tensor  # (B, attention_rnn_dim)
    decoder_hidden: Tensor  # (B, decoder_rnn_dim)
    decoder_cell: Tensor  # (B, decoder_rnn_dim)
    attention_weights: Tensor  # (B, T_in)
    attention_weights_cum: Tensor  # (B, T_in)
    attention_context: Tensor  # (B, encoder_embedding_dim)


class DecoderStep(NamedTuple):  # what free-running decoding yields after each step
    mel: Tensor  # (B, n_mels * r): the step's r frames
    gate: Tensor  # (B, 1): the stop-token logit
    attention_weights: Tensor  # (B, T_in)
    done: Tensor  # (B,) bool: the utterance's gate fired at this step or before


class Decoder(nn.Module):
    """Autoregressive decoder (paper §2.2): prenet -> attention LSTM -> attention -> decoder LSTM ->
    r frames and one stop-token ("gate") logit per step.

    With r > 1 (Tacotron 1's reduction factor), the next step reads the LAST of the r frames just
    predicted, so the prenet takes n_mels inputs; at r = 1 this is the reference's n_mels * r = 80, so
    its checkpoint loads unchanged. `gate_threshold` and `max_decoder_steps` are the reference's knobs:
    set them at any time; every decoding loop reads them at each call (an infinite threshold never
    stops, so exactly max_decoder_steps steps run).
    """

    def __init__(self, n_mel_channels: int, n_frames_per_step: int, encoder_embedding_dim: int,
                 attention_dim: int, attention_rnn_dim: int, attention_location_n_filters: int,
                 attention_location_kernel_size: int, decoder_rnn_dim: int, prenet_dim: int,
                 max_decoder_steps: int, gate_threshold: float, p_attention_dropout: float,
                 p_decoder_dropout: float, p_prenet_dropout: float = 0.5):
        super().__init__()
        self.n_mel_channels, self.n_frames_per_step = n_mel_channels, n_frames_per_step
        self.encoder_embedding_dim = encoder_embedding_dim
        self.attention_rnn_dim, self.decoder_rnn_dim = attention_rnn_dim, decoder_rnn_dim
        self.max_decoder_steps, self.gate_threshold = max_decoder_steps, gate_threshold
        self.p_attention_dropout, self.p_decoder_dropout = p_attention_dropout, p_decoder_dropout

        self.prenet = Prenet(n_mel_channels, [prenet_dim, prenet_dim], p_prenet_dropout)
        self.attention_rnn = nn.LSTMCell(prenet_dim + encoder_embedding_dim, attention_rnn_dim)
        self.attention_layer = Attention(attention_rnn_dim, encoder_embedding_dim, attention_dim,
                                         attention_location_n_filters, attention_location_kernel_size)
        self.decoder_rnn = nn.LSTMCell(attention_rnn_dim + encoder_embedding_dim, decoder_rnn_dim, bias=True)
        self.linear_projection = LinearNorm(decoder_rnn_dim + encoder_embedding_dim,
                                            n_mel_channels * n_frames_per_step)
        self.gate_layer = LinearNorm(decoder_rnn_dim + encoder_embedding_dim, 1, w_init_gain="sigmoid")

    def initial_state(self, memory: Tensor) -> DecoderState:
        """memory: (B, T_in, C) -> all-zero state of its device and dtype."""
        B, T_in, _ = memory.shape
        attention = memory.new_zeros(B, self.attention_rnn_dim)
        decoder = memory.new_zeros(B, self.decoder_rnn_dim)
        weights = memory.new_zeros(B, T_in)
        return DecoderState(attention, attention, decoder, decoder, weights, weights,
                            memory.new_zeros(B, self.encoder_embedding_dim))

    def prenet_frames(self, mels: Tensor) -> Tensor:
        """Teacher forcing's inputs: mels (B, n_mels, T_out), T_out a multiple of r -> (S, B, prenet_dim),
        the prenet of the frame each step reads: the go frame (zeros) at step 0, else step s - 1's last."""
        B, _, T_out = mels.shape
        r = self.n_frames_per_step
        if T_out % r:
            raise ValueError(f"T_out={T_out} is not a multiple of n_frames_per_step={r}")
        previous = mels[:, :, r - 1 : T_out - 1 : r]  # (B, n_mels, S - 1)
        frames = torch.cat((mels.new_zeros(B, self.n_mel_channels, 1), previous), dim=2).permute(2, 0, 1)
        return self.prenet(frames)  # all steps in one call, not one per step

    def attention_memory(self, memory: Tensor, memory_lengths: Tensor) -> tuple[Tensor, Tensor]:
        """memory (B, T_in, C), memory_lengths (B,) -> processed memory (B, T_in, attention_dim), computed
        once rather than at every step, and the mask (B, T_in) of real symbols."""
        return self.attention_layer.memory_layer(memory), lengths_to_mask(memory_lengths, memory.size(1))

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

    def forward(self, memory: Tensor, mels: Tensor, memory_lengths: Tensor):
        """Teacher forcing. memory (B, T_in, C), mels (B, n_mels, T_out) with T_out a multiple of r,
        memory_lengths (B,) -> mels (B, n_mels, T_out), gate logits (B, S), alignments (B, S, T_in)."""
        frames = self.prenet_frames(mels)
        processed_memory, mask = self.attention_memory(memory, memory_lengths)
        state = self.initial_state(memory)
        mel_outputs, gate_outputs, alignments = [], [], []
        for frame in frames:
            mel, gate, state = self.step(frame, state, memory, processed_memory, mask)
            mel_outputs.append(mel)
            gate_outputs.append(gate)
            alignments.append(state.attention_weights)
        return self._stack(mel_outputs, gate_outputs, alignments)

    def inference(self, memory: Tensor, memory_lengths: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Free running until each utterance's gate fires (sigmoid > gate_threshold) or max_decoder_steps.
        -> mels (B, n_mels, S * r), gate logits (B, S), alignments (B, S, T_in), mel lengths (B,) (frames)."""
        return self.collect(self.inference_steps(memory, memory_lengths))

    def inference_steps(self, memory: Tensor, memory_lengths: Tensor) -> Iterator[DecoderStep]:
        """`inference` one step at a time: a generator of each step's frames, gate logit, attention weights
        and stopped utterances, ending once all have stopped or after max_decoder_steps. Streaming synthesis
        reads the frames as they come (streaming.py); `inference` collects them."""
        B = memory.size(0)
        processed_memory, mask = self.attention_memory(memory, memory_lengths)
        mask = None if bool(mask.all()) else mask  # all symbols real (one utterance): nothing to mask
        state = self.initial_state(memory)
        frame = memory.new_zeros(B, self.n_mel_channels)  # go frame
        done = torch.zeros(B, dtype=torch.bool, device=memory.device)
        for _ in range(self.max_decoder_steps):
            mel, gate, state = self.step(self.prenet(frame), state, memory, processed_memory, mask)
            done = self.gate_stops(gate.squeeze(1), done)
            yield DecoderStep(mel, gate, state.attention_weights, done)
            if bool(done.all()):
                return
            frame = mel[:, -self.n_mel_channels :]  # last of the r frames

    def collect(self, steps: Iterable[DecoderStep]) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """A whole free-running decoding's steps (S of them) -> mels (B, n_mels, S * r), gate logits (B, S),
        alignments (B, S, T_in), mel lengths (B,): each utterance's frames up to its stop step, or all S."""
        mels, gates, alignments, done = zip(*steps)
        done = torch.stack(done)  # (S, B)
        S = done.size(0)
        # stopped at step j (0-based): done at the S - j steps j..S-1, so j + 1 = S + 1 - (S - j) steps
        steps_made = (S + 1 - done.sum(0)).clamp(max=S)
        self.warn_unstopped(done[-1])
        return *self._stack(mels, gates, alignments), steps_made * self.n_frames_per_step

    def _stack(self, mels: list[Tensor], gates: list[Tensor], alignments: list[Tensor]):
        """Per-step lists -> mels (B, n_mels, S * r), gates (B, S), alignments (B, S, T_in)."""
        mel = torch.stack(mels, dim=1)  # (B, S, n_mels * r)
        mel = mel.view(mel.size(0), -1, self.n_mel_channels).transpose(1, 2)  # (B, n_mels, S * r)
        return mel, torch.cat(gates, dim=1), torch.stack(alignments, dim=1)

    def gate_stops(self, gate: Tensor, done: Tensor) -> Tensor:
        """After a step: gate logits (B,), done (B,) -> done, with the utterances whose gate fires now."""
        return done | (torch.sigmoid(gate.float()) > self.gate_threshold)

    def warn_unstopped(self, done: Tensor) -> None:
        """The step-limit warning, pointing at Tacotron2.inference's call of `collect`."""
        if not bool(done.all()):
            warnings.warn(f"reached max_decoder_steps={self.max_decoder_steps} before {int((~done).sum())} "
                          f"of {done.numel()} utterances stopped", stacklevel=3)


class Postnet(nn.Module):
    """n x (conv, batch norm), tanh on all but the last, dropout 0.5; predicts a residual (paper §2.2)."""

    def __init__(self, n_mels: int, embedding_dim: int, kernel_size: int, n_convolutions: int,
                 p_dropout: float = 0.5):
        super().__init__()
        self.p_dropout = p_dropout
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
            x = F.dropout(torch.tanh(x) if i < last else x, self.p_dropout, self.training)
        return x

    @property
    def context(self) -> int:
        """Frames on each side that one output frame reads: the convs' half-widths added up (10 for the
        paper's 5 convs of kernel 5; batch norm at inference is per frame). Streaming synthesis runs the
        postnet on blocks of frames with this many more around them."""
        return sum(block[0].conv.padding[0] for block in self.convolutions)


class Tacotron2(nn.Module):
    """Embedding -> Encoder -> Decoder -> Postnet residual (paper Fig. 1).

    Which decoding loops run is an hparam, read here: `fused_decoder` (the default) runs fused_decoder.py's
    (the same values, faster), False the Decoder's own; on CPU the fused free-running loop reads the LSTM
    weights in the format `cpu_inference_weights` names, packed once per parameter version."""

    def __init__(self, hparams):
        super().__init__()
        if hparams.symbols_embedding_dim != hparams.encoder_embedding_dim:
            raise ValueError(f"symbols_embedding_dim={hparams.symbols_embedding_dim} must equal encoder_"
                             f"embedding_dim={hparams.encoder_embedding_dim}: the encoder convs read it")
        self.mask_padding = hparams.mask_padding
        self.n_mel_channels = hparams.n_mel_channels
        self.n_frames_per_step = hparams.n_frames_per_step
        self.fused_decoder = hparams.fused_decoder
        self.inference_weights = fused_decoder.InferenceWeightCache(hparams.cpu_inference_weights)
        self.embedding = nn.Embedding(hparams.n_symbols, hparams.symbols_embedding_dim)
        # Xavier-uniform bound for a (n_symbols, dim) matrix: sqrt(3) * sqrt(2 / (fan_in + fan_out))
        bound = math.sqrt(3.0) * math.sqrt(2.0 / (hparams.n_symbols + hparams.symbols_embedding_dim))
        nn.init.uniform_(self.embedding.weight, -bound, bound)
        self.encoder = Encoder(hparams.encoder_n_convolutions, hparams.encoder_embedding_dim,
                               hparams.encoder_kernel_size, hparams.p_encoder_dropout)
        self.decoder = Decoder(
            hparams.n_mel_channels, hparams.n_frames_per_step, hparams.encoder_embedding_dim,
            hparams.attention_dim, hparams.attention_rnn_dim, hparams.attention_location_n_filters,
            hparams.attention_location_kernel_size, hparams.decoder_rnn_dim, hparams.prenet_dim,
            hparams.max_decoder_steps, hparams.gate_threshold, hparams.p_attention_dropout,
            hparams.p_decoder_dropout, hparams.p_prenet_dropout)
        self.postnet = Postnet(hparams.n_mel_channels, hparams.postnet_embedding_dim,
                               hparams.postnet_kernel_size, hparams.postnet_n_convolutions,
                               hparams.p_postnet_dropout)
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
            return self.denormalize(mels), self.postnet_mels(mels), gates, alignments
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
        if self.fused_decoder:
            decoded = fused_decoder.teacher_forced(self.decoder, memory, inputs, text_lengths)
        else:
            decoded = self.decoder(memory, inputs, text_lengths)
        mask = lengths_to_mask(mel_lengths, mels.size(2)) if self.mask_padding else None
        return self._postnet_and_mask(*decoded, mask)

    def _decoding(self, text: Tensor, text_lengths: Tensor) -> Iterator[DecoderStep]:
        """Encode text (B, T_in) of text_lengths (B,) and start the free-running loop that hparams pick."""
        if self.fused_decoder:  # packed before encoding: less memory held at the peak
            weights = self.inference_weights.get(self.decoder, text.size(0))
        memory = self.encoder(self.embedding(text).transpose(1, 2), text_lengths)
        if self.fused_decoder:
            return fused_decoder.free_running_steps(self.decoder, memory, text_lengths, weights)
        return self.decoder.inference_steps(memory, text_lengths)

    @torch.no_grad()
    def inference(self, text: Tensor, text_lengths: Tensor | None = None):
        """text (B, T_in), text_lengths (B,) or None (all full length) -> mel outputs, postnet mel outputs
        (B, n_mels, T_out), gate logits (B, S), alignments (B, S, T_in), mel lengths (B,); each utterance
        stops on its own gate and everything after its end is zero (gate logits 1e3)."""
        if text_lengths is None:
            text_lengths = torch.full((text.size(0),), text.size(1), dtype=torch.long, device=text.device)
        decoded = self.decoder.collect(self._decoding(text, text_lengths))
        mel_outputs, gate_outputs, alignments, mel_lengths = decoded
        mask = lengths_to_mask(mel_lengths, mel_outputs.size(2))
        return *self._postnet_and_mask(mel_outputs, gate_outputs, alignments, mask), mel_lengths

    @torch.no_grad()
    def inference_steps(self, text: Tensor) -> Iterator[DecoderStep]:
        """`inference` of one utterance, text (1, T_in), as its decoder steps come: the same loop and dropout
        draws, before the postnet and in the decoder's space (`normalize`). Streaming synthesis (streaming.py)
        turns them into the same postnet mels block by block (`postnet_mels`)."""
        if text.size(0) != 1:
            raise ValueError(f"inference_steps decodes one utterance, got a batch of {text.size(0)}")
        yield from self._decoding(text, torch.tensor([text.size(1)], device=text.device))

    def postnet_mels(self, mels: Tensor) -> Tensor:
        """Decoder frames (B, n_mels, T) in the decoder's space -> postnet log mels (B, n_mels, T), as
        `inference`'s second output. Of a block of an utterance's frames, those at least `postnet.context`
        frames from either edge of the block (or at the utterance's own edge) are exact."""
        return self.denormalize(mels + self.postnet(mels))
