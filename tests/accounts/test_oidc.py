"""Single sign-on: what a provider's claims make of a member of staff, and who may use passwords.

The whole flow against a real provider is in tests/browser/test_single_sign_on.py; here the
pieces are pinned down one by one. Claims are given to the backend as the provider would
send them, after mozilla-django-oidc has checked the ID token's signature and nonce.
"""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory
from django.test.utils import override_settings

from backoffice.accounts.oidc import (
    ROLES_BY_KEY,
    SESSION_ID_TOKEN,
    SignInRefused,
    StaffIdentityBackend,
    forget_discovery,
    parse_role_groups,
)
from backoffice.accounts.roles import AUDITOR, FINANCE_ADMINISTRATOR, INCOME_OFFICER, ROLES
from backoffice.tenancy.models import Membership
from tests.accounts.oidc_provider import free_port
from tests.factories import OrganisationFactory, staff

ROOT = Path(__file__).resolve().parents[2]
BACKENDS = [
    "backoffice.accounts.local_login.LocalPasswordBackend",
    "backoffice.accounts.oidc.StaffIdentityBackend",
]
# Explicit endpoints: nothing here is fetched from a provider unless a test says so.
SINGLE_SIGN_ON = {
    "OIDC_ENABLED": True,
    "OIDC_RP_CLIENT_ID": "income-management",
    "OIDC_RP_CLIENT_SECRET": "client-secret",
    "OIDC_OP_ISSUER": "",
    "OIDC_OP_AUTHORIZATION_ENDPOINT": "https://login.example.gov.uk/authorize",
    "OIDC_OP_TOKEN_ENDPOINT": "https://login.example.gov.uk/token",
    "OIDC_OP_USER_ENDPOINT": "https://login.example.gov.uk/userinfo",
    "OIDC_OP_JWKS_ENDPOINT": "https://login.example.gov.uk/jwks",
    "OIDC_OP_LOGOUT_ENDPOINT": "https://login.example.gov.uk/logout",
    "OIDC_PROVIDER_NAME": "Barsetshire staff account",
    "OIDC_ROLE_GROUPS": "ims-finance=finance_administrator,ims-income=income_officer,"
    "ims-income=auditor",
    "OIDC_COUNCIL_CLAIM": "council",
    "OIDC_DEFAULT_COUNCIL": "barsetshire",
    "LOCAL_LOGIN": "break-glass",
    "AUTHENTICATION_BACKENDS": BACKENDS,
}


@pytest.fixture
def single_sign_on(council):
    with override_settings(**SINGLE_SIGN_ON):
        forget_discovery()
        yield
    forget_discovery()


def sign_in(claims):
    """What the backend makes of ``claims``: the user, or the refusal's message."""
    backend = StaffIdentityBackend()
    backend.request = RequestFactory().get("/oidc/callback/")
    try:
        return backend._sync({"sub": "staff-0001", **claims})
    except SignInRefused as refusal:
        return str(refusal)


def roles_of(user):
    return sorted(user.groups.values_list("name", flat=True))


def councils_of(user):
    return sorted(
        Membership.objects.active().filter(user=user).values_list("organisation__code", flat=True)
    )


# OIDC_ROLE_GROUPS ---------------------------------------------------------------------


def test_each_role_has_a_key_for_the_group_mapping():
    assert ROLES_BY_KEY["finance_administrator"] == FINANCE_ADMINISTRATOR
    assert ROLES_BY_KEY["income_officer"] == INCOME_OFFICER
    assert sorted(ROLES_BY_KEY.values()) == sorted(role.name for role in ROLES)


def test_a_group_can_grant_several_roles_and_spaces_around_entries_do_not_matter():
    mapping = parse_role_groups(
        " ims-income = income_officer , ims-income=auditor,"
        "IMS Finance Admins=finance_administrator,"
    )

    assert mapping == {
        "ims-income": {INCOME_OFFICER, AUDITOR},
        "IMS Finance Admins": {FINANCE_ADMINISTRATOR},
    }


def test_an_unknown_role_in_the_mapping_is_named_with_the_roles_there_are():
    with pytest.raises(ImproperlyConfigured) as error:
        parse_role_groups("ims-finance=finance_administrator,ims-boss=chief_executive")

    assert "'ims-boss=chief_executive' names the unknown role 'chief_executive'" in str(error.value)
    assert "finance_administrator, income_officer" in str(error.value)


