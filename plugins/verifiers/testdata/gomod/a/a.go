// Package a adds.
package a

// Add returns x + y.
func Add(x, y int) int { return x + y }
