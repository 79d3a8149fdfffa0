"""The public payment pages: a council's payments home, a page per thing to pay, and checkouts.

Editors build the pages in Wagtail's page explorer; the payer's basket lives in
their session (``basket.py``). A ``Checkout`` is written when the payer presses
"Pay": it ties the payment to the basket it was made from, so that pressing
"Pay" twice, or coming back to it, finds the same payment (docs/public-pages.md).
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.functional import cached_property
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel
from wagtail.contrib.routable_page.models import RoutablePageMixin, path
from wagtail.fields import RichTextField
from wagtail.models import Page

from backoffice.funds.models import FundCode, Pricing, Service
from backoffice.money import PenceField, format_pence
from backoffice.tenancy.models import Organisation, TenantModel

from .admin_forms import PaymentsHomePageForm, ServicePageForm

# What editors may use in the pages' words: structure and links, nothing that loads a file.
RICH_TEXT_FEATURES = ["bold", "italic", "h2", "h3", "ol", "ul", "link"]


class PaymentsHomePage(RoutablePageMixin, Page):
    """A council's payments home: what can be paid, and the basket's pages.

    It is the root of the council's Wagtail Site, so the public site finds its
    council from the host name; every page under it takes money for this council only.
    """

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="council",
        help_text="The council this site takes payments for. Every page under it pays this "
        "council's funds.",
    )
    intro = RichTextField(
        features=RICH_TEXT_FEATURES,
        blank=True,
        help_text="A few words above the list of things that can be paid.",
    )
    payment_provider = models.CharField(
        max_length=50,
        blank=True,
        help_text="The integration that takes the card payments. Blank uses the council's "
        "payment provider, when it has exactly one.",
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("organisation"),
        FieldPanel("intro"),
        FieldPanel("payment_provider"),
    ]

    base_form_class = PaymentsHomePageForm
    parent_page_types = ["wagtailcore.Page"]
    subpage_types = ["portal.ServicePage"]
    template = "portal/payments_home_page.html"

    class Meta:
        verbose_name = "payments home"

    def service_pages(self):
        """The live, public pages under this home, in the editor's order."""
        return ServicePage.objects.child_of(self).live().public().order_by("path")

    @path("basket/")
    def basket_page(self, request):
        from . import views

        return views.basket(request, home=self)

    @path("basket/remove/")
    def basket_remove(self, request):
        from . import views

        return views.basket_remove(request, home=self)

    @path("your-details/")
    def your_details(self, request):
        from . import views

        return views.your_details(request, home=self)

    @path("check-your-answers/")
    def check_your_answers(self, request):
        from . import views

        return views.check_your_answers(request, home=self)

    @path("")
    def index_route(self, request, *args, **kwargs):
        from . import views

        return views.home(request, home=self)


class ReferenceQuestion(models.TextChoices):
    REQUIRED = "required", "Ask for a reference, which the payer must give"
    OPTIONAL = "optional", "Ask for a reference, which the payer may leave blank"
    NONE = "none", "Do not ask for a reference"


