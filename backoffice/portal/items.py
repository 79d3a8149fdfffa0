"""Whether a page may take a payment now, and whether a reference and amount are good.

Read only. The same checks run when the payer adds an item, when "Check your
answers" shows it and when "Pay" takes it: a fund can close, a price change
or a page move while the payer is busy, and nothing in the payer's request is
trusted (the price of a fixed-price service always comes from the database).
The messages are the payer's: precise, and in the GOV.UK style.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError

from backoffice.funds.models import Channel, FundCode, Service
from backoffice.money import format_pence, parse_pounds
from backoffice.payments.services import LineInput
from plugins import departments

from .basket import Item
from .models import PaymentsHomePage, ServicePage

NON_FIELD = "__all__"
AMOUNT_FORMAT = "Enter an amount in pounds and pence, like 12.50"
AMOUNT_REQUIRED = "Enter the amount you want to pay"


@dataclass(frozen=True)
class CheckedItem:
    """An item that passed every check, with the fund, service and price as they are now."""

    page: ServicePage
    fund: FundCode
    service: Service | None
    reference: str
    amount_pence: int

    @property
    def description(self) -> str:
        return self.page.description

    def basket_item(self, item_id: str) -> Item:
        return Item(
            id=item_id,
            page_id=self.page.pk,
            fund_id=self.fund.pk,
            service_id=self.service.pk if self.service else None,
            reference=self.reference,
            amount_pence=self.amount_pence,
            description=self.description,
        )

    def line(self) -> LineInput:
        return LineInput(
            fund_code=self.fund,
            amount_pence=self.amount_pence,
            account_reference=self.reference,
            service=self.service,
        )


def lower_first(label: str) -> str:
    # "Council tax account number" reads "your council tax account number"; "PCN" stays.
    if len(label) > 1 and label[:2].isupper():
        return label
    return label[:1].lower() + label[1:]


def page_problem(*, home: PaymentsHomePage, page: ServicePage) -> str | None:
    """Why ``page`` cannot take a payment for ``home``'s council now; ``None`` if it can."""
    what = page.description
    if not page.live:
        return f"{what} can no longer be paid for online."
    parent = page.get_parent()
    if parent is None or parent.pk != home.pk:
        return f"{what} cannot be paid for on this site."
    if not home.organisation.is_active:
        return f"{home.organisation.name} is not taking payments online at the moment."
    if page.setup_problems(home.organisation):
        # An editor's mistake (say, a fund of another council): the payer is told plainly
        # and no money is taken; the editor sees the reason when they open the page.
        return (
            "This cannot be paid for online at the moment because of a problem with this "
            f"page. Nothing has been taken. Contact {home.organisation.name} to pay."
        )
    fund = page.fund
    if not fund.is_active or (page.service is not None and not page.service.is_active):
        return f"{what} cannot be paid for online at the moment."
    if not fund.accepts_channel(Channel.ONLINE):
        return f"{what} cannot be paid for online."
    return None


def check_reference(*, home: PaymentsHomePage, page: ServicePage, raw: str) -> str:
    """The reference as the fund's rule writes it; ``ValidationError`` saying what is wrong."""
    raw = (raw or "").strip()
    if not page.asks_for_reference:
        return ""
    if not raw:
        if page.reference_question == "optional":
            return ""
        raise ValidationError(
            f"Enter your {lower_first(page.reference_label)}", code="reference_required"
        )
    if len(raw) > 100:
        raise ValidationError(
            f"{page.reference_label} must be 100 characters or fewer", code="reference_long"
        )
    fund = page.fund
    check = fund.check_reference(raw)
    if not check.is_valid:
        problem = check.problems[0]
        if problem.code == "required":
            raise ValidationError(
                f"Enter your {lower_first(page.reference_label)}", code="reference_required"
            )
        raise ValidationError(problem.message, code=f"reference_{problem.code}")
    # The department's records: asked as the payment itself will ask, so that the payer
    # hears now, not after entering their details, that the account is unknown.
    verdict = departments.reference_verdict(
        organisation=home.organisation, fund_code=fund, reference=check.reference
    )
    if verdict is not None and not verdict.valid:
        raise ValidationError(
            verdict.reason
            or f"{check.reference} is not a {lower_first(page.reference_label)} we know. "
            "Check it against your letter or bill.",
            code="reference_unknown",
        )
    return check.reference


