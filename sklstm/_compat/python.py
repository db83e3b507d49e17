"""Python's own version differences: a warning shown at the caller of sklstm.

``warnings.warn(skip_file_prefixes=...)`` (Python 3.12) attributes a warning to the
first frame outside the given directories; before 3.12 the same frame is found by
walking the stack (``sys._getframe``). A fixed ``stacklevel`` counted the frames
between a warning and the user's ``fit`` call, and was wrong as soon as a wrapper or
a callback added one.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings

import sklearn.base
import skorch

__all__ = ["warn_at_caller"]

#: The code a fit runs through before it reaches sklstm's warnings: sklstm's own,
#: skorch's (whose net calls sklstm's callbacks), scikit-learn's ``base.py``, whose
#: ``_fit_context`` wraps every ``fit``, its ``_param_validation.py``, whose
#: ``validate_params`` wraps sklstm's public functions (``make_windows``: a warning there
#: named scikit-learn's line), and ``contextlib``, whose ``contextmanager`` runs the body
#: of sklstm's context managers (a warning there named contextlib's line).
INTERNAL = (os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep,
            os.path.dirname(skorch.__file__) + os.sep, sklearn.base.__file__,
            # (a path, not an import: _compat/sklearn.py, which imports sklearn's private
            # names, imports this package, which imports this module)
            os.path.join(os.path.dirname(sklearn.base.__file__), "utils",
                         "_param_validation.py"), contextlib.__file__)

#: Whether ``warnings.warn`` takes ``skip_file_prefixes`` (Python 3.12); a name of its
#: own so that the tests run the stack walk on every Python, not only before 3.12.
SKIP_FILE_PREFIXES = sys.version_info >= (3, 12)


def warn_at_caller(message, category=UserWarning):
    """Warn, attributing the warning to the first frame outside sklstm and skorch.

    That frame is the user's call (``clf.fit(X, y)``), or the library that made it
    (scikit-learn's ``Pipeline``, a search), which is where warning filters and the
    printed line are useful.

    Parameters
    ----------
    message : str
        The warning's text.
    category : type of Warning, default=UserWarning
        Its class.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_at_caller("checked")
    >>> caught[0].filename == __file__ or caught[0].filename.startswith("<doctest")
    True
    """
    if SKIP_FILE_PREFIXES:
        warnings.warn(message, category, skip_file_prefixes=INTERNAL)
        return
    frame, level = sys._getframe(1), 2  # stacklevel 2: the caller of this function
    while frame is not None and frame.f_code.co_filename.startswith(INTERNAL):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, category, stacklevel=level)
