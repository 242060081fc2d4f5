"""Hyperparameters: one typed dataclass with the reference defaults, named presets, and the
NVIDIA-style override parser (`create_hparams("batch_size=32,ignore_layers=[a,b]")`).
"""

import dataclasses
import difflib
import re
import typing
from dataclasses import dataclass, field

from text import symbols


@dataclass
class HParams:
    ################################
    # Experiment Parameters        #
    ################################
    epochs: int = 500
    iters_per_checkpoint: int = 1000  # validate, log images and save a checkpoint this often
    max_iterations: int = 0  # stop after this many iterations in all (0: run all epochs)
    checkpoints_to_keep: int = 5  # the last N checkpoint_* files are kept, older ones deleted
    seed: int = 1234
    dynamic_loss_scaling: bool = True  # GradScaler is always dynamic; kept so old strings parse
    fp16_run: bool = False  # CUDA: float16 autocast + GradScaler; CPU: bfloat16 autocast
    distributed_run: bool = False
    dist_backend: str = "nccl"  # "gloo" is chosen automatically on CPU
    dist_url: str = "tcp://localhost:54321"
    cudnn_enabled: bool = True
    cudnn_benchmark: bool = False
    ignore_layers: list[str] = field(default_factory=lambda: ["embedding.weight"])

    ################################
    # Data Parameters             #
    ################################
    load_mel_from_disk: bool = False  # filelist paths are .npy/.pt mels instead of wavs
    data_root: str = ""  # filelist paths are relative to this folder ("" = current directory)
    training_files: str = "filelists/ljs_audio_text_train_filelist.txt"
    validation_files: str = "filelists/ljs_audio_text_val_filelist.txt"
    text_cleaners: list[str] = field(default_factory=lambda: ["english_cleaners"])
    use_cmudict: bool = False  # look words up in CMUdict and feed ARPAbet phones
    mel_cache_dir: str = ".mel_cache"  # "" disables the on-disk mel cache
    allow_resample: bool = False  # resample wavs of another rate instead of raising
    num_workers: int = 1  # DataLoader worker processes

    ################################
    # Audio Parameters             #
    ################################
    max_wav_value: float = 32768.0
    # "none" (reference): the model predicts log mels as they are; "per_channel": it predicts each mel
    # channel standardised by the training set's mean and deviation (ESPnet's global_mvn), which
    # train.py computes from training_files when a run starts and stores here, in mel_mean / mel_std,
    # so that every checkpoint carries them; the model's outputs are log mels either way
    mel_normalization: str = "none"
    mel_mean: list[float] = field(default_factory=list)
    mel_std: list[float] = field(default_factory=list)
    sampling_rate: int = 22050
    filter_length: int = 1024
    hop_length: int = 256
    win_length: int = 1024
    n_mel_channels: int = 80
    mel_fmin: float = 0.0
    mel_fmax: float = 8000.0

    ################################
    # Model Parameters             #
    ################################
    n_symbols: int = len(symbols)  # 148; must match the checkpoint's embedding
    symbols_embedding_dim: int = 512

    # Encoder parameters
    encoder_kernel_size: int = 5
    encoder_n_convolutions: int = 3
    encoder_embedding_dim: int = 512
    p_encoder_dropout: float = 0.5  # after each encoder conv (paper §2.2)

    # Decoder parameters
    n_frames_per_step: int = 1  # reduction factor r: frames predicted per decoder step
    decoder_rnn_dim: int = 1024
    prenet_dim: int = 256
    max_decoder_steps: int = 1000
    gate_threshold: float = 0.5
    # the decoder's loops: fused_decoder.py's fast paths (the same values, gradients and dropout draws) or,
    # False, the plain loops over Decoder.step in model.py (the reference, slower)
    fused_decoder: bool = True
    # what the fused decoder's LSTM matrix products read when a float32 model decodes on CPU: float32,
    # float16 (half the bytes, ~1e-4 relative error) or int8 (a quarter, ~1%); see fused_decoder._PackedLinear
    cpu_inference_weights: str = "int8"
    p_prenet_dropout: float = 0.5  # paper §2.2; higher values push the decoder to read the text
    p_attention_dropout: float = 0.1
    p_decoder_dropout: float = 0.1

    # Attention parameters
    attention_rnn_dim: int = 1024
    attention_dim: int = 128

    # Location Layer parameters
    attention_location_n_filters: int = 32
    attention_location_kernel_size: int = 31

    # Mel-post processing network parameters
    postnet_embedding_dim: int = 512
    postnet_kernel_size: int = 5
    postnet_n_convolutions: int = 5
    p_postnet_dropout: float = 0.5  # after each postnet conv, the last one too (the reference's layout)

    ################################
    # Optimization Hyperparameters #
    ################################
    use_saved_learning_rate: bool = False
    learning_rate: float = 1e-3
    lr_schedule: str = "constant"  # "constant" (reference) or "exponential" (paper §3.1)
    lr_decay_start: int = 50000  # exponential: iteration where decay begins
    lr_decay_rate: float = 0.5  # exponential: factor per lr_decay_steps iterations
    lr_decay_steps: int = 10000
    min_learning_rate: float = 1e-5  # exponential: floor (paper: 1e-3 decaying to 1e-5)
    weight_decay: float = 1e-6
    grad_clip_thresh: float = 1.0
    max_nonfinite_steps: int = 50  # stop after this many skipped (non-finite) steps in a row
    batch_size: int = 64  # per process, as in the reference
    mask_padding: bool = True  # set padded frames of the outputs to zero (and gate to "stop")
    lr_warmup_steps: int = 0  # linear warm-up of the learning rate over the first N iterations
    # The reference averages its losses over every frame of the padded batch, padding included, so a
    # batch's short utterances count less and the figure is diluted; True averages over real frames
    # (and real decoder steps for the stop token) only
    loss_over_real_frames: bool = False
    gate_positive_weight: float = 1.0  # weight of the one "stop" step against the many "go on" steps
    # The mel error: "mse" (the paper), "l1" (Tacotron 1, Coqui's Tacotron 2) or "l1+mse" (ESPnet's default);
    # an L1 error is not pulled towards the mean of what a phone might sound like as hard as a square is
    mel_loss: str = "mse"
    # Parallel scheduled sampling (train.scheduled_sampling_inputs): from scheduled_sampling_start on, each
    # frame the decoder reads is its own prediction (from a first pass without gradients) with this
    # probability, so that free running is not the first time it sees its own output. 0: teacher forcing
    scheduled_sampling: float = 0.0
    scheduled_sampling_start: int = 0
    # each frame the decoder reads is replaced by the go frame with this probability
    # (train.decoder_input_dropout)
    decoder_input_dropout: float = 0.0

    # Guided attention loss (Tachibana et al. 2017): W_nt = 1 - exp(-(n/N - t/T)^2 / (2 g^2))
    guided_attn_weight: float = 0.0  # 0 disables it
    guided_attn_sigma: float = 0.2  # g in the paper
    guided_attn_decay: float = 1.0  # the weight is multiplied by decay**iteration

    # TensorBoard audio of a validation sample
    griffin_lim_iters: int = 60
    # at every validation, what a speech recognizer hears of the first N validation utterances
    # (train.ValidationIntelligibility; needs pocketsphinx and jiwer; 0: off)
    val_wer_utterances: int = 4
    # Griffin-Lim raises the linear magnitudes to this power before phase recovery (> 1 sharpens peaks);
    # 1.0: recordings' mels are then heard as well as the recordings (WER 0.22 vs 0.33 at 1.5, 3 flite voices)
    griffin_lim_power: float = 1.0

    def __post_init__(self):
        checks = [
            (self.win_length <= self.filter_length,
             f"win_length={self.win_length} > filter_length={self.filter_length}"),
            (self.mel_fmax is None or self.mel_fmax <= self.sampling_rate / 2,
             f"mel_fmax={self.mel_fmax} is above the Nyquist frequency {self.sampling_rate / 2}"),
            (self.n_frames_per_step >= 1, f"n_frames_per_step={self.n_frames_per_step} must be >= 1"),
            (self.batch_size >= 1, f"batch_size={self.batch_size} must be >= 1"),
            (self.n_symbols >= len(symbols), f"n_symbols={self.n_symbols} < {len(symbols)} symbols in text/"),
            (self.lr_schedule in ("constant", "exponential"),
             f"lr_schedule={self.lr_schedule!r}; expected 'constant' or 'exponential'"),
            (self.griffin_lim_power > 0, f"griffin_lim_power={self.griffin_lim_power} must be > 0"),
            (self.mel_loss in ("mse", "l1", "l1+mse"),
             f"mel_loss={self.mel_loss!r}; expected 'mse', 'l1' or 'l1+mse'"),
            (self.mel_normalization in ("none", "per_channel"),
             f"mel_normalization={self.mel_normalization!r}; expected 'none' or 'per_channel'"),
            (len(self.mel_mean) == len(self.mel_std) and len(self.mel_mean) in (0, self.n_mel_channels),
             f"mel_mean and mel_std have {len(self.mel_mean)} and {len(self.mel_std)} values; expected "
             f"{self.n_mel_channels} each (or none)"),
            (all(v > 0 for v in self.mel_std), "mel_std must be positive"),
            (0.0 <= self.scheduled_sampling <= 1.0,
             f"scheduled_sampling={self.scheduled_sampling} must be in [0, 1]"),
            (0.0 <= self.decoder_input_dropout < 1.0,
             f"decoder_input_dropout={self.decoder_input_dropout} must be in [0, 1)"),
            *((0.0 <= getattr(self, name) < 1.0, f"{name}={getattr(self, name)} must be in [0, 1)")
              for name in ("p_prenet_dropout", "p_encoder_dropout", "p_postnet_dropout",
                           "p_attention_dropout", "p_decoder_dropout")),
            (0.0 < self.gate_threshold < 1.0, f"gate_threshold={self.gate_threshold} must be in (0, 1)"),
            (self.cpu_inference_weights in ("float32", "float16", "int8"),
             f"cpu_inference_weights={self.cpu_inference_weights!r}; "
             "expected 'float32', 'float16' or 'int8'"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(f"bad hparams: {message}")

    def __str__(self) -> str:
        return "\n".join(f"{name}={value!r}" for name, value in dataclasses.asdict(self).items())


PRESETS: dict[str, dict] = {
    "ljspeech": {},  # the reference's LJ Speech configuration
    "demo": dict(  # the small-corpus recipe: the bundled flite corpus (or your 10-60 minutes) on 2 CPU cores
        training_files="filelists/demo_audio_text_train_filelist.txt",
        validation_files="filelists/demo_audio_text_val_filelist.txt",
        symbols_embedding_dim=128,  # 4x smaller than the paper throughout
        encoder_embedding_dim=128,
        encoder_kernel_size=5,
        # 5 frames per step: fewer steps, so fewer chances to drift from its own output in free running,
        # and more of each step must come from the text (README, "Making it speak")
        n_frames_per_step=5,
        prenet_dim=128,
        p_prenet_dropout=0.8,  # a narrower path for the previous frame, for the same reason
        # The paper's other dropouts are for a large corpus: on 10-60 minutes they keep the model from
        # fitting its own recordings in the time it has (README, "Making it speak": free-running WER 0.75
        # with them after 30 minutes on one thread, 0.15 without)
        p_encoder_dropout=0.1,
        p_postnet_dropout=0.1,
        p_attention_dropout=0.0,
        p_decoder_dropout=0.0,
        attention_rnn_dim=256,
        decoder_rnn_dim=256,
        attention_dim=64,
        attention_location_n_filters=16,
        postnet_embedding_dim=128,
        postnet_n_convolutions=3,
        use_cmudict=True,  # ARPAbet phones: a small corpus does not teach English spelling
        mel_normalization="per_channel",  # every channel on one scale; the go frame is the mean frame
        loss_over_real_frames=True,
        gate_positive_weight=5.0,  # one stop step against ~40 go-on steps per utterance
        batch_size=16,
        learning_rate=2e-3,  # a small model on a small corpus affords a higher rate
        iters_per_checkpoint=250,  # about a minute; each validation also runs the recognizer (3-4 s)
        max_decoder_steps=180,  # 900 frames, 10.4 s: the corpus' longest utterance is 3.9 s
        guided_attn_weight=5.0,  # a diagonal prior: aligned within a few hundred iterations
        guided_attn_decay=0.9995,
        num_workers=0,  # mels come from the cache; worker processes only cost on 2 cores
        epochs=1000,
    ),
}
# The shipped base model (pretrained/): the small-corpus recipe's sizes on the base corpus that
# make_base_corpus.py makes (3.1 hours of flite's kal16), validated less often (an epoch is ~240
# iterations), with a slow decay for the long run.
PRESETS["base"] = dict(
    PRESETS["demo"],
    training_files="filelists/base_audio_text_train_filelist.txt",
    validation_files="filelists/base_audio_text_val_filelist.txt",
    iters_per_checkpoint=1000,
    lr_schedule="exponential",
    lr_decay_start=30000,
    lr_decay_steps=15000,
    min_learning_rate=1e-4,
    epochs=100000,
    # the paper's dropouts, with which the shipped base was trained to iteration 30,563; the light dropout
    # then took it nearer its ceiling (pretrained/README.md has both steps and the figures)
    p_encoder_dropout=0.5,
    p_postnet_dropout=0.5,
    p_attention_dropout=0.1,
    p_decoder_dropout=0.1,
    ignore_layers=[],  # continuing it from the release file (a warm start) keeps the embedding too
)
# Fine-tuning the shipped base model (pretrained/) on your own voice: the small-corpus recipe's sizes,
# so the base's weights fit, and its light dropout (README, "Your own voice": awb's training sentences
# 0.38 after 30 minutes against 0.52 with the paper's), with every layer kept (the symbol embedding too:
# the symbol set is the same) and a lower learning rate, since the model already reads and aligns; the
# per-channel mel statistics are recomputed on the new corpus at the start (train.with_mel_statistics).
PRESETS["finetune"] = dict(
    PRESETS["demo"],
    ignore_layers=[],
    learning_rate=1e-3,
    guided_attn_weight=1.0,  # the base aligns already: a lighter prior
)

_ASSIGNMENT = re.compile(r"\s*(\w+)\s*=\s*(\[[^\]]*\]|[^,]*)\s*(?:,|$)")


def _parse_value(name: str, text: str, annotation) -> typing.Any:
    """Parse one override value by the field's type; errors name key, value and expected type."""
    text = text.strip()
    origin = typing.get_origin(annotation)
    if origin is list:
        if not (text.startswith("[") and text.endswith("]")):
            raise ValueError(f"hparam '{name}': expected a list like [a,b], got {text!r}")
        (item_type,) = typing.get_args(annotation)
        items = [item.strip().strip("'\"") for item in text[1:-1].split(",") if item.strip()]
        return [_parse_value(name, item, item_type) for item in items]
    if annotation is bool:
        lowered = text.lower()
        if lowered in ("true", "1", "yes"):
            return True
        if lowered in ("false", "0", "no"):
            return False
        raise ValueError(f"hparam '{name}': expected a bool (true/false/1/0), got {text!r}")
    if annotation in (int, float):
        try:
            return annotation(text)
        except ValueError:
            raise ValueError(f"hparam '{name}': expected {annotation.__name__}, got {text!r}") from None
    return text.strip("'\"")


def parse_overrides(hparams_string: str) -> dict[str, typing.Any]:
    """'name=value,name=[a,b]' -> {name: typed value}; unknown or repeated keys raise ValueError."""
    types = typing.get_type_hints(HParams)
    overrides: dict[str, typing.Any] = {}
    position = 0
    hparams_string = hparams_string.strip()
    while position < len(hparams_string):
        match = _ASSIGNMENT.match(hparams_string, position)
        if match is None or match.end() == position:
            raise ValueError(f"cannot parse hparams at {hparams_string[position:]!r}; expected name=value")
        name, value = match.group(1), match.group(2)
        if name not in types and name != "preset":
            close = difflib.get_close_matches(name, types, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ValueError(f"unknown hparam '{name}'{hint}")
        if name in overrides:
            raise ValueError(f"hparam '{name}' is given twice")
        overrides[name] = value.strip() if name == "preset" else _parse_value(name, value, types[name])
        position = match.end()
    return overrides


def create_hparams(hparams_string: str | None = None, preset: str = "ljspeech") -> HParams:
    """Defaults <- preset <- 'name=value,name=[a,b]' overrides (the reference's --hparams syntax).

    A `preset=NAME` entry in the string selects the preset too: `--hparams=preset=demo,batch_size=8`.
    """
    overrides = parse_overrides(hparams_string) if hparams_string else {}
    preset = overrides.pop("preset", preset)
    if preset not in PRESETS:
        close = difflib.get_close_matches(preset, PRESETS, n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        raise ValueError(f"unknown preset '{preset}'{hint}; available: {', '.join(PRESETS)}")
    return dataclasses.replace(HParams(), **{**PRESETS[preset], **overrides})


def hparams_from_dict(values: dict) -> HParams:
    """Rebuild HParams from a checkpoint's asdict(); keys this version does not know are ignored."""
    known = {f.name for f in dataclasses.fields(HParams)}
    return HParams(**{k: v for k, v in values.items() if k in known})


def diff_from_defaults(hparams: HParams) -> dict[str, typing.Any]:
    """The values that differ from the class defaults, for a one-line start-up summary."""
    defaults = dataclasses.asdict(HParams())
    differing = {k: v for k, v in dataclasses.asdict(hparams).items() if defaults[k] != v}
    for name in ("mel_mean", "mel_std"):  # 80 numbers each: their range says enough on one line
        if differing.get(name):
            differing[name] = (f"{len(differing[name])} values, "
                               f"{min(differing[name]):.2f} to {max(differing[name]):.2f}")
    return differing
