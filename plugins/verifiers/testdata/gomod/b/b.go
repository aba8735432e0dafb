// Package b multiplies.
package b

// Mul returns x * y.
func Mul(x, y int) int { return x * y }
