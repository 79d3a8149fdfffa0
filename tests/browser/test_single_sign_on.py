"""Staff sign in through the council's identity provider, in a real browser.

The provider is a real OpenID Connect provider (npm's oidc-provider, started on 127.0.0.1
by the fixture below); the person signs in on its login page, comes back signed in with
the screens their groups give them, and signs out of both. What the pages did is then
read from the database: the user, their roles and their council.
"""

import re

import pytest
from django.contrib.auth import get_user_model
from django.test.utils import override_settings

try:
    from playwright.sync_api import expect
except ImportError:  # the browser fixture then skips, or fails under CI, saying how to install it
    expect = None

from backoffice.accounts.oidc import forget_discovery
from backoffice.accounts.roles import FINANCE_ADMINISTRATOR, INCOME_OFFICER
from backoffice.tenancy.models import Membership
from tests.accounts.oidc_provider import CLIENT_ID, CLIENT_SECRET, running_provider
from tests.factories import UserFactory

pytestmark = pytest.mark.slow

PROVIDER_NAME = "Barsetshire staff account"
SIGN_IN_BUTTON = f"Sign in with {PROVIDER_NAME}"
FINANCE_ADMINS, INCOME_TEAM = "ims-finance-admins", "ims-income"

FINANCE_ADMIN = {
    "email": "fay.admin@barsetshire.gov.uk",
    "given_name": "Fay",
    "family_name": "Admin",
    "name": "Fay Admin",
    "groups": [FINANCE_ADMINS, "all-staff"],
}
INCOME_OFFICER_ACCOUNT = {
    "email": "ian.come@barsetshire.gov.uk",
    "given_name": "Ian",
    "family_name": "Come",
    "name": "Ian Come",
    "groups": [INCOME_TEAM, "all-staff"],
}
NO_MAPPED_GROUP = {
    "email": "nora.group@barsetshire.gov.uk",
    "name": "Nora Group",
    "groups": ["all-staff"],
}


@pytest.fixture(scope="session")
def identity_provider(live_server, tmp_path_factory):
    """The council's identity provider, with this system (the live server) as its client."""
    with running_provider(
        tmp_path_factory.mktemp("oidc-provider"), relying_party_url=live_server.url
    ) as provider:
        yield provider


@pytest.fixture
def single_sign_on(identity_provider, council):
    """Single sign-on switched on against the provider, as docs/single-sign-on.md sets it up."""
    identity_provider.set_accounts(
        {
            "fay-admin-0001": FINANCE_ADMIN,
            "ian-income-0002": INCOME_OFFICER_ACCOUNT,
            "nora-none-0003": NO_MAPPED_GROUP,
        }
    )
    forget_discovery()
    with override_settings(
        OIDC_ENABLED=True,
        OIDC_RP_CLIENT_ID=CLIENT_ID,
        OIDC_RP_CLIENT_SECRET=CLIENT_SECRET,
        OIDC_OP_ISSUER=identity_provider.issuer,
        OIDC_PROVIDER_NAME=PROVIDER_NAME,
        OIDC_RP_SCOPES="openid email profile groups",
        OIDC_ROLE_GROUPS=(f"{FINANCE_ADMINS}=finance_administrator,{INCOME_TEAM}=income_officer"),
        OIDC_DEFAULT_COUNCIL=council.code,
        LOCAL_LOGIN="break-glass",
        AUTHENTICATION_BACKENDS=[
            "backoffice.accounts.local_login.LocalPasswordBackend",
            "backoffice.accounts.oidc.StaffIdentityBackend",
        ],
    ):
        yield identity_provider
    forget_discovery()


def sign_in_at_provider(page, account_id):
    """From the back office's login page, through the provider's login page and back."""
    page.goto("/admin/")
    page.get_by_role("link", name=SIGN_IN_BUTTON).click()
    page.locator("input[name=login]").fill(account_id)
    page.locator("input[name=password]").fill("any password: the provider checks none")
    page.get_by_role("button", name="Sign-in").click()


def sign_out(page, first_name):
    """Wagtail's account menu (named by the person's first name), then "Log out"."""
    page.get_by_role("button", name=first_name, exact=True).click()
    page.get_by_role("button", name="Log out").click()


