"""What the rest of the system asks of, and tells, a council's departmental systems.

Each call goes to every enabled integration of a departmental plugin of the
council. A department's system is a helper, not a gatekeeper: an error in
one is logged and never stops a payment (see each function for why).
"""

import logging
import time

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .exports import departmental_integrations
from .manager import call
from .models import Integration
from .types import ReferenceVerdict

logger = logging.getLogger(__name__)

# Every payment line asks this, so the answer "which departmental systems does
# the council have" is kept for a short while rather than read per line: a change
# made here is seen at once, one made in another process within this time.
REMEMBER_SECONDS = 30
_remembered: dict[int, tuple[float, list]] = {}


def _integrations(organisation) -> list:
    now = time.monotonic()
    found = _remembered.get(organisation.pk)
    if found is None or now - found[0] > REMEMBER_SECONDS:
        found = (now, departmental_integrations(organisation))
        _remembered[organisation.pk] = found
    return found[1]


@receiver(post_save, sender=Integration)
@receiver(post_delete, sender=Integration)
def _forget(sender, instance, **kwargs):
    _remembered.pop(instance.organisation_id, None)


def reference_verdict(*, organisation, fund_code, reference: str) -> ReferenceVerdict | None:
    """What the council's departmental systems say about a reference for a fund code.

    ``fund_code`` is the ``FundCode``. The first integration (by key) that
    finds the reference invalid decides; otherwise a valid verdict if any
    integration gave one, or ``None`` if none has an opinion (none looks
    after the fund, or reference checking is off).

    A plugin that raises is logged and counted as having no opinion. The
    reference has already passed the fund's own rule, and a payment refused
    because a department's system is down costs the council the money and the
    payer their time; a reference that turns out wrong is found when the
    department reconciles its payment file, and put right with a journal.
    """
    valid = None
    for integration in _integrations(organisation):
        try:
            verdict = call(
                integration.plugin,
                "ims_reference_validate",
                integration=integration,
                fund_code=fund_code,
                reference=reference,
            )
        except Exception:
            logger.exception(
                "Departmental integration %s of %s could not check reference %r for %s; "
                "taken as no opinion.",
                integration.key,
                organisation.code,
                reference,
                getattr(fund_code, "code", fund_code),
            )
            continue
        if not isinstance(verdict, ReferenceVerdict):
            continue
        if not verdict.valid:
            return verdict
        valid = valid or verdict
    return valid


def _tell(organisation, hook_name: str, **kwargs) -> None:
    for integration in _integrations(organisation):
        try:
            call(integration.plugin, hook_name, integration=integration, **kwargs)
        except Exception:
            # The money has moved and is committed; a department that missed the news
            # still gets it in the next day's files.
            logger.exception(
                "Departmental integration %s of %s failed in %s.",
                integration.key,
                organisation.code,
                hook_name,
            )


def notify_payment_taken(payment) -> None:
    """Tell each of the council's departmental systems that ``payment`` succeeded.

    Call it once the payment is committed, with
    ``transaction.on_commit(lambda: notify_payment_taken(payment))``; errors
    are logged, never raised.
    """
    _tell(payment.organisation, "ims_payment_taken", payment=payment)


def notify_refund_completed(refund) -> None:
    """Tell each of the council's departmental systems that ``refund`` was paid back.

    Call it after commit, as ``notify_payment_taken``; errors are logged, never raised.
    """
    _tell(refund.organisation, "ims_refund_completed", refund=refund)
