"""A finance administrator configures a fund from nothing, in a real browser.

Everything goes through the pages a person uses: the login form, the Funds menu, the admin
forms and their buttons. Only the starting point (a council, its administrator and a VAT rate)
is made with factories, and the database is read at the end to see what the forms saved.
"""

import re

import pytest

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then skips, or fails under CI, saying how to install it
    expect = None

from backoffice.funds.models import FundCode, ReferenceRule, Service, VatCategory
from backoffice.funds.references import (
    CharacterSet,
    CheckDigitAlgorithm,
    CheckDigitScheme,
    ReferenceRuleSpec,
    check_reference,
    with_check_character,
)
from tests.factories import VatRateFactory, mod11_rule, staff

pytestmark = pytest.mark.slow

USERNAME = "finance.admin"
PASSWORD = "correct-horse-battery-staple"

RULE_NAME = "Council tax account"
SCHEME = CheckDigitScheme(
    algorithm=CheckDigitAlgorithm.WEIGHTED,
    weights=(7, 6, 5, 4, 3, 2, 1),
    modulus=11,
    subtract_from_modulus=True,
    result_substitutions={11: "0"},
)
SPEC = ReferenceRuleSpec(
    min_length=8, max_length=8, character_set=CharacterSet.DIGITS, check_digit=SCHEME
)


def with_wrong_check_digit(reference):
    return reference[:-1] + str((int(reference[-1]) + 1) % 10)


