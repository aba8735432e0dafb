// Package geo has small geometry helpers.
package geo

import "math"

// Clamp returns x limited to the closed range [lo, hi].
func Clamp(x, lo, hi int) int {
	if x < lo {
		return lo
	}
	if x > hi {
		return hi
	}
	return x
}

// Rect is an axis-aligned rectangle.
type Rect struct{ W, H float64 }

// Area is the rectangle's area.
func (r Rect) Area() float64 {
	return r.W * r.H
}

// Scaled returns the rectangle scaled by k.
func (r *Rect) Scaled(k float64) Rect {
	return Rect{r.W * k, r.H * k}
}

// Hypot is the length of the hypotenuse of a right triangle.
func Hypot(a, b float64) float64 {
	total := a*a + b*b
	return math.Sqrt(total)
}

func empty() {}
