"""``jupyter-book``, with its kernels' server started first, a lazier garbage collector, and no
interpreter teardown.

Run as ``python _ext/build_book.py ARGS``, this is ``jupyter-book ARGS`` with the same exit
status. Three things make it faster:

- The server that forks the pages' kernels (``forked_kernel.py``) starts before jupyter-book
  is imported, so that its own imports (torch: seconds) overlap the build's start-up; the
  build (``execution_cache.py``) uses it for whatever page it must execute.
- A build holds thousands of docutils nodes, each linked to its parent, so the collector's
  full passes over them cost seconds: what is loaded before the build is frozen out of its
  passes, and it runs less often (a build that executes nothing: 14 s instead of 17 s, peak
  memory 476 MB instead of 440 MB).
- Once the build has finished, holding every doctree and torch, the interpreter would spend
  about 2 s freeing them; it leaves at once instead, after the exit handlers (which stop the
  server). Every file the build writes is closed by then: Sphinx writes each in a ``with``
  block, and jupyter-cache commits each record.
"""

import atexit
import gc
import os
import sys

import forked_kernel  # beside this file


def build(arguments: list[str]) -> int:
    """Run ``jupyter-book ARGUMENTS``; return its exit status."""
    forked_kernel.shared_kernel()
    from jupyter_book.cli.main import main

    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)
    try:
        main(arguments)
    except SystemExit as exit_:
        if isinstance(exit_.code, str):
            print(exit_.code, file=sys.stderr)
            return 1
        return exit_.code or 0
    return 0


if __name__ == "__main__":
    status = build(sys.argv[1:])
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
