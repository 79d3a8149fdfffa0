"""Which code speaks to each payment provider about refunds.

Provider plugins register a refund gateway under the provider's name. A
refund of a payment whose provider has no gateway here is rejected, never
guessed: it posts nothing and says why.
"""

from collections.abc import Callable

_REFUND_GATEWAYS: dict[str, Callable] = {}


def register_refund_gateway(provider: str, gateway: Callable) -> None:
    _REFUND_GATEWAYS[provider] = gateway


def unregister_refund_gateway(provider: str) -> None:
    _REFUND_GATEWAYS.pop(provider, None)


def refund_gateway(provider: str) -> Callable:
    from .services import RefundOutcome

    gateway = _REFUND_GATEWAYS.get(provider)
    if gateway is not None:
        return gateway

    def unavailable(refund):
        return RefundOutcome(
            accepted=False,
            message=(
                f"No payment provider plugin named '{provider}' is installed to send the refund."
            ),
        )

    return unavailable
