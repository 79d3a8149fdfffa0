"""IVR endpoints (being built)."""

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt
def check(request, public_id):
    return HttpResponse(status=501)


@csrf_exempt
def outcome(request, public_id):
    return HttpResponse(status=501)
