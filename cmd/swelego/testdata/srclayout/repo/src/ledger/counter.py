def make_counter(start=0):
    """Return a function that adds step to a running total and returns it."""
    total = start

    def bump(step=1):
        nonlocal total
        total += step
        return total

    return bump
