"""The split-transform-merge block: counts against real modules, paths against grouped convs."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from derived.conv_arithmetic import parameter_count
from derived.split_transform_merge import (
    Bottleneck,
    GroupedSplitTransformMerge,
    SplitTransformMerge,
    bottleneck_parameter_count,
    grouped_from_paths,
    reset_parameters,
    split_transform_merge_parameter_count,
)


def registered(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


shapes = {
    "in_channels": st.integers(1, 12),
    "cardinality": st.integers(1, 6),
    "bottleneck_width": st.integers(1, 4),
}


@given(in_channels=st.integers(1, 300), width=st.integers(1, 200))
@settings(max_examples=25)
def test_bottleneck_count_is_what_the_module_registers(in_channels, width):
    module = Bottleneck(in_channels, width, device="meta")
    assert bottleneck_parameter_count(in_channels, width) == registered(module)


@given(**shapes)
def test_both_forms_register_the_closed_form_count(in_channels, cardinality, bottleneck_width):
    sizes = {"cardinality": cardinality, "bottleneck_width": bottleneck_width}
    count = split_transform_merge_parameter_count(in_channels, **sizes)
    assert registered(SplitTransformMerge(in_channels, **sizes, device="meta")) == count
    assert registered(GroupedSplitTransformMerge(in_channels, **sizes, device="meta")) == count


def test_the_homework_block_sizes_register_their_counts():
    paths = SplitTransformMerge(256, cardinality=32, bottleneck_width=4, device="meta")
    assert registered(paths) == split_transform_merge_parameter_count(
        256, cardinality=32, bottleneck_width=4
    )
    assert registered(Bottleneck(256, 128, device="meta")) == bottleneck_parameter_count(256, 128)


def test_every_path_has_its_own_parameters():
    module = SplitTransformMerge(8, cardinality=5, bottleneck_width=2, device="meta")
    ids = [id(p) for path in module.paths for p in path.parameters()]
    assert len(ids) == len(set(ids)) == 5 * 6


@given(**shapes, seed=st.integers(0, 2**16))
@settings(max_examples=30)
def test_grouped_form_computes_the_sum_of_the_paths(
    in_channels, cardinality, bottleneck_width, seed
):
    generator = torch.Generator().manual_seed(seed)
    sizes = {"cardinality": cardinality, "bottleneck_width": bottleneck_width}
    paths = SplitTransformMerge(in_channels, **sizes, generator=generator, dtype=torch.float64)
    x = torch.randn(2, in_channels, 5, 6, dtype=torch.float64, generator=generator)
    # the definition, path by path, outside the module's own forward
    expected = sum(path(x) for path in paths.paths)
    torch.testing.assert_close(paths(x), expected, rtol=1e-13, atol=1e-13)
    torch.testing.assert_close(grouped_from_paths(paths)(x), expected, rtol=1e-13, atol=1e-13)


def test_paths_are_independent_transformations():
    # The sum of G copies of one path is G times that path; independent paths are not.
    generator = torch.Generator().manual_seed(0)
    module = SplitTransformMerge(
        6, cardinality=4, bottleneck_width=2, generator=generator, dtype=torch.float64
    )
    x = torch.randn(1, 6, 4, 4, dtype=torch.float64, generator=generator)
    assert not torch.allclose(module(x), 4 * module.paths[0](x))


def test_one_path_is_the_homework_conv_relu_stack():
    generator = torch.Generator().manual_seed(1)
    module = SplitTransformMerge(
        6, cardinality=1, bottleneck_width=3, generator=generator, dtype=torch.float64
    )
    path = module.paths[0]
    x = torch.randn(2, 6, 5, 5, dtype=torch.float64, generator=generator)
    relu = torch.relu
    expected = relu(path[4](relu(path[2](relu(path[0](x))))))
    torch.testing.assert_close(module(x), expected, rtol=0, atol=0)
    assert [c.kernel_size for c in path if isinstance(c, nn.Conv2d)] == [(1, 1), (3, 3), (1, 1)]
    assert module(x).shape == x.shape


def test_grouped_form_is_built_from_grouped_convolutions():
    module = GroupedSplitTransformMerge(16, cardinality=4, bottleneck_width=2, device="meta")
    convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
    assert [c.groups for c in convs] == [1, 4, 4]
    assert [c.out_channels for c in convs] == [8, 8, 64]
    expected = parameter_count(16, 8, 1) + parameter_count(8, 8, 3, groups=4)
    expected += parameter_count(8, 64, 1, groups=4)
    assert registered(module) == expected


def test_reset_parameters_is_reproducible_and_within_the_default_bounds():
    a = Bottleneck(8, 4, generator=torch.Generator().manual_seed(3))
    b = Bottleneck(8, 4, generator=torch.Generator().manual_seed(3))
    for (name, p), q in zip(a.named_parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q), name
    conv = a.layers[2]  # 3x3, 4 input channels: fan-in 36
    assert conv.weight.abs().max() <= 1 / 6
    assert conv.weight.abs().max() > 1 / 6 * 0.8


def test_reset_parameters_draws_uniformly_on_the_symmetric_default_interval():
    # Every weight and bias of a convolution is uniform on [-1/sqrt(n_in), 1/sqrt(n_in)]:
    # divided by that bound, the draws lie in [-1, 1] with mean 0 and variance 1/3.
    module = SplitTransformMerge(16, cardinality=8, bottleneck_width=8, dtype=torch.float64)
    reset_parameters(module, generator=torch.Generator().manual_seed(6))
    convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
    for kind in ("weight", "bias"):
        u = torch.cat([getattr(c, kind).flatten() * c.weight[0].numel() ** 0.5 for c in convs])
        assert len(u) >= 256
        assert u.abs().max() <= 1
        assert abs(u.mean().item()) < 0.15
        assert abs(u.var().item() - 1 / 3) < 0.06


def test_the_grouped_form_has_the_dtype_and_device_of_the_paths():
    paths = SplitTransformMerge(6, cardinality=3, bottleneck_width=2, dtype=torch.float64)
    for device in ("cpu", "meta"):
        grouped = grouped_from_paths(paths.to(device))
        kinds = {(p.dtype, p.device.type) for p in grouped.parameters()}
        assert kinds == {(torch.float64, device)}


def test_bad_arguments_are_refused_naming_them():
    with pytest.raises(ValueError, match=r"^cardinality "):
        SplitTransformMerge(8, cardinality=0)
    with pytest.raises(TypeError, match=r"^bottleneck_width "):
        GroupedSplitTransformMerge(8, bottleneck_width=4.0)
    with pytest.raises(ValueError, match=r"^width "):
        Bottleneck(8, 0)
    with pytest.raises(TypeError, match=r"^module "):
        grouped_from_paths(Bottleneck(8, 4, device="meta"))
    with pytest.raises(TypeError, match=r"^generator "):
        reset_parameters(Bottleneck(8, 4), generator=0)
    with pytest.raises(ValueError, match=r"^cardinality "):
        split_transform_merge_parameter_count(8, cardinality=0, bottleneck_width=4)


def test_bottleneck_is_three_convolutions_each_followed_by_a_relu():
    block = Bottleneck(6, 3, generator=torch.Generator().manual_seed(4))
    x = torch.randn(2, 6, 5, 4, generator=torch.Generator().manual_seed(5))
    first, middle, last = (m for m in block.modules() if isinstance(m, nn.Conv2d))
    h = torch.relu(nn.functional.conv2d(x, first.weight, first.bias))
    h = torch.relu(nn.functional.conv2d(h, middle.weight, middle.bias, padding=1))
    expected = torch.relu(nn.functional.conv2d(h, last.weight, last.bias))
    torch.testing.assert_close(block(x), expected)


def test_bottleneck_is_built_with_the_requested_dtype_and_device():
    block = Bottleneck(8, 4, dtype=torch.float64, device="meta")
    assert {(p.dtype, p.device.type) for p in block.parameters()} == {(torch.float64, "meta")}
    with pytest.raises(ValueError, match=r"^in_channels "):
        Bottleneck(0, 4)


def test_grouping_refuses_a_plain_bottleneck_naming_its_type():
    with pytest.raises(TypeError, match=r"^module must be a SplitTransformMerge, got Bottleneck"):
        grouped_from_paths(Bottleneck(8, 4, device="meta"))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: Bottleneck(4, 2)(torch.zeros(2, 4, 5)),
            ValueError,
            r"^x must have shape \(N, C_in, H, W\)",
        ),
        (
            lambda: SplitTransformMerge(4, cardinality=2, bottleneck_width=2)(torch.zeros(2, 4, 5)),
            ValueError,
            r"^x must have shape \(N, C_in, H, W\)",
        ),
        (
            lambda: GroupedSplitTransformMerge(4, cardinality=2, bottleneck_width=2)(
                torch.zeros(2, 4, 5)
            ),
            ValueError,
            r"^x must have shape \(N, C_in, H, W\)",
        ),
    ],
)
def test_refusals_say_what_was_expected(call, error, message):
    with pytest.raises(error, match=message):
        call()
