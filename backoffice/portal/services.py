"""The public payment pages' writes: paying for a basket, and emailing its receipt once.

A basket is paid for as one online payment of one line per item. Its token is
the payment's idempotency key, so the same basket paid twice (a double click,
the back button, two tabs) is one payment, handed to the provider once: the
checkout's row is locked while the provider is asked, and a second request
waits, then finds the provider's address the first one stored.
"""

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from backoffice.funds.models import Channel
from backoffice.money import format_pence
from backoffice.payments.idempotency import IdempotencyConflict
from backoffice.payments.models import Method, Payment, PaymentStatus
from backoffice.payments.services import Payer, payment_create
from backoffice.receipts.services import receipt_email
from plugins import online

from . import selectors
from .basket import Basket
from .items import CheckedItem, recheck
from .models import Checkout, PaymentsHomePage

logger = logging.getLogger(__name__)

IDEMPOTENCY_PREFIX = "portal:"


class BasketProblems(ValidationError):
    """Items of the basket that cannot be paid for as they are; one message per problem."""


class BasketChanged(ValidationError):
    """The basket's token was used for other content: it has a new token; check again."""


class PriceChanged(ValidationError):
    """A fixed price changed since the payer last saw it: they must see the new total first."""


class CannotTakePayments(ValidationError):
    """The site has no payment provider it can send the payer to."""


@dataclass(frozen=True)
class CheckedBasket:
    items: list[CheckedItem]

    @property
    def total_pence(self) -> int:
        return sum(item.amount_pence for item in self.items)


def basket_check(*, home: PaymentsHomePage, basket: Basket) -> CheckedBasket:
    """Every item checked again as it would be paid now; ``BasketProblems`` listing any faults."""
    if not basket.items:
        raise BasketProblems("Your basket is empty.", code="basket_empty")
    checked, problems = [], []
    for item in basket.items:
        try:
            checked.append(recheck(home=home, item=item))
        except ValidationError as error:
            problems.extend(error.messages)
    if problems:
        raise BasketProblems(problems)
    return CheckedBasket(checked)


def basket_reprice(*, basket: Basket, checked: CheckedBasket) -> list[str]:
    """Bring the basket's amounts up to date with ``checked``; what changed, for the payer.

    Only a fixed price can change under the payer; a changed item changes the
    basket's token, so the new total is a new payment.
    """
    changes = []
    for item, now in zip(basket.items, checked.items, strict=True):
        if item.amount_pence != now.amount_pence:
            changes.append(now)
            basket.replace(now.basket_item(item.id))
    return [
        f"The price of {now.description} is now {format_pence(now.amount_pence)}."
        for now in changes
    ]


def provider_key(home: PaymentsHomePage) -> str:
    """The integration the home's payments go through; ``CannotTakePayments`` if none can."""
    providers = selectors.payment_providers(home.organisation)
    if home.payment_provider:
        if any(integration.key == home.payment_provider for integration in providers):
            return home.payment_provider
        logger.error(
            "Payments home %s names provider '%s', which is not an enabled payment provider of %s.",
            home.pk,
            home.payment_provider,
            home.organisation.code,
        )
    elif len(providers) == 1:
        return providers[0].key
    else:
        logger.error(
            "Payments home %s has no payment provider set and %s has %d enabled.",
            home.pk,
            home.organisation.code,
            len(providers),
        )
    raise CannotTakePayments(
        "Sorry, payments cannot be taken online at the moment. No money has been taken. "
        "Try again later.",
        code="no_provider",
    )


def _payer(basket: Basket) -> Payer:
    return Payer(**{name: basket.payer.get(name, "") for name in Payer.__dataclass_fields__})


def checkout_pay(
    *,
    home: PaymentsHomePage,
    basket: Basket,
    return_url_for: Callable[[Payment], str],
) -> Checkout:
    """Pay for ``basket``: its payment, created once, handed to the provider once.

    Raises ``BasketProblems`` (an item cannot be paid for now), ``PriceChanged``
    (the payer must see the new total; the basket has been updated),
    ``BasketChanged`` or ``CannotTakePayments``, having written nothing; and
    ``plugins.types.ProviderError`` or ``plugins.online.NoProvider`` when the
    provider cannot start the payment: the payment and its checkout are then
    written but still *created*, and paying again (the same token) starts that
    same payment; if nobody does, the periodic check closes it as expired.
    """
    existing = Checkout.objects.filter(
        organisation=home.organisation, basket_token=basket.token
    ).first()
    if existing is None:
        checked = basket_check(home=home, basket=basket)
        changes = basket_reprice(basket=basket, checked=checked)
        if changes:
            raise PriceChanged(changes, code="price_changed")
        checkout = _checkout_create(home=home, basket=basket, checked=checked)
    else:
        checkout = existing
    return _checkout_begin(checkout=checkout, return_url_for=return_url_for)


