#!/usr/bin/env bash
# The one command to run on the lent GPU machine (see scripts/gpu/README.md for the whole recipe).
# Needs, carried next to the working tree: .gpu/ (../shared/gpu/prepare.sh 0) and .gpubundle/
# (node scripts/gpu/bundle.mjs). Stages, each under its own timeout so one slow stage cannot eat
# the others; every stage writes its JSON as it goes:
#   1. tfjs WebGPU (Dawn/Vulkan): per-kernel GFLOP/s stock vs fast (ResNet-20/56, VGG-16 shapes,
#      batch 128) and training images/s per model × batch × kernel mode     → $OUT/bench-gpu.json
#   2. tfjs ResNet-20 images/s with a subset of our kernels (EXTRA_MODE, default: all but our
#      Conv2DBackpropInput, in case stock's is the faster one on this card) → $OUT/bench-gpu-extra.json
#   3. tfjs memory check: 1,000 training steps (ResNet-20 b128, fast kernels), numTensors and
#      GPU bytes sampled every 50 steps, FLAT / NOT FLAT                      → $OUT/bench-gpu-memory.json
#   4. PyTorch, same networks, same batches, fp32 (TF32 off), SGD momentum  → $OUT/pytorch-bench.json
#   5. side-by-side table (printed last)
# The full log goes to $OUT/device-run.log. Everything is overridable through the environment:
#   MODELS=resnet20,resnet56,vgg16  BATCHES=128,512  MODES=stock,fast  KERNEL_BATCH=128
#   MEM_STEPS=1000  EXTRA_MODE=fast:…  TFJS_TIMEOUT=200  EXTRA_TIMEOUT=45  MEM_TIMEOUT=75
#   TORCH_TIMEOUT=60  QUICK=1 (tiny sizes)
#   TUNING='{"backpropFilter":{"targetThreads":524288}}' (our kernels' launch heuristics, stages 1–3;
#   see KernelTuning in src/webgpu-kernels/index.ts)
#   SETUP=.gpu/device-setup.sh (a local dry run can point this at a script that only sets
#   WEBGPU_DAWN_NODE; see README)
# Planned wall time: at most ≈ 6.5 minutes (the sum of the timeouts plus set-up); typically less.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT"
LOG="$OUT/device-run.log"

if [ "${QUICK:-0}" = 1 ]; then
  MODELS=${MODELS:-resnet20} BATCHES=${BATCHES:-4} MEM_STEPS=${MEM_STEPS:-20}
fi
MODELS=${MODELS:-resnet20,resnet56,vgg16}
BATCHES=${BATCHES:-128,512}
MODES=${MODES:-stock,fast}
KERNEL_BATCH=${KERNEL_BATCH:-128}
MEM_STEPS=${MEM_STEPS:-1000}
EXTRA_MODE=${EXTRA_MODE:-fast:Conv2DBackpropFilter+Sum+Mean+grad:FusedBatchNorm+grad:Mean}
TFJS_TIMEOUT=${TFJS_TIMEOUT:-200}
EXTRA_TIMEOUT=${EXTRA_TIMEOUT:-45}
MEM_TIMEOUT=${MEM_TIMEOUT:-75}
TORCH_TIMEOUT=${TORCH_TIMEOUT:-60}
TUNING=${TUNING:-'{}'}
SETUP=${SETUP:-.gpu/device-setup.sh}
SIZES=(--kernel-batch "$KERNEL_BATCH" --target-ms 150 --max-reps 30 --warmup 2 --iters 20 --max-seconds 6)
TORCH_SIZES=(--warmup 5 --iters 60 --max-seconds 4)
MEM_BATCH=128
if [ "${QUICK:-0}" = 1 ]; then
  SIZES=(--kernel-batch 2 --target-ms 0 --max-reps 1 --warmup 1 --iters 2 --max-seconds 5)
  TORCH_SIZES=(--warmup 1 --iters 2 --max-seconds 2)
  MEM_BATCH=4
fi

stage() { echo; echo "==== $* ($(date -u +%H:%M:%S), ${SECONDS}s)"; }

