"""Jupyter kernels forked from a process that has already imported the heavy modules.

A fresh kernel spends seconds importing torch, matplotlib and the library before a page's
first cell can run, and the build and the tests start one kernel per page. Here one server
process imports them once; each kernel is a child forked from it, which then starts an
ordinary ``ipykernel`` in the page's folder, with the page's environment. The server never
runs a page's code, so every kernel starts from the same state: no page sees what another
left behind (``tests/test_forked_kernel.py`` proves it).

To the Jupyter client the kernel is an ordinary kernelspec, ``derived-forked``, whose command
runs this file as a small launcher: it hands its standard streams and environment to the
server over a Unix socket, relays the signals it receives (interrupt, terminate) to its forked
kernel, and exits with the kernel's exit status; when the launcher is killed, the server kills
its kernel. Where no server is running, the launcher starts a plain ``ipykernel`` instead.

Used by the build (``execution_cache.py``), nbval (``conftest.py``) and the tests that run the
student notebooks. A reader's kernel is never one of these: the pages run as published.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

KERNEL_NAME = "derived-forked"
SOCKET_VARIABLE = "DERIVED_FORKED_KERNEL_SOCKET"
#: Imported once by the server, before any kernel is forked, with every module of the library.
#: Nothing here may start a thread or a torch thread pool: a forked child inherits no threads,
#: only their locks.
PRELOAD = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "numpy",
    "torch",
    "torch.func",
    # Not pyplot, nor the inline backend: imported once the kernel's shell exists, the backend
    # sets up the figures' display, as it does in a fresh kernel.
    "matplotlib.figure",
    "matplotlib.backends.backend_agg",
    "sympy",
    "myst_nb",
)
#: Signals the launcher relays to its kernel (jupyter_client interrupts and terminates it
#: through its process group, which is the launcher's).
RELAYED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
MESSAGE_BYTES = 1 << 20


# ----------------------------------------------------------------------------------------------
# Starting the server: what the build and the tests call


@contextlib.contextmanager
def forked_kernels() -> Iterator[str]:
    """Run a kernel server for the duration of the block; yield the kernel name to ask for.

    The kernelspec and the server's socket are made in a temporary folder; ``JUPYTER_PATH``
    and the socket's variable are set in ``os.environ``, so that the clients started in the
    block, and the processes it starts, find them.
    """
    with tempfile.TemporaryDirectory(prefix="forked-kernel-") as folder:
        folder = Path(folder)
        spec = folder / "kernels" / KERNEL_NAME
        spec.mkdir(parents=True)
        argv = [sys.executable, str(Path(__file__).resolve()), "launch", "-f", "{connection_file}"]
        kernel = {"argv": argv, "display_name": "Python 3 (forked)", "language": "python"}
        (spec / "kernel.json").write_text(json.dumps(kernel), encoding="utf-8")
        path = folder / "server.sock"
        server = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "serve", str(path)],
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C meant for the build is not the server's
        )
        saved = {name: os.environ.get(name) for name in ("JUPYTER_PATH", SOCKET_VARIABLE)}
        try:
            # The socket listens before the imports begin: kernels asked for meanwhile wait.
            deadline = time.monotonic() + 30
            while not path.exists():
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the forked-kernel server did not start")
                time.sleep(0.01)
            os.environ["JUPYTER_PATH"] = os.pathsep.join(
                filter(None, [str(folder), saved["JUPYTER_PATH"]])
            )
            os.environ[SOCKET_VARIABLE] = str(path)
            yield KERNEL_NAME
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            server.terminate()
            server.wait()


_shared: contextlib.ExitStack | None = None


def shared_kernel() -> str:
    """The kernel name of a server started on first use, stopped when this process exits."""
    global _shared
    if _shared is None:
        _shared = contextlib.ExitStack()
        _shared.enter_context(forked_kernels())
        atexit.register(_shared.close)
    return KERNEL_NAME


# ----------------------------------------------------------------------------------------------
# The server


def serve(path: str) -> None:
    """Listen on ``path``, import ``PRELOAD``, then fork a kernel for each launcher."""
    _die_with_parent()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(f"{path}.new")
    listener.listen(64)
    os.rename(f"{path}.new", path)  # the path appears only once it accepts connections
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    for name in PRELOAD:
        __import__(name)
    _import_library()

    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    kernels: dict[int, tuple[socket.socket | None, int]] = {}  # pid -> (launcher, pidfd)

    def stop(signum, frame):
        for pid in kernels:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    while True:
        for key, _ in selector.select():
            kind = key.data
            if kind == "accept":
                launcher, _ = listener.accept()
                pid = _fork_kernel(launcher, listener, selector, kernels)
                if pid is None:
                    launcher.close()
                    continue
                pidfd = os.pidfd_open(pid)
                kernels[pid] = (launcher, pidfd)
                selector.register(launcher, selectors.EVENT_READ, ("launcher", pid))
                selector.register(pidfd, selectors.EVENT_READ, ("exited", pid))
            elif kind[0] == "launcher":
                pid = kind[1]
                launcher = key.fileobj
                message = launcher.recv(64)
                if message:  # a signal to relay
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, int(message))
                    continue
                # The launcher is gone (killed): so is its kernel.
                selector.unregister(launcher)
                launcher.close()
                kernels[pid] = (None, kernels[pid][1])
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            else:
                pid = kind[1]
                launcher, pidfd = kernels.pop(pid)
                selector.unregister(pidfd)
                os.close(pidfd)
                _, status = os.waitpid(pid, 0)
                if launcher is not None:
                    selector.unregister(launcher)
                    with contextlib.suppress(OSError):
                        launcher.send(str(os.waitstatus_to_exitcode(status)).encode())
                    launcher.close()


def _import_library() -> None:
    import pkgutil

    import derived

    for module in pkgutil.walk_packages(derived.__path__, "derived."):
        __import__(module.name)


def _fork_kernel(launcher, listener, selector, kernels) -> int | None:
    message, fds, _, _ = socket.recv_fds(launcher, MESSAGE_BYTES, 3)
    if not message or len(fds) != 3:
        for fd in fds:
            os.close(fd)
        return None
    request = json.loads(message)
    pid = os.fork()
    if pid:
        for fd in fds:
            os.close(fd)
        return pid
    # The kernel: nothing of the server's may outlive the fork.
    code = 1
    try:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        selector.close()
        listener.close()
        for other, pidfd in kernels.values():
            if other is not None:
                other.close()
            os.close(pidfd)
        launcher.close()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        code = _run_kernel(request)
    except BaseException:
        traceback.print_exc()
    finally:
        os._exit(code)


def _run_kernel(request: dict) -> int:
    """Become what ``python -m ipykernel_launcher ARGV`` run in ``cwd`` would be."""
    import importlib.util

    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.path[0] = request["cwd"]  # as for ``python -m``, not this file's folder
    sys.argv = [importlib.util.find_spec("ipykernel_launcher").origin, *request["argv"]]
    # A fresh process seeds the global generators from the system's entropy; a forked one would
    # repeat the server's seeds (Python's own `random` reseeds itself after a fork).
    sys.modules["numpy"].random.seed()
    sys.modules["torch"].seed()
    from ipykernel.kernelapp import IPKernelApp

    code = 0
    try:
        # The server kills the kernel when its launcher dies; the kernel's own parent check
        # would watch the server instead (1 turns it off, as for a kernel whose parent is init).
        IPKernelApp.launch_instance([*request["argv"], "--IPKernelApp.parent_handle=1"])
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    return code


def _die_with_parent() -> None:
    """Ask Linux to terminate the server when the process that started it ends."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


# ----------------------------------------------------------------------------------------------
# The launcher: the process jupyter_client starts, manages and signals


def launch(argv: list[str]) -> None:
    path = os.environ.get(SOCKET_VARIABLE)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        if not path:
            raise OSError("no server")
        server.connect(path)
    except OSError:  # no server: an ordinary kernel
        os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *argv])
    request = {"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}
    socket.send_fds(server, [json.dumps(request).encode()], [0, 1, 2])

    def relay(signum, frame):
        with contextlib.suppress(OSError):
            server.send(str(signum).encode())

    for signum in RELAYED:
        signal.signal(signum, relay)
    while True:
        try:
            message = server.recv(64)
            break
        except InterruptedError:
            continue
    sys.exit(int(message) if message else 1)


if __name__ == "__main__":
    command, *arguments = sys.argv[1:]
    if command == "serve":
        serve(*arguments)
    elif command == "launch":
        launch(arguments)
    else:
        sys.exit(f"usage: {sys.argv[0]} serve SOCKET | launch -f CONNECTION_FILE")
