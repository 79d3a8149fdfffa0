"""Forms of the integrations admin, and the base class for a plugin's own settings form."""

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Integration
from .types import SecretField

SECRET_STORED_HELP = _("A value is stored; leave blank to keep it.")


class PluginSettingsForm(forms.Form):
    """A convenient base for a plugin's ``settings_form``.

    The admin builds every settings form with ``organisation=`` (the council
    whose integration it is), so that a form can offer that council's own
    fund codes; this base keeps it as ``self.organisation``.
    """

    def __init__(self, *args, organisation=None, **kwargs):
        self.organisation = organisation
        super().__init__(*args, **kwargs)


class IntegrationForm(forms.Form):
    """What every integration has, whatever its plugin: key, title and whether it is on."""

    key = forms.CharField(
        max_length=50,
        label=_("Key"),
        help_text=Integration._meta.get_field("key").help_text,
        validators=Integration._meta.get_field("key").validators,
    )
    title = forms.CharField(
        max_length=200,
        label=_("Title"),
        help_text=_("What staff see, e.g. GOV.UK Pay (parking)."),
    )
    is_enabled = forms.BooleanField(
        required=False,
        label=_("Enabled"),
        help_text=_("Only an enabled integration takes payments or answers its endpoints."),
    )

    def __init__(self, *args, integration: Integration | None = None, **kwargs):
        if integration is not None:
            kwargs.setdefault(
                "initial",
                {
                    "key": integration.key,
                    "title": integration.title,
                    "is_enabled": integration.is_enabled,
                },
            )
        super().__init__(*args, **kwargs)
        if integration is not None:
            # Payments record the key; it never changes once made.
            self.fields["key"].disabled = True
            self.fields["key"].help_text = _("Payments record this key; it cannot be changed.")


def hide_secrets(settings_form, *, stored: list[str]) -> None:
    """Make sure no secret can reach the browser, and say which ones are already stored.

    A plugin may have given a ``SecretField`` a widget that renders its value;
    here every secret gets a password input that never does, so neither a
    stored secret nor one just typed into a form with errors is sent back.
    """
    if settings_form is None:
        return
    for name, field in settings_form.fields.items():
        if not isinstance(field, SecretField):
            continue
        field.widget = forms.PasswordInput(
            render_value=False, attrs={**field.widget.attrs, "autocomplete": "new-password"}
        )
        field.initial = None
        if name in stored:
            field.help_text = (
                f"{field.help_text} {SECRET_STORED_HELP}" if field.help_text else SECRET_STORED_HELP
            )


def add_service_errors(error: ValidationError, *forms_) -> None:
    """Show a service's ``ValidationError`` on the form that has the field it names.

    Errors about a field no form has (or about no field) go to the first
    form's non-field errors, so nothing a service says is lost.
    """
    first = forms_[0]
    if not hasattr(error, "error_dict"):
        first.add_error(None, error)
        return
    for name, errors in error.error_dict.items():
        owner = next((form for form in forms_ if form is not None and name in form.fields), None)
        if owner is None or name == NON_FIELD_ERRORS:
            first.add_error(None, errors)
        else:
            owner.add_error(name, errors)
