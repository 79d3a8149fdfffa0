"""Signing in with a username and password, as LOCAL_LOGIN allows.

With single sign-on on, the password form is kept for one purpose: a break-glass
administrator (a superuser) who can still get in when the identity provider is down.
``LOCAL_LOGIN`` says who may use it: ``on`` everyone, ``break-glass`` superusers only,
``off`` nobody. The backend is what enforces it; the form only turns its refusal into
a message the person can act on.
"""

from django import forms
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from wagtail.admin.forms.auth import LoginForm

ON, BREAK_GLASS, OFF = "on", "break-glass", "off"


def local_login_mode() -> str:
    """``on``, ``break-glass`` or ``off``: who may sign in with a password now."""
    return settings.LOCAL_LOGIN


def password_sign_in_refusal() -> str:
    """What someone who may not use the password form is told."""
    if settings.OIDC_ENABLED:
        return (
            "Only the break-glass administrator may sign in with a password. "
            f"Sign in with {settings.OIDC_PROVIDER_NAME} instead."
        )
    return "Only the break-glass administrator may sign in with a password."


class LocalPasswordBackend(ModelBackend):
    """Django's username and password check, refusing whom LOCAL_LOGIN leaves out.

    A refusal for a right password is noted on the request (``password_sign_in_refused``)
    so that the login form can say why, rather than that the password was wrong.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        """The user, if the password is right and LOCAL_LOGIN lets them use it."""
        mode = local_login_mode()
        if mode == OFF:
            return None
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None and mode == BREAK_GLASS and not user.is_superuser:
            if request is not None:
                request.password_sign_in_refused = True
            return None
        return user


class StaffLoginForm(LoginForm):
    """Wagtail's login form (WAGTAILADMIN_USER_LOGIN_FORM), explaining LOCAL_LOGIN's refusals."""

    def clean(self):
        """Refuse at once when the password form is off; explain a break-glass refusal."""
        if local_login_mode() == OFF:
            raise forms.ValidationError(
                "Signing in with a password is switched off. "
                f"Sign in with {settings.OIDC_PROVIDER_NAME}.",
                code="local_login_off",
            )
        try:
            return super().clean()
        except forms.ValidationError:
            if getattr(self.request, "password_sign_in_refused", False):
                raise forms.ValidationError(
                    password_sign_in_refusal(), code="break_glass_only"
                ) from None
            raise
