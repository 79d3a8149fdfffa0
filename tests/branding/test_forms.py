"""GOV.UK form rendering: `{{ form }}` and the error summary in the Design System's markup."""

import pytest
from django import forms
from django.template import Context, Template

from backoffice.branding.forms import GovukForm, GovukModelForm
from backoffice.branding.models import FooterLink
from tests.branding.example import ExampleForm

from .html import child, classes, element, elements, text

VALID = {
    "reference": "12345678",
    "amount": "10",
    "how_contacted": "post",
    "topics": ["rent"],
    "ward": "north",
    "agree": "on",
}


def render(form) -> str:
    return Template("{{ form }}").render(Context({"form": form}))


def summary(form) -> str:
    return Template('{% include "govuk/error_summary.html" with form=form %}').render(
        Context({"form": form})
    )


def test_a_text_field_has_its_label_hint_and_input_in_one_form_group():
    html = render(ExampleForm())

    group = element(html, ".govuk-form-group:has(#id_amount)")
    assert classes(group) == "govuk-form-group"
    label = element(html, "label[for=id_amount]")
    assert classes(label) == "govuk-label"
    assert text(label) == "How much do you want to pay, in pounds?"
    hint = element(html, "#id_reference-hint")
    assert classes(hint) == "govuk-hint"
    assert text(hint) == "It is 8 digits and is on your bill."
    reference = element(html, "#id_reference")
    assert reference["aria-describedby"] == "id_reference-hint"
    assert classes(reference) == "govuk-input govuk-input--width-10"


def test_the_widgets_attributes_reach_the_input():
    html = render(ExampleForm())

    reference = element(html, "#id_reference")
    assert reference["autocomplete"] == "off"
    assert reference["spellcheck"] == "false"
    assert reference["inputmode"] == "numeric"
    assert reference["type"] == "text"
    email = element(html, "#id_email")
    assert email["type"] == "email"
    assert email["autocomplete"] == "email"


def test_a_page_heading_field_puts_its_label_in_the_h1():
    heading = element(render(ExampleForm()), "h1.govuk-label-wrapper")

    label = child(heading, "label")
    assert classes(label) == "govuk-label govuk-label--l"
    assert label["for"] == "id_reference"


def test_an_optional_field_says_so_in_its_label():
    html = render(ExampleForm())

    assert text(element(html, "label[for=id_email]")) == "Email address (optional)"
    assert "(optional)" not in text(element(html, "label[for=id_reference]"))
    # A single checkbox is a yes or no: "optional" would only confuse.
    assert "(optional)" not in text(element(html, "label[for=id_agree]"))


def test_a_prefix_is_beside_the_input_and_hidden_from_screen_readers():
    wrapper = element(render(ExampleForm()), ".govuk-input__wrapper")

    prefix = child(wrapper, ".govuk-input__prefix")
    assert text(prefix) == "£"
    assert prefix["aria-hidden"] == "true"
    assert child(wrapper, "input")["id"] == "id_amount"


def test_a_field_in_error_shows_the_error_and_points_to_it():
    html = render(ExampleForm(data={"amount": "lots"}))

    group = element(html, ".govuk-form-group:has(#id_reference)")
    assert classes(group) == "govuk-form-group govuk-form-group--error"
    error = element(html, "#id_reference-error")
    assert classes(error) == "govuk-error-message"
    assert text(child(error, "span.govuk-visually-hidden")) == "Error:"
    assert text(error) == "Error: Enter your account number"
    reference = element(html, "#id_reference")
    # The hint first, then the error, as a screen reader should read them.
    assert reference["aria-describedby"] == "id_reference-hint id_reference-error"
    assert reference["aria-invalid"] == "true"
    assert classes(reference) == "govuk-input govuk-input--width-10 govuk-input--error"
    amount = element(html, "#id_amount")
    assert amount["aria-describedby"] == "id_amount-error"
    assert "govuk-input--error" in amount["class"]
    assert text(element(html, "#id_amount-error")) == "Error: Enter a number."


def test_the_error_comes_after_the_hint_and_before_the_input():
    group = element(render(ExampleForm(data={})), ".govuk-form-group:has(#id_reference)")

    order = [tag.get("id") for tag in group.find_all(id=True)]
    assert order == ["id_reference-hint", "id_reference-error", "id_reference"]


def test_a_field_without_errors_in_a_form_with_errors_is_not_marked():
    html = render(ExampleForm(data={"reference": "12345678"}))

    reference = element(html, "#id_reference")
    assert "govuk-input--error" not in reference["class"]
    assert reference["aria-describedby"] == "id_reference-hint"
    assert not reference.has_attr("aria-invalid")
    assert not elements(html, "#id_reference-error")


