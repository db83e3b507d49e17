"""Sphinx configuration of the sklstm documentation.

Build (from this folder)::

    python -m sphinx -b html -W --keep-going . _build/html

The example gallery is rendered from ``../examples`` without running the
examples, so a build is fast. Set ``SKLSTM_DOCS_RUN_EXAMPLES=1`` to run
them and embed their figures and output. The build needs no network; set
``SKLSTM_DOCS_INTERSPHINX=1`` to link numpy, scikit-learn, skorch and torch
names to their online documentation (this fetches their inventories).
"""

import doctest
import os
from datetime import date

# sphinx-gallery looks up the names used in the examples on the imported modules,
# also when it does not run the examples. scikit-learn raises ImportError (not
# AttributeError) for its experimental estimators until they are enabled, which
# aborts the build; enabling them here avoids that.
from sklearn.experimental import enable_halving_search_cv  # noqa: F401

import sklstm


def _env_flag(name):
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


# -- Project -----------------------------------------------------------------
project = "sklstm"
author = "sklstm developers"
copyright = f"{date.today().year}, {author}"
release = sklstm.__version__
version = ".".join(release.split(".")[:2])

# -- General -----------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
root_doc = "index"
default_role = "literal"  # `x` renders as code instead of warning
pygments_style = "sphinx"
add_function_parentheses = False

# -- autodoc / autosummary / numpydoc ----------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # numpydoc sections already state the types

numpydoc_show_class_members = False  # methods are listed by the class template
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# -- doctest (``make doctest`` runs the >>> snippets of every page) ------------
# Sphinx's default flags include IGNORE_EXCEPTION_DETAIL: a page could show an error
# message the code no longer gives (docs/sequence_data.rst did); the messages are
# part of what the pages teach, so they are compared too.
doctest_default_flags = doctest.ELLIPSIS | doctest.DONT_ACCEPT_TRUE_FOR_1
# The docstring examples of the API pages are written as if run inside their
# module (as ``pytest --doctest-modules`` runs them), so every documented
# module's public names are made available.
doctest_global_setup = """
import warnings
warnings.filterwarnings("ignore")
import numpy as np
from sklstm import *
from sklstm.datasets import *
from sklstm.network import *
from sklstm.preprocessing import *
from sklstm.resources import *
from sklstm.training import *
from sklstm.training.optimizers import *
from sklstm.windows import *
try:  # needs optuna
    from sklstm.search import *
    from sklstm.search.epoch_reporter import *
    from sklstm.search.objective import *
    from sklstm.search.pruners import *
    from sklstm.search.report import *
    from sklstm.search.space import *
    from sklstm.search.storage import *
    from sklstm.search.study import *
except ImportError:
    pass
"""

# -- intersphinx: opt-in, since it downloads inventories ----------------------
if _env_flag("SKLSTM_DOCS_INTERSPHINX"):
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable/", None),
        "sklearn": ("https://scikit-learn.org/stable/", None),
        "skorch": ("https://skorch.readthedocs.io/en/stable/", None),
        "torch": ("https://docs.pytorch.org/docs/stable/", None),
        "optuna": ("https://optuna.readthedocs.io/en/stable/", None),
        "pandas": ("https://pandas.pydata.org/docs/", None),
    }

# -- sphinx-gallery -------------------------------------------------------------
RUN_EXAMPLES = _env_flag("SKLSTM_DOCS_RUN_EXAMPLES")

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": "/plot_",
    "plot_gallery": RUN_EXAMPLES,
    "doc_module": ("sklstm",),
    "backreferences_dir": os.path.join("gen_modules", "backreferences"),
    "within_subsection_order": "FileNameSortKey",
    "remove_config_comments": True,
    "matplotlib_animations": False,
    # a failing example fails the build when examples are run
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
}

# -- HTML --------------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"sklstm {release}"
html_static_path = ["_static"]
html_theme_options = {
    "description": "scikit-learn compatible LSTM estimators",
    "fixed_sidebar": True,
    "show_relbars": True,
    "page_width": "1100px",
    "sidebar_width": "230px",
}
html_sidebars = {
    "**": ["about.html", "navigation.html", "relations.html", "searchbox.html"],
}
html_show_sourcelink = False


# -- checks ----------------------------------------------------------------------
def _check_reserved_page_names(app):
    """Warn about pages that Sphinx's own HTML pages would silently overwrite."""
    from sphinx.util import logging

    if app.builder.format != "html":
        return
    logger = logging.getLogger("sklstm.docs")
    for name in ("search", "genindex", "py-modindex"):
        if os.path.exists(os.path.join(app.srcdir, name + ".rst")):
            logger.warning(
                "docs/%s.rst collides with Sphinx's built-in %s.html page, which "
                "overwrites it in HTML builds; rename the file (for example "
                "'hyperparameter_search.rst') and update the toctree in index.rst.",
                name,
                name,
            )


def _skip_member(app, what, name, obj, skip, options):
    """Leave out scikit-learn's generated ``set_{method}_request`` methods.

    They exist only for metadata routing, and their docstrings refer to
    scikit-learn's glossary, which this documentation does not have.
    """
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def _unresolved_sklearn_ref(app, env, node, contnode):
    """Render references to scikit-learn's own pages as plain text.

    Methods inherited from scikit-learn (``score``, ``set_output``,
    ``get_metadata_routing``...) keep their docstrings, which point to labels
    and glossary terms of scikit-learn's documentation. Without intersphinx
    (the offline default) these cannot resolve; only references coming from
    scikit-learn's docstrings are silenced, so broken references in sklstm's
    own text still warn.
    """
    source = node.source or ""
    if node.get("refdomain") == "std" and "docstring of sklearn." in source:
        return contnode
    return None


def setup(app):
    app.connect("builder-inited", _check_reserved_page_names)
    app.connect("autodoc-skip-member", _skip_member)
    # after intersphinx, which resolves these when it is on
    app.connect("missing-reference", _unresolved_sklearn_ref, priority=900)
