"""Tacotron 2's training loss (paper section 2.2, with the options a small corpus needs) and the alignment
metrics train.py and evaluate.py report. NVIDIA/tacotron2 keeps its loss in a file of this name, so
`from loss_function import Tacotron2Loss` ports unchanged; model.py re-exports these names too.

Shapes: B batch, T_in text symbols, T_out mel frames, n_mels mel channels, r frames per decoder step,
S = T_out / r decoder steps.
"""

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from layers import lengths_to_mask

if TYPE_CHECKING:  # the type of an argument only: model.py imports this module
    from model import Tacotron2


def per_step_targets(gates: Tensor, mel_lengths: Tensor, r: int) -> tuple[Tensor, Tensor]:
    """Frame-level stop targets (B, T_out) and mel lengths (B,) -> the decoder's, one per step of r frames:
    the stop target of each step's last frame (B, S), and the number of real steps ceil(mel_lengths / r) (B,)
    (a last step that is partly padding still counts)."""
    return gates[:, r - 1 :: r], (mel_lengths + r - 1) // r


class Tacotron2Loss(nn.Module):
    """MSE (or `mel_loss`) of the mels before and after the postnet + stop-token BCE (paper §2.2), plus
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
        gate_targets, decoder_lengths = per_step_targets(gates, mel_lengths, r)  # one stop target per step
        gate_targets = gate_targets.float()
        frames = steps = None
        if self.over_real_frames:
            frames = lengths_to_mask(mel_lengths, mels.size(2)).unsqueeze(1)  # (B, 1, T_out)
            steps = lengths_to_mask(decoder_lengths, gate_targets.size(1))

        def mean(values: Tensor) -> Tensor:  # over every cell, or over real frames' cells only
            if frames is None:
                return values.mean()
            return values.masked_fill(~frames, 0.0).sum() / (frames.sum() * mels.size(1))

        def mel_error(predicted: Tensor) -> Tensor:
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
        losses = {"mel": mel_error(mel_outputs), "postnet_mel": mel_error(mel_outputs_postnet), "gate": gate,
                  "guided_attn": mels.new_zeros(())}
        total = losses["mel"] + losses["postnet_mel"] + losses["gate"]
        if guided_attn_weight > 0:
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
