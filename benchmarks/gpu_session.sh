#!/usr/bin/env bash
# The GPU checks of one short device session, in one command: the GPU tests (THERMOPOT_BACKEND=cupy
# pytest -m gpu) and the GPU benchmark of the sampler (fused kernel and array path), with the device
# described. Results go to $OUT (or ./gpu-session): gpu_tests.log, sampling_gpu.json, device.json.
#
# On a machine with CuPy but no network: array-api-compat travels as a wheel in .whl/ (git-ignored):
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#       --platform manylinux_2_28_x86_64 -d .whl array-api-compat
# then, with the device tool: run(command="bash benchmarks/gpu_session.sh", carry=[".whl"], timeout_s=540)
set -u -o pipefail
out=${OUT:-gpu-session}
mkdir -p "$out"
if ! python3 -c "import array_api_compat" 2>/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
python3 -m pip install -q --no-index --no-deps --no-build-isolation -e . || exit 1
export THERMOPOT_BACKEND=cupy PYTHONUNBUFFERED=1
python3 -c "import json; from thermopot.backend import device_info; print(json.dumps(device_info('cupy')))" \
    | tee "$out/device.json" || exit 1
timeout 300 python3 -m pytest -q -m gpu -p no:cacheprovider 2>&1 | tee "$out/gpu_tests.log"
timeout 180 python3 - <<'EOF' | tee "$out/sampling_gpu.json"
import json
from thermopot.benchmarks.sampling import run_backend
print(json.dumps(run_backend("cupy", quick=False), indent=1))
EOF
