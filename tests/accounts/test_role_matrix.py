"""docs/roles.md's matrix of roles and screens, held to what the back office does.

The table in docs/roles.md is the specification: this module reads it, and
for every row asks, as a member of staff holding each role alone, every
admin address and action the row covers (``SCREENS`` below). "yes" means the
page answers (and a form sent with valid data does its work); "no" means
Wagtail's refusal, a redirect to the dashboard with "Sorry, you do not have
permission to access this area". Every admin URL the project routes must be
covered by a row, or be one of Wagtail's own screens the back office does not
use (``NOT_BACK_OFFICE_SCREENS``), so a screen added later fails here until
docs/roles.md says who may use it.

One council's rows are built once for the module (``world``); each test runs
in a transaction of its own, and each POST in a savepoint rolled back after
it, so every request meets the same rows whatever the one before did.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, override_settings
from django.urls import resolve, reverse
from django.utils.text import slugify

from backoffice.accounts.roles import (
    CASHIER,
    DEPARTMENT_USER,
    INCOME_OFFICER,
    ROLES,
    SYSTEM_ADMINISTRATOR,
)
from backoffice.funds.models import Channel, VatCategory
from backoffice.ledger.services import journal_request
from backoffice.payments.models import Payment
from backoffice.payments.services import LineInput, Payer, payment_take
from backoffice.receipts.models import ReceiptTemplate
from backoffice.tenancy.models import Membership
from tests.factories import (
    DepartmentFactory,
    FundCodeFactory,
    FundGroupFactory,
    OrganisationFactory,
    ServiceFactory,
    UserFactory,
    VatRateFactory,
    integration,
    mod11_rule,
    staff,
)

from .matrix import (
    MatrixError,
    admin_routes,
    allowed,
    as_new,
    describe,
    form_data,
    is_refusal,
    messages_of,
    read_matrix,
)
from .matrix_rows import COUNT_OF_TAKEN, counter_rows, public_site_rows, suspense_rows

pytestmark = pytest.mark.django_db

MATRIX = read_matrix()
THRESHOLD = 10_000  # £100.00: a bigger journal waits for a second person
ALL_CHANNELS = list(Channel.values)


# The rows every request meets --------------------------------------------------------------


@dataclass
class World:
    """A council with one of everything, another council with the same, and staff."""

    council: object
    other: object
    users: dict = field(default_factory=dict)  # role name -> a user holding that role alone
    ours: dict = field(default_factory=dict)  # key -> a row of the council
    theirs: dict = field(default_factory=dict)  # key -> the other council's row of that kind
    forms: dict = field(default_factory=dict)  # key -> a form's valid data, as a browser sends it
    files: dict = field(default_factory=dict)  # key -> an upload's content


def _one_of_everything(organisation, *, prefix: str) -> dict:
    """Fund configuration, payments, a journal waiting for approval, a receipt template and
    integrations, each with a spare of its kind that nothing uses (for deleting)."""
    standard = VatRateFactory(organisation=organisation, code="S", name="Standard rate")
    outside = VatRateFactory(
        organisation=organisation,
        code="O",
        name="Outside the scope",
        category=VatCategory.OUTSIDE_SCOPE,
    )
    rule = mod11_rule(organisation)
    department = DepartmentFactory(organisation=organisation, code="PARKING", name="Parking")
    parking = FundCodeFactory(
        organisation=organisation,
        code="PARK",
        name="Parking",
        department=department,
        default_vat_rate=standard,
        allowed_channels=ALL_CHANNELS,
    )
    ctax = FundCodeFactory(
        organisation=organisation,
        code="CTAX",
        name="Council tax",
        reference_rule=rule,
        default_vat_rate=outside,
        allowed_channels=ALL_CHANNELS,
    )
    group = FundGroupFactory(organisation=organisation, name="Parking services")
    group.fund_codes.add(parking)
    parking_payment = payment_take(
        organisation=organisation,
        channel="face_to_face",
        method="cash",
        lines=[LineInput(parking, 24_000, account_reference=f"{prefix}PCN0001")],
        payer=Payer(name="Ann Example", email="ann@example.com", postcode="BA1 1AA"),
    )
    ctax_payment = payment_take(
        organisation=organisation,
        channel="face_to_face",
        method="cheque",
        lines=[LineInput(ctax, 5_000, account_reference="12345674")],
        payer=Payer(name="Bob Example"),
    )
    requester = staff(organisation, roles=(INCOME_OFFICER,), username=f"{prefix}.requester")
    pending = journal_request(
        organisation=organisation,
        from_fund_code=parking,
        to_fund_code=ctax,
        amount_pence=15_000,
        reason="Paid to the wrong fund",
        requested_by=requester,
        payment_line=parking_payment.lines.get(),
    )
    return {
        "vat_rate": standard,
        "reference_rule": rule,
        "department": department,
        "fund_code": parking,
        "service": ServiceFactory(organisation=organisation, fund_code=parking, slug="permits"),
        "fund_group": group,
        "payment": parking_payment,
        "ctax_payment": ctax_payment,
        "payment_line": parking_payment.lines.get(),
        "journal": pending,
        "requester": requester,
        "ctax_fund_code": ctax,
        "receipt_template": ReceiptTemplate.objects.create(
            organisation=organisation, name="Standard", heading="{council_name} receipt"
        ),
        "telephone": integration(organisation, plugin="telephone", settings={"fund_codes": []}),
        "department_files": integration(
            organisation, plugin="department_files", settings={"fund_codes": ["PARK"]}
        ),
        "spare_vat_rate": VatRateFactory(organisation=organisation, code="SPARE"),
        "spare_reference_rule": mod11_rule(organisation, name="Spare rule"),
        "spare_department": DepartmentFactory(organisation=organisation, code="SPARE"),
        "spare_fund_code": FundCodeFactory(
            organisation=organisation, code="SPARE", default_vat_rate=outside
        ),
        "spare_service": ServiceFactory(organisation=organisation, fund_code=ctax, slug="spare"),
        "spare_fund_group": FundGroupFactory(organisation=organisation, name="Spare group"),
        "spare_receipt_template": ReceiptTemplate.objects.create(
            organisation=organisation, name="Spare", heading="Receipt"
        ),
    }


def _admin_form(client, url) -> dict:
    response = client.get(url)
    assert response.status_code == 200, (url, describe(response))
    return form_data(response)


def _valid_forms(client, world) -> dict:
    """Each form's valid data, as the pages give it to someone who may use them."""
    ours = world.ours
    forms = {}
    for viewset, key in (*CONFIGURATION, *COUNTER_CONFIGURATION):
        forms[viewset] = _admin_form(client, reverse(f"{viewset}:edit", args=[ours[key].pk]))
    forms["counter_returntemplate"] = _admin_form(
        client, reverse("counter_returntemplate:edit", args=[ours["return_template"].pk])
    )
    forms["return_fill_in"] = _admin_form(
        client, reverse("counter_cashreturn:fill_in", args=[ours["draft_return"].pk])
    )
    forms["suspense_rule"] = _admin_form(
        client, reverse("suspense_rule:edit", args=[ours["suspense_rule"].pk])
    )
    forms["allocate"] = _admin_form(
        client, reverse("suspense_item:allocate", args=[ours["suspense_item"].pk])
    )
    forms["slip_prepare"] = _admin_form(client, reverse("banking_payinginslip:prepare"))
    forms["slip_bank"] = _admin_form(
        client, reverse("banking_payinginslip:bank", args=[ours["paying_in_slip"].pk])
    )
    forms["branding"] = _admin_form(
        client,
        reverse("wagtailsettings:edit", args=["branding", "portalbranding", ours["site"].pk]),
    )
    forms["page_add"] = _admin_form(
        client,
        reverse("wagtailadmin_pages:add", args=["portal", "servicepage", ours["payments_home"].pk]),
    )
    for key in ("payments_home", "service_page"):
        forms[key] = _admin_form(client, reverse("wagtailadmin_pages:edit", args=[ours[key].pk]))
    forms["receipts_receipttemplate"] = _admin_form(
        client, reverse("receipts_receipttemplate:edit", args=[ours["receipt_template"].pk])
    )
    forms["council_settings"] = _admin_form(client, reverse("tenancy_council_settings"))
    forms["refund"] = _admin_form(
        client, reverse("payments_payment:refund", args=[ours["payment"].pk])
    )
    forms["move_line"] = _admin_form(
        client, reverse("payments_payment:move_line", args=[ours["payment_line"].pk])
    )
    forms["integration_add"] = _admin_form(
        client, reverse("plugins_integrations:add", args=["telephone"])
    )
    forms["integration_edit"] = _admin_form(
        client, reverse("plugins_integrations:edit", args=[ours["telephone"].pk])
    )
    forms["tenancy_organisation"] = _admin_form(
        client, reverse("tenancy_organisation:edit", args=[world.council.pk])
    )
    forms["tenancy_membership"] = _admin_form(
        client, reverse("tenancy_membership:edit", args=[ours["membership"].pk])
    )
    forms["user_add"] = _admin_form(client, reverse("wagtailusers_users:add"))
    forms["user_edit"] = _admin_form(
        client, reverse("wagtailusers_users:edit", args=[ours["user"].pk])
    )
    forms["group_add"] = _admin_form(client, reverse("wagtailusers_groups:add"))
    forms["group_edit"] = _admin_form(
        client, reverse("wagtailusers_groups:edit", args=[ours["group"].pk])
    )
    return forms


