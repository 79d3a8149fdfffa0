"""Sign-in, sign-out and failed sign-in, from Django's authentication signals.

These cover every way in (the password form, single sign-on's callback, the
test client's force_login) where the request middleware cannot: at sign-in the
request began anonymous, and at sign-out it ends anonymous.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from backoffice.tenancy.selectors import organisations_for_user

from .models import AuditAction
from .services import audit_record_quietly


@receiver(user_logged_in, dispatch_uid="audit_sign_in")
def record_sign_in(sender, request, user, **kwargs):
    """A member of staff signed in: recorded against the council they will work in first."""
    audit_record_quietly(
        action=AuditAction.SIGN_IN,
        request=_real_request(request),
        user=user,
        organisation=organisations_for_user(user).first(),
    )


@receiver(user_logged_out, dispatch_uid="audit_sign_out")
def record_sign_out(sender, request, user, **kwargs):
    """A member of staff signed out (Django sends this with no user if nobody was signed in)."""
    if user is None:
        return
    audit_record_quietly(
        action=AuditAction.SIGN_OUT,
        request=_real_request(request),
        user=user,
        organisation=getattr(request, "organisation", None) or organisations_for_user(user).first(),
    )


@receiver(user_login_failed, dispatch_uid="audit_sign_in_failed")
def record_failed_sign_in(sender, credentials, request=None, **kwargs):
    """A sign-in was refused: the username tried and where from.

    When the username is a real account, the event names it and its council, so that
    the council's auditors see attempts on their staff's accounts; an unknown username
    belongs to no council and only system administrators see it. Django has already
    masked the password in ``credentials``; only the username is read.
    """
    User = get_user_model()
    username = str(credentials.get(User.USERNAME_FIELD) or credentials.get("username") or "")
    account = User._default_manager.filter(**{User.USERNAME_FIELD: username}).first()
    audit_record_quietly(
        action=AuditAction.SIGN_IN_FAILED,
        request=_real_request(request),
        user=account,
        username=username,
        organisation=organisations_for_user(account).first() if account else None,
    )


def _real_request(request):
    # The test client's force_login signs in with a bare HttpRequest: no address, no path.
    return request if request is not None and request.META else None
