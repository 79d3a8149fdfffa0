"""The page editor's forms: a council's own funds and services only, and pages that can pay.

Imported by ``models`` (as the pages' ``base_form_class``), so the models are imported
here only inside the methods.
"""

from django.core.exceptions import ValidationError
from wagtail.admin.forms import WagtailAdminPageForm

from backoffice.funds.models import FundCode, Service
from backoffice.tenancy.models import Organisation
from backoffice.tenancy.selectors import organisations_for_user


def _editor_councils(user):
    if user is not None and user.is_superuser:
        return Organisation.objects.filter(is_active=True).order_by("name")
    return organisations_for_user(user)


class PaymentsHomePageForm(WagtailAdminPageForm):
    """The council is one the editor works for, and stays put once pages hang off it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields.get("organisation")
        if field is not None:
            councils = _editor_councils(getattr(self, "for_user", None))
            if self.instance.pk and self.instance.organisation_id:
                councils = councils | Organisation.objects.filter(pk=self.instance.organisation_id)
            field.queryset = councils.distinct()

    def clean(self):
        cleaned = super().clean()
        organisation = cleaned.get("organisation")
        if organisation is None:
            return cleaned
        from .models import ServicePage

        home = self.instance
        if (
            home.pk
            and home.organisation_id
            and organisation.pk != home.organisation_id
            and ServicePage.objects.child_of(home).exists()
        ):
            self.add_error(
                "organisation",
                "This site's pages take payments for its council's funds: it cannot change "
                "council while it has pages. Make a new payments home for the other council.",
            )
        provider = cleaned.get("payment_provider", "")
        if provider:
            from . import selectors

            keys = [integration.key for integration in selectors.payment_providers(organisation)]
            if provider not in keys:
                self.add_error(
                    "payment_provider",
                    f"{organisation} has no enabled payment provider '{provider}'. "
                    + (
                        f"Use one of: {', '.join(keys)}."
                        if keys
                        else "Set one up under Settings > Integrations first."
                    ),
                )
        return cleaned


class ServicePageForm(WagtailAdminPageForm):
    """Offers only the council's services and funds, and refuses a page that could not pay."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisation = self._organisation()
        # The page's own clean() checks it against this council, also before it is in the tree.
        self.instance.checked_for_organisation = self.organisation
        council = self.organisation.pk if self.organisation is not None else None
        if "service" in self.fields:
            self.fields["service"].queryset = Service.objects.filter(
                organisation_id=council
            ).select_related("fund_code")
        if "fund_code" in self.fields:
            self.fields["fund_code"].queryset = FundCode.objects.filter(
                organisation_id=council, is_suspense=False
            )

    def _organisation(self):
        from .models import PaymentsHomePage

        parent = self.parent_page
        if parent is None and self.instance.pk:
            parent = self.instance.get_parent()
        home = parent.specific if parent is not None else None
        return home.organisation if isinstance(home, PaymentsHomePage) else None

    def clean(self):
        cleaned = super().clean()
        if self.organisation is None:
            raise ValidationError("A service payment page belongs under a payments home.")
        return cleaned
