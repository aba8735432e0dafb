from ledger import clamp, mean


def test_mean():
    assert mean([1, 2, 3, 6]) == 3


def test_mean_of_nothing():
    assert mean([]) == 0.0


def test_clamp_inside():
    assert clamp(5, 0, 10) == 5


def test_clamp_below():
    assert clamp(-2, 0, 10) == 0


def test_clamp_above():
    assert clamp(12, 0, 10) == 10
