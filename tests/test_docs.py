"""The ``>>>`` snippets of the documentation's guide pages run and show what they print.

``make -C docs doctest`` (tox ``docs-doctest``, and ``.ci/run`` after the suite) runs
them too, comparing exceptions' messages (``docs/conf.py`` drops Sphinx's default
``IGNORE_EXCEPTION_DETAIL``, with which a page showed an error message the code no
longer gave: ``docs/sequence_data.rst`` did), but ``pytest`` alone does not run that
build. Here each page runs as a reader runs it, top to bottom in a fresh Python, and an
exception's message must match the page.
The pages speak of CPU fits (exact reproducibility, float tolerances), so they run with
no GPU visible, on a CUDA machine too.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# the pages whose snippets a new user copies first; each runs in about a minute at most
PAGES = ["quickstart.rst", "user_guide.rst", "sequence_data.rst"]


@pytest.mark.parametrize("page", PAGES)
def test_the_page_s_snippets_give_what_it_shows(page):
    path = ROOT / "docs" / page
    assert ">>> " in path.read_text(encoding="utf-8")  # (a page without snippets tests nothing)
    run = subprocess.run(
        [sys.executable, "-m", "doctest", "-o", "ELLIPSIS", "-o", "DONT_ACCEPT_TRUE_FOR_1",
         str(path)],
        capture_output=True, text=True, cwd=ROOT, timeout=900, check=False,
        env={**os.environ, "CUDA_VISIBLE_DEVICES": "", "MPLBACKEND": "Agg"})
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
