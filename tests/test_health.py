from unittest import mock

from django.db import DatabaseError
from django.urls import reverse


def test_healthz_answers_200_when_the_database_answers(client, db):
    response = client.get(reverse("healthz"))

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_when_the_database_does_not(client, db):
    # A real outage cannot be staged inside the test's own transaction, so the
    # cursor is made to fail the way a dropped connection does.
    with mock.patch("backoffice.health.connection.cursor", side_effect=DatabaseError("gone")):
        response = client.get(reverse("healthz"))

    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"


def test_healthz_is_served_over_plain_http_for_the_load_balancer(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True

    response = client.get(reverse("healthz"))

    assert response.status_code == 200
