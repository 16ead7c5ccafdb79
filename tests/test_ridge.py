"""Ridge regression: the normal equations hold, and the primal and dual forms agree."""

import pytest
import torch
from defaults import default_dtype
from hypothesis import given
from hypothesis import strategies as st

from derived.ridge import ridge, ridge_dual, ridge_primal

sizes = st.integers(min_value=1, max_value=40)
penalties = st.floats(min_value=1e-3, max_value=1e3)


def problem(N: int, p: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(N, p, dtype=torch.float64, generator=g),
        torch.randn(N, dtype=torch.float64, generator=g),
    )


def assert_normal_equations(X, y, lam, theta):
    # The gradient of 1/2 |X theta - y|^2 + lam/2 |theta|^2 vanishes at the minimiser.
    residual = X.T @ (X @ theta - y) + lam * theta
    scale = (X.T @ y).norm() + 1
    assert residual.norm().item() <= 1e-9 * scale.item()


@given(N=sizes, p=sizes, lam=penalties, seed=st.integers(0, 1000))
def test_primal_and_dual_solve_the_normal_equations_and_agree(N, p, lam, seed):
    X, y = problem(N, p, seed)
    primal, dual = ridge_primal(X, y, lam=lam), ridge_dual(X, y, lam=lam)
    assert_normal_equations(X, y, lam, primal)
    assert_normal_equations(X, y, lam, dual)
    torch.testing.assert_close(primal, dual, rtol=1e-8, atol=1e-10)
    torch.testing.assert_close(ridge(X, y, lam=lam), primal, rtol=1e-8, atol=1e-10)


def test_ridge_zeroes_the_autograd_gradient_of_the_objective():
    X, y = problem(30, 8, 0)
    lam = 0.5
    theta = ridge(X, y, lam=lam).requires_grad_()
    objective = 0.5 * (X @ theta - y).pow(2).sum() + 0.5 * lam * theta.pow(2).sum()
    (grad,) = torch.autograd.grad(objective, theta)
    assert grad.abs().max().item() < 1e-10
    # A strictly convex objective: any perturbation increases it.
    for direction in torch.eye(8, dtype=torch.float64):
        bumped = theta.detach() + 1e-3 * direction
        value = 0.5 * (X @ bumped - y).pow(2).sum() + 0.5 * lam * bumped.pow(2).sum()
        assert value.item() > objective.item()


@pytest.mark.parametrize(("N", "p"), [(20, 5), (5, 20)])
def test_a_batch_of_penalties_is_a_stack_of_single_solves(N, p):
    X, y = problem(N, p, 1)
    lams = torch.tensor([0.01, 1.0, 100.0], dtype=torch.float64)
    for solver in (ridge_primal, ridge_dual, ridge):
        batch = solver(X, y, lam=lams)
        assert batch.shape == (3, p)
        for k, lam in enumerate(lams.tolist()):
            torch.testing.assert_close(batch[k], solver(X, y, lam=lam), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("N", "p"), [(20, 5), (5, 20)])
@pytest.mark.parametrize("solver", [ridge_primal, ridge_dual])
def test_the_solution_has_the_dtype_of_x_whatever_the_default_dtype(solver, N, p):
    X, y = problem(N, p, 4)
    with default_dtype(torch.float64):
        theta = solver(X.float(), y.float(), lam=0.5)
    assert theta.dtype == torch.float32
    torch.testing.assert_close(theta, solver(X, y, lam=0.5).float(), rtol=1e-4, atol=1e-5)


def test_large_penalty_shrinks_towards_zero():
    X, y = problem(10, 4, 2)
    # theta ~ X^T y / lam as lam grows.
    lam = 1e8
    torch.testing.assert_close(ridge(X, y, lam=lam) * lam, X.T @ y, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("X", "y", "lam", "error", "name"),
    [
        ([[1.0]], torch.ones(1), 1.0, TypeError, "X"),
        (torch.ones(3), torch.ones(3), 1.0, ValueError, "X"),
        (torch.ones(3, 2), torch.ones(2), 1.0, ValueError, "y"),
        (torch.ones(3, 2), torch.ones(3, dtype=torch.long), 1.0, TypeError, "y"),
        (torch.ones(3, 2), torch.ones(3), 0.0, ValueError, "lam"),
        (torch.ones(3, 2), torch.ones(3), -1.0, ValueError, "lam"),
        (torch.ones(3, 2), torch.ones(3), float("nan"), ValueError, "lam"),
        (torch.ones(3, 2), torch.ones(3), "0.1", TypeError, "lam"),
        (torch.ones(3, 2), torch.ones(3), torch.ones(2, 2), ValueError, "lam"),
    ],
)
@pytest.mark.parametrize("solver", [ridge, ridge_primal, ridge_dual])
def test_bad_input_is_refused_naming_the_argument(solver, X, y, lam, error, name):
    with pytest.raises(error, match=rf"^{name} "):
        solver(X, y, lam=lam)


@pytest.mark.parametrize(("N", "p", "form"), [(6, 3, "primal"), (4, 4, "primal"), (3, 6, "dual")])
def test_ridge_solves_the_smaller_system(monkeypatch, N, p, form):
    # The primal system is p x p and the dual N x N; the primal form is taken when p <= N.
    import derived.ridge as module

    used = []

    def spy(name):
        solver = getattr(module, f"ridge_{name}")

        def recorded(*args, **kwargs):
            used.append(name)
            return solver(*args, **kwargs)

        return recorded

    for name in ("primal", "dual"):
        monkeypatch.setattr(module, f"ridge_{name}", spy(name))
    X, y = problem(N, p, 3)
    ridge(X, y, lam=1.0)
    assert used == [form]


def test_a_refusal_says_what_was_expected_and_what_was_given():
    with pytest.raises(ValueError, match=r"^y must have shape \(3,\) to match X, got \(2,\)"):
        ridge(torch.ones(3, 2), torch.ones(2), lam=1.0)
    with pytest.raises(TypeError, match=r"^lam must be a number or a tensor, got str"):
        ridge(torch.ones(3, 2), torch.ones(3), lam="0.1")
