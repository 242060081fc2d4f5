"""HiFi-GAN's published files and ours: the reference's generator layout (weight_g / weight_v), how the
config is found (argument, the file's own, config.json beside it, V1/V2/V3 from shapes), refused files
(pickles that name code, do_ files, weights that do not fit), output shapes, the vocoder interface,
load_vocoder's recognition of every vocoder file by content, and --vocoder in inference.py and evaluate.py."""

import json
import os
import re
import sys
import warnings

import pytest
import torch
from torch import nn

import evaluate
import inference
import test_inference
from hparams import create_hparams
from test_inference import check_outputs, run_cli
from test_waveglow import _fake_glow_module, tiny_waveglow
from waveglow_vocoder import (
    HIFIGAN_PRESETS,
    Generator,
    GriffinLimVocoder,
    HiFiGANConfig,
    HiFiGANVocoder,
    LegacyPickleError,
    WaveGlowVocoder,
    load_hifigan,
    load_vocoder,
    save_hifigan,
    save_waveglow,
)
from waveglow_vocoder.hifigan_checkpoint import PickledCodeError

# Small generators with the published hop of 256 samples: ResBlock2 in 3 stages (V3's shape), ResBlock1 in
# 4 stages (V1's), at 32 channels instead of 256 or 512.
SMALL = HiFiGANConfig(resblock="2", upsample_rates=(8, 8, 4), upsample_kernel_sizes=(16, 16, 8),
                      upsample_initial_channel=32, resblock_kernel_sizes=(3,),
                      resblock_dilation_sizes=((1, 2),))
SMALL_RESBLOCK1 = HiFiGANConfig(upsample_initial_channel=32, resblock_kernel_sizes=(3, 5),
                                resblock_dilation_sizes=((1, 3, 5), (1, 3, 5)))


tiny_checkpoint = test_inference.tiny_checkpoint  # the fixture: a tiny Tacotron 2 checkpoint


def random_generator(config: HiFiGANConfig = SMALL) -> Generator:
    """A generator whose output is far from zero (the reference's init gives near-silence): weight-norm
    gains drawn from U(0.6, 1.1), biases from N(0, 0.05)."""
    generator = Generator(config)
    with torch.no_grad():
        for name, parameter in generator.named_parameters():
            if name.endswith("original0"):
                parameter.uniform_(0.6, 1.1)
            elif name.endswith("bias"):
                parameter.normal_(0.0, 0.05)
    return generator.eval()


def reference_checkpoint(generator: Generator) -> dict:
    """The reference's generator file, {'generator': state_dict}, its names made by the module tree the
    reference builds: the same convolutions under the deprecated hook-based torch.nn.utils.weight_norm
    (keys weight_g and weight_v), which is what jik876/hifi-gan uses."""
    # a fresh module, not copy.deepcopy: a deep copy shares the class that parametrization makes for each
    # module, so removing weight norm from the copy would take `weight` away from the original too
    old = Generator(generator.config)
    old.load_state_dict(generator.state_dict())
    old.remove_weight_norm()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.nn.utils.weight_norm is deprecated; the reference used it
        for module in old.modules():
            if isinstance(module, (nn.Conv1d, nn.ConvTranspose1d)):
                torch.nn.utils.weight_norm(module)
    state_dict = old.state_dict()
    assert "conv_pre.weight_g" in state_dict and "ups.0.weight_v" in state_dict
    return {"generator": state_dict}


def write_config(folder, config: HiFiGANConfig, **training_fields):
    """config.json as the reference writes it: lists, and training fields beside the generator's."""
    values = {**json.loads(json.dumps(config.to_dict())), "batch_size": 16, "sampling_rate": 22050,
              "hop_size": 256, **training_fields}
    (folder / "config.json").write_text(json.dumps(values, indent=4))
    return folder / "config.json"


def mels(batch: int = 2, frames: int = 7) -> torch.Tensor:
    return torch.randn(batch, 80, frames) - 4.0  # log mels of speech sit around -4


def test_reference_layout_loads_and_reproduces_its_generator(tmp_path):
    generator, mel = random_generator(), mels()
    with torch.no_grad():
        expected = generator(mel)
    assert expected.std() > 0.05  # not near-silence: the comparison means something
    torch.save(reference_checkpoint(generator), tmp_path / "g_00100000")
    write_config(tmp_path, SMALL)
    loaded = load_hifigan(tmp_path / "g_00100000")
    assert loaded.config == SMALL and not loaded.training and not loaded.has_weight_norm
    with torch.no_grad():
        assert torch.allclose(loaded(mel), expected, atol=1e-5)


@pytest.mark.parametrize("name", ["v1", "v2", "v3"])
def test_published_configurations_are_recognised_from_the_shapes_alone(tmp_path, name):
    generator = Generator(HIFIGAN_PRESETS[name])
    torch.save(reference_checkpoint(generator), tmp_path / f"generator_{name}")  # no config.json beside it
    loaded = load_hifigan(tmp_path / f"generator_{name}")
    assert loaded.config == HIFIGAN_PRESETS[name]
    assert torch.allclose(loaded.conv_post.weight, generator.conv_post.weight, atol=1e-6)


