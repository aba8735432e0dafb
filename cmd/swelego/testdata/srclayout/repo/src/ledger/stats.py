def mean(values):
    """The arithmetic mean of values; 0.0 when there are none."""
    if not values:
        return 0.0
    return sum(values) / len(values)


def clamp(x, lo, hi):
    """x, moved into [lo, hi]."""
    if x < lo:
        return lo
    if x > hi:
        return hi
    return x
