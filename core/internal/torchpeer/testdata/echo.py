#!/usr/bin/env python3
"""Prints its arguments and process id as JSON: torchpeer's tests run it."""
import json
import os
import sys

print(json.dumps({"args": sys.argv[1:], "pid": os.getpid(), "openblas": os.environ.get("OPENBLAS_CORETYPE", "")}))
