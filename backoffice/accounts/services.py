"""Writes about staff accounts."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from backoffice.tenancy.models import Membership, Organisation
from backoffice.tenancy.services import membership_add

from .roles import ROLES_BY_NAME


class UnknownRole(ValueError):
    pass


@transaction.atomic
def staff_user_save(
    *,
    username: str,
    organisation,
    roles: list[str],
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    password: str | None = None,
):
    """Create or update a member of staff of ``organisation`` holding exactly ``roles``.

    With ``password=None`` the account can only sign in through single sign-on.
    """
    unknown = sorted(set(roles) - set(ROLES_BY_NAME))
    if unknown:
        raise UnknownRole(
            f"Unknown role {', '.join(unknown)}; roles are {', '.join(ROLES_BY_NAME)}."
        )
    user, _ = get_user_model().objects.update_or_create(
        username=username,
        defaults={
            "first_name": first_name,
            "last_name": last_name,
            "email": email,
            "is_active": True,
        },
    )
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save()
    _roles_set(user, roles)
    membership_add(user=user, organisation=organisation)
    return user


def _roles_set(user, roles) -> None:
    """Give ``user`` exactly ``roles``; groups that are not roles are left as they are."""
    role_groups = Group.objects.filter(name__in=ROLES_BY_NAME)
    user.groups.remove(*role_groups.exclude(name__in=roles))
    user.groups.add(*role_groups.filter(name__in=roles))


class IdentityConflict(ValueError):
    """A signed-in identity matches an account that single sign-on must not take over."""


@transaction.atomic
def staff_user_sync_from_identity(
    *,
    username: str,
    roles: list[str],
    organisations: list[Organisation],
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    create: bool = True,
):
    """Bring a member of staff into step with what their identity provider says of them.

    Called at every single sign-on. The provider is the source of truth: the user holds
    exactly ``roles`` and is an active member of exactly ``organisations`` afterwards, so
    a role or council taken away at the provider is taken away here at the next sign-in.
    Groups that are not roles (granted by hand) are left alone.

    A new user is created (with no usable password: they can only sign in through the
    provider) unless ``create`` is false, when ``None`` is returned. An existing user
    keeps ``is_active`` as a system administrator left it: switching someone off here
    outlasts the provider's word. Single sign-on never makes or updates a superuser, nor
    an account with a password (a local account whose username happens to match): both
    raise ``IdentityConflict`` and nothing changes.
    """
    unknown = sorted(set(roles) - set(ROLES_BY_NAME))
    if unknown:
        raise UnknownRole(
            f"Unknown role {', '.join(unknown)}; roles are {', '.join(ROLES_BY_NAME)}."
        )
    user_model = get_user_model()
    user = user_model.objects.select_for_update().filter(username=username).first()
    if user is None:
        if not create:
            return None
        user = user_model(username=username, is_active=True)
        user.set_unusable_password()
    elif user.is_superuser or user.has_usable_password():
        raise IdentityConflict(
            f"The account {username!r} is a local account (a password or superuser "
            "account), so single sign-on may not sign in to it or change it."
        )
    user.first_name = first_name[: user_model._meta.get_field("first_name").max_length]
    user.last_name = last_name[: user_model._meta.get_field("last_name").max_length]
    user.email = email
    user.is_superuser = False
    user.save()
    _roles_set(user, roles)
    for organisation in organisations:
        membership_add(user=user, organisation=organisation)
    # Leaving a council at the provider ends the membership; it is kept (inactive) so
    # that the record of who worked where stays whole.
    Membership.objects.filter(user=user, is_active=True).exclude(
        organisation__in=organisations
    ).update(is_active=False)
    return user