def field(page, label):
    """The form control labelled ``label``, whether or not it carries the required mark."""
    # Wagtail also labels a panel and its anchor links by the heading of a one-field panel.
    controls = page.locator("input, select, textarea")
    return controls.and_(page.get_by_label(re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$")))


@pytest.fixture
def administrator(council):
    user = staff(council, username=USERNAME)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture
def outside_scope(council):
    return VatRateFactory(
        organisation=council,
        code="O",
        name="Outside the scope",
        category=VatCategory.OUTSIDE_SCOPE,
    )


def open_funds_menu_item(page, label):
    page.get_by_role("button", name="Funds").click()
    page.get_by_role("link", name=label, exact=True).click()


def save(page, message):
    page.get_by_role("button", name="Create", exact=True).click()
    # Wagtail goes back to the listing and says what it saved; waiting for that message
    # also waits for the save itself.
    expect(page.get_by_role("status")).to_contain_text(message)


def try_reference(page, reference):
    field(page, "Try a reference").fill(reference)
    page.get_by_role("button", name="Try it").click()
    result = page.locator("[data-reference-result]")
    expect(result).to_be_visible()
    return result


def test_finance_administrator_configures_a_fund_from_scratch(
    page, sign_in, council, administrator, outside_scope
):
    sign_in(page, USERNAME, PASSWORD)

    # A reference rule, made with the real form.
    open_funds_menu_item(page, "Reference rules")
    expect(page).to_have_url(re.compile(r"/admin/funds/reference-rules/$"))
    page.get_by_role("link", name="Add reference rule", exact=True).click()
    field(page, "Name").fill(RULE_NAME)
    field(page, "Check digit algorithm").select_option(label="Weighted sum (modulus 11, 10, 97...)")
    field(page, "Weights").fill("7,6,5,4,3,2,1")
    field(page, "Modulus").fill("11")
    field(page, "Subtract from modulus").check()
    field(page, "Result substitutions").fill("11=0")
    field(page, "Character set").select_option(label="Digits")
    field(page, "Min length").fill("8")
    field(page, "Max length").fill("8")
    save(page, f"Reference rule '{RULE_NAME}' created.")
    rule = ReferenceRule.objects.get(name=RULE_NAME)

    # The rule's own page offers "Try a reference" in its header.
    try_url = f"/admin/funds/reference-rules/try/{rule.pk}/"
    page.get_by_role("link", name=RULE_NAME, exact=True).click()
    page.get_by_role("link", name="Try a reference").click()
    expect(page).to_have_url(re.compile(re.escape(try_url)))

    valid = with_check_character("5000001", SCHEME)
    assert valid == "50000018"
    result = try_reference(page, valid)
    expect(result).to_have_attribute("data-reference-result", "valid")
    expect(result).to_contain_text(f"{valid} is valid.")

    mistyped = with_wrong_check_digit(valid)
    result = try_reference(page, mistyped)
    expect(result).to_have_attribute("data-reference-result", "invalid")
    expect(result).to_contain_text(f"{mistyped} is not valid.")
    # Exactly the check digit failed, and the page says so in the words payers will see.
    expected = check_reference(mistyped, SPEC).problems
    assert [problem.code for problem in expected] == ["check_digit"]
    problems = result.locator("li[data-problem]")
    expect(problems).to_have_count(1)
    expect(problems).to_have_attribute("data-problem", "check_digit")
    expect(problems).to_have_text(expected[0].message)

    # A fund code that checks references with that rule.
    open_funds_menu_item(page, "Fund codes")
    expect(page).to_have_url(re.compile(r"/admin/funds/fund-codes/$"))
    page.get_by_role("link", name="Add fund code", exact=True).click()
    field(page, "Code").fill("CTAX")
    field(page, "Name").fill("Council tax")
    field(page, "Default VAT rate").select_option(label=str(outside_scope))
    field(page, "Reference rule").select_option(label=RULE_NAME)
    page.get_by_label("Online", exact=True).check()
    page.get_by_label("Telephone", exact=True).check()
    field(page, "Minimum amount").fill("1.00")
    save(page, "Fund code 'CTAX: Council tax' created.")
    expect(page.get_by_role("link", name="CTAX", exact=True)).to_be_visible()

    # A service paid into it, at a fixed price.
    open_funds_menu_item(page, "Services")
    expect(page).to_have_url(re.compile(r"/admin/funds/services/$"))
    page.get_by_role("link", name="Add service", exact=True).click()
    field(page, "Name").fill("Council tax summons costs")
    field(page, "Slug").fill("council-tax-summons-costs")
    field(page, "Fund code").select_option(label="CTAX: Council tax")
    field(page, "Pricing").select_option(label="Fixed price")
    field(page, "Price").fill("30.00")
    save(page, "Service 'Council tax summons costs' created.")
    row = page.get_by_role("row").filter(has_text="Council tax summons costs")
    expect(row).to_contain_text("CTAX: Council tax")
    expect(row).to_contain_text("£30.00")

    rule.refresh_from_db()
    assert rule.organisation == council
    assert rule.spec == SPEC
    fund = FundCode.objects.get(code="CTAX")
    assert fund.organisation == council
    assert fund.reference_rule == rule
    assert fund.default_vat_rate == outside_scope
    assert fund.allowed_channels == ["online", "telephone"]
    assert fund.minimum_amount_pence == 100
    service = Service.objects.get(slug="council-tax-summons-costs")
    assert service.organisation == council
    assert service.fund_code == fund
    assert service.pricing == "fixed"
    assert service.price_pence == 3000


def test_reference_rule_listing_offers_try_a_reference_on_each_row(
    page, sign_in, council, administrator
):
    rule = mod11_rule(council)
    sign_in(page, USERNAME, PASSWORD)
    page.goto("/admin/funds/reference-rules/")
    more_options = page.get_by_role("button", name=f"More options for '{rule.name}'")
    expect(more_options).to_be_visible(timeout=2_000)
    more_options.click()
    page.get_by_role("link", name="Try a reference").click()
    expect(page).to_have_url(re.compile(rf"/admin/funds/reference-rules/try/{rule.pk}/$"))


def test_try_a_reference_page_has_no_accessibility_violations(
    page, sign_in, axe, council, administrator
):
    rule = mod11_rule(council)
    valid = with_check_character("5000001", rule.spec.check_digit)
    sign_in(page, USERNAME, PASSWORD)
    page.goto(f"/admin/funds/reference-rules/try/{rule.pk}/")

    # Only our page's content is checked: the admin's own chrome (menu, header) is Wagtail's.
    violations = {"empty form": axe(page, "main")}
    try_reference(page, valid)
    violations["valid reference"] = axe(page, "main")
    try_reference(page, with_wrong_check_digit(valid))
    violations["invalid reference"] = axe(page, "main")

    assert violations == {state: [] for state in violations}


def check_file(page, path):
    field(page, "Spreadsheet").set_input_files(path)
    with page.expect_response(lambda response: response.request.method == "POST") as posted:
        page.get_by_role("button", name="Check file").click()
    assert posted.value.status == 200, f"checking {path.name} answered {posted.value.status}"
    page.wait_for_load_state()


def test_spreadsheet_import_page_has_no_accessibility_violations(
    page, sign_in, axe, tmp_path, council, administrator
):
    sign_in(page, USERNAME, PASSWORD)
    page.goto("/admin/funds/fund-codes/import/")
    violations = {"empty form": axe(page, "main")}

    page.get_by_role("button", name="Check file").click()
    expect(page.locator("main")).to_contain_text("This field is required.")
    violations["no file chosen"] = axe(page, "main")

    not_a_spreadsheet = tmp_path / "fund-codes.txt"
    not_a_spreadsheet.write_text("code,name\n", encoding="utf-8")
    check_file(page, not_a_spreadsheet)
    expect(page.locator("main")).to_contain_text("is not a .csv or .xlsx file")
    violations["not a spreadsheet"] = axe(page, "main")

    assert violations == {state: [] for state in violations}


def test_spreadsheet_import_results_have_no_accessibility_violations(
    page, sign_in, axe, tmp_path, council, administrator, outside_scope
):
    sign_in(page, USERNAME, PASSWORD)
    page.goto("/admin/funds/fund-codes/import/")
    header = "code,name,default_vat_rate,allowed_channels\n"

    with_a_problem = tmp_path / "fund-codes-with-a-problem.csv"
    with_a_problem.write_text(header + "PARK,Parking,NOPE,online\n", encoding="utf-8")
    check_file(page, with_a_problem)
    expect(page.get_by_role("alert")).to_contain_text("was not imported: 1 problem to put right")
    violations = {"file with a problem": axe(page, "main")}

    ready = tmp_path / "fund-codes.csv"
    ready.write_text(header + f"PARK,Parking,{outside_scope.code},online\n", encoding="utf-8")
    check_file(page, ready)
    expect(page.get_by_role("button", name="Confirm import")).to_be_visible()
    violations["file ready to import"] = axe(page, "main")

    assert violations == {state: [] for state in violations}


def test_axe_reports_what_it_should(page, sign_in, axe, council, administrator):
    """The checks above pass because the pages are good, not because axe saw nothing."""
    sign_in(page, USERNAME, PASSWORD)
    page.goto("/admin/funds/fund-codes/import/")
    page.locator("main").evaluate(
        "main => main.insertAdjacentHTML('beforeend', '<input type=\"text\" name=\"unlabelled\">')"
    )
    assert "label" in [violation["rule"] for violation in axe(page, "main")]
