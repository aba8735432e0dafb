from ledger import make_counter


def test_counts_up():
    bump = make_counter()
    bump()
    assert bump() == 2


def test_start_and_step():
    bump = make_counter(10)
    assert bump(5) == 15


def test_counters_are_separate():
    a, b = make_counter(), make_counter()
    a()
    assert b() == 1
