"""The student edition's notebooks: the problem and its answer cell, which runs with its
placeholders and, once a reader types a known wrong answer, names the mistake."""

import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "_ext"))
import exercises  # noqa: E402
import forked_kernel  # noqa: E402

#: For each page with an answer cell, a wrong answer typed into it and the mistake to name.
TYPED = {
    "rnn-jacobian": ("bound = ...", 'bound = "(1/2)^n"', "One factor too many"),
    "conv-output-size": (
        "return ...",
        "return (F, (H + 2*P - D*(K-1) - 1) // S + 1, (W + 2*P - D*(K-1) - 1) // S + 1, C)",
        "A factor C in the output",
    ),
    "lstm-bptt": (
        "    h_bar = ...\n    c_bar = ...\n    g_bar = ...\n    o_bar = ...\n"
        "    f_bar = ...\n    i_bar = ...\n",
        "    h_bar = (after_bars.i * after.i * (1 - after.i) * w_h.i\n"
        "             + after_bars.f * after.f * (1 - after.f) * w_h.f\n"
        "             + after_bars.g * (1 - after.g**2) * w_h.g\n"
        "             + after_bars.o * after.o * (1 - after.o) * w_h.o)\n"
        "    c_bar = h_bar * now.o * (1 - torch.tanh(now.c)**2) + after_bars.c * after.f\n"
        "    g_bar, o_bar = c_bar * now.i, h_bar * torch.tanh(now.c)\n"
        "    f_bar, i_bar = c_bar * now.c_prev, c_bar * now.g\n",
        "The direct loss term is missing from h̄",
    ),
    "batchnorm-resnet-placement": (
        "easier = ...",
        'easier = "right"',
        "Batch norm after the addition does not normalize the gradient",
    ),
    "momentum-inverse": (
        "    theta_prev = ...\n    p_prev = ...\n",
        "    theta_prev = theta - p\n    p_prev = (p + alpha * grad_J(theta)) / beta\n",
        "The velocity first, with the gradient at the new parameters",
    ),
    "momentum-jacobian-det": ("det = ...", 'det = "beta"', "A scalar β in the corner"),
    "dropout-activation-order": (
        "equivalent = ...",
        'equivalent = {"relu", "leaky_relu", "tanh"}',
        "Checking only the dropped units",
    ),
    "default-init-variance": (
        "return ...",
        "return 3.0 ** -(len(widths) - 1) + sum(3.0 ** -(len(widths) - 1 - k) / widths[0] "
        "for k in range(len(widths) - 1))",
        "The input's fan-in for every layer",
    ),
    "random-features-ridge": (
        "return ...",
        "return (X.T @ X + lam / 2 * X.new_ones(X.shape[1]).diag()).inverse() @ X.T @ y",
        "The penalty halved",
    ),
    "conv1d-gradients": (
        "def forward(x, W, stride):\n    return ...",
        "def forward(x, W, stride):\n    n = (x.shape[1] - W.shape[2]) // stride + 1\n"
        "    windows = [x[:, j : j + W.shape[2]] for j in range(n)]\n"
        "    return torch.stack([(W * w).sum(dim=(1, 2)) for w in windows], 1)",
        "The stride ignored",
    ),
    "split-transform-merge": (
        "    in_channels, cardinality, bottleneck_width\n):\n    return ...",
        "    in_channels, cardinality, bottleneck_width\n):\n"
        "    c, b = in_channels, bottleneck_width\n"
        "    return (c + 1) * b + (9 * b + 1) * b + (b + 1) * c",
        "One set of convolutions for all the paths",
    ),
    "gated-rnn": (
        "    return ...",
        '    return torch.einsum("t,ti,tj->ij", (1 - c).sum(dim=1), delta, x)',
        "The gate summed to one number",
    ),
    "sigmoid-chain": (
        "return ...",
        "return (torch.sigmoid(x) * (1 - torch.sigmoid(x))) ** n",
        "Every factor taken at the input",
    ),
    "tanh-chain": (
        "outcome = ...",
        'outcome = "vanish"',
        "A bound of one does not force vanishing",
    ),
    "residual-benefits": (
        "stack = ...",
        "stack = None",
        "σ_max of a product taken as the product of the σ_max",
    ),
    "residual-singular-values": (
        "claim = ...",
        'claim = "true"',
        "The identity does not shift singular values",
    ),
    "residual-mlp-backprop": (
        "dead_layer = ...",
        'dead_layer = "zero"',
        "A dead layer's factor taken as zero",
    ),
    "batchnorm-jacobian": (
        "diagonal = ...",
        'diagonal = "gamma / sqrt(sigma_B**2 + eps)"',
        "The batch statistics held constant",
    ),
    "wavenet": ("receptive_linear = ...", 'receptive_linear = "2^d"', "Exponential growth claimed"),
    "pixelcnn": ("steps = ...", 'steps = "H*W"', "One step per pixel"),
    "mdrnn": (
        "steps_pipelined = ...",
        'steps_pipelined = "d*(H + W - 1)"',
        "Layers one after another",
    ),
    "pixelcnn-vs-mdrnn": (
        "computation = ...",
        'computation = "pixelcnn"',
        "Lower arithmetic claimed for PixelCNN",
    ),
}
PAGES = {p.stem: p for p in ROOT.glob("chapters/*/*.md") if p.stem in TYPED}


def test_every_page_with_an_answer_cell_has_a_typed_wrong_answer():
    with_cell = {p.stem for p in ROOT.glob("chapters/*/*.md") if exercises.student_notebook(p)}
    assert with_cell == set(TYPED)


def text(cell) -> str:
    assert all(o.output_type != "error" for o in cell.outputs)
    return "".join(o.get("data", {}).get("text/plain", "") for o in cell.outputs)


@pytest.mark.parametrize("stem", sorted(TYPED))
def test_the_answer_cell_runs_blank_and_names_a_typed_mistake(stem):
    notebook = exercises.student_notebook(PAGES[stem])
    source = "\n".join(c.source for c in notebook.cells)
    assert "{solution}" not in source and "## Check" not in source and ":::" not in source
    answer = notebook.cells[-1]
    assert answer.cell_type == "code"  # nothing after the answer cell
    placeholder, typed, mistake = TYPED[stem]
    assert placeholder in answer.source
    # The reader's second try, in the same kernel: the cell again, with the answer typed in.
    retyped = nbformat.v4.new_code_cell(answer.source.replace(placeholder, typed))
    notebook.cells.append(retyped)
    kernel = forked_kernel.shared_kernel()
    executed = NotebookClient(notebook, timeout=120, kernel_name=kernel).execute()
    assert "not answered yet" in text(executed.cells[-2])
    output = text(executed.cells[-1])
    assert "0 of" in output and mistake in output
