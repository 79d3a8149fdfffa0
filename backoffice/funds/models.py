import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import cached_property
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel

from backoffice.money import PenceField, round_half_up
from backoffice.tenancy.models import TenantModel, TenantQuerySet

from . import references
from .references import CharacterSet, CheckDigitAlgorithm

code_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
    "Use letters, digits, dots, hyphens and underscores only, with no spaces.",
)


class Channel(models.TextChoices):
    """How money reaches the council."""

    ONLINE = "online", "Online"
    TELEPHONE = "telephone", "Telephone"
    FACE_TO_FACE = "face_to_face", "Face to face"
    CASH_RETURN = "cash_return", "Departmental cash return"
    BANK = "bank", "Bank transfer"
    IMPORT = "import", "File import"


# Money on these channels has already been received when the reference is
# checked, so a bad reference goes to suspense instead of being refused.
CHANNELS_WITH_MONEY_IN_HAND = frozenset(
    {Channel.TELEPHONE, Channel.FACE_TO_FACE, Channel.CASH_RETURN, Channel.BANK, Channel.IMPORT}
)


class Department(TenantModel):
    """A part of the council that owns fund codes (Revenues, Parking, Registrars...)."""

    code = models.CharField(max_length=20, validators=[code_validator])
    name = models.CharField(max_length=200)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "code"], name="funds_department_unique_code"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class VatCategory(models.TextChoices):
    STANDARD = "standard", "Standard rate"
    REDUCED = "reduced", "Reduced rate"
    ZERO = "zero", "Zero rate"
    EXEMPT = "exempt", "Exempt"
    OUTSIDE_SCOPE = "outside_scope", "Outside the scope of VAT"


# Categories whose rate is 0% by law, whatever the date.
ZERO_PERCENT_CATEGORIES = frozenset(
    {VatCategory.ZERO, VatCategory.EXEMPT, VatCategory.OUTSIDE_SCOPE}
)


class VatRateNotInForce(ValueError):
    """No percentage of this VAT rate was in force on the tax point date."""


class VatRate(TenantModel, ClusterableModel):
    """A VAT treatment with the percentages it has had over time.

    The percentage is chosen by the tax point date, so adding next year's rate
    never changes the VAT of a payment already taken.
    """

    code = models.CharField(
        max_length=10,
        validators=[code_validator],
        help_text="The code your ledger uses for this treatment, e.g. S, R, Z, E or O.",
    )
    name = models.CharField(max_length=100)
    category = models.CharField(max_length=20, choices=VatCategory.choices)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "code"], name="funds_vatrate_unique_code"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}: {self.name}"

    def _periods(self):
        # Read once per instance: every line of every payment asks, and the
        # percentages of a rate do not change while a request is served.
        if not hasattr(self, "_periods_cache"):
            self._periods_cache = list(self.periods.all())
        return self._periods_cache

    def percentage_today_display(self) -> str:
        try:
            return f"{self.percentage_on(timezone.localdate()).normalize():f}%"
        except VatRateNotInForce:
            return "not yet in force"

    def percentage_on(self, tax_point: datetime.date) -> Decimal:
        if self.category in ZERO_PERCENT_CATEGORIES:
            return Decimal("0")
        in_force = [period for period in self._periods() if period.effective_from <= tax_point]
        if not in_force:
            raise VatRateNotInForce(f"VAT rate {self} has no percentage in force on {tax_point}.")
        return max(in_force, key=lambda period: period.effective_from).percentage

    def vat_on_net(self, net_pence: int, tax_point: datetime.date) -> int:
        """VAT to add to a net amount, to the penny (half up)."""
        return round_half_up(Decimal(net_pence) * self.percentage_on(tax_point) / 100)

    def vat_in_gross(self, gross_pence: int, tax_point: datetime.date) -> int:
        """The VAT contained in a VAT-inclusive amount (the VAT fraction), to the penny."""
        percentage = self.percentage_on(tax_point)
        return round_half_up(Decimal(gross_pence) * percentage / (100 + percentage))