def _build_world() -> World:
    council = OrganisationFactory(
        code="barsetshire",
        name="Barsetshire Borough Council",
        receipt_prefix="BAR",
        email="income@barsetshire.example",
        journal_approval_threshold_pence=THRESHOLD,
    )
    other = OrganisationFactory(
        code="wessex", name="Wessex District Council", journal_approval_threshold_pence=THRESHOLD
    )
    world = World(council=council, other=other)
    world.ours = _one_of_everything(council, prefix="BAR")
    world.theirs = _one_of_everything(other, prefix="WSX")
    for role in ROLES:
        world.users[role.name] = staff(
            council, roles=(role.name,), username=role.name.lower().replace(" ", ".")
        )
    # A Department user sees their fund groups' payments (parking), and only those.
    Membership.objects.get(user=world.users[DEPARTMENT_USER], organisation=council).fund_groups.add(
        world.ours["fund_group"]
    )

    # The counter, banking and the public site: the cashier's own session is the role's user's.
    their_cashier = staff(other, roles=(CASHIER,), username="WSX.till")
    for organisation, rows, prefix, cashier in (
        (council, world.ours, "BAR", world.users[CASHIER]),
        (other, world.theirs, "WSX", their_cashier),
    ):
        rows.update(
            counter_rows(
                organisation,
                prefix=prefix,
                cashier=cashier,
                supervisor=rows["requester"],
                parking=rows["fund_code"],
                ctax=rows["ctax_fund_code"],
                fund_group=rows["fund_group"],
            )
        )
        rows.update(suspense_rows(organisation, ctax=rows["ctax_fund_code"]))
        rows.update(
            public_site_rows(
                organisation, hostname=f"pay.{organisation.code}.test", fund_code=rows["fund_code"]
            )
        )

    # Councils, memberships, staff accounts and groups: the system administrator's.
    newcomer = UserFactory(username="newcomer", first_name="Nell", last_name="Newcomer")
    world.ours["membership"] = Membership.objects.create(user=newcomer, organisation=council)
    world.theirs["membership"] = Membership.objects.create(user=newcomer, organisation=other)
    world.ours["council"], world.theirs["council"] = council, other
    world.ours["spare_council"] = OrganisationFactory(code="spare", name="Spare Council")
    world.ours["user"] = newcomer
    world.ours["spare_user"] = UserFactory(username="leaver")
    world.ours["group"] = Group.objects.create(name="Payment readers")
    world.ours["spare_group"] = Group.objects.create(name="Unused group")

    operator = UserFactory(username="operator", is_superuser=True)
    Membership.objects.create(user=operator, organisation=council)
    client = Client()
    client.force_login(operator)
    world.forms = _valid_forms(client, world)
    for viewset in ("funds_fundcode", "funds_service"):
        export = client.get(reverse(f"{viewset}:export"), {"format": "csv"})
        world.files[viewset] = export.content
    world.files["known_references"] = b"fund_code,reference\nPARK,PCN00012345\n"
    return world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    media = tmp_path_factory.mktemp("media")
    with (
        override_settings(
            MEDIA_ROOT=media,
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            # A dozen members of staff: hashing their passwords properly would take seconds.
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        ),
        django_db_blocker.unblock(),
    ):
        # Built once, in a transaction rolled back when the module is done; each test's
        # own transaction (and so every change a test makes) nests inside it.
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield _build_world()
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def _receipts_not_typeset(monkeypatch):
    """Receipts are rendered to HTML but not typeset: who may have a receipt is the question
    here, and typesetting one takes a second (tests/receipts checks the PDFs themselves)."""
    from backoffice.receipts import rendering

    monkeypatch.setattr(rendering, "render_pdf", lambda html, look: b"%PDF-1.7 (not typeset)")


# What each row covers ---------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """One request: ``name`` is a URL name (or an admin path, for a URL with none)."""

    method: str
    name: str
    obj: str | None = None  # the row the URL is about: a key of World.ours and World.theirs
    args: tuple = ()
    then: tuple = ()  # the URL's arguments after the row's id; a callable is given the rows
    query: dict | Callable[["World"], dict] | None = None
    data: Callable[["World"], dict] | None = None
    answers: int | None = None  # an allowed request's status; 200 for GET, 302 for POST
    says: str = ""  # what an allowed answer says (on the page, or in its message)
    # What the request about another council's row answers: not found (404), unless it is
    # a screen of Wagtail's own that refuses rather than hides (a site's settings, a page).
    elsewhere: "Elsewhere | None" = None

    def url(self, world: World, rows: dict | None = None) -> str:
        if self.name.startswith("/"):
            return self.name
        rows = rows if rows is not None else world.ours
        args = list(self.args)
        if self.obj is not None:
            args.append(rows[self.obj].pk)
        args += [part(rows) if callable(part) else part for part in self.then]
        return reverse(self.name, args=args)

    @property
    def expected_status(self) -> int:
        return self.answers or (200 if self.method == "GET" else 302)

    def label(self, url: str) -> str:
        return f"{self.method} {url}"


@dataclass(frozen=True)
class Elsewhere:
    """What a request about another council's row answers, where that is not a 404."""

    description: str
    answered: Callable  # (response, world) -> whether the answer is this one


