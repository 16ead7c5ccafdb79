"""The longest chain of dependencies: against a recursive search, and the Jacobian of a stack."""

import functools

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from derived.critical_path import longest_chains, stack_jacobian
from derived.wavenet import causal_conv1d


def reference_levels(reads: list[list[int]]) -> list[int]:
    """The longest chain ending at each unit, by memoised recursion over what it reads."""

    @functools.cache
    def level(u: int) -> int:
        return max((1 + level(v) for v in reads[u]), default=0)

    return [level(u) for u in range(len(reads))]


@settings(max_examples=40)
@given(
    n=st.integers(1, 12),
    p=st.floats(0.1, 0.9),
    seed=st.integers(0, 2**16),
)
def test_levels_match_a_recursive_search_on_random_acyclic_graphs(n, p, seed):
    g = torch.Generator().manual_seed(seed)
    # Unit order[a] may read order[b] only for b < a: acyclic, in a shuffled numbering.
    order = torch.randperm(n, generator=g)
    links = (torch.rand(n, n, generator=g, dtype=torch.float64) < p).tril(-1)
    jacobian = torch.zeros(n, n, dtype=torch.float64)
    weights = torch.randn(n, n, generator=g, dtype=torch.float64)
    jacobian[order[:, None], order[None, :]] = torch.where(links, weights, 0.0)
    reads = [torch.nonzero(jacobian[u]).flatten().tolist() for u in range(n)]
    assert longest_chains(jacobian).tolist() == reference_levels(reads)


@pytest.mark.parametrize("n", [1, 2, 7])
def test_a_path_of_n_units_has_levels_zero_to_n_minus_one(n):
    # Unit u reads unit u - 1 only: the chain 0 -> 1 -> ... -> n - 1.
    jacobian = torch.diag(torch.full((n - 1,), 0.5, dtype=torch.float64), -1)
    assert longest_chains(jacobian).tolist() == list(range(n))


def test_the_level_is_the_longest_chain_not_the_shortest():
    # 3 reads 0 directly and through 1 and 2: its level is 3, not 1.
    jacobian = torch.zeros(4, 4, dtype=torch.float64)
    jacobian[1, 0] = jacobian[2, 1] = jacobian[3, 2] = jacobian[3, 0] = 1.0
    assert longest_chains(jacobian).tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("cycle", [[(0, 0)], [(0, 1), (1, 0)], [(1, 0), (2, 1), (0, 2)]])
def test_a_cycle_of_dependencies_is_refused(cycle):
    jacobian = torch.zeros(3, 3, dtype=torch.float64)
    for u, v in cycle:
        jacobian[u, v] = 1.0
    with pytest.raises(ValueError, match=r"^jacobian has a cycle"):
        longest_chains(jacobian)


def test_the_stack_jacobian_of_linear_layers_is_their_block_matrix():
    g = torch.Generator().manual_seed(0)
    A, B, C = (torch.randn(3, m, generator=g, dtype=torch.float64) for m in (2, 3, 3))
    layers = [lambda below, own: below @ A.T, lambda below, own: below @ B.T + own @ C.T]
    states = [torch.randn(m, generator=g, dtype=torch.float64) for m in (2, 3, 3)]
    expected = torch.zeros(8, 8, dtype=torch.float64)
    expected[2:5, 0:2] = A  # layer 1 reads the input
    expected[5:8, 2:5] = B  # layer 2 reads layer 1 ...
    expected[5:8, 5:8] = C  # ... and its own states
    torch.testing.assert_close(stack_jacobian(layers, states), expected, rtol=0, atol=0)


def test_the_dependencies_are_those_a_perturbation_reveals():
    # Which units change when one unit moves, found without autograd, against the Jacobian.
    g = torch.Generator().manual_seed(1)
    weights = [torch.randn(2, 2, 2, generator=g, dtype=torch.float64) for _ in range(2)]
    layers = [
        lambda below, own, w=w, r=r: torch.tanh(causal_conv1d(below, w, dilation=r))
        for w, r in zip(weights, [1, 2], strict=True)
    ]
    states = [torch.randn(1, 2, 6, generator=g, dtype=torch.float64) for _ in range(3)]
    sizes = [h.numel() for h in states]
    z = torch.cat([h.flatten() for h in states])

    def update(z):
        h = [p.reshape(s.shape) for p, s in zip(z.split(sizes), states, strict=True)]
        new = [torch.zeros_like(h[0])] + [f(h[i], h[i + 1]) for i, f in enumerate(layers)]
        return torch.cat([p.flatten() for p in new])

    moved = torch.stack([update(z + 1e-3 * e) - update(z) for e in torch.eye(z.numel())], 1)
    assert torch.equal(stack_jacobian(layers, states) != 0, moved != 0)


def test_a_recurrence_along_a_row_has_a_chain_as_long_as_the_row():
    # h_t = tanh(w x_t + v h_{t-1}): unit t of the layer reads unit t - 1 of the same layer.
    T = 9
    shift = torch.diag(torch.ones(T - 1, dtype=torch.float64), -1)
    layers = [lambda below, own: torch.tanh(0.5 * below + 0.8 * shift @ own)]
    g = torch.Generator().manual_seed(2)
    states = [torch.randn(T, generator=g, dtype=torch.float64) for _ in range(2)]
    levels = longest_chains(stack_jacobian(layers, states))
    assert levels[T:].tolist() == list(range(1, T + 1))


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: longest_chains(torch.zeros(2, 3, dtype=torch.float64)), ValueError, "jacobian"),
        (lambda: longest_chains(torch.zeros(2, 2, dtype=torch.int64)), TypeError, "jacobian"),
        (lambda: stack_jacobian(torch.tanh, [torch.ones(2)] * 2), TypeError, "layers"),
        (lambda: stack_jacobian([], [torch.ones(2)]), TypeError, "layers"),
        (lambda: stack_jacobian([torch.tanh], "states"), TypeError, "states"),
        (lambda: stack_jacobian([lambda b, o: b], [torch.ones(2)]), ValueError, "states"),
        (lambda: stack_jacobian([3], [torch.ones(2)] * 2), TypeError, r"layers\[0\]"),
        (
            lambda: stack_jacobian([lambda b, o: b], [torch.ones(2), torch.ones(2, dtype=int)]),
            TypeError,
            r"states\[1\]",
        ),
        (
            lambda: stack_jacobian([lambda b, o: b[:1]], [torch.ones(2)] * 2),
            ValueError,
            r"layers\[0\] must return the shape of states\[1\], \(2,\), got \(1,\)",
        ),
    ],
)
def test_bad_input_is_refused_naming_the_argument(call, error, message):
    with pytest.raises(error, match=rf"^{message}"):
        call()
