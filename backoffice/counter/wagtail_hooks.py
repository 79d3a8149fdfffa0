from wagtail import hooks

from .viewsets import CounterViewSetGroup


@hooks.register("register_admin_viewset")
def register_counter_viewsets():
    """Counter: till sessions, cash returns and their templates, offices and tills."""
    return CounterViewSetGroup()