REFUSED_THERE = Elsewhere("refused", lambda response, world: is_refusal(response))
# The portal's own refusal of another council's page (backoffice/portal/wagtail_hooks.py),
# for the screens it guards before Wagtail asks about rights.
ANOTHER_COUNCILS_SITE = Elsewhere(
    "refused as another council's page",
    lambda response, world: (
        response.status_code == 302
        and response.url == reverse("wagtailadmin_home")
        and "That page belongs to another council's payments site." in messages_of(response)
    ),
)
# The page explorer sends a member of staff from another council's site to their own.
OWN_SITE_INSTEAD = Elsewhere(
    "sent to their own council's site",
    lambda response, world: (
        response.status_code == 302
        and response.url == reverse("wagtailadmin_explore", args=[world.ours["payments_home"].pk])
    ),
)


def get(name, obj=None, **kwargs) -> Action:
    return Action("GET", name, obj, **kwargs)


def post(name, obj=None, data=None, **kwargs) -> Action:
    return Action("POST", name, obj, data=data or (lambda world: {}), **kwargs)


def form(form_name, **changes):
    """A form's valid data (``World.forms``), with ``changes``."""
    return lambda world: {**world.forms[form_name], **changes}


def new(form_name, **changes):
    """An edit form's data sent to the add form: a new row, its unique fields changed."""
    return lambda world: as_new(world.forms[form_name], **changes)


def upload(key, filename, field_name):
    return lambda world: {
        field_name: SimpleUploadedFile(filename, world.files[key], content_type="text/csv")
    }


# The fund configuration screens: (viewset, key of its row), and what a new row changes.
CONFIGURATION = (
    ("funds_fundcode", "fund_code"),
    ("funds_service", "service"),
    ("funds_fundgroup", "fund_group"),
    ("funds_referencerule", "reference_rule"),
    ("funds_vatrate", "vat_rate"),
    ("funds_department", "department"),
)
NEW_ROW = {
    "funds_fundcode": {"code": "NEWFUND", "name": "New fund"},
    "funds_service": {"name": "New service", "slug": "new-service"},
    "funds_fundgroup": {"name": "New group"},
    "funds_referencerule": {"name": "New rule"},
    "funds_vatrate": {"code": "NEW", "name": "New rate"},
    "funds_department": {"code": "NEW", "name": "New department"},
    "counter_office": {"code": "new-office", "name": "New office"},
    "counter_till": {"code": "new-till", "name": "New till"},
    "suspense_rule": {"name": "New rule"},
}
# The counter's offices and tills, set up as fund configuration is.
COUNTER_CONFIGURATION = (("counter_office", "office"), ("counter_till", "till"))


def listing(viewset, key) -> list[Action]:
    return [
        get(f"{viewset}:index"),
        get(f"{viewset}:index_results"),
        get(f"{viewset}:inspect", key),
    ]


def changing(viewset, key) -> list[Action]:
    """Add, copy, edit and delete a row, and read its history and where it is used."""
    return [
        get(f"{viewset}:add"),
        post(f"{viewset}:add", data=new(viewset, **NEW_ROW[viewset]), says="created"),
        get(f"{viewset}:copy", key),
        get(f"{viewset}:edit", key),
        post(f"{viewset}:edit", key, data=form(viewset), says="updated"),
        get(f"{viewset}:history", key),
        get(f"{viewset}:history_results", key),
        get(f"{viewset}:usage", key),
        get(f"{viewset}:delete", f"spare_{key}"),
        post(f"{viewset}:delete", f"spare_{key}", says="deleted"),
    ]


def spreadsheets(viewset, filename) -> tuple[list[Action], list[Action]]:
    """(export, import): the export as CSV, and that same file imported back (a dry run)."""
    export = [get(f"{viewset}:export", query={"format": "csv"})]
    import_ = [
        get(f"{viewset}:import"),
        post(
            f"{viewset}:import",
            data=upload(viewset, filename, "import_file"),
            answers=200,
            says="is ready to import",
        ),
    ]
    return export, import_


FUND_CODE_EXPORT, FUND_CODE_IMPORT = spreadsheets("funds_fundcode", "fund-codes.csv")
SERVICE_EXPORT, SERVICE_IMPORT = spreadsheets("funds_service", "services.csv")
OTHER_CONFIGURATION = CONFIGURATION[2:]


def take_cash(world) -> dict:
    """The till's form taking £7.50 in cash for council tax, as the cashier sends it."""
    return {
        "amount": "7.50",
        "fund_code": str(world.ours["ctax_fund_code"].pk),
        "account_reference": "12345674",
        "kind": "cash",
        "tendered": "10.00",
        "receipt": "none",
        "idempotency_key": "matrix-take",
    }


def note(text):
    return lambda world: {"note": text}


# Wagtail's site settings and pages, as their URLs name them.
BRANDING = ("branding", "portalbranding")
SERVICE_PAGE = ("portal", "servicepage")
PUBLISH = {"action-publish": "publish"}

# Which payments someone sees is a row of its own, checked by
# test_each_role_sees_the_payments_the_matrix_says rather than by allowed-or-refused.
WHICH_PAYMENTS = "which payments"

