"""A staff account the audit log names is deactivated, never deleted."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from backoffice.accounts.roles import INCOME_OFFICER, SYSTEM_ADMINISTRATOR
from tests.factories import staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def sysadmin_client(client, council):
    client.force_login(staff(council, roles=(SYSTEM_ADMINISTRATOR,), username="sysadmin"))
    return client


def delete_url(user):
    return reverse("wagtailusers_users:delete", args=[user.pk])


def test_an_account_with_an_audit_history_is_kept_and_the_administrator_told_why(
    sysadmin_client, council
):
    leaver = staff(council, roles=(INCOME_OFFICER,), username="leaver")
    Client().force_login(leaver)  # signing in, on their own computer, puts them in the log

    response = sysadmin_client.post(delete_url(leaver))

    assert response.status_code == 302
    assert response.url == reverse("wagtailusers_users:edit", args=[leaver.pk])
    assert any(
        "cannot be deleted. Deactivate it instead" in str(message)
        for message in get_messages(response.wsgi_request)
    )
    assert get_user_model().objects.filter(pk=leaver.pk).exists()


def test_an_account_never_used_can_still_be_deleted(sysadmin_client, council):
    mistake = staff(council, roles=(INCOME_OFFICER,), username="created.by.mistake")

    response = sysadmin_client.post(delete_url(mistake))

    assert response.status_code == 302
    assert not get_user_model().objects.filter(pk=mistake.pk).exists()