main() {
stage "set-up"
[ -f "$SETUP" ] || { echo "missing $SETUP: run ../shared/gpu/prepare.sh 0 locally and carry .gpu"; return 1; }
[ -f .gpubundle/gpu-bench.mjs ] || { echo "missing .gpubundle/gpu-bench.mjs: run node scripts/gpu/bundle.mjs locally and carry .gpubundle"; return 1; }
if [ -z "${WEBGPU_DAWN_NODE:-}" ]; then
  # shellcheck disable=SC1090
  source "$SETUP" || { echo "$SETUP failed"; return 1; }
fi
node --version || { echo "no node on PATH after $SETUP"; return 1; }
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>/dev/null || echo "(no nvidia-smi)"
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)' 2>/dev/null || echo "(no torch)"

stage "1/5 tfjs WebGPU: per-kernel GFLOP/s and training images/s (timeout ${TFJS_TIMEOUT}s)"
timeout -k 10 "$TFJS_TIMEOUT" node .gpubundle/gpu-bench.mjs \
  --models "$MODELS" --batches "$BATCHES" --modes "$MODES" "${SIZES[@]}" --tuning "$TUNING" \
  --out "$OUT/bench-gpu.json"
echo "tfjs benchmark exit status $?"

stage "2/5 tfjs ResNet-20 with ${EXTRA_MODE} (timeout ${EXTRA_TIMEOUT}s)"
timeout -k 10 "$EXTRA_TIMEOUT" node .gpubundle/gpu-bench.mjs \
  --skip-kernels --models resnet20 --batches "$BATCHES" --modes "$EXTRA_MODE" "${SIZES[@]}" --tuning "$TUNING" \
  --out "$OUT/bench-gpu-extra.json"
echo "extra-mode run exit status $?"

stage "3/5 tfjs memory check: ${MEM_STEPS} steps (timeout ${MEM_TIMEOUT}s)"
timeout -k 10 "$MEM_TIMEOUT" node .gpubundle/gpu-bench.mjs \
  --skip-kernels --skip-steps --steps "$MEM_STEPS" --mem-model resnet20 --mem-batch "$MEM_BATCH" --mem-mode fast --tuning "$TUNING" \
  --mem-max-seconds $((MEM_TIMEOUT - 20)) --out "$OUT/bench-gpu-memory.json"
echo "memory check exit status $?"

stage "4/5 PyTorch, same networks (timeout ${TORCH_TIMEOUT}s)"
timeout -k 10 "$TORCH_TIMEOUT" python3 scripts/gpu/pytorch_bench.py \
  --models "$MODELS" --batches "$BATCHES" "${TORCH_SIZES[@]}" \
  --out "$OUT/pytorch-bench.json"
echo "pytorch exit status $?"

stage "5/5 side by side"
python3 - "$OUT/bench-gpu.json" "$OUT/bench-gpu-extra.json" "$OUT/bench-gpu-memory.json" <<'EOF'
import json, sys
# Fold the extra-mode steps and the memory check into the main JSON so compare.py shows them.
try:
    main = json.load(open(sys.argv[1]))
except Exception as e:
    print(f'(no main tfjs JSON: {e})')
    sys.exit(0)
for path, key in ((sys.argv[2], 'steps'), (sys.argv[3], 'memory')):
    try:
        part = json.load(open(path)).get(key)
    except Exception as e:  # a missing stage shows up as '-' in the table
        print(f'({key} from {path} not merged: {e})')
        continue
    if key == 'steps' and part:
        main['steps'] = main.get('steps', []) + part
    elif part:
        main['memory'] = part
json.dump(main, open(sys.argv[1], 'w'), indent=2)
EOF
python3 scripts/gpu/compare.py "$OUT/bench-gpu.json" "$OUT/pytorch-bench.json"
echo "(full log: $LOG; JSON: $OUT/bench-gpu.json, $OUT/bench-gpu-memory.json, $OUT/pytorch-bench.json; ${SECONDS}s total)"
}

main 2>&1 | tee -a "$LOG"
