"""Every back-office request by a signed-in member of staff goes in the audit log.

After the view has answered, one row is written: who, which council, the page
(path, method, status), where from (IP address, browser) and, where the URL
says so, the object (``payments.payment`` 123). The action is read from the
method and the URL's name; see ``request_action``. A failure to write is
logged and the page is served all the same.

Not recorded (docs/audit.md explains why): anything outside the back office
(the public site, static and media files, provider callbacks, the API),
requests by nobody signed in, OPTIONS requests, and the admin's background
noise listed in ``NOISE_VIEW_NAMES`` and ``NOISE_URL_NAMES``. Sign-in and
sign-out are recorded by the signals in ``signals.py`` instead.
"""

import logging

from django.contrib.admin.utils import unquote
from django.urls import reverse

from .models import AuditAction
from .services import audit_record_quietly

logger = logging.getLogger(__name__)

# Whole views that are never a person looking at or changing anything.
NOISE_VIEW_NAMES = frozenset(
    {
        # Recorded by the sign-in signals, with the username tried on failure.
        "wagtailadmin_login",
        "wagtailadmin_logout",
        # The admin's icons and its JavaScript translations.
        "wagtailadmin_sprite",
        "wagtailadmin_javascript_catalog",
        # Tag suggestions fetched at each keystroke.
        "wagtailadmin_tag_autocomplete",
        "wagtailadmin_tag_model_autocomplete",
        # The editing-session heartbeat, every few seconds while an edit page is open.
        "wagtailadmin_editing_sessions:ping",
        "wagtailadmin_editing_sessions:release",
        # Remembering which tips a person has dismissed.
        "wagtailadmin_dismissibles",
        # Live previews re-rendered as someone types.
        "wagtailadmin_block_preview",
    }
)
# The same noise from any viewset, whatever its namespace.
NOISE_URL_NAMES = frozenset({"preview_on_add", "preview_on_edit", "autocomplete"})

# Query parameters that page or sort a list: with only these, a list is viewed, not searched.
NOT_SEARCH_TERMS = frozenset({"p", "page", "ordering", "cursor", "next", "_"})

# For a POST, the first word of the URL's name found here says what was done.
POST_ACTIONS_BY_WORD = {
    "delete": AuditAction.DELETE,
    "refund": AuditAction.REFUND,
    "move": AuditAction.JOURNAL,  # moving a payment line's money is a journal request
    "journal": AuditAction.JOURNAL,
    "approve": AuditAction.APPROVE,
    "reject": AuditAction.REJECT,
    "receipt": AuditAction.RECEIPT,
    "api": AuditAction.API_KEY,
    "export": AuditAction.EXPORT,
    "add": AuditAction.CREATE,
    "new": AuditAction.CREATE,
    "create": AuditAction.CREATE,
    "copy": AuditAction.CREATE,
    "import": AuditAction.CREATE,
}

# URL keyword arguments that name the object a page is about, most specific first.
OBJECT_ID_KWARGS = ("pk", "object_id", "id")


class AuditMiddleware:
    """Records each audited request after its response (settings.MIDDLEWARE, after tenancy)."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._admin_prefix = None

    def __call__(self, request):
        response = self.get_response(request)
        try:
            if self._is_audited(request):
                self._record(request, response)
        except Exception:
            # The audit log must never take the back office down with it.
            logger.exception(
                "Could not write the audit event for %s %s", request.method, request.path
            )
        return response

    @property
    def admin_prefix(self) -> str:
        # Found on first use: the URLconf is not loaded yet when middleware is built.
        if self._admin_prefix is None:
            self._admin_prefix = reverse("wagtailadmin_home")
        return self._admin_prefix

    def _is_audited(self, request) -> bool:
        if not getattr(getattr(request, "user", None), "is_authenticated", False):
            return False
        if request.method == "OPTIONS" or not request.path.startswith(self.admin_prefix):
            return False
        match = request.resolver_match
        if match is None:
            return True  # an unknown admin address: someone trying URLs is worth knowing about
        return match.view_name not in NOISE_VIEW_NAMES and match.url_name not in NOISE_URL_NAMES

    def _record(self, request, response):
        action = request_action(request)
        query = request.GET if action in (AuditAction.SEARCH, AuditAction.EXPORT) else None
        audit_record_quietly(
            action=action,
            request=request,
            query=query,
            status_code=response.status_code,
            **request_object(request),
        )


def request_action(request) -> str:
    """What a back-office request did, as well as its method and URL tell.

    GET: an export (an URL named "export" or ``?export=``), a receipt (an URL named
    "receipt..."), a search (any parameter beyond paging and sorting), else a view.
    POST: the decision field's approve or reject; else the first word of the URL's
    name found in ``POST_ACTIONS_BY_WORD``; else a change.
    """
    match = request.resolver_match
    words = _words(match.url_name if match else "")
    if request.method in ("GET", "HEAD"):
        if "export" in words or "export" in request.GET:
            return AuditAction.EXPORT
        if "receipt" in words:
            return AuditAction.RECEIPT
        if any(
            name not in NOT_SEARCH_TERMS and any(request.GET.getlist(name)) for name in request.GET
        ):
            return AuditAction.SEARCH
        return AuditAction.VIEW
    if request.method == "POST":
        decision = request.POST.get("decision")
        if decision in (AuditAction.APPROVE, AuditAction.REJECT):
            return decision
    for word in words:
        if word in POST_ACTIONS_BY_WORD:
            return POST_ACTIONS_BY_WORD[word]
    if request.method == "DELETE":
        return AuditAction.DELETE
    return AuditAction.CHANGE


def request_object(request) -> dict[str, str]:
    """The object a back-office URL is about: its type, id and a short description.

    The type is the view's model ("payments.payment") when the view declares one,
    else the URL's namespace; the id comes from the URL's ``pk`` (or ``object_id``,
    ``id``). A list page has a type and no id.
    """
    match = request.resolver_match
    if match is None:
        return {}
    model = _view_model(match.func)
    object_id = next(
        (str(match.kwargs[name]) for name in OBJECT_ID_KWARGS if name in match.kwargs), ""
    )
    object_id = unquote(object_id) if object_id else ""
    if model is not None:
        object_type = model._meta.label_lower
        noun = model._meta.verbose_name if object_id else model._meta.verbose_name_plural
    else:
        object_type = match.namespace if object_id else ""
        noun = match.namespace
    if not object_type and not object_id:
        return {}
    description = f"{noun} {object_id}" if object_id else str(noun)
    return {"object_type": object_type, "object_id": object_id, "description": description}


def _view_model(view):
    # Class-based views keep what as_view() was given (Wagtail viewsets pass the model),
    # through Wagtail's decorators, which copy the view's attributes.
    model = getattr(view, "view_initkwargs", {}).get("model")
    if model is None:
        model = getattr(getattr(view, "view_class", None), "model", None)
    return model if hasattr(model, "_meta") else None


def _words(url_name: str | None) -> list[str]:
    return (url_name or "").replace("-", "_").split("_")
