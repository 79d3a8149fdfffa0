"""Receipt templates a council edits, and the record of every receipt issued.

What a receipt must say (the supplier, VAT number, receipt number, time of
supply, lines, VAT per rate, total) is fixed in code; a template only adds
the council's own words, logo and colour around it. See docs/receipts.md.
"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator, RegexValidator
from django.db import models
from django.db.models import Q
from wagtail.fields import RichTextField

from backoffice.tenancy.models import TenantModel

# What staff may put in a template's heading, body and footer, and what each becomes.
# A fixed set, substituted by ``placeholders.substitute``: staff text is never
# rendered as a Django template, so it cannot reach anything not listed here.
PLACEHOLDERS: dict[str, str] = {
    "payer_name": "The payer's name, if the payment has one",
    "receipt_number": "The receipt number, e.g. BAR-00000123",
    "council_name": "Your council's name",
    "date": "The date the money was taken, e.g. 3 March 2025",
    "time": "The time the money was taken (UK time), e.g. 14:05",
    "total": "The total paid, e.g. £240.00",
    "payment_method": "How it was paid, e.g. Card",
    "council_email": "Your council's email address for payment queries",
    "council_telephone": "Your council's telephone number",
    "council_website": "Your council's website",
}

PLACEHOLDER_PATTERN = re.compile(r"\{([a-z_]+)\}")

# Rich text staff may use: words and structure, nothing that loads a file.
RICH_TEXT_FEATURES = ["bold", "italic", "h2", "h3", "h4", "ol", "ul", "link"]

DEFAULT_COLOUR = "#0b0c0c"
colour_validator = RegexValidator(
    r"^#[0-9a-fA-F]{6}$", "Give a colour as # and six hexadecimal digits, e.g. #1d70b8."
)


def unknown_placeholders(text: str) -> list[str]:
    """Placeholders in ``text`` that are not in ``PLACEHOLDERS``, in order of appearance."""
    found = PLACEHOLDER_PATTERN.findall(text or "")
    return list(dict.fromkeys(name for name in found if name not in PLACEHOLDERS))


def _logo_path(instance, filename):
    return f"receipts/logos/{instance.organisation_id}/{filename}"


class ReceiptTemplate(TenantModel):
    """A council's look and wording of its receipts: heading, words, logo, footer, colour."""

    name = models.CharField(max_length=100, help_text="For staff, e.g. 'Standard receipt'.")
    is_default = models.BooleanField(
        "use for every receipt",
        default=False,
        help_text="The template every receipt is issued with. Only one template can be it; "
        "with none, the built-in receipt is used.",
    )
    heading = models.CharField(
        max_length=200,
        default="Receipt",
        help_text="The title at the top of the receipt; placeholders such as {council_name} "
        "may be used.",
    )
    body = RichTextField(
        features=RICH_TEXT_FEATURES,
        blank=True,
        help_text="Words printed above the receipt's details, e.g. 'Thank you for your payment, "
        "{payer_name}.' Placeholders are listed below.",
    )
    footer = RichTextField(
        features=RICH_TEXT_FEATURES,
        blank=True,
        help_text="Words printed at the foot of the receipt, e.g. how to ask about a payment.",
    )
    logo = models.ImageField(
        upload_to=_logo_path,
        blank=True,
        validators=[FileExtensionValidator(["png", "jpg", "jpeg"])],
        help_text="A PNG or JPEG of your council's logo, printed at the top left.",
    )
    colour = models.CharField(
        max_length=7,
        default=DEFAULT_COLOUR,
        validators=[colour_validator],
        help_text="The colour of the heading and rules, e.g. #1d70b8.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="receipts_template_unique_name"
            ),
            models.UniqueConstraint(
                fields=["organisation"],
                condition=Q(is_default=True),
                name="receipts_template_one_default",
                violation_error_message="Another of your templates is already used for every "
                "receipt: untick it there first.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        errors = {}
        for field_name in ("heading", "body", "footer"):
            unknown = unknown_placeholders(getattr(self, field_name))
            if unknown:
                errors[field_name] = (
                    "There is no placeholder "
                    + ", ".join("{" + name + "}" for name in unknown)
                    + ". Use one of: "
                    + ", ".join("{" + name + "}" for name in PLACEHOLDERS)
                    + "."
                )
        if errors:
            raise ValidationError(errors)


class IssueMethod(models.TextChoices):
    DOWNLOAD = "download", "Downloaded"
    EMAIL = "email", "Emailed"


class AppendOnlyError(RuntimeError):
    """A receipt issue is a record of something that happened: it is never changed."""


class ReceiptIssue(TenantModel):
    """One time a payment's receipt was issued: downloaded or emailed, by whom, when.

    Append-only. The first issue of a payment's receipt is the original;
    every later one is printed as a copy with the date it was re-issued.
    """

    payment = models.ForeignKey(
        "payments.Payment", on_delete=models.PROTECT, related_name="receipt_issues"
    )
    issued_at = models.DateTimeField()
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Blank when the system issued it, e.g. to the payer when they paid.",
    )
    how = models.CharField(max_length=10, choices=IssueMethod.choices)
    to_email = models.EmailField(blank=True)
    is_copy = models.BooleanField()
    template = models.ForeignKey(
        ReceiptTemplate,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="issues",
    )
    # Kept as written at the time: the template may later be renamed or deleted.
    template_name = models.CharField(max_length=100)

    class Meta:
        ordering = ["issued_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(how="email") & ~Q(to_email="")) | (Q(how="download") & Q(to_email="")),
                name="receipts_issue_email_has_address",
            ),
            # Only the first issue is the original: the database, not a check
            # before inserting, settles two staff issuing at the same moment.
            models.UniqueConstraint(
                fields=["organisation", "payment"],
                condition=Q(is_copy=False),
                name="receipts_issue_one_original",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "payment", "issued_at"])]

    def __str__(self) -> str:
        kind = "copy" if self.is_copy else "original"
        return f"{self.payment} {kind} {self.get_how_display().lower()} {self.issued_at:%Y-%m-%d}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("A receipt issue is never changed once recorded.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("A receipt issue is never deleted.")
