"""TensorBoard logging for train.py (the reference's tag names, so existing dashboards keep working)
and the pictures it draws: alignments, mel spectrograms, gate outputs.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from torch.utils.tensorboard import SummaryWriter  # noqa: E402

from files import atomic_write, make_output_directory  # noqa: E402


def _figure_to_numpy(fig) -> np.ndarray:
    """Render a figure to an (H, W, 3) uint8 array (TensorBoard's HWC layout)."""
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    return image


def plot_alignment(alignment: np.ndarray, title: str = ""):
    """alignment: (decoder steps, T_in) -> a matplotlib figure, encoder steps on the y axis."""
    fig, ax = plt.subplots(figsize=(6, 4))
    im = ax.imshow(alignment.T, aspect="auto", origin="lower", interpolation="none")
    fig.colorbar(im, ax=ax)
    ax.set_xlabel("Decoder timestep")
    ax.set_ylabel("Encoder timestep")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_spectrogram(mel: np.ndarray):
    """mel: (n_mels, T_out) -> figure."""
    fig, ax = plt.subplots(figsize=(12, 3))
    im = ax.imshow(mel, aspect="auto", origin="lower", interpolation="none")
    fig.colorbar(im, ax=ax)
    ax.set_xlabel("Frames")
    ax.set_ylabel("Channels")
    fig.tight_layout()
    return fig


def plot_gate_outputs(gate_targets: np.ndarray, gate_outputs: np.ndarray):
    """Both (decoder steps,): targets in green, predicted stop probabilities in red."""
    fig, ax = plt.subplots(figsize=(12, 3))
    steps = range(len(gate_targets))
    ax.scatter(steps, gate_targets, alpha=0.5, color="green", marker="+", s=1, label="target")
    ax.scatter(steps, gate_outputs, alpha=0.5, color="red", marker=".", s=1, label="predicted")
    ax.set_xlabel("Decoder steps (green target, red predicted)")
    ax.set_ylabel("Gate state")
    fig.tight_layout()
    return fig


def save_alignment_png(alignment: np.ndarray, path: Path, title: str = "") -> None:
    """Write the alignment picture atomically (a reader never sees half a PNG)."""
    figure = plot_alignment(alignment, title)
    atomic_write(Path(path), lambda handle: figure.savefig(handle, format="png"))
    plt.close("all")


class Tacotron2Logger(SummaryWriter):
    def __init__(self, log_directory: str | Path):
        super().__init__(str(make_output_directory(log_directory)))  # a folder it cannot make: a clear error

    def log_training(self, iteration: int, losses: dict, grad_norm: float, learning_rate: float,
                     duration: float, frames_per_second: float) -> None:
        self.add_scalar("training.loss", losses["loss"], iteration)
        for name, value in losses.items():
            if name != "loss":
                self.add_scalar(f"training.{name}_loss", value, iteration)
        self.add_scalar("grad.norm", grad_norm, iteration)
        self.add_scalar("learning.rate", learning_rate, iteration)
        self.add_scalar("duration", duration, iteration)
        self.add_scalar("frames_per_second", frames_per_second, iteration)

    def log_validation(self, iteration: int, metrics: dict, alignment: np.ndarray, mel_target: np.ndarray,
                       mel_predicted: np.ndarray, gate_target: np.ndarray,
                       gate_predicted: np.ndarray) -> None:
        """Scalars of `metrics` under validation.*, and pictures of one validation utterance."""
        self.add_scalar("validation.loss", metrics["loss"], iteration)
        for name, value in metrics.items():
            if name != "loss":
                self.add_scalar(f"validation.{name}", value, iteration)
        self.add_image("alignment", _figure_to_numpy(plot_alignment(alignment)), iteration, dataformats="HWC")
        self.add_image("mel_target", _figure_to_numpy(plot_spectrogram(mel_target)), iteration,
                       dataformats="HWC")
        self.add_image("mel_predicted", _figure_to_numpy(plot_spectrogram(mel_predicted)), iteration,
                       dataformats="HWC")
        self.add_image("gate", _figure_to_numpy(plot_gate_outputs(gate_target, gate_predicted)), iteration,
                       dataformats="HWC")
