"""Is a reference on the department's list? The plugin's answer to ims_reference_validate."""

import pytest

from integrations.department_files.services import known_references_replace
from plugins.manager import call
from plugins.services import integration_update
from plugins.types import ReferenceVerdict
from tests.factories import DepartmentFactory

pytestmark = pytest.mark.django_db


def verdict(department, fund_code, reference):
    return call(
        "department_files",
        "ims_reference_validate",
        integration=department,
        fund_code=fund_code,
        reference=reference,
    )


@pytest.fixture
def listed(department):
    known_references_replace(
        integration=department, content=b"fund_code,reference\nPARK,PCN001\nCTAX,12345674\n"
    )
    return department


def test_a_reference_on_the_list_is_valid(listed, parking):
    assert verdict(listed, parking, "PCN001") == ReferenceVerdict(valid=True)


def test_a_reference_not_on_the_list_is_invalid_and_says_whose_list(listed, ctax):
    assert verdict(listed, ctax, "87654321") == ReferenceVerdict(
        valid=False,
        reason="Reference 87654321 is not on the Council Tax department's list of valid "
        "references.",
    )


def test_the_reason_names_the_funds_department_where_it_has_one(listed, council, parking):
    parking.department = DepartmentFactory(organisation=council, name="Parking")
    parking.save()

    assert verdict(listed, parking, "PCN999").reason == (
        "Reference PCN999 is not on the Parking department's list of valid references."
    )


def test_a_fund_code_may_be_given_by_its_code(listed):
    assert verdict(listed, "PARK", "PCN001").valid
    assert not verdict(listed, "PARK", "PCN999").valid


def test_a_reference_on_another_funds_list_is_not_valid_for_this_one(listed, parking):
    assert not verdict(listed, parking, "12345674").valid


def test_no_opinion_on_a_fund_it_does_not_look_after(listed, suspense_fund):
    assert verdict(listed, suspense_fund, "anything") is None


def test_no_opinion_when_reference_checking_is_off(listed, parking):
    turned_off = integration_update(
        integration=listed,
        title=listed.title,
        settings={**listed.settings, "validate_references": False},
        is_enabled=True,
    )

    assert verdict(turned_off, parking, "PCN999") is None


def test_the_settings_form_offers_only_the_councils_fund_codes(council, parking, other_council):
    from integrations.department_files.forms import DepartmentFilesSettingsForm
    from tests.factories import FundCodeFactory

    FundCodeFactory(organisation=other_council, code="THEIRS")
    form = DepartmentFilesSettingsForm(
        data={"fund_codes": ["PARK"], "exports": ["payment_csv"], "file_prefix": "P_"},
        organisation=council,
    )

    assert [code for code, _label in form.fields["fund_codes"].choices] == ["PARK"]
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {
        "fund_codes": ["PARK"],
        "validate_references": False,
        "exports": ["payment_csv"],
        "file_prefix": "P_",
    }
    refused = DepartmentFilesSettingsForm(
        data={"fund_codes": ["THEIRS"], "file_prefix": "../x"}, organisation=council
    )
    assert not refused.is_valid()
    assert set(refused.errors) == {"fund_codes", "file_prefix"}