SCREENS: dict[str, list[Action] | str] = {
    "Sign in to the back office: the dashboard and their own account": [
        get("wagtailadmin_home"),
        get("wagtailadmin_account"),
    ],
    "Fund codes: list, view, export": [
        *listing("funds_fundcode", "fund_code"),
        *FUND_CODE_EXPORT,
    ],
    "Fund codes: add, edit, delete, import": [
        *changing("funds_fundcode", "fund_code"),
        *FUND_CODE_IMPORT,
    ],
    "Services: list, view, export": [
        *listing("funds_service", "service"),
        *SERVICE_EXPORT,
    ],
    "Services: add, edit, delete, import": [
        *changing("funds_service", "service"),
        *SERVICE_IMPORT,
    ],
    "Fund groups, reference rules, VAT rates, departments: list, view": [
        action for viewset, key in OTHER_CONFIGURATION for action in listing(viewset, key)
    ],
    "Fund groups, reference rules, VAT rates, departments: add, edit, delete": [
        action for viewset, key in OTHER_CONFIGURATION for action in changing(viewset, key)
    ],
    "Reference rules: try a reference": [
        get("funds_referencerule:try", "reference_rule", query={"reference": "12345674"}),
    ],
    "Transactions > Payments: list, view": [
        get("payments_payment:index"),
        get("payments_payment:index_results"),
        get("payments_payment:inspect", "payment"),
    ],
    "Transactions > Journals: list, view": [
        get("ledger_journal:index"),
        get("ledger_journal:index_results"),
        get("ledger_journal:inspect", "journal"),
    ],
    "Transactions > Search: search payments, open them, download the results as CSV": [
        get("transaction_search", query={"payer_name": "example"}),
        get("transaction_search_export", query={"payer_name": "example"}),
    ],
    "Which payments: every payment of their council, or only those with a line in the fund "
    "groups of their membership": WHICH_PAYMENTS,
    "A payment's receipt: download it, email it to the payer": [
        post("payments_payment:receipt_download", "payment", answers=200),
        get("payments_payment:receipt_email", "payment"),
        post(
            "payments_payment:receipt_email",
            "payment",
            data=lambda world: {"to_email": "ann@example.com"},
            says="was emailed to ann@example.com",
        ),
    ],
    "Refund a payment": [
        get("payments_payment:refund", "payment"),
        post(
            "payments_payment:refund",
            "payment",
            data=form("refund", amount="10.00", reason="Paid twice", idempotency_key="matrix-1"),
            says="refunded",
        ),
    ],
    "Move a payment line's money to another fund (request a journal)": [
        get("payments_payment:move_line", "payment_line"),
        post(
            "payments_payment:move_line",
            "payment_line",
            data=form("move_line", amount_pence="20.00", reason="Meant for council tax"),
            says="posted",
        ),
    ],
    "Approve or reject someone else's journal above the council's limit": [
        get("ledger_journal:decide", "journal"),
        post(
            "ledger_journal:decide",
            "journal",
            data=lambda world: {"decision": "approve", "decision_note": ""},
            says="approved and posted",
        ),
    ],
    "Counter > Till sessions: list, view a session's page": [
        get("counter_tillsession:index"),
        get("counter_tillsession:index_results"),
        get("counter_tillsession:inspect", "till_session"),
        get("counter_tillsession:inspect", "closed_session"),
    ],
    "Counter: open a till session, take payments in it (cash, cheque, card on the terminal, "
    "card over the phone), close it with the count": [
        # The cashier has a session open already: asking for another sends them back to it.
        get("counter_tillsession:open", answers=302, says="You already have a session open"),
        post(
            "counter_tillsession:open",
            data=lambda world: {"till": world.ours["free_till"].pk},
            says="Session opened",
        ),
        post("counter_tillsession:inspect", "till_session", data=take_cash, says="Change to give"),
        post(
            "counter_tillsession:draft",
            "till_session",
            data=lambda world: {"amount": "5.00", "idempotency_key": "matrix-draft"},
            answers=204,
        ),
        # A card over the phone: handed to the provider's page, then back to the session.
        post("counter_tillsession:phone", "phone_payment"),
        get("counter_tillsession:phone", "phone_payment", answers=302),
        get("counter_tillsession:close", "till_session"),
        post(
            "counter_tillsession:close",
            "till_session",
            data=lambda world: {f"count_{value}": str(n) for value, n in COUNT_OF_TAKEN.items()},
            says="Session closed",
        ),
    ],
    "Counter > Till sessions: print a payment's receipt, email it to the payer": [
        post("counter_tillsession:receipt", "session_payment", answers=200),
        get("counter_tillsession:receipt_email", "session_payment"),
        post(
            "counter_tillsession:receipt_email",
            "session_payment",
            data=lambda world: {"to_email": "cy@example.com"},
            says="emailed to cy@example.com",
        ),
    ],
    "Counter: sign off another cashier's closed till session (posts any variance)": [
        get("counter_tillsession:sign_off", "closed_session"),
        post("counter_tillsession:sign_off", "closed_session", data=note(""), says="signed off"),
    ],
    "Counter > Offices and Tills: list, view": [
        get(f"{viewset}:{view}")
        for viewset, _key in COUNTER_CONFIGURATION
        for view in ("index", "index_results")
    ],
    "Counter > Offices and Tills: add, edit, delete": [
        action for viewset, key in COUNTER_CONFIGURATION for action in changing(viewset, key)
    ],
    "Counter > Cash returns: list, view": [
        get("counter_cashreturn:index"),
        get("counter_cashreturn:index_results"),
        get("counter_cashreturn:inspect", "cash_return"),
        get("counter_cashreturn:inspect", "draft_return"),
    ],
    "Cash returns: start (from a template), fill in, keep lines as a template, submit, void "
    "before submitting": [
        get("counter_cashreturn:start"),
        post(
            "counter_cashreturn:start",
            data=lambda world: {
                "department": world.ours["department"].pk,
                "template": world.ours["return_template"].pk,
                "period": "Week 12",
            },
            says="started",
        ),
        get("counter_cashreturn:fill_in", "draft_return"),
        post(
            "counter_cashreturn:fill_in",
            "draft_return",
            data=form("return_fill_in", action="save"),
            says="saved",
        ),
        post(
            "counter_cashreturn:fill_in",
            "draft_return",
            data=form("return_fill_in", action="template", **{"template-name": "Monthly"}),
            says="kept as the template 'Monthly'",
        ),
        post(
            "counter_cashreturn:fill_in",
            "draft_return",
            data=form("return_fill_in", action="submit"),
            says="submitted to finance",
        ),
        get("counter_cashreturn:decide", "draft_return", then=("void",)),
        post(
            "counter_cashreturn:decide",
            "draft_return",
            then=("void",),
            data=note("Started twice"),
            says="voided",
        ),
    ],
    "Cash returns: authorise someone else's submitted return (posts it), send it back, void it": [
        get("counter_cashreturn:decide", "cash_return", then=("authorise",)),
        post(
            "counter_cashreturn:decide",
            "cash_return",
            then=("authorise",),
            data=note(""),
            says="authorised and posted",
        ),
        get("counter_cashreturn:decide", "cash_return", then=("send_back",)),
        post(
            "counter_cashreturn:decide",
            "cash_return",
            then=("send_back",),
            data=note("Count the cash again"),
            says="sent back to the department",
        ),
        get("counter_cashreturn:decide", "cash_return", then=("void",)),
        post(
            "counter_cashreturn:decide",
            "cash_return",
            then=("void",),
            data=note("Paid in twice"),
            says="voided",
        ),
    ],
    "Counter > Return templates: list, view": [
        get("counter_returntemplate:index"),
        get("counter_returntemplate:index_results"),
        get("counter_returntemplate:inspect", "return_template"),
    ],
    "Return templates: rename, retire, delete": [
        get("counter_returntemplate:edit", "return_template"),
        post(
            "counter_returntemplate:edit",
            "return_template",
            data=form("counter_returntemplate", name="Weekly parking fines"),
            says="updated",
        ),
        get("counter_returntemplate:history", "return_template"),
        get("counter_returntemplate:history_results", "return_template"),
        get("counter_returntemplate:usage", "return_template"),
        get("counter_returntemplate:delete", "spare_return_template"),
        post("counter_returntemplate:delete", "spare_return_template", says="deleted"),
    ],
    "Banking > Paying-in slips: list, view": [
        get("banking_payinginslip:index"),
        get("banking_payinginslip:index_results"),
        get("banking_payinginslip:inspect", "paying_in_slip"),
    ],
    "Banking: prepare a paying-in slip, mark it banked, cancel it": [
        get("banking_payinginslip:prepare"),
        post("banking_payinginslip:prepare", data=form("slip_prepare"), says="prepared"),
        get("banking_payinginslip:bank", "paying_in_slip"),
        post(
            "banking_payinginslip:bank",
            "paying_in_slip",
            data=form("slip_bank"),
            says="moved from cash in transit to the bank",
        ),
        get("banking_payinginslip:cancel", "paying_in_slip"),
        post(
            "banking_payinginslip:cancel",
            "paying_in_slip",
            data=lambda world: {"reason": "The bag was not collected"},
            says="cancelled",
        ),
    ],
    "Suspense > Items: list, view, the ageing report": [
        get("suspense_item:index"),
        get("suspense_item:index_results"),
        get("suspense_item:inspect", "suspense_item"),
        get("suspense_item:ageing"),
    ],
    "Suspense items: add a note, try the rules on one item or on every open item": [
        post(
            "suspense_item:note",
            "suspense_item",
            data=lambda world: {"text": "Rang the payer: they gave their new account."},
            says="Note added",
        ),
        post("suspense_item:run", "suspense_item", says="Nothing moved"),
        get("suspense_item:run_all"),
        post("suspense_item:run_all", says="The rules looked at 1 open items"),
    ],
    "Suspense items: allocate one to funds by hand, whole or split": [
        get("suspense_item:allocate", "suspense_item"),
        post(
            "suspense_item:allocate",
            "suspense_item",
            data=lambda world: {
                **world.forms["allocate"],
                "parts-0-fund_code": str(world.ours["ctax_fund_code"].pk),
                "parts-0-reference": "12345674",
                "parts-0-amount": "40.00",
                "note": "The payer's account, one digit mistyped",
            },
            says="Allocated: £40.00 to CTAX 12345674",
        ),
    ],
    "Suspense > Rules: list, view, dry run": [
        get("suspense_rule:index"),
        get("suspense_rule:index_results"),
        get("suspense_rule:inspect", "suspense_rule"),
        get("suspense_rule:preview", "suspense_rule"),
    ],
    "Suspense rules: add, edit, reorder, delete, switch on and off": [
        get("suspense_rule:add"),
        post(
            "suspense_rule:add",
            data=new("suspense_rule", **NEW_ROW["suspense_rule"]),
            says="created",
        ),
        get("suspense_rule:edit", "suspense_rule"),
        post("suspense_rule:edit", "suspense_rule", data=form("suspense_rule"), says="updated"),
        get("suspense_rule:history", "suspense_rule"),
        get("suspense_rule:history_results", "suspense_rule"),
        get("suspense_rule:usage", "suspense_rule"),
        post("suspense_rule:reorder", "suspense_rule", query={"position": "1"}, answers=200),
        post(
            "suspense_rule:switch",
            "suspense_rule",
            data=lambda world: {"switch": "on"},
            says="is switched on",
        ),
        post("suspense_rule:switch", "suspense_rule", says="is switched off"),
        get("suspense_rule:delete", "spare_suspense_rule"),
        post("suspense_rule:delete", "spare_suspense_rule", says="deleted"),
    ],
    "Council settings: own council's details, receipt prefix, journal limit": [
        get("tenancy_council_settings"),
        post("tenancy_council_settings", data=form("council_settings"), says="settings are saved"),
    ],
    "Receipt templates (Settings > Receipt templates): list, preview": [
        get("receipts_receipttemplate:index"),
        get("receipts_receipttemplate:index_results"),
        get("receipts_receipttemplate:preview", "receipt_template"),
        get("receipts_receipttemplate:preview_built_in"),
    ],
    "Receipt templates: add, edit, delete": [
        get("receipts_receipttemplate:add"),
        post(
            "receipts_receipttemplate:add",
            data=new("receipts_receipttemplate", name="New template", is_default=""),
            says="created",
        ),
        get("receipts_receipttemplate:copy", "receipt_template"),
        get("receipts_receipttemplate:edit", "receipt_template"),
        post(
            "receipts_receipttemplate:edit",
            "receipt_template",
            data=form("receipts_receipttemplate"),
            says="updated",
        ),
        get("receipts_receipttemplate:history", "receipt_template"),
        get("receipts_receipttemplate:history_results", "receipt_template"),
        get("receipts_receipttemplate:usage", "receipt_template"),
        get("receipts_receipttemplate:delete", "spare_receipt_template"),
        post("receipts_receipttemplate:delete", "spare_receipt_template", says="deleted"),
    ],
    "Integrations (Settings > Integrations): list installed plugins and the council's "
    "integrations, set one up, change its settings and secrets, enable or disable it, issue "
    "its API key": [
        get("plugins_integrations:index"),
        get("plugins_integrations:add", args=("telephone",)),
        post(
            "plugins_integrations:add",
            args=("telephone",),
            data=form("integration_add", key="second-line", title="Second line"),
            says="saved",
        ),
        get("plugins_integrations:edit", "telephone"),
        post("plugins_integrations:edit", "telephone", data=form("integration_edit"), says="saved"),
        post("plugins_integrations:switch", "telephone", says="disabled"),
        get("plugins_integrations:api_key", "telephone"),
        post("plugins_integrations:api_key", "telephone", answers=200, says="API key"),
    ],
    "Known references (Settings > Known references): a departmental files integration's list "
    "of references, and uploading a new one": [
        get("department_files_index"),
        get("department_files_references", "department_files"),
        post(
            "department_files_references",
            "department_files",
            data=upload("known_references", "references.csv", "file"),
            says="replaced the list",
        ),
    ],
    "Payment pages branding (Settings > Payment pages branding): name, logo, colours, contact "
    "details and links of their own council's public sites": [
        # The Settings menu's link: to the site of their council.
        get("wagtailsettings:edit", args=BRANDING, answers=302),
        get("wagtailsettings:edit", "site", args=BRANDING, elsewhere=REFUSED_THERE),
        post(
            "wagtailsettings:edit",
            "site",
            args=BRANDING,
            data=form("branding", service_name="Pay Barsetshire", brand_colour="#00703c"),
            says="updated",
            elsewhere=REFUSED_THERE,
        ),
    ],
    "Payment pages (Pages): add, edit, publish their council's payments home and service pages": [
        # The explorer opens at their council's site.
        get("wagtailadmin_explore_root", answers=302),
        get("wagtailadmin_explore", "payments_home", elsewhere=OWN_SITE_INSTEAD),
        get("wagtailadmin_explore_results", "payments_home", elsewhere=OWN_SITE_INSTEAD),
        # Only service pages go under a home: straight to their form.
        get(
            "wagtailadmin_pages:add_subpage",
            "payments_home",
            answers=302,
            elsewhere=REFUSED_THERE,
        ),
        get(
            "wagtailadmin_pages:add",
            "payments_home",
            args=SERVICE_PAGE,
            elsewhere=REFUSED_THERE,
        ),
        post(
            "wagtailadmin_pages:add",
            "payments_home",
            args=SERVICE_PAGE,
            data=lambda world: {
                **world.forms["page_add"],
                **PUBLISH,
                "title": "Pay for a parking permit",
                "slug": "parking-permit",
                "fund_code": str(world.ours["fund_code"].pk),
            },
            says="published",
            elsewhere=REFUSED_THERE,
        ),
        *[
            action
            for key in ("payments_home", "service_page")
            for action in (
                get("wagtailadmin_pages:edit", key, elsewhere=REFUSED_THERE),
                post(
                    "wagtailadmin_pages:edit",
                    key,
                    data=form(key, **PUBLISH),
                    says="published",
                    elsewhere=REFUSED_THERE,
                ),
            )
        ],
        post(
            "wagtailadmin_pages:preview_on_edit",
            "service_page",
            data=form("service_page"),
            answers=200,
            elsewhere=REFUSED_THERE,
        ),
        get("wagtailadmin_pages:preview_on_edit", "service_page", elsewhere=REFUSED_THERE),
        post(
            "wagtailadmin_pages:preview_on_add",
            "payments_home",
            args=SERVICE_PAGE,
            data=form("page_add"),
            answers=200,
            elsewhere=REFUSED_THERE,
        ),
        get("wagtailadmin_pages:view_draft", "service_page", elsewhere=REFUSED_THERE),
        get("wagtailadmin_pages:history", "service_page", elsewhere=REFUSED_THERE),
        get("wagtailadmin_pages:history_results", "service_page", elsewhere=REFUSED_THERE),
        get("wagtailadmin_pages:usage", "service_page", elsewhere=REFUSED_THERE),
        get("wagtailadmin_pages:unpublish", "service_page", elsewhere=REFUSED_THERE),
        post(
            "wagtailadmin_pages:unpublish",
            "service_page",
            says="unpublished",
            elsewhere=REFUSED_THERE,
        ),
        get("wagtailadmin_pages:copy", "service_page", elsewhere=REFUSED_THERE),
        get("wagtailadmin_pages:move", "service_page", elsewhere=REFUSED_THERE),
        # Moved within its site, to the end: the confirmation's own page is Wagtail's, shown
        # to anyone who asks for it; the move is what is refused.
        post(
            "wagtailadmin_pages:move_confirm",
            "service_page",
            then=(lambda rows: rows["payments_home"].pk,),
            says="moved",
            elsewhere=ANOTHER_COUNCILS_SITE,
        ),
        post(
            "wagtailadmin_pages:set_page_position",
            "service_page",
            query={"position": "1"},
            answers=200,
            elsewhere=REFUSED_THERE,
        ),
        get("wagtailadmin_pages:set_privacy", "service_page", elsewhere=REFUSED_THERE),
        *[
            get(
                f"wagtailadmin_pages:revisions_{view}",
                "service_page",
                then=(lambda rows: rows["service_page"].latest_revision_id,),
                elsewhere=REFUSED_THERE,
            )
            for view in ("view", "revert", "unschedule")
        ],
        get(
            "wagtailadmin_pages:revisions_compare",
            "service_page",
            then=("earliest", "latest"),
            elsewhere=REFUSED_THERE,
        ),
        get("wagtailadmin_pages:search", query={"q": "parking"}),
        get("wagtailadmin_pages:search_results", query={"q": "parking"}),
        get("wagtailadmin_pages:type_use", args=SERVICE_PAGE),
        get("wagtailadmin_pages:type_use_results", args=SERVICE_PAGE),
        get("wagtailadmin_pages:delete", "spare_service_page", elsewhere=REFUSED_THERE),
        post(
            "wagtailadmin_pages:delete",
            "spare_service_page",
            says="deleted",
            elsewhere=REFUSED_THERE,
        ),
    ],
    "Councils and memberships: list, view": [
        get("tenancy_organisation:index"),
        get("tenancy_organisation:index_results"),
        get("tenancy_organisation:inspect", "council"),
        get("tenancy_membership:index"),
        get("tenancy_membership:index_results"),
        get("tenancy_membership:inspect", "membership"),
    ],
    "Councils and memberships: add, edit, delete": [
        get("tenancy_organisation:add"),
        post(
            "tenancy_organisation:add",
            data=new("tenancy_organisation", code="new-council", name="New Council"),
            says="created",
        ),
        get("tenancy_organisation:copy", "council"),
        get("tenancy_organisation:edit", "council"),
        post(
            "tenancy_organisation:edit",
            "council",
            data=form("tenancy_organisation"),
            says="updated",
        ),
        get("tenancy_organisation:history", "council"),
        get("tenancy_organisation:history_results", "council"),
        get("tenancy_organisation:usage", "council"),
        get("tenancy_organisation:delete", "spare_council"),
        post("tenancy_organisation:delete", "spare_council", says="deleted"),
        get("tenancy_membership:add"),
        post(
            "tenancy_membership:add",
            data=lambda world: as_new(
                world.forms["tenancy_membership"], user=str(world.ours["spare_user"].pk)
            ),
            says="created",
        ),
        get("tenancy_membership:copy", "membership"),
        get("tenancy_membership:edit", "membership"),
        post(
            "tenancy_membership:edit", "membership", data=form("tenancy_membership"), says="updated"
        ),
        get("tenancy_membership:history", "membership"),
        get("tenancy_membership:history_results", "membership"),
        get("tenancy_membership:usage", "membership"),
        get("tenancy_membership:delete", "membership"),
        post("tenancy_membership:delete", "membership", says="deleted"),
    ],
    "Staff accounts and groups": [
        get("wagtailusers_users:index"),
        get("wagtailusers_users:index_results"),
        get("wagtailusers_users:add"),
        post(
            "wagtailusers_users:add",
            data=form(
                "user_add",
                username="new.starter",
                email="new.starter@council.example",
                first_name="New",
                last_name="Starter",
                password1="a-long-enough-password-1",
                password2="a-long-enough-password-1",
            ),
            says="created",
        ),
        get("wagtailusers_users:copy", "user"),
        get("wagtailusers_users:edit", "user"),
        post("wagtailusers_users:edit", "user", data=form("user_edit"), says="updated"),
        get("wagtailusers_users:history", "user"),
        get("wagtailusers_users:history_results", "user"),
        get("wagtailusers_users:usage", "user"),
        get("wagtailusers_users:delete", "spare_user"),
        post("wagtailusers_users:delete", "spare_user", says="deleted"),
        get(
            "wagtail_bulk_action",
            args=("auth", "user", "set_active_state"),
            query=lambda world: {"id": world.ours["spare_user"].pk},
        ),
        get("wagtailusers_groups:index"),
        get("wagtailusers_groups:index_results"),
        get("wagtailusers_groups:add"),
        post("wagtailusers_groups:add", data=form("group_add", name="Cash office"), says="created"),
        get("wagtailusers_groups:edit", "group"),
        post("wagtailusers_groups:edit", "group", data=form("group_edit"), says="updated"),
        get("wagtailusers_groups:history", "group"),
        get("wagtailusers_groups:history_results", "group"),
        get("wagtailusers_groups:usage", "group"),
        get("wagtailusers_groups:delete", "spare_group"),
        post("wagtailusers_groups:delete", "spare_group", says="deleted"),
    ],
    "Audit log (Reports > Audit log): search their council's log, download it as CSV": [
        get("audit_log", query={"username": "income"}),
        get("audit_log_export"),
    ],
    "Site history (Reports > Site history): every council's changes": [
        get("/admin/reports/site-history/"),
        get("/admin/reports/site-history/results/"),
    ],
}

