import pytest


class AccountChecks:
    """Checks every kind of account passes; test classes mix it in and
    say how to make one."""

    def make(self, balance):
        raise NotImplementedError

    def test_deposit(self):
        assert self.make(10).deposit(5) == 15

    def test_withdraw(self):
        assert self.make(10).withdraw(4) == 6

    def test_overdraw(self):
        with pytest.raises(ValueError):
            self.make(1).withdraw(2)

    def test_negative_deposit(self):
        with pytest.raises(ValueError):
            self.make(1).deposit(-3)
