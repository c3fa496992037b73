# SETUP for a local dry run of device-run.sh (QUICK=1 SETUP=scripts/gpu/dry-run-setup.sh): what
# .gpu/device-setup.sh does on the GPU machine, done with this machine's own Node, Dawn and Vulkan
# (lavapipe), including decoding the JPEG pack in .gpu/data (../shared/gpu/prepare.sh 20000) to the
# official binary layout, as the device does, so the dry run reads the same data the GPU run will.
# Needs a python3 with numpy and Pillow: $PYTHON, else /usr/bin/python3.
_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export WEBGPU_DAWN_NODE=$_root/node_modules/webgpu/dist/linux-x64/dawn.node
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
_dry=${DRY_RUN_DIR:-/tmp/gpu-dry-run}
if [ -f "$_root/.gpu/data/unpack.py" ] && [ ! -f "$_dry/cifar10/cifar-10-batches-bin/test_batch.bin" ]; then
  echo "decoding $_root/.gpu/data into $_dry/cifar10 (as .gpu/device-setup.sh does on the device)…"
  "${PYTHON:-/usr/bin/python3}" "$_root/.gpu/data/unpack.py" "$_dry/cifar10" || return 1
fi
[ -f "$_dry/cifar10/cifar-10-batches-bin/test_batch.bin" ] && export CIFAR10_DIR=$_dry/cifar10/cifar-10-batches-bin
node --version
