"""Keep every page free of console errors from the theme's own scripts.

- sphinx-thebe's inline configuration script is added twice by Jupyter Book, and declaring its
  ``const`` twice is a syntax error in the browser: keep one copy.
- On a first visit, pydata-sphinx-theme reads an empty colour mode from ``localStorage`` and
  logs an error before falling back to "auto": start from "auto" instead.
"""


def drop_duplicate_scripts(app, pagename, templatename, context, doctree) -> None:
    seen = set()
    unique = []
    for script in context.get("script_files", []):
        # the same script may be queued twice, with None or "" as its file name
        key = (script.filename or "", tuple(sorted(script.attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.add_js_file(None, body='document.documentElement.dataset.mode ||= "auto";', priority=1)
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    return {"version": "1", "parallel_read_safe": True}
