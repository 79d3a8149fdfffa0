from .selectors import organisation_for_request


class OrganisationMiddleware:
    """Sets ``request.organisation``: the council a staff request acts for, or None.

    Not lazy: ``None`` is a real answer (no membership) that a lazy proxy would hide.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.organisation = organisation_for_request(request)
        return self.get_response(request)