class ServicePage(RoutablePageMixin, Page):
    """One thing the public can pay for: a service (fixed or variable price) or a fund."""

    service = models.ForeignKey(
        Service,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="What is paid for. Choose a service, or else a fund code.",
    )
    fund_code = models.ForeignKey(
        FundCode,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="For a page that pays a fund rather than a service, e.g. council tax.",
    )
    summary = models.CharField(
        max_length=255,
        blank=True,
        help_text="One sentence under the page's link on the payments home.",
    )
    intro = RichTextField(
        features=RICH_TEXT_FEATURES,
        blank=True,
        help_text="What the payer needs to know before starting: what they will need, "
        "what happens after they pay.",
    )
    reference_question = models.CharField(
        max_length=10,
        choices=ReferenceQuestion.choices,
        default=ReferenceQuestion.REQUIRED,
    )
    reference_label = models.CharField(
        max_length=100,
        default="Reference",
        help_text="The question, e.g. 'Council tax account number'.",
    )
    reference_hint = models.CharField(
        max_length=255,
        blank=True,
        help_text="Where the payer finds it, e.g. 'The 9-digit number at the top of your bill'.",
    )
    amount_hint = models.CharField(
        max_length=255,
        blank=True,
        help_text="Shown under the amount, e.g. 'The amount on your bill'.",
    )
    minimum_amount_pence = PenceField(
        "minimum amount",
        null=True,
        blank=True,
        help_text="The least a payer may pay on this page. Blank uses the fund code's minimum; "
        "it cannot be less than that.",
    )
    maximum_amount_pence = PenceField(
        "maximum amount",
        null=True,
        blank=True,
        help_text="The most a payer may pay on this page. Blank uses the fund code's maximum; "
        "it cannot be more than that.",
    )

    content_panels = [
        *Page.content_panels,
        MultiFieldPanel(
            [FieldPanel("service"), FieldPanel("fund_code")],
            heading="What is paid for",
        ),
        FieldPanel("summary"),
        FieldPanel("intro"),
        MultiFieldPanel(
            [
                FieldPanel("reference_question"),
                FieldPanel("reference_label"),
                FieldPanel("reference_hint"),
            ],
            heading="Reference",
        ),
        MultiFieldPanel(
            [
                FieldPanel("amount_hint"),
                FieldRowPanel(
                    [FieldPanel("minimum_amount_pence"), FieldPanel("maximum_amount_pence")]
                ),
            ],
            heading="Amount (for a service the payer enters the amount of)",
        ),
    ]

    base_form_class = ServicePageForm
    parent_page_types = ["portal.PaymentsHomePage"]
    subpage_types = []
    template = "portal/service_page.html"

    class Meta:
        verbose_name = "service payment page"
        constraints = [
            models.CheckConstraint(
                condition=Q(minimum_amount_pence__isnull=True)
                | Q(maximum_amount_pence__isnull=True)
                | Q(minimum_amount_pence__lte=models.F("maximum_amount_pence")),
                name="portal_servicepage_amount_range",
                violation_error_message="The minimum amount is more than the maximum.",
            ),
        ]

    @property
    def fund(self) -> FundCode | None:
        """The fund the money lands in: the service's, or the page's own."""
        if self.service_id is not None:
            return self.service.fund_code
        return self.fund_code

    @property
    def is_fixed_price(self) -> bool:
        return self.service_id is not None and self.service.pricing == Pricing.FIXED

    @property
    def description(self) -> str:
        """What the payer is paying for, as the basket and receipt name it."""
        if self.service_id is not None:
            return self.service.name
        return self.fund.display_name if self.fund else self.title

    @property
    def asks_for_reference(self) -> bool:
        return self.reference_question != ReferenceQuestion.NONE

    @property
    def minimum_pence(self) -> int:
        """The least the payer may pay here: the page's and the fund's limits together."""
        limits = [1]
        fund = self.fund
        if fund is not None and fund.minimum_amount_pence is not None:
            limits.append(fund.minimum_amount_pence)
        if self.minimum_amount_pence is not None:
            limits.append(self.minimum_amount_pence)
        return max(limits)

    @property
    def maximum_pence(self) -> int | None:
        limits = []
        fund = self.fund
        if fund is not None and fund.maximum_amount_pence is not None:
            limits.append(fund.maximum_amount_pence)
        if self.maximum_amount_pence is not None:
            limits.append(self.maximum_amount_pence)
        return min(limits) if limits else None

    @cached_property
    def home(self) -> PaymentsHomePage | None:
        parent = self.get_parent()
        return parent.specific if parent is not None else None

    def setup_problems(self, organisation) -> list[str]:
        """What stops this page taking money for ``organisation``, in the editor's words."""
        return page_setup_problems(
            organisation=organisation,
            service=self.service if self.service_id else None,
            fund_code=self.fund_code if self.fund_code_id else None,
            reference_question=self.reference_question,
            minimum_amount_pence=self.minimum_amount_pence,
            maximum_amount_pence=self.maximum_amount_pence,
        )

    def clean(self):
        super().clean()
        # A page in the tree knows its council from its home; a new one is told it by the
        # editor's form, which knows the parent it is being added under.
        organisation = getattr(self, "checked_for_organisation", None)
        if organisation is None and self.pk is not None:
            home = self.home
            organisation = home.organisation if isinstance(home, PaymentsHomePage) else None
        if organisation is not None:
            problems = self.setup_problems(organisation)
            if problems:
                raise ValidationError(problems)

    @path("pay/")
    def question(self, request):
        from . import views

        return views.question(request, page=self)

    @path("")
    def index_route(self, request, *args, **kwargs):
        from . import views

        return views.start(request, page=self)


