"""Django forms that render as GOV.UK Design System form fields.

Usage, in a view's form::

    from django import forms
    from backoffice.branding.forms import GovukForm

    class ReferenceForm(GovukForm):
        govuk_field_options = {
            # The one question of the page: its label is the page's <h1>.
            "reference": {"page_heading": True, "label_size": "l"},
            "amount": {"prefix": "£"},
        }

        reference = forms.CharField(
            label="What is your council tax account number?",
            help_text="It is 8 digits and is on your bill.",
            error_messages={"required": "Enter your council tax account number"},
            # Passed to the <input> as they are: GOV.UK's width classes, and the
            # attributes that help people fill it in.
            widget=forms.TextInput(
                attrs={
                    "class": "govuk-input--width-10",
                    "autocomplete": "off",
                    "spellcheck": "false",
                    "inputmode": "numeric",
                }
            ),
        )
        amount = forms.DecimalField(label="How much do you want to pay?")

and in its template (which extends ``branding/base.html``)::

    {% include "govuk/error_summary.html" with form=form %}
    <form method="post" novalidate>
      {% csrf_token %}
      {{ form }}
      <button type="submit" class="govuk-button" data-module="govuk-button">Continue</button>
    </form>

``{{ form }}`` renders every visible field as a GOV.UK form group: label (or
legend, for radios and checkboxes), hint from ``help_text``, the error message
with a visually hidden "Error:", and the control with GOV.UK's classes and its
error modifier; ``aria-describedby`` names the hint and the error. One field
alone renders with ``{{ form.reference.as_field_group }}``. The error summary
lists the form's non-field errors and links each field's errors to the control
they belong to (the first option, for radios and checkboxes). Give every field
an error message that says what to do ("Enter ...", "Select ..."): Django's
"This field is required." does not say which field. ``novalidate`` leaves
checking to the server, so that errors appear in the GOV.UK pattern rather than
as the browser's own bubbles.

Widgets: text, email, number, URL, telephone and password inputs; ``Textarea``;
``Select``; ``RadioSelect``; ``CheckboxSelectMultiple``; a single
``CheckboxInput``; ``FileInput``; hidden inputs.

``govuk_field_options`` per field name: ``page_heading`` (the label or legend
is the page's ``<h1>``), ``label_size`` (``"s"``, ``"m"``, ``"l"`` or ``"xl"``;
``"l"`` by default for a page heading), ``prefix`` and ``suffix`` (text shown
beside an input, such as "£" or "per item"; hidden from screen readers, so say
the unit in the label too).
"""

from django import forms
from django.forms.boundfield import BoundField
from django.forms.widgets import Input

LABEL_SIZES = ("s", "m", "l", "xl")

# What each kind of control is called in GOV.UK Frontend's classes.
_CONTROL_CLASSES = {
    "input": ("govuk-input", "govuk-input--error"),
    "textarea": ("govuk-textarea", "govuk-textarea--error"),
    "select": ("govuk-select", "govuk-select--error"),
    "file": ("govuk-file-upload", "govuk-file-upload--error"),
    "radios": ("govuk-radios__input", ""),
    "checkboxes": ("govuk-checkboxes__input", ""),
    "checkbox": ("govuk-checkboxes__input", ""),
    "hidden": ("", ""),
}


def _kind(widget) -> str:
    # Subclasses before their parents: CheckboxSelectMultiple is a RadioSelect, and
    # every checkbox, file and hidden field an Input.
    if widget.is_hidden:
        return "hidden"
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return "checkboxes"
    if isinstance(widget, forms.RadioSelect):
        return "radios"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, forms.Select):
        return "select"
    if isinstance(widget, forms.Textarea):
        return "textarea"
    if isinstance(widget, forms.FileInput):
        return "file"
    if isinstance(widget, Input):
        return "input"
    raise TypeError(
        f"{type(widget).__name__} has no GOV.UK rendering: use an input, textarea, select, "
        "radios, checkboxes or a file input."
    )


class GovukBoundField(BoundField):
    """A form field that knows its GOV.UK markup: ids of its hint and error, classes."""

    @property
    def template_name(self):
        return self.field.template_name or "govuk/forms/field.html"

    @property
    def govuk_kind(self) -> str:
        return _kind(self.field.widget)

    @property
    def govuk_options(self) -> dict:
        return getattr(self.form, "govuk_field_options", {}).get(self.name, {})

    @property
    def govuk_id(self) -> str:
        return self.field.widget.attrs.get("id") or self.auto_id or f"id_{self.html_name}"

    @property
    def hint_id(self) -> str:
        return f"{self.govuk_id}-hint"

    @property
    def error_id(self) -> str:
        return f"{self.govuk_id}-error"

    @property
    def govuk_describedby(self) -> str:
        """The hint's and the error's ids, for ``aria-describedby``: hint first, as read."""
        ids = []
        if self.help_text:
            ids.append(self.hint_id)
        if self.errors:
            ids.append(self.error_id)
        return " ".join(ids)

    @property
    def aria_describedby(self):
        # Django's own points at "<id>_helptext"; ours names the hint and the error.
        # An aria-describedby set on the widget by the form's author wins.
        if self.field.widget.attrs.get("aria-describedby"):
            return None
        return self.govuk_describedby or None

    @property
    def govuk_uses_fieldset(self) -> bool:
        return self.govuk_kind in {"radios", "checkboxes"}

    @property
    def govuk_error_target(self) -> str:
        """The id the error summary links to: the control, or a group's first option."""
        if self.govuk_uses_fieldset:
            return f"{self.govuk_id}_0"
        return self.govuk_id

    @property
    def govuk_is_page_heading(self) -> bool:
        return bool(self.govuk_options.get("page_heading"))

    @property
    def govuk_label_size(self) -> str:
        size = self.govuk_options.get("label_size", "l" if self.govuk_is_page_heading else "")
        if size and size not in LABEL_SIZES:
            raise ValueError(
                f"{self.form.__class__.__name__}.govuk_field_options[{self.name!r}]: "
                f"label_size {size!r} is not one of {', '.join(LABEL_SIZES)}."
            )
        return size

    @property
    def govuk_prefix(self) -> str:
        return self.govuk_options.get("prefix", "")

    @property
    def govuk_suffix(self) -> str:
        return self.govuk_options.get("suffix", "")

    @property
    def govuk_is_optional(self) -> bool:
        # A single checkbox is a yes-or-no by nature: "(optional)" would only confuse.
        return not self.field.required and self.govuk_kind not in {"checkbox", "hidden"}

    def build_widget_attrs(self, attrs, widget=None):
        widget = widget or self.field.widget
        attrs = super().build_widget_attrs(attrs, widget)
        base, error = _CONTROL_CLASSES[_kind(widget)]
        classes = [base, widget.attrs.get("class", ""), attrs.get("class", "")]
        if self.errors:
            classes.append(error)
        joined = " ".join(name for name in " ".join(classes).split() if name)
        if joined:
            attrs["class"] = joined
        if isinstance(widget, forms.Textarea) and widget.attrs.get("rows") == "10":
            # Django's default; GOV.UK's textarea is 5 rows unless the form says otherwise.
            attrs["rows"] = "5"
        return attrs


class GovukFormMixin:
    """Put before ``forms.Form`` or ``forms.ModelForm``: renders the form in GOV.UK markup."""

    template_name = "govuk/forms/form.html"
    bound_field_class = GovukBoundField
    label_suffix = ""
    govuk_field_options: dict = {}


class GovukForm(GovukFormMixin, forms.Form):
    pass


class GovukModelForm(GovukFormMixin, forms.ModelForm):
    pass