def test_an_entry_that_is_not_group_equals_role_is_refused():
    with pytest.raises(ImproperlyConfigured, match="'ims-finance' is not group=role"):
        parse_role_groups("ims-finance")


# Settings, read in a fresh interpreter as at start-up ---------------------------------


def start(*command, **environment):
    env = {"PATH": os.environ["PATH"], "SECRET_KEY": "k", **environment}
    return subprocess.run(
        [sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


def read_settings(**environment):
    code = (
        "import backoffice.settings as s;"
        "print(s.OIDC_ENABLED, s.LOCAL_LOGIN, len(s.AUTHENTICATION_BACKENDS))"
    )
    result = start("-c", code, **environment)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


PROVIDER = {
    "OIDC_RP_CLIENT_ID": "income-management",
    "OIDC_RP_CLIENT_SECRET": "secret",
    "OIDC_OP_ISSUER": "https://login.example.gov.uk",
}


def test_single_sign_on_is_off_and_passwords_are_for_everyone_until_a_client_id_is_set():
    assert read_settings() == ["False", "on", "1"]
    assert read_settings(**PROVIDER) == ["True", "break-glass", "2"]
    assert read_settings(**PROVIDER, LOCAL_LOGIN="off") == ["True", "off", "2"]


def test_settings_that_would_lock_everybody_out_or_cannot_work_stop_the_start():
    cases = {
        "LOCAL_LOGIN='sometimes' is not one of on, break-glass, off": {"LOCAL_LOGIN": "sometimes"},
        "LOCAL_LOGIN=off with single sign-on off": {"LOCAL_LOGIN": "off"},
        "set OIDC_OP_ISSUER (the provider's issuer URL, for discovery) or else "
        "OIDC_OP_AUTHORIZATION_ENDPOINT, OIDC_OP_TOKEN_ENDPOINT": {
            **PROVIDER,
            "OIDC_OP_ISSUER": "",
        },
        "set OIDC_RP_CLIENT_SECRET too": {**PROVIDER, "OIDC_RP_CLIENT_SECRET": ""},
    }
    for message, environment in cases.items():
        result = start("-c", "import backoffice.settings", **environment)
        assert result.returncode != 0 and message in result.stderr, (message, result.stderr)


def test_a_mapping_to_an_unknown_role_stops_the_system_starting():
    result = start("manage.py", "check", **PROVIDER, OIDC_ROLE_GROUPS="ims-finance=finance_admin")

    assert result.returncode != 0
    assert "ImproperlyConfigured: OIDC_ROLE_GROUPS entry 'ims-finance=finance_admin'" in (
        result.stderr
    )


def test_single_sign_on_with_no_group_mapped_stops_the_system_starting():
    result = start("manage.py", "check", **PROVIDER)

    assert result.returncode != 0
    assert "OIDC_ROLE_GROUPS maps no group to a role" in result.stderr


# Claims -> account, roles and councils ------------------------------------------------


def test_a_first_sign_in_creates_the_user_with_the_roles_and_council_the_claims_give(
    single_sign_on,
):
    user = sign_in(
        {
            "given_name": "Fay",
            "family_name": "Admin",
            "email": "fay@barsetshire.gov.uk",
            "groups": ["ims-finance", "all-staff"],
        }
    )

    assert (user.username, user.first_name, user.last_name, user.email) == (
        "staff-0001",
        "Fay",
        "Admin",
        "fay@barsetshire.gov.uk",
    )
    assert roles_of(user) == [FINANCE_ADMINISTRATOR]
    assert councils_of(user) == ["barsetshire"]
    assert not user.is_superuser and not user.has_usable_password()


def test_one_group_can_give_two_roles_and_a_single_group_may_come_as_a_string(single_sign_on):
    user = sign_in({"name": "Ian Come", "groups": "ims-income"})

    assert roles_of(user) == [AUDITOR, INCOME_OFFICER]
    assert (user.first_name, user.last_name) == ("Ian", "Come")


def test_each_sign_in_sets_roles_afresh_but_leaves_groups_that_are_not_roles(single_sign_on):
    user = sign_in({"groups": ["ims-finance"]})
    by_hand = Group.objects.create(name="Year-end helpers")
    user.groups.add(by_hand)

    user = sign_in({"groups": ["ims-income"]})

    assert roles_of(user) == sorted([AUDITOR, INCOME_OFFICER, "Year-end helpers"])


def test_someone_with_no_mapped_group_is_refused_and_an_existing_user_loses_every_role(
    single_sign_on,
):
    user = sign_in({"groups": ["ims-finance"]})

    refusal = sign_in({"groups": ["all-staff"]})

    assert refusal.startswith("You are not in any group that may use the income management")
    assert roles_of(user) == []


def test_someone_new_with_no_mapped_group_is_refused_without_an_account_being_made(
    single_sign_on,
):
    assert "not in any group" in sign_in({"groups": []})
    assert not get_user_model().objects.filter(username="staff-0001").exists()


def test_the_council_claim_gives_the_memberships_and_ends_those_no_longer_named(
    single_sign_on, council, other_council
):
    third = OrganisationFactory(code="mercia", name="Mercia County Council")
    user = sign_in({"groups": ["ims-income"], "council": ["wessex", "mercia"]})
    assert councils_of(user) == ["mercia", "wessex"]

    user = sign_in({"groups": ["ims-income"], "council": "wessex"})

    assert councils_of(user) == ["wessex"]
    assert Membership.objects.get(user=user, organisation=third).is_active is False


def test_without_a_council_claim_the_default_council_is_used(single_sign_on, council):
    assert councils_of(sign_in({"groups": ["ims-income"]})) == ["barsetshire"]


def test_a_council_this_system_does_not_have_is_refused_and_takes_the_membership_away(
    single_sign_on, council
):
    user = sign_in({"groups": ["ims-income"]})

    refusal = sign_in({"groups": ["ims-income"], "council": "atlantis"})

    assert "names a council this system does not know (atlantis)" in refusal
    assert councils_of(user) == []


def test_with_no_council_claim_and_no_default_nobody_is_let_in(single_sign_on):
    with override_settings(OIDC_DEFAULT_COUNCIL=""):
        refusal = sign_in({"groups": ["ims-income"]})

    assert refusal.startswith("Your account does not say which council you work for")
    assert not get_user_model().objects.exists()


def test_single_sign_on_never_takes_over_a_superuser_or_a_password_account(single_sign_on, council):
    get_user_model().objects.create_superuser("staff-0001", password="break-glass-password")

    refusal = sign_in({"groups": ["ims-finance"], "email": "attacker@example.com"})

    assert "matches a local administrator account" in refusal
    superuser = get_user_model().objects.get(username="staff-0001")
    assert superuser.is_superuser and superuser.email == "" and roles_of(superuser) == []


def test_a_user_switched_off_here_stays_off_whatever_the_provider_says(single_sign_on):
    user = sign_in({"groups": ["ims-income"]})
    user.is_active = False
    user.save()

    assert "switched off in the income management system" in sign_in({"groups": ["ims-income"]})
    user.refresh_from_db()
    assert user.is_active is False


def test_a_claim_set_without_the_username_claim_is_refused(single_sign_on):
    with override_settings(OIDC_USERNAME_CLAIM="preferred_username"):
        refusal = sign_in({"groups": ["ims-income"]})

    assert "did not say who you are (no usable 'preferred_username' claim)" in refusal


# The login page and LOCAL_LOGIN ------------------------------------------------------


def post_password(client, username, password):
    return client.post(
        "/admin/login/", {"username": username, "password": password, "next": "/admin/"}
    )


@pytest.fixture
def break_glass_admin(db):
    return get_user_model().objects.create_superuser("break.glass", password="glass-password")


@pytest.fixture
def staff_with_password(council):
    return staff(council, username="local.staff", password="staff-password")


def test_without_single_sign_on_everyone_signs_in_with_a_password(client, staff_with_password):
    page = client.get("/admin/login/")
    assert b"Sign in with" not in page.content

    response = post_password(client, "local.staff", "staff-password")

    assert response.status_code == 302 and response.url == "/admin/"


def test_break_glass_lets_a_superuser_in_with_a_password(client, single_sign_on, break_glass_admin):
    response = post_password(client, "break.glass", "glass-password")

    assert response.status_code == 302 and response.url == "/admin/"


def test_break_glass_refuses_staff_a_password_sign_in_and_says_why(
    client, single_sign_on, staff_with_password
):
    response = post_password(client, "local.staff", "staff-password")

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Only the break-glass administrator may sign in with a password. "
        "Sign in with Barsetshire staff account instead."
    ]
    assert "_auth_user_id" not in client.session


def test_break_glass_still_says_a_wrong_password_is_wrong(
    client, single_sign_on, staff_with_password
):
    response = post_password(client, "local.staff", "not-the-password")

    assert "didn't match" in response.context["form"].non_field_errors()[0]


def test_the_login_page_offers_the_provider_above_the_break_glass_form(client, single_sign_on):
    page = client.get("/admin/login/?next=/admin/transactions/payments/").content.decode()

    assert (
        'href="/oidc/authenticate/?next=%2Fadmin%2Ftransactions%2Fpayments%2F"'
        ">Sign in with Barsetshire staff account</a>" in page
    )
    assert "Break-glass administrator" in page and 'name="password"' in page


def test_with_local_login_off_there_is_no_password_form_and_a_post_is_refused(
    client, single_sign_on, break_glass_admin
):
    with override_settings(LOCAL_LOGIN="off"):
        page = client.get("/admin/login/").content.decode()
        response = post_password(client, "break.glass", "glass-password")

    assert "Sign in with Barsetshire staff account" in page
    assert 'name="password"' not in page and "Break-glass" not in page
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Signing in with a password is switched off. Sign in with Barsetshire staff account."
    ]
    assert "_auth_user_id" not in client.session