def page_setup_problems(
    *,
    organisation,
    service: Service | None,
    fund_code: FundCode | None,
    reference_question: str,
    minimum_amount_pence: int | None,
    maximum_amount_pence: int | None,
) -> list[str]:
    """Why a service page set up this way cannot take money for ``organisation``; empty if none.

    Checked when the page is saved and again at every payment, since a fund can
    be closed or a page moved after it was published.
    """
    if service is None and fund_code is None:
        return ["Choose the service or the fund code this page takes payments for."]
    problems = []
    if service is not None and service.organisation_id != organisation.pk:
        problems.append(f"The service '{service}' belongs to another council.")
    if fund_code is not None and fund_code.organisation_id != organisation.pk:
        problems.append(f"The fund code '{fund_code}' belongs to another council.")
    if problems:
        return problems
    if service is not None and fund_code is not None and service.fund_code_id != fund_code.pk:
        problems.append(
            f"The service '{service}' is paid to {service.fund_code.code}, not {fund_code.code}: "
            "choose the service only."
        )
    fund = service.fund_code if service is not None else fund_code
    if fund.is_suspense:
        problems.append("The suspense fund cannot be paid online.")
    if not fund.accepts_channel("online"):
        problems.append(
            f"The fund code {fund.code} does not take online payments: tick 'Online' in its "
            "allowed channels first."
        )
    if (fund.reference_rule_id or fund.reference_must_exist) and (
        reference_question != ReferenceQuestion.REQUIRED
    ):
        problems.append(
            f"The fund code {fund.code} checks references, so the page must ask for one "
            "and the payer must give it."
        )
    if service is None or service.pricing != Pricing.FIXED:
        if (
            minimum_amount_pence is not None
            and fund.minimum_amount_pence is not None
            and minimum_amount_pence < fund.minimum_amount_pence
        ):
            problems.append(
                f"The minimum amount cannot be less than the fund code's, "
                f"{format_pence(fund.minimum_amount_pence)}."
            )
        if (
            maximum_amount_pence is not None
            and fund.maximum_amount_pence is not None
            and maximum_amount_pence > fund.maximum_amount_pence
        ):
            problems.append(
                f"The maximum amount cannot be more than the fund code's, "
                f"{format_pence(fund.maximum_amount_pence)}."
            )
    return problems


class Checkout(TenantModel):
    """A basket the payer pressed "Pay" for: its payment, and where the payer was sent.

    One per basket token: the token is the payment's idempotency key, so
    pressing "Pay" again (a double click, the back button, a second tab) finds
    this checkout and sends the payer to the same provider page, never a second one.
    """

    payment = models.OneToOneField(
        "payments.Payment", on_delete=models.PROTECT, related_name="portal_checkout"
    )
    home = models.ForeignKey(
        PaymentsHomePage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    basket_token = models.CharField(max_length=64)
    items = models.JSONField(
        default=list, help_text="The basket as it was paid for, so that it can be tried again."
    )
    provider_url = models.URLField(
        max_length=2000,
        blank=True,
        help_text="The provider's page the payer was sent to, to send them back to it.",
    )
    receipt_emailed_to = models.EmailField(blank=True)
    receipt_emailed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "basket_token"], name="portal_checkout_unique_token"
            ),
        ]

    def __str__(self) -> str:
        return f"Checkout of {self.payment}"
