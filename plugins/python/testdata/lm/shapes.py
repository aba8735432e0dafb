"""Small geometry helpers."""

import math


def clamp(x, lo, hi):
    """Return x limited to the closed range [lo, hi]."""
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x


class Rect:
    def __init__(self, w, h):
        self.w = w
        self.h = h

    @property
    def area(self) -> float:
        """The rectangle's area."""
        return self.w * self.h

    def scaled(self, k: float) -> "Rect":
        return Rect(self.w * k, self.h * k)


def hypot(a, b):
    total = a * a + b * b
    return math.sqrt(total)
