// Package good holds tests with every outcome the gotest parser must read.
package good

// Add adds.
func Add(a, b int) int { return a + b }
