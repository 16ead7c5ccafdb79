"""Every public callable of `derived`: a valid call, and the kind of bad value each argument gets.

``CASES`` maps ``module.function``, ``module.Class`` (the constructor) and
``module.Class.method`` to a :class:`Case`. Every parameter has a kind (see ``fuzz_kinds``), and
every value a kind draws must be refused: no bad value is accepted as legitimate. So a shape
perturbation is listed only where it makes the call invalid: a leading dimension more is valid
where the function takes ``(*, ...)``, and a size that no other argument fixes (a sequence
length, a number of filters) may grow. ``RECORDS`` lists the NamedTuples the library returns: a
reader does not build them, and the functions that take one back check its fields.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from fuzz_kinds import (
    Int,
    Ints,
    Pair,
    Real,
    Record,
    Scalar,
    T,
    Tensors,
    choice,
    device,
    dtype,
    flag,
    function,
    functions,
    generator,
    integers_array,
    layers,
    module,
    paths,
    penalty,
)

from derived import (
    gated_rnn,
    lstm,
    masked_conv,
    mdrnn,
    reversible_learning,
    rng,
    split_transform_merge,
    wavenet,
)


@dataclass(frozen=True)
class Case:
    """``args()``: fresh valid keyword arguments; ``kinds``: the bad-value family of each.

    ``call`` replaces the callable itself (for a context manager); ``instance`` builds the object
    whose method is called.
    """

    args: Callable[[], dict]
    kinds: dict[str, Callable] = field(default_factory=dict)
    call: Callable | None = None
    instance: Callable | None = None


def gen() -> torch.Generator:
    return torch.Generator().manual_seed(0)


def r(*shape: int) -> torch.Tensor:
    """A float64 standard normal tensor, the same for the same shape."""
    return torch.randn(shape, dtype=torch.float64, generator=torch.Generator().manual_seed(7))


ANY = T(lead=False, drop=False, grow=())  # a tensor of any shape
POSITIVE = Int()
OPT = T(optional=True)
ACTIVATION = {"activation": choice}


def _enter(**kwargs) -> None:
    with rng.default_rng_from(**kwargs):
        pass


def _gated():
    x, W_c, W_h, W_x = r(4, 2), r(3, 2), r(3, 3) / 3, r(3, 2)
    return {"x": x, "W_c": W_c, "W_h": W_h, "W_x": W_x, "h0": r(3)}


def _gated_trace():
    a = _gated()
    return {"trace": gated_rnn.gated_rnn_forward(**a), **a}


def _lstm():
    return {"x": r(4), "weight_ih": r(4), "weight_hh": r(4), "h0": r(), "c0": r()}


def _exact():
    return {"grad_J": torch.sin, "alpha": 0.125, "beta": 0.5, "radix_bits": 20}


def _exact_state():
    kw = _exact()
    return reversible_learning.exact_momentum_descent(r(3), r(3) / 4, steps=2, **kw), kw


def _mlp(n=2, m=3, L=3):
    A, b = [r(m, n), *[r(m, m) / 2] * (L - 2), r(1, m)], [r(m)] * (L - 1) + [r(1)]
    return {"x": r(n), "A": A, "b": b, "activation": "tanh", "residual": True}


def _momentum(**more):
    return {"theta": r(4), "p": r(4) / 4, "grad_J": torch.sin, "alpha": 0.1, "beta": 0.9, **more}


def _mdrnn_weights():
    return {"W_in": r(3, 2), "W_W": r(3, 3) / 2, "W_N": r(3, 3) / 2}


def _pixel():
    return masked_conv.PixelCNN(2, 2, generator=gen())


def _mdrnn():
    return mdrnn.MDRNN(2, 3, 2, generator=gen())


def _stack():
    return wavenet.CausalDilatedStack(2, [1, 2], generator=gen())


def _bottleneck():
    return split_transform_merge.Bottleneck(4, 2, generator=gen(), dtype=torch.float64)


def _stm(cls):
    return lambda: cls(4, cardinality=2, bottleneck_width=2, generator=gen(), dtype=torch.float64)


MDRNN_X = T(grow=(1,))
MDRNN_W = {"W_in": T(), "W_W": T(), "W_N": T()}
MLP = {"A": Tensors(T(), low=2), "b": Tensors(T()), "activation": choice, "residual": flag}
MOMENTUM = {"theta": T(), "p": T(), "grad_J": function, "alpha": Scalar(), "beta": Scalar()}
BN = {"x": T(lead=False, grow=(-1,)), "weight": OPT, "eps": Real(0)}
CONV = {"x": T(grow=(0,)), "W": T(grow=(1,)), "stride": POSITIVE, "dilation": POSITIVE}
EXACT = {"grad_J": function, "alpha": Real(), "beta": Real(0, 1, (False, False), (0.3,))}
STM = {
    "in_channels": POSITIVE,
    "cardinality": POSITIVE,
    "bottleneck_width": POSITIVE,
    "generator": generator,
    "dtype": dtype,
    "device": device,
}
RIDGE = {"X": T(grow=(0,)), "y": T(), "lam": penalty}
RESIDUAL = {"variant": choice, "eps": Real(0)}
TANH_RNN = {"x_1": T(), "W": T(), "n": POSITIVE}
FLOATS = {"generator": generator, "dtype": dtype}


def _conv():
    return {"x": r(2, 6), "W": r(3, 2, 2), "stride": 2, "dilation": 1}


CASES: dict[str, Case] = {
    # activation_chain
    "activation_chain.local_derivative": Case(
        lambda: {"z": r(3), "activation": "sigmoid"}, {"z": ANY, **ACTIVATION}
    ),
    **{
        f"activation_chain.{name}": Case(
            lambda: {"x": r(2, 3), "n": 3, "activation": "tanh"},
            {"x": ANY, "n": POSITIVE, **ACTIVATION},
        )
        for name in ("pre_activations", "chain", "chain_derivative")
    },
    "activation_chain.derivative_bound": Case(
        lambda: {"n": 2, "activation": "tanh"}, {"n": POSITIVE, **ACTIVATION}
    ),
    "activation_chain.tanh_iterate": Case(
        lambda: {"i": torch.arange(1.0, 4.0)}, {"i": T(False, False, (), outside=0.5)}
    ),
    "autograd_memory.peak_saved_bytes": Case(dict),
    # batch_norm
    "batch_norm.normalize": Case(
        lambda: {"x": r(4, 3), "eps": 1e-5}, {"x": T(lead=False, grow=()), "eps": Real(0)}
    ),
    "batch_norm.batch_norm": Case(
        lambda: {"x": r(4, 3), "weight": r(3), "bias": r(3), "eps": 1e-5}, {**BN, "bias": OPT}
    ),
    **{
        f"batch_norm.{name}": Case(lambda: {"x": r(4, 3), "weight": r(3), "eps": 0.0}, BN)
        for name in ("batch_norm_jacobian", "batch_norm_jacobian_diagonal", "whole_batch_jacobian")
    },
    "batch_norm.jacobian_diagonal_entry": Case(
        lambda: {"x_i": 1.5, "mu_B": 0.5, "sigma_B": 2.0, "m": 4, "weight": 1.2, "eps": 1e-5},
        {"x_i": Real(), "mu_B": Real(), "sigma_B": Real(0), "m": Int(2), "weight": Real()}
        | {"eps": Real(0)},
    ),
    "batch_norm.batch_norm_backward": Case(
        lambda: {"grad_output": r(4, 3), "x": r(4, 3), "weight": r(3), "eps": 1e-5},
        {**BN, "grad_output": T(), "x": T()},
    ),
    # conv1d
    "conv1d.conv1d": Case(_conv, {**CONV, "x": T(lead=False, grow=(-2,))}),
    "conv1d.weight_jacobian": Case(_conv, CONV),
    "conv1d.input_jacobian": Case(_conv, CONV),
    "conv1d.weight_grad": Case(
        lambda: {"x": r(2, 6), "grad_output": r(3, 3), "kernel_size": 2, "stride": 2},
        {
            "x": T(grow=()),  # C is free, and one more sample L leaves L' unchanged at stride 2
            "grad_output": T(grow=(1,)),
            "kernel_size": POSITIVE,
            "stride": POSITIVE,
            "dilation": POSITIVE,
        },
    ),
    "conv1d.input_grad": Case(
        lambda: {"grad_output": r(3, 3), "W": r(3, 2, 2), "length": 6, "stride": 2},
        {
            "grad_output": T(),
            "W": T(grow=(0, 2)),
            "length": POSITIVE,
            "stride": POSITIVE,
            "dilation": POSITIVE,
        },
    ),
    # conv_arithmetic
    "conv_arithmetic.effective_kernel_size": Case(
        lambda: {"kernel_size": 3, "dilation": 2}, {"kernel_size": POSITIVE, "dilation": POSITIVE}
    ),
    "conv_arithmetic.output_size": Case(
        lambda: {"n": 9, "kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2},
        {
            "n": POSITIVE,
            "kernel_size": POSITIVE,
            "stride": POSITIVE,
            "padding": Int(0),
            "dilation": POSITIVE,
        },
    ),
    "conv_arithmetic.output_shape": Case(
        lambda: {
            "input_shape": (2, 9, 8),
            "out_channels": 4,
            "kernel_size": (3, 2),
            "stride": 2,
            "padding": (1, 0),
            "dilation": 1,
        },
        {
            "input_shape": Ints(size=3, fixed=True),
            "out_channels": POSITIVE,
            "kernel_size": Pair(),
            "stride": Pair(),
            "padding": Pair(0),
            "dilation": Pair(),
        },
    ),
    "conv_arithmetic.parameter_count": Case(
        lambda: {"in_channels": 4, "out_channels": 6, "kernel_size": 3, "groups": 2, "bias": True},
        {
            "in_channels": Int(extra=(3,)),
            "out_channels": Int(extra=(3,)),
            "kernel_size": Pair(),
            "groups": Int(extra=(4,)),
            "bias": flag,
        },
    ),
    # critical_path
    "critical_path.longest_chains": Case(lambda: {"jacobian": r(3, 3).tril(-1)}, {"jacobian": T()}),
    "critical_path.stack_jacobian": Case(
        lambda: {"layers": [lambda below, own: torch.tanh(below)], "states": [r(2), r(2)]},
        {"layers": functions, "states": Tensors(ANY)},
    ),
    "device.default_device": Case(dict),
    # dropout
    "dropout.dropout_mask": Case(
        lambda: {"size": (2, 3), "p": 0.5, "generator": gen(), "dtype": torch.float64},
        {
            "size": Ints(low=0, size=0),
            "p": Real(0, 1, (True, False), (1.0,)),
            "generator": generator,
            "dtype": dtype,
            "device": device,
        },
    ),
    **{
        f"dropout.{name}": Case(
            lambda: {"y": r(2, 3), "mask": r(2, 3).abs(), "activation": torch.relu},
            {"y": T(lead=False), "mask": T(drop=False), "activation": function},
        )
        for name in ("dropout_then_activation", "activation_then_dropout")
    },
    "dropout.positively_homogeneous": Case(
        lambda: {"z": r(3), "positive_slope": 1.0, "negative_slope": 0.1},
        {"z": ANY, "positive_slope": Real(), "negative_slope": Real()},
    ),
    "dropout.is_positively_homogeneous": Case(
        lambda: {"activation": torch.relu, "rtol": 1e-12},
        {"activation": function, "rtol": Real(0, closed=(False, True))},
    ),
    # gated_rnn
    "gated_rnn.gated_rnn_forward": Case(
        lambda: {**_gated(), "probe": torch.zeros(4, 3, dtype=torch.float64)},
        {"x": T(grow=(1,)), "W_c": T(), "W_h": T(), "W_x": T(), "h0": OPT, "probe": OPT},
    ),
    "gated_rnn.step_jacobian": Case(
        lambda: {k: v for k, v in _gated_trace().items() if k in ("trace", "W_h", "h0")},
        {"trace": Record(T()), "W_h": T(), "h0": OPT},
    ),
    "gated_rnn.input_weight_grad": Case(
        lambda: {"x": r(4, 2), "c": torch.sigmoid(r(4, 3)), "delta": r(4, 3)},
        {"x": T(grow=(0,)), "c": T(), "delta": T()},
    ),
    "gated_rnn.gated_rnn_backward": Case(
        lambda: {**_gated_trace(), "grad_h": r(4, 3)},
        {
            "trace": Record(T()),
            "x": T(grow=(1,)),
            "W_c": T(),
            "W_h": T(),
            "W_x": T(),
            "grad_h": T(),
            "h0": OPT,
        },
    ),
    # init_variance
    "init_variance.weight_variance": Case(
        lambda: {"fan_in": 3, "fan_out": 2, "init": "glorot"},
        {"fan_in": POSITIVE, "fan_out": POSITIVE, "init": choice},
    ),
    "init_variance.bias_variance": Case(
        lambda: {"fan_in": 3, "init": "default"}, {"fan_in": POSITIVE, "init": choice}
    ),
    "init_variance.output_variance": Case(
        lambda: {"widths": [3, 2, 1], "init": "he"}, {"widths": Ints(size=2), "init": choice}
    ),
    "init_variance.default_init_variance": Case(
        lambda: {"widths": [3, 2, 1]}, {"widths": Ints(size=2)}
    ),
    "init_variance.linear_stack": Case(
        lambda: {"widths": [3, 2], "generator": gen(), "init": "glorot", "dtype": torch.float64},
        {"widths": Ints(size=2), "init": choice, **FLOATS},
    ),
    "init_variance.sample_outputs": Case(
        lambda: {
            "widths": [3, 1],
            "num_networks": 2,
            "num_inputs": 3,
            "generator": gen(),
            "init": "default",
        },
        {
            "widths": Ints(size=2),
            "num_networks": POSITIVE,
            "num_inputs": POSITIVE,
            "generator": generator,
            "init": choice,
        },
    ),
    # jacobian
    "jacobian.autograd_jacobian": Case(
        lambda: {"f": torch.sin, "x": r(3), "elementwise": True},
        {"f": function, "x": ANY, "elementwise": flag},
    ),
    "jacobian.assert_matches_autograd": Case(
        lambda: {"closed_form": torch.cos(r(3)), "f": torch.sin, "x": r(3), "elementwise": True},
        # A closed form of the wrong shape disagrees with autograd: an AssertionError by design.
        {
            "closed_form": ANY,
            "f": function,
            "x": ANY,
            "elementwise": flag,
            "rtol": Real(0),
            "atol": Real(0),
        },
    ),
    # lstm
    "lstm.lstm_forward": Case(
        lambda: {**_lstm(), "probe": torch.zeros(6, 4, dtype=torch.float64)},
        {
            "x": T(grow=()),  # the length T is free; probe is refused for not following it
            "weight_ih": T(),
            "weight_hh": T(),
            "h0": T(drop=False, optional=True),
            "c0": T(drop=False, optional=True),
            "probe": OPT,
        },
    ),
    "lstm.lstm_backward": Case(
        lambda: {**_lstm(), "trace": lstm.lstm_forward(**_lstm()), "grad_h": r(4)},
        {
            "trace": Record(T()),
            "x": T(grow=()),  # likewise: trace and grad_h are refused for not following T
            "weight_ih": T(),
            "weight_hh": T(),
            "grad_h": T(),
            "h0": T(drop=False, optional=True),
            "c0": T(drop=False, optional=True),
        },
    ),
    "lstm.backward_step": Case(
        lambda: {
            "dL_dh": r(),
            "now": lstm.StepValues(*[r()] * 6),
            "after": lstm.StepValues(*[r()] * 6),
            "after_bars": lstm.StepBars(*[r()] * 6),
            "w_h": lstm.Gates(*[r()] * 4),
        },
        {
            "dL_dh": T(drop=False),
            **{k: Record(T(drop=False)) for k in ("now", "after", "after_bars", "w_h")},
        },
    ),
    "lstm.gate_bars": Case(
        lambda: {"h_bar": r(), "c_bar": r(), "now": lstm.StepValues(*[r()] * 6)},
        {"h_bar": T(drop=False), "c_bar": T(drop=False), "now": Record(T(drop=False))},
    ),
    # masked_conv
    "masked_conv.causal_mask": Case(
        lambda: {"kernel_size": 3, "mask_type": "A"},
        {"kernel_size": Int(extra=(2,)), "mask_type": choice},
    ),
    "masked_conv.masked_conv2d": Case(
        lambda: {
            "x": r(1, 2, 4, 4),
            "weight": r(3, 2, 3, 3),
            "mask": masked_conv.causal_mask(3, mask_type="B"),
        },
        {"x": T(grow=(1,)), "weight": T(grow=(1, 2, 3)), "mask": T()},
    ),
    "masked_conv.PixelCNN": Case(
        lambda: {"channels": 2, "d": 2, "kernel_size": 3, "generator": gen()},
        {"channels": POSITIVE, "d": POSITIVE, "kernel_size": Int(extra=(2,)), **FLOATS},
    ),
    "masked_conv.PixelCNN.forward": Case(
        lambda: {"x": r(1, 2, 3, 3)}, {"x": T(grow=(1,))}, instance=_pixel
    ),
    **{
        f"masked_conv.PixelCNN.{name}": Case(
            lambda: {"height": 3, "width": 2},
            {"height": POSITIVE, "width": POSITIVE},
            instance=_pixel,
        )
        for name in ("connections", "sampling_passes")
    },
    **{
        f"masked_conv.PixelCNN.{name}": Case(dict, instance=_pixel)
        for name in ("masks", "live_taps", "weight_count", "sequential_steps")
    },
    "masked_conv.dependency_offsets": Case(
        lambda: {"d": 2, "kernel_size": 3}, {"d": POSITIVE, "kernel_size": Int(extra=(2,))}
    ),
    # mdrnn
    "mdrnn.preactivation": Case(
        lambda: {"x": r(1, 2, 3, 2), "h": r(1, 3, 3, 2), **_mdrnn_weights()},
        {"x": MDRNN_X, "h": T(grow=(1, 2, 3)), **MDRNN_W},  # N broadcasts between x and h
    ),
    **{
        f"{module}.{name}": Case(
            lambda: {"x": r(1, 2, 3, 2), **_mdrnn_weights()},
            {"x": MDRNN_X, **MDRNN_W},
        )
        for module, name in (("mdrnn", "raster"), ("mdrnn_wavefront", "wavefront"))
    },
    "mdrnn_wavefront.pipelined": Case(
        lambda: {
            "x": r(1, 2, 3, 2),
            "layers": [tuple(w.detach() for w in ws) for ws in _mdrnn().layers()],
        },
        {"x": MDRNN_X, "layers": layers, "pipeline": flag},
    ),
    "mdrnn.weight_count": Case(
        lambda: {"input_size": 2, "hidden_size": 3},
        {"input_size": POSITIVE, "hidden_size": POSITIVE},
    ),
    "mdrnn.MDRNN": Case(
        lambda: {"input_size": 2, "hidden_size": 3, "d": 2, "generator": gen()},
        {"input_size": POSITIVE, "hidden_size": POSITIVE, "d": POSITIVE, **FLOATS},
    ),
    "mdrnn.MDRNN.layers": Case(dict, instance=_mdrnn),
    "mdrnn.MDRNN.evaluate": Case(
        lambda: {"x": r(1, 2, 3, 2), "method": "raster"},
        {"x": MDRNN_X, "method": choice},
        instance=_mdrnn,
    ),
    "mdrnn.MDRNN.forward": Case(lambda: {"x": r(1, 2, 3, 2)}, {"x": MDRNN_X}, instance=_mdrnn),
    "mdrnn.MDRNN.sequential_steps": Case(
        lambda: {"height": 2, "width": 3, "method": "wavefront"},
        {"height": POSITIVE, "width": POSITIVE, "method": choice},
        instance=_mdrnn,
    ),
    "mdrnn.MDRNN.connections": Case(
        lambda: {"height": 2, "width": 3},
        {"height": POSITIVE, "width": POSITIVE},
        instance=_mdrnn,
    ),
    # random_features
    "random_features.random_weights": Case(
        lambda: {"p": 3, "d": 2, "generator": gen()}, {"p": POSITIVE, "d": POSITIVE, **FLOATS}
    ),
    "random_features.relu_features": Case(
        lambda: {"x": r(4, 2), "W": r(3, 2)}, {"x": T(grow=(1,)), "W": T(grow=(1,))}
    ),
    "random_features.teacher_data": Case(
        lambda: {"n": 3, "beta": r(2), "sigma": 0.5, "generator": gen()},
        {"n": POSITIVE, "beta": T(grow=()), "sigma": Real(0), "generator": generator},
    ),
    "random_features.double_descent": Case(
        lambda: {
            "ps": [2, 3],
            "lam_fixed": 0.1,
            "lam_grid": torch.tensor([0.1, 1.0]),
            "num_trials": 1,
            "generator": gen(),
            "d": 2,
            "sigma": 0.5,
            "n_train": 4,
            "n_val": 3,
            "n_test": 2,
        },
        {
            "ps": Ints(),
            "lam_fixed": Real(0, closed=(False, True)),
            "lam_grid": T(grow=(), outside=-1.0),
            "num_trials": POSITIVE,
            "generator": generator,
            "d": POSITIVE,
            "sigma": Real(0),
            "n_train": POSITIVE,
            "n_val": POSITIVE,
            "n_test": POSITIVE,
        },
    ),
    # residual_block
    "residual_block.block": Case(
        lambda: {"x": r(4, 2), "W_1": r(2, 2), "W_2": r(2, 2), "variant": "left"},
        {
            "x": T(lead=False, grow=(-1,)),
            "W_1": T(lead=False, grow=(-2, -1)),
            "W_2": T(lead=False, grow=(-2, -1)),
            **RESIDUAL,
        },
    ),
    **{
        f"residual_block.{name}": Case(
            lambda: {"x": r(4, 2), "weight": r(2, 2, 2, 2), "variant": "preact", "eps": 1e-5},
            {
                "x": T(lead=False, grow=(-1,)),
                "weight": T(lead=False, grow=(-3, -2, -1)),
                **RESIDUAL,
            },
        )
        for name in ("stack", "stack_jacobians")
    },
    "residual_block.kaiming_weight": Case(
        lambda: {"n": 2, "d": 3, "generator": gen(), "batch_shape": (2,)},
        {
            "n": POSITIVE,
            "d": POSITIVE,
            "batch_shape": Ints(low=0, size=0),
            "device": device,
            **FLOATS,
        },
    ),
    # residual_jacobian
    "residual_jacobian.residual_jacobian": Case(
        lambda: {"F": r(3, 3)}, {"F": T(lead=False, grow=(-1,))}
    ),
    "residual_jacobian.sigma_max_lower_bound": Case(
        lambda: {"sigma_big": 3.0}, {"sigma_big": Real(0)}
    ),
    "residual_jacobian.sigma_min_lower_bound": Case(
        lambda: {"sigma_small": 0.5}, {"sigma_small": Real(0, 1)}
    ),
    "residual_jacobian.normal_residual_singular_values": Case(
        lambda: {"F": r(3, 3) + r(3, 3).T}, {"F": T(grow=(1,))}
    ),
    "residual_jacobian.shear": Case(
        lambda: {"b": 2.0, "dtype": torch.float64},
        {"b": Real(0, closed=(False, True)), "dtype": dtype, "device": device},
    ),
    "residual_jacobian.shear_sigma_min": Case(
        lambda: {"b": 2.0}, {"b": Real(0, closed=(False, True))}
    ),
    # residual_mlp
    "residual_mlp.init_parameters": Case(
        lambda: {"in_features": 2, "width": 3, "L": 3, "generator": gen()},
        {"in_features": POSITIVE, "width": POSITIVE, "L": Int(2), **FLOATS},
    ),
    "residual_mlp.forward": Case(_mlp, {"x": T(), **MLP}),
    "residual_mlp.hidden_stack": Case(
        lambda: {k: v for k, v in {**_mlp(), "y_1": r(3)}.items() if k != "x"},
        {"y_1": T(), **MLP},
    ),
    # residual_mlp_backprop
    **{
        f"residual_mlp_backprop.{name}": Case(_mlp, {"x": T(), **MLP})
        for name in ("output_gradients", "parameter_gradients", "hidden_jacobian")
    },
    "residual_mlp_backprop.layer_jacobian": Case(
        lambda: {"y_prev": r(3), "A_l": r(3, 3), "b_l": r(3), "activation": "relu"},
        {"y_prev": T(), "A_l": T(), "b_l": T(), "activation": choice, "residual": flag},
    ),
    # reversible
    "reversible.momentum_step": Case(_momentum, MOMENTUM),
    "reversible.momentum_step_inverse": Case(_momentum, {**MOMENTUM, "beta": Scalar(extra=(0.0,))}),
    "reversible.momentum_descent": Case(
        lambda: _momentum(steps=2, inverse=True),
        {**MOMENTUM, "beta": Scalar(extra=(0.0,)), "steps": POSITIVE, "inverse": flag},
    ),
    **{
        f"reversible.{name}": Case(
            lambda: {k: v for k, v in _momentum().items() if k != "p"},
            {"theta": T(grow=()), "grad_J": function, "alpha": Real(), "beta": Real()},
        )
        for name in ("momentum_jacobian_factors", "momentum_jacobian")
    },
    "reversible.momentum_jacobian_slogdet": Case(
        lambda: {"dim": 3, "beta": -0.5}, {"dim": POSITIVE, "beta": Real(extra=(0.0,))}
    ),
    # hypergradient
    "hypergradient.momentum_step_vjp": Case(
        lambda: _momentum(grad_theta=r(4), grad_p=r(4)),
        {**MOMENTUM, "grad_theta": T(), "grad_p": T(), "alpha": Real(), "beta": Real()},
    ),
    "hypergradient.reversible_hypergradient": Case(
        lambda: _momentum(grad_theta=r(4), grad_p=r(4), steps=2),
        {
            **MOMENTUM,
            "grad_theta": T(),
            "grad_p": T(),
            "alpha": Real(),
            "beta": Real(extra=(0.0,)),
            "steps": POSITIVE,
        },
    ),
    # reversible_learning
    "reversible_learning.beta_numerator": Case(
        lambda: {"beta": 0.75}, {"beta": Real(0, 1, (False, False), (0.3,))}
    ),
    **{
        f"reversible_learning.{name}": Case(
            lambda: {
                "v": np.array([3, -5, 2**70], dtype=object),
                "buffer": np.array([0, 7, 1], dtype=object),
                "n": 3 * 2**14,
            },
            {"v": integers_array, "buffer": integers_array, "n": POSITIVE},
        )
        for name in ("multiply", "divide")
    },
    "reversible_learning.to_fixed_point": Case(
        lambda: {"x": r(2, 2), "radix_bits": 8}, {"x": ANY, "radix_bits": Int(0)}
    ),
    "reversible_learning.from_fixed_point": Case(
        lambda: {"x": np.array([1, -2, 2**70], dtype=object), "radix_bits": 8, "like": r(3)},
        {"x": integers_array, "radix_bits": Int(0), "like": T()},
    ),
    "reversible_learning.exact_momentum_descent": Case(
        lambda: {"theta": r(3), "p": r(3) / 4, "steps": 2, **_exact()},
        {"theta": T(), "p": T(), "steps": POSITIVE, "radix_bits": POSITIVE, **EXACT},
    ),
    "reversible_learning.exact_momentum_inverse": Case(
        lambda: (lambda s, kw: {"state": s, "like": r(3), **kw})(*_exact_state()),
        {"state": Record(integers_array), "radix_bits": POSITIVE, "like": T(), **EXACT},
    ),
    "reversible_learning.exact_reversible_hypergradient": Case(
        lambda: (lambda s, kw: {"state": s, "grad_theta": r(3), "grad_p": r(3), "steps": 2, **kw})(
            *_exact_state()
        ),
        {
            "state": Record(integers_array),
            "grad_theta": T(),
            "grad_p": T(),
            "steps": POSITIVE,
            "radix_bits": POSITIVE,
            **EXACT,
        },
    ),
    # ridge
    "ridge.ridge_primal": Case(lambda: {"X": r(5, 2), "y": r(5), "lam": 0.5}, RIDGE),
    "ridge.ridge_dual": Case(
        lambda: {"X": r(2, 5), "y": r(2), "lam": torch.tensor([0.5, 2.0])}, RIDGE
    ),
    "ridge.ridge": Case(lambda: {"X": r(2, 5), "y": r(2), "lam": 0.5}, RIDGE),
    # rng
    "rng.default_rng_from": Case(
        lambda: {"generator": gen()}, {"generator": generator}, call=_enter
    ),
    # singular_values
    **{
        f"singular_values.{name}": Case(lambda: {"A": r(3, 2)}, {"A": T(lead=False, grow=())})
        for name in ("sigma_max", "sigma_min")
    },
    "singular_values.scale_to_sigma_max": Case(
        lambda: {"A": r(3, 2), "sigma": 2.0},
        {"A": T(grow=()), "sigma": Real(0, closed=(False, True))},
    ),
    "singular_values.with_singular_values": Case(
        lambda: {"s": torch.tensor([2.0, 1.0]), "generator": gen(), "symmetric": True},
        {"s": T(lead=False, grow=(), outside=-1.0), "generator": generator, "symmetric": flag},
    ),
    "singular_values.weyl_lower_bound": Case(
        lambda: {"A": r(3, 3), "B": r(3, 3) / 2}, {"A": T(), "B": T()}
    ),
    "singular_values.product_bounds": Case(
        lambda: {"matrices": [r(3, 3), r(3, 3) / 2]},
        {"matrices": Tensors(T(grow=(0,)), low=1)},
    ),
    # split_transform_merge
    "split_transform_merge.bottleneck_parameter_count": Case(
        lambda: {"in_channels": 4, "width": 2}, {"in_channels": POSITIVE, "width": POSITIVE}
    ),
    "split_transform_merge.split_transform_merge_parameter_count": Case(
        lambda: {"in_channels": 4, "cardinality": 2, "bottleneck_width": 2},
        {"in_channels": POSITIVE, "cardinality": POSITIVE, "bottleneck_width": POSITIVE},
    ),
    "split_transform_merge.reset_parameters": Case(
        lambda: {"module": _stm(split_transform_merge.SplitTransformMerge)(), "generator": gen()},
        {"module": module, "generator": generator},
    ),
    "split_transform_merge.Bottleneck": Case(
        lambda: {"in_channels": 4, "width": 2},
        {
            "in_channels": POSITIVE,
            "width": POSITIVE,
            "generator": generator,
            "dtype": dtype,
            "device": device,
        },
    ),
    **{
        f"split_transform_merge.{cls}": Case(
            lambda: {"in_channels": 4, "cardinality": 2, "bottleneck_width": 2},
            STM,
        )
        for cls in ("SplitTransformMerge", "GroupedSplitTransformMerge")
    },
    **{
        f"split_transform_merge.{cls}.forward": Case(
            lambda: {"x": r(1, 4, 3, 3)},
            {"x": T(grow=(1,))},
            instance=make,
        )
        for cls, make in (
            ("Bottleneck", _bottleneck),
            ("SplitTransformMerge", _stm(split_transform_merge.SplitTransformMerge)),
            ("GroupedSplitTransformMerge", _stm(split_transform_merge.GroupedSplitTransformMerge)),
        )
    },
    "split_transform_merge.grouped_from_paths": Case(
        lambda: {"module": _stm(split_transform_merge.SplitTransformMerge)()}, {"module": paths}
    ),
    # tanh_rnn
    "tanh_rnn.tanh_rnn": Case(lambda: {"x_1": r(3), "W": r(3, 3), "n": 3}, TANH_RNN),
    "tanh_rnn.step_jacobian": Case(lambda: {"x_t": r(3), "W": r(3, 3)}, {"x_t": T(), "W": T()}),
    "tanh_rnn.input_output_jacobian": Case(lambda: {"x_1": r(3), "W": r(3, 3), "n": 3}, TANH_RNN),
    "tanh_rnn.jacobian_bound": Case(
        lambda: {"sigma_max_W": 1.5, "n": 3}, {"sigma_max_W": Real(0), "n": POSITIVE}
    ),
    # wavenet
    "wavenet.dilation_schedule": Case(
        lambda: {"d": 3, "schedule": "doubling"}, {"d": POSITIVE, "schedule": choice}
    ),
    "wavenet.receptive_field": Case(
        lambda: {"dilations": [1, 2], "kernel_size": 3},
        {"dilations": Ints(), "kernel_size": POSITIVE},
    ),
    "wavenet.causal_conv1d": Case(
        lambda: {"x": r(1, 2, 5), "weight": r(3, 2, 2), "dilation": 2},
        {"x": T(grow=(1,)), "weight": T(grow=(1,)), "dilation": POSITIVE},
    ),
    "wavenet.CausalDilatedStack": Case(
        lambda: {"channels": 2, "dilations": [1, 2], "kernel_size": 2, "generator": gen()},
        {
            "channels": POSITIVE,
            "dilations": Ints(),
            "kernel_size": POSITIVE,
            "activation": choice,
            **FLOATS,
        },
    ),
    "wavenet.CausalDilatedStack.forward": Case(
        lambda: {"x": r(1, 2, 5)}, {"x": T(grow=(1,))}, instance=_stack
    ),
    "wavenet.CausalDilatedStack.connections": Case(
        lambda: {"length": 4}, {"length": POSITIVE}, instance=_stack
    ),
    **{
        f"wavenet.CausalDilatedStack.{name}": Case(dict, instance=_stack)
        for name in ("receptive_field", "sequential_steps")
    },
}

#: The NamedTuples the library returns, and why their constructors are not fuzzed.
RECORDS = {
    name: "a result type: built by the library, and checked field by field where it is taken back"
    for name in (
        "gated_rnn.GatedRNNTrace",
        "gated_rnn.GatedRNNGradients",
        "lstm.LSTMTrace",
        "lstm.LSTMGradients",
        "lstm.StepValues",
        "lstm.StepBars",
        "lstm.Gates",
        "mdrnn_wavefront.Evaluation",
        "random_features.DoubleDescent",
        "hypergradient.Hypergradient",
        "reversible_learning.ExactState",
    )
}
