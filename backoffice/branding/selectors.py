"""Reads about a site's branding: what its public pages show, with defaults for what is unset."""

import hashlib
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import NoReverseMatch, reverse
from django.utils.functional import cached_property
from wagtail.models import Site

from backoffice.tenancy.models import Organisation

from .colours import HEX_COLOUR
from .models import (
    DEFAULT_BRAND_COLOUR,
    DEFAULT_HEADER_TEXT_COLOUR,
    DEFAULT_LINK_COLOUR,
    Phase,
    PortalBranding,
    validate_link,
)


def organisation_for_site(site: Site | None) -> Organisation | None:
    """The council whose payment pages a site serves: its home page's ``organisation``."""
    if site is None:
        return None
    organisation = getattr(site.root_page.specific, "organisation", None)
    return organisation if isinstance(organisation, Organisation) else None


def site_ids_for_organisations(organisation_ids) -> list[int]:
    """The sites whose home page belongs to one of these councils."""
    wanted = set(organisation_ids)
    if not wanted:
        return []
    return [
        site.pk
        for site in Site.objects.select_related("root_page")
        if getattr(site.root_page.specific, "organisation_id", None) in wanted
    ]


def _colour(value: str, default: str) -> str:
    # The model refuses anything else; a value written around it (a bad import, a
    # hand-edited row) must still never reach the style sheet as anything but a colour.
    value = (value or "").strip().lower()
    return value if HEX_COLOUR.match(value) else default


def _link(value: str) -> str:
    # As with colours: a link that would not pass the model's rule is never shown.
    try:
        validate_link(value or "")
    except ValidationError:
        return ""
    return value


def shade(colour: str, amount: float) -> str:
    """``colour`` mixed with black: darker, so never less readable on white."""
    channels = (int(colour[index : index + 2], 16) for index in (1, 3, 5))
    return "#" + "".join(f"{round(channel * (1 - amount)):02x}" for channel in channels)


@dataclass(frozen=True)
class FooterLinkItem:
    label: str
    url: str


@dataclass(frozen=True)
class Branding:
    """What a public page shows of its council; every field has a usable value."""

    service_name: str
    council_name: str
    home_url: str = "/"
    logo: object = None
    logo_alt_text: str = ""
    brand_colour: str = DEFAULT_BRAND_COLOUR
    header_text_colour: str = DEFAULT_HEADER_TEXT_COLOUR
    link_colour: str = DEFAULT_LINK_COLOUR
    telephone: str = ""
    email: str = ""
    postal_address: tuple[str, ...] = ()
    opening_hours: str = ""
    accessibility_statement_url: str = ""
    privacy_notice_url: str = ""
    cookies_url: str = ""
    footer_links: tuple[FooterLinkItem, ...] = ()
    phase: str = ""
    phase_banner_text: str = ""
    organisation: Organisation | None = field(default=None, compare=False)

    @property
    def phase_label(self) -> str:
        return Phase(self.phase).label if self.phase in Phase.values else ""

    @property
    def has_contact_details(self) -> bool:
        return bool(self.telephone or self.email or self.postal_address or self.opening_hours)

    @property
    def has_support_links(self) -> bool:
        return bool(
            self.accessibility_statement_url
            or self.privacy_notice_url
            or self.cookies_url
            or self.footer_links
        )

    @cached_property
    def theme_css(self) -> str:
        """The site's colours as CSS custom properties, read by portal.css."""
        link = self.link_colour
        return (
            ":root {\n"
            f"  --ims-brand-colour: {self.brand_colour};\n"
            f"  --ims-header-text-colour: {self.header_text_colour};\n"
            f"  --ims-link-colour: {link};\n"
            f"  --ims-link-hover-colour: {shade(link, 0.4)};\n"
            "}\n"
        )

    @cached_property
    def theme_version(self) -> str:
        return hashlib.sha256(self.theme_css.encode()).hexdigest()[:16]

    @cached_property
    def theme_css_url(self) -> str:
        """Where the theme is served, versioned by its content so it can be cached for good.

        Empty when the theme's URL is not in the URLconf: pages then show GOV.UK
        Frontend's own colours rather than fail.
        """
        try:
            return f"{reverse('branding_theme_css')}?v={self.theme_version}"
        except NoReverseMatch:
            return ""


def _address_lines(text: str) -> tuple[str, ...]:
    return tuple(line.strip() for line in (text or "").splitlines() if line.strip())


def branding_for_site(site: Site | None, *, request=None) -> Branding:
    """The branding of ``site``: its PortalBranding, filled in from its council and defaults.

    Reads only: a site with no branding row gets defaults without one being created.
    """
    organisation = organisation_for_site(site)
    setting = (
        PortalBranding.objects.select_related("logo")
        .prefetch_related("footer_links")
        .filter(site=site)
        .first()
        if site is not None
        else None
    )
    council_name = (
        (setting.council_name if setting else "")
        or (organisation.name if organisation else "")
        or (site.site_name if site else "")
        or settings.WAGTAIL_SITE_NAME
    )
    if setting and setting.service_name:
        service_name = setting.service_name
    elif organisation or setting:
        service_name = f"Pay {council_name}"
    else:
        service_name = "Pay online"
    home_url = "/"
    if site is not None:
        home_url = site.root_page.get_url(request=request) or "/"
    from_council = {
        "telephone": organisation.telephone if organisation else "",
        "email": organisation.email if organisation else "",
        "postal_address": _address_lines(
            "\n".join(
                [
                    organisation.address_line_1,
                    organisation.address_line_2,
                    organisation.town,
                    organisation.postcode,
                ]
            )
            if organisation
            else ""
        ),
    }
    if setting is None:
        return Branding(
            service_name=service_name,
            council_name=council_name,
            home_url=home_url,
            organisation=organisation,
            **from_council,
        )
    return Branding(
        service_name=service_name,
        council_name=council_name,
        home_url=home_url,
        logo=setting.logo,
        logo_alt_text=setting.logo_alt_text or council_name,
        brand_colour=_colour(setting.brand_colour, DEFAULT_BRAND_COLOUR),
        header_text_colour=_colour(setting.header_text_colour, DEFAULT_HEADER_TEXT_COLOUR),
        link_colour=_colour(setting.link_colour, DEFAULT_LINK_COLOUR),
        telephone=setting.telephone or from_council["telephone"],
        email=setting.email or from_council["email"],
        postal_address=_address_lines(setting.postal_address) or from_council["postal_address"],
        opening_hours=setting.opening_hours,
        accessibility_statement_url=_link(setting.accessibility_statement_url),
        privacy_notice_url=_link(setting.privacy_notice_url),
        cookies_url=_link(setting.cookies_url),
        footer_links=tuple(
            FooterLinkItem(label=link.label, url=_link(link.url))
            for link in setting.footer_links.all()
            if _link(link.url)
        ),
        phase=setting.phase,
        phase_banner_text=setting.phase_banner_text,
        organisation=organisation,
    )


def branding_for_request(request) -> Branding:
    """The branding of the site a public request is for, found by its host name."""
    cached = getattr(request, "_branding", None)
    if cached is None:
        cached = branding_for_site(Site.find_for_request(request), request=request)
        request._branding = cached
    return cached
