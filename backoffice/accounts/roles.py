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

# Reading the counter and banking: till sessions, cash returns and their templates, offices
# and tills, paying-in slips. Which cash returns and templates is backoffice/counter/
# selectors.py's to say, as for payments.
COUNTER_READ = {
    "counter.view_office",
    "counter.view_till",
    "counter.view_tillsession",
    "counter.view_cashreturn",
    "counter.view_returntemplate",
    "banking.view_payinginslip",
}

# Reading suspense: the items (narrowed by a membership's fund groups, backoffice/suspense/
# selectors.py), the ageing report, the rules and their dry run.
SUSPENSE_READ = {"suspense.view_suspenseitem", "suspense.view_suspenserule"}

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
        "Configures fund codes, services, VAT rates, reference rules, receipt templates, the "
        "council's integrations, suspense rules, offices and tills, and its payment pages and "
        "their branding; reads transactions, suspense, the counter and banking.",
        frozenset(
            {
                ADMIN_ACCESS,
                *_crud("funds", FUND_CONFIGURATION_MODELS),
                *TRANSACTIONS_READ,
                "tenancy.change_own_council",
                "plugins.manage_integrations",
                *_crud("receipts", ("receipttemplate",)),
                "audit.view_auditevent",
                *_crud("counter", ("office", "till")),
                *COUNTER_READ,
                # Their own council's public sites only: backoffice/branding/permissions.py.
                "branding.change_own_council_branding",
                *SUSPENSE_READ,
                # Notes on items, and trying the switched-on rules on them.
                "suspense.change_suspenseitem",
                *_crud("suspense", ("suspenserule",)),
            }
        ),
    ),
    Role(
        INCOME_OFFICER,
        "Searches, refunds and requests journals; allocates suspense; signs off till "
        "sessions, authorises cash returns and banks paying-in slips; reads fund configuration.",
        frozenset(
            {
                ADMIN_ACCESS,
                *_view("funds", FUND_CONFIGURATION_MODELS),
                *TRANSACTIONS_READ,
                "payments.refund_payment",
                "ledger.request_journal",
                *COUNTER_READ,
                "counter.signoff_tillsession",
                "counter.authorise_cashreturn",
                "banking.prepare_payinginslip",
                "banking.bank_payinginslip",
                *SUSPENSE_READ,
                "suspense.change_suspenseitem",
                "suspense.allocate_suspenseitem",
            }
        ),
    ),
    Role(
        APPROVER,
        "Approves journals above the council's limit; reads fund configuration, suspense, the "
        "counter and banking.",
        frozenset(
            {
                ADMIN_ACCESS,
                *_view("funds", FUND_CONFIGURATION_MODELS),
                *TRANSACTIONS_READ,
                "ledger.approve_journal",
                *COUNTER_READ,
                *SUSPENSE_READ,
            }
        ),
    ),
    Role(
        CASHIER,
        "Takes face-to-face and telephone payments in their own till sessions; reads fund "
        "codes, services and the council's till sessions.",
        frozenset(
            {
                ADMIN_ACCESS,
                *_view("funds", ("fundcode", "service")),
                # Every till session of their council, to read; only their own to take
                # payments in and close (backoffice/counter/views.py).
                "counter.view_tillsession",
                "counter.open_tillsession",
            }
        ),
    ),
    Role(
        DEPARTMENT_USER,
        "Submits cash returns for their own fund groups and keeps their templates; reads fund "
        "codes and services, and the payments of their own fund groups.",
        frozenset(
            {
                ADMIN_ACCESS,
                *_view("funds", ("fundcode", "service")),
                # Which payments is backoffice/search/scoping.py's to say: those with a line
                # in the fund groups on their membership, and none until some are chosen.
                "payments.view_payment",
                # Likewise the cash returns and return templates of those fund groups'
                # departments (backoffice/counter/selectors.py).
                "counter.view_cashreturn",
                "counter.prepare_cashreturn",
                "counter.view_returntemplate",
                "counter.change_returntemplate",
                "counter.delete_returntemplate",
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
                *COUNTER_READ,
                *SUSPENSE_READ,
            }
        ),
    ),
    Role(
        SYSTEM_ADMINISTRATOR,
        "Manages councils, staff accounts and their roles, and every public site's branding.",
        frozenset(
            {
                ADMIN_ACCESS,
                *_crud("tenancy", ("organisation", "membership")),
                *_crud("auth", ("user", "group")),
                "audit.view_auditevent",
                # Every public site of the deployment's, as they keep every council.
                "branding.change_portalbranding",
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
