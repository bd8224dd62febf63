"""CPU kernels for training LeNet's two convolution + max-pooling stages (and fc1) quickly.

LeNet's convolutions are tiny (1 -> 6 and 6 -> 16 channels), and for such shapes torch's
general-purpose CPU kernels spend much of a classic training step outside the arithmetic:
``max_pool2d`` on the 6 x 24 x 24 maps costs more than conv1 itself, and oneDNN computes
conv2's weight gradient ~2.7x faster in channels-last but its input gradient ~2.3x faster in
NCHW; batch norm's CPU kernels are several times slower in channels-last than in NCHW for
conv1's 6 channels. ``python benchmarks/layer_kernels.py`` times each stage both ways.

Both compute what the textbook layers compute, up to the float rounding of another
summation order:

- ``conv_max_pool2x2`` (conv1 + pool1): one stride-2 convolution with the kernel shifted to
  each of the four positions of a pooling window gives the four quadrants of the convolution's
  output as contiguous blocks; their maximum is then a few cheap element-wise passes instead of
  a pooling kernel. The gradient goes to the first maximum of each window, as max_pool2d's does.
  Batch norm between them runs on the quadrants, seen as four times the samples.
- ``conv2d_mixed_layouts`` (conv2): a convolution whose two gradients each run in the layout
  where oneDNN is fastest.
- ``linear_on_channels_last`` (fc1): reads pool2's channels-last output in memory order, with
  the weight's columns reordered to match, instead of copying the batch into C, H, W order.

``LeNet.fast_logits`` uses them on the CPU, for training and for batch evaluation; the
inspector, saliency and the model exports run the layers one by one, as drawn.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

_CHANNELS_LAST = torch.channels_last


class _MaxOfQuadrants(torch.autograd.Function):
    """Element-wise maximum of the four blocks ``y[:, 0..3]`` of an N x 4 x K tensor."""

    @staticmethod
    def forward(ctx, quadrants: torch.Tensor) -> torch.Tensor:
        top_left, top_right, bottom_left, bottom_right = quadrants.unbind(1)
        # Which candidate won, as floats: torch's comparisons into bool tensors and
        # torch.where run ~10x slower on the CPU than float arithmetic on these sizes.
        # Strict comparisons let the first of equal values win, as in max_pool2d.
        choices = quadrants.new_empty(3, *top_left.shape)
        right_won_top, right_won_bottom, bottom_won = choices.unbind(0)
        torch.gt(top_right, top_left, out=right_won_top)
        torch.gt(bottom_right, bottom_left, out=right_won_bottom)
        top = torch.maximum(top_left, top_right)
        bottom = torch.maximum(bottom_left, bottom_right)
        torch.gt(bottom, top, out=bottom_won)
        ctx.save_for_backward(choices)
        return torch.maximum(top, bottom)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor) -> torch.Tensor:
        (choices,) = ctx.saved_tensors
        right_won_top, right_won_bottom, bottom_won = choices.unbind(0)
        n, k = grad_out.shape
        grad = grad_out.new_empty(n, 4, k)
        top_left, top_right, bottom_left, bottom_right = grad.unbind(1)
        # Products with 0/1 and differences with them are exact: each window's gradient lands
        # whole on its winner and zeros elsewhere.
        to_bottom = grad_out * bottom_won
        to_top = grad_out - to_bottom
        torch.mul(to_top, right_won_top, out=top_right)
        torch.sub(to_top, top_right, out=top_left)
        torch.mul(to_bottom, right_won_bottom, out=bottom_right)
        torch.sub(to_bottom, bottom_right, out=bottom_left)
        return grad


def quadrant_kernels(weight: torch.Tensor) -> torch.Tensor:
    """C x Cin x k x k -> 4C x Cin x (k+1) x (k+1): the kernel shifted by (row, col) in
    (0, 0), (0, 1), (1, 0), (1, 1), in that order (a pooling window's scan order)."""
    shifted = [F.pad(weight, (col, 1 - col, row, 1 - row)) for row in (0, 1) for col in (0, 1)]
    return torch.cat(shifted, 0)


def conv_max_pool2x2(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
    per_channel: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> torch.Tensor:
    """``F.max_pool2d(per_channel(F.conv2d(x, weight, bias)), 2, 2)`` for a stride-1, unpadded
    convolution whose output has even height and width; ``per_channel``, if given, a layer that
    treats each channel's values alike whatever their place, such as batch norm (whose statistics
    are each channel's over the batch and every position). Returns an NCHW-contiguous tensor."""
    channels = weight.shape[0]
    # NCHW in and out, so that each quadrant is one contiguous block per sample. The bias goes
    # into the convolution (each quadrant's copy of it), which adds it for free.
    quadrant_bias = None if bias is None else bias.repeat(4)
    quadrants = F.conv2d(x.contiguous(), quadrant_kernels(weight).contiguous(), quadrant_bias, stride=2)
    n, _, height, width = quadrants.shape
    if per_channel is not None:
        # The quadrants as four times the samples, each with the layer's channels: the layer
        # sees every value of each channel once, in NCHW (where batch norm's CPU kernels run
        # several times faster than in channels-last for LeNet's 6 channels).
        quadrants = per_channel(quadrants.view(n * 4, channels, height, width))
    blocks = quadrants.reshape(n, 4, channels * height * width)
    if blocks.requires_grad:  # never under no_grad
        pooled = _MaxOfQuadrants.apply(blocks)
    else:
        # Evaluation and inference: no gradient to route, so no record of which value won.
        top_left, top_right, bottom_left, bottom_right = blocks.unbind(1)
        pooled = torch.maximum(torch.maximum(top_left, top_right), torch.maximum(bottom_left, bottom_right))
    return pooled.view(n, channels, height, width)


class _Conv2dMixedLayouts(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        x_nchw = x.contiguous()
        x_cl = x.contiguous(memory_format=_CHANNELS_LAST)
        weight_cl = weight.contiguous(memory_format=_CHANNELS_LAST)
        ctx.save_for_backward(x_nchw, x_cl, weight_cl)
        ctx.has_bias = bias is not None
        return F.conv2d(x_cl, weight_cl, bias)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        x_nchw, x_cl, weight_cl = ctx.saved_tensors
        needs_input, needs_weight, needs_bias = ctx.needs_input_grad
        bias_sizes = [weight_cl.shape[0]] if ctx.has_bias else None
        common = ([1, 1], [0, 0], [1, 1], False, [0, 0], 1)
        grad_input = grad_weight = grad_bias = None
        if needs_weight or needs_bias:
            _, grad_weight, grad_bias = torch.ops.aten.convolution_backward(
                grad_out.contiguous(memory_format=_CHANNELS_LAST), x_cl, weight_cl, bias_sizes, *common,
                [False, needs_weight, needs_bias and ctx.has_bias],
            )
        if needs_input:
            grad_input, _, _ = torch.ops.aten.convolution_backward(
                grad_out.contiguous(), x_nchw, weight_cl.contiguous(), bias_sizes, *common, [True, False, False]
            )
        return grad_input, grad_weight, grad_bias


def conv2d_mixed_layouts(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """``F.conv2d(x, weight, bias)`` (stride 1, no padding); the result is channels-last."""
    return _Conv2dMixedLayouts.apply(x, weight, bias)


def linear_on_channels_last(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """``F.linear(torch.flatten(x, 1), weight, bias)`` for an N x C x H x W ``x``, read in its
    memory order when it is channels-last: the weight's columns are put in H, W, C order (a copy
    of the weight, small) instead of the activations in C, H, W order (a copy of the batch)."""
    n, channels, height, width = x.shape
    if not x.is_contiguous(memory_format=_CHANNELS_LAST) or x.is_contiguous():
        return F.linear(torch.flatten(x, 1), weight, bias)
    columns_hwc = weight.view(-1, channels, height, width).permute(0, 2, 3, 1).reshape(weight.shape[0], -1)
    return F.linear(x.permute(0, 2, 3, 1).reshape(n, -1), columns_hwc, bias)
