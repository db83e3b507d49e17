#!/usr/bin/env bash
# The GPU record: the whole test suite and benchmarks/gpu_check.py on a CUDA machine, in
# one run of well under 10 minutes, written to benchmarks/results/gpu_tests.md (device,
# torch, commit, pytest's closing line) with the logs in $OUT.
#
# Run from the checkout's root on the GPU machine:
#
#     OUT=/tmp/gpu bash benchmarks/gpu_suite.sh
#
# An offline machine (no package registry) takes the packages it lacks as wheels in .whl/
# (how to download them: ../shared/gpu/README.md; .whl/ is ignored by git, so a copy of
# the checkout must bring it along); they are installed first, without the network.
# COMMIT=<sha> names the commit where the checkout has no .git. N_WORKERS sets
# pytest-xdist's workers (default: the CPU count). Every step has its own timeout, so
# that a hung step leaves time for the rest and for a second run: at most 1.5 + 2.5 + 5.9
# minutes (the wheels, gpu_check, the suite); expected about 6 (the suite took 143 s with
# 16 workers on 2026-12-04, when it was 60 % of today's size and ran no examples).
#
# DRY_RUN=1 runs every step on a machine without a GPU, to check the script itself:
# gpu_check.py --device cpu --quick, the device tests only, and the record written to
# $OUT alone (it says nothing about a GPU, and benchmarks/results is left alone).
set -u
export PYTHONUNBUFFERED=1
ROOT=$(pwd)
OUT=${OUT:-/tmp/sklstm-gpu}
DRY_RUN=${DRY_RUN:-0}
RESULT=benchmarks/results/gpu_tests.md
CHECK_ARGS=()
TESTS=()
if [ "$DRY_RUN" = 1 ]; then
    RESULT=$OUT/gpu_tests.md
    CHECK_ARGS=(--device cpu --quick)
    TESTS=(tests/resources/test_device.py)
fi
N_WORKERS=${N_WORKERS:-$(nproc)}
PY=${PYTHON:-python3}
mkdir -p "$OUT"

if [ ! -f sklstm/__init__.py ]; then
    echo "run from the checkout's root" >&2
    exit 2
fi
if [ "$DRY_RUN" != 1 ] && ! "$PY" -c "import torch, sys; sys.exit(not torch.cuda.is_available())"; then
    echo "no CUDA device: this script is for a GPU machine (the CPU suite: pytest;" \
         "DRY_RUN=1 checks the script)" >&2
    exit 2
fi

# 1. the missing packages, from wheels. Into the interpreter's own site-packages where
# it may write: the tests that start a child Python then import them too (with only
# PYTHONPATH, two of them could not import skorch on 2026-12-04)
if compgen -G ".whl/*.whl" > /dev/null; then
    if ! timeout 45 "$PY" -m pip install -q --no-index --no-deps --no-compile \
            --no-cache-dir .whl/*.whl > "$OUT/pip.log" 2>&1; then
        timeout 45 "$PY" -m pip install -q --no-index --no-deps --no-compile \
            --no-cache-dir --upgrade --target /tmp/site .whl/*.whl >> "$OUT/pip.log" 2>&1 \
            || { echo "installing .whl/ failed: $OUT/pip.log" >&2; exit 1; }
        export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
    fi
fi
export PYTHONPATH=$ROOT${PYTHONPATH:+:$PYTHONPATH}
"$PY" -c "import sklstm, skorch" || { echo "sklstm or skorch does not import" >&2; exit 1; }

# 2. the CUDA paths, figure by figure
timeout 150 "$PY" benchmarks/gpu_check.py ${CHECK_ARGS[@]+"${CHECK_ARGS[@]}"} \
    --out "$OUT/gpu_check.md" > "$OUT/gpu_check.log" 2>&1
CHECK_RC=$?

# 3. the whole suite at device="auto" (= CUDA). tests/test_docstrings.py needs numpydoc,
# which has nothing to do with the GPU: left out, and said so, where it is absent
IGNORE=()
if ! "$PY" -c "import numpydoc" 2> /dev/null; then
    IGNORE=(--ignore=tests/test_docstrings.py)
fi
timeout 355 "$PY" -m pytest -n "$N_WORKERS" -p no:cacheprovider -v --tb=line -ra \
    ${IGNORE[@]+"${IGNORE[@]}"} ${TESTS[@]+"${TESTS[@]}"} > "$OUT/tests.log" 2>&1
TESTS_RC=$?
CLOSING=$(grep -E "^=+ .*(passed|failed|error).* in [0-9.]+s" "$OUT/tests.log" | tail -1)
[ -n "$CLOSING" ] || CLOSING="(no closing line: pytest exited with $TESTS_RC, see tests.log)"

# 4. the record
COMMIT=${COMMIT:-$(git rev-parse --short HEAD 2> /dev/null || echo unknown)}
DIRTY=$(git status --porcelain --untracked-files=no 2> /dev/null | head -1)
"$PY" - "$RESULT" "$COMMIT${DIRTY:+ (with uncommitted changes)}" "$CLOSING" "$CHECK_RC" \
    "$TESTS_RC" "${IGNORE[*]:-}" <<'EOF'
import platform
import sys

import torch

import sklstm

path, commit, closing, check_rc, tests_rc, ignored = sys.argv[1:]
cudnn = torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None
if torch.cuda.is_available():
    props = torch.cuda.get_device_properties(0)
    device = (f"{torch.cuda.get_device_name(0)} ({props.total_memory / 2**30:.0f} GiB, "
              f"compute capability {props.major}.{props.minor}), "
              f"{torch.cuda.device_count()} visible")
else:
    device = "no CUDA device: a dry run of the script (DRY_RUN=1), nothing about a GPU"
lines = [
    "# The test suite on a GPU",
    "",
    "Written by `benchmarks/gpu_suite.sh`; one run.",
    "",
    f"- device: {device}",
    f"- torch {torch.__version__} (CUDA {torch.version.cuda}, cuDNN {cudnn}), "
    f"Python {platform.python_version()}, sklstm {sklstm.__version__}",
    f"- commit: {commit}",
    f"- `python -m pytest -n N -p no:cacheprovider{' ' + ignored if ignored else ''}` "
    f"(exit status {tests_rc}):",
    "",
    f"      {closing}",
    "",
    f"- `benchmarks/gpu_check.py`: exit status {check_rc} (its figures: gpu_check.md of "
    "the run)",
]
with open(path, "w") as f:
    f.write("\n".join(lines) + "\n")
print("\n".join(lines))
EOF
[ "$RESULT" = "$OUT/gpu_tests.md" ] || cp "$RESULT" "$OUT/gpu_tests.md"
grep -E "FAILED|ERROR" "$OUT/tests.log" | grep -v PASSED | tail -60
exit $(( TESTS_RC != 0 || CHECK_RC != 0 ))
