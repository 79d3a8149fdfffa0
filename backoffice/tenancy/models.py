from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models

from backoffice.funds.references import vat_registration_number_is_valid
from backoffice.money import PenceField

organisation_code_validator = RegexValidator(
    r"^[a-z0-9][a-z0-9-]{1,39}$",
    "Use 2 to 40 lower-case letters, digits and hyphens, e.g. 'barsetshire'.",
)


class WebAddressField(models.URLField):
    """A web address; typed without a scheme (``www.council.gov.uk``) it is taken as https."""

    def formfield(self, **kwargs):
        return super().formfield(**{"assume_scheme": "https", **kwargs})


def validate_vat_registration_number(value: str) -> None:
    if value and not vat_registration_number_is_valid(value):
        raise ValidationError(
            "This is not a valid UK VAT registration number: it should be GB followed by "
            "9 digits (or 12 for a branch) whose check digits add up.",
            code="invalid_vat_number",
        )


class Organisation(models.Model):
    """A council: the owner of fund codes, payments and users."""

    code = models.SlugField(
        max_length=40,
        unique=True,
        validators=[organisation_code_validator],
        help_text="Short name used on the command line and in file names, e.g. 'barsetshire'.",
    )
    name = models.CharField(max_length=200, unique=True)
    address_line_1 = models.CharField(max_length=200)
    address_line_2 = models.CharField(max_length=200, blank=True)
    town = models.CharField(max_length=100)
    postcode = models.CharField(max_length=10)
    vat_registration_number = models.CharField(
        "VAT registration number",
        max_length=20,
        blank=True,
        validators=[validate_vat_registration_number],
        help_text="Printed on VAT receipts, e.g. GB 123 4567 89.",
    )
    email = models.EmailField(blank=True, help_text="Where payers can write about a payment.")
    telephone = models.CharField(max_length=30, blank=True)
    website = WebAddressField(blank=True)
    receipt_prefix = models.CharField(
        max_length=10,
        blank=True,
        validators=[RegexValidator(r"^[A-Z0-9]*$", "Use capital letters and digits only.")],
        help_text="Put before every receipt number, e.g. BAR gives BAR-00000123.",
    )
    journal_approval_threshold_pence = PenceField(
        "journals needing a second person above",
        default=100_000,
        help_text="A journal of more than this must be approved by someone other than who asked.",
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        permissions = [
            ("change_own_council", "Can change their own council's details, receipts and limits"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def address(self) -> str:
        parts = [self.address_line_1, self.address_line_2, self.town, self.postcode]
        return ", ".join(part for part in parts if part)


class MembershipQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True, organisation__is_active=True)


class Membership(models.Model):
    """A member of staff belongs to a council; what they may do there comes from their roles."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    fund_groups = models.ManyToManyField(
        "funds.FundGroup",
        blank=True,
        related_name="memberships",
        help_text=(
            "If any are chosen, this person sees only payments with a line in these fund "
            "groups. A Department user sees only their fund groups' payments, and none "
            "until some are chosen."
        ),
    )

    objects = MembershipQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "user"], name="tenancy_membership_unique_user"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} at {self.organisation}"


class TenantQuerySet(models.QuerySet):
    """Every tenant-owned query starts here: one council's rows and no other's."""

    def for_organisation(self, organisation):
        if organisation is None:
            return self.none()
        return self.filter(organisation=organisation)


class TenantModel(models.Model):
    """A row that belongs to exactly one council.

    ``organisation`` comes first in every composite index of a tenant table so
    that a council's rows stay together (and could later be sharded by it).
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", editable=False
    )

    objects = TenantQuerySet.as_manager()

    class Meta:
        abstract = True