def test_radios_are_a_fieldset_with_a_legend_and_govuk_items():
    html = render(ExampleForm(data={}))

    fieldset = element(html, "fieldset:has(#id_how_contacted_0)")
    assert classes(fieldset) == "govuk-fieldset"
    assert fieldset["aria-describedby"] == "id_how_contacted-error"
    assert text(child(fieldset, "legend")) == "How should we contact you?"
    items = fieldset.select(".govuk-radios > .govuk-radios__item")
    assert len(items) == 2
    radio, label = child(items[0], "input"), child(items[0], "label")
    assert classes(radio) == "govuk-radios__input"
    assert radio["type"] == "radio"
    assert label["for"] == "id_how_contacted_0" == radio["id"]
    assert classes(label) == "govuk-label govuk-radios__label"
    assert text(label) == "Email"
    assert classes(fieldset.parent) == "govuk-form-group govuk-form-group--error"


def test_checkboxes_are_a_fieldset_whose_hint_and_error_describe_it():
    html = render(ExampleForm(data={}))

    fieldset = element(html, "fieldset:has(#id_topics_0)")
    assert fieldset["aria-describedby"] == "id_topics-hint id_topics-error"
    assert text(element(html, "#id_topics-hint")) == "Select all that apply."
    boxes = fieldset.select(".govuk-checkboxes__item > input")
    assert [classes(box) for box in boxes] == ["govuk-checkboxes__input"] * 2
    assert [box["type"] for box in boxes] == ["checkbox"] * 2
    # The fieldset is described once, not every box again.
    assert not any(box.has_attr("aria-describedby") for box in boxes)


def test_a_single_checkbox_has_its_label_beside_it():
    html = render(ExampleForm(data={}))

    box = element(html, "#id_agree")
    assert classes(box) == "govuk-checkboxes__input"
    assert box["aria-describedby"] == "id_agree-error"
    assert classes(element(html, "label[for=id_agree]")) == "govuk-label govuk-checkboxes__label"
    assert classes(element(html, "#id_agree-error")) == "govuk-error-message"


def test_a_select_and_a_textarea_get_govuk_classes():
    html = render(ExampleForm(data={}))

    assert classes(element(html, "select#id_ward")) == "govuk-select govuk-select--error"
    notes = element(html, "textarea#id_notes")
    assert classes(notes) == "govuk-textarea"
    assert notes["rows"] == "5"


def test_hidden_fields_are_rendered_outside_any_form_group():
    html = render(ExampleForm())

    token = element(html, "input#id_token")
    assert token["type"] == "hidden"
    assert not token.find_parents(class_="govuk-form-group")


def test_the_error_summary_links_each_error_to_its_control():
    html = summary(ExampleForm(data={"reference": "00000000", "amount": "1"}))

    box = element(html, ".govuk-error-summary")
    assert box["data-module"] == "govuk-error-summary"
    assert child(box, "div")["role"] == "alert"
    assert text(element(html, "h2.govuk-error-summary__title")) == "There is a problem"
    items = element(html, "ul.govuk-error-summary__list").select(":scope > li")
    # The form's own error comes first, as text: it belongs to no one field.
    assert text(items[0]) == "We cannot take payments for this account online"
    assert not items[0].select("a")
    assert {child(item, "a")["href"]: text(item) for item in items[1:]} == {
        "#id_how_contacted_0": "Select how we should contact you",
        "#id_topics_0": "Select what the payment is for",
        "#id_ward": "Select your ward",
        "#id_agree": "Confirm that you understand payments cannot be cancelled",
    }


def test_every_link_of_the_error_summary_leads_to_a_control_on_the_page():
    form = ExampleForm(data={"amount": "x"})
    fields = render(form)

    targets = [link["href"] for link in elements(summary(form), "a")]
    assert len(targets) == 6
    for target in targets:
        assert element(fields, target).name in {"input", "select", "textarea"}, target


def test_the_error_summary_is_empty_for_a_form_without_errors():
    assert summary(ExampleForm()).strip() == ""
    form = ExampleForm(data=VALID)
    assert form.is_valid(), form.errors
    assert summary(form).strip() == ""


def test_one_field_renders_alone_as_a_form_group():
    form = ExampleForm()
    html = Template("{{ form.reference.as_field_group }}").render(Context({"form": form}))

    assert element(html, "div.govuk-form-group > h1 > label[for=id_reference]")
    assert element(html, "input#id_reference")


def test_a_model_form_renders_the_same_way():
    class FooterLinkForm(GovukModelForm):
        class Meta:
            model = FooterLink
            fields = ["label", "url"]

    html = render(FooterLinkForm(data={"label": "Help", "url": "javascript:alert(1)"}))

    assert classes(element(html, "#id_url")) == "govuk-input govuk-input--error"
    assert "a path on this site" in text(element(html, "#id_url-error"))


def test_an_unknown_label_size_is_refused_with_the_field_named():
    class Sized(GovukForm):
        govuk_field_options = {"name": {"label_size": "huge"}}
        name = forms.CharField()

    with pytest.raises(ValueError, match=r"govuk_field_options\['name'\]: label_size 'huge'"):
        render(Sized())


def test_a_widget_with_no_govuk_rendering_is_refused_by_name():
    class Dated(GovukForm):
        when = forms.SplitDateTimeField()

    with pytest.raises(TypeError, match=r"SplitDateTimeWidget has no GOV\.UK rendering"):
        render(Dated())
