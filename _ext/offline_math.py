"""Serve MathJax from the site itself: equations render offline, with no third-party request.

The MathJax 3 distribution comes from the ``sphinx-mathjax-offline`` package (pinned in the
lock); ``_config.yml`` points ``mathjax_path`` at the copy this extension puts in ``_static``.
Only the CommonHTML entry point and what it loads on demand are copied, not the other bundles.
"""

import shutil
from importlib.metadata import distribution
from pathlib import Path

SOURCE = Path(str(distribution("sphinx-mathjax-offline").locate_file("sphinx-mathjax-offline")))
UNUSED = ("mml-*.js", "tex-mml-*.js", "tex-svg*.js", "tex-chtml-full*.js", "node-main.js", "svg*")


def copy_mathjax(app, exception) -> None:
    if exception is None and app.builder.format == "html":
        shutil.copytree(
            SOURCE / "static" / "mathjax",
            Path(app.outdir) / "_static" / "mathjax",
            ignore=shutil.ignore_patterns(*UNUSED),
            dirs_exist_ok=True,
        )


def setup(app):
    app.connect("build-finished", copy_mathjax)
    return {"version": "1", "parallel_read_safe": True}
