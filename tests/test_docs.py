"""The ``>>>`` snippets of the documentation's guide pages run and show what they print.

``make -C docs doctest`` (tox ``docs-doctest``, and ``.ci/run`` after the suite) runs
them too, comparing exceptions' messages (``docs/conf.py`` drops Sphinx's default
``IGNORE_EXCEPTION_DETAIL``, with which a page showed an error message the code no
longer gave: ``docs/sequence_data.rst`` did), but ``pytest`` alone does not run that
build. Here each page runs as a reader runs it, top to bottom in a fresh Python, and an
exception's message must match the page.
The pages speak of CPU fits (exact reproducibility, float tolerances), so they run with
no GPU visible, on a CUDA machine too. The README's quickstart, which no doctest
runs, runs here too, the install page's requirements are pyproject.toml's, and the
tests and scripts the pages cite exist.
"""

import os
import re
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


# The first code a user copies that no doctest runs: the README's quickstart (the landing
# page's search is the quickstart page's doctest at other sizes). About a minute on one
# CPU core.
def test_the_readme_quickstart_runs_cleanly():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", readme, flags=re.M | re.S)
    assert len(blocks) == 1 and "GridSearchCV" in blocks[0], blocks  # (a renamed fence or
    # a second block would otherwise go untested)
    run = subprocess.run([sys.executable, "-c", blocks[0]], capture_output=True, text=True,
                         cwd=ROOT, timeout=900, check=False,
                         env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    assert run.returncode == 0, run.stderr[-4000:]
    assert "Warning" not in run.stderr, run.stderr[-4000:]  # a pasted snippet warns of nothing
    assert "lstm__batch_size" in run.stdout  # it prints the search's best parameters


def test_the_install_page_gives_every_requirement_as_pyproject_bounds_it():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    block = re.search(r"^dependencies = \[(.*?)^\]", pyproject, flags=re.M | re.S).group(1)
    requirements = re.findall(r'^\s*"([^"]+)"', block, flags=re.M)
    bullets = [line.casefold() for line in
               (ROOT / "docs" / "install.rst").read_text(encoding="utf-8").splitlines()
               if line.startswith("* `")]
    assert len(requirements) >= 6, requirements  # (a moved block would test nothing)
    for requirement in requirements:
        name, specifiers = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*(.*)", requirement).groups()
        bullet = [line for line in bullets if name.casefold() in line]  # torch: "PyTorch"
        assert len(bullet) == 1, (name, bullets)
        for specifier in specifiers.split(","):
            operator, version = re.fullmatch(r"\s*([<>=!~]+)\s*(\S+)", specifier).groups()
            assert f"{operator} {version}" in bullet[0], (requirement, bullet[0])


# The pages back their figures and promises with the tests and scripts they name; a test
# or script renamed or removed must take the page's sentence with it.
CITING = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.rst")),
          *sorted((ROOT / "examples").glob("*.py"))]


def test_the_tests_and_scripts_the_pages_cite_exist():
    tests = "\n".join(path.read_text(encoding="utf-8") for path in (ROOT / "tests").rglob("*.py"))
    missing = []
    for page in CITING:
        text = page.read_text(encoding="utf-8")
        for path in re.findall(r"\b((?:tests|benchmarks|examples|\.ci)/[\w./-]+\.(?:py|sh))", text):
            if not (ROOT / path).is_file():
                missing.append((page.name, path))
        for name in re.findall(r"``(?:[\w/.]+\.py::)?(test_\w+)``", text):
            if f"def {name}(" not in tests:
                missing.append((page.name, name))
    assert len(CITING) > 10  # (a moved docs folder would check nothing)
    assert not missing, missing
