"""The payer's pages: the payments home, a service's start and question pages, the basket,
their details, "Check your answers", and the outcome of a payment.

Thin: the basket is read and written through ``basket.Basket``, items are
checked by ``items``, and payments are made through ``services``. Every page
of the journey is ``never_cache``: the back button then asks the server again,
which shows the basket as it is now, never a stale page to submit.
"""

import logging
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from backoffice.funds.models import FundCode
from backoffice.money import format_pence
from backoffice.payments.models import TAKEN_STATUSES, PaymentStatus
from backoffice.receipts import rendering
from backoffice.receipts.services import receipt_filename, receipt_pdf
from plugins import online
from plugins.types import ProviderError

from . import selectors, services
from .basket import Basket, BasketFull, Item, new_item_id
from .forms import ItemForm, PayerForm
from .items import page_problem
from .models import Checkout, PaymentsHomePage, ServicePage

logger = logging.getLogger(__name__)


# Addresses ---------------------------------------------------------------------------------


def route_url(page, route: str, request=None, **query) -> str:
    """The address of one of a page's routes (``basket_page``, ``question``...)."""
    base = page.get_url(request=request) or page.url or "/"
    url = base.rstrip("/") + "/" + page.reverse_subpage(route).lstrip("/")
    if query:
        url += "?" + urlencode(query)
    return url


def outcome_url(payment) -> str:
    return reverse("plugins:payment_return", args=[online.return_token(payment)])


def _return_url_for(request):
    # The payer comes back to the host they paid on, where their session cookie is.
    return lambda payment: request.build_absolute_uri(outcome_url(payment))


def _render(request, template, context, *, status=200):
    response = TemplateResponse(request, template, context, status=status)
    add_never_cache_headers(response)
    return response


# The basket of this request ----------------------------------------------------------------


def _basket(request, home: PaymentsHomePage) -> Basket:
    """The payer's basket for ``home``, emptied if what is in it has been paid for."""
    basket = Basket.of(request.session, home.pk)
    if basket.items and basket.checkout_ids:
        paid = Checkout.objects.filter(
            pk__in=basket.checkout_ids,
            basket_token=basket.token,
            payment__status__in=TAKEN_STATUSES,
        ).exists()
        if paid:
            basket.empty()
            basket.save(request.session)
    return basket


def _latest_payment(basket: Basket):
    """The payment this session last started here, while it may still need the payer."""
    checkout = selectors.checkout_in_session(basket, basket.latest_checkout_id)
    if checkout is None:
        return None
    payment = checkout.payment
    if payment.status in (PaymentStatus.CREATED, PaymentStatus.IN_PROGRESS):
        return {
            "payment": payment,
            "amount": format_pence(payment.total_pence),
            "url": outcome_url(payment),
        }
    return None


def _common(request, home: PaymentsHomePage, basket: Basket, **context) -> dict:
    return {
        "home": home,
        "page": context.pop("page", home),
        "basket": basket,
        "basket_total": format_pence(basket.total_pence),
        "basket_url": route_url(home, "basket_page", request),
        "home_url": home.get_url(request=request) or "/",
        "payment_in_progress": _latest_payment(basket),
        **context,
    }


def _item_rows(request, home, basket: Basket, *, back: str = "") -> list[dict]:
    pages = {
        page.pk: page
        for page in ServicePage.objects.filter(pk__in=[item.page_id for item in basket.items])
    }
    rows = []
    for item in basket.items:
        page = pages.get(item.page_id)
        query = {"change": item.id}
        if back:
            query["back"] = back
        rows.append(
            {
                "item": item,
                "amount": format_pence(item.amount_pence),
                "change_url": route_url(page, "question", request, **query) if page else "",
                "fixed_price": page.is_fixed_price if page else True,
                "reference_label": page.reference_label if page else "Reference",
            }
        )
    return rows


# The payments home and a service's pages -----------------------------------------------------