def test_the_login_page_offers_the_provider_and_the_break_glass_form_and_passes_axe(
    page, axe, single_sign_on
):
    page.goto("/admin/login/")

    expect(page.get_by_role("link", name=SIGN_IN_BUTTON)).to_be_visible()
    expect(page.get_by_role("heading", name="Break-glass administrator")).to_be_visible()
    expect(page.get_by_label("Username")).to_be_visible()
    assert axe(page) == []


def test_a_finance_administrator_signs_in_sees_the_funds_menu_and_signs_out(
    page, single_sign_on, council
):
    sign_in_at_provider(page, "fay-admin-0001")

    expect(page).to_have_url(re.compile(r"/admin/$"))
    page.get_by_role("button", name="Funds").click()
    page.get_by_role("link", name="Fund codes", exact=True).click()
    expect(page.get_by_role("link", name="Add fund code")).to_be_visible()

    user = get_user_model().objects.get(username="fay-admin-0001")
    assert (user.first_name, user.last_name, user.email) == (
        "Fay",
        "Admin",
        "fay.admin@barsetshire.gov.uk",
    )
    assert [group.name for group in user.groups.all()] == [FINANCE_ADMINISTRATOR]
    assert list(
        Membership.objects.active().filter(user=user).values_list("organisation", flat=True)
    ) == [council.pk]
    assert not user.is_superuser and not user.has_usable_password()

    sign_out(page, "Fay")

    # Signed out at the provider too: it asks to confirm, then sends the person back.
    page.get_by_role("button", name="Yes, sign me out").click()
    expect(page).to_have_url(re.compile(r"/admin/login/$"))
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/\?next="))


def test_an_income_officer_sees_transactions_but_not_fund_configuration(page, single_sign_on):
    sign_in_at_provider(page, "ian-income-0002")

    expect(page).to_have_url(re.compile(r"/admin/$"))
    page.get_by_role("button", name="Transactions").click()
    page.get_by_role("link", name="Payments", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/transactions/payments/$"))

    # Fund codes can be read, not configured.
    page.get_by_role("button", name="Funds").click()
    page.get_by_role("link", name="Fund codes", exact=True).click()
    expect(page.get_by_role("heading", name="Fund codes")).to_be_visible()
    expect(page.get_by_role("link", name="Add fund code")).to_have_count(0)
    page.goto("/admin/funds/fund-codes/new/")
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.get_by_role("status")).to_contain_text("you do not have permission")
    user = get_user_model().objects.get(username="ian-income-0002")
    assert [group.name for group in user.groups.all()] == [INCOME_OFFICER]


def test_someone_taken_out_of_the_group_at_the_provider_loses_the_role_at_next_sign_in(
    page, single_sign_on
):
    sign_in_at_provider(page, "fay-admin-0001")
    expect(page).to_have_url(re.compile(r"/admin/$"))
    sign_out(page, "Fay")
    page.get_by_role("button", name="Yes, sign me out").click()
    expect(page).to_have_url(re.compile(r"/admin/login/$"))

    single_sign_on.set_accounts({"fay-admin-0001": {**FINANCE_ADMIN, "groups": ["all-staff"]}})
    sign_in_at_provider(page, "fay-admin-0001")

    expect(page).to_have_url(re.compile(r"/admin/login/$"))
    expect(page.get_by_role("status")).to_contain_text(
        "You are not in any group that may use the income management system"
    )
    user = get_user_model().objects.get(username="fay-admin-0001")
    assert list(user.groups.all()) == []
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/\?next="))


def test_someone_in_no_mapped_group_is_refused_and_no_account_is_made(page, single_sign_on):
    sign_in_at_provider(page, "nora-none-0003")

    expect(page).to_have_url(re.compile(r"/admin/login/$"))
    expect(page.get_by_role("status")).to_contain_text(
        "You are not in any group that may use the income management system"
    )
    assert not get_user_model().objects.filter(username="nora-none-0003").exists()


def test_staff_cannot_use_the_break_glass_password_form_but_a_superuser_can(
    page, single_sign_on, council
):
    UserFactory(username="old.local.account", password="a-long-enough-password")
    get_user_model().objects.create_superuser("break.glass", password="another-long-password")

    page.goto("/admin/login/")
    page.get_by_label("Username").fill("old.local.account")
    page.get_by_label("Password").fill("a-long-enough-password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(
        f"Only the break-glass administrator may sign in with a password. "
        f"Sign in with {PROVIDER_NAME} instead."
    )

    page.get_by_label("Username").fill("break.glass")
    page.get_by_label("Password").fill("another-long-password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(re.compile(r"/admin/$"))
