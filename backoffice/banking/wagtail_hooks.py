from wagtail import hooks

from .viewsets import BankingViewSetGroup


@hooks.register("register_admin_viewset")
def register_banking_viewsets():
    """Banking: paying-in slips (bank statements and reconciliation join them here later)."""
    return BankingViewSetGroup()
