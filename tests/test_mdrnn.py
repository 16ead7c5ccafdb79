"""The MDRNN recurrence: the raster loop solves it; counts against torch and autograd."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from mdrnn_cases import cell_levels, inputs, model

from derived.mdrnn import preactivation, raster, weight_count


@settings(max_examples=20)
@given(height=st.integers(1, 6), width=st.integers(1, 6), n=st.integers(1, 3))
def test_raster_loop_solves_the_recurrence(height, width, n):
    net = model()
    x = inputs(n, 2, height, width)
    h, steps, schedule = raster(x, *net.layers()[0])
    # The defining identity h = tanh(a(x, h)), with a written independently of the loop.
    torch.testing.assert_close(h, torch.tanh(preactivation(x, h, *net.layers()[0])))
    assert steps == height * width
    order = torch.arange(height * width).reshape(height, width)
    assert torch.equal(schedule, order)  # reading order, one cell per step


def test_raster_loop_matches_a_torch_rnn_cell_on_a_single_row():
    # With one row there is no north neighbour: the layer is a plain tanh RNN along the row.
    net = model(D=2, k=3)
    W_in, W_W, _ = net.layers()[0]
    cell = torch.nn.RNNCell(2, 3, bias=False, dtype=torch.float64)
    with torch.no_grad():
        cell.weight_ih.copy_(W_in)
        cell.weight_hh.copy_(W_W)
    x = inputs(2, 2, 1, 6)
    h = torch.zeros(2, 3, dtype=torch.float64)
    expected = []
    for j in range(6):
        h = cell(x[:, :, 0, j], h)
        expected.append(h)
    torch.testing.assert_close(raster(x, *net.layers()[0]).h[:, :, 0], torch.stack(expected, -1))


@pytest.mark.parametrize(("D", "k", "d"), [(1, 1, 1), (3, 5, 1), (2, 4, 3)])
def test_weight_count_is_the_modules_parameter_count(D, k, d):
    net = model(D=D, k=k, d=d)
    expected = weight_count(D, k) + (d - 1) * weight_count(k, k)
    assert sum(p.numel() for p in net.parameters()) == expected


@pytest.mark.parametrize(("height", "width"), [(1, 1), (2, 3), (4, 4)])
def test_connections_are_the_nonzero_entries_of_the_cell_jacobian(height, width):
    # Connections are the direct links: nonzero entries of da/d(x, h), one application of
    # the cell. Each is also one multiply-add, so this is the arithmetic as well.
    net = model(D=2, k=3)
    weights = net.layers()[0]
    x = inputs(1, 2, height, width)
    h = torch.zeros(1, 3, height, width, dtype=torch.float64)
    jx, jh = torch.func.jacrev(lambda a, b: preactivation(a, b, *weights), argnums=(0, 1))(x, h)
    direct = int((jx != 0).sum() + (jh != 0).sum())
    assert net.connections(height, width) == direct
    D, k = 2, 3
    assert direct == height * width * D * k + (2 * height * width - height - width) * k**2


def test_dependency_map_is_the_whole_north_west_quadrant():
    net = model(d=2)
    x = inputs(1, 2, 6, 7).requires_grad_()
    i, j = 3, 4
    net(x)[0, :, i, j].sum().backward()
    seen = x.grad[0].abs().sum(0) != 0
    rows = torch.arange(6)[:, None]
    cols = torch.arange(7)[None, :]
    assert torch.equal(seen, (rows <= i) & (cols <= j))


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (lambda: raster(torch.zeros(2, 3, 4), *model().layers()[0]), ValueError, "x"),
        (lambda: raster(torch.zeros(1, 5, 3, 3), *model().layers()[0]), ValueError, "W_in"),
        (
            lambda: raster(torch.zeros(1, 2, 3, 3), *model().layers()[0][:2], torch.zeros(2, 2)),
            ValueError,
            "W_N",
        ),
        (
            lambda: raster(torch.zeros(1, 2, 3, 3, dtype=torch.int64), *model().layers()[0]),
            TypeError,
            "x",
        ),
        (lambda: weight_count(0, 3), ValueError, "input_size"),
        (lambda: model(k=0), ValueError, "hidden_size"),
        (lambda: model().evaluate(torch.zeros(1, 2, 3, 3), method="scan"), ValueError, "method"),
        (lambda: model().connections(3, 0), ValueError, "width"),
        (lambda: model().sequential_steps(0, 3), ValueError, "height"),
    ],
)
def test_bad_input_is_refused_naming_the_argument(call, error, name):
    with pytest.raises(error, match=rf"^{name} "):
        call()


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda: weight_count(3, 0), "hidden_size"),
        (lambda: model(D=0), "input_size"),
        (lambda: model(d=0), "d"),
        (lambda: model().connections(0, 3), "height"),
        (lambda: model().sequential_steps(3, 0), "width"),
    ],
)
def test_each_size_argument_is_named_when_refused(call, name):
    with pytest.raises(ValueError, match=rf"^{name} "):
        call()


def test_a_stacks_connections_are_the_sum_of_its_layers():
    # Layer 1 maps D inputs to k units; every later layer maps k to k.
    for height, width in [(1, 1), (3, 2)]:
        per_layer = model(D=2, k=3).connections(height, width)
        per_layer += model(D=3, k=3).connections(height, width)
        assert model(D=2, k=3, d=2).connections(height, width) == per_layer


def test_sequential_steps_count_the_default_evaluation():
    net = model()
    assert net.sequential_steps(3, 4) == net.evaluate(inputs(1, 2, 3, 4)).steps


def test_weights_have_variance_one_over_the_fan_in_and_are_reproducible():
    a, b = model(D=64, k=64, d=2, seed=3), model(D=64, k=64, d=2, seed=3)
    weights = torch.cat([w.detach().flatten() for w in a.parameters()])  # 6 x 4096 draws
    assert abs(weights.var().item() * 64 - 1) < 0.05
    assert abs(weights.mean().item()) < 0.01
    assert all(torch.equal(u, v) for u, v in zip(a.parameters(), b.parameters(), strict=True))


@pytest.mark.parametrize("method", ["raster", "wavefront", "pipelined"])
def test_the_schedule_holds_integer_step_numbers(method):
    schedule = model().evaluate(inputs(1, 2, 3, 4), method=method).schedule
    assert schedule.dtype == torch.long


def test_shape_refusals_name_the_weight_and_the_expected_shape():
    W_in, W_W, W_N = model(D=2, k=3).layers()[0]
    x = inputs(1, 2, 3, 3)
    with pytest.raises(ValueError, match=r"^W_in must have shape \(3, 2\)"):
        raster(x, W_in[:, :1], W_W, W_N)
    with pytest.raises(ValueError, match=r"^W_W must have shape \(3, 3\)"):
        raster(x, W_in, torch.zeros(3, 4, dtype=torch.float64), W_N)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: model().evaluate(torch.zeros(2, 3, 4)),
            ValueError,
            r"^x must have shape \(N, D, H, W\)",
        ),
        (
            lambda: raster(torch.zeros(2, 3, 4), *model().layers()[0]),
            ValueError,
            r"^x must have shape \(N, D, H, W\)",
        ),
        (
            # W_W sets k and x sets D: W_in must be (k, D).
            lambda: raster(
                inputs(1, 2, 3, 3), model().layers()[0][0][:, :1], *model().layers()[0][1:]
            ),
            ValueError,
            r"^W_in must have shape \(3, 2\) for W_W and x, got \(3, 1\)",
        ),
        (
            lambda: raster(inputs(1, 2, 3, 3), *model().layers()[0][:2], torch.tensor(0.5)),
            ValueError,
            r"^W_N must have shape \(3, 3\) for W_W and x, got \(\)",
        ),
        (
            # A W_W with no dimensions has no rows, k = 0, so no W_in fits.
            lambda: raster(
                inputs(1, 2, 3, 3), model().layers()[0][0], torch.tensor(0.5), torch.zeros(3, 3)
            ),
            ValueError,
            r"^W_in must have shape \(0, 2\) for W_W and x, got \(3, 2\)",
        ),
        (
            lambda: preactivation(inputs(1, 2, 3, 3), torch.zeros(3, 3, 3), *model().layers()[0]),
            ValueError,
            r"^h must have shape \(N, k, H, W\)",
        ),
        (
            # The batch size agrees but the grid does not.
            lambda: preactivation(
                inputs(1, 2, 3, 3), torch.zeros(1, 3, 3, 4), *model().layers()[0]
            ),
            ValueError,
            r"^h must have shape \(1, 3, 3, 3\) \(N may be 1 in x or h\), got \(1, 3, 3, 4\)",
        ),
        (
            # The grid agrees but two batch sizes, neither 1, do not broadcast.
            lambda: preactivation(
                inputs(2, 2, 3, 3), torch.zeros(3, 3, 3, 3), *model().layers()[0]
            ),
            ValueError,
            r"^h must have shape \(2, 3, 3, 3\) \(N may be 1 in x or h\), got \(3, 3, 3, 3\)",
        ),
    ],
)
def test_refusals_say_what_was_expected(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_the_batch_dimension_broadcasts_between_x_and_h():
    weights = model().layers()[0]
    x = inputs(3, 2, 3, 4)
    h = torch.tanh(inputs(1, 3, 3, 4, seed=2))
    expected = torch.stack([preactivation(x[i : i + 1], h, *weights)[0] for i in range(3)])
    torch.testing.assert_close(preactivation(x, h, *weights), expected)


@settings(max_examples=10)
@given(height=st.integers(1, 4), width=st.integers(1, 4), d=st.integers(1, 3))
def test_sequential_steps_are_the_longest_chain_of_dependencies(height, width, d):
    # The chain is measured from the Jacobian of the cell, not from any schedule.
    net = model(d=d)
    levels = cell_levels(net, height, width)
    i, j = torch.arange(height)[:, None], torch.arange(width)[None, :]
    ell = torch.arange(d)[:, None, None, None]
    assert torch.equal(levels, (i + j + ell + 1).expand_as(levels))
    chain = int(levels.max())
    assert net.sequential_steps(height, width) == chain == height + width + d - 2
    assert net.sequential_steps(height, width, method="raster") == d * height * width >= chain
