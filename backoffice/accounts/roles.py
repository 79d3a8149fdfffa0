"""The roles staff hold, as Django groups with the permissions each role needs.

A role is a group whose permissions this module owns: ``sync_roles`` (run
after every ``migrate``) adds what is missing and takes away what a role
should no longer have, so a permission granted by hand to a role group does
not survive the next deployment. Give a person extra rights through a
separate group instead. docs/roles.md is the human-readable matrix.
"""

from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission
from django.db import transaction


@dataclass(frozen=True)
class Role:
    name: str
    description: str
    permissions: frozenset[str]  # "app_label.codename"


ADMIN_ACCESS = "wagtailadmin.access_admin"
FUND_CONFIGURATION_MODELS = (
    "fundcode",
    "service",
    "fundgroup",
    "referencerule",
    "vatrate",
    "department",
)


def _crud(app_label: str, models, actions=("add", "change", "delete", "view")) -> set[str]:
    return {f"{app_label}.{action}_{model}" for model in models for action in actions}


def _view(app_label: str, models) -> set[str]:
    return _crud(app_label, models, actions=("view",))


TRANSACTIONS_READ = {
    "payments.view_payment",
    "payments.view_refund",
    "ledger.view_journal",
    "ledger.view_journalentry",
    "ledger.view_account",
}

FINANCE_ADMINISTRATOR = "Finance administrator"
INCOME_OFFICER = "Income officer"
APPROVER = "Refund and journal approver"
CASHIER = "Cashier"
DEPARTMENT_USER = "Department user"
AUDITOR = "Auditor"
SYSTEM_ADMINISTRATOR = "System administrator"

ROLES: tuple[Role, ...] = (
    Role(
        FINANCE_ADMINISTRATOR,
        "Configures fund codes, services, VAT rates, reference rules, receipt templates and "
        "the council's integrations; reads transactions.",
        frozenset(
            {
                ADMIN_ACCESS,
                *_crud("funds", FUND_CONFIGURATION_MODELS),
                *TRANSACTIONS_READ,
                "tenancy.change_own_council",
                "plugins.manage_integrations",
                *_crud("receipts", ("receipttemplate",)),
                "audit.view_auditevent",
            }
        ),
    ),
    Role(
        INCOME_OFFICER,
        "Searches, refunds and requests journals; reads fund configuration.",
        frozenset(
            {
                ADMIN_ACCESS,
                *_view("funds", FUND_CONFIGURATION_MODELS),
                *TRANSACTIONS_READ,
                "payments.refund_payment",
                "ledger.request_journal",
            }
        ),
    ),
    Role(
        APPROVER,
        "Approves journals above the council's limit; reads fund configuration.",
        frozenset(
            {
                ADMIN_ACCESS,
                *_view("funds", FUND_CONFIGURATION_MODELS),
                *TRANSACTIONS_READ,
                "ledger.approve_journal",
            }
        ),
    ),
    Role(
        CASHIER,
        "Takes face-to-face and telephone payments; reads fund codes and services.",
        frozenset({ADMIN_ACCESS, *_view("funds", ("fundcode", "service"))}),
    ),
    Role(
        DEPARTMENT_USER,
        "Submits cash returns for their own fund groups; reads fund codes and services, and "
        "the payments of their own fund groups.",
        frozenset(
            {
                ADMIN_ACCESS,
                *_view("funds", ("fundcode", "service")),
                # Which payments is backoffice/search/scoping.py's to say: those with a line
                # in the fund groups on their membership, and none until some are chosen.
                "payments.view_payment",
            }
        ),
    ),
    Role(
        AUDITOR,
        "Reads everything, changes nothing.",
        frozenset(
            {
                ADMIN_ACCESS,
                *_view("funds", FUND_CONFIGURATION_MODELS),
                *_view("tenancy", ("organisation", "membership")),
                *_view("receipts", ("receipttemplate",)),
                *TRANSACTIONS_READ,
                "audit.view_auditevent",
            }
        ),
    ),
    Role(
        SYSTEM_ADMINISTRATOR,
        "Manages councils, staff accounts and their roles.",
        frozenset(
            {
                ADMIN_ACCESS,
                *_crud("tenancy", ("organisation", "membership")),
                *_crud("auth", ("user", "group")),
                "audit.view_auditevent",
            }
        ),
    ),
)

ROLES_BY_NAME = {role.name: role for role in ROLES}


def _permissions(names, using):
    wanted = {tuple(name.split(".", 1)) for name in names}
    found = {
        (permission.content_type.app_label, permission.codename): permission
        for permission in Permission.objects.using(using).select_related("content_type")
        if (permission.content_type.app_label, permission.codename) in wanted
    }
    missing = wanted - set(found)
    return list(found.values()), sorted(".".join(key) for key in missing)


@transaction.atomic
def sync_roles(*, using: str = "default") -> dict[str, list[str]]:
    """Create each role's group and give it exactly its permissions.

    Returns, per role, permissions that do not exist (yet): after a partial
    migrate some apps' permissions may be missing; the next run adds them.
    """
    missing_by_role = {}
    for role in ROLES:
        group, _ = Group.objects.using(using).get_or_create(name=role.name)
        permissions, missing = _permissions(role.permissions, using)
        group.permissions.set(permissions)
        if missing:
            missing_by_role[role.name] = missing
    return missing_by_role
