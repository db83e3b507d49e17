"""The package's layers: every import points down (or sideways within a layer), and no
module imports itself back through others.

Read from the source with ``ast`` (nothing is imported), so a new import that climbs a
layer fails here before it makes a cycle at run time. docs/architecture.rst draws the
same layers.
"""

import ast
import pathlib

import pytest

import sklstm

PACKAGE = pathlib.Path(sklstm.__file__).parent

#: Top-level parts of the package, lowest first. A part may import from its own layer
#: or a lower one; ``sklstm/__init__.py`` (the package's face) is the top.
LAYERS = [
    {"_version", "exceptions", "_compat", "_durable_files"},
    {"_plain_values", "_param_validation", "_nullable"},
    {"resources", "network", "windows", "_series_values", "_long_format", "_time_order",
     "datasets"},
    {"data"},
    {"training", "preprocessing"},
    {"persistence"},
    {"estimators"},
    {"search"},
    {"profiling"},
    {"cli", "_cli_checks", "_cli_data", "_cli_run", "__main__", "_moved", "__init__"},
]
LEVEL = {part: i for i, layer in enumerate(LAYERS) for part in layer}


def _module(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path):
    """``(module imported, line)`` for every sklstm import of ``path``."""
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:
            base = package.split(".")[: len(package.split(".")) - node.level + 1]
            target = ".".join(base + ([node.module] if node.module else []))
        elif node.module and node.module.split(".")[0] == "sklstm":
            target = node.module
        else:
            continue
        for alias in node.names:  # `from . import x` imports the submodule x
            name = f"{target}.{alias.name}"
            resolved = name if _is_module(name) else target
            yield resolved, node.lineno


def _is_module(name):
    path = PACKAGE.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _part(module):
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


FILES = sorted(PACKAGE.rglob("*.py"))


def test_every_part_of_the_package_has_a_layer():
    parts = {_part(_module(path)) for path in FILES}
    assert parts <= set(LEVEL), f"give {sorted(parts - set(LEVEL))} a layer in LAYERS"


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(PACKAGE)) for p in FILES])
def test_imports_point_down(path):
    here = _part(_module(path))
    climbs = [f"line {line}: {target}" for target, line in _imports(path)
              if LEVEL.get(_part(target), -1) > LEVEL[here]]
    assert not climbs, f"{path.name} ({here}) imports from a layer above it: {climbs}"


def test_no_import_cycle():
    # imports inside functions count too: a cycle deferred to run time is still one
    graph = {_module(path): {target for target, _ in _imports(path)} for path in FILES}
    state, stack = {}, []

    def visit(node):  # depth-first search; a grey node met again closes a cycle
        state[node] = "grey"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt == node:
                continue
            if state.get(nxt) == "grey":
                cycle = [*stack[stack.index(nxt):], nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "black"

    for node in sorted(graph):
        if node not in state:
            visit(node)