def test_config_json_beside_the_file_is_used_before_the_shapes(tmp_path):
    # V3's shapes with other dilations: only the config.json can say so (dilations leave no trace in weights)
    config = HiFiGANConfig(**{**HIFIGAN_PRESETS["v3"].to_dict(), "resblock_dilation_sizes": ((1, 3),) * 3})
    torch.save(reference_checkpoint(Generator(config)), tmp_path / "g_00000500")
    write_config(tmp_path, config)
    assert load_hifigan(tmp_path / "g_00000500").config == config
    (tmp_path / "config.json").unlink()
    assert load_hifigan(tmp_path / "g_00000500").config == HIFIGAN_PRESETS["v3"]


def test_explicit_config_wins_over_the_file_s_own_which_wins_over_the_one_beside(tmp_path):
    save_hifigan(tmp_path / "hifigan_100", Generator(SMALL), iteration=100)
    write_config(tmp_path, HIFIGAN_PRESETS["v1"])  # beside it, and does not fit: never read here
    assert load_hifigan(tmp_path / "hifigan_100").config == SMALL  # the file's own config
    other_dilations = HiFiGANConfig(**{**SMALL.to_dict(), "resblock_dilation_sizes": ((1, 4),)})
    (tmp_path / "elsewhere").mkdir()
    explicit = write_config(tmp_path / "elsewhere", other_dilations)
    assert load_hifigan(tmp_path / "hifigan_100", config=explicit).config == other_dilations
    assert load_hifigan(tmp_path / "hifigan_100", config=other_dilations).config == other_dilations


def test_unrecognised_shapes_without_a_config_say_which_config_is_needed(tmp_path):
    path = tmp_path / "g_00000001"
    torch.save(reference_checkpoint(Generator(SMALL)), path)
    with pytest.raises(ValueError) as error:
        load_hifigan(path)
    message = str(error.value)
    assert str(path) in message and "config_v*.json" in message and "config='path/to/config.json'" in message
    assert "80 mel channels in, 32 channels after conv_pre, 3 upsampling stages" in message
    assert "ResBlock2" in message and "none of the published V1, V2, V3" in message


def test_weights_that_do_not_fit_the_config_are_a_clear_error_naming_the_file(tmp_path):
    path = tmp_path / "g_00000001"
    torch.save(reference_checkpoint(Generator(SMALL)), path)
    write_config(tmp_path, SMALL_RESBLOCK1)
    with pytest.raises(ValueError, match=re.escape(f"{path}: the weights (80 mel channels in")) as error:
        load_hifigan(path)
    assert "config.json beside it" in str(error.value) and "missing from the file" in str(error.value)


def test_a_pickle_that_would_run_code_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    path = tmp_path / "g_00000001"
    torch.save({"generator": Payload()}, path)
    with pytest.raises(PickledCodeError, match="names code to run while loading.*system"):
        load_hifigan(path)
    with pytest.raises(LegacyPickleError, match="allow_legacy_pickle"):
        load_vocoder(str(path), create_hparams())
    assert not marker.exists()


def test_a_discriminator_file_points_to_its_generator_file(tmp_path):
    path = tmp_path / "do_02500000"
    torch.save({"mpd": {"w": torch.zeros(1)}, "msd": {}, "optim_g": {}, "optim_d": {}, "steps": 2500000,
                "epoch": 3}, path)
    for load in (load_hifigan, lambda p: load_vocoder(str(p), create_hparams())):
        with pytest.raises(ValueError, match="discriminators and optimizers") as error:
            load(path)
        assert f"give the generator file, {tmp_path / 'g_02500000'}" in str(error.value)


def test_removing_weight_norm_leaves_the_output_unchanged():
    generator, mel = random_generator(SMALL_RESBLOCK1), mels()
    with torch.no_grad():
        before = generator(mel)
        after = generator.remove_weight_norm()(mel)
    assert not generator.has_weight_norm and before.std() > 0.01
    assert torch.allclose(before, after, atol=1e-5)


@pytest.mark.parametrize("config", [SMALL, SMALL_RESBLOCK1], ids=["resblock2", "resblock1"])
def test_output_has_hop_length_samples_per_frame(config):
    generator = random_generator(config).remove_weight_norm()
    for frames in (1, 7, 33):
        with torch.no_grad():
            assert generator(mels(2, frames)).shape == (2, 1, frames * 256)


def test_a_checkpoint_saved_after_weight_norm_removal_loads(tmp_path):
    generator, mel = random_generator(), mels()
    with torch.no_grad():
        expected = generator(mel)
    save_hifigan(tmp_path / "plain.pt", generator.remove_weight_norm())
    with torch.no_grad():
        assert torch.allclose(load_hifigan(tmp_path / "plain.pt")(mel), expected, atol=1e-5)


