"""Random ReLU features and the double-descent experiment built on them."""

import math

import pytest
import torch
from torch import nn

from derived.random_features import double_descent, random_weights, relu_features, teacher_data
from derived.ridge import ridge


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_weights_have_variance_one_over_p():
    p, d = 400, 50
    W = random_weights(p, d, generator=seeded(0))
    assert W.shape == (p, d)
    n = W.numel()
    # Var(W^2) = 2 / p^2 for a normal of variance 1/p: four standard errors.
    assert abs(W.pow(2).mean().item() - 1 / p) < 4 * math.sqrt(2 / n) / p
    assert abs(W.mean().item()) < 4 / math.sqrt(p * n)


def test_features_are_a_frozen_relu_layer():
    W = random_weights(7, 3, generator=seeded(1))
    x = torch.randn(11, 3, dtype=torch.float64, generator=seeded(2))
    layer = nn.Linear(3, 7, bias=False, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(W)
        expected = nn.ReLU()(layer(x))
    torch.testing.assert_close(relu_features(x, W), expected, rtol=1e-14, atol=0)


def test_teacher_noise_has_the_stated_level():
    beta = torch.zeros(4, dtype=torch.float64)
    beta[0] = 1.0
    x, y = teacher_data(50_000, beta, sigma=0.5, generator=seeded(3))
    noise = y - x @ beta
    n = len(noise)
    assert abs(noise.var().item() - 0.25) < 4 * 0.25 * math.sqrt(2 / n)


def test_double_descent_errors_are_those_of_single_fits():
    lam_grid = torch.logspace(-2, 2, 5, dtype=torch.float64)
    ps = [5, 40]
    kwargs = {"d": 6, "n_train": 20, "n_val": 10, "n_test": 10, "sigma": 0.5}
    result = double_descent(
        ps, lam_fixed=0.01, lam_grid=lam_grid, num_trials=2, generator=seeded(4), **kwargs
    )
    assert result.fixed.shape == result.tuned.shape == result.lam.shape == (2, 2)
    # Replay the first trial's draws in the documented order and fit by hand.
    g = seeded(4)
    beta = torch.randn(6, dtype=torch.float64, generator=g)
    beta = beta / beta.norm()
    train, val, test = (teacher_data(n, beta, sigma=0.5, generator=g) for n in (20, 10, 10))
    for j, p in enumerate(ps):
        W = random_weights(p, 6, generator=g)

        def mse(data, lam, W=W):
            theta = ridge(relu_features(train[0], W), train[1], lam=lam)
            return (relu_features(data[0], W) @ theta - data[1]).pow(2).mean().item()

        assert result.fixed[0, j].item() == pytest.approx(mse(test, 0.01), rel=1e-6)
        val_errors = [mse(val, lam) for lam in lam_grid.tolist()]
        best = lam_grid[min(range(5), key=val_errors.__getitem__)].item()
        assert result.lam[0, j].item() == best
        assert result.tuned[0, j].item() == pytest.approx(mse(test, best), rel=1e-6)


def test_double_descent_defaults_are_the_homeworks_sizes():
    # d = 35, sigma = 0.5, and 300 training, 60 validation and 30 test points.
    grid = torch.tensor([0.01, 1.0], dtype=torch.float64)
    kwargs = {"lam_fixed": 0.01, "lam_grid": grid, "num_trials": 1}
    default = double_descent([5], generator=seeded(7), **kwargs)
    sizes = {"d": 35, "sigma": 0.5, "n_train": 300, "n_val": 60, "n_test": 30}
    explicit = double_descent([5], generator=seeded(7), **kwargs, **sizes)
    for got, expected in zip(default, explicit, strict=True):
        assert torch.equal(got, expected)
    # Any other noise level changes the errors.
    noisier = double_descent([5], generator=seeded(7), **kwargs, **{**sizes, "sigma": 0.6})
    assert not torch.equal(default.fixed, noisier.fixed)


@pytest.mark.parametrize(
    ("call", "error", "name"),
    [
        (lambda: random_weights(0, 3, generator=seeded(0)), ValueError, "p"),
        (lambda: random_weights(3, 0, generator=seeded(0)), ValueError, "d"),
        (lambda: relu_features(torch.ones(2, 3), torch.ones(4, 2)), ValueError, "x"),
        (lambda: relu_features(torch.ones(2, 3), [[1.0]]), TypeError, "W"),
        (
            lambda: teacher_data(5, torch.ones(2), sigma=-1.0, generator=seeded(0)),
            ValueError,
            "sigma",
        ),
        (lambda: teacher_data(0, torch.ones(2), sigma=1.0, generator=seeded(0)), ValueError, "n"),
        (
            lambda: double_descent(
                [3], lam_fixed=0.01, lam_grid=torch.ones(2), num_trials=0, generator=seeded(0)
            ),
            ValueError,
            "num_trials",
        ),
        (
            lambda: relu_features(torch.ones(2, 3, dtype=torch.int64), torch.ones(4, 3)),
            TypeError,
            "x",
        ),
        (lambda: relu_features(torch.ones(3), torch.ones(4, 3)), ValueError, "x"),
        (
            lambda: double_descent(
                [3], lam_fixed=0.1, lam_grid=[1.0], num_trials=1, generator=seeded(0)
            ),
            TypeError,
            "lam_grid",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_argument(call, error, name):
    with pytest.raises(error, match=rf"^{name} "):
        call()


def test_double_descent_keeps_double_precision_and_any_fixed_penalty():
    kwargs = {"num_trials": 1, "d": 3, "n_train": 8, "n_val": 4, "n_test": 4}
    results = [
        double_descent([4], lam_fixed=0.3, lam_grid=grid, generator=seeded(6), **kwargs)
        for grid in (torch.tensor([0.01, 1.0], dtype=torch.float64), torch.tensor([0.3]).double())
    ]
    # The fixed penalty's error does not depend on whether the tuning grid holds it.
    assert torch.equal(results[0].fixed, results[1].fixed)
    assert {r.dtype for r in results[0]} == {torch.float64}


def test_teacher_data_is_the_linear_teacher_plus_scaled_noise_in_the_documented_order():
    beta = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    x, y = teacher_data(6, beta, sigma=0.3, generator=seeded(9))
    g = seeded(9)
    x_again = torch.randn(6, 3, dtype=torch.float64, generator=g)
    z = torch.randn(6, dtype=torch.float64, generator=g)
    assert torch.equal(x, x_again)
    torch.testing.assert_close(y, x @ beta + 0.3 * z, rtol=1e-15, atol=1e-15)
    x0, y0 = teacher_data(6, beta, sigma=0.0, generator=seeded(9))  # no noise is allowed
    assert torch.equal(y0, x0 @ beta)
    with pytest.raises(TypeError, match=r"^beta "):
        teacher_data(6, [1.0], sigma=0.3, generator=seeded(9))


def grid_run(lam_grid):
    return lambda: double_descent(
        [3], lam_fixed=0.1, lam_grid=lam_grid, num_trials=1, generator=seeded(0)
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: relu_features(torch.ones(3), torch.ones(4, 3)), r"^x must have shape \(N, d\)"),
        (lambda: relu_features(torch.ones(2, 3), torch.ones(3)), r"^W must have shape \(p, d\)"),
        (
            lambda: teacher_data(5, torch.ones(2, 2), sigma=1.0, generator=seeded(0)),
            r"^beta must have shape \(d,\)",
        ),
        (grid_run(torch.ones(2, 2)), r"^lam_grid must have shape \(K,\)"),
        # A zero penalty is no ridge penalty: every candidate must be strictly positive.
        (grid_run(torch.tensor([0.0, 1.0])), r"^lam_grid must hold positive penalties"),
    ],
)
def test_refusals_say_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call()
