"""Roles are groups whose permissions the code owns."""

from django.contrib.auth.models import Group, Permission

from backoffice.accounts.roles import (
    DEPARTMENT_USER,
    FINANCE_ADMINISTRATOR,
    ROLES,
    ROLES_BY_NAME,
    sync_roles,
)


def test_every_role_exists_after_migrate_with_every_permission_it_names(db):
    assert sync_roles() == {}
    for role in ROLES:
        group = Group.objects.get(name=role.name)
        granted = {
            f"{app}.{codename}"
            for app, codename in group.permissions.values_list(
                "content_type__app_label", "codename"
            )
        }
        assert granted == set(role.permissions), role.name


def test_a_permission_granted_to_a_role_by_hand_is_taken_away_at_the_next_sync(db):
    group = Group.objects.get(name=FINANCE_ADMINISTRATOR)
    group.permissions.add(Permission.objects.get(codename="delete_organisation"))

    sync_roles()

    assert not group.permissions.filter(codename="delete_organisation").exists()


def test_syncing_twice_changes_nothing(db):
    sync_roles()
    before = {group.name: set(group.permissions.all()) for group in Group.objects.all()}

    sync_roles()

    assert {group.name: set(group.permissions.all()) for group in Group.objects.all()} == before


def test_a_department_user_reads_payments_and_nothing_else_of_the_transactions():
    """Which payments is the scoping's to say (their fund groups' only, backoffice/search/
    scoping.py); journals, refunds and the ledger are not theirs to read."""
    permissions = ROLES_BY_NAME[DEPARTMENT_USER].permissions

    assert "payments.view_payment" in permissions
    assert not {"payments.view_refund", "ledger.view_journal", "ledger.view_journalentry"} & (
        permissions
    )