class VatRatePeriod(models.Model):
    vat_rate = ParentalKey(VatRate, on_delete=models.CASCADE, related_name="periods")
    effective_from = models.DateField(
        help_text="The first tax point date this percentage applies to."
    )
    percentage = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("99.99"))],
        help_text="For example 20 for 20%.",
    )

    class Meta:
        ordering = ["-effective_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["vat_rate", "effective_from"], name="funds_vatrateperiod_unique_date"
            ),
            models.CheckConstraint(
                condition=Q(percentage__gte=0) & Q(percentage__lt=100),
                name="funds_vatrateperiod_percentage_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.percentage}% from {self.effective_from:%d %B %Y}"


class ReferenceRule(TenantModel):
    """How to recognise a good reference for a fund: its shape and its check digit."""

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    example = models.CharField(
        max_length=50,
        blank=True,
        help_text="A valid reference shown to payers as an example; checked against this rule.",
    )
    strip_separators = models.BooleanField(
        default=True, help_text="Ignore spaces, hyphens, slashes, dots and underscores."
    )
    upper_case = models.BooleanField(
        default=True, help_text="Treat lower-case letters as capitals."
    )
    min_length = models.PositiveSmallIntegerField(null=True, blank=True)
    max_length = models.PositiveSmallIntegerField(null=True, blank=True)
    character_set = models.CharField(
        max_length=20,
        choices=[
            (member.value, member.value.replace("_", " ").capitalize()) for member in CharacterSet
        ],
        default=CharacterSet.ANY,
    )
    input_mask = models.CharField(
        max_length=50,
        blank=True,
        help_text=(
            "The shape of a reference: # a digit, ? a letter, * a letter or digit, @ the check "
            "character; anything else must appear as written. E.g. BJ#######@."
        ),
    )
    pattern = models.CharField(
        "regular expression",
        max_length=200,
        blank=True,
        help_text="Optional: a Python regular expression the whole reference must match.",
    )
    pattern_message = models.CharField(
        max_length=200,
        blank=True,
        help_text="What to tell the payer when the expression does not match.",
    )
    check_digit_algorithm = models.CharField(
        max_length=10,
        choices=[
            (CheckDigitAlgorithm.NONE, "No check digit"),
            (CheckDigitAlgorithm.WEIGHTED, "Weighted sum (modulus 11, 10, 97...)"),
            (CheckDigitAlgorithm.LUHN, "Luhn (modulus 10)"),
            (CheckDigitAlgorithm.MOD97, "ISO 7064 modulus 97-10 (two check digits)"),
        ],
        default=CheckDigitAlgorithm.NONE,
    )
    weights = models.CharField(
        max_length=100,
        blank=True,
        help_text=(
            "Weighted sum only: weights in reading order, e.g. 8,7,6,5,4,3,2. The last weight "
            "multiplies the digit before the check digit; they repeat for longer references."
        ),
    )
    modulus = models.PositiveSmallIntegerField(
        default=11, validators=[MinValueValidator(2), MaxValueValidator(997)]
    )
    subtract_from_modulus = models.BooleanField(
        default=False, help_text="The check digit is the modulus minus the remainder."
    )
    result_substitutions = models.CharField(
        max_length=100,
        blank=True,
        help_text="Results written as another character, e.g. 10=X, 11=0.",
    )
    prefix_substitutions = models.CharField(
        max_length=100,
        blank=True,
        help_text="Letter prefixes weighted as digits, e.g. BJ=21.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="funds_referencerule_unique_name"
            ),
            models.CheckConstraint(
                condition=Q(min_length__isnull=True)
                | Q(max_length__isnull=True)
                | Q(min_length__lte=models.F("max_length")),
                name="funds_referencerule_length_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        self.__dict__.pop("spec", None)
        errors = {}
        for field_name, parse in (
            ("weights", references.parse_weights),
            ("result_substitutions", references.parse_result_substitutions),
            ("prefix_substitutions", references.parse_prefix_substitutions),
        ):
            try:
                parse(getattr(self, field_name))
            except ValueError as error:
                errors[field_name] = str(error)
        if errors:
            raise ValidationError(errors)
        problems = references.validate_spec(self.spec)
        if problems:
            raise ValidationError(problems)
        if self.example:
            check = self.check_reference(self.example)
            if not check.is_valid:
                raise ValidationError(
                    {"example": f"The example fails this rule: {check.problems[0].message}"}
                )

    @cached_property
    def spec(self) -> references.ReferenceRuleSpec:
        """The rule as the reference checker reads it; built once per instance (every line of
        every payment asks), and built afresh by ``clean()`` after an edit."""
        return references.ReferenceRuleSpec(
            strip_separators=self.strip_separators,
            upper_case=self.upper_case,
            min_length=self.min_length,
            max_length=self.max_length,
            character_set=CharacterSet(self.character_set),
            input_mask=self.input_mask,
            pattern=self.pattern,
            pattern_message=self.pattern_message,
            check_digit=references.CheckDigitScheme(
                algorithm=CheckDigitAlgorithm(self.check_digit_algorithm),
                weights=references.parse_weights(self.weights),
                modulus=self.modulus,
                subtract_from_modulus=self.subtract_from_modulus,
                result_substitutions=references.parse_result_substitutions(
                    self.result_substitutions
                ),
                prefix_substitutions=references.parse_prefix_substitutions(
                    self.prefix_substitutions
                ),
            ),
        )

    def check_reference(self, raw: str) -> references.ReferenceCheck:
        return references.check_reference(raw, self.spec)


class FundGroup(TenantModel):
    """Fund codes gathered so that a department's staff see only their own."""

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    fund_codes = models.ManyToManyField("FundCode", related_name="groups", blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="funds_fundgroup_unique_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class FundCodeQuerySet(TenantQuerySet):
    def active(self):
        return self.filter(is_active=True)

    def accepting(self, channel: str):
        """Fund codes that take payments on ``channel``."""
        return self.filter(allowed_channels__icontains=f'"{channel}"')


class FundCode(TenantModel):
    """An income code: where money for one purpose lands in the council's ledger."""

    code = models.CharField(max_length=20, validators=[code_validator])
    name = models.CharField(max_length=200, help_text="The name finance staff know it by.")
    public_name = models.CharField(
        max_length=200, blank=True, help_text="The name payers see; the name is used if blank."
    )
    description = models.TextField(blank=True)
    gl_account_code = models.CharField(
        "ledger (GL) account code",
        max_length=30,
        blank=True,
        help_text="The general ledger account income on this fund is posted to.",
    )
    cost_centre = models.CharField(max_length=30, blank=True)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="fund_codes"
    )
    default_vat_rate = models.ForeignKey(
        VatRate,
        on_delete=models.PROTECT,
        related_name="fund_codes",
        verbose_name="default VAT rate",
    )
    vat_overridable = models.BooleanField("staff may change the VAT rate", default=False)
    reference_rule = models.ForeignKey(
        ReferenceRule,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="fund_codes",
        help_text="Leave blank to accept any reference.",
    )
    reference_must_exist = models.BooleanField(
        "reference must exist in the department's records",
        default=False,
        help_text="Ask the department's system whether the account exists before taking payment.",
    )
    overpayment_allowed = models.BooleanField(
        default=False, help_text="May a payer pay more than the department says is owed?"
    )
    collect_address = models.BooleanField("collect the payer's address", default=False)
    allowed_channels = models.JSONField(
        default=list,
        blank=True,
        help_text="The ways this fund may be paid.",
    )
    minimum_amount_pence = PenceField("minimum amount", null=True, blank=True)
    maximum_amount_pence = PenceField("maximum amount", null=True, blank=True)
    payer_message = models.TextField(
        "message to payers", blank=True, help_text="Shown to payers when they pay this fund."
    )
    is_active = models.BooleanField(default=True)
    is_suspense = models.BooleanField(
        "suspense fund",
        default=False,
        help_text="Money whose reference cannot be matched lands here until it is allocated.",
    )

    objects = FundCodeQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "code"], name="funds_fundcode_unique_code"
            ),
            models.UniqueConstraint(
                fields=["organisation"],
                condition=Q(is_suspense=True),
                name="funds_fundcode_one_suspense_fund",
                violation_error_message="This council already has a suspense fund.",
            ),
            models.CheckConstraint(
                condition=Q(minimum_amount_pence__isnull=True)
                | Q(maximum_amount_pence__isnull=True)
                | Q(minimum_amount_pence__lte=models.F("maximum_amount_pence")),
                name="funds_fundcode_amount_range",
                violation_error_message="The minimum amount is more than the maximum.",
            ),
        ]
        indexes = [models.Index(fields=["organisation", "is_active", "code"])]

    def __str__(self) -> str:
        return f"{self.code}: {self.name}"

    def clean(self):
        unknown = sorted(set(self.allowed_channels or []) - set(Channel.values))
        if unknown:
            raise ValidationError({"allowed_channels": f"Unknown channels: {', '.join(unknown)}."})

    @property
    def display_name(self) -> str:
        return self.public_name or self.name

    def accepts_channel(self, channel: str) -> bool:
        return channel in (self.allowed_channels or [])

    def check_reference(self, raw: str) -> references.ReferenceCheck:
        """The reference checked against this fund's rule (any reference passes with no rule)."""
        if self.reference_rule is None:
            reference = (raw or "").strip()
            return references.ReferenceCheck(raw=raw, reference=reference, problems=())
        return self.reference_rule.check_reference(raw)


