"""Kernels forked from the preloaded server (``_ext/forked_kernel.py``) behave like fresh ones.

The build and nbval run every page in such a kernel, so a page must see nothing that an earlier
page left behind, must give exactly the outputs a fresh kernel gives, and must stay under the
client's control: interrupted, and gone when it is killed.
"""

import os
import signal
import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT / "_ext"))
import forked_kernel  # noqa: E402

#: A page that changes every kind of process-wide state a page could leave behind.
LEAVES_STATE = """
import builtins, os, sys
import matplotlib
import torch
import derived
LEFT = "a global"
builtins.LEFT_IN_BUILTINS = True
sys.modules["left_module"] = sys
os.environ["LEFT_VARIABLE"] = "1"
os.chdir("/")
torch.set_default_dtype(torch.float64)
torch.manual_seed(123)
matplotlib.rcParams["lines.linewidth"] = 7.0
derived.LEFT_ATTRIBUTE = True
"""
#: What the next page sees, each of which a fresh process shows.
SEES_NOTHING = """
import builtins, os, sys
import matplotlib
import torch
import derived
print("LEFT" in globals(), hasattr(builtins, "LEFT_IN_BUILTINS"), "left_module" in sys.modules,
      "LEFT_VARIABLE" in os.environ, os.getcwd() == CWD, torch.get_default_dtype(),
      matplotlib.rcParams["lines.linewidth"], hasattr(derived, "LEFT_ATTRIBUTE"))
print(torch.initial_seed())
"""
#: Output of several kinds: a stream, a rich result, a glued value and a figure.
OUTPUTS = """
import matplotlib.pyplot as plt
import torch
from myst_nb import glue
print("stream")
glue("value", torch.tensor(0.25).item())
figure, axes = plt.subplots(figsize=(2, 1.5))
axes.plot([0, 1, 2], [0, 1, 4])
plt.show()
torch.arange(3)
"""


def notebook(*sources: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in sources],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )


def run(nb: nbformat.NotebookNode, kernel_name: str, cwd: Path) -> nbformat.NotebookNode:
    resources = {"metadata": {"path": str(cwd)}}
    return NotebookClient(nb, kernel_name=kernel_name, timeout=60, resources=resources).execute()


def text(nb: nbformat.NotebookNode) -> list[str]:
    return ["".join(o.get("text", "") for o in cell.outputs) for cell in nb.cells]


def outputs(nb: nbformat.NotebookNode) -> list:
    return [
        [{k: v for k, v in o.items() if k != "execution_count"} for o in c.outputs]
        for c in nb.cells
    ]


@pytest.fixture(scope="module")
def kernel_name():
    return forked_kernel.shared_kernel()


def test_a_page_sees_nothing_an_earlier_page_left(kernel_name, tmp_path):
    run(notebook(LEAVES_STATE), kernel_name, tmp_path)
    second, third = (
        run(notebook(f"CWD = {str(tmp_path)!r}", SEES_NOTHING), kernel_name, tmp_path)
        for _ in range(2)
    )
    seen, seed = text(second)[1].splitlines()
    assert seen == "False False False False True torch.float32 1.5 False"
    # Seeded afresh, as a fresh process is: not the first page's seed, nor the server's.
    assert seed != "123" and seed != text(third)[1].splitlines()[1]


def test_outputs_are_those_of_a_fresh_kernel(kernel_name, tmp_path):
    forked = run(notebook(OUTPUTS), kernel_name, tmp_path)
    fresh = run(notebook(OUTPUTS), "python3", tmp_path)
    kinds = [o.output_type for o in forked.cells[0].outputs]
    assert kinds == ["stream", "display_data", "display_data", "execute_result"]
    assert "image/png" in forked.cells[0].outputs[2].data
    assert outputs(forked) == outputs(fresh)


def test_the_kernel_runs_in_the_page_folder_with_the_page_environment(kernel_name, tmp_path):
    source = "import os, sys; print(os.getcwd(), sys.path[0], os.environ['DERIVED_TEST'])"
    os.environ["DERIVED_TEST"] = "set by the client"
    try:
        nb = run(notebook(source), kernel_name, tmp_path)
    finally:
        del os.environ["DERIVED_TEST"]
    assert text(nb)[0].split(maxsplit=2) == [str(tmp_path), str(tmp_path), "set by the client\n"]


def pid_of(client) -> int:
    client.execute("import os; print(os.getpid())")
    while True:
        message = client.get_iopub_msg(timeout=30)
        if message["msg_type"] == "stream":
            return int(message["content"]["text"])


def test_the_client_can_interrupt_and_kill_the_kernel(kernel_name):
    manager = KernelManager(kernel_name=kernel_name)
    manager.start_kernel()
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        pid = pid_of(client)
        assert pid != manager.provisioner.process.pid  # the kernel is not the launcher
        sleep = client.execute("import time; time.sleep(60)")
        time.sleep(0.5)
        manager.interrupt_kernel()
        reply = client.get_shell_msg(timeout=10)
        while reply["parent_header"]["msg_id"] != sleep:  # the sleep's reply, cut short
            reply = client.get_shell_msg(timeout=10)
        assert reply["content"]["status"] == "error"
        assert reply["content"]["ename"] == "KeyboardInterrupt"
        os.kill(manager.provisioner.process.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the kernel outlived its launcher")
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
