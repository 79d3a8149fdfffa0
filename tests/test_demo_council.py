"""The demo council that `make run` loads."""

from django.contrib.auth import get_user_model
from django.core.management import call_command
from wagtail.models import ModelLogEntry

from backoffice.accounts.roles import ROLES
from backoffice.counter.models import Office, Till
from backoffice.funds.models import FundCode, ReferenceRule, Service
from backoffice.ledger.models import JournalEntry
from backoffice.payments.models import Payment, StatusChange
from backoffice.tenancy.models import Organisation
from fixtures.demo import load_demo_council
from integrations.sandbox.models import SandboxPayment
from plugins.models import Integration

COUNTED = (
    Organisation,
    FundCode,
    ReferenceRule,
    Service,
    get_user_model(),
    ModelLogEntry,
    Integration,
    Payment,
    StatusChange,
    JournalEntry,
    SandboxPayment,
    Office,
    Till,
)


def _counts():
    return {model.__name__: model.objects.count() for model in COUNTED}


def test_loading_the_demo_twice_adds_nothing_the_second_time(db):
    load_demo_council(password="demo")
    first = _counts()

    load_demo_council(password="demo")

    assert _counts() == first


def test_the_demo_council_has_the_fund_codes_councils_use(db):
    council = load_demo_council(password="demo")["organisation"]

    codes = set(FundCode.objects.filter(organisation=council).values_list("code", flat=True))
    assert len(codes) >= 15
    assert {"CTAX", "NNDR", "HRENT", "SUNDRY", "PCN", "BULKY", "BINS", "GARDEN"} <= codes
    assert {"PLAN", "BCTRL", "LICENCE", "REGIS", "MEALS", "ASCCONT", "SUSP"} <= codes
    assert FundCode.objects.get(organisation=council, is_suspense=True).code == "SUSP"


def test_every_demo_rule_accepts_its_own_example_and_has_one(db):
    council = load_demo_council(password="demo")["organisation"]

    for rule in ReferenceRule.objects.filter(organisation=council):
        assert rule.example, rule.name
        assert rule.check_reference(rule.example).is_valid, rule.name


def test_the_demo_standard_rate_is_twenty_percent_today_and_was_seventeen_and_a_half(db):
    import datetime
    from decimal import Decimal

    from backoffice.funds.models import VatRate

    council = load_demo_council(password="demo")["organisation"]

    standard = VatRate.objects.get(organisation=council, code="S")
    assert standard.percentage_on(datetime.date(2026, 11, 25)) == Decimal("20")
    assert standard.percentage_on(datetime.date(2010, 6, 1)) == Decimal("17.5")


def test_every_online_fund_has_a_service_to_pay_it(db):
    council = load_demo_council(password="demo")["organisation"]

    for fund in FundCode.objects.filter(organisation=council).accepting("online"):
        assert fund.services.exists(), fund.code


def test_there_is_a_demo_login_for_every_role(db):
    logins = load_demo_council(password="demo")["logins"]

    assert {roles for _, roles in logins} == {role.name for role in ROLES}
    user = get_user_model().objects.get(username="finance.admin")
    assert user.check_password("demo")
    assert user.memberships.get().organisation.code == "barchester"


def test_the_demo_has_takings_to_search_refund_and_approve(db):
    from backoffice.ledger.models import Journal, JournalStatus
    from backoffice.ledger.selectors import ledger_total_pence
    from backoffice.payments.models import Payment, PaymentStatus

    council = load_demo_council(password="demo")["organisation"]

    payments = Payment.objects.filter(organisation=council)
    assert payments.count() >= 8
    assert payments.filter(status=PaymentStatus.PARTIALLY_REFUNDED).exists()
    assert payments.filter(lines__intended_fund_code__isnull=False).exists()  # in suspense
    assert Journal.objects.get(organisation=council).status == JournalStatus.PENDING_APPROVAL
    assert ledger_total_pence(council) == 0


def test_the_command_prints_the_logins(db, capsys):
    call_command("load_demo", password="secret-demo")

    output = capsys.readouterr().out
    assert "finance.admin" in output and "secret-demo" in output


def test_the_demo_council_takes_online_payments_through_the_sandbox(db):
    from backoffice.payments.models import PaymentStatus
    from integrations.sandbox.models import CardPaymentState

    council = load_demo_council(password="demo")["organisation"]

    sandbox = Integration.objects.get(organisation=council, key="sandbox")
    assert (sandbox.plugin, sandbox.is_enabled) == ("sandbox", True)
    assert sandbox.settings["display_name"] == "Barchester City Council"
    online = Payment.objects.filter(organisation=council, provider="sandbox")
    assert online.count() == 3
    for payment in online:
        assert payment.status == PaymentStatus.SUCCESS and payment.receipt_number
        at_the_sandbox = SandboxPayment.objects.get(pk=payment.provider_reference)
        assert at_the_sandbox.state == CardPaymentState.SUCCESS
        assert at_the_sandbox.amount_pence == payment.total_pence


def test_a_demo_online_payment_can_be_refunded_through_the_sandbox(db):
    from backoffice.payments.models import RefundStatus
    from backoffice.payments.services import refund_request

    council = load_demo_council(password="demo")["organisation"]
    payment = Payment.objects.get(organisation=council, idempotency_key="demo-online-1")

    refund = refund_request(
        payment=payment,
        amount_pence=2_500,
        reason="Demo refund",
        requested_by=get_user_model().objects.get(username="income.officer"),
    )

    assert refund.status == RefundStatus.SUCCEEDED, refund.failure_reason
    assert SandboxPayment.objects.get(pk=payment.provider_reference).refunded_pence == 2_500


def test_the_demo_cashier_opens_a_session_at_the_guildhall_and_takes_cash(db):
    from backoffice.counter import selectors, services
    from backoffice.counter.models import PaymentKind
    from backoffice.payments.services import LineInput

    council = load_demo_council(password="demo")["organisation"]
    cashier = get_user_model().objects.get(username="cashier")

    office = Office.objects.get(organisation=council)
    assert office.variance_fund_code.name == "Cash over and short"
    tills = list(selectors.tills_free_to_open(council))
    assert [till.name for till in tills] == ["Till 1", "Till 2"]
    session = services.till_session_open(till=tills[0], opened_by=cashier)
    ctax = FundCode.objects.get(organisation=council, code="CTAX")
    record = services.till_session_take_payment(
        session=session,
        taken_by=cashier,
        kind=PaymentKind.CASH,
        lines=[LineInput(ctax, 5_000, account_reference=ctax.reference_rule.example)],
        tendered_pence=6_000,
    )
    assert record.payment.receipt_number and record.change_pence == 1_000


def test_the_demo_department_user_makes_the_registrars_cash_returns(db, client):
    from django.urls import reverse

    from backoffice.tenancy.models import Membership

    council = load_demo_council(password="demo")["organisation"]
    user = get_user_model().objects.get(username="department.user")

    membership = Membership.objects.get(user=user, organisation=council)
    assert [group.name for group in membership.fund_groups.all()] == ["Registrars"]
    client.force_login(user)
    start = client.get(reverse("counter_cashreturn:start"))
    assert start.status_code == 200
    departments = start.context["form"].fields["department"].queryset
    assert [department.code for department in departments] == ["REG"]
    assert FundCode.objects.get(organisation=council, code="REGIS").accepts_channel("cash_return")
