"""GOV.UK Pay webhook messages: check they came from GOV.UK Pay, then read them.

GOV.UK Pay signs every message: its ``Pay-Signature`` header is the
lower-case hexadecimal HMAC-SHA256 of the raw request body, keyed with the
webhook's signing secret (both UTF-8). Messages arrive at least once and in
any order; the system applies each message id once.
"""

import hashlib
import hmac
import json

from plugins.types import CallbackEvent, InvalidCallback

from .mapping import event_status, provider_status

SIGNATURE_HEADER = "Pay-Signature"
# What the system can record of a message (ProviderEvent.event_id and
# provider_reference); GOV.UK Pay's own ids are 26 characters.
MAX_MESSAGE_ID = 200
MAX_RESOURCE_ID = 100


def signature_for(body: bytes, secret: str) -> str:
    """The ``Pay-Signature`` GOV.UK Pay sends with ``body`` when signing with ``secret``."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def signature_is_valid(body: bytes, signature: str | None, secret: str) -> bool:
    """Is ``signature`` GOV.UK Pay's signature of ``body``? Compared in constant time.

    A missing signature or secret is never valid.
    """
    if not signature or not secret:
        return False
    expected = signature_for(body, secret).encode("ascii")
    # Bytes, so that a header with characters outside ASCII is simply wrong
    # rather than an error.
    return hmac.compare_digest(expected, signature.strip().encode("utf-8", "replace"))


def verify(body: bytes, headers, secret: str) -> None:
    """Raise ``InvalidCallback`` unless ``body`` is signed by GOV.UK Pay with ``secret``."""
    if not secret:
        raise InvalidCallback(
            "No webhook signing secret is set for this integration, so no webhook can be "
            "trusted: copy it from the GOV.UK Pay admin tool into the integration's settings."
        )
    signature = headers.get(SIGNATURE_HEADER)
    if not signature:
        raise InvalidCallback(f"The {SIGNATURE_HEADER} header is missing.")
    if not signature_is_valid(body, signature, secret):
        raise InvalidCallback(
            f"The {SIGNATURE_HEADER} header does not match the message: it was not signed "
            "with this integration's webhook signing secret, or the message was changed."
        )


def read_message(body: bytes) -> CallbackEvent:
    """Read a (verified) webhook message into the event it reports.

    Raises ``InvalidCallback`` for a body that is not a GOV.UK Pay webhook
    message: not JSON, or without a message id or a payment id.
    """
    try:
        message = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidCallback(f"The webhook body is not JSON: {error}.") from None
    if not isinstance(message, dict):
        raise InvalidCallback("The webhook body is not a JSON object.")
    # The documented example calls the id "webhook_message_id"; the table of
    # attributes beside it calls it "id". Either identifies the message.
    message_id = message.get("webhook_message_id") or message.get("id")
    resource_id = message.get("resource_id")
    if not isinstance(message_id, str) or not 0 < len(message_id) <= MAX_MESSAGE_ID:
        raise InvalidCallback(
            f"The webhook message has no webhook_message_id of 1 to {MAX_MESSAGE_ID} characters."
        )
    if not isinstance(resource_id, str) or not 0 < len(resource_id) <= MAX_RESOURCE_ID:
        raise InvalidCallback(
            f"The webhook message has no resource_id of 1 to {MAX_RESOURCE_ID} characters."
        )
    event_type = str(message.get("event_type") or "")
    resource = message.get("resource") if isinstance(message.get("resource"), dict) else {}
    state = resource.get("state") if isinstance(resource.get("state"), dict) else {}
    is_payment = message.get("resource_type", "payment") == "payment"
    amount = resource.get("amount")
    return CallbackEvent(
        event_id=message_id,
        provider_reference=resource_id,
        status=event_status(event_type, state) if is_payment else "",
        provider_status=provider_status(state) if state else "",
        event_type=event_type,
        # The payment's amount (not a refund's): checked against the payment's total.
        amount_pence=amount if is_payment and type(amount) is int else None,
    )
