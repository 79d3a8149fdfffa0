"""Which code speaks to each payment provider about refunds.

A payment's ``provider`` is the key of the council's integration that took
it; the integration's plugin sends the refund (``ims_provider_refund``).
Code may also register a gateway for a provider name directly (a card
terminal's own software, tests). A refund of a payment whose provider has
neither is rejected, never guessed: it posts nothing and says why.
"""

from collections.abc import Callable

_REFUND_GATEWAYS: dict[str, Callable] = {}


def register_refund_gateway(provider: str, gateway: Callable) -> None:
    _REFUND_GATEWAYS[provider] = gateway


def unregister_refund_gateway(provider: str) -> None:
    _REFUND_GATEWAYS.pop(provider, None)


def _through_plugin(refund):
    from plugins.online import NoProvider, provider_integration, refund_send

    from .services import RefundOutcome

    payment = refund.payment
    try:
        integration = provider_integration(payment.organisation, payment.provider)
    except NoProvider:
        return RefundOutcome(
            accepted=False,
            message=(
                f"No enabled payment provider integration named '{payment.provider}' "
                "is installed to send the refund."
            ),
        )
    return refund_send(integration=integration, refund=refund)


def refund_gateway(provider: str) -> Callable:
    return _REFUND_GATEWAYS.get(provider, _through_plugin)
