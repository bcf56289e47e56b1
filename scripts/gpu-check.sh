#!/usr/bin/env bash
# scripts/gpu-check.sh — everything worth knowing from a borrowed GPU machine, in one call of at most
# 10 minutes (docs/performance.md, "GPU check"). The machine has an NVIDIA GPU,
# python3 and PyTorch, but no Node.js and no network: pack first, here, with
#     node scripts/gpu-pack.mjs             # → .gpu/ (node, node_modules, the bench bundle), .gl/ (libvulkan1)
# then run, with `carry: [".gpu", ".gl"]` and a timeout of 600 s:
#     bash scripts/gpu-check.sh
# It leaves in $OUT (default ./gpu-out):
#     adapter.json           the WebGPU adapter Dawn picked (vendor, architecture, features, limits)
#     tests.json, tests.jsonl  the unit tests on that adapter (vitest's JSON report; a line per test as it ends)
#     bench-persistent/*.json, bench-step/*.json
#                            `npm run bench -- --runtime node --require-gpu --time-loop persistent|step`
#     *-cudnn-*.json         bench/cudnn_rnn.py: PyTorch / cuDNN on the same shapes (TF32 off and on)
#     gpu-check.json         all of it in one summary, the adapter named; log.txt the whole output
# Budgets (seconds; with the bench's 40 s of slack each the worst case is ~520 s, under the device
# call's 10 minutes): GPU_CHECK_TEST_S (150), GPU_CHECK_BENCH_S (110 per time loop), GPU_CHECK_CUDNN_S (60). `--software`: a dry run on a machine without a GPU (the
# software adapter, no --require-gpu, no cuDNN), from a fresh copy of the repository so that the
# packed node_modules are the ones used.
set -u
cd "$(dirname "$0")/.."
SOFTWARE=0
[ "${1:-}" = "--software" ] && SOFTWARE=1
OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT"
exec > >(tee -a "$OUT/log.txt") 2>&1
START=$(date +%s)
: > "$OUT/phases.txt"
phase() { # name exit-code started-at
  echo "$1 $2 $(( $(date +%s) - $3 ))" >> "$OUT/phases.txt"
  echo "[gpu-check] $1: exit $2 after $(( $(date +%s) - $3 )) s ($(( $(date +%s) - START )) s in all)"
}

# 1. the Vulkan loader and the NVIDIA ICD (the machine has the driver, not the loader)
if [ $SOFTWARE = 0 ]; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
  ldconfig -p | grep -q libvulkan || echo "[gpu-check] warning: libvulkan was not unpacked"
  export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
fi

# 2. node and node_modules from .gpu (python3 unpacks: the machine may have no xz)
t=$(date +%s)
python3 - <<'PY'
import lzma, os, shutil, tarfile
if not os.path.exists('.gpu/bin/node'):
    os.makedirs('.gpu/bin', exist_ok=True)
    with lzma.open('.gpu/node.xz') as src, open('.gpu/bin/node', 'wb') as dst:
        shutil.copyfileobj(src, dst)
    os.chmod('.gpu/bin/node', 0o755)
if not os.path.exists('node_modules/vitest'):
    with tarfile.open('.gpu/payload.tar.xz', 'r:xz') as t:
        t.extractall('.')
elif not os.path.exists('dist-cli/bench.js'):
    with tarfile.open('.gpu/payload.tar.xz', 'r:xz') as t:
        t.extractall('.', members=[m for m in t.getmembers() if m.name.startswith('dist-cli/')])
PY
phase unpack $? "$t"
NODE=$PWD/.gpu/bin/node
export PATH="$PWD/.gpu/bin:$PATH"

# 3. the adapter
t=$(date +%s)
timeout 60 "$NODE" scripts/gpu-report.mjs adapter > "$OUT/adapter.json"
phase adapter $? "$t"
cat "$OUT/adapter.json"

# 4. the unit tests on it. Left out: the Seattle tests (their data does not travel), the consumer
# tests (npm pack, Chromium), the PyTorch/ONNX/h5py peers (test/interop, keras-h5py, bench-torch:
# Python packages and onnxruntime-node that are not packed); every kernel test runs.
t=$(date +%s)
# (tests.jsonl: a line per finished test, kept when the budget cuts the run; tests.json: vitest's report, at the end)
: > "$OUT/tests.jsonl"
GPU_CHECK_TESTS_JSONL="$OUT/tests.jsonl" timeout "${GPU_CHECK_TEST_S:-150}" "$NODE" node_modules/vitest/vitest.mjs run \
  --reporter=dot --reporter=./scripts/vitest-progress-reporter.mjs --reporter=json --outputFile.json="$OUT/tests.json" \
  --maxWorkers="${GPU_CHECK_WORKERS:-6}" --exclude test/unit/seattle.test.ts --exclude test/unit/weather-train.test.ts \
  --exclude 'test/consumer/**' --exclude 'test/interop/**' --exclude test/io/keras-h5py.test.ts --exclude test/unit/bench-torch.test.ts
phase tests $? "$t"

# 5. the benchmark, both time loops (tfjs-backend-webgpu beside ours when its bundles were packed)
REQ=--require-gpu
[ $SOFTWARE = 1 ] && REQ=
TFJS=
[ -f node_modules/@tensorflow/tfjs/package.json ] || TFJS=--no-tfjs-node
for loop in persistent step; do
  t=$(date +%s)
  timeout $(( ${GPU_CHECK_BENCH_S:-110} + 40 )) "$NODE" --enable-source-maps dist-cli/bench.js --runtime node $REQ $TFJS --time-loop $loop \
    --budget-s "${GPU_CHECK_BENCH_S:-110}" --rounds 5 --out "$OUT/bench-$loop"
  phase "bench-$loop" $? "$t"
done

# 6. cuDNN on the same shapes
t=$(date +%s)
if [ $SOFTWARE = 0 ]; then
  OUT="$OUT" PYTHONUNBUFFERED=1 timeout "${GPU_CHECK_CUDNN_S:-60}" python3 bench/cudnn_rnn.py --steps 30 --rounds 3
  phase cudnn $? "$t"
else
  python3 -c "import ast; ast.parse(open('bench/cudnn_rnn.py').read())"
  phase cudnn-syntax $? "$t"
fi

# 7. one summary (at most 8 files come back from $OUT: phases.txt goes into it)
"$NODE" scripts/gpu-report.mjs summary "$OUT" > "$OUT/gpu-check.json" && rm -f "$OUT/phases.txt"
echo "[gpu-check] done in $(( $(date +%s) - START )) s: $OUT/gpu-check.json"
