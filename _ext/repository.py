"""Every link to the repository names the repository the book is built from.

``_config.yml`` gives a placeholder repository URL, which local builds keep. Where GitHub
Actions builds the book, ``GITHUB_REPOSITORY`` (``owner/name``) names the repository the
workflow runs in: the repository, issues and edit buttons, the Binder and Colab launch buttons
and the library the Colab notebooks install (``_ext/colab.py``) then all point there, so a fork
publishes buttons that work without editing a file.
"""

import os


def repository_url(default: str, environ=os.environ) -> str:
    """The URL of the repository the workflow runs in, or ``default`` outside a workflow."""
    name = environ.get("GITHUB_REPOSITORY", "").strip().strip("/")
    if not name:
        return default
    if name.count("/") != 1:
        raise ValueError(f"GITHUB_REPOSITORY is {name!r}, not owner/name")
    server = environ.get("GITHUB_SERVER_URL", "").rstrip("/") or "https://github.com"
    return f"{server}/{name}"


def use_workflow_repository(app, config) -> None:
    options = config.html_theme_options
    if options.get("repository_url"):
        options["repository_url"] = repository_url(options["repository_url"])


def setup(app):
    # before the theme turns repository_url into its edit-link context (builder-inited)
    app.connect("config-inited", use_workflow_repository)
    return {"version": "1", "parallel_read_safe": True}
