"""Building blocks: Xavier-initialised linear and conv layers, length masks, and (below) the mel
front-end `TacotronSTFT` on torch.stft with its Griffin-Lim inverse.
"""

import torch
from torch import Tensor, nn


class LinearNorm(nn.Module):
    """nn.Linear with Xavier-uniform weights scaled by the gain of the following nonlinearity."""

    def __init__(self, in_dim: int, out_dim: int, bias: bool = True, w_init_gain: str = "linear"):
        super().__init__()
        self.linear_layer = nn.Linear(in_dim, out_dim, bias=bias)
        nn.init.xavier_uniform_(self.linear_layer.weight, gain=nn.init.calculate_gain(w_init_gain))

    def forward(self, x: Tensor) -> Tensor:
        return self.linear_layer(x)


class ConvNorm(nn.Module):
    """1-d convolution, 'same' padding for odd kernels, Xavier-uniform weights with the given gain."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 1, stride: int = 1,
                 padding: int | None = None, dilation: int = 1, bias: bool = True, w_init_gain: str = "linear"):
        super().__init__()
        if padding is None:
            if kernel_size % 2 != 1:
                raise ValueError(f"ConvNorm needs an odd kernel_size for 'same' padding, got {kernel_size}")
            padding = dilation * (kernel_size - 1) // 2
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, stride=stride, padding=padding,
                              dilation=dilation, bias=bias)
        nn.init.xavier_uniform_(self.conv.weight, gain=nn.init.calculate_gain(w_init_gain))

    def forward(self, x: Tensor) -> Tensor:
        """x: (B, C_in, T) -> (B, C_out, T)."""
        return self.conv(x)


def lengths_to_mask(lengths: Tensor, max_len: int | None = None) -> Tensor:
    """lengths: (B,) -> bool mask (B, max_len), True on real positions, on the lengths' device."""
    if max_len is None:
        max_len = int(lengths.max())
    positions = torch.arange(max_len, device=lengths.device)
    return positions.unsqueeze(0) < lengths.unsqueeze(1)
