"""Every hook a plugin can implement, with its documentation.

A plugin is a module or object with functions named after these hooks and
marked with ``plugins.hookimpl``; it registers through the ``ims.plugins``
entry-point group (see docs/plugins.md). The system calls hooks; plugins
never write domain rows themselves: they answer with the values of
``plugins.types`` and the system records the result through its services,
so that the ledger stays true whatever a plugin does.

Hooks that take an ``integration`` are called only on the plugin that the
integration belongs to (one council's configured use of a plugin).
``integration.config`` holds the values of the plugin's settings form,
secrets decrypted; ``integration.key`` is the council's name for it;
``integration.organisation`` is the council. Such hooks are ``firstresult``:
the plugin's answer is the answer.
"""

import pluggy

hookspec = pluggy.HookspecMarker("ims")


# The plugin itself ---------------------------------------------------------------------


@hookspec
def ims_plugin_info():
    """Say who the plugin is: return a ``plugins.types.PluginInfo``.

    Required of every plugin. ``name`` must equal the plugin's entry-point
    name. ``kinds`` says which families of hooks it implements (payment
    provider, telephone, departmental); the admin offers it to councils
    accordingly. ``settings_form`` (a Django form class, built with
    ``organisation=``) is the schema of its per-council settings: the admin
    validates what a finance administrator enters with it, and stores the
    ``SecretField`` values encrypted.
    """


@hookspec
def ims_urlpatterns():
    """Return a list of Django URL patterns the plugin serves, or nothing.

    They are mounted under ``/plugins/<plugin name>/`` (a provider's hosted
    page, for example). Views must do their own authentication; domain writes
    go through the system's services.
    """


# Payment providers ---------------------------------------------------------------------


@hookspec(firstresult=True)
def ims_provider_start(integration, payment, return_url, moto=False):
    """Start an online payment with the provider; return a ``ProviderStart``.

    ``payment`` is a created ``Payment`` (total, lines, payer); the plugin
    asks its provider to take ``payment.total_pence`` and says where to send
    the payer (``next_url``) and the provider's id for the payment
    (``provider_reference``). The provider must send the payer back to
    ``return_url`` when they finish, whatever the outcome.

    ``moto`` is true for a card payment taken by staff over the phone (mail
    order / telephone order): the member of staff, not the payer, is sent to
    ``next_url`` and types the card details the caller reads out, so the
    provider must take it as MOTO (no 3-D Secure challenge for the
    cardholder), e.g. GOV.UK Pay's ``"moto": true``. A plugin says it can do
    this by taking the ``moto`` argument; one that does not is never offered
    for phone payments. If MOTO is not switched on for the council's account,
    raise ``ProviderError`` saying so.

    Raise ``ProviderError`` if the provider cannot be reached or refuses; the
    payment stays created and the payer is told to try again.
    """


@hookspec(firstresult=True)
def ims_provider_status(integration, payment):
    """Ask the provider what became of a payment; return a ``ProviderStatus``.

    Called when the payer returns, and by the periodic check for payments
    whose callback never came. Map the provider's own states to the system's
    (``in_progress`` while the payer may still pay). Raise ``ProviderError``
    on a timeout or a server error: the payment is left as it was and asked
    about again later.
    """


@hookspec(firstresult=True)
def ims_provider_refund(integration, refund, amount_available_pence):
    """Ask the provider to refund ``refund.amount_pence`` of ``refund.payment``.

    ``amount_available_pence`` is what the system believes can still be
    refunded (before this refund), for providers that check it so that a
    stale caller cannot refund twice. Return a ``RefundResult``: accepted
    (with the provider's refund id) or refused (with the provider's reason,
    shown to staff). Raise ``ProviderError`` if the provider cannot be
    reached: the refund is recorded as failed and nothing is posted.
    """


@hookspec(firstresult=True)
def ims_provider_callback(integration, body, headers):
    """Verify and read a callback or webhook the provider sent.

    ``body`` is the raw request body (bytes) and ``headers`` the request's
    headers (case-insensitive mapping). Verify it first (a signature over the
    raw body, in constant time) and raise ``InvalidCallback`` if it fails:
    nothing is changed and the sender gets a 400. Return a list of
    ``CallbackEvent``; the system applies each one once, whatever order or
    how many times they arrive.
    """


@hookspec(firstresult=True)
def ims_provider_settlements(integration, date_from, date_to):
    """List what the provider paid out for payments between two dates.

    Return a list of ``Settlement`` (one per payment, with the provider's fee
    and payout reference where the provider gives them), for reconciling the
    provider clearing account with the bank.
    """


# Telephone payments (IVR) -------------------------------------------------------------


@hookspec(firstresult=True)
def ims_telephone_read_check(integration, request):
    """Read an IVR's "may this be paid?" request into a ``TelephoneCheck``.

    ``request`` is the Django request, already authenticated with the
    integration's API key. Raise ``django.core.exceptions.ValidationError``
    for a request that cannot be read; the IVR gets a 400 saying why.
    """


@hookspec(firstresult=True)
def ims_telephone_answer_check(integration, check, problems):
    """Write the answer to a check as the IVR expects it: return an ``HttpResponse``.

    ``problems`` is a list of ``(code, message)``; empty means payable. Codes
    are stable (``unknown_fund``, ``fund_inactive``, ``channel_not_allowed``,
    ``bad_reference``, ``amount_too_small``, ``amount_too_large``,
    ``bad_amount``) so that an IVR can choose what to say to the caller.
    """


@hookspec(firstresult=True)
def ims_telephone_read_outcome(integration, request):
    """Read an IVR's report of a card payment into a ``TelephoneOutcome``.

    Raise ``ValidationError`` for a report that cannot be read.
    """


@hookspec(firstresult=True)
def ims_telephone_answer_outcome(integration, outcome, payment, replayed):
    """Write the answer to an outcome report: return an ``HttpResponse``.

    ``payment`` is the payment recorded (with its receipt number when the
    card payment succeeded); ``replayed`` is true when the same transaction
    id was reported before and nothing new was written.
    """


# Departmental systems -----------------------------------------------------------------


@hookspec(firstresult=True)
def ims_reference_validate(integration, fund_code, reference):
    """Is ``reference`` one the department knows, for ``fund_code``?

    Called for every payment line against a fund code the integration looks
    after, after the fund's own reference rule passed. Return a
    ``ReferenceVerdict``, or ``None`` if this integration does not look after
    the fund code. A reference found invalid is treated like one that fails
    the fund's rule: refused online, sent to suspense where the money is
    already in hand.
    """


@hookspec
def ims_payment_taken(integration, payment):
    """Hear that ``payment`` succeeded (called after the transaction commits).

    Called for each of the council's enabled departmental integrations. Do
    not raise: a department's system being down must not undo a payment; log
    and retry on your side, or rely on the daily export.
    """


@hookspec
def ims_refund_completed(integration, refund):
    """Hear that ``refund`` was completed (succeeded) (called after commit)."""


@hookspec(firstresult=True)
def ims_export_files(integration, day):
    """Write the department's files for ``day``: return a list of ``ExportFile``.

    The system writes them atomically under the council's export folder,
    records the run, and never runs the same day twice unless asked to
    re-run. Amounts are pence in the database; format them at this edge.
    """
