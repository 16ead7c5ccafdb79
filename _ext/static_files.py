"""A change to ``_static/`` alone reaches the site.

Sphinx copies the static files only when it writes at least one page, and a stylesheet edit
changes no page: re-read the root page then, so the build goes on to copy them.
"""

from pathlib import Path


def copy_changed_static_files(app, env, added, changed, removed) -> list[str]:
    source, built = Path(app.srcdir, "_static"), Path(app.outdir, "_static")
    for path in (p for p in source.rglob("*") if p.is_file()):
        copy = built / path.relative_to(source)
        if not copy.is_file() or copy.read_bytes() != path.read_bytes():
            return [app.config.root_doc]
    return []


def setup(app):
    app.connect("env-get-outdated", copy_changed_static_files)
    return {"version": "1", "parallel_read_safe": True}