# Wagtail's own screens that are not the back office's, and addresses that are not screens.
# docs/roles.md gives no role any right to them; each is here for the reason given. A
# namespace covers its URLs and those of any namespace inside it.
NOT_BACK_OFFICE_SCREENS = {
    # What Wagtail offers for pages beyond the finance administrators' rights to add, edit and
    # publish their council's pages (docs/roles.md), which no role is given.
    "wagtailadmin_pages:lock": "locking a page against others' edits: no role may",
    "wagtailadmin_pages:unlock": "unlocking a locked page: no role may lock one",
    "wagtailadmin_pages:convert_alias": "aliases of pages: the payment pages have none",
    "wagtailadmin_pages:workflow_action": "moderation workflows of pages: none is set up",
    "wagtailadmin_pages:collect_workflow_action_data": "moderation workflows of pages",
    "wagtailadmin_pages:confirm_workflow_cancellation": "moderation workflows of pages",
    "wagtailadmin_pages:workflow_preview": "moderation workflows of pages",
    "wagtailadmin_pages:workflow_history": "moderation workflows of pages",
    "wagtailadmin_pages:workflow_history_detail": "moderation workflows of pages",
    "wagtailadmin_workflows": "moderation workflows of pages",
    "wagtailadmin_editing_sessions": "who else is editing a page or snippet",
    "wagtailforms": "submissions of form pages",
    "wagtailredirects": "redirects of the public site's addresses",
    "wagtailembeds": "embedded media in rich text",
    "wagtailsites": "the public site's host names: the deployment's operators (superusers)",
    # Wagtail's media libraries and snippets: no role is given them. The public sites'
    # logos are in the image library, uploaded by the deployment's operators (docs/roles.md);
    # a receipt template's logo is a file of its own.
    "wagtailadmin_collections": "collections of images and documents",
    "wagtailimages": "the image library",
    "wagtailimages_chooser": "the image library's chooser",
    "wagtaildocs": "the document library",
    "wagtaildocs_chooser": "the document library's chooser",
    "wagtailsnippets": "the snippets menu; no snippet is registered",
    # Wagtail's reports about pages. Its site history is replaced by the back office's
    # (backoffice/urls.py), which is in the matrix.
    "wagtailadmin_reports:locked_pages": "pages locked for editing",
    "wagtailadmin_reports:locked_pages_results": "pages locked for editing",
    "wagtailadmin_reports:workflow": "pages in moderation",
    "wagtailadmin_reports:workflow_results": "pages in moderation",
    "wagtailadmin_reports:workflow_tasks": "pages in moderation",
    "wagtailadmin_reports:workflow_tasks_results": "pages in moderation",
    "wagtailadmin_reports:aging_pages": "pages not changed for a while",
    "wagtailadmin_reports:aging_pages_results": "pages not changed for a while",
    "wagtailadmin_reports:page_types_usage": "how many pages of each type",
    "wagtailadmin_reports:page_types_usage_results": "how many pages of each type",
    # Not screens: signing in and out (before and after any role applies), and what the
    # admin's pages fetch for themselves.
    "wagtailadmin_login": "the sign-in page",
    # What the page editor and the menu's page explorer fetch for themselves: open to anyone
    # signed in, as Wagtail makes them, and showing only pages of the user's own council
    # (backoffice/portal/wagtail_hooks.py, backoffice/portal/permissions.py).
    "wagtailadmin_api": "the menu's page explorer's JSON API",
    "wagtailadmin_choose_page": "the page chooser of the page editor's rich text",
    "wagtailadmin_choose_page_child": "the page chooser",
    "wagtailadmin_choose_page_search": "the page chooser",
    "wagtailadmin_choose_page_chosen_multiple": "the page chooser",
    "wagtailadmin_choose_page_external_link": "the link chooser of rich text",
    "wagtailadmin_choose_page_email_link": "the link chooser of rich text",
    "wagtailadmin_choose_page_phone_link": "the link chooser of rich text",
    "wagtailadmin_choose_page_anchor_link": "the link chooser of rich text",
    # Where to add a page of a type: offers only pages the user may add under (to a finance
    # administrator, their council's payments home: straight on to the add form walked above).
    "wagtailadmin_pages:choose_parent": "the parent page chooser of the page type's listing",
    "wagtailadmin_pages:revisions_index": "an old address of a page's history, sent on to it",
    "wagtailadmin_logout": "signing out",
    "wagtailadmin_password_reset": "resetting a forgotten password",
    "wagtailadmin_password_reset_done": "resetting a forgotten password",
    "wagtailadmin_password_reset_confirm": "resetting a forgotten password",
    "wagtailadmin_password_reset_complete": "resetting a forgotten password",
    "wagtailadmin_javascript_catalog": "the admin's translations for its scripts",
    "wagtailadmin_sprite": "the admin's icons",
    "wagtailadmin_dismissibles": "remembering a dismissed hint",
    "wagtailadmin_block_preview": "previews of StreamField blocks",
    "wagtailadmin_tag_autocomplete": "tag suggestions",
    "wagtailadmin_tag_model_autocomplete": "tag suggestions",
    "wagtailadmin_error_test": "Wagtail's test of its error page",
    "admin/test404/": "Wagtail's test of its not-found page",
    "admin/.*/$": "Wagtail's not-found page for any other address",
}


