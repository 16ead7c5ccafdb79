"""The MDRNN by wavefronts and pipelined: the raster loop's states, in the fewest steps."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from mdrnn_cases import cell_levels, inputs, model

from derived.mdrnn import raster
from derived.mdrnn_wavefront import pipelined, wavefront


@settings(max_examples=20)
@given(height=st.integers(1, 7), width=st.integers(1, 7), n=st.integers(1, 3))
def test_wavefront_equals_raster_in_height_plus_width_minus_one_steps(height, width, n):
    net = model()
    x = inputs(n, 2, height, width)
    h_raster = raster(x, *net.layers()[0]).h
    h_wave, steps, schedule = wavefront(x, *net.layers()[0])
    torch.testing.assert_close(h_wave, h_raster, rtol=1e-12, atol=1e-12)
    assert steps == height + width - 1
    # Each cell as early as its longest chain of dependencies allows: i + j.
    i, j = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    assert torch.equal(schedule, i + j)


def respects_dependencies(schedule):
    """A cell is computed strictly after its north and west neighbours."""
    return bool(
        (schedule[1:, :] > schedule[:-1, :]).all() and (schedule[:, 1:] > schedule[:, :-1]).all()
    )


@settings(max_examples=15)
@given(height=st.integers(1, 6), width=st.integers(1, 6), d=st.integers(1, 4))
def test_pipeline_equals_layer_by_layer_raster_in_h_plus_w_plus_d_minus_two_steps(height, width, d):
    net = model(d=d)
    x = inputs(2, 2, height, width)
    reference = net.evaluate(x, method="raster")
    for method, steps in [
        ("pipelined", height + width + d - 2),
        ("wavefront", d * (height + width - 1)),
    ]:
        result = net.evaluate(x, method=method)
        torch.testing.assert_close(result.h, reference.h, rtol=1e-12, atol=1e-12)
        assert result.steps == steps == net.sequential_steps(height, width, method=method)
        assert respects_dependencies(result.schedule)
        assert result.schedule.max() == result.steps - 1
    assert reference.steps == d * height * width
    assert respects_dependencies(reference.schedule)
    # The raster loop of the last layer visits its cells in reading order, one per step.
    order = torch.arange(height * width).reshape(height, width)
    assert torch.equal(reference.schedule, order + (d - 1) * height * width)


def test_pipeline_without_overlap_is_layer_by_layer():
    net = model(d=3)
    x = inputs(1, 2, 3, 4)
    result = pipelined(x, net.layers(), pipeline=False)
    torch.testing.assert_close(result.h, net.evaluate(x, method="raster").h)
    assert result.steps == 3 * (3 + 4 - 1)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: wavefront(torch.zeros(1, 2, 3, 3), *model().layers()[0][:2], torch.zeros(2, 2)),
            ValueError,
            r"^W_N ",
        ),
        (lambda: pipelined(torch.zeros(1, 2, 3, 3), []), ValueError, r"^layers "),
        (
            lambda: pipelined(inputs(1, 2, 3, 3), []),
            ValueError,
            r"^layers must be a non-empty list of \(W_in, W_W, W_N\)",
        ),
        (
            lambda: pipelined(torch.zeros(2, 3, 4), model().layers()),
            ValueError,
            r"^x must have shape \(N, D, H, W\)",
        ),
        (
            lambda: pipelined(inputs(1, 2, 3, 3), "W_in, W_W, W_N"),
            TypeError,
            r"^layers must be a list of \(W_in, W_W, W_N\), got str",
        ),
        (
            # Two matrices are not a layer, even in a tuple.
            lambda: pipelined(inputs(1, 2, 3, 3), [model().layers()[0][:2]]),
            TypeError,
            r"^layers\[0\] must be a tuple \(W_in, W_W, W_N\)",
        ),
        (
            # A later layer's inputs are the previous layer's k units.
            lambda: pipelined(inputs(1, 2, 3, 3), [model(k=3).layers()[0], model(k=4).layers()[0]]),
            ValueError,
            r"^layers\[1\] W_in must have shape \(4, 3\) for layers\[1\] W_W and layer 0",
        ),
    ],
)
def test_refusals_say_what_was_expected(call, error, message):
    with pytest.raises(error, match=message):
        call()


@settings(max_examples=10)
@given(height=st.integers(1, 4), width=st.integers(1, 4), d=st.integers(1, 3))
def test_the_pipeline_computes_each_cell_at_its_level(height, width, d):
    # Level from the Jacobian: one more than the largest level the cell reads. A schedule can
    # do no better; the pipeline does exactly that well, cell by cell.
    net = model(d=d)
    levels = cell_levels(net, height, width)
    result = pipelined(inputs(1, 2, height, width), net.layers())
    assert torch.equal(result.schedule + 1, levels[-1, 0])
    assert result.steps == int(levels.max())
    layer_by_layer = pipelined(inputs(1, 2, height, width), net.layers(), pipeline=False)
    assert layer_by_layer.steps == d * (height + width - 1) >= result.steps
