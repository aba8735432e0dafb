"""Durations written as "1h30m", "45s" or "2d"."""

import re

_UNITS = {"s": 1, "m": 60, "h": 60, "d": 86400}
_PART = re.compile(r"(\d+)([smhd])")


def parse_duration(text):
    """Return the seconds text names: parse_duration("1h30m") == 5400."""
    text = text.strip()
    if not text:
        raise ValueError("empty duration")
    total, pos = 0, 0
    for m in _PART.finditer(text):
        if m.start() != pos:
            raise ValueError("bad duration %r" % text)
        total += int(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(text):
        raise ValueError("bad duration %r" % text)
    return total


def format_duration(seconds):
    """Return the shortest text parse_duration reads back as seconds."""
    if seconds < 0:
        raise ValueError("negative duration")
    if seconds == 0:
        return "0s"
    out = []
    for unit in "dhms":
        n, seconds = divmod(seconds, _UNITS[unit])
        if n:
            out.append("%d%s" % (n, unit))
    return "".join(out)