def _slug(text: str) -> str:
    return slugify(text)[:60]


def _actions(label: str) -> list[Action]:
    if label not in SCREENS:
        raise MatrixError(
            f"docs/roles.md has the row '{label}', which SCREENS in {__name__} does not walk: "
            "say there which admin URLs and actions the row covers."
        )
    return SCREENS[label]


def _query(action: Action, world: World) -> dict:
    query = action.query(world) if callable(action.query) else action.query
    return query or {}


def _ask(client, action: Action, world: World, url: str):
    """Make the request; a POST in a savepoint rolled back after it, so that no request
    meets another's work (a row deleted, a refund made)."""
    query = _query(action, world)
    if action.method == "GET":
        return _read(client.get(url, query))
    if query:
        url = f"{url}?{urlencode(query)}"
    with transaction.atomic():
        response = _read(client.post(url, action.data(world)))
        transaction.set_rollback(True)
    return response


def _read(response):
    # A streamed file runs its queries as it is read: read it now, while they can run.
    response.body = b"".join(response.streaming_content) if response.streaming else response.content
    return response


def _form_errors(response) -> str:
    context = response.context or {}
    for name in ("form", "integration_form", "plugin_form"):
        form = context.get(name) if hasattr(context, "get") else None
        if form is not None and getattr(form, "errors", None):
            return f" with errors on the form: {form.errors.as_data()}"
    return ""


