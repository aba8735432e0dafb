import time

import pytest

from slowsuite import format_duration, parse_duration


def slow():
    # Each test stands for real work: the suite takes about six seconds.
    time.sleep(0.45)


def test_seconds():
    slow()
    assert parse_duration("45s") == 45


def test_minutes():
    slow()
    assert parse_duration("3m") == 180


def test_days():
    slow()
    assert parse_duration("2d") == 172800


def test_combined():
    slow()
    assert parse_duration("1d1m1s") == 86461


def test_spaces():
    slow()
    assert parse_duration("  10s ") == 10


def test_empty():
    slow()
    with pytest.raises(ValueError):
        parse_duration("")


def test_garbage():
    slow()
    with pytest.raises(ValueError):
        parse_duration("10x")


def test_format_zero():
    slow()
    assert format_duration(0) == "0s"


def test_format_seconds():
    slow()
    assert format_duration(59) == "59s"


def test_format_minutes():
    slow()
    assert format_duration(61) == "1m1s"


def test_format_negative():
    slow()
    with pytest.raises(ValueError):
        format_duration(-1)


def test_round_trip():
    slow()
    for s in (1, 60, 61, 86400, 90061):
        assert parse_duration(format_duration(s)) == s
