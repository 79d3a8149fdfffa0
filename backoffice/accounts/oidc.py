"""Staff single sign-on through the council's OpenID Connect identity provider.

mozilla-django-oidc runs the authorisation code flow; this module decides what a signed-in
identity means here. At every sign-in the provider's claims are read afresh and the user is
brought into step with them (``services.staff_user_sync_from_identity``):

- who: the claim named by ``OIDC_USERNAME_CLAIM`` (``sub`` unless set) is the username;
- what they may do: the groups claim (``OIDC_GROUPS_CLAIM``), each group mapped to a role by
  ``OIDC_ROLE_GROUPS``; someone with no mapped group is refused, and loses any roles held;
- where: the council code(s) in ``OIDC_COUNCIL_CLAIM``, or else ``OIDC_DEFAULT_COUNCIL``.

The provider's endpoints come from ``OIDC_OP_ISSUER``'s discovery document, fetched on the
first sign-in and kept for the life of the process, unless each is set explicitly.
docs/single-sign-on.md is the guide for setting a provider up.
"""

import logging
import re
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
import requests
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ImproperlyConfigured
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from backoffice.tenancy.models import Organisation

from . import services
from .roles import ROLES

logger = logging.getLogger(__name__)

# Where mozilla-django-oidc keeps the ID token (OIDC_STORE_ID_TOKEN): a session key, no secret.
SESSION_ID_TOKEN = "oidc_id_token"  # noqa: S105


def role_key(role_name: str) -> str:
    """How a role is named in OIDC_ROLE_GROUPS: "Income officer" is ``income_officer``."""
    return re.sub(r"[^a-z0-9]+", "_", role_name.lower()).strip("_")


ROLES_BY_KEY = {role_key(role.name): role.name for role in ROLES}


def parse_role_groups(text: str) -> dict[str, frozenset[str]]:
    """The provider's group names, each with the roles it grants, from OIDC_ROLE_GROUPS.

    ``text`` is comma-separated ``group=role`` entries; a group may appear more than once
    to grant several roles, and several groups may grant the same role. Raises
    ImproperlyConfigured naming the entry at fault, so that a mistyped role stops the
    system starting rather than quietly granting nothing.
    """
    mapping: dict[str, set[str]] = {}
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        group, equals, key = entry.rpartition("=")
        group, key = group.strip(), key.strip()
        if not equals or not group or not key:
            raise ImproperlyConfigured(
                f"OIDC_ROLE_GROUPS entry {entry!r} is not group=role, "
                "e.g. ims-income=income_officer."
            )
        if key not in ROLES_BY_KEY:
            raise ImproperlyConfigured(
                f"OIDC_ROLE_GROUPS entry {entry!r} names the unknown role {key!r}; "
                f"the roles are {', '.join(ROLES_BY_KEY)}."
            )
        mapping.setdefault(group, set()).add(ROLES_BY_KEY[key])
    return {group: frozenset(roles) for group, roles in mapping.items()}


def check_configuration() -> None:
    """Raise ImproperlyConfigured if single sign-on is on but could grant nobody anything."""
    if not settings.OIDC_ENABLED:
        return
    if not parse_role_groups(settings.OIDC_ROLE_GROUPS):
        raise ImproperlyConfigured(
            "Single sign-on is on (OIDC_RP_CLIENT_ID is set) but OIDC_ROLE_GROUPS maps no "
            "group to a role, so nobody could sign in."
        )


