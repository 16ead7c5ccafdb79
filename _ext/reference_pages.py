"""Re-read the library reference only when what it documents may have changed.

autodoc makes every module it documents a dependency of the page, so after any edit of a
module, even inside a function's body, Sphinx re-reads and rewrites the reference (importing
the whole library and torch: seconds), and with it the pages generated from all the others,
although nothing the reference shows has changed. Here such a page depends instead on one
*stamp* file, rewritten only when the *interface* of its modules changes: a library module's
text without the statements of its function bodies, and any other module (the standard
library's, torch's) as its size and modification time. Signatures, decorators, docstrings,
classes, ``#:`` comments and module-level code are all kept, and so is the body of every
function that may run while the library is imported (called by module-level code, a
decorator, a default or a class body, directly or through other such functions), since autodoc
shows the values that code computes.
"""

from __future__ import annotations

import ast
import functools
import hashlib
from pathlib import Path

from execution_cache import library_path  # beside this file: on sys.path

FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _calls(node: ast.AST, *, skip_bodies: bool) -> tuple[set[str], set[str]]:
    """The functions called in ``node``: by plain name, and by attribute (``x.name(...)``); with
    ``skip_bodies``, not in the bodies of the functions and lambdas it defines, nor under
    ``if __name__ == "__main__":``, which run later if at all."""
    names: set[str] = set()
    attributes: set[str] = set()
    pending = [node]
    while pending:
        current = pending.pop()
        if skip_bodies and _is_main_guard(current):
            continue
        if isinstance(current, ast.Call):
            if isinstance(current.func, ast.Name):
                names.add(current.func.id)
            elif isinstance(current.func, ast.Attribute):
                attributes.add(current.func.attr)
        for field, value in ast.iter_fields(current):
            if skip_bodies and field == "body" and isinstance(current, (*FUNCTIONS, ast.Lambda)):
                continue
            children = value if isinstance(value, list) else [value]
            pending.extend(child for child in children if isinstance(child, ast.AST))
    return names, attributes


def _is_main_guard(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.If)
        and isinstance(node.test, ast.Compare)
        and getattr(node.test.left, "id", None) == "__name__"
        and any(getattr(c, "value", None) == "__main__" for c in node.test.comparators)
    )


def _imported_functions(tree: ast.Module, path: Path, library: Path) -> dict[str, tuple[Path, str]]:
    """``from module import name as alias`` of a library module: alias -> (its file, name)."""
    package = path.relative_to(library).with_suffix("").parts[:-1]
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            source = library.joinpath(*base, *(node.module.split(".") if node.module else ()))
            for candidate in (source.with_suffix(".py"), source / "__init__.py"):
                if candidate.is_file():
                    found |= {a.asname or a.name: (candidate, a.name) for a in node.names}
                    break
    return found


def _run_on_import(trees: dict[Path, ast.Module], library: Path) -> set[tuple[Path, str]]:
    """The library functions that may run while the modules are imported, as (file, name): those
    called by module-level code, decorators, defaults or class bodies, and what they call. A call
    by attribute may be to any function of that name."""
    defined = {path: {n.name for n in ast.walk(tree) if isinstance(n, FUNCTIONS)}
               for path, tree in trees.items()}  # fmt: skip
    imports = {path: _imported_functions(tree, path, library) for path, tree in trees.items()}
    marked: set[tuple[Path, str]] = set()
    pending = [(path, tree, True) for path, tree in trees.items()]
    while pending:
        path, node, skip_bodies = pending.pop()
        names, attributes = _calls(node, skip_bodies=skip_bodies)
        found = {(p, a) for p, functions in defined.items() for a in attributes & functions}
        for name in names:
            if name in imports[path]:
                found.add(imports[path][name])
            elif name in defined[path]:
                found.add((path, name))
        for target, name in found - marked:
            marked.add((target, name))
            pending.extend(
                (target, ast.Module(n.body, []), False)
                for n in ast.walk(trees.get(target, ast.Module([], [])))
                if isinstance(n, FUNCTIONS) and n.name == name
            )
    return marked


def functions_run_on_import(library: Path) -> set[tuple[Path, str]]:
    """The functions of the library under ``library`` that may run while it is imported."""
    trees = {path: ast.parse(path.read_text(encoding="utf-8")) for path in library.rglob("*.py")}
    return _run_on_import(trees, library)


