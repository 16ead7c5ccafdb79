"""``jupyter-book``, without the interpreter's teardown on the way out.

Once a build has imported torch and holds every page's doctree, the interpreter spends about
2 s freeing them after the build has finished. Run as ``python _ext/build_book.py ARGS``, this
is ``jupyter-book ARGS`` with the same exit status, which leaves at once instead: every file
the build writes is closed by then (Sphinx writes each in a ``with`` block, jupyter-cache
commits each record), and the kernels' server is stopped by the build itself.
"""

import os
import sys

from jupyter_book.cli.main import main

if __name__ == "__main__":
    try:
        main()
        status = 0
    except SystemExit as exit_:
        if isinstance(exit_.code, str):
            print(exit_.code, file=sys.stderr)
        status = exit_.code if isinstance(exit_.code, int) else int(exit_.code is not None)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)
