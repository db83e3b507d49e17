"""The parameters of named callbacks and the optimizer's arguments as the estimators'
own (``callbacks__<name>__<param>``, ``optimizer_params__<argument>``), for
``get_params``, ``set_params`` and searches: :class:`NestedParamsMixin`."""

from __future__ import annotations

import copy
import difflib
import inspect

__all__ = ["NestedParamsMixin"]


#: How ``get_params``/``set_params`` name a named callback (skorch's names) and an
#: argument of the optimizer.
_CALLBACK_PREFIX, _OPTIMIZER_PREFIX = "callbacks__", "optimizer_params__"


class NestedParamsMixin:
    """Estimator mixin: ``get_params(deep=True)`` lists every named callback as
    ``callbacks__<name>`` and its parameters as ``callbacks__<name>__<param>``, and
    every entry of ``optimizer_params`` as ``optimizer_params__<argument>``;
    ``set_params`` takes them all (``callbacks__<name>=None`` drops the callback, as in
    skorch). Unnamed callbacks have no name to be set by; ``callbacks`` replaces them.

    skorch names a net's callback parameters so, and scikit-learn those of a Pipeline's
    named steps (``<step>__<param>``), so a search sets a learning-rate schedule's
    ``step_size`` or SGD's ``momentum`` as it sets ``hidden_size``. ``callbacks`` is a
    list and ``optimizer_params`` a dict, which scikit-learn's own ``set_params``
    cannot walk into: it failed with "'list' object has no attribute 'set_params'".
    """

    def get_params(self, deep=True):
        params = super().get_params(deep=deep)
        if deep:
            for name, callback in _named_callbacks(params["callbacks"]):
                params[_CALLBACK_PREFIX + name] = callback
                params.update({f"{_CALLBACK_PREFIX}{name}__{key}": value
                               for key, value in callback.get_params(deep=True).items()})
            extra = params["optimizer_params"]
            params.update({_OPTIMIZER_PREFIX + key: value for key, value in
                           (extra.items() if isinstance(extra, dict) else ())
                           if isinstance(key, str)})
        return params

    def set_params(self, **params):
        name = type(self).__name__
        nested = {key: params.pop(key) for key in list(params) if key.startswith(_CALLBACK_PREFIX)}
        arguments = {key.removeprefix(_OPTIMIZER_PREFIX): params.pop(key)
                     for key in list(params) if key.startswith(_OPTIMIZER_PREFIX)}
        _check_nested_keys(params, super().get_params(deep=False), name, self._keyword_hint)
        super().set_params(**params)  # new callbacks or optimizer_params first, then their entries
        if nested:
            self.callbacks = _set_callback_params(self.callbacks, nested, name)
        if arguments:
            current = self.optimizer_params
            self.optimizer_params = {**(current if isinstance(current, dict) else {}),
                                     **arguments}
        return self


def _check_nested_keys(params, own, name, hint):
    """Refuse ``<param>__<key>`` where ``param`` holds a plain value (a str, None...):
    scikit-learn's ``set_params`` failed with "'str' object has no attribute
    'set_params'", naming neither the key nor the way (skorch's ``optimizer__momentum``
    is ``optimizer_params__momentum`` here). A ``param`` the estimator lacks is refused
    with what ``hint`` (``__init__``'s) says it may mean: scikit-learn's error listed the
    parameters, ``lr`` among them, but did not say it was the one ``learning_rate`` meant."""
    for key in params:
        head, _, rest = key.partition("__")
        if head not in own and hint(head):
            raise ValueError(f"Invalid parameter {head!r} for estimator {name}{hint(head)}"
                             + ("" if hint(head).endswith("?") else "."))
        if rest and head in own and not hasattr(own[head], "set_params"):
            way = (f"; the optimizer's arguments are set as optimizer_params__{rest}"
                   if head == "optimizer" else "")
            raise ValueError(f"Invalid parameter {key!r} for estimator {name}: {head} is "
                             f"{own[head]!r}, which has no parameters to set{way}.")


def _named_callbacks(callbacks):
    """The ``(name, callback)`` entries of ``callbacks`` whose callback has parameters
    (fit refuses the other entries, and any ``callbacks`` but a list or tuple: they
    have no parameters to give, and ``get_params`` must not fail on them)."""
    if not isinstance(callbacks, (list, tuple)):
        return []
    return [entry for entry in callbacks if _name_of(entry) is not None]


def _name_of(entry):
    """The name of a ``(name, callback)`` entry whose callback has parameters, else None."""
    if (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[0], str)
            and hasattr(entry[1], "get_params") and not isinstance(entry[1], type)):
        return entry[0]
    return None


def _set_callback_params(callbacks, nested, name):
    """``callbacks`` with ``nested`` (``callbacks__<name>[__<param>]`` -> value) set in
    copies of the callbacks they name: the user's callbacks may be shared with other
    estimators, which a change in place would change too."""
    by_name = dict(_named_callbacks(callbacks))
    replaced, settings = {}, {}
    for key, value in nested.items():
        cb_name, _, param = key.removeprefix(_CALLBACK_PREFIX).partition("__")
        if cb_name not in by_name:
            known = ", ".join(map(repr, by_name)) or "none"
            raise ValueError(
                f"Invalid parameter {key!r} for estimator {name}: no callback is named "
                f"{cb_name!r} (named callbacks: {known}). Give the callback a name to set "
                f"its parameters by, as a (name, callback) tuple in callbacks, e.g. "
                f"callbacks=[({cb_name!r}, LRScheduler(...))].")
        if param:
            settings.setdefault(cb_name, {})[param] = value
        else:
            replaced[cb_name] = value
    entries = []
    for entry in callbacks:
        cb_name = _name_of(entry)
        if cb_name not in replaced and cb_name not in settings:
            entries.append(entry)
            continue
        callback = replaced.get(cb_name, entry[1])
        if callback is None:  # (skorch's way of turning a callback off)
            continue
        if cb_name in settings:
            callback = copy.deepcopy(callback)
            _check_callback_keys(callback, cb_name, settings[cb_name], name)
            callback.set_params(**settings[cb_name])
        entries.append((cb_name, callback))
    return type(callbacks)(entries)


def _check_callback_keys(callback, cb_name, settings, name):
    """Refuse a parameter the callback does not have, naming the key the search set and
    the way: the callback's own error named neither the key nor the estimator but the
    callback's memory address, and it said nothing of skorch's ``LRScheduler``, whose
    scheduler arguments (``gamma``...) are parameters only where given when it is made."""
    own = callback.get_params(deep=True)
    for key in settings:
        head = key.partition("__")[0]
        if head in own:
            continue
        kind = type(callback).__name__
        takes_any = any(p.kind is p.VAR_KEYWORD
                        for p in inspect.signature(type(callback)).parameters.values())
        names = [k for k in own if "__" not in k]
        close = difflib.get_close_matches(head, names, n=1)
        way = (f"did you mean {close[0]!r}?" if close else
               f"{kind} takes its arguments as parameters only where it is given them: "
               f"make it with this one, e.g. callbacks=[({cb_name!r}, {kind}(..., "
               f"{head}=<its value>))], and the search sets it." if takes_any else
               "set one of those.")
        raise ValueError(
            f"Invalid parameter {_CALLBACK_PREFIX + cb_name + '__' + key!r} for estimator "
            f"{name}: callback {cb_name!r} ({kind}) has no parameter {head!r} (its "
            f"parameters: {', '.join(names)}); {way}")
