"""ledger: a small bookkeeping package laid out under src/."""

from ledger.account import Account
from ledger.counter import make_counter
from ledger.stats import clamp, mean

__all__ = ["Account", "clamp", "make_counter", "mean"]
