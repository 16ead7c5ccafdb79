"""Masked convolutions and PixelCNN: masks, counts and the dependency set against autograd."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from derived.critical_path import longest_chains, stack_jacobian
from derived.masked_conv import PixelCNN, causal_mask, dependency_offsets, masked_conv2d


def pixelcnn(d, *, channels=2, kernel_size=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return PixelCNN(channels, d, kernel_size=kernel_size, generator=g)


def seen_by(net, height, width, i, j, *, channels=2):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(1, channels, height, width, generator=g, dtype=torch.float64)
    x.requires_grad_()
    net(x)[0, :, i, j].sum().backward()
    return x.grad[0].abs().sum(0) != 0


@pytest.mark.parametrize("kernel_size", [1, 3, 5, 7])
def test_masks_keep_exactly_the_raster_order_predecessors(kernel_size):
    c = kernel_size // 2
    for mask_type, centre in (("A", False), ("B", True)):
        mask = causal_mask(kernel_size, mask_type=mask_type)
        for a in range(kernel_size):
            for b in range(kernel_size):
                before = (a, b) < (c, c)  # tuple order is raster order
                expected = before or (centre and (a, b) == (c, c))
                assert mask[a, b].item() == float(expected)
        assert mask.sum().item() == (kernel_size**2 - 1) // 2 + centre


@pytest.mark.parametrize("mask_type", ["A", "B"])
def test_output_pixel_never_depends_on_later_pixels(mask_type):
    g = torch.Generator().manual_seed(1)
    w = torch.randn(2, 2, 3, 3, generator=g, dtype=torch.float64)
    mask = causal_mask(3, mask_type=mask_type)
    x = torch.zeros(1, 2, 5, 6, dtype=torch.float64)
    jac = torch.func.jacrev(lambda t: masked_conv2d(t, w, mask=mask))(x)[0]
    for i in range(5):
        for j in range(6):
            live = jac[:, i, j].abs().sum((0, 1, 2)) != 0  # inputs that reach output (i, j)
            for p, q in live.nonzero().tolist():
                assert (p, q) < (i, j) or (mask_type == "B" and (p, q) == (i, j))


def nonzero_jacobian_entries(net, height: int, width: int) -> int:
    """Input-output pairs that touch, summed over the layers, from each layer's Jacobian."""
    total = 0
    for w, m in zip(net.weights, net.masks(), strict=True):
        x = torch.zeros(1, 2, height, width, dtype=torch.float64)
        jac = torch.func.jacrev(lambda t, w=w, m=m: masked_conv2d(t, w, mask=m))(x)
        total += int((jac != 0).sum())
    return total


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize(("height", "width"), [(4, 5), (7, 7)])
def test_connections_are_the_nonzero_entries_of_each_layer_jacobian(d, height, width):
    net = pixelcnn(d)
    total = nonzero_jacobian_entries(net, height, width)
    assert net.connections(height, width) == total
    bound = sum(net.live_taps()) * height * width * 2**2
    assert net.connections(height, width) <= bound


def test_live_taps_and_weights_are_counted_from_the_masks():
    net = pixelcnn(3, channels=4)
    assert net.live_taps() == [4, 5, 5]
    dense = sum(p.numel() for p in net.parameters())
    live = sum(int((p.grad != 0).sum()) for p in _grads(net))
    assert net.weight_count() == live < dense


def _grads(net):
    g = torch.Generator().manual_seed(5)
    x = torch.randn(2, 4, 9, 9, generator=g, dtype=torch.float64)
    net.zero_grad()
    net(x).sum().backward()
    return list(net.parameters())


