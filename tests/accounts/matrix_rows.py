"""A council's counter, banking and public site, as the roles matrix meets them: each row
made through the apps' own services, in every state a screen of docs/roles.md acts on."""

from backoffice.accounts.roles import CASHIER, DEPARTMENT_USER
from backoffice.banking.services import paying_in_slip_create
from backoffice.counter import services as counter
from backoffice.counter.models import Office, OfficeKind, PaymentKind, Till
from backoffice.funds.models import Channel
from backoffice.payments.services import LineInput, Payer, payment_take
from backoffice.portal.services import payments_home_grant_editors
from backoffice.suspense.models import SuspenseItem
from backoffice.tenancy.models import Membership
from tests.branding.sites import council_site
from tests.factories import FundCodeFactory, integration, staff, suspense_rule
from tests.portal.site import service_page

# A cash payment the till's count matches: £12.50 is a £10 note, a £2 coin and a 50p.
TAKEN_PENCE = 1_250
COUNT_OF_TAKEN = {1000: 1, 200: 1, 50: 1}


def _take_cash(session, cashier, fund, reference, *, key):
    return counter.till_session_take_payment(
        session=session,
        taken_by=cashier,
        kind=PaymentKind.CASH,
        lines=[LineInput(fund, TAKEN_PENCE, account_reference=reference)],
        payer=Payer(name="Cy Counter", email="cy@example.com"),
        tendered_pence=2_000,
        idempotency_key=key,
    )


def _closed_session(till, cashier, fund, reference, *, key):
    session = counter.till_session_open(till=till, opened_by=cashier)
    _take_cash(session, cashier, fund, reference, key=key)
    return counter.till_session_close(
        session=session, closed_by=cashier, cash_counts=COUNT_OF_TAKEN, cheques_in_till=[]
    )


def counter_rows(organisation, *, prefix, cashier, supervisor, parking, ctax, fund_group):
    """Offices and tills; ``cashier``'s open session (a cash payment, and a card over the phone
    not yet started); another cashier's sessions, closed, signed off and banked; a department's
    returns, submitted and in progress, and its templates; a paying-in slip.

    ``supervisor`` signs off and prepares the slip; a clerk of the Parking department (in
    ``fund_group``, which holds ``parking``) makes the returns."""
    integration(organisation, plugin="sandbox", key="sandbox", title="Sandbox")
    over_and_short = FundCodeFactory(
        organisation=organisation,
        code="OVSH",
        name="Cash over and short",
        default_vat_rate=ctax.default_vat_rate,
    )
    office = Office.objects.create(
        organisation=organisation,
        code="town-hall",
        name="Town Hall cash office",
        kind=OfficeKind.CASH_OFFICE,
        variance_fund_code=over_and_short,
    )
    tills = [
        Till.objects.create(
            organisation=organisation, office=office, code=f"th-{number}", name=f"Till {number}"
        )
        for number in (1, 2, 3)
    ]
    colleague = staff(organisation, roles=(CASHIER,), username=f"{prefix}.cashier")

    # The colleague's sessions on till 2, one after another: banked, signed off, closed.
    banked = _closed_session(tills[1], colleague, ctax, "12345674", key="banked")
    counter.till_session_sign_off(session=banked, signed_off_by=supervisor)
    slip = paying_in_slip_create(
        organisation=organisation, prepared_by=supervisor, sessions=[banked]
    )
    ready = _closed_session(tills[1], colleague, ctax, "12345674", key="ready")
    counter.till_session_sign_off(session=ready, signed_off_by=supervisor)
    closed = _closed_session(tills[1], colleague, ctax, "12345674", key="closed")

    # The cashier's own session on till 1; till 3 is free.
    session = counter.till_session_open(till=tills[0], opened_by=cashier)
    taken = _take_cash(session, cashier, ctax, "12345674", key="taken")
    phone = counter.till_session_start_phone_payment(
        session=session,
        taken_by=cashier,
        provider="sandbox",
        lines=[LineInput(ctax, 3_000, account_reference="12345674")],
        payer=Payer(name="Di Phone"),
        idempotency_key="phone",
    )

    clerk = staff(organisation, roles=(DEPARTMENT_USER,), username=f"{prefix}.clerk")
    Membership.objects.get(user=clerk, organisation=organisation).fund_groups.add(fund_group)
    department = parking.department
    submitted = counter.cash_return_create(
        organisation=organisation, department=department, created_by=clerk, period="Week 10"
    )
    counter.cash_return_save(
        cash_return=submitted,
        saved_by=clerk,
        lines=[counter.ReturnLineInput(parking, 2_000, f"{prefix}PCN0002", "Parking fine")],
        cash_counts={2000: 1},
        cheques=[],
    )
    counter.cash_return_submit(cash_return=submitted, submitted_by=clerk)
    in_progress = counter.cash_return_create(
        organisation=organisation, department=department, created_by=clerk, period="Week 11"
    )
    counter.cash_return_save(
        cash_return=in_progress,
        saved_by=clerk,
        lines=[counter.ReturnLineInput(parking, 1_000, f"{prefix}PCN0003", "Parking fine")],
        cash_counts={1000: 1},
        cheques=[],
    )
    return {
        "office": office,
        "till": tills[0],
        "free_till": tills[2],
        "till_session": session,
        "session_payment": taken,
        "phone_payment": phone,
        "closed_session": closed,
        "ready_session": ready,
        "paying_in_slip": slip,
        "cash_return": submitted,
        "draft_return": in_progress,
        "return_template": counter.return_template_save(
            cash_return=in_progress, name="Weekly parking", saved_by=clerk
        ),
        "spare_return_template": counter.return_template_save(
            cash_return=in_progress, name="Unused", saved_by=clerk
        ),
        "spare_office": Office.objects.create(
            organisation=organisation,
            code="spare",
            name="Spare office",
            kind=OfficeKind.OTHER,
            variance_fund_code=over_and_short,
        ),
        "spare_till": Till.objects.create(
            organisation=organisation, office=office, code="spare", name="Spare till"
        ),
    }


