"""The saved-tensor meter counts exactly what autograd keeps for backward, and its release."""

import torch

from derived.autograd_memory import peak_saved_bytes


def test_a_product_saves_both_factors_until_backward():
    x = torch.ones(1000, dtype=torch.float64, requires_grad=True)
    w = torch.full((1000,), 2.0, dtype=torch.float64, requires_grad=True)
    with peak_saved_bytes() as meter:
        y = (x * w).sum()  # mul saves both factors; sum saves nothing
        held = meter.current
        y.backward()
    assert held == meter.peak == x.nbytes + w.nbytes
    assert meter.current == 0


def test_a_tensor_saved_twice_is_counted_once():
    x = torch.ones(500, dtype=torch.float32, requires_grad=True)
    with peak_saved_bytes() as meter:
        y = (x * x).sum()  # saves x twice: one storage
        z = (x * x * x).sum()
    assert meter.peak == x.nbytes + (x * x).nbytes
    del y, z
    assert meter.current == 0


def test_nothing_is_saved_without_grad_or_after_the_graph_is_dropped():
    x = torch.ones(100, dtype=torch.float64, requires_grad=True)
    with peak_saved_bytes() as meter:
        with torch.no_grad():
            torch.sin(x).sum()
    assert meter.peak == 0
    with peak_saved_bytes() as meter:
        for _ in range(5):
            torch.sin(x).sum()  # each graph is freed before the next is built
    assert meter.peak == x.nbytes
    assert meter.current == 0


def test_a_storage_stays_counted_until_its_last_holder_is_freed():
    x = torch.ones(300, dtype=torch.float64, requires_grad=True)
    with peak_saved_bytes() as meter:
        graphs = [torch.sin(x).sum() for _ in range(3)]  # three graphs hold x
        while graphs:
            assert meter.current == x.nbytes
            graphs.pop()
    assert meter.current == 0
