"""GOV.UK Pay's words for a payment's state, in the system's words: pure functions, no I/O.

GOV.UK Pay reports a payment's ``state`` as a ``status`` and, once it has
failed, a ``code`` saying why. Its statuses, and the codes of a finished
payment that did not succeed, are documented in its API reference
("Payment status lifecycle" and "API error codes").
"""

from backoffice.payments.models import PaymentStatus

# state.status → the system's payment status.
STATUS_TABLE: dict[str, str] = {
    # The payer may still pay: nothing is recorded yet.
    "created": PaymentStatus.IN_PROGRESS,
    "started": PaymentStatus.IN_PROGRESS,
    "submitted": PaymentStatus.IN_PROGRESS,
    # Authorised but waiting for the service to capture it (delayed capture,
    # which this plugin never asks for): the money is not taken yet.
    "capturable": PaymentStatus.IN_PROGRESS,
    "success": PaymentStatus.SUCCESS,
    "failed": PaymentStatus.FAILED,
    # Cancelled by the service through the API or the admin tool (code P0040).
    "cancelled": PaymentStatus.CANCELLED,
    # The payment service provider answered with an error (code P0050).
    "error": PaymentStatus.ERROR,
}

# The statuses of a finished payment that did not succeed; each has a code.
UNSUCCESSFUL_STATUSES = frozenset({"failed", "cancelled", "error"})

# A "failed" payment's state.code says more precisely why it did not happen.
FAILED_CODE_TABLE: dict[str, str] = {
    "P0010": PaymentStatus.FAILED,  # payment method rejected (card declined)
    "P0020": PaymentStatus.EXPIRED,  # the payer did not finish within 90 minutes
    "P0030": PaymentStatus.CANCELLED,  # the payer chose "Cancel payment"
}


def payment_status(status: str, code: str = "") -> str:
    """The system's status for GOV.UK Pay's ``state.status`` and ``state.code``.

    A status this plugin does not know (GOV.UK Pay may add one) counts as
    still in progress: the payment is left open and asked about again, and
    nothing is posted on a guess.
    """
    mapped = STATUS_TABLE.get((status or "").strip().lower(), PaymentStatus.IN_PROGRESS)
    if mapped == PaymentStatus.FAILED:
        return FAILED_CODE_TABLE.get((code or "").strip().upper(), PaymentStatus.FAILED)
    return mapped


def provider_status(state: dict) -> str:
    """GOV.UK Pay's own words for a state, kept on the record: ``failed (P0030)``."""
    status = str(state.get("status") or "unknown")
    code = state.get("code")
    # GOV.UK Pay gives a code only for payments that did not succeed.
    return f"{status} ({code})" if code and status in UNSUCCESSFUL_STATUSES else status


# Webhook event types that report the payment's outcome. Their message's
# ``resource.state`` says the outcome precisely; the status here is used when
# a message comes without one.
OUTCOME_EVENTS: dict[str, str] = {
    "card_payment_succeeded": PaymentStatus.SUCCESS,
    "card_payment_captured": PaymentStatus.SUCCESS,
    "card_payment_failed": PaymentStatus.FAILED,
    "card_payment_expired": PaymentStatus.EXPIRED,
}

# Every other event (card_payment_started, card_payment_refunded,
# card_payment_settled, and any GOV.UK Pay adds later) is recorded as seen
# and changes no payment: refunds are recorded when staff ask for them, and
# settlements are read with ``ims_provider_settlements``.


def event_status(event_type: str, state: dict | None) -> str:
    """The payment status a webhook event reports, or ``""`` if it changes nothing.

    An outcome event whose state is somehow still in progress changes
    nothing either: the periodic check will ask GOV.UK Pay itself.
    """
    default = OUTCOME_EVENTS.get(event_type)
    if default is None:
        return ""
    if state and state.get("status"):
        status = payment_status(state["status"], state.get("code", ""))
    else:
        status = default
    return "" if status == PaymentStatus.IN_PROGRESS else status
