from wagtail import hooks

from .viewsets import FundsViewSetGroup


@hooks.register("register_admin_viewset")
def register_funds_viewsets():
    return FundsViewSetGroup()
