"""Migration payments/0002: keys of payments and refunds move from their records onto their rows.

A till retrying a payment taken before the upgrade must still get that
payment back, not take the money twice.
"""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("payments", "0001_initial")]
AFTER = [("payments", "0002_idempotency_keys_on_rows")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture(autouse=True)
def back_to_the_latest():
    """Every app migrated to its latest again afterwards, for the tests that follow."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_records_of_payments_and_refunds_move_onto_their_rows(council):
    apps = migrate(BEFORE)
    Payment = apps.get_model("payments", "Payment")
    Refund = apps.get_model("payments", "Refund")
    IdempotencyRecord = apps.get_model("payments", "IdempotencyRecord")
    common = {"organisation_id": council.pk, "channel": "online", "method": "card"}
    taken = Payment.objects.create(**common, total_pence=100, tax_point="2026-01-01")
    created = Payment.objects.create(**common, total_pence=200, tax_point="2026-01-01")
    refund = Refund.objects.create(
        organisation_id=council.pk, payment=taken, amount_pence=50, reason="Overpaid"
    )
    for scope, key, result in [
        ("payment_take", "till-1", taken),
        ("payment_create", "till-1", created),  # the same key for both: allowed before
        ("refund_request", "refund-1", refund),
        ("journal_request", "journal-1", taken),
    ]:
        IdempotencyRecord.objects.create(
            organisation_id=council.pk, scope=scope, key=key, fingerprint=scope, result_id=result.pk
        )

    apps = migrate(AFTER)

    Payment = apps.get_model("payments", "Payment")
    Refund = apps.get_model("payments", "Refund")
    IdempotencyRecord = apps.get_model("payments", "IdempotencyRecord")
    keys = dict(Payment.objects.values_list("pk", "idempotency_key"))
    # The first payment keeps the key; the other's retries get a conflict, never a payment.
    assert keys == {taken.pk: "till-1", created.pk: None}
    assert Payment.objects.get(pk=taken.pk).idempotency_fingerprint == "payment_take"
    assert Refund.objects.get(pk=refund.pk).idempotency_key == "refund-1"
    assert list(IdempotencyRecord.objects.values_list("scope", flat=True)) == ["journal_request"]
