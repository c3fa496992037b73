#!/usr/bin/env bash
# The one command to run on the lent GPU machine (scripts/gpu/README.md has the whole recipe).
# Needs, carried next to the working tree: .gpu/ (../shared/gpu/prepare.sh 20000: Node, Dawn, the
# Vulkan loaders and 20,000 CIFAR-10 training + the 10,000 test images as a JPEG pack, which
# .gpu/device-setup.sh decodes to the official binary layout and names in $CIFAR10_DIR) and
# .gpubundle/ (node scripts/gpu/bundle.mjs).
#
# Stages, most important first, each under its own timeout (and all before DEADLINE seconds: a stage
# that would end later is shortened or skipped, and says so):
#   1. the engine itself: `lrpet train` ResNet-20 and ResNet-56, batch 128, real CIFAR-10, LRPET on,
#      a projection and a test every 100 steps, up to 300 steps as time allows; its event log is
#      summarised (images/s of the steps, a projection's time, a test's, building the compact model,
#      tensors and GPU bytes at the start and the end)                        → engine-<model>.jsonl
#   2. where one engine training step spends its GPU time (tf.profile, timestamp queries)
#                                                                             → engine-profile.json
#   3. conv kernels, GFLOP/s forward / backprop-input / backprop-filter on the same shapes, stock vs
#      ours, and images/s of bench/gpu-model.ts's own model, stock vs ours  → bench-gpu.json
#   4. PyTorch fp32 (TF32 off), the same networks and batch                 → pytorch-bench.json
#   5. accuracy (ACCURACY=1, the default): ResNet-20 LRPET p = 0.5 on the 20k images, as many epochs
#      as fit ACC_ENGINE_SECONDS at the speed stage 1 measured, in the engine and in PyTorch
#      (scripts/gpu/pytorch_lrpet_train.py), the same epochs and schedule
#                                              → accuracy-plan.json, accuracy-engine.jsonl, accuracy-torch.json
#   optional: EXTRA_MODE=fast:… (the benchmark model with a subset of our kernels), MEM_STEPS=1000
#   (the benchmark model's memory check).
# Stage outputs go to $WORK; after every stage $OUT gets results.json (all of it merged, logs
# summarised), summary.md (the same as Markdown) and raw.tar.gz (everything in $WORK), and
# device-run.log has the whole console output: 4 files, whatever happens.
#
# Everything is overridable through the environment (defaults in brackets):
#   STAGES [engine,profile,kernels,pytorch,accuracy]: the stages to run (e.g. STAGES=accuracy
#     ACC_EPOCHS=4 for a second call with the time left)
#   QUICK=1 (tiny sizes: a dry run on software WebGPU)  SETUP [.gpu/device-setup.sh]  PYTHON [python3]
#   DEADLINE [390]: seconds from the start by which every stage has ended; the device call's timeout_s
#     should be at least DEADLINE + 45
#   ENGINE_MODELS [resnet20,resnet56]  ENGINE_BATCH [128]  ENGINE_TRAIN [12800: 100 steps an epoch, so
#     each projection is followed by a test]  ENGINE_TEST [10000]  ENGINE_EPOCHS [3]  ENGINE_INTERVAL [100]
#   ENGINE_PRUNE [0.57]  ENGINE_KERNELS [fast]
#   ENGINE_TIMEOUTS [65,75] (per model)  ENGINE_FINISH [25]: seconds kept for the end of a run (the last
#     projection, two tests, the compact model); training gets the rest (--max-seconds)
#   PROFILE_MODELS [resnet20,resnet56]  PROFILE_MODES [fast]  PROFILE_TIMEOUT [40]
#   KERNEL_MODELS [resnet20,resnet56]  STEP_MODELS [resnet20,resnet56]  BATCHES [128]  MODES [stock,fast]
#   KERNEL_TIMEOUT [55]  TUNING ['{}'] (our kernels' launch heuristics, see KernelTuning)
#   TORCH_MODELS [resnet20,resnet56]  TORCH_TIMEOUT [30]
#   ACCURACY [1]  ACC_MODEL [resnet20]  ACC_PRUNE [0.5]  ACC_BATCH [128]  ACC_TRAIN [20000]
#   ACC_TEST [10000]  ACC_SCHEDULE [step]  ACC_MAX_EPOCHS [30]  ACC_EPOCHS (set the epochs, no planning)
#   ACC_ENGINE_SECONDS [50]  ACC_TORCH_TIMEOUT [30]
#   EXTRA_MODE [none]  EXTRA_TIMEOUT [45]  MEM_STEPS [0]  MEM_TIMEOUT [75]
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
OUT=${OUT:-$PWD/gpu-out}
WORK=${WORK:-/tmp/gpu-work}
mkdir -p "$OUT"
rm -rf "$WORK" && mkdir -p "$WORK"
LOG="$OUT/device-run.log"
: > "$LOG"

