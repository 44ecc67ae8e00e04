"""Hashes of the code that decides a result, for the caches keyed by them.

A finished run depends on the simulation core (model/sim/) and its inputs;
an analysis on the module that makes it and whatever that module imports.
Both are found from the tree, not from a list of file names kept by hand:
a file added to model/sim/, or a module an analysis starts to import, is
in the key from then on, and code nothing imports (the figures, the report,
the command line) is never in it.
"""
from __future__ import annotations

import ast
import hashlib
from functools import lru_cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
SIM_DIR = PACKAGE_DIR / "sim"


def files_hash(paths) -> str:
    """sha256 over each file's path (relative to the repository) and bytes."""
    h = hashlib.sha256()
    for path in sorted(paths):
        h.update(str(path.relative_to(PACKAGE_DIR.parent)).encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


@lru_cache(maxsize=None)
def sim_hash() -> str:
    """The simulation core: every source file under model/sim/."""
    return files_hash(SIM_DIR.rglob("*.py"))


@lru_cache(maxsize=None)
def imports_hash(module: str) -> str:
    """`module` (e.g. "model.questions") and every model module it imports, transitively."""
    return files_hash(imported_files(module))


def imported_files(module: str) -> set[Path]:
    """The source files of `module` and of the model modules it imports, at any depth.

    Read from the import statements (ast), function-level ones included, so
    a module imported lazily counts too.
    """
    seen: set[Path] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        for path in _package_files(name):
            if path in seen:
                continue
            seen.add(path)
            todo += _imports_of(path)
    return seen


def _package_files(name: str) -> list[Path]:
    """The file of module `name` and the __init__.py of each package above it."""
    parts = name.split(".")
    if parts[0] != PACKAGE_DIR.name:
        return []
    files = [PACKAGE_DIR.parent.joinpath(*parts[:i], "__init__.py")
             for i in range(1, len(parts) + 1)]
    files.append(PACKAGE_DIR.parent.joinpath(*parts).with_suffix(".py"))
    return [f for f in files if f.exists()]


def _imports_of(path: Path) -> list[str]:
    """Absolute names of what the file at `path` imports."""
    package = ".".join(path.parent.relative_to(PACKAGE_DIR.parent).parts)
    names = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            base = base[:len(base) - node.level + 1] if node.level else []
            stem = ".".join(base + ([node.module] if node.module else []))
            # `from . import x` names a module, `from .m import x` usually not:
            # both are tried, and only files that exist are kept.
            names += [stem] + [f"{stem}.{alias.name}" for alias in node.names]
    return names