def public_site_rows(organisation, *, hostname, fund_code):
    """The council's public site: its payments home (editable by its finance administrators)
    as a Wagtail Site's root, with two service pages."""
    site = council_site(organisation, hostname)
    home = site.root_page.specific
    payments_home_grant_editors(home=home)
    page = service_page(home, title="Pay a parking fine", slug="parking-fine", fund_code=fund_code)
    # A page as the editor leaves it: published from a revision, which its history lists.
    page.save_revision().publish()
    return {
        "site": site,
        "payments_home": home,
        "service_page": page,
        "spare_service_page": service_page(
            home, title="Pay for something else", slug="something-else", fund_code=fund_code
        ),
    }


def suspense_rows(organisation, *, ctax):
    """The suspense fund, holding £40 paid by telephone for council tax with a reference whose
    check digit is wrong; a rule (switched off) and a spare one."""
    FundCodeFactory(
        organisation=organisation,
        code="SUSP",
        name="Suspense",
        default_vat_rate=ctax.default_vat_rate,
        is_suspense=True,
        allowed_channels=list(Channel.values),
    )
    payment = payment_take(
        organisation=organisation,
        channel="telephone",
        method="card",
        lines=[LineInput(ctax, 4_000, account_reference="12345675")],
        payer=Payer(name="Sue Spence"),
    )
    return {
        "suspense_item": SuspenseItem.objects.get(payment_line__payment=payment),
        "suspense_rule": suspense_rule(
            organisation,
            name="Words typed before the reference",
            conditions=[{"field": "reference", "operator": "starts_with", "value": "REF"}],
            actions=[{"kind": "strip_prefix", "value": "REF"}, {"kind": "look_up"}],
        ),
        "spare_suspense_rule": suspense_rule(organisation, name="Unused rule"),
    }