def _as_list(value) -> list[str]:
    """A claim that may be one string or a list of them (providers differ) as a list."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return [str(value)]


def roles_for_claims(claims: dict) -> list[str]:
    """The roles the groups claim grants, in the order roles.py lists them."""
    mapping = parse_role_groups(settings.OIDC_ROLE_GROUPS)
    granted = set()
    for group in _as_list(claims.get(settings.OIDC_GROUPS_CLAIM)):
        granted |= mapping.get(group, frozenset())
    return [role.name for role in ROLES if role.name in granted]


class SignInRefused(Exception):
    """The identity is genuine but may not sign in here; the message says why, for the person."""


def councils_for_claims(claims: dict) -> list[Organisation]:
    """The active councils the person works for: from the council claim, or the default."""
    codes = []
    if settings.OIDC_COUNCIL_CLAIM:
        codes = _as_list(claims.get(settings.OIDC_COUNCIL_CLAIM))
    if not codes and settings.OIDC_DEFAULT_COUNCIL:
        codes = [settings.OIDC_DEFAULT_COUNCIL]
    if not codes:
        raise SignInRefused(
            "Your account does not say which council you work for. Ask your IT service desk "
            "to give your account a council."
        )
    councils = list(Organisation.objects.filter(code__in=codes, is_active=True).order_by("name"))
    unknown = sorted(set(codes) - {council.code for council in councils})
    if unknown:
        logger.warning("Single sign-on named councils this system does not have: %s", unknown)
    if not councils:
        raise SignInRefused(
            f"Your account names a council this system does not know ({', '.join(codes)}). "
            "Ask your IT service desk to check it."
        )
    return councils


# The provider's endpoints ---------------------------------------------------------------


@dataclass(frozen=True)
class ProviderEndpoints:
    authorization: str
    token: str
    userinfo: str
    jwks: str
    end_session: str  # empty where the provider has no end-session endpoint


class ProviderUnreachable(Exception):
    pass


_discovered: dict[str, dict] = {}


def _discovery_document(issuer: str) -> dict:
    """The issuer's discovery document, fetched once per process and kept."""
    if issuer not in _discovered:
        url = f"{issuer}/.well-known/openid-configuration"
        try:
            response = httpx.get(url, timeout=settings.OIDC_TIMEOUT)
            response.raise_for_status()
            document = response.json()
        except (httpx.HTTPError, ValueError) as error:
            raise ProviderUnreachable(f"Could not read {url}: {error}") from error
        if document.get("issuer", "").rstrip("/") != issuer:
            raise ProviderUnreachable(
                f"{url} names the issuer {document.get('issuer')!r}, not {issuer!r}: "
                "check OIDC_OP_ISSUER."
            )
        _discovered[issuer] = document
    return _discovered[issuer]


def forget_discovery() -> None:
    """Drop the kept discovery documents (after the provider changed its endpoints)."""
    _discovered.clear()


def provider_endpoints() -> ProviderEndpoints:
    """The provider's endpoints: each set explicitly, or else from discovery."""
    explicit = ProviderEndpoints(
        authorization=settings.OIDC_OP_AUTHORIZATION_ENDPOINT,
        token=settings.OIDC_OP_TOKEN_ENDPOINT,
        userinfo=settings.OIDC_OP_USER_ENDPOINT,
        jwks=settings.OIDC_OP_JWKS_ENDPOINT,
        end_session=settings.OIDC_OP_LOGOUT_ENDPOINT,
    )
    if not settings.OIDC_OP_ISSUER:
        return explicit
    document = _discovery_document(settings.OIDC_OP_ISSUER)
    return ProviderEndpoints(
        authorization=explicit.authorization or document["authorization_endpoint"],
        token=explicit.token or document["token_endpoint"],
        userinfo=explicit.userinfo or document["userinfo_endpoint"],
        jwks=explicit.jwks or document["jwks_uri"],
        end_session=explicit.end_session or document.get("end_session_endpoint", ""),
    )


# mozilla-django-oidc, fitted to this system --------------------------------------------

UNREACHABLE = (
    "Signing in with {provider} did not work: it could not be reached. "
    "Try again in a few minutes; if it goes on, tell your IT service desk."
)


def _refuse(request, reason: str) -> None:
    # The callback view shows it on the sign-in page (SignInCallbackView.login_failure).
    request.sign_in_refusal = reason


