"""The back office's login page and sign-out, with single sign-on where it is set up.

Both take the place of Wagtail's own at the same addresses (backoffice/urls.py lists them
ahead of Wagtail's admin), and keep Wagtail's behaviour otherwise.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from wagtail.admin.views import account

from .local_login import BREAK_GLASS, OFF, local_login_mode
from .oidc import SESSION_ID_TOKEN, provider_sign_out_url


class StaffLoginView(account.LoginView):
    """Wagtail's login page, offering "Sign in with <provider>" and the password form
    as LOCAL_LOGIN allows (the template is accounts/templates/wagtailadmin/login.html)."""

    def get_context_data(self, **kwargs):
        """Wagtail's context, plus what the page needs to offer single sign-on."""
        context = super().get_context_data(**kwargs)
        mode = local_login_mode()
        context["site_name"] = settings.WAGTAIL_SITE_NAME
        context["single_sign_on"] = settings.OIDC_ENABLED
        context["single_sign_on_provider"] = settings.OIDC_PROVIDER_NAME
        context["single_sign_on_url"] = self._single_sign_on_url(context.get("next"))
        context["password_form_shown"] = mode != OFF
        context["password_form_break_glass_only"] = mode == BREAK_GLASS
        return context

    def _single_sign_on_url(self, next_url):
        if not settings.OIDC_ENABLED:
            return ""
        # The page to return to after signing in, checked by mozilla-django-oidc
        # (get_next_url) for being on this site before it is used.
        query = urlencode({"next": next_url or reverse("wagtailadmin_home")})
        return f"{reverse('oidc_authentication_init')}?{query}"


class StaffLogoutView(account.LogoutView):
    """Wagtail's sign-out, which also signs out at the provider for a single sign-on session.

    The provider's end-session endpoint is found before the session (and the ID token in it)
    is flushed; the person comes back to the login page from the provider.
    """

    def post(self, request, *args, **kwargs):
        """Sign out here, then at the provider if the session came from it."""
        at_provider = None
        if settings.OIDC_ENABLED and request.session.get(SESSION_ID_TOKEN):
            at_provider = provider_sign_out_url(request)
        response = super().post(request, *args, **kwargs)
        if at_provider:
            response["Location"] = at_provider
        return response