@never_cache
def home(request, *, home: PaymentsHomePage):
    basket = _basket(request, home)
    services_ = [
        {"page": page, "url": page.get_url(request=request)} for page in home.service_pages()
    ]
    return _render(
        request,
        "portal/payments_home_page.html",
        _common(request, home, basket, services=services_),
    )


@never_cache
def start(request, *, page: ServicePage):
    home_ = page.home
    basket = _basket(request, home_)
    return _render(
        request,
        "portal/service_page.html",
        _common(
            request,
            home_,
            basket,
            page=page,
            service_page=page,
            problem=page_problem(home=home_, page=page),
            start_url=route_url(page, "question", request),
            fund=page.fund,
            price=format_pence(page.service.price_pence) if page.is_fixed_price else "",
        ),
    )


@never_cache
def question(request, *, page: ServicePage):
    """The reference and the amount: added to the basket, or changed in it (``?change=<id>``)."""
    home_ = page.home
    basket = _basket(request, home_)
    changing = basket.item(request.GET.get("change", ""))
    if changing is not None and changing.page_id != page.pk:
        changing = None
    back_to_check = request.GET.get("back") == "check"
    problem = page_problem(home=home_, page=page)
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    if request.method == "POST" and problem is None:
        form = ItemForm(request.POST, home=home_, page=page)
        if form.is_valid():
            item = form.checked.basket_item(changing.id if changing else new_item_id())
            try:
                if changing is not None:
                    basket.replace(item)
                else:
                    basket.add(item)
            except BasketFull as error:
                form.add_error(None, str(error))
            else:
                basket.save(request.session)
                if back_to_check and basket.payer:
                    return redirect(route_url(home_, "check_your_answers", request))
                return redirect(route_url(home_, "basket_page", request))
    else:
        initial = {}
        if changing is not None:
            initial = {"reference": changing.reference}
            if not page.is_fixed_price:
                initial["amount"] = format_pence(changing.amount_pence, symbol=False).replace(
                    ",", ""
                )
        form = ItemForm(initial=initial, home=home_, page=page)
    if back_to_check:
        back_url = route_url(home_, "check_your_answers", request)
    elif changing is not None:
        back_url = route_url(home_, "basket_page", request)
    else:
        back_url = page.get_url(request=request)
    return _render(
        request,
        "portal/question.html",
        _common(
            request,
            home_,
            basket,
            page=page,
            service_page=page,
            form=form,
            problem=problem,
            changing=changing,
            back_url=back_url,
            price=format_pence(page.service.price_pence) if page.is_fixed_price else "",
            fund=page.fund,
        ),
    )


# The basket, the payer's details, check your answers ----------------------------------------


@never_cache
def basket(request, *, home: PaymentsHomePage):
    basket_ = _basket(request, home)
    return _render(
        request,
        "portal/basket.html",
        _common(
            request,
            home,
            basket_,
            rows=_item_rows(request, home, basket_),
            remove_url=route_url(home, "basket_remove", request),
            continue_url=route_url(home, "your_details", request),
        ),
    )


@never_cache
def basket_remove(request, *, home: PaymentsHomePage):
    """Asks first (GET), as GOV.UK's pattern for removing something from a list; removes (POST)."""
    basket_ = _basket(request, home)
    basket_url = route_url(home, "basket_page", request)
    if request.method == "POST":
        removed = basket_.remove(request.POST.get("item", ""))
        if removed is not None:
            basket_.save(request.session)
            messages.success(request, f"{removed.description} has been removed from your basket.")
        return redirect(basket_url)
    item = basket_.item(request.GET.get("item", ""))
    if item is None:
        return redirect(basket_url)
    return _render(
        request,
        "portal/remove.html",
        _common(request, home, basket_, item=item, amount=format_pence(item.amount_pence)),
    )


def _needs_address(basket_: Basket) -> bool:
    return FundCode.objects.filter(
        pk__in=[item.fund_id for item in basket_.items], collect_address=True
    ).exists()