def _says(response, text: str) -> bool:
    if text in " ".join(messages_of(response)):
        return True
    content_type = response.get("Content-Type", "")
    return content_type.startswith("text/html") and text in response.body.decode()


def _judge(response, action: Action, expected: bool) -> str:
    """What is wrong with the answer, or ""."""
    if not expected:
        return "" if is_refusal(response) else f"was not refused: {describe(response)}"
    if is_refusal(response):
        return f"was refused: {describe(response)}"
    if response.status_code != action.expected_status:
        return (
            f"answered {describe(response)}, not {action.expected_status}{_form_errors(response)}"
        )
    if response.status_code == 302 and response.url.startswith(reverse("wagtailadmin_login")):
        return f"was sent to sign in: {describe(response)}"
    if action.says and not _says(response, action.says):
        return f"did not say '{action.says}': {describe(response)}{_form_errors(response)}"
    return ""


# The document and the code agree ---------------------------------------------------------


def test_the_matrix_has_a_column_for_each_role_in_the_order_the_code_lists_them():
    assert MATRIX.roles == tuple(role.name for role in ROLES)


def test_every_row_of_the_matrix_is_walked_and_every_walk_is_a_row():
    unwalked = sorted(set(MATRIX.rows) - set(SCREENS))
    not_in_the_document = sorted(set(SCREENS) - set(MATRIX.rows))
    assert not unwalked, (
        f"Rows of docs/roles.md that SCREENS does not walk (say which URLs each covers): {unwalked}"
    )
    assert not not_in_the_document, (
        f"SCREENS walks rows that docs/roles.md does not have (renamed or removed?): "
        f"{not_in_the_document}"
    )


