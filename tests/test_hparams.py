"""hparams: reference defaults, the override parser's types and errors, presets, checkpoint round trip."""

import dataclasses

import pytest

from hparams import HParams, create_hparams, diff_from_defaults, hparams_from_dict


def test_defaults_are_the_reference_values():
    hparams = create_hparams()
    assert (hparams.sampling_rate, hparams.filter_length, hparams.hop_length, hparams.win_length) == (
        22050, 1024, 256, 1024)
    assert (hparams.n_mel_channels, hparams.mel_fmin, hparams.mel_fmax) == (80, 0.0, 8000.0)
    assert (hparams.learning_rate, hparams.weight_decay, hparams.grad_clip_thresh, hparams.batch_size) == (
        1e-3, 1e-6, 1.0, 64)
    assert hparams.n_symbols == 148
    assert hparams.ignore_layers == ["embedding.weight"]
    assert hparams.text_cleaners == ["english_cleaners"]
    assert hparams.guided_attn_weight == 0.0  # off in the LJ Speech preset


@pytest.mark.parametrize("string, name, expected", [
    ("batch_size=32", "batch_size", 32),
    ("learning_rate=5e-4", "learning_rate", 5e-4),
    ("fp16_run=True", "fp16_run", True),
    ("fp16_run=false", "fp16_run", False),
    ("distributed_run=1", "distributed_run", True),
    ("dist_backend=gloo", "dist_backend", "gloo"),
    ("ignore_layers=[embedding.weight,decoder.gate_layer.linear_layer.weight]", "ignore_layers",
     ["embedding.weight", "decoder.gate_layer.linear_layer.weight"]),
    ("ignore_layers=[]", "ignore_layers", []),
    ("text_cleaners=['basic_cleaners']", "text_cleaners", ["basic_cleaners"]),
    ("mel_cache_dir=", "mel_cache_dir", ""),
])
def test_override_is_parsed_by_field_type(string, name, expected):
    assert getattr(create_hparams(string), name) == expected


def test_several_overrides_and_spaces():
    hparams = create_hparams(" batch_size = 8, ignore_layers=[a, b] ,epochs=2")
    assert (hparams.batch_size, hparams.ignore_layers, hparams.epochs) == (8, ["a", "b"], 2)


def test_unknown_hparam_suggests_closest():
    with pytest.raises(ValueError, match=r"unknown hparam 'bach_size'; did you mean 'batch_size'\?"):
        create_hparams("bach_size=32")


@pytest.mark.parametrize("string, message", [
    ("batch_size=abc", r"hparam 'batch_size': expected int, got 'abc'"),
    ("fp16_run=maybe", r"hparam 'fp16_run': expected a bool"),
    ("learning_rate=fast", r"hparam 'learning_rate': expected float"),
    ("ignore_layers=embedding.weight", r"hparam 'ignore_layers': expected a list"),
    ("batch_size=8,batch_size=16", r"'batch_size' is given twice"),
    ("batch_size", r"cannot parse hparams"),
])
def test_bad_value_names_key_and_expected_type(string, message):
    with pytest.raises(ValueError, match=message):
        create_hparams(string)


def test_post_init_validates_after_override():
    with pytest.raises(ValueError, match="win_length=2048 > filter_length=1024"):
        create_hparams("win_length=2048")
    with pytest.raises(ValueError, match="n_frames_per_step=0"):
        create_hparams("n_frames_per_step=0")


def test_demo_preset_and_override_on_top():
    demo = create_hparams(preset="demo")
    assert demo.guided_attn_weight > 0 and demo.n_frames_per_step > 1
    assert demo.training_files.endswith("demo_audio_text_train_filelist.txt")
    assert create_hparams("preset=demo,batch_size=4") == dataclasses.replace(demo, batch_size=4)


def test_unknown_preset_is_an_error():
    with pytest.raises(ValueError, match="unknown preset 'dmo'; did you mean 'demo'"):
        create_hparams(preset="dmo")


def test_asdict_round_trip_and_diff():
    hparams = create_hparams("batch_size=8,ignore_layers=[x]")
    values = dataclasses.asdict(hparams)
    assert hparams_from_dict({**values, "a_key_from_a_newer_version": 1}) == hparams
    assert diff_from_defaults(hparams) == {"batch_size": 8, "ignore_layers": ["x"]}
    assert "batch_size=8" in str(hparams)
    assert HParams() == create_hparams()