QUICK=${QUICK:-0}
STAGES=${STAGES:-engine,profile,kernels,pytorch,accuracy}
PYTHON=${PYTHON:-python3}
SETUP=${SETUP:-.gpu/device-setup.sh}
if [ "$QUICK" = 1 ]; then
  # Tiny sizes for software WebGPU (a few img/s): every stage runs, nothing is a measurement.
  : "${ENGINE_MODELS:=resnet20}" "${ENGINE_BATCH:=4}" "${ENGINE_TRAIN:=24}" "${ENGINE_TEST:=16}" "${ENGINE_INTERVAL:=4}"
  : "${ENGINE_TIMEOUTS:=150}" "${ENGINE_FINISH:=60}"
  : "${PROFILE_MODELS:=resnet20}" "${PROFILE_BATCH:=4}" "${PROFILE_WARMUP:=2}" "${PROFILE_TIMEOUT:=120}"
  : "${KERNEL_MODELS:=resnet20}" "${STEP_MODELS:=resnet20}" "${BATCHES:=4}" "${KERNEL_TIMEOUT:=240}"
  : "${TORCH_MODELS:=resnet20}" "${TORCH_TIMEOUT:=60}"
  : "${ACC_MODEL:=resnet8-tiny}" "${ACC_BATCH:=32}" "${ACC_TRAIN:=128}" "${ACC_TEST:=64}" "${ACC_EPOCHS:=2}"
  : "${ACC_ENGINE_SECONDS:=120}" "${ACC_TORCH_TIMEOUT:=60}" "${MEM_STEPS:=0}"
  : "${DEADLINE:=1500}"
fi
DEADLINE=${DEADLINE:-390}
ENGINE_MODELS=${ENGINE_MODELS:-resnet20,resnet56}
ENGINE_BATCH=${ENGINE_BATCH:-128}
ENGINE_TRAIN=${ENGINE_TRAIN:-12800}
ENGINE_TEST=${ENGINE_TEST:-10000}
ENGINE_EPOCHS=${ENGINE_EPOCHS:-3}
ENGINE_INTERVAL=${ENGINE_INTERVAL:-100}
ENGINE_PRUNE=${ENGINE_PRUNE:-0.57}
ENGINE_KERNELS=${ENGINE_KERNELS:-fast}
ENGINE_TIMEOUTS=${ENGINE_TIMEOUTS:-65,75}
ENGINE_FINISH=${ENGINE_FINISH:-25}
PROFILE_MODELS=${PROFILE_MODELS:-resnet20,resnet56}
PROFILE_MODES=${PROFILE_MODES:-fast}
PROFILE_BATCH=${PROFILE_BATCH:-$ENGINE_BATCH}
PROFILE_WARMUP=${PROFILE_WARMUP:-4}
PROFILE_TIMEOUT=${PROFILE_TIMEOUT:-40}
KERNEL_MODELS=${KERNEL_MODELS:-resnet20,resnet56}
STEP_MODELS=${STEP_MODELS:-resnet20,resnet56}
BATCHES=${BATCHES:-128}
MODES=${MODES:-stock,fast}
KERNEL_BATCH=${KERNEL_BATCH:-$([ "$QUICK" = 1 ] && echo 2 || echo 128)}
KERNEL_TIMEOUT=${KERNEL_TIMEOUT:-55}
TUNING=${TUNING:-'{}'}
TORCH_MODELS=${TORCH_MODELS:-resnet20,resnet56}
TORCH_TIMEOUT=${TORCH_TIMEOUT:-30}
ACCURACY=${ACCURACY:-1}
ACC_MODEL=${ACC_MODEL:-resnet20}
ACC_PRUNE=${ACC_PRUNE:-0.5}
ACC_BATCH=${ACC_BATCH:-128}
ACC_TRAIN=${ACC_TRAIN:-20000}
ACC_TEST=${ACC_TEST:-10000}
ACC_SCHEDULE=${ACC_SCHEDULE:-step}
ACC_MAX_EPOCHS=${ACC_MAX_EPOCHS:-30}
ACC_EPOCHS=${ACC_EPOCHS:-}
ACC_ENGINE_SECONDS=${ACC_ENGINE_SECONDS:-50}
ACC_TORCH_TIMEOUT=${ACC_TORCH_TIMEOUT:-30}
EXTRA_MODE=${EXTRA_MODE:-}
EXTRA_TIMEOUT=${EXTRA_TIMEOUT:-45}
MEM_STEPS=${MEM_STEPS:-0}
MEM_TIMEOUT=${MEM_TIMEOUT:-75}
if [ "$QUICK" = 1 ]; then
  BENCH_SIZES=(--kernel-batch "$KERNEL_BATCH" --target-ms 0 --max-reps 1 --warmup 1 --iters 2 --max-seconds 5)
  TORCH_SIZES=(--warmup 1 --iters 2 --max-seconds 2)
