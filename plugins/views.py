import logging

from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import online
from .models import Integration
from .types import InvalidCallback, PluginKind, ProviderError

logger = logging.getLogger(__name__)


def payment_return(request, token):
    """Where a provider sends the payer back: the public pages' outcome page says what
    happened and what to do next (``backoffice.portal.views.outcome``)."""
    from backoffice.portal.views import outcome

    return outcome(request, token)


@csrf_exempt
@require_POST
def provider_callback(request, public_id):
    """A provider's webhook: verified by its plugin, applied once per event."""
    integration = get_object_or_404(
        Integration.objects.enabled().select_related("organisation"), public_id=public_id
    )
    if PluginKind.PAYMENT_PROVIDER not in online.manager.plugin_info(integration.plugin).kinds:
        raise Http404("Not a payment provider integration.")
    try:
        result = online.callback_receive(
            integration=integration, body=request.body, headers=request.headers
        )
    except InvalidCallback as error:
        logger.warning("Callback for %s refused: %s", integration.key, error)
        return HttpResponseBadRequest(f"Callback refused: {error}", content_type="text/plain")
    except ProviderError as error:
        # Tell the provider to send it again later.
        logger.warning("Callback for %s could not be applied: %s", integration.key, error)
        return HttpResponse(status=503)
    return HttpResponse(
        f"applied {result.applied}, repeated {result.repeated}", content_type="text/plain"
    )