def _checkout_create(*, home, basket: Basket, checked: CheckedBasket) -> Checkout:
    provider = provider_key(home)
    with transaction.atomic():
        try:
            payment = payment_create(
                organisation=home.organisation,
                channel=Channel.ONLINE,
                method=Method.CARD,
                lines=[item.line() for item in checked.items],
                payer=_payer(basket),
                provider=provider,
                idempotency_key=IDEMPOTENCY_PREFIX + basket.token,
            )
        except IdempotencyConflict as error:
            # The same basket token with other content: something the payment reads
            # changed between two presses of "Pay". A new token makes it a new basket.
            basket.restore(basket.items, basket.payer)
            raise BasketChanged(
                "Something in your basket changed while you were paying. Check your answers again.",
                code="basket_changed",
            ) from error
        checkout, _ = Checkout.objects.get_or_create(
            organisation=home.organisation,
            payment=payment,
            defaults={
                "home": home,
                "basket_token": basket.token,
                "items": [
                    asdict(checked_item.basket_item(basket_item.id))
                    for checked_item, basket_item in zip(checked.items, basket.items, strict=True)
                ],
            },
        )
    return checkout


def _checkout_begin(*, checkout: Checkout, return_url_for) -> Checkout:
    with transaction.atomic():
        checkout = (
            Checkout.objects.select_for_update()
            .select_related("payment__organisation")
            .get(pk=checkout.pk)
        )
        payment = checkout.payment
        if payment.status == PaymentStatus.CREATED and not checkout.provider_url:
            checkout.provider_url = online.payment_begin(
                payment=payment, return_url=return_url_for(payment)
            )
            checkout.save(update_fields=["provider_url"])
            payment.refresh_from_db()
    return checkout


def checkout_receipt_email(*, checkout: Checkout) -> str | None:
    """Email the payer their receipt, once: the address it went to, or ``None`` if it did not.

    The checkout's row is locked while sending, so the payer reloading the page,
    a second tab and a callback can never send it twice. A failure to send is
    logged and tried again the next time the outcome is shown.
    """
    with transaction.atomic():
        checkout = (
            Checkout.objects.select_for_update()
            .select_related("payment__organisation")
            .get(pk=checkout.pk)
        )
        if checkout.receipt_emailed_at is not None:
            return checkout.receipt_emailed_to
        payment = checkout.payment
        if not payment.payer_email or not payment.receipt_number:
            return None
        try:
            receipt_email(payment, payment.payer_email, user=None)
        except Exception:
            logger.exception("The receipt of payment %s could not be emailed.", payment.pk)
            return None
        checkout.receipt_emailed_to = payment.payer_email
        checkout.receipt_emailed_at = timezone.now()
        checkout.save(update_fields=["receipt_emailed_to", "receipt_emailed_at"])
        return checkout.receipt_emailed_to


# The page editors ----------------------------------------------------------------------------

# What the council's finance administrators may do in its payments site: add, edit and
# publish its pages. The hooks in wagtail_hooks.py keep each council to its own site.
EDITOR_PAGE_PERMISSIONS = ("add_page", "change_page", "publish_page")


def payments_home_grant_editors(*, home: PaymentsHomePage) -> None:
    """Let the finance administrators edit the pages under ``home`` (their council's site).

    The role is one group for every council; the page explorer's hooks show each
    member only the site of the council they act for.
    """
    from django.contrib.auth.models import Group, Permission
    from wagtail.models import GroupPagePermission

    from backoffice.accounts.roles import FINANCE_ADMINISTRATOR

    group = Group.objects.filter(name=FINANCE_ADMINISTRATOR).first()
    if group is None:
        return
    permissions = Permission.objects.filter(
        content_type__app_label="wagtailcore", codename__in=EDITOR_PAGE_PERMISSIONS
    )
    for permission in permissions:
        GroupPagePermission.objects.get_or_create(group=group, page=home, permission=permission)
