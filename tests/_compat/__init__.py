"""Tests of :mod:`sklstm._compat`, and a reader of the package source for private imports.

Each test module checks, on whatever releases are installed (CI installs the newest),
that the library lies within ``VERIFIED``, that every private piece sklstm uses still
exists and behaves as sklstm assumes, and that no other module of sklstm imports a
private name of the library.
"""

import ast
import re
from pathlib import Path

import pytest

import sklstm
from sklstm._compat import major_minor

#: The package's source folder, and the folder paths are given relative to.
PACKAGE = Path(sklstm.__file__).parent
ROOT = PACKAGE.parent


def _dotted(node):
    """``a.b.c`` for an attribute chain on a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return ".".join([node.id, *reversed(parts)]) if isinstance(node, ast.Name) else None


def _private(dotted_names):
    return any(part.startswith("_") and not part.startswith("__")
               for name in dotted_names for part in name.split("."))


def _names(node, library):
    """The dotted names of *library* that *node* imports or reaches, or []."""
    def ours(name):
        return name == library or name.startswith(f"{library}.")

    if isinstance(node, ast.ImportFrom) and node.level == 0 and ours(node.module or ""):
        return [node.module, *(alias.name for alias in node.names)]
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if ours(alias.name)]
    if isinstance(node, ast.Attribute) and ours(_dotted(node) or ""):
        return [_dotted(node)]
    return []


def private_imports(library):
    """Where sklstm's source imports a private name of *library*.

    A private name is a module or name with a leading underscore, imported
    (``from optuna.storages._heartbeat import X``, ``from sklearn.base import
    _fit_context``) or reached as an attribute of the imported library
    (``sklearn.utils._safe_indexing``).

    Returns
    -------
    dict
        ``path relative to the repository -> sorted line numbers``.
    """
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        lines = {node.lineno for node in ast.walk(tree) if _private(_names(node, library))}
        if lines:
            found[path.relative_to(ROOT).as_posix()] = sorted(lines)
    return found


def private_imports_outside_compat(library):
    """:func:`private_imports` of *library* everywhere but its own ``sklstm/_compat``
    module: what a test of the fence asserts is empty."""
    own = f"sklstm/_compat/{library}.py"
    return {path: lines for path, lines in private_imports(library).items() if path != own}


def declared_minimum(distribution):
    """The ``(major, minor)`` of the lowest release of *distribution* that
    ``pyproject.toml`` allows (``name>=X.Y`` in the dependencies or an extra).

    A module's ``VERIFIED`` starts there: below it a private name may be missing (torch
    2.0 has no ``_get_fused_kernels_supported_devices``), above it the declared
    minimum fails ``test_installed_..._is_verified``. Skips where the package is
    tested without its source tree, or before Python 3.11 (no ``tomllib``).
    """
    tomllib = pytest.importorskip("tomllib")
    path = ROOT / "pyproject.toml"
    if not path.is_file():
        pytest.skip("no pyproject.toml next to the package")
    project = tomllib.loads(path.read_text(encoding="utf-8"))["project"]
    requirements = [*project["dependencies"],
                    *(r for extra in project.get("optional-dependencies", {}).values()
                      for r in extra)]
    pattern = re.compile(rf"{re.escape(distribution)}\s*(\[[^\]]*\])?\s*>=\s*([^,;\s]+)")
    found = {major_minor(m[2]) for m in map(pattern.match, requirements) if m}
    assert len(found) == 1, f"{distribution}: minimum versions {found} in {path}"
    return found.pop()
