from ledger import Account
from mixins import AccountChecks


class TestAccount(AccountChecks):
    def make(self, balance):
        return Account("ada", balance)


def test_owner():
    assert Account("ada").owner == "ada"
