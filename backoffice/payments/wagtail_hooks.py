from wagtail import hooks

from .viewsets import TransactionsViewSetGroup


@hooks.register("register_admin_viewset")
def register_transactions_viewsets():
    return TransactionsViewSetGroup()
