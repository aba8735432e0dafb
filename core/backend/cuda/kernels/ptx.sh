#!/bin/sh
# Compiles every kernel source of the cuda backend to PTX for each supported
# architecture: kernels/NAME.cu -> kernels/ptx/NAME.sm_XX.ptx. The output is
# committed (a build needs no nvcc); a test of the package checks it is
# current. Usage: ptx.sh [OUTDIR] (default: the ptx folder beside this script).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/ptx}
mkdir -p "$out"
pids=""
for src in "$here"/*.cu; do
	name=$(basename "$src" .cu)
	for arch in sm_80 sm_90; do
		# -lineinfo off and no -G: the PTX depends only on the source,
		# the flags and nvcc's version. The compiles run side by side.
		nvcc --ptx -O3 -std=c++14 -arch="$arch" -I"$here" -o "$out/$name.$arch.ptx" "$src" &
		pids="$pids $!"
	done
done
status=0
for p in $pids; do
	wait "$p" || status=1
done
exit $status
