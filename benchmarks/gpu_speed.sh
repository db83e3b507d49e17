#!/usr/bin/env bash
# Issue 19's GPU checks in one call on an offline GPU machine (../shared/gpu/README.md):
# the CUDA tests of sklstm's epoch loop (0 syncs per training batch, the same history
# as skorch's loop) and benchmarks/bench_gpu.py (sklstm's fit vs a hand cuDNN loop).
# About 3 minutes on an H200. From the checkout's root, with the wheels skorch needs in
# .whl/ when the machine lacks skorch (the README's pip download line):
#
#     OUT=/path/to/out SKLSTM_COMMIT=$(git rev-parse --short HEAD) bash benchmarks/gpu_speed.sh
#
# writes $OUT/tests.log, $OUT/bench_gpu.log and $OUT/gpu_speed.md (copy the last to
# benchmarks/results/gpu_speed.md with the commit that was measured).
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
timeout 150 python3 -m pytest -p no:cacheprovider -q -rs \
  tests/training/test_host_sync.py tests/training/test_loop.py > "$OUT/tests.log" 2>&1
echo "tests rc $?"
timeout 360 python3 benchmarks/bench_gpu.py --out "$OUT/gpu_speed.md" > "$OUT/bench_gpu.log" 2>&1
echo "bench_gpu rc $?"
tail -5 "$OUT/tests.log"
tail -25 "$OUT/bench_gpu.log"
