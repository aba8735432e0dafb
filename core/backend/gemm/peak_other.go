//go:build !amd64 || purego

package gemm

// peakLoops is empty where there is no assembly: the peak is then measured
// with the pure-Go loop.
func peakLoops() []peakLoop { return nil }
