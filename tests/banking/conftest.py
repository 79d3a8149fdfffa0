"""The counter's fixtures (a council's office, till, staff and department), and money ready
for banking: a signed-off till session and an authorised cash return."""

import pytest

from backoffice.counter import services as counter
from backoffice.counter.models import PaymentKind
from backoffice.payments.services import LineInput
from tests.counter.conftest import (  # noqa: F401 - fixtures used by these tests
    cashier,
    department,
    department_user,
    library_fines,
    office,
    over_and_short,
    second_supervisor,
    second_till,
    supervisor,
    till,
)


@pytest.fixture
def signed_off_session(till, cashier, supervisor, parking):  # noqa: F811
    """£12.50 cash and a £50.00 cheque taken; £12.40 of cash counted; signed off."""
    session = counter.till_session_open(till=till, opened_by=cashier)
    counter.till_session_take_payment(
        session=session,
        taken_by=cashier,
        kind=PaymentKind.CASH,
        lines=[LineInput(parking, 1_250)],
        tendered_pence=2_000,
    )
    cheque = counter.till_session_take_payment(
        session=session,
        taken_by=cashier,
        kind=PaymentKind.CHEQUE,
        lines=[LineInput(parking, 5_000)],
        cheque=counter.Cheque("100001", "12-34-56", "A. Payer"),
    )
    counter.till_session_close(
        session=session,
        closed_by=cashier,
        cash_counts={1000: 1, 200: 1, 20: 2},
        cheques_in_till=[cheque.pk],
        variance_reason="10p short",
    )
    return counter.till_session_sign_off(session=session, signed_off_by=supervisor)


@pytest.fixture
def authorised_return(council, department, department_user, supervisor, library_fines):  # noqa: F811
    """£35.00 of library fines: £25.00 cash and a £10.00 cheque; authorised."""
    cash_return = counter.cash_return_create(
        organisation=council, department=department, created_by=department_user
    )
    counter.cash_return_save(
        cash_return=cash_return,
        saved_by=department_user,
        lines=[counter.ReturnLineInput(library_fines, 3_500, "FINES")],
        cash_counts={2000: 1, 500: 1},
        cheques=[counter.Cheque("200001", "40-11-22", "B. Borrower", 1_000)],
    )
    counter.cash_return_submit(cash_return=cash_return, submitted_by=department_user)
    return counter.cash_return_authorise(cash_return=cash_return, authorised_by=supervisor)
