import logging

from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from backoffice.money import format_pence
from backoffice.payments.models import PaymentStatus

from . import online
from .models import Integration
from .types import InvalidCallback, PluginKind, ProviderError

logger = logging.getLogger(__name__)


def payment_return(request, token):
    """Where a provider sends the payer back: find out what happened and say so."""
    payment = online.payment_for_return_token(token)
    if payment is None:
        raise Http404("This payment link is not valid or has expired.")
    checking_failed = False
    try:
        payment = online.payment_refresh(payment)
    except (ProviderError, online.NoProvider) as error:
        # The periodic check will settle it; the payer is told we are checking.
        logger.warning("Payment %s not settled on return: %s", payment.pk, error)
        checking_failed = True
    return render(
        request,
        "plugins/payment_return.html",
        {
            "payment": payment,
            "amount": format_pence(payment.total_pence),
            "succeeded": payment.status == PaymentStatus.SUCCESS,
            "pending": payment.status in online.SETTLEABLE,
            "checking_failed": checking_failed,
        },
    )


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