@never_cache
def your_details(request, *, home: PaymentsHomePage):
    basket_ = _basket(request, home)
    if not basket_.items:
        return redirect(route_url(home, "basket_page", request))
    with_address = _needs_address(basket_)
    if request.method == "POST":
        form = PayerForm(request.POST, with_address=with_address)
        if form.is_valid():
            basket_.set_payer(form.cleaned_data)
            basket_.save(request.session)
            return redirect(route_url(home, "check_your_answers", request))
    else:
        form = PayerForm(initial=basket_.payer or None, with_address=with_address)
    return _render(
        request,
        "portal/your_details.html",
        _common(
            request,
            home,
            basket_,
            form=form,
            with_address=with_address,
            back_url=route_url(home, "basket_page", request),
        ),
    )


def _payer_complete(basket_: Basket) -> bool:
    payer = basket_.payer
    if not payer.get("name") or not payer.get("email"):
        return False
    if _needs_address(basket_):
        return bool(payer.get("address_line_1") and payer.get("town") and payer.get("postcode"))
    return True


@never_cache
def check_your_answers(request, *, home: PaymentsHomePage):
    basket_ = _basket(request, home)
    if request.method == "POST":
        return _pay(request, home, basket_)
    if not basket_.items:
        return redirect(route_url(home, "basket_page", request))
    if not _payer_complete(basket_):
        return redirect(route_url(home, "your_details", request))
    problems, notices = [], []
    try:
        checked = services.basket_check(home=home, basket=basket_)
    except services.BasketProblems as error:
        problems = error.messages
    else:
        notices = services.basket_reprice(basket=basket_, checked=checked)
        if notices:
            basket_.save(request.session)
    return _render(
        request,
        "portal/check_your_answers.html",
        _common(
            request,
            home,
            basket_,
            rows=_item_rows(request, home, basket_, back="check"),
            problems=problems,
            has_errors=bool(problems),
            notices=notices,
            with_address=_needs_address(basket_),
            details_url=route_url(home, "your_details", request),
            back_url=route_url(home, "your_details", request),
        ),
    )


def _pay(request, home, basket_: Basket):
    """ "Pay": the same basket always ends at the same payment (see ``services.checkout_pay``)."""
    check_url = route_url(home, "check_your_answers", request)
    posted = request.POST.get("basket_token", "")
    if posted != basket_.token:
        # A page from before the basket last changed, or sent again after paying: if that
        # basket was paid for in this session, go where that payment is; else look again.
        earlier = selectors.checkout_for_token(basket_, posted)
        if earlier is not None:
            return _to_payment(earlier)
        messages.warning(
            request, "Your basket has changed since that page was shown. Check your answers."
        )
        return redirect(check_url)
    if not basket_.items:
        return redirect(route_url(home, "basket_page", request))
    if not _payer_complete(basket_):
        return redirect(route_url(home, "your_details", request))
    try:
        checkout = services.checkout_pay(
            home=home, basket=basket_, return_url_for=_return_url_for(request)
        )
    except services.BasketProblems:
        # "Check your answers" checks the basket again and lists what is wrong.
        return redirect(check_url)
    except (services.BasketChanged, services.PriceChanged) as error:
        basket_.save(request.session)
        for message in error.messages:
            messages.warning(request, message)
        return redirect(check_url)
    except services.CannotTakePayments as error:
        messages.error(request, error.messages[0])
        return redirect(check_url)
    except (ProviderError, online.NoProvider, ValidationError) as error:
        logger.warning("Payment for basket of home %s could not start: %s", home.pk, error)
        messages.error(
            request,
            "Sorry, we could not reach the payment service. No money has been taken. "
            "Try again in a few minutes.",
        )
        return redirect(check_url)
    basket_.paid_with(checkout.pk)
    basket_.save(request.session)
    return _to_payment(checkout)


def _to_payment(checkout: Checkout):
    payment = checkout.payment
    if payment.status == PaymentStatus.IN_PROGRESS and checkout.provider_url:
        return redirect(checkout.provider_url)
    return redirect(outcome_url(payment))


# The outcome -----------------------------------------------------------------------------------

