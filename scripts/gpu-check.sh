#!/bin/sh
# gpu-check.sh: what a person with an NVIDIA GPU runs first. It builds
# swelego's cuda backend with the cuda tag, runs every GPU test (each
# kernel against the cpu backend, the PyTorch golden state in fp32 and
# bf16, 50 training steps against cpu) and the training benchmark, and
# prints a short report. Run it from anywhere inside the repository:
#
#   sh scripts/gpu-check.sh            # tests and benchmark
#   BENCH=0 sh scripts/gpu-check.sh    # tests only
#
# Needs Go, the CUDA toolkit's headers and libraries (Debian:
# nvidia-cuda-dev, or `make cuda-deps`) and an NVIDIA driver with a GPU of
# compute capability 8.0 or newer. SWELEGO_CUDA_DEVICE picks the GPU
# (default 0); SWELEGO_CUDA_PRECISION the benchmark's GEMM precision
# (float32, tf32 or bfloat16, the default).
set -u
cd "$(dirname "$0")/.."
export CGO_LDFLAGS="${CGO_LDFLAGS:--L/usr/lib/$(uname -m)-linux-gnu/stubs}"
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

echo "== GPU"
if command -v nvidia-smi >/dev/null 2>&1; then
	nvidia-smi --query-gpu=index,name,compute_cap,driver_version,memory.total --format=csv,noheader
else
	ls /proc/driver/nvidia/gpus 2>/dev/null || echo "no nvidia-smi and no /proc/driver/nvidia/gpus: is there a GPU?"
fi

echo "== build (go vet and go build -tags cuda)"
if ! go vet -tags cuda ./core/backend/cuda/ || ! go build -tags cuda -o "$log/swelego" ./cmd/swelego; then
	echo "REPORT: the cuda build failed"
	exit 1
fi

echo "== tests (go test -tags cuda ./core/backend/cuda/)"
go test -tags cuda -count=1 -v -timeout 30m ./core/backend/cuda/ >"$log/test.txt" 2>&1
tests=$?
grep -E '^(=== RUN|--- (PASS|FAIL|SKIP)|\s+\S+_test\.go:[0-9]+:)' "$log/test.txt" | grep -v '^=== RUN' | tail -n 80

bench=0
if [ "${BENCH:-1}" != 0 ]; then
	echo "== benchmark (BenchmarkTrainCUDA)"
	go test -tags cuda -run '^$' -bench TrainCUDA -benchtime 5x -timeout 60m ./core/backend/cuda/ >"$log/bench.txt" 2>&1
	bench=$?
	grep -E 'Benchmark|tokens/s|MFU|FAIL|panic' "$log/bench.txt"
fi

echo "== REPORT"
echo "passed:  $(grep -c -- '--- PASS' "$log/test.txt")"
echo "failed:  $(grep -c -- '--- FAIL' "$log/test.txt")"
echo "skipped: $(grep -c -- '--- SKIP' "$log/test.txt")"
grep -E -- '--- FAIL' "$log/test.txt" | sed 's/^/  /'
if grep -q 'Error in initialization' "$log/test.txt"; then
	echo "the CUDA driver found no usable device (gorgonia.org/cu exits at start-up then)"
fi
[ "$tests" = 0 ] && echo "tests: ok" || echo "tests: FAILED (exit $tests)"
[ "${BENCH:-1}" = 0 ] || { [ "$bench" = 0 ] && echo "benchmark: ok" || echo "benchmark: FAILED (exit $bench)"; }
[ "$tests" = 0 ] && [ "$bench" = 0 ]