else
  BENCH_SIZES=(--kernel-batch "$KERNEL_BATCH" --target-ms 150 --max-reps 30 --warmup 2 --iters 15 --max-seconds 4)
  TORCH_SIZES=(--warmup 5 --iters 60 --max-seconds 4)
fi

say() { echo; echo "==== $* ($(date -u +%H:%M:%S), ${SECONDS}s)"; }

# One JSON line per stage into $WORK/stages.jsonl (the report's stage table).
record() { # name status exit seconds note
  printf '{"stage":"%s","status":"%s","exit":%s,"seconds":%s,"note":"%s"}\n' "$1" "$2" "${3:-null}" "${4:-0}" "${5//\"/\'}" >> "$WORK/stages.jsonl"
}

# results.json, summary.md and raw.tar.gz in $OUT, from whatever $WORK holds now.
refresh() {
  node .gpubundle/gpu-report.mjs --work "$WORK" --out "$OUT" || echo "(report failed: see above)"
  tar -czf "$OUT/raw.tar.gz.part" -C "$WORK" . && mv "$OUT/raw.tar.gz.part" "$OUT/raw.tar.gz"
}

# The timeout a stage gets: what it asks for, cut to end 15 s before DEADLINE; 0 when under 20 s are left.
limit_for() {
  local want=$1 left=$((DEADLINE - SECONDS - 15))
  if [ "$left" -lt 20 ]; then echo 0; elif [ "$want" -gt "$left" ]; then echo "$left"; else echo "$want"; fi
}

# run_stage NAME LIMIT CMD...: CMD under `timeout LIMIT` (TERM, KILL 10 s later), its status recorded.
run_stage() {
  local name=$1 limit=$2 t0=$SECONDS rc status
  shift 2
  if [ "$limit" -le 0 ]; then
    say "$name: SKIPPED (under 20 s left before DEADLINE=${DEADLINE}s)"
    record "$name" skipped null 0 "no time left before DEADLINE=${DEADLINE}s"
    return 1
  fi
  say "$name (timeout ${limit}s)"
  timeout -k 10 "$limit" "$@"
  rc=$?
  status=ok
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then status=timeout; elif [ "$rc" != 0 ]; then status=failed; fi
  echo "($name: $status, exit $rc, $((SECONDS - t0)) s)"
  record "$name" "$status" "$rc" $((SECONDS - t0)) ""
  refresh
  return "$rc"
}

wants() { [[ ",$STAGES," == *",$1,"* ]]; }

skip() { # name why
  say "$1: SKIPPED ($2)"
  record "$1" skipped null 0 "$2"
}