def _is_out_of_scope(route) -> bool:
    if route.route in NOT_BACK_OFFICE_SCREENS or route.name in NOT_BACK_OFFICE_SCREENS:
        return True
    namespace = route.namespace
    return any(
        namespace == name or namespace.startswith(f"{name}:") for name in NOT_BACK_OFFICE_SCREENS
    )


def _walked(world) -> tuple[set[str], set[str]]:
    """The URLs the rows walk, and the URL patterns they reach."""
    urls = {
        action.url(world)
        for actions in SCREENS.values()
        if isinstance(actions, list)
        for action in actions
    }
    return urls, {resolve(url).route for url in urls}


def test_every_admin_url_is_in_the_matrix_or_not_a_back_office_screen(world):
    from wagtail.contrib.settings.registry import registry as settings_registry

    walked_urls, walked_routes = _walked(world)
    routes = admin_routes()
    # Every kind of Wagtail setting shares the settings' addresses: each kind registered
    # must be walked by a row, as any screen.
    settings_routes = {route.route for route in routes if route.namespace == "wagtailsettings"}
    unwalked_settings = sorted(
        f"{model._meta.app_label}.{model._meta.model_name}"
        for model in settings_registry
        if reverse("wagtailsettings:edit", args=[model._meta.app_label, model._meta.model_name])
        not in walked_urls
    )

    unclassified = [
        f"  {route.route} ({route.name or 'no name'})"
        for route in routes
        if route.route not in walked_routes | settings_routes and not _is_out_of_scope(route)
    ] + [f"  Wagtail setting {setting}" for setting in unwalked_settings]

    assert not unclassified, (
        "These admin URLs are in no row of docs/roles.md: add a row (or put them in a row) "
        "and say in SCREENS which requests it covers, or, for Wagtail's own screens that the "
        "back office does not use, add them to NOT_BACK_OFFICE_SCREENS with the reason:\n"
        + "\n".join(unclassified)
    )


def test_every_screen_said_not_to_be_the_back_offices_is_still_there():
    routes = admin_routes()
    stale = [
        name
        for name in NOT_BACK_OFFICE_SCREENS
        if not any(
            name in (route.route, route.name)
            or route.namespace == name
            or route.namespace.startswith(f"{name}:")
            for route in routes
        )
    ]
    assert not stale, f"NOT_BACK_OFFICE_SCREENS names URLs that no longer exist: {stale}"


# Every role, every row ----------------------------------------------------------------


ROLE_NAMES = [role.name for role in ROLES]
WALKED_ROWS = [label for label in MATRIX.rows if SCREENS.get(label) != WHICH_PAYMENTS]


@pytest.mark.parametrize("label", WALKED_ROWS, ids=_slug)
@pytest.mark.parametrize("role", ROLE_NAMES, ids=_slug)
def test_each_role_may_use_exactly_what_the_matrix_says(client, world, role, label):
    actions = _actions(label)
    expected = allowed(MATRIX.rows[label][role], label=label, role=role)
    client.force_login(world.users[role])

    failures = []
    for action in actions:
        url = action.url(world)
        problem = _judge(_ask(client, action, world, url), action, expected)
        if problem:
            failures.append(f"  {action.label(url)} {problem}")

    assert not failures, (
        f"{role}, row '{label}' (docs/roles.md: {'yes' if expected else 'no'}):\n"
        + "\n".join(failures)
    )


# The system administrator keeps the deployment's councils and their memberships, whichever
# council they are a member of; staff accounts, groups and a council itself (to delete) are
# the deployment's rows, not a council's, so no other council has them.
DEPLOYMENT_WIDE = {
    (SYSTEM_ADMINISTRATOR, "council"),
    (SYSTEM_ADMINISTRATOR, "membership"),
    # Every council's public site's branding, as they keep every council.
    (SYSTEM_ADMINISTRATOR, "site"),
}
DEPLOYMENT_ROWS = {"user", "spare_user", "group", "spare_group", "spare_council"}


def _council_row_requests(label: str) -> list[tuple[str, Action]]:
    """(role, request) for each page about one of a council's rows that a role may use."""
    actions = SCREENS.get(label)
    if not isinstance(actions, list):
        return []
    return [
        (role, action)
        for role in ROLE_NAMES
        if MATRIX.rows[label][role] == "yes"
        for action in actions
        if action.obj
        and action.obj not in DEPLOYMENT_ROWS
        and (role, action.obj) not in DEPLOYMENT_WIDE
    ]


ROWS_ABOUT_ONE_ROW = [label for label in WALKED_ROWS if _council_row_requests(label)]


@pytest.mark.parametrize("label", ROWS_ABOUT_ONE_ROW, ids=_slug)
def test_another_councils_row_is_not_found(client, world, label):
    """Every page about one row, asked by each role allowed it, for the other council's row:
    not found, or refused where the screen is Wagtail's own and refuses (``Action.elsewhere``)."""
    failures, signed_in = [], None
    for role, action in _council_row_requests(label):
        if role != signed_in:
            client.force_login(world.users[role])
            signed_in = role
        url = action.url(world, world.theirs)
        response = _ask(client, action, world, url)
        if action.elsewhere and not action.elsewhere.answered(response, world):
            failures.append(
                f"  {role}: {action.label(url)} answered {describe(response)}, not "
                f"{action.elsewhere.description}"
            )
        elif not action.elsewhere and response.status_code != 404:
            failures.append(f"  {role}: {action.label(url)} answered {describe(response)}")
    assert not failures, f"Another council's rows, row '{label}':\n" + "\n".join(failures)


def _which_payments_label() -> str:
    labels = [label for label, actions in SCREENS.items() if actions == WHICH_PAYMENTS]
    assert len(labels) == 1
    return labels[0]


def _listed(client) -> set[int]:
    response = client.get(reverse("payments_payment:index"))
    assert response.status_code == 200, describe(response)
    return {payment.pk for payment in response.context["object_list"]}


def _found(client) -> set[int]:
    response = client.get(reverse("transaction_search"))
    assert response.status_code == 200, describe(response)
    return {row["payment"].pk for row in response.context["rows"]}


@pytest.mark.parametrize("role", ROLE_NAMES, ids=_slug)
def test_each_role_sees_the_payments_the_matrix_says(client, world, role):
    label = _which_payments_label()
    cell = MATRIX.rows[label][role]
    user = world.users[role]
    client.force_login(user)
    # Every payment of the council: taken by hand, at the till, or waiting for the provider.
    everything = set(
        Payment.objects.filter(organisation=world.council).values_list("pk", flat=True)
    )
    assert {world.ours["payment"].pk, world.ours["session_payment"].payment_id} <= everything
    # Those with a line in the parking fund group: the one taken by hand, not the till's.
    parking = {world.ours["payment"].pk}

    if cell == "—":
        assert is_refusal(client.get(reverse("payments_payment:index")))
        assert is_refusal(client.get(reverse("transaction_search")))
    elif cell == "all":
        assert _listed(client) == everything
        assert _found(client) == everything
    elif cell == "own fund groups":
        membership = Membership.objects.get(user=user, organisation=world.council)
        assert list(membership.fund_groups.all()) == [world.ours["fund_group"]]
        assert _listed(client) == parking
        assert _found(client) == parking
        membership.fund_groups.clear()
        assert _listed(client) == set()
        assert _found(client) == set()
    else:
        raise MatrixError(f"docs/roles.md, row '{label}', {role}: '{cell}' is not understood")
