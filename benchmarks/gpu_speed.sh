#!/usr/bin/env bash
# Issue 19's GPU checks in one call on an offline GPU machine (../shared/gpu/README.md):
# 1. the CUDA tests of the training loop and of concurrent fits (0 syncs per training
#    batch, dense and ragged; the same history as skorch's loop; a fit on a stream of its
#    own; a threaded search equal to n_jobs=1);
# 2. benchmarks/bench_gpu.py: sklstm's fit vs a hand cuDNN loop at three sizes;
# 3. benchmarks/bench_gpu_search.py: the 48-fit grid of the 2026-12-04 run with n_jobs=1,
#    n_jobs=8 processes, 8 threads in sklstm.search.concurrent_fits, and processes under
#    CUDA MPS where nvidia-cuda-mps-control exists (it starts and stops the daemon).
# About 6-7 minutes on an H200 by the 2026-12-04 figures (never run yet); each step has a
# timeout, 9.8 minutes in all at most. From the checkout's root, with the wheels skorch
# needs in .whl/ when the machine lacks skorch (the README's pip download line):
#
#     OUT=/path/to/out SKLSTM_COMMIT=$(git rev-parse --short HEAD) bash benchmarks/gpu_speed.sh
#
# SKIP_TESTS=1 leaves out step 1 when benchmarks/gpu_suite.sh ran the whole suite on the
# same machine just before (it holds these tests): about 1-2 minutes of device time.
#
# writes $OUT/tests.log, $OUT/bench_gpu.log, $OUT/bench_gpu_search.log and
# $OUT/gpu_speed.md, both benchmarks' reports (copy it to benchmarks/results/gpu_speed.md
# with the commit that was measured).
set -u
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/gpu_speed}
mkdir -p "$OUT"
export PYTHONPATH=$PWD
if ! python3 -c "import skorch" 2>/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=$PWD:/tmp/site
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT/nvidia-smi.txt" 2>&1
if [ "${SKIP_TESTS:-0}" = 1 ]; then  # (after gpu_suite.sh, which ran them with the suite)
  echo "tests skipped (SKIP_TESTS=1)" > "$OUT/tests.log"
else
  timeout 110 python3 -m pytest -p no:cacheprovider -q -rs \
    tests/training/test_host_sync.py tests/training/test_loop.py \
    tests/training/test_randomness.py tests/resources/test_device.py \
    tests/search/test_parallel.py > "$OUT/tests.log" 2>&1
  echo "tests rc $?"
fi
timeout 250 python3 benchmarks/bench_gpu.py --out "$OUT/gpu_speed.md" > "$OUT/bench_gpu.log" 2>&1
echo "bench_gpu rc $?"
timeout 220 python3 benchmarks/bench_gpu_search.py --timeout 100 --append \
  --out "$OUT/gpu_speed.md" > "$OUT/bench_gpu_search.log" 2>&1
echo "bench_gpu_search rc $?"
tail -5 "$OUT/tests.log"
tail -25 "$OUT/bench_gpu.log"
tail -20 "$OUT/bench_gpu_search.log"
