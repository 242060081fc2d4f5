"""HiFi-GAN's inference path (Generator.inference: in-place activations and sums, a shared first activation
per MRF, channels-last convolutions on CPU) against the plain forward it stands in for, and the training
path left as it was."""

import dataclasses
import math

import pytest
import torch

from waveglow_vocoder.hifigan import PRESETS, Generator

# V1, V2 and V3 in shape (block type, stages, rates, kernels, dilations) at a few channels, so that every
# length below runs in milliseconds
SMALL = {"v1": dataclasses.replace(PRESETS["v1"], upsample_initial_channel=64),
         "v2": dataclasses.replace(PRESETS["v2"], upsample_initial_channel=32),
         "v3": dataclasses.replace(PRESETS["v3"], upsample_initial_channel=32)}


def inference_generator(config) -> Generator:
    """Weight norm removed, weights scaled to keep the signal's size from layer to layer (fan-in
    initialisation; a quarter of it in conv_pre, whose input sits around -6) and random biases: audio of a
    trained generator's size (rms 0.1 to 0.7, little of it near tanh's +-1), where 1e-4 is a strict bound;
    the training initialisation (std 0.01) gives audio near 1e-3."""
    generator = Generator(config).remove_weight_norm().eval()
    with torch.no_grad():
        for module in generator.modules():
            if isinstance(module, torch.nn.Conv1d | torch.nn.ConvTranspose1d):
                fan_in = module.in_channels * module.kernel_size[0] // module.stride[0]
                gain = 0.25 if module is generator.conv_pre else 1.0
                module.weight.normal_(0.0, gain / math.sqrt(fan_in))
                module.bias.normal_(0.0, 0.1)
    return generator


def log_mels(batch_size: int, frames: int) -> torch.Tensor:
    return torch.randn(batch_size, 80, frames) * 2 - 6


@pytest.mark.parametrize("preset", list(SMALL))
@pytest.mark.parametrize("batch_size, frames", [(1, 1), (1, 7), (3, 5), (2, 33)])
def test_inference_matches_the_plain_forward(preset, batch_size, frames):
    generator = inference_generator(SMALL[preset])
    mels = log_mels(batch_size, frames)
    plain = generator.forward_plain(mels).detach()
    fast = generator.inference(mels)
    assert fast.shape == plain.shape == (batch_size, 1, frames * generator.hop_length)
    assert (fast - plain).abs().max() <= 1e-4
    # audio-sized and mostly off tanh's flat ends, so that 1e-4 is a strict bound
    assert plain.square().mean().sqrt() > 0.05 and (plain.abs() > 0.98).float().mean() < 0.1


@pytest.mark.parametrize("preset", list(PRESETS))
def test_inference_matches_the_plain_forward_at_the_published_sizes(preset):
    generator = inference_generator(PRESETS[preset])
    mels = log_mels(1, 6)
    with torch.inference_mode():
        assert (generator.inference(mels) - generator.forward_plain(mels)).abs().max() <= 1e-4


def test_forward_takes_the_inference_path_only_without_autograd_and_weight_norm():
    generator = Generator(SMALL["v1"])
    mels = log_mels(2, 4)
    with torch.no_grad():  # weight norm on: the plain forward, whatever the grad mode
        assert torch.equal(generator(mels), generator.forward_plain(mels))
    generator.remove_weight_norm()
    with torch.no_grad():
        assert torch.equal(generator(mels), generator.inference(mels))
    with torch.inference_mode():
        assert torch.equal(generator(mels), generator.inference(mels))
    audio = generator(mels)  # autograd on: the plain forward, with a graph to train through
    assert audio.requires_grad and torch.equal(audio.detach(), generator.forward_plain(mels).detach())


def test_inference_leaves_its_input_alone():
    generator = inference_generator(SMALL["v3"])
    for mels in (log_mels(1, 1), log_mels(2, 9), log_mels(1, 9).transpose(1, 2).contiguous().transpose(1, 2)):
        before = mels.clone()
        generator.inference(mels)
        assert torch.equal(mels, before)


def test_inference_in_float64_agrees_to_float64_rounding():
    generator = inference_generator(SMALL["v1"]).double()
    mels = log_mels(2, 5).double()
    assert (generator.inference(mels) - generator.forward_plain(mels)).abs().max() <= 1e-12


def test_bfloat16_is_an_opt_in_that_keeps_the_callers_dtype():
    generator = inference_generator(SMALL["v2"])
    mels = log_mels(1, 20)
    reference = generator.inference(mels)
    audio = generator.bfloat16().inference(mels)  # float32 mels into a bfloat16 generator
    assert audio.dtype == torch.float32 and audio.shape == reference.shape
    error = (audio - reference).square().mean().sqrt() / reference.square().mean().sqrt()
    assert 0 < error < 0.05  # bfloat16's 8-bit mantissa: about 1% here, never within 1e-4 (so opt-in)


def test_training_path_keeps_weight_norm_and_its_gradients():
    generator = Generator(SMALL["v3"]).train()
    assert generator.has_weight_norm
    names = [name for name, _ in generator.named_parameters()]
    assert all("weight" not in name or ".parametrizations.weight.original" in name for name in names)
    audio = generator(log_mels(2, 4))
    audio.square().mean().backward()
    for name, parameter in generator.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name
    with torch.no_grad():  # no autograd, weight norm still on: the plain forward, weight norm kept
        generator(log_mels(1, 3))
    assert generator.has_weight_norm


def test_gradients_flow_after_weight_norm_is_removed():
    generator = inference_generator(SMALL["v1"]).train()
    generator(log_mels(1, 4)).sum().backward()
    assert all(p.grad is not None for p in generator.parameters())


@pytest.mark.cuda
def test_inference_matches_the_plain_forward_on_cuda():
    generator = inference_generator(SMALL["v1"]).cuda()
    mels = log_mels(2, 11).cuda()
    assert (generator.inference(mels) - generator.forward_plain(mels)).abs().max() <= 1e-4