def interface_digest(paths: list[Path], library: Path) -> str:
    """SHA-256 of the interface of the modules at ``paths``: the library's (under ``library``)
    without the bodies of the functions that do not run on import, the others' size and time."""
    stats = {path: path.stat() for path in sorted(library.rglob("*.py"))}
    files = tuple((path, stat.st_mtime_ns, stat.st_size) for path, stat in stats.items())
    interfaces = _interfaces(files, library)
    digest = hashlib.sha256()
    for path in sorted(paths):
        if path in interfaces:
            digest.update(f"{path}\0{interfaces[path]}\0".encode())
        else:
            stat = path.stat()
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return digest.hexdigest()


@functools.cache
def _interfaces(files: tuple[tuple[Path, int, int], ...], library: Path) -> dict[Path, str]:
    """The interface of every library file, worked out once per version of the library (a
    build asks before it reads the pages and after)."""
    texts = {path: path.read_text(encoding="utf-8") for path, _, _ in files}
    trees = {path: ast.parse(text) for path, text in texts.items()}
    on_import = _run_on_import(trees, library)
    interfaces = {}
    for path, tree in trees.items():
        lines = texts[path].splitlines()
        removed: set[int] = set()
        for function in (n for n in ast.walk(tree) if isinstance(n, FUNCTIONS)):
            first = function.body[0]
            if (path, function.name) in on_import or lines[first.lineno - 1][
                : first.col_offset
            ].strip():
                continue  # runs on import, or the body shares a line with the signature
            has_docstring = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            # Everything after the docstring (which stays), comments included.
            start = first.end_lineno if has_docstring else first.lineno - 1
            removed.update(range(start, function.end_lineno))
        interfaces[path] = "\n".join(line for n, line in enumerate(lines) if n not in removed)
    return interfaces


def _stamp(app, docname: str) -> Path:
    return Path(app.doctreedir) / "interfaces" / f"{docname}.sha256"


def _write_if_changed(stamp: Path, digest: str) -> None:
    if not stamp.is_file() or stamp.read_text(encoding="utf-8") != digest:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(digest, encoding="utf-8")


def _sources(env) -> dict[str, list[str]]:
    if not hasattr(env, "interface_sources"):
        env.interface_sources = {}
    return env.interface_sources


def depend_on_interface(app, doctree) -> None:
    """Once the page is read: if it depends on library modules and on Python files only, make it
    depend on its stamp instead, and record the modules."""
    env, docname = app.env, app.env.docname
    paths = sorted({(Path(app.srcdir) / dep).resolve() for dep in env.dependencies[docname]})
    if not any(p.is_relative_to(library_path(app)) for p in paths) or any(
        p.suffix != ".py" or not p.is_file() for p in paths
    ):
        return
    stamp = _stamp(app, docname)
    _write_if_changed(stamp, interface_digest(paths, library_path(app)))
    _sources(env)[docname] = [str(p) for p in paths]
    env.dependencies[docname] = {str(stamp)}


def refresh_stamps(app) -> None:
    """Before Sphinx looks for outdated pages: rewrite the stamps whose interface changed (a page
    whose stamp or module is gone loses its stamp, and Sphinx reads it again)."""
    for docname, sources in _sources(app.env).items():
        stamp, paths = _stamp(app, docname), [Path(s) for s in sources]
        if not stamp.is_file() or not all(p.is_file() for p in paths):
            stamp.unlink(missing_ok=True)
        elif any(p.stat().st_mtime_ns > stamp.stat().st_mtime_ns for p in paths):
            _write_if_changed(stamp, interface_digest(paths, library_path(app)))


def forget(app, env, docname: str) -> None:
    _sources(env).pop(docname, None)


def setup(app):
    app.setup_extension("execution_cache")  # which declares ``library_source``
    # After Sphinx's own collector has recorded the page's dependencies (priority 500).
    app.connect("doctree-read", depend_on_interface, priority=600)
    app.connect("builder-inited", refresh_stamps)
    app.connect("env-purge-doc", forget)
    return {"version": "1", "parallel_read_safe": False, "env_version": 1}
