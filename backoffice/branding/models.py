"""How a council's payment pages look: a Wagtail site setting, one per public site.

A council's finance administrators edit it under Settings, Payment pages
branding; see docs/public-pages-theming.md. Everything here is optional: a
site with no branding shows the council's name and contact details in GOV.UK
Frontend's own colours.
"""

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseSiteSetting, register_setting
from wagtail.models import Orderable

from .colours import check_text_contrast, hex_colour_validator

DEFAULT_BRAND_COLOUR = "#1d70b8"
DEFAULT_HEADER_TEXT_COLOUR = "#ffffff"
DEFAULT_LINK_COLOUR = "#1d70b8"
# Links sit on the white page and on the light grey of the service bar under the header;
# a colour that reads on the grey reads on white too.
LINK_BACKGROUND_COLOUR = "#f3f2f1"

_web_address = URLValidator(schemes=["http", "https"])


def validate_link(value: str) -> None:
    """A web address (http or https) or a path on this site, and nothing else.

    Links are shown to the public: a ``javascript:`` or ``data:`` address would
    run in their browser, so only these two forms are let through.
    """
    if value.startswith("/") and not value.startswith("//"):
        if any(character.isspace() for character in value):
            raise ValidationError("A path on this site cannot contain spaces.", code="invalid_link")
        return
    try:
        _web_address(value)
    except ValidationError:
        raise ValidationError(
            "Give a web address starting https:// (or http://), or a path on this site "
            "starting with /, e.g. /accessibility/.",
            code="invalid_link",
        ) from None


class LinkField(models.CharField):
    default_validators = [validate_link]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 500)
        super().__init__(*args, **kwargs)


class Phase(models.TextChoices):
    NONE = "", "No phase banner"
    ALPHA = "alpha", "Alpha"
    BETA = "beta", "Beta"


