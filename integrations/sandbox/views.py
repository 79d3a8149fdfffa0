"""The sandbox's hosted card page: where the payer "pays", as on a real provider's page.

Anyone holding the page's address (an unguessable id) may pay or cancel that
one payment, as with a real provider's hosted page: there is no sign-in.
"""

from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from backoffice.money import format_pence

from . import services
from .forms import CardForm
from .models import SandboxPayment

# Never shown back to the payer, and hidden from error reports.
CARD_FIELDS = ("card_number", "security_code")


@sensitive_post_parameters(*CARD_FIELDS)
@never_cache
@require_http_methods(["GET", "POST"])
def card_page(request, sandbox_payment_id):
    """Show the card form (GET); pay or cancel (POST), then send the payer back."""
    sandbox_payment = get_object_or_404(
        SandboxPayment.objects.select_related("integration", "organisation"),
        pk=sandbox_payment_id,
    )
    sandbox_payment = services.sandbox_payment_open(sandbox_payment)
    if not sandbox_payment.is_open:
        # Finished (or expired): the return page says what happened.
        return redirect(sandbox_payment.return_url)

    form = CardForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "cancel":
                services.sandbox_payment_cancel(sandbox_payment)
                return redirect(sandbox_payment.return_url)
            if form.is_valid():
                services.sandbox_payment_pay(
                    sandbox_payment=sandbox_payment, card_number=form.cleaned_data["card_number"]
                )
                return redirect(sandbox_payment.return_url)
        except ValidationError:
            # Finished in another tab meanwhile: the return page says how.
            return redirect(sandbox_payment.return_url)
        # Typed again rather than sent back in the page.
        form.data = form.data.copy()
        for name in CARD_FIELDS:
            form.data[name] = ""

    config = sandbox_payment.integration.config
    return render(
        request,
        "sandbox/card_page.html",
        {
            "sandbox_payment": sandbox_payment,
            "form": form,
            "amount": format_pence(sandbox_payment.amount_pence),
            "payee": config.get("display_name") or sandbox_payment.organisation.name,
            "test_cards": services.TEST_CARDS.values(),
        },
    )