OUTCOMES = {
    PaymentStatus.SUCCESS: "success",
    PaymentStatus.PARTIALLY_REFUNDED: "success",
    PaymentStatus.REFUNDED: "success",
    PaymentStatus.FAILED: "declined",
    PaymentStatus.CANCELLED: "cancelled",
    PaymentStatus.EXPIRED: "expired",
    PaymentStatus.ERROR: "error",
    PaymentStatus.CREATED: "pending",
    PaymentStatus.IN_PROGRESS: "pending",
}

TITLES = {
    "success": "Payment complete",
    "declined": "Your payment was declined",
    "cancelled": "Your payment was cancelled",
    "expired": "Your payment timed out",
    "error": "Sorry, there is a problem with the payment service",
    "pending": "We are checking your payment",
}


def outcome(request, token: str):
    """Where the provider sends the payer back: what happened, and what to do next."""
    payment = online.payment_for_return_token(token)
    if payment is None:
        raise Http404("This payment link is not valid or has expired.")
    checking_failed = False
    try:
        payment = online.payment_refresh(payment)
    except (ProviderError, online.NoProvider) as error:
        # The periodic check settles it; meanwhile the payer is told we are checking.
        logger.warning("Payment %s not settled on return: %s", payment.pk, error)
        checking_failed = True
    checkout = selectors.checkout_of(payment)
    kind = OUTCOMES[payment.status]
    context = {
        "payment": payment,
        "council": payment.organisation,
        "kind": kind,
        "title": TITLES[kind],
        "amount": format_pence(payment.total_pence),
        "checking_failed": checking_failed,
        "checkout": checkout,
        "home_url": "/",
    }
    if checkout is not None and checkout.home is not None:
        home_ = checkout.home
        context["home_url"] = home_.get_url(request=request) or "/"
        if kind == "success":
            basket_ = Basket.of(request.session, home_.pk)
            if basket_.items and basket_.token == checkout.basket_token:
                basket_.empty()
                basket_.save(request.session)
    if kind == "success":
        context["receipt"] = rendering.receipt_content(payment)
        context["receipt_pdf_url"] = reverse("portal:receipt_pdf", args=[token])
        if checkout is not None:
            context["emailed_to"] = services.checkout_receipt_email(checkout=checkout)
    elif kind != "pending" and checkout is not None and checkout.items:
        context["retry_url"] = reverse("portal:retry", args=[token])
    elif kind == "pending" and checkout is not None:
        context["continue_url"] = (
            checkout.provider_url if payment.status == PaymentStatus.IN_PROGRESS else ""
        )
    return _render(request, "portal/outcome.html", context)


@never_cache
@require_POST
def retry(request, token: str):
    """Pay for the same basket again, after a decline, cancel, timeout or error."""
    payment = online.payment_for_return_token(token)
    checkout = selectors.checkout_of(payment) if payment is not None else None
    if checkout is None or checkout.home is None:
        raise Http404("This payment link is not valid or has expired.")
    if OUTCOMES[payment.status] in ("success", "pending"):
        return redirect(outcome_url(payment))
    basket_ = Basket.of(request.session, checkout.home_id)
    basket_.restore(
        [Item.from_dict(item) for item in checkout.items],
        {
            "name": payment.payer_name,
            "email": payment.payer_email,
            "address_line_1": payment.address_line_1,
            "address_line_2": payment.address_line_2,
            "town": payment.town,
            "postcode": payment.postcode,
        },
    )
    basket_.save(request.session)
    return redirect(route_url(checkout.home.specific, "check_your_answers", request))


@never_cache
def receipt_download(request, token: str):
    """The VAT receipt as a PDF, for the payer holding the payment's return address.

    Each download is recorded as an issue of the receipt by the system (no member
    of staff), as every receipt issued is.
    """
    payment = online.payment_for_return_token(token)
    if payment is None or payment.status not in TAKEN_STATUSES:
        raise Http404("There is no receipt for this payment.")
    pdf = receipt_pdf(payment, user=None)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{receipt_filename(payment)}"'
    return response