def parse_amount(text: str | None) -> int:
    """Pounds as typed ("£12.50", "12.5", "12") to pence; ``ValidationError`` if not an amount."""
    text = (text or "").strip()
    if not text:
        raise ValidationError(AMOUNT_REQUIRED, code="amount_required")
    try:
        pence = parse_pounds(text)
    except ValueError:
        raise ValidationError(AMOUNT_FORMAT, code="amount_format") from None
    if pence <= 0:
        raise ValidationError("Enter an amount more than £0.00", code="amount_not_positive")
    return pence


def check_amount(*, page: ServicePage, amount_pence: int) -> int:
    """``amount_pence`` if it is within the page's and fund's limits; else ``ValidationError``."""
    if amount_pence < page.minimum_pence:
        raise ValidationError(
            f"The amount must be {format_pence(page.minimum_pence)} or more",
            code="amount_too_small",
        )
    maximum = page.maximum_pence
    if maximum is not None and amount_pence > maximum:
        raise ValidationError(
            f"The amount must be {format_pence(maximum)} or less", code="amount_too_large"
        )
    return amount_pence


def check_item(
    *,
    home: PaymentsHomePage,
    page: ServicePage,
    reference: str,
    amount_text: str | None = None,
    amount_pence: int | None = None,
) -> CheckedItem:
    """Every check on one item; ``ValidationError`` with a message per field otherwise.

    The amount comes as the payer typed it (``amount_text``) or in pence from the
    basket (``amount_pence``). For a fixed-price service it is the price, whatever
    is given: a different amount given for one is refused, never used.
    """
    problem = page_problem(home=home, page=page)
    if problem:
        raise ValidationError({NON_FIELD: [ValidationError(problem, code="page_unavailable")]})
    errors: dict[str, list[ValidationError]] = {}
    try:
        checked_reference = check_reference(home=home, page=page, raw=reference)
    except ValidationError as error:
        errors["reference"] = [error]
    if page.is_fixed_price:
        price = page.service.price_pence
        offered = amount_pence
        if amount_text not in (None, ""):
            try:
                offered = parse_pounds(amount_text)
            except ValueError:
                offered = -1
        if offered is not None and offered != price:
            errors[NON_FIELD] = [
                ValidationError(
                    f"The price of {page.description} is {format_pence(price)}. "
                    "It cannot be changed.",
                    code="fixed_price",
                )
            ]
        checked_amount = price
    else:
        try:
            checked_amount = check_amount(
                page=page,
                amount_pence=parse_amount(amount_text) if amount_pence is None else amount_pence,
            )
        except ValidationError as error:
            errors["amount"] = [error]
    if errors:
        raise ValidationError(errors)
    return CheckedItem(
        page=page,
        fund=page.fund,
        service=page.service if page.service_id else None,
        reference=checked_reference,
        amount_pence=checked_amount,
    )


def recheck(*, home: PaymentsHomePage, item: Item) -> CheckedItem:
    """A basket item checked again, as it would be paid now.

    A fixed price that has changed since the item was added is not an error:
    the item is paid at the new price, which the caller shows to the payer
    before taking it. Anything else wrong raises ``ValidationError``.
    """
    page = (
        ServicePage.objects.live()
        .filter(pk=item.page_id)
        .select_related("service__fund_code", "fund_code")
        .first()
    )
    if page is None:
        raise ValidationError(
            f"{item.description} can no longer be paid for online.", code="page_unavailable"
        )
    if page.fund is None or page.fund.pk != item.fund_id or page.service_id != item.service_id:
        raise ValidationError(
            f"{item.description} has changed since you added it. Remove it and add it again.",
            code="page_changed",
        )
    try:
        return check_item(
            home=home,
            page=page,
            reference=item.reference,
            amount_pence=None if page.is_fixed_price else item.amount_pence,
        )
    except ValidationError as error:
        messages = [message for messages in error.message_dict.values() for message in messages]
        raise ValidationError(
            f"{item.description}: {' '.join(messages)}", code="item_invalid"
        ) from error