@settings(max_examples=6)
@given(d=st.integers(1, 4))
def test_dependency_set_is_what_autograd_sees(d):
    net = pixelcnn(d)
    size = 2 * d + 5
    seen = seen_by(net, size, size, size // 2, size // 2)
    field = dependency_offsets(d)
    expected = torch.zeros(size, size, dtype=torch.bool)
    lo = size // 2 - d
    expected[lo : lo + 2 * d + 1, lo : lo + 2 * d + 1] = field.bool()
    assert torch.equal(seen, expected)
    # Its size, and the blind spot: earlier pixels within reach that are still unseen.
    assert int(field.sum()) == d + 3 * d * (d + 1) // 2
    window = 2 * d * (d + 1)  # the d rows above (width 2d + 1) and d pixels to the left
    assert window - int(field.sum()) == d * (d - 1) // 2


@pytest.mark.parametrize(("d", "height", "width"), [(1, 3, 4), (4, 5, 6), (3, 7, 3)])
def test_sequential_steps_are_the_longest_chain_of_dependencies(d, height, width):
    # Measured from the Jacobian of the layers: the depth, whatever the image size.
    net = pixelcnn(d)
    layers = [
        lambda below, own, w=w, m=m: torch.tanh(masked_conv2d(below, w, mask=m))
        for w, m in zip(net.weights, net.masks(), strict=True)
    ]
    g = torch.Generator().manual_seed(4)
    shape = (1, 2, height, width)
    states = [torch.randn(shape, generator=g, dtype=torch.float64) for _ in range(d + 1)]
    levels = longest_chains(stack_jacobian(layers, states))[-2 * height * width :]
    levels = levels.reshape(2, height, width)
    # The first pixel has nothing before it, so its first layer reads nothing.
    assert (levels[:, 0, 0] == d - 1).all()
    assert (levels.flatten(1)[:, 1:] == d).all()
    assert net.sequential_steps() == int(levels.max()) == d


def test_sampling_needs_one_pass_per_pixel():
    assert pixelcnn(4).sampling_passes(5, 6) == 30


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (lambda: causal_mask(4, mask_type="A"), ValueError, "kernel_size"),
        (lambda: causal_mask(0, mask_type="A"), ValueError, "kernel_size"),
        (lambda: causal_mask(3, mask_type="C"), ValueError, "mask_type"),
        (
            lambda: masked_conv2d(
                torch.zeros(3, 3), torch.zeros(1, 1, 3, 3), mask=torch.ones(3, 3)
            ),
            ValueError,
            "x",
        ),
        (lambda: pixelcnn(0), ValueError, "d"),
        (lambda: pixelcnn(1, channels=0), ValueError, "channels"),
        (lambda: pixelcnn(1).connections(0, 3), ValueError, "height"),
        (lambda: pixelcnn(1).sampling_passes(3, 0), ValueError, "width"),
        (lambda: dependency_offsets(0), ValueError, "d"),
    ],
)
def test_bad_input_is_refused_naming_the_argument(call, error, name):
    with pytest.raises(error, match=rf"^{name} "):
        call()


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: pixelcnn(1).sampling_passes(0, 3), "height"),
        (lambda: pixelcnn(1).connections(3, 0), "width"),
    ],
)
def test_each_size_argument_is_named_when_refused(call, name):
    with pytest.raises(ValueError, match=rf"^{name} "):
        call()


@pytest.mark.parametrize(("height", "width"), [(1, 1), (2, 3), (3, 1), (6, 6)])
def test_connections_of_a_wide_kernel_on_small_images(height, width):
    # A 5x5 kernel reaches two rows and columns away: off the image on small ones.
    net = pixelcnn(2, kernel_size=5)
    total = nonzero_jacobian_entries(net, height, width)
    assert net.connections(height, width) == total


@pytest.mark.parametrize("d", [1, 2])
def test_dependency_set_of_a_wide_kernel_is_what_autograd_sees(d):
    net = pixelcnn(d, kernel_size=5)
    field = dependency_offsets(d, kernel_size=5)
    size = len(field)
    assert size == 4 * d + 1  # d layers that each reach 2 pixels
    assert torch.equal(seen_by(net, size, size, size // 2, size // 2), field.bool())


def test_weights_have_variance_one_over_the_fan_in_and_are_reproducible():
    channels, kernel_size = 8, 3
    a = pixelcnn(16, channels=channels, kernel_size=kernel_size, seed=5)
    b = pixelcnn(16, channels=channels, kernel_size=kernel_size, seed=5)
    weights = torch.cat([w.detach().flatten() for w in a.weights])  # 9216 draws
    assert abs(weights.var().item() * channels * kernel_size**2 - 1) < 0.05
    assert abs(weights.mean().item()) < 0.02
    assert all(torch.equal(u, v) for u, v in zip(a.weights, b.weights, strict=True))


def test_a_single_precision_network_keeps_its_masks_and_output_in_single_precision():
    g = torch.Generator().manual_seed(0)
    net = PixelCNN(2, 2, generator=g, dtype=torch.float32)
    assert all(t.dtype == torch.float32 for t in [*net.parameters(), *net.buffers()])
    x = torch.randn(1, 2, 4, 5, generator=g)
    assert net(x).dtype == torch.float32
    # A float64 mask from causal_mask works with float32 weights and input.
    y = masked_conv2d(x, net.weights[1], mask=causal_mask(3, mask_type="B"))
    assert y.dtype == torch.float32
    torch.testing.assert_close(y, masked_conv2d(x, net.weights[1], mask=net.masks()[1]))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: masked_conv2d(
                torch.zeros(3, 3), torch.zeros(1, 1, 3, 3), mask=torch.ones(3, 3)
            ),
            r"^x must have shape \(N, C, H, W\)",
        ),
        (
            lambda: masked_conv2d(torch.zeros(1, 1, 3, 3), torch.zeros(3), mask=torch.ones(3, 3)),
            r"^weight must have shape \(C_out, C_in, K, K\)",
        ),
        (
            lambda: masked_conv2d(
                torch.zeros(1, 1, 3, 3), torch.tensor(1.0), mask=torch.ones(3, 3)
            ),
            r"^weight must have shape \(C_out, C_in, K, K\)",
        ),
        (
            lambda: masked_conv2d(
                torch.zeros(1, 1, 3, 3), torch.zeros(1, 1, 2, 2), mask=torch.ones(2, 2)
            ),
            r"^weight must have shape \(C_out, C_in, K, K\) .*K odd",
        ),
        (lambda: pixelcnn(2)(torch.zeros(2, 4, 4)), r"^x must have shape \(N, k, H, W\)"),
    ],
)
def test_refusals_say_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call()