main() {
say "set-up (QUICK=$QUICK, DEADLINE=${DEADLINE}s)"
[ -f "$SETUP" ] || { echo "missing $SETUP: run ../shared/gpu/prepare.sh 20000 locally and carry .gpu"; return 1; }
[ -f .gpubundle/lrpet.mjs ] || { echo "missing .gpubundle/lrpet.mjs: run node scripts/gpu/bundle.mjs locally and carry .gpubundle"; return 1; }
# shellcheck disable=SC1090
source "$SETUP" || { echo "$SETUP failed"; return 1; }
node --version || { echo "no node on PATH after $SETUP"; return 1; }
local gpu driver
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
driver=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -1)
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>/dev/null || echo "(no nvidia-smi)"
"$PYTHON" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())' 2>/dev/null || echo "(no torch in $PYTHON)"
node -e 'const [gpu, driver, quick, commit] = process.argv.slice(1); require("fs").writeFileSync(process.env.WORK + "/env.json", JSON.stringify({ gpu: gpu || "no GPU (nvidia-smi found none)", driver: driver || null, quick: quick === "1", commit: commit || null, node: process.version, date: new Date().toISOString() }, null, 2))' \
  "$gpu" "$driver" "$QUICK" "$(git rev-parse --short HEAD 2>/dev/null)"
local data=${CIFAR10_DIR:-}
if [ -n "$data" ] && [ -f "$data/test_batch.bin" ]; then
  echo "CIFAR-10: $data ($(ls "$data" | tr '\n' ' '))"
else
  data=""
  echo "NO CIFAR-10 (\$CIFAR10_DIR unset or empty): the engine and accuracy stages need it; run ../shared/gpu/prepare.sh 20000 (not 0) and carry .gpu"
fi
record "set-up" ok 0 "$SECONDS" "${data:+data $data}"
refresh

