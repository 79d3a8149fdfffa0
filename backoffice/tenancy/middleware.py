from django.utils.functional import SimpleLazyObject

from .selectors import organisation_for_request


class OrganisationMiddleware:
    """Sets ``request.organisation``: the council this staff request acts for.

    Lazy, so that requests that never look (static files, health checks) pay
    no query for it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.organisation = SimpleLazyObject(lambda: organisation_for_request(request))
        return self.get_response(request)