class StaffIdentityBackend(OIDCAuthenticationBackend):
    """Signs staff in from the provider's claims, and brings their account into step.

    The claims are the ID token's, with the userinfo endpoint's on top: some providers
    (Entra ID) put the groups in the ID token only, others (Okta, Keycloak) in userinfo.
    """

    def authenticate(self, request, **kwargs):
        """Sign in from the provider's answer at the callback; any other request is not ours."""
        if request is None or "code" not in request.GET or not settings.OIDC_ENABLED:
            return None
        try:
            endpoints = provider_endpoints()
            self.OIDC_OP_TOKEN_ENDPOINT = endpoints.token
            self.OIDC_OP_USER_ENDPOINT = endpoints.userinfo
            self.OIDC_OP_JWKS_ENDPOINT = endpoints.jwks
            return super().authenticate(request, **kwargs)
        except (ProviderUnreachable, requests.RequestException) as error:
            logger.warning("Single sign-on failed: %s", error)
            _refuse(request, UNREACHABLE.format(provider=settings.OIDC_PROVIDER_NAME))
            return None

    def get_userinfo(self, access_token, id_token, payload):
        """The ID token's claims with the userinfo endpoint's over them."""
        return {**payload, **super().get_userinfo(access_token, id_token, payload)}

    def get_or_create_user(self, access_token, id_token, payload):
        """Sign the person in, or refuse them with a reason they can act on."""
        claims = self.get_userinfo(access_token, id_token, payload)
        try:
            return self._sync(claims)
        except SignInRefused as refusal:
            logger.info("Single sign-on refused %r: %s", claims.get("sub"), refusal)
            _refuse(self.request, str(refusal))
            return None

    def _sync(self, claims):
        """The user the claims describe, brought into step; SignInRefused saying why not."""
        username = claims.get(settings.OIDC_USERNAME_CLAIM)
        if not isinstance(username, str) or not 0 < len(username) <= 150:
            raise SignInRefused(
                f"{settings.OIDC_PROVIDER_NAME} did not say who you are (no usable "
                f"{settings.OIDC_USERNAME_CLAIM!r} claim). Tell your IT service desk."
            )
        roles = roles_for_claims(claims)
        refusal = None
        try:
            councils = councils_for_claims(claims)
        except SignInRefused as no_council:
            councils, refusal = [], no_council
        if not roles:
            refusal = SignInRefused(
                "You are not in any group that may use the income management system, so you "
                "cannot sign in. Ask your manager to request access from your IT service desk."
            )
        try:
            # Even when refusing, an existing account loses what is no longer granted.
            user = services.staff_user_sync_from_identity(
                username=username,
                roles=roles,
                organisations=councils,
                create=refusal is None,
                **_names(claims),
            )
        except services.IdentityConflict as conflict:
            logger.warning("Single sign-on refused for %r: %s", username, conflict)
            raise SignInRefused(
                "Your account cannot be used here: it matches a local administrator account. "
                "Tell your IT service desk."
            ) from conflict
        if refusal is not None:
            raise refusal
        if not user.is_active:
            raise SignInRefused(
                "Your account has been switched off in the income management system. "
                "Ask a system administrator."
            )
        return user


def _names(claims: dict) -> dict:
    """First name, last name and email from the standard claims, as far as they are sent."""
    full_name = claims.get("name") or ""
    first, _, last = full_name.partition(" ")
    return {
        "first_name": claims.get("given_name") or first,
        "last_name": claims.get("family_name") or last,
        "email": claims.get("email") or "",
    }


class SignInView(OIDCAuthenticationRequestView):
    """Sends the person to the provider to sign in ("Sign in with ..." on the login page)."""

    def get(self, request):
        """Redirect to the provider's authorisation endpoint, found now rather than at start."""
        if not settings.OIDC_ENABLED:
            raise Http404("Single sign-on is not set up.")
        try:
            self.OIDC_OP_AUTH_ENDPOINT = provider_endpoints().authorization
        except ProviderUnreachable as error:
            logger.warning("Single sign-on could not start: %s", error)
            messages.error(request, UNREACHABLE.format(provider=settings.OIDC_PROVIDER_NAME))
            return redirect_to_login()
        return super().get(request)


class SignInCallbackView(OIDCAuthenticationCallbackView):
    """Where the provider sends the person back; a refusal is explained on the login page."""

    def get(self, request):
        """Finish signing in (mozilla-django-oidc), or explain why not."""
        if not settings.OIDC_ENABLED:
            raise Http404("Single sign-on is not set up.")
        return super().get(request)

    def login_failure(self):
        """Back to the login page, saying why the sign-in did not happen."""
        reason = getattr(self.request, "sign_in_refusal", None) or (
            f"Signing in with {settings.OIDC_PROVIDER_NAME} did not finish. Please try again."
        )
        messages.error(self.request, reason)
        return super().login_failure()


def redirect_to_login():
    """The Wagtail admin's login page."""
    return redirect("wagtailadmin_login")


def provider_sign_out_url(request) -> str:
    """Where to send someone signing out: the provider's end-session endpoint, if any.

    The provider ends its own session too, then sends the person back to the login page.
    Called before the Django session is flushed, while the ID token is still in it.
    """
    login_url = request.build_absolute_uri(reverse("wagtailadmin_login"))
    try:
        end_session = provider_endpoints().end_session
    except ProviderUnreachable as error:
        logger.warning("Signing out at the provider skipped: %s", error)
        return login_url
    if not end_session:
        return login_url
    parameters = {"client_id": settings.OIDC_RP_CLIENT_ID, "post_logout_redirect_uri": login_url}
    id_token = request.session.get(SESSION_ID_TOKEN)
    if id_token:
        parameters["id_token_hint"] = id_token
    return f"{end_session}?{urlencode(parameters)}"
