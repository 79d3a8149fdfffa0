"""Issuing receipts: render, download or email, and record every issue.

The first issue of a payment's receipt is the original; every later one is
printed "COPY — re-issued on <date>" and recorded as a copy. A database
constraint allows one original per payment, so two staff re-issuing at the
same moment cannot both produce an original.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from backoffice.payments.models import TAKEN_STATUSES, Payment

from . import rendering
from .models import IssueMethod, ReceiptIssue, ReceiptTemplate


def check_has_receipt(payment: Payment) -> None:
    """Raise a ``ValidationError`` saying why, if ``payment`` has no receipt to issue."""
    if payment.status not in TAKEN_STATUSES or not payment.receipt_number:
        raise ValidationError(
            f"{payment} has no receipt: only a payment whose money was taken has one "
            f"(this one is {payment.get_status_display().lower()}).",
            code="no_receipt",
        )


def receipt_template_for(payment: Payment, template: ReceiptTemplate | None = None):
    """The template to issue ``payment``'s receipt with: the one given, else the council's
    default, else ``None`` (the built-in receipt)."""
    if template is not None:
        if template.organisation_id != payment.organisation_id:
            raise ValidationError(
                f"The receipt template '{template}' belongs to another council.",
                code="template_of_another_council",
            )
        return template
    return ReceiptTemplate.objects.filter(
        organisation_id=payment.organisation_id, is_default=True
    ).first()


def receipt_render_html(payment: Payment, *, template=None, copy_issued_on=None) -> str:
    """The receipt of a taken payment as HTML, without recording an issue.

    ``copy_issued_on`` (a date) prints the receipt as a copy re-issued that day.
    """
    check_has_receipt(payment)
    look = rendering.TemplateLook.of(receipt_template_for(payment, template))
    return rendering.render_html(
        rendering.receipt_content(payment), look, copy_issued_on=copy_issued_on
    )


def _issue(payment, *, user, how, to_email="", template=None) -> tuple[ReceiptIssue, bytes]:
    """Render the receipt as original or copy and record the issue, in the caller's transaction."""
    check_has_receipt(payment)
    template = receipt_template_for(payment, template)
    look = rendering.TemplateLook.of(template)
    content = rendering.receipt_content(payment)
    issued_at = timezone.now()
    is_copy = ReceiptIssue.objects.filter(payment=payment).exists()
    while True:
        copy_issued_on = timezone.localdate(issued_at, rendering.UK) if is_copy else None
        pdf = rendering.render_pdf(
            rendering.render_html(content, look, copy_issued_on=copy_issued_on), look
        )
        try:
            with transaction.atomic():
                issue = ReceiptIssue.objects.create(
                    organisation_id=payment.organisation_id,
                    payment=payment,
                    issued_at=issued_at,
                    issued_by=user,
                    how=how,
                    to_email=to_email,
                    is_copy=is_copy,
                    template=template,
                    template_name=look.name,
                )
        except IntegrityError:
            if is_copy:
                raise
            # Someone issued the original a moment ago: this one is a copy.
            is_copy = True
            continue
        return issue, pdf


def receipt_filename(payment: Payment) -> str:
    """``receipt-BAR-00000123.pdf``."""
    return f"receipt-{payment.receipt_number}.pdf"


@transaction.atomic
def receipt_pdf(payment: Payment, *, user, template=None) -> bytes:
    """The receipt of a taken payment as a PDF to download; the issue is recorded.

    ``user`` is the member of staff issuing it, or ``None`` for the system
    (e.g. the payer downloading their own receipt after paying).
    """
    _issue_record, pdf = _issue(payment, user=user, how=IssueMethod.DOWNLOAD, template=template)
    return pdf


@transaction.atomic
def receipt_email(payment: Payment, to_email: str, *, user, template=None) -> ReceiptIssue:
    """Email the receipt of a taken payment, as a PDF attachment, to ``to_email``.

    The issue is recorded in the same transaction as the sending, so an email
    that could not be sent leaves no record of having been sent.
    """
    to_email = (to_email or "").strip()
    try:
        validate_email(to_email)
    except ValidationError as error:
        raise ValidationError(
            f"'{to_email}' is not an email address the receipt can be sent to.",
            code="invalid_email",
        ) from error
    issue, pdf = _issue(
        payment, user=user, how=IssueMethod.EMAIL, to_email=to_email, template=template
    )
    council = payment.organisation
    kind = "A copy of your receipt" if issue.is_copy else "Your receipt"
    message = EmailMessage(
        subject=f"{kind} {payment.receipt_number} from {council.name}",
        body=(
            f"{kind} {payment.receipt_number} for your payment to {council.name} "
            "is attached as a PDF.\n\n"
            + (f"Questions about this payment: {council.email}\n" if council.email else "")
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to_email],
        reply_to=[council.email] if council.email else None,
    )
    message.attach(receipt_filename(payment), pdf, "application/pdf")
    message.send()
    return issue