# Going to the provider, coming back, signing out ----------------------------------------


def test_sign_in_sends_the_person_to_the_provider_with_state_nonce_and_pkce(client, single_sign_on):
    response = client.get("/oidc/authenticate/?next=/admin/transactions/payments/")

    assert response.status_code == 302
    address = urlsplit(response.url)
    query = parse_qs(address.query)
    assert f"{address.scheme}://{address.netloc}{address.path}" == (
        "https://login.example.gov.uk/authorize"
    )
    assert query["client_id"] == ["income-management"]
    assert query["redirect_uri"] == ["http://testserver/oidc/callback/"]
    assert query["scope"] == ["openid email profile"]
    assert query["code_challenge_method"] == ["S256"]
    assert {"state", "nonce", "code_challenge"} <= set(query)
    assert client.session["oidc_login_next"] == "/admin/transactions/payments/"


def test_an_unreachable_provider_is_explained_on_the_login_page(client, single_sign_on):
    # A port nothing listens on: the discovery document cannot be fetched.
    with override_settings(OIDC_OP_ISSUER=f"http://127.0.0.1:{free_port()}"):
        response = client.get("/oidc/authenticate/")

    assert response.status_code == 302 and response.url == "/admin/login/"
    assert [str(message) for message in get_messages(response.wsgi_request)] == [
        "Signing in with Barsetshire staff account did not work: it could not be reached. "
        "Try again in a few minutes; if it goes on, tell your IT service desk."
    ]