class ServiceQuerySet(TenantQuerySet):
    def active(self):
        return self.filter(is_active=True, fund_code__is_active=True)


class Pricing(models.TextChoices):
    FIXED = "fixed", "Fixed price"
    VARIABLE = "variable", "The payer enters the amount"


class Service(TenantModel):
    """Something the public pays for, such as a replacement wheelie bin."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, help_text="Used in the address of its payment page.")
    fund_code = models.ForeignKey(FundCode, on_delete=models.PROTECT, related_name="services")
    description = models.TextField(blank=True)
    pricing = models.CharField(max_length=10, choices=Pricing.choices, default=Pricing.VARIABLE)
    price_pence = PenceField(
        "price",
        null=True,
        blank=True,
        help_text="For a fixed price: what the payer pays, VAT included.",
    )
    vat_rate = models.ForeignKey(
        VatRate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="services",
        verbose_name="VAT rate",
        help_text="Leave blank to use the fund code's default VAT rate.",
    )
    is_active = models.BooleanField(default=True)

    objects = ServiceQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "slug"], name="funds_service_unique_slug"
            ),
            models.CheckConstraint(
                condition=Q(pricing="variable") | Q(price_pence__isnull=False),
                name="funds_service_fixed_price_has_price",
                violation_error_message="A fixed-price service needs its price.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def effective_vat_rate(self) -> VatRate:
        return self.vat_rate or self.fund_code.default_vat_rate
