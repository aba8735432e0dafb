# The repository root goes on sys.path, so the tests import slowsuite.