def test_vocoder_interface_gives_batch_by_samples_float32_in_range():
    vocoder = HiFiGANVocoder(random_generator().remove_weight_norm())
    audio = vocoder(mels(3, 7).double())
    assert audio.shape == (3, 7 * 256) and audio.dtype == torch.float32 and audio.abs().max() <= 1
    assert (vocoder.sampling_rate, vocoder.hop_length, vocoder.n_mel_channels) == (22050, 256, 80)
    assert vocoder.name == "HiFi-GAN (custom config)" and not audio.requires_grad
    assert HiFiGANVocoder(Generator(HIFIGAN_PRESETS["v3"])).name == "HiFi-GAN V3"
    assert evaluate.describe(vocoder) == "HiFi-GAN (custom config)"


def test_load_vocoder_tells_every_file_kind_apart_by_content(tmp_path, monkeypatch, tiny_checkpoint):
    hparams = create_hparams("griffin_lim_iters=2")
    assert isinstance(load_vocoder(None, hparams), GriffinLimVocoder)
    # HiFi-GAN: the reference's generator file (with a config.json), and our training checkpoint
    (tmp_path / "reference").mkdir()
    torch.save(reference_checkpoint(random_generator()), tmp_path / "reference" / "generator")
    write_config(tmp_path / "reference", SMALL)
    save_hifigan(tmp_path / "hifigan_7", random_generator(), mpd={"w": torch.zeros(2)}, msd={}, optim_g={},
                 optim_d={}, iteration=7, epoch=1, hparams={"sampling_rate": 22050})
    for path in (tmp_path / "reference" / "generator", tmp_path / "hifigan_7"):
        vocoder = load_vocoder(str(path), hparams)
        assert isinstance(vocoder, HiFiGANVocoder) and vocoder(mels(1, 3)).shape == (1, 3 * 256)
    # WaveGlow: ours, and NVIDIA's pickle (only by opt-in)
    save_waveglow(tmp_path / "wg.pt", tiny_waveglow(n_mel_channels=80))
    assert isinstance(load_vocoder(str(tmp_path / "wg.pt"), hparams), WaveGlowVocoder)
    glow = _fake_glow_module(old_cond_layers=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the deprecated weight_norm NVIDIA's files were made with
        legacy = glow.WaveGlow(8, 4, 8, 2, 2, dict(n_layers=2, n_channels=8, kernel_size=3))
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "glow", glow)
        torch.save({"model": legacy, "iteration": 7}, tmp_path / "waveglow_legacy.pt")
    hparams_8 = create_hparams("n_mel_channels=8")
    with pytest.raises(LegacyPickleError, match="--allow_legacy_pickle"):
        load_vocoder(str(tmp_path / "waveglow_legacy.pt"), hparams_8)
    vocoder = load_vocoder(str(tmp_path / "waveglow_legacy.pt"), hparams_8, allow_legacy_pickle=True)
    assert isinstance(vocoder, WaveGlowVocoder) and vocoder.name == "WaveGlow"
    # not vocoders
    with pytest.raises(ValueError, match="a Tacotron 2 checkpoint .* give it as --checkpoint"):
        load_vocoder(str(tiny_checkpoint[0]), hparams)
    torch.save({"weights": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a vocoder file: .* found the keys weights"):
        load_vocoder(str(tmp_path / "other.pt"), hparams)


def test_load_vocoder_checks_the_mel_settings_and_refuses_the_denoiser_for_hifigan(tmp_path):
    hop_128 = HiFiGANConfig(**{**SMALL.to_dict(), "upsample_rates": (8, 4, 4),
                               "upsample_kernel_sizes": (16, 8, 8)})
    save_hifigan(tmp_path / "hop128.pt", Generator(hop_128))
    with pytest.raises(ValueError, match="HiFi-GAN \\(custom config\\) takes 80 mel channels at hop 128, but "
                                         "hparams have 80 at hop 256"):
        load_vocoder(str(tmp_path / "hop128.pt"), create_hparams())
    save_hifigan(tmp_path / "small.pt", Generator(SMALL))
    with pytest.raises(ValueError, match="denoiser is WaveGlow's"):
        load_vocoder(str(tmp_path / "small.pt"), create_hparams(), denoiser_strength=0.01)


def test_inference_command_line_with_a_hifigan_vocoder_writes_a_wav(tiny_checkpoint, tmp_path, repo_root):
    save_hifigan(tmp_path / "hifigan.pt", random_generator())
    result = run_cli("-c", tiny_checkpoint[0], "--text", "Hello world.", "-o", tmp_path / "out",
                     "--vocoder", tmp_path / "hifigan.pt", "--device", "cpu", cwd=repo_root)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    check_outputs(tmp_path / "out" / "utt_001")
    assert b"with HiFi-GAN (custom config): real-time factor" in result.stdout


@pytest.mark.parametrize("main", [inference.main, evaluate.main], ids=["inference", "evaluate"])
def test_vocoder_and_its_alias_waveglow_together_are_an_error(main, capsys):
    with pytest.raises(SystemExit) as error:
        main(["-c", "ck", "-f", "list", "--vocoder", "a.pt", "--waveglow", "b.pt"] if main is evaluate.main
             else ["-c", "ck", "--text", "Hi.", "--vocoder", "a.pt", "--waveglow", "b.pt"])
    assert error.value.code == 2 and "--waveglow is another name for --vocoder" in capsys.readouterr().err