@register_setting(icon="image")
class PortalBranding(ClusterableModel, BaseSiteSetting):
    """A council's name, logo, colours, contact details and links on its payment pages."""

    service_name = models.CharField(
        max_length=100,
        blank=True,
        help_text="Shown at the top of every page and in the browser tab, e.g. "
        "'Pay Barsetshire Council'. Left blank: 'Pay' and the council's name.",
    )
    council_name = models.CharField(
        max_length=200,
        blank=True,
        help_text="The council's name as the public know it. Left blank: the name in "
        "Council settings.",
    )
    logo = models.ForeignKey(
        "wagtailimages.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Shown in the header on the brand colour, at most 60 pixels high. Without "
        "one, the header shows the council's name.",
    )
    logo_alt_text = models.CharField(
        "logo alternative text",
        max_length=200,
        blank=True,
        help_text="What the logo says, for people who cannot see it, e.g. 'Barsetshire "
        "Council'. It is the text of the link to the payments home page.",
    )
    brand_colour = models.CharField(
        max_length=7,
        default=DEFAULT_BRAND_COLOUR,
        validators=[hex_colour_validator],
        help_text="The header's background, e.g. #1d70b8.",
    )
    header_text_colour = models.CharField(
        max_length=7,
        default=DEFAULT_HEADER_TEXT_COLOUR,
        validators=[hex_colour_validator],
        help_text="The header's text on the brand colour: at least 4.5:1 contrast with it.",
    )
    link_colour = models.CharField(
        max_length=7,
        default=DEFAULT_LINK_COLOUR,
        validators=[hex_colour_validator],
        help_text="Links, on white and on the light grey (#f3f2f1) under the header: at "
        "least 4.5:1 contrast with the grey.",
    )
    telephone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    postal_address = models.TextField(blank=True, help_text="One line of the address a line.")
    opening_hours = models.TextField(
        blank=True, help_text="When the telephone is answered, e.g. 'Monday to Friday, 9am to 5pm'."
    )
    accessibility_statement_url = LinkField(
        "accessibility statement",
        blank=True,
        help_text="A web address, or a path on this site such as /accessibility/.",
    )
    privacy_notice_url = LinkField("privacy notice", blank=True)
    cookies_url = LinkField("cookies", blank=True)
    phase = models.CharField(
        max_length=10,
        choices=Phase.choices,
        default=Phase.NONE,
        blank=True,
        help_text="A banner saying the service is new, while it is.",
    )
    phase_banner_text = models.CharField(
        max_length=300,
        blank=True,
        help_text="e.g. 'This is a new service. Help us improve it by telling us what you "
        "think.' Shown only with a phase.",
    )

    panels = [
        MultiFieldPanel(
            [
                FieldPanel("service_name"),
                FieldPanel("council_name"),
                FieldPanel("logo"),
                FieldPanel("logo_alt_text"),
            ],
            heading="Name and logo",
        ),
        MultiFieldPanel(
            [
                FieldRowPanel(
                    [
                        FieldPanel("brand_colour"),
                        FieldPanel("header_text_colour"),
                        FieldPanel("link_colour"),
                    ]
                ),
            ],
            heading="Colours",
            help_text="Written as # and six hexadecimal digits. Pairs that people with low "
            "vision could not read (below WCAG AA's 4.5:1 contrast) are refused.",
        ),
        MultiFieldPanel(
            [
                FieldRowPanel([FieldPanel("telephone"), FieldPanel("email")]),
                FieldPanel("postal_address"),
                FieldPanel("opening_hours"),
            ],
            heading="Contact details",
            help_text="Shown in every page's footer. Left blank, each comes from Council settings.",
        ),
        MultiFieldPanel(
            [
                FieldPanel("accessibility_statement_url"),
                FieldPanel("privacy_notice_url"),
                FieldPanel("cookies_url"),
            ],
            heading="Statements and notices",
        ),
        InlinePanel("footer_links", heading="Footer links", label="Footer link"),
        MultiFieldPanel(
            [FieldPanel("phase"), FieldPanel("phase_banner_text")],
            heading="Phase banner",
        ),
    ]

    class Meta:
        verbose_name = "payment pages branding"
        verbose_name_plural = "payment pages branding"
        permissions = [
            (
                "change_own_council_branding",
                "Can change the payment pages branding of their own council's sites",
            ),
        ]

    def __str__(self) -> str:
        return f"Payment pages branding of {self.site}"

    @classmethod
    def get_permission_policy(cls):
        from .permissions import CouncilSitePermissionPolicy

        return CouncilSitePermissionPolicy(cls)

    COLOURS = ("brand_colour", "header_text_colour", "link_colour")

    def clean_fields(self, exclude=None):
        # " #1D70B8" is the colour #1d70b8: kept one way, so that it is checked and
        # compared one way.
        for name in self.COLOURS:
            setattr(self, name, (getattr(self, name) or "").strip().lower())
        super().clean_fields(exclude=exclude)

    def clean(self):
        super().clean()
        errors = {}
        valid = {
            name for name in self.COLOURS if hex_colour_validator.regex.match(getattr(self, name))
        }
        if {"brand_colour", "header_text_colour"} <= valid:
            try:
                check_text_contrast(
                    text=self.header_text_colour,
                    background=self.brand_colour,
                    what="The header text colour on the brand colour",
                )
            except ValidationError as error:
                errors["header_text_colour"] = error
        if "link_colour" in valid:
            try:
                check_text_contrast(
                    text=self.link_colour,
                    background=LINK_BACKGROUND_COLOUR,
                    what="The link colour on the light grey of the service bar",
                )
            except ValidationError as error:
                errors["link_colour"] = error
        if self.logo_id and not self.logo_alt_text.strip():
            errors["logo_alt_text"] = ValidationError(
                "Say what the logo shows for people who cannot see it, e.g. the council's name.",
                code="required",
            )
        if errors:
            raise ValidationError(errors)


class FooterLink(Orderable):
    """A link in the footer of every payment page, after the statements and notices."""

    branding = ParentalKey(PortalBranding, on_delete=models.CASCADE, related_name="footer_links")
    label = models.CharField(max_length=100, help_text="The link's text, e.g. 'Contact us'.")
    url = LinkField("address", help_text="A web address, or a path on this site.")

    panels = [FieldRowPanel([FieldPanel("label"), FieldPanel("url")])]

    def __str__(self) -> str:
        return self.label
