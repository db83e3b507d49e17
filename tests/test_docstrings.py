"""The public API's docstrings: numpydoc-valid, and every documented default true.

What is checked is the list of public names below: each module's ``__all__``.
"""

import builtins
import importlib
import inspect

import pytest
from numpydoc.docscrape import ClassDoc, FunctionDoc
from numpydoc.validate import validate

PUBLIC_MODULES = [
    "sklstm", "sklstm.preprocessing", "sklstm.windows", "sklstm.datasets", "sklstm.search",
    "sklstm.training", "sklstm.data", "sklstm.network", "sklstm.resources", "sklstm.persistence",
]

#: numpydoc checks every public docstring must pass: it exists, documents every
#: parameter (with a type and a description) in signature order, and says what it
#: returns or yields.
CHECKS = {"GL08", "PR01", "PR02", "PR03", "PR04", "PR06", "PR07", "PR10", "RT01", "RT03",
          "YD01", "SS02"}


def _public_objects():
    seen = {}
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if name.startswith("__") or not callable(obj):
                continue
            seen.setdefault(id(obj), (f"{module_name}.{name}", obj))
    return sorted(seen.values(), key=lambda item: item[0])


def _methods(qualname, cls):
    for name, member in vars(cls).items():
        if not name.startswith("_") and (inspect.isfunction(member)
                                         or isinstance(member, property)):
            yield f"{qualname}.{name}"


OBJECTS = _public_objects()
NAMES = [name for name, _ in OBJECTS] + [
    method for name, obj in OBJECTS if inspect.isclass(obj) for method in _methods(name, obj)]


@pytest.mark.parametrize("name", NAMES)
def test_numpydoc_validation(name):
    errors = [f"{code}: {message}" for code, message in validate(name)["errors"]
              if code in CHECKS]
    assert not errors, "\n".join(errors)


def _documented_defaults(obj):
    doc = ClassDoc(obj) if inspect.isclass(obj) else FunctionDoc(obj)
    for param in doc["Parameters"]:
        if "default=" in param.type:
            text = param.type.split("default=", 1)[1].strip()
            for name in param.name.split(","):
                yield name.strip(), text


def _signature(obj):
    return inspect.signature(obj.__init__ if inspect.isclass(obj) else obj).parameters


@pytest.mark.parametrize("name, obj", OBJECTS, ids=[name for name, _ in OBJECTS])
def test_documented_defaults_are_the_signature_defaults(name, obj):
    signature = _signature(obj)
    for param, text in _documented_defaults(obj):
        assert param in signature, f"{name}: documents {param!r}, not in the signature"
        default = signature[param].default
        try:  # builtins too: default=(Exception,)
            documented = eval(text, {"__builtins__": builtins})  # the package's own text
        except Exception:  # a name such as np.float64
            documented = text
        named = getattr(default, "__name__", None)  # a class or dtype: np.float64
        assert (documented == default or text in (repr(default), str(default))
                or (named is not None and text.rsplit(".", 1)[-1] == named)), (
            f"{name}: {param} is documented as default={text}, but defaults to {default!r}")
    undocumented = [p for p, v in signature.items()
                    if v.default is not inspect.Parameter.empty
                    and p not in dict(_documented_defaults(obj)) and p != "self"]
    assert not undocumented, f"{name}: no 'default=' documented for {undocumented}"