# 1. The engine itself.
local i=0 m t
IFS=, read -r -a timeouts <<< "$ENGINE_TIMEOUTS"
for m in ${ENGINE_MODELS//,/ }; do
  t=${timeouts[$i]:-${timeouts[-1]}}
  i=$((i + 1))
  if ! wants engine; then skip "engine $m" "not in STAGES"; continue; fi
  if [ -z "$data" ]; then skip "engine $m" "no CIFAR-10 data"; continue; fi
  local lim
  lim=$(limit_for "$t")
  run_stage "engine $m" "$lim" node .gpubundle/lrpet.mjs train --model "$m" --batch "$ENGINE_BATCH" --epochs "$ENGINE_EPOCHS" \
    --train-limit "$ENGINE_TRAIN" --test-limit "$ENGINE_TEST" --interval "$ENGINE_INTERVAL" --prune "$ENGINE_PRUNE" \
    --kernels "$ENGINE_KERNELS" --backend webgpu --data "$data" --log "$WORK/engine-$m.jsonl" \
    --max-seconds $(( lim > ENGINE_FINISH + 10 ? lim - ENGINE_FINISH : 10 ))
  [ -f "$WORK/engine-$m.jsonl" ] && node .gpubundle/gpu-report.mjs --summarise-log "$WORK/engine-$m.jsonl" > "$WORK/engine-$m.summary.json"
done

# 2. Profile of one engine step.
local source=(--synthetic)
[ -n "$data" ] && source=(--data "$data")
wants profile && run_stage "profile" "$(limit_for "$PROFILE_TIMEOUT")" node .gpubundle/engine-profile.mjs --models "$PROFILE_MODELS" --batch "$PROFILE_BATCH" \
  --modes "$PROFILE_MODES" --warmup "$PROFILE_WARMUP" --prune "$ENGINE_PRUNE" "${source[@]}" --out "$WORK/engine-profile.json"

# 3. Kernel table and the benchmark model's images/s.
wants kernels && run_stage "kernels" "$(limit_for "$KERNEL_TIMEOUT")" node .gpubundle/gpu-bench.mjs --models "$KERNEL_MODELS" --step-models "$STEP_MODELS" \
  --batches "$BATCHES" --modes "$MODES" "${BENCH_SIZES[@]}" --tuning "$TUNING" --out "$WORK/bench-gpu.json"

# 4. PyTorch.
wants pytorch && run_stage "pytorch" "$(limit_for "$TORCH_TIMEOUT")" "$PYTHON" scripts/gpu/pytorch_bench.py --models "$TORCH_MODELS" --batches "$BATCHES" \
  "${TORCH_SIZES[@]}" --out "$WORK/pytorch-bench.json"

# 5. Accuracy, engine and PyTorch, the same epochs and schedule.
if ! wants accuracy; then
  :
elif [ "$ACCURACY" != 1 ]; then
  skip "accuracy" "ACCURACY=$ACCURACY"
elif [ -z "$data" ]; then
  skip "accuracy" "no CIFAR-10 data"
else
  local epochs
  epochs=$(node .gpubundle/gpu-report.mjs --plan-accuracy --work "$WORK" --model "$ACC_MODEL" --speed-model "${ENGINE_MODELS%%,*}" \
    --prune "$ACC_PRUNE" --batch "$ACC_BATCH" --schedule "$ACC_SCHEDULE" --budget "$ACC_ENGINE_SECONDS" --train "$ACC_TRAIN" \
    --test "$ACC_TEST" --max-epochs "$ACC_MAX_EPOCHS" ${ACC_EPOCHS:+--epochs "$ACC_EPOCHS"})
  if ! [ "${epochs:-0}" -gt 0 ] 2>/dev/null; then
    skip "accuracy" "$(node -e 'try { console.log(require(process.argv[1]).reason) } catch { console.log("no plan") }' "$WORK/accuracy-plan.json")"
    refresh
  else
    run_stage "accuracy engine" "$(limit_for $((ACC_ENGINE_SECONDS + 25)))" node .gpubundle/lrpet.mjs train --model "$ACC_MODEL" \
      --prune "$ACC_PRUNE" --epochs "$epochs" --batch "$ACC_BATCH" --train-limit "$ACC_TRAIN" --test-limit "$ACC_TEST" \
      --schedule "$ACC_SCHEDULE" --seed 1 --grad-norm-every 0 --kernels "$ENGINE_KERNELS" --backend webgpu --data "$data" \
      --log "$WORK/accuracy-engine.jsonl" --max-seconds "$ACC_ENGINE_SECONDS"
    run_stage "accuracy pytorch" "$(limit_for "$ACC_TORCH_TIMEOUT")" "$PYTHON" scripts/gpu/pytorch_lrpet_train.py --data "$data" \
      --model "$ACC_MODEL" --prune "$ACC_PRUNE" --epochs "$epochs" --batch "$ACC_BATCH" --train-limit "$ACC_TRAIN" \
      --test-limit "$ACC_TEST" --schedule "$ACC_SCHEDULE" --seed 1 --max-seconds $((ACC_TORCH_TIMEOUT - 10)) --out "$WORK/accuracy-torch.json"
  fi
fi

# Optional extras, only when asked for.
if [ -n "$EXTRA_MODE" ]; then
  run_stage "extra mode" "$(limit_for "$EXTRA_TIMEOUT")" node .gpubundle/gpu-bench.mjs --skip-kernels --models resnet20 --batches "$BATCHES" \
    --modes "$EXTRA_MODE" "${BENCH_SIZES[@]}" --tuning "$TUNING" --out "$WORK/bench-gpu-extra.json"
fi
if [ "$MEM_STEPS" -gt 0 ]; then
  run_stage "memory check" "$(limit_for "$MEM_TIMEOUT")" node .gpubundle/gpu-bench.mjs --skip-kernels --skip-steps --steps "$MEM_STEPS" \
    --mem-model resnet20 --mem-batch "${BATCHES%%,*}" --mem-mode fast --tuning "$TUNING" --mem-max-seconds $((MEM_TIMEOUT - 20)) \
    --out "$WORK/bench-gpu-memory.json"
fi

say "summary"
refresh
cat "$OUT/summary.md"
echo "(full log: $LOG; results: $OUT/results.json, $OUT/summary.md, $OUT/raw.tar.gz; ${SECONDS}s total)"
}

export WORK
main 2>&1 | tee -a "$LOG"