def test_a_sign_in_the_provider_turned_down_comes_back_to_the_login_page_with_a_message(
    client, single_sign_on
):
    response = client.get("/oidc/callback/?error=access_denied&state=unknown")

    assert response.status_code == 302 and response.url == "/admin/login/"
    assert [str(message) for message in get_messages(response.wsgi_request)] == [
        "Signing in with Barsetshire staff account did not finish. Please try again."
    ]


def test_without_single_sign_on_its_addresses_are_not_found(client, db):
    assert client.get("/oidc/authenticate/").status_code == 404
    assert client.get("/oidc/callback/?code=x&state=y").status_code == 404


def test_signing_out_of_a_single_sign_on_session_signs_out_at_the_provider_too(
    client, single_sign_on, council
):
    user = sign_in({"groups": ["ims-income"]})
    client.force_login(user, backend=BACKENDS[1])
    session = client.session
    session[SESSION_ID_TOKEN] = "the.id.token"
    session.save()

    response = client.post("/admin/logout/")

    address = urlsplit(response.url)
    assert f"{address.scheme}://{address.netloc}{address.path}" == (
        "https://login.example.gov.uk/logout"
    )
    assert parse_qs(address.query) == {
        "client_id": ["income-management"],
        "post_logout_redirect_uri": ["http://testserver/admin/login/"],
        "id_token_hint": ["the.id.token"],
    }
    assert "_auth_user_id" not in client.session


def test_signing_out_of_a_password_session_stays_here(client, single_sign_on, break_glass_admin):
    client.force_login(break_glass_admin, backend=BACKENDS[0])

    response = client.post("/admin/logout/")

    assert response.status_code == 302 and response.url == "/admin/login/"
    assert "_auth_user_id" not in client.session
