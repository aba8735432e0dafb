"""slowsuite: a tiny package whose test suite takes about six seconds.

It is the fixture of taskenv's BenchmarkGrading: a task whose tests run long
enough that the harness's own time can be compared with theirs.
"""

from .durations import format_duration, parse_duration

__all__ = ["format_duration", "parse_duration"]
