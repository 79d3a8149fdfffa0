"""A page that uses the public page shell and a GOV.UK form, for the tests only.

Served by the test URLconf ``tests.branding.urls`` together with everything the
project serves, and the branding theme at /branding/theme.css.
"""

from django import forms
from django.http import HttpResponse
from django.template import engines
from django.urls import include, path

from backoffice.branding.forms import GovukForm
from backoffice.urls import urlpatterns as project_urlpatterns


class ExampleForm(GovukForm):
    govuk_field_options = {
        "reference": {"page_heading": True},
        "amount": {"prefix": "£"},
    }

    reference = forms.CharField(
        label="What is your account number?",
        help_text="It is 8 digits and is on your bill.",
        error_messages={"required": "Enter your account number"},
        widget=forms.TextInput(
            attrs={
                "class": "govuk-input--width-10",
                "autocomplete": "off",
                "spellcheck": "false",
                "inputmode": "numeric",
            }
        ),
    )
    amount = forms.DecimalField(
        label="How much do you want to pay, in pounds?",
        error_messages={"required": "Enter how much you want to pay"},
        widget=forms.TextInput(attrs={"class": "govuk-input--width-5", "inputmode": "decimal"}),
    )
    email = forms.EmailField(
        label="Email address",
        help_text="We will send your receipt here.",
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    how_contacted = forms.ChoiceField(
        label="How should we contact you?",
        choices=[("email", "Email"), ("post", "Post")],
        widget=forms.RadioSelect,
        error_messages={"required": "Select how we should contact you"},
    )
    topics = forms.MultipleChoiceField(
        label="What is the payment for?",
        help_text="Select all that apply.",
        choices=[("rent", "Rent"), ("arrears", "Arrears")],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select what the payment is for"},
    )
    ward = forms.ChoiceField(
        label="Ward",
        choices=[("", "Choose a ward"), ("north", "North"), ("south", "South")],
        error_messages={"required": "Select your ward"},
    )
    notes = forms.CharField(label="Anything else", widget=forms.Textarea, required=False)
    agree = forms.BooleanField(
        label="I understand that payments cannot be cancelled",
        error_messages={"required": "Confirm that you understand payments cannot be cancelled"},
    )
    token = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("reference") == "00000000":
            raise forms.ValidationError("We cannot take payments for this account online")
        return cleaned


PAGE = engines["django"].from_string(
    """{% extends "branding/base.html" %}
{% block page_title %}Pay your bill{% endblock %}
{% block before_content %}<a href="/" class="govuk-back-link">Back</a>{% endblock %}
{% block content %}
  <div class="govuk-grid-row">
    <div class="govuk-grid-column-two-thirds">
      {% include "govuk/error_summary.html" with form=form %}
      <form method="post" novalidate>
        {% csrf_token %}
        {{ form }}
        <button type="submit" class="govuk-button" data-module="govuk-button">Continue</button>
      </form>
    </div>
  </div>
{% endblock %}"""
)


def example_form(request):
    form = ExampleForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        return HttpResponse("Thank you", content_type="text/plain")
    return HttpResponse(PAGE.render({"form": form}, request))


urlpatterns = [
    path("branding/", include("backoffice.branding.urls")),
    path("example-form/", example_form, name="branding_example_form"),
    *project_urlpatterns,
]
