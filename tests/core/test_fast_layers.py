"""The CPU training kernels compute what the textbook layers compute, values and gradients."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from lenet_gui.core.fast_layers import _MaxOfQuadrants, conv2d_mixed_layouts, conv_max_pool2x2, linear_on_channels_last


def images_with_blank_borders(n: int, channels: int, size: int) -> torch.Tensor:
    # Blank regions make every pooling window there a tie, as the black background of real
    # digits and garments does.
    torch.manual_seed(3)
    x = torch.rand(n, channels, size, size)
    x[:, :, : size // 3] = 0
    x[:, :, :, -3:] = 0
    return x


@pytest.mark.parametrize("channels, size, out_channels", [(1, 28, 6), (6, 12, 16)], ids=["conv1", "conv2"])
def test_conv_max_pool_matches_conv_then_max_pool(channels, size, out_channels):
    x = images_with_blank_borders(32, channels, size).requires_grad_()
    weight = torch.randn(out_channels, channels, 5, 5, requires_grad=True)
    bias = torch.randn(out_channels, requires_grad=True)
    expected = F.max_pool2d(F.conv2d(x, weight, bias), 2, 2)
    got = conv_max_pool2x2(x, weight, bias)
    assert got.shape == expected.shape
    torch.testing.assert_close(got, expected)

    grad_out = torch.randn_like(expected)
    expected_grads = torch.autograd.grad(expected, (x, weight, bias), grad_out)
    got_grads = torch.autograd.grad(got, (x, weight, bias), grad_out)
    for name, want, have in zip(("input", "weight", "bias"), expected_grads, got_grads):
        torch.testing.assert_close(have, want, rtol=1e-4, atol=1e-4, msg=name)


def test_conv_max_pool_without_bias_and_from_channels_last_weights():
    x = images_with_blank_borders(8, 1, 28)
    weight = torch.randn(6, 1, 5, 5).contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(conv_max_pool2x2(x, weight, None), F.max_pool2d(F.conv2d(x, weight), 2, 2))


def test_conv_max_pool_breaks_ties_in_max_pools_scan_order():
    """Where two positions of a window hold the same maximum, the gradient goes to the first in
    scan order (top-right before bottom-left), as max_pool2d's does. A centred delta kernel makes
    the convolution a crop of its input, so the ties can be placed at will."""
    weight = torch.zeros(1, 1, 5, 5)
    weight[0, 0, 2, 2] = 1.0
    crop = torch.zeros(1, 1, 24, 24)
    crop[..., 0::2, 1::2] = 1.0  # top-right of every window
    crop[..., 1::2, 0::2] = 1.0  # bottom-left: the same value
    x = F.pad(crop, (2, 2, 2, 2)).requires_grad_()
    expected = F.max_pool2d(F.conv2d(x, weight), 2, 2)
    got = conv_max_pool2x2(x, weight, None)
    assert torch.equal(got, expected)
    grad_out = torch.rand_like(expected)
    (want,) = torch.autograd.grad(expected, x, grad_out)
    (have,) = torch.autograd.grad(got, x, grad_out)
    assert torch.equal(have, want)


def test_conv_max_pool_without_gradients_gives_the_training_values():
    """Evaluation skips recording the winners; the values must be those training sees."""
    x = images_with_blank_borders(16, 1, 28)
    weight = torch.randn(6, 1, 5, 5, requires_grad=True)
    bias = torch.randn(6, requires_grad=True)
    with torch.no_grad():
        evaluated = conv_max_pool2x2(x, weight, bias)
    trained = conv_max_pool2x2(x, weight, bias)
    assert trained.requires_grad and not evaluated.requires_grad
    assert torch.equal(evaluated, trained)
    torch.testing.assert_close(evaluated, F.max_pool2d(F.conv2d(x, weight, bias), 2, 2))


def quadrant_blocks(y: torch.Tensor) -> torch.Tensor:
    """N x C x H x W -> N x 4 x (C*H/2*W/2): the four positions of each 2x2 window, in scan order."""
    corners = [y[:, :, row::2, col::2] for row in (0, 1) for col in (0, 1)]
    return torch.stack([c.reshape(len(y), -1) for c in corners], 1)


def test_max_of_quadrants_routes_gradients_exactly_as_max_pool_does():
    """Every window's gradient goes whole to its first maximum, also where values tie."""
    y = images_with_blank_borders(16, 6, 24)
    y[:, :, 10:14, 10:14] = 0.5  # ties that are not zero
    y.requires_grad_()
    expected = F.max_pool2d(y, 2, 2)
    grad_out = torch.randn_like(expected)
    (expected_grad,) = torch.autograd.grad(expected, y, grad_out)

    blocks = quadrant_blocks(y.detach()).requires_grad_()
    got = _MaxOfQuadrants.apply(blocks)
    assert torch.equal(got, expected.reshape(16, -1))
    (got_grad,) = torch.autograd.grad(got, blocks, grad_out.reshape(16, -1))
    assert torch.equal(got_grad, quadrant_blocks(expected_grad))


def test_max_of_quadrants_passes_gradcheck():
    blocks = torch.randn(3, 4, 10, dtype=torch.double, requires_grad=True)
    assert torch.autograd.gradcheck(_MaxOfQuadrants.apply, (blocks,))


def test_conv2d_mixed_layouts_matches_conv2d():
    x = images_with_blank_borders(32, 6, 12).requires_grad_()
    weight = torch.randn(16, 6, 5, 5, requires_grad=True)
    bias = torch.randn(16, requires_grad=True)
    expected = F.conv2d(x, weight, bias)
    got = conv2d_mixed_layouts(x, weight, bias)
    torch.testing.assert_close(got, expected)
    assert got.is_contiguous(memory_format=torch.channels_last)

    grad_out = torch.randn_like(expected)
    for want, have in zip(torch.autograd.grad(expected, (x, weight, bias), grad_out),
                          torch.autograd.grad(got, (x, weight, bias), grad_out)):
        torch.testing.assert_close(have, want, rtol=1e-4, atol=1e-4)


def test_conv2d_mixed_layouts_computes_only_the_gradients_asked_for():
    x = torch.rand(4, 6, 12, 12)
    weight = torch.randn(16, 6, 5, 5, requires_grad=True)
    out = conv2d_mixed_layouts(x, weight, None)
    (grad_weight,) = torch.autograd.grad(out.sum(), weight)
    torch.testing.assert_close(grad_weight, torch.autograd.grad(F.conv2d(x, weight).sum(), weight)[0])
    assert torch.autograd.gradcheck(
        conv2d_mixed_layouts,
        (torch.rand(2, 2, 6, 6, dtype=torch.double, requires_grad=True),
         torch.randn(3, 2, 5, 5, dtype=torch.double, requires_grad=True),
         torch.randn(3, dtype=torch.double, requires_grad=True)),
    )


@pytest.mark.parametrize("channels_last", [True, False], ids=["channels-last", "nchw"])
def test_linear_on_channels_last_matches_flatten_then_linear(channels_last):
    x = torch.rand(8, 16, 4, 4)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    x.requires_grad_()
    weight = torch.randn(120, 256, requires_grad=True)
    bias = torch.randn(120, requires_grad=True)
    expected = F.linear(torch.flatten(x, 1), weight, bias)
    got = linear_on_channels_last(x, weight, bias)
    torch.testing.assert_close(got, expected)
    grad_out = torch.randn_like(expected)
    for want, have in zip(torch.autograd.grad(expected, (x, weight, bias), grad_out),
                          torch.autograd.grad(got, (x, weight, bias), grad_out)):
        torch.testing.assert_close(have, want)
