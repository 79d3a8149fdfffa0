from django.http import HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from .selectors import branding_for_request

A_YEAR = 365 * 24 * 60 * 60
# An unversioned request (an old page, a proxy's revalidation) gets what is current now,
# and may keep it briefly.
FIVE_MINUTES = 5 * 60


@require_safe
def theme_css(request):
    """The site's colours as a style sheet, so that pages need no inline style.

    Pages link it as ``?v=<version of the content>``: a new colour is a new
    address, so a versioned response can be cached for a year. Values come from
    ``Branding``, which lets through nothing but ``#rrggbb`` colours.
    """
    branding = branding_for_request(request)
    etag = f'"{branding.theme_version}"'
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(branding.theme_css, content_type="text/css; charset=utf-8")
    response["ETag"] = etag
    if request.GET.get("v") == branding.theme_version:
        patch_cache_control(response, public=True, max_age=A_YEAR, immutable=True)
    else:
        patch_cache_control(response, public=True, max_age=FIVE_MINUTES)
    return response
