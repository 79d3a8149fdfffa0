from django.utils.functional import SimpleLazyObject

from .selectors import branding_for_request


def branding(request):
    """``branding`` in every template: the public site's name, logo, colours and contacts.

    Lazy, so that admin pages, which never show it, never look it up.
    """
    return {"branding": SimpleLazyObject(lambda: branding_for_request(request))}
